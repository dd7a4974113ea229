//! Pools that survive failure: sticky cookies, weighted services (canaries), passive health,
//! connect failover — through a real pylon with real upstreams.

mod common;

use common::{client, free_port, TestGateway, TestUpstream};
use std::collections::HashMap;

fn gateway_config(port: u16, dynamic: &str) -> String {
    format!("[entryPoints.web]\naddress = \"127.0.0.1:{port}\"\n\n{dynamic}")
}

fn cookie_of(r: &reqwest::Response) -> Option<String> {
    r.headers()
        .get("set-cookie")
        .map(|v| v.to_str().unwrap().split(';').next().unwrap().to_string())
}

#[tokio::test]
async fn sticky_cookie_pins_a_server_and_moves_when_it_goes_away() {
    let a = TestUpstream::start("a").await;
    let b = TestUpstream::start("b").await;
    let port = free_port();
    let dynamic = format!(
        r#"
[http.routers.r]
rule = "PathPrefix(`/`)"
service = "s"
[http.services.s.loadBalancer]
servers = [{{ url = "{}" }}, {{ url = "{}" }}]
[http.services.s.loadBalancer.sticky.cookie]
name = "pylon_sticky"
httpOnly = true
secure = true
sameSite = "lax"
"#,
        a.url(),
        b.url()
    );
    let mut gw = TestGateway::start(&gateway_config(port, &dynamic), &[port]).await;
    let c = client();
    let first = c
        .get(format!("http://127.0.0.1:{port}/"))
        .send()
        .await
        .unwrap();
    let set = first.headers()["set-cookie"].to_str().unwrap().to_string();
    assert!(set.starts_with("pylon_sticky="), "{set}");
    assert!(
        set.contains("HttpOnly") && set.contains("Secure") && set.contains("SameSite=Lax"),
        "{set}"
    );
    assert!(
        !set.contains("127.0.0.1"),
        "the cookie must not reveal the address: {set}"
    );
    let pinned = first.headers()["x-upstream"].to_str().unwrap().to_string();
    let cookie = cookie_of(&first).unwrap();
    for _ in 0..10 {
        let r = c
            .get(format!("http://127.0.0.1:{port}/"))
            .header("cookie", &cookie)
            .send()
            .await
            .unwrap();
        assert_eq!(r.headers()["x-upstream"], pinned.as_str());
        assert!(
            r.headers().get("set-cookie").is_none(),
            "no new cookie while the server is up"
        );
    }

    // Same config, new pylon process: the cookie value still names the same server.
    drop(gw);
    gw = TestGateway::start(&gateway_config(port, &dynamic), &[port]).await;
    let r = c
        .get(format!("http://127.0.0.1:{port}/"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.headers()["x-upstream"],
        pinned.as_str(),
        "sticky across restarts"
    );

    // The pinned server goes away: another one answers and the cookie is rewritten.
    if pinned == "a" {
        a.stop()
    } else {
        b.stop()
    }
    let r = c
        .get(format!("http://127.0.0.1:{port}/"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_ne!(r.headers()["x-upstream"], pinned.as_str());
    let new_cookie = cookie_of(&r).expect("cookie rewritten");
    assert_ne!(new_cookie, cookie);
    drop(gw);
}

#[tokio::test]
async fn bare_sticky_cookie_true_uses_a_short_stable_default_name() {
    let a = TestUpstream::start("a").await;
    let port = free_port();
    let dynamic = format!(
        "[http.routers.r]\nrule = \"PathPrefix(`/`)\"\nservice = \"userservice\"\n[http.services.userservice.loadbalancer]\nservers = [{{ url = \"{}\" }}]\nsticky.cookie = true\n",
        a.url()
    );
    let _gw = TestGateway::start(&gateway_config(port, &dynamic), &[port]).await;
    let r = client()
        .get(format!("http://127.0.0.1:{port}/"))
        .send()
        .await
        .unwrap();
    let cookie = cookie_of(&r).unwrap();
    let name = cookie.split('=').next().unwrap();
    assert_eq!(
        name,
        pylon::upstream::sticky::default_cookie_name("userservice@file")
    );
}

#[tokio::test]
async fn weighted_service_splits_10000_requests_within_two_points() {
    let blue = TestUpstream::start("blue").await;
    let green = TestUpstream::start("green").await;
    let port = free_port();
    let dynamic = format!(
        r#"
[http.routers.r]
rule = "PathPrefix(`/`)"
service = "canary"
[http.services.canary.weighted]
services = [{{ name = "blue", weight = 9 }}, {{ name = "green", weight = 1 }}]
[http.services.blue.loadBalancer]
servers = [{{ url = "{}" }}]
[http.services.green.loadBalancer]
servers = [{{ url = "{}" }}]
"#,
        blue.url(),
        green.url()
    );
    let _gw = TestGateway::start(&gateway_config(port, &dynamic), &[port]).await;
    let c = client();
    let mut counts: HashMap<String, u32> = HashMap::new();
    let total = 10_000;
    let mut tasks = Vec::new();
    for chunk in 0..8 {
        let c = c.clone();
        tasks.push(tokio::spawn(async move {
            let mut local: HashMap<String, u32> = HashMap::new();
            for _ in 0..(total / 8 + usize::from(chunk < total % 8)) {
                let r = c
                    .get(format!("http://127.0.0.1:{port}/"))
                    .send()
                    .await
                    .unwrap();
                *local
                    .entry(r.headers()["x-upstream"].to_str().unwrap().to_string())
                    .or_default() += 1;
            }
            local
        }));
    }
    for t in tasks {
        for (k, v) in t.await.unwrap() {
            *counts.entry(k).or_default() += v;
        }
    }
    let green_share = *counts.get("green").unwrap_or(&0) as f64 / total as f64 * 100.0;
    assert!(
        (8.0..=12.0).contains(&green_share),
        "green got {green_share:.2}% of {counts:?}"
    );
}

#[tokio::test]
async fn weighted_sticky_cookie_keeps_a_client_on_its_side() {
    let blue = TestUpstream::start("blue").await;
    let green = TestUpstream::start("green").await;
    let port = free_port();
    let dynamic = format!(
        r#"
[http.routers.r]
rule = "PathPrefix(`/`)"
service = "canary"
[http.services.canary.weighted]
services = [{{ name = "blue", weight = 1 }}, {{ name = "green", weight = 1 }}]
[http.services.canary.weighted.sticky.cookie]
name = "side"
[http.services.blue.loadBalancer]
servers = [{{ url = "{}" }}]
[http.services.green.loadBalancer]
servers = [{{ url = "{}" }}]
"#,
        blue.url(),
        green.url()
    );
    let _gw = TestGateway::start(&gateway_config(port, &dynamic), &[port]).await;
    let c = client();
    let first = c
        .get(format!("http://127.0.0.1:{port}/"))
        .send()
        .await
        .unwrap();
    let cookie = cookie_of(&first).unwrap();
    assert!(cookie.starts_with("side="));
    let side = first.headers()["x-upstream"].to_str().unwrap().to_string();
    for _ in 0..10 {
        let r = c
            .get(format!("http://127.0.0.1:{port}/"))
            .header("cookie", &cookie)
            .send()
            .await
            .unwrap();
        assert_eq!(r.headers()["x-upstream"], side.as_str());
    }
}

#[tokio::test]
async fn passive_health_takes_a_failing_server_out_without_an_active_check() {
    let good = TestUpstream::start("good").await;
    let dead_port = free_port();
    let port = free_port();
    let dynamic = format!(
        r#"
[http.routers.r]
rule = "PathPrefix(`/`)"
service = "s"
[http.services.s.loadBalancer]
servers = [{{ url = "http://127.0.0.1:{dead_port}" }}, {{ url = "{}" }}]
[http.services.s.loadBalancer.passiveHealthCheck]
failureWindow = "30s"
maxFailedAttempts = 2
"#,
        good.url()
    );
    let gw = TestGateway::start(&gateway_config(port, &dynamic), &[port]).await;
    let c = client();
    for _ in 0..20 {
        let r = c
            .get(format!("http://127.0.0.1:{port}/"))
            .send()
            .await
            .unwrap();
        assert_eq!(
            r.status(),
            200,
            "connect failures fail over to the good server"
        );
    }
    let log = common::eventually(std::time::Duration::from_secs(5), || {
        let log = gw.log();
        async move { log.contains("is DOWN").then_some(log) }
    })
    .await
    .expect("the dead server is marked down");
    assert_eq!(
        log.matches("is DOWN").count(),
        1,
        "logged once, not per request:\n{log}"
    );
    assert!(log.contains("passive health check"), "{log}");
    // once down, the dead server is not dialled any more
    assert!(good.requests().len() >= 20);
}
