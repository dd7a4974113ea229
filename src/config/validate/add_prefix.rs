//! Checks `addPrefix`: a prefix is set and can stand in a URL path.

use super::Collector;
use crate::config::middlewares::add_prefix::AddPrefixConfig;

pub(super) fn validate(base: &str, cfg: Option<&AddPrefixConfig>, c: &mut Collector<'_>) {
    let Some(cfg) = cfg else { return };
    let key = format!("{base}.addPrefix.prefix");
    match cfg.prefix.as_deref() {
        None | Some("") => c.push(
            key,
            "no prefix is set",
            Some("write e.g. prefix = \"/api\"".into()),
        ),
        Some(p) if p.contains(['?', '#']) || p.contains(char::is_whitespace) => c.push(
            key,
            format!("`{p}` cannot be part of a URL path"),
            Some("remove `?`, `#` and spaces (percent-encode them if needed)".into()),
        ),
        Some(_) => {}
    }
}
