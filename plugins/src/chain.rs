//! The `chain` middleware's settings: a named list of other middlewares, run in order. Not a
//! plugin: the host expands a chain into its members where routers' middlewares are resolved,
//! and checks the members exist and no chain contains itself (that needs every middleware).

use crate::build::{BuildCx, BuildResult};
use serde::{Deserialize, Serialize};

/// Traefik's `chain`: `middlewares`.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Config {
    #[serde(default)]
    pub middlewares: Vec<String>,
}

/// The members' names, in order (each is checked with the whole configuration).
pub fn build(cfg: &Config, _cx: &BuildCx) -> BuildResult<Vec<String>> {
    Ok(cfg.middlewares.clone())
}
