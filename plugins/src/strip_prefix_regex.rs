//! The `stripPrefixRegex` middleware: removes a regex-matched path prefix before proxying.
//! Settings (Traefik's keys), their checks and the plugin, in one place.

use crate::build::{BuildCx, BuildResult, Problems};
use crate::replace_path::set_path;
use crate::{Plugin, PluginCtx};
use async_trait::async_trait;
use pingora_error::Result;
use pingora_http::RequestHeader;
use pingora_proxy::Session;
use regex::Regex;
use serde::{Deserialize, Serialize};

/// Traefik's `stripPrefixRegex`: `regex` (a list; the first that matches a prefix wins).
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Config {
    #[serde(default)]
    pub regex: Vec<String>,
}

/// Compiles every regex (at least one), and builds the plugin.
pub fn build(cfg: &Config, cx: &BuildCx) -> BuildResult<StripPrefixRegex> {
    let mut problems = Problems::new(cx, "stripPrefixRegex");
    if cfg.regex.is_empty() {
        problems.push(
            "regex",
            "is empty",
            Some("list at least one regex, e.g. [\"/foo/[a-z0-9]+/[0-9]+/\"]".into()),
        );
    }
    let mut regexes = Vec::with_capacity(cfg.regex.len());
    for (i, re) in cfg.regex.iter().enumerate() {
        match Regex::new(re.trim()) {
            Ok(re) => regexes.push(re),
            Err(e) => problems.push(&format!("regex[{i}]"), format!("invalid regex: {e}"), None),
        }
    }
    problems.finish(|| StripPrefixRegex::new(regexes))
}

/// Tries the regexes in order; the first whose (leftmost) match is a non-empty prefix of the
/// path has that prefix removed, recorded for `X-Forwarded-Prefix` (as Traefik does).
#[derive(Debug, Clone)]
pub struct StripPrefixRegex {
    regexes: Vec<Regex>,
}

impl StripPrefixRegex {
    pub fn new(regexes: Vec<Regex>) -> Self {
        StripPrefixRegex { regexes }
    }

    /// The path after stripping (always starting with `/`) and the prefix removed.
    pub fn strip<'p>(&self, path: &'p str) -> Option<(String, &'p str)> {
        self.regexes.iter().find_map(|re| {
            let m = re.find(path)?;
            let prefix = m.as_str();
            if prefix.is_empty() || !path.starts_with(prefix) {
                return None;
            }
            let rest = &path[prefix.len()..];
            let stripped = match rest.starts_with('/') {
                true => rest.to_string(),
                false => format!("/{rest}"),
            };
            Some((stripped, &path[..prefix.len()]))
        })
    }
}

#[async_trait]
impl Plugin for StripPrefixRegex {
    fn kind(&self) -> &'static str {
        "stripPrefixRegex"
    }

    async fn upstream_request_filter(
        &self,
        _session: &mut Session,
        request: &mut RequestHeader,
        cx: &mut PluginCtx,
    ) -> Result<()> {
        let path = request.uri.path().to_string();
        let Some((new_path, prefix)) = self.strip(&path) else {
            return Ok(());
        };
        set_path(request, &new_path, cx.encoded)?;
        // Same convention as stripPrefix: prefixes joined, without their trailing `/`.
        let prefix = prefix.trim_end_matches('/');
        cx.stripped_prefix = Some(match cx.stripped_prefix.take() {
            Some(before) => before + prefix,
            None => prefix.to_string(),
        });
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_regex_or_a_bad_one_is_refused_at_its_key() {
        let cx = crate::build::test_cx();
        let e = build(&Config::default(), &cx).unwrap_err();
        assert_eq!(e[0].key_path, "http.middlewares.m.stripPrefixRegex.regex");
        let cfg = Config {
            regex: vec!["/a".into(), "(".into()],
        };
        let e = build(&cfg, &cx).unwrap_err();
        assert_eq!(
            e[0].key_path,
            "http.middlewares.m.stripPrefixRegex.regex[1]"
        );
    }

    fn strip(res: &[&str], path: &str) -> Option<(String, String)> {
        let s = StripPrefixRegex::new(res.iter().map(|r| Regex::new(r).unwrap()).collect());
        s.strip(path).map(|(p, x)| (p, x.to_string()))
    }

    #[test]
    fn strips_the_matched_prefix() {
        assert_eq!(
            strip(&["/foo/[a-z0-9]+/[0-9]+/"], "/foo/abc/12/bar"),
            Some(("/bar".into(), "/foo/abc/12/".into()))
        );
        assert_eq!(
            strip(&["^/api/v[0-9]+"], "/api/v2"),
            Some(("/".into(), "/api/v2".into()))
        );
    }

    #[test]
    fn a_match_that_is_not_a_prefix_is_skipped_for_the_next_regex() {
        assert_eq!(
            strip(&["/b", "/a"], "/a/b"),
            Some(("/b".into(), "/a".into()))
        );
        assert_eq!(strip(&["/b"], "/a/b"), None);
    }

    #[test]
    fn an_empty_match_strips_nothing() {
        assert_eq!(strip(&["x*"], "/a"), None);
    }
}
