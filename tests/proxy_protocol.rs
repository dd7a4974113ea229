//! PROXY protocol on entry points (issue 19 point 6), with Debian's HAProxy in front sending
//! `send-proxy` (v1) and `send-proxy-v2`: the client's address, not HAProxy's, reaches
//! `X-Forwarded-For`; a header from an untrusted peer is refused and the connection closed; a
//! header that does not come within the head deadline closes the connection.

mod common;

use common::{free_port, route_all_to, TestGateway, TestUpstream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// HAProxy in TCP mode: `v1` and `v2` listen ports forwarding to `backend` with each version.
struct HaProxy {
    child: Child,
    _dir: tempfile::TempDir,
}

impl HaProxy {
    async fn start(v1: u16, v2: u16, backend: u16) -> HaProxy {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("haproxy.cfg");
        std::fs::write(
            &config,
            format!(
                "defaults\n  mode tcp\n  timeout connect 2s\n  timeout client 10s\n  timeout server 10s\n\
                 frontend v1\n  bind 127.0.0.1:{v1}\n  default_backend b1\n\
                 backend b1\n  server pylon 127.0.0.1:{backend} send-proxy\n\
                 frontend v2\n  bind 127.0.0.1:{v2}\n  default_backend b2\n\
                 backend b2\n  server pylon 127.0.0.1:{backend} send-proxy-v2\n"
            ),
        )
        .unwrap();
        let child = Command::new("haproxy")
            .arg("-db")
            .arg("-f")
            .arg(&config)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("haproxy (Debian's haproxy, installed by scripts/setup.sh)");
        for port in [v1, v2] {
            let up = common::eventually(Duration::from_secs(10), || async move {
                tokio::net::TcpStream::connect(("127.0.0.1", port))
                    .await
                    .ok()
            })
            .await;
            assert!(up.is_some(), "haproxy did not listen on {port}");
        }
        HaProxy { child, _dir: dir }
    }
}

impl Drop for HaProxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `GET /` through `port` from the local address `from`; the status.
async fn get_from(from: &str, port: u16) -> Option<u16> {
    reqwest::Client::builder()
        .local_address(from.parse::<std::net::IpAddr>().unwrap())
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap()
        .get(format!("http://127.0.0.1:{port}/"))
        .send()
        .await
        .ok()
        .map(|r| r.status().as_u16())
}

/// Sends `bytes` on a new connection and returns what comes back until close or `wait`.
async fn raw(port: u16, bytes: &[u8], wait: Duration) -> (String, Duration) {
    let started = Instant::now();
    let mut s = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .unwrap();
    s.write_all(bytes).await.unwrap();
    let mut out = Vec::new();
    let _ = tokio::time::timeout(wait, s.read_to_end(&mut out)).await;
    (
        String::from_utf8_lossy(&out).into_owned(),
        started.elapsed(),
    )
}

#[tokio::test]
async fn haproxy_v1_and_v2_give_pylon_the_clients_address() {
    let up = TestUpstream::start("app").await;
    let (web, v1, v2) = (free_port(), free_port(), free_port());
    let config = format!(
        "[entryPoints.web]\naddress = \"127.0.0.1:{web}\"\n\
         [entryPoints.web.proxyProtocol]\ntrustedIPs = [\"127.0.0.1/32\"]\n{}",
        route_all_to(&up.url())
    );
    let gw = TestGateway::start(&config, &[web]).await;
    let _haproxy = HaProxy::start(v1, v2, web).await;
    let xff = || {
        up.last()
            .and_then(|s| s.header("x-forwarded-for").map(str::to_string))
    };
    assert_eq!(get_from("127.0.0.77", v1).await, Some(200), "{}", gw.log());
    assert_eq!(xff().as_deref(), Some("127.0.0.77"), "v1: HAProxy's client");
    assert_eq!(get_from("127.0.0.78", v2).await, Some(200), "{}", gw.log());
    assert_eq!(xff().as_deref(), Some("127.0.0.78"), "v2: HAProxy's client");
    // a trusted peer may still connect without a header
    assert_eq!(get_from("127.0.0.1", web).await, Some(200));
    assert_eq!(xff().as_deref(), Some("127.0.0.1"));
}

#[tokio::test]
async fn headers_from_untrusted_peers_and_late_headers_close_the_connection() {
    let up = TestUpstream::start("app").await;
    let web = free_port();
    let config = format!(
        "[entryPoints.web]\naddress = \"127.0.0.1:{web}\"\n\
         [entryPoints.web.proxyProtocol]\ntrustedIPs = [\"127.0.0.2/32\"]\n\
         [entryPoints.web.transport.respondingTimeouts]\nheaderTimeout = \"1s\"\n{}",
        route_all_to(&up.url())
    );
    let _gw = TestGateway::start(&config, &[web]).await;
    // 127.0.0.1 is not trusted: its header is refused, nothing reaches the upstream
    let spoof = b"PROXY TCP4 203.0.113.9 127.0.0.1 4444 80\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n";
    let (answer, _) = raw(web, spoof, Duration::from_secs(3)).await;
    assert_eq!(answer, "", "an untrusted PROXY header was answered");
    assert!(
        up.requests().is_empty(),
        "the spoofed request went upstream"
    );
    // without a header the same peer is served as usual
    assert_eq!(get_from("127.0.0.1", web).await, Some(200));
}

#[tokio::test]
async fn a_proxy_header_that_never_ends_is_cut_at_the_head_deadline() {
    let up = TestUpstream::start("app").await;
    let web = free_port();
    let config = format!(
        "[entryPoints.web]\naddress = \"127.0.0.1:{web}\"\n\
         [entryPoints.web.proxyProtocol]\ntrustedIPs = [\"127.0.0.1/32\"]\n\
         [entryPoints.web.transport.respondingTimeouts]\nheaderTimeout = \"1s\"\n{}",
        route_all_to(&up.url())
    );
    let _gw = TestGateway::start(&config, &[web]).await;
    let (answer, took) = raw(web, b"PROXY TCP4 203.0.113.9", Duration::from_secs(5)).await;
    assert_eq!(answer, "");
    assert!(
        took < Duration::from_secs(3),
        "closed after {took:?}, not at the 1 s head deadline"
    );
}

#[test]
fn a_section_that_trusts_nobody_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("pylon.toml");
    let config = format!(
        "[entryPoints.web]\naddress = \"127.0.0.1:{}\"\n[entryPoints.web.proxyProtocol]\n\
         [entryPoints.other]\naddress = \"127.0.0.1:{}\"\n[entryPoints.other.proxyProtocol]\ntrustedIPs = [\"not-an-ip\"]\n",
        free_port(),
        free_port()
    );
    std::fs::write(&path, config).unwrap();
    let (code, out) = common::gateway::run_pylon(&["check", "--config", path.to_str().unwrap()]);
    assert_ne!(code, 0, "{out}");
    assert!(
        out.contains("entryPoints.web.proxyProtocol.trustedIPs"),
        "{out}"
    );
    assert!(
        out.contains("entryPoints.other.proxyProtocol.trustedIPs[0]"),
        "{out}"
    );
}
