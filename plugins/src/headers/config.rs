//! `headers` settings: every key of Traefik v3's `headers` middleware, and which of its three
//! parts (custom headers, CORS, security headers) they turn on.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Traefik v3's `headers` middleware, every key of its dynamic configuration.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Config {
    /// Set on the request before proxying; an empty value removes the header.
    #[serde(default)]
    pub custom_request_headers: BTreeMap<String, String>,
    /// Set on the response; an empty value removes the header.
    #[serde(default)]
    pub custom_response_headers: BTreeMap<String, String>,

    pub access_control_allow_credentials: Option<bool>,
    #[serde(default)]
    pub access_control_allow_headers: Vec<String>,
    #[serde(default)]
    pub access_control_allow_methods: Vec<String>,
    #[serde(default)]
    pub access_control_allow_origin_list: Vec<String>,
    #[serde(default)]
    pub access_control_allow_origin_list_regex: Vec<String>,
    #[serde(default)]
    pub access_control_expose_headers: Vec<String>,
    pub access_control_max_age: Option<i64>,
    pub add_vary_header: Option<bool>,

    #[serde(default)]
    pub allowed_hosts: Vec<String>,
    #[serde(default)]
    pub hosts_proxy_headers: Vec<String>,
    #[serde(default)]
    pub ssl_proxy_headers: BTreeMap<String, String>,
    pub sts_seconds: Option<i64>,
    pub sts_include_subdomains: Option<bool>,
    pub sts_preload: Option<bool>,
    #[serde(rename = "forceSTSHeader")]
    pub force_sts_header: Option<bool>,
    pub frame_deny: Option<bool>,
    pub custom_frame_options_value: Option<String>,
    pub content_type_nosniff: Option<bool>,
    pub browser_xss_filter: Option<bool>,
    #[serde(rename = "customBrowserXSSValue")]
    pub custom_browser_xss_value: Option<String>,
    pub content_security_policy: Option<String>,
    pub content_security_policy_report_only: Option<String>,
    pub public_key: Option<String>,
    pub referrer_policy: Option<String>,
    pub permissions_policy: Option<String>,
    pub is_development: Option<bool>,

    /// Deprecated in Traefik (use `permissionsPolicy`); still sent as `Feature-Policy`.
    pub feature_policy: Option<String>,
    /// Deprecated in Traefik and without effect in pylon (use entry point redirection or
    /// `redirectScheme`); accepted with a warning.
    pub ssl_redirect: Option<bool>,
    pub ssl_temporary_redirect: Option<bool>,
    /// Deprecated in Traefik and without effect in pylon (use `redirectRegex`).
    pub ssl_host: Option<String>,
    pub ssl_force_host: Option<bool>,
}

impl Config {
    /// Traefik's `HasCustomHeadersDefined`.
    pub fn has_custom(&self) -> bool {
        !self.custom_request_headers.is_empty() || !self.custom_response_headers.is_empty()
    }

    /// Traefik's `HasCorsHeadersDefined`: when set, preflights are answered by the middleware.
    pub fn has_cors(&self) -> bool {
        self.access_control_allow_credentials == Some(true)
            || !self.access_control_allow_headers.is_empty()
            || !self.access_control_allow_methods.is_empty()
            || !self.access_control_allow_origin_list.is_empty()
            || !self.access_control_allow_origin_list_regex.is_empty()
            || !self.access_control_expose_headers.is_empty()
            || self.access_control_max_age.is_some_and(|a| a != 0)
            || self.add_vary_header == Some(true)
    }

    /// Traefik's `HasSecureHeadersDefined`.
    pub fn has_secure(&self) -> bool {
        let on = |b: Option<bool>| b == Some(true);
        let set = |s: &Option<String>| s.as_deref().is_some_and(|s| !s.is_empty());
        !self.allowed_hosts.is_empty()
            || !self.hosts_proxy_headers.is_empty()
            || !self.ssl_proxy_headers.is_empty()
            || self.sts_seconds.is_some_and(|s| s != 0)
            || on(self.sts_include_subdomains)
            || on(self.sts_preload)
            || on(self.force_sts_header)
            || on(self.frame_deny)
            || set(&self.custom_frame_options_value)
            || on(self.content_type_nosniff)
            || on(self.browser_xss_filter)
            || set(&self.custom_browser_xss_value)
            || set(&self.content_security_policy)
            || set(&self.content_security_policy_report_only)
            || set(&self.public_key)
            || set(&self.referrer_policy)
            || set(&self.permissions_policy)
            || set(&self.feature_policy)
            || on(self.is_development)
            || on(self.ssl_redirect)
            || on(self.ssl_temporary_redirect)
            || on(self.ssl_force_host)
            || set(&self.ssl_host)
    }

    /// The deprecated keys that are set: (key, what to use instead). They have no effect.
    pub fn ignored_deprecated(&self) -> Vec<(&'static str, &'static str)> {
        let mut out = Vec::new();
        let redirect = "entry point redirection or the redirectScheme middleware";
        if self.ssl_redirect.is_some() {
            out.push(("sslRedirect", redirect));
        }
        if self.ssl_temporary_redirect.is_some() {
            out.push(("sslTemporaryRedirect", redirect));
        }
        if self.ssl_host.is_some() {
            out.push(("sslHost", "the redirectRegex middleware"));
        }
        if self.ssl_force_host.is_some() {
            out.push(("sslForceHost", "the redirectRegex middleware"));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn traefik_spellings_are_the_keys() {
        let cfg: Config = toml::from_str(
            "forceSTSHeader = true
customBrowserXSSValue = \"0\"",
        )
        .unwrap();
        assert_eq!(cfg.force_sts_header, Some(true));
        assert!(cfg.has_secure() && !cfg.has_cors() && !cfg.has_custom());
        assert!(toml::from_str::<Config>("unknownKey = 1").is_err());
    }
}
