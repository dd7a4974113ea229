//! HTTP/2 abuse over TLS (raw frames written by the test): Rapid Reset (CVE-2023-44487),
//! MadeYouReset (CVE-2025-8671), CONTINUATION flood and the concurrent-stream limit. Each attack
//! ends in a GOAWAY, a closed connection or bounded work, while legitimate HTTP/2 traffic on
//! another connection keeps succeeding and pylon's memory grows by less than 50 MiB.

mod common;

use common::h2::{frame, frames, Frame, FrameReader};

use common::{free_port, TestGateway, TestUpstream};
use openssl::ssl::{SslConnector, SslMethod, SslStream, SslVerifyMode};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const DATA: u8 = 0x0;
const HEADERS: u8 = 0x1;
const RST_STREAM: u8 = 0x3;
const SETTINGS: u8 = 0x4;
const GOAWAY: u8 = 0x7;
const WINDOW_UPDATE: u8 = 0x8;
const CONTINUATION: u8 = 0x9;
const END_STREAM: u8 = 0x1;
const END_HEADERS: u8 = 0x4;
/// h2's default cap on streams a server resets itself before it ends the connection.
const MADE_YOU_RESET_LIMIT: usize = 1024;

/// HPACK for `GET https://127.0.0.1/` from the static table, no dynamic-table use.
fn get_headers() -> Vec<u8> {
    let mut block = vec![0x82, 0x87, 0x84, 0x01, 9];
    block.extend_from_slice(b"127.0.0.1");
    block
}

/// A TLS connection speaking HTTP/2 (ALPN h2), preface and empty SETTINGS sent.
fn h2_connection(port: u16) -> SslStream<TcpStream> {
    let mut builder = SslConnector::builder(SslMethod::tls_client()).expect("tls");
    builder.set_verify(SslVerifyMode::NONE);
    builder.set_alpn_protos(b"\x02h2").expect("alpn");
    let connector = builder.build();
    let tcp = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    tcp.set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    let mut tls = connector
        .configure()
        .expect("configure")
        .verify_hostname(false)
        .connect("localhost", tcp)
        .expect("TLS handshake");
    assert_eq!(
        tls.ssl().selected_alpn_protocol(),
        Some(&b"h2"[..]),
        "h2 negotiated"
    );
    tls.write_all(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")
        .expect("preface");
    tls.write_all(&frame(SETTINGS, 0, 0, &[]))
        .expect("settings");
    tls
}

/// What the attack connection ended with.
#[derive(Debug)]
struct Outcome {
    frames_sent: usize,
    goaway: bool,
    /// The GOAWAY's error code (0xb: ENHANCE_YOUR_CALM, 0x1: PROTOCOL_ERROR, ...).
    goaway_code: Option<u32>,
    closed: bool,
    /// RST_STREAM frames the server sent (the work MadeYouReset makes it do).
    resets: usize,
}

impl Outcome {
    /// Takes note of the server's frames.
    fn saw(&mut self, frames: Vec<Frame>) {
        for f in frames {
            match f.kind {
                RST_STREAM => self.resets += 1,
                GOAWAY if f.payload.len() >= 8 => {
                    self.goaway = true;
                    let p = &f.payload;
                    self.goaway_code = Some(u32::from_be_bytes([p[4], p[5], p[6], p[7]]));
                }
                _ => {}
            }
        }
    }
}

/// Writes `frames` (lazily built) until the peer stops taking them; reads whatever comes back on
/// the same thread between batches (the socket has a read timeout) to notice GOAWAY or EOF.
fn attack(port: u16, total: usize, mut next: impl FnMut(usize) -> Vec<u8>) -> Outcome {
    let mut tls = h2_connection(port);
    tls.get_ref().set_nonblocking(false).expect("blocking");
    let mut out = Outcome {
        frames_sent: 0,
        goaway: false,
        goaway_code: None,
        closed: false,
        resets: 0,
    };
    let mut reader = FrameReader::default();
    let mut buf = vec![0u8; 1 << 16];
    let mut pending = Vec::new();
    for i in 0..total {
        pending.extend(next(i));
        if pending.len() < 16 * 1024 && i + 1 < total {
            continue;
        }
        if tls.write_all(&pending).is_err() {
            out.closed = true;
            break;
        }
        pending.clear();
        out.frames_sent = i + 1;
        // Drain what the server sent so far without blocking long.
        tls.get_ref()
            .set_read_timeout(Some(Duration::from_millis(1)))
            .expect("timeout");
        loop {
            match tls.read(&mut buf) {
                Ok(0) => {
                    out.closed = true;
                    break;
                }
                Ok(n) => out.saw(reader.push(&buf[..n])),
                Err(_) => break,
            }
        }
        if out.closed || out.goaway {
            break;
        }
    }
    // After the attack: does the connection end within a few seconds?
    tls.get_ref()
        .set_read_timeout(Some(Duration::from_millis(500)))
        .expect("timeout");
    let deadline = Instant::now() + Duration::from_secs(5);
    while !out.closed && Instant::now() < deadline {
        match tls.read(&mut buf) {
            Ok(0) => out.closed = true,
            Ok(n) => out.saw(reader.push(&buf[..n])),
            Err(e)
                if e.kind() == std::io::ErrorKind::WouldBlock
                    || e.kind() == std::io::ErrorKind::TimedOut =>
            {
                if out.goaway {
                    break;
                }
            }
            Err(_) => out.closed = true,
        }
    }
    out
}

fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.split_whitespace().next())
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

/// Legitimate HTTP/2 requests on their own connection until `stop`; failures counted.
async fn legit(port: u16, stop: Arc<AtomicBool>, ok: Arc<AtomicU64>, failed: Arc<AtomicU64>) {
    let client = reqwest::Client::builder()
        .danger_accept_invalid_certs(true)
        .http2_prior_knowledge()
        .timeout(Duration::from_secs(10))
        .build()
        .expect("client");
    while !stop.load(Ordering::Relaxed) {
        match client
            .get(format!("https://127.0.0.1:{port}/legit"))
            .send()
            .await
        {
            Ok(r) if r.status() == 200 && r.version() == reqwest::Version::HTTP_2 => {
                ok.fetch_add(1, Ordering::Relaxed);
            }
            other => {
                eprintln!("legitimate request failed: {other:?}");
                failed.fetch_add(1, Ordering::Relaxed);
            }
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Runs `attack` against a fresh pylon while legitimate traffic flows; checks the outcome with
/// `judge`, and that legitimate traffic and memory stayed fine.
async fn under_attack(
    name: &str,
    run: impl FnOnce(u16) -> Outcome + Send + 'static,
    judge: impl Fn(&Outcome, usize) -> bool,
) {
    let upstream = TestUpstream::start("up").await;
    let port = free_port();
    let config = format!(
        "[entryPoints.websecure]\naddress = \"127.0.0.1:{port}\"\n[entryPoints.websecure.http.tls]\n\n{}",
        common::route_all_to(&upstream.url())
    );
    let gw = TestGateway::start(&config, &[port]).await;
    let before = rss_kib(gw.pid());
    let stop = Arc::new(AtomicBool::new(false));
    let (ok, failed) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
    let traffic = tokio::spawn(legit(port, stop.clone(), ok.clone(), failed.clone()));
    tokio::time::sleep(Duration::from_millis(200)).await;
    let started = Instant::now();
    let outcome = tokio::task::spawn_blocking(move || run(port))
        .await
        .expect("attack");
    let took = started.elapsed();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let peak = rss_kib(gw.pid());
    stop.store(true, Ordering::Relaxed);
    traffic.await.expect("legit traffic");
    let upstream_requests = upstream
        .requests()
        .iter()
        .filter(|r| r.target != "/legit")
        .count();
    eprintln!(
        "{name}: {outcome:?} in {took:?}; upstream saw {upstream_requests} attack requests; RSS {before} -> {peak} KiB; legit ok {} failed {}",
        ok.load(Ordering::Relaxed),
        failed.load(Ordering::Relaxed)
    );
    assert!(
        judge(&outcome, upstream_requests),
        "{name}: not stopped or bounded: {outcome:?}, upstream saw {upstream_requests}"
    );
    assert_eq!(
        failed.load(Ordering::Relaxed),
        0,
        "{name}: legitimate traffic failed"
    );
    assert!(
        ok.load(Ordering::Relaxed) > 0,
        "{name}: legitimate traffic flowed"
    );
    assert!(
        peak.saturating_sub(before) < 50 * 1024,
        "{name}: RSS grew {before} -> {peak} KiB"
    );
    assert!(
        took < Duration::from_secs(30),
        "{name}: the attack ran {took:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rapid_reset_is_cut_off() {
    // 10,000 streams opened and reset at once.
    under_attack(
        "rapid reset",
        |port| {
            attack(port, 10_000, |i| {
                let id = 2 * i as u32 + 1;
                let mut f = frame(HEADERS, END_HEADERS | END_STREAM, id, &get_headers());
                f.extend(frame(RST_STREAM, 0, id, &8u32.to_be_bytes()));
                f
            })
        },
        |o, upstream| o.goaway_code == Some(0xb) || (o.closed && upstream < 1_000),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn made_you_reset_is_cut_off() {
    // Streams the server itself must reset: a WINDOW_UPDATE that takes an open stream's send
    // window past 2^31-1 is a stream error (RFC 9113 6.9.1), so the server sends RST_STREAM
    // FLOW_CONTROL_ERROR, and CVE-2025-8671 makes that reset work without limit. (A WINDOW_UPDATE
    // of 0 would not do: h2 takes it as a connection error and ends at the first one.) The
    // defence, h2's limit of 1,024 locally reset streams per connection, answers with GOAWAY
    // ENHANCE_YOUR_CALM; without it the server resets every one of the 10,000 streams.
    under_attack(
        "made you reset",
        |port| {
            attack(port, 10_000, |i| {
                let id = 2 * i as u32 + 1;
                let mut f = frame(HEADERS, END_HEADERS, id, &get_headers());
                f.extend(frame(WINDOW_UPDATE, 0, id, &0x7fff_ffffu32.to_be_bytes()));
                f
            })
        },
        |o, _| o.goaway_code == Some(0xb) && (100..=MADE_YOU_RESET_LIMIT + 64).contains(&o.resets),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn continuation_flood_is_cut_off() {
    // One HEADERS without END_HEADERS, then endless CONTINUATION frames (16 KiB each, 160 MiB in
    // all): the server must stop it (header list limit) instead of buffering it.
    under_attack(
        "continuation flood",
        |port| {
            attack(port, 10_000, |i| {
                if i == 0 {
                    frame(HEADERS, 0, 1, &get_headers())
                } else {
                    let mut junk = Vec::with_capacity(16 * 1024);
                    while junk.len() + 20 < 16 * 1024 {
                        // literal header field without indexing, new name "x-a", value 14 bytes
                        junk.extend_from_slice(&[0x00, 3, b'x', b'-', b'a', 14]);
                        junk.extend_from_slice(b"aaaaaaaaaaaaaa");
                    }
                    frame(CONTINUATION, 0, 1, &junk)
                }
            })
        },
        |o, _| (o.goaway || o.closed) && o.frames_sent < 10_000,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn streams_beyond_the_limit_are_refused() {
    // 1,000 open streams (no END_STREAM, so none completes) against the default limit of 100.
    under_attack(
        "concurrent streams",
        |port| {
            attack(port, 1_000, |i| {
                let id = 2 * i as u32 + 1;
                let mut f = frame(HEADERS, END_HEADERS, id, &get_headers());
                f.extend(frame(DATA, 0, id, b"x"));
                f
            })
        },
        // At most 100 at a time: streams beyond are refused, and the flood ends the connection.
        |o, upstream| (o.goaway || o.closed) && upstream <= 200,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_raw_frame_client_makes_valid_requests() {
    // The control for the attacks above: the same frames without the abuse get answers, so a
    // GOAWAY in the attacks is the server defending itself, not a malformed test.
    let upstream = TestUpstream::start("up").await;
    let port = free_port();
    let config = format!(
        "[entryPoints.websecure]\naddress = \"127.0.0.1:{port}\"\n[entryPoints.websecure.http.tls]\n\n{}",
        common::route_all_to(&upstream.url())
    );
    let _gw = TestGateway::start(&config, &[port]).await;
    let answered = tokio::task::spawn_blocking(move || {
        let mut tls = h2_connection(port);
        for id in [1u32, 3, 5] {
            tls.write_all(&frame(
                HEADERS,
                END_HEADERS | END_STREAM,
                id,
                &get_headers(),
            ))
            .expect("write");
        }
        let mut seen = Vec::new();
        let mut buf = vec![0u8; 1 << 16];
        let deadline = Instant::now() + Duration::from_secs(5);
        while seen.len() < 3 && Instant::now() < deadline {
            let Ok(n) = tls.read(&mut buf) else { break };
            for (kind, stream, _) in frames(&buf[..n]) {
                assert_ne!(kind, GOAWAY, "the server refused valid frames");
                if kind == HEADERS {
                    seen.push(stream);
                }
            }
        }
        seen
    })
    .await
    .expect("client");
    assert_eq!(
        answered.len(),
        3,
        "responses on streams 1, 3, 5: {answered:?}"
    );
    assert_eq!(upstream.requests().len(), 3);
}
