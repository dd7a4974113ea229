//! The gateway's side of the metrics and the access log: serving `/metrics`, and describing a
//! finished request to both.

use crate::access_log::{AccessLog, Entry};
use crate::metrics::{Metrics, Observed};
use crate::proxy::ctx::RequestCtx;
use crate::runtime::entrypoint::canonical_ip;
use crate::runtime::Store;
use bytes::Bytes;
use http::StatusCode;
use pingora::Result;
use pingora_proxy::Session;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::SystemTime;

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

/// Writes the access-log line of the request that just finished.
pub fn access_log(log: &AccessLog, session: &Session, ctx: &RequestCtx, entrypoint: &str) {
    static REQUESTS: AtomicU64 = AtomicU64::new(0);
    let count = REQUESTS.fetch_add(1, Ordering::Relaxed) + 1;
    let (client_ip, client_port) = session
        .client_addr()
        .and_then(|a| a.as_inet())
        .map_or((IpAddr::V4(Ipv4Addr::UNSPECIFIED), 0), |a| {
            (canonical_ip(a.ip()), a.port())
        });
    let req = session.req_header();
    let route = ctx.route.as_deref();
    let service_url = match (&ctx.pool, ctx.server) {
        (Some(pool), Some(i)) => pool.servers().get(i).map(|s| s.url.as_str()),
        _ => None,
    };
    let elapsed = ctx.started.elapsed();
    let host = req
        .headers
        .get(http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .or_else(|| req.uri.authority().map(|a| a.as_str()))
        .unwrap_or("-");
    let protocol = match req.version {
        http::Version::HTTP_10 => "HTTP/1.0",
        http::Version::HTTP_2 => "HTTP/2.0",
        http::Version::HTTP_3 => "HTTP/3.0",
        _ => "HTTP/1.1",
    };
    let entry = Entry {
        client_ip,
        client_port,
        user: ctx.plugins.user.as_deref(),
        start: SystemTime::now() - elapsed,
        method: req.method.as_str(),
        path: req.uri.path_and_query().map_or("/", |p| p.as_str()),
        protocol,
        host,
        status: session.response_written().map_or(0, |r| r.status.as_u16()),
        size: session.body_bytes_sent() as u64,
        request_headers: &req.headers,
        entrypoint,
        router: route.map(|r| &*r.name),
        service: route.map(|r| &*r.service),
        service_url,
        duration: elapsed,
        retries: ctx.attempts,
        count,
    };
    log.log(&entry);
}
