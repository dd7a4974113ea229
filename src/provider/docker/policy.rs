//! pylon's label trust policy: what a container's labels may reach (`@internal` services,
//! server addresses, files), checked once per container when the provider builds its part.
//!
//! Traefik trusts every label as it trusts its own file. pylon treats a label as written by
//! whoever can start a container: by default a label may not name an `@internal` service
//! (`api@internal` would publish the API), may point servers only at the container's own
//! addresses (no `url=http://127.0.0.1:2375` to reach the host's loopback services), and may
//! not name files (`usersFile=/etc/shadow`, `certFile=/dev/zero`). The operator widens each
//! with a `[providers.docker]` key; [`LabelPolicy::traefik`] is Traefik's behaviour.

use super::inspect::Inspected;
use crate::config::dynamic::DynamicConfig;
use crate::config::labels::LabelError;
use ipnet::IpNet;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::PathBuf;

/// `[providers.docker]`'s policy keys, checked.
#[derive(Debug, Clone, Default)]
pub struct LabelPolicy {
    /// `allowedInternalServices`: the `@internal` services a label may name (lower case).
    pub internal_services: Vec<String>,
    /// `allowedServerAddresses`: where label servers may point besides the container itself.
    pub server_addresses: ServerAddresses,
    /// `allowedPaths`: directories (canonical) whose files labels may name.
    pub paths: Vec<PathBuf>,
    /// `allowSharedNames`: any containers may define the same router or service name (Traefik
    /// merges them); else only replicas of one compose service may.
    pub shared_names: bool,
}

/// Where a label's server URL may point.
#[derive(Debug, Clone, Default)]
pub enum ServerAddresses {
    /// The container's own addresses and these networks.
    #[default]
    OwnAnd,
    Listed(Vec<IpNet>),
    /// `"*"`: anything, host names included (Traefik).
    Any,
}

impl LabelPolicy {
    /// Traefik's behaviour: labels are trusted like the file.
    pub fn traefik() -> LabelPolicy {
        LabelPolicy {
            internal_services: vec!["*".into()],
            server_addresses: ServerAddresses::Any,
            paths: vec![PathBuf::from("/")],
            shared_names: true,
        }
    }
}

/// Every refusal of `c`'s labels (its built `config`) under `p`, each naming the label.
pub fn check(c: &Inspected, config: &DynamicConfig, p: &LabelPolicy) -> Vec<LabelError> {
    let mut errors = Vec::new();
    let name = &c.info.name;
    for (key, value) in provider_labels(c) {
        for item in value.split(',').map(str::trim) {
            let lower = item.to_ascii_lowercase();
            if lower.ends_with("@internal") && !allowed_internal(p, &lower) {
                errors.push(
                    LabelError::new(name, Some(key), format!(
                        "containers may not use `{item}`: labels can only name the @internal services the operator allows"
                    ))
                    .with_hint(format!(
                        "serve it from the file provider, or allow it: [providers.docker] allowedInternalServices = [\"{lower}\"]"
                    )),
                );
            }
        }
        let last = key.rsplit('.').next().unwrap_or_default();
        if last.to_ascii_lowercase().ends_with("file") && !value.trim().is_empty() {
            if let Err(why) = allowed_path(p, value.trim()) {
                errors.push(
                    LabelError::new(name, Some(key), why).with_hint(
                        "allow the directory: [providers.docker] allowedPaths = [\"/etc/pylon/labels\"]",
                    ),
                );
            }
        }
    }
    for (service, s) in &config.http.services {
        let Some(lb) = &s.load_balancer else { continue };
        for server in lb.servers.iter().chain(lb.server.iter()) {
            if let Err(why) = allowed_server(c, p, &server.url) {
                let label = label_with_value(c, &server.url);
                errors.push(
                    LabelError::new(name, label, format!("service `{service}`: {why}")).with_hint(
                        "point the server at the container itself, or allow the network: \
                         [providers.docker] allowedServerAddresses = [\"10.0.0.0/8\"] (\"*\": anything, as Traefik)",
                    ),
                );
            }
        }
    }
    errors
}

/// The container's `traefik.*` / `pylon.*` labels.
fn provider_labels(c: &Inspected) -> impl Iterator<Item = (&str, &str)> {
    c.info.labels.iter().filter_map(|(k, v)| {
        let head = k.split('.').next().unwrap_or_default();
        (head.eq_ignore_ascii_case("traefik") || head.eq_ignore_ascii_case("pylon"))
            .then_some((k.as_str(), v.as_str()))
    })
}

fn label_with_value<'c>(c: &'c Inspected, value: &str) -> Option<&'c str> {
    provider_labels(c)
        .find(|(_, v)| v.trim() == value)
        .map(|(k, _)| k)
}

fn allowed_internal(p: &LabelPolicy, service: &str) -> bool {
    p.internal_services.iter().any(|s| s == "*" || s == service)
}

fn allowed_path(p: &LabelPolicy, path: &str) -> Result<(), String> {
    if p.paths.is_empty() {
        return Err(format!(
            "labels may not name files (`{path}`): no directory is allowed to them"
        ));
    }
    let canonical = std::fs::canonicalize(path)
        .map_err(|_| format!("`{path}` does not exist or cannot be resolved"))?;
    if p.paths.iter().any(|dir| canonical.starts_with(dir)) {
        Ok(())
    } else {
        Err(format!(
            "`{path}` is outside the directories labels may name files in"
        ))
    }
}

fn allowed_server(c: &Inspected, p: &LabelPolicy, url: &str) -> Result<(), String> {
    if matches!(p.server_addresses, ServerAddresses::Any) || url.is_empty() {
        return Ok(());
    }
    let host = url
        .parse::<http::Uri>()
        .ok()
        .and_then(|u| u.host().map(str::to_string))
        .ok_or_else(|| format!("server URL `{url}` has no host"))?;
    let Ok(ip) = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .parse::<IpAddr>()
    else {
        return Err(format!(
            "server URL `{url}` names a host, not one of the container's addresses"
        ));
    };
    let own = own_addresses(c).any(|a| a == ip);
    let listed = match &p.server_addresses {
        ServerAddresses::Listed(nets) => nets.iter().any(|n| n.contains(&ip)),
        _ => false,
    };
    if own || listed {
        Ok(())
    } else {
        Err(format!(
            "server URL `{url}` points at {ip}, which is not the container's own address"
        ))
    }
}

/// The container's addresses: its networks' IPs, its published bindings, and loopback when it
/// shares the host's network (its own address is then the host's).
fn own_addresses(c: &Inspected) -> impl Iterator<Item = IpAddr> + '_ {
    let loopback = c.info.host_network.then_some([
        IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(Ipv6Addr::LOCALHOST),
    ]);
    c.addresses
        .iter()
        .copied()
        .chain(c.info.ip)
        .chain(c.info.port_bindings.values().map(|a| a.ip()))
        .chain(loopback.into_iter().flatten())
}
