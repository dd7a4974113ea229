//! The dynamic configuration tree (`http.routers`, `http.middlewares`, `http.services`, `tls`):
//! the ONE model fed by TOML files and, through the same deserializer, by Docker labels.

pub use super::composite_services::{
    FailoverConfig, FailoverErrors, MirrorConfig, MirroringConfig,
};
use super::duration::Duration;
pub use super::middlewares::MiddlewareConfig;
use super::static_config::ForwardingTimeouts;
use super::tree::struct_fields;
use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::marker::PhantomData;

#[derive(Debug, Clone, Default, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct DynamicConfig {
    #[serde(default)]
    pub http: HttpConfig,
    #[serde(default, skip_serializing_if = "super::tcp::TcpConfig::is_empty")]
    pub tcp: super::tcp::TcpConfig,
    #[serde(default)]
    pub tls: TlsConfig,
}

#[derive(Debug, Clone, Default, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct HttpConfig {
    #[serde(default)]
    pub routers: BTreeMap<String, RouterConfig>,
    #[serde(default)]
    pub middlewares: BTreeMap<String, MiddlewareConfig>,
    #[serde(default)]
    pub services: BTreeMap<String, ServiceConfig>,
    #[serde(default)]
    pub servers_transports: BTreeMap<String, ServersTransportConfig>,
}

#[derive(Debug, Clone, Default, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RouterConfig {
    pub rule: String,
    pub service: Option<String>,
    #[serde(default)]
    pub middlewares: Vec<String>,
    #[serde(default)]
    pub entry_points: Vec<String>,
    pub priority: Option<i64>,
    pub tls: Option<Toggle<RouterTls>>,
    pub rule_syntax: Option<String>,
}

impl RouterConfig {
    /// Whether the router only answers TLS connections.
    pub fn is_tls(&self) -> bool {
        self.tls.as_ref().is_some_and(Toggle::enabled)
    }
}

#[derive(Debug, Clone, Default, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RouterTls {
    pub options: Option<String>,
    pub cert_resolver: Option<String>,
    #[serde(default)]
    pub domains: Vec<TlsDomain>,
}

/// A certificate domain requested for a router (`main` plus subject alternative names).
#[derive(Debug, Clone, Default, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct TlsDomain {
    pub main: Option<String>,
    #[serde(default)]
    pub sans: Vec<String>,
}

/// One service: exactly one of the kinds may be set (checked by validation).
#[derive(Debug, Clone, Default, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ServiceConfig {
    pub load_balancer: Option<LoadBalancerConfig>,
    pub weighted: Option<WeightedConfig>,
    pub mirroring: Option<MirroringConfig>,
    pub failover: Option<FailoverConfig>,
}

impl ServiceConfig {
    /// The Traefik names of the kinds set on this service (exactly one is valid).
    pub fn kinds(&self) -> Vec<&'static str> {
        let set = [
            ("loadBalancer", self.load_balancer.is_some()),
            ("weighted", self.weighted.is_some()),
            ("mirroring", self.mirroring.is_some()),
            ("failover", self.failover.is_some()),
        ];
        set.iter().filter(|(_, on)| *on).map(|(n, _)| *n).collect()
    }
}

/// Weighted round robin over other services.
#[derive(Debug, Clone, Default, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct WeightedConfig {
    #[serde(default)]
    pub services: Vec<WeightedService>,
    pub sticky: Option<StickyConfig>,
    /// `healthCheck = {}` propagates the children's health (Traefik); accepted.
    pub health_check: Option<toml::Table>,
}

#[derive(Debug, Clone, Default, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct WeightedService {
    pub name: String,
    /// Default 1; 0 takes the service out of rotation.
    pub weight: Option<i64>,
}

#[derive(Debug, Clone, Default, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct LoadBalancerConfig {
    #[serde(default)]
    pub servers: Vec<ServerConfig>,
    /// Label form: `loadbalancer.server.port` / `.url` / `.scheme` (used by the Docker provider).
    pub server: Option<ServerConfig>,
    pub pass_host_header: Option<bool>,
    pub servers_transport: Option<String>,
    pub response_forwarding: Option<ResponseForwarding>,
    pub sticky: Option<StickyConfig>,
    pub health_check: Option<HealthCheckConfig>,
    pub passive_health_check: Option<PassiveHealthCheck>,
    pub strategy: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ResponseForwarding {
    pub flush_interval: Option<Duration>,
}

#[derive(Debug, Clone, Default, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PassiveHealthCheck {
    pub failure_window: Option<Duration>,
    pub max_failed_attempts: Option<u32>,
}

#[derive(Debug, Clone, Default, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ServerConfig {
    #[serde(default)]
    pub url: String,
    pub weight: Option<u32>,
    pub port: Option<u16>,
    pub scheme: Option<String>,
    pub preserve_path: Option<bool>,
}

#[derive(Debug, Clone, Default, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct StickyConfig {
    pub cookie: Option<Toggle<StickyCookie>>,
}

#[derive(Debug, Clone, Default, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct StickyCookie {
    pub name: Option<String>,
    pub secure: Option<bool>,
    pub http_only: Option<bool>,
    pub same_site: Option<String>,
    pub max_age: Option<i64>,
    pub path: Option<String>,
    pub domain: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct HealthCheckConfig {
    pub path: Option<String>,
    pub scheme: Option<String>,
    pub hostname: Option<String>,
    pub port: Option<u16>,
    pub method: Option<String>,
    pub status: Option<u16>,
    pub headers: Option<BTreeMap<String, String>>,
    pub interval: Option<Duration>,
    pub unhealthy_interval: Option<Duration>,
    pub timeout: Option<Duration>,
    pub follow_redirects: Option<bool>,
    pub mode: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ServersTransportConfig {
    pub forwarding_timeouts: Option<ForwardingTimeouts>,
    pub max_idle_conns_per_host: Option<i64>,
    pub insecure_skip_verify: Option<bool>,
    pub server_name: Option<String>,
    #[serde(rename = "rootCAs")]
    pub root_cas: Option<Vec<String>>,
    /// Client certificates shown to upstreams (mTLS); pylon takes one.
    #[serde(default)]
    pub certificates: Vec<ClientCertificate>,
    pub disable_http2: Option<bool>,
}

/// A client certificate of a servers transport: a file or the PEM itself, each.
#[derive(Debug, Clone, Default, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ClientCertificate {
    pub cert_file: String,
    pub key_file: String,
}

#[derive(Debug, Clone, Default, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct TlsConfig {
    #[serde(default)]
    pub certificates: Vec<CertificateConfig>,
    #[serde(default)]
    pub options: BTreeMap<String, TlsOptions>,
    #[serde(default)]
    pub stores: BTreeMap<String, TlsStore>,
}

/// `[tls.options.<name>]`: protocol versions and ciphers a router may require.
#[derive(Debug, Clone, Default, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct TlsOptions {
    /// `VersionTLS10` ... `VersionTLS13`.
    pub min_version: Option<String>,
    pub max_version: Option<String>,
    #[serde(default)]
    pub cipher_suites: Vec<String>,
    #[serde(default)]
    pub curve_preferences: Vec<String>,
    pub sni_strict: Option<bool>,
    #[serde(default)]
    pub alpn_protocols: Vec<String>,
    pub client_auth: Option<ClientAuthOptions>,
    pub disable_session_tickets: Option<bool>,
    /// Deprecated in Traefik; accepted and ignored.
    pub prefer_server_cipher_suites: Option<bool>,
}

/// `[tls.options.<name>.clientAuth]`: client certificates (mTLS).
#[derive(Debug, Clone, Default, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ClientAuthOptions {
    /// CA certificates a client's chain is verified against: PEM files or the PEM itself.
    #[serde(default)]
    pub ca_files: Vec<String>,
    /// Traefik's `NoClientCert` (default) ... `RequireAndVerifyClientCert`.
    pub client_auth_type: Option<String>,
}

/// `[tls.stores.<name>]`: the certificate served when no other matches.
#[derive(Debug, Clone, Default, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct TlsStore {
    pub default_certificate: Option<StoreCertificate>,
    pub default_generated_cert: Option<GeneratedCert>,
}

/// `defaultGeneratedCert`: the default certificate comes from a certificate resolver.
#[derive(Debug, Clone, Default, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct GeneratedCert {
    pub resolver: String,
    pub domain: Option<TlsDomain>,
}

impl GeneratedCert {
    /// The names asked for: `main` first, then the SANs, lower case.
    pub fn names(&self) -> Vec<String> {
        self.domain
            .iter()
            .flat_map(|d| d.main.iter().chain(&d.sans))
            .map(|n| n.trim_end_matches('.').to_ascii_lowercase())
            .filter(|n| !n.is_empty())
            .collect()
    }
}

#[derive(Debug, Clone, Default, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct StoreCertificate {
    pub cert_file: String,
    pub key_file: String,
}

#[derive(Debug, Clone, Default, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CertificateConfig {
    pub cert_file: String,
    pub key_file: String,
    #[serde(default)]
    pub stores: Vec<String>,
}

/// A section that may be written as `true`/`false` or as a table of options
/// (e.g. `tls = true`, `sticky.cookie = true`, or `[...sticky.cookie] name = "x"`).
#[derive(Debug, Clone)]
pub enum Toggle<T> {
    Flag(bool),
    Options(T),
}

impl<T> Toggle<T> {
    pub fn enabled(&self) -> bool {
        !matches!(self, Toggle::Flag(false))
    }
    pub fn options(&self) -> Option<&T> {
        match self {
            Toggle::Options(t) => Some(t),
            Toggle::Flag(_) => None,
        }
    }
}

/// Written back as it was read: a flag, or the table of options (the API shows it).
impl<T: serde::Serialize> serde::Serialize for Toggle<T> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Toggle::Flag(b) => s.serialize_bool(*b),
            Toggle::Options(t) => t.serialize(s),
        }
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Toggle<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<T>(PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for V<T> {
            type Value = Toggle<T>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("true, false or a table of options")
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Toggle<T>, E> {
                Ok(Toggle::Flag(v))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Toggle<T>, E> {
                match v.to_ascii_lowercase().as_str() {
                    "true" => Ok(Toggle::Flag(true)),
                    "false" => Ok(Toggle::Flag(false)),
                    _ => Err(E::custom(format!(
                        "expected true, false or a table, found `{v}`"
                    ))),
                }
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Toggle<T>, A::Error> {
                T::deserialize(de::value::MapAccessDeserializer::new(map)).map(Toggle::Options)
            }
        }
        // The table form's keys must match `T`'s fields case-insensitively, like any struct.
        d.deserialize_struct("Toggle", struct_fields::<T>(), V(PhantomData))
    }
}
