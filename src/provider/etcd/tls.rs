//! `[providers.etcd.tls]`: the CA and client certificate files, read and checked at start (the
//! one key-file reader: regular files, bounded, content never echoed), and the client's TLS
//! options made from them. `insecureSkipVerify = true` is refused: pylon always verifies the
//! members' certificates.

use crate::config::key_file::{describe_file_or_content, is_inline_pem, read_file_or_content};
use crate::config::static_config::EtcdTlsConfig;
use crate::config::ConfigError;
use etcd_client::{Certificate, Identity, TlsOptions};
use std::path::Path;

/// The PEM read from `tls.ca`, `tls.cert` and `tls.key`. Debug shows which are set, not them.
#[derive(Clone)]
pub struct TlsMaterial {
    pub ca: Option<Vec<u8>>,
    /// The client certificate chain and its private key.
    pub identity: Option<(Vec<u8>, Vec<u8>)>,
}

impl std::fmt::Debug for TlsMaterial {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsMaterial")
            .field("ca", &self.ca.is_some())
            .field("identity", &self.identity.is_some())
            .finish()
    }
}

impl TlsMaterial {
    /// Reads and checks the files (relative paths start at `static_path`'s directory).
    pub fn read(
        c: &EtcdTlsConfig,
        static_path: &Path,
        origin: &str,
    ) -> Result<TlsMaterial, ConfigError> {
        if c.insecure_skip_verify == Some(true) {
            return Err(ConfigError::new(
                origin,
                "providers.etcd.tls.insecureSkipVerify",
                "is not supported: pylon always verifies the etcd members' certificates",
            )
            .with_hint(
                "name the CA that signed them in `tls.ca` and remove `insecureSkipVerify`",
            ));
        }
        let file = |key: &str, value: &Option<String>| -> Result<Option<Vec<u8>>, ConfigError> {
            let Some(value) = value.as_deref().filter(|v| !v.trim().is_empty()) else {
                return Ok(None);
            };
            let path = match is_inline_pem(value) {
                true => value.to_string(),
                false => crate::config::load::resolve(static_path, value)
                    .display()
                    .to_string(),
            };
            read_file_or_content(&path)
                .map(|b| Some(b.into_owned()))
                .map_err(|e| {
                    ConfigError::new(origin, format!("providers.etcd.tls.{key}"), e.to_string())
                        .with_hint("name a PEM file pylon can read")
                })
        };
        let ca = file("ca", &c.ca)?;
        if let Some(pem) = &ca {
            if openssl::x509::X509::stack_from_pem(pem).map_or(true, |s| s.is_empty()) {
                return Err(ConfigError::new(
                    origin,
                    "providers.etcd.tls.ca",
                    format!(
                        "{} holds no PEM certificate",
                        describe_file_or_content(c.ca.as_deref().unwrap_or_default())
                    ),
                )
                .with_hint(
                    "name the CA certificate (PEM) that signed the etcd members' certificates",
                ));
            }
        }
        let identity = match (file("cert", &c.cert)?, file("key", &c.key)?) {
            (None, None) => None,
            (Some(_), None) | (None, Some(_)) => {
                let missing = if c.cert.is_some() { "key" } else { "cert" };
                return Err(ConfigError::new(
                    origin,
                    format!("providers.etcd.tls.{missing}"),
                    "is missing: a client certificate needs both `cert` and `key`",
                )
                .with_hint("set both, or neither (no client certificate)"));
            }
            (Some(cert), Some(key)) => {
                check_pair(&cert, &key).map_err(|why| {
                    ConfigError::new(origin, "providers.etcd.tls.cert", why).with_hint(
                        "`cert` is the client certificate (PEM), `key` its private key (PEM)",
                    )
                })?;
                Some((cert, key))
            }
        };
        Ok(TlsMaterial { ca, identity })
    }

    /// The client's TLS options: `material`'s CA (else the system's roots, as for an
    /// `https://` endpoint without a `tls` section) and its client certificate.
    pub fn options_of(material: Option<&TlsMaterial>) -> TlsOptions {
        let mut options = TlsOptions::new();
        match material.and_then(|m| m.ca.as_ref()) {
            Some(ca) => options = options.ca_certificate(Certificate::from_pem(ca)),
            None => options = options.with_native_roots(),
        }
        if let Some((cert, key)) = material.and_then(|m| m.identity.as_ref()) {
            options = options.identity(Identity::from_pem(cert, key));
        }
        options
    }
}

/// Whether `cert` and `key` are a certificate and the private key that goes with it.
fn check_pair(cert: &[u8], key: &[u8]) -> Result<(), String> {
    let cert =
        openssl::x509::X509::from_pem(cert).map_err(|_| "holds no PEM certificate".to_string())?;
    let key = openssl::pkey::PKey::private_key_from_pem(key)
        .map_err(|_| "`tls.key` holds no PEM private key".to_string())?;
    let public = cert
        .public_key()
        .map_err(|_| "the certificate has no public key".to_string())?;
    match public.public_eq(&key) {
        true => Ok(()),
        false => Err("the certificate does not match `tls.key`".to_string()),
    }
}
