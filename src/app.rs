//! From a config path to a ready-to-run plan: load, validate, compile (see
//! [`crate::runtime::compile::Compiler`]) — all before any socket opens.

use crate::config::{ConfigErrors, StaticConfig, StaticSource};
use crate::runtime::compile::compiler::single;
use crate::runtime::compile::Compiler;
use crate::runtime::{Listening, Store};
use crate::server::StartPlan;
use std::path::PathBuf;
use std::sync::Arc;

/// How this process starts, from the command line.
#[derive(Debug, Clone, Default)]
pub struct StartOptions {
    /// Take the listening sockets over from a running pylon.
    pub upgrade: bool,
    pub daemon: bool,
    /// See [`crate::run_files::upgrade_sock`].
    pub upgrade_sock: PathBuf,
    /// See [`crate::run_files::pid_file`].
    pub pid_file: PathBuf,
}

/// A loaded, validated and compiled configuration.
pub struct Prepared {
    pub static_config: StaticConfig,
    /// Compiles reloads with the same static parts.
    pub compiler: Arc<Compiler>,
    pub listening: Vec<Listening>,
    /// The Snapshot in force: routes and certificates.
    pub store: Arc<Store>,
    routers: usize,
    services: usize,
}

impl Prepared {
    /// Sets up the metrics and opens the access log (`run` only: `check` has no side effects).
    /// Call after logging is set up and before [`Prepared::into_plan`].
    pub fn start_observability(&self) -> Result<(), ConfigErrors> {
        let source = &self.compiler.source;
        let origin = source.origin();
        set_up_metrics(&self.static_config, &origin).map_err(|e| source.explain(e))?;
        let api = crate::api::Context {
            static_config: self.static_config.clone(),
            started: std::time::SystemTime::now(),
            reloads: Default::default(),
        };
        api.reloads.record(
            "start",
            true,
            self.store.load().version,
            vec![self.summary()],
        );
        crate::api::install(std::sync::Arc::new(api));
        set_up_access_log(&self.static_config, &origin).map_err(|e| source.explain(e))
    }

    /// One line for `pylon check`.
    pub fn summary(&self) -> String {
        format!(
            "{} entry point(s), {} router(s), {} service(s)",
            self.listening.len(),
            self.routers,
            self.services
        )
    }

    pub fn into_plan(self, start: StartOptions) -> StartPlan {
        let grace = self.static_config.grace_timeout();
        let accept_grace = accept_grace_timeout(&self.static_config);
        let keepalive_pool_size = keepalive_pool_size(&self.static_config, &self.store);
        StartPlan {
            reload: Some(crate::reload::ReloadPlan::new(
                self.compiler.clone(),
                self.store.clone(),
            )),
            listening: self.listening,
            store: self.store,
            dns: self.compiler.dns.clone(),
            // `PYLON_THREADS` pins the worker count (the load benchmark runs pylon on one core).
            threads: std::env::var("PYLON_THREADS")
                .ok()
                .and_then(|v| v.parse().ok())
                .filter(|&n: &usize| n > 0)
                .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get())),
            grace,
            accept_grace,
            keepalive_pool_size,
            upgrade: start.upgrade,
            daemon: start.daemon,
            upgrade_sock: start.upgrade_sock,
            pid_file: start.pid_file,
        }
    }
}

/// Idle upstream connections kept: `serversTransport.maxIdleConnsPerHost` (Traefik's default
/// 200) per server of the configuration at start. Pingora keeps one LRU pool per entry point
/// rather than one per host, so this bounds the total; the least recently used go first.
fn keepalive_pool_size(static_config: &StaticConfig, store: &Store) -> usize {
    let per_host = static_config
        .servers_transport
        .as_ref()
        .and_then(|t| t.max_idle_conns_per_host)
        .unwrap_or(200)
        .max(0) as usize;
    let servers: usize = store.load().pools.iter().map(|p| p.servers().len()).sum();
    (per_host * servers.max(1)).clamp(1, 1 << 16)
}

/// The longest `lifeCycle.requestAcceptGraceTimeout` of the entry points (default 0, as Traefik).
fn accept_grace_timeout(static_config: &StaticConfig) -> std::time::Duration {
    static_config
        .entry_points
        .values()
        .filter_map(|e| {
            e.transport
                .as_ref()?
                .life_cycle
                .as_ref()?
                .request_accept_grace_timeout
        })
        .map(|d| d.get())
        .max()
        .unwrap_or_default()
}

/// Loads the static file and the file provider's dynamic config, validates both (every error
/// collected), then compiles routers, pools, plugins and certificates.
pub fn prepare(source: &StaticSource) -> Result<Prepared, ConfigErrors> {
    let (compiler, listening) =
        Compiler::new(source).map_err(|refused| past_static_errors(source, refused))?;
    let compiled = compiler.compile(1, None)?;
    check_metrics(&compiler.static_config, &source.origin()).map_err(|e| source.explain(e))?;
    if let Some(acme) = crate::acme::Manager::prepare(&compiler.static_config, &source.origin())? {
        acme.install();
    }
    Ok(Prepared {
        routers: compiled.routers,
        services: compiled.services,
        static_config: compiler.static_config.clone(),
        listening,
        store: Arc::new(Store::new(compiled.snapshot)),
        compiler: Arc::new(compiler),
    })
}

/// The static errors `refused`, and the errors of the rest of the configuration: the keys at
/// fault are left out and the rest is checked again (static keys, then the dynamic part), so
/// every error comes in one run, not one static error at a time.
fn past_static_errors(source: &StaticSource, refused: ConfigErrors) -> ConfigErrors {
    /// Each round leaves out the keys the previous one refused; a file rarely needs more.
    const ROUNDS: usize = 8;
    let mut errors = refused.0;
    // Left out but not reported: a required key missing once its misspelt sibling is out.
    let mut pruned_only: Vec<String> = Vec::new();
    let parent = |path: &str| path.rsplit_once('.').map(|(p, _)| p.to_string());
    for _ in 0..ROUNDS {
        let paths = errors.iter().map(|e| e.key_path.clone());
        let pruned = source.without(paths.chain(pruned_only.iter().cloned()));
        let more = match Compiler::new(&pruned) {
            Ok((compiler, _)) => match compiler.compile(1, None) {
                Ok(_) => Vec::new(),
                Err(dynamic) => dynamic.0,
            },
            Err(more) => more.0,
        };
        let mut progressed = false;
        for e in more {
            let seen = errors.iter().any(|r| {
                e == *r
                    || e.key_path.starts_with(&r.key_path)
                    || r.key_path.starts_with(&e.key_path)
            });
            if seen {
                continue;
            }
            progressed = true;
            if e.message.starts_with("missing required key") {
                // its table goes in the next round (`entryPoints.web` for a misspelt `address`)
                let table = parent(&e.key_path).unwrap_or_else(|| e.key_path.clone());
                let sibling_refused = errors
                    .iter()
                    .any(|r| parent(&r.key_path).as_deref() == Some(table.as_str()));
                pruned_only.push(table);
                if sibling_refused {
                    continue;
                }
            }
            errors.push(e);
        }
        if !progressed {
            break;
        }
    }
    ConfigErrors(errors)
}

/// Whether `[metrics.prometheus]` can be set up (e.g. the prefix is a valid metric name).
fn check_metrics(static_config: &StaticConfig, origin: &str) -> Result<(), ConfigErrors> {
    if let Some(p) = static_config
        .metrics
        .as_ref()
        .and_then(|m| m.prometheus.as_ref())
    {
        crate::metrics::Metrics::new(p).map_err(|e| single(origin, "metrics.prometheus", e))?;
    }
    Ok(())
}

/// Creates the process's metrics when `[metrics.prometheus]` is there (before the gateways,
/// which take them at start). A missing `/metrics` entry point is reported, not fatal.
fn set_up_metrics(static_config: &StaticConfig, origin: &str) -> Result<(), ConfigErrors> {
    let Some(prometheus) = static_config
        .metrics
        .as_ref()
        .and_then(|m| m.prometheus.as_ref())
    else {
        return Ok(());
    };
    let metrics = crate::metrics::Metrics::new(prometheus)
        .map_err(|e| single(origin, "metrics.prometheus", e))?;
    if !static_config
        .entry_points
        .contains_key(&metrics.entry_point)
    {
        log::warn!(
            "metrics.prometheus: entry point `{}` is not defined, so /metrics is not served; add [entryPoints.{}] or set metrics.prometheus.entryPoint",
            metrics.entry_point,
            metrics.entry_point
        );
    }
    // The configuration at start counts as the first successful load, as in Traefik.
    metrics.reloaded(true);
    crate::metrics::install(Arc::new(metrics));
    Ok(())
}

/// Opens the access log when `[accessLog]` is there (before the gateways take it).
fn set_up_access_log(static_config: &StaticConfig, origin: &str) -> Result<(), ConfigErrors> {
    let Some(c) = &static_config.access_log else {
        return Ok(());
    };
    let log = crate::access_log::AccessLog::new(c).map_err(|e| single(origin, "accessLog", e))?;
    crate::access_log::install(Arc::new(log));
    Ok(())
}

/// `host:port` of the ping entry point, for `pylon healthcheck`.
pub fn ping_address(source: &StaticSource) -> Option<String> {
    let static_config = source.load().ok()?;
    let name = static_config.ping.as_ref()?.entry_point.clone();
    let ep = static_config.entry_points.get(&name)?;
    let bind = ep.bind_addrs().into_iter().next()?;
    Some(
        bind.replace("0.0.0.0", "127.0.0.1")
            .replace("[::]", "[::1]"),
    )
}
