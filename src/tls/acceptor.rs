//! Terminates TLS on a plain accepted connection: SNI picks the certificate, ALPN offers h2.

use crate::runtime::Store;
use openssl::error::ErrorStack;
use openssl::ssl::{
    AlpnError, ClientHelloResponse, NameType, SniError, SslAcceptor, SslAlert, SslMethod, SslRef,
    SslVersion,
};
use pingora::protocols::l4::stream::Stream as L4Stream;
use pingora::protocols::tls::server::handshake;
use pingora::protocols::Stream;
use std::sync::Arc;
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
    /// HTTP/1.1 by ALPN, and certificates chosen by SNI on every handshake from the Snapshot in
    /// force (so certificates and routes change together).
    pub fn new(
        certs: Arc<Store>,
        handshake_timeout: Duration,
    ) -> Result<TlsTerminator, openssl::error::ErrorStack> {
        let mut builder = SslAcceptor::mozilla_intermediate_v5(SslMethod::tls())?;
        builder.set_min_proto_version(Some(SslVersion::TLS1_2))?;
        {
            let store = certs.certs();
            let default = store.default_cert();
            builder.set_certificate(&default.cert)?;
            builder.set_private_key(&default.key)?;
        }
        builder.set_alpn_select_callback(select_alpn);
        let policies = certs.clone();
        builder.set_client_hello_callback(move |ssl, alert| apply_policy(ssl, alert, &policies));
        builder.set_servername_callback(move |ssl, _alert| choose_certificate(ssl, &certs));
        Ok(TlsTerminator {
            acceptor: builder.build(),
            handshake_timeout,
        })
    }

    /// Runs the server side of the handshake on `stream`, which must be a plain TCP stream.
    pub async fn accept(&self, stream: Stream) -> Result<Stream, HandshakeError> {
        let l4 = stream
            .into_any()
            .downcast::<L4Stream>()
            .map_err(|_| HandshakeError::NotTcp)?;
        match tokio::time::timeout(self.handshake_timeout, handshake(&self.acceptor, *l4)).await {
            Err(_) => Err(HandshakeError::Timeout),
            Ok(Err(e)) => Err(HandshakeError::Failed(e.to_string())),
            Ok(Ok(tls)) => Ok(Box::new(tls)),
        }
    }
}

/// Before the version is chosen: the `tls.options` of the requested name set the versions and
/// ciphers; `sniStrict` refuses a missing name or one no configured certificate covers.
fn apply_policy(
    ssl: &mut SslRef,
    alert: &mut SslAlert,
    certs: &Store,
) -> Result<ClientHelloResponse, ErrorStack> {
    let store = certs.certs();
    let name = super::client_hello::requested_server_name(ssl);
    let policy = store.policies().for_name(name.as_deref());
    if policy.sni_strict
        && !name
            .as_deref()
            .is_some_and(|n| store.has_certificate_for(n))
    {
        *alert = SslAlert::UNRECOGNIZED_NAME;
        return Err(ErrorStack::get());
    }
    policy.apply(ssl)?;
    Ok(ClientHelloResponse::SUCCESS)
}

fn choose_certificate(ssl: &mut SslRef, certs: &Store) -> Result<(), SniError> {
    let store = certs.certs();
    let pair = store.find(ssl.servername(NameType::HOST_NAME));
    ssl.set_certificate(&pair.cert)
        .and_then(|_| ssl.set_private_key(&pair.key))
        .map_err(|_| SniError::ALERT_FATAL)?;
    for extra in &pair.chain {
        ssl.add_chain_cert(extra.clone())
            .map_err(|_| SniError::ALERT_FATAL)?;
    }
    Ok(())
}

/// ALPN: h2 when the client offers it, else http/1.1; no overlap means no ALPN (HTTP/1.1).
fn select_alpn<'a>(_ssl: &mut SslRef, offered: &'a [u8]) -> Result<&'a [u8], AlpnError> {
    for wanted in [&b"h2"[..], &b"http/1.1"[..]] {
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
