//! The `replacePath` middleware: sends every request upstream with one fixed path.
//! Settings (Traefik's keys), their checks and the plugin, in one place.
//!
//! Also home of the path helpers the other path-editing middlewares share.

use crate::build::{BuildCx, BuildResult, Problems};
use crate::request_path::EncodedAllowed;
use crate::{Plugin, PluginCtx};
use async_trait::async_trait;
use http::HeaderName;
use pingora_error::{Error, ErrorType, OrErr, Result};
use pingora_http::RequestHeader;
use pingora_proxy::Session;
use serde::{Deserialize, Serialize};
use std::borrow::Cow;

/// Traefik's `replacePath`: `path` (the original goes in `X-Replaced-Path`).
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Config {
    pub path: Option<String>,
}

/// Checks that a path is set and starts with `/`, and builds the plugin.
pub fn build(cfg: &Config, cx: &BuildCx) -> BuildResult<ReplacePath> {
    let mut problems = Problems::new(cx, "replacePath");
    match cfg.path.as_deref() {
        None | Some("") => problems.push(
            "path",
            "no path is set",
            Some("write e.g. path = \"/foo\"".into()),
        ),
        Some(p) if !p.starts_with('/') => problems.push(
            "path",
            format!("`{p}` does not start with `/`"),
            Some(format!("write \"/{p}\"")),
        ),
        Some(_) => {}
    }
    problems.finish(|| ReplacePath::new(cfg.path.clone().unwrap_or_default()))
}

/// The header where `replacePath` and `replacePathRegex` record the path they replaced.
pub const X_REPLACED_PATH: HeaderName = HeaderName::from_static("x-replaced-path");

/// Replaces the whole path, keeping the query; the original path goes in `X-Replaced-Path`.
#[derive(Debug, Clone)]
pub struct ReplacePath {
    path: String,
}

impl ReplacePath {
    pub fn new(path: String) -> Self {
        ReplacePath { path }
    }
}

#[async_trait]
impl Plugin for ReplacePath {
    fn kind(&self) -> &'static str {
        "replacePath"
    }

    async fn upstream_request_filter(
        &self,
        _session: &mut Session,
        request: &mut RequestHeader,
        cx: &mut PluginCtx,
    ) -> Result<()> {
        let original = request.uri.path().to_string();
        request.append_header(X_REPLACED_PATH, original)?;
        set_path(request, &self.path, cx.encoded)
    }
}

/// Whether `b` may stand as is in a URI path (RFC 3986 `pchar`, `/`, and `%` of an escape).
fn is_path_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=:@/%".contains(&b)
}

/// `path` made a valid origin-form path: a leading `/`, other bytes (`?`, `#`, space, ...)
/// percent-encoded, so a rewritten path can never turn into a query or a fragment.
pub(crate) fn clean_path(path: &str) -> Cow<'_, str> {
    if path.starts_with('/') && path.bytes().all(is_path_byte) {
        return Cow::Borrowed(path);
    }
    let mut out = String::with_capacity(path.len() + 8);
    if !path.starts_with('/') {
        out.push('/');
    }
    for b in path.bytes() {
        if is_path_byte(b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    Cow::Owned(out)
}

/// The request target made of `path` (cleaned) and the original `query`.
pub(crate) fn with_query(path: &str, query: Option<&str>) -> String {
    let path = clean_path(path);
    match query {
        Some(q) => format!("{path}?{q}"),
        None => path.into_owned(),
    }
}

/// Sets the path of the upstream request, keeping its query string. A path that would fail
/// the client-path checks (a dot segment, `..;`, `%3b`, ...) is refused (400) rather than
/// forwarded: see [`crate::request_path::check_written`].
/// `allowed`: the entry point's `encodedCharacters`, which a rewritten path may keep too.
pub(crate) fn set_path(
    request: &mut RequestHeader,
    path: &str,
    allowed: EncodedAllowed,
) -> Result<()> {
    if let Err(bad) = crate::request_path::check_written(path, allowed) {
        return Error::e_explain(ErrorType::HTTPStatus(400), bad.reason().trim_end());
    }
    let target = with_query(path, request.uri.query());
    let uri = http::Uri::try_from(target).or_err(
        ErrorType::InternalError,
        "rewritten path is not a valid URI",
    )?;
    request.set_uri(uri);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_or_relative_path_is_refused() {
        let cx = crate::build::test_cx();
        for path in [None, Some("foo")] {
            let cfg = Config {
                path: path.map(str::to_string),
            };
            let e = build(&cfg, &cx).unwrap_err();
            assert_eq!(e[0].key_path, "http.middlewares.m.replacePath.path");
        }
    }

    #[test]
    fn keeps_the_query_string() {
        assert_eq!(with_query("/new", Some("a=1&b=%20")), "/new?a=1&b=%20");
        assert_eq!(with_query("/new", None), "/new");
    }

    #[test]
    fn a_path_always_starts_with_a_slash() {
        assert_eq!(with_query("", None), "/");
        assert_eq!(with_query("api/x", None), "/api/x");
    }

    #[test]
    fn characters_that_would_end_the_path_are_escaped() {
        assert_eq!(clean_path("/a?b#c d"), "/a%3Fb%23c%20d");
        assert_eq!(clean_path("/caf\u{e9}"), "/caf%C3%A9");
        assert_eq!(clean_path("/a%2Fb;c=1"), "/a%2Fb;c=1");
    }

    #[test]
    fn dot_segments_are_found_in_any_spelling() {
        for p in [
            "/../admin",
            "/a/..",
            "/a/./b",
            "/%2e%2E/admin",
            "/.%2e",
            "/x/%2e",
            "/x/..;/admin",
            "/x/%2e%2e;/admin",
            "/x/..%3b/admin",
        ] {
            let mut r = RequestHeader::build("GET", b"/x", None).unwrap();
            assert!(
                set_path(&mut r, p, EncodedAllowed::default()).is_err(),
                "{p}"
            );
        }
        for p in ["/a..b", "/..a/x", "/.well-known", "/a/b.", "/"] {
            let mut r = RequestHeader::build("GET", b"/x", None).unwrap();
            assert!(
                set_path(&mut r, p, EncodedAllowed::default()).is_ok(),
                "{p}"
            );
        }
        let mut r = RequestHeader::build("GET", b"/x", None).unwrap();
        let e = set_path(&mut r, "/../admin", EncodedAllowed::default()).unwrap_err();
        assert_eq!(e.etype(), &ErrorType::HTTPStatus(400));
        assert_eq!(r.uri.path(), "/x", "left unchanged");
    }

    #[test]
    fn set_path_edits_the_request() {
        let mut r = RequestHeader::build("GET", b"/old/x?q=1", None).unwrap();
        set_path(&mut r, "/new", EncodedAllowed::default()).unwrap();
        assert_eq!(r.uri.to_string(), "/new?q=1");
    }
}
