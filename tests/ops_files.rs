//! The operations files in conf/: the Grafana dashboard is valid JSON whose panels are valid
//! PromQL over pylon's metric names; the Prometheus scrape config and alert rules pass
//! `promtool check` (Debian's `prometheus` package, installed by scripts/setup.sh).

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

const REPO: &str = env!("CARGO_MANIFEST_DIR");

/// pylon's metric names (prefix `pylon`), as the observability issue lists them.
const METRICS: [&str; 16] = [
    "traefik_entrypoint_requests_total",
    "traefik_entrypoint_request_duration_seconds_bucket",
    "traefik_router_requests_total",
    "traefik_router_request_duration_seconds_bucket",
    "traefik_service_requests_total",
    "traefik_service_request_duration_seconds_bucket",
    "traefik_service_retries_total",
    "traefik_service_server_up",
    "traefik_entrypoint_requests_bytes_total",
    "traefik_entrypoint_responses_bytes_total",
    "traefik_open_connections",
    "traefik_config_reloads_total",
    "traefik_config_last_reload_success",
    "traefik_tls_certs_not_after",
    "traefik_service_requests_bytes_total",
    "traefik_service_responses_bytes_total",
];

fn promtool(args: &[&str]) {
    let out = Command::new("promtool")
        .args(args)
        .output()
        .expect("promtool (Debian's prometheus package) is installed by scripts/setup.sh");
    assert!(
        out.status.success(),
        "promtool {}:\n{}{}",
        args.join(" "),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The metric names an expression uses (identifiers followed by `{`, `[` or `)` / space that
/// start with the prefix).
fn metric_names(expr: &str) -> BTreeSet<String> {
    expr.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|w| w.starts_with("traefik_"))
        .map(str::to_string)
        .collect()
}

#[test]
fn prometheus_config_and_alert_rules_pass_promtool() {
    let dir = Path::new(REPO).join("conf/prometheus");
    promtool(&[
        "check",
        "config",
        &dir.join("prometheus.yml").display().to_string(),
    ]);
    promtool(&[
        "check",
        "rules",
        &dir.join("alerts.yml").display().to_string(),
    ]);
    let rules = std::fs::read_to_string(dir.join("alerts.yml")).expect("alerts");
    for alert in [
        "PylonHigh5xxRatio",
        "PylonHighP95Latency",
        "PylonServerDown",
        "PylonConfigReloadFailed",
        "PylonCertificateExpiring",
    ] {
        assert!(
            rules.contains(&format!("alert: {alert}")),
            "{alert} is defined"
        );
    }
    for name in metric_names(&rules) {
        assert!(
            METRICS.contains(&name.as_str()),
            "alerts use {name}, which pylon does not export"
        );
    }
}

#[test]
fn grafana_dashboard_is_valid_json_with_valid_promql() {
    let path = Path::new(REPO).join("conf/grafana/pylon.json");
    let text = std::fs::read_to_string(&path).expect("dashboard");
    let dashboard: serde_json::Value = serde_json::from_str(&text).expect("valid JSON");
    let panels = dashboard["panels"].as_array().expect("panels");
    let titles: Vec<&str> = panels.iter().filter_map(|p| p["title"].as_str()).collect();
    for wanted in [
        "Throughput",
        "p95",
        "5xx by service",
        "Share by router",
        "Servers up",
        "reloads",
    ] {
        assert!(
            titles
                .iter()
                .any(|t| t.to_lowercase().contains(&wanted.to_lowercase())),
            "a panel for {wanted}: {titles:?}"
        );
    }
    // Every panel expression as a recording rule, so promtool parses it as PromQL.
    let mut rules = String::from("groups:\n  - name: dashboard\n    rules:\n");
    for (i, panel) in panels.iter().enumerate() {
        for target in panel["targets"].as_array().expect("targets") {
            let expr = target["expr"].as_str().expect("expr");
            for name in metric_names(expr) {
                assert!(
                    METRICS.contains(&name.as_str()),
                    "panel uses {name}, which pylon does not export"
                );
            }
            rules.push_str(&format!(
                "      - record: dashboard:panel{i}:{}\n        expr: {}\n",
                target["refId"].as_str().unwrap_or("A"),
                serde_json::to_string(expr).expect("quote")
            ));
        }
    }
    let tmp = tempfile::tempdir().expect("dir");
    let file = tmp.path().join("panels.yml");
    std::fs::write(&file, rules).expect("rules");
    promtool(&["check", "rules", &file.display().to_string()]);
}
