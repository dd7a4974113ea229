//! Choosing the upstream server for a request: weighted services, sticky cookies, failover.

use super::ctx::RequestCtx;
use super::mirror::MirrorCopy;
use crate::upstream::{Detours, Pool};
use http::HeaderMap;
use std::sync::Arc;

/// Why no server could be chosen.
#[derive(Debug, PartialEq, Eq)]
pub enum NoServer {
    /// The request has no route (a bug if it happens).
    NoRoute,
    /// Every server (not yet tried) is down: the answer is 503.
    Unavailable,
}

/// Picks the pool (once per request) and a server of it for the next attempt.
///
/// First attempt: the sticky cookie's server if it is up, else weighted round robin (and a
/// `Set-Cookie` is queued when the pool is sticky). Later attempts: a server not tried yet.
pub fn choose(ctx: &mut RequestCtx, headers: &HeaderMap) -> Result<(Arc<Pool>, usize), NoServer> {
    let route = ctx.route.clone().ok_or(NoServer::NoRoute)?;
    if ctx.pool.is_none() {
        let mut detours = Detours::default();
        let service = ctx.fallback.as_ref().unwrap_or(&route.balancer);
        ctx.pool = service.resolve_with(headers, &mut ctx.set_cookies, &mut detours);
        if ctx.fallback.is_none() {
            ctx.failover = detours.failover;
            if let Some((mirroring, chosen)) = detours.mirroring.filter(|(_, c)| *c != 0) {
                ctx.mirror = Some(Box::new(MirrorCopy::new(mirroring, chosen)));
            }
        }
    }
    let pool = ctx.pool.clone().ok_or(NoServer::Unavailable)?;
    let from_cookie = (ctx.tried == 0)
        .then(|| {
            let token = pool
                .sticky
                .as_ref()?
                .find(headers.get_all(http::header::COOKIE).iter())?;
            let i = pool.index_of_token(token)?;
            pool.is_up(i).then_some(i)
        })
        .flatten();
    let index = match from_cookie {
        Some(i) => i,
        None => {
            // With a retry policy, a single-server pool is retried on the same server.
            let repeat = || {
                ctx.route
                    .as_ref()
                    .and_then(|r| r.retry.as_ref())
                    .and_then(|_| pool.pick())
            };
            let i = pool
                .pick_for(ctx.tried, ctx.peer_ip)
                .or_else(repeat)
                .ok_or(NoServer::Unavailable)?;
            if let Some(sticky) = &pool.sticky {
                let prefix = format!("{}=", sticky.name);
                ctx.set_cookies
                    .retain(|c| !c.as_bytes().starts_with(prefix.as_bytes()));
                if let Some(cookie) = pool.token(i).and_then(|t| sticky.set_cookie(t)) {
                    ctx.set_cookies.push(cookie);
                }
            }
            i
        }
    };
    ctx.server = Some(index);
    // a failed attempt's load ends here; this one's begins
    end_load(ctx);
    if pool.strategy.tracks_load() {
        pool.begin(index);
        ctx.load = Some((pool.clone(), index, std::time::Instant::now()));
    }
    Ok((pool, index))
}

/// The attempt counted in its server's load is over.
pub fn end_load(ctx: &mut RequestCtx) {
    if let Some((pool, index, _)) = ctx.load.take() {
        pool.end(index);
    }
}

/// The attempt's server answered its head: the time goes into its average (`leasttime`).
pub fn head_answered(ctx: &RequestCtx) {
    if let Some((pool, index, started)) = &ctx.load {
        pool.record_time(*index, started.elapsed());
    }
}

/// Records that the current attempt failed (`what` says how) and returns whether another
/// attempt may be made: with a `retry` middleware, while attempts remain (on any available
/// server); without, while a server not tried yet is available (failover).
pub fn attempt_failed(ctx: &mut RequestCtx, what: &str) -> bool {
    ctx.attempts += 1;
    let (Some(pool), Some(i)) = (ctx.pool.clone(), ctx.server) else {
        return false;
    };
    if i < 64 {
        ctx.tried |= 1 << i;
    }
    pool.record_failure(i, what);
    if let Some(policy) = ctx.route.as_ref().and_then(|r| r.retry.as_ref()) {
        return ctx.attempts < policy.attempts && pool.has_available();
    }
    let count = pool.servers().len().min(64);
    (0..count).any(|s| ctx.tried & (1 << s) == 0 && pool.is_up(s))
}

/// How long to wait before the next attempt (the retry policy's backoff; none without one).
pub fn backoff(ctx: &RequestCtx) -> Option<std::time::Duration> {
    let policy = ctx.route.as_ref()?.retry.as_ref()?;
    (ctx.attempts > 0).then(|| policy.backoff(ctx.attempts))
}

/// Whether the route has a retry policy (then any idempotent failure may be retried).
pub fn has_retry_policy(ctx: &RequestCtx) -> bool {
    ctx.route.as_ref().is_some_and(|r| r.retry.is_some())
}
