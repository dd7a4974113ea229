//! The static sections about observing pylon: `log`, `accessLog` and `metrics`.

use super::duration::Duration;
use serde::Deserialize;
use std::collections::BTreeMap;

/// Output format of logs and access logs (matched case-insensitively).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    #[default]
    Common,
    Json,
}

/// `[log]`.
#[derive(Debug, Clone, Default, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct LogConfig {
    /// TRACE, DEBUG, INFO, WARN, ERROR, FATAL or PANIC, any case; Traefik's default ERROR.
    pub level: Option<String>,
    pub format: Option<LogFormat>,
    pub file_path: Option<String>,
    pub no_color: Option<bool>,
}

/// Traefik's log levels (FATAL and PANIC log as ERROR).
pub fn parse_level(level: &str) -> Option<log::LevelFilter> {
    Some(match level.trim().to_ascii_uppercase().as_str() {
        "TRACE" => log::LevelFilter::Trace,
        "DEBUG" => log::LevelFilter::Debug,
        "INFO" => log::LevelFilter::Info,
        "WARN" | "WARNING" => log::LevelFilter::Warn,
        "ERROR" | "FATAL" | "PANIC" => log::LevelFilter::Error,
        _ => return None,
    })
}

/// `[accessLog]`: accepted now; written with the observability work.
#[derive(Debug, Clone, Default, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct AccessLogConfig {
    pub file_path: Option<String>,
    pub format: Option<LogFormat>,
    pub buffering_size: Option<u64>,
    pub add_internals: Option<bool>,
    pub filters: Option<AccessLogFilters>,
    pub fields: Option<AccessLogFields>,
}

/// `[accessLog.filters]`: which requests are logged.
#[derive(Debug, Clone, Default, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct AccessLogFilters {
    /// Codes or ranges: "200", "300-302".
    #[serde(default)]
    pub status_codes: Vec<String>,
    pub retry_attempts: Option<bool>,
    pub min_duration: Option<Duration>,
}

/// What happens to one access-log field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FieldMode {
    Keep,
    Drop,
    Redact,
}

/// `[accessLog.fields]`.
#[derive(Debug, Clone, Default, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct AccessLogFields {
    pub default_mode: Option<FieldMode>,
    #[serde(default)]
    pub names: BTreeMap<String, FieldMode>,
    pub headers: Option<AccessLogHeaders>,
}

/// `[accessLog.fields.headers]`.
#[derive(Debug, Clone, Default, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct AccessLogHeaders {
    pub default_mode: Option<FieldMode>,
    #[serde(default)]
    pub names: BTreeMap<String, FieldMode>,
}

/// Whether `code` is an access-log status filter: "404" or "500-599".
pub fn is_status_filter(code: &str) -> bool {
    let status = |s: &str| {
        s.trim()
            .parse::<u16>()
            .is_ok_and(|c| (100..=599).contains(&c))
    };
    match code.split_once('-') {
        Some((lo, hi)) => status(lo) && status(hi),
        None => status(code),
    }
}

/// `[metrics]`.
#[derive(Debug, Clone, Default, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct MetricsConfig {
    pub add_internals: Option<bool>,
    pub prometheus: Option<PrometheusConfig>,
}

/// `[metrics.prometheus]`: accepted now; served with the observability work.
#[derive(Debug, Clone, Default, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PrometheusConfig {
    pub buckets: Option<Vec<f64>>,
    pub add_entry_points_labels: Option<bool>,
    pub add_routers_labels: Option<bool>,
    pub add_services_labels: Option<bool>,
    /// Default `traefik`, as in Traefik.
    pub entry_point: Option<String>,
    pub manual_routing: Option<bool>,
    /// pylon extension: metric name prefix (default `traefik`: Traefik's names, so existing
    /// dashboards and alerts work unchanged).
    pub prefix: Option<String>,
}

impl PrometheusConfig {
    /// Traefik's default buckets when none are set.
    pub const DEFAULT_BUCKETS: [f64; 4] = [0.1, 0.3, 1.2, 5.0];

    pub fn prefix(&self) -> &str {
        self.prefix.as_deref().unwrap_or("traefik")
    }
}
