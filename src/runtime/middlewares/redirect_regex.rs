//! Builds the `redirectRegex` plugin from its config.

use super::Built;
use crate::config::middlewares::redirect_regex::RedirectRegexConfig;
use crate::runtime::compile::CompileError;
use pylon_plugins::redirect_regex::RedirectRegex;
use std::sync::Arc;

pub fn build(name: &str, cfg: &RedirectRegexConfig) -> Result<Built, CompileError> {
    let regex =
        regex::Regex::new(cfg.regex.as_deref().unwrap_or("")).map_err(|e| CompileError {
            key_path: format!("http.middlewares.{name}.redirectRegex.regex"),
            message: e.to_string(),
        })?;
    Ok(Built::Plugin(Arc::new(RedirectRegex::new(
        regex,
        cfg.replacement.clone().unwrap_or_default(),
        cfg.permanent.unwrap_or(false),
    ))))
}
