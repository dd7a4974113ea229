//! What a container's `traefik.tcp.*` labels leave out, as Traefik fills it in
//! (pkg/provider/configuration.go `BuildTCPRouterConfiguration`, docker `addServerTCP`): the
//! default TCP service when routers name none, each router's link to the only service, and the
//! container's address as the one server of each TCP service. TCP routers have no default rule.

use super::defaults::{address_for, key_of, table_at, take_unset};
use super::tree::LabelTree;
use super::{ContainerInfo, LabelError};
use crate::config::dynamic::DynamicConfig;
use crate::config::tcp::TcpServer;
use toml::{Table, Value};

/// Adds the default TCP service and the router → service links to the tree.
pub fn apply(c: &ContainerInfo, name: &str, tree: &mut LabelTree) -> Result<(), Vec<LabelError>> {
    if key_of(&tree.root, "tcp").is_none() {
        return Ok(());
    }
    let Some(tcp) = table_at(&mut tree.root, "tcp") else {
        return Ok(());
    };
    let has_routers = key_of(tcp, "routers").is_some();
    let Some(services) = table_at(tcp, "services") else {
        return Ok(());
    };
    if services.is_empty() && has_routers {
        let mut lb = Table::new();
        lb.insert("loadBalancer".into(), Value::Table(Table::new()));
        services.insert(name.to_string(), Value::Table(lb));
    }
    let service_names: Vec<String> = services.keys().cloned().collect();
    if !has_routers {
        return Ok(());
    }
    let Some(routers) = table_at(tcp, "routers") else {
        return Ok(());
    };
    let mut problems = Vec::new();
    for (router, value) in routers.iter_mut() {
        let Value::Table(r) = value else {
            continue;
        };
        if take_unset(r, "rule") {
            problems.push((
                router.clone(),
                format!("TCP router `{router}` has no rule (TCP routers have no default rule)"),
                format!("add the label traefik.tcp.routers.{router}.rule=HostSNI(`*`) (or a server name, with .tls=true)"),
            ));
        }
        if take_unset(r, "service") {
            match service_names.as_slice() {
                [only] => {
                    r.insert("service".into(), Value::String(only.clone()));
                }
                several => problems.push((
                    router.clone(),
                    format!(
                        "TCP router `{router}` has no service, and the container defines several: {}",
                        several.join(", ")
                    ),
                    format!("add the label traefik.tcp.routers.{router}.service=<one of them>"),
                )),
            }
        }
    }
    if problems.is_empty() {
        return Ok(());
    }
    Err(problems
        .into_iter()
        .map(|(router, message, hint)| {
            let label = tree.label_at(&format!("tcp.routers.{router}"));
            LabelError::new(&c.name, label.as_deref(), message).with_hint(hint)
        })
        .collect())
}

/// Gives every TCP service of `config` one server: the container (none when `!with_servers`).
pub fn add_servers(
    c: &ContainerInfo,
    tree: &LabelTree,
    config: &mut DynamicConfig,
    with_servers: bool,
) -> Result<(), Vec<LabelError>> {
    let mut errors = Vec::new();
    for (name, service) in &mut config.tcp.services {
        let at = |key: &str| tree.label_at(&format!("tcp.services.{name}{key}"));
        let error =
            |key: &str, message: String| LabelError::new(&c.name, at(key).as_deref(), message);
        let Some(lb) = service.load_balancer.as_mut() else {
            errors.push(
                error(
                    "",
                    format!("TCP service `{name}`: services from labels are load balancers"),
                )
                .with_hint("define weighted TCP services in the file provider"),
            );
            continue;
        };
        if !lb.servers.is_empty() {
            errors.push(
                error(
                    ".loadBalancer.servers",
                    "labels give one server per container".into(),
                )
                .with_hint(format!(
                    "write traefik.tcp.services.{name}.loadbalancer.server.port"
                )),
            );
            continue;
        }
        let server = lb.server.take().unwrap_or_default();
        if !with_servers {
            continue;
        }
        match address_for(c, name, server.port, "tcp") {
            Ok(address) => lb.servers.push(TcpServer {
                address,
                weight: server.weight,
                tls: server.tls,
            }),
            Err((key, message, hint)) => errors.push(error(key, message).with_hint(hint)),
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}
