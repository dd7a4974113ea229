//! The `rateLimit` middleware through the real pylon binary: burst then 429, one bucket per
//! middleware however many routers name it, sources that spoofing cannot change, `ipStrategy`
//! behind a trusted proxy, and buckets shared through Redis by several pylon instances.

mod common;

use common::gateway::run_pylon;
use common::redis::Redis;
use common::{client, eventually, free_port, TestGateway, TestUpstream};
use std::time::{Duration, Instant};

fn config(port: u16, dynamic: &str) -> String {
    format!("[entryPoints.web]\naddress = \"127.0.0.1:{port}\"\n\n{dynamic}")
}

/// One router on `/` to `up` through the middleware `limit` whose settings are `limit`.
fn limited(up: &TestUpstream, limit: &str) -> String {
    format!(
        r#"
[http.routers.r]
rule = "PathPrefix(`/`)"
service = "s"
middlewares = ["limit"]
[http.middlewares.limit.rateLimit]
{limit}
[http.services.s.loadBalancer]
servers = [{{ url = "{}" }}]
"#,
        up.url()
    )
}

async fn status(url: &str, xff: Option<&str>) -> u16 {
    let mut req = client().get(url);
    if let Some(x) = xff {
        req = req.header("x-forwarded-for", x);
    }
    req.send().await.expect("request").status().as_u16()
}

#[tokio::test]
async fn a_burst_of_ten_gets_five_through_then_429_with_retry_after() {
    let up = TestUpstream::start("up").await;
    let port = free_port();
    let dynamic = limited(&up, "average = 5\nburst = 5");
    let _gw = TestGateway::start(&config(port, &dynamic), &[port]).await;
    let c = client();
    let url = format!("http://127.0.0.1:{port}/");
    let started = Instant::now();
    let sends = (0..10).map(|_| c.get(&url).send());
    let replies = futures_util::future::join_all(sends).await;
    let took = started.elapsed();
    let mut ok = 0;
    for r in replies {
        let r = r.expect("request");
        match r.status().as_u16() {
            200 => ok += 1,
            429 => {
                let h = |n: &str| r.headers().get(n).map(|v| v.to_str().unwrap().to_string());
                assert_eq!(h("retry-after").as_deref(), Some("1"));
                let retry_in = h("x-retry-in").expect("X-Retry-In");
                assert!(retry_in.ends_with("ms"), "{retry_in}");
                assert_eq!(r.text().await.unwrap(), "Too Many Requests");
            }
            other => panic!("unexpected status {other}"),
        }
    }
    // A token comes back every 200ms; one arriving 100ms+ after the burst is waited for.
    if took < Duration::from_millis(100) {
        assert_eq!(ok, 5, "burst of 10 in {took:?}");
    } else {
        assert!((5..=6).contains(&ok), "{ok} admitted in {took:?}");
    }
    assert_eq!(up.requests().len(), ok);
}

#[tokio::test]
async fn two_routers_naming_one_middleware_share_its_bucket() {
    let up = TestUpstream::start("up").await;
    let port = free_port();
    let dynamic = format!(
        r#"
[http.routers.a]
rule = "PathPrefix(`/a`)"
service = "s"
middlewares = ["limit"]
[http.routers.b]
rule = "PathPrefix(`/b`)"
service = "s"
middlewares = ["limit"]
[http.middlewares.limit.rateLimit]
average = 3
period = "1m"
burst = 3
[http.services.s.loadBalancer]
servers = [{{ url = "{}" }}]
"#,
        up.url()
    );
    let _gw = TestGateway::start(&config(port, &dynamic), &[port]).await;
    let mut ok = 0;
    for i in 0..8 {
        let path = if i % 2 == 0 { "a" } else { "b" };
        if status(&format!("http://127.0.0.1:{port}/{path}"), None).await == 200 {
            ok += 1;
        }
    }
    assert_eq!(ok, 3, "one bucket of 3 for both routers, not 3 each");
}

/// The criterion reads `X-Forwarded-For` (`ipStrategy.depth = 1`: its rightmost address), so
/// only the entry point's removal of an untrusted client's forwarded headers keeps a spoofed
/// value from choosing the bucket: with that removal gone, each spoof gets a fresh bucket.
#[tokio::test]
async fn a_spoofed_x_forwarded_for_from_an_untrusted_client_gets_no_fresh_bucket() {
    let up = TestUpstream::start("up").await;
    let port = free_port();
    let limit = "average = 2\nperiod = \"1m\"\nburst = 2\n\
                 [http.middlewares.limit.rateLimit.sourceCriterion.ipStrategy]\ndepth = 1";
    let dynamic = limited(&up, limit);
    let _gw = TestGateway::start(&config(port, &dynamic), &[port]).await;
    let url = format!("http://127.0.0.1:{port}/");
    assert_eq!(status(&url, None).await, 200);
    assert_eq!(status(&url, Some("10.9.9.1")).await, 200);
    for i in 2..8 {
        let spoof = format!("10.9.9.{i}, 172.16.0.{i}");
        assert_eq!(status(&url, Some(&spoof)).await, 429, "{spoof}");
    }
    assert_eq!(status(&url, Some("::ffff:127.0.0.1")).await, 429);
}

#[tokio::test]
async fn ip_strategy_depth_keys_by_the_forwarded_address_behind_a_trusted_proxy() {
    let up = TestUpstream::start("up").await;
    let port = free_port();
    let limit = "average = 1\nperiod = \"1m\"\nburst = 1\n\
                 [http.middlewares.limit.rateLimit.sourceCriterion.ipStrategy]\ndepth = 1";
    let cfg = format!(
        "[entryPoints.web]\naddress = \"127.0.0.1:{port}\"\n\
         [entryPoints.web.forwardedHeaders]\ntrustedIPs = [\"127.0.0.1/32\"]\n{}",
        limited(&up, limit)
    );
    let _gw = TestGateway::start(&cfg, &[port]).await;
    let url = format!("http://127.0.0.1:{port}/");
    assert_eq!(status(&url, Some("1.1.1.1")).await, 200);
    assert_eq!(status(&url, Some("1.1.1.1")).await, 429);
    // depth 1 is the rightmost address: the client the trusted proxy saw
    assert_eq!(status(&url, Some("9.9.9.9, 1.1.1.1")).await, 429);
    assert_eq!(status(&url, Some("1.1.1.1, 2.2.2.2")).await, 200);
    assert_eq!(status(&url, Some("::ffff:2.2.2.2")).await, 429);
}

#[test]
fn bad_settings_are_refused_with_their_key_paths() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.toml");
    std::fs::write(
        &path,
        "[entryPoints.web]\naddress = \"127.0.0.1:8000\"\n\
         [http.middlewares.a.rateLimit]\naverage = -1\nburst = 0\nperiod = \"0s\"\n\
         [http.middlewares.b.rateLimit]\naverage = 1\n[http.middlewares.b.rateLimit.redis]\n\
         endpoints = []\n[http.middlewares.b.rateLimit.redis.tls]\ninsecureSkipVerify = true\n",
    )
    .unwrap();
    let (code, out) = run_pylon(&["check", "--config", path.to_str().unwrap()]);
    assert_eq!(code, 2, "{out}");
    for want in [
        "http.middlewares.a.rateLimit.average: must be 0 or more",
        "http.middlewares.a.rateLimit.burst: must be 1 or more",
        "http.middlewares.a.rateLimit.period: must be greater than 0",
        "http.middlewares.b.rateLimit.redis.endpoints: is empty",
        "http.middlewares.b.rateLimit.redis.tls: TLS to Redis is not supported yet",
    ] {
        assert!(out.contains(want), "lacks {want:?}:\n{out}");
    }
}

fn redis_limit(redis_port: u16, limit: &str) -> String {
    format!("{limit}\n[http.middlewares.limit.rateLimit.redis]\nendpoints = [\"127.0.0.1:{redis_port}\"]")
}

#[tokio::test]
async fn three_instances_sharing_redis_enforce_one_limit() {
    let Some(redis) = Redis::start().await else {
        return;
    };
    let up = TestUpstream::start("up").await;
    let limit = redis_limit(redis.port, "average = 10\nperiod = \"1m\"\nburst = 10");
    let ports = [free_port(), free_port(), free_port()];
    let mut gateways = Vec::new();
    for p in ports {
        gateways.push(TestGateway::start(&config(p, &limited(&up, &limit)), &[p]).await);
    }
    let mut ok = [0; 3];
    for i in 0..30 {
        let url = format!("http://127.0.0.1:{}/", ports[i % 3]);
        match status(&url, None).await {
            200 => ok[i % 3] += 1,
            429 => {}
            other => panic!("unexpected status {other}"),
        }
    }
    let total: usize = ok.iter().sum();
    assert_eq!(
        total, 10,
        "one limit of 10 over the 3 instances, not 30: {ok:?}"
    );
    assert!(
        ok.iter().all(|n| *n > 0),
        "each instance admitted some: {ok:?}"
    );
}

#[tokio::test]
async fn redis_down_fails_open_fast_and_the_outage_is_logged_once() {
    let Some(redis) = Redis::start().await else {
        return;
    };
    let redis_port = redis.port;
    let up = TestUpstream::start("up").await;
    let port = free_port();
    let limit = redis_limit(redis_port, "average = 1\nperiod = \"1m\"\nburst = 1");
    let gw = TestGateway::start(&config(port, &limited(&up, &limit)), &[port]).await;
    let url = format!("http://127.0.0.1:{port}/");
    assert_eq!(status(&url, None).await, 200);
    assert_eq!(status(&url, None).await, 429, "Redis holds the bucket");
    drop(redis);
    // 12 requests over ~2.4s: several retry windows; each answered, none waits past the bound
    for _ in 0..12 {
        let started = Instant::now();
        assert_eq!(status(&url, None).await, 200, "fail-open");
        let took = started.elapsed();
        assert!(took < Duration::from_millis(1500), "answered in {took:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let unreachable = gw.log().matches("is unreachable").count();
    assert_eq!(unreachable, 1, "logged once per outage:\n{}", gw.log());
    // Redis comes back (empty): it decides again, and the recovery is logged once
    let _redis = Redis::start_on(redis_port).await.expect("restart redis");
    let limited_again = eventually(Duration::from_secs(10), || {
        let url = url.clone();
        async move { (status(&url, None).await == 429).then_some(()) }
    })
    .await;
    assert!(limited_again.is_some(), "Redis decides again");
    assert_eq!(
        gw.log().matches("is reachable again").count(),
        1,
        "{}",
        gw.log()
    );
    assert_eq!(gw.log().matches("is unreachable").count(), 1);
}

#[tokio::test]
async fn fail_closed_refuses_with_503_when_redis_is_unreachable() {
    let up = TestUpstream::start("up").await;
    let port = free_port();
    let nobody = free_port();
    let limit = format!(
        "{}\nfailOpen = false",
        redis_limit(nobody, "average = 100\nburst = 100")
    );
    let _gw = TestGateway::start(&config(port, &limited(&up, &limit)), &[port]).await;
    for _ in 0..3 {
        let started = Instant::now();
        let r = client()
            .get(format!("http://127.0.0.1:{port}/"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 503);
        assert_eq!(r.headers()["retry-after"], "1");
        assert!(started.elapsed() < Duration::from_millis(1500));
    }
    assert!(up.requests().is_empty());
}

/// Added latency of the Redis-backed limiter: p50/p99 of sequential requests through pylon
/// without a limit, with the in-memory limiter and with Redis (run with `--ignored`).
#[tokio::test]
#[ignore]
async fn figure_redis_added_latency() {
    let Some(redis) = Redis::start().await else {
        return;
    };
    let up = TestUpstream::start("up").await;
    let n = 3000;
    let mut rows = Vec::new();
    for (label, limit) in [
        ("no limit", "average = 0".to_string()),
        (
            "in-memory",
            "average = 1000000\nburst = 1000000".to_string(),
        ),
        (
            "redis",
            redis_limit(redis.port, "average = 1000000\nburst = 1000000"),
        ),
    ] {
        let port = free_port();
        let _gw = TestGateway::start(&config(port, &limited(&up, &limit)), &[port]).await;
        let c = client();
        let url = format!("http://127.0.0.1:{port}/");
        for _ in 0..200 {
            c.get(&url).send().await.unwrap().bytes().await.unwrap();
        }
        let mut times = Vec::with_capacity(n);
        for _ in 0..n {
            let t = Instant::now();
            let r = c.get(&url).send().await.unwrap();
            assert_eq!(r.status(), 200);
            r.bytes().await.unwrap();
            times.push(t.elapsed());
        }
        times.sort();
        rows.push((label, times[n / 2], times[n * 99 / 100]));
    }
    for (label, p50, p99) in &rows {
        eprintln!("{label:>10}: p50 {p50:?}  p99 {p99:?}");
    }
    eprintln!(
        "redis adds: p50 {:?}, p99 {:?} over no limit",
        rows[2].1.saturating_sub(rows[0].1),
        rows[2].2.saturating_sub(rows[0].2)
    );
}
