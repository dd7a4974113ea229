//! An upstream whose every answer is a chunked body trickled out slowly: `chunks` chunks,
//! one every `interval` (a long streaming response).

use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// A trickling upstream on 127.0.0.1:<ephemeral>.
pub struct TrickleUpstream {
    pub port: u16,
    task: tokio::task::JoinHandle<()>,
}

impl TrickleUpstream {
    pub async fn start(chunks: usize, interval: Duration) -> TrickleUpstream {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind trickle");
        let port = listener.local_addr().expect("addr").port();
        let task = tokio::spawn(async move {
            while let Ok((mut s, _)) = listener.accept().await {
                tokio::spawn(async move {
                    let mut head = Vec::new();
                    let mut buf = [0u8; 1024];
                    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                        match s.read(&mut buf).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => head.extend_from_slice(&buf[..n]),
                        }
                    }
                    let start = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n";
                    if s.write_all(start).await.is_err() {
                        return;
                    }
                    for i in 0..chunks {
                        let line = format!("tick {i}\n");
                        let chunk = format!("{:x}\r\n{line}\r\n", line.len());
                        if s.write_all(chunk.as_bytes()).await.is_err() {
                            return;
                        }
                        tokio::time::sleep(interval).await;
                    }
                    let _ = s.write_all(b"0\r\n\r\n").await;
                });
            }
        });
        TrickleUpstream { port, task }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

impl Drop for TrickleUpstream {
    fn drop(&mut self) {
        self.task.abort();
    }
}
