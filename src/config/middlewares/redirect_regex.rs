//! `redirectRegex` settings: redirect when the request URL matches, to the rewritten URL.

use serde::Deserialize;

/// Traefik's `redirectRegex`: `regex`, `replacement` (with `$1` groups), `permanent`.
#[derive(Debug, Clone, Default, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RedirectRegexConfig {
    /// Matched against the full request URL (`http://host:port/path?query`).
    pub regex: Option<String>,
    /// The new URL; `$1` / `${name}` refer to the regex's groups.
    pub replacement: Option<String>,
    /// 301/308 instead of 302/307.
    pub permanent: Option<bool>,
}
