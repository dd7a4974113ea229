//! End-to-end active health checks through a real pylon: sick, stopped and recovered servers.

mod common;

use common::{client, eventually, free_port, TestGateway, TestUpstream};
use std::time::{Duration, Instant};

const INTERVAL: Duration = Duration::from_millis(500);
const TIMEOUT: Duration = Duration::from_millis(300);
/// Scheduling slack on top of `interval + timeout`: the checker's wake-up, process start-up,
/// and a loaded 2-core CI machine.
const SLACK: Duration = Duration::from_millis(700);

/// pylon on `port` with one router to service `s` of `servers`, checked as `health` says.
async fn gateway(port: u16, servers: &[&TestUpstream], health: &str) -> TestGateway {
    let servers: Vec<String> = servers
        .iter()
        .map(|u| format!("{{ url = \"{}\" }}", u.url()))
        .collect();
    let config = format!(
        r#"
[entryPoints.web]
address = "127.0.0.1:{port}"

[http.routers.r]
rule = "PathPrefix(`/`)"
service = "s"

[http.services.s.loadBalancer]
servers = [{}]

[http.services.s.loadBalancer.healthCheck]
path = "/health"
interval = "500ms"
timeout = "300ms"
{health}
"#,
        servers.join(", ")
    );
    TestGateway::start(&config, &[port]).await
}

/// Sends `n` requests; the upstream names (`X-Upstream`) or `status <code>` of the answers.
async fn answers(port: u16, n: usize) -> Vec<String> {
    let c = client();
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        let label = match c.get(format!("http://127.0.0.1:{port}/x")).send().await {
            Ok(r) => match r.headers().get("x-upstream") {
                Some(name) => name.to_str().unwrap_or("?").to_string(),
                None => format!("status {}", r.status().as_u16()),
            },
            Err(e) => format!("error {e}"),
        };
        out.push(label);
    }
    out
}

/// Waits (up to `within`) until `n` answers in a row are all `want`; returns how long it took.
async fn all_answers_become(port: u16, want: &str, within: Duration) -> Duration {
    let started = Instant::now();
    let ok = eventually(within, || async {
        answers(port, 6)
            .await
            .iter()
            .all(|a| a == want)
            .then_some(())
    })
    .await;
    assert!(
        ok.is_some(),
        "answers did not all become `{want}` within {within:?}: {:?}",
        answers(port, 6).await
    );
    started.elapsed()
}

/// Waits until `up` has seen `more` health probes beyond `before`.
async fn probes_seen(up: &TestUpstream, at_least: usize) {
    let seen = eventually(Duration::from_secs(10), || async {
        (up.health_probes().len() >= at_least).then_some(())
    })
    .await;
    assert!(
        seen.is_some(),
        "{} saw fewer than {at_least} probes",
        up.name
    );
}

fn count_lines(log: &str, parts: &[&str]) -> usize {
    log.lines()
        .filter(|l| parts.iter().all(|p| l.contains(p)))
        .count()
}

#[tokio::test]
async fn sick_servers_are_taken_out_and_put_back() {
    let a = TestUpstream::start("a").await;
    let b = TestUpstream::start("b").await;
    let port = free_port();
    let gw = gateway(port, &[&a, &b], "").await;
    probes_seen(&a, 1).await;
    probes_seen(&b, 1).await;
    let mixed = answers(port, 4).await;
    assert!(mixed.contains(&"a".to_string()) && mixed.contains(&"b".to_string()));

    // one sick: all traffic to the other within one interval + timeout
    a.set_health(500);
    let took = all_answers_become(port, "b", INTERVAL + TIMEOUT + SLACK).await;
    eprintln!("a taken out after {took:?}");
    // more probes and requests while it is down: the DOWN line is logged once
    let probes = a.health_probes().len();
    answers(port, 20).await;
    probes_seen(&a, probes + 3).await;
    let a_url = a.url();
    let down = [
        a_url.as_str(),
        "is DOWN: health check failed: status 500, expected 2xx/3xx",
    ];
    assert_eq!(count_lines(&gw.log(), &down), 1, "{}", gw.log());

    // both sick: 503
    b.set_health(500);
    let took = all_answers_become(port, "status 503", INTERVAL + TIMEOUT + SLACK).await;
    eprintln!("no server left after {took:?}");

    // one back: 200 from it within one (unhealthy) interval
    a.set_health(200);
    let took = all_answers_become(port, "a", INTERVAL + TIMEOUT + SLACK).await;
    eprintln!("a back after {took:?}");
    let log = gw.log();
    assert_eq!(
        count_lines(&log, &[a_url.as_str(), "is UP again: health check passed"]),
        1
    );
    assert_eq!(count_lines(&log, &[a_url.as_str(), "is DOWN"]), 1, "{log}");
}

#[tokio::test]
async fn stopped_servers_are_taken_out() {
    let a = TestUpstream::start("a").await;
    let b = TestUpstream::start("b").await;
    let port = free_port();
    let gw = gateway(port, &[&a, &b], "").await;
    probes_seen(&a, 1).await;
    a.stop();
    let a_url = a.url();
    let down = [
        a_url.as_str(),
        "is DOWN: health check failed: connection refused",
    ];
    let logged = eventually(INTERVAL + TIMEOUT + SLACK, || async {
        (count_lines(&gw.log(), &down) == 1).then_some(())
    })
    .await;
    assert!(logged.is_some(), "no DOWN line for {a_url}: {}", gw.log());
    assert!(answers(port, 6).await.iter().all(|x| x == "b"));
    // still one line after more (failing) probes
    let probes_of_b = b.health_probes().len();
    probes_seen(&b, probes_of_b + 2).await;
    assert_eq!(count_lines(&gw.log(), &down), 1);
}

#[tokio::test]
async fn custom_method_status_hostname_and_headers_are_honoured() {
    let a = TestUpstream::start("a").await;
    a.set_health(204);
    let port = free_port();
    let settings = r#"method = "POST"
status = 204
hostname = "health.internal"
headers = { X-Probe = "pylon" }"#;
    let gw = gateway(port, &[&a], settings).await;
    probes_seen(&a, 1).await;
    let probe = a.health_probes().remove(0);
    assert_eq!(probe.method, "POST");
    assert_eq!(probe.target, "/health");
    assert_eq!(probe.header("host"), Some("health.internal"));
    assert_eq!(probe.header("x-probe"), Some("pylon"));
    assert_eq!(probe.header("user-agent"), Some("pylon-health-check"));
    assert_eq!(probe.header("connection"), Some("close"));
    assert!(answers(port, 3).await.iter().all(|x| x == "a"));

    // 200 is not the configured 204: down
    a.set_health(200);
    all_answers_become(port, "status 503", INTERVAL + TIMEOUT + SLACK).await;
    let a_url = a.url();
    let down = [
        a_url.as_str(),
        "is DOWN: health check failed: status 200, expected 204",
    ];
    assert_eq!(count_lines(&gw.log(), &down), 1, "{}", gw.log());
}
