//! pylon-plugins: the compiled-in middlewares and the trait they implement.
//!
//! Each middleware is one module: its settings (`Config`, Traefik's keys), its `build` (checks
//! the settings while it builds what runs, errors at their key paths: see `build`), the plugin
//! and its tests (docs/plugins.md). A plugin is built once per configuration and shared by every
//! router that names it: `Arc<dyn Plugin>` in a per-router chain. The proxy calls the hooks in
//! chain order at the matching Pingora phase; nothing is looked up by name per request.

#![forbid(unsafe_code)]

pub mod add_prefix;
pub mod auth_guard;
pub mod basic_auth;
pub mod buffering;
pub mod build;
pub mod chain;
pub mod circuit_breaker;
pub mod compress;
pub mod content_type;
pub mod digest_auth;
pub mod duration;
pub mod errors;
pub mod forward_auth;
pub mod grpc_web;
pub mod headers;
pub mod in_flight;
pub mod ip_allow_list;
pub mod outcome;
pub mod pass_tls_client_cert;
pub mod rate_limit;
pub mod redirect_regex;
pub mod redirect_scheme;
pub mod regex_replacement;
pub mod replace_path;
pub mod replace_path_regex;
pub mod request_path;
pub mod retry;
pub mod source;
pub mod source_config;
pub mod strip_prefix;
pub mod strip_prefix_regex;

use async_trait::async_trait;
use bytes::Bytes;
use http::{HeaderName, HeaderValue, StatusCode};
use pingora_error::Result;
use pingora_http::{RequestHeader, ResponseHeader};
use pingora_proxy::Session;
use std::net::IpAddr;

pub use build::{BuildCx, BuildError, BuildResult, Built};
pub use in_flight::InFlightReq;
pub use outcome::Outcome;
pub use source::SourceCriterion;
pub use strip_prefix::StripPrefix;

/// What the proxy does after a plugin's `request_filter`.
#[derive(Debug)]
pub enum Flow {
    /// Go on with the next plugin, then the upstream.
    Continue,
    /// Answer the client with this reply; no upstream is contacted.
    Respond(Reply),
}

/// A response a plugin sends instead of proxying.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: Vec<(HeaderName, HeaderValue)>,
    pub body: Bytes,
}

impl Reply {
    /// A reply with a status and a short plain-text body.
    pub fn text(status: StatusCode, body: &'static str) -> Self {
        Reply {
            status,
            headers: vec![(
                http::header::CONTENT_TYPE,
                HeaderValue::from_static("text/plain; charset=utf-8"),
            )],
            body: Bytes::from_static(body.as_bytes()),
        }
    }
}

/// Per-request facts and scratch space shared by the plugins of one chain.
pub struct PluginCtx {
    /// The client address pylon trusts (the peer, or the forwarded one from a trusted proxy).
    pub client_ip: IpAddr,
    /// The client behind a trusted forwarder: the rightmost `X-Forwarded-For` address that is
    /// not one of the entry point's `forwardedHeaders.trustedIPs` (the peer when it is not
    /// trusted). What per-client protections (basicAuth's failure guard) count by, so one
    /// attacker behind a CDN does not lock everyone out. Set only for chains with a plugin
    /// that `wants_forwarded_client` (else the peer).
    pub forwarded_client_ip: IpAddr,
    /// Whether the client connection is TLS.
    pub tls: bool,
    /// The certificates the TLS client presented (its own first), when it sent any.
    pub client_certs: Option<std::sync::Arc<[openssl::x509::X509]>>,
    /// The entry point's `encodedCharacters`: what a path written by a middleware may keep.
    pub encoded: request_path::EncodedAllowed,
    /// The prefixes removed from the path so far, joined; sent as `X-Forwarded-Prefix`.
    pub stripped_prefix: Option<String>,
    /// Request body bytes seen so far (counted by body plugins).
    pub request_body_bytes: u64,
    /// Response body bytes seen so far (counted by body plugins).
    pub response_body_bytes: u64,
    /// Whether a plugin of this request's chain uses the body hooks (set by the proxy).
    pub body_hooks: bool,
    /// The authenticated user, for the access log's `ClientUsername` (set by forwardAuth's
    /// `headerField`).
    pub user: Option<String>,
    /// Things released when the request ends (e.g. an in-flight slot), by being dropped.
    held: Vec<Box<dyn Send + Sync>>,
    /// Per-request state of body plugins, one value per type (see `put` / `get`).
    state: Vec<Box<dyn std::any::Any + Send + Sync>>,
}

impl std::fmt::Debug for PluginCtx {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PluginCtx")
            .field("client_ip", &self.client_ip)
            .field("tls", &self.tls)
            .field("stripped_prefix", &self.stripped_prefix)
            .field("held", &self.held.len())
            .finish()
    }
}

impl PluginCtx {
    pub fn new(client_ip: IpAddr, tls: bool) -> Self {
        PluginCtx {
            client_ip,
            forwarded_client_ip: client_ip,
            tls,
            client_certs: None,
            encoded: request_path::EncodedAllowed::default(),
            stripped_prefix: None,
            request_body_bytes: 0,
            response_body_bytes: 0,
            body_hooks: false,
            user: None,
            held: Vec::new(),
            state: Vec::new(),
        }
    }

    /// Stores a plugin's per-request state (replacing a previous value of the same type).
    pub fn put<T: std::any::Any + Send + Sync>(&mut self, value: T) {
        self.state.retain(|s| !s.is::<T>());
        self.state.push(Box::new(value));
    }

    /// The per-request state of type `T`, if a plugin stored one.
    pub fn get<T: std::any::Any + Send + Sync>(&self) -> Option<&T> {
        self.state.iter().find_map(|s| s.downcast_ref::<T>())
    }

    /// The per-request state of type `T`, to change it.
    pub fn get_mut<T: std::any::Any + Send + Sync>(&mut self) -> Option<&mut T> {
        self.state.iter_mut().find_map(|s| s.downcast_mut::<T>())
    }

    /// Keeps `guard` alive until the request ends.
    pub fn hold(&mut self, guard: Box<dyn Send + Sync>) {
        self.held.push(guard);
    }
}

/// A middleware compiled into pylon. Every hook has a do-nothing default.
#[async_trait]
pub trait Plugin: Send + Sync + 'static {
    /// The middleware type as in Traefik's configuration (e.g. `stripPrefix`).
    fn kind(&self) -> &'static str;

    /// Runs after routing, before an upstream is chosen. May answer the request itself.
    async fn request_filter(&self, _session: &mut Session, _cx: &mut PluginCtx) -> Result<Flow> {
        Ok(Flow::Continue)
    }

    /// Edits the request about to be sent upstream (path, headers).
    async fn upstream_request_filter(
        &self,
        _session: &mut Session,
        _request: &mut RequestHeader,
        _cx: &mut PluginCtx,
    ) -> Result<()> {
        Ok(())
    }

    /// Edits the response about to be sent to the client.
    async fn response_filter(
        &self,
        _session: &mut Session,
        _response: &mut ResponseHeader,
        _cx: &mut PluginCtx,
    ) -> Result<()> {
        Ok(())
    }

    /// Whether this plugin reads `PluginCtx::forwarded_client_ip`. The proxy works it out
    /// (parsing `X-Forwarded-For`) only for chains where some plugin says so.
    fn wants_forwarded_client(&self) -> bool {
        false
    }

    /// Whether this plugin uses the body hooks below. The proxy calls them only for chains
    /// where some plugin says so, so chains without body plugins pay nothing per chunk.
    fn body_hooks(&self) -> bool {
        false
    }

    /// Sees, and may replace, each request body chunk on its way upstream (`None`: no data in
    /// this call). An `Err(HTTPStatus(413))` ends the request with that status.
    fn request_body_filter(
        &self,
        _body: &mut Option<Bytes>,
        _end_of_stream: bool,
        _cx: &mut PluginCtx,
    ) -> Result<()> {
        Ok(())
    }

    /// Whether this plugin wants `request_done`. The proxy calls it only on routes where
    /// some plugin says so (decided once per route), so other routes pay nothing.
    fn wants_outcome(&self) -> bool {
        false
    }

    /// Told how a request through this plugin's chain ended (status, upstream failure), once,
    /// when it ends; also when a plugin of the chain answered it. Synchronous: no blocking.
    fn request_done(&self, _outcome: &Outcome, _cx: &PluginCtx) {}

    /// The plugin itself, for the host's views of a type's live state (the API and metrics
    /// read a circuit breaker's state through it).
    fn as_any(&self) -> Option<&dyn std::any::Any> {
        None
    }

    /// Sees, and may replace, each response body chunk on its way to the client. Runs in the
    /// proxy's synchronous body phase: no blocking, no awaiting.
    fn response_body_filter(
        &self,
        _body: &mut Option<Bytes>,
        _end_of_stream: bool,
        _cx: &mut PluginCtx,
    ) -> Result<()> {
        Ok(())
    }

    /// Sees the trailers of an HTTP/2 upstream's response (body plugins only); returning bytes
    /// ends the client's response with them as its last body chunk instead of the trailers
    /// (gRPC-Web's trailer frame). The first plugin of the chain that returns bytes wins.
    fn response_trailer_filter(
        &self,
        _trailers: &mut http::HeaderMap,
        _cx: &mut PluginCtx,
    ) -> Result<Option<Bytes>> {
        Ok(None)
    }
}
