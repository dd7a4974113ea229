//! Traefik's `[http.middlewares.<name>.<type>]`: one enum variant per middleware type, each
//! holding that type's typed settings.

pub mod one_type;
#[cfg(test)]
mod tests;

pub use one_type::type_names;

use super::dynamic::Toggle;
use pylon_plugins::content_type;
use pylon_plugins::digest_auth;
use pylon_plugins::grpc_web;
use pylon_plugins::pass_tls_client_cert;
use pylon_plugins::{
    add_prefix, basic_auth, buffering, chain, circuit_breaker, compress, errors, forward_auth,
    headers, in_flight, ip_allow_list, rate_limit, redirect_regex, redirect_scheme, replace_path,
    replace_path_regex, retry, strip_prefix, strip_prefix_regex, BuildCx, BuildResult, Built,
};
use serde::Deserialize;

/// One middleware: exactly one type, written as the one key of its table (Traefik's layout),
/// e.g. `[http.middlewares.strip.stripPrefix]`. Decoding refuses zero or several type keys
/// (see `one_type`); the API writes it back as `{"<type>": {...}}`.
///
/// Adding a type: add its module to the plugins crate and its variant here; the compiler then
/// names the two `match`es below (`kind`, `build`) that must handle it.
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
    Headers(headers::Config),
    RateLimit(rate_limit::Config),
    BasicAuth(basic_auth::Config),
    IpAllowList(ip_allow_list::Config),
    InFlightReq(in_flight::Config),
    Retry(retry::Config),
    Chain(chain::Config),
    Buffering(buffering::Config),
    Compress(Toggle<compress::Config>),
    Errors(errors::Config),
    ForwardAuth(forward_auth::Config),
    CircuitBreaker(circuit_breaker::Config),
    ContentType(content_type::Config),
    GrpcWeb(grpc_web::Config),
    DigestAuth(digest_auth::Config),
    #[serde(rename = "passTLSClientCert")]
    PassTlsClientCert(pass_tls_client_cert::Config),
    // Traefik's plugin middleware: pylon's are compiled in; decoded so that the error names it.
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

    /// Checks and builds this middleware in one pass: the one `match` over every type. Errors
    /// carry their key paths; the result is what runs.
    pub fn build(&self, cx: &BuildCx) -> BuildResult<Built> {
        match self {
            Self::StripPrefix(c) => strip_prefix::build(c, cx).map(Built::plugin),
            Self::AddPrefix(c) => add_prefix::build(c, cx).map(Built::plugin),
            Self::StripPrefixRegex(c) => strip_prefix_regex::build(c, cx).map(Built::plugin),
            Self::ReplacePath(c) => replace_path::build(c, cx).map(Built::plugin),
            Self::ReplacePathRegex(c) => replace_path_regex::build(c, cx).map(Built::plugin),
            Self::RedirectScheme(c) => redirect_scheme::build(c, cx).map(Built::plugin),
            Self::RedirectRegex(c) => redirect_regex::build(c, cx).map(Built::plugin),
            Self::Headers(c) => headers::build(c, cx).map(Built::plugin),
            Self::RateLimit(c) => rate_limit::build(c, cx).map(Built::plugin),
            Self::BasicAuth(c) => basic_auth::build(c, cx).map(Built::plugin),
            Self::IpAllowList(c) => ip_allow_list::build(c, cx).map(Built::plugin),
            Self::InFlightReq(c) => in_flight::build(c, cx).map(Built::plugin),
            Self::Retry(c) => retry::build(c, cx).map(Built::Retry),
            Self::Chain(c) => chain::build(c, cx).map(Built::Chain),
            Self::Buffering(c) => buffering::build(c, cx).map(Built::plugin),
            // `compress = false`: nothing runs.
            Self::Compress(Toggle::Flag(false)) => Ok(Built::Chain(Vec::new())),
            Self::Compress(c) => {
                compress::build(c.options().unwrap_or(&Default::default()), cx).map(Built::plugin)
            }
            Self::Errors(c) => errors::build(c, cx).map(Built::ErrorPages),
            Self::ForwardAuth(c) => forward_auth::build(c, cx).map(Built::plugin),
            Self::CircuitBreaker(c) => circuit_breaker::build(c, cx).map(Built::plugin),
            Self::ContentType(c) => content_type::build(c, cx).map(Built::plugin),
            Self::GrpcWeb(c) => grpc_web::build(c, cx).map(Built::plugin),
            Self::DigestAuth(c) => digest_auth::build(c, cx).map(Built::plugin),
            Self::PassTlsClientCert(c) => pass_tls_client_cert::build(c, cx).map(Built::plugin),
            Self::Plugin(_) => Err(one_type::not_supported_yet(self.kind(), cx)),
        }
    }
}

/// Reads a file a middleware's key names, with [`crate::config::key_file`]'s rules.
pub fn read_key_file(path: &str) -> Result<String, String> {
    super::key_file::read_key_file_to_string(path).map_err(|e| e.to_string())
}
