//! Checks `compress`: known encodings, a non-negative minimum, include/exclude not both set.

use super::Collector;
use crate::config::dynamic::Toggle;
use crate::config::middlewares::compress::CompressConfig;

const KNOWN: &str = "gzip, br, zstd";

pub(super) fn validate(base: &str, cfg: Option<&Toggle<CompressConfig>>, c: &mut Collector<'_>) {
    let Some(cfg) = cfg.and_then(Toggle::options) else {
        return;
    };
    let key = format!("{base}.compress");
    if !cfg.excluded_content_types.is_empty() && !cfg.included_content_types.is_empty() {
        c.push(
            format!("{key}.includedContentTypes"),
            "excludedContentTypes and includedContentTypes are both set",
            Some("keep only one of the two lists".into()),
        );
    }
    if let Some(n) = cfg.min_response_body_bytes.filter(|n| *n < 0) {
        c.push(
            format!("{key}.minResponseBodyBytes"),
            format!("{n} is negative"),
            Some("e.g. minResponseBodyBytes = 1024 (the default)".into()),
        );
    }
    if let Some(list) = &cfg.encodings {
        if list.is_empty() {
            c.push(
                format!("{key}.encodings"),
                "the list is empty",
                Some(format!("name at least one of {KNOWN}, or remove the key")),
            );
        }
        for (i, e) in list.iter().enumerate() {
            if pylon_plugins::compress::Coding::parse(e.trim()).is_none() {
                c.push(
                    format!("{key}.encodings[{i}]"),
                    format!("`{e}` is not a supported encoding"),
                    Some(format!("use {KNOWN}")),
                );
            }
        }
    }
    if let Some(d) = &cfg.default_encoding {
        if pylon_plugins::compress::Coding::parse(d.trim()).is_none() {
            c.push(
                format!("{key}.defaultEncoding"),
                format!("`{d}` is not a supported encoding"),
                Some(format!("use {KNOWN}")),
            );
        }
    }
}
