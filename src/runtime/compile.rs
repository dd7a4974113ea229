//! Compiles a validated dynamic config into a Snapshot: routers per entry point, pools, chains.
//!
//! Services and middlewares are built once per config and shared (by `Arc`) by every router
//! naming them, so a middleware's state (e.g. a rate-limit bucket) is per instance, not per router.

pub mod compiler;

pub use compiler::{Compiled, Compiler};

use super::middlewares::{attach_services, resolve, Resolved};
use super::services::{build_services, local_name};
use super::{EntryPoint, Route, RouteTable, Snapshot};
use crate::config::dynamic::DynamicConfig;
use crate::config::internal::{InternalService, INTERNAL_ENTRYPOINT};
use crate::config::BuiltMiddlewares;
use crate::provider::namespace::display_name;
use crate::router::{RouteSpec, Router};
use crate::rule::ParsedRules;
use crate::tls::CertStore;
use crate::upstream::dns::Resolver;
use crate::upstream::Balancer;
use crate::upstream::Transport;
use std::collections::HashMap;
use std::sync::Arc;

/// Why a (validated) config could not be compiled; validation should have caught these.
#[derive(Debug, thiserror::Error)]
#[error("{key_path}: {message}")]
pub struct CompileError {
    pub key_path: String,
    pub message: String,
}

/// The route specs of one entry point's plain or TLS table.
type Specs = Vec<RouteSpec<Arc<Route>>>;

fn err(key_path: impl Into<String>, message: impl Into<String>) -> CompileError {
    CompileError {
        key_path: key_path.into(),
        message: message.into(),
    }
}

/// What an entry point's static config adds to every router bound to it.
#[derive(Debug, Clone, Default)]
pub struct EntryPointRouting {
    /// `[entryPoints.<n>.http.tls]` is present: routers are TLS unless they say otherwise.
    pub tls_by_default: bool,
    /// `entryPoints.<n>.http.middlewares`: run before each router's own middlewares.
    pub middlewares: Vec<String>,
}

/// One validated configuration and what was built from it before routes: its routers' rules
/// (parsed once), its middlewares (built while validated) and its certificates.
pub struct Checked<'a> {
    pub dynamic: &'a DynamicConfig,
    pub rules: &'a ParsedRules,
    pub middlewares: BuiltMiddlewares,
    pub tls: Arc<CertStore>,
}

/// Builds the Snapshot for `checked` over the given entry points (`routing` is indexed alike);
/// servers naming hosts follow them through `resolver`.
pub fn compile(
    version: u64,
    checked: Checked<'_>,
    entrypoints: &[Arc<EntryPoint>],
    routing: &[EntryPointRouting],
    transport: &Transport,
    resolver: &Resolver,
    previous: Option<&Snapshot>,
) -> Result<Snapshot, Vec<CompileError>> {
    let Checked {
        dynamic,
        rules,
        middlewares,
        tls,
    } = checked;
    let mut errors = Vec::new();
    let previous_pools = previous.map_or(&[][..], |p| &p.pools[..]);
    let (services, service_errors) = build_services(dynamic, transport, previous_pools, resolver);
    errors.extend(service_errors);
    let (with_prints, middleware_errors) = attach_services(middlewares, &services.by_name);
    errors.extend(middleware_errors);
    // A middleware built from the same config and files keeps its instance (and so its state, e.g.
    // rate-limit buckets and in-flight counters) across reloads.
    let mut middlewares = HashMap::new();
    let mut prints = HashMap::new();
    for (name, (print, built)) in with_prints {
        let kept = previous
            .and_then(|p| p.middlewares.get(&name))
            // An `errors` middleware holds its service, which may have changed: rebuilt.
            .filter(|(old_print, old)| {
                *old_print == print && !matches!(old, super::middlewares::Built::Errors(_))
            })
            .map(|(_, old)| old.clone());
        middlewares.insert(name.clone(), kept.unwrap_or(built));
        prints.insert(name, print);
    }
    let mut specs: Vec<(Specs, Specs)> = entrypoints
        .iter()
        .map(|_| (Vec::new(), Vec::new()))
        .collect();
    for (name, router) in &dynamic.http.routers {
        let path = format!("http.routers.{name}");
        let expr = match rules.get(name, &router.rule) {
            Ok(e) => e,
            Err(e) => {
                errors.push(err(format!("{path}.rule"), e.to_string()));
                continue;
            }
        };
        let service_name = router.service.as_deref().unwrap_or("");
        let internal = InternalService::from_reference(service_name);
        let found = match internal {
            Some(service) => Some(Balancer::empty(service.name())),
            None => services.by_name.get(local_name(service_name)).cloned(),
        };
        let Some(balancer) = found else {
            errors.push(err(
                format!("{path}.service"),
                format!("service `{service_name}` does not exist"),
            ));
            continue;
        };
        let mut own = Resolved::default();
        let key = format!("{path}.middlewares");
        resolve(
            &middlewares,
            &router.middlewares,
            &key,
            &mut own,
            &mut errors,
        );
        let make_route = |resolved: Resolved| {
            let outcome_hooks = resolved.chain.iter().any(|p| p.wants_outcome());
            Arc::new(Route {
                name: Arc::from(display_name(name)),
                service: match internal {
                    Some(service) => Arc::from(service.name()),
                    None => Arc::from(display_name(local_name(service_name))),
                },
                balancer: balancer.clone(),
                chain: resolved.chain.into(),
                retry: resolved.retry,
                error_pages: resolved.error_pages.into(),
                internal,
                outcome_hooks,
            })
        };
        let shared = make_route(own.clone());
        for ep in entrypoints {
            // As in Traefik, a router without entry points is not bound to `traefik`.
            let bound = if router.entry_points.is_empty() {
                ep.name != INTERNAL_ENTRYPOINT
            } else {
                router.entry_points.iter().any(|e| e == &ep.name)
            };
            if !bound {
                continue;
            }
            let ep_routing = routing.get(ep.index).cloned().unwrap_or_default();
            let tls = router.is_tls() || ep_routing.tls_by_default;
            let route = if ep_routing.middlewares.is_empty() {
                shared.clone()
            } else {
                let key = format!("entryPoints.{}.http.middlewares", ep.name);
                let mut resolved = Resolved::default();
                resolve(
                    &middlewares,
                    &ep_routing.middlewares,
                    &key,
                    &mut resolved,
                    &mut errors,
                );
                resolved.chain.extend(own.chain.iter().cloned());
                resolved.retry = own.retry.clone().or(resolved.retry);
                resolved.error_pages.extend(own.error_pages.iter().cloned());
                make_route(resolved)
            };
            let spec = RouteSpec {
                name: name.clone(),
                rule: expr.clone(),
                rule_len: router.rule.chars().count(),
                priority: router.priority,
                value: route,
            };
            let (plain, secure) = &mut specs[ep.index];
            if tls {
                secure.push(spec);
            } else {
                plain.push(spec);
            }
        }
    }
    let mut entrypoint_names: Vec<&str> = vec![""; specs.len()];
    for ep in entrypoints {
        if let Some(slot) = entrypoint_names.get_mut(ep.index) {
            *slot = ep.name.as_str();
        }
    }
    let tcp = crate::tcp::routes::compile(&dynamic.tcp, &entrypoint_names, &mut errors);
    if !errors.is_empty() {
        return Err(errors);
    }
    let tables = specs
        .into_iter()
        .map(|(plain, tls)| RouteTable {
            plain: Router::build(plain),
            tls: Router::build(tls),
        })
        .collect();
    let middlewares = middlewares
        .into_iter()
        .filter_map(|(name, built)| Some((name.clone(), (*prints.get(&name)?, built))))
        .collect();
    Ok(Snapshot {
        version,
        tables,
        tcp,
        pools: services.pools,
        middlewares,
        dynamic: Arc::new(dynamic.clone()),
        left_out: Arc::default(),
        certificates: Vec::new(),
        tls,
    })
}
