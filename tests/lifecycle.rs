//! Shutdown: after SIGTERM `/ping` answers 503 on open connections, and pylon exits 0 after
//! the grace period.

mod common;

use common::{free_port, TestGateway};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

async fn get_ping(stream: &mut tokio::net::TcpStream) -> String {
    stream
        .write_all(b"GET /ping HTTP/1.1\r\nHost: a\r\n\r\n")
        .await
        .unwrap();
    let mut buf = vec![0u8; 1024];
    let n = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut buf))
        .await
        .expect("ping answer in time")
        .unwrap();
    String::from_utf8_lossy(&buf[..n]).into_owned()
}

#[tokio::test]
async fn sigterm_turns_ping_to_503_and_exits_zero_after_the_grace_period() {
    let port = free_port();
    let config = format!(
        "[entryPoints.web]\naddress = \"127.0.0.1:{port}\"\n[entryPoints.web.transport.lifeCycle]\ngraceTimeOut = \"2s\"\nrequestAcceptGraceTimeout = \"1s\"\n[ping]\nentryPoint = \"web\"\n"
    );
    let mut gw = TestGateway::start(&config, &[port]).await;
    let mut conn = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .unwrap();
    let first = get_ping(&mut conn).await;
    assert!(first.starts_with("HTTP/1.1 200"), "{first}");

    let started = Instant::now();
    let status = std::process::Command::new("kill")
        .args(["-TERM", &gw.pid().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    tokio::time::sleep(Duration::from_millis(300)).await;
    // within requestAcceptGraceTimeout: still accepting, but ping says "take me out"
    let during = get_ping(&mut conn).await;
    assert!(during.starts_with("HTTP/1.1 503"), "{during}");
    let mut fresh = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .unwrap();
    let fresh_ping = get_ping(&mut fresh).await;
    assert!(fresh_ping.starts_with("HTTP/1.1 503"), "{fresh_ping}");
    // after it: the listener is closed
    tokio::time::sleep(Duration::from_millis(1200)).await;
    assert!(tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .is_err());

    let code = gw
        .wait_exit(Duration::from_secs(10))
        .expect("pylon exits after SIGTERM");
    assert_eq!(code, Some(0));
    assert!(
        started.elapsed() >= Duration::from_secs(2),
        "in-flight work gets graceTimeOut"
    );
}

#[tokio::test]
async fn ping_answers_the_terminating_status_code_while_shutting_down() {
    let port = free_port();
    let config = format!(
        "[entryPoints.web]\naddress = \"127.0.0.1:{port}\"\n[entryPoints.web.transport.lifeCycle]\ngraceTimeOut = \"2s\"\nrequestAcceptGraceTimeout = \"1s\"\n[ping]\nentryPoint = \"web\"\nterminatingStatusCode = 204\n"
    );
    let gw = TestGateway::start(&config, &[port]).await;
    let mut conn = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .unwrap();
    let first = get_ping(&mut conn).await;
    assert!(first.starts_with("HTTP/1.1 200"), "{first}");
    let status = std::process::Command::new("kill")
        .args(["-TERM", &gw.pid().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    tokio::time::sleep(Duration::from_millis(300)).await;
    let during = get_ping(&mut conn).await;
    assert!(during.starts_with("HTTP/1.1 204"), "{during}");
}
