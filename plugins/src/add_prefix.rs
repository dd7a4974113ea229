//! The `addPrefix` middleware: puts a prefix in front of the path before proxying. Its
//! settings, their checks and the plugin.

use crate::build::{BuildCx, BuildResult, Problems};
use crate::replace_path::set_path;
use crate::{Plugin, PluginCtx};
use async_trait::async_trait;
use pingora_error::Result;
use pingora_http::RequestHeader;
use pingora_proxy::Session;
use serde::{Deserialize, Serialize};

/// Traefik's `addPrefix`: `prefix`.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Config {
    pub prefix: Option<String>,
}

/// Checks that a prefix is set and can stand in a URL path, and builds the plugin.
pub fn build(cfg: &Config, cx: &BuildCx) -> BuildResult<AddPrefix> {
    let mut problems = Problems::new(cx, "addPrefix");
    match cfg.prefix.as_deref() {
        None | Some("") => problems.push(
            "prefix",
            "no prefix is set",
            Some("write e.g. prefix = \"/api\"".into()),
        ),
        Some(p) if p.contains(['?', '#']) || p.contains(char::is_whitespace) => problems.push(
            "prefix",
            format!("`{p}` cannot be part of a URL path"),
            Some("remove `?`, `#` and spaces (percent-encode them if needed)".into()),
        ),
        Some(_) => {}
    }
    problems.finish(|| AddPrefix::new(cfg.prefix.clone().unwrap_or_default()))
}

/// Prepends `prefix` to the request path, keeping the query (Traefik's `addPrefix`).
#[derive(Debug, Clone)]
pub struct AddPrefix {
    prefix: String,
}

impl AddPrefix {
    pub fn new(prefix: String) -> Self {
        AddPrefix { prefix }
    }

    /// The path with the prefix in front; always starts with `/`.
    pub fn prefixed(&self, path: &str) -> String {
        let mut out = String::with_capacity(self.prefix.len() + path.len() + 1);
        if !self.prefix.starts_with('/') {
            out.push('/');
        }
        out.push_str(&self.prefix);
        out.push_str(path);
        out
    }
}

#[async_trait]
impl Plugin for AddPrefix {
    fn kind(&self) -> &'static str {
        "addPrefix"
    }

    async fn upstream_request_filter(
        &self,
        _session: &mut Session,
        request: &mut RequestHeader,
        cx: &mut PluginCtx,
    ) -> Result<()> {
        let path = self.prefixed(request.uri.path());
        set_path(request, &path, cx.encoded)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prepends_the_prefix() {
        let a = AddPrefix::new("/api".into());
        assert_eq!(a.prefixed("/users/1"), "/api/users/1");
        assert_eq!(a.prefixed("/"), "/api/");
    }

    #[test]
    fn an_empty_or_unusable_prefix_is_refused_at_its_key() {
        let cx = crate::build::test_cx();
        for prefix in [None, Some(""), Some("/a b"), Some("/a?b")] {
            let cfg = Config {
                prefix: prefix.map(str::to_string),
            };
            let errors = build(&cfg, &cx).unwrap_err();
            assert_eq!(errors[0].key_path, "http.middlewares.m.addPrefix.prefix");
        }
        let cfg = Config {
            prefix: Some("/api".into()),
        };
        assert_eq!(build(&cfg, &cx).unwrap().prefixed("/x"), "/api/x");
    }

    #[test]
    fn a_prefix_without_a_slash_gets_one() {
        assert_eq!(AddPrefix::new("v1".into()).prefixed("/x"), "/v1/x");
    }
}
