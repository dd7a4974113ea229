//! `/metrics`: the gauges read from the live config (server health, circuit breakers) are refreshed, then every
//! family is rendered in Prometheus' text format.

use super::registry::Metrics;
use crate::runtime::Snapshot;
use prometheus::{Encoder, TextEncoder};

impl Metrics {
    /// The text exposition of every metric, with `service_server_up` taken from `snapshot`.
    pub fn render(&self, snapshot: &Snapshot) -> Vec<u8> {
        self.service_server_up.reset();
        for pool in &snapshot.pools {
            for (i, server) in pool.servers().iter().enumerate() {
                let up = if pool.is_up(i) { 1.0 } else { 0.0 };
                if let Ok(g) = self
                    .service_server_up
                    .get_metric_with_label_values(&[&pool.name, server.url.as_str()])
                {
                    g.set(up);
                }
            }
        }
        self.tls_certs_not_after.reset();
        let acme = crate::acme::live::global().index.load();
        let acme_infos = acme
            .certs
            .iter()
            .map(|c| crate::tls::cert_info(&c.pair.cert));
        for cert in snapshot.certificates.iter().cloned().chain(acme_infos) {
            if let Ok(g) = self.tls_certs_not_after.get_metric_with_label_values(&[
                &cert.cn,
                &cert.serial,
                &cert.sans,
            ]) {
                g.set(cert.not_after as f64);
            }
        }
        self.breakers.refresh(snapshot);
        let mut out = Vec::with_capacity(16 * 1024);
        if let Err(e) = TextEncoder::new().encode(&self.registry.gather(), &mut out) {
            log::error!("metrics: cannot render: {e}");
        }
        out
    }
}
