//! Snapshot: routers, services and plugin chains compiled from one config; Store swaps them.

use super::middlewares::Built;
use crate::config::internal::InternalService;
use crate::config::labels::LabelError;
use crate::config::{ConfigError, DynamicConfig};
use crate::router::Router;
use crate::tls::CertStore;
use crate::upstream::{Balancer, Pool};
use arc_swap::ArcSwap;
use pylon_plugins::Plugin;
use std::collections::HashMap;
use std::sync::Arc;

/// Where a matched request goes and what runs on its way.
pub struct Route {
    /// The router's name, as `name@provider`.
    pub name: Arc<str>,
    /// The service's name, as `name@provider`.
    pub service: Arc<str>,
    /// The service: a pool, or a weighted split down to pools.
    pub balancer: Balancer,
    /// Middlewares in the order they run; built once per config.
    pub chain: Arc<[Arc<dyn Plugin>]>,
    /// From a `retry` middleware: how failed attempts are retried.
    pub retry: Option<RetryPolicy>,
    /// `errors` middlewares: pages from a service for matching statuses, in chain order.
    pub error_pages: Arc<[Arc<super::middlewares::error_pages::ErrorPages>]>,
    /// The service is one pylon answers itself (`api@internal`, ...), after the middlewares.
    pub internal: Option<InternalService>,
    /// Some plugin of the chain `wants_outcome`: the proxy tells the chain how each request
    /// ended (decided here, once, so other routes pay nothing).
    pub outcome_hooks: bool,
}

/// The `retry` middleware's policy (built with its settings, in the plugins crate).
pub use pylon_plugins::retry::RetryPolicy;

impl std::fmt::Debug for Route {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Route")
            .field("name", &self.name)
            .field("service", &self.service)
            .field(
                "middlewares",
                &self.chain.iter().map(|p| p.kind()).collect::<Vec<_>>(),
            )
            .finish()
    }
}

/// The routers bound to one entry point: TLS routers only see TLS connections, the others
/// only plain ones (as in Traefik).
pub struct RouteTable {
    pub plain: Router<Arc<Route>>,
    pub tls: Router<Arc<Route>>,
}

/// Everything a request needs, compiled once per configuration and never mutated.
pub struct Snapshot {
    /// Increases by one on every successful reload.
    pub version: u64,
    /// One table per entry point, indexed like `EntryPoint::index`.
    pub tables: Box<[RouteTable]>,
    /// The TCP routers of each entry point (indexed like `tables`).
    pub tcp: Box<[crate::tcp::TcpTable]>,
    /// Every load-balancer pool of this config, once each (walked by the health checker).
    pub pools: Vec<Arc<Pool>>,
    /// Every middleware by name, with the fingerprint of its config (reused on reload).
    pub middlewares: HashMap<String, (u64, Built)>,
    /// The merged configuration this Snapshot was compiled from (the API shows it).
    pub dynamic: Arc<DynamicConfig>,
    /// What the providers' updates left out of it, and why (the API shows it).
    pub left_out: Arc<LeftOut>,
    /// The configured certificates' names and expiry (`tls_certs_not_after`).
    pub certificates: Vec<crate::tls::CertInfo>,
    /// Certificates and `tls.options` by name: in the Snapshot, so that one swap publishes
    /// them with the routes that use them.
    pub tls: Arc<CertStore>,
}

/// The objects a configuration in force leaves out, each with why.
#[derive(Debug, Default)]
pub struct LeftOut {
    /// Containers whose labels are broken or conflict (the rest of Docker still applies).
    pub containers: Vec<LabelError>,
    /// File routers whose object from another provider is gone (`key_path` names the router).
    pub routers: Vec<ConfigError>,
}

impl Snapshot {
    pub fn table(&self, entrypoint: usize) -> Option<&RouteTable> {
        self.tables.get(entrypoint)
    }
}

/// The current Snapshot. Requests take one `load_full()` so all their phases see one config.
pub struct Store {
    current: ArcSwap<Snapshot>,
}

impl Store {
    pub fn new(first: Snapshot) -> Store {
        Store {
            current: ArcSwap::from_pointee(first),
        }
    }

    pub fn load(&self) -> Arc<Snapshot> {
        self.current.load_full()
    }

    pub fn swap(&self, next: Snapshot) {
        self.current.store(Arc::new(next));
    }

    /// The certificates in force (a TLS handshake's view).
    pub fn certs(&self) -> Arc<CertStore> {
        self.current.load().tls.clone()
    }
}
