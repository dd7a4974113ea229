//! The per-connection front of an entry point: tells a TLS ClientHello from plain HTTP.
//!
//! Entry points listen on plain TCP. The first byte of a new connection decides: `0x16` (a TLS
//! handshake record) → terminate TLS with SNI-chosen certificates, then serve HTTP/1.1 or HTTP/2
//! (ALPN); anything else → plain HTTP/1.1. So TLS routers appearing at run time (Docker labels)
//! are served on any entry point without restarting listeners, as in Traefik.
//!
//! Slow and greedy clients are bounded here: `maxConnections` refuses connections past the
//! ceiling, the first byte must come within the head deadline, and HTTP/1 connections run
//! under a `Clock` (see `h1`).

pub mod clock;
pub mod guarded;
pub mod h1;
pub mod h2c;
pub mod limit;
pub mod open;
pub mod proxy_protocol;

use crate::proxy::Gateway;
use crate::runtime::client_limits::ClientLimits;
use crate::tls::TlsTerminator;
use async_trait::async_trait;
use clock::Clock;
use guarded::Guarded;
use limit::ConnectionLimit;
use pingora::apps::ServerApp;
use pingora::protocols::{Stream, ALPN};
use pingora::server::ShutdownWatch;
use pingora_proxy::HttpProxy;
use std::sync::Arc;

/// First byte of a TLS record carrying a handshake message.
const TLS_HANDSHAKE_RECORD: u8 = 0x16;

/// Sniffs each new connection and hands it, decrypted if needed, to the HTTP proxy.
pub struct EntryPointApp {
    proxy: Arc<HttpProxy<Gateway>>,
    tls: Arc<TlsTerminator>,
    /// `open_connections{entrypoint, protocol="TCP"}`, when metrics are on.
    open_connections: Option<prometheus::IntGauge>,
    /// How long idle keep-alive connections stay open after the listeners close.
    idle_linger: std::time::Duration,
    limits: ClientLimits,
    /// `maxConnections`, when set.
    connections: Option<ConnectionLimit>,
    /// `proxyProtocol`, when set.
    proxy_protocol: Option<proxy_protocol::ProxyProtocol>,
    /// Where this entry point's TCP routers are found (the running config).
    tcp: Option<TcpRouting>,
}

/// The running config's TCP routers for one entry point.
struct TcpRouting {
    store: Arc<crate::runtime::Store>,
    /// The entry point's index in the snapshot's tables.
    index: usize,
    /// Relayed connections with no bytes either way for this long are closed.
    idle: std::time::Duration,
}

/// One open connection in the gauge, for as long as it lives.
struct OpenConnection<'a>(&'a prometheus::IntGauge);

impl<'a> OpenConnection<'a> {
    fn new(gauge: &'a prometheus::IntGauge) -> Self {
        gauge.inc();
        OpenConnection(gauge)
    }
}

impl Drop for OpenConnection<'_> {
    fn drop(&mut self) {
        self.0.dec();
    }
}

impl EntryPointApp {
    pub fn new(
        proxy: HttpProxy<Gateway>,
        tls: Arc<TlsTerminator>,
        entrypoint: &str,
        limits: ClientLimits,
    ) -> Self {
        let open_connections = crate::metrics::global().and_then(|m| {
            m.open_connections
                .get_metric_with_label_values(&[entrypoint, "TCP"])
                .ok()
        });
        EntryPointApp {
            proxy: Arc::new(proxy),
            tls,
            open_connections,
            idle_linger: std::time::Duration::ZERO,
            limits,
            connections: limits.max_connections.map(ConnectionLimit::new),
            proxy_protocol: None,
            tcp: None,
        }
    }

    /// Routes connections through the entry point's TCP routers (`tcp.routers`) first.
    pub fn with_tcp_routers(mut self, store: Arc<crate::runtime::Store>, index: usize) -> Self {
        let idle = self
            .limits
            .idle
            .unwrap_or(std::time::Duration::from_secs(180));
        self.tcp = Some(TcpRouting { store, index, idle });
        self
    }

    /// Reads PROXY protocol headers from the trusted peers (`proxyProtocol`).
    pub fn with_proxy_protocol(mut self, policy: Option<proxy_protocol::ProxyProtocol>) -> Self {
        self.proxy_protocol = policy;
        self
    }

    /// Keeps idle keep-alive connections open for `linger` after the listeners close (shutdown
    /// or upgrade), so a client sending just then is answered (with `Connection: close`) rather
    /// than seeing its connection closed under the request.
    pub fn with_idle_linger(mut self, linger: std::time::Duration) -> Self {
        self.idle_linger = linger;
        self
    }
}

#[async_trait]
impl ServerApp for EntryPointApp {
    async fn process_new(
        self: &Arc<Self>,
        mut stream: Stream,
        shutdown: &ShutdownWatch,
    ) -> Option<Stream> {
        let _slot = match &self.connections {
            Some(limit) => match limit.acquire() {
                Some(slot) => Some(slot),
                None => {
                    log::debug!("maxConnections reached: connection closed at once");
                    return None;
                }
            },
            None => None,
        };
        let _open = self.open_connections.as_ref().map(OpenConnection::new);
        let _counted = open::OpenConnection::enter();
        // The first head is due `headerTimeout` after the accept (after the TLS handshake).
        let clock = Arc::new(Clock::new(self.limits));
        clock.first_request();
        if let Some(policy) = &self.proxy_protocol {
            // before anything reads the connection: the header comes first, within the head
            // deadline, and makes its source the client's address
            stream = match proxy_protocol::accept(policy, stream, clock.read_deadline()).await {
                Ok(stream) => stream,
                Err(e) => {
                    log::debug!("connection closed: {e}");
                    return None;
                }
            };
        }
        if let Some(tcp) = &self.tcp {
            // the snapshot stays with a relayed connection: a reload does not cut it
            let snapshot = tcp.store.load();
            if let Some(table) = snapshot.tcp.get(tcp.index).filter(|t| !t.is_empty()) {
                match crate::tcp::dispatch::dispatch(table, stream, &self.tls, tcp.idle).await {
                    crate::tcp::dispatch::Dispatched::Taken => return None,
                    crate::tcp::dispatch::Dispatched::Http(http) => stream = http,
                }
            }
        }
        let mut first = [0u8; 1];
        // Peeking an L4 stream reads into its rewind buffer: no extra syscall, nothing lost.
        let peek = stream.try_peek(&mut first);
        let peeked = match clock.read_deadline() {
            Some(at) => match tokio::time::timeout_at(at, peek).await {
                Ok(peeked) => peeked,
                Err(_) => {
                    log::debug!("no byte within the head deadline: connection closed");
                    return None;
                }
            },
            None => peek.await,
        };
        match peeked {
            Ok(true) if first[0] == h2c::PREFACE[0] => {
                // `P`: an HTTP/2 preface (h2c with prior knowledge), or PUT/POST/PATCH
                let (plain, h2) = match h2c::opens_with_preface(stream, clock.read_deadline()).await
                {
                    Ok(found) => found,
                    Err(e) => {
                        log::debug!("connection closed: {e}");
                        return None;
                    }
                };
                if h2 {
                    clock.h2_preface();
                    let stream: Stream = Box::new(Guarded::new(plain, clock));
                    return self.proxy.process_new(stream, shutdown).await;
                }
                h1::serve(&self.proxy, plain, clock, shutdown).await;
                return None;
            }
            Ok(true) => {}
            Ok(false) => {
                h1::serve(&self.proxy, stream, clock, shutdown).await;
                return None;
            }
            Err(e) => {
                log::debug!("connection closed before its first byte: {e}");
                return None;
            }
        }
        let stream = if first[0] == TLS_HANDSHAKE_RECORD {
            match self.tls.accept(stream).await {
                Ok(tls) => {
                    clock.first_request();
                    tls
                }
                Err(e) => {
                    log::debug!("TLS handshake with a client failed: {e}");
                    return None;
                }
            }
        } else {
            stream
        };
        if matches!(stream.selected_alpn_proto(), Some(ALPN::H2)) {
            // HTTP/2: Pingora's loop, with `h2_idle_timeout` from `idleTimeout`; the preface
            // must come within the head deadline
            clock.h2_preface();
            let stream: Stream = Box::new(Guarded::new(stream, clock));
            return self.proxy.process_new(stream, shutdown).await;
        }
        // Keep-alive requests are served in `h1`, so they are not sniffed again.
        h1::serve(&self.proxy, stream, clock, shutdown).await;
        None
    }

    async fn cleanup(&self) {
        // Requests arriving meanwhile are served with `Connection: close` (Pingora turns keep-alive
        // off once shutting down); then the connections still idle are closed.
        tokio::time::sleep(self.idle_linger).await;
        self.proxy.cleanup().await;
    }
}
