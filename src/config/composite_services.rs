//! Traefik's services made of other services besides `weighted`: `mirroring` (copies of the
//! requests to other services) and `failover` (a fallback service when the main one is down).

use serde::Deserialize;

/// `[http.services.<s>.mirroring]`: requests go to `service`; a share of them is copied to
/// each mirror, whose answers are dropped.
#[derive(Debug, Clone, Default, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct MirroringConfig {
    #[serde(default)]
    pub service: String,
    #[serde(default)]
    pub mirrors: Vec<MirrorConfig>,
    /// Default true: mirrors get the request body too (up to `maxBodySize`).
    pub mirror_body: Option<bool>,
    /// Bodies larger than this are not mirrored (the request still goes to `service`).
    pub max_body_size: Option<i64>,
    /// `healthCheck = {}`: the service's health is the main service's (Traefik); accepted.
    pub health_check: Option<toml::Table>,
}

/// One mirror: a service and the percentage of requests copied to it.
#[derive(Debug, Clone, Default, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct MirrorConfig {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub percent: i64,
}

/// `[http.services.<s>.failover]`: requests go to `service` while it has a server up, else
/// to `fallback`; with `errors`, also when `service` answers one of its statuses.
#[derive(Debug, Clone, Default, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct FailoverConfig {
    #[serde(default)]
    pub service: String,
    #[serde(default)]
    pub fallback: String,
    /// `healthCheck = {}`: the service's health is its children's (Traefik); accepted.
    pub health_check: Option<toml::Table>,
    pub errors: Option<FailoverErrors>,
}

/// `failover.errors` (Traefik v3.7): answers of the main service that send the request to the
/// fallback instead.
#[derive(Debug, Clone, Default, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct FailoverErrors {
    /// Status codes and ranges, e.g. `["500-599", "429"]`.
    #[serde(default)]
    pub status: Vec<String>,
    /// Requests with larger bodies are not sent again (default and most: 65536).
    pub max_request_body_bytes: Option<i64>,
}
