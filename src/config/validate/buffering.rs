//! Checks `buffering`: sizes are not negative.

use super::Collector;
use crate::config::middlewares::buffering::BufferingConfig;

pub(super) fn validate(base: &str, cfg: Option<&BufferingConfig>, c: &mut Collector<'_>) {
    let Some(cfg) = cfg else { return };
    let sizes = [
        ("maxRequestBodyBytes", cfg.max_request_body_bytes),
        ("memRequestBodyBytes", cfg.mem_request_body_bytes),
        ("maxResponseBodyBytes", cfg.max_response_body_bytes),
        ("memResponseBodyBytes", cfg.mem_response_body_bytes),
    ];
    for (key, value) in sizes {
        if let Some(v) = value.filter(|v| *v < 0) {
            c.push(
                format!("{base}.buffering.{key}"),
                format!("{v} is negative"),
                Some(format!(
                    "write a size in bytes, e.g. {key} = 2000000 (0 means no limit)"
                )),
            );
        }
    }
}
