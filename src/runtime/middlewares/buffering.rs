//! Builds the `buffering` plugin (body size limits) from its config.

use super::Built;
use crate::config::middlewares::buffering::BufferingConfig;
use crate::runtime::compile::CompileError;
use pylon_plugins::buffering::Buffering;
use std::sync::Arc;

pub fn build(name: &str, cfg: &BufferingConfig) -> Result<Built, CompileError> {
    let limit = |key: &str, v: Option<i64>| match v {
        None | Some(0) => Ok(None),
        Some(v) => u64::try_from(v).map(Some).map_err(|_| CompileError {
            key_path: format!("http.middlewares.{name}.buffering.{key}"),
            message: format!("{v} is negative"),
        }),
    };
    let request = limit("maxRequestBodyBytes", cfg.max_request_body_bytes)?;
    let response = limit("maxResponseBodyBytes", cfg.max_response_body_bytes)?;
    Ok(Built::Plugin(Arc::new(Buffering::new(request, response))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn negative_limits_are_refused_with_their_key() {
        let cfg = BufferingConfig {
            max_response_body_bytes: Some(-1),
            ..Default::default()
        };
        match build("b", &cfg) {
            Err(e) => assert_eq!(
                e.key_path,
                "http.middlewares.b.buffering.maxResponseBodyBytes"
            ),
            Ok(_) => panic!("a negative limit was accepted"),
        }
        assert!(build("b", &BufferingConfig::default()).is_ok());
    }
}
