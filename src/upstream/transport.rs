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
}

impl Transport {
    /// Keeps pooled connections of different TLS settings apart (Pingora's peer group key).
    pub fn connection_group(&self) -> u64 {
        let identity = self.tls.as_ref().map_or(0, |t| t.identity);
        identity ^ u64::from(self.insecure_skip_verify)
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
        }
    }
}
