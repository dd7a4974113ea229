//! `addPrefix` settings: a prefix put in front of the request path.

use serde::Deserialize;

/// Traefik's `addPrefix`: `prefix`.
#[derive(Debug, Clone, Default, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct AddPrefixConfig {
    pub prefix: Option<String>,
}
