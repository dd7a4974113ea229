//! `Gateway`: pylon's `ProxyHttp`. One per entry point; every phase reads the request's Snapshot.
//!
//! Order of a request: sanity checks → `/ping` → entry-point redirection → route lookup (404)
//! → middlewares' `request_filter` → pick a server (weighted round robin, failover on connect
//! errors) → forwarded headers, Host, middlewares' upstream edits → response middlewares.

use super::checks::check_request;
use super::ctx::{ErrorPageBody, RequestCtx};
use super::error_pages;
use super::failover;
use super::forwarded::{self, Forwarding};
use super::path::{self, BadPath};
use super::respond;
use super::selection::{self, NoServer};
use super::upgrade;
use crate::config::internal::InternalService;
use crate::lifecycle::Lifecycle;
use crate::rule::RequestFacts;
use crate::runtime::entrypoint::canonical_ip;
use crate::runtime::{EntryPoint, Store};
use async_trait::async_trait;
use bytes::Bytes;
use http::{header, HeaderValue, StatusCode};
use pingora::connectors::TransportConnector;
use pingora::http::{RequestHeader, ResponseHeader};
use pingora::prelude::HttpPeer;
use pingora::{Error, ErrorSource, ErrorType, Result};
use pingora_proxy::{FailToProxy, ProxyHttp, Session};
use pylon_plugins::Flow;
use std::borrow::Cow;
use std::net::IpAddr;
use std::sync::Arc;

/// The proxy logic of one entry point.
pub struct Gateway {
    pub entrypoint: Arc<EntryPoint>,
    pub store: Arc<Store>,
    pub lifecycle: Arc<Lifecycle>,
    /// Dials upstreams for upgrade tunnels (regular requests use Pingora's pooled connector).
    connector: TransportConnector,
    /// Fetches `errors` middleware pages (pooled connections to the pages' services).
    pages: pingora::connectors::http::Connector,
    /// The process's metrics, when `[metrics.prometheus]` is on.
    metrics: Option<Arc<crate::metrics::Metrics>>,
    /// The access log, when `[accessLog]` is on.
    access_log: Option<Arc<crate::access_log::AccessLog>>,
}

impl Gateway {
    pub fn new(entrypoint: Arc<EntryPoint>, store: Arc<Store>, lifecycle: Arc<Lifecycle>) -> Self {
        Gateway {
            entrypoint,
            store,
            lifecycle,
            connector: TransportConnector::new(None),
            pages: pingora::connectors::http::Connector::new(None),
            metrics: crate::metrics::global().cloned(),
            access_log: crate::access_log::global().cloned(),
        }
    }

    /// Edits the request about to go upstream: middlewares, forwarded headers, Host.
    async fn prepare_upstream(
        &self,
        session: &mut Session,
        upstream: &mut RequestHeader,
        ctx: &mut RequestCtx,
    ) -> Result<()> {
        let Some(route) = ctx.route.clone() else {
            return Ok(());
        };
        // a retry prepares the upstream request again from the client's request
        ctx.plugins.stripped_prefix = None;
        for plugin in route.chain.iter() {
            plugin
                .upstream_request_filter(session, upstream, &mut ctx.plugins)
                .await?;
        }
        let forwarding = Forwarding {
            peer_ip: ctx.peer_ip,
            trusted: ctx.trusted,
            tls: ctx.plugins.tls,
            websocket: session.is_upgrade_req(),
            append_forwarded_for: self.entrypoint.append_forwarded_for,
            entrypoint_port: self.entrypoint.port_header.clone(),
            stripped_prefix: ctx.plugins.stripped_prefix.as_deref(),
        };
        forwarded::apply(upstream, &forwarding)?;
        if let (Some(pool), Some(i)) = (&ctx.pool, ctx.server) {
            if !pool.pass_host_header {
                if let Some(server) = pool.servers().get(i) {
                    upstream.insert_header(header::HOST, server.authority.clone())?;
                }
            }
        }
        if let Some(copy) = ctx.mirror.as_mut() {
            copy.set_head(upstream);
        }
        Ok(())
    }

    /// Edits the response about to go to the client: sticky cookies, middlewares.
    async fn filter_response(
        &self,
        session: &mut Session,
        response: &mut ResponseHeader,
        ctx: &mut RequestCtx,
    ) -> Result<()> {
        for cookie in ctx.set_cookies.drain(..) {
            response.append_header(header::SET_COOKIE, cookie)?;
        }
        if let Some(route) = ctx.route.clone() {
            for plugin in route.chain.iter() {
                plugin
                    .response_filter(session, response, &mut ctx.plugins)
                    .await?;
            }
        }
        Ok(())
    }

    /// Proxies an HTTP/1 upgrade (WebSocket) through `upgrade`, with connect failover. The
    /// client connection keeps its deadlines until the `101` is written; the upstream's answer
    /// is bounded by the service's `responseHeaderTimeout` (504), the tunnel by the entry
    /// point's `idleTimeout`.
    async fn tunnel(&self, session: &mut Session, ctx: &mut RequestCtx) -> Result<()> {
        let (mut upstream, header_timeout) = loop {
            let (pool, index) = match selection::choose(ctx, &session.req_header().headers) {
                Ok(chosen) => chosen,
                Err(_) => {
                    let status = StatusCode::SERVICE_UNAVAILABLE;
                    return respond::text(session, status, "Service Unavailable").await;
                }
            };
            let Some(peer) = pool.peer(index) else {
                log::debug!("upgrade: {}", no_address(&pool, index));
                session.set_keepalive(None);
                return respond::text(session, StatusCode::BAD_GATEWAY, "Bad Gateway").await;
            };
            let mut request = session.req_header().clone();
            self.prepare_upstream(session, &mut request, ctx).await?;
            match upgrade::connect(&self.connector, &peer, &request).await {
                Ok(stream) => break (stream, peer.options.read_timeout),
                Err(e) => {
                    log::debug!("upgrade: cannot reach {}: {e}", peer);
                    if !selection::attempt_failed(ctx, "connection failed") {
                        session.set_keepalive(None);
                        return respond::text(session, StatusCode::BAD_GATEWAY, "Bad Gateway")
                            .await;
                    }
                }
            }
        };
        let client_deadline = super::deadlines::write_deadline(session);
        let answer = upgrade::await_answer(&mut upstream, header_timeout, client_deadline).await;
        let (mut response, early) = match answer {
            upgrade::Answer::Head(head, early) => (*head, early),
            upgrade::Answer::Bad(e) => {
                log::debug!("upgrade: bad answer from upstream: {e}");
                session.set_keepalive(None);
                return respond::text(session, StatusCode::BAD_GATEWAY, "Bad Gateway").await;
            }
            upgrade::Answer::TooSlow => {
                session.set_keepalive(None);
                let status = StatusCode::GATEWAY_TIMEOUT;
                return respond::text(session, status, "Gateway Timeout").await;
            }
            upgrade::Answer::ClientDeadline => {
                // nothing can be written to the client any more
                return Error::e_explain(
                    ErrorType::WriteError,
                    "response write deadline passed waiting for the upgrade answer",
                )
                .map_err(|e| e.into_down());
            }
        };
        self.filter_response(session, &mut response, ctx).await?;
        if response.status != StatusCode::SWITCHING_PROTOCOLS {
            return upgrade::forward_refusal(session, &mut upstream, response, early).await;
        }
        session
            .write_response_header(Box::new(response), false)
            .await?;
        super::deadlines::release(session);
        super::upgrade_relay::relay(session, &mut upstream, early, self.entrypoint.clients.idle)
            .await
    }

    /// Replaces the request path by its normalized form (see `path`), so routing, middlewares
    /// and the upstream all see the same path. No allocation when the path is already normal.
    ///
    /// An HTTP/1 absolute-form target (`GET http://a.test/x HTTP/1.0`) names the host itself:
    /// as RFC 9112 §3.2.2 says, its authority replaces the Host header (so the request routes
    /// by the host it names, not by an empty or different Host), and the target becomes
    /// origin-form (`/x`) for routing and the upstream.
    fn normalize_path(&self, session: &mut Session) -> std::result::Result<(), BadPath> {
        let req = session.req_header();
        let named_host = absolute_form_host(req)?;
        let clean = path::normalize_with(req.uri.path(), self.entrypoint.encoded)?;
        if named_host.is_none() && matches!(clean, Cow::Borrowed(_)) {
            return Ok(());
        }
        let rebuilt = match req.uri.query() {
            Some(q) => format!("{clean}?{q}"),
            None => clean.into_owned(),
        };
        let uri = http::Uri::try_from(rebuilt).map_err(|_| BadPath::BadEscape)?;
        let req = session.req_header_mut();
        req.set_uri(uri);
        if let Some(host) = named_host {
            req.insert_header(header::HOST, host)
                .map_err(|_| BadPath::UserinfoInTarget)?;
        }
        Ok(())
    }

    /// HTTP-01: answers `/.well-known/acme-challenge/<token>` on a resolver's `httpChallenge`
    /// entry point (before redirections and routers) for the tokens being solved; other
    /// tokens get 404, or go on to the routers with `allowACMEByPass`. Returns whether it
    /// answered.
    async fn acme_http01(&self, session: &mut Session) -> Result<bool> {
        let path = session.req_header().uri.path();
        let Some(token) = path.strip_prefix(crate::acme::challenges::HTTP01_PREFIX) else {
            return Ok(false);
        };
        let challenges = crate::acme::challenges::global();
        if !challenges.answers_http_on(&self.entrypoint.name) {
            return Ok(false);
        }
        match challenges.http_answer(token) {
            Some(answer) => {
                let body = bytes::Bytes::copy_from_slice(answer.as_bytes());
                let ct = "application/octet-stream";
                respond::full(session, StatusCode::OK, &[], body, ct).await?;
            }
            None if self.entrypoint.allow_acme_bypass => return Ok(false),
            None => respond::text(session, StatusCode::NOT_FOUND, "404 page not found\n").await?,
        }
        Ok(true)
    }

    /// Answers `/ping` (200 `OK`; while shutting down 503 or `ping.terminatingStatusCode`). Returns whether it answered.
    async fn ping(&self, session: &mut Session) -> Result<bool> {
        let req = session.req_header();
        let is_ping = self.entrypoint.ping
            && req.uri.path() == "/ping"
            && (req.method == http::Method::GET || req.method == http::Method::HEAD);
        if !is_ping {
            return Ok(false);
        }
        if self.lifecycle.is_draining() || session.is_process_shutting_down() {
            let status = self.entrypoint.ping_terminating_status;
            let reason = status.canonical_reason().unwrap_or("Terminating");
            respond::text(session, status, reason).await?;
        } else {
            respond::text(session, StatusCode::OK, "OK").await?;
        }
        Ok(true)
    }

    /// Answers with one of pylon's own services (API, dashboard, metrics, ping).
    async fn serve_internal(
        &self,
        session: &mut Session,
        ctx: &mut RequestCtx,
        service: InternalService,
    ) -> Result<()> {
        ctx.internal = true;
        let draining = self.lifecycle.is_draining() || session.is_process_shutting_down();
        let snapshot = match &ctx.snapshot {
            Some(s) => s.clone(),
            None => self.store.load(),
        };
        let terminating = draining.then_some(self.entrypoint.ping_terminating_status);
        crate::api::serve::serve(session, service, &snapshot, terminating).await
    }

    /// Runs the route's `errors` middlewares on an upstream response: a matching status gets
    /// the page from their service (the original response goes out if that fails).
    async fn replace_with_error_page(
        &self,
        session: &Session,
        response: &mut ResponseHeader,
        ctx: &mut RequestCtx,
    ) -> Result<()> {
        // Most routes have no `errors` middleware: leave before touching the route's Arc.
        let has_pages = ctx
            .route
            .as_ref()
            .is_some_and(|r| !r.error_pages.is_empty());
        if !has_pages || session.is_upgrade_req() {
            return Ok(());
        }
        let Some(route) = ctx.route.clone() else {
            return Ok(());
        };
        let status = response.status.as_u16();
        let Some(pages) = error_pages::matching(&route, status) else {
            return Ok(());
        };
        match error_pages::fetch(&self.pages, pages, status, session.req_header()).await {
            Ok(page) => {
                error_pages::rewrite_header(response, &page)?;
                ctx.error_page = Some(ErrorPageBody(Some(page.body)));
            }
            Err(why) => log::warn!(
                "errors middleware {}: no page for status {status} ({why}); the original response is sent",
                pages.name
            ),
        }
        Ok(())
    }

    /// The `errors` page for a response pylon makes itself (502, 503, 504), if the route has
    /// one; `true` when it was sent (or the client went away while it was).
    async fn send_error_page(&self, session: &mut Session, ctx: &RequestCtx, status: u16) -> bool {
        let Some(route) = ctx.route.clone() else {
            return false;
        };
        let Some(pages) = error_pages::matching(&route, status) else {
            return false;
        };
        let page = match error_pages::fetch(&self.pages, pages, status, session.req_header()).await
        {
            Ok(page) => page,
            Err(why) => {
                log::warn!(
                    "errors middleware {}: no page for status {status} ({why}); pylon's own answer is sent",
                    pages.name
                );
                return false;
            }
        };
        let Ok(code) = StatusCode::from_u16(page.status) else {
            return false;
        };
        let ct = page
            .content_type
            .unwrap_or_else(|| HeaderValue::from_static("text/html; charset=utf-8"));
        match respond::typed(session, code, &[], page.body, ct).await {
            Ok(()) => true,
            Err(e) => {
                log::debug!("could not send the error page: {e}");
                true
            }
        }
    }

    /// Redirects a plain request when the entry point has `http.redirections`.
    async fn redirect(&self, session: &mut Session) -> Result<bool> {
        let Some(redirect) = &self.entrypoint.redirect else {
            return Ok(false);
        };
        let req = session.req_header();
        let host = request_host(req).unwrap_or("");
        let host = strip_port(host);
        let mut location = String::with_capacity(host.len() + 64);
        location.push_str(&redirect.scheme);
        location.push_str("://");
        location.push_str(host);
        if let Some(port) = redirect.port {
            location.push(':');
            location.push_str(&port.to_string());
        }
        location.push_str(req.uri.path_and_query().map_or("/", |pq| pq.as_str()));
        let get = req.method == http::Method::GET;
        let status = match (redirect.permanent, get) {
            (true, true) => StatusCode::MOVED_PERMANENTLY,
            (true, false) => StatusCode::PERMANENT_REDIRECT,
            (false, true) => StatusCode::FOUND,
            (false, false) => StatusCode::TEMPORARY_REDIRECT,
        };
        let location = HeaderValue::from_str(&location)
            .map_err(|_| Error::explain(ErrorType::HTTPStatus(400), "bad host for redirect"))?;
        respond::full(
            session,
            status,
            &[(header::LOCATION, location)],
            Bytes::new(),
            "text/plain",
        )
        .await?;
        Ok(true)
    }
}

/// The error type of [`no_address`]: its log line is the pool's, once per change, not one per
/// request (see `suppress_error_log`).
const NO_ADDRESS: &str = "upstream host name does not resolve";

/// The attempt on server `index` cannot be made: it has no address (its host name does not
/// resolve). An upstream connect error, so the answer is 502, as for a refused connection.
fn no_address(pool: &crate::upstream::Pool, index: usize) -> Box<Error> {
    let why = pool
        .address_problem(index)
        .unwrap_or_else(|| "no such server".to_string());
    Error::create(
        ErrorType::Custom(NO_ADDRESS),
        ErrorSource::Upstream,
        Some(format!("{}: {why}", pool.name).into()),
        None,
    )
}

/// The host an HTTP/1 absolute-form target names (`http://a.test/x` → `a.test`). Pingora keeps
/// such a target verbatim in `raw_path` and only its path in the URI.
fn absolute_form_host(req: &RequestHeader) -> std::result::Result<Option<String>, BadPath> {
    let raw = req.raw_path();
    if req.version == http::Version::HTTP_2 || raw.first() == Some(&b'/') || raw == b"*" {
        return Ok(None);
    }
    let target = std::str::from_utf8(raw)
        .ok()
        .and_then(|t| t.parse::<http::Uri>().ok());
    let Some(authority) = target
        .as_ref()
        .filter(|u| u.scheme().is_some())
        .and_then(|u| u.authority())
    else {
        return Ok(None);
    };
    if authority.as_str().contains('@') {
        return Err(BadPath::UserinfoInTarget);
    }
    Ok(Some(authority.as_str().to_string()))
}

/// The Host header, or the `:authority` of an HTTP/2 request.
fn request_host(req: &RequestHeader) -> Option<&str> {
    req.headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .or_else(|| req.uri.authority().map(|a| a.as_str()))
}

fn strip_port(host: &str) -> &str {
    if host.starts_with('[') {
        return host.find(']').map_or(host, |i| &host[..=i]);
    }
    host.rsplit_once(':').map_or(host, |(h, _)| h)
}

fn is_tls(session: &Session) -> bool {
    session.digest().is_some_and(|d| d.ssl_digest.is_some())
}

fn peer_ip(session: &Session) -> IpAddr {
    session
        .client_addr()
        .and_then(|a| a.as_inet())
        .map(|a| canonical_ip(a.ip()))
        .unwrap_or(IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED))
}

#[async_trait]
impl ProxyHttp for Gateway {
    type CTX = RequestCtx;

    fn new_ctx(&self) -> RequestCtx {
        RequestCtx::new()
    }

    async fn early_request_filter(
        &self,
        session: &mut Session,
        _ctx: &mut RequestCtx,
    ) -> Result<()> {
        super::deadlines::head_done(session);
        Ok(())
    }

    async fn request_filter(&self, session: &mut Session, ctx: &mut RequestCtx) -> Result<bool> {
        let raw_head = match session.as_downstream() {
            pingora::protocols::http::ServerSession::H1(h1) => Some(h1.get_headers_raw_bytes()),
            _ => None,
        };
        let rejection = check_request(
            session.req_header(),
            raw_head.as_deref(),
            self.entrypoint.max_header_bytes,
        );
        if let Some(rejection) = rejection {
            if rejection.close {
                session.set_keepalive(None);
            }
            respond::text(session, rejection.status, rejection.reason).await?;
            return Ok(true);
        }
        super::connection::sanitize(session.req_header_mut());
        if let Some(rejection) = super::upgrade_policy::screen(session.req_header_mut()) {
            session.set_keepalive(None);
            respond::text(session, rejection.status, rejection.reason).await?;
            return Ok(true);
        }
        if let Err(bad) = self.normalize_path(session) {
            session.set_keepalive(None);
            respond::text(session, StatusCode::BAD_REQUEST, bad.reason()).await?;
            return Ok(true);
        }
        if self.ping(session).await? || self.acme_http01(session).await? {
            ctx.internal = true;
            return Ok(true);
        }
        if self.entrypoint.metrics {
            if let Some(metrics) = &self.metrics {
                if super::observe::serve(metrics, &self.store, session).await? {
                    ctx.internal = true;
                    return Ok(true);
                }
            }
        }
        if self.entrypoint.api {
            let path = session.req_header().uri.path();
            if let Some(service) = InternalService::for_api_path(path, self.entrypoint.dashboard) {
                self.serve_internal(session, ctx, service).await?;
                return Ok(true);
            }
        }
        let tls = is_tls(session);
        if !tls && self.redirect(session).await? {
            return Ok(true);
        }
        let host = strip_port(request_host(session.req_header()).unwrap_or(""));
        if tls && super::misdirected::is_misdirected(session, host) {
            let status = StatusCode::MISDIRECTED_REQUEST;
            respond::text(session, status, "421 misdirected request\n").await?;
            return Ok(true);
        }
        let snapshot = self.store.load();
        ctx.peer_ip = peer_ip(session);
        ctx.trusted = self.entrypoint.trusted.trusts(ctx.peer_ip);
        if !ctx.trusted {
            // Client-sent X-Forwarded-* from an untrusted peer never reach a middleware's
            // source criterion, redirect decision or the upstream (as Traefik's entry points).
            forwarded::strip_untrusted(session.req_header_mut());
        }
        ctx.plugins.client_ip = ctx.peer_ip;
        ctx.plugins.forwarded_client_ip = ctx.peer_ip;
        ctx.plugins.tls = tls;
        if tls {
            ctx.plugins.client_certs = super::misdirected::client_certs(session);
        }
        ctx.plugins.encoded = self.entrypoint.encoded;

        let route = snapshot.table(self.entrypoint.index).and_then(|table| {
            let router = if tls { &table.tls } else { &table.plain };
            let req = session.req_header();
            // `/admin;x` routes as `/admin` (what Tomcat-style upstreams resolve)
            let path = path::routing_path(req.uri.path());
            let facts = RequestFacts {
                host: request_host(req).unwrap_or(""),
                path: &path,
                query: req.uri.query(),
                method: req.method.as_str(),
                headers: &req.headers,
                client_ip: ctx.peer_ip,
            };
            router.lookup(&facts).cloned()
        });
        ctx.snapshot = Some(snapshot);
        let Some(route) = route else {
            respond::text(session, StatusCode::NOT_FOUND, "404 page not found\n").await?;
            return Ok(true);
        };
        // behind a trusted forwarder, the client it forwards for (only for chains that ask)
        if ctx.trusted && route.chain.iter().any(|p| p.wants_forwarded_client()) {
            ctx.plugins.forwarded_client_ip = forwarded::client_behind(
                session.req_header(),
                ctx.peer_ip,
                &self.entrypoint.trusted,
            );
        }
        for plugin in route.chain.iter() {
            if let Flow::Respond(reply) = plugin.request_filter(session, &mut ctx.plugins).await? {
                let ct = "text/plain; charset=utf-8";
                let status = reply.status.as_u16();
                let sent =
                    respond::full(session, reply.status, &reply.headers, reply.body, ct).await;
                if route.outcome_hooks {
                    super::outcome::answered_by_plugin(&route, status, &ctx.plugins);
                }
                sent?;
                return Ok(true);
            }
        }
        ctx.plugins.body_hooks = route.chain.iter().any(|p| p.body_hooks());
        let internal = route.internal;
        ctx.route = Some(route);
        if let Some(service) = internal {
            // After the router's middlewares (e.g. basicAuth in front of api@internal).
            self.serve_internal(session, ctx, service).await?;
            return Ok(true);
        }
        if session.is_upgrade_req() && !session.is_http2() {
            self.tunnel(session, ctx).await?;
            return Ok(true);
        }
        Ok(false)
    }

    async fn upstream_peer(
        &self,
        session: &mut Session,
        ctx: &mut RequestCtx,
    ) -> Result<Box<HttpPeer>> {
        if let Some(wait) = selection::backoff(ctx) {
            tokio::time::sleep(wait).await;
        }
        let (pool, index) = match selection::choose(ctx, &session.req_header().headers) {
            Ok(chosen) => chosen,
            Err(NoServer::Unavailable) => {
                return Error::e_explain(
                    ErrorType::HTTPStatus(503),
                    "service has no available server",
                )
            }
            Err(NoServer::NoRoute) => {
                return Error::e_explain(ErrorType::InternalError, "no route for upstream_peer")
            }
        };
        pool.peer(index).ok_or_else(|| no_address(&pool, index))
    }

    fn suppress_error_log(&self, _session: &Session, _ctx: &RequestCtx, error: &Error) -> bool {
        matches!(error.etype(), ErrorType::Custom(NO_ADDRESS))
    }

    fn suppress_proxy_warn_log(
        &self,
        _session: &Session,
        _ctx: &RequestCtx,
        error: &Error,
        _context: pingora_proxy::ProxyWarnLogContext,
    ) -> bool {
        // a failover to the fallback is the configured path, not a failure
        matches!(error.etype(), ErrorType::Custom(failover::FAILING_OVER))
    }

    fn fail_to_connect(
        &self,
        _session: &mut Session,
        _peer: &HttpPeer,
        ctx: &mut RequestCtx,
        mut e: Box<Error>,
    ) -> Box<Error> {
        // Nothing reached the server: trying another one is safe for any method.
        let another = selection::attempt_failed(ctx, "connection failed");
        e.set_retry(another);
        e
    }

    fn error_while_proxy(
        &self,
        peer: &HttpPeer,
        session: &mut Session,
        e: Box<Error>,
        ctx: &mut RequestCtx,
        client_reused: bool,
    ) -> Box<Error> {
        if matches!(e.etype(), ErrorType::Custom(failover::FAILING_OVER)) {
            return e;
        }
        let mut e = e.more_context(format!("Peer: {peer}"));
        let another = selection::attempt_failed(ctx, "error while proxying");
        // Bytes may have reached the server: only idempotent requests are sent again, and
        // (as Pingora does) only when the failed connection was a reused one.
        let idempotent = session.req_header().method.is_idempotent()
            && !session.as_ref().retry_buffer_truncated();
        if !(another && idempotent) {
            e.set_retry(false);
        } else if selection::has_retry_policy(ctx) {
            // the retry middleware retries any failure of an idempotent request
            e.set_retry(true);
        } else {
            e.retry.decide_reuse(client_reused);
        }
        e
    }

    async fn upstream_response_filter(
        &self,
        session: &mut Session,
        response: &mut ResponseHeader,
        ctx: &mut RequestCtx,
    ) -> Result<()> {
        failover::on_main_answer(session, response.status.as_u16(), ctx)?;
        // `leasttime`: the response head's time
        selection::head_answered(ctx);
        if response.status.is_server_error() {
            if let (Some(pool), Some(i)) = (&ctx.pool, ctx.server) {
                if pool.passive.as_ref().is_some_and(|p| p.count_5xx) {
                    pool.record_failure(i, "5xx response");
                }
            }
        }
        Ok(())
    }

    async fn upstream_request_filter(
        &self,
        session: &mut Session,
        upstream: &mut RequestHeader,
        ctx: &mut RequestCtx,
    ) -> Result<()> {
        self.prepare_upstream(session, upstream, ctx).await
    }

    async fn request_body_filter(
        &self,
        session: &mut Session,
        body: &mut Option<Bytes>,
        end_of_stream: bool,
        ctx: &mut RequestCtx,
    ) -> Result<()> {
        if end_of_stream {
            super::deadlines::body_done(session);
        }
        if let Some(copy) = ctx.mirror.as_mut() {
            copy.add_body(body.as_ref());
        }
        if let (true, Some(route)) = (ctx.plugins.body_hooks, &ctx.route) {
            for plugin in route.chain.iter() {
                plugin.request_body_filter(body, end_of_stream, &mut ctx.plugins)?;
            }
        }
        Ok(())
    }

    fn response_body_filter(
        &self,
        _session: &mut Session,
        body: &mut Option<Bytes>,
        end_of_stream: bool,
        ctx: &mut RequestCtx,
    ) -> Result<Option<std::time::Duration>> {
        if let Some(page) = &mut ctx.error_page {
            // The upstream's body is dropped; the page goes out in its place, at its end.
            *body = if end_of_stream { page.0.take() } else { None };
        }
        if let (true, Some(route)) = (ctx.plugins.body_hooks, &ctx.route) {
            for plugin in route.chain.iter() {
                plugin.response_body_filter(body, end_of_stream, &mut ctx.plugins)?;
            }
        }
        Ok(None)
    }

    /// An HTTP/2 upstream's trailers: a body plugin may end the response with bytes in their
    /// place (grpcWeb's trailer frame).
    async fn response_trailer_filter(
        &self,
        _session: &mut Session,
        trailers: &mut http::HeaderMap,
        ctx: &mut RequestCtx,
    ) -> Result<Option<Bytes>> {
        if let (true, Some(route)) = (ctx.plugins.body_hooks, &ctx.route) {
            for plugin in route.chain.iter() {
                if let Some(last) = plugin.response_trailer_filter(trailers, &mut ctx.plugins)? {
                    return Ok(Some(last));
                }
            }
        }
        Ok(None)
    }

    async fn response_filter(
        &self,
        session: &mut Session,
        response: &mut ResponseHeader,
        ctx: &mut RequestCtx,
    ) -> Result<()> {
        self.replace_with_error_page(session, response, ctx).await?;
        self.filter_response(session, response, ctx).await
    }

    async fn fail_to_proxy(
        &self,
        session: &mut Session,
        e: &Error,
        ctx: &mut RequestCtx,
    ) -> FailToProxy {
        let (status, body): (u16, &'static str) = match e.etype() {
            ErrorType::HTTPStatus(503) => (503, "Service Unavailable"),
            ErrorType::HTTPStatus(code) => (*code, ""),
            ErrorType::ConnectTimedout | ErrorType::ReadTimedout | ErrorType::WriteTimedout
                if e.esource() == &ErrorSource::Upstream =>
            {
                (504, "Gateway Timeout")
            }
            _ => match e.esource() {
                ErrorSource::Upstream => (502, "Bad Gateway"),
                ErrorSource::Downstream => match e.etype() {
                    ErrorType::WriteError | ErrorType::ReadError | ErrorType::ConnectionClosed => {
                        (0, "")
                    }
                    _ => (400, "Bad Request"),
                },
                ErrorSource::Internal | ErrorSource::Unset => (500, "Internal Server Error"),
            },
        };
        // The connection is not reused after a failed proxy attempt: say so in the response.
        session.set_keepalive(None);
        // gRPC clients get a gRPC status (respond::typed), not an error page
        let grpc = super::grpc_status::is_grpc(session.req_header());
        if status >= 500 && !grpc && self.send_error_page(session, ctx, status).await {
            return FailToProxy {
                error_code: status,
                can_reuse_downstream: false,
            };
        }
        if let Ok(code) = StatusCode::from_u16(status) {
            if let Err(err) = respond::text(session, code, body).await {
                log::debug!("could not send the {status} error response: {err}");
            }
        }
        FailToProxy {
            error_code: status,
            can_reuse_downstream: false,
        }
    }

    /// Tells the route's plugins that asked how the request ended, counts it in the metrics
    /// (when `[metrics.prometheus]` is on) and writes its access log line; requests to internal
    /// services only with `addInternals`.
    async fn logging(&self, session: &mut Session, e: Option<&Error>, ctx: &mut RequestCtx) {
        selection::end_load(ctx);
        super::outcome::tell(session, e, ctx);
        if let Some(copy) = ctx.mirror.take() {
            copy.send();
        }
        let internals = self.entrypoint.observe_internals;
        let requests = self.entrypoint.observe_requests;
        if let Some(metrics) = self
            .metrics
            .as_ref()
            .filter(|_| requests.metrics && (!ctx.internal || internals.metrics))
        {
            super::observe::record(metrics, session, ctx, &self.entrypoint.name);
        }
        let log = self.access_log.as_ref();
        if let Some(log) =
            log.filter(|_| requests.access_log && (!ctx.internal || internals.access_log))
        {
            super::observe::access_log(log, session, ctx, &self.entrypoint.name);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_ports_from_hosts() {
        assert_eq!(strip_port("a.b:80"), "a.b");
        assert_eq!(strip_port("a.b"), "a.b");
        assert_eq!(strip_port("[::1]:80"), "[::1]");
        assert_eq!(strip_port("[::1]"), "[::1]");
    }
}
