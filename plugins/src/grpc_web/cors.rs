//! grpcWeb's CORS, as Traefik's grpc-web wrapper (rs/cors) does it: the allowed `Origin` is
//! echoed with credentials allowed; a preflight naming `x-grpc-web` is answered 200 by the
//! middleware itself, with the requested method and headers allowed for ten minutes.

use crate::Reply;
use bytes::Bytes;
use http::header::{
    ACCESS_CONTROL_ALLOW_CREDENTIALS, ACCESS_CONTROL_ALLOW_HEADERS, ACCESS_CONTROL_ALLOW_METHODS,
    ACCESS_CONTROL_ALLOW_ORIGIN, ACCESS_CONTROL_MAX_AGE, ACCESS_CONTROL_REQUEST_HEADERS,
    ACCESS_CONTROL_REQUEST_METHOD, ORIGIN, VARY,
};
use http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode};

/// The origins allowed to call: any (`*`), or exactly these.
#[derive(Debug, Clone)]
pub struct Origins {
    any: bool,
    listed: Vec<String>,
}

impl Origins {
    pub fn new(any: bool, listed: Vec<String>) -> Self {
        Origins { any, listed }
    }

    /// The request's `Origin` when it is allowed (to be echoed).
    pub fn allowed(&self, headers: &HeaderMap) -> Option<HeaderValue> {
        let origin = headers.get(ORIGIN)?;
        let text = origin.to_str().ok()?;
        (self.any || self.listed.iter().any(|o| o == text)).then(|| origin.clone())
    }
}

/// Whether the request is a CORS preflight for a gRPC-Web call: `OPTIONS` with
/// `Access-Control-Request-Method`, and `x-grpc-web` among `Access-Control-Request-Headers`.
pub fn is_preflight(method: &Method, headers: &HeaderMap) -> bool {
    let asks_grpc_web = headers
        .get(ACCESS_CONTROL_REQUEST_HEADERS)
        .is_some_and(|h| {
            h.as_bytes()
                .to_ascii_lowercase()
                .windows(10)
                .any(|w| w == b"x-grpc-web")
        });
    *method == Method::OPTIONS
        && asks_grpc_web
        && headers.contains_key(ACCESS_CONTROL_REQUEST_METHOD)
}

/// The answer to a preflight: 200, no body; the grant only for an allowed origin and a method
/// rs/cors allows by default (GET, POST, HEAD).
pub fn preflight_reply(headers: &HeaderMap, origin: Option<HeaderValue>) -> Reply {
    let mut out: Vec<(HeaderName, HeaderValue)> = vec![
        (VARY, HeaderValue::from_static("Origin")),
        (
            VARY,
            HeaderValue::from_static("Access-Control-Request-Method"),
        ),
        (
            VARY,
            HeaderValue::from_static("Access-Control-Request-Headers"),
        ),
    ];
    let method = headers
        .get(ACCESS_CONTROL_REQUEST_METHOD)
        .and_then(|m| m.to_str().ok())
        .map(str::to_ascii_uppercase);
    let method_ok = method
        .as_deref()
        .is_some_and(|m| matches!(m, "GET" | "POST" | "HEAD" | "OPTIONS"));
    if let (Some(origin), Some(method), true) = (origin, method, method_ok) {
        out.push((ACCESS_CONTROL_ALLOW_ORIGIN, origin));
        if let Ok(m) = HeaderValue::from_str(&method) {
            out.push((ACCESS_CONTROL_ALLOW_METHODS, m));
        }
        let asked = headers
            .get(ACCESS_CONTROL_REQUEST_HEADERS)
            .and_then(|h| h.to_str().ok())
            .map(canonical_list)
            .unwrap_or_default();
        if let Ok(h) = HeaderValue::from_str(&asked) {
            if !asked.is_empty() {
                out.push((ACCESS_CONTROL_ALLOW_HEADERS, h));
            }
        }
        out.push((
            ACCESS_CONTROL_ALLOW_CREDENTIALS,
            HeaderValue::from_static("true"),
        ));
        out.push((ACCESS_CONTROL_MAX_AGE, HeaderValue::from_static("600")));
    }
    Reply {
        status: StatusCode::OK,
        headers: out,
        body: Bytes::new(),
    }
}

/// `content-type,x-grpc-web` → `Content-Type, X-Grpc-Web` (Go's canonical header names).
fn canonical_list(list: &str) -> String {
    list.split(',')
        .map(str::trim)
        .filter(|h| !h.is_empty())
        .map(canonical)
        .collect::<Vec<_>>()
        .join(", ")
}

/// Go's canonical form of a header name: each `-`-separated word capitalized.
pub fn canonical(name: &str) -> String {
    name.split('-')
        .map(|word| {
            let lower = word.to_ascii_lowercase();
            let mut chars = lower.chars();
            match chars.next() {
                Some(first) => first.to_ascii_uppercase().to_string() + chars.as_str(),
                None => String::new(),
            }
        })
        .collect::<Vec<_>>()
        .join("-")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(
                HeaderName::from_bytes(k.as_bytes()).unwrap(),
                v.parse().unwrap(),
            );
        }
        h
    }

    #[test]
    fn preflights_are_recognised_and_granted_to_allowed_origins_only() {
        let h = headers(&[
            ("origin", "https://app.test"),
            ("access-control-request-method", "post"),
            (
                "access-control-request-headers",
                "content-type,X-GRPC-WEB,x-user-agent",
            ),
        ]);
        assert!(is_preflight(&Method::OPTIONS, &h));
        assert!(!is_preflight(&Method::POST, &h));
        let origins = Origins::new(false, vec!["https://app.test".into()]);
        let reply = preflight_reply(&h, origins.allowed(&h));
        let get = |n: HeaderName| {
            reply
                .headers
                .iter()
                .find(|(k, _)| *k == n)
                .map(|(_, v)| v.clone())
        };
        assert_eq!(
            get(ACCESS_CONTROL_ALLOW_ORIGIN).unwrap(),
            "https://app.test"
        );
        assert_eq!(get(ACCESS_CONTROL_ALLOW_METHODS).unwrap(), "POST");
        assert_eq!(
            get(ACCESS_CONTROL_ALLOW_HEADERS).unwrap(),
            "Content-Type, X-Grpc-Web, X-User-Agent"
        );
        assert_eq!(get(ACCESS_CONTROL_MAX_AGE).unwrap(), "600");
        let other = Origins::new(false, vec!["https://else.test".into()]);
        let reply = preflight_reply(&h, other.allowed(&h));
        assert!(reply.headers.iter().all(|(k, _)| *k == VARY), "no grant");
        assert!(Origins::new(true, vec![]).allowed(&h).is_some());
    }
}
