//! Per-entry-point settings fixed at start: name, port, redirection, trusted forwarders, ping.

use ipnet::IpNet;
use std::net::IpAddr;

/// An HTTP → HTTPS (or other) redirection configured on an entry point.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Redirect {
    pub scheme: String,
    /// Port to put in the Location; `None` when it is the scheme's default.
    pub port: Option<u16>,
    pub permanent: bool,
}

/// The peers whose `X-Forwarded-*` headers pylon believes.
#[derive(Debug, Clone, Default)]
pub struct TrustedNets {
    pub nets: Vec<IpNet>,
    /// Trust every peer (`forwardedHeaders.insecure`).
    pub insecure: bool,
}

impl TrustedNets {
    pub fn trusts(&self, ip: IpAddr) -> bool {
        if self.insecure {
            return true;
        }
        let ip = canonical_ip(ip);
        self.nets.iter().any(|n| n.contains(&ip))
    }
}

/// `::ffff:a.b.c.d` is treated as `a.b.c.d`.
pub fn canonical_ip(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(ip),
        v4 => v4,
    }
}

/// A listening entry point as the proxy sees it.
#[derive(Debug, Clone)]
pub struct EntryPoint {
    pub name: String,
    /// Position in the Snapshot's tables.
    pub index: usize,
    pub port: u16,
    /// `port` as a header value (X-Forwarded-Port), made once.
    pub port_header: http::HeaderValue,
    pub redirect: Option<Redirect>,
    pub trusted: TrustedNets,
    /// `/ping` is answered here.
    pub ping: bool,
    /// What `/ping` (and `ping@internal`) answers while shutting down: `ping.terminatingStatusCode`,
    /// default 503.
    pub ping_terminating_status: http::StatusCode,
    /// Requests to pylon's own services (ping, API, dashboard, metrics, ACME challenges) are
    /// counted in the metrics (`metrics.addInternals`) and written to the access log
    /// (`accessLog.addInternals`); both default to false, as in Traefik.
    pub observe_internals: ObserveInternals,
    /// `/metrics` is served here (`[metrics.prometheus] entryPoint`).
    pub metrics: bool,
    /// The API (and the dashboard when on) is served here without a router (`api.insecure`).
    pub api: bool,
    /// `[api] dashboard` is on.
    pub dashboard: bool,
    /// `observability.accessLogs` / `.metrics`: this entry point's requests are logged/counted.
    pub observe_requests: ObserveRequests,
    /// `proxyProtocol`: PROXY headers read from these peers.
    pub proxy_protocol: Option<crate::listener::proxy_protocol::ProxyProtocol>,
    /// `allowACMEByPass`: challenge paths pylon is not solving go to the routers.
    pub allow_acme_bypass: bool,
    /// The peer is appended to `X-Forwarded-For` (off: `notAppendXForwardedFor`).
    pub append_forwarded_for: bool,
    /// Requests whose header block is larger get 431.
    pub max_header_bytes: usize,
    /// Encoded characters let through in paths (`http.encodedCharacters`).
    pub encoded: pylon_plugins::request_path::EncodedAllowed,
    /// Slow and greedy client bounds (`transport.respondingTimeouts`, keep-alive caps).
    pub clients: super::client_limits::ClientLimits,
}

/// Whether this entry point's requests are observed (`entryPoints.<n>.observability`).
#[derive(Debug, Clone, Copy)]
pub struct ObserveRequests {
    pub access_log: bool,
    pub metrics: bool,
}

/// Whether requests to internal services are observed (Traefik's `addInternals` keys).
#[derive(Debug, Clone, Copy, Default)]
pub struct ObserveInternals {
    pub metrics: bool,
    pub access_log: bool,
}

/// An entry point with the socket addresses it binds.
pub struct Listening {
    pub entrypoint: std::sync::Arc<EntryPoint>,
    pub binds: Vec<String>,
}

/// An IP address (as a one-address network) or a CIDR, IPv4-mapped IPv6 stored as IPv4.
pub fn parse_net(text: &str) -> Option<IpNet> {
    let text = text.trim();
    let net = match text.parse::<IpNet>() {
        Ok(net) => net,
        Err(_) => IpNet::from(text.parse::<IpAddr>().ok()?),
    };
    Some(match (canonical_ip(net.addr()), net) {
        (IpAddr::V4(v4), IpNet::V6(v6)) => {
            IpNet::new(IpAddr::V4(v4), v6.prefix_len().saturating_sub(96)).ok()?
        }
        _ => net,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trusts_cidrs_and_mapped_v4() {
        let t = TrustedNets {
            nets: vec!["10.0.0.0/8".parse().unwrap(), "::1/128".parse().unwrap()],
            insecure: false,
        };
        assert!(t.trusts("10.1.2.3".parse().unwrap()));
        assert!(t.trusts("::ffff:10.1.2.3".parse().unwrap()));
        assert!(t.trusts("::1".parse().unwrap()));
        assert!(!t.trusts("127.0.0.1".parse().unwrap()));
        let all = TrustedNets {
            nets: vec![],
            insecure: true,
        };
        assert!(all.trusts("1.2.3.4".parse().unwrap()));
    }
}
