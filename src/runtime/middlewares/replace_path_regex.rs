//! Builds the `replacePathRegex` plugin from its config.

use super::Built;
use crate::config::middlewares::replace_path_regex::ReplacePathRegexConfig;
use crate::runtime::compile::CompileError;
use pylon_plugins::replace_path_regex::ReplacePathRegex;
use std::sync::Arc;

pub fn build(name: &str, cfg: &ReplacePathRegexConfig) -> Result<Built, CompileError> {
    let regex =
        regex::Regex::new(cfg.regex.as_deref().unwrap_or("")).map_err(|e| CompileError {
            key_path: format!("http.middlewares.{name}.replacePathRegex.regex"),
            message: e.to_string(),
        })?;
    let replacement = cfg.replacement.clone().unwrap_or_default();
    Ok(Built::Plugin(Arc::new(ReplacePathRegex::new(
        regex,
        replacement,
    ))))
}
