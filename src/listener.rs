//! The per-connection front of an entry point: tells a TLS ClientHello from plain HTTP.
//!
//! Entry points listen on plain TCP. The first byte of a new connection decides: `0x16` (a TLS
//! handshake record) → terminate TLS with SNI-chosen certificates, then serve HTTP/1.1 or HTTP/2
//! (ALPN); anything else → plain HTTP/1.1. So TLS routers appearing at run time (Docker labels)
//! are served on any entry point without restarting listeners, as in Traefik.

use crate::proxy::Gateway;
use crate::tls::TlsTerminator;
use async_trait::async_trait;
use pingora::apps::ServerApp;
use pingora::protocols::Stream;
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
    pub fn new(proxy: HttpProxy<Gateway>, tls: Arc<TlsTerminator>, entrypoint: &str) -> Self {
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
        }
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
        let _open = self.open_connections.as_ref().map(OpenConnection::new);
        let mut first = [0u8; 1];
        // Peeking an L4 stream reads into its rewind buffer: no extra syscall, nothing lost.
        match stream.try_peek(&mut first).await {
            Ok(true) => {}
            Ok(false) => return self.proxy.process_new(stream, shutdown).await,
            Err(e) => {
                log::debug!("connection closed before its first byte: {e}");
                return None;
            }
        }
        let mut stream = if first[0] == TLS_HANDSHAKE_RECORD {
            match self.tls.accept(stream).await {
                Ok(tls) => tls,
                Err(e) => {
                    log::debug!("TLS handshake with a client failed: {e}");
                    return None;
                }
            }
        } else {
            stream
        };
        // Serve keep-alive requests here so the next request on this connection is not sniffed again.
        loop {
            stream = self.proxy.process_new(stream, shutdown).await?;
        }
    }

    async fn cleanup(&self) {
        // Requests arriving meanwhile are served with `Connection: close` (Pingora turns keep-alive
        // off once shutting down); then the connections still idle are closed.
        tokio::time::sleep(self.idle_linger).await;
        self.proxy.cleanup().await;
    }
}
