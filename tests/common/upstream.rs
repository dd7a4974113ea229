//! A real HTTP/1.1 upstream for tests: echoes what it received, can be slow, and echoes WebSockets.
//!
//! `GET /health` (any method, any query) answers the status set with `set_health` (200 at first),
//! so tests can make an upstream sick or healthy at run time.

use futures_util::{SinkExt, StreamExt};
use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio_tungstenite::tungstenite::protocol::Role;
use tokio_tungstenite::WebSocketStream;

/// The path whose answer's status `TestUpstream::set_health` controls.
pub const HEALTH_PATH: &str = "/health";

/// How a test upstream behaves.
#[derive(Clone, Default)]
pub struct UpstreamOptions {
    /// Wait this long before answering.
    pub delay: Option<Duration>,
    /// Read the request, then close the connection without answering.
    pub hang_up: bool,
}

/// One request as the upstream saw it.
#[derive(Debug, Clone)]
pub struct Seen {
    pub method: String,
    pub target: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Seen {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
    pub fn header_count(&self, name: &str) -> usize {
        self.headers
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case(name))
            .count()
    }
}

/// An upstream server on 127.0.0.1:<ephemeral>, answering `200` with body `<name> <target>`.
pub struct TestUpstream {
    pub name: String,
    pub port: u16,
    pub seen: Arc<Mutex<Vec<Seen>>>,
    accepted: Arc<std::sync::atomic::AtomicUsize>,
    /// Connections currently open.
    open: Arc<std::sync::atomic::AtomicUsize>,
    /// Status answered on `HEALTH_PATH`.
    health: Arc<AtomicU16>,
    task: tokio::task::JoinHandle<()>,
}

impl TestUpstream {
    pub async fn start(name: &str) -> TestUpstream {
        Self::start_with(name, UpstreamOptions::default()).await
    }

    pub async fn start_with(name: &str, opts: UpstreamOptions) -> TestUpstream {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind upstream");
        Self::serve_on(name, opts, listener)
    }

    /// An upstream on `addr` (another loopback address, say), or `None` if it is taken.
    pub async fn start_at(name: &str, addr: std::net::SocketAddr) -> Option<TestUpstream> {
        let listener = TcpListener::bind(addr).await.ok()?;
        Some(Self::serve_on(name, UpstreamOptions::default(), listener))
    }

    fn serve_on(name: &str, opts: UpstreamOptions, listener: TcpListener) -> TestUpstream {
        let port = listener.local_addr().expect("addr").port();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let accepted = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let open = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let op = open.clone();
        let health = Arc::new(AtomicU16::new(200));
        let (n, s, a, h) = (
            name.to_string(),
            seen.clone(),
            accepted.clone(),
            health.clone(),
        );
        // Connections live in a JoinSet owned by the accept task: stopping the upstream
        // closes its open (keep-alive) connections too, as a dead process would.
        let task = tokio::spawn(async move {
            let mut conns = tokio::task::JoinSet::new();
            loop {
                tokio::select! {
                    accepted = listener.accept() => {
                        let Ok((sock, _)) = accepted else { break };
                        a.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                        let (n, s, o, h) = (n.clone(), s.clone(), opts.clone(), h.clone());
                        let open = op.clone();
                        open.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                        conns.spawn(async move {
                            let _ = serve(sock, &n, &s, &o, &h).await;
                            open.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
                        });
                    }
                    Some(_) = conns.join_next(), if !conns.is_empty() => {}
                }
            }
        });
        TestUpstream {
            name: name.to_string(),
            port,
            seen,
            accepted,
            open,
            health,
            task,
        }
    }

    /// Makes `HEALTH_PATH` answer `status` from now on (e.g. 500: sick, 200: healthy).
    pub fn set_health(&self, status: u16) {
        self.health.store(status, Ordering::SeqCst);
    }

    /// The requests seen on `HEALTH_PATH` (the health probes).
    pub fn health_probes(&self) -> Vec<Seen> {
        self.requests()
            .into_iter()
            .filter(|r| r.target.split('?').next() == Some(HEALTH_PATH))
            .collect()
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn requests(&self) -> Vec<Seen> {
        self.seen.lock().expect("lock").clone()
    }

    /// How many TCP connections are open right now.
    pub fn open_connections(&self) -> usize {
        self.open.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// How many TCP connections the upstream accepted.
    pub fn connections(&self) -> usize {
        self.accepted.load(std::sync::atomic::Ordering::SeqCst)
    }

    pub fn last(&self) -> Option<Seen> {
        self.requests().pop()
    }

    pub fn stop(&self) {
        self.task.abort();
    }
}

impl Drop for TestUpstream {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn serve(
    sock: TcpStream,
    name: &str,
    seen: &Mutex<Vec<Seen>>,
    opts: &UpstreamOptions,
    health: &AtomicU16,
) -> std::io::Result<()> {
    let mut reader = BufReader::new(sock);
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).await? == 0 {
            return Ok(());
        }
        let mut parts = line.split_whitespace();
        let method = parts.next().unwrap_or("").to_string();
        let target = parts.next().unwrap_or("").to_string();
        let mut headers = Vec::new();
        loop {
            let mut h = String::new();
            reader.read_line(&mut h).await?;
            let h = h.trim_end();
            if h.is_empty() {
                break;
            }
            if let Some((k, v)) = h.split_once(':') {
                headers.push((k.trim().to_string(), v.trim().to_string()));
            }
        }
        let find = |n: &str| {
            headers
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(n))
                .map(|(_, v)| v.clone())
        };
        let len: usize = find("content-length")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        let mut body = vec![0; len];
        reader.read_exact(&mut body).await?;
        let upgrade = find("upgrade").is_some_and(|u| u.eq_ignore_ascii_case("websocket"));
        let ws_key = find("sec-websocket-key");
        seen.lock().expect("lock").push(Seen {
            method: method.clone(),
            target: target.clone(),
            headers: headers.clone(),
            body,
        });
        if let Some(d) = opts.delay {
            tokio::time::sleep(d).await;
        }
        if opts.hang_up {
            return Ok(());
        }
        if upgrade {
            let accept = tokio_tungstenite::tungstenite::handshake::derive_accept_key(
                ws_key.unwrap_or_default().as_bytes(),
            );
            let resp = format!(
                "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\n\r\n"
            );
            reader.get_mut().write_all(resp.as_bytes()).await?;
            let sock = reader.into_inner();
            let mut ws = WebSocketStream::from_raw_socket(sock, Role::Server, None).await;
            while let Some(Ok(msg)) = ws.next().await {
                if (msg.is_text() || msg.is_binary()) && ws.send(msg).await.is_err() {
                    break;
                }
            }
            return Ok(());
        }
        let status = match target.split('?').next() == Some(HEALTH_PATH) {
            true => health.load(Ordering::SeqCst),
            false => 200,
        };
        let body = match status {
            204 | 304 => String::new(),
            _ => format!("{name} {target}"),
        };
        let resp = format!(
            "HTTP/1.1 {status} {}\r\nContent-Type: text/plain\r\nX-Upstream: {name}\r\nContent-Length: {}\r\n\r\n{body}",
            reason(status),
            body.len()
        );
        reader.get_mut().write_all(resp.as_bytes()).await?;
    }
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        204 => "No Content",
        404 => "Not Found",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Status",
    }
}
