//! `compress` settings: which responses are compressed, and with which codings.

use serde::Deserialize;

/// Traefik's `compress` (also written `compress = true`).
#[derive(Debug, Clone, Default, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CompressConfig {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn traefik_keys_parse_and_unknown_keys_are_refused() {
        let c: CompressConfig = toml::from_str(
            "excludedContentTypes = [\"text/event-stream\"]\nminResponseBodyBytes = 10\n\
             encodings = [\"zstd\", \"br\"]\ndefaultEncoding = \"br\"",
        )
        .unwrap();
        assert_eq!(c.encodings.unwrap(), ["zstd", "br"]);
        assert!(toml::from_str::<CompressConfig>("minBytes = 1").is_err());
    }
}
