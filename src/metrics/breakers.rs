//! The circuit breakers' state as metrics: `<prefix>_circuit_breaker_state{middleware}`
//! (0 closed, 1 open, 2 recovering) and `<prefix>_circuit_breaker_trips_total{middleware}`,
//! read from the running config's breakers at each scrape (the request path adds nothing).

use crate::provider::namespace::display_name;
use crate::runtime::middlewares::Built;
use crate::runtime::Snapshot;
use prometheus::{IntCounterVec, IntGaugeVec, Opts, Registry};
use pylon_plugins::circuit_breaker::CircuitBreaker;
use std::sync::Mutex;

/// The two families, and a lock so that two scrapes at once do not add the trips twice.
pub struct BreakerMetrics {
    state: IntGaugeVec,
    trips: IntCounterVec,
    refresh: Mutex<()>,
}

impl BreakerMetrics {
    pub fn new(registry: &Registry, prefix: &str) -> Result<Self, prometheus::Error> {
        let state = IntGaugeVec::new(
            Opts::new(
                format!("{prefix}_circuit_breaker_state"),
                "State of a circuitBreaker middleware: 0 closed, 1 open, 2 recovering.",
            ),
            &["middleware"],
        )?;
        let trips = IntCounterVec::new(
            Opts::new(
                format!("{prefix}_circuit_breaker_trips_total"),
                "How many times a circuitBreaker middleware opened since it was built.",
            ),
            &["middleware"],
        )?;
        registry.register(Box::new(state.clone()))?;
        registry.register(Box::new(trips.clone()))?;
        Ok(BreakerMetrics {
            state,
            trips,
            refresh: Mutex::new(()),
        })
    }

    /// Sets both families from the breakers of `snapshot` (those of an old config go).
    pub fn refresh(&self, snapshot: &Snapshot) {
        let _one_at_a_time = self.refresh.lock().unwrap_or_else(|p| p.into_inner());
        self.state.reset();
        self.trips.reset();
        for (name, breaker) in breakers(snapshot) {
            let label = [name.as_str()];
            if let Ok(g) = self.state.get_metric_with_label_values(&label) {
                g.set(breaker.state() as i64);
            }
            if let Ok(c) = self.trips.get_metric_with_label_values(&label) {
                c.inc_by(breaker.trips());
            }
        }
    }
}

/// The circuit breakers of a config, by `name@provider`.
pub fn breakers(snapshot: &Snapshot) -> impl Iterator<Item = (String, &CircuitBreaker)> {
    snapshot
        .middlewares
        .iter()
        .filter_map(|(name, (_, built))| {
            let Built::Plugin(plugin) = built else {
                return None;
            };
            let breaker = plugin.as_any()?.downcast_ref::<CircuitBreaker>()?;
            Some((display_name(name), breaker))
        })
}
