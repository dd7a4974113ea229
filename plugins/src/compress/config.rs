//! `compress` settings (Traefik's keys), their checks, and the middleware built from them in the
//! same pass: known encodings, a non-negative minimum, include/exclude not both set.

use super::{Coding, Compress};
use crate::build::{BuildCx, BuildResult, Problems};
use serde::{Deserialize, Serialize};

const KNOWN: &str = "gzip, br, zstd";
/// Traefik's default `encodings`, in priority order.
const DEFAULT_CODINGS: [Coding; 3] = [Coding::Gzip, Coding::Brotli, Coding::Zstd];
const DEFAULT_MIN_BYTES: u64 = 1024;

/// Traefik's `compress` (`compress = true` is this with every default).
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Config {
    #[serde(default)]
    pub excluded_content_types: Vec<String>,
    #[serde(default)]
    pub included_content_types: Vec<String>,
    /// Default 1024.
    pub min_response_body_bytes: Option<i64>,
    /// Default `gzip, br, zstd` (the order is the priority).
    pub encodings: Option<Vec<String>>,
    pub default_encoding: Option<String>,
}

/// Checks the settings and builds the middleware (Traefik's defaults filled in).
pub fn build(cfg: &Config, cx: &BuildCx) -> BuildResult<Compress> {
    let mut problems = Problems::new(cx, "compress");
    if !cfg.excluded_content_types.is_empty() && !cfg.included_content_types.is_empty() {
        problems.push(
            "includedContentTypes",
            "excludedContentTypes and includedContentTypes are both set",
            Some("keep only one of the two lists".into()),
        );
    }
    let min = match cfg.min_response_body_bytes {
        None => DEFAULT_MIN_BYTES,
        Some(n) => u64::try_from(n).unwrap_or_else(|_| {
            problems.push(
                "minResponseBodyBytes",
                format!("{n} is negative"),
                Some("e.g. minResponseBodyBytes = 1024 (the default)".into()),
            );
            0
        }),
    };
    let mut codings = Vec::new();
    match &cfg.encodings {
        None => codings.extend(DEFAULT_CODINGS),
        Some(list) => {
            if list.is_empty() {
                problems.push(
                    "encodings",
                    "the list is empty",
                    Some(format!("name at least one of {KNOWN}, or remove the key")),
                );
            }
            for (i, e) in list.iter().enumerate() {
                match Coding::parse(e.trim()) {
                    Some(coding) => codings.push(coding),
                    None => problems.push(
                        &format!("encodings[{i}]"),
                        format!("`{e}` is not a supported encoding"),
                        Some(format!("use {KNOWN}")),
                    ),
                }
            }
        }
    }
    let mut default_coding = None;
    if let Some(d) = cfg.default_encoding.as_deref() {
        match Coding::parse(d.trim()) {
            Some(coding) => default_coding = Some(coding),
            None if d.trim().is_empty() => {}
            None => problems.push(
                "defaultEncoding",
                format!("`{d}` is not a supported encoding"),
                Some(format!("use {KNOWN}")),
            ),
        }
    }
    problems.finish(|| {
        Compress::new(
            codings,
            default_coding,
            cfg.excluded_content_types.clone(),
            cfg.included_content_types.clone(),
            min,
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn traefik_keys_parse_and_unknown_keys_are_refused() {
        let c: Config = toml::from_str(
            "excludedContentTypes = [\"text/event-stream\"]\nminResponseBodyBytes = 10\n\
             encodings = [\"zstd\", \"br\"]\ndefaultEncoding = \"br\"",
        )
        .unwrap();
        assert_eq!(c.encodings.as_deref().unwrap(), ["zstd", "br"]);
        assert!(build(&c, &crate::build::test_cx()).is_ok());
        assert!(toml::from_str::<Config>("minBytes = 1").is_err());
    }

    #[test]
    fn bad_settings_name_their_keys() {
        let c: Config = toml::from_str(
            "excludedContentTypes = [\"a/b\"]\nincludedContentTypes = [\"c/d\"]\n\
             minResponseBodyBytes = -1\nencodings = [\"gzip\", \"lz4\"]\ndefaultEncoding = \"x\"",
        )
        .unwrap();
        let keys: Vec<_> = build(&c, &crate::build::test_cx())
            .err()
            .unwrap_or_default()
            .into_iter()
            .map(|e| e.key_path)
            .collect();
        let key = "http.middlewares.m.compress";
        assert_eq!(
            keys,
            [
                format!("{key}.includedContentTypes"),
                format!("{key}.minResponseBodyBytes"),
                format!("{key}.encodings[1]"),
                format!("{key}.defaultEncoding"),
            ]
        );
        let empty: Config = toml::from_str("encodings = []").unwrap();
        assert!(build(&empty, &crate::build::test_cx()).is_err());
    }
}
