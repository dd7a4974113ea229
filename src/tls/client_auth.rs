//! Client certificates (mTLS): `tls.options.<n>.clientAuth` (`clientAuthType`, `caFiles`),
//! applied to each handshake under those options, as Traefik's five types.

use crate::config::key_file::{describe_file_or_content, read_file_or_content};
use openssl::error::ErrorStack;
use openssl::ssl::{SslRef, SslVerifyMode};
use openssl::stack::Stack;
use openssl::x509::store::X509StoreBuilder;
use openssl::x509::{X509Name, X509};

/// Traefik's `clientAuthType` values.
pub const CLIENT_AUTH_TYPES: [&str; 5] = [
    "NoClientCert",
    "RequestClientCert",
    "RequireAnyClientCert",
    "VerifyClientCertIfGiven",
    "RequireAndVerifyClientCert",
];

/// What a handshake asks of the client's certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientAuthType {
    /// No certificate asked for (Traefik's default).
    NoClientCert,
    /// Asked for, not required, not verified.
    RequestClientCert,
    /// Required, not verified.
    RequireAnyClientCert,
    /// Verified against `caFiles` when sent.
    VerifyClientCertIfGiven,
    /// Required and verified against `caFiles`.
    RequireAndVerifyClientCert,
}

impl ClientAuthType {
    /// Traefik's name; `None` for an unknown one.
    pub fn parse(name: &str) -> Option<ClientAuthType> {
        Some(match name {
            "NoClientCert" => ClientAuthType::NoClientCert,
            "RequestClientCert" => ClientAuthType::RequestClientCert,
            "RequireAnyClientCert" => ClientAuthType::RequireAnyClientCert,
            "VerifyClientCertIfGiven" => ClientAuthType::VerifyClientCertIfGiven,
            "RequireAndVerifyClientCert" => ClientAuthType::RequireAndVerifyClientCert,
            _ => return None,
        })
    }

    /// Whether the client's chain is checked against `caFiles`.
    pub fn verifies(self) -> bool {
        matches!(
            self,
            ClientAuthType::VerifyClientCertIfGiven | ClientAuthType::RequireAndVerifyClientCert
        )
    }
}

/// The client-certificate rule of one `tls.options`, ready to apply.
pub struct ClientAuth {
    kind: ClientAuthType,
    /// The CAs a verified chain must end in (the `caFiles`).
    cas: Vec<X509>,
    /// Refuse every handshake: the CAs could not be loaded (fail closed).
    broken: bool,
}

impl std::fmt::Debug for ClientAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientAuth")
            .field("kind", &self.kind)
            .field("cas", &self.cas.len())
            .field("broken", &self.broken)
            .finish()
    }
}

/// Loads the certificates of `caFiles` (files or inline PEM). The error names the entry.
pub fn load_cas(ca_files: &[String]) -> Result<Vec<X509>, String> {
    let mut cas = Vec::new();
    for value in ca_files {
        let what = describe_file_or_content(value);
        let pem = read_file_or_content(value).map_err(|e| format!("cannot read {what}: {e}"))?;
        let certs =
            X509::stack_from_pem(&pem).map_err(|_| format!("{what} holds no PEM certificate"))?;
        if certs.is_empty() {
            return Err(format!("{what} holds no PEM certificate"));
        }
        cas.extend(certs);
    }
    Ok(cas)
}

impl ClientAuth {
    /// The rule for `kind` with `ca_files` (validated before: a failure here refuses every
    /// handshake under these options rather than let clients in unchecked).
    pub fn new(options_name: &str, kind: ClientAuthType, ca_files: &[String]) -> ClientAuth {
        match load_cas(ca_files) {
            Ok(cas) => ClientAuth {
                kind,
                cas,
                broken: false,
            },
            Err(e) => {
                log::error!(
                    "tls.options `{options_name}`.clientAuth: {e}; handshakes under these \
                     options are refused until it is fixed"
                );
                ClientAuth {
                    kind,
                    cas: Vec::new(),
                    broken: true,
                }
            }
        }
    }

    /// Asks for (and checks) the client's certificate on a handshake in progress.
    pub fn apply(&self, ssl: &mut SslRef) -> Result<(), ErrorStack> {
        if self.broken {
            ssl.set_verify_callback(
                SslVerifyMode::PEER | SslVerifyMode::FAIL_IF_NO_PEER_CERT,
                |_, _| false,
            );
            return Ok(());
        }
        let required = SslVerifyMode::PEER | SslVerifyMode::FAIL_IF_NO_PEER_CERT;
        match self.kind {
            ClientAuthType::NoClientCert => ssl.set_verify(SslVerifyMode::NONE),
            ClientAuthType::RequestClientCert => {
                ssl.set_verify_callback(SslVerifyMode::PEER, |_, _| true)
            }
            ClientAuthType::RequireAnyClientCert => ssl.set_verify_callback(required, |_, _| true),
            ClientAuthType::VerifyClientCertIfGiven => {
                self.set_cas(ssl)?;
                ssl.set_verify(SslVerifyMode::PEER);
            }
            ClientAuthType::RequireAndVerifyClientCert => {
                self.set_cas(ssl)?;
                ssl.set_verify(required);
            }
        }
        Ok(())
    }

    /// The CAs a chain is verified against, and their names sent to the client.
    fn set_cas(&self, ssl: &mut SslRef) -> Result<(), ErrorStack> {
        let mut store = X509StoreBuilder::new()?;
        let mut names = Stack::<X509Name>::new()?;
        for ca in &self.cas {
            store.add_cert(ca.clone())?;
            names.push(ca.subject_name().to_owned()?)?;
        }
        ssl.set_verify_cert_store(store.build())?;
        ssl.set_client_ca_list(names);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn traefiks_five_types_and_which_verify() {
        for name in CLIENT_AUTH_TYPES {
            assert!(ClientAuthType::parse(name).is_some(), "{name}");
        }
        assert_eq!(ClientAuthType::parse("requireandverifyclientcert"), None);
        assert!(ClientAuthType::RequireAndVerifyClientCert.verifies());
        assert!(!ClientAuthType::RequireAnyClientCert.verifies());
    }

    #[test]
    fn bad_ca_entries_are_named_without_their_content() {
        let e = load_cas(&["/nonexistent/ca.pem".into()]).unwrap_err();
        assert!(e.contains("/nonexistent/ca.pem"), "{e}");
        let e =
            load_cas(&["-----BEGIN CERTIFICATE-----\nsecret\n-----END CERTIFICATE-----\n".into()])
                .unwrap_err();
        assert!(e.contains("inline PEM") && !e.contains("secret"), "{e}");
    }
}
