//! The `Compiler`: the parts of a configuration fixed at start (static config, entry points,
//! default certificate) and the compilation of the dynamic config into a Snapshot, at start
//! and on every reload.

use super::{compile, EntryPointRouting};
use crate::config::{self, ConfigErrors, StaticConfig, StaticSource};
use crate::runtime::{EntryPoint, Listening, Snapshot};
use crate::tls::{CertPair, CertStore};
use crate::upstream::Transport;
use std::path::PathBuf;
use std::sync::Arc;

/// One error at `key_path` of `origin`.
pub(crate) fn single(origin: &str, key_path: &str, message: String) -> ConfigErrors {
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
    /// `[providers.redis]`, checked; `None` when the provider is off.
    pub redis: Option<crate::provider::redis::RedisSettings>,
    /// `[providers.etcd]`, checked (TLS files read); `None` when the provider is off.
    pub etcd: Option<crate::provider::etcd::EtcdSettings>,
    /// `entryPoints.<n>.http.tls.options`, by entry point name.
    entrypoint_tls_options: std::collections::BTreeMap<String, String>,
    /// The host names of server URLs, shared by every compile (`serversTransport.dns`).
    pub dns: Arc<crate::upstream::dns::Resolver>,
}

/// The result of one successful compilation.
pub struct Compiled {
    /// Routes, pools and middlewares, and the certificates with them (`snapshot.tls`).
    pub snapshot: Snapshot,
    pub routers: usize,
    pub services: usize,
    /// Containers (Docker) and objects (Redis, etcd) left out, each with why.
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
        let redis = providers
            .redis
            .as_ref()
            .map(|r| crate::provider::redis::RedisSettings::from_config(r, &origin))
            .transpose()
            .map_err(|e| source.explain(ConfigErrors(vec![e])))?;
        let etcd = providers
            .etcd
            .as_ref()
            .map(|c| {
                crate::provider::etcd::EtcdSettings::from_config(
                    c,
                    providers.providers_throttle_duration.map(|t| t.get()),
                    &source.anchor(),
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
            redis,
            etcd,
            static_path: source.anchor(),
            source: source.clone(),
            transport: static_config.transport(),
            dns: Arc::new(crate::upstream::dns::Resolver::new(
                static_config.upstream_dns_servers(),
            )),
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
        let (file, origins, file_errors) =
            config::load::load_dynamic_lenient_with_origins(&current, &self.static_path, &origin);
        // Errors found below name the file that defined their object (and its line).
        let attribute = |e| origins.attribute(e, &origin, &origin);
        let misnamed = crate::provider::namespace::check_file_names(&file, &origin);
        if !misnamed.is_empty() {
            let mut errors = file_errors;
            errors.extend(attribute(ConfigErrors(misnamed)).0);
            return Err(ConfigErrors(errors));
        }
        let file = crate::provider::namespace::qualify(file, crate::provider::namespace::FILE);
        let parts = self.sources.parts();
        let parts: Vec<(&'static str, &crate::provider::ProviderPart)> = parts
            .iter()
            .map(|(name, part)| (*name, part.as_ref()))
            .collect();
        if !file_errors.is_empty() {
            // The files' own errors refuse this configuration; what of them still reads is
            // validated too (not compiled), so every error comes in one run.
            let rest = crate::provider::merge_and_check(&file, &parts, |dynamic| {
                config::validate(&self.static_config, dynamic, &origin)
            });
            let mut errors = file_errors;
            if let Err(more) = rest.map_err(attribute) {
                let overlaps = |e: &config::ConfigError| {
                    errors.iter().any(|r| {
                        e.key_path.starts_with(&r.key_path) || r.key_path.starts_with(&e.key_path)
                    })
                };
                let more: Vec<_> = more.0.into_iter().filter(|e| !overlaps(e)).collect();
                errors.extend(more);
            }
            return Err(ConfigErrors(errors));
        }
        let merged = crate::provider::merge_and_check(&file, &parts, |dynamic| {
            self.check_and_compile(version, dynamic, previous, &origin)
        })
        .map_err(attribute)?;
        let mut snapshot = merged.value;
        snapshot.left_out = Arc::new(crate::runtime::LeftOut {
            containers: merged.skipped.clone(),
            routers: merged.disabled_routers.clone(),
        });
        Ok(Compiled {
            snapshot,
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
    ) -> Result<Snapshot, ConfigErrors> {
        // Parsed once: validation, the routers and the TLS-options host mapping share them.
        let rules = config::parse_rules(dynamic);
        let middlewares =
            config::validate_with_rules(&self.static_config, dynamic, &rules, origin)?;
        let mut pairs = Vec::new();
        for (i, c) in dynamic.tls.certificates.iter().enumerate() {
            let pair = CertPair::from_file_or_content(&c.cert_file, &c.key_file)
                .map_err(|e| single(origin, &format!("tls.certificates[{i}]"), e.to_string()))?;
            pairs.push(pair);
        }
        // `tls.stores.default.defaultCertificate`, else the self-signed default
        let default_cert = match dynamic
            .tls
            .stores
            .get("default")
            .and_then(|s| s.default_certificate.as_ref())
        {
            Some(dc) => Arc::new(
                CertPair::from_file_or_content(&dc.cert_file, &dc.key_file).map_err(|e| {
                    single(
                        origin,
                        "tls.stores.default.defaultCertificate",
                        e.to_string(),
                    )
                })?,
            ),
            None => self.default_cert.clone(),
        };
        let certificates = pairs
            .iter()
            .map(|p| crate::tls::cert_info(&p.cert))
            .collect();
        let (policies, warnings) =
            crate::runtime::tls_policies::build(dynamic, &rules, &self.entrypoint_tls_options);
        for w in warnings {
            log::warn!("{w}");
        }
        let generated_default = dynamic
            .tls
            .stores
            .get("default")
            .and_then(|s| s.default_generated_cert.as_ref())
            .and_then(|g| g.names().into_iter().next());
        let tls = CertStore::new(pairs, default_cert)
            .with_generated_default(generated_default)
            .with_policies(policies);
        let mut snapshot = compile(
            version,
            super::Checked {
                dynamic,
                rules: &rules,
                middlewares,
                tls: Arc::new(tls),
            },
            &self.entrypoints,
            &self.routing,
            &self.transport,
            &self.dns,
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
        snapshot.certificates = certificates;
        Ok(snapshot)
    }
}
