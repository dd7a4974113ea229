//! The `stripPrefix` middleware: removes the first matching path prefix before proxying. Its
//! settings, their checks and the plugin.

use crate::build::{BuildCx, BuildResult, Problems};
use crate::{Plugin, PluginCtx};
use async_trait::async_trait;
use pingora_error::{ErrorType, OrErr, Result};
use pingora_http::RequestHeader;
use pingora_proxy::Session;
use serde::{Deserialize, Serialize};

/// Traefik's `stripPrefix`: `prefixes`, tried in order.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Config {
    #[serde(default)]
    pub prefixes: Vec<String>,
    /// Deprecated in Traefik; `true` (its default) is what pylon does, `false` is refused.
    pub force_slash: Option<bool>,
}

/// Checks that there are prefixes, each a path, and builds the plugin.
pub fn build(cfg: &Config, cx: &BuildCx) -> BuildResult<StripPrefix> {
    let mut problems = Problems::new(cx, "stripPrefix");
    if cfg.prefixes.is_empty() {
        problems.push(
            "prefixes",
            "is empty",
            Some("list at least one prefix, e.g. [\"/api\"]".into()),
        );
    }
    for (i, p) in cfg.prefixes.iter().enumerate() {
        if !p.starts_with('/') {
            problems.push(
                &format!("prefixes[{i}]"),
                format!("`{p}` does not start with `/`"),
                Some(format!("write \"/{p}\"")),
            );
        }
    }
    if cfg.force_slash == Some(false) {
        problems.push(
            "forceSlash",
            "`forceSlash = false` is not supported: pylon always forwards `/` for a path the prefix empties (Traefik's default, deprecated key)",
            Some("remove the key to run on pylon".to_string()),
        );
    }
    problems.finish(|| StripPrefix::new(cfg.prefixes.clone()))
}

/// Removes the first configured prefix that the request path starts with.
///
/// As in Traefik: the query string is kept, the remaining path always starts with `/`
/// (never empty), and the removed prefix is recorded for `X-Forwarded-Prefix`.
#[derive(Debug, Clone)]
pub struct StripPrefix {
    prefixes: Vec<String>,
}

impl StripPrefix {
    /// Prefixes are tried in the order given; the first one the path starts with is removed.
    pub fn new(prefixes: Vec<String>) -> Self {
        StripPrefix { prefixes }
    }

    /// The path and query after stripping, and the prefix removed; `None` if no prefix matched.
    pub fn strip<'a>(&'a self, path: &str, query: Option<&str>) -> Option<(String, &'a str)> {
        let prefix = self
            .prefixes
            .iter()
            .find(|p| !p.is_empty() && path.starts_with(p.as_str()))?;
        let rest = &path[prefix.len()..];
        let mut out = String::with_capacity(rest.len() + 2 + query.map_or(0, |q| q.len() + 1));
        if !rest.starts_with('/') {
            out.push('/');
        }
        out.push_str(rest);
        if let Some(q) = query {
            out.push('?');
            out.push_str(q);
        }
        Some((out, prefix.trim_end_matches('/')))
    }
}

#[async_trait]
impl Plugin for StripPrefix {
    fn kind(&self) -> &'static str {
        "stripPrefix"
    }

    async fn upstream_request_filter(
        &self,
        _session: &mut Session,
        request: &mut RequestHeader,
        cx: &mut PluginCtx,
    ) -> Result<()> {
        let Some((new_path, prefix)) = self.strip(request.uri.path(), request.uri.query()) else {
            return Ok(());
        };
        let written = new_path.split('?').next().unwrap_or("/");
        if let Err(bad) = crate::request_path::check_written(written, cx.encoded) {
            // `/public../admin` minus `/public` would send `/../admin` upstream (and
            // `/public..;/admin` a `..;` segment): routing decided on a normalized path, so a
            // rewrite must pass the client path's checks.
            return pingora_error::Error::e_explain(
                ErrorType::HTTPStatus(400),
                bad.reason().trim_end(),
            );
        }
        let uri = http::Uri::try_from(new_path)
            .or_err(ErrorType::InternalError, "stripPrefix built an invalid URI")?;
        request.set_uri(uri);
        let recorded = match cx.stripped_prefix.take() {
            Some(before) => before + prefix,
            None => prefix.to_string(),
        };
        cx.stripped_prefix = Some(recorded);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strip(prefixes: &[&str], path: &str, query: Option<&str>) -> Option<(String, String)> {
        let sp = StripPrefix::new(prefixes.iter().map(|s| s.to_string()).collect());
        sp.strip(path, query).map(|(p, x)| (p, x.to_string()))
    }

    #[test]
    fn settings_are_checked_at_their_keys() {
        let cx = crate::build::test_cx();
        let keys = |prefixes: &[&str], force_slash| {
            let cfg = Config {
                prefixes: prefixes.iter().map(|s| s.to_string()).collect(),
                force_slash,
            };
            build(&cfg, &cx)
                .err()
                .unwrap_or_default()
                .into_iter()
                .map(|e| e.key_path)
                .collect::<Vec<_>>()
        };
        let key = "http.middlewares.m.stripPrefix";
        assert_eq!(keys(&[], None), [format!("{key}.prefixes")]);
        assert_eq!(keys(&["/a", "b"], None), [format!("{key}.prefixes[1]")]);
        assert_eq!(keys(&["/a"], Some(false)), [format!("{key}.forceSlash")]);
        assert!(keys(&["/a"], Some(true)).is_empty());
    }

    #[test]
    fn removes_the_prefix_and_keeps_the_rest() {
        assert_eq!(
            strip(&["/api/users"], "/api/users/auth/token", None),
            Some(("/auth/token".into(), "/api/users".into()))
        );
    }

    #[test]
    fn keeps_the_query_string() {
        assert_eq!(
            strip(&["/api"], "/api/list", Some("page=2&q=a%20b")),
            Some(("/list?page=2&q=a%20b".into(), "/api".into()))
        );
    }

    #[test]
    fn never_leaves_an_empty_path() {
        assert_eq!(
            strip(&["/api"], "/api", Some("x=1")),
            Some(("/?x=1".into(), "/api".into()))
        );
        assert_eq!(
            strip(&["/api/"], "/api/", None),
            Some(("/".into(), "/api".into()))
        );
    }

    #[test]
    fn first_matching_prefix_wins_and_others_are_ignored() {
        assert_eq!(
            strip(&["/a/b", "/a"], "/a/b/c", None),
            Some(("/c".into(), "/a/b".into()))
        );
        assert_eq!(strip(&["/x"], "/a/b", None), None);
    }

    #[test]
    fn a_prefix_that_ends_mid_segment_still_strips_as_traefik_does() {
        assert_eq!(
            strip(&["/api"], "/apiv2/x", None),
            Some(("/v2/x".into(), "/api".into()))
        );
    }
}
