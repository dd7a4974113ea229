//! Answers requests with pylon's own services: the API and dashboard, `/metrics`, `/ping`, on
//! the insecure `traefik` entry point or through a router naming `api@internal`, ... (after
//! that router's middlewares).

use super::{dashboard, Context, View};
use crate::config::internal::InternalService;
use crate::proxy::respond;
use crate::runtime::Snapshot;
use bytes::Bytes;
use http::{header, HeaderValue, StatusCode};
use pingora::Result;
use pingora_proxy::Session;

/// Writes the answer of `service` to the request in `session`; while shutting down,
/// `terminating` is what `/ping` answers (503 unless `ping.terminatingStatusCode` says otherwise).
pub async fn serve(
    session: &mut Session,
    service: InternalService,
    snapshot: &Snapshot,
    terminating: Option<StatusCode>,
) -> Result<()> {
    match service {
        InternalService::Ping => match terminating {
            Some(status) => {
                let reason = status.canonical_reason().unwrap_or("Terminating");
                respond::text(session, status, reason).await
            }
            None => respond::text(session, StatusCode::OK, "OK").await,
        },
        InternalService::Prometheus => match crate::metrics::global() {
            Some(m) => {
                let body = Bytes::from(m.render(snapshot));
                let ct = "text/plain; version=0.0.4; charset=utf-8";
                respond::full(session, StatusCode::OK, &[], body, ct).await
            }
            None => {
                let body = "metrics are not enabled: add [metrics.prometheus]\n";
                respond::text(session, StatusCode::NOT_FOUND, body).await
            }
        },
        InternalService::Api | InternalService::Dashboard => {
            let Some(context) = super::global().filter(|c| c.static_config.api.is_some()) else {
                let body = "the API is not enabled: add [api] to the static configuration\n";
                return respond::text(session, StatusCode::NOT_FOUND, body).await;
            };
            api_or_dashboard(session, context, snapshot).await
        }
        InternalService::Noop => {
            let ct = "text/plain; charset=utf-8";
            respond::full(session, StatusCode::IM_A_TEAPOT, &[], Bytes::new(), ct).await
        }
    }
}

/// `/api/...` from the API, `/dashboard/...` from the embedded dashboard (when it is on).
async fn api_or_dashboard(
    session: &mut Session,
    context: &Context,
    snapshot: &Snapshot,
) -> Result<()> {
    let req = session.req_header();
    let path = req.uri.path();
    if path == "/api/stats" {
        let v = super::stats::stats(crate::metrics::global().map(|m| &**m));
        let answer = super::query::Answer::json(StatusCode::OK, &v);
        return respond::full(
            session,
            answer.status,
            &[],
            answer.body,
            answer.content_type,
        )
        .await;
    }
    if path == "/dashboard" || path.starts_with("/dashboard/") {
        if !context.static_config.dashboard_enabled() {
            let body = "the dashboard is off: set [api] dashboard = true\n";
            return respond::text(session, StatusCode::NOT_FOUND, body).await;
        }
        let page = dashboard::asset(path);
        let mut headers = vec![
            (
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static(dashboard::CONTENT_SECURITY_POLICY),
            ),
            (
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
        ];
        if let Some(to) = page.location {
            headers.push((header::LOCATION, HeaderValue::from_static(to)));
        }
        return respond::full(
            session,
            page.status,
            &headers,
            Bytes::from_static(page.body),
            page.content_type,
        )
        .await;
    }
    let view = View { snapshot, context };
    let answer = super::handle(&req.method, path, req.uri.query(), &view);
    let mut headers = Vec::new();
    if let Some(next) = answer.next_page {
        headers.push((
            header::HeaderName::from_static("x-next-page"),
            HeaderValue::from(next),
        ));
    }
    respond::full(
        session,
        answer.status,
        &headers,
        answer.body,
        answer.content_type,
    )
    .await
}
