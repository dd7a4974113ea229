//! The `redirectScheme` middleware: redirects to the same URL on another scheme (and port).
//! Settings (Traefik's keys), their checks and the plugin, in one place.

use crate::build::{BuildCx, BuildResult, Problems};
use crate::redirect_regex::{redirect_reply, RequestUrl};
use crate::{Flow, Plugin, PluginCtx};
use async_trait::async_trait;
use pingora_error::Result;
use pingora_proxy::Session;
use serde::{Deserialize, Serialize};

/// Traefik's `redirectScheme`: `scheme` (required), `port`, `permanent`.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Config {
    /// The scheme of the new URL, e.g. `https`.
    pub scheme: Option<String>,
    /// The port of the new URL (a string in Traefik; an integer is accepted too).
    pub port: Option<String>,
    /// 301/308 instead of 302/307.
    pub permanent: Option<bool>,
}

/// Checks that a target scheme is set and well formed and that the port is a port, and builds
/// the plugin.
pub fn build(cfg: &Config, cx: &BuildCx) -> BuildResult<RedirectScheme> {
    let mut problems = Problems::new(cx, "redirectScheme");
    let scheme = cfg.scheme.as_deref().map(str::trim).unwrap_or("");
    if scheme.is_empty() {
        problems.push(
            "scheme",
            "no target scheme is set",
            Some("write e.g. scheme = \"https\"".into()),
        );
    } else if !is_scheme(scheme) {
        problems.push(
            "scheme",
            format!("`{scheme}` is not a URL scheme"),
            Some("use \"https\" or \"http\"".into()),
        );
    }
    if let Some(port) = cfg.port.as_deref().map(str::trim).filter(|p| !p.is_empty()) {
        if !port.parse::<u16>().is_ok_and(|p| p > 0) {
            problems.push(
                "port",
                format!("`{port}` is not a port"),
                Some("use 1-65535, e.g. port = \"443\"".into()),
            );
        }
    }
    problems
        .finish(|| RedirectScheme::new(scheme, cfg.port.as_deref(), cfg.permanent.unwrap_or(false)))
}

/// RFC 3986: a letter, then letters, digits, `+`, `-` or `.`.
fn is_scheme(s: &str) -> bool {
    let mut bytes = s.bytes();
    bytes.next().is_some_and(|b| b.is_ascii_alphabetic())
        && bytes.all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'))
}

/// Redirects to `scheme://host[:port]/path?query` unless the request already is that URL.
///
/// As in Traefik: the original port is dropped (or replaced by `port`), default ports are not
/// written, and `X-Forwarded-Proto` tells the scheme the client used behind another proxy.
#[derive(Debug, Clone)]
pub struct RedirectScheme {
    scheme: String,
    /// `:port`, or empty for the scheme's default port.
    port: String,
    permanent: bool,
}

impl RedirectScheme {
    pub fn new(scheme: &str, port: Option<&str>, permanent: bool) -> Self {
        let scheme = scheme.to_ascii_lowercase();
        let port = match port.map(str::trim).filter(|p| !p.is_empty()) {
            Some(p) if !is_default_port(&scheme, p) => format!(":{p}"),
            _ => String::new(),
        };
        RedirectScheme {
            scheme,
            port,
            permanent,
        }
    }

    /// Where to send the client, or `None` when it already uses the target URL.
    pub fn location(&self, url: &RequestUrl<'_>, forwarded_proto: Option<&str>) -> Option<String> {
        let scheme = match forwarded_proto.map(str::trim) {
            Some(p) if p.eq_ignore_ascii_case("http") || p.eq_ignore_ascii_case("ws") => "http",
            Some(p) if p.eq_ignore_ascii_case("https") || p.eq_ignore_ascii_case("wss") => "https",
            _ => url.scheme,
        };
        let (host, port) = split_host_port(url.host);
        let port = match port.strip_prefix(':') {
            Some(p) if is_default_port(scheme, p) => "",
            _ => port,
        };
        let pq = url.path_and_query;
        let old = format!("{scheme}://{host}{port}{pq}");
        let new = format!("{}://{host}{}{pq}", self.scheme, self.port);
        (old != new).then_some(new)
    }
}

fn is_default_port(scheme: &str, port: &str) -> bool {
    matches!((scheme, port), ("http", "80") | ("https", "443"))
}

/// `host:port` → (`host`, `:port`); a bracketed IPv6 host keeps its brackets.
fn split_host_port(authority: &str) -> (&str, &str) {
    let host_end = match authority.strip_prefix('[') {
        Some(rest) => rest.find(']').map_or(authority.len(), |i| i + 2),
        None if authority.matches(':').count() == 1 => authority.find(':').unwrap_or(0),
        None => authority.len(),
    };
    authority.split_at(host_end)
}

#[async_trait]
impl Plugin for RedirectScheme {
    fn kind(&self) -> &'static str {
        "redirectScheme"
    }

    async fn request_filter(&self, session: &mut Session, cx: &mut PluginCtx) -> Result<Flow> {
        let req = session.req_header();
        let proto = req
            .headers
            .get("x-forwarded-proto")
            .and_then(|v| v.to_str().ok());
        Ok(match self.location(&RequestUrl::of(req, cx.tls), proto) {
            Some(location) => redirect_reply(&location, self.permanent, &req.method),
            None => Flow::Continue,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schemes() {
        assert!(is_scheme("https") && is_scheme("git+ssh"));
        assert!(
            !is_scheme("") && !is_scheme("1http") && !is_scheme("ht tp") && !is_scheme("https://")
        );
    }

    #[test]
    fn scheme_and_port_are_checked_at_their_keys() {
        let cfg = Config {
            scheme: Some("ht tp".into()),
            port: Some("70000".into()),
            permanent: None,
        };
        let e = build(&cfg, &crate::build::test_cx()).unwrap_err();
        let keys: Vec<_> = e.iter().map(|e| e.key_path.as_str()).collect();
        assert_eq!(
            keys,
            [
                "http.middlewares.m.redirectScheme.scheme",
                "http.middlewares.m.redirectScheme.port"
            ]
        );
    }

    fn url<'a>(scheme: &'a str, host: &'a str, pq: &'a str) -> RequestUrl<'a> {
        RequestUrl {
            scheme,
            host,
            path_and_query: pq,
        }
    }

    #[test]
    fn redirects_to_the_scheme_dropping_the_port() {
        let r = RedirectScheme::new("https", None, false);
        assert_eq!(
            r.location(&url("http", "example.com:8000", "/a?b=1"), None),
            Some("https://example.com/a?b=1".into())
        );
        assert_eq!(r.location(&url("https", "example.com", "/a"), None), None);
        assert_eq!(
            r.location(&url("https", "example.com:443", "/a"), None),
            None
        );
    }

    #[test]
    fn a_configured_port_is_written_unless_default() {
        let r = RedirectScheme::new("https", Some("8443"), true);
        assert_eq!(
            r.location(&url("http", "a.b:8000", "/"), None),
            Some("https://a.b:8443/".into())
        );
        assert_eq!(r.location(&url("https", "a.b:8443", "/"), None), None);
        let d = RedirectScheme::new("https", Some("443"), true);
        assert_eq!(
            d.location(&url("http", "a.b", "/x"), None),
            Some("https://a.b/x".into())
        );
    }

    #[test]
    fn forwarded_proto_tells_the_client_scheme() {
        let r = RedirectScheme::new("https", None, false);
        assert_eq!(r.location(&url("http", "a.b", "/"), Some("https")), None);
        assert_eq!(r.location(&url("http", "a.b", "/"), Some("wss")), None);
        assert!(r
            .location(&url("http", "a.b", "/"), Some("bogus"))
            .is_some());
        let h = RedirectScheme::new("HTTP", None, false);
        assert_eq!(
            h.location(&url("http", "a.b", "/"), Some("https")),
            Some("http://a.b/".into())
        );
    }

    #[test]
    fn ipv6_hosts_keep_their_brackets() {
        assert_eq!(split_host_port("[::1]:8000"), ("[::1]", ":8000"));
        assert_eq!(split_host_port("[::1]"), ("[::1]", ""));
        assert_eq!(split_host_port("a.b:80"), ("a.b", ":80"));
        assert_eq!(split_host_port("a.b"), ("a.b", ""));
        let r = RedirectScheme::new("https", None, false);
        assert_eq!(
            r.location(&url("http", "[::1]:8000", "/"), None),
            Some("https://[::1]/".into())
        );
    }
}
