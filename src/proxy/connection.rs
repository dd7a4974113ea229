//! The client's `Connection` header, made harmless before any middleware or upstream sees it.
//!
//! A client may list header names in `Connection` (RFC 9110 7.6.1) to have a hop drop them. Listing
//! `X-Forwarded-For` & co. used to make proxies drop the very headers they set (Traefik
//! CVE-2024-45410); Pingora 0.9.1 answers such requests 400. pylon ignores those nominations
//! instead, removes the other nominated headers from the request, and keeps only the `close`,
//! `keep-alive` and `upgrade` options, so neither Pingora, pylon's own upgrade tunnel nor the next
//! hop acts on them.

use http::{header, HeaderName, HeaderValue};
use pingora::http::RequestHeader;

/// Names a client may never nominate for removal: pylon sets or routes on them.
const PROTECTED: [&str; 9] = [
    "host",
    "x-forwarded-for",
    "x-forwarded-host",
    "x-forwarded-proto",
    "x-forwarded-port",
    "x-forwarded-server",
    "x-forwarded-prefix",
    "x-real-ip",
    "forwarded",
];

/// Connection options kept as they are.
const OPTIONS: [&str; 3] = ["close", "keep-alive", "upgrade"];

/// Rewrites `Connection` to its plain options and drops the headers it nominated (never a
/// protected one). A request without a `Connection` header is left untouched (no allocation).
pub fn sanitize(req: &mut RequestHeader) {
    if !req.headers.contains_key(header::CONNECTION) {
        return;
    }
    let mut kept: Vec<&'static str> = Vec::new();
    let mut nominated: Vec<HeaderName> = Vec::new();
    for value in req.headers.get_all(header::CONNECTION) {
        for token in value
            .as_bytes()
            .split(|b| *b == b',')
            .map(<[u8]>::trim_ascii)
        {
            if let Some(option) = OPTIONS
                .iter()
                .find(|o| token.eq_ignore_ascii_case(o.as_bytes()))
            {
                if !kept.contains(option) {
                    kept.push(option);
                }
                continue;
            }
            let Ok(name) = HeaderName::from_bytes(token) else {
                continue;
            };
            if !PROTECTED.contains(&name.as_str()) && name != header::CONNECTION {
                nominated.push(name);
            }
        }
    }
    for name in nominated {
        req.remove_header(&name);
    }
    req.remove_header(&header::CONNECTION);
    if !kept.is_empty() {
        let joined = kept.join(", ");
        if let Ok(value) = HeaderValue::from_str(&joined) {
            // `append` cannot fail for a valid name and value; a failure only loses options
            let _ = req.append_header(header::CONNECTION, value);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::proxy::test_request::get_with as req;

    #[test]
    fn protected_nominations_are_ignored_others_removed() {
        let mut r = req(&[
            ("host", "a"),
            (
                "connection",
                "Keep-Alive, X-Forwarded-For, x-real-ip, X-Secret",
            ),
            ("connection", "Host, upgrade"),
            ("x-forwarded-for", "1.2.3.4"),
            ("x-secret", "s"),
            ("upgrade", "websocket"),
        ]);
        sanitize(&mut r);
        assert_eq!(r.headers.get("connection").unwrap(), "keep-alive, upgrade");
        assert_eq!(r.headers.get_all("connection").iter().count(), 1);
        assert!(r.headers.get("x-secret").is_none());
        assert_eq!(r.headers.get("x-forwarded-for").unwrap(), "1.2.3.4");
        assert_eq!(r.headers.get("host").unwrap(), "a");
        assert_eq!(r.headers.get("upgrade").unwrap(), "websocket");
    }

    #[test]
    fn only_nominations_leave_no_connection_header() {
        let mut r = req(&[("host", "a"), ("connection", "x-forwarded-host, \"x\"")]);
        sanitize(&mut r);
        assert!(r.headers.get("connection").is_none());
        let mut r = req(&[("host", "a")]);
        sanitize(&mut r);
        assert!(r.headers.get("connection").is_none());
    }
}
