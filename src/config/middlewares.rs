//! Traefik's `[http.middlewares.<name>.<type>]`: one enum variant per middleware type, each
//! holding that type's typed settings.

pub mod basic_auth;
pub mod chain;
pub mod compress;
pub mod errors;
pub mod headers;
pub mod ip_allow_list;
pub mod one_type;
pub mod rate_limit;
#[cfg(test)]
mod tests;

pub use one_type::type_names;

use super::duration::Duration;
use super::dynamic::Toggle;
use pylon_plugins::{
    add_prefix, buffering, redirect_regex, redirect_scheme, replace_path, replace_path_regex,
    strip_prefix, strip_prefix_regex, BuildCx,
};
use serde::Deserialize;

/// One middleware: exactly one type, written as the one key of its table (Traefik's layout),
/// e.g. `[http.middlewares.strip.stripPrefix]`. Decoding refuses zero or several type keys
/// (see `one_type`); the API writes it back as `{"<type>": {...}}`.
///
/// Adding a type: add its variant here; the compiler then names every `match` that must
/// handle it (validation, building, `kind`).
#[derive(Debug, Clone, Deserialize, serde::Serialize)]
#[serde(remote = "Self", rename_all = "camelCase")]
pub enum MiddlewareConfig {
    StripPrefix(strip_prefix::Config),
    AddPrefix(add_prefix::Config),
    StripPrefixRegex(strip_prefix_regex::Config),
    ReplacePath(replace_path::Config),
    ReplacePathRegex(replace_path_regex::Config),
    RedirectScheme(redirect_scheme::Config),
    RedirectRegex(redirect_regex::Config),
    Headers(headers::HeadersConfig),
    RateLimit(rate_limit::RateLimitConfig),
    BasicAuth(basic_auth::BasicAuthConfig),
    IpAllowList(ip_allow_list::IpAllowListConfig),
    InFlightReq(InFlightReqConfig),
    Retry(RetryConfig),
    Chain(chain::ChainConfig),
    Buffering(buffering::Config),
    Compress(Toggle<compress::CompressConfig>),
    Errors(errors::ErrorsConfig),
    // Traefik types pylon does not implement yet: decoded so that the error names them.
    DigestAuth(toml::Value),
    ForwardAuth(toml::Value),
    CircuitBreaker(toml::Value),
    GrpcWeb(toml::Value),
    ContentType(toml::Value),
    #[serde(rename = "passTLSClientCert")]
    PassTlsClientCert(toml::Value),
    Plugin(toml::Value),
}

impl MiddlewareConfig {
    /// The Traefik name of this middleware's type (its key in the config).
    pub fn kind(&self) -> &'static str {
        match self {
            Self::StripPrefix(_) => "stripPrefix",
            Self::AddPrefix(_) => "addPrefix",
            Self::StripPrefixRegex(_) => "stripPrefixRegex",
            Self::ReplacePath(_) => "replacePath",
            Self::ReplacePathRegex(_) => "replacePathRegex",
            Self::RedirectScheme(_) => "redirectScheme",
            Self::RedirectRegex(_) => "redirectRegex",
            Self::Headers(_) => "headers",
            Self::RateLimit(_) => "rateLimit",
            Self::BasicAuth(_) => "basicAuth",
            Self::IpAllowList(_) => "ipAllowList",
            Self::InFlightReq(_) => "inFlightReq",
            Self::Retry(_) => "retry",
            Self::Chain(_) => "chain",
            Self::Buffering(_) => "buffering",
            Self::Compress(_) => "compress",
            Self::Errors(_) => "errors",
            Self::DigestAuth(_) => "digestAuth",
            Self::ForwardAuth(_) => "forwardAuth",
            Self::CircuitBreaker(_) => "circuitBreaker",
            Self::GrpcWeb(_) => "grpcWeb",
            Self::ContentType(_) => "contentType",
            Self::PassTlsClientCert(_) => "passTLSClientCert",
            Self::Plugin(_) => "plugin",
        }
    }

    /// The files this middleware reads when it is built (their contents are part of what it is
    /// built from: see `runtime::fingerprint`).
    pub fn files_read(&self) -> Vec<&str> {
        match self {
            Self::BasicAuth(b) => b.users_file.as_deref().into_iter().collect(),
            Self::RateLimit(r) => r
                .redis
                .as_ref()
                .and_then(|r| r.password_file.as_deref())
                .into_iter()
                .collect(),
            _ => Vec::new(),
        }
    }
}

/// The context the middleware `name` is built in: files its keys name are read with
/// [`crate::config::key_file`]'s rules.
pub fn build_cx(name: &str) -> BuildCx<'_> {
    BuildCx {
        name,
        read_file: &read_key_file,
    }
}

fn read_key_file(path: &str) -> Result<String, String> {
    super::key_file::read_key_file_to_string(path).map_err(|e| e.to_string())
}

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
