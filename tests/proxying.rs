//! End-to-end proxying through a real pylon: routing, strip-prefix, forwarded headers, errors.

mod common;

use common::{client, free_port, raw_request, TestGateway, TestUpstream, UpstreamOptions};
use std::time::Duration;

async fn gateway_with(port: u16, dynamic: &str) -> TestGateway {
    let config = format!(
        r#"
[entryPoints.web]
address = "127.0.0.1:{port}"

[ping]
entryPoint = "web"

{dynamic}
"#
    );
    TestGateway::start(&config, &[port]).await
}

#[tokio::test]
async fn strip_prefix_keeps_query_and_sets_forwarded_prefix() {
    let up = TestUpstream::start("users").await;
    let port = free_port();
    let _gw = gateway_with(
        port,
        &format!(
            r#"
[http.routers.users]
rule = "PathPrefix(`/api/users`)"
service = "users"
middlewares = ["strip"]
[http.middlewares.strip.stripPrefix]
prefixes = ["/api/users"]
[http.services.users.loadBalancer]
servers = [{{ url = "{}" }}]
"#,
            up.url()
        ),
    )
    .await;
    let c = client();
    let r = c
        .get(format!(
            "http://127.0.0.1:{port}/api/users/auth/token?x=1&y=a%20b"
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.text().await.unwrap(), "users /auth/token?x=1&y=a%20b");
    let seen = up.last().unwrap();
    assert_eq!(seen.header("x-forwarded-prefix"), Some("/api/users"));

    // the bare prefix becomes "/", never an empty path
    let r = c
        .get(format!("http://127.0.0.1:{port}/api/users?q=1"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.text().await.unwrap(), "users /?q=1");
}

#[tokio::test]
async fn weighted_round_robin_spreads_by_weight() {
    let a = TestUpstream::start("a").await;
    let b = TestUpstream::start("b").await;
    let port = free_port();
    let _gw = gateway_with(
        port,
        &format!(
            r#"
[http.routers.r]
rule = "PathPrefix(`/`)"
service = "s"
[http.services.s.loadBalancer]
servers = [{{ url = "{}", weight = 3 }}, {{ url = "{}", weight = 1 }}]
"#,
            a.url(),
            b.url()
        ),
    )
    .await;
    let c = client();
    let mut count_a = 0;
    for _ in 0..40 {
        let r = c
            .get(format!("http://127.0.0.1:{port}/"))
            .send()
            .await
            .unwrap();
        if r.headers()["x-upstream"] == "a" {
            count_a += 1;
        }
    }
    assert_eq!(count_a, 30, "3:1 weights over 40 requests");
}

#[tokio::test]
async fn keepalive_connections_to_upstreams_are_reused() {
    let up = TestUpstream::start("u").await;
    let port = free_port();
    let _gw = gateway_with(port, &common::route_all_to(&up.url())).await;
    let c = client();
    for _ in 0..20 {
        assert_eq!(
            c.get(format!("http://127.0.0.1:{port}/"))
                .send()
                .await
                .unwrap()
                .status(),
            200
        );
    }
    assert_eq!(up.requests().len(), 20);
    let conns = up.connections();
    assert!(
        conns <= 2,
        "20 sequential requests used {conns} upstream connections"
    );
}

#[tokio::test]
async fn forwarded_headers_are_overwritten_for_untrusted_peers() {
    let up = TestUpstream::start("u").await;
    let port = free_port();
    let _gw = gateway_with(port, &common::route_all_to(&up.url())).await;
    let r = client()
        .get(format!("http://127.0.0.1:{port}/x"))
        .header("x-forwarded-for", "6.6.6.6")
        .header("x-real-ip", "6.6.6.6")
        .header("x-forwarded-proto", "https")
        .header("x-forwarded-prefix", "/evil")
        .header("host", "example.com:1234")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let seen = up.last().unwrap();
    assert_eq!(seen.header("x-forwarded-for"), Some("127.0.0.1"));
    assert_eq!(seen.header("x-real-ip"), Some("127.0.0.1"));
    assert_eq!(seen.header("x-forwarded-proto"), Some("http"));
    assert_eq!(seen.header("x-forwarded-host"), Some("example.com:1234"));
    assert_eq!(seen.header("x-forwarded-port"), Some("1234"));
    assert!(seen.header("x-forwarded-server").is_some());
    assert_eq!(seen.header("x-forwarded-prefix"), None);
    // passHostHeader defaults to true
    assert_eq!(seen.header("host"), Some("example.com:1234"));
}

#[tokio::test]
async fn forwarded_headers_are_kept_from_trusted_peers_and_host_can_be_replaced() {
    let up = TestUpstream::start("u").await;
    let port = free_port();
    let config = format!(
        r#"
[entryPoints.web]
address = "127.0.0.1:{port}"
[entryPoints.web.forwardedHeaders]
trustedIPs = ["127.0.0.1/32"]

[http.routers.r]
rule = "PathPrefix(`/`)"
service = "s"
[http.services.s.loadBalancer]
servers = [{{ url = "{}" }}]
passHostHeader = false
"#,
        up.url()
    );
    let _gw = TestGateway::start(&config, &[port]).await;
    client()
        .get(format!("http://127.0.0.1:{port}/x"))
        .header("x-forwarded-for", "1.2.3.4")
        .header("x-forwarded-proto", "https")
        .header("host", "example.com")
        .send()
        .await
        .unwrap();
    let seen = up.last().unwrap();
    assert_eq!(seen.header("x-forwarded-for"), Some("1.2.3.4, 127.0.0.1"));
    assert_eq!(seen.header("x-forwarded-proto"), Some("https"));
    assert_eq!(
        seen.header("host"),
        Some(format!("127.0.0.1:{}", up.port).as_str())
    );
}

#[tokio::test]
async fn no_route_is_404_refused_upstream_is_502_slow_upstream_is_504() {
    let slow = TestUpstream::start_with(
        "slow",
        UpstreamOptions {
            delay: Some(Duration::from_secs(3)),
            ..UpstreamOptions::default()
        },
    )
    .await;
    let dead_port = free_port();
    let port = free_port();
    let _gw = gateway_with(
        port,
        &format!(
            r#"
[http.routers.dead]
rule = "Path(`/dead`)"
service = "dead"
[http.routers.slow]
rule = "Path(`/slow`)"
service = "slow"
[http.services.dead.loadBalancer]
servers = [{{ url = "http://127.0.0.1:{dead_port}" }}]
[http.services.slow.loadBalancer]
servers = [{{ url = "{}" }}]
serversTransport = "quick"
[http.serversTransports.quick.forwardingTimeouts]
responseHeaderTimeout = "500ms"
"#,
            slow.url()
        ),
    )
    .await;
    let c = client();
    let r = c
        .get(format!("http://127.0.0.1:{port}/nothing"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    let r = c
        .get(format!("http://127.0.0.1:{port}/dead"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 502);
    let started = std::time::Instant::now();
    let r = c
        .get(format!("http://127.0.0.1:{port}/slow"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 504);
    assert!(started.elapsed() < Duration::from_secs(3));
}

#[tokio::test]
async fn connect_failure_fails_over_to_another_server() {
    let up = TestUpstream::start("alive").await;
    let dead_port = free_port();
    let port = free_port();
    let _gw = gateway_with(
        port,
        &format!(
            "[http.routers.r]\nrule = \"PathPrefix(`/`)\"\nservice = \"s\"\n[http.services.s.loadBalancer]\nservers = [{{ url = \"http://127.0.0.1:{dead_port}\" }}, {{ url = \"{}\" }}]\n",
            up.url()
        ),
    )
    .await;
    let c = client();
    for _ in 0..6 {
        let r = c
            .post(format!("http://127.0.0.1:{port}/"))
            .body("x")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
    }
}

#[tokio::test]
async fn malformed_and_ambiguous_requests_are_refused_and_never_forwarded() {
    let up = TestUpstream::start("u").await;
    let port = free_port();
    let config = format!(
        r#"
[entryPoints.web]
address = "127.0.0.1:{port}"
[entryPoints.web.http]
maxHeaderBytes = 4096

[http.routers.r]
rule = "PathPrefix(`/`)"
service = "s"
[http.services.s.loadBalancer]
servers = [{{ url = "{}" }}]
"#,
        up.url()
    );
    let _gw = TestGateway::start(&config, &[port]).await;
    let big = "a".repeat(8000);
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (b"GARBAGE\r\n\r\n".to_vec(), "400"),
        (b"GET / HTTP/1.1\r\nHost: a\r\nbad header line\r\n\r\n".to_vec(), "400"),
        (
            b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n".to_vec(),
            "400",
        ),
        (
            b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!".to_vec(),
            "400",
        ),
        (format!("GET / HTTP/1.1\r\nHost: a\r\nX-Big: {big}\r\n\r\n").into_bytes(), "431"),
    ];
    for (bytes, want) in cases {
        let answer = raw_request(port, &bytes).await;
        let status = answer.split_whitespace().nth(1).unwrap_or("(none)");
        assert_eq!(
            status,
            want,
            "request {:?} got {answer:?}",
            String::from_utf8_lossy(&bytes[..bytes.len().min(60)])
        );
    }
    assert!(
        up.requests().is_empty(),
        "upstream received {:?}",
        up.requests()
    );
    // and a good request still works
    let ok = raw_request(
        port,
        b"GET /ok HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert!(ok.starts_with("HTTP/1.1 200"), "{ok}");
}

#[tokio::test]
async fn entrypoint_middlewares_run_before_the_routers_own() {
    let up = TestUpstream::start("u").await;
    let port = free_port();
    let config = format!(
        r#"
[entryPoints.web]
address = "127.0.0.1:{port}"
[entryPoints.web.http]
middlewares = ["strip-v1"]

[http.routers.r]
rule = "PathPrefix(`/v1`)"
service = "s"
middlewares = ["strip-api"]
[http.middlewares.strip-v1.stripPrefix]
prefixes = ["/v1"]
[http.middlewares.strip-api.stripPrefix]
prefixes = ["/api"]
[http.services.s.loadBalancer]
servers = [{{ url = "{}" }}]
"#,
        up.url()
    );
    let _gw = TestGateway::start(&config, &[port]).await;
    let r = client()
        .get(format!("http://127.0.0.1:{port}/v1/api/items"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.text().await.unwrap(), "u /items");
    assert_eq!(
        up.last().unwrap().header("x-forwarded-prefix"),
        Some("/v1/api")
    );
}

#[tokio::test]
async fn paths_are_normalized_before_routing_and_sent_normalized() {
    let up = TestUpstream::start("u").await;
    let port = free_port();
    let _gw = gateway_with(port, &common::route_all_to(&up.url())).await;
    let ok = raw_request(
        port,
        b"GET //a/./b/../%63?q=%2F HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert!(ok.starts_with("HTTP/1.1 200"), "{ok}");
    assert_eq!(up.last().unwrap().target, "/a/c?q=%2F");
    for bad in ["/a/..%2fb", "/a%00b", "/a%5cb"] {
        let req = format!("GET {bad} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        let answer = raw_request(port, req.as_bytes()).await;
        assert!(answer.starts_with("HTTP/1.1 400"), "{bad}: {answer}");
    }
    assert_eq!(up.requests().len(), 1);
}
