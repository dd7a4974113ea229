//! Hardening, point 1 over HTTP/2 (RFC 9113 8.1.1, 8.2, 8.3): malformed requests sent as raw
//! frames over TLS (ALPN h2) to a real pylon — bad pseudo-headers, connection-specific fields,
//! `:authority` differing from `Host`, CR/LF/NUL in names and values, a body that disagrees with
//! `content-length` — are refused (stream reset, GOAWAY or 400) and never reach the upstream, a
//! raw socket that records every byte pylon sends it. A control proves the same frames without
//! the fault pass.

mod common;

use common::h2::{block, connect, frame, FrameReader, DATA, END_HEADERS, END_STREAM, GOAWAY};
use common::raw_upstream::{RawMode, RawUpstream};
use common::{eventually, free_port, route_all_to, TestGateway};
use std::io::{Read, Write};
use std::time::{Duration, Instant};

const HEADERS: u8 = 0x1;
const RST_STREAM: u8 = 0x3;

/// The request hidden in a body; the upstream must never see its path.
const SMUGGLED: &str = "GET /smuggled HTTP/1.1\r\nHost: a\r\n\r\n";

/// How pylon answered stream 1.
#[derive(Debug, PartialEq, Eq)]
enum Verdict {
    /// RST_STREAM on stream 1, with its error code.
    Reset(u32),
    /// GOAWAY, with its error code.
    GoAway(u32),
    /// A response head: the status when the block starts with an indexed static-table status
    /// (200, 204, 206, 304, 400, 404, 500; how h2 sends them), else 0.
    Status(u16),
    /// The connection closed.
    Closed,
    /// Nothing within 5 s.
    Silence,
}

impl Verdict {
    fn refused(&self) -> bool {
        matches!(
            self,
            Verdict::Reset(_) | Verdict::GoAway(_) | Verdict::Status(400) | Verdict::Closed
        )
    }
}

/// The static table's `:status` entries (RFC 7541 appendix A, indices 8 to 14).
fn indexed_status(first: u8) -> u16 {
    match first {
        0x88 => 200,
        0x89 => 204,
        0x8a => 206,
        0x8b => 304,
        0x8c => 400,
        0x8d => 404,
        0x8e => 500,
        _ => 0,
    }
}

/// Sends `frames` on a fresh h2 connection and waits for the answer on stream 1.
fn exchange(port: u16, frames: &[u8]) -> Verdict {
    let mut tls = connect(port, None);
    if tls.write_all(frames).is_err() {
        return Verdict::Closed;
    }
    let mut reader = FrameReader::default();
    let mut buf = vec![0u8; 1 << 16];
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline {
        let n = match tls.read(&mut buf) {
            Ok(0) => return Verdict::Closed,
            Ok(n) => n,
            Err(e)
                if e.kind() == std::io::ErrorKind::WouldBlock
                    || e.kind() == std::io::ErrorKind::TimedOut =>
            {
                continue
            }
            Err(_) => return Verdict::Closed,
        };
        for f in reader.push(&buf[..n]) {
            let code = |p: &[u8], at: usize| {
                p.get(at..at + 4)
                    .map_or(0, |c| u32::from_be_bytes([c[0], c[1], c[2], c[3]]))
            };
            match f.kind {
                RST_STREAM if f.stream == 1 => return Verdict::Reset(code(&f.payload, 0)),
                GOAWAY => return Verdict::GoAway(code(&f.payload, 4)),
                HEADERS if f.stream == 1 => {
                    return Verdict::Status(f.payload.first().map_or(0, |b| indexed_status(*b)))
                }
                _ => {}
            }
        }
    }
    Verdict::Silence
}

/// A pylon terminating TLS (its self-signed default certificate) in front of a raw upstream.
async fn pylon(up: &RawUpstream) -> (TestGateway, u16) {
    let port = free_port();
    let cfg = format!(
        "[entryPoints.websecure]\naddress = \"127.0.0.1:{port}\"\n\
         [entryPoints.websecure.http.tls]\n\n{}",
        route_all_to(&up.url())
    );
    (TestGateway::start(&cfg, &[port]).await, port)
}

/// A GET's fields, in order.
const GET: &[(&[u8], &[u8])] = &[
    (b":method", b"GET"),
    (b":scheme", b"https"),
    (b":path", b"/h2"),
    (b":authority", b"a.test"),
];

/// A POST's fields with `content-length: <cl>`.
fn post(cl: &'static [u8]) -> Vec<(&'static [u8], &'static [u8])> {
    vec![
        (b":method", b"POST"),
        (b":scheme", b"https"),
        (b":path", b"/h2"),
        (b":authority", b"a.test"),
        (b"content-length", cl),
    ]
}

/// GET's fields with `extra` appended.
fn get_with(extra: &[(&'static [u8], &'static [u8])]) -> Vec<(&'static [u8], &'static [u8])> {
    GET.iter().chain(extra).copied().collect()
}

/// HEADERS (END_STREAM) on stream 1 with `fields`.
fn request(fields: &[(&[u8], &[u8])]) -> Vec<u8> {
    frame(HEADERS, END_HEADERS | END_STREAM, 1, &block(fields))
}

/// HEADERS on stream 1 with `fields`, then one DATA (END_STREAM) with `body`.
fn request_with_body(fields: &[(&[u8], &[u8])], body: &[u8]) -> Vec<u8> {
    let mut f = frame(HEADERS, END_HEADERS, 1, &block(fields));
    f.extend(frame(DATA, END_STREAM, 1, body));
    f
}

/// Sends `frames` to a fresh pylon: it must refuse them, and the upstream must see nothing of
/// the request (`head_may_pass`: a body fault is only seen after the head went upstream; then
/// the upstream must still never get a byte past the announced length).
async fn assert_refused(name: &str, frames: Vec<u8>, head_may_pass: bool) {
    let up = RawUpstream::start(RawMode::Ok).await;
    let (_gw, port) = pylon(&up).await;
    let verdict = tokio::task::spawn_blocking(move || exchange(port, &frames))
        .await
        .expect("client");
    assert!(
        verdict.refused(),
        "{name}: expected a reset, GOAWAY or 400, got {verdict:?}"
    );
    // whatever pylon had sent upstream has arrived by now
    tokio::time::sleep(Duration::from_millis(200)).await;
    let seen = up.received_text();
    assert!(
        !seen.contains("/smuggled"),
        "{name}: smuggled request reached the upstream: {seen:?}"
    );
    if !head_may_pass {
        assert!(
            seen.is_empty(),
            "{name}: refused request reached the upstream ({verdict:?}): {seen:?}"
        );
    }
    eprintln!("{name}: {verdict:?}, upstream saw {} bytes", seen.len());
    if !seen.is_empty() {
        // The upstream connection holding a cut body must not be reused: the next request's
        // bytes would be read as the rest of that body.
        let before = up.connections();
        let next = request(&get_with(&[]));
        let verdict = tokio::task::spawn_blocking(move || exchange(port, &next))
            .await
            .expect("client");
        assert_eq!(verdict, Verdict::Status(200), "{name}: the next request");
        assert_eq!(
            up.connections(),
            before + 1,
            "{name}: the next request reused the connection with the cut body"
        );
    }
}

macro_rules! refused {
    ($($test:ident: $frames:expr, $head_may_pass:expr;)*) => {$(
        #[tokio::test]
        async fn $test() {
            assert_refused(stringify!($test), $frames, $head_may_pass).await;
        }
    )*};
}

refused! {
    // pseudo-headers (RFC 9113 8.3)
    h2_unknown_pseudo_header: request(&get_with(&[(b":foo", b"bar")])), false;
    h2_response_pseudo_header_in_a_request: request(&get_with(&[(b":status", b"200")])), false;
    h2_pseudo_header_after_a_regular_field: request(&[
        (b":method", b"GET"), (b":scheme", b"https"), (b"x-a", b"b"),
        (b":path", b"/h2"), (b":authority", b"a.test"),
    ]), false;
    h2_duplicate_method: request(&[
        (b":method", b"GET"), (b":method", b"POST"), (b":scheme", b"https"),
        (b":path", b"/h2"), (b":authority", b"a.test"),
    ]), false;
    h2_duplicate_path: request(&get_with(&[(b":path", b"/admin")])), false;
    h2_missing_method: request(&GET[1..]), false;
    h2_missing_path: request(&[(b":method", b"GET"), (b":scheme", b"https"), (b":authority", b"a.test")]), false;
    h2_empty_path: request(&[
        (b":method", b"GET"), (b":scheme", b"https"), (b":path", b""), (b":authority", b"a.test"),
    ]), false;
    // connection-specific fields (8.2.2)
    h2_connection_field: request(&get_with(&[(b"connection", b"keep-alive")])), false;
    h2_transfer_encoding_field: request_with_body(
        &[(b":method", b"POST"), (b":scheme", b"https"), (b":path", b"/h2"),
          (b":authority", b"a.test"), (b"transfer-encoding", b"chunked")],
        format!("0\r\n\r\n{SMUGGLED}").as_bytes(),
    ), false;
    h2_upgrade_field: request(&get_with(&[(b"upgrade", b"websocket")])), false;
    h2_te_other_than_trailers: request(&get_with(&[(b"te", b"gzip")])), false;
    h2_upper_case_field_name: request(&get_with(&[(b"X-Upper", b"a")])), false;
    // :authority and Host (8.3.1: a Host that names another entity is malformed)
    h2_authority_differs_from_host: request(&get_with(&[(b"host", b"other.test")])), false;
    // CR, LF, NUL in names and values (8.2.1): an HTTP/1 upstream would read new lines
    h2_cr_in_a_value: request(&get_with(&[(b"x-a", b"b\rc")])), false;
    h2_lf_in_a_value: request(&get_with(&[(b"x-a", b"b\nc")])), false;
    h2_crlf_in_a_value: request(&get_with(&[(b"x-a", b"b\r\nTransfer-Encoding: chunked")])), false;
    h2_nul_in_a_value: request(&get_with(&[(b"x-a", b"b\0c")])), false;
    h2_crlf_in_a_name: request(&get_with(&[(b"x-a\r\nx-b", b"c")])), false;
    h2_colon_in_a_name: request(&get_with(&[(b"x-a:x-b", b"c")])), false;
    h2_crlf_in_the_path: request(&[
        (b":method", b"GET"), (b":scheme", b"https"),
        (b":path", b"/h2 HTTP/1.1\r\nHost: a\r\n\r\nGET /smuggled"), (b":authority", b"a.test"),
    ]), false;
    h2_space_in_the_path: request(&[
        (b":method", b"GET"), (b":scheme", b"https"),
        (b":path", b"/h2 HTTP/1.1"), (b":authority", b"a.test"),
    ]), false;
    h2_crlf_in_the_authority: request(&[
        (b":method", b"GET"), (b":scheme", b"https"),
        (b":path", b"/h2"), (b":authority", b"a.test\r\nX-A: b"),
    ]), false;
    // content-length disagreeing with the DATA frames (8.1.1)
    h2_body_longer_than_content_length: request_with_body(
        &post(b"5"), format!("hello{SMUGGLED}").as_bytes(),
    ), true;
    h2_body_shorter_than_content_length: request_with_body(&post(b"50"), b"hello"), true;
    h2_content_length_not_a_number: request_with_body(&post(b"5, 5"), b"hello"), false;
    h2_two_content_lengths: request_with_body(
        &[(b":method", b"POST"), (b":scheme", b"https"), (b":path", b"/h2"),
          (b":authority", b"a.test"), (b"content-length", b"5"), (b"content-length", b"40")],
        b"hello",
    ), false;
}

/// The control: the same helpers with nothing wrong — a GET whose Host equals `:authority`
/// and a POST whose body matches its content-length — are answered 200 and reach the upstream.
#[tokio::test]
async fn h2_well_formed_requests_pass() {
    for (name, frames, wanted) in [
        (
            "get",
            request(&get_with(&[(b"host", b"a.test"), (b"x-a", b"b")])),
            "GET /h2 HTTP/1.1",
        ),
        (
            "post",
            request_with_body(&post(b"5"), b"hello"),
            "POST /h2 HTTP/1.1",
        ),
    ] {
        let up = RawUpstream::start(RawMode::Ok).await;
        let (_gw, port) = pylon(&up).await;
        let verdict = tokio::task::spawn_blocking(move || exchange(port, &frames))
            .await
            .expect("client");
        assert_eq!(verdict, Verdict::Status(200), "{name}");
        let ending = if name == "post" {
            "\r\n\r\nhello"
        } else {
            "\r\n\r\n"
        };
        let whole = eventually(Duration::from_secs(5), || async {
            let seen = up.received_text();
            seen.ends_with(ending).then_some(seen)
        })
        .await;
        let seen = whole.unwrap_or_else(|| up.received_text());
        assert!(
            seen.starts_with(wanted) && seen.ends_with(ending),
            "{name}: {seen:?}"
        );
    }
}
