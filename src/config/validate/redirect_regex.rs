//! Checks `redirectRegex`: the regex compiles and a replacement is set.

use super::Collector;
use crate::config::middlewares::redirect_regex::RedirectRegexConfig;

pub(super) fn validate(base: &str, cfg: Option<&RedirectRegexConfig>, c: &mut Collector<'_>) {
    let Some(cfg) = cfg else { return };
    let key = format!("{base}.redirectRegex");
    match cfg.regex.as_deref() {
        None | Some("") => c.push(
            format!("{key}.regex"),
            "no regex is set",
            Some("write e.g. regex = \"^http://localhost/(.*)\"".into()),
        ),
        Some(re) => {
            if let Err(e) = regex::Regex::new(re) {
                c.push(format!("{key}.regex"), format!("invalid regex: {e}"), None);
            }
        }
    }
    if cfg.replacement.as_deref().is_none_or(str::is_empty) {
        c.push(
            format!("{key}.replacement"),
            "no replacement is set",
            Some("write e.g. replacement = \"http://mydomain/${1}\"".into()),
        );
    }
}
