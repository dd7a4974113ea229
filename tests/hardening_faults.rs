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

/// What a client got for one request.
#[derive(Debug, PartialEq, Eq)]
enum Answer {
    /// The connection closed without a status line.
    Closed,
    /// A status, and whether the response was complete (its whole body, as framed, arrived).
    Status(u16, bool),
}

/// Reads one raw HTTP/1.1 answer. An unparsable start is a status of 0, which no case allows.
fn answer(raw: &[u8]) -> Answer {
    if raw.is_empty() {
        return Answer::Closed;
    }
    let text = String::from_utf8_lossy(raw);
    let code = text
        .strip_prefix("HTTP/1.1 ")
        .and_then(|rest| rest.get(..3))
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let Some((head, body)) = text.split_once("\r\n\r\n") else {
        return Answer::Status(code, false);
    };
    let header = |name: &str| {
        head.lines().find_map(|l| {
            let (n, v) = l.split_once(':')?;
            n.eq_ignore_ascii_case(name)
                .then(|| v.trim().to_ascii_lowercase())
        })
    };
    let complete = if let Some(len) = header("content-length") {
        len.parse::<usize>().is_ok_and(|n| body.len() >= n)
    } else if header("transfer-encoding").as_deref() == Some("chunked") {
        body.ends_with("0\r\n\r\n")
    } else {
        // delimited by the close: nothing tells a cut body from a whole one
        true
    };
    Answer::Status(code, complete)
}

/// Sends `rounds` requests on fresh connections; each must end (answer or close) within `bound`.
/// Returns every answer.
async fn hit(port: u16, rounds: usize, bound: Duration) -> Vec<Answer> {
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
        lines.push(answer(&out));
    }
    lines
}

/// Runs `mode` against a fresh pylon: every answer must be one of `allowed`, matched exactly.
async fn fault_case(mode: RawMode, allowed: &[Answer]) {
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
            allowed.contains(line),
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

use Answer::{Closed, Status};

#[tokio::test]
async fn upstream_reset_mid_response() {
    // the head was already relayed: the client sees a 200 whose body never completes, then EOF
    // (a complete 200 would pass the cut body off as whole)
    fault_case(
        RawMode::ResetMidResponse,
        &[Status(200, false), Status(502, true), Closed],
    )
    .await;
}

#[tokio::test]
async fn upstream_truncated_body() {
    fault_case(
        RawMode::Truncated,
        &[Status(200, false), Status(502, true), Closed],
    )
    .await;
}

#[tokio::test]
async fn upstream_garbage() {
    fault_case(RawMode::Garbage, &[Status(502, true), Closed]).await;
}

#[tokio::test]
async fn upstream_never_answers() {
    fault_case(RawMode::Silent, &[Status(504, true)]).await;
}
