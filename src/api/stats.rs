//! `/api/stats`: request and 5xx totals per router and service, read from the Prometheus
//! counters (so the dashboard's live rates cost the request path nothing extra).

use crate::metrics::Metrics;
use prometheus::core::Collector;
use serde_json::{json, Map, Value};

/// Totals per label value of one level's request counter: `{name: {"requests", "errors"}}`.
fn totals(counter: &prometheus::IntCounterVec, label: &str) -> Map<String, Value> {
    let mut by_name: Map<String, Value> = Map::new();
    for family in counter.collect() {
        for m in family.get_metric() {
            let labels = m.get_label();
            let name = labels
                .iter()
                .find(|l| l.name() == label)
                .map(|l| l.value().to_string());
            let code = labels
                .iter()
                .find(|l| l.name() == "code")
                .map_or("", |l| l.value());
            let (Some(name), value) = (name, m.get_counter().get_value() as u64) else {
                continue;
            };
            let entry = by_name
                .entry(name)
                .or_insert_with(|| json!({"requests": 0u64, "errors": 0u64}));
            let add = |v: &mut Value, key: &str, n: u64| {
                v[key] = Value::from(v[key].as_u64().unwrap_or(0) + n);
            };
            add(entry, "requests", value);
            if code.starts_with('5') {
                add(entry, "errors", value);
            }
        }
    }
    by_name
}

/// The totals the metrics hold, or `{"available": false}` without `[metrics.prometheus]`.
pub fn stats(metrics: Option<&Metrics>) -> Value {
    let Some(m) = metrics else {
        return json!({"available": false});
    };
    let level = |l: &Option<crate::metrics::registry::Level>, label: &str| {
        l.as_ref()
            .map_or_else(Map::new, |l| totals(&l.requests, label))
    };
    json!({
        "available": true,
        "entryPoints": level(&m.entrypoints, "entrypoint"),
        "routers": level(&m.routers, "router"),
        "services": level(&m.services, "service"),
    })
}
