//! Terminates TLS on a plain accepted connection: SNI picks the certificate, ALPN offers h2.
//!
//! Everything about a handshake is decided in OpenSSL's client-hello callback, before the version
//! and the cipher are chosen: the `tls.options` of the requested name, and the certificates for
//! it — one per key kind, so OpenSSL serves the RSA or the ECDSA one the client supports. A client
//! without SNI is matched by the address it connected to (a certificate's IP SANs), as in Traefik.

use super::client_hello::Requested;
use super::policy::{TlsPolicies, TlsPolicy};
use crate::runtime::Store;
use openssl::error::ErrorStack;
use openssl::ex_data::Index;
use openssl::ssl::{
    AlpnError, ClientHelloResponse, Ssl, SslAcceptor, SslAlert, SslMethod, SslRef, SslVersion,
};
use openssl::x509::X509;
use pingora::listeners::TlsAccept;
use pingora::protocols::l4::stream::Stream as L4Stream;
use pingora::protocols::tls::server::handshake_with_callback;
use pingora::protocols::Stream;
use std::sync::Arc;
use std::sync::OnceLock;
use std::time::Duration;

/// Builds TLS sessions for every entry point; the certificates can be swapped at run time.
pub struct TlsTerminator {
    acceptor: SslAcceptor,
    handshake_timeout: Duration,
}

/// Why a TLS handshake did not complete.
#[derive(Debug, thiserror::Error)]
pub enum HandshakeError {
    #[error("not a TCP stream")]
    NotTcp,
    #[error("TLS handshake timed out")]
    Timeout,
    #[error("TLS handshake failed: {0}")]
    Failed(String),
}

impl TlsTerminator {
    /// An acceptor with Mozilla's intermediate profile (TLS 1.2+), HTTP/2 preferred over
    /// HTTP/1.1 by ALPN, and certificates chosen by SNI on every handshake from the snapshot in
    /// force (so certificates and routes change together).
    pub fn new(
        certs: Arc<Store>,
        handshake_timeout: Duration,
    ) -> Result<TlsTerminator, openssl::error::ErrorStack> {
        let mut builder = SslAcceptor::mozilla_intermediate_v5(SslMethod::tls())?;
        builder.set_min_proto_version(Some(SslVersion::TLS1_2))?;
        // No certificate on the context: each handshake gets its own in the client-hello
        // callback (a context certificate would stay in its key kind's slot and be served to
        // clients that support that kind, whatever the name).
        builder.set_alpn_select_callback(select_alpn);
        builder.set_client_hello_callback(move |ssl, alert| on_client_hello(ssl, alert, &certs));
        Ok(TlsTerminator {
            acceptor: builder.build(),
            handshake_timeout,
        })
    }

    /// Runs the server side of the handshake on `stream`, which must be a plain TCP stream.
    pub async fn accept(&self, stream: Stream) -> Result<Stream, HandshakeError> {
        let local = stream.get_socket_digest().and_then(|d| {
            d.local_addr()
                .and_then(|a| a.as_inet())
                .map(|a| a.ip().to_canonical())
        });
        let l4 = stream
            .into_any()
            .downcast::<L4Stream>()
            .map_err(|_| HandshakeError::NotTcp)?;
        let handshake = LOCAL_ADDRESS.scope(
            local,
            handshake_with_callback(&self.acceptor, *l4, &KeepHandshake),
        );
        match tokio::time::timeout(self.handshake_timeout, handshake).await {
            Err(_) => Err(HandshakeError::Timeout),
            Ok(Err(e)) => Err(HandshakeError::Failed(e.to_string())),
            Ok(Ok(tls)) => Ok(Box::new(tls)),
        }
    }
}

tokio::task_local! {
    /// The address the client connected to, for the handshake being polled: a client without
    /// SNI gets the certificate whose IP SAN is that address.
    static LOCAL_ADDRESS: Option<std::net::IpAddr>;
}

/// Before the version is chosen: the `tls.options` of the requested name set the versions and
/// ciphers (`sniStrict` refuses a missing name or one no configured certificate covers), and the
/// name's certificates are set on the handshake.
fn on_client_hello(
    ssl: &mut SslRef,
    alert: &mut SslAlert,
    certs: &Store,
) -> Result<ClientHelloResponse, ErrorStack> {
    let store = certs.certs();
    let sni = match super::client_hello::requested_server_name(ssl) {
        Requested::Absent => None,
        Requested::Name(name) => Some(name),
        Requested::Malformed => {
            // `b.test..` is no host name: it must not fall back to the default policy
            *alert = SslAlert::UNRECOGNIZED_NAME;
            return Err(ErrorStack::get());
        }
    };
    if let Some(validation) = sni.as_deref().and_then(|n| tls_alpn_challenge(ssl, n)) {
        set_pair(ssl, &validation)?;
        return Ok(ClientHelloResponse::SUCCESS);
    }
    // Certificates from the ACME resolvers serve the names no configured certificate covers.
    let configured = sni.as_deref().is_some_and(|n| store.has_certificate_for(n));
    let acme = crate::acme::live::global().index.load();
    let acme_pair = sni
        .as_deref()
        .filter(|_| !configured)
        .and_then(|n| acme.find(n));
    let policy = store.policies().for_name(sni.as_deref());
    if policy.sni_strict && !configured && acme_pair.is_none() {
        *alert = SslAlert::UNRECOGNIZED_NAME;
        return Err(ErrorStack::get());
    }
    policy.apply(ssl)?;
    ssl.set_ex_data(
        handshake_index()?,
        Arc::new(Handshake {
            policy: policy.clone(),
            policies: store.policies().clone(),
            client_certs: None,
        }),
    );
    if let Some(pair) = acme_pair {
        set_pair(ssl, pair)?;
        return Ok(ClientHelloResponse::SUCCESS);
    }
    let local = match &sni {
        Some(_) => None,
        None => LOCAL_ADDRESS
            .try_with(|a| *a)
            .ok()
            .flatten()
            .map(|ip| ip.to_string()),
    };
    let choice = store.find(sni.as_deref().or(local.as_deref()));
    // `defaultGeneratedCert`: the resolver's certificate stands in for the default once issued
    let generated = store
        .generated_default()
        .filter(|_| store.is_default(choice))
        .and_then(|main| acme.find(main));
    if let Some(pair) = generated {
        set_pair(ssl, pair)?;
        return Ok(ClientHelloResponse::SUCCESS);
    }
    for pair in choice.iter() {
        set_pair(ssl, pair)?;
    }
    Ok(ClientHelloResponse::SUCCESS)
}

/// What the handshake decided, kept with the connection (Pingora's `SslDigest` extension) so
/// each request can be checked against it: a request whose host maps to other `tls.options`
/// than the handshake used is misdirected (see `crate::proxy::misdirected`).
#[derive(Debug)]
pub struct Handshake {
    /// The policy the handshake was made under.
    pub policy: Arc<TlsPolicy>,
    /// Every policy in force at the handshake, to look up the request's host.
    pub policies: Arc<TlsPolicies>,
    /// The certificates the client presented (its own first, then the chain it sent), as
    /// its `clientAuth` let through; what `passTLSClientCert` forwards. Set at completion.
    pub client_certs: Option<Arc<[X509]>>,
}

/// Where the client-hello callback leaves the [`Handshake`] for the completion callback.
fn handshake_index() -> Result<Index<Ssl, Arc<Handshake>>, ErrorStack> {
    static INDEX: OnceLock<Index<Ssl, Arc<Handshake>>> = OnceLock::new();
    if let Some(index) = INDEX.get() {
        return Ok(*index);
    }
    let index = Ssl::new_ex_index()?;
    Ok(*INDEX.get_or_init(|| index))
}

/// Hands the [`Handshake`] to Pingora, which keeps it in the connection's `SslDigest`.
struct KeepHandshake;

#[async_trait::async_trait]
impl TlsAccept for KeepHandshake {
    async fn handshake_complete_callback(
        &self,
        ssl: &SslRef,
    ) -> Option<Arc<dyn std::any::Any + Send + Sync>> {
        let index = handshake_index().ok()?;
        let handshake: Arc<Handshake> = ssl.ex_data(index)?.clone();
        let Some(client_certs) = client_certs(ssl) else {
            return Some(handshake);
        };
        Some(Arc::new(Handshake {
            policy: handshake.policy.clone(),
            policies: handshake.policies.clone(),
            client_certs: Some(client_certs),
        }))
    }
}

/// The client's certificate then the chain it sent (OpenSSL keeps them apart on a server), at
/// most `MAX_CLIENT_CERTS`; `None` when it sent none.
fn client_certs(ssl: &SslRef) -> Option<Arc<[X509]>> {
    const MAX_CLIENT_CERTS: usize = 10;
    let leaf = ssl.peer_certificate()?;
    let leaf_der = leaf.to_der().ok();
    // some builds list the leaf in the chain too
    let chain = ssl
        .peer_cert_chain()
        .into_iter()
        .flatten()
        .filter(|c| c.to_der().ok() != leaf_der);
    let certs: Vec<X509> = std::iter::once(leaf)
        .chain(chain.map(|c| c.to_owned()))
        .take(MAX_CLIENT_CERTS)
        .collect();
    Some(certs.into())
}

/// Sets one certificate, its key and its chain on the handshake.
fn set_pair(ssl: &mut SslRef, pair: &super::CertPair) -> Result<(), ErrorStack> {
    ssl.set_certificate(&pair.cert)?;
    ssl.set_private_key(&pair.key)?;
    for extra in &pair.chain {
        ssl.add_chain_cert(extra.clone())?;
    }
    Ok(())
}

/// TLS-ALPN-01: the validation certificate, when pylon is solving the challenge for `name` and
/// the client offers `acme-tls/1` (only the CA does).
fn tls_alpn_challenge(ssl: &SslRef, name: &str) -> Option<Arc<super::CertPair>> {
    let cert = crate::acme::challenges::global().tls_alpn_cert(name)?;
    let offered = super::client_hello::offered_alpn(ssl)?;
    crate::acme::challenges::offers_acme_tls(&offered).then_some(cert)
}

/// ALPN: h2 when the client offers it, else http/1.1; no overlap means no ALPN (HTTP/1.1).
fn select_alpn<'a>(ssl: &mut SslRef, offered: &'a [u8]) -> Result<&'a [u8], AlpnError> {
    let challenge = crate::acme::challenges::ACME_TLS_ALPN;
    let solving = |ssl: &SslRef| {
        ssl.servername(openssl::ssl::NameType::HOST_NAME)
            .is_some_and(|n| crate::acme::challenges::global().tls_alpn_cert(n).is_some())
    };
    // the handshake's `tls.options` (`alpnProtocols`), set in the client-hello callback
    let (h2, http11) = handshake_index()
        .ok()
        .and_then(|index| ssl.ex_data(index))
        .map_or((true, true), |h| (h.policy.alpn_h2, h.policy.alpn_http11));
    for wanted in [challenge, &b"h2"[..], &b"http/1.1"[..]] {
        let allowed = match wanted {
            b"h2" => h2,
            b"http/1.1" => http11,
            _ => solving(ssl),
        };
        if !allowed {
            continue;
        }
        let mut rest = offered;
        while let Some((&len, tail)) = rest.split_first() {
            let len = len as usize;
            if tail.len() < len {
                break;
            }
            if &tail[..len] == wanted {
                return Ok(&tail[..len]);
            }
            rest = &tail[len..];
        }
    }
    Err(AlpnError::NOACK)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alpn_prefers_h2_then_http11() {
        let mut ctx = openssl::ssl::SslContext::builder(SslMethod::tls())
            .unwrap()
            .build();
        let _ = &mut ctx;
        let offered = b"\x08http/1.1\x02h2";
        let ssl_ctx = openssl::ssl::SslContext::builder(SslMethod::tls())
            .unwrap()
            .build();
        let mut ssl = openssl::ssl::Ssl::new(&ssl_ctx).unwrap();
        assert_eq!(select_alpn(&mut ssl, offered).unwrap(), b"h2");
        assert_eq!(select_alpn(&mut ssl, b"\x08http/1.1").unwrap(), b"http/1.1");
        assert!(select_alpn(&mut ssl, b"\x03foo").is_err());
        assert!(select_alpn(&mut ssl, b"\x09http").is_err());
    }
}
