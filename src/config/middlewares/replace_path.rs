//! `replacePath` settings: the path every request is sent upstream with.

use serde::Deserialize;

/// Traefik's `replacePath`: `path` (the original goes in `X-Replaced-Path`).
#[derive(Debug, Clone, Default, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ReplacePathConfig {
    pub path: Option<String>,
}
