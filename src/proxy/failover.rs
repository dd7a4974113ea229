//! `failover.errors` at request time: when the main service answers one of the listed statuses,
//! its answer is dropped (before any byte of it reaches the client) and the request is sent to
//! the fallback, through Pingora's retry (so the body Pingora kept, at most 64 KiB, is sent
//! again).

use super::ctx::RequestCtx;
use super::selection;
use pingora::{Error, ErrorType, Result};
use pingora_proxy::Session;

/// The error that makes Pingora send the request again, to the fallback.
pub const FAILING_OVER: &str = "the main service's answer fails over to the fallback";

/// Called with the main service's status: fails the attempt over when the failover service
/// lists it and the request can be sent again (its whole body read and kept).
pub fn on_main_answer(session: &mut Session, status: u16, ctx: &mut RequestCtx) -> Result<()> {
    let Some(failover) = ctx.failover.as_ref() else {
        return Ok(());
    };
    if !failover.fails_over_on(status) {
        return Ok(());
    }
    let replayable = session.is_body_done()
        && !session.as_ref().retry_buffer_truncated()
        && session.body_bytes_read() <= failover.max_replayed_body;
    if !replayable {
        log::debug!(
            "failover {}: {status} from the main service, but the request body cannot be sent again",
            failover.name
        );
        return Ok(());
    }
    let fallback = failover.fallback.clone();
    ctx.failover = None;
    ctx.fallback = Some(fallback);
    ctx.pool = None;
    ctx.server = None;
    ctx.tried = 0;
    selection::end_load(ctx);
    let mut e = Error::explain(ErrorType::Custom(FAILING_OVER), format!("status {status}"));
    e.set_retry(true);
    Err(e)
}
