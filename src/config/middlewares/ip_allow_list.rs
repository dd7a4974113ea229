//! `ipAllowList` settings: the client addresses a router accepts.

use super::IpStrategy;
use serde::Deserialize;

/// Traefik's `ipAllowList`: `sourceRange`, `ipStrategy`, `rejectStatusCode` (default 403).
#[derive(Debug, Clone, Default, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct IpAllowListConfig {
    /// Allowed IPs and CIDR ranges.
    #[serde(default)]
    pub source_range: Vec<String>,
    /// How the client IP is taken (default: the connection's peer).
    pub ip_strategy: Option<IpStrategy>,
    /// Status of the refusal (default 403).
    pub reject_status_code: Option<i64>,
}

#[cfg(test)]
mod tests {
    use crate::config::{from_tree, DynamicConfig};

    #[test]
    fn label_form_strings_and_lower_case_keys() {
        let labels: toml::Value = toml::from_str(
            r#"[http.middlewares.m.ipallowlist]
sourcerange = "10.0.0.0/8, 127.0.0.1/32"
rejectstatuscode = "404"
ipstrategy.depth = "2"
ipstrategy.excludedips = "1.2.3.4"
"#,
        )
        .unwrap();
        let d: DynamicConfig = from_tree(labels, "labels").unwrap();
        let crate::config::dynamic::MiddlewareConfig::IpAllowList(m) =
            d.http.middlewares["m"].clone()
        else {
            panic!("not ipAllowList")
        };
        assert_eq!(m.source_range, ["10.0.0.0/8", "127.0.0.1/32"]);
        assert_eq!(m.reject_status_code, Some(404));
        let s = m.ip_strategy.unwrap();
        assert_eq!(
            (s.depth, s.excluded_ips),
            (Some(2), vec!["1.2.3.4".to_string()])
        );
    }
}
