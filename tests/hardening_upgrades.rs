//! Hardening, issue 13 point 8: upgrades. The client connection keeps its deadlines until the
//! `101` is relayed, the upstream's answer is bounded by `responseHeaderTimeout`, an idle tunnel
//! is closed after `idleTimeout`, an upgrade with a body is refused before any upstream is
//! contacted, and only `websocket` is tunnelled (any other `Upgrade` is ignored).

mod common;

use common::{free_port, TestGateway};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// How the test upstream answers a request head.
#[derive(Clone, Copy)]
enum Mode {
    /// A request with `Upgrade` gets a `101` after `delay`, then every byte is echoed; any other
    /// request gets `200 ok` (keep-alive).
    Switch { delay: Duration },
    /// Reads and never answers.
    Silent,
}

/// A raw upstream on loopback that records the request heads it received.
struct Upstream {
    port: u16,
    accepted: Arc<AtomicUsize>,
    heads: Arc<Mutex<Vec<String>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Upstream {
    async fn start(mode: Mode) -> Upstream {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let accepted = Arc::new(AtomicUsize::new(0));
        let heads = Arc::new(Mutex::new(Vec::new()));
        let (acc, rec) = (accepted.clone(), heads.clone());
        let task = tokio::spawn(async move {
            while let Ok((s, _)) = listener.accept().await {
                acc.fetch_add(1, Ordering::SeqCst);
                tokio::spawn(serve(s, mode, rec.clone()));
            }
        });
        Upstream {
            port,
            accepted,
            heads,
            task,
        }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn accepted(&self) -> usize {
        self.accepted.load(Ordering::SeqCst)
    }

    fn heads(&self) -> Vec<String> {
        self.heads.lock().unwrap().clone()
    }
}

impl Drop for Upstream {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn serve(mut s: TcpStream, mode: Mode, heads: Arc<Mutex<Vec<String>>>) {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let Some(end) = find(&buf, b"\r\n\r\n") else {
            match s.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
            continue;
        };
        let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
        buf.drain(..end + 4);
        heads.lock().unwrap().push(head.clone());
        let delay = match mode {
            Mode::Silent => {
                while matches!(s.read(&mut chunk).await, Ok(n) if n > 0) {}
                return;
            }
            Mode::Switch { delay } => delay,
        };
        if !head.contains("\r\nupgrade:") {
            if s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
                .await
                .is_err()
            {
                return;
            }
            continue;
        }
        tokio::time::sleep(delay).await;
        let switch = b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n";
        if s.write_all(switch).await.is_err() || s.write_all(&buf).await.is_err() {
            return;
        }
        loop {
            match s.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => {
                    if s.write_all(&chunk[..n]).await.is_err() {
                        return;
                    }
                }
            }
        }
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// pylon on a free port: `respondingTimeouts` lines for the entry point, `forwardingTimeouts`
/// lines for the service's transport, everything routed to `up`.
async fn pylon(up: &Upstream, responding: &str, forwarding: &str) -> (TestGateway, u16) {
    let port = free_port();
    let cfg = format!(
        "[entryPoints.web]\naddress = \"127.0.0.1:{port}\"\n\
         [entryPoints.web.transport.respondingTimeouts]\n{responding}\n\
         [http.routers.r]\nrule = \"PathPrefix(`/`)\"\nservice = \"s\"\n\
         [http.services.s.loadBalancer]\nservers = [{{ url = \"{}\" }}]\nserversTransport = \"t\"\n\
         [http.serversTransports.t.forwardingTimeouts]\ndialTimeout = \"2s\"\n{forwarding}\n",
        up.url()
    );
    let gw = TestGateway::start(&cfg, &[port]).await;
    (gw, port)
}

const WEBSOCKET: &str = "GET /ws HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\
                         Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n";

async fn connect(port: u16) -> TcpStream {
    TcpStream::connect(("127.0.0.1", port))
        .await
        .expect("connect to pylon")
}

/// What a client saw within a bound.
#[derive(Debug)]
struct Seen {
    bytes: String,
    closed: bool,
    after: Duration,
}

/// Reads until `until` appears in what arrived, the connection closes, or `bound` passes.
async fn read_until(s: &mut TcpStream, until: &str, bound: Duration) -> Seen {
    let start = Instant::now();
    let deadline = tokio::time::Instant::now() + bound;
    let mut out = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        if !until.is_empty() && find(&out, until.as_bytes()).is_some() {
            break;
        }
        match tokio::time::timeout_at(deadline, s.read(&mut chunk)).await {
            Ok(Ok(0)) | Ok(Err(_)) => {
                return Seen {
                    bytes: String::from_utf8_lossy(&out).into_owned(),
                    closed: true,
                    after: start.elapsed(),
                }
            }
            Ok(Ok(n)) => out.extend_from_slice(&chunk[..n]),
            Err(_) => break,
        }
    }
    Seen {
        bytes: String::from_utf8_lossy(&out).into_owned(),
        closed: false,
        after: start.elapsed(),
    }
}

#[tokio::test]
async fn upgrade_answer_is_bounded_by_response_header_timeout() {
    let up = Upstream::start(Mode::Silent).await;
    let (_gw, port) = pylon(&up, "", "responseHeaderTimeout = \"1s\"").await;
    let mut s = connect(port).await;
    s.write_all(format!("{WEBSOCKET}\r\n").as_bytes())
        .await
        .unwrap();
    let seen = read_until(&mut s, "\r\n\r\n", Duration::from_secs(5)).await;
    assert!(
        seen.bytes.starts_with("HTTP/1.1 504"),
        "no 504 within 5 s (responseHeaderTimeout 1 s): {seen:?}"
    );
    assert!(seen.after >= Duration::from_millis(900), "{seen:?}");
}

#[tokio::test]
async fn client_write_deadline_holds_until_the_101_is_relayed() {
    // the upstream answers after 3 s; the client's writeTimeout (1 s) passes first
    let up = Upstream::start(Mode::Switch {
        delay: Duration::from_secs(3),
    })
    .await;
    let (_gw, port) = pylon(&up, "writeTimeout = \"1s\"", "").await;
    let mut s = connect(port).await;
    s.write_all(format!("{WEBSOCKET}\r\n").as_bytes())
        .await
        .unwrap();
    let seen = read_until(&mut s, "", Duration::from_millis(2500)).await;
    assert!(
        seen.closed && !seen.bytes.contains("101"),
        "connection not closed at writeTimeout while waiting for the 101: {seen:?}"
    );
    assert!(seen.after >= Duration::from_millis(900), "{seen:?}");
}

#[tokio::test]
async fn idle_tunnel_is_closed_after_idle_timeout() {
    let up = Upstream::start(Mode::Switch {
        delay: Duration::ZERO,
    })
    .await;
    let (_gw, port) = pylon(&up, "idleTimeout = \"2s\"", "").await;
    let mut s = connect(port).await;
    s.write_all(format!("{WEBSOCKET}\r\n").as_bytes())
        .await
        .unwrap();
    let seen = read_until(&mut s, "\r\n\r\n", Duration::from_secs(5)).await;
    assert!(seen.bytes.starts_with("HTTP/1.1 101"), "{seen:?}");
    // a busy tunnel outlives idleTimeout: a message every 300 ms for 3 s, each echoed
    for i in 0..11 {
        if i > 0 {
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
        let msg = format!("message {i};");
        s.write_all(msg.as_bytes()).await.unwrap();
        let echo = read_until(&mut s, &msg, Duration::from_secs(2)).await;
        assert!(echo.bytes.contains(&msg), "message {i}: {echo:?}");
    }
    // then silence: closed about idleTimeout later
    let seen = read_until(&mut s, "", Duration::from_secs(6)).await;
    assert!(
        seen.closed,
        "idle tunnel still open 6 s after the last byte (idleTimeout 2 s): {seen:?}"
    );
    assert!(seen.after >= Duration::from_millis(1800), "{seen:?}");
}

#[tokio::test]
async fn upgrade_with_a_body_is_refused_before_the_upstream() {
    let up = Upstream::start(Mode::Switch {
        delay: Duration::ZERO,
    })
    .await;
    let (_gw, port) = pylon(&up, "", "").await;
    let bodies = [
        "Content-Length: 5\r\n\r\nhello",
        "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
    ];
    for body in bodies {
        let mut s = connect(port).await;
        s.write_all(format!("{WEBSOCKET}{body}").as_bytes())
            .await
            .unwrap();
        let seen = read_until(&mut s, "", Duration::from_secs(3)).await;
        assert!(seen.bytes.starts_with("HTTP/1.1 400"), "{body:?}: {seen:?}");
        assert!(seen.closed, "{body:?}: {seen:?}");
    }
    assert_eq!(up.accepted(), 0, "the upstream was contacted");
    // control: Content-Length 0 is no body
    let mut s = connect(port).await;
    s.write_all(format!("{WEBSOCKET}Content-Length: 0\r\n\r\n").as_bytes())
        .await
        .unwrap();
    let seen = read_until(&mut s, "\r\n\r\n", Duration::from_secs(3)).await;
    assert!(seen.bytes.starts_with("HTTP/1.1 101"), "{seen:?}");
}

#[tokio::test]
async fn only_websocket_is_tunnelled() {
    let up = Upstream::start(Mode::Switch {
        delay: Duration::ZERO,
    })
    .await;
    let (_gw, port) = pylon(&up, "", "").await;
    let others = [
        "Upgrade: h2c\r\nConnection: Upgrade, HTTP2-Settings\r\nHTTP2-Settings: AAMAAABkAAQCAAAAAAIAAAAA\r\n",
        "Upgrade: foo\r\nConnection: upgrade\r\n",
        "Upgrade: websocket, foo\r\nConnection: upgrade\r\n",
    ];
    for other in others {
        let mut s = connect(port).await;
        let request = format!("GET /x HTTP/1.1\r\nHost: a\r\n{other}\r\n");
        s.write_all(request.as_bytes()).await.unwrap();
        let seen = read_until(&mut s, "\r\n\r\nok", Duration::from_secs(3)).await;
        assert!(
            seen.bytes.starts_with("HTTP/1.1 200"),
            "{other:?} was not answered as a plain request: {seen:?}"
        );
        // still plain HTTP/1.1 on the connection
        s.write_all(b"GET /y HTTP/1.1\r\nHost: a\r\n\r\n")
            .await
            .unwrap();
        let again = read_until(&mut s, "\r\n\r\nok", Duration::from_secs(3)).await;
        assert!(
            again.bytes.starts_with("HTTP/1.1 200"),
            "{other:?}: {again:?}"
        );
    }
    let heads = up.heads();
    assert!(
        heads
            .iter()
            .all(|h| !h.contains("\r\nupgrade:") && !h.contains("connection: upgrade")),
        "an upgrade reached the upstream: {heads:?}"
    );
    // control: `websocket` in any case is tunnelled
    let mut s = connect(port).await;
    let request = WEBSOCKET.replace("Upgrade: websocket", "Upgrade: WebSocket");
    s.write_all(format!("{request}\r\n").as_bytes())
        .await
        .unwrap();
    let seen = read_until(&mut s, "\r\n\r\n", Duration::from_secs(3)).await;
    assert!(seen.bytes.starts_with("HTTP/1.1 101"), "{seen:?}");
    s.write_all(b"echo me").await.unwrap();
    let echo = read_until(&mut s, "echo me", Duration::from_secs(3)).await;
    assert!(echo.bytes.contains("echo me"), "{echo:?}");
}
