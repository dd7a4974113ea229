//! The HTTP/1 keep-alive loop of a connection, with its deadlines and per-connection caps.
//!
//! Pingora's own loop (`ServerApp for HttpServerApp`) is replaced so the connection's `Clock`
//! is re-armed before each request (`keepAliveMaxTime` is checked by the gateway, per head).

use super::clock::Clock;
use super::guarded::Guarded;
use crate::proxy::Gateway;
use pingora::apps::HttpServerApp;
use pingora::protocols::http::ServerSession;
use pingora::protocols::Stream;
use pingora::server::ShutdownWatch;
use pingora_proxy::HttpProxy;
use std::sync::Arc;

/// Serves every request of one HTTP/1 connection, then drops (closes) it. `clock` is already
/// armed for the first request (`Clock::first_request`).
pub async fn serve(
    proxy: &Arc<HttpProxy<Gateway>>,
    stream: Stream,
    clock: Arc<Clock>,
    shutdown: &ShutdownWatch,
) {
    let limits = *clock.limits();
    let mut session = ServerSession::new_http1(Box::new(Guarded::new(stream, clock.clone())));
    if *shutdown.borrow() {
        session.set_keepalive(None);
    } else {
        session.set_keepalive(Some(limits.keepalive_secs()));
    }
    // Pingora counts reuses after the current request; the cap counts requests.
    session.set_keepalive_reuses_remaining(limits.max_requests.map(|n| n.saturating_sub(1)));
    let mut served = proxy.process_new_http(session, shutdown).await;
    while let Some(reused) = served {
        let (stream, settings) = reused.consume();
        let mut session = ServerSession::new_http1(stream);
        if let Some(settings) = settings {
            settings.apply_to_session(&mut session);
        }
        clock.next_request();
        served = proxy.process_new_http(session, shutdown).await;
    }
}
