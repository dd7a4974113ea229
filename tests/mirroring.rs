//! `mirroring` services end to end: copies of requests (head as sent upstream, body included)
//! reach each mirror in its share, a slow or dead mirror never slows or fails the main answer,
//! bodies over `maxBodySize` are not mirrored, and a mirror may be a weighted service.

mod common;

use common::upstream::UpstreamOptions;
use common::{client, eventually, free_port, TestGateway, TestUpstream};
use std::time::{Duration, Instant};

fn config(port: u16, main: &str, mirrors: &str, extra: &str) -> String {
    format!(
        r#"[entryPoints.web]
address = "127.0.0.1:{port}"

[http.routers.r]
rule = "PathPrefix(`/`)"
service = "mirrored"
middlewares = ["strip"]

[http.middlewares.strip.stripPrefix]
prefixes = ["/api"]

[http.services.mirrored.mirroring]
service = "main"
{extra}
{mirrors}

[http.services.main.loadBalancer]
servers = [{{ url = "{main}" }}]
"#
    )
}

#[tokio::test]
async fn copies_reach_each_mirror_in_its_share_with_the_body() {
    let main = TestUpstream::start("main").await;
    let all = TestUpstream::start("all").await;
    let half = TestUpstream::start("half").await;
    let port = free_port();
    let mirrors = format!(
        r#"[[http.services.mirrored.mirroring.mirrors]]
name = "all"
percent = 100
[[http.services.mirrored.mirroring.mirrors]]
name = "half"
percent = 50

[http.services.all.loadBalancer]
servers = [{{ url = "{}" }}]
[http.services.half.loadBalancer]
servers = [{{ url = "{}" }}]
"#,
        all.url(),
        half.url()
    );
    let _gw = TestGateway::start(&config(port, &main.url(), &mirrors, ""), &[port]).await;
    let c = client();
    for i in 0..10 {
        let r = c
            .post(format!("http://127.0.0.1:{port}/api/item/{i}"))
            .header("x-trace", format!("t{i}"))
            .body(format!("body {i}"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(r.text().await.unwrap(), format!("main /item/{i}"));
    }
    let copied = eventually(Duration::from_secs(5), || async {
        (all.requests().len() == 10 && half.requests().len() == 5).then_some(())
    })
    .await;
    assert!(
        copied.is_some(),
        "all got {}, half got {}",
        all.requests().len(),
        half.requests().len()
    );
    // the copy is the request as the main service got it: path after stripPrefix, headers,
    // forwarded headers, body
    let mut got = all.requests();
    got.sort_by_key(|s| s.target.clone());
    let seen = got.iter().find(|s| s.target == "/item/3").unwrap();
    assert_eq!(seen.method, "POST");
    assert_eq!(seen.header("x-trace"), Some("t3"));
    assert_eq!(seen.header("x-forwarded-prefix"), Some("/api"));
    assert_eq!(seen.body, b"body 3");
    let main_seen = main
        .requests()
        .into_iter()
        .find(|s| s.target == "/item/3")
        .unwrap();
    assert_eq!(
        main_seen.header("x-forwarded-for"),
        seen.header("x-forwarded-for")
    );
}

#[tokio::test]
async fn a_slow_or_dead_mirror_never_slows_or_fails_the_main_answer() {
    let main = TestUpstream::start("main").await;
    let slow = TestUpstream::start_with(
        "slow",
        UpstreamOptions {
            delay: Some(Duration::from_secs(3)),
            ..UpstreamOptions::default()
        },
    )
    .await;
    let dead = free_port();
    let port = free_port();
    let mirrors = format!(
        r#"[[http.services.mirrored.mirroring.mirrors]]
name = "slow"
percent = 100
[[http.services.mirrored.mirroring.mirrors]]
name = "dead"
percent = 100

[http.services.slow.loadBalancer]
servers = [{{ url = "{}" }}]
[http.services.dead.loadBalancer]
servers = [{{ url = "http://127.0.0.1:{dead}" }}]
"#,
        slow.url()
    );
    let _gw = TestGateway::start(&config(port, &main.url(), &mirrors, ""), &[port]).await;
    let c = client();
    let started = Instant::now();
    for _ in 0..5 {
        let r = c
            .get(format!("http://127.0.0.1:{port}/api/x"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(r.text().await.unwrap(), "main /x");
    }
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "5 requests took {:?} with a 3 s mirror",
        started.elapsed()
    );
    let copied = eventually(Duration::from_secs(8), || async {
        (slow.requests().len() == 5).then_some(())
    })
    .await;
    assert!(copied.is_some(), "the slow mirror got its copies anyway");
}

#[tokio::test]
async fn bodies_over_max_body_size_are_not_mirrored() {
    let main = TestUpstream::start("main").await;
    let mirror = TestUpstream::start("mirror").await;
    let port = free_port();
    let mirrors = format!(
        r#"[[http.services.mirrored.mirroring.mirrors]]
name = "copy"
percent = 100
[http.services.copy.loadBalancer]
servers = [{{ url = "{}" }}]
"#,
        mirror.url()
    );
    let _gw = TestGateway::start(
        &config(port, &main.url(), &mirrors, "maxBodySize = 16"),
        &[port],
    )
    .await;
    let c = client();
    let post = |path: &'static str, body: &'static str| {
        c.post(format!("http://127.0.0.1:{port}{path}"))
            .body(body)
            .send()
    };
    assert_eq!(post("/api/small", "tiny").await.unwrap().status(), 200);
    assert_eq!(
        post("/api/big", "far more than sixteen bytes")
            .await
            .unwrap()
            .status(),
        200
    );
    assert_eq!(post("/api/after", "").await.unwrap().status(), 200);
    let copied = eventually(Duration::from_secs(5), || async {
        (mirror.requests().len() >= 2).then_some(())
    })
    .await;
    assert!(copied.is_some());
    tokio::time::sleep(Duration::from_millis(300)).await;
    let targets: Vec<String> = mirror.requests().iter().map(|s| s.target.clone()).collect();
    assert!(targets.contains(&"/small".to_string()), "{targets:?}");
    assert!(!targets.contains(&"/big".to_string()), "{targets:?}");
    assert_eq!(
        main.requests().len(),
        3,
        "the main service got every request"
    );
}

#[tokio::test]
async fn mirror_body_false_sends_the_head_only() {
    let main = TestUpstream::start("main").await;
    let mirror = TestUpstream::start("mirror").await;
    let port = free_port();
    let mirrors = format!(
        r#"[[http.services.mirrored.mirroring.mirrors]]
name = "copy"
percent = 100
[http.services.copy.loadBalancer]
servers = [{{ url = "{}" }}]
"#,
        mirror.url()
    );
    let _gw = TestGateway::start(
        &config(port, &main.url(), &mirrors, "mirrorBody = false"),
        &[port],
    )
    .await;
    let r = client()
        .post(format!("http://127.0.0.1:{port}/api/upload"))
        .body("secret payload")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let copy = eventually(Duration::from_secs(5), || async { mirror.last() }).await;
    let copy = copy.expect("a copy");
    assert_eq!(copy.target, "/upload");
    assert!(copy.body.is_empty());
    assert_eq!(main.last().unwrap().body, b"secret payload");
}
