//! Docker labels → the one dynamic model: one container's labels at a time, pure (no Docker calls).
//!
//! Follows Traefik v3's Docker provider (traefik/traefik pkg/provider/docker/config.go `build`,
//! pkg/provider/configuration.go `BuildRouterConfiguration`, traefik/paerser labels_decode.go):
//! - `traefik.enable` (else `exposedByDefault`) decides whether a container is exposed; a
//!   container whose health is not `healthy` is left out (see [`container_config_without_servers`]
//!   for `allowEmptyServices`).
//! - `traefik.http.*` and `traefik.tls.stores.default.*` labels are a flattened path into the same
//!   tree as the TOML file provider's, deserialized by the same model ([`super::from_tree`]).
//!   `pylon.*` labels are read the same way and win over the `traefik.*` label of the same key.
//! - No service label: one load-balancer service named after the container (Traefik's
//!   `getServiceName`: `normalize("<compose service>_<compose project>")`, else the container
//!   name; `normalize` keeps case, as Traefik's does). No router label: one router of that name
//!   with the default rule, when the container has one service. A router without `rule` gets
//!   the default rule; without `service`, the container's only service (several: an error).
//! - Every service gets one server for the container: `loadbalancer.server.url` as written, or
//!   `scheme://ip:port` (scheme `http`; port from `server.port`, else the lowest exposed port;
//!   IP 127.0.0.1 on the host network).
//!
//! Errors name the container and the label; one container's errors never touch another's.

mod decode;
mod defaults;
mod merge;
mod tcp_defaults;
pub mod template;
mod tree;

pub use merge::merge_containers;

use super::dynamic::DynamicConfig;
use std::collections::BTreeMap;
use std::net::IpAddr;

/// One container as the provider sees it (filled from the Docker API by the provider).
#[derive(Debug, Clone, Default)]
pub struct ContainerInfo {
    /// Without the leading `/`.
    pub name: String,
    /// The `com.docker.compose.service` label, if any.
    pub service_name: Option<String>,
    pub labels: BTreeMap<String, String>,
    /// Exposed ports, sorted.
    pub ports: Vec<u16>,
    pub host_network: bool,
    /// The IP on the chosen network (see [`docker_network`]).
    pub ip: Option<IpAddr>,
    /// Docker's health status: `starting`, `healthy`, `unhealthy`; `None` without a health check.
    pub health: Option<String>,
    /// Container port → the host address it is published on; filled only under
    /// `providers.docker.useBindPortIP`, and then used instead of `ip`.
    pub port_bindings: BTreeMap<u16, std::net::SocketAddr>,
}

/// The Docker provider's settings that shape what labels produce.
#[derive(Debug, Clone)]
pub struct LabelSettings {
    /// `providers.docker.exposedByDefault` (Traefik's default: true).
    pub exposed_by_default: bool,
    /// `providers.docker.defaultRule`, a Go-template (see [`template`]).
    pub default_rule: String,
}

/// Traefik's default `defaultRule`.
pub const DEFAULT_RULE: &str = "Host(`{{ normalize .Name }}`)";

impl Default for LabelSettings {
    fn default() -> Self {
        LabelSettings {
            exposed_by_default: true,
            default_rule: DEFAULT_RULE.to_string(),
        }
    }
}

/// One problem with one container's labels (or, from [`merge_containers`], between containers).
/// The key-value providers (Redis, etcd) report with it too: there the unit is one object's key
/// prefix (`traefik/http/routers/web`) and the key the provider's key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LabelError {
    /// The provider that left the unit out: `docker` (a container), `redis` or `etcd` (an
    /// object).
    pub provider: &'static str,
    pub container: String,
    /// The label key at fault, as written on the container (a key for `redis` and `etcd`).
    pub label: Option<String>,
    pub message: String,
    pub hint: Option<String>,
}

impl LabelError {
    pub fn new(container: &str, label: Option<&str>, message: impl Into<String>) -> Self {
        LabelError {
            provider: "docker",
            container: container.to_string(),
            label: label.map(str::to_string),
            message: message.into(),
            hint: None,
        }
    }

    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// The same error, reported by `provider` (`redis`, `etcd`: the unit is an object, the key
    /// a key).
    pub fn in_provider(mut self, provider: &'static str) -> Self {
        self.provider = provider;
        self
    }
}

impl std::fmt::Display for LabelError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let key = if crate::provider::kv::is_kv(self.provider) {
            write!(f, "{} object {:?}: ", self.provider, self.container)?;
            "key"
        } else {
            write!(f, "container {:?}: ", self.container)?;
            "label"
        };
        if let Some(label) = &self.label {
            write!(f, "{key} {label}: ")?;
        }
        f.write_str(&self.message)?;
        if let Some(hint) = &self.hint {
            write!(f, "\n  hint: {hint}")?;
        }
        Ok(())
    }
}

impl std::error::Error for LabelError {}

/// Every problem found in one container's labels; the container contributes nothing.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LabelErrors(pub Vec<LabelError>);

impl std::fmt::Display for LabelErrors {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for LabelErrors {}

impl From<Vec<LabelError>> for LabelErrors {
    fn from(errors: Vec<LabelError>) -> Self {
        LabelErrors(errors)
    }
}

/// The dynamic config `c`'s labels define, with one server for `c` in each service; `None` when
/// the container is not exposed (`traefik.enable=false`, or no `enable` label and
/// `!exposed_by_default`) or not healthy (`starting`, `unhealthy`), as Traefik does without
/// `allowEmptyServices`.
pub fn container_config(
    c: &ContainerInfo,
    s: &LabelSettings,
) -> Result<Option<DynamicConfig>, LabelErrors> {
    if !is_enabled(c, s)? || !is_healthy(c) {
        return Ok(None);
    }
    build(c, s, true).map(Some)
}

/// Like [`container_config`] but whatever the container's health, with no servers: what Traefik
/// keeps of a container that is not healthy under `allowEmptyServices = true` (its routers
/// answer 503 instead of 404). Use it when `!is_healthy(c)` and that option is on.
pub fn container_config_without_servers(
    c: &ContainerInfo,
    s: &LabelSettings,
) -> Result<Option<DynamicConfig>, LabelErrors> {
    if !is_enabled(c, s)? {
        return Ok(None);
    }
    build(c, s, false).map(Some)
}

/// Whether `c` may receive traffic: no health check, or `healthy` (Traefik: any other status
/// than `healthy` filters the container out; Docker's `none` means no health check).
pub fn is_healthy(c: &ContainerInfo) -> bool {
    match c.health.as_deref().map(str::trim) {
        None | Some("") => true,
        Some(h) => h.eq_ignore_ascii_case("healthy") || h.eq_ignore_ascii_case("none"),
    }
}

/// Whether `c` is exposed: its `pylon.enable` / `traefik.enable` label, else the provider's
/// `exposedByDefault`. The value is read as Go's `strconv.ParseBool` does (`true`, `1`, `t`, ...).
pub fn is_enabled(c: &ContainerInfo, s: &LabelSettings) -> Result<bool, LabelErrors> {
    let Some((key, value)) = tree::provider_label(&c.labels, "enable") else {
        return Ok(s.exposed_by_default);
    };
    match value.trim().to_ascii_lowercase().as_str() {
        "true" | "t" | "1" => Ok(true),
        "false" | "f" | "0" => Ok(false),
        _ => Err(LabelErrors(vec![LabelError::new(
            &c.name,
            Some(key),
            format!("expected true or false, found `{value}`"),
        )])),
    }
}

/// The network whose IP the provider should use for `c`: its `pylon.docker.network` /
/// `traefik.docker.network` label (provider-level: not part of the dynamic tree).
pub fn docker_network(labels: &BTreeMap<String, String>) -> Option<String> {
    tree::provider_label(labels, "docker.network").map(|(_, v)| v.trim().to_string())
}

/// Traefik's name for the container's default service and router (`getServiceName`):
/// `normalize("<compose service>_<compose project>")` when both compose labels are there,
/// else `normalize(<container name>)`.
pub fn default_service_name(c: &ContainerInfo) -> String {
    let non_empty = |v: Option<&String>| v.map(|s| s.trim().to_string()).filter(|s| !s.is_empty());
    let service = non_empty(c.service_name.as_ref())
        .or_else(|| non_empty(c.labels.get("com.docker.compose.service")));
    let project = non_empty(c.labels.get("com.docker.compose.project"));
    match (service, project) {
        (Some(service), Some(project)) => template::normalize(&format!("{service}_{project}")),
        _ => template::normalize(&c.name),
    }
}

/// The dynamic config of one key-value unit (a key-value provider's keys of one object, written
/// as labels: `traefik.http.routers.web.entrypoints[0]`): the labels' tree and decoder, with
/// every `tls.*` key allowed (labels allow `tls.stores.default.*` only) and no defaults.
pub fn kv_config(
    unit: &str,
    labels: &BTreeMap<String, String>,
) -> Result<DynamicConfig, LabelErrors> {
    let tree = tree::build_scoped(unit, labels, tree::Scope::KeyValue)?;
    Ok(decode::decode(unit, &tree)?)
}

fn build(
    c: &ContainerInfo,
    s: &LabelSettings,
    with_servers: bool,
) -> Result<DynamicConfig, LabelErrors> {
    let mut tree = tree::build(&c.name, &c.labels)?;
    defaults::apply(c, s, &mut tree)?;
    let mut config = decode::decode(&c.name, &tree)?;
    defaults::add_servers(c, &tree, &mut config, with_servers)?;
    tcp_defaults::add_servers(c, &tree, &mut config, with_servers)?;
    Ok(config)
}

#[cfg(test)]
mod tests;
