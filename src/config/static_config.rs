//! The static configuration: Traefik v3's keys (`entryPoints`, `providers`, `api`, `ping`, ...).

use super::duration::Duration;
use super::dynamic::{HttpConfig, TlsConfig};
use crate::runtime::{EntryPoint, Redirect, TrustedNets};
use crate::upstream::Transport;
use serde::Deserialize;
use std::collections::BTreeMap;

/// The whole static file. `http` and `tls` may hold the dynamic tree for simple setups.
#[derive(Debug, Clone, Default, Deserialize)]
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
    /// Dynamic routers/middlewares/services written in the static file itself.
    pub http: Option<HttpConfig>,
    /// Dynamic TLS certificates written in the static file itself.
    pub tls: Option<TlsConfig>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct EntryPointConfig {
    pub address: String,
    pub http: Option<EntryPointHttp>,
    pub forwarded_headers: Option<ForwardedHeaders>,
    pub transport: Option<EntryPointTransport>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct EntryPointHttp {
    pub redirections: Option<Redirections>,
    pub tls: Option<EntryPointTls>,
    #[serde(default)]
    pub middlewares: Vec<String>,
    /// pylon extension: requests with a larger header block get 431 (default 32 KiB).
    pub max_header_bytes: Option<usize>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Redirections {
    pub entry_point: Option<RedirectEntryPoint>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RedirectEntryPoint {
    pub to: String,
    pub scheme: Option<String>,
    /// Traefik's default is `true` (301/308).
    pub permanent: Option<bool>,
    pub priority: Option<i64>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct EntryPointTls {
    pub options: Option<String>,
    pub cert_resolver: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ForwardedHeaders {
    #[serde(default, rename = "trustedIPs")]
    pub trusted_ips: Vec<String>,
    #[serde(default)]
    pub insecure: bool,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct EntryPointTransport {
    pub responding_timeouts: Option<RespondingTimeouts>,
    pub life_cycle: Option<LifeCycle>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RespondingTimeouts {
    pub read_timeout: Option<Duration>,
    pub write_timeout: Option<Duration>,
    pub idle_timeout: Option<Duration>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct LifeCycle {
    pub grace_time_out: Option<Duration>,
    pub request_accept_grace_timeout: Option<Duration>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ProvidersConfig {
    pub providers_throttle_duration: Option<Duration>,
    pub file: Option<FileProviderConfig>,
    pub docker: Option<DockerProviderConfig>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct FileProviderConfig {
    pub filename: Option<String>,
    pub directory: Option<String>,
    #[serde(default)]
    pub watch: bool,
}

/// Accepted now; the Docker provider is implemented in its own issue.
#[derive(Debug, Clone, Default, Deserialize)]
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
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ApiConfig {
    pub dashboard: Option<bool>,
    pub insecure: Option<bool>,
    pub debug: Option<bool>,
    pub base_path: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
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

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct LogConfig {
    pub level: Option<String>,
    pub format: Option<String>,
    pub file_path: Option<String>,
}

/// Accepted now; implemented with the observability issue.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct AccessLogConfig {
    pub file_path: Option<String>,
    pub format: Option<String>,
    pub buffering_size: Option<u64>,
    pub filters: Option<toml::Table>,
    pub fields: Option<toml::Table>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct MetricsConfig {
    pub prometheus: Option<PrometheusConfig>,
}

/// Accepted now; implemented with the observability issue.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PrometheusConfig {
    pub buckets: Option<Vec<f64>>,
    pub add_entry_points_labels: Option<bool>,
    pub add_routers_labels: Option<bool>,
    pub add_services_labels: Option<bool>,
    pub entry_point: Option<String>,
    pub manual_routing: Option<bool>,
    pub prefix: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct GlobalConfig {
    pub check_new_version: Option<bool>,
    pub send_anonymous_usage: Option<bool>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ServersTransportStatic {
    pub insecure_skip_verify: Option<bool>,
    pub max_idle_conns_per_host: Option<i64>,
    pub forwarding_timeouts: Option<ForwardingTimeouts>,
}

#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq, Hash)]
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

/// Splits an entry point address into a bind string: ":80" → "0.0.0.0:80".
pub fn parse_address(address: &str) -> Result<(String, u16), String> {
    let fix = "write \":8000\", \"127.0.0.1:8000\" or \"[::1]:8000\"";
    let addr = address.strip_suffix("/tcp").unwrap_or(address);
    let (host, port) = addr
        .rsplit_once(':')
        .ok_or_else(|| format!("`{address}` has no port: {fix}"))?;
    let port: u16 = port
        .parse()
        .ok()
        .filter(|p| *p != 0)
        .ok_or_else(|| format!("`{address}` has no valid port (1-65535): {fix}"))?;
    let host = if host.is_empty() { "0.0.0.0" } else { host };
    let bind = format!("{host}:{port}");
    bind.parse::<std::net::SocketAddr>()
        .map_err(|_| format!("`{address}` is not an IP address and port: {fix}"))?;
    Ok((bind, port))
}

impl EntryPointConfig {
    pub fn bind_addrs(&self) -> Vec<String> {
        parse_address(&self.address).map(|(b, _)| vec![b]).unwrap_or_default()
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
    pub fn runtime_entrypoint(&self, name: &str, ep: &EntryPointConfig, index: usize) -> EntryPoint {
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
            nets: forwarded.trusted_ips.iter().filter_map(|s| parse_net(s).ok()).collect(),
            insecure: forwarded.insecure,
        };
        EntryPoint {
            name: name.to_string(),
            index,
            port: ep.port(),
            redirect,
            trusted,
            ping: self.ping.as_ref().is_some_and(|p| p.entry_point == name),
            max_header_bytes: http.max_header_bytes.unwrap_or(DEFAULT_MAX_HEADER_BYTES),
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
        }
        t
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

    pub fn log_level_filter(&self) -> log::LevelFilter {
        let level = self.log.as_ref().and_then(|l| l.level.as_deref()).unwrap_or("ERROR");
        parse_level(level).unwrap_or(log::LevelFilter::Error)
    }
}

/// Traefik's log levels.
pub fn parse_level(level: &str) -> Option<log::LevelFilter> {
    Some(match level.to_ascii_uppercase().as_str() {
        "TRACE" => log::LevelFilter::Trace,
        "DEBUG" => log::LevelFilter::Debug,
        "INFO" => log::LevelFilter::Info,
        "WARN" | "WARNING" => log::LevelFilter::Warn,
        "ERROR" | "FATAL" | "PANIC" => log::LevelFilter::Error,
        _ => return None,
    })
}

/// An IP or CIDR ("10.0.0.0/8", "127.0.0.1", "::1").
pub fn parse_net(text: &str) -> Result<ipnet::IpNet, String> {
    let t = text.trim();
    t.parse::<ipnet::IpNet>()
        .or_else(|_| t.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
        .map_err(|_| format!("`{text}` is neither an IP address nor a CIDR range (e.g. \"10.0.0.0/8\")"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_in_traefik_forms() {
        assert_eq!(parse_address(":8000").unwrap(), ("0.0.0.0:8000".into(), 8000));
        assert_eq!(parse_address("127.0.0.1:80").unwrap(), ("127.0.0.1:80".into(), 80));
        assert_eq!(parse_address("[::1]:8443").unwrap(), ("[::1]:8443".into(), 8443));
        assert_eq!(parse_address(":443/tcp").unwrap().1, 443);
        assert!(parse_address("8000").is_err());
        assert!(parse_address(":0").is_err());
        assert!(parse_address(":99999").is_err());
        assert!(parse_address("localhost:80").is_err());
    }

    #[test]
    fn nets_accept_ips_and_cidrs() {
        assert!(parse_net("10.0.0.0/8").is_ok());
        assert!(parse_net("127.0.0.1").is_ok());
        assert!(parse_net("::1").is_ok());
        assert!(parse_net("nope").is_err());
    }
}
