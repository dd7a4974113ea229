//! A TLS request whose host is governed by other `tls.options` than the handshake it came on is
//! misdirected (421), as in Traefik: otherwise a client could handshake under a weaker policy's
//! name (or no name) and send a stricter router's host. Also where a request finds the client
//! certificates its connection's handshake kept (for `passTLSClientCert`).

use crate::tls::acceptor::Handshake;
use crate::tls::server_name::normalize;
use pingora_proxy::Session;
use std::sync::Arc;

/// Whether the request's `host` (port stripped) maps to another TLS policy than the one its
/// connection's handshake used. Plain connections, and configs where every name has the
/// default options, are never misdirected (nothing is looked up for them).
pub fn is_misdirected(session: &Session, host: &str) -> bool {
    let Some(handshake) = session
        .digest()
        .and_then(|d| d.ssl_digest.as_ref())
        .and_then(|ssl| ssl.extension.get::<Handshake>())
    else {
        return false;
    };
    if handshake.policies.only_default() {
        return false;
    }
    let host = normalize(host);
    let wanted = handshake.policies.for_name(host.as_deref());
    !Arc::ptr_eq(wanted, &handshake.policy)
}

/// The certificates the client presented on this TLS connection (see `Handshake`), if any.
pub fn client_certs(session: &Session) -> Option<Arc<[openssl::x509::X509]>> {
    session
        .digest()
        .and_then(|d| d.ssl_digest.as_ref())
        .and_then(|ssl| ssl.extension.get::<Handshake>())
        .and_then(|h| h.client_certs.clone())
}
