//! Typed settings of the middlewares pylon implements beyond stripPrefix.

pub mod add_prefix;
pub mod basic_auth;
pub mod buffering;
pub mod chain;
pub mod compress;
pub mod errors;
pub mod headers;
pub mod ip_allow_list;
pub mod rate_limit;
pub mod redirect_regex;
pub mod redirect_scheme;
pub mod replace_path;
pub mod replace_path_regex;
pub mod strip_prefix_regex;

use super::duration::Duration;
use serde::Deserialize;

/// `retry`: send a failed request again (idempotent, or never reached the server).
#[derive(Debug, Clone, Default, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RetryConfig {
    /// Total attempts, the first included (Traefik's meaning).
    pub attempts: Option<i64>,
    /// Wait before the first retry; doubles each time (default 100ms).
    pub initial_interval: Option<Duration>,
    /// Accepted for compatibility; pylon bounds attempts by the transport timeouts.
    pub timeout: Option<Duration>,
}

/// `inFlightReq`: at most `amount` simultaneous requests per source.
#[derive(Debug, Clone, Default, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct InFlightReqConfig {
    pub amount: Option<i64>,
    pub source_criterion: Option<SourceCriterion>,
}

/// Which requests count as "the same source" (Traefik's `sourceCriterion`).
#[derive(Debug, Clone, Default, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct SourceCriterion {
    pub ip_strategy: Option<IpStrategy>,
    pub request_header_name: Option<String>,
    pub request_host: Option<bool>,
}

/// How the client IP is taken from `X-Forwarded-For` (Traefik's `ipStrategy`).
#[derive(Debug, Clone, Default, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct IpStrategy {
    pub depth: Option<i64>,
    #[serde(default, rename = "excludedIPs")]
    pub excluded_ips: Vec<String>,
    pub ipv6_subnet: Option<i64>,
}
