//! The `replacePathRegex` middleware: rewrites the path with a regex before proxying.

use crate::replace_path::{set_path, X_REPLACED_PATH};
use crate::{Plugin, PluginCtx};
use async_trait::async_trait;
use pingora_error::Result;
use pingora_http::RequestHeader;
use pingora_proxy::Session;
use regex::Regex;

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
