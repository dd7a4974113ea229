//! A raw-socket upstream for hardening tests: records every byte it receives and answers each
//! request head it sees with a fixed reply (or misbehaves on purpose: reset, truncate, garbage,
//! silence), so a test can assert exactly what pylon forwarded.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// How the raw upstream answers each request head.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RawMode {
    /// `200` with a 2-byte body `ok`, keep-alive.
    Ok,
    /// Writes part of a response, then resets the connection (SO_LINGER 0).
    ResetMidResponse,
    /// Announces `Content-Length: 100`, sends 10 bytes, then closes.
    Truncated,
    /// Answers bytes that are not HTTP, then closes.
    Garbage,
    /// Reads forever and never answers.
    Silent,
}

/// A raw upstream on 127.0.0.1:<ephemeral>.
pub struct RawUpstream {
    pub port: u16,
    received: Arc<Mutex<Vec<u8>>>,
    accepted: Arc<AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

impl RawUpstream {
    pub async fn start(mode: RawMode) -> RawUpstream {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind raw");
        let port = listener.local_addr().expect("addr").port();
        let received = Arc::new(Mutex::new(Vec::new()));
        let rec = received.clone();
        let accepted = Arc::new(AtomicUsize::new(0));
        let count = accepted.clone();
        let task = tokio::spawn(async move {
            while let Ok((mut s, _)) = listener.accept().await {
                count.fetch_add(1, Ordering::Relaxed);
                let rec = rec.clone();
                tokio::spawn(async move {
                    let mut buf = vec![0u8; 65536];
                    loop {
                        let n = match s.read(&mut buf).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => n,
                        };
                        rec.lock().unwrap().extend_from_slice(&buf[..n]);
                        let heads = buf[..n]
                            .windows(11)
                            .filter(|w| w == b" HTTP/1.1\r\n" || w == b" HTTP/1.0\r\n")
                            .count();
                        for _ in 0..heads {
                            match mode {
                                RawMode::Ok => {
                                    let r = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
                                    if s.write_all(r).await.is_err() {
                                        return;
                                    }
                                }
                                RawMode::ResetMidResponse => {
                                    let r = b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npart";
                                    let _ = s.write_all(r).await;
                                    let _ = s.set_zero_linger();
                                    return;
                                }
                                RawMode::Truncated => {
                                    let r =
                                        b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789";
                                    let _ = s.write_all(r).await;
                                    return;
                                }
                                RawMode::Garbage => {
                                    let _ = s.write_all(b"\x00\x01garbage \xff\r\n\r\n").await;
                                    return;
                                }
                                RawMode::Silent => {}
                            }
                        }
                    }
                });
            }
        });
        RawUpstream {
            port,
            received,
            accepted,
            task,
        }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Every byte received so far, on all connections, in arrival order per read.
    pub fn received(&self) -> Vec<u8> {
        self.received.lock().unwrap().clone()
    }

    /// Connections accepted so far.
    pub fn connections(&self) -> usize {
        self.accepted.load(Ordering::Relaxed)
    }

    pub fn received_text(&self) -> String {
        String::from_utf8_lossy(&self.received()).into_owned()
    }
}

impl Drop for RawUpstream {
    fn drop(&mut self) {
        self.task.abort();
    }
}
