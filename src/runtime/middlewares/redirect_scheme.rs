//! Builds the `redirectScheme` plugin from its config.

use super::Built;
use crate::config::middlewares::redirect_scheme::RedirectSchemeConfig;
use crate::runtime::compile::CompileError;
use pylon_plugins::redirect_scheme::RedirectScheme;
use std::sync::Arc;

pub fn build(name: &str, cfg: &RedirectSchemeConfig) -> Result<Built, CompileError> {
    let Some(scheme) = cfg
        .scheme
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    else {
        return Err(CompileError {
            key_path: format!("http.middlewares.{name}.redirectScheme.scheme"),
            message: "you must provide a target scheme".to_string(),
        });
    };
    Ok(Built::Plugin(Arc::new(RedirectScheme::new(
        scheme,
        cfg.port.as_deref(),
        cfg.permanent.unwrap_or(false),
    ))))
}
