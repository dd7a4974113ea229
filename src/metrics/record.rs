//! Counting one finished request at each level. Label values are borrowed (status codes from a
//! table made once, names from the compiled route): nothing is formatted per request.

use super::codes::code_label;
use super::registry::{Level, Metrics};

/// What one request was, as the metrics see it.
pub struct Observed<'a> {
    pub status: u16,
    pub method: &'a str,
    /// Traefik's protocol label: `http`, `websocket`, `grpc` or `sse`.
    pub protocol: &'a str,
    pub entrypoint: &'a str,
    /// `name@provider`, when a router matched.
    pub router: Option<&'a str>,
    pub service: Option<&'a str>,
    pub seconds: f64,
    pub request_bytes: u64,
    pub response_bytes: u64,
    /// Attempts after the first (retries).
    pub retries: u32,
}

fn count(level: &Level, labels: &[&str], o: &Observed<'_>) {
    if let Ok(c) = level.requests.get_metric_with_label_values(labels) {
        c.inc();
    }
    if let Ok(h) = level.duration.get_metric_with_label_values(labels) {
        h.observe(o.seconds);
    }
    if let Ok(c) = level.requests_bytes.get_metric_with_label_values(labels) {
        c.inc_by(o.request_bytes);
    }
    if let Ok(c) = level.responses_bytes.get_metric_with_label_values(labels) {
        c.inc_by(o.response_bytes);
    }
}

impl Metrics {
    /// Counts `o` at the entry point, router and service levels that are on.
    pub fn record(&self, o: &Observed<'_>) {
        let code = code_label(o.status);
        if let Some(level) = &self.entrypoints {
            count(level, &[code, o.method, o.protocol, o.entrypoint], o);
        }
        if let (Some(level), Some(router), Some(service)) = (&self.routers, o.router, o.service) {
            count(level, &[code, o.method, o.protocol, router, service], o);
        }
        if let (Some(level), Some(service)) = (&self.services, o.service) {
            count(level, &[code, o.method, o.protocol, service], o);
            if o.retries > 0 {
                if let Ok(c) = self
                    .service_retries
                    .get_metric_with_label_values(&[service])
                {
                    c.inc_by(u64::from(o.retries));
                }
            }
        }
    }
}
