//! The `replacePathRegex` middleware: rewrites the path with a regex before proxying.
//! Settings (Traefik's keys), their checks and the plugin, in one place.

use crate::build::{BuildCx, BuildResult, Problems};
use crate::replace_path::{set_path, X_REPLACED_PATH};
use crate::{Plugin, PluginCtx};
use async_trait::async_trait;
use pingora_error::Result;
use pingora_http::RequestHeader;
use pingora_proxy::Session;
use regex::Regex;
use serde::{Deserialize, Serialize};

/// Traefik's `replacePathRegex`: `regex`, `replacement` (the original goes in `X-Replaced-Path`).
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Config {
    pub regex: Option<String>,
    /// The new path; `$1` / `${name}` refer to the regex's groups.
    pub replacement: Option<String>,
}

/// Compiles the regex and checks that a replacement is set.
pub fn build(cfg: &Config, cx: &BuildCx) -> BuildResult<ReplacePathRegex> {
    let mut problems = Problems::new(cx, "replacePathRegex");
    let pair = crate::regex_replacement::build(
        cfg.regex.as_deref(),
        cfg.replacement.as_deref(),
        crate::regex_replacement::Examples {
            regex: "^/foo/(.*)",
            replacement: "/bar/$1",
        },
        &mut problems,
    );
    match pair {
        Some((regex, replacement)) if problems.is_empty() => {
            Ok(ReplacePathRegex::new(regex, replacement))
        }
        _ => Err(problems.into_errors()),
    }
}

/// Replaces every match of `regex` in the path with `replacement` (`$1`, `${name}` groups),
/// keeping the query; the original path goes in `X-Replaced-Path`. No match: no change.
#[derive(Debug, Clone)]
pub struct ReplacePathRegex {
    regex: Regex,
    replacement: String,
}

impl ReplacePathRegex {
    pub fn new(regex: Regex, replacement: String) -> Self {
        ReplacePathRegex { regex, replacement }
    }

    /// The new path, or `None` when the path does not match (or the replacement is empty,
    /// which Traefik treats as "do nothing").
    pub fn rewrite(&self, path: &str) -> Option<String> {
        if self.replacement.is_empty() || !self.regex.is_match(path) {
            return None;
        }
        Some(
            self.regex
                .replace_all(path, self.replacement.as_str())
                .into_owned(),
        )
    }
}

#[async_trait]
impl Plugin for ReplacePathRegex {
    fn kind(&self) -> &'static str {
        "replacePathRegex"
    }

    async fn upstream_request_filter(
        &self,
        _session: &mut Session,
        request: &mut RequestHeader,
        cx: &mut PluginCtx,
    ) -> Result<()> {
        let original = request.uri.path().to_string();
        let Some(path) = self.rewrite(&original) else {
            return Ok(());
        };
        request.append_header(X_REPLACED_PATH, original)?;
        set_path(request, &path, cx.encoded)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bad_regex_and_a_missing_replacement_are_both_reported() {
        let cfg = Config {
            regex: Some("(".into()),
            replacement: None,
        };
        let e = build(&cfg, &crate::build::test_cx()).unwrap_err();
        let keys: Vec<_> = e.iter().map(|e| e.key_path.as_str()).collect();
        assert_eq!(
            keys,
            [
                "http.middlewares.m.replacePathRegex.regex",
                "http.middlewares.m.replacePathRegex.replacement"
            ]
        );
        assert!(
            e[0].message.starts_with("invalid regex: "),
            "{}",
            e[0].message
        );
    }

    fn rp(re: &str, with: &str) -> ReplacePathRegex {
        ReplacePathRegex::new(Regex::new(re).unwrap(), with.into())
    }

    #[test]
    fn rewrites_with_groups() {
        let r = rp("^/foo/(.*)", "/bar/$1");
        assert_eq!(r.rewrite("/foo/a/b"), Some("/bar/a/b".into()));
        assert_eq!(r.rewrite("/other"), None);
        let named = rp("^/users/(?P<id>[0-9]+)$", "/u/${id}/profile");
        assert_eq!(named.rewrite("/users/42"), Some("/u/42/profile".into()));
    }

    #[test]
    fn replaces_every_match() {
        assert_eq!(rp("a", "b").rewrite("/aXa"), Some("/bXb".into()));
    }

    #[test]
    fn an_empty_replacement_does_nothing() {
        assert_eq!(rp("^/foo", "").rewrite("/foo"), None);
    }
}
