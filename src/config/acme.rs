//! The static `certificatesResolvers.<name>.acme` keys (Traefik v3) and their checks.

use super::duration::Duration;
use super::dynamic::DynamicConfig;
use super::error::ConfigError;
use super::static_config::StaticConfig;
use serde::Deserialize;

/// Let's Encrypt's production directory, Traefik's default `caServer`.
pub const LETS_ENCRYPT_PRODUCTION: &str = "https://acme-v02.api.letsencrypt.org/directory";
/// Let's Encrypt's staging directory (untrusted certificates, generous rate limits).
pub const LETS_ENCRYPT_STAGING: &str = "https://acme-staging-v02.api.letsencrypt.org/directory";
/// Traefik's default `storage`.
pub const DEFAULT_STORAGE: &str = "acme.json";
/// Traefik's default `certificatesDuration`, in hours (90 days).
pub const DEFAULT_CERTIFICATES_DURATION_HOURS: u64 = 2160;
pub use super::dns_challenge::SUPPORTED_DNS_PROVIDERS;

/// `[certificatesResolvers.<name>]`.
#[derive(Debug, Clone, Default, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CertificateResolver {
    pub acme: Option<AcmeResolver>,
    /// Traefik's Tailscale resolver: recognised so the error is clear.
    pub tailscale: Option<toml::Table>,
}

/// `[certificatesResolvers.<name>.acme]`.
#[derive(Debug, Clone, Default, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct AcmeResolver {
    pub email: Option<String>,
    /// The ACME directory URL (default Let's Encrypt production).
    pub ca_server: Option<String>,
    /// The acme.json file (default `acme.json`), shared by resolvers as in Traefik.
    pub storage: Option<String>,
    /// `RSA4096` (default), `RSA2048`, `RSA8192`, `EC256`, `EC384`.
    pub key_type: Option<String>,
    /// Hours the CA's certificates last (default 2160): sets how often renewals are checked.
    pub certificates_duration: Option<i64>,
    pub preferred_chain: Option<String>,
    pub profile: Option<String>,
    pub eab: Option<ExternalAccountBinding>,
    /// PEM files (or inline PEM) of the roots that sign the ACME server's own certificate.
    #[serde(default)]
    pub ca_certificates: Vec<String>,
    /// Also trust the system's roots when `caCertificates` is set.
    pub ca_system_cert_pool: Option<bool>,
    /// The name checked in the ACME server's certificate instead of the URL's host.
    pub ca_server_name: Option<String>,
    /// The whole of one request to the ACME server (Traefik's default 2 m).
    pub client_timeout: Option<Duration>,
    /// Waiting for a response's head from the ACME server (Traefik's default 30 s).
    pub client_response_header_timeout: Option<Duration>,
    pub http_challenge: Option<HttpChallenge>,
    pub tls_challenge: Option<TlsChallenge>,
    pub dns_challenge: Option<DnsChallenge>,
    /// Traefik v3.3's switch to leave the CN out of the CSR; recognised so the error is clear.
    pub disable_common_name: Option<bool>,
    /// Traefik v3.4's list of addresses; recognised so the error is clear.
    #[serde(default)]
    pub email_addresses: Vec<String>,
}

/// `eab`: External Account Binding (ZeroSSL, Google Trust Services, ...).
#[derive(Debug, Clone, Default, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ExternalAccountBinding {
    pub kid: String,
    /// The MAC key, base64url as the CA hands it out.
    pub hmac_encoded: String,
}

/// `httpChallenge`: HTTP-01 answered on an entry point.
#[derive(Debug, Clone, Default, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct HttpChallenge {
    pub entry_point: String,
    /// Traefik v3.4's wait before telling the CA the challenge is ready.
    pub delay: Option<Duration>,
}

/// `tlsChallenge`: TLS-ALPN-01 answered in the handshake.
#[derive(Debug, Clone, Default, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct TlsChallenge {
    /// Traefik v3.4's wait before telling the CA the challenge is ready.
    pub delay: Option<Duration>,
}

/// `dnsChallenge`: DNS-01 through a DNS provider.
#[derive(Debug, Clone, Default, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct DnsChallenge {
    pub provider: String,
    #[serde(default)]
    pub resolvers: Vec<String>,
    pub propagation: Option<DnsPropagation>,
    /// Deprecated spellings of `propagation.*`.
    pub delay_before_check: Option<Duration>,
    pub disable_propagation_check: Option<bool>,
}

#[derive(Debug, Clone, Default, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct DnsPropagation {
    pub delay_before_checks: Option<Duration>,
    pub disable_checks: Option<bool>,
    #[serde(rename = "requireAllRNS")]
    pub require_all_rns: Option<bool>,
    #[serde(rename = "disableANSChecks")]
    pub disable_ans_checks: Option<bool>,
}

/// The certificate key types a resolver can ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyType {
    Rsa2048,
    Rsa4096,
    Rsa8192,
    Ec256,
    Ec384,
}

impl KeyType {
    /// The configured name, as Traefik spells it (`RSA4096` when unset).
    pub fn parse(name: Option<&str>) -> Option<KeyType> {
        Some(match name.unwrap_or("RSA4096") {
            "RSA2048" => KeyType::Rsa2048,
            "RSA4096" => KeyType::Rsa4096,
            "RSA8192" => KeyType::Rsa8192,
            "EC256" => KeyType::Ec256,
            "EC384" => KeyType::Ec384,
            _ => return None,
        })
    }

    /// How lego names it in acme.json's `KeyType`.
    pub fn lego_name(self) -> &'static str {
        match self {
            KeyType::Rsa2048 => "2048",
            KeyType::Rsa4096 => "4096",
            KeyType::Rsa8192 => "8192",
            KeyType::Ec256 => "P256",
            KeyType::Ec384 => "P384",
        }
    }
}

/// Which challenge a resolver answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Challenge {
    Http {
        entry_point: String,
    },
    TlsAlpn,
    /// DNS-01: settings read from `dnsChallenge` and the provider's environment variables.
    Dns(Box<super::dns_challenge::DnsSettings>),
}

impl AcmeResolver {
    pub fn ca_server(&self) -> &str {
        self.ca_server.as_deref().unwrap_or(LETS_ENCRYPT_PRODUCTION)
    }

    pub fn storage(&self) -> &str {
        self.storage.as_deref().unwrap_or(DEFAULT_STORAGE)
    }

    pub fn key_type(&self) -> KeyType {
        KeyType::parse(self.key_type.as_deref()).unwrap_or(KeyType::Rsa4096)
    }

    pub fn certificates_duration(&self) -> std::time::Duration {
        let hours = self
            .certificates_duration
            .filter(|h| *h > 0)
            .map_or(DEFAULT_CERTIFICATES_DURATION_HOURS, |h| h as u64);
        std::time::Duration::from_secs(hours * 3600)
    }

    pub fn client_timeout(&self) -> std::time::Duration {
        self.client_timeout
            .map_or(std::time::Duration::from_secs(120), Duration::get)
    }

    pub fn client_response_header_timeout(&self) -> std::time::Duration {
        self.client_response_header_timeout
            .map_or(std::time::Duration::from_secs(30), Duration::get)
    }

    /// The challenge in use (validated beforehand: exactly one); for DNS-01, the problems with
    /// its settings as `(key under dnsChallenge, message, hint)`.
    pub fn challenge(&self) -> Result<Option<Challenge>, Vec<super::dns_challenge::Problem>> {
        if let Some(h) = &self.http_challenge {
            return Ok(Some(Challenge::Http {
                entry_point: h.entry_point.clone(),
            }));
        }
        if self.tls_challenge.is_some() {
            return Ok(Some(Challenge::TlsAlpn));
        }
        match &self.dns_challenge {
            Some(dns) => {
                super::dns_challenge::settings(dns).map(|d| Some(Challenge::Dns(Box::new(d))))
            }
            None => Ok(None),
        }
    }
}

/// Checks every resolver, and every router's and entry point's `certResolver` reference.
pub fn validate(s: &StaticConfig, d: &DynamicConfig, origin: &str) -> Vec<ConfigError> {
    let resolvers = &s.certificates_resolvers;
    let mut errors = Vec::new();
    for (name, resolver) in resolvers {
        let base = format!("certificatesResolvers.{name}");
        validate_resolver(&base, resolver, s, origin, &mut errors);
    }
    let known = || {
        let v: Vec<String> = resolvers.keys().map(|n| format!("`{n}`")).collect();
        if v.is_empty() {
            "define `[certificatesResolvers.<name>.acme]` in the static configuration".to_string()
        } else {
            format!("use one of: {}", v.join(", "))
        }
    };
    for (name, ep) in &s.entry_points {
        if let Some(r) = ep
            .http
            .as_ref()
            .and_then(|h| h.tls.as_ref())
            .and_then(|t| t.cert_resolver.as_deref())
        {
            if !resolvers.contains_key(r) {
                errors.push(
                    ConfigError::new(
                        origin,
                        format!("entryPoints.{name}.http.tls.certResolver"),
                        format!("certificate resolver `{r}` does not exist"),
                    )
                    .with_hint(known()),
                );
            }
        }
    }
    for (store, generated) in d
        .tls
        .stores
        .iter()
        .filter_map(|(n, s)| s.default_generated_cert.as_ref().map(|g| (n, g)))
    {
        let base = format!("tls.stores.{store}.defaultGeneratedCert");
        match resolvers
            .get(&generated.resolver)
            .and_then(|r| r.acme.as_ref())
        {
            None => errors.push(
                ConfigError::new(
                    origin,
                    format!("{base}.resolver"),
                    format!(
                        "certificate resolver `{}` does not exist",
                        generated.resolver
                    ),
                )
                .with_hint(known()),
            ),
            Some(acme) => {
                let names = generated.names();
                if names.is_empty() {
                    errors.push(
                        ConfigError::new(origin, format!("{base}.domain.main"), "is missing")
                            .with_hint("set `domain.main` to the default certificate's name"),
                    );
                }
                if let Some(w) = names.iter().find(|n| n.starts_with("*.")) {
                    if acme.dns_challenge.is_none() {
                        errors.push(
                            ConfigError::new(
                                origin,
                                format!("{base}.domain"),
                                format!("wildcard name `{w}` needs a DNS-01 challenge"),
                            )
                            .with_hint("use a resolver with `dnsChallenge`, or a plain name"),
                        );
                    }
                }
            }
        }
    }
    for (name, router) in &d.http.routers {
        let Some(tls) = router.tls.as_ref().and_then(|t| t.options()) else {
            continue;
        };
        let base = format!("http.routers.{name}.tls");
        if let Some(r) = tls.cert_resolver.as_deref() {
            if !resolvers.contains_key(r) {
                errors.push(
                    ConfigError::new(
                        origin,
                        format!("{base}.certResolver"),
                        format!("certificate resolver `{r}` does not exist"),
                    )
                    .with_hint(known()),
                );
            }
        }
        for (i, domain) in tls.domains.iter().enumerate() {
            let key = format!("{base}.domains[{i}]");
            if domain.main.as_deref().is_none_or(str::is_empty) {
                errors.push(
                    ConfigError::new(origin, format!("{key}.main"), "is missing")
                        .with_hint("set `main` to the certificate's first name"),
                );
            }
            let wildcard = domain
                .main
                .iter()
                .chain(&domain.sans)
                .find(|n| n.starts_with("*."));
            let resolver = tls
                .cert_resolver
                .as_deref()
                .and_then(|r| resolvers.get(r))
                .and_then(|r| r.acme.as_ref());
            if let (Some(w), Some(acme)) = (wildcard, resolver) {
                if acme.dns_challenge.is_none() {
                    errors.push(
                        ConfigError::new(
                            origin,
                            key.clone(),
                            format!("wildcard name `{w}` needs a DNS-01 challenge"),
                        )
                        .with_hint(
                            "the CA only validates wildcard names through DNS-01: use a resolver \
                             with `dnsChallenge`, or list the names one by one",
                        ),
                    );
                }
            }
        }
    }
    errors
}

fn validate_resolver(
    base: &str,
    resolver: &CertificateResolver,
    s: &StaticConfig,
    origin: &str,
    errors: &mut Vec<ConfigError>,
) {
    let mut push = |key: String, message: String, hint: &str| {
        let e = ConfigError::new(origin, key, message);
        errors.push(if hint.is_empty() {
            e
        } else {
            e.with_hint(hint)
        });
    };
    if resolver.tailscale.is_some() {
        push(
            format!("{base}.tailscale"),
            "the Tailscale certificate resolver is not supported yet by pylon".into(),
            "use an `acme` resolver",
        );
    }
    let Some(acme) = &resolver.acme else {
        if resolver.tailscale.is_none() {
            push(
                base.to_string(),
                "the resolver has no `acme` section".into(),
                "add `[certificatesResolvers.<name>.acme]` with `email` and a challenge",
            );
        }
        return;
    };
    let base = format!("{base}.acme");
    let ca = acme.ca_server();
    if !(ca.starts_with("https://") || ca.starts_with("http://")) {
        push(
            format!("{base}.caServer"),
            format!("`{ca}` is not an http(s) URL"),
            &format!("e.g. `{LETS_ENCRYPT_STAGING}` (Let's Encrypt staging)"),
        );
    }
    if KeyType::parse(acme.key_type.as_deref()).is_none() {
        push(
            format!("{base}.keyType"),
            format!(
                "`{}` is not a key type",
                acme.key_type.as_deref().unwrap_or_default()
            ),
            "use one of RSA4096 (default), RSA2048, RSA8192, EC256, EC384",
        );
    }
    if acme.certificates_duration.is_some_and(|h| h <= 0) {
        push(
            format!("{base}.certificatesDuration"),
            "must be a positive number of hours".into(),
            "Let's Encrypt's certificates last 2160 hours (the default)",
        );
    }
    if acme.storage().is_empty() {
        push(
            format!("{base}.storage"),
            "is empty".into(),
            "name the file, e.g. `acme.json`",
        );
    }
    if let Some(eab) = &acme.eab {
        use base64::Engine;
        if eab.kid.is_empty() {
            push(
                format!("{base}.eab.kid"),
                "is empty".into(),
                "copy the key id your CA gave",
            );
        }
        if base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(eab.hmac_encoded.trim_end_matches('='))
            .is_err()
        {
            push(
                format!("{base}.eab.hmacEncoded"),
                "is not base64url".into(),
                "copy the HMAC key exactly as your CA gave it",
            );
        }
    }
    let not_yet = |key: &str| {
        (
            format!("{base}.{key}"),
            format!("`{key}` is not supported yet by pylon"),
        )
    };
    if acme.preferred_chain.is_some() {
        let (k, m) = not_yet("preferredChain");
        push(k, m, "remove it: the CA's default chain is served");
    }
    if acme.disable_common_name.is_some() {
        let (k, m) = not_yet("disableCommonName");
        push(k, m, "remove it: pylon puts the first name in the CN");
    }
    if !acme.email_addresses.is_empty() {
        let (k, m) = not_yet("emailAddresses");
        push(k, m, "use `email`");
    }
    let delays = [
        (
            "httpChallenge.delay",
            acme.http_challenge.as_ref().and_then(|h| h.delay),
        ),
        (
            "tlsChallenge.delay",
            acme.tls_challenge.as_ref().and_then(|t| t.delay),
        ),
    ];
    for (key, delay) in delays {
        if delay.is_some() {
            let (k, m) = not_yet(key);
            push(
                k,
                m,
                "remove it: pylon tells the CA as soon as the answer is in place",
            );
        }
    }
    let challenges = [
        acme.http_challenge.is_some(),
        acme.tls_challenge.is_some(),
        acme.dns_challenge.is_some(),
    ];
    match challenges.iter().filter(|c| **c).count() {
        0 => push(
            base.clone(),
            "no challenge is configured".into(),
            "add `httpChallenge.entryPoint = \"web\"` or `tlsChallenge = {}`",
        ),
        1 => {}
        _ => push(
            base.clone(),
            "more than one challenge is configured".into(),
            "keep one of `httpChallenge`, `tlsChallenge`, `dnsChallenge`",
        ),
    }
    if let Some(h) = &acme.http_challenge {
        if !s.entry_points.contains_key(&h.entry_point) {
            let names: Vec<String> = s.entry_points.keys().map(|n| format!("`{n}`")).collect();
            push(
                format!("{base}.httpChallenge.entryPoint"),
                format!("entry point `{}` does not exist", h.entry_point),
                &format!(
                    "use the entry point on port 80: one of {}",
                    names.join(", ")
                ),
            );
        }
    }
    if let Some(dns) = &acme.dns_challenge {
        if let Err(problems) = super::dns_challenge::settings(dns) {
            for (key, message, hint) in problems {
                push(format!("{base}.dnsChallenge.{key}"), message, &hint);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn errors(static_toml: &str, dynamic_toml: &str) -> Vec<String> {
        let s = crate::config::load_static_str(static_toml, "static.toml").unwrap();
        let d = crate::config::load_dynamic_str(dynamic_toml, "dynamic.toml").unwrap();
        validate(&s, &d, "static.toml")
            .into_iter()
            .map(|e| {
                format!(
                    "{}: {} ({})",
                    e.key_path,
                    e.message,
                    e.hint.unwrap_or_default()
                )
            })
            .collect()
    }

    const EP: &str = "[entryPoints.web]\naddress = \":80\"\n";

    #[test]
    fn a_complete_resolver_is_accepted() {
        let s = format!(
            "{EP}[certificatesResolvers.le.acme]\nemail = \"a@b.test\"\ncaServer = \"{LETS_ENCRYPT_STAGING}\"\n\
             keyType = \"EC384\"\ncertificatesDuration = 2160\nprofile = \"tlsserver\"\nclientTimeout = \"1m\"\n\
             eab = {{ kid = \"k\", hmacEncoded = \"c2VjcmV0\" }}\nhttpChallenge.entryPoint = \"web\"\n"
        );
        assert!(errors(&s, "").is_empty(), "{:?}", errors(&s, ""));
    }

    #[test]
    fn unsupported_keys_and_bad_references_are_refused_by_name() {
        let s = format!(
            "{EP}[certificatesResolvers.le.acme]\npreferredChain = \"ISRG Root X1\"\nkeyType = \"RSA1024\"\n\
             httpChallenge.entryPoint = \"nowhere\"\n[certificatesResolvers.dns.acme.dnsChallenge]\nprovider = \"cloudflare\"\n"
        );
        let d = "[http.routers.r]\nrule = \"Host(`a.test`)\"\ntls.certResolver = \"missing\"\n\
                 [http.routers.w]\nrule = \"Host(`a.test`)\"\n[http.routers.w.tls]\ncertResolver = \"le\"\n\
                 [[http.routers.w.tls.domains]]\nmain = \"*.a.test\"\n";
        let all = errors(&s, d).join("\n");
        for wanted in [
            "certificatesResolvers.le.acme.preferredChain: `preferredChain` is not supported yet",
            "certificatesResolvers.le.acme.keyType: `RSA1024` is not a key type",
            "certificatesResolvers.le.acme.httpChallenge.entryPoint: entry point `nowhere` does not exist",
            "certificatesResolvers.dns.acme.dnsChallenge.provider: provider `cloudflare` is not supported yet",
            "http.routers.r.tls.certResolver: certificate resolver `missing` does not exist",
            "http.routers.w.tls.domains[0]: wildcard name `*.a.test` needs a DNS-01 challenge",
        ] {
            assert!(all.contains(wanted), "missing `{wanted}` in:\n{all}");
        }
    }

    #[test]
    fn wildcards_are_accepted_for_a_dns01_resolver_only() {
        let s = format!(
            "{EP}[certificatesResolvers.le.acme]\nhttpChallenge.entryPoint = \"web\"\n\
             [certificatesResolvers.dns.acme.dnsChallenge]\nprovider = \"rfc2136\"\n"
        );
        let d = "[http.routers.w]\nrule = \"Host(`a.test`)\"\n[http.routers.w.tls]\ncertResolver = \"dns\"\n\
                 [[http.routers.w.tls.domains]]\nmain = \"*.a.test\"\n\
                 [http.routers.h]\nrule = \"Host(`a.test`)\"\n[http.routers.h.tls]\ncertResolver = \"le\"\n\
                 [[http.routers.h.tls.domains]]\nmain = \"*.b.test\"\n";
        let all = errors(&s, d).join("\n");
        assert!(!all.contains("`*.a.test`"), "{all}");
        assert!(
            all.contains("http.routers.h.tls.domains[0]: wildcard name `*.b.test` needs a DNS-01"),
            "{all}"
        );
    }

    #[test]
    fn unknown_keys_are_refused() {
        let s = format!("{EP}[certificatesResolvers.le.acme]\nemial = \"typo\"\n");
        assert!(crate::config::load_static_str(&s, "static.toml").is_err());
    }
}
