//! `replacePathRegex` settings: a regex rewrite of the request path.

use serde::Deserialize;

/// Traefik's `replacePathRegex`: `regex`, `replacement` (the original goes in `X-Replaced-Path`).
#[derive(Debug, Clone, Default, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ReplacePathRegexConfig {
    pub regex: Option<String>,
    /// The new path; `$1` / `${name}` refer to the regex's groups.
    pub replacement: Option<String>,
}
