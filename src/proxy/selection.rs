//! Choosing the upstream server for a request: weighted services, sticky cookies, failover.

use super::ctx::RequestCtx;
use crate::upstream::Pool;
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
        ctx.pool = route.balancer.resolve(headers, &mut ctx.set_cookies);
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
            let i = pool.pick_other(ctx.tried).ok_or(NoServer::Unavailable)?;
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
    Ok((pool, index))
}

/// Records that the current attempt failed (`what` says how) and returns whether another
/// server is left to try.
pub fn attempt_failed(ctx: &mut RequestCtx, what: &str) -> bool {
    let (Some(pool), Some(i)) = (ctx.pool.clone(), ctx.server) else {
        return false;
    };
    if i < 64 {
        ctx.tried |= 1 << i;
    }
    pool.record_failure(i, what);
    let count = pool.servers().len().min(64);
    (0..count).any(|s| ctx.tried & (1 << s) == 0 && pool.is_up(s))
}
