//! A container as the Docker engine describes it (`GET /containers/{id}/json`) → the facts the
//! label rules need ([`ContainerInfo`]): name, labels, ports, health, and the IP on the network
//! chosen by `traefik.docker.network`, else `providers.docker.network`, else the first by name.

use crate::config::labels::{docker_network, ContainerInfo};
use bollard::models::ContainerInspectResponse;
use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

/// The provider settings inspection depends on.
#[derive(Debug, Clone, Default)]
pub struct InspectSettings {
    /// `providers.docker.network`.
    pub network: Option<String>,
    /// `providers.docker.useBindPortIP`.
    pub use_bind_port_ip: bool,
}

/// What one inspected container is to the provider.
#[derive(Debug, Clone)]
pub struct Inspected {
    pub id: String,
    /// Running and not paused: only such containers are routed to.
    pub serving: bool,
    pub info: ContainerInfo,
    /// A note for the log (e.g. the named network is not one the container is on).
    pub warning: Option<String>,
    /// Every IP the container has on its networks (the label policy's "own addresses").
    pub addresses: Vec<IpAddr>,
    /// When the engine created it (RFC 3339, fraction padded to nanoseconds so the text sorts
    /// by time): the earlier container keeps a name two containers define.
    pub created: String,
}

/// Reads the facts of one container.
pub fn inspected(c: &ContainerInspectResponse, settings: &InspectSettings) -> Inspected {
    let name = c
        .name
        .as_deref()
        .unwrap_or_default()
        .trim_start_matches('/')
        .to_string();
    let labels: BTreeMap<String, String> = c
        .config
        .as_ref()
        .and_then(|cfg| cfg.labels.clone())
        .unwrap_or_default()
        .into_iter()
        .collect();
    let state = c.state.as_ref();
    let serving = state.and_then(|s| s.running).unwrap_or(false)
        && !state.and_then(|s| s.paused).unwrap_or(false);
    let health = state
        .and_then(|s| s.health.as_ref())
        .and_then(|h| h.status)
        .map(|s| s.to_string())
        .filter(|s| !s.is_empty());
    let host_network = c
        .host_config
        .as_ref()
        .and_then(|h| h.network_mode.as_deref())
        .is_some_and(|m| m == "host");
    let wanted = docker_network(&labels).or_else(|| settings.network.clone());
    let (ip, warning) = if host_network {
        (None, None)
    } else {
        pick_ip(c, wanted.as_deref(), &labels, &name)
    };
    let info = ContainerInfo {
        service_name: labels.get("com.docker.compose.service").cloned(),
        ports: ports(c),
        port_bindings: if settings.use_bind_port_ip {
            port_bindings(c)
        } else {
            BTreeMap::new()
        },
        host_network,
        ip,
        health,
        labels,
        name,
    };
    Inspected {
        id: c.id.clone().unwrap_or_default(),
        serving,
        info,
        warning,
        addresses: network_addresses(c),
        created: sortable_time(c.created.as_deref().unwrap_or_default()),
    }
}

/// Exposed ports (TCP), from the image's `ExposedPorts` and the published `Ports`, sorted.
fn ports(c: &ContainerInspectResponse) -> Vec<u16> {
    let exposed = c
        .config
        .as_ref()
        .and_then(|cfg| cfg.exposed_ports.clone())
        .unwrap_or_default();
    let published = c
        .network_settings
        .as_ref()
        .and_then(|n| n.ports.as_ref())
        .map(|p| p.keys().cloned().collect::<Vec<_>>())
        .unwrap_or_default();
    let mut ports: Vec<u16> = exposed
        .iter()
        .chain(published.iter())
        .filter_map(|spec| tcp_port(spec))
        .collect();
    ports.sort_unstable();
    ports.dedup();
    ports
}

/// `80/tcp` → 80; other protocols → none.
fn tcp_port(spec: &str) -> Option<u16> {
    let (port, proto) = spec.split_once('/').unwrap_or((spec, "tcp"));
    if proto.eq_ignore_ascii_case("tcp") {
        port.parse().ok()
    } else {
        None
    }
}

/// Every IPv4 and IPv6 address of the container on its networks.
fn network_addresses(c: &ContainerInspectResponse) -> Vec<IpAddr> {
    let Some(nets) = c
        .network_settings
        .as_ref()
        .and_then(|n| n.networks.as_ref())
    else {
        return Vec::new();
    };
    nets.values()
        .flat_map(|e| [e.ip_address.as_deref(), e.global_ipv6_address.as_deref()])
        .filter_map(|ip| ip.and_then(|ip| ip.parse().ok()))
        .collect()
}

/// Docker's `2026-12-03T08:11:30.12Z` with the fraction padded to nine digits, so that two
/// such texts compare as their times do.
fn sortable_time(created: &str) -> String {
    let (base, rest) = created
        .split_once('.')
        .unwrap_or((created.trim_end_matches('Z'), "Z"));
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    let zone = &rest[digits.len()..];
    format!("{base}.{digits:0<9}{zone}")
}

/// Container port → the host address it is published on (`useBindPortIP`); an unspecified
/// host IP (`0.0.0.0`) means this host, reached on loopback.
fn port_bindings(c: &ContainerInspectResponse) -> BTreeMap<u16, SocketAddr> {
    let mut out = BTreeMap::new();
    let Some(map) = c.network_settings.as_ref().and_then(|n| n.ports.as_ref()) else {
        return out;
    };
    for (spec, bindings) in map {
        let Some(port) = tcp_port(spec) else { continue };
        let Some(binding) = bindings.as_ref().and_then(|b| b.first()) else {
            continue;
        };
        let Some(host_port) = binding.host_port.as_deref().and_then(|p| p.parse().ok()) else {
            continue;
        };
        let ip = binding
            .host_ip
            .as_deref()
            .and_then(|ip| ip.parse::<IpAddr>().ok())
            .filter(|ip| !ip.is_unspecified())
            .unwrap_or(IpAddr::V4(Ipv4Addr::LOCALHOST));
        out.insert(port, SocketAddr::new(ip, host_port));
    }
    out
}

/// The container's IP on the wanted network (its exact name, or compose's `<project>_<name>`),
/// else on the first network by name (with a warning when one was wanted).
fn pick_ip(
    c: &ContainerInspectResponse,
    wanted: Option<&str>,
    labels: &BTreeMap<String, String>,
    name: &str,
) -> (Option<IpAddr>, Option<String>) {
    let networks: BTreeMap<&String, Option<IpAddr>> = c
        .network_settings
        .as_ref()
        .and_then(|n| n.networks.as_ref())
        .map(|nets| {
            nets.iter()
                .map(|(net, endpoint)| {
                    let ip = endpoint
                        .ip_address
                        .as_deref()
                        .and_then(|ip| ip.parse().ok())
                        .or_else(|| {
                            endpoint
                                .global_ipv6_address
                                .as_deref()
                                .and_then(|ip| ip.parse().ok())
                        });
                    (net, ip)
                })
                .collect()
        })
        .unwrap_or_default();
    let first = || networks.values().find_map(|ip| *ip);
    let Some(wanted) = wanted.filter(|w| !w.is_empty()) else {
        return (first(), None);
    };
    let prefixed = labels
        .get("com.docker.compose.project")
        .map(|project| format!("{project}_{wanted}"));
    let found = networks
        .iter()
        .find(|(net, _)| net.as_str() == wanted || Some(net.as_str()) == prefixed.as_deref());
    match found {
        Some((_, ip)) => (*ip, None),
        None => (
            first(),
            Some(format!(
                "container {name:?} is not on network {wanted:?} (it is on: {}); using its first network",
                networks.keys().map(|n| n.as_str()).collect::<Vec<_>>().join(", ")
            )),
        ),
    }
}
