//! Request heads are bounded while they are read (issue 13 point 9): a head that outgrows
//! `maxHeaderBytes` (plus 8 KiB for the request line) is answered 431 and closed at once,
//! instead of Pingora buffering up to 1 MiB of it per connection until the head deadline.

mod common;

use common::{free_port, route_all_to, TestGateway, TestUpstream};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Opens a connection, sends the start of a head of `size` bytes that never ends, and returns
/// what pylon answers within `wait` (empty when it answers nothing).
async fn endless_head(port: u16, size: usize, wait: Duration) -> String {
    let stream = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .expect("connect to pylon");
    let (mut reader, mut writer) = stream.into_split();
    let writing = tokio::spawn(async move {
        let mut head = b"GET / HTTP/1.1\r\nHost: a\r\nX-Big: ".to_vec();
        head.resize(size, b'a');
        // pylon may stop reading and close: a failed write is expected then
        let _ = writer.write_all(&head).await;
        writer
    });
    let mut answer = Vec::new();
    let mut buf = [0u8; 4096];
    let deadline = Instant::now() + wait;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, reader.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) | Err(_) => break,
            Ok(Ok(n)) => answer.extend_from_slice(&buf[..n]),
        }
    }
    writing.abort();
    String::from_utf8_lossy(&answer).into_owned()
}

/// Peak resident memory of a process (VmHWM), in KiB.
fn peak_rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .expect("VmHWM in /proc/<pid>/status")
}

#[tokio::test]
async fn a_head_outgrowing_the_limit_is_answered_431_while_it_is_read() {
    let up = TestUpstream::start("app").await;
    let port = free_port();
    let _gw = TestGateway::start(&route_all_to_on(port, &up.url()), &[port]).await;
    // 200 KiB of head, never finished: was read whole and left waiting for the 10 s deadline
    let answer = endless_head(port, 200 * 1024, Duration::from_secs(3)).await;
    assert!(
        answer.starts_with("HTTP/1.1 431"),
        "no 431 within 3 s: {answer:?}"
    );
    // control: a large head within the limit still reaches the upstream
    let big = "b".repeat(20 * 1024);
    let r = common::client()
        .get(format!("http://127.0.0.1:{port}/"))
        .header("x-big", big)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}

#[tokio::test]
async fn unfinished_heads_do_not_hold_a_megabyte_each() {
    let up = TestUpstream::start("app").await;
    let port = free_port();
    let gw = TestGateway::start(&route_all_to_on(port, &up.url()), &[port]).await;
    let before = peak_rss_kib(gw.pid());
    // 100 clients each sending 1000 KiB of a head that never ends (under Pingora's 1 MiB)
    let clients = (0..100).map(|_| endless_head(port, 1000 * 1024, Duration::from_secs(4)));
    futures_util::future::join_all(clients).await;
    let grown = peak_rss_kib(gw.pid()).saturating_sub(before);
    println!("peak RSS grew by {grown} KiB for 100 unfinished 1000 KiB heads");
    assert!(
        grown < 40 * 1024,
        "peak RSS grew by {grown} KiB: heads are buffered past maxHeaderBytes"
    );
}

/// `route_all_to` on the entry point `127.0.0.1:port`.
fn route_all_to_on(port: u16, url: &str) -> String {
    format!(
        "[entryPoints.web]\naddress = \"127.0.0.1:{port}\"\n{}",
        route_all_to(url)
    )
}
