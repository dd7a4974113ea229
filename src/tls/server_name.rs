//! Server names as pylon compares them — the ClientHello's SNI, certificate names, the names of
//! `Host` rules and the request's Host — normalised in this one place, so a name cannot select
//! one TLS policy in the handshake and route to another router's host (`b.test..`, `B.TEST.`).

use std::borrow::Cow;

/// `raw` lower-cased, one trailing dot removed; `None` when nothing is left or a label is empty
/// (`a..b`, `.a`, `a.b..`): such a name is no host at all.
pub fn normalize(raw: &str) -> Option<Cow<'_, str>> {
    let name = raw.strip_suffix('.').unwrap_or(raw);
    if name.is_empty() || name.split('.').any(str::is_empty) {
        return None;
    }
    if name.bytes().any(|b| b.is_ascii_uppercase()) {
        Some(Cow::Owned(name.to_ascii_lowercase()))
    } else {
        Some(Cow::Borrowed(name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_trailing_dot_and_case_do_not_matter() {
        assert_eq!(normalize("Shop.Test.").as_deref(), Some("shop.test"));
        assert_eq!(normalize("shop.test").as_deref(), Some("shop.test"));
        assert!(matches!(normalize("shop.test"), Some(Cow::Borrowed(_))));
        assert_eq!(normalize("[::1]").as_deref(), Some("[::1]"));
    }

    #[test]
    fn empty_labels_are_no_name() {
        for bad in ["", ".", "a..b", ".a", "a.b..", ".."] {
            assert_eq!(normalize(bad), None, "{bad:?}");
        }
    }
}
