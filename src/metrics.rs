//! Prometheus metrics with Traefik's names (`<prefix>_entrypoint_requests_total`, ...):
//! [`registry`] defines them from `[metrics.prometheus]`, [`record`] counts one finished
//! request, [`scrape`] renders `/metrics` (refreshing the gauges read from the live config).
//! The prefix is `pylon` by default; `prefix = "traefik"` gives exactly Traefik's names.

pub mod breakers;
pub mod codes;
pub mod record;
pub mod registry;
pub mod scrape;

pub use record::Observed;
pub use registry::Metrics;

use std::sync::{Arc, OnceLock};

static GLOBAL: OnceLock<Arc<Metrics>> = OnceLock::new();

/// The process's metrics, once `[metrics.prometheus]` has set them up (see [`install`]).
pub fn global() -> Option<&'static Arc<Metrics>> {
    GLOBAL.get()
}

/// Makes `metrics` the process's metrics (the first call wins: one registry per process).
pub fn install(metrics: Arc<Metrics>) -> Arc<Metrics> {
    GLOBAL.get_or_init(|| metrics).clone()
}
