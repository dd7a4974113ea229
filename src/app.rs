//! From a config path to a ready-to-run plan: load, validate, compile — all before any socket opens.

use crate::config::{self, ConfigErrors, StaticConfig, StaticSource};
use crate::runtime::compile::{compile, EntryPointRouting};
use crate::runtime::Store;
use crate::runtime::{EntryPoint, Snapshot};
use crate::server::{Listening, StartPlan};
use crate::tls::{CertPair, CertStore};
use crate::upstream::Transport;
use arc_swap::ArcSwap;
use std::path::{Path, PathBuf};
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
    pub store: Arc<Store>,
    pub certs: Arc<ArcSwap<CertStore>>,
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
                self.certs.clone(),
            )),
            listening: self.listening,
            store: self.store,
            certs: self.certs,
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

fn single(origin: &str, key_path: &str, message: String) -> ConfigErrors {
    ConfigErrors(vec![config::ConfigError {
        origin: origin.to_string(),
        key_path: key_path.to_string(),
        message,
        hint: None,
    }])
}

/// Turns the dynamic configuration into a Snapshot, at start and on every reload. Holds the
/// parts fixed at start: the static config (entry points cannot change without a restart or a
/// binary upgrade) and the generated default certificate.
pub struct Compiler {
    /// The static file, or where relative paths resolve when there is none (see
    /// [`StaticSource::anchor`]).
    pub static_path: PathBuf,
    /// The file and the environment and flag settings over it.
    pub source: StaticSource,
    pub static_config: StaticConfig,
    pub entrypoints: Vec<Arc<EntryPoint>>,
    routing: Vec<EntryPointRouting>,
    transport: Transport,
    default_cert: Arc<CertPair>,
    /// The other providers' latest parts, merged in at each compile.
    pub sources: Arc<crate::provider::Sources>,
    /// `[providers.docker]`, checked; `None` when the provider is off.
    pub docker: Option<crate::provider::docker::DockerSettings>,
    /// `entryPoints.<n>.http.tls.options`, by entry point name.
    entrypoint_tls_options: std::collections::BTreeMap<String, String>,
}

/// The result of one successful compilation.
pub struct Compiled {
    pub snapshot: Snapshot,
    pub certs: CertStore,
    pub routers: usize,
    pub services: usize,
    /// Containers the Docker provider left out, each with why.
    pub skipped: Vec<crate::config::labels::LabelError>,
    /// File routers left out because another provider's object they use is gone.
    pub disabled_routers: Vec<config::ConfigError>,
}

impl Compiler {
    /// Loads and checks the static file; returns the compiler and the listeners to open.
    pub fn new(source: &StaticSource) -> Result<(Compiler, Vec<Listening>), ConfigErrors> {
        let origin = source.origin();
        let mut static_config = source.load()?;
        static_config.add_internal_entrypoint();
        let mut entrypoints = Vec::new();
        let mut routing = Vec::new();
        let mut listening = Vec::new();
        for (index, (name, ep)) in static_config.entry_points.iter().enumerate() {
            let entrypoint = Arc::new(static_config.runtime_entrypoint(name, ep, index));
            routing.push(EntryPointRouting {
                tls_by_default: ep.tls_by_default(),
                middlewares: ep
                    .http
                    .as_ref()
                    .map(|h| h.middlewares.clone())
                    .unwrap_or_default(),
            });
            listening.push(Listening {
                entrypoint: entrypoint.clone(),
                binds: ep.bind_addrs(),
            });
            entrypoints.push(entrypoint);
        }
        let default_cert =
            CertPair::self_signed_default().map_err(|e| single(&origin, "tls", e.to_string()))?;
        let providers = &static_config.providers;
        let docker = providers
            .docker
            .as_ref()
            .map(|d| {
                crate::provider::docker::DockerSettings::from_config(
                    d,
                    providers.providers_throttle_duration.map(|t| t.get()),
                    &origin,
                )
            })
            .transpose()
            .map_err(|e| source.explain(ConfigErrors(vec![e])))?;
        let entrypoint_tls_options = static_config
            .entry_points
            .iter()
            .filter_map(|(name, ep)| {
                let options = ep.http.as_ref()?.tls.as_ref()?.options.clone()?;
                Some((name.clone(), options))
            })
            .collect();
        let compiler = Compiler {
            entrypoint_tls_options,
            sources: Arc::default(),
            docker,
            static_path: source.anchor(),
            source: source.clone(),
            transport: static_config.transport(),
            static_config,
            entrypoints,
            routing,
            default_cert: Arc::new(default_cert),
        };
        Ok((compiler, listening))
    }

    /// Loads the dynamic config (the static file's own `http`/`tls` and the file provider's),
    /// merges the other providers' latest parts (see [`crate::provider::merge`]), validates it
    /// with every error collected, and compiles it, reusing from `previous` the pools and
    /// middlewares whose config did not change.
    /// Errors about a static key set by an environment variable or flag name it.
    pub fn compile(
        &self,
        version: u64,
        previous: Option<&Snapshot>,
    ) -> Result<Compiled, ConfigErrors> {
        self.compile_unexplained(version, previous)
            .map_err(|e| self.source.explain(e))
    }

    fn compile_unexplained(
        &self,
        version: u64,
        previous: Option<&Snapshot>,
    ) -> Result<Compiled, ConfigErrors> {
        let origin = self.source.origin();
        // The static file is read again for its inline dynamic sections; its static keys
        // stay as they were at start.
        let current = self.source.load()?;
        let file = config::load::load_dynamic_from(&current, &self.static_path, &origin)?;
        let misnamed = crate::provider::namespace::check_file_names(&file, &origin);
        if !misnamed.is_empty() {
            return Err(ConfigErrors(misnamed));
        }
        let file = crate::provider::namespace::qualify(file, crate::provider::namespace::FILE);
        let docker = self.sources.docker.load_full();
        let merged = crate::provider::merge_and_check(&file, docker.as_deref(), |dynamic| {
            self.check_and_compile(version, dynamic, previous, &origin)
        })?;
        let (mut snapshot, certs) = merged.value;
        snapshot.left_out = Arc::new(crate::runtime::LeftOut {
            containers: merged.skipped.clone(),
            routers: merged.disabled_routers.clone(),
        });
        Ok(Compiled {
            snapshot,
            certs,
            routers: merged.routers,
            services: merged.services,
            skipped: merged.skipped,
            disabled_routers: merged.disabled_routers,
        })
    }

    /// Validates one merged config and compiles it with its certificates.
    fn check_and_compile(
        &self,
        version: u64,
        dynamic: &config::DynamicConfig,
        previous: Option<&Snapshot>,
        origin: &str,
    ) -> Result<(Snapshot, CertStore), ConfigErrors> {
        config::validate(&self.static_config, dynamic, origin)?;
        let snapshot = compile(
            version,
            dynamic,
            &self.entrypoints,
            &self.routing,
            &self.transport,
            previous,
        )
        .map_err(|errs| {
            ConfigErrors(
                errs.into_iter()
                    .map(|e| config::ConfigError {
                        origin: origin.to_string(),
                        key_path: e.key_path,
                        message: e.message,
                        hint: None,
                    })
                    .collect(),
            )
        })?;
        let mut snapshot = snapshot;
        let mut pairs = Vec::new();
        for (i, c) in dynamic.tls.certificates.iter().enumerate() {
            let pair = CertPair::from_files(Path::new(&c.cert_file), Path::new(&c.key_file))
                .map_err(|e| single(origin, &format!("tls.certificates[{i}]"), e.to_string()))?;
            pairs.push(pair);
        }
        snapshot.certificates = pairs
            .iter()
            .map(|p| crate::tls::cert_info(&p.cert))
            .collect();
        let (policies, warnings) =
            crate::runtime::tls_policies::build(dynamic, &self.entrypoint_tls_options);
        for w in warnings {
            log::warn!("{w}");
        }
        let store = CertStore::new(pairs, self.default_cert.clone()).with_policies(policies);
        Ok((snapshot, store))
    }
}

/// Loads the static file and the file provider's dynamic config, validates both (every error
/// collected), then compiles routers, pools, plugins and certificates.
pub fn prepare(source: &StaticSource) -> Result<Prepared, ConfigErrors> {
    let (compiler, listening) = Compiler::new(source)?;
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
        certs: Arc::new(ArcSwap::from_pointee(compiled.certs)),
        compiler: Arc::new(compiler),
    })
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
