//! Per-request state carried across the proxy phases.

use crate::runtime::{Route, Snapshot};
use crate::upstream::{Balancer, Failover, Pool};
use http::HeaderValue;
use pylon_plugins::PluginCtx;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;
use std::time::Instant;

/// What one request has learned so far; created empty by `Gateway::new_ctx`.
pub struct RequestCtx {
    /// The config this request runs under (taken once, at the first phase).
    pub snapshot: Option<Arc<Snapshot>>,
    pub route: Option<Arc<Route>>,
    /// The TCP peer's address.
    pub peer_ip: IpAddr,
    /// Whether the peer is a trusted forwarder for this entry point.
    pub trusted: bool,
    pub plugins: PluginCtx,
    /// Bit i set: server i of the pool was tried and failed.
    pub tried: u64,
    /// Failed attempts so far.
    pub attempts: u32,
    /// The pool the request's service resolved to (weighted services resolve once).
    pub pool: Option<Arc<Pool>>,
    /// A `failover` service whose main service took the request and whose `errors.status`
    /// may send it to the fallback.
    pub failover: Option<Arc<Failover>>,
    /// The fallback the request was sent to after the main service's answer (resolved in the
    /// route's service's place).
    pub fallback: Option<Balancer>,
    /// The copy of the request for a `mirroring` service's mirrors.
    pub mirror: Option<Box<super::mirror::MirrorCopy>>,
    /// Index of the server the request was sent to.
    pub server: Option<usize>,
    /// The attempt counted in its server's load (`p2c`, `leasttime`) and when it started.
    pub load: Option<(Arc<Pool>, usize, std::time::Instant)>,
    /// Sticky cookies to set on the response.
    pub set_cookies: Vec<HeaderValue>,
    /// When the request started (for the duration metrics).
    pub started: Instant,
    /// An `errors` middleware replaced the response: the upstream body is dropped and this
    /// page is sent at its end (taken when sent).
    pub error_page: Option<ErrorPageBody>,
    /// One of pylon's own services answered (ping, API, metrics, an ACME challenge): left out
    /// of the metrics and the access log unless `addInternals` says otherwise.
    pub internal: bool,
}

/// The body of an error page replacing the upstream's.
#[derive(Debug)]
pub struct ErrorPageBody(pub Option<bytes::Bytes>);

impl RequestCtx {
    pub fn new() -> Self {
        let unspecified = IpAddr::V4(Ipv4Addr::UNSPECIFIED);
        RequestCtx {
            snapshot: None,
            route: None,
            peer_ip: unspecified,
            trusted: false,
            plugins: PluginCtx::new(unspecified, false),
            tried: 0,
            attempts: 0,
            pool: None,
            failover: None,
            fallback: None,
            mirror: None,
            server: None,
            load: None,
            set_cookies: Vec::new(),
            started: Instant::now(),
            error_page: None,
            internal: false,
        }
    }
}

impl Default for RequestCtx {
    fn default() -> Self {
        Self::new()
    }
}
