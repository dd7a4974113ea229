//! `buffering` settings: request and response body size limits (Traefik's keys).

use serde::Deserialize;

/// Traefik's `buffering`. pylon streams bodies and enforces the two `max*` limits; the `mem*`
/// thresholds and `retryExpression` are accepted for compatibility and have no effect.
#[derive(Debug, Clone, Default, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct BufferingConfig {
    pub max_request_body_bytes: Option<i64>,
    pub mem_request_body_bytes: Option<i64>,
    pub max_response_body_bytes: Option<i64>,
    pub mem_response_body_bytes: Option<i64>,
    pub retry_expression: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn traefik_keys_parse_and_unknown_keys_are_refused() {
        let c: BufferingConfig = toml::from_str(
            "maxRequestBodyBytes = 10\nmemRequestBodyBytes = 5\nmaxResponseBodyBytes = 20\n\
             memResponseBodyBytes = 5\nretryExpression = \"IsNetworkError() && Attempts() < 2\"",
        )
        .unwrap();
        assert_eq!(c.max_request_body_bytes, Some(10));
        assert_eq!(c.max_response_body_bytes, Some(20));
        assert!(toml::from_str::<BufferingConfig>("maxBodyBytes = 1").is_err());
    }
}
