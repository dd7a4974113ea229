//! Hardening, point 3: slow and greedy clients. A head trickled byte by byte is cut at
//! `headerTimeout`, a slow body at `readTimeout`, a client that never reads at `writeTimeout`;
//! idle keep-alive connections close after `idleTimeout`; `keepAliveMaxRequests`,
//! `keepAliveMaxTime` and `maxConnections` cap what one client holds; and 1,000 slow
//! connections leave a normal client's p99 latency within 2x of its baseline.

mod common;

use common::{free_port, route_all_to, TestGateway, TestUpstream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::{RwLock, RwLockReadGuard, RwLockWriteGuard};

/// The load test measures latencies, so it runs alone: the other tests hold this shared.
static EXCLUSIVE: RwLock<()> = RwLock::const_new(());

async fn shared() -> RwLockReadGuard<'static, ()> {
    EXCLUSIVE.read().await
}

async fn exclusive() -> RwLockWriteGuard<'static, ()> {
    EXCLUSIVE.write().await
}

/// Entry point `web` on `port` with `transport` (TOML lines under `[entryPoints.web.transport]`),
/// every request routed to `upstream`.
fn config(port: u16, upstream: &str, transport: &str) -> String {
    format!(
        "[entryPoints.web]\naddress = \"127.0.0.1:{port}\"\n[entryPoints.web.transport]\n{transport}\n{}",
        route_all_to(upstream)
    )
}

/// `[entryPoints.web.transport.respondingTimeouts]` with `lines`.
fn timeouts(lines: &str) -> String {
    format!("[entryPoints.web.transport.respondingTimeouts]\n{lines}\n")
}

async fn start(transport: &str) -> (TestGateway, TestUpstream, u16) {
    let up = TestUpstream::start("a").await;
    let port = free_port();
    let gw = TestGateway::start(&config(port, &up.url(), transport), &[port]).await;
    (gw, up, port)
}

async fn connect(port: u16) -> TcpStream {
    TcpStream::connect(("127.0.0.1", port))
        .await
        .expect("connect to pylon")
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn content_length(head: &str) -> usize {
    head.lines()
        .filter_map(|l| l.split_once(':'))
        .find(|(k, _)| k.trim().eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.trim().parse().ok())
        .unwrap_or(0)
}

/// Reads one response (head and Content-Length body); its head, lower-cased, or `None` when the
/// connection closed or `bound` passed first.
async fn read_response(s: &mut TcpStream, bound: Duration) -> Option<String> {
    let deadline = tokio::time::Instant::now() + bound;
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    loop {
        if let Some(end) = find(&buf, b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
            if buf.len() >= end + 4 + content_length(&head) {
                return Some(head);
            }
        }
        match tokio::time::timeout_at(deadline, s.read(&mut chunk)).await {
            Ok(Ok(n)) if n > 0 => buf.extend_from_slice(&chunk[..n]),
            _ => return None,
        }
    }
}

/// Sends a GET and reads its answer (lower-cased head).
async fn get(s: &mut TcpStream, path: &str) -> Option<String> {
    let req = format!("GET {path} HTTP/1.1\r\nHost: a\r\n\r\n");
    s.write_all(req.as_bytes()).await.ok()?;
    read_response(s, Duration::from_secs(5)).await
}

/// Reads (and drops) until the peer closes; how long that took from `since`, or `None` when the
/// connection is still open at `bound`. Also returns the bytes read.
async fn wait_closed<R: AsyncReadExt + Unpin>(
    r: &mut R,
    since: Instant,
    bound: Duration,
) -> (Option<Duration>, Vec<u8>) {
    let deadline = tokio::time::Instant::from_std(since + bound);
    let mut seen = Vec::new();
    let mut chunk = vec![0u8; 64 * 1024];
    loop {
        match tokio::time::timeout_at(deadline, r.read(&mut chunk)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return (Some(since.elapsed()), seen),
            Ok(Ok(n)) => {
                if seen.len() < 4096 {
                    seen.extend_from_slice(&chunk[..n.min(4096)]);
                }
            }
            Err(_) => return (None, seen),
        }
    }
}

/// Writes `bytes` one byte every 200 ms until done or the peer closes (abort the task to stop).
fn trickle(mut w: tokio::net::tcp::OwnedWriteHalf, bytes: Vec<u8>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        for b in bytes {
            if w.write_all(&[b]).await.is_err() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    })
}

fn assert_between(what: &str, took: Option<Duration>, low: Duration, high: Duration) {
    let took = took.unwrap_or_else(|| panic!("{what}: still open after {high:?}"));
    assert!(
        took >= low && took <= high,
        "{what}: closed after {took:?}, expected between {low:?} and {high:?}"
    );
}

#[tokio::test]
async fn slowloris_head_is_cut_at_the_header_deadline() {
    let _shared = shared().await;
    let (_gw, _up, port) = start(&timeouts("headerTimeout = \"1s\"")).await;
    // control: a head sent at once is served
    let mut normal = connect(port).await;
    let head = get(&mut normal, "/ok")
        .await
        .expect("a normal request is answered");
    assert!(head.starts_with("http/1.1 200"), "{head}");

    let start = Instant::now();
    let (mut r, w) = connect(port).await.into_split();
    let head =
        b"GET / HTTP/1.1\r\nHost: a\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n\r\n";
    let writer = trickle(w, head.to_vec());
    let (took, seen) = wait_closed(&mut r, start, Duration::from_secs(6)).await;
    writer.abort();
    assert_between(
        "slowloris",
        took,
        Duration::from_millis(900),
        Duration::from_secs(3),
    );
    assert!(
        !String::from_utf8_lossy(&seen).contains(" 200 "),
        "the slow head was served"
    );
}

#[tokio::test]
async fn slow_second_head_on_a_keep_alive_connection_is_cut() {
    let _shared = shared().await;
    let (_gw, _up, port) = start(&timeouts("headerTimeout = \"1s\"")).await;
    let mut s = connect(port).await;
    let head = get(&mut s, "/first").await.expect("first answer");
    assert!(head.contains("connection: keep-alive"), "{head}");
    // idle well past headerTimeout: only idleTimeout (180 s) applies before the first byte
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let start = Instant::now();
    let (mut r, w) = s.into_split();
    let head = b"GET /second HTTP/1.1\r\nHost: a\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaa\r\n\r\n";
    let writer = trickle(w, head.to_vec());
    let (took, seen) = wait_closed(&mut r, start, Duration::from_secs(6)).await;
    writer.abort();
    assert_between(
        "slow second head",
        took,
        Duration::from_millis(900),
        Duration::from_secs(3),
    );
    assert!(seen.is_empty(), "the slow second head was answered");
}

#[tokio::test]
async fn slow_upstream_is_not_cut_by_the_read_timeout() {
    let _shared = shared().await;
    let up = TestUpstream::start_with(
        "a",
        common::UpstreamOptions {
            delay: Some(Duration::from_millis(2500)),
            ..Default::default()
        },
    )
    .await;
    let port = free_port();
    let transport = timeouts("headerTimeout = \"1s\"\nreadTimeout = \"1s\"");
    let _gw = TestGateway::start(&config(port, &up.url(), &transport), &[port]).await;
    let mut s = connect(port).await;
    let head = get(&mut s, "/slow-upstream").await.expect("answer");
    assert!(head.starts_with("http/1.1 200"), "{head}");
    // a body read in time, then a slow upstream: also answered
    s.write_all(b"POST /p HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc")
        .await
        .unwrap();
    let head = read_response(&mut s, Duration::from_secs(5))
        .await
        .expect("answer to the POST");
    assert!(head.starts_with("http/1.1 200"), "{head}");
}

#[tokio::test]
async fn silent_connection_is_cut_at_the_header_deadline() {
    let _shared = shared().await;
    let (_gw, _up, port) = start(&timeouts("headerTimeout = \"1s\"")).await;
    let start = Instant::now();
    let mut s = connect(port).await;
    let (took, _) = wait_closed(&mut s, start, Duration::from_secs(6)).await;
    assert_between(
        "silent connection",
        took,
        Duration::from_millis(900),
        Duration::from_secs(3),
    );
}

/// TLS with ALPN `h2`, then nothing: how long until pylon closes (`None`: open after 6 s).
fn silent_h2(port: u16) -> Option<Duration> {
    use openssl::ssl::{SslConnector, SslMethod, SslVerifyMode};
    use std::io::Read;
    let mut builder = SslConnector::builder(SslMethod::tls_client()).expect("tls");
    builder.set_verify(SslVerifyMode::NONE);
    builder.set_alpn_protos(b"\x02h2").expect("alpn");
    let tcp = std::net::TcpStream::connect(("127.0.0.1", port)).expect("connect");
    tcp.set_read_timeout(Some(Duration::from_secs(6))).ok();
    let mut tls = builder
        .build()
        .configure()
        .expect("configure")
        .verify_hostname(false)
        .connect("localhost", tcp)
        .expect("TLS handshake");
    assert_eq!(tls.ssl().selected_alpn_protocol(), Some(&b"h2"[..]));
    let start = Instant::now();
    let mut buf = [0u8; 4096];
    loop {
        match tls.read(&mut buf) {
            Ok(0) => return Some(start.elapsed()),
            Ok(_) => {} // the server's SETTINGS
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => return None,
            Err(_) => return Some(start.elapsed()),
        }
        if start.elapsed() > Duration::from_secs(6) {
            return None;
        }
    }
}

#[tokio::test]
async fn silent_http2_connection_is_cut_at_the_header_deadline() {
    let _shared = shared().await;
    let (_gw, _up, port) = start(&timeouts("headerTimeout = \"1s\"")).await;
    let took = tokio::task::spawn_blocking(move || silent_h2(port))
        .await
        .unwrap();
    assert_between(
        "silent HTTP/2 connection",
        took,
        Duration::from_millis(900),
        Duration::from_secs(3),
    );
}

#[tokio::test]
async fn slow_body_is_cut_at_the_read_timeout() {
    let _shared = shared().await;
    let (_gw, up, port) = start(&timeouts("headerTimeout = \"1s\"\nreadTimeout = \"2s\"")).await;
    let start = Instant::now();
    let (mut r, mut w) = connect(port).await.into_split();
    w.write_all(b"POST /upload HTTP/1.1\r\nHost: a\r\nContent-Length: 1000\r\n\r\n")
        .await
        .unwrap();
    let writer = trickle(w, vec![b'x'; 1000]);
    let (took, seen) = wait_closed(&mut r, start, Duration::from_secs(8)).await;
    writer.abort();
    assert_between(
        "slow body",
        took,
        Duration::from_millis(1800),
        Duration::from_secs(5),
    );
    assert!(
        !String::from_utf8_lossy(&seen).contains(" 200 "),
        "the slow body was answered 200"
    );
    assert!(up.requests().iter().all(|s| s.body.len() < 1000));
}

/// An upstream answering every request with an endless body (1 GiB announced).
async fn endless_upstream() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                while find(&buf, b"\r\n\r\n").is_none() {
                    match sock.read(&mut chunk).await {
                        Ok(n) if n > 0 => buf.extend_from_slice(&chunk[..n]),
                        _ => return,
                    }
                }
                let head = "HTTP/1.1 200 OK\r\nContent-Length: 1073741824\r\n\r\n";
                if sock.write_all(head.as_bytes()).await.is_err() {
                    return;
                }
                let body = vec![b'z'; 64 * 1024];
                while sock.write_all(&body).await.is_ok() {}
            });
        }
    });
    format!("http://{addr}")
}

/// Sends a GET for an endless response, reads nothing for 3 s, then reads: the connection must
/// end within 3 s (pylon cut it), long before the 1 GiB body.
async fn never_read(transport: &str) {
    let upstream = endless_upstream().await;
    let port = free_port();
    let _gw = TestGateway::start(&config(port, &upstream, transport), &[port]).await;
    let mut s = connect(port).await;
    s.write_all(b"GET /big HTTP/1.1\r\nHost: a\r\n\r\n")
        .await
        .unwrap();
    // never read while the deadline passes
    tokio::time::sleep(Duration::from_secs(3)).await;
    let start = Instant::now();
    let mut total = 0usize;
    let mut chunk = vec![0u8; 64 * 1024];
    let closed = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            match s.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => total += n,
            }
        }
    })
    .await;
    assert!(
        closed.is_ok(),
        "the response was still streaming 3 s after the bound ({total} bytes read)"
    );
    assert!(
        total < 256 * 1024 * 1024,
        "{total} bytes arrived: the write was not cut"
    );
    assert!(start.elapsed() < Duration::from_secs(3));
}

#[tokio::test]
async fn client_that_never_reads_is_cut_at_the_write_timeout() {
    let _shared = shared().await;
    never_read(&timeouts("writeTimeout = \"1s\"")).await;
}

#[tokio::test]
async fn stalled_reader_is_cut_after_idle_timeout_without_write_timeout() {
    let _shared = shared().await;
    never_read(&timeouts("idleTimeout = \"1s\"")).await;
}

#[tokio::test]
async fn idle_keep_alive_is_closed_after_idle_timeout() {
    let _shared = shared().await;
    let (_gw, _up, port) = start(&timeouts("idleTimeout = \"1s\"")).await;
    let mut s = connect(port).await;
    let head = get(&mut s, "/1").await.expect("first answer");
    assert!(head.contains("connection: keep-alive"), "{head}");
    // a request within the idle timeout is served on the same connection
    tokio::time::sleep(Duration::from_millis(500)).await;
    let head = get(&mut s, "/2").await.expect("second answer");
    assert!(head.starts_with("http/1.1 200"), "{head}");
    let start = Instant::now();
    let (took, _) = wait_closed(&mut s, start, Duration::from_secs(6)).await;
    assert_between(
        "idle keep-alive",
        took,
        Duration::from_millis(800),
        Duration::from_secs(3),
    );
}

#[tokio::test]
async fn keep_alive_max_requests_closes_after_the_last_one() {
    let _shared = shared().await;
    let (_gw, _up, port) = start("keepAliveMaxRequests = 3").await;
    let mut s = connect(port).await;
    for i in 1..=2 {
        let head = get(&mut s, &format!("/{i}")).await.expect("answer");
        assert!(
            head.contains("connection: keep-alive"),
            "request {i}: {head}"
        );
    }
    let head = get(&mut s, "/3").await.expect("third answer");
    assert!(head.starts_with("http/1.1 200"), "{head}");
    assert!(head.contains("connection: close"), "request 3: {head}");
    let start = Instant::now();
    let _ = s.write_all(b"GET /4 HTTP/1.1\r\nHost: a\r\n\r\n").await;
    let (took, seen) = wait_closed(&mut s, start, Duration::from_secs(3)).await;
    assert!(took.is_some(), "the connection stayed open after request 3");
    assert!(seen.is_empty(), "request 4 was answered");
}

#[tokio::test]
async fn keep_alive_max_time_closes_old_connections() {
    let _shared = shared().await;
    let (_gw, _up, port) = start("keepAliveMaxTime = \"1s\"").await;
    let mut s = connect(port).await;
    let head = get(&mut s, "/1").await.expect("first answer");
    assert!(head.contains("connection: keep-alive"), "{head}");
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let head = get(&mut s, "/2").await.expect("second answer");
    assert!(head.contains("connection: close"), "{head}");
}

#[tokio::test]
async fn connections_beyond_max_connections_are_closed() {
    let _shared = shared().await;
    let (_gw, _up, port) = start("maxConnections = 3").await;
    let mut held = Vec::new();
    for i in 0..3 {
        let mut s = connect(port).await;
        let head = get(&mut s, &format!("/held{i}")).await.expect("answer");
        assert!(head.starts_with("http/1.1 200"), "{head}");
        held.push(s);
    }
    let mut extra = connect(port).await;
    let _ = extra
        .write_all(b"GET /extra HTTP/1.1\r\nHost: a\r\n\r\n")
        .await;
    let start = Instant::now();
    let (took, seen) = wait_closed(&mut extra, start, Duration::from_secs(3)).await;
    assert!(took.is_some(), "the 4th connection was kept open");
    assert!(seen.is_empty(), "the 4th connection was answered");
    for (i, s) in held.iter_mut().enumerate() {
        let head = get(s, &format!("/again{i}"))
            .await
            .expect("held connection works");
        assert!(head.starts_with("http/1.1 200"), "{head}");
    }
    // a freed slot is usable again
    drop(held.pop());
    let served = common::eventually(Duration::from_secs(5), || async {
        let mut s = connect(port).await;
        get(&mut s, "/after")
            .await
            .filter(|h| h.starts_with("http/1.1 200"))
    })
    .await;
    assert!(served.is_some(), "no connection accepted after one closed");
}

/// Raises the soft open-files limit to the hard one (pylon inherits it).
fn raise_nofile() -> u64 {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: plain syscalls on a valid, owned struct.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) == 0 && lim.rlim_cur < lim.rlim_max {
            lim.rlim_cur = lim.rlim_max.min(65536);
            libc::setrlimit(libc::RLIMIT_NOFILE, &lim);
            libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim);
        }
    }
    lim.rlim_cur
}

/// Latencies of `n` GETs on one blocking keep-alive connection, 5 ms apart.
fn measure(s: &mut std::net::TcpStream, n: usize) -> Vec<Duration> {
    use std::io::{Read, Write};
    let mut out = Vec::with_capacity(n);
    let mut buf = Vec::with_capacity(8192);
    let mut chunk = [0u8; 8192];
    for i in 0..n {
        let start = Instant::now();
        s.write_all(format!("GET /n{i} HTTP/1.1\r\nHost: a\r\n\r\n").as_bytes())
            .expect("normal client write");
        buf.clear();
        loop {
            let n = s.read(&mut chunk).expect("normal client read");
            assert!(n > 0, "pylon closed the normal client's connection");
            buf.extend_from_slice(&chunk[..n]);
            if let Some(end) = find(&buf, b"\r\n\r\n") {
                let head = String::from_utf8_lossy(&buf[..end]).to_string();
                if buf.len() >= end + 4 + content_length(&head) {
                    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
                    break;
                }
            }
        }
        out.push(start.elapsed());
        std::thread::sleep(Duration::from_millis(5));
    }
    out
}

/// The `pct` percentile of `v` (sorted).
fn percentile(v: &[Duration], pct: usize) -> Duration {
    let i = (v.len() * pct).div_ceil(100).saturating_sub(1);
    v[i]
}

fn summary(v: &[Duration]) -> String {
    format!(
        "p50 {:?} p90 {:?} p99 {:?} max {:?}",
        percentile(v, 50),
        percentile(v, 90),
        percentile(v, 99),
        v[v.len() - 1]
    )
}

/// One slowloris: waits `offset` (so the 1,000 spread their bytes over each second, as
/// independent clients do), opens, then trickles a head a byte a second until pylon cuts it
/// (counted in `cuts`) or `stop`.
async fn slowloris(
    port: u16,
    offset: Duration,
    live: Arc<AtomicUsize>,
    cuts: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
) {
    tokio::time::sleep(offset).await;
    let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)).await else {
        return;
    };
    live.fetch_add(1, Ordering::Relaxed);
    let mut ok = s
        .write_all(b"GET /slow HTTP/1.1\r\nHost: a\r\n")
        .await
        .is_ok();
    let mut byte = [0u8; 1];
    while ok && !stop.load(Ordering::Relaxed) {
        // a cut shows as EOF/reset on read (writes may still land in the kernel buffer)
        ok = match tokio::time::timeout(Duration::from_secs(1), s.read(&mut byte)).await {
            Err(_) => s.write_all(b"X").await.is_ok(),
            Ok(_) => false,
        };
    }
    if !ok {
        cuts.fetch_add(1, Ordering::Relaxed);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thousand_slow_connections_leave_a_normal_client_fast() {
    let _alone = exclusive().await;
    const SLOW: usize = 1000;
    let limit = raise_nofile();
    assert!(
        limit >= 2 * SLOW as u64 + 200,
        "RLIMIT_NOFILE is {limit}: raise `ulimit -n` to at least {}",
        2 * SLOW + 200
    );
    // the default headerTimeout (10 s): the slow connections outlive the measurement
    let (_gw, _up, port) = start("").await;

    let normal = std::thread::spawn(move || {
        let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).expect("connect");
        s.set_nodelay(true).ok();
        s.set_read_timeout(Some(Duration::from_secs(10))).ok();
        measure(&mut s, 50); // warm up
        let baseline = measure(&mut s, 500);
        (s, baseline)
    });
    let (mut s, baseline) =
        tokio::task::spawn_blocking(move || normal.join().expect("normal client"))
            .await
            .unwrap();

    let live = Arc::new(AtomicUsize::new(0));
    let cuts = Arc::new(AtomicUsize::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let opened = Instant::now();
    let mut tasks = Vec::with_capacity(SLOW);
    for i in 0..SLOW {
        tasks.push(tokio::spawn(slowloris(
            port,
            Duration::from_micros(i as u64 * 1000),
            live.clone(),
            cuts.clone(),
            stop.clone(),
        )));
    }
    let all_open = common::eventually(Duration::from_secs(5), || {
        let live = live.clone();
        async move { (live.load(Ordering::Relaxed) >= SLOW).then_some(()) }
    })
    .await;
    assert!(
        all_open.is_some(),
        "only {} slow connections opened",
        live.load(Ordering::Relaxed)
    );

    let during = tokio::task::spawn_blocking(move || measure(&mut s, 500))
        .await
        .unwrap();
    let measured = opened.elapsed();
    assert_eq!(
        cuts.load(Ordering::Relaxed),
        0,
        "slow connections were cut before the header deadline"
    );
    // then every slow connection is cut at the header deadline
    let all_cut = common::eventually(Duration::from_secs(15), || {
        let cuts = cuts.clone();
        async move { (cuts.load(Ordering::Relaxed) >= SLOW).then_some(()) }
    })
    .await;
    let cut_after = opened.elapsed();
    stop.store(true, Ordering::Relaxed);
    for t in tasks {
        t.abort();
    }
    let (mut baseline, mut during) = (baseline, during);
    baseline.sort();
    during.sort();
    let (base_p99, during_p99) = (percentile(&baseline, 99), percentile(&during, 99));
    eprintln!(
        "normal client: baseline {}; with {SLOW} slow connections {} (measured within \
         {measured:?}); all slow connections cut after {cut_after:?}",
        summary(&baseline),
        summary(&during)
    );
    assert!(
        all_cut.is_some(),
        "only {} of {SLOW} slow connections were cut at the 10 s header deadline",
        cuts.load(Ordering::Relaxed)
    );
    assert!(
        during_p99 <= base_p99 * 2,
        "p99 {during_p99:?} with {SLOW} slow connections, more than 2x the baseline {base_p99:?}"
    );
}
