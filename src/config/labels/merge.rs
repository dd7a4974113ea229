//! Several containers' configs → one: replicas share their definitions, servers add up.
//!
//! Traefik's `provider.Merge` with `ResourceStrategyMerge` (pkg/provider/merge.go): containers
//! are taken in name order; a name defined by several containers must have the same definition
//! everywhere, except that load-balancer services add their servers together (deduplicated by
//! URL, `ServersLoadBalancer.Merge`). A name defined differently is reported and dropped
//! entirely, as Traefik drops it, so no container silently wins.

use super::LabelError;
use crate::config::dynamic::{DynamicConfig, ServiceConfig};
use crate::config::tcp::TcpServiceConfig;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Debug;

/// Merges each container's config (`(container name, config)`); conflicting definitions are
/// reported, one error per container that disagrees with the first definition.
pub fn merge_containers(
    mut parts: Vec<(String, DynamicConfig)>,
) -> (DynamicConfig, Vec<LabelError>) {
    parts.sort_by(|a, b| a.0.cmp(&b.0));
    let mut merged = DynamicConfig::default();
    let mut t = Tracker::default();
    for (container, part) in parts {
        let (http, tls, tcp) = (part.http, part.tls, part.tcp);
        let into = &mut merged;
        t.merge(
            "TCP router",
            &mut into.tcp.routers,
            tcp.routers,
            &container,
            same,
        );
        t.merge(
            "TCP middleware",
            &mut into.tcp.middlewares,
            tcp.middlewares,
            &container,
            same,
        );
        t.merge(
            "TCP service",
            &mut into.tcp.services,
            tcp.services,
            &container,
            merge_tcp_service,
        );
        t.merge(
            "router",
            &mut into.http.routers,
            http.routers,
            &container,
            same,
        );
        t.merge(
            "middleware",
            &mut into.http.middlewares,
            http.middlewares,
            &container,
            same,
        );
        t.merge(
            "service",
            &mut into.http.services,
            http.services,
            &container,
            merge_service,
        );
        t.merge(
            "servers transport",
            &mut into.http.servers_transports,
            http.servers_transports,
            &container,
            same,
        );
        t.merge(
            "TLS options",
            &mut into.tls.options,
            tls.options,
            &container,
            same,
        );
        t.merge(
            "TLS store",
            &mut into.tls.stores,
            tls.stores,
            &container,
            same,
        );
        for cert in tls.certificates {
            let known = into
                .tls
                .certificates
                .iter()
                .any(|c| c.cert_file == cert.cert_file && c.key_file == cert.key_file);
            if !known {
                into.tls.certificates.push(cert);
            }
        }
    }
    for (kind, name) in &t.conflicts {
        let _removed = match *kind {
            "router" => merged.http.routers.remove(name).is_some(),
            "middleware" => merged.http.middlewares.remove(name).is_some(),
            "service" => merged.http.services.remove(name).is_some(),
            "servers transport" => merged.http.servers_transports.remove(name).is_some(),
            "TCP router" => merged.tcp.routers.remove(name).is_some(),
            "TCP middleware" => merged.tcp.middlewares.remove(name).is_some(),
            "TCP service" => merged.tcp.services.remove(name).is_some(),
            "TLS options" => merged.tls.options.remove(name).is_some(),
            _ => merged.tls.stores.remove(name).is_some(),
        };
    }
    (merged, t.errors)
}

#[derive(Default)]
struct Tracker {
    /// The container that first defined each (kind, name).
    first: BTreeMap<(&'static str, String), String>,
    conflicts: BTreeSet<(&'static str, String)>,
    errors: Vec<LabelError>,
}

impl Tracker {
    fn merge<V>(
        &mut self,
        kind: &'static str,
        into: &mut BTreeMap<String, V>,
        from: BTreeMap<String, V>,
        container: &str,
        combine: fn(&mut V, V) -> bool,
    ) {
        for (name, value) in from {
            let key = (kind, name.clone());
            let Some(existing) = into.get_mut(&name) else {
                self.first.insert(key, container.to_string());
                into.insert(name, value);
                continue;
            };
            if combine(existing, value) {
                continue;
            }
            let first = self.first.get(&key).cloned().unwrap_or_default();
            self.conflicts.insert(key);
            self.errors.push(
                LabelError::new(
                    container,
                    None,
                    format!(
                        "{kind} `{name}` is defined differently by container {first:?}: \
                         neither definition is used"
                    ),
                )
                .with_hint(
                    "give every replica the same labels, or give the definitions different names",
                ),
            );
        }
    }
}

/// The model has no `PartialEq`: definitions are compared by their `Debug` form, which lists
/// every field (maps in key order), so equal forms mean equal definitions.
fn same<V: Debug>(a: &mut V, b: V) -> bool {
    format!("{a:?}") == format!("{b:?}")
}

/// Equal apart from the servers: the servers are added (deduplicated by URL).
fn merge_service(a: &mut ServiceConfig, b: ServiceConfig) -> bool {
    let (Some(lb_a), Some(lb_b)) = (&a.load_balancer, &b.load_balancer) else {
        return same(a, b);
    };
    let strip = |s: &ServiceConfig| {
        let mut s = s.clone();
        if let Some(lb) = s.load_balancer.as_mut() {
            lb.servers.clear();
        }
        format!("{s:?}")
    };
    if strip(a) != strip(&b) {
        return false;
    }
    let new: Vec<_> = lb_b
        .servers
        .iter()
        .filter(|s| !lb_a.servers.iter().any(|have| have.url == s.url))
        .cloned()
        .collect();
    if let Some(lb) = a.load_balancer.as_mut() {
        lb.servers.extend(new);
    }
    true
}

/// Equal apart from the servers: the servers are added (deduplicated by address).
fn merge_tcp_service(a: &mut TcpServiceConfig, b: TcpServiceConfig) -> bool {
    let (Some(lb_a), Some(lb_b)) = (&a.load_balancer, &b.load_balancer) else {
        return same(a, b);
    };
    let strip = |s: &TcpServiceConfig| {
        let mut s = s.clone();
        if let Some(lb) = s.load_balancer.as_mut() {
            lb.servers.clear();
        }
        format!("{s:?}")
    };
    if strip(a) != strip(&b) {
        return false;
    }
    let new: Vec<_> = lb_b
        .servers
        .iter()
        .filter(|s| !lb_a.servers.iter().any(|have| have.address == s.address))
        .cloned()
        .collect();
    if let Some(lb) = a.load_balancer.as_mut() {
        lb.servers.extend(new);
    }
    true
}
