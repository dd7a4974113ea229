//! Tells the connection's `Clock` where its request stands (head in, body in, tunnel).
//!
//! Only HTTP/1 connections have a clock; for HTTP/2 streams these do nothing.

use crate::listener::clock::Clock;
use crate::listener::guarded::clock_of;
use pingora_proxy::Session;

fn clock(session: &Session) -> Option<&Clock> {
    session.as_downstream().stream().and_then(clock_of)
}

/// The request head is read: the body and the response deadlines start, and a connection
/// older than `keepAliveMaxTime` is closed after this response (`Connection: close`).
pub fn head_done(session: &mut Session) {
    let too_old = clock(session).is_some_and(|clock| {
        clock.head_done();
        clock.limits().max_age.is_some_and(|max| clock.age() >= max)
    });
    if too_old {
        session.set_keepalive(None);
    }
}

/// The request body is read: later reads only watch for the client closing.
pub fn body_done(session: &Session) {
    if let Some(clock) = clock(session) {
        clock.body_done();
    }
}

/// When the response must have been written (`writeTimeout`), if ever.
pub fn write_deadline(session: &Session) -> Option<tokio::time::Instant> {
    clock(session).and_then(Clock::write_deadline)
}

/// The tunnel is over: any further read or write of the connection fails at once, so a client
/// that reads nothing cannot hold its close.
pub fn expire(session: &Session) {
    if let Some(clock) = clock(session) {
        clock.expire();
    }
}

/// The connection became a tunnel (its `101` is written): its deadlines no longer apply.
pub fn release(session: &Session) {
    if let Some(clock) = clock(session) {
        clock.release();
    }
}
