//! What a container's labels leave out: its default service and router, rules, links, servers.
//!
//! Traefik: pkg/provider/docker/config.go (`buildServiceConfiguration`, `addServer`,
//! `getIPPort`, shared.go `getPort`) and pkg/provider/configuration.go
//! (`BuildRouterConfiguration`).

use super::template::{self, Model};
use super::tree::LabelTree;
use super::{default_service_name, ContainerInfo, LabelError, LabelSettings};
use crate::config::dynamic::{DynamicConfig, ServerConfig};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use toml::{Table, Value};

/// The key of `table` equal to `name` ignoring case (label trees keep the first spelling).
pub(super) fn key_of(table: &Table, name: &str) -> Option<String> {
    table.keys().find(|k| k.eq_ignore_ascii_case(name)).cloned()
}

/// Whether `name` is unset in `table`: absent, or an empty string (Go's zero value, which
/// Traefik treats as unset); an empty one is removed.
pub(super) fn take_unset(table: &mut Table, name: &str) -> bool {
    let Some(key) = key_of(table, name) else {
        return true;
    };
    let empty = matches!(table.get(&key), Some(Value::String(v)) if v.trim().is_empty());
    if empty {
        table.remove(&key);
    }
    empty
}

/// `table[name]` as a table, inserted empty if absent; `None` if it holds something else
/// (deserialization reports that).
pub(super) fn table_at<'t>(table: &'t mut Table, name: &str) -> Option<&'t mut Table> {
    let key = key_of(table, name).unwrap_or_else(|| name.to_string());
    match table
        .entry(key)
        .or_insert_with(|| Value::Table(Table::new()))
    {
        Value::Table(t) => Some(t),
        _ => None,
    }
}

/// Adds the default service and router, default rules and router → service links to the tree.
pub fn apply(
    c: &ContainerInfo,
    s: &LabelSettings,
    tree: &mut LabelTree,
) -> Result<(), Vec<LabelError>> {
    let name = default_service_name(c);
    let mut rule: Option<Result<String, String>> = None;
    let mut problems = Vec::new();
    super::tcp_defaults::apply(c, &name, tree)?;
    // As Traefik: a container with TCP labels and no HTTP router or service gets no HTTP ones.
    let names_http = |root: &Table| {
        key_of(root, "http")
            .and_then(|k| root.get(&k))
            .and_then(Value::as_table)
            .is_some_and(|h| key_of(h, "routers").is_some() || key_of(h, "services").is_some())
    };
    if key_of(&tree.root, "tcp").is_some() && !names_http(&tree.root) {
        return Ok(());
    }
    let Some(http) = table_at(&mut tree.root, "http") else {
        return Ok(());
    };
    let Some(services) = table_at(http, "services") else {
        return Ok(());
    };
    if services.is_empty() {
        let mut lb = Table::new();
        lb.insert("loadBalancer".into(), Value::Table(Table::new()));
        services.insert(name.clone(), Value::Table(lb));
    }
    let service_names: Vec<String> = services.keys().cloned().collect();
    let has_routers = key_of(http, "routers").is_some();
    if !has_routers && service_names.len() > 1 {
        // Traefik: "Could not create a router for the container: too many services".
        return Ok(());
    }
    let Some(routers) = table_at(http, "routers") else {
        return Ok(());
    };
    if routers.is_empty() {
        routers.insert(name.clone(), Value::Table(Table::new()));
    }
    for (router, value) in routers.iter_mut() {
        let Value::Table(r) = value else {
            continue;
        };
        if take_unset(r, "rule") {
            let rendered = rule.get_or_insert_with(|| render_default(c, s, &name));
            match rendered {
                Ok(text) => {
                    r.insert("rule".into(), Value::String(text.clone()));
                }
                Err(e) => problems.push((router.clone(), e.clone(), None)),
            }
        }
        if take_unset(r, "service") {
            match service_names.as_slice() {
                [only] => {
                    r.insert("service".into(), Value::String(only.clone()));
                }
                several => problems.push((
                    router.clone(),
                    format!(
                        "router `{router}` has no service, and the container defines several: {}",
                        several.join(", ")
                    ),
                    Some(format!(
                        "add the label traefik.http.routers.{router}.service=<one of them>"
                    )),
                )),
            }
        }
    }
    if problems.is_empty() {
        return Ok(());
    }
    let errors = problems.into_iter().map(|(router, message, hint)| {
        let label = tree.label_at(&format!("http.routers.{router}"));
        let mut e = LabelError::new(&c.name, label.as_deref(), message);
        e.hint = hint;
        e
    });
    Err(errors.collect())
}

fn render_default(c: &ContainerInfo, s: &LabelSettings, name: &str) -> Result<String, String> {
    let model = Model {
        name,
        container_name: &c.name,
        labels: &c.labels,
    };
    let rule = template::render(&s.default_rule, &model).map_err(|e| {
        format!(
            "the router has no rule, and the default rule `{}` cannot be rendered: {e}",
            s.default_rule
        )
    })?;
    if rule.trim().is_empty() {
        return Err(format!(
            "the router has no rule, and the default rule `{}` renders empty",
            s.default_rule
        ));
    }
    Ok(rule)
}

/// Gives every service of `config` one server for the container (none when `!with_servers`).
pub fn add_servers(
    c: &ContainerInfo,
    tree: &LabelTree,
    config: &mut DynamicConfig,
    with_servers: bool,
) -> Result<(), Vec<LabelError>> {
    let mut errors = Vec::new();
    for (name, service) in &mut config.http.services {
        let at = |key: &str| tree.label_at(&format!("http.services.{name}{key}"));
        let error =
            |key: &str, message: String| LabelError::new(&c.name, at(key).as_deref(), message);
        let other_kinds: Vec<&str> = service
            .kinds()
            .into_iter()
            .filter(|k| *k != "loadBalancer")
            .collect();
        let lb = match (&mut service.load_balancer, other_kinds.first()) {
            (Some(lb), None) => lb,
            (_, kind) => {
                let key = kind.map(|k| format!(".{k}")).unwrap_or_default();
                errors.push(
                    error(&key, format!("service `{name}`: services from labels are load balancers"))
                        .with_hint(format!(
                            "use traefik.http.services.{name}.loadbalancer.* labels; define {} services in the file provider",
                            kind.unwrap_or(&"other")
                        )),
                );
                continue;
            }
        };
        if !lb.servers.is_empty() {
            errors.push(
                error(
                    ".loadBalancer.servers",
                    "labels give one server per container".into(),
                )
                .with_hint(format!(
                    "write traefik.http.services.{name}.loadbalancer.server.port (or .url)"
                )),
            );
            continue;
        }
        let server = lb.server.take().unwrap_or_default();
        if !with_servers {
            continue;
        }
        match server_for(c, name, server) {
            Ok(server) => lb.servers.push(server),
            Err((key, message, hint)) => errors.push(error(key, message).with_hint(hint)),
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

pub(super) type Problem = (&'static str, String, String);

/// The server `c` is in service `name`: the label's URL, or `scheme://ip:port`.
fn server_for(c: &ContainerInfo, name: &str, s: ServerConfig) -> Result<ServerConfig, Problem> {
    let done = |url: String| ServerConfig {
        url,
        weight: s.weight,
        preserve_path: s.preserve_path,
        port: None,
        scheme: None,
    };
    if !s.url.is_empty() {
        if s.port.is_some() || s.scheme.is_some() {
            return Err((
                ".loadBalancer.server.url",
                "defining scheme or port is not allowed when url is defined".into(),
                "keep either server.url, or server.port and server.scheme".into(),
            ));
        }
        return Ok(done(s.url.clone()));
    }
    let scheme = s.scheme.as_deref().map(str::trim).unwrap_or("http");
    let scheme = if scheme.is_empty() { "http" } else { scheme };
    let address = address_for(c, name, s.port, "http")?;
    Ok(done(format!("{scheme}://{address}")))
}

/// `ip:port` of the container in service `name` (of the `section` labels, `http` or `tcp`):
/// the label's port, else the lowest one the container exposes; a published port's binding
/// when there is one.
pub(super) fn address_for(
    c: &ContainerInfo,
    name: &str,
    port: Option<u16>,
    section: &str,
) -> Result<String, Problem> {
    let port = match port.or_else(|| c.ports.iter().min().copied()) {
        Some(0) => {
            return Err((
                ".loadBalancer.server.port",
                "port 0 is not a port".into(),
                "use 1-65535".into(),
            ))
        }
        Some(port) => port,
        None => {
            return Err((
                ".loadBalancer.server",
                format!("service `{name}`: no port, and the container exposes none"),
                format!("add the label traefik.{section}.services.{name}.loadbalancer.server.port"),
            ))
        }
    };
    if let Some(bound) = c.port_bindings.get(&port) {
        return Ok(bound.to_string());
    }
    let ip = if c.host_network {
        IpAddr::V4(Ipv4Addr::LOCALHOST)
    } else {
        c.ip.ok_or_else(|| {
            (
                ".loadBalancer.server",
                format!("service `{name}`: the container has no IP address on the chosen network"),
                "connect it to the provider's network, or name one with traefik.docker.network"
                    .to_string(),
            )
        })?
    };
    Ok(SocketAddr::new(ip, port).to_string())
}
