//! The `ipAllowList` middleware: refuses clients whose IP is outside the allowed ranges.
//! Settings (Traefik's keys), their checks and the plugin, in one place.

use crate::build::{BuildCx, BuildResult, Problems};
use crate::source_config::{parse_net, IpStrategyConfig};
use crate::{Flow, Plugin, PluginCtx, Reply};
use async_trait::async_trait;
use bytes::Bytes;
use http::StatusCode;
use ipnet::{IpNet, Ipv6Net};
use pingora_error::Result;
use pingora_http::RequestHeader;
use pingora_proxy::Session;
use serde::{Deserialize, Serialize};
use std::net::{IpAddr, SocketAddr};

/// Traefik's `ipAllowList`: `sourceRange`, `ipStrategy`, `rejectStatusCode` (default 403).
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Config {
    /// Allowed IPs and CIDR ranges.
    #[serde(default)]
    pub source_range: Vec<String>,
    /// How the client IP is taken (default: the connection's peer).
    pub ip_strategy: Option<IpStrategyConfig>,
    /// Status of the refusal (default 403).
    pub reject_status_code: Option<i64>,
}

/// Checks the ranges, the reject status and the ipStrategy, and builds the plugin.
pub fn build(cfg: &Config, cx: &BuildCx) -> BuildResult<IpAllowList> {
    let mut problems = Problems::new(cx, "ipAllowList");
    if cfg.source_range.is_empty() {
        problems.push(
            "sourceRange",
            "is empty: every request would be refused",
            Some("list the allowed IPs or CIDR ranges, e.g. [\"10.0.0.0/8\"]".into()),
        );
    }
    let mut ranges = Vec::with_capacity(cfg.source_range.len());
    for (i, range) in cfg.source_range.iter().enumerate() {
        match parse_net(range) {
            Ok(net) => ranges.push(net),
            Err(e) => problems.push(&format!("sourceRange[{i}]"), e, None),
        }
    }
    let code = cfg.reject_status_code.filter(|c| *c != 0).unwrap_or(403);
    let reject = u16::try_from(code)
        .ok()
        .and_then(|c| StatusCode::from_u16(c).ok())
        .filter(|s| s.canonical_reason().is_some());
    if reject.is_none() {
        problems.push(
            "rejectStatusCode",
            format!("{code} is not an HTTP status code"),
            Some("e.g. rejectStatusCode = 404 (default 403)".into()),
        );
    }
    let strategy = strategy(cfg.ip_strategy.as_ref(), &mut problems);
    match (reject, strategy) {
        (Some(reject), Some(strategy)) if problems.is_empty() => {
            Ok(IpAllowList::new(ranges, strategy, reject))
        }
        _ => Err(problems.into_errors()),
    }
}

/// Traefik's precedence: `depth` > 0, else `excludedIPs`, else the peer (with `ipv6Subnet`).
fn strategy(cfg: Option<&IpStrategyConfig>, problems: &mut Problems) -> Option<IpStrategy> {
    let Some(cfg) = cfg else {
        return Some(IpStrategy::Peer { ipv6_subnet: None });
    };
    let depth = cfg.depth.unwrap_or(0);
    if depth < 0 {
        problems.push(
            "ipStrategy.depth",
            format!("depth {depth} is negative"),
            Some("1 is the rightmost X-Forwarded-For entry".into()),
        );
    }
    let mut excluded = Vec::with_capacity(cfg.excluded_ips.len());
    for (i, ip) in cfg.excluded_ips.iter().enumerate() {
        match parse_net(ip) {
            Ok(net) => excluded.push(net),
            Err(e) => problems.push(&format!("ipStrategy.excludedIPs[{i}]"), e, None),
        }
    }
    let ipv6_subnet = match cfg.ipv6_subnet {
        None => None,
        Some(bits) => match u8::try_from(bits).ok().filter(|b| *b <= 128) {
            Some(bits) => Some(bits),
            None => {
                problems.push(
                    "ipStrategy.ipv6Subnet",
                    format!("{bits} is not a prefix length between 0 and 128"),
                    None,
                );
                return None;
            }
        },
    };
    Some(match depth {
        d if d > 0 => IpStrategy::Depth {
            depth: usize::try_from(d).unwrap_or(usize::MAX),
            ipv6_subnet,
        },
        _ if !excluded.is_empty() => IpStrategy::Excluding(excluded),
        _ => IpStrategy::Peer { ipv6_subnet },
    })
}

/// How the client IP is taken (Traefik's `ipStrategy`, in its precedence order).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IpStrategy {
    /// The client IP pylon trusts (the default); IPv6 reduced to its `/n` subnet if set.
    Peer { ipv6_subnet: Option<u8> },
    /// The `depth`-th `X-Forwarded-For` entry from the right (1 = rightmost); too few: none.
    Depth {
        depth: usize,
        ipv6_subnet: Option<u8>,
    },
    /// The rightmost `X-Forwarded-For` entry outside `excluded`; none left: none.
    Excluding(Vec<IpNet>),
}

impl IpStrategy {
    /// The client IP of `req`, or `None` when the strategy finds none (the request is refused).
    pub fn client_ip(&self, req: &RequestHeader, peer: IpAddr) -> Option<IpAddr> {
        match self {
            IpStrategy::Peer { ipv6_subnet } => Some(subnet(canonical(peer), *ipv6_subnet)),
            IpStrategy::Depth { depth, ipv6_subnet } => {
                let entries = forwarded_for(req);
                let i = entries.len().checked_sub(*depth)?;
                parse_ip(entries.get(i)?).map(|ip| subnet(ip, *ipv6_subnet))
            }
            IpStrategy::Excluding(excluded) => {
                for entry in forwarded_for(req).iter().rev() {
                    let ip = parse_ip(entry)?;
                    if !excluded.iter().any(|n| n.contains(&ip)) {
                        return Some(ip);
                    }
                }
                None
            }
        }
    }
}

/// Every `X-Forwarded-For` entry, all header lines joined in order, empty entries skipped.
fn forwarded_for(req: &RequestHeader) -> Vec<&str> {
    req.headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect()
}

/// An address as written in `X-Forwarded-For` (`ip`, or `ip:port` / `[ip]:port`).
fn parse_ip(entry: &str) -> Option<IpAddr> {
    entry
        .parse::<IpAddr>()
        .or_else(|_| entry.parse::<SocketAddr>().map(|s| s.ip()))
        .ok()
        .map(canonical)
}

/// `::ffff:a.b.c.d` is `a.b.c.d`.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(ip),
        v4 => v4,
    }
}

/// An IPv6 address reduced to the first address of its `/bits` subnet.
fn subnet(ip: IpAddr, bits: Option<u8>) -> IpAddr {
    match (ip, bits) {
        (IpAddr::V6(v6), Some(bits)) => {
            Ipv6Net::new(v6, bits.min(128)).map_or(ip, |n| IpAddr::V6(n.network()))
        }
        _ => ip,
    }
}

/// Admits requests whose client IP is in one of `ranges`; answers the others itself.
#[derive(Debug, Clone)]
pub struct IpAllowList {
    ranges: Vec<IpNet>,
    strategy: IpStrategy,
    reject: StatusCode,
}

impl IpAllowList {
    pub fn new(ranges: Vec<IpNet>, strategy: IpStrategy, reject: StatusCode) -> Self {
        IpAllowList {
            ranges,
            strategy,
            reject,
        }
    }

    /// Whether a request with this client IP may pass.
    pub fn allows(&self, ip: Option<IpAddr>) -> bool {
        ip.is_some_and(|ip| self.ranges.iter().any(|n| n.contains(&ip)))
    }
}

#[async_trait]
impl Plugin for IpAllowList {
    fn kind(&self) -> &'static str {
        "ipAllowList"
    }

    async fn request_filter(&self, session: &mut Session, cx: &mut PluginCtx) -> Result<Flow> {
        let ip = self.strategy.client_ip(session.req_header(), cx.client_ip);
        if self.allows(ip) {
            return Ok(Flow::Continue);
        }
        let mut reply = Reply::text(self.reject, "");
        reply.body = Bytes::from_static(self.reject.canonical_reason().unwrap_or("").as_bytes());
        Ok(Flow::Respond(reply))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn built(text: &str) -> BuildResult<IpAllowList> {
        build(&toml::from_str(text).unwrap(), &crate::build::test_cx())
    }

    fn error_keys(text: &str) -> Vec<String> {
        built(text)
            .err()
            .unwrap_or_default()
            .into_iter()
            .map(|e| e.key_path)
            .collect()
    }

    #[test]
    fn every_bad_setting_is_named_by_its_key() {
        let key = "http.middlewares.m.ipAllowList";
        assert_eq!(error_keys(""), [format!("{key}.sourceRange")]);
        assert_eq!(
            error_keys(
                "sourceRange = [\"10.0.0.0/8\", \"nope\"]\nrejectStatusCode = 999\n\
                 [ipStrategy]\ndepth = -1\nexcludedIPs = [\"x\"]\nipv6Subnet = 129\n"
            ),
            [
                format!("{key}.sourceRange[1]"),
                format!("{key}.rejectStatusCode"),
                format!("{key}.ipStrategy.depth"),
                format!("{key}.ipStrategy.excludedIPs[0]"),
                format!("{key}.ipStrategy.ipv6Subnet"),
            ]
        );
    }

    #[test]
    fn the_strategy_follows_traefiks_precedence() {
        let s = |text: &str| built(&format!("sourceRange = [\"10.0.0.0/8\"]\n{text}")).unwrap();
        assert_eq!(
            s("[ipStrategy]\ndepth = 2\nexcludedIPs = [\"1.2.3.4\"]\n").strategy,
            IpStrategy::Depth {
                depth: 2,
                ipv6_subnet: None
            }
        );
        assert!(matches!(
            s("[ipStrategy]\nexcludedIPs = [\"1.2.3.4\"]\n").strategy,
            IpStrategy::Excluding(_)
        ));
        assert_eq!(
            s("[ipStrategy]\nipv6Subnet = 64\n").strategy,
            IpStrategy::Peer {
                ipv6_subnet: Some(64)
            }
        );
        assert_eq!(s("").reject, StatusCode::FORBIDDEN);
    }

    fn req(xff: &[&str]) -> RequestHeader {
        let mut r = RequestHeader::build("GET", b"/", None).unwrap();
        for v in xff {
            r.append_header("x-forwarded-for", *v).unwrap();
        }
        r
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn list(ranges: &[&str], strategy: IpStrategy) -> IpAllowList {
        let ranges = ranges.iter().map(|r| r.parse().unwrap()).collect();
        IpAllowList::new(ranges, strategy, StatusCode::FORBIDDEN)
    }

    #[test]
    fn the_peer_is_checked_against_the_ranges() {
        let l = list(
            &["10.0.0.0/8", "192.168.1.7/32"],
            IpStrategy::Peer { ipv6_subnet: None },
        );
        let r = req(&["10.1.1.1"]);
        let check = |peer: &str| l.allows(l.strategy.client_ip(&r, ip(peer)));
        assert!(check("10.2.3.4"));
        assert!(check("::ffff:10.2.3.4"));
        assert!(check("192.168.1.7"));
        assert!(!check("192.168.1.8"));
        assert!(!check("127.0.0.1"), "X-Forwarded-For is ignored by default");
    }

    #[test]
    fn depth_counts_from_the_right_over_every_header_line() {
        let r = req(&["1.1.1.1, 2.2.2.2", "3.3.3.3:4711"]);
        let peer = ip("127.0.0.1");
        let d = |depth| IpStrategy::Depth {
            depth,
            ipv6_subnet: None,
        };
        assert_eq!(d(1).client_ip(&r, peer), Some(ip("3.3.3.3")));
        assert_eq!(d(3).client_ip(&r, peer), Some(ip("1.1.1.1")));
        assert_eq!(d(4).client_ip(&r, peer), None, "too few entries: refused");
        assert_eq!(d(1).client_ip(&req(&["junk"]), peer), None);
    }

    #[test]
    fn excluded_ips_are_skipped_from_the_right() {
        let r = req(&["1.1.1.1, 10.0.0.2, 10.0.0.3"]);
        let ex = IpStrategy::Excluding(vec!["10.0.0.0/8".parse().unwrap()]);
        assert_eq!(ex.client_ip(&r, ip("127.0.0.1")), Some(ip("1.1.1.1")));
        assert_eq!(ex.client_ip(&req(&["10.0.0.1"]), ip("127.0.0.1")), None);
    }

    #[test]
    fn ipv6_subnet_reduces_the_address() {
        let s = IpStrategy::Peer {
            ipv6_subnet: Some(64),
        };
        assert_eq!(
            s.client_ip(&req(&[]), ip("2001:db8:1:2:3:4:5:6")),
            Some(ip("2001:db8:1:2::"))
        );
        assert_eq!(s.client_ip(&req(&[]), ip("1.2.3.4")), Some(ip("1.2.3.4")));
    }

    #[test]
    fn no_ip_is_never_allowed() {
        assert!(!list(&["0.0.0.0/0"], IpStrategy::Peer { ipv6_subnet: None }).allows(None));
    }
}
