//! Hardening, point 4: upstream faults. An upstream that resets mid-response, truncates its body,
//! answers garbage or never answers: the client gets 502/504 or a closed connection within the
//! configured timeouts, never a hang, and pylon's open file descriptors return to their baseline.

mod common;

use common::raw_upstream::{RawMode, RawUpstream};
use common::{eventually, free_port, TestGateway};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Open file descriptors of process `pid`.
fn open_fds(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd")).map_or(0, |d| d.count())
}

/// Sends `rounds` requests on fresh connections; each must end (answer or close) within `bound`.
/// Returns every answer's status line (empty: closed without a status).
async fn hit(port: u16, rounds: usize, bound: Duration) -> Vec<String> {
    let mut lines = Vec::new();
    for _ in 0..rounds {
        let start = Instant::now();
        let mut s = tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .unwrap();
        s.write_all(b"GET /f HTTP/1.1\r\nHost: a\r\n\r\n")
            .await
            .unwrap();
        let mut out = Vec::new();
        let read = tokio::time::timeout(bound, async {
            let mut buf = [0u8; 4096];
            loop {
                match s.read(&mut buf).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => out.extend_from_slice(&buf[..n]),
                }
            }
        })
        .await;
        assert!(
            read.is_ok(),
            "request hung for more than {bound:?}: {:?}",
            String::from_utf8_lossy(&out)
        );
        assert!(start.elapsed() <= bound);
        let text = String::from_utf8_lossy(&out).into_owned();
        lines.push(text.lines().next().unwrap_or("").to_string());
    }
    lines
}

async fn fault_case(mode: RawMode, allowed: &[&str]) {
    let up = RawUpstream::start(mode).await;
    let port = free_port();
    let cfg = format!(
        "[entryPoints.web]\naddress = \"127.0.0.1:{port}\"\n\
         [http.routers.r]\nrule = \"PathPrefix(`/`)\"\nservice = \"s\"\n\
         [http.services.s.loadBalancer]\nservers = [{{ url = \"{}\" }}]\nserversTransport = \"t\"\n\
         [http.serversTransports.t.forwardingTimeouts]\nresponseHeaderTimeout = \"1s\"\ndialTimeout = \"1s\"\n",
        up.url()
    );
    let gw = TestGateway::start(&cfg, &[port]).await;
    // warm the process up (thread pools, lazy statics) before taking the baseline
    let _ = hit(port, 2, Duration::from_secs(5)).await;
    let baseline = eventually(Duration::from_secs(5), || async {
        Some(open_fds(gw.pid()))
    })
    .await
    .unwrap_or(0);
    let lines = hit(port, 8, Duration::from_secs(5)).await;
    for line in &lines {
        assert!(
            allowed.iter().any(|a| line.starts_with(a)),
            "{mode:?}: unexpected answer {line:?} (allowed {allowed:?})"
        );
    }
    let back = eventually(Duration::from_secs(10), || async {
        (open_fds(gw.pid()) <= baseline).then_some(())
    })
    .await;
    assert!(
        back.is_some(),
        "{mode:?}: pylon holds {} fds, baseline {baseline}",
        open_fds(gw.pid())
    );
}

#[tokio::test]
async fn upstream_reset_mid_response() {
    // the head was already relayed: the client sees a 200 whose body never completes, then EOF
    fault_case(
        RawMode::ResetMidResponse,
        &["HTTP/1.1 200", "HTTP/1.1 502", ""],
    )
    .await;
}

#[tokio::test]
async fn upstream_truncated_body() {
    fault_case(RawMode::Truncated, &["HTTP/1.1 200", "HTTP/1.1 502", ""]).await;
}

#[tokio::test]
async fn upstream_garbage() {
    fault_case(RawMode::Garbage, &["HTTP/1.1 502", ""]).await;
}

#[tokio::test]
async fn upstream_never_answers() {
    fault_case(RawMode::Silent, &["HTTP/1.1 504"]).await;
}
