//! The `buffering` middleware end to end: request bodies over `maxRequestBodyBytes` get 413
//! (announced by Content-Length or counted in a chunked body), responses over
//! `maxResponseBodyBytes` get 500, bodies within the limits go through untouched.

mod common;

use common::upstream::UpstreamOptions;
use common::{client, free_port, raw_request, TestGateway, TestUpstream};
use std::time::Duration;

fn config(web: u16, upstream: &str) -> String {
    format!(
        r#"[entryPoints.web]
address = "127.0.0.1:{web}"

[http.routers.r]
rule = "PathPrefix(`/`)"
service = "s"
middlewares = ["b"]

[http.middlewares.b.buffering]
maxRequestBodyBytes = 16
memRequestBodyBytes = 8
maxResponseBodyBytes = 20

[http.services.s.loadBalancer]
servers = [{{ url = "{upstream}" }}]
"#
    )
}

async fn start(opts: UpstreamOptions) -> (TestUpstream, TestGateway, u16) {
    let up = TestUpstream::start_with("app", opts).await;
    let web = free_port();
    let gw = TestGateway::start(&config(web, &up.url()), &[web]).await;
    (up, gw, web)
}

#[tokio::test]
async fn request_bodies_over_the_limit_get_413_before_the_upstream() {
    let (up, _gw, web) = start(UpstreamOptions::default()).await;
    let url = format!("http://127.0.0.1:{web}/in");
    let ok = client()
        .post(&url)
        .body("0123456789abcdef")
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200, "16 bytes is within the limit");
    assert_eq!(up.last().unwrap().body, b"0123456789abcdef");
    let before = up.requests().len();
    let r = client()
        .post(&url)
        .body("0123456789abcdefg")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 413);
    assert_eq!(up.requests().len(), before, "the upstream never saw it");
}

#[tokio::test]
async fn chunked_request_bodies_are_counted() {
    // the upstream answers late, so the limit is hit while the body streams
    let opts = UpstreamOptions {
        delay: Some(Duration::from_millis(800)),
        ..Default::default()
    };
    let (_up, _gw, web) = start(opts).await;
    let head =
        "POST /in HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n";
    let small = format!("{head}a\r\n0123456789\r\n0\r\n\r\n");
    let out = raw_request(web, small.as_bytes()).await;
    assert!(out.starts_with("HTTP/1.1 200"), "{out}");
    let big = format!("{head}a\r\n0123456789\r\na\r\n0123456789\r\n0\r\n\r\n");
    let out = raw_request(web, big.as_bytes()).await;
    assert!(out.starts_with("HTTP/1.1 413"), "{out}");
}

#[tokio::test]
async fn responses_over_the_limit_get_500() {
    let (_up, _gw, web) = start(UpstreamOptions::default()).await;
    // the test upstream answers "app <target>"
    let r = client()
        .get(format!("http://127.0.0.1:{web}/short"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.text().await.unwrap(), "app /short");
    let r = client()
        .get(format!(
            "http://127.0.0.1:{web}/a-much-longer-path-than-twenty"
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 500);
}
