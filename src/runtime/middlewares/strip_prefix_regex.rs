//! Builds the `stripPrefixRegex` plugin from its config.

use super::Built;
use crate::config::middlewares::strip_prefix_regex::StripPrefixRegexConfig;
use crate::runtime::compile::CompileError;
use pylon_plugins::strip_prefix_regex::StripPrefixRegex;
use std::sync::Arc;

pub fn build(name: &str, cfg: &StripPrefixRegexConfig) -> Result<Built, CompileError> {
    let regexes = cfg
        .regex
        .iter()
        .enumerate()
        .map(|(i, r)| {
            regex::Regex::new(r.trim()).map_err(|e| CompileError {
                key_path: format!("http.middlewares.{name}.stripPrefixRegex.regex[{i}]"),
                message: e.to_string(),
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Built::Plugin(Arc::new(StripPrefixRegex::new(regexes))))
}
