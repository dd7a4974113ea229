//! Builds the `compress` plugin from its config (Traefik's defaults filled in).

use super::Built;
use crate::config::dynamic::Toggle;
use crate::config::middlewares::compress::CompressConfig;
use crate::runtime::compile::CompileError;
use pylon_plugins::compress::{Coding, Compress};
use std::sync::Arc;

/// Traefik's default `encodings`, in priority order.
const DEFAULT_CODINGS: [Coding; 3] = [Coding::Gzip, Coding::Brotli, Coding::Zstd];
const DEFAULT_MIN_BYTES: u64 = 1024;

pub fn build(name: &str, cfg: &Toggle<CompressConfig>) -> Result<Built, CompileError> {
    if !cfg.enabled() {
        return Ok(Built::Chain(Vec::new()));
    }
    let default = CompressConfig::default();
    let cfg = cfg.options().unwrap_or(&default);
    let err = |key: &str, message: String| CompileError {
        key_path: format!("http.middlewares.{name}.compress.{key}"),
        message,
    };
    let parse = |key: &str, e: &str| {
        Coding::parse(e.trim()).ok_or_else(|| err(key, format!("`{e}` is not gzip, br or zstd")))
    };
    let codings = match &cfg.encodings {
        None => DEFAULT_CODINGS.to_vec(),
        Some(list) => list
            .iter()
            .map(|e| parse("encodings", e))
            .collect::<Result<Vec<_>, _>>()?,
    };
    if codings.is_empty() {
        return Err(err("encodings", "the list is empty".into()));
    }
    let default_coding = cfg
        .default_encoding
        .as_deref()
        .filter(|d| !d.trim().is_empty())
        .map(|d| parse("defaultEncoding", d))
        .transpose()?;
    let min = match cfg.min_response_body_bytes {
        None => DEFAULT_MIN_BYTES,
        Some(n) => {
            u64::try_from(n).map_err(|_| err("minResponseBodyBytes", format!("{n} is negative")))?
        }
    };
    Ok(Built::Plugin(Arc::new(Compress::new(
        codings,
        default_coding,
        cfg.excluded_content_types.clone(),
        cfg.included_content_types.clone(),
        min,
    ))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_encodings_name_their_key_and_false_is_nothing() {
        let cfg: Toggle<CompressConfig> =
            toml::from_str::<toml::Value>("x = { encodings = [\"lz4\"] }")
                .ok()
                .and_then(|v| v.get("x").cloned())
                .and_then(|v| v.try_into().ok())
                .unwrap();
        match build("c", &cfg) {
            Err(e) => assert_eq!(e.key_path, "http.middlewares.c.compress.encodings"),
            Ok(_) => panic!("lz4 was accepted"),
        }
        assert!(matches!(build("c", &Toggle::Flag(false)), Ok(Built::Chain(v)) if v.is_empty()));
        assert!(matches!(
            build("c", &Toggle::Flag(true)),
            Ok(Built::Plugin(_))
        ));
    }
}
