//! Builds the `addPrefix` plugin from its config.

use super::Built;
use crate::config::middlewares::add_prefix::AddPrefixConfig;
use crate::runtime::compile::CompileError;
use pylon_plugins::add_prefix::AddPrefix;
use std::sync::Arc;

pub fn build(name: &str, cfg: &AddPrefixConfig) -> Result<Built, CompileError> {
    match cfg.prefix.as_deref().filter(|p| !p.is_empty()) {
        Some(prefix) => Ok(Built::Plugin(Arc::new(AddPrefix::new(prefix.to_string())))),
        None => Err(CompileError {
            key_path: format!("http.middlewares.{name}.addPrefix.prefix"),
            message: "prefix cannot be empty".to_string(),
        }),
    }
}
