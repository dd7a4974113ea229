//! Checks `replacePath`: a path is set and starts with `/`.

use super::Collector;
use crate::config::middlewares::replace_path::ReplacePathConfig;

pub(super) fn validate(base: &str, cfg: Option<&ReplacePathConfig>, c: &mut Collector<'_>) {
    let Some(cfg) = cfg else { return };
    let key = format!("{base}.replacePath.path");
    match cfg.path.as_deref() {
        None | Some("") => c.push(
            key,
            "no path is set",
            Some("write e.g. path = \"/foo\"".into()),
        ),
        Some(p) if !p.starts_with('/') => c.push(
            key,
            format!("`{p}` does not start with `/`"),
            Some(format!("write \"/{p}\"")),
        ),
        Some(_) => {}
    }
}
