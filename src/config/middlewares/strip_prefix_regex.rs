//! `stripPrefixRegex` settings: regexes whose match at the start of the path is removed.

use serde::Deserialize;

/// Traefik's `stripPrefixRegex`: `regex` (a list; the first that matches a prefix wins).
#[derive(Debug, Clone, Default, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct StripPrefixRegexConfig {
    #[serde(default)]
    pub regex: Vec<String>,
}
