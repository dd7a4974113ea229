//! The gateway's side of the metrics: serving `/metrics` and describing a finished request.

use crate::metrics::{Metrics, Observed};
use crate::proxy::ctx::RequestCtx;
use crate::runtime::Store;
use bytes::Bytes;
use http::StatusCode;
use pingora::Result;
use pingora_proxy::Session;

/// Answers `GET /metrics` with the text exposition; returns whether it answered.
pub async fn serve(metrics: &Metrics, store: &Store, session: &mut Session) -> Result<bool> {
    let req = session.req_header();
    if req.uri.path() != "/metrics" || req.method != http::Method::GET {
        return Ok(false);
    }
    let body = metrics.render(&store.load());
    super::respond::full(
        session,
        StatusCode::OK,
        &[],
        Bytes::from(body),
        "text/plain; version=0.0.4; charset=utf-8",
    )
    .await?;
    Ok(true)
}

/// Traefik's `protocol` label for the request.
fn protocol(session: &Session) -> &'static str {
    let req = session.req_header();
    if session.is_upgrade_req() {
        return "websocket";
    }
    let content_type = req
        .headers
        .get(http::header::CONTENT_TYPE)
        .map(|v| v.as_bytes())
        .unwrap_or_default();
    if content_type.starts_with(b"application/grpc") {
        return "grpc";
    }
    let accept = req
        .headers
        .get(http::header::ACCEPT)
        .map(|v| v.as_bytes())
        .unwrap_or_default();
    if accept == b"text/event-stream" {
        return "sse";
    }
    "http"
}

/// Counts the request that just finished.
pub fn record(metrics: &Metrics, session: &Session, ctx: &RequestCtx, entrypoint: &str) {
    let status = session.response_written().map_or(0, |r| r.status.as_u16());
    let route = ctx.route.as_deref();
    let observed = Observed {
        status,
        method: session.req_header().method.as_str(),
        protocol: protocol(session),
        entrypoint,
        router: route.map(|r| &*r.name),
        service: route.map(|r| &*r.service),
        seconds: ctx.started.elapsed().as_secs_f64(),
        request_bytes: session.body_bytes_read() as u64,
        response_bytes: session.body_bytes_sent() as u64,
        retries: ctx.attempts,
    };
    metrics.record(&observed);
}
