//! The settings that say who a request comes from, shared by several middlewares: Traefik's
//! `sourceCriterion` (rateLimit, inFlightReq) and `ipStrategy` (those and ipAllowList), with
//! the conversion of a `sourceCriterion` into the [`SourceCriterion`] a limiter counts by.

use crate::source::SourceCriterion;
use serde::{Deserialize, Serialize};

/// Which requests count as "the same source" (Traefik's `sourceCriterion`).
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct SourceCriterionConfig {
    pub ip_strategy: Option<IpStrategyConfig>,
    pub request_header_name: Option<String>,
    pub request_host: Option<bool>,
}

/// How the client IP is taken from `X-Forwarded-For` (Traefik's `ipStrategy`).
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct IpStrategyConfig {
    pub depth: Option<i64>,
    #[serde(default, rename = "excludedIPs")]
    pub excluded_ips: Vec<String>,
    pub ipv6_subnet: Option<i64>,
}

/// An IP or CIDR ("10.0.0.0/8", "127.0.0.1", "::1").
pub fn parse_net(text: &str) -> Result<ipnet::IpNet, String> {
    let t = text.trim();
    t.parse::<ipnet::IpNet>()
        .or_else(|_| t.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
        .map_err(|_| {
            format!("`{text}` is neither an IP address nor a CIDR range (e.g. \"10.0.0.0/8\")")
        })
}

/// Traefik's precedence: `requestHeaderName`, then `requestHost`, then `ipStrategy`.
pub fn source_criterion(c: Option<&SourceCriterionConfig>) -> Result<SourceCriterion, String> {
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
                depth: usize::try_from(s.depth.unwrap_or(1).max(1)).unwrap_or(usize::MAX),
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

#[cfg(test)]
mod tests {
    use super::*;

    fn criterion(text: &str) -> Result<SourceCriterion, String> {
        let c: SourceCriterionConfig = toml::from_str(text).unwrap();
        source_criterion(Some(&c))
    }

    #[test]
    fn ipv6_subnet_becomes_the_source_key_grouping() {
        let s = criterion("[ipStrategy]\nipv6Subnet = 64\n").unwrap();
        assert_eq!(s, SourceCriterion::ClientIpSubnet { ipv6_subnet: 64 });
        let s = criterion("[ipStrategy]\ndepth = 1\nipv6Subnet = 56\n").unwrap();
        assert!(matches!(
            s,
            SourceCriterion::ForwardedDepth {
                ipv6_subnet: Some(56),
                ..
            }
        ));
        assert!(criterion("[ipStrategy]\nipv6Subnet = 129\n").is_err());
    }

    #[test]
    fn header_then_host_then_ip_strategy() {
        let s = criterion("requestHeaderName = \"x-user\"\nrequestHost = true\n").unwrap();
        assert!(matches!(s, SourceCriterion::Header(_)));
        assert_eq!(criterion("requestHost = true\n"), Ok(SourceCriterion::Host));
        assert!(criterion("requestHeaderName = \"a b\"\n").is_err());
        assert_eq!(source_criterion(None), Ok(SourceCriterion::ClientIp));
    }

    #[test]
    fn nets_accept_ips_and_cidrs() {
        assert!(parse_net("10.0.0.0/8").is_ok());
        assert!(parse_net("127.0.0.1").is_ok());
        assert!(parse_net("::1").is_ok());
        assert!(parse_net("nope").is_err());
    }
}
