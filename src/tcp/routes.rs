//! The TCP routers of each entry point, compiled from `tcp.routers`/`services`/`middlewares`
//! once per configuration (errors at their key paths), and how a new connection finds its
//! router: TLS routers by the ClientHello's server name and ALPN, plain routers
//! (``HostSNI(`*`)``) by client address; the highest priority (default: the rule's length) first.

use super::service::{TcpPool, TcpService, TcpWeighted};
use crate::config::tcp::{TcpConfig, TcpMiddlewareConfig, TcpRouterConfig, TcpServiceConfig};
use crate::rule::{ConnectionFacts, Expr, Matcher};
use crate::runtime::compile::CompileError;
use ipnet::IpNet;
use std::collections::HashMap;
use std::sync::Arc;
use tokio::sync::Semaphore;

/// One compiled TCP router.
#[derive(Debug)]
pub struct TcpRoute {
    pub name: Arc<str>,
    rule: Expr,
    priority: i64,
    /// TLS router: relay the TLS bytes untouched (else pylon terminates TLS).
    pub passthrough: bool,
    pub service: TcpService,
    /// `ipAllowList` middlewares: the client must be in each list.
    allow: Vec<Arc<[IpNet]>>,
    /// `inFlightConn` middlewares: connections open at once.
    in_flight: Vec<Arc<Semaphore>>,
}

impl TcpRoute {
    /// Whether the client may connect (`ipAllowList`).
    pub fn allows(&self, client: std::net::IpAddr) -> bool {
        let ip = crate::runtime::entrypoint::canonical_ip(client);
        self.allow
            .iter()
            .all(|nets| nets.iter().any(|n| n.contains(&ip)))
    }

    /// Slots of every `inFlightConn` for one connection, or `None` when one is full.
    pub fn take_slots(&self) -> Option<Vec<tokio::sync::OwnedSemaphorePermit>> {
        self.in_flight
            .iter()
            .map(|s| s.clone().try_acquire_owned().ok())
            .collect()
    }
}

/// The TCP routers of one entry point.
#[derive(Debug, Default)]
pub struct TcpTable {
    /// Routers with a `tls` section: matched against TLS connections.
    pub tls: Vec<Arc<TcpRoute>>,
    /// Routers without: matched against connections that are not TLS.
    pub plain: Vec<Arc<TcpRoute>>,
}

impl TcpTable {
    pub fn is_empty(&self) -> bool {
        self.tls.is_empty() && self.plain.is_empty()
    }

    /// The TLS router for a connection, if one matches.
    pub fn find_tls(&self, facts: &ConnectionFacts<'_>) -> Option<&Arc<TcpRoute>> {
        self.tls.iter().find(|r| r.rule.matches_connection(facts))
    }

    /// The plain router for a connection, if one matches.
    pub fn find_plain(&self, facts: &ConnectionFacts<'_>) -> Option<&Arc<TcpRoute>> {
        self.plain.iter().find(|r| r.rule.matches_connection(facts))
    }
}

/// Compiles the TCP routers of every entry point (`entrypoints`: names, by index).
pub fn compile(
    tcp: &TcpConfig,
    entrypoints: &[&str],
    errors: &mut Vec<CompileError>,
) -> Box<[TcpTable]> {
    let mut tables: Vec<TcpTable> = entrypoints.iter().map(|_| TcpTable::default()).collect();
    let mut services = ServiceBuilder {
        config: tcp,
        done: HashMap::new(),
        visiting: Vec::new(),
        errors,
    };
    for (name, router) in &tcp.routers {
        let Some(route) = compile_router(name, router, tcp, &mut services) else {
            continue;
        };
        let route = Arc::new(route);
        for (index, ep) in entrypoints.iter().enumerate() {
            let bound = router.entry_points.is_empty()
                && *ep != crate::config::internal::INTERNAL_ENTRYPOINT
                || router.entry_points.iter().any(|e| e == ep);
            if !bound {
                continue;
            }
            let table = &mut tables[index];
            if router.tls.is_some() {
                table.tls.push(route.clone());
            } else {
                table.plain.push(route.clone());
            }
        }
        for (i, ep) in router.entry_points.iter().enumerate() {
            if !entrypoints.contains(&ep.as_str()) {
                services.errors.push(err(
                    format!("tcp.routers.{name}.entryPoints[{i}]"),
                    format!("entry point `{ep}` does not exist"),
                ));
            }
        }
    }
    for table in &mut tables {
        table
            .tls
            .sort_by(|a, b| b.priority.cmp(&a.priority).then(a.name.cmp(&b.name)));
        table
            .plain
            .sort_by(|a, b| b.priority.cmp(&a.priority).then(a.name.cmp(&b.name)));
    }
    tables.into_boxed_slice()
}

fn err(key_path: String, message: impl Into<String>) -> CompileError {
    CompileError {
        key_path,
        message: message.into(),
    }
}

fn compile_router(
    name: &str,
    router: &TcpRouterConfig,
    tcp: &TcpConfig,
    services: &mut ServiceBuilder<'_, '_>,
) -> Option<TcpRoute> {
    let key = format!("tcp.routers.{name}");
    let errors_before = services.errors.len();
    let rule = match crate::rule::parse_tcp(&router.rule) {
        Ok(rule) => Some(rule),
        Err(e) => {
            services
                .errors
                .push(err(format!("{key}.rule"), e.to_string()));
            None
        }
    };
    if let Some(syntax) = router.rule_syntax.as_deref().filter(|s| *s != "v3") {
        services.errors.push(err(
            format!("{key}.ruleSyntax"),
            format!("`{syntax}`: pylon reads Traefik v3's rule syntax only (remove the key)"),
        ));
    }
    let tls = router.tls.as_ref();
    if let (Some(rule), None) = (&rule, tls) {
        if names_a_server(rule) {
            services.errors.push(err(
                format!("{key}.rule"),
                "a router without `tls` sees no server name: only HostSNI(`*`) (with ClientIP) fits it; add `[tcp.routers.NAME.tls]` to route TLS connections by name",
            ));
        }
    }
    if let Some(tls) = tls {
        if tls.cert_resolver.is_some() {
            services.errors.push(err(
                format!("{key}.tls.certResolver"),
                "ACME certificates for TCP routers are not supported yet: put the certificate in tls.certificates (or order it through an HTTP router of the same name)",
            ));
        }
        if !tls.domains.is_empty() {
            services.errors.push(err(
                format!("{key}.tls.domains"),
                "tls.domains serves certResolver, which TCP routers do not support yet",
            ));
        }
        if tls.options.is_some() {
            services.errors.push(err(
                format!("{key}.tls.options"),
                "per-router TLS options are not supported yet on TCP routers (the server name's options from HTTP routers and tls.options.default apply)",
            ));
        }
    }
    let passthrough = tls.and_then(|t| t.passthrough).unwrap_or(false);
    let (allow, in_flight) = middlewares(&key, router, tcp, passthrough, services.errors);
    if router.service.is_empty() {
        services
            .errors
            .push(err(format!("{key}.service"), "no service is named"));
    }
    let service = services.build(&router.service, &format!("{key}.service"));
    let rule = rule?;
    let service = service?;
    if services.errors.len() > errors_before {
        return None;
    }
    let priority = router
        .priority
        .unwrap_or_else(|| i64::try_from(router.rule.chars().count()).unwrap_or(i64::MAX));
    Some(TcpRoute {
        name: Arc::from(name),
        rule,
        priority,
        passthrough,
        service,
        allow,
        in_flight,
    })
}

/// Whether the rule names a server (a `HostSNI` other than `*`, or `HostSNIRegexp`), which only
/// a TLS connection can match.
fn names_a_server(rule: &Expr) -> bool {
    match rule {
        Expr::Matcher(Matcher::HostSni(names)) => names.iter().any(|n| n != "*"),
        Expr::Matcher(Matcher::HostSniRegexp(_)) | Expr::Matcher(Matcher::Alpn(_)) => true,
        Expr::Matcher(_) => false,
        Expr::Not(inner) => names_a_server(inner),
        Expr::And(all) | Expr::Or(all) => all.iter().any(names_a_server),
    }
}

type Middlewares = (Vec<Arc<[IpNet]>>, Vec<Arc<Semaphore>>);

fn middlewares(
    key: &str,
    router: &TcpRouterConfig,
    tcp: &TcpConfig,
    _passthrough: bool,
    errors: &mut Vec<CompileError>,
) -> Middlewares {
    let mut allow = Vec::new();
    let mut in_flight = Vec::new();
    for (i, reference) in router.middlewares.iter().enumerate() {
        let at = format!("{key}.middlewares[{i}]");
        let name = reference.strip_suffix("@file").unwrap_or(reference);
        let Some(m) = tcp.middlewares.get(name) else {
            errors.push(err(
                at,
                format!("TCP middleware `{reference}` does not exist"),
            ));
            continue;
        };
        let mkey = format!("tcp.middlewares.{name}");
        match middleware(&mkey, m, errors) {
            Some(Built::Allow(nets)) => allow.push(nets),
            Some(Built::InFlight(slots)) => in_flight.push(slots),
            None => {}
        }
    }
    (allow, in_flight)
}

enum Built {
    Allow(Arc<[IpNet]>),
    InFlight(Arc<Semaphore>),
}

fn middleware(key: &str, m: &TcpMiddlewareConfig, errors: &mut Vec<CompileError>) -> Option<Built> {
    if m.ip_white_list.is_some() {
        errors.push(err(
            format!("{key}.ipWhiteList"),
            "was renamed ipAllowList in Traefik v3: rename the key",
        ));
        return None;
    }
    match (&m.ip_allow_list, &m.in_flight_conn) {
        (Some(list), None) => {
            let mut nets = Vec::new();
            for (i, range) in list.source_range.iter().enumerate() {
                match crate::runtime::entrypoint::parse_net(range) {
                    Some(net) => nets.push(net),
                    None => errors.push(err(
                        format!("{key}.ipAllowList.sourceRange[{i}]"),
                        format!("`{range}` is neither an IP address nor a CIDR"),
                    )),
                }
            }
            if list.source_range.is_empty() {
                errors.push(err(
                    format!("{key}.ipAllowList.sourceRange"),
                    "is empty: no client could connect",
                ));
            }
            Some(Built::Allow(nets.into()))
        }
        (None, Some(limit)) => match limit.amount.and_then(|a| usize::try_from(a).ok()) {
            Some(amount) if amount > 0 => Some(Built::InFlight(Arc::new(Semaphore::new(amount)))),
            _ => {
                errors.push(err(
                    format!("{key}.inFlightConn.amount"),
                    "must be a number of connections above 0",
                ));
                None
            }
        },
        (None, None) => {
            errors.push(err(
                key.to_string(),
                "no TCP middleware type is set: write ipAllowList or inFlightConn",
            ));
            None
        }
        (Some(_), Some(_)) => {
            errors.push(err(
                key.to_string(),
                "more than one TCP middleware type is set",
            ));
            None
        }
    }
}

/// Builds TCP services once each, refusing cycles.
struct ServiceBuilder<'c, 'e> {
    config: &'c TcpConfig,
    done: HashMap<String, Option<TcpService>>,
    visiting: Vec<String>,
    errors: &'e mut Vec<CompileError>,
}

impl ServiceBuilder<'_, '_> {
    fn build(&mut self, reference: &str, at: &str) -> Option<TcpService> {
        let name = reference.strip_suffix("@file").unwrap_or(reference);
        if let Some(done) = self.done.get(name) {
            return done.clone();
        }
        let key = format!("tcp.services.{name}");
        if self.visiting.iter().any(|v| v == name) {
            self.errors.push(err(
                key,
                format!(
                    "services form a cycle: {} -> {name}",
                    self.visiting.join(" -> ")
                ),
            ));
            return None;
        }
        let Some(config) = self.config.services.get(name) else {
            if !reference.is_empty() {
                self.errors.push(err(
                    at.to_string(),
                    format!("TCP service `{reference}` does not exist"),
                ));
            }
            return None;
        };
        self.visiting.push(name.to_string());
        let built = self.build_kind(name, config, &key);
        self.visiting.pop();
        self.done.insert(name.to_string(), built.clone());
        built
    }

    fn build_kind(
        &mut self,
        name: &str,
        config: &TcpServiceConfig,
        key: &str,
    ) -> Option<TcpService> {
        match (&config.load_balancer, &config.weighted) {
            (Some(lb), None) => {
                let before = self.errors.len();
                let lkey = format!("{key}.loadBalancer");
                for (field, set) in [
                    ("serversTransport", lb.servers_transport.is_some()),
                    ("healthCheck", lb.health_check.is_some()),
                    ("terminationDelay", lb.termination_delay.is_some()),
                ] {
                    if set {
                        self.errors.push(err(
                            format!("{lkey}.{field}"),
                            "is not supported yet on TCP services (remove the key)",
                        ));
                    }
                }
                if lb.server.is_some() {
                    self.errors.push(err(
                        format!("{lkey}.server"),
                        "is the Docker label form: in a file, list `servers = [{ address = \"host:port\" }]`",
                    ));
                }
                let mut servers = Vec::new();
                for (i, server) in lb.servers.iter().enumerate() {
                    let skey = format!("{lkey}.servers[{i}]");
                    if server.tls == Some(true) {
                        self.errors.push(err(
                            format!("{skey}.tls"),
                            "TLS to TCP backends is not supported yet",
                        ));
                    }
                    if !valid_address(&server.address) {
                        self.errors.push(err(
                            format!("{skey}.address"),
                            format!("`{}` is not host:port", server.address),
                        ));
                    }
                    match u32::try_from(server.weight.unwrap_or(1)) {
                        Ok(w) => servers.push((server.address.clone(), w)),
                        Err(_) => self
                            .errors
                            .push(err(format!("{skey}.weight"), "must be 0 or more")),
                    }
                }
                if lb.servers.is_empty() {
                    self.errors.push(err(format!("{lkey}.servers"), "is empty"));
                }
                let proxy_protocol =
                    match lb.proxy_protocol.as_ref().map(|p| p.version.unwrap_or(2)) {
                        None => None,
                        Some(v @ (1 | 2)) => Some(v as u8),
                        Some(v) => {
                            self.errors.push(err(
                                format!("{lkey}.proxyProtocol.version"),
                                format!("{v}: write 1 or 2"),
                            ));
                            None
                        }
                    };
                (self.errors.len() == before).then(|| {
                    TcpService::Pool(Arc::new(TcpPool::new(name, servers, proxy_protocol)))
                })
            }
            (None, Some(w)) => {
                let mut children = Vec::new();
                for (i, child) in w.services.iter().enumerate() {
                    let at = format!("{key}.weighted.services[{i}].name");
                    let weight = u32::try_from(child.weight.unwrap_or(1)).unwrap_or(0);
                    children.push((self.build(&child.name, &at)?, weight));
                }
                if children.is_empty() {
                    self.errors
                        .push(err(format!("{key}.weighted.services"), "is empty"));
                    return None;
                }
                Some(TcpService::Weighted(Arc::new(TcpWeighted::new(children))))
            }
            _ => {
                self.errors.push(err(
                    key.to_string(),
                    "a TCP service has exactly one type: loadBalancer or weighted",
                ));
                None
            }
        }
    }
}

/// `host:port` with a port number.
fn valid_address(address: &str) -> bool {
    address
        .rsplit_once(':')
        .is_some_and(|(host, port)| !host.is_empty() && port.parse::<u16>().is_ok_and(|p| p > 0))
}
