//! Typed settings of the `rateLimit` middleware (Traefik v3.4 keys, plus pylon's `failOpen`).

use super::super::duration::Duration;
use super::SourceCriterion;
use serde::Deserialize;

/// `rateLimit`: a token bucket per source; `average` tokens per `period`, at most `burst` saved.
#[derive(Debug, Clone, Default, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RateLimitConfig {
    /// Requests allowed per `period` on average; 0 (the default) means no limit.
    pub average: Option<i64>,
    /// The period `average` is counted over (default 1s).
    pub period: Option<Duration>,
    /// How many requests may arrive at once (the bucket's size; default 1).
    pub burst: Option<i64>,
    pub source_criterion: Option<SourceCriterion>,
    /// Keep the buckets in Redis so that several pylon instances enforce one limit.
    pub redis: Option<RedisConfig>,
}

/// Where the shared buckets live (Traefik v3.4's `rateLimit.redis`).
#[derive(Debug, Clone, Default, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RedisConfig {
    /// `host:port` of the Redis server; pylon uses one (a cluster seed list is refused).
    #[serde(default)]
    pub endpoints: Vec<String>,
    pub username: Option<String>,
    pub password: Option<String>,
    /// pylon: read the password from this file (trailing newline removed).
    pub password_file: Option<String>,
    pub db: Option<i64>,
    /// Time allowed to establish a connection (default 5s, as Traefik).
    pub dial_timeout: Option<Duration>,
    /// Bound of one Redis call, with `writeTimeout` (pylon's default: 500ms).
    pub read_timeout: Option<Duration>,
    pub write_timeout: Option<Duration>,
    /// Accepted for compatibility: pylon multiplexes every call on one connection per limiter.
    pub pool_size: Option<i64>,
    pub min_idle_conns: Option<i64>,
    pub max_active_conns: Option<i64>,
    /// TLS to Redis: recognised so that the error is clear; pylon does not support it yet.
    pub tls: Option<toml::Value>,
    /// pylon: when Redis cannot be reached, admit requests (true, the default) or refuse them.
    pub fail_open: Option<bool>,
}
