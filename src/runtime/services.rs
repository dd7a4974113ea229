//! Compiles `http.services` into Balancers: pools (with health checks and sticky cookies) and
//! weighted splits, resolving references between services and refusing cycles.

use super::compile::CompileError;
use super::fingerprint::fingerprint;
use crate::config::dynamic::{
    FailoverConfig, HealthCheckConfig, LoadBalancerConfig, MirroringConfig, ServersTransportConfig,
    ServiceConfig, StickyConfig, WeightedConfig,
};
use crate::config::DynamicConfig;
use crate::provider::namespace::display_name;
use crate::upstream::checks::{ActiveCheck, PassiveCheck};
use crate::upstream::dns::{Name, Resolver};
use crate::upstream::sticky::StickyCookie;
use crate::upstream::tls::ClientPair;
use crate::upstream::{
    Balancer, Failover, Mirror, Mirroring, Pool, PoolOptions, Server, Transport, Weighted,
};
use std::collections::HashMap;
use std::sync::Arc;

fn err(key_path: impl Into<String>, message: impl Into<String>) -> CompileError {
    CompileError {
        key_path: key_path.into(),
        message: message.into(),
    }
}

/// A reference as the merged config names it: `x@file` is the file provider's `x`, kept bare;
/// other providers' names keep their suffix (see [`crate::provider::namespace`]).
pub fn local_name(name: &str) -> &str {
    name.strip_suffix("@file").unwrap_or(name)
}

/// The most of a request body copied to mirrors unless `maxBodySize` says otherwise (Traefik
/// copies any size: pylon holds at most this much per request unless told to).
pub const DEFAULT_MIRRORED_BODY: usize = 1024 * 1024;

/// Every service of the config, compiled, and the pools among them (for the health checker).
pub struct Services {
    pub by_name: HashMap<String, Balancer>,
    pub pools: Vec<Arc<Pool>>,
}

/// Builds all services; errors name the key path. Servers naming hosts share `resolver`'s
/// names; those new to it are looked up before this returns (see
/// [`Resolver::first_lookups`]).
pub fn build_services(
    dynamic: &DynamicConfig,
    base_transport: &Transport,
    previous: &[Arc<Pool>],
    resolver: &Resolver,
) -> (Services, Vec<CompileError>) {
    let mut b = Builder {
        dynamic,
        base_transport,
        resolver,
        new_names: Vec::new(),
        previous: previous
            .iter()
            .map(|p| (p.name.to_string(), p.clone()))
            .collect(),
        done: HashMap::new(),
        visiting: Vec::new(),
        pools: Vec::new(),
        errors: Vec::new(),
    };
    for name in dynamic.http.services.keys() {
        b.build(name);
    }
    resolver.first_lookups(&b.new_names);
    let services = Services {
        by_name: b
            .done
            .into_iter()
            .filter_map(|(k, v)| Some((k, v?)))
            .collect(),
        pools: b.pools,
    };
    (services, b.errors)
}

struct Builder<'a> {
    dynamic: &'a DynamicConfig,
    base_transport: &'a Transport,
    resolver: &'a Resolver,
    /// Host names no server named before this config: looked up once all pools are built.
    new_names: Vec<Arc<Name>>,
    /// The running config's pools by name, reused when their config is unchanged.
    previous: HashMap<String, Arc<Pool>>,
    /// `None`: failed (its error is already recorded).
    done: HashMap<String, Option<Balancer>>,
    visiting: Vec<String>,
    pools: Vec<Arc<Pool>>,
    errors: Vec<CompileError>,
}

impl Builder<'_> {
    fn build(&mut self, name: &str) -> Option<Balancer> {
        if let Some(done) = self.done.get(name) {
            return done.clone();
        }
        let path = format!("http.services.{name}");
        if self.visiting.iter().any(|v| v == name) {
            let cycle = self.visiting.join(" -> ");
            self.errors.push(err(
                path,
                format!("services form a cycle: {cycle} -> {name}"),
            ));
            return None;
        }
        let Some(config) = self.dynamic.http.services.get(name) else {
            self.errors.push(err(path, "service does not exist"));
            return None;
        };
        self.visiting.push(name.to_string());
        let built = self.build_kind(name, config, &path);
        self.visiting.pop();
        self.done.insert(name.to_string(), built.clone());
        built
    }

    fn build_kind(&mut self, name: &str, config: &ServiceConfig, path: &str) -> Option<Balancer> {
        if let Some(lb) = &config.load_balancer {
            let print = fingerprint(&(
                lb,
                self.base_transport,
                self.transport_config(lb),
                self.transport_config(lb).map(transport_files),
            ));
            if let Some(old) = self.previous.get(&display_name(name)) {
                if old.fingerprint == print {
                    self.pools.push(old.clone());
                    return Some(Balancer::Pool(old.clone()));
                }
            }
            match self.pool(name, lb, path) {
                Ok(pool) => {
                    let pool = Arc::new(pool.with_fingerprint(print));
                    pool.watch_names();
                    self.pools.push(pool.clone());
                    return Some(Balancer::Pool(pool));
                }
                Err(e) => {
                    self.errors.push(e);
                    return None;
                }
            }
        }
        if let Some(w) = &config.weighted {
            return self.weighted(name, w, path);
        }
        if let Some(f) = &config.failover {
            return self.failover(name, f, path);
        }
        if let Some(m) = &config.mirroring {
            return self.mirroring(name, m);
        }
        self.errors.push(err(path, "no service type is set"));
        None
    }

    fn failover(&mut self, name: &str, f: &FailoverConfig, path: &str) -> Option<Balancer> {
        let main = self.build(local_name(&f.service))?;
        let fallback = self.build(local_name(&f.fallback))?;
        let mut on_status = Vec::new();
        for (i, text) in f.errors.iter().flat_map(|e| e.status.iter()).enumerate() {
            match pylon_plugins::errors::parse_status_range(text) {
                Some(range) => on_status.push(range),
                None => {
                    self.errors.push(err(
                        format!("{path}.failover.errors.status[{i}]"),
                        format!("`{text}` is not a status code or range"),
                    ));
                    return None;
                }
            }
        }
        Some(Balancer::Failover(Arc::new(Failover {
            name: Arc::from(display_name(name).as_str()),
            main,
            fallback,
            on_status,
            max_replayed_body: f
                .errors
                .as_ref()
                .and_then(|e| e.max_request_body_bytes)
                .and_then(|n| usize::try_from(n).ok())
                .unwrap_or(64 * 1024),
        })))
    }

    fn mirroring(&mut self, name: &str, m: &MirroringConfig) -> Option<Balancer> {
        let main = self.build(local_name(&m.service))?;
        let mut mirrors = Vec::with_capacity(m.mirrors.len());
        for mirror in &m.mirrors {
            let service = self.build(local_name(&mirror.name))?;
            mirrors.push(Mirror::new(
                service,
                u64::try_from(mirror.percent).unwrap_or(0),
            ));
        }
        let max_body = match m.max_body_size {
            None => Some(DEFAULT_MIRRORED_BODY),
            Some(n) => usize::try_from(n).ok(),
        };
        Some(Balancer::Mirroring(Arc::new(Mirroring::new(
            &display_name(name),
            main,
            mirrors,
            m.mirror_body.unwrap_or(true),
            max_body,
        ))))
    }

    fn weighted(&mut self, name: &str, w: &WeightedConfig, path: &str) -> Option<Balancer> {
        let mut children = Vec::with_capacity(w.services.len());
        for (i, child) in w.services.iter().enumerate() {
            let weight = child.weight.unwrap_or(1);
            let weight = match u32::try_from(weight) {
                Ok(w) => w,
                Err(_) => {
                    self.errors.push(err(
                        format!("{path}.weighted.services[{i}].weight"),
                        "must be 0 or more",
                    ));
                    return None;
                }
            };
            let balancer = self.build(local_name(&child.name))?;
            children.push((child.name.clone(), weight, balancer));
        }
        let full = display_name(name);
        let sticky = sticky_cookie(w.sticky.as_ref(), &full);
        Some(Balancer::Weighted(Arc::new(Weighted::new(
            &full, children, sticky,
        ))))
    }

    /// The servers transport a load balancer names, if any.
    fn transport_config(&self, lb: &LoadBalancerConfig) -> Option<&ServersTransportConfig> {
        lb.servers_transport
            .as_ref()
            .and_then(|t| self.dynamic.http.servers_transports.get(t))
    }

    fn pool(
        &mut self,
        name: &str,
        lb: &LoadBalancerConfig,
        path: &str,
    ) -> Result<Pool, CompileError> {
        let mut transport = self
            .transport_config(lb)
            .and_then(|t| t.forwarding_timeouts.as_ref())
            .map_or_else(
                || self.base_transport.clone(),
                |ft| ft.apply(self.base_transport),
            );
        if let (Some(t), Some(t_name)) = (self.transport_config(lb), &lb.servers_transport) {
            if let Some(insecure) = t.insecure_skip_verify {
                transport.insecure_skip_verify = insecure;
            }
            transport.disable_http2 = t.disable_http2.unwrap_or(false);
            let pairs: Vec<ClientPair<'_>> = t
                .certificates
                .iter()
                .map(|c| ClientPair {
                    cert: &c.cert_file,
                    key: &c.key_file,
                })
                .collect();
            let roots = t.root_cas.as_deref().unwrap_or_default();
            transport.tls = crate::upstream::tls::build(t.server_name.as_deref(), roots, &pairs)
                .map_err(|e| {
                    err(
                        format!("http.serversTransports.{}.{}", local_name(t_name), e.key),
                        e.message,
                    )
                })?
                .map(Arc::new);
        }
        let mut servers = Vec::with_capacity(lb.servers.len());
        for (i, s) in lb.servers.iter().enumerate() {
            let server = Server::parse(&s.url, s.weight.unwrap_or(1)).map_err(|e| {
                err(
                    format!("{path}.loadBalancer.servers[{i}].url"),
                    e.to_string(),
                )
            })?;
            let (server, new_name) = server.bind(self.resolver);
            self.new_names.extend(new_name);
            servers.push(server);
        }
        let full = display_name(name);
        let passive = lb.passive_health_check.as_ref().map(|p| PassiveCheck {
            failure_window: p
                .failure_window
                .map_or(PassiveCheck::default().failure_window, |d| d.get()),
            max_failed_attempts: p.max_failed_attempts.unwrap_or(1).max(1),
            count_5xx: true,
        });
        let options = PoolOptions {
            pass_host_header: lb.pass_host_header.unwrap_or(true),
            transport,
            active: lb.health_check.as_ref().map(active_check),
            passive,
            sticky: sticky_cookie(lb.sticky.as_ref(), &full),
            // validated: an unknown name never reaches here
            strategy: lb
                .strategy
                .as_deref()
                .and_then(crate::upstream::strategy::Strategy::parse)
                .unwrap_or_default(),
        };
        Ok(Pool::new(&full, servers, options))
    }
}

/// The contents of the files a servers transport reads (`rootCAs`, `certificates`): an edited
/// CA or client certificate makes a new pool on reload.
fn transport_files(t: &ServersTransportConfig) -> Vec<Option<Vec<u8>>> {
    let values = t.root_cas.iter().flatten().chain(
        t.certificates
            .iter()
            .flat_map(|c| [&c.cert_file, &c.key_file]),
    );
    values
        .filter(|v| !crate::config::key_file::is_inline_pem(v))
        .map(|v| crate::config::key_file::read_key_file(v).ok())
        .collect()
}

/// `healthCheck` with Traefik's defaults.
fn active_check(h: &HealthCheckConfig) -> ActiveCheck {
    let d = ActiveCheck::default();
    let interval = h.interval.map_or(d.interval, |i| i.get());
    ActiveCheck {
        // validated: an unknown mode never reaches here
        mode: h
            .mode
            .as_deref()
            .and_then(crate::upstream::checks::CheckMode::parse)
            .unwrap_or_default(),
        path: h.path.clone().unwrap_or(d.path),
        scheme: h.scheme.clone(),
        hostname: h.hostname.clone(),
        port: h.port,
        method: h
            .method
            .clone()
            .map_or(d.method, |m| m.to_ascii_uppercase()),
        status: h.status,
        headers: h
            .headers
            .iter()
            .flatten()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
        interval,
        unhealthy_interval: h.unhealthy_interval.map_or(interval, |i| i.get()),
        timeout: h.timeout.map_or(d.timeout, |t| t.get()),
        follow_redirects: h.follow_redirects.unwrap_or(true),
    }
}

/// `sticky.cookie` (`true` or a table) with Traefik's defaults; `None` when not enabled.
fn sticky_cookie(sticky: Option<&StickyConfig>, service: &str) -> Option<StickyCookie> {
    let toggle = sticky?.cookie.as_ref()?;
    if !toggle.enabled() {
        return None;
    }
    let mut c = StickyCookie::defaults_for(service);
    if let Some(o) = toggle.options() {
        if let Some(n) = o.name.as_ref().filter(|n| !n.is_empty()) {
            c.name = n.clone();
        }
        c.secure = o.secure.unwrap_or(false);
        c.http_only = o.http_only.unwrap_or(false);
        c.same_site = o.same_site.clone().filter(|s| !s.is_empty());
        c.max_age = o.max_age.filter(|a| *a != 0);
        if let Some(p) = o.path.as_ref().filter(|p| !p.is_empty()) {
            c.path = p.clone();
        }
        c.domain = o.domain.clone().filter(|d| !d.is_empty());
    }
    Some(c)
}
