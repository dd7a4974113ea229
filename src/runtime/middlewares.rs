//! Compiles `http.middlewares` into plugin instances (one per middleware, shared by routers)
//! and the per-route settings some middlewares are (the retry policy).

mod basic_auth;
mod chain;
mod compress;
pub mod errors;
mod headers;
mod ip_allow_list;
mod rate_limit;

use super::compile::CompileError;
use super::services::local_name;
use super::snapshot::RetryPolicy;
use crate::config::dynamic::MiddlewareConfig;
use crate::config::middlewares::build_cx;
use crate::config::middlewares::{InFlightReqConfig, SourceCriterion as SourceConfig};
use crate::config::DynamicConfig;
use crate::upstream::Balancer;
use pylon_plugins::{
    add_prefix, buffering, redirect_regex, redirect_scheme, replace_path, replace_path_regex,
    strip_prefix, strip_prefix_regex, BuildResult, InFlightReq, Plugin, SourceCriterion,
};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

/// A compiled middleware.
#[derive(Clone)]
pub enum Built {
    /// Runs in the request's chain.
    Plugin(Arc<dyn Plugin>),
    /// Changes how the proxy retries failed attempts.
    Retry(RetryPolicy),
    /// A `chain`: its members' names, expanded in place by `resolve`.
    Chain(Vec<String>),
    /// `errors`: custom error pages from a service.
    Errors(Arc<errors::ErrorPages>),
}

/// A router's middlewares, resolved: the chain in order, and the retry policy if any.
#[derive(Clone, Default)]
pub struct Resolved {
    pub chain: Vec<Arc<dyn Plugin>>,
    pub retry: Option<RetryPolicy>,
    /// `errors` middlewares, in chain order.
    pub error_pages: Vec<Arc<errors::ErrorPages>>,
}

/// Every middleware of the config, by name.
/// `services` are the config's compiled services (the `errors` middleware uses one).
pub fn build_middlewares(
    dynamic: &DynamicConfig,
    services: &HashMap<String, Balancer>,
) -> (HashMap<String, Built>, Vec<CompileError>) {
    let mut built = HashMap::new();
    let mut errors = Vec::new();
    for (name, mw) in &dynamic.http.middlewares {
        match build(name, mw, services) {
            Ok(b) => {
                built.insert(name.clone(), b);
            }
            Err(e) => errors.push(e),
        }
    }
    (built, errors)
}

/// Resolves middleware names (in order) into a chain; unknown names are reported at `key`.
pub fn resolve(
    built: &HashMap<String, Built>,
    names: &[String],
    key: &str,
    into: &mut Resolved,
    errors: &mut Vec<CompileError>,
) {
    for mw in names {
        match built.get(local_name(mw)) {
            Some(Built::Plugin(p)) => into.chain.push(p.clone()),
            Some(Built::Retry(r)) => into.retry = Some(r.clone()),
            Some(Built::Errors(p)) => into.error_pages.push(p.clone()),
            Some(Built::Chain(members)) => chain::expand(built, mw, members, key, into, errors),
            None => errors.push(CompileError {
                key_path: key.to_string(),
                message: format!("middleware `{mw}` does not exist"),
            }),
        }
    }
}

/// Builds one middleware: the one `match` over every type.
fn build(
    name: &str,
    mw: &MiddlewareConfig,
    services: &HashMap<String, Balancer>,
) -> Result<Built, CompileError> {
    let cx = build_cx(name);
    match mw {
        MiddlewareConfig::StripPrefix(c) => plugin(strip_prefix::build(c, &cx)),
        MiddlewareConfig::Retry(r) => Ok(Built::Retry(RetryPolicy {
            attempts: r.attempts.unwrap_or(1).clamp(1, 64) as u32,
            initial_interval: r
                .initial_interval
                .map_or(Duration::from_millis(100), |d| d.get()),
        })),
        MiddlewareConfig::InFlightReq(f) => in_flight(name, f).map(|p| Built::Plugin(Arc::new(p))),
        MiddlewareConfig::RedirectScheme(c) => plugin(redirect_scheme::build(c, &cx)),
        MiddlewareConfig::RedirectRegex(c) => plugin(redirect_regex::build(c, &cx)),
        MiddlewareConfig::AddPrefix(c) => plugin(add_prefix::build(c, &cx)),
        MiddlewareConfig::ReplacePath(c) => plugin(replace_path::build(c, &cx)),
        MiddlewareConfig::ReplacePathRegex(c) => plugin(replace_path_regex::build(c, &cx)),
        MiddlewareConfig::StripPrefixRegex(c) => plugin(strip_prefix_regex::build(c, &cx)),
        MiddlewareConfig::IpAllowList(c) => ip_allow_list::build(name, c),
        MiddlewareConfig::Chain(c) => chain::build(name, c),
        MiddlewareConfig::RateLimit(r) => rate_limit::build(name, r),
        MiddlewareConfig::BasicAuth(c) => basic_auth::build(name, c),
        MiddlewareConfig::Headers(c) => headers::build(name, c),
        MiddlewareConfig::Buffering(c) => plugin(buffering::build(c, &cx)),
        MiddlewareConfig::Compress(c) => compress::build(name, c),
        MiddlewareConfig::Errors(c) => errors::build(name, c, services),
        MiddlewareConfig::DigestAuth(_)
        | MiddlewareConfig::ForwardAuth(_)
        | MiddlewareConfig::CircuitBreaker(_)
        | MiddlewareConfig::GrpcWeb(_)
        | MiddlewareConfig::ContentType(_)
        | MiddlewareConfig::PassTlsClientCert(_)
        | MiddlewareConfig::Plugin(_) => Err(CompileError {
            key_path: format!("http.middlewares.{name}.{}", mw.kind()),
            message: "this middleware type is not supported yet".to_string(),
        }),
    }
}

/// A plugin's build, as a compiled middleware (validation reported its problems before).
fn plugin<P: Plugin>(result: BuildResult<P>) -> Result<Built, CompileError> {
    match result {
        Ok(p) => Ok(Built::Plugin(Arc::new(p))),
        Err(problems) => Err(problems.into_iter().next().map_or_else(
            || CompileError {
                key_path: String::new(),
                message: "the middleware could not be built".to_string(),
            },
            |p| CompileError {
                key_path: p.key_path,
                message: p.message,
            },
        )),
    }
}

fn in_flight(name: &str, f: &InFlightReqConfig) -> Result<InFlightReq, CompileError> {
    let amount = u32::try_from(f.amount.unwrap_or(1).max(1)).unwrap_or(u32::MAX);
    let source = source_criterion(f.source_criterion.as_ref()).map_err(|message| CompileError {
        key_path: format!("http.middlewares.{name}.inFlightReq.sourceCriterion"),
        message,
    })?;
    Ok(InFlightReq::new(amount, source))
}

/// Traefik's precedence: `requestHeaderName`, then `requestHost`, then `ipStrategy`.
pub fn source_criterion(c: Option<&SourceConfig>) -> Result<SourceCriterion, String> {
    let Some(c) = c else {
        return Ok(SourceCriterion::ClientIp);
    };
    if let Some(h) = c.request_header_name.as_ref().filter(|h| !h.is_empty()) {
        let name = http::HeaderName::try_from(h.as_str())
            .map_err(|_| format!("`{h}` is not a header name"))?;
        return Ok(SourceCriterion::Header(name));
    }
    if c.request_host == Some(true) {
        return Ok(SourceCriterion::Host);
    }
    match &c.ip_strategy {
        Some(s) if s.depth.unwrap_or(0) > 0 || !s.excluded_ips.is_empty() => {
            let excluded = s
                .excluded_ips
                .iter()
                .map(|e| {
                    e.parse()
                        .map_err(|_| format!("`{e}` in ipStrategy.excludedIPs is not an IP"))
                })
                .collect::<Result<Vec<_>, _>>()?;
            Ok(SourceCriterion::ForwardedDepth {
                depth: s.depth.unwrap_or(1).max(1) as usize,
                excluded,
                ipv6_subnet: ipv6_subnet(s.ipv6_subnet)?,
            })
        }
        Some(s) => Ok(match ipv6_subnet(s.ipv6_subnet)? {
            Some(bits) => SourceCriterion::ClientIpSubnet { ipv6_subnet: bits },
            None => SourceCriterion::ClientIp,
        }),
        None => Ok(SourceCriterion::ClientIp),
    }
}

/// `ipStrategy.ipv6Subnet`: unset or 0 means whole addresses (Traefik ignores 0).
fn ipv6_subnet(bits: Option<i64>) -> Result<Option<u8>, String> {
    match bits {
        None | Some(0) => Ok(None),
        Some(b) => u8::try_from(b)
            .ok()
            .filter(|b| *b <= 128)
            .map(Some)
            .ok_or_else(|| format!("ipStrategy.ipv6Subnet {b} is not between 0 and 128")),
    }
}
