//! What an entry point with TCP routers does with a new connection, before HTTP: a TLS
//! connection whose ClientHello matches a TLS router is relayed (its TLS passed through, or
//! terminated here with the store's certificates); a connection that is not TLS goes to a
//! plain router (``HostSNI(`*`)``) when one matches. Anything else goes on to HTTP, its bytes
//! untouched.

use super::client_hello;
use super::relay;
use super::routes::{TcpRoute, TcpTable};
use crate::rule::ConnectionFacts;
use crate::tls::TlsTerminator;
use pingora::protocols::Stream;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

/// First byte of a TLS record carrying a handshake message.
const TLS_HANDSHAKE_RECORD: u8 = 0x16;
/// With plain TCP routers, a connection whose client says nothing for this long is taken as a
/// server-first protocol (SMTP, MySQL, ...) and not TLS.
pub const CLIENT_FIRST_WAIT: Duration = Duration::from_secs(1);

/// What became of the connection.
pub enum Dispatched {
    /// A TCP router took it (relayed, or refused by its middlewares).
    Taken,
    /// No TCP router wants it: serve it as HTTP.
    Http(Stream),
}

/// Routes `stream` through `table`, or hands it back for HTTP.
pub async fn dispatch(
    table: &TcpTable,
    mut stream: Stream,
    tls: &TlsTerminator,
    idle: Duration,
) -> Dispatched {
    let (peer, local) = addresses(&stream);
    let client_ip = peer.map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |a| a.ip());
    let mut first = [0u8; 1];
    let wait = if table.plain.is_empty() {
        // TLS routers only: the head deadline of the HTTP side bounds this too
        Duration::from_secs(10)
    } else {
        CLIENT_FIRST_WAIT
    };
    let is_tls = match tokio::time::timeout(wait, stream.try_peek(&mut first)).await {
        Ok(Ok(true)) => first[0] == TLS_HANDSHAKE_RECORD,
        Ok(Ok(false)) | Ok(Err(_)) => return Dispatched::Http(stream),
        // silent client: a server-first protocol, not TLS
        Err(_) => false,
    };
    if !is_tls {
        let facts = ConnectionFacts {
            sni: None,
            alpn: &[],
            client_ip,
        };
        return match table.find_plain(&facts) {
            Some(route) => {
                serve(route, stream, peer, local, idle).await;
                Dispatched::Taken
            }
            None => Dispatched::Http(stream),
        };
    }
    if table.tls.is_empty() {
        return Dispatched::Http(stream);
    }
    let hello = match client_hello::peek(&mut stream).await {
        Ok(hello) => hello,
        Err(e) => {
            // not a ClientHello pylon can read: the TLS side gives the client its error
            log::debug!("TCP routing: {e}");
            return Dispatched::Http(stream);
        }
    };
    let facts = ConnectionFacts {
        sni: hello.sni.as_deref(),
        alpn: &hello.alpn,
        client_ip,
    };
    let Some(route) = table.find_tls(&facts).cloned() else {
        return Dispatched::Http(stream);
    };
    if route.passthrough {
        serve(&route, stream, peer, local, idle).await;
        return Dispatched::Taken;
    }
    match tls.accept(stream).await {
        Ok(decrypted) => serve(&route, decrypted, peer, local, idle).await,
        Err(e) => log::debug!("TCP router {}: TLS handshake failed: {e}", route.name),
    }
    Dispatched::Taken
}

/// Applies the router's middlewares and relays the connection to its service.
async fn serve(
    route: &Arc<TcpRoute>,
    stream: Stream,
    peer: Option<SocketAddr>,
    local: Option<SocketAddr>,
    idle: Duration,
) {
    let client_ip = peer.map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |a| a.ip());
    if !route.allows(client_ip) {
        log::debug!("TCP router {}: {client_ip} is not allowed", route.name);
        return;
    }
    let Some(_slots) = route.take_slots() else {
        log::debug!("TCP router {}: inFlightConn limit reached", route.name);
        return;
    };
    let Some(pool) = route.service.pool() else {
        log::warn!("TCP router {}: its service has no server", route.name);
        return;
    };
    if let Err(e) = relay::relay(stream, &pool, peer, local, idle).await {
        log::warn!("TCP router {}: {e}", route.name);
    }
}

/// The client's and this side's addresses (the client's as a PROXY header gave it, if any).
fn addresses(stream: &Stream) -> (Option<SocketAddr>, Option<SocketAddr>) {
    let digest = stream.get_socket_digest();
    let inet = |a: Option<&pingora::protocols::l4::socket::SocketAddr>| {
        a.and_then(|a| a.as_inet()).copied()
    };
    match digest {
        Some(d) => (inet(d.peer_addr()), inet(d.local_addr())),
        None => (None, None),
    }
}
