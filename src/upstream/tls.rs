//! TLS to upstream servers, per servers transport (`serverName`, `rootCAs`, `certificates`):
//! what each upstream handshake is given, built once per configuration.

use crate::config::key_file::{describe_file_or_content, read_file_or_content};
use openssl::pkey::PKey;
use openssl::x509::X509;
use pingora_core::utils::tls::CertKey;
use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

/// One transport's upstream TLS settings.
pub struct UpstreamTls {
    /// The name sent as SNI and verified in the certificate (else the server URL's host).
    pub server_name: Option<String>,
    /// The CAs an upstream certificate must chain to (else the system's roots).
    pub root_cas: Option<Arc<Box<[X509]>>>,
    /// The client certificate shown to upstreams that ask (mTLS).
    pub client_cert: Option<Arc<CertKey>>,
    /// What these settings were built from (names and file contents): connections made under
    /// other settings are never reused for them.
    pub identity: u64,
}

impl std::fmt::Debug for UpstreamTls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UpstreamTls")
            .field("server_name", &self.server_name)
            .field("root_cas", &self.root_cas.as_ref().map(|c| c.len()))
            .field("client_cert", &self.client_cert.is_some())
            .field("identity", &self.identity)
            .finish()
    }
}

impl PartialEq for UpstreamTls {
    fn eq(&self, other: &Self) -> bool {
        self.identity == other.identity
    }
}

impl Eq for UpstreamTls {}

impl Hash for UpstreamTls {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.identity.hash(state);
    }
}

/// A client certificate (`certFile`, `keyFile`: files or the PEM itself).
pub struct ClientPair<'a> {
    pub cert: &'a str,
    pub key: &'a str,
}

/// Why a transport's TLS settings cannot be built: the key (relative to the transport) and why.
#[derive(Debug, PartialEq, Eq)]
pub struct TlsSettingError {
    pub key: String,
    pub message: String,
}

/// Builds the settings; `None` when the transport sets none of them.
pub fn build(
    server_name: Option<&str>,
    root_cas: &[String],
    certificates: &[ClientPair<'_>],
) -> Result<Option<UpstreamTls>, TlsSettingError> {
    let server_name = server_name.filter(|n| !n.is_empty());
    if server_name.is_none() && root_cas.is_empty() && certificates.is_empty() {
        return Ok(None);
    }
    let mut identity = DefaultHasher::new();
    server_name.hash(&mut identity);
    let mut cas = Vec::new();
    for (i, value) in root_cas.iter().enumerate() {
        let fail = |message: String| TlsSettingError {
            key: format!("rootCAs[{i}]"),
            message,
        };
        let what = describe_file_or_content(value);
        let pem =
            read_file_or_content(value).map_err(|e| fail(format!("cannot read {what}: {e}")))?;
        pem.hash(&mut identity);
        let certs = X509::stack_from_pem(&pem)
            .ok()
            .filter(|c| !c.is_empty())
            .ok_or_else(|| fail(format!("{what} holds no PEM certificate")))?;
        cas.extend(certs);
    }
    let client_cert = match certificates {
        [] => None,
        [pair] => Some(Arc::new(client_pair(pair, &mut identity)?)),
        _ => {
            return Err(TlsSettingError {
                key: "certificates".into(),
                message: "pylon shows one client certificate per transport".into(),
            })
        }
    };
    Ok(Some(UpstreamTls {
        server_name: server_name.map(str::to_string),
        root_cas: (!cas.is_empty()).then(|| Arc::new(cas.into_boxed_slice())),
        client_cert,
        identity: identity.finish(),
    }))
}

fn client_pair(
    pair: &ClientPair<'_>,
    identity: &mut DefaultHasher,
) -> Result<CertKey, TlsSettingError> {
    let fail = |key: &str, message: String| TlsSettingError {
        key: format!("certificates[0].{key}"),
        message,
    };
    let read = |key: &str, value: &str| {
        read_file_or_content(value)
            .map(|b| b.into_owned())
            .map_err(|e| {
                fail(
                    key,
                    format!("cannot read {}: {e}", describe_file_or_content(value)),
                )
            })
    };
    let cert_pem = read("certFile", pair.cert)?;
    let key_pem = read("keyFile", pair.key)?;
    cert_pem.hash(identity);
    key_pem.hash(identity);
    let certs = X509::stack_from_pem(&cert_pem)
        .ok()
        .filter(|c| !c.is_empty())
        .ok_or_else(|| fail("certFile", "holds no PEM certificate".into()))?;
    let key = PKey::private_key_from_pem(&key_pem)
        .map_err(|_| fail("keyFile", "holds no PEM private key".into()))?;
    let matches = certs[0]
        .public_key()
        .map(|pk| pk.public_eq(&key))
        .unwrap_or(false);
    if !matches {
        return Err(fail(
            "keyFile",
            "the key does not belong to the certificate in certFile".into(),
        ));
    }
    Ok(CertKey::new(certs, key))
}
