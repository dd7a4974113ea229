//! Timeouts and connection-reuse settings for talking to upstream servers (`serversTransport`).

use std::time::Duration;

/// How pylon dials and waits on a service's servers.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Transport {
    /// Time allowed to establish the TCP (and TLS) connection (`dialTimeout`, default 30s).
    pub dial_timeout: Duration,
    /// Time allowed between reads of the upstream response (`responseHeaderTimeout`; none if 0).
    pub read_timeout: Option<Duration>,
    /// How long an idle pooled connection is kept (`idleConnTimeout`, default 90s).
    pub idle_timeout: Duration,
    /// Skip upstream certificate verification (`insecureSkipVerify`).
    pub insecure_skip_verify: bool,
    /// `serverName`, `rootCAs`, `certificates`; `None`: the URL's host, the system's roots.
    pub tls: Option<std::sync::Arc<super::tls::UpstreamTls>>,
    /// `disableHTTP2`: `https://` servers are offered HTTP/1.1 only (else h2 first, by ALPN).
    pub disable_http2: bool,
}

impl Transport {
    /// Keeps pooled connections of different TLS settings apart (Pingora's peer group key), and
    /// HTTP/1.1-only ones (`disableHTTP2`) from those that may be HTTP/2.
    pub fn connection_group(&self) -> u64 {
        let identity = self.tls.as_ref().map_or(0, |t| t.identity);
        identity ^ u64::from(self.insecure_skip_verify) ^ (u64::from(self.disable_http2) << 1)
    }
}

impl Default for Transport {
    fn default() -> Self {
        Transport {
            dial_timeout: Duration::from_secs(30),
            read_timeout: None,
            idle_timeout: Duration::from_secs(90),
            insecure_skip_verify: false,
            tls: None,
            disable_http2: false,
        }
    }
}
