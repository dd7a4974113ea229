//! The metric families, named and labelled as Traefik v3's, registered once per process.

use crate::config::observability::PrometheusConfig;
use prometheus::{
    Gauge, GaugeVec, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGaugeVec, Opts,
    Registry,
};

/// Every metric pylon exports, and which label levels are on.
pub struct Metrics {
    pub registry: Registry,
    /// The entry point that serves `/metrics`.
    pub entry_point: String,
    pub entrypoints: Option<Level>,
    pub routers: Option<Level>,
    pub services: Option<Level>,
    pub service_retries: IntCounterVec,
    pub service_server_up: GaugeVec,
    pub open_connections: IntGaugeVec,
    pub config_reloads: IntCounter,
    pub config_reloads_failure: IntCounter,
    pub config_last_reload_success: Gauge,
    pub config_last_reload_success_timestamp: Gauge,
    pub config_last_reload_failure_timestamp: Gauge,
    pub tls_certs_not_after: GaugeVec,
    pub breakers: super::breakers::BreakerMetrics,
}

/// The four families of one level (entry point, router or service).
pub struct Level {
    pub requests: IntCounterVec,
    pub duration: HistogramVec,
    pub requests_bytes: IntCounterVec,
    pub responses_bytes: IntCounterVec,
}

type Made<T> = Result<T, prometheus::Error>;

impl Level {
    fn new(
        registry: &Registry,
        prefix: &str,
        level: &str,
        labels: &[&str],
        buckets: &[f64],
    ) -> Made<Level> {
        let name = |what: &str| format!("{prefix}_{level}_{what}");
        let requests = IntCounterVec::new(
            Opts::new(name("requests_total"), format!("How many HTTP requests processed on a {level}, partitioned by status code, protocol, and method.")),
            labels,
        )?;
        let duration = HistogramVec::new(
            HistogramOpts::new(name("request_duration_seconds"), format!("How long it took to process the request on a {level}, partitioned by status code, protocol, and method."))
                .buckets(buckets.to_vec()),
            labels,
        )?;
        let requests_bytes = IntCounterVec::new(
            Opts::new(name("requests_bytes_total"), format!("The total size of requests in bytes handled by a {level}, partitioned by status code, protocol, and method.")),
            labels,
        )?;
        let responses_bytes = IntCounterVec::new(
            Opts::new(name("responses_bytes_total"), format!("The total size of responses in bytes handled by a {level}, partitioned by status code, protocol, and method.")),
            labels,
        )?;
        registry.register(Box::new(requests.clone()))?;
        registry.register(Box::new(duration.clone()))?;
        registry.register(Box::new(requests_bytes.clone()))?;
        registry.register(Box::new(responses_bytes.clone()))?;
        Ok(Level {
            requests,
            duration,
            requests_bytes,
            responses_bytes,
        })
    }
}

impl Metrics {
    /// The metrics `[metrics.prometheus]` asks for; the error names what Prometheus refused
    /// (e.g. a prefix that is not a valid metric name).
    pub fn new(c: &PrometheusConfig) -> Result<Metrics, String> {
        Self::build(c).map_err(|e| format!("metrics.prometheus: {e}"))
    }

    fn build(c: &PrometheusConfig) -> Made<Metrics> {
        let registry = Registry::new();
        let p = c.prefix();
        let buckets = c
            .buckets
            .clone()
            .filter(|b| !b.is_empty())
            .unwrap_or_else(|| PrometheusConfig::DEFAULT_BUCKETS.to_vec());
        let on = |flag: Option<bool>, default: bool| flag.unwrap_or(default);
        let entrypoints = on(c.add_entry_points_labels, true)
            .then(|| {
                Level::new(
                    &registry,
                    p,
                    "entrypoint",
                    &["code", "method", "protocol", "entrypoint"],
                    &buckets,
                )
            })
            .transpose()?;
        let routers = on(c.add_routers_labels, false)
            .then(|| {
                Level::new(
                    &registry,
                    p,
                    "router",
                    &["code", "method", "protocol", "router", "service"],
                    &buckets,
                )
            })
            .transpose()?;
        let services = on(c.add_services_labels, true)
            .then(|| {
                Level::new(
                    &registry,
                    p,
                    "service",
                    &["code", "method", "protocol", "service"],
                    &buckets,
                )
            })
            .transpose()?;
        let counter_vec = |name: &str, help: &str, labels: &[&str]| -> Made<IntCounterVec> {
            let m = IntCounterVec::new(Opts::new(format!("{p}_{name}"), help), labels)?;
            registry.register(Box::new(m.clone()))?;
            Ok(m)
        };
        let gauge_vec = |name: &str, help: &str, labels: &[&str]| -> Made<GaugeVec> {
            let m = GaugeVec::new(Opts::new(format!("{p}_{name}"), help), labels)?;
            registry.register(Box::new(m.clone()))?;
            Ok(m)
        };
        let gauge = |name: &str, help: &str| -> Made<Gauge> {
            let m = Gauge::new(format!("{p}_{name}"), help)?;
            registry.register(Box::new(m.clone()))?;
            Ok(m)
        };
        let counter = |name: &str, help: &str| -> Made<IntCounter> {
            let m = IntCounter::new(format!("{p}_{name}"), help)?;
            registry.register(Box::new(m.clone()))?;
            Ok(m)
        };
        let open_connections = IntGaugeVec::new(
            Opts::new(
                format!("{p}_open_connections"),
                "How many open connections exist, by entryPoint and protocol.",
            ),
            &["entrypoint", "protocol"],
        )?;
        registry.register(Box::new(open_connections.clone()))?;
        let service_retries = counter_vec(
            "service_retries_total",
            "How many request retries happened on a service.",
            &["service"],
        )?;
        let service_server_up = gauge_vec(
            "service_server_up",
            "service server is up, described by gauge value of 0 or 1.",
            &["service", "url"],
        )?;
        let config_reloads = counter("config_reloads_total", "Config reloads")?;
        let config_reloads_failure =
            counter("config_reloads_failure_total", "Config reload failures")?;
        let config_last_reload_success = gauge(
            "config_last_reload_success",
            "Whether the last configuration reload succeeded (1) or was refused (0).",
        )?;
        let config_last_reload_success_timestamp = gauge(
            "config_last_reload_success_timestamp_seconds",
            "Last config reload success",
        )?;
        let config_last_reload_failure_timestamp = gauge(
            "config_last_reload_failure_timestamp_seconds",
            "Last config reload failure",
        )?;
        let tls_certs_not_after = gauge_vec(
            "tls_certs_not_after",
            "Certificate expiration timestamp",
            &["cn", "serial", "sans"],
        )?;
        let breakers = super::breakers::BreakerMetrics::new(&registry, p)?;
        Ok(Metrics {
            breakers,
            registry,
            entry_point: c
                .entry_point
                .clone()
                .unwrap_or_else(|| "traefik".to_string()),
            entrypoints,
            routers,
            services,
            service_retries,
            service_server_up,
            open_connections,
            config_reloads,
            config_reloads_failure,
            config_last_reload_success,
            config_last_reload_success_timestamp,
            config_last_reload_failure_timestamp,
            tls_certs_not_after,
        })
    }

    /// Counts one reload: applied (`true`) or refused.
    pub fn reloaded(&self, applied: bool) {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0.0, |d| d.as_secs_f64());
        self.config_reloads.inc();
        if applied {
            self.config_last_reload_success.set(1.0);
            self.config_last_reload_success_timestamp.set(now);
        } else {
            self.config_reloads_failure.inc();
            self.config_last_reload_success.set(0.0);
            self.config_last_reload_failure_timestamp.set(now);
        }
    }
}
