//! Builds the `replacePath` plugin from its config.

use super::Built;
use crate::config::middlewares::replace_path::ReplacePathConfig;
use crate::runtime::compile::CompileError;
use pylon_plugins::replace_path::ReplacePath;
use std::sync::Arc;

pub fn build(name: &str, cfg: &ReplacePathConfig) -> Result<Built, CompileError> {
    match cfg.path.as_deref().filter(|p| !p.is_empty()) {
        Some(path) => Ok(Built::Plugin(Arc::new(ReplacePath::new(path.to_string())))),
        None => Err(CompileError {
            key_path: format!("http.middlewares.{name}.replacePath.path"),
            message: "path cannot be empty".to_string(),
        }),
    }
}
