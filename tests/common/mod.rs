//! Shared test harness: real upstream servers, a real pylon process, polling with deadlines.
// Each test binary uses a different part of the harness.
#![allow(dead_code, unused_imports)]

pub mod acme;
pub mod bind9;
pub mod certs;
pub mod dns;
pub mod docker;
pub mod etcd;
pub mod gateway;
pub mod h2;
pub mod pebble;
pub mod python;
pub mod raw_upstream;
pub mod redis;
pub mod tls;
pub mod tls_upstream;
pub mod trickle_upstream;
pub mod unit;
pub mod upstream;
pub mod webdriver;

pub use gateway::TestGateway;
pub use upstream::{TestUpstream, UpstreamOptions};

use std::time::{Duration, Instant};

/// A free TCP port on 127.0.0.1 for pylon to listen on.
///
/// Taken below Linux's ephemeral range (32768+), where the test upstreams' `bind(0)` ports
/// come from, so an upstream can never grab a port handed out here before pylon binds it.
pub fn free_port() -> u16 {
    use std::sync::atomic::{AtomicU32, Ordering};
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let seed = std::process::id().wrapping_mul(7919)
        ^ std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
    for _ in 0..1000 {
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let port = 20000 + (seed.wrapping_add(n.wrapping_mul(104_729)) % 12000) as u16;
        if std::net::TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
    panic!("no free port found in 20000-31999");
}

/// Dynamic config routing every request to one upstream: router `r`, service `s`.
pub fn route_all_to(url: &str) -> String {
    format!(
        "[http.routers.r]\nrule = \"PathPrefix(`/`)\"\nservice = \"s\"\n[http.services.s.loadBalancer]\nservers = [{{ url = \"{url}\" }}]\n"
    )
}

/// Polls `check` until it returns `Some` or `timeout` passes.
pub async fn eventually<T, F, Fut>(timeout: Duration, mut check: F) -> Option<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(v) = check().await {
            return Some(v);
        }
        if Instant::now() >= deadline {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Status and JSON body of `GET url` (a body that is not JSON comes back as a string).
#[allow(dead_code)]
pub async fn get_json(url: String) -> (u16, serde_json::Value) {
    let r = client().get(&url).send().await.expect("GET request");
    let status = r.status().as_u16();
    let text = r.text().await.expect("response body");
    let value = serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text));
    (status, value)
}

/// An HTTP client that accepts pylon's test certificates and never follows redirects.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .danger_accept_invalid_certs(true)
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(10))
        .build()
        .expect("build reqwest client")
}

/// Sends raw bytes to `port` and returns everything read until the peer closes or 3 s pass.
pub async fn raw_request(port: u16, bytes: &[u8]) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .expect("connect to pylon");
    s.write_all(bytes).await.expect("write raw request");
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    let deadline = Instant::now() + Duration::from_secs(3);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, s.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) | Err(_) => break,
            Ok(Ok(n)) => out.extend_from_slice(&buf[..n]),
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The status and body of `GET /<service>` through pylon, on a connection of its own.
pub async fn get_service(port: u16, service: &str) -> (Option<u16>, String) {
    let head = format!("GET /{service} HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
    let answer = raw_request(port, head.as_bytes()).await;
    let status = answer
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok());
    let body = answer.split("\r\n\r\n").nth(1).unwrap_or("").to_string();
    (status, body)
}

/// Dynamic config: a router `/<name>` to service `<name>` with one server `url`, through
/// servers transport `transport` (empty: none).
pub fn route_through(name: &str, url: &str, transport: &str) -> String {
    let transport = match transport {
        "" => String::new(),
        t => format!("serversTransport = \"{t}\"\n"),
    };
    format!(
        "[http.routers.{name}]\nrule = \"PathPrefix(`/{name}`)\"\nservice = \"{name}\"\n\
         [http.services.{name}.loadBalancer]\n{transport}servers = [{{ url = \"{url}\" }}]\n"
    )
}
