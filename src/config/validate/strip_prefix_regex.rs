//! Checks `stripPrefixRegex`: at least one regex, each compiling.

use super::Collector;
use crate::config::middlewares::strip_prefix_regex::StripPrefixRegexConfig;

pub(super) fn validate(base: &str, cfg: Option<&StripPrefixRegexConfig>, c: &mut Collector<'_>) {
    let Some(cfg) = cfg else { return };
    let key = format!("{base}.stripPrefixRegex.regex");
    if cfg.regex.is_empty() {
        c.push(
            &key,
            "is empty",
            Some("list at least one regex, e.g. [\"/foo/[a-z0-9]+/[0-9]+/\"]".into()),
        );
    }
    for (i, re) in cfg.regex.iter().enumerate() {
        if let Err(e) = regex::Regex::new(re.trim()) {
            c.push(format!("{key}[{i}]"), format!("invalid regex: {e}"), None);
        }
    }
}
