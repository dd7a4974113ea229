//! `tls.options` in force: per server name, the protocol versions and TLS 1.2 cipher suites a
//! handshake may use, and whether unknown or missing SNI is refused (`sniStrict`). Routers name
//! their options; their `Host` rules say which server names get them (as in Traefik).

use super::client_auth::{ClientAuth, ClientAuthType};
use crate::config::dynamic::TlsOptions;
use openssl::ssl::{SslRef, SslVersion};
use std::collections::HashMap;
use std::ffi::CString;
use std::sync::Arc;

/// Traefik's (Go's) cipher suite names and OpenSSL's for them (TLS 1.2 and below).
const CIPHERS: [(&str, &str); 21] = [
    (
        "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
        "ECDHE-ECDSA-AES128-GCM-SHA256",
    ),
    (
        "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
        "ECDHE-RSA-AES128-GCM-SHA256",
    ),
    (
        "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
        "ECDHE-ECDSA-AES256-GCM-SHA384",
    ),
    (
        "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
        "ECDHE-RSA-AES256-GCM-SHA384",
    ),
    (
        "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305",
        "ECDHE-ECDSA-CHACHA20-POLY1305",
    ),
    (
        "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
        "ECDHE-ECDSA-CHACHA20-POLY1305",
    ),
    (
        "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305",
        "ECDHE-RSA-CHACHA20-POLY1305",
    ),
    (
        "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
        "ECDHE-RSA-CHACHA20-POLY1305",
    ),
    (
        "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA",
        "ECDHE-ECDSA-AES128-SHA",
    ),
    ("TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA", "ECDHE-RSA-AES128-SHA"),
    (
        "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA",
        "ECDHE-ECDSA-AES256-SHA",
    ),
    ("TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA", "ECDHE-RSA-AES256-SHA"),
    (
        "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256",
        "ECDHE-ECDSA-AES128-SHA256",
    ),
    (
        "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256",
        "ECDHE-RSA-AES128-SHA256",
    ),
    ("TLS_RSA_WITH_AES_128_GCM_SHA256", "AES128-GCM-SHA256"),
    ("TLS_RSA_WITH_AES_256_GCM_SHA384", "AES256-GCM-SHA384"),
    ("TLS_RSA_WITH_AES_128_CBC_SHA", "AES128-SHA"),
    ("TLS_RSA_WITH_AES_256_CBC_SHA", "AES256-SHA"),
    ("TLS_RSA_WITH_AES_128_CBC_SHA256", "AES128-SHA256"),
    (
        "TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA",
        "ECDHE-RSA-DES-CBC3-SHA",
    ),
    ("TLS_RSA_WITH_3DES_EDE_CBC_SHA", "DES-CBC3-SHA"),
];

/// TLS 1.3 suites: always on in Go (so in Traefik), accepted in `cipherSuites` and ignored.
const TLS13_SUITES: [&str; 3] = [
    "TLS_AES_128_GCM_SHA256",
    "TLS_AES_256_GCM_SHA384",
    "TLS_CHACHA20_POLY1305_SHA256",
];

/// Whether `name` is a cipher suite name `cipherSuites` accepts.
pub fn is_known_cipher(name: &str) -> bool {
    TLS13_SUITES.contains(&name) || CIPHERS.iter().any(|(go, _)| *go == name)
}

/// `VersionTLS12` → TLS 1.2.
/// `curvePreferences`: Go's names (Traefik's) and OpenSSL's.
pub const CURVES: [(&str, &str); 4] = [
    ("CurveP256", "P-256"),
    ("CurveP384", "P-384"),
    ("CurveP521", "P-521"),
    ("X25519", "X25519"),
];

/// `alpnProtocols` pylon can speak (Traefik's default list).
pub const ALPN_PROTOCOLS: [&str; 3] = ["h2", "http/1.1", "acme-tls/1"];

pub fn parse_version(name: &str) -> Option<SslVersion> {
    Some(match name {
        "VersionTLS10" => SslVersion::TLS1,
        "VersionTLS11" => SslVersion::TLS1_1,
        "VersionTLS12" => SslVersion::TLS1_2,
        "VersionTLS13" => SslVersion::TLS1_3,
        _ => return None,
    })
}

/// One `tls.options` entry, ready to apply to a handshake.
#[derive(Debug, Clone)]
pub struct TlsPolicy {
    /// `name@provider` (`default` for the default options).
    pub name: String,
    min_version: SslVersion,
    max_version: Option<SslVersion>,
    /// OpenSSL cipher list for TLS 1.2 and below; `None`: the acceptor's (Mozilla intermediate).
    cipher_list: Option<String>,
    /// Refuse handshakes without SNI or naming no configured certificate.
    pub sni_strict: bool,
    /// `curvePreferences` as an OpenSSL group list; `None`: OpenSSL's defaults.
    groups: Option<CString>,
    /// `alpnProtocols`: whether h2 and http/1.1 may be chosen (acme-tls/1 is answered for
    /// challenges whatever the list).
    pub alpn_h2: bool,
    pub alpn_http11: bool,
    /// `disableSessionTickets`.
    no_session_tickets: bool,
    /// `clientAuth`; `None` asks for no client certificate.
    client_auth: Option<Arc<ClientAuth>>,
}

impl Default for TlsPolicy {
    /// pylon's default: TLS 1.2 and up, Mozilla's intermediate ciphers, SNI optional.
    fn default() -> Self {
        TlsPolicy {
            name: "default".to_string(),
            min_version: SslVersion::TLS1_2,
            max_version: None,
            cipher_list: None,
            sni_strict: false,
            groups: None,
            alpn_h2: true,
            alpn_http11: true,
            no_session_tickets: false,
            client_auth: None,
        }
    }
}

impl TlsPolicy {
    /// The policy of `options` (validated: unknown names are skipped here).
    pub fn from_options(name: &str, options: &TlsOptions) -> TlsPolicy {
        let ciphers: Vec<&str> = options
            .cipher_suites
            .iter()
            .filter_map(|c| CIPHERS.iter().find(|(go, _)| go == c).map(|(_, o)| *o))
            .collect();
        TlsPolicy {
            name: name.to_string(),
            min_version: options
                .min_version
                .as_deref()
                .and_then(parse_version)
                .unwrap_or(SslVersion::TLS1_2),
            max_version: options.max_version.as_deref().and_then(parse_version),
            cipher_list: (!ciphers.is_empty()).then(|| ciphers.join(":")),
            sni_strict: options.sni_strict.unwrap_or(false),
            groups: groups(&options.curve_preferences),
            alpn_h2: alpn_allows(&options.alpn_protocols, "h2"),
            alpn_http11: alpn_allows(&options.alpn_protocols, "http/1.1"),
            no_session_tickets: options.disable_session_tickets.unwrap_or(false),
            client_auth: options.client_auth.as_ref().and_then(|c| {
                let kind = c
                    .client_auth_type
                    .as_deref()
                    .and_then(ClientAuthType::parse)
                    .unwrap_or(ClientAuthType::NoClientCert);
                (kind != ClientAuthType::NoClientCert)
                    .then(|| Arc::new(ClientAuth::new(name, kind, &c.ca_files)))
            }),
        }
    }

    /// Sets this policy's versions and ciphers on a handshake in progress.
    pub fn apply(&self, ssl: &mut SslRef) -> Result<(), openssl::error::ErrorStack> {
        ssl.set_min_proto_version(Some(self.min_version))?;
        ssl.set_max_proto_version(self.max_version)?;
        if let Some(list) = &self.cipher_list {
            ssl.set_cipher_list(list)?;
        }
        if let Some(groups) = &self.groups {
            super::ssl_settings::set_groups(ssl, groups)?;
        }
        if self.no_session_tickets {
            super::ssl_settings::disable_session_tickets(ssl)?;
        }
        if let Some(auth) = &self.client_auth {
            auth.apply(ssl)?;
        }
        Ok(())
    }
}

/// The OpenSSL group list of `curvePreferences` (validated: unknown names are skipped here).
fn groups(curves: &[String]) -> Option<CString> {
    let list: Vec<&str> = curves
        .iter()
        .filter_map(|c| CURVES.iter().find(|(go, _)| go == c).map(|(_, o)| *o))
        .collect();
    (!list.is_empty())
        .then(|| CString::new(list.join(":")).ok())
        .flatten()
}

/// Whether `alpnProtocols` lets `protocol` be chosen (an empty list: Traefik's default, all).
fn alpn_allows(list: &[String], protocol: &str) -> bool {
    list.is_empty() || list.iter().any(|p| p == protocol)
}

/// Every policy in force: by server name, else the default.
#[derive(Debug, Clone, Default)]
pub struct TlsPolicies {
    default: Arc<TlsPolicy>,
    by_name: HashMap<String, Arc<TlsPolicy>>,
    /// `Host(`*.parent`)` routers' policies, by `parent`.
    by_parent: HashMap<String, Arc<TlsPolicy>>,
    /// A `Host(`*`)` router's policy: every name no other router claims.
    any_name: Option<Arc<TlsPolicy>>,
}

impl TlsPolicies {
    /// `default` applies to names no router claims; `by_name` maps lower-case host names
    /// (`*.parent` and `*` from wildcard `Host` rules included).
    pub fn new(default: TlsPolicy, by_name: HashMap<String, Arc<TlsPolicy>>) -> TlsPolicies {
        let mut exact = HashMap::new();
        let mut by_parent = HashMap::new();
        let mut any_name = None;
        for (name, policy) in by_name {
            if name == "*" {
                any_name = Some(policy);
            } else if let Some(parent) = name.strip_prefix("*.") {
                by_parent.insert(parent.to_string(), policy);
            } else {
                exact.insert(name, policy);
            }
        }
        TlsPolicies {
            default: Arc::new(default),
            by_name: exact,
            by_parent,
            any_name,
        }
    }

    /// The policy for a server name (normalised: see [`super::server_name::normalize`]).
    pub fn for_name(&self, sni: Option<&str>) -> &Arc<TlsPolicy> {
        let Some(name) = sni else {
            return &self.default;
        };
        // the name itself, then a `Host(`*.parent`)` router's, then a `Host(`*`)` router's
        self.by_name
            .get(name)
            .or_else(|| {
                let (_, parent) = name.split_once('.')?;
                self.by_parent.get(parent)
            })
            .or(self.any_name.as_ref())
            .unwrap_or(&self.default)
    }

    /// Whether every name gets the default policy (no router chose options of its own).
    pub fn only_default(&self) -> bool {
        self.by_name.is_empty() && self.by_parent.is_empty() && self.any_name.is_none()
    }

    pub fn default_policy(&self) -> &TlsPolicy {
        &self.default
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options(text: &str) -> TlsOptions {
        toml::from_str(text).unwrap()
    }

    #[test]
    fn options_become_versions_and_an_openssl_cipher_list() {
        let p = TlsPolicy::from_options(
            "modern",
            &options(
                "minVersion = \"VersionTLS13\"\nsniStrict = true\ncipherSuites = [\"TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256\", \"TLS_AES_128_GCM_SHA256\"]",
            ),
        );
        assert_eq!(p.min_version, SslVersion::TLS1_3);
        assert_eq!(
            p.cipher_list.as_deref(),
            Some("ECDHE-RSA-AES128-GCM-SHA256")
        );
        assert!(p.sni_strict);
        let d = TlsPolicy::from_options("x", &options(""));
        assert_eq!(d.min_version, SslVersion::TLS1_2);
        assert_eq!(d.cipher_list, None);
    }

    #[test]
    fn names_pick_their_policy_and_others_get_the_default() {
        let strict = Arc::new(TlsPolicy {
            name: "strict@file".into(),
            ..TlsPolicy::default()
        });
        let p = TlsPolicies::new(
            TlsPolicy::default(),
            HashMap::from([("a.test".to_string(), strict)]),
        );
        assert_eq!(p.for_name(Some("a.test")).name, "strict@file");
        assert_eq!(p.for_name(Some("b.test")).name, "default");
        assert_eq!(p.for_name(None).name, "default");
    }

    #[test]
    fn wildcard_host_routers_give_their_names_their_policy() {
        let named = |name: &str| {
            Arc::new(TlsPolicy {
                name: name.into(),
                ..TlsPolicy::default()
            })
        };
        let p = TlsPolicies::new(
            TlsPolicy::default(),
            HashMap::from([
                ("a.test".to_string(), named("exact")),
                ("*.test".to_string(), named("one-label")),
            ]),
        );
        assert_eq!(p.for_name(Some("a.test")).name, "exact");
        assert_eq!(p.for_name(Some("b.test")).name, "one-label");
        assert_eq!(p.for_name(Some("x.b.test")).name, "default");
        assert_eq!(p.for_name(Some("test")).name, "default");
        let any = TlsPolicies::new(
            TlsPolicy::default(),
            HashMap::from([("*".to_string(), named("any"))]),
        );
        assert_eq!(any.for_name(Some("whatever.example")).name, "any");
        assert!(!any.only_default());
    }

    #[test]
    fn cipher_names_are_traefiks() {
        assert!(is_known_cipher("TLS_RSA_WITH_AES_128_GCM_SHA256"));
        assert!(is_known_cipher("TLS_CHACHA20_POLY1305_SHA256"));
        assert!(!is_known_cipher("ECDHE-RSA-AES128-GCM-SHA256"));
    }
}
