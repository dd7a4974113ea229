//! Builds the `ipAllowList` plugin from its config (ranges, ipStrategy, reject status).

use super::Built;
use crate::config::address::parse_net;
use crate::config::middlewares::ip_allow_list::IpAllowListConfig;
use crate::config::middlewares::IpStrategy as IpStrategyConfig;
use crate::runtime::compile::CompileError;
use http::StatusCode;
use pylon_plugins::ip_allow_list::{IpAllowList, IpStrategy};
use std::sync::Arc;

pub fn build(name: &str, cfg: &IpAllowListConfig) -> Result<Built, CompileError> {
    let base = format!("http.middlewares.{name}.ipAllowList");
    let err = |key: String, message: String| CompileError {
        key_path: key,
        message,
    };
    if cfg.source_range.is_empty() {
        return Err(err(format!("{base}.sourceRange"), "is empty".to_string()));
    }
    let ranges = cfg
        .source_range
        .iter()
        .enumerate()
        .map(|(i, r)| parse_net(r).map_err(|e| err(format!("{base}.sourceRange[{i}]"), e)))
        .collect::<Result<Vec<_>, _>>()?;
    let strategy =
        strategy(cfg.ip_strategy.as_ref()).map_err(|e| err(format!("{base}.ipStrategy"), e))?;
    let code = cfg.reject_status_code.filter(|c| *c != 0).unwrap_or(403);
    let reject = u16::try_from(code)
        .ok()
        .and_then(|c| StatusCode::from_u16(c).ok())
        .filter(|s| s.canonical_reason().is_some())
        .ok_or_else(|| {
            err(
                format!("{base}.rejectStatusCode"),
                format!("invalid HTTP status code {code}"),
            )
        })?;
    Ok(Built::Plugin(Arc::new(IpAllowList::new(
        ranges, strategy, reject,
    ))))
}

/// Traefik's precedence: `depth` > 0, else `excludedIPs`, else the peer (with `ipv6Subnet`).
fn strategy(cfg: Option<&IpStrategyConfig>) -> Result<IpStrategy, String> {
    let Some(cfg) = cfg else {
        return Ok(IpStrategy::Peer { ipv6_subnet: None });
    };
    let ipv6_subnet = match cfg.ipv6_subnet {
        None => None,
        Some(bits) => Some(
            u8::try_from(bits)
                .ok()
                .filter(|b| *b <= 128)
                .ok_or_else(|| format!("ipv6Subnet {bits} is not between 0 and 128"))?,
        ),
    };
    match cfg.depth.unwrap_or(0) {
        d if d < 0 => Err(format!("depth {d} is negative")),
        d if d > 0 => Ok(IpStrategy::Depth {
            depth: usize::try_from(d).unwrap_or(usize::MAX),
            ipv6_subnet,
        }),
        _ if !cfg.excluded_ips.is_empty() => cfg
            .excluded_ips
            .iter()
            .map(|e| parse_net(e))
            .collect::<Result<Vec<_>, _>>()
            .map(IpStrategy::Excluding),
        _ => Ok(IpStrategy::Peer { ipv6_subnet }),
    }
}
