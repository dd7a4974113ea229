//! One finished request, as the access log sees it (borrowed from the session: nothing copied
//! until a line is written).

use http::HeaderMap;
use std::net::IpAddr;
use std::time::{Duration, SystemTime};

/// A finished request.
pub struct Entry<'a> {
    pub client_ip: IpAddr,
    pub client_port: u16,
    pub user: Option<&'a str>,
    pub start: SystemTime,
    pub method: &'a str,
    /// Path and query, as the client sent them.
    pub path: &'a str,
    /// `HTTP/1.1`, `HTTP/2.0`.
    pub protocol: &'a str,
    pub host: &'a str,
    pub status: u16,
    /// Response body bytes sent to the client.
    pub size: u64,
    pub request_headers: &'a HeaderMap,
    pub entrypoint: &'a str,
    pub router: Option<&'a str>,
    pub service: Option<&'a str>,
    /// The server the request went to.
    pub service_url: Option<&'a str>,
    pub duration: Duration,
    pub retries: u32,
    /// Requests served by pylon so far (Traefik's request count).
    pub count: u64,
}

impl Entry<'_> {
    /// A request header as text (`-` when absent or not text).
    pub fn header(&self, name: &str) -> &str {
        self.request_headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("-")
    }
}
