//! Graceful shutdown (issue 7, point 3): after SIGTERM an in-flight request finishes, an open
//! WebSocket keeps working for `graceTimeOut` and is then closed, pylon exits 0; SIGINT stops
//! at once. (`tests/lifecycle.rs` covers `/ping` turning 503 and the accept grace period.)

mod common;

use common::{client, free_port, route_all_to, TestGateway, TestUpstream, UpstreamOptions};
use futures_util::{SinkExt, StreamExt};
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::Message;

fn config(port: u16, grace: &str, upstream: &str) -> String {
    format!(
        "[entryPoints.web]\naddress = \"127.0.0.1:{port}\"\n\
         [entryPoints.web.transport.lifeCycle]\ngraceTimeOut = \"{grace}\"\n{}",
        route_all_to(upstream)
    )
}

fn signal(gw: &TestGateway, name: &str) {
    let status = std::process::Command::new("kill")
        .args([&format!("-{name}"), &gw.pid().to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
}

/// pylon on a free port in front of an upstream that answers after `delay`, with one request
/// already in flight (its outcome: the status, or the error).
async fn with_request_in_flight(
    delay: Duration,
    grace: &str,
) -> (
    TestGateway,
    TestUpstream,
    tokio::task::JoinHandle<reqwest::Result<u16>>,
) {
    let slow = TestUpstream::start_with(
        "slow",
        UpstreamOptions {
            delay: Some(delay),
            ..Default::default()
        },
    )
    .await;
    let port = free_port();
    let gw = TestGateway::start(&config(port, grace, &slow.url()), &[port]).await;
    let request = tokio::spawn(async move {
        client()
            .get(format!("http://127.0.0.1:{port}/work"))
            .send()
            .await
            .map(|r| r.status().as_u16())
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    (gw, slow, request)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_in_flight_request_finishes_after_sigterm_and_pylon_exits_zero() {
    let (mut gw, _slow, request) = with_request_in_flight(Duration::from_millis(1500), "5s").await;
    signal(&gw, "TERM");
    let status = request.await.unwrap();
    assert_eq!(status.ok(), Some(200), "the in-flight request completes");
    let code = gw.wait_exit(Duration::from_secs(15)).expect("pylon exits");
    assert_eq!(code, Some(0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_gateway_exits_within_a_second_of_sigterm() {
    let up = TestUpstream::start("app").await;
    let port = free_port();
    // the default graceTimeOut (10 s): an idle pylon must not wait it out
    let cfg = format!(
        "[entryPoints.web]\naddress = \"127.0.0.1:{port}\"\n{}",
        route_all_to(&up.url())
    );
    let mut gw = TestGateway::start(&cfg, &[port]).await;
    // one request served and its connection closed: nothing left in flight
    let r = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .build()
        .unwrap()
        .get(format!("http://127.0.0.1:{port}/"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    drop(r);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let sent = Instant::now();
    signal(&gw, "TERM");
    let code = gw.wait_exit(Duration::from_secs(15)).expect("pylon exits");
    let took = sent.elapsed();
    assert_eq!(code, Some(0));
    assert!(
        took < Duration::from_secs(1),
        "exited {took:?} after SIGTERM"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_in_flight_completes_and_pylon_exits_right_after_it() {
    let (mut gw, _slow, request) = with_request_in_flight(Duration::from_secs(3), "10s").await;
    let sent = Instant::now();
    signal(&gw, "TERM");
    let status = request.await.unwrap();
    assert_eq!(status.ok(), Some(200), "the in-flight request completes");
    let code = gw.wait_exit(Duration::from_secs(15)).expect("pylon exits");
    let took = sent.elapsed();
    assert_eq!(code, Some(0));
    // the request took ~2.7 s more; the 10 s grace period is not waited out
    assert!(
        took < Duration::from_secs(6),
        "exited {took:?} after SIGTERM, with a 3 s request"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_open_websocket_gets_the_grace_period_then_is_closed() {
    let ws_up = TestUpstream::start("ws").await;
    let port = free_port();
    let grace = Duration::from_secs(2);
    let mut gw = TestGateway::start(&config(port, "2s", &ws_up.url()), &[port]).await;
    let (mut ws, _) = tokio_tungstenite::connect_async(format!("ws://127.0.0.1:{port}/ws"))
        .await
        .expect("WebSocket through pylon");
    ws.send(Message::Text("before".into())).await.unwrap();
    let echo = ws.next().await.unwrap().unwrap();
    assert_eq!(echo.into_text().unwrap().as_str(), "before");

    let term = Instant::now();
    signal(&gw, "TERM");
    tokio::time::sleep(Duration::from_millis(700)).await;
    ws.send(Message::Text("during".into())).await.unwrap();
    let echo = tokio::time::timeout(Duration::from_secs(2), ws.next())
        .await
        .expect("an echo during the grace period")
        .unwrap()
        .unwrap();
    assert_eq!(echo.into_text().unwrap().as_str(), "during");

    // After the grace period the socket is closed by pylon.
    let closed = tokio::time::timeout(grace + Duration::from_secs(5), async {
        loop {
            match ws.next().await {
                None | Some(Err(_)) | Some(Ok(Message::Close(_))) => return,
                Some(Ok(_)) => continue,
            }
        }
    })
    .await;
    assert!(
        closed.is_ok(),
        "the WebSocket was not closed after the grace period"
    );
    let elapsed = term.elapsed();
    assert!(
        elapsed >= grace - Duration::from_millis(200),
        "closed after {elapsed:?}, before graceTimeOut"
    );
    let code = gw.wait_exit(Duration::from_secs(10)).expect("pylon exits");
    assert_eq!(code, Some(0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigint_stops_at_once_even_with_work_in_flight() {
    let (mut gw, _slow, request) = with_request_in_flight(Duration::from_secs(8), "10s").await;
    let started = Instant::now();
    signal(&gw, "INT");
    let code = gw.wait_exit(Duration::from_secs(5));
    let took = started.elapsed();
    assert!(code.is_some(), "pylon still runs 5 s after SIGINT");
    assert!(took < Duration::from_secs(3), "SIGINT took {took:?}");
    let outcome = request.await.unwrap();
    assert!(
        outcome.is_err(),
        "the in-flight request cannot have completed: {outcome:?}"
    );
}

#[test]
fn the_default_grace_period_is_traefiks_ten_seconds() {
    let c = pylon::config::load_static_str("[entryPoints.web]\naddress = \":80\"\n", "t.toml")
        .expect("valid");
    assert_eq!(c.grace_timeout(), Duration::from_secs(10));
}
