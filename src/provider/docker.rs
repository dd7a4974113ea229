//! The Docker provider: containers' `traefik.*` / `pylon.*` labels, read from a Docker engine
//! (bollard), become the provider's part of the dynamic config; the engine's event stream keeps
//! it current. Settings are Traefik's `[providers.docker]` keys.
//!
//! - [`client`] connects to `endpoint` and negotiates the API version with the engine.
//! - [`inspect`] turns an inspected container into the facts the label rules need.
//! - [`constraints`] is the `constraints` expression language.
//! - [`watch`] lists, follows events, debounces, reconnects, and publishes.
//! - [`build_part`] (here) turns the known containers into the provider's part.

pub mod client;
pub mod constraints;
pub mod inspect;
pub mod names;
pub mod policy;
pub mod watch;

use crate::config::labels::{
    container_config, container_config_without_servers, is_healthy, LabelSettings, DEFAULT_RULE,
};
use crate::config::static_config::DockerProviderConfig;
use crate::config::ConfigError;
use crate::provider::ProviderPart;
use constraints::Constraint;
use inspect::{InspectSettings, Inspected};
use policy::{LabelPolicy, ServerAddresses};
use std::collections::BTreeMap;
use std::time::Duration;

/// Traefik's default endpoint.
pub const DEFAULT_ENDPOINT: &str = "unix:///var/run/docker.sock";

/// Quiet time after an event before the containers are read again (bursts become one update).
pub const DEFAULT_DEBOUNCE: Duration = Duration::from_millis(200);

/// `[providers.docker]`, checked and ready to use.
#[derive(Debug, Clone)]
pub struct DockerSettings {
    pub endpoint: String,
    pub labels: LabelSettings,
    pub inspect: InspectSettings,
    pub constraints: Option<Constraint>,
    pub allow_empty_services: bool,
    /// Follow the event stream (else: list once at start).
    pub watch: bool,
    pub debounce: Duration,
    /// Timeout of each API request (`httpClientTimeout`; 0 or unset: 30 s).
    pub request_timeout: Duration,
    /// What labels may reach (pylon's label trust policy).
    pub policy: LabelPolicy,
}

impl DockerSettings {
    /// Checks the keys; errors name the key and the fix.
    pub fn from_config(
        c: &DockerProviderConfig,
        throttle: Option<Duration>,
        origin: &str,
    ) -> Result<DockerSettings, ConfigError> {
        let constraints = match c.constraints.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(text) => Some(Constraint::parse(text).map_err(|e| {
                ConfigError::new(origin, "providers.docker.constraints", e).with_hint(
                    "write e.g. \"Label(`a.tier`, `front`) && !LabelRegex(`env`, `dev.*`)\"",
                )
            })?),
        };
        let default_rule = c
            .default_rule
            .clone()
            .filter(|r| !r.trim().is_empty())
            .unwrap_or_else(|| DEFAULT_RULE.to_string());
        if let Err(e) = crate::config::labels::template::check(&default_rule) {
            return Err(ConfigError::new(origin, "providers.docker.defaultRule", e)
                .with_hint("Traefik's default is \"Host(`{{ normalize .Name }}`)\""));
        }
        let endpoint = c
            .endpoint
            .clone()
            .filter(|e| !e.trim().is_empty())
            .unwrap_or_else(|| DEFAULT_ENDPOINT.to_string());
        client::Endpoint::parse(&endpoint).map_err(|e| {
            ConfigError::new(origin, "providers.docker.endpoint", e)
                .with_hint("write \"unix:///var/run/docker.sock\" or \"tcp://127.0.0.1:2375\"")
        })?;
        let policy = label_policy(c, origin)?;
        Ok(DockerSettings {
            policy,
            endpoint,
            labels: LabelSettings {
                exposed_by_default: c.exposed_by_default.unwrap_or(true),
                default_rule,
            },
            inspect: InspectSettings {
                network: c.network.clone().filter(|n| !n.trim().is_empty()),
                use_bind_port_ip: c.use_bind_port_ip.unwrap_or(false),
            },
            constraints,
            allow_empty_services: c.allow_empty_services.unwrap_or(false),
            watch: c.watch.unwrap_or(true),
            debounce: throttle.unwrap_or(DEFAULT_DEBOUNCE),
            request_timeout: c
                .http_client_timeout
                .map(|d| d.get())
                .filter(|d| !d.is_zero())
                .unwrap_or(Duration::from_secs(30)),
        })
    }
}

/// `allowedInternalServices`, `allowedServerAddresses`, `allowedPaths`, `allowSharedNames`.
fn label_policy(c: &DockerProviderConfig, origin: &str) -> Result<LabelPolicy, ConfigError> {
    let mut internal_services = Vec::new();
    for (i, s) in c.allowed_internal_services.iter().flatten().enumerate() {
        let s = s.trim().to_ascii_lowercase();
        if s != "*" && crate::config::internal::InternalService::from_reference(&s).is_none() {
            return Err(ConfigError::new(
                origin,
                format!("providers.docker.allowedInternalServices[{i}]"),
                format!("`{s}` is not an @internal service"),
            )
            .with_hint("name api@internal, dashboard@internal, ping@internal, prometheus@internal, noop@internal, or \"*\""));
        }
        internal_services.push(s);
    }
    let listed = c.allowed_server_addresses.clone().unwrap_or_default();
    let server_addresses = if listed.iter().any(|a| a.trim() == "*") {
        ServerAddresses::Any
    } else {
        let mut nets = Vec::new();
        for (i, a) in listed.iter().enumerate() {
            let a = a.trim();
            let net = a
                .parse::<ipnet::IpNet>()
                .or_else(|_| a.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
                .map_err(|_| {
                    ConfigError::new(
                        origin,
                        format!("providers.docker.allowedServerAddresses[{i}]"),
                        format!("`{a}` is not an IP address or CIDR network"),
                    )
                    .with_hint(
                        "write e.g. \"10.0.0.0/8\", \"192.0.2.7\", or \"*\" for anything (Traefik)",
                    )
                })?;
            nets.push(net);
        }
        if nets.is_empty() {
            ServerAddresses::OwnAnd
        } else {
            ServerAddresses::Listed(nets)
        }
    };
    let mut paths = Vec::new();
    for (i, p) in c.allowed_paths.iter().flatten().enumerate() {
        let canonical = std::fs::canonicalize(p.trim())
            .ok()
            .filter(|d| d.is_dir())
            .ok_or_else(|| {
                ConfigError::new(
                    origin,
                    format!("providers.docker.allowedPaths[{i}]"),
                    format!("`{p}` is not an existing directory"),
                )
                .with_hint("name a directory that holds only files labels may use")
            })?;
        paths.push(canonical);
    }
    Ok(LabelPolicy {
        internal_services,
        server_addresses,
        paths,
        shared_names: c.allow_shared_names.unwrap_or(false),
    })
}

/// The provider's part from the containers it knows (by ID): serving containers that pass the
/// constraints and are exposed contribute their labels' config; a container whose labels are
/// wrong, or reach what the label policy does not allow, is left out and reported, the others
/// are not touched. Containers are taken in creation order: the earliest keeps a shared name.
pub fn build_part(containers: &BTreeMap<String, Inspected>, s: &DockerSettings) -> ProviderPart {
    let mut part = ProviderPart::default();
    let mut serving: Vec<&Inspected> = containers.values().filter(|c| c.serving).collect();
    serving.sort_by(|a, b| (&a.created, &a.info.name).cmp(&(&b.created, &b.info.name)));
    let mut built = Vec::new();
    for c in serving {
        let info = &c.info;
        if let Some(constraint) = &s.constraints {
            if !constraint.matches(&info.labels) {
                continue;
            }
        }
        let config = if !is_healthy(info) && s.allow_empty_services {
            container_config_without_servers(info, &s.labels)
        } else {
            container_config(info, &s.labels)
        };
        match config {
            Ok(Some(config)) => {
                let refused = policy::check(c, &config, &s.policy);
                if refused.is_empty() {
                    built.push((c, config));
                } else {
                    part.errors.extend(refused);
                }
            }
            Ok(None) => {}
            Err(errors) => part.errors.extend(errors.0),
        }
    }
    if s.policy.shared_names {
        part.containers = built
            .into_iter()
            .map(|(c, config)| (c.info.name.clone(), config))
            .collect();
    } else {
        let (kept, refused) = names::claim(built);
        part.containers = kept;
        part.errors.extend(refused);
    }
    part
}

#[cfg(test)]
mod tests;
