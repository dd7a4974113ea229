//! Tells the connection's `Clock` where its request stands (head in, body in, tunnel).

use crate::listener::clock::Clock;
use crate::listener::guarded::clock_of;
use pingora_proxy::Session;

fn clock(session: &Session) -> Option<&Clock> {
    session.as_downstream().stream().and_then(clock_of)
}

/// The request head is read: the body and the response deadlines start.
pub fn head_done(session: &Session) {
    if let Some(clock) = clock(session) {
        clock.head_done();
    }
}

/// The request body is read: later reads only watch for the client closing.
pub fn body_done(session: &Session) {
    if let Some(clock) = clock(session) {
        clock.body_done();
    }
}

/// The connection is becoming a tunnel: its deadlines no longer apply.
pub fn release(session: &Session) {
    if let Some(clock) = clock(session) {
        clock.release();
    }
}
