//! Checks `redirectScheme`: a target scheme is set and well formed, the port is a port.

use super::Collector;
use crate::config::middlewares::redirect_scheme::RedirectSchemeConfig;

pub(super) fn validate(base: &str, cfg: Option<&RedirectSchemeConfig>, c: &mut Collector<'_>) {
    let Some(cfg) = cfg else { return };
    let key = format!("{base}.redirectScheme");
    match cfg.scheme.as_deref().map(str::trim) {
        None | Some("") => c.push(
            format!("{key}.scheme"),
            "no target scheme is set",
            Some("write e.g. scheme = \"https\"".into()),
        ),
        Some(s) if !is_scheme(s) => c.push(
            format!("{key}.scheme"),
            format!("`{s}` is not a URL scheme"),
            Some("use \"https\" or \"http\"".into()),
        ),
        Some(_) => {}
    }
    if let Some(port) = cfg.port.as_deref().map(str::trim).filter(|p| !p.is_empty()) {
        if !port.parse::<u16>().is_ok_and(|p| p > 0) {
            c.push(
                format!("{key}.port"),
                format!("`{port}` is not a port"),
                Some("use 1-65535, e.g. port = \"443\"".into()),
            );
        }
    }
}

/// RFC 3986: a letter, then letters, digits, `+`, `-` or `.`.
fn is_scheme(s: &str) -> bool {
    let mut bytes = s.bytes();
    bytes.next().is_some_and(|b| b.is_ascii_alphabetic())
        && bytes.all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'))
}

#[cfg(test)]
mod tests {
    use super::is_scheme;

    #[test]
    fn schemes() {
        assert!(is_scheme("https") && is_scheme("git+ssh"));
        assert!(
            !is_scheme("") && !is_scheme("1http") && !is_scheme("ht tp") && !is_scheme("https://")
        );
    }
}
