//! The static configuration: Traefik v3's keys (`entryPoints`, `providers`, `api`, `ping`, ...).

pub use super::address::{parse_address, parse_net};
use super::duration::Duration;
use super::dynamic::{HttpConfig, TlsConfig};
use super::error::ConfigError;
pub use super::observability::{
    parse_level, AccessLogConfig, AccessLogFields, AccessLogFilters, AccessLogHeaders, FieldMode,
    LogConfig, LogFormat, MetricsConfig, PrometheusConfig,
};
use crate::runtime::client_limits::{ClientLimits, HEAD_LINE_ALLOWANCE};
use crate::runtime::{EntryPoint, Redirect, TrustedNets};
use crate::upstream::Transport;
use pylon_plugins::request_path::EncodedAllowed;
use serde::Deserialize;
use std::collections::BTreeMap;

/// The whole static file. `http` and `tls` may hold the dynamic tree for simple setups.
#[derive(Debug, Clone, Default, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct StaticConfig {
    #[serde(default)]
    pub entry_points: BTreeMap<String, EntryPointConfig>,
    #[serde(default)]
    pub providers: ProvidersConfig,
    pub api: Option<ApiConfig>,
    pub ping: Option<PingConfig>,
    pub log: Option<LogConfig>,
    pub access_log: Option<AccessLogConfig>,
    pub metrics: Option<MetricsConfig>,
    pub global: Option<GlobalConfig>,
    pub servers_transport: Option<ServersTransportStatic>,
    #[serde(default)]
    pub certificates_resolvers: BTreeMap<String, super::acme::CertificateResolver>,
    /// `core.defaultRuleSyntax`: pylon reads Traefik v3's rule syntax only.
    pub core: Option<CoreConfig>,
    /// Dynamic routers/middlewares/services written in the static file itself.
    pub http: Option<HttpConfig>,
    /// Dynamic TCP routers/services written in the static file itself.
    pub tcp: Option<super::tcp::TcpConfig>,
    /// Dynamic TLS certificates written in the static file itself.
    pub tls: Option<TlsConfig>,
}

#[derive(Debug, Clone, Default, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct EntryPointConfig {
    pub address: String,
    pub http: Option<EntryPointHttp>,
    pub forwarded_headers: Option<ForwardedHeaders>,
    pub transport: Option<EntryPointTransport>,
    /// Whether requests on this entry point are logged and counted (default both on).
    pub observability: Option<EntryPointObservability>,
    /// PROXY protocol v1/v2 from load balancers in front.
    pub proxy_protocol: Option<ProxyProtocolConfig>,
    /// User routers may answer ACME challenge paths pylon is not solving (Traefik's
    /// `allowACMEByPass`); otherwise those get 404.
    #[serde(rename = "allowACMEByPass")]
    pub allow_acme_by_pass: Option<bool>,
}

/// `entryPoints.<n>.observability` (Traefik v3.3+).
#[derive(Debug, Clone, Default, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct EntryPointObservability {
    /// Access log lines for this entry point's requests (default true).
    pub access_logs: Option<bool>,
    /// Metrics for this entry point's requests (default true).
    pub metrics: Option<bool>,
    /// Tracing: pylon has none (the `tracing` section is refused), so either value is moot.
    pub tracing: Option<bool>,
}

/// `entryPoints.<n>.proxyProtocol`.
#[derive(Debug, Clone, Default, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ProxyProtocolConfig {
    #[serde(default, rename = "trustedIPs")]
    pub trusted_ips: Vec<String>,
    #[serde(default)]
    pub insecure: bool,
}

/// `[core]`.
#[derive(Debug, Clone, Default, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CoreConfig {
    /// `v3` (pylon's only syntax); `v2` is refused.
    pub default_rule_syntax: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct EntryPointHttp {
    pub redirections: Option<Redirections>,
    pub tls: Option<EntryPointTls>,
    #[serde(default)]
    pub middlewares: Vec<String>,
    /// pylon extension: requests with a larger header block get 431 (default 32 KiB).
    pub max_header_bytes: Option<usize>,
    /// Traefik v3.7: encoded characters let through in request paths (all refused by default).
    pub encoded_characters: Option<EncodedCharacters>,
}

/// `entryPoints.<n>.http.encodedCharacters`: each `true` lets one encoded character through
/// (kept encoded); check the upstream reads it as RFC 3986 says before allowing it.
#[derive(Debug, Clone, Default, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct EncodedCharacters {
    pub allow_encoded_slash: Option<bool>,
    pub allow_encoded_back_slash: Option<bool>,
    pub allow_encoded_null_character: Option<bool>,
    pub allow_encoded_semicolon: Option<bool>,
    pub allow_encoded_percent: Option<bool>,
    pub allow_encoded_question_mark: Option<bool>,
    pub allow_encoded_hash: Option<bool>,
}

impl EncodedCharacters {
    /// The runtime form.
    pub fn allowed(&self) -> EncodedAllowed {
        let on = |v: Option<bool>| v.unwrap_or(false);
        EncodedAllowed {
            slash: on(self.allow_encoded_slash),
            back_slash: on(self.allow_encoded_back_slash),
            null_character: on(self.allow_encoded_null_character),
            semicolon: on(self.allow_encoded_semicolon),
            percent: on(self.allow_encoded_percent),
            question_mark: on(self.allow_encoded_question_mark),
            hash: on(self.allow_encoded_hash),
        }
    }
}

#[derive(Debug, Clone, Default, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Redirections {
    pub entry_point: Option<RedirectEntryPoint>,
}

#[derive(Debug, Clone, Default, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RedirectEntryPoint {
    pub to: String,
    pub scheme: Option<String>,
    /// Traefik's default is `true` (301/308).
    pub permanent: Option<bool>,
    pub priority: Option<i64>,
}

#[derive(Debug, Clone, Default, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct EntryPointTls {
    pub options: Option<String>,
    pub cert_resolver: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ForwardedHeaders {
    #[serde(default, rename = "trustedIPs")]
    pub trusted_ips: Vec<String>,
    #[serde(default)]
    pub insecure: bool,
    /// Leave `X-Forwarded-For` as the client sent it (none added when absent).
    pub not_append_x_forwarded_for: Option<bool>,
}

#[derive(Debug, Clone, Default, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct EntryPointTransport {
    pub responding_timeouts: Option<RespondingTimeouts>,
    pub life_cycle: Option<LifeCycle>,
    /// Requests served on one connection before it is closed (Traefik v3; 0 = unlimited).
    pub keep_alive_max_requests: Option<i64>,
    /// Age after which a connection is closed after its current request (Traefik v3; 0 = none).
    pub keep_alive_max_time: Option<Duration>,
    /// pylon extension: open connections on this entry point (0 = unlimited).
    pub max_connections: Option<i64>,
}

#[derive(Debug, Clone, Default, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RespondingTimeouts {
    /// Whole request read, head and body (Traefik v3 default 60 s; 0 = none).
    pub read_timeout: Option<Duration>,
    /// Response write, from the end of the request head (Traefik default 0 = none).
    pub write_timeout: Option<Duration>,
    /// Keep-alive wait for the next request (Traefik default 180 s; 0 = none).
    pub idle_timeout: Option<Duration>,
    /// pylon extension: time to receive a whole request head (default 10 s; 0 = none).
    pub header_timeout: Option<Duration>,
}

#[derive(Debug, Clone, Default, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct LifeCycle {
    pub grace_time_out: Option<Duration>,
    pub request_accept_grace_timeout: Option<Duration>,
}

#[derive(Debug, Clone, Default, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ProvidersConfig {
    pub providers_throttle_duration: Option<Duration>,
    pub file: Option<FileProviderConfig>,
    pub docker: Option<DockerProviderConfig>,
    pub redis: Option<RedisProviderConfig>,
    pub etcd: Option<EtcdProviderConfig>,
}

/// `[providers.etcd]`: Traefik's key-value provider on etcd (v3 API; src/provider/etcd.rs).
/// Debug leaves the password out.
#[derive(Clone, Default, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct EtcdProviderConfig {
    /// `host:port` (or `http(s)://host:port`) of each member (default `["127.0.0.1:2379"]`).
    pub endpoints: Option<Vec<String>>,
    /// The prefix of every key (default `traefik`).
    pub root_key: Option<String>,
    pub username: Option<String>,
    pub password: Option<String>,
    pub tls: Option<EtcdTlsConfig>,
}

impl std::fmt::Debug for EtcdProviderConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EtcdProviderConfig")
            .field("endpoints", &self.endpoints)
            .field("root_key", &self.root_key)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .field("tls", &self.tls)
            .finish()
    }
}

/// `[providers.etcd.tls]`: Traefik's client TLS options (files).
#[derive(Debug, Clone, Default, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct EtcdTlsConfig {
    /// The CA certificate (PEM) that signed the members' certificates.
    pub ca: Option<String>,
    /// The client certificate and its key (PEM), for etcd's `--client-cert-auth`.
    pub cert: Option<String>,
    pub key: Option<String>,
    pub insecure_skip_verify: Option<bool>,
}

/// `[providers.redis]`: Traefik's key-value provider on Redis (src/provider/redis.rs). `tls`
/// and `sentinel` are refused with their reason (src/config/unsupported.rs). Debug leaves the
/// password out.
#[derive(Clone, Default, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RedisProviderConfig {
    /// `host:port` of each server, tried in order (default `["127.0.0.1:6379"]`).
    pub endpoints: Option<Vec<String>>,
    /// The prefix of every key (default `traefik`).
    pub root_key: Option<String>,
    pub username: Option<String>,
    pub password: Option<String>,
    /// The database selected after connecting (default 0).
    pub db: Option<i64>,
    /// pylon's extension: how often the keys are read (default 2s); Traefik follows keyspace
    /// notifications instead, which need `notify-keyspace-events` on the server.
    pub poll_interval: Option<Duration>,
}

impl std::fmt::Debug for RedisProviderConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisProviderConfig")
            .field("endpoints", &self.endpoints)
            .field("root_key", &self.root_key)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .field("db", &self.db)
            .field("poll_interval", &self.poll_interval)
            .finish()
    }
}

#[derive(Debug, Clone, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct FileProviderConfig {
    pub filename: Option<String>,
    pub directory: Option<String>,
    /// Reload on change; Traefik's default is `true`.
    #[serde(default = "yes")]
    pub watch: bool,
    /// Traefik's Go-template debugging switch; accepted and ignored.
    pub debug_log_generated_template: Option<bool>,
}

fn yes() -> bool {
    true
}

impl Default for FileProviderConfig {
    fn default() -> Self {
        FileProviderConfig {
            filename: None,
            directory: None,
            watch: true,
            debug_log_generated_template: None,
        }
    }
}

/// Where the file provider reads from (exactly one of `filename` and `directory`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileSource<'a> {
    File(&'a str),
    Directory(&'a str),
}

impl FileProviderConfig {
    /// The one source configured, or the error naming what to fix (`origin`: the static file).
    pub fn source(&self, origin: &str) -> Result<FileSource<'_>, ConfigError> {
        match (&self.filename, &self.directory) {
            (Some(f), None) => Ok(FileSource::File(f)),
            (None, Some(d)) => Ok(FileSource::Directory(d)),
            (Some(_), Some(_)) => Err(ConfigError::new(
                origin,
                "providers.file",
                "both `filename` and `directory` are set",
            )
            .with_hint("keep only one of them")),
            (None, None) => Err(ConfigError::new(
                origin,
                "providers.file",
                "neither `filename` nor `directory` is set",
            )
            .with_hint("add `filename = \"dynamic.toml\"` or `directory = \"dynamic.d\"`")),
        }
    }
}

/// Accepted now; the Docker provider is implemented in its own issue.
#[derive(Debug, Clone, Default, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct DockerProviderConfig {
    pub endpoint: Option<String>,
    pub exposed_by_default: Option<bool>,
    pub network: Option<String>,
    pub default_rule: Option<String>,
    pub watch: Option<bool>,
    pub constraints: Option<String>,
    pub allow_empty_services: Option<bool>,
    #[serde(rename = "useBindPortIP")]
    pub use_bind_port_ip: Option<bool>,
    pub http_client_timeout: Option<Duration>,
    /// pylon's label trust policy (src/provider/docker/policy.rs): the `@internal` services
    /// labels may name (default none; `["*"]` any, as Traefik).
    pub allowed_internal_services: Option<Vec<String>>,
    /// Networks (CIDR or IP) label servers may point at besides the container's own addresses
    /// (default none; `["*"]` anything, as Traefik).
    pub allowed_server_addresses: Option<Vec<String>>,
    /// Directories whose files labels may name (`usersFile`, `certFile`, ...; default none).
    pub allowed_paths: Option<Vec<String>>,
    /// Any containers may define the same router/service/middleware name (Traefik's merge);
    /// default false: only replicas of one compose service share names.
    pub allow_shared_names: Option<bool>,
}

#[derive(Debug, Clone, Default, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ApiConfig {
    /// Default `true`.
    pub dashboard: Option<bool>,
    /// Serve the API on entry point `traefik` without a router; default `false`.
    pub insecure: Option<bool>,
    pub debug: Option<bool>,
    pub base_path: Option<String>,
    pub disable_dashboard_ad: Option<bool>,
}

impl ApiConfig {
    pub fn dashboard_enabled(&self) -> bool {
        self.dashboard.unwrap_or(true)
    }
    pub fn is_insecure(&self) -> bool {
        self.insecure.unwrap_or(false)
    }
}

#[derive(Debug, Clone, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PingConfig {
    #[serde(default = "default_ping_entrypoint")]
    pub entry_point: String,
    pub manual_routing: Option<bool>,
    pub terminating_status_code: Option<u16>,
}

fn default_ping_entrypoint() -> String {
    "traefik".to_string()
}

#[derive(Debug, Clone, Default, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct GlobalConfig {
    pub check_new_version: Option<bool>,
    pub send_anonymous_usage: Option<bool>,
}

#[derive(Debug, Clone, Default, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ServersTransportStatic {
    pub insecure_skip_verify: Option<bool>,
    /// CAs upstream certificates must chain to (files or inline PEM), else the system's.
    #[serde(rename = "rootCAs")]
    pub root_cas: Option<Vec<String>>,
    pub max_idle_conns_per_host: Option<i64>,
    pub forwarding_timeouts: Option<ForwardingTimeouts>,
    /// pylon extension: how server URLs' host names are resolved.
    pub dns: Option<UpstreamDns>,
}

/// `serversTransport.dns` (pylon extension): the DNS servers asked for server URLs' host
/// names, else the system's (`/etc/resolv.conf`).
#[derive(Debug, Clone, Default, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct UpstreamDns {
    /// `ip:port` of each server (UDP, and TCP for long answers), asked in turn.
    pub servers: Option<Vec<String>>,
}

impl UpstreamDns {
    /// One entry of `servers`: an IP address with a port (a host name would need DNS itself).
    pub fn parse_server(value: &str) -> Result<std::net::SocketAddr, String> {
        value.trim().parse().map_err(|_| {
            format!("`{value}` is not an IP address with a port (a DNS server is not named by a host name)")
        })
    }
}

#[derive(Debug, Clone, Default, Deserialize, serde::Serialize, PartialEq, Eq, Hash)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ForwardingTimeouts {
    pub dial_timeout: Option<Duration>,
    pub response_header_timeout: Option<Duration>,
    pub idle_conn_timeout: Option<Duration>,
    pub read_idle_timeout: Option<Duration>,
    pub ping_timeout: Option<Duration>,
}

impl ForwardingTimeouts {
    /// The transport these timeouts describe, on top of `base`.
    pub fn apply(&self, base: &Transport) -> Transport {
        let mut t = base.clone();
        if let Some(d) = self.dial_timeout {
            t.dial_timeout = d.get();
        }
        if let Some(d) = self.response_header_timeout {
            t.read_timeout = (!d.get().is_zero()).then_some(d.get());
        }
        if let Some(d) = self.idle_conn_timeout {
            t.idle_timeout = d.get();
        }
        t
    }
}

impl EntryPointConfig {
    pub fn bind_addrs(&self) -> Vec<String> {
        parse_address(&self.address)
            .map(|(b, _)| vec![b])
            .unwrap_or_default()
    }

    pub fn port(&self) -> u16 {
        parse_address(&self.address).map_or(0, |(_, p)| p)
    }

    pub fn tls_by_default(&self) -> bool {
        self.http.as_ref().is_some_and(|h| h.tls.is_some())
    }
}

/// Default limit of a request's header block.
pub const DEFAULT_MAX_HEADER_BYTES: usize = 32 * 1024;

impl StaticConfig {
    /// The runtime view of entry point `name` (validated beforehand).
    pub fn runtime_entrypoint(
        &self,
        name: &str,
        ep: &EntryPointConfig,
        index: usize,
    ) -> EntryPoint {
        let http = ep.http.clone().unwrap_or_default();
        let redirect = http
            .redirections
            .as_ref()
            .and_then(|r| r.entry_point.as_ref())
            .map(|r| {
                let scheme = r.scheme.clone().unwrap_or_else(|| "https".to_string());
                let port = self.entry_points.get(&r.to).map_or(0, |t| t.port());
                let default_port = match scheme.as_str() {
                    "https" => 443,
                    "http" => 80,
                    _ => 0,
                };
                Redirect {
                    port: (port != default_port && port != 0).then_some(port),
                    scheme,
                    permanent: r.permanent.unwrap_or(true),
                }
            });
        let forwarded = ep.forwarded_headers.clone().unwrap_or_default();
        let trusted = TrustedNets {
            nets: forwarded
                .trusted_ips
                .iter()
                .filter_map(|s| parse_net(s).ok())
                .collect(),
            insecure: forwarded.insecure,
        };
        EntryPoint {
            name: name.to_string(),
            index,
            port: ep.port(),
            port_header: http::HeaderValue::from(ep.port()),
            redirect,
            trusted,
            ping: self.ping.as_ref().is_some_and(|p| p.entry_point == name),
            ping_terminating_status: self
                .ping
                .as_ref()
                .and_then(|p| p.terminating_status_code)
                .and_then(|code| http::StatusCode::from_u16(code).ok())
                .unwrap_or(http::StatusCode::SERVICE_UNAVAILABLE),
            metrics: self
                .metrics
                .as_ref()
                .and_then(|m| m.prometheus.as_ref())
                .is_some_and(|p| p.entry_point.as_deref().unwrap_or("traefik") == name),
            api: self.api_on_entrypoint() && name == super::internal::INTERNAL_ENTRYPOINT,
            dashboard: self.dashboard_enabled(),
            observe_internals: crate::runtime::entrypoint::ObserveInternals {
                metrics: self
                    .metrics
                    .as_ref()
                    .and_then(|m| m.add_internals)
                    .unwrap_or(false),
                access_log: self
                    .access_log
                    .as_ref()
                    .and_then(|a| a.add_internals)
                    .unwrap_or(false),
            },
            observe_requests: crate::runtime::entrypoint::ObserveRequests {
                access_log: ep
                    .observability
                    .as_ref()
                    .and_then(|o| o.access_logs)
                    .unwrap_or(true),
                metrics: ep
                    .observability
                    .as_ref()
                    .and_then(|o| o.metrics)
                    .unwrap_or(true),
            },
            allow_acme_bypass: ep.allow_acme_by_pass.unwrap_or(false),
            proxy_protocol: ep.proxy_protocol.as_ref().map(|p| {
                crate::listener::proxy_protocol::ProxyProtocol {
                    trusted: p
                        .trusted_ips
                        .iter()
                        .filter_map(|s| parse_net(s).ok())
                        .collect(),
                    insecure: p.insecure,
                }
            }),
            append_forwarded_for: !forwarded.not_append_x_forwarded_for.unwrap_or(false),
            max_header_bytes: http.max_header_bytes.unwrap_or(DEFAULT_MAX_HEADER_BYTES),
            encoded: http
                .encoded_characters
                .as_ref()
                .map(EncodedCharacters::allowed)
                .unwrap_or_default(),
            clients: ClientLimits {
                head_bytes: Some(
                    http.max_header_bytes
                        .unwrap_or(DEFAULT_MAX_HEADER_BYTES)
                        .saturating_add(HEAD_LINE_ALLOWANCE),
                ),
                ..ep.transport
                    .as_ref()
                    .map(EntryPointTransport::client_limits)
                    .unwrap_or_default()
            },
        }
    }

    /// Upstream transport defaults from `[serversTransport]`.
    pub fn transport(&self) -> Transport {
        let mut t = Transport::default();
        if let Some(st) = &self.servers_transport {
            if let Some(ft) = &st.forwarding_timeouts {
                t = ft.apply(&t);
            }
            t.insecure_skip_verify = st.insecure_skip_verify.unwrap_or(false);
            // validated at load: a CA that does not read is a config error there
            let roots = st.root_cas.as_deref().unwrap_or_default();
            t.tls = crate::upstream::tls::build(None, roots, &[])
                .ok()
                .flatten()
                .map(std::sync::Arc::new);
        }
        t
    }

    /// `serversTransport.dns.servers` (empty: the system's); invalid entries (refused by
    /// validation) are left out.
    pub fn upstream_dns_servers(&self) -> Vec<std::net::SocketAddr> {
        self.servers_transport
            .as_ref()
            .and_then(|t| t.dns.as_ref())
            .and_then(|d| d.servers.as_ref())
            .into_iter()
            .flatten()
            .filter_map(|v| UpstreamDns::parse_server(v).ok())
            .collect()
    }

    /// The longest `lifeCycle.graceTimeOut` of the entry points (Traefik's default 10 s).
    pub fn grace_timeout(&self) -> std::time::Duration {
        self.entry_points
            .values()
            .filter_map(|e| e.transport.as_ref()?.life_cycle.as_ref()?.grace_time_out)
            .map(Duration::get)
            .max()
            .unwrap_or(std::time::Duration::from_secs(10))
    }

    /// The configured log level (Traefik's default ERROR).
    pub fn log_level_filter(&self) -> log::LevelFilter {
        let level = self
            .log
            .as_ref()
            .and_then(|l| l.level.as_deref())
            .unwrap_or("ERROR");
        parse_level(level).unwrap_or(log::LevelFilter::Error)
    }
}
