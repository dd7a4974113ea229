//! Cleartext HTTP/2 with prior knowledge on an entry point (issue 19 point 4), as Traefik
//! accepts it: h2c requests are proxied, and HTTP/1 requests starting with `P` (PUT, POST,
//! PATCH), even shorter than the 24-byte preface, are never held back by the detection.

mod common;

use common::{free_port, route_all_to, TestGateway, TestUpstream};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn config(port: u16, upstream: &str) -> String {
    format!(
        "[entryPoints.web]\naddress = \"127.0.0.1:{port}\"\n\
         [entryPoints.web.transport.respondingTimeouts]\nheaderTimeout = \"2s\"\n{}",
        route_all_to(upstream)
    )
}

/// Sends `bytes`, returns the answer's status line and how long it took (until close or 5 s).
async fn raw(port: u16, bytes: &[u8]) -> (String, Duration) {
    let started = Instant::now();
    let mut s = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .unwrap();
    s.write_all(bytes).await.unwrap();
    let mut out = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), s.read_to_end(&mut out)).await;
    let text = String::from_utf8_lossy(&out).into_owned();
    (
        text.lines().next().unwrap_or("").to_string(),
        started.elapsed(),
    )
}

#[tokio::test]
async fn h2c_with_prior_knowledge_is_proxied() {
    let up = TestUpstream::start("app").await;
    let port = free_port();
    let _gw = TestGateway::start(&config(port, &up.url()), &[port]).await;
    let client = reqwest::Client::builder()
        .http2_prior_knowledge()
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    for i in 0..3 {
        let r = client
            .get(format!("http://127.0.0.1:{port}/h2c/{i}"))
            .send()
            .await
            .expect("an h2c answer");
        assert_eq!(r.version(), reqwest::Version::HTTP_2);
        assert_eq!(r.status(), 200);
    }
    assert_eq!(up.last().unwrap().target, "/h2c/2");
}

#[tokio::test]
async fn http1_requests_starting_with_p_are_not_held_back() {
    let up = TestUpstream::start("app").await;
    let port = free_port();
    let _gw = TestGateway::start(&config(port, &up.url()), &[port]).await;
    for request in [
        &b"PUT / HTTP/1.0\r\n\r\n"[..],
        b"POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\nConnection: close\r\n\r\nhi",
        b"PATCH / HTTP/1.0\r\n\r\n",
    ] {
        let (status, took) = raw(port, request).await;
        assert!(status.contains(" 200 "), "{status:?}");
        assert!(
            took < Duration::from_secs(1),
            "{:?} answered after {took:?}: held back by the h2c detection",
            String::from_utf8_lossy(request)
        );
    }
}

#[tokio::test]
async fn half_a_preface_is_cut_at_the_head_deadline() {
    let up = TestUpstream::start("app").await;
    let port = free_port();
    let _gw = TestGateway::start(&config(port, &up.url()), &[port]).await;
    let (status, took) = raw(port, b"PRI * HTTP/2.0\r\n").await;
    assert_eq!(status, "");
    assert!(
        took < Duration::from_secs(4),
        "closed after {took:?}, not at the 2 s head deadline"
    );
}
