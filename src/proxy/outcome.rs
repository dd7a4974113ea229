//! Telling a route's plugins how a request ended (`Plugin::request_done`), only on routes
//! where some plugin asked (`Route::outcome_hooks`).

use crate::proxy::ctx::RequestCtx;
use crate::runtime::Route;
use pingora::{Error, ErrorSource};
use pingora_proxy::Session;
use pylon_plugins::{Outcome, PluginCtx};

/// At the end of a request that reached its route's end (upstream, internal service, tunnel):
/// its status, and whether the upstream failed (an upstream-side error, or a 502/504 answer).
pub fn tell(session: &Session, e: Option<&Error>, ctx: &RequestCtx) {
    let Some(route) = ctx.route.as_ref().filter(|r| r.outcome_hooks) else {
        return;
    };
    let status = session.response_written().map_or(0, |r| r.status.as_u16());
    let upstream_failed = e.is_some_and(|e| e.esource() == &ErrorSource::Upstream);
    let outcome = Outcome {
        status,
        network_error: upstream_failed || status == 502 || status == 504,
    };
    for plugin in route.chain.iter() {
        plugin.request_done(&outcome, &ctx.plugins);
    }
}

/// A plugin of the chain answered the request itself (401, 429, a breaker's fallback).
pub fn answered_by_plugin(route: &Route, status: u16, plugins: &PluginCtx) {
    let outcome = Outcome {
        status,
        network_error: false,
    };
    for plugin in route.chain.iter() {
        plugin.request_done(&outcome, plugins);
    }
}
