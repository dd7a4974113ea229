//! `failover` services end to end: the fallback takes over while the main service's servers
//! are down (active health check) and gives way when they are back; with `errors.status`
//! (Traefik v3.7) an answer of the main service in the list is dropped before the client sees
//! it and the request, body included, goes to the fallback; nested with `weighted`.

mod common;

use common::{client, eventually, free_port, TestGateway, TestUpstream};
use std::time::Duration;

/// The body's first word: which upstream answered.
async fn who(port: u16, path: &str) -> String {
    let r = client()
        .get(format!("http://127.0.0.1:{port}{path}"))
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    let body = r.text().await.unwrap();
    match status {
        200 => body.split(' ').next().unwrap_or("").to_string(),
        s => format!("status {s}"),
    }
}

#[tokio::test]
async fn the_fallback_serves_while_the_main_service_is_down() {
    let main = TestUpstream::start("main").await;
    let backup = TestUpstream::start("backup").await;
    let port = free_port();
    let config = format!(
        r#"[entryPoints.web]
address = "127.0.0.1:{port}"

[http.routers.r]
rule = "PathPrefix(`/`)"
service = "safe"

[http.services.safe.failover]
service = "main"
fallback = "backup"

[http.services.main.loadBalancer]
servers = [{{ url = "{main}" }}]
[http.services.main.loadBalancer.healthCheck]
path = "/health"
interval = "200ms"
timeout = "150ms"

[http.services.backup.loadBalancer]
servers = [{{ url = "{backup}" }}]
"#,
        main = main.url(),
        backup = backup.url()
    );
    let _gw = TestGateway::start(&config, &[port]).await;
    let settled = |want: &'static str| async move {
        eventually(Duration::from_secs(5), || async {
            (who(port, "/x").await == want).then_some(())
        })
        .await
        .is_some()
    };
    assert!(settled("main").await, "the main service serves while up");
    main.set_health(500);
    assert!(settled("backup").await, "the fallback takes over");
    let before = main.requests().len();
    for _ in 0..5 {
        assert_eq!(who(port, "/x").await, "backup");
    }
    assert_eq!(
        main.requests().len(),
        before,
        "nothing to the main service while down"
    );
    main.set_health(200);
    assert!(settled("main").await, "the main service is back");
}

#[tokio::test]
async fn listed_statuses_of_the_main_service_go_to_the_fallback_body_included() {
    let main = TestUpstream::start("main").await;
    let backup = TestUpstream::start("backup").await;
    let blue = TestUpstream::start("blue").await;
    let port = free_port();
    let config = format!(
        r#"[entryPoints.web]
address = "127.0.0.1:{port}"

[http.routers.r]
rule = "PathPrefix(`/`)"
service = "safe"

[http.services.safe.failover]
service = "main"
fallback = "split"
[http.services.safe.failover.errors]
status = ["500-599"]

[http.services.main.loadBalancer]
servers = [{{ url = "{main}" }}]

[http.services.split.weighted]
services = [{{ name = "backup", weight = 1 }}, {{ name = "blue", weight = 1 }}]

[http.services.backup.loadBalancer]
servers = [{{ url = "{backup}" }}]
[http.services.blue.loadBalancer]
servers = [{{ url = "{blue}" }}]
"#,
        main = main.url(),
        backup = backup.url(),
        blue = blue.url()
    );
    let _gw = TestGateway::start(&config, &[port]).await;
    // TestUpstream answers /health with the status set_health gives it.
    main.set_health(503);
    let c = client();
    let r = c
        .post(format!("http://127.0.0.1:{port}/health"))
        .body("payload")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "the 503 never reaches the client");
    let first = r.text().await.unwrap();
    assert!(
        first.starts_with("backup") || first.starts_with("blue"),
        "{first}"
    );
    assert_eq!(main.requests().last().unwrap().body, b"payload");
    let fallback_got = backup
        .requests()
        .into_iter()
        .chain(blue.requests())
        .next()
        .unwrap();
    assert_eq!(fallback_got.body, b"payload", "the body is sent again");
    // the fallback is a weighted service: both of its children take turns
    let second = who(port, "/health").await;
    assert_ne!(first.split(' ').next().unwrap(), second);

    // a status not in the list is the main service's answer
    main.set_health(404);
    assert_eq!(who(port, "/health").await, "status 404");
    // and a 2xx is too
    assert_eq!(who(port, "/other").await, "main");
}
