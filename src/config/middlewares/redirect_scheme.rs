//! `redirectScheme` settings: send the client to the same URL on another scheme (and port).

use serde::Deserialize;

/// Traefik's `redirectScheme`: `scheme` (required), `port`, `permanent`.
#[derive(Debug, Clone, Default, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RedirectSchemeConfig {
    /// The scheme of the new URL, e.g. `https`.
    pub scheme: Option<String>,
    /// The port of the new URL (a string in Traefik; a TOML integer is accepted too).
    pub port: Option<String>,
    /// 301/308 instead of 302/307.
    pub permanent: Option<bool>,
}

#[cfg(test)]
mod tests {
    use crate::config::{from_tree, DynamicConfig};

    #[test]
    fn port_is_a_string_or_an_integer() {
        for port in ["\"8443\"", "8443"] {
            let text = format!(
                "[http.middlewares.m.redirectScheme]\nscheme = \"https\"\nport = {port}\npermanent = \"true\"\n"
            );
            let d: DynamicConfig = from_tree(toml::from_str(&text).unwrap(), "t").unwrap();
            let crate::config::dynamic::MiddlewareConfig::RedirectScheme(m) =
                &d.http.middlewares["m"]
            else {
                panic!("not redirectScheme")
            };
            assert_eq!(m.port.as_deref(), Some("8443"));
            assert_eq!(m.permanent, Some(true));
        }
    }
}
