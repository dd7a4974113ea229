//! The certificates pylon can serve, indexed by DNS name (exact and `*.` wildcard) for SNI.

use super::self_signed;
use openssl::nid::Nid;
use openssl::pkey::{PKey, Private};
use openssl::x509::X509;
use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

/// A certificate (with its chain) and its private key.
#[derive(Clone)]
pub struct CertPair {
    pub cert: X509,
    pub chain: Vec<X509>,
    pub key: PKey<Private>,
    /// DNS names the certificate covers (SANs, else the CN), lower case.
    pub names: Vec<String>,
}

impl std::fmt::Debug for CertPair {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CertPair")
            .field("names", &self.names)
            .finish()
    }
}

/// Why a certificate could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum CertError {
    #[error("cannot read `{path}`: {reason}")]
    Read { path: String, reason: String },
    #[error("`{path}` holds no PEM certificate: {reason}")]
    BadCert { path: String, reason: String },
    #[error("`{path}` holds no PEM private key: {reason}")]
    BadKey { path: String, reason: String },
    #[error("the key in `{key}` does not belong to the certificate in `{cert}`")]
    Mismatch { cert: String, key: String },
    #[error("cannot generate the default certificate: {0}")]
    Generate(String),
}

impl CertPair {
    /// Loads a PEM certificate chain and its PEM private key.
    pub fn from_files(cert_file: &Path, key_file: &Path) -> Result<CertPair, CertError> {
        let text = |p: &Path| p.to_str().map(str::to_owned).unwrap_or_default();
        Self::from_file_or_content(&text(cert_file), &text(key_file))
    }

    /// Loads a certificate chain and its key, each a PEM file or the PEM itself (Traefik's
    /// FileOrContent); errors name the file, or `inline PEM`, never the content.
    pub fn from_file_or_content(cert_value: &str, key_value: &str) -> Result<CertPair, CertError> {
        use crate::config::key_file::{describe_file_or_content, read_file_or_content};
        let name = |v: &str| describe_file_or_content(v).trim_matches('`').to_string();
        let (cert_file, key_file) = (name(cert_value), name(key_value));
        let read = |v: &str| {
            read_file_or_content(v)
                .map(|bytes| bytes.into_owned())
                .map_err(|e| CertError::Read {
                    path: name(v),
                    reason: e.to_string(),
                })
        };
        let cert_pem = read(cert_value)?;
        let key_pem = read(key_value)?;
        let mut certs = X509::stack_from_pem(&cert_pem).map_err(|e| CertError::BadCert {
            path: cert_file.clone(),
            reason: e.to_string(),
        })?;
        if certs.is_empty() {
            return Err(CertError::BadCert {
                path: cert_file.clone(),
                reason: "no certificate found".into(),
            });
        }
        let key = PKey::private_key_from_pem(&key_pem).map_err(|e| CertError::BadKey {
            path: key_file.clone(),
            reason: e.to_string(),
        })?;
        let cert = certs.remove(0);
        let matches = cert
            .public_key()
            .map(|pk| pk.public_eq(&key))
            .unwrap_or(false);
        if !matches {
            return Err(CertError::Mismatch {
                cert: cert_file.clone(),
                key: key_file.clone(),
            });
        }
        Ok(CertPair::new(cert, certs, key))
    }

    pub fn new(cert: X509, chain: Vec<X509>, key: PKey<Private>) -> CertPair {
        let names = dns_names(&cert);
        CertPair {
            cert,
            chain,
            key,
            names,
        }
    }

    /// A freshly generated self-signed certificate, used when nothing else matches.
    pub fn self_signed_default() -> Result<CertPair, CertError> {
        let (cert, key) = self_signed::generate(self_signed::DEFAULT_CERT_NAME, &[])
            .map_err(|e| CertError::Generate(e.to_string()))?;
        Ok(CertPair {
            cert,
            chain: Vec::new(),
            key,
            names: Vec::new(),
        })
    }
}

/// The names a certificate covers, lower case: its DNS and IP SANs, else its CN.
fn dns_names(cert: &X509) -> Vec<String> {
    let mut names: Vec<String> = cert
        .subject_alt_names()
        .map(|sans| {
            sans.iter()
                .filter_map(|n| match (n.dnsname(), n.ipaddress()) {
                    (Some(d), _) => Some(d.to_ascii_lowercase()),
                    (None, Some(ip)) => ip_text(ip),
                    (None, None) => None,
                })
                .collect()
        })
        .unwrap_or_default();
    if names.is_empty() {
        if let Some(cn) = cert.subject_name().entries_by_nid(Nid::COMMONNAME).next() {
            if let Ok(s) = cn.data().to_string() {
                names.push(s.to_ascii_lowercase());
            }
        }
    }
    names
}

/// An IP SAN's bytes as the address text a client without SNI is matched by.
fn ip_text(bytes: &[u8]) -> Option<String> {
    let ip: std::net::IpAddr = match bytes.len() {
        4 => <[u8; 4]>::try_from(bytes).ok()?.into(),
        16 => <[u8; 16]>::try_from(bytes).ok()?.into(),
        _ => return None,
    };
    Some(ip.to_string())
}

/// The kind of key a certificate carries: a name may have one certificate of each kind, and a
/// client is served the one whose signature algorithms it supports (as nginx and Traefik do).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyKind {
    Rsa,
    Ec,
    Other(openssl::pkey::Id),
}

impl KeyKind {
    pub fn of(key: &PKey<Private>) -> KeyKind {
        match key.id() {
            openssl::pkey::Id::RSA => KeyKind::Rsa,
            openssl::pkey::Id::EC => KeyKind::Ec,
            other => KeyKind::Other(other),
        }
    }
}

/// The certificates served for one name: at most one per key kind, in configuration order.
pub type CertChoice = Arc<[Arc<CertPair>]>;

/// Certificates by name, and the default served when no name matches.
#[derive(Debug, Clone)]
pub struct CertStore {
    exact: HashMap<String, CertChoice>,
    wildcard: HashMap<String, CertChoice>,
    default: CertChoice,
    /// `defaultGeneratedCert`: the name of the resolver certificate served instead of
    /// `default` once it is issued.
    generated_default: Option<String>,
    /// `tls.options` in force, by server name.
    policies: Arc<super::policy::TlsPolicies>,
}

impl CertStore {
    /// Indexes `certs` by their names; for each name, the first certificate of each key kind
    /// wins (so an RSA and an ECDSA certificate for one name are both served).
    pub fn new(certs: Vec<CertPair>, default: Arc<CertPair>) -> CertStore {
        let mut exact: HashMap<String, Vec<Arc<CertPair>>> = HashMap::new();
        let mut wildcard: HashMap<String, Vec<Arc<CertPair>>> = HashMap::new();
        for pair in certs.into_iter().map(Arc::new) {
            let kind = KeyKind::of(&pair.key);
            for name in &pair.names {
                let slot = match name.strip_prefix("*.") {
                    Some(suffix) => wildcard.entry(suffix.to_string()),
                    None => exact.entry(name.clone()),
                }
                .or_default();
                if !slot.iter().any(|p| KeyKind::of(&p.key) == kind) {
                    slot.push(pair.clone());
                }
            }
        }
        let freeze = |m: HashMap<String, Vec<Arc<CertPair>>>| {
            m.into_iter()
                .map(|(name, pairs)| (name, CertChoice::from(pairs)))
                .collect()
        };
        CertStore {
            exact: freeze(exact),
            wildcard: freeze(wildcard),
            default: CertChoice::from(vec![default]),
            generated_default: None,
            policies: Default::default(),
        }
    }

    /// The same certificates, with `policies` applied to handshakes.
    /// The default certificate is the resolver certificate for `main` once it is issued
    /// (`tls.stores.default.defaultGeneratedCert`); until then the given default.
    pub fn with_generated_default(mut self, main: Option<String>) -> CertStore {
        self.generated_default = main;
        self
    }

    /// The name of the generated default certificate, if the store has one.
    pub fn generated_default(&self) -> Option<&str> {
        self.generated_default.as_deref()
    }

    /// Whether `choice` is the default (no certificate matched).
    pub fn is_default(&self, choice: &CertChoice) -> bool {
        Arc::ptr_eq(choice, &self.default)
    }

    pub fn with_policies(mut self, policies: super::policy::TlsPolicies) -> CertStore {
        self.policies = Arc::new(policies);
        self
    }

    pub fn policies(&self) -> &Arc<super::policy::TlsPolicies> {
        &self.policies
    }

    /// Whether a configured certificate covers `name` (lower case, no trailing dot).
    pub fn has_certificate_for(&self, name: &str) -> bool {
        !Arc::ptr_eq(self.find(Some(name)), &self.default)
    }

    /// The certificates for a server name (the SNI, or the local address when the client sent
    /// none): exact match, then `*.parent`, else the default. The name is normalised first
    /// (case, one trailing dot; a name with an empty label matches nothing).
    pub fn find(&self, name: Option<&str>) -> &CertChoice {
        let Some(name) = name.and_then(super::server_name::normalize) else {
            return &self.default;
        };
        if let Some(pairs) = self.exact.get(name.as_ref()) {
            return pairs;
        }
        if let Some((_, parent)) = name.split_once('.') {
            if let Some(pairs) = self.wildcard.get(parent) {
                return pairs;
            }
        }
        &self.default
    }

    /// The certificate served when no name matches.
    pub fn default_cert(&self) -> &Arc<CertPair> {
        &self.default[0]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pair(cn: &str, sans: &[&str]) -> CertPair {
        let (cert, key) = self_signed::generate(cn, sans).unwrap();
        CertPair::new(cert, vec![], key)
    }

    #[test]
    fn finds_exact_then_wildcard_then_default() {
        let default = Arc::new(CertPair::self_signed_default().unwrap());
        let store = CertStore::new(
            vec![pair("a", &["a.test"]), pair("w", &["*.w.test"])],
            default.clone(),
        );
        assert_eq!(store.find(Some("A.TEST."))[0].names, vec!["a.test"]);
        assert_eq!(store.find(Some("x.w.test"))[0].names, vec!["*.w.test"]);
        assert!(Arc::ptr_eq(&store.find(Some("x.y.w.test"))[0], &default));
        assert!(Arc::ptr_eq(&store.find(None)[0], &default));
    }

    #[test]
    fn one_certificate_per_key_kind_and_name() {
        let default = Arc::new(CertPair::self_signed_default().unwrap());
        let rsa_key = PKey::from_rsa(openssl::rsa::Rsa::generate(2048).unwrap()).unwrap();
        let rsa = {
            let ec = pair("a", &["a.test"]);
            let mut b = openssl::x509::X509Builder::new().unwrap();
            b.set_pubkey(&rsa_key).unwrap();
            b.set_subject_name(ec.cert.subject_name()).unwrap();
            b.sign(&rsa_key, openssl::hash::MessageDigest::sha256())
                .unwrap();
            CertPair {
                cert: b.build(),
                chain: vec![],
                key: rsa_key,
                names: vec!["a.test".into()],
            }
        };
        let store = CertStore::new(
            vec![pair("a", &["a.test"]), rsa, pair("again", &["a.test"])],
            default,
        );
        let kinds: Vec<KeyKind> = store
            .find(Some("a.test"))
            .iter()
            .map(|p| KeyKind::of(&p.key))
            .collect();
        assert_eq!(kinds, vec![KeyKind::Ec, KeyKind::Rsa]);
    }

    #[test]
    fn cn_is_used_when_there_is_no_san() {
        let p = pair("only-cn.test", &[]);
        assert_eq!(p.names, vec!["only-cn.test"]);
    }
}
