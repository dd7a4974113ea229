//! The `circuitBreaker` middleware through the real pylon binary, in front of a real upstream
//! that fails (500s; then a closed port: network errors) and recovers: the breaker opens (the
//! client gets `responseCode`, the upstream gets nothing during `fallbackDuration`), lets a
//! rising share through while recovering, then closes; the API and the metrics show each state.

mod common;

use common::{client, eventually, free_port, get_json, TestGateway, TestUpstream};
use serde_json::Value;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

/// How long the breaker stays open, and how long it recovers (the config's durations).
const FALLBACK: Duration = Duration::from_secs(2);
const RECOVERY: Duration = Duration::from_secs(2);

/// pylon on `web` (router `/` through breaker `cb` to `upstream`), API and metrics on `admin`.
fn config(web: u16, admin: u16, upstream: &str, expression: &str) -> String {
    format!(
        r#"
[entryPoints.web]
address = "127.0.0.1:{web}"
[entryPoints.traefik]
address = "127.0.0.1:{admin}"
[api]
insecure = true
[metrics.prometheus]

[http.routers.r]
rule = "PathPrefix(`/`)"
service = "s"
middlewares = ["cb"]
[http.middlewares.cb.circuitBreaker]
expression = "{expression}"
checkPeriod = "50ms"
fallbackDuration = "{}s"
recoveryDuration = "{}s"
responseCode = 418
[http.services.s.loadBalancer]
servers = [{{ url = "{upstream}" }}]
"#,
        FALLBACK.as_secs(),
        RECOVERY.as_secs()
    )
}

/// The status of `GET /health` (the test upstream answers it with the status it is set to).
async fn status(web: u16) -> u16 {
    client()
        .get(format!("http://127.0.0.1:{web}/health"))
        .send()
        .await
        .expect("request")
        .status()
        .as_u16()
}

/// The breaker's state and trips as the API shows them.
async fn api_state(admin: u16) -> (String, u64) {
    let (code, v) = get_json(format!(
        "http://127.0.0.1:{admin}/api/http/middlewares/cb@file"
    ))
    .await;
    assert_eq!(code, 200, "{v}");
    assert_eq!(v["type"], "circuitbreaker", "{v}");
    let s = &v["circuitBreakerState"];
    (
        s["state"].as_str().unwrap_or("?").to_string(),
        s["trips"].as_u64().unwrap_or(u64::MAX),
    )
}

/// The breaker's state gauge and trips counter as `/metrics` shows them.
async fn metrics(admin: u16) -> (f64, f64) {
    let text = client()
        .get(format!("http://127.0.0.1:{admin}/metrics"))
        .send()
        .await
        .expect("scrape")
        .text()
        .await
        .expect("body");
    let value = |name: &str| {
        let prefix = format!("{name}{{middleware=\"cb@file\"}} ");
        text.lines()
            .find_map(|l| l.strip_prefix(&prefix))
            .and_then(|v| v.trim().parse::<f64>().ok())
            .unwrap_or(f64::NAN)
    };
    (
        value("traefik_circuit_breaker_state"),
        value("traefik_circuit_breaker_trips_total"),
    )
}

/// Sends requests until the breaker answers 418 (at most 200, 5 s); returns when it did.
async fn until_open(web: u16) -> Instant {
    let opened = eventually(Duration::from_secs(5), || async {
        (status(web).await == 418).then(Instant::now)
    })
    .await;
    opened.expect("the breaker opened")
}

/// While open: `n` requests all get the fallback, and the upstream sees none of them.
async fn fallback_spares_the_upstream(web: u16, opened: Instant, up: &TestUpstream, n: usize) {
    let seen = up.requests().len();
    let c = client();
    for _ in 0..n {
        let r = c
            .get(format!("http://127.0.0.1:{web}/health"))
            .send()
            .await
            .expect("request");
        assert_eq!(r.status().as_u16(), 418);
        assert_eq!(r.text().await.expect("body"), "I'm a teapot");
    }
    assert!(
        opened.elapsed() < FALLBACK,
        "the requests took longer than the fallback ({:?}): the check proves nothing",
        opened.elapsed()
    );
    assert_eq!(
        up.requests().len(),
        seen,
        "the upstream was contacted while open"
    );
}

/// After the fallback: requests every 20 ms until one is answered 200 by a closed breaker
/// (bounded); the API said `recovering` on the way, and some requests still got 418.
async fn recovers_and_closes(web: u16, admin: u16, opened: Instant) {
    tokio::time::sleep((opened + FALLBACK).saturating_duration_since(Instant::now())).await;
    let deadline = Instant::now() + FALLBACK + RECOVERY + Duration::from_secs(3);
    let (mut fallbacks, mut passed) = (0, 0);
    let (mut saw_recovering, mut saw_recovering_gauge) = (false, false);
    loop {
        assert!(Instant::now() < deadline, "not closed in time");
        match status(web).await {
            418 => fallbacks += 1,
            200 => passed += 1,
            other => panic!("unexpected status {other}"),
        }
        let (state, trips) = api_state(admin).await;
        assert_eq!(trips, 1, "opened again while recovering");
        if state == "recovering" {
            saw_recovering = true;
            // 2 (recovering), or 0 if it closed between the two reads
            let gauge = metrics(admin).await.0;
            assert!(
                gauge == 2.0 || gauge == 0.0,
                "state gauge {gauge} while recovering"
            );
            saw_recovering_gauge |= gauge == 2.0;
        }
        if state == "closed" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(saw_recovering, "the API never showed the recovering state");
    assert!(
        saw_recovering_gauge,
        "the metrics never showed the recovering state"
    );
    assert!(fallbacks > 0, "recovery let everything through at once");
    assert!(passed > 0, "recovery let nothing through");
    for _ in 0..10 {
        assert_eq!(status(web).await, 200);
    }
    assert_eq!(api_state(admin).await, ("closed".to_string(), 1));
    assert_eq!(metrics(admin).await, (0.0, 1.0));
}

#[tokio::test]
async fn five_hundreds_open_it_the_upstream_is_spared_then_it_recovers_and_closes() {
    let up = TestUpstream::start("up").await;
    let (web, admin) = (free_port(), free_port());
    let expression = "ResponseCodeRatio(500, 600, 0, 600) > 0.5 && RequestThreshold() >= 3";
    let _gw = TestGateway::start(&config(web, admin, &up.url(), expression), &[web, admin]).await;
    assert_eq!(status(web).await, 200);
    assert_eq!(api_state(admin).await, ("closed".to_string(), 0));
    assert_eq!(metrics(admin).await, (0.0, 0.0));

    up.set_health(500);
    let opened = until_open(web).await;
    assert!(
        up.requests().len() >= 3,
        "opened before RequestThreshold() >= 3"
    );
    fallback_spares_the_upstream(web, opened, &up, 20).await;
    assert_eq!(api_state(admin).await, ("open".to_string(), 1));
    assert_eq!(metrics(admin).await, (1.0, 1.0));

    up.set_health(200);
    recovers_and_closes(web, admin, opened).await;
}

#[tokio::test]
async fn network_errors_from_a_closed_port_open_it_and_a_restarted_upstream_closes_it() {
    let first = TestUpstream::start("first").await;
    let addr = SocketAddr::from(([127, 0, 0, 1], first.port));
    let (web, admin) = (free_port(), free_port());
    // only network errors: the 502s pylon answers must come through as such
    let expression = "NetworkErrorRatio() > 0.5";
    let _gw =
        TestGateway::start(&config(web, admin, &first.url(), expression), &[web, admin]).await;
    assert_eq!(status(web).await, 200);
    first.stop();
    drop(first);
    let opened = until_open(web).await;
    assert_eq!(api_state(admin).await, ("open".to_string(), 1));

    // the upstream is back on its port at once, but gets nothing until the fallback ends
    let again = eventually(Duration::from_secs(3), || async {
        TestUpstream::start_at("again", addr).await
    })
    .await
    .expect("the port is free again");
    fallback_spares_the_upstream(web, opened, &again, 10).await;
    assert_eq!(again.requests().len(), 0);
    assert_eq!(metrics(admin).await, (1.0, 1.0));

    recovers_and_closes(web, admin, opened).await;
    assert!(!again.requests().is_empty());
}

#[tokio::test]
async fn the_api_lists_the_breaker_with_its_settings_and_state() {
    let up = TestUpstream::start("up").await;
    let (web, admin) = (free_port(), free_port());
    let expression = "LatencyAtQuantileMS(50.0) > 100";
    let _gw = TestGateway::start(&config(web, admin, &up.url(), expression), &[web, admin]).await;
    let (_, list) = get_json(format!("http://127.0.0.1:{admin}/api/http/middlewares")).await;
    let cb: &Value = list
        .as_array()
        .and_then(|l| l.iter().find(|m| m["name"] == "cb@file"))
        .expect("cb@file listed");
    assert_eq!(cb["circuitBreaker"]["expression"], expression);
    assert_eq!(cb["circuitBreaker"]["responseCode"], 418);
    assert_eq!(cb["circuitBreakerState"]["state"], "closed");
    assert_eq!(cb["usedBy"], serde_json::json!(["r@file"]));
}

#[tokio::test]
async fn only_what_happens_after_the_breaker_in_the_chain_counts() {
    let up = TestUpstream::start("up").await;
    let (web, admin) = (free_port(), free_port());
    // `deny` answers 403 itself (the client, 127.0.0.1, is not allowed): behind breaker `after`
    // those answers count; in front of breaker `before` they never reach it.
    let config = format!(
        r#"
[entryPoints.web]
address = "127.0.0.1:{web}"
[entryPoints.traefik]
address = "127.0.0.1:{admin}"
[api]
insecure = true

[http.routers.after]
rule = "PathPrefix(`/after`)"
service = "s"
middlewares = ["after", "deny"]
[http.routers.before]
rule = "PathPrefix(`/before`)"
service = "s"
middlewares = ["deny", "before"]
[http.middlewares.deny.ipAllowList]
sourceRange = ["10.0.0.0/8"]
[http.middlewares.after.circuitBreaker]
expression = "ResponseCodeRatio(400, 500, 0, 600) > 0.5"
responseCode = 418
[http.middlewares.before.circuitBreaker]
expression = "ResponseCodeRatio(400, 500, 0, 600) > 0.5"
responseCode = 418
[http.services.s.loadBalancer]
servers = [{{ url = "{}" }}]
"#,
        up.url()
    );
    let _gw = TestGateway::start(&config, &[web, admin]).await;
    let get = |path: &'static str| async move {
        client()
            .get(format!("http://127.0.0.1:{web}{path}"))
            .send()
            .await
            .expect("request")
            .status()
            .as_u16()
    };
    let state = |name: &'static str| async move {
        let (_, v) = get_json(format!(
            "http://127.0.0.1:{admin}/api/http/middlewares/{name}@file"
        ))
        .await;
        v["circuitBreakerState"]["state"]
            .as_str()
            .unwrap_or("?")
            .to_string()
    };
    let opened = eventually(Duration::from_secs(5), || async {
        (get("/after").await == 418).then_some(())
    })
    .await;
    assert!(
        opened.is_some(),
        "403s answered behind the breaker did not open it"
    );
    assert_eq!(state("after").await, "open");
    for _ in 0..30 {
        assert_eq!(get("/before").await, 403);
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert_eq!(state("before").await, "closed");
    assert!(up.requests().is_empty());
}
