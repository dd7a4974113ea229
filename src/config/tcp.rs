//! Traefik's `tcp` section of the dynamic configuration: TCP routers (by TLS server name, ALPN
//! or client address), TCP services and TCP middlewares.

use super::dynamic::TlsDomain;
use serde::Deserialize;
use std::collections::BTreeMap;

#[derive(Debug, Clone, Default, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct TcpConfig {
    #[serde(default)]
    pub routers: BTreeMap<String, TcpRouterConfig>,
    #[serde(default)]
    pub services: BTreeMap<String, TcpServiceConfig>,
    #[serde(default)]
    pub middlewares: BTreeMap<String, TcpMiddlewareConfig>,
    /// Not implemented yet: refused by validation with the key named.
    #[serde(default)]
    pub servers_transports: BTreeMap<String, toml::Value>,
}

impl TcpConfig {
    pub fn is_empty(&self) -> bool {
        self.routers.is_empty()
            && self.services.is_empty()
            && self.middlewares.is_empty()
            && self.servers_transports.is_empty()
    }
}

/// `[tcp.routers.<name>]`.
#[derive(Debug, Clone, Default, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct TcpRouterConfig {
    #[serde(default)]
    pub entry_points: Vec<String>,
    #[serde(default)]
    pub rule: String,
    #[serde(default)]
    pub service: String,
    pub priority: Option<i64>,
    #[serde(default)]
    pub middlewares: Vec<String>,
    pub tls: Option<TcpRouterTls>,
    /// Traefik v3's `ruleSyntax` (`v3` only in pylon).
    pub rule_syntax: Option<String>,
}

/// `[tcp.routers.<name>.tls]`: TLS terminated by pylon (the store's certificates), or relayed
/// untouched with `passthrough`.
#[derive(Debug, Clone, Default, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct TcpRouterTls {
    pub passthrough: Option<bool>,
    pub options: Option<String>,
    pub cert_resolver: Option<String>,
    #[serde(default)]
    pub domains: Vec<TlsDomain>,
}

/// `[tcp.services.<name>]`: exactly one kind.
#[derive(Debug, Clone, Default, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct TcpServiceConfig {
    pub load_balancer: Option<TcpLoadBalancer>,
    pub weighted: Option<TcpWeighted>,
}

#[derive(Debug, Clone, Default, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct TcpLoadBalancer {
    #[serde(default)]
    pub servers: Vec<TcpServer>,
    /// Label form: `loadbalancer.server.port` / `.tls` (the container's address is added by
    /// the Docker provider).
    pub server: Option<TcpLabelServer>,
    pub proxy_protocol: Option<TcpProxyProtocol>,
    /// Traefik v2's half-close delay (deprecated in v3): refused, see validation.
    pub termination_delay: Option<i64>,
    pub servers_transport: Option<String>,
    pub health_check: Option<toml::Value>,
}

/// One backend: `address` is `host:port`.
#[derive(Debug, Clone, Default, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct TcpServer {
    #[serde(default)]
    pub address: String,
    pub weight: Option<i64>,
    pub tls: Option<bool>,
}

/// `tcp.services.<s>.loadbalancer.server.*` labels.
#[derive(Debug, Clone, Default, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct TcpLabelServer {
    pub port: Option<u16>,
    pub tls: Option<bool>,
    pub weight: Option<i64>,
}

/// `proxyProtocol`: a PROXY protocol header sent to the backend first.
#[derive(Debug, Clone, Default, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct TcpProxyProtocol {
    /// 1 (text) or 2 (binary), default 2.
    pub version: Option<i64>,
}

#[derive(Debug, Clone, Default, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct TcpWeighted {
    #[serde(default)]
    pub services: Vec<TcpWeightedService>,
}

#[derive(Debug, Clone, Default, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct TcpWeightedService {
    #[serde(default)]
    pub name: String,
    pub weight: Option<i64>,
}

/// `[tcp.middlewares.<name>]`: exactly one kind.
#[derive(Debug, Clone, Default, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct TcpMiddlewareConfig {
    pub ip_allow_list: Option<TcpIpAllowList>,
    pub in_flight_conn: Option<TcpInFlightConn>,
    /// Traefik v2's name, removed in v3: refused with the new name.
    pub ip_white_list: Option<toml::Value>,
}

#[derive(Debug, Clone, Default, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct TcpIpAllowList {
    #[serde(default)]
    pub source_range: Vec<String>,
}

#[derive(Debug, Clone, Default, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct TcpInFlightConn {
    pub amount: Option<i64>,
}
