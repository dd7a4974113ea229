//! Hardening, point 1: request smuggling and parsing (RFC 9112) through a real pylon, with a
//! raw-socket upstream that records every byte it receives. Each ambiguous or malformed request
//! is answered 400/501 (or the connection closed) and the smuggled second request never reaches
//! the upstream.

mod common;

use common::raw_upstream::{RawMode, RawUpstream};
use common::{free_port, raw_request, route_all_to, TestGateway};

/// The request hidden in each attack; the upstream must never see its path.
const SMUGGLED: &str = "GET /smuggled HTTP/1.1\r\nHost: a\r\n\r\n";

async fn pylon(up: &RawUpstream, extra: &str) -> (TestGateway, u16) {
    let port = free_port();
    let cfg = format!(
        "[entryPoints.web]\naddress = \"127.0.0.1:{port}\"\n{extra}\n{}",
        route_all_to(&up.url())
    );
    (TestGateway::start(&cfg, &[port]).await, port)
}

/// Sends `raw` (the attack followed by `SMUGGLED`) and checks that pylon refused it: the answer
/// is 400/501 or nothing, no second response, and the upstream saw none of it (`head_may_pass`:
/// the head may have gone upstream before the body turned out bad, but never the smuggled part).
async fn assert_refused(name: &str, raw: &str, head_may_pass: bool) {
    let up = RawUpstream::start(RawMode::Ok).await;
    let (_gw, port) = pylon(&up, "").await;
    let answer = raw_request(port, format!("{raw}{SMUGGLED}").as_bytes()).await;
    let first = answer.lines().next().unwrap_or("");
    assert!(
        first.is_empty() || first.starts_with("HTTP/1.1 400") || first.starts_with("HTTP/1.1 501"),
        "{name}: expected 400/501 or a closed connection, got {answer:?}"
    );
    assert_eq!(
        answer.matches("HTTP/1.1 ").count(),
        usize::from(!first.is_empty()),
        "{name}: more than one response: {answer:?}"
    );
    let seen = up.received_text();
    assert!(
        !seen.contains("/smuggled"),
        "{name}: smuggled request reached the upstream: {seen:?}"
    );
    if !head_may_pass {
        assert!(
            seen.is_empty(),
            "{name}: refused request reached the upstream: {seen:?}"
        );
    }
}

macro_rules! refused {
    ($($test:ident: $raw:expr, $head_may_pass:expr;)*) => {$(
        #[tokio::test]
        async fn $test() {
            assert_refused(stringify!($test), $raw, $head_may_pass).await;
        }
    )*};
}

refused! {
    cl_and_te_together: "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", false;
    te_and_cl_together: "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 40\r\n\r\n0\r\n\r\n", false;
    content_length_plus: "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: +5\r\n\r\nhello", false;
    content_length_hex: "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0x5\r\n\r\nhello", false;
    content_length_empty: "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: \r\n\r\nhello", false;
    content_length_negative: "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: -5\r\n\r\nhello", false;
    content_length_two_values: "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 40\r\n\r\nhello", false;
    content_length_list_differs: "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5, 40\r\n\r\nhello", false;
    content_length_list_same: "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5, 5\r\n\r\nhello", false;
    content_length_repeated_same: "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\nhello", false;
    te_chunked_chunked: "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, chunked\r\n\r\n0\r\n\r\n", false;
    te_gzip: "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n0\r\n\r\n", false;
    te_chunked_then_gzip: "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, gzip\r\n\r\n0\r\n\r\n", false;
    te_two_header_lines: "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\n\r\n0\r\n\r\n", false;
    te_with_http10: "POST / HTTP/1.0\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", false;
    te_obfuscated_value: "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: xchunked\r\n\r\n0\r\n\r\n", false;
    obs_fold: "GET / HTTP/1.1\r\nHost: a\r\nX-A: b\r\n c\r\n\r\n", false;
    obs_fold_transfer_encoding: "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding:\r\n chunked\r\n\r\n0\r\n\r\n", false;
    space_before_colon: "POST / HTTP/1.1\r\nHost: a\r\nContent-Length : 5\r\n\r\nhello", false;
    tab_before_colon: "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding\t: chunked\r\n\r\n0\r\n\r\n", false;
    nul_in_header_value: "GET / HTTP/1.1\r\nHost: a\r\nX-A: b\0c\r\n\r\n", false;
    bare_cr_in_header_value: "GET / HTTP/1.1\r\nHost: a\r\nX-A: b\rc\r\n\r\n", false;
    bare_lf_line_endings: "GET / HTTP/1.1\nHost: a\n\n", false;
    bare_lf_inside_head: "GET / HTTP/1.1\r\nHost: a\nX-A: b\r\n\r\n", false;
    chunk_size_negative: "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n-1\r\nx\r\n0\r\n\r\n", true;
    chunk_size_0x_prefix: "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0x10\r\n0123456789abcdef\r\n0\r\n\r\n", true;
    chunk_size_huge: "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nfffffffffffffffffffff\r\nx\r\n0\r\n\r\n", true;
    chunk_size_not_hex: "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nx\r\n0\r\n\r\n", true;
    host_missing: "GET / HTTP/1.1\r\nX-A: b\r\n\r\n", false;
    host_duplicate: "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", false;
}

/// A well-formed chunked request, then a second request on the same connection: both answered
/// and both seen upstream with the body intact (so the cases above fail for the right reason).
#[tokio::test]
async fn well_formed_requests_on_one_connection_pass() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let up = RawUpstream::start(RawMode::Ok).await;
    let (_gw, port) = pylon(&up, "").await;
    let mut s = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .unwrap();
    let one = "POST /one HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n";
    s.write_all(one.as_bytes()).await.unwrap();
    let mut buf = [0u8; 4096];
    let n = tokio::time::timeout(std::time::Duration::from_secs(5), s.read(&mut buf))
        .await
        .unwrap()
        .unwrap();
    assert!(
        buf[..n].starts_with(b"HTTP/1.1 200"),
        "{:?}",
        String::from_utf8_lossy(&buf[..n])
    );
    s.write_all(b"GET /two HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut rest = Vec::new();
    tokio::time::timeout(std::time::Duration::from_secs(5), s.read_to_end(&mut rest))
        .await
        .unwrap()
        .unwrap();
    assert!(
        rest.starts_with(b"HTTP/1.1 200"),
        "{:?}",
        String::from_utf8_lossy(&rest)
    );
    let seen = up.received_text();
    assert!(
        seen.contains("POST /one") && seen.contains("GET /two"),
        "{seen:?}"
    );
    assert!(seen.contains("5\r\nhello\r\n0\r\n\r\n"), "{seen:?}");
}

/// Upgrade answered `200` (not `101`) by the upstream, client bytes pipelined after the upgrade
/// request (at once, and after the answer): none may reach the upstream (Pingora CVE-2026-2833).
#[tokio::test]
async fn upgrade_refused_by_upstream_passes_no_client_bytes() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let up = RawUpstream::start(RawMode::Ok).await;
    let (_gw, port) = pylon(&up, "").await;
    let upgrade = "GET /ws HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\
                   Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n";
    // pipelined in the same write
    let answer = raw_request(port, format!("{upgrade}{SMUGGLED}").as_bytes()).await;
    assert!(!answer.contains("101"), "{answer:?}");
    // sent once the upstream's 200 has come back
    let mut s = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .unwrap();
    s.write_all(upgrade.as_bytes()).await.unwrap();
    let mut buf = [0u8; 4096];
    let n = tokio::time::timeout(std::time::Duration::from_secs(5), s.read(&mut buf))
        .await
        .unwrap()
        .unwrap();
    assert!(
        buf[..n].starts_with(b"HTTP/1.1 200"),
        "{:?}",
        String::from_utf8_lossy(&buf[..n])
    );
    let _ = s.write_all(SMUGGLED.as_bytes()).await;
    let _ = s.write_all(b"raw tunnel bytes").await;
    let _ = tokio::time::timeout(std::time::Duration::from_secs(2), s.read(&mut buf)).await;
    let seen = up.received_text();
    assert_eq!(seen.matches("GET /ws").count(), 2, "{seen:?}");
    assert!(
        !seen.contains("/smuggled") && !seen.contains("raw tunnel"),
        "{seen:?}"
    );
}

/// pylon routes `/smuggled` to the raw upstream without the middleware, so a request body
/// parsed as a request would show up there.
async fn early_reply_case(middleware: &str, warmup: bool) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let up = RawUpstream::start(RawMode::Ok).await;
    let port = free_port();
    let cfg = format!(
        "[entryPoints.web]\naddress = \"127.0.0.1:{port}\"\n\
         [http.routers.guarded]\nrule = \"PathPrefix(`/`)\"\nservice = \"s\"\nmiddlewares = [\"m\"]\n\
         [http.routers.open]\nrule = \"Path(`/smuggled`)\"\npriority = 1000\nservice = \"s\"\n\
         [http.middlewares.m]\n{middleware}\n\
         [http.services.s.loadBalancer]\nservers = [{{ url = \"{}\" }}]\n",
        up.url()
    );
    let _gw = TestGateway::start(&cfg, &[port]).await;
    if warmup {
        // use up the rate limit's single token
        let _ = raw_request(
            port,
            b"GET /warm HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
        )
        .await;
    }
    let head = format!(
        "POST /guarded HTTP/1.1\r\nHost: a\r\nContent-Length: {}\r\n\r\n",
        SMUGGLED.len()
    );
    // body at once, then body after the early reply
    let all = raw_request(port, format!("{head}{SMUGGLED}").as_bytes()).await;
    let mut s = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .unwrap();
    s.write_all(head.as_bytes()).await.unwrap();
    let mut first = vec![0u8; 4096];
    let n = tokio::time::timeout(std::time::Duration::from_secs(5), s.read(&mut first))
        .await
        .unwrap()
        .unwrap();
    first.truncate(n);
    let _ = s.write_all(SMUGGLED.as_bytes()).await;
    let mut rest = Vec::new();
    let _ = tokio::time::timeout(std::time::Duration::from_secs(3), s.read_to_end(&mut rest)).await;
    let late = format!(
        "{}{}",
        String::from_utf8_lossy(&first),
        String::from_utf8_lossy(&rest)
    );
    for answer in [&all, &late] {
        let code = answer.get(9..12).unwrap_or("");
        assert!(code == "401" || code == "429", "{answer:?}");
        assert_eq!(
            answer.matches("HTTP/1.1 ").count(),
            1,
            "body answered as a request: {answer:?}"
        );
    }
    let seen = up.received_text();
    assert!(!seen.contains("/smuggled"), "{seen:?}");
}

/// An early `401` (basicAuth) to a request whose body is unread: the body is never parsed as a
/// request (CVE-2025-4366 class).
#[tokio::test]
async fn early_401_never_parses_the_body_as_a_request() {
    early_reply_case(
        "basicAuth.users = [\"apr:$apr1$H6uskkkW$IgXLP6ewTrSuBkTrqE8wj/\"]",
        false,
    )
    .await;
}

/// The same with an early `429` (rateLimit).
#[tokio::test]
async fn early_429_never_parses_the_body_as_a_request() {
    early_reply_case(
        "rateLimit = { average = 1, period = \"1h\", burst = 1 }",
        true,
    )
    .await;
}
