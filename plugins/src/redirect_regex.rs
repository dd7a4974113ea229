//! The `redirectRegex` middleware: redirects when the request URL matches a regex.
//! Settings (Traefik's keys), their checks and the plugin, in one place.
//!
//! Also home of what both redirect middlewares share: the request URL as Traefik sees it and
//! the redirect reply (status by permanence and method, `Location`).

use crate::build::{BuildCx, BuildResult, Problems};
use crate::{Flow, Plugin, PluginCtx, Reply};
use async_trait::async_trait;
use bytes::Bytes;
use http::{header, HeaderValue, Method, StatusCode};
use pingora_error::Result;
use pingora_http::RequestHeader;
use pingora_proxy::Session;
use regex::Regex;
use serde::{Deserialize, Serialize};

/// Traefik's `redirectRegex`: `regex`, `replacement` (with `$1` groups), `permanent`.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Config {
    /// Matched against the full request URL (`http://host:port/path?query`).
    pub regex: Option<String>,
    /// The new URL; `$1` / `${name}` refer to the regex's groups.
    pub replacement: Option<String>,
    /// 301/308 instead of 302/307.
    pub permanent: Option<bool>,
}

/// Compiles the regex and checks that a replacement is set.
pub fn build(cfg: &Config, cx: &BuildCx) -> BuildResult<RedirectRegex> {
    let mut problems = Problems::new(cx, "redirectRegex");
    let pair = crate::regex_replacement::build(
        cfg.regex.as_deref(),
        cfg.replacement.as_deref(),
        crate::regex_replacement::Examples {
            regex: "^http://localhost/(.*)",
            replacement: "http://mydomain/${1}",
        },
        &mut problems,
    );
    match pair {
        Some((regex, replacement)) if problems.is_empty() => Ok(RedirectRegex::new(
            regex,
            replacement,
            cfg.permanent.unwrap_or(false),
        )),
        _ => Err(problems.into_errors()),
    }
}

/// The URL a client asked for, in the pieces Traefik's redirects read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestUrl<'a> {
    /// `https` on a TLS connection (or an HTTP/2 `:scheme` of `https`), else `http`.
    pub scheme: &'a str,
    /// The HTTP/2 `:authority`, else the `Host` header (port included); Pingora reconciles
    /// an HTTP/1 absolute-form target's authority with `Host` and keeps only its path.
    pub host: &'a str,
    /// The request target's path and query, as received.
    pub path_and_query: &'a str,
}

impl<'a> RequestUrl<'a> {
    pub fn of(req: &'a RequestHeader, tls: bool) -> Self {
        let scheme = match (tls, req.uri.scheme_str()) {
            (true, _) => "https",
            (false, Some(s)) if s.eq_ignore_ascii_case("https") => "https",
            _ => "http",
        };
        let host = req
            .uri
            .authority()
            .map(|a| a.as_str())
            .or_else(|| req.headers.get(header::HOST).and_then(|h| h.to_str().ok()))
            .unwrap_or("");
        let path_and_query = req.uri.path_and_query().map_or("", |pq| pq.as_str());
        RequestUrl {
            scheme,
            host,
            path_and_query,
        }
    }

    /// `scheme://host/path?query`.
    pub fn full(&self) -> String {
        format!("{}://{}{}", self.scheme, self.host, self.path_and_query)
    }
}

/// Traefik's redirect status: 302 (GET) / 307 (other methods), or 301 / 308 when permanent.
pub fn redirect_status(permanent: bool, method: &Method) -> StatusCode {
    match (permanent, method == Method::GET) {
        (false, true) => StatusCode::FOUND,
        (false, false) => StatusCode::TEMPORARY_REDIRECT,
        (true, true) => StatusCode::MOVED_PERMANENTLY,
        (true, false) => StatusCode::PERMANENT_REDIRECT,
    }
}

/// The redirect answer to `location` (400 if it cannot be a header value).
pub(crate) fn redirect_reply(location: &str, permanent: bool, method: &Method) -> Flow {
    let Ok(value) = HeaderValue::from_str(location) else {
        return Flow::Respond(Reply::text(StatusCode::BAD_REQUEST, "Bad Request\n"));
    };
    let status = redirect_status(permanent, method);
    let mut reply = Reply::text(status, "");
    reply.headers.push((header::LOCATION, value));
    reply.body = Bytes::from_static(status.canonical_reason().unwrap_or("").as_bytes());
    Flow::Respond(reply)
}

/// Redirects requests whose full URL matches `regex` to the URL `replacement` makes of it.
#[derive(Debug, Clone)]
pub struct RedirectRegex {
    regex: Regex,
    replacement: String,
    permanent: bool,
}

impl RedirectRegex {
    pub fn new(regex: Regex, replacement: String, permanent: bool) -> Self {
        RedirectRegex {
            regex,
            replacement,
            permanent,
        }
    }

    /// Where to send the client, or `None` when the URL does not match or would not change.
    pub fn location(&self, url: &str) -> Option<String> {
        if !self.regex.is_match(url) {
            return None;
        }
        let new = self.regex.replace_all(url, self.replacement.as_str());
        (new != url).then(|| new.into_owned())
    }
}

#[async_trait]
impl Plugin for RedirectRegex {
    fn kind(&self) -> &'static str {
        "redirectRegex"
    }

    async fn request_filter(&self, session: &mut Session, cx: &mut PluginCtx) -> Result<Flow> {
        let req = session.req_header();
        let url = RequestUrl::of(req, cx.tls).full();
        Ok(match self.location(&url) {
            Some(location) => redirect_reply(&location, self.permanent, &req.method),
            None => Flow::Continue,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_regex_and_replacement_are_both_reported() {
        let e = build(&Config::default(), &crate::build::test_cx()).unwrap_err();
        let keys: Vec<_> = e.iter().map(|e| e.key_path.as_str()).collect();
        assert_eq!(
            keys,
            [
                "http.middlewares.m.redirectRegex.regex",
                "http.middlewares.m.redirectRegex.replacement"
            ]
        );
    }

    fn rr(re: &str, with: &str) -> RedirectRegex {
        RedirectRegex::new(Regex::new(re).unwrap(), with.into(), false)
    }

    #[test]
    fn the_url_is_scheme_host_and_target() {
        let mut r = RequestHeader::build("GET", b"/a/b?c=1", None).unwrap();
        r.insert_header("host", "example.com:8000").unwrap();
        assert_eq!(
            RequestUrl::of(&r, false).full(),
            "http://example.com:8000/a/b?c=1"
        );
        assert_eq!(RequestUrl::of(&r, true).scheme, "https");
        // absolute-form: Pingora keeps only the path in the URI; Host has the authority
        let mut abs = RequestHeader::build("GET", b"http://other.org:9/x?y", None).unwrap();
        abs.insert_header("host", "other.org:9").unwrap();
        assert_eq!(RequestUrl::of(&abs, false).full(), "http://other.org:9/x?y");
    }

    #[test]
    fn rewrites_the_url_with_groups() {
        let r = rr(r"^http://localhost/(.*)", "http://mydomain/${1}");
        assert_eq!(
            r.location("http://localhost/a/b?x=1"),
            Some("http://mydomain/a/b?x=1".into())
        );
        assert_eq!(r.location("http://elsewhere/a"), None);
    }

    #[test]
    fn no_redirect_when_the_url_would_not_change() {
        assert_eq!(rr("^(.*)$", "$1").location("http://a/b"), None);
    }

    #[test]
    fn status_follows_permanence_and_method() {
        assert_eq!(redirect_status(false, &Method::GET), 302);
        assert_eq!(redirect_status(false, &Method::POST), 307);
        assert_eq!(redirect_status(true, &Method::GET), 301);
        assert_eq!(redirect_status(true, &Method::HEAD), 308);
    }

    #[test]
    fn the_reply_carries_the_location() {
        let Flow::Respond(reply) = redirect_reply("https://a/b", true, &Method::GET) else {
            panic!("expected a reply");
        };
        assert_eq!(reply.status, 301);
        assert!(reply
            .headers
            .iter()
            .any(|(k, v)| k == header::LOCATION && v == "https://a/b"));
        assert_eq!(reply.body, "Moved Permanently");
        let Flow::Respond(bad) = redirect_reply("http://a\nb", false, &Method::GET) else {
            panic!("expected a reply");
        };
        assert_eq!(bad.status, 400);
    }
}
