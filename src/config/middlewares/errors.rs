//! `errors` settings: custom error pages fetched from a service (Traefik's keys).

use serde::Deserialize;
use std::collections::BTreeMap;

/// Traefik's `errors`: when the response status is in `status`, the body is replaced by the
/// page `service` answers at `query` (`{status}`, `{originalStatus}` and `{url}` filled in);
/// the status sent stays the original one unless `statusRewrites` maps it.
#[derive(Debug, Clone, Default, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ErrorsConfig {
    /// Codes and ranges: "500-599", "404".
    #[serde(default)]
    pub status: Vec<String>,
    /// The service answering the error pages (`name` or `name@provider`).
    pub service: Option<String>,
    /// The page's path and query; default "/".
    pub query: Option<String>,
    /// Status sent instead of the original: `"500-503" = 500`.
    #[serde(default)]
    pub status_rewrites: BTreeMap<String, i64>,
}

/// Parses "404" or "500-599" into an inclusive range; `None` if it is neither.
pub fn parse_status_range(text: &str) -> Option<(u16, u16)> {
    let code = |s: &str| {
        s.trim()
            .parse::<u16>()
            .ok()
            .filter(|c| (100..=599).contains(c))
    };
    match text.split_once('-') {
        Some((lo, hi)) => {
            let (lo, hi) = (code(lo)?, code(hi)?);
            (lo <= hi).then_some((lo, hi))
        }
        None => code(text).map(|c| (c, c)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn traefik_keys_parse() {
        let c: ErrorsConfig = toml::from_str(
            "status = [\"500-599\", \"404\"]\nservice = \"pages\"\nquery = \"/{status}.html\"\n\
             [statusRewrites]\n\"500-503\" = 500\n",
        )
        .unwrap();
        assert_eq!(c.status, ["500-599", "404"]);
        assert_eq!(c.service.as_deref(), Some("pages"));
        assert_eq!(c.status_rewrites["500-503"], 500);
        assert!(toml::from_str::<ErrorsConfig>("statuses = []").is_err());
    }

    #[test]
    fn status_ranges() {
        assert_eq!(parse_status_range("404"), Some((404, 404)));
        assert_eq!(parse_status_range("500-599"), Some((500, 599)));
        assert_eq!(parse_status_range(" 500 - 502 "), Some((500, 502)));
        assert_eq!(parse_status_range("599-500"), None);
        assert_eq!(parse_status_range("5xx"), None);
        assert_eq!(parse_status_range("700"), None);
    }
}
