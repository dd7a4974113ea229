//! `Guarded`: a client stream whose reads and writes fail once its `Clock`'s deadlines pass.
//!
//! Pingora bounds each read of a request head separately, so a client trickling a byte per
//! second is never cut; this wrapper bounds the whole head, the body and the response instead.

use super::clock::Clock;
use async_trait::async_trait;
use pingora::protocols::raw_connect::ProxyDigest;
use pingora::protocols::tls::{SslDigest, TlsRef};
use pingora::protocols::{
    GetProxyDigest, GetSocketDigest, GetTimingDigest, Peek, Shutdown, SocketDigest, Ssl, Stream,
    TimingDigest, UniqueID, UniqueIDType, ALPN,
};
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::{Instant, Sleep};

/// A timer reused for every deadline of one direction (allocated once per connection).
#[derive(Default)]
struct Timer(Option<Pin<Box<Sleep>>>);

impl Timer {
    /// Whether `at` has passed; otherwise the task is woken when it does.
    fn poll_passed(&mut self, cx: &mut Context<'_>, at: Instant) -> bool {
        let sleep = match &mut self.0 {
            Some(sleep) => {
                if sleep.deadline() != at {
                    sleep.as_mut().reset(at);
                }
                sleep
            }
            None => self.0.insert(Box::pin(tokio::time::sleep_until(at))),
        };
        sleep.as_mut().poll(cx).is_ready()
    }
}

/// What a client whose head outgrows `maxHeaderBytes` while it is read gets before the close.
const HEAD_TOO_LARGE: &[u8] = b"HTTP/1.1 431 Request Header Fields Too Large\r\n\
Content-Type: text/plain\r\nContent-Length: 32\r\nConnection: close\r\n\r\n\
request header fields too large\n";

fn timed_out(what: &'static str) -> io::Error {
    io::Error::new(io::ErrorKind::TimedOut, what)
}

/// A downstream stream under a `Clock`.
pub struct Guarded {
    inner: Stream,
    clock: Arc<Clock>,
    read_timer: Timer,
    write_timer: Timer,
    /// While writes are blocked: when the stall bound cuts them.
    stalled_until: Option<Instant>,
}

impl Guarded {
    pub fn new(inner: Stream, clock: Arc<Clock>) -> Self {
        Guarded {
            inner,
            clock,
            read_timer: Timer::default(),
            write_timer: Timer::default(),
            stalled_until: None,
        }
    }

    pub fn clock(&self) -> &Clock {
        &self.clock
    }

    /// A head past `head_bytes` and still not in: answers 431 as far as the socket takes it
    /// at once (a client that reads nothing gets the close alone), and fails the read so
    /// Pingora drops the connection and its buffer.
    fn refuse_large_head(&mut self, cx: &mut Context<'_>) -> io::Error {
        let mut inner = Pin::new(&mut self.inner);
        if let Poll::Ready(Ok(_)) = inner.as_mut().poll_write(cx, HEAD_TOO_LARGE) {
            let _ = inner.poll_flush(cx);
        }
        log::debug!("request head larger than maxHeaderBytes while read: 431, closed");
        io::Error::new(
            io::ErrorKind::InvalidData,
            "request head larger than maxHeaderBytes",
        )
    }

    /// Runs a write-side poll under the write deadline and the stall bound.
    fn poll_write_side<T>(
        &mut self,
        cx: &mut Context<'_>,
        op: impl FnOnce(Pin<&mut Stream>, &mut Context<'_>) -> Poll<io::Result<T>>,
    ) -> Poll<io::Result<T>> {
        let deadline = self.clock.write_deadline();
        if deadline.is_some_and(|at| Instant::now() >= at) {
            return Poll::Ready(Err(timed_out("response write deadline passed")));
        }
        match op(Pin::new(&mut self.inner), cx) {
            Poll::Pending => {
                if self.stalled_until.is_none() {
                    self.stalled_until = self.clock.write_stall().map(|d| Instant::now() + d);
                }
                let at = match (deadline, self.stalled_until) {
                    (Some(a), Some(b)) => Some(a.min(b)),
                    (a, b) => a.or(b),
                };
                match at {
                    Some(at) if self.write_timer.poll_passed(cx, at) => {
                        Poll::Ready(Err(timed_out("response write deadline passed")))
                    }
                    _ => Poll::Pending,
                }
            }
            ready => {
                self.stalled_until = None;
                ready
            }
        }
    }
}

impl std::fmt::Debug for Guarded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Guarded")
            .field("inner", &self.inner)
            .finish_non_exhaustive()
    }
}

impl AsyncRead for Guarded {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if this.clock.head_too_large() {
            return Poll::Ready(Err(this.refuse_large_head(cx)));
        }
        let deadline = this.clock.read_deadline();
        if deadline.is_some_and(|at| Instant::now() >= at) {
            return Poll::Ready(Err(timed_out("request read deadline passed")));
        }
        let before = buf.filled().len();
        match Pin::new(&mut this.inner).poll_read(cx, buf) {
            Poll::Ready(Ok(())) => {
                let n = buf.filled().len() - before;
                if n > 0 {
                    this.clock.bytes_read(n);
                }
                Poll::Ready(Ok(()))
            }
            Poll::Pending => match deadline {
                Some(at) if this.read_timer.poll_passed(cx, at) => {
                    Poll::Ready(Err(timed_out("request read deadline passed")))
                }
                _ => Poll::Pending,
            },
            err => err,
        }
    }
}

impl AsyncWrite for Guarded {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.get_mut()
            .poll_write_side(cx, |s, cx| s.poll_write(cx, buf))
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.get_mut()
            .poll_write_side(cx, |s, cx| s.poll_write_vectored(cx, bufs))
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.get_mut().poll_write_side(cx, |s, cx| s.poll_flush(cx))
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.get_mut()
            .poll_write_side(cx, |s, cx| s.poll_shutdown(cx))
    }
}

#[async_trait]
impl Shutdown for Guarded {
    async fn shutdown(&mut self) {
        match self.clock.write_deadline() {
            Some(at) => {
                let _ = tokio::time::timeout_at(at, self.inner.shutdown()).await;
            }
            None => self.inner.shutdown().await,
        }
    }
}

impl UniqueID for Guarded {
    fn id(&self) -> UniqueIDType {
        self.inner.id()
    }
}

impl Ssl for Guarded {
    fn get_ssl(&self) -> Option<&TlsRef> {
        self.inner.get_ssl()
    }
    fn get_ssl_digest(&self) -> Option<Arc<SslDigest>> {
        self.inner.get_ssl_digest()
    }
    fn selected_alpn_proto(&self) -> Option<ALPN> {
        self.inner.selected_alpn_proto()
    }
}

impl GetTimingDigest for Guarded {
    fn get_timing_digest(&self) -> Vec<Option<TimingDigest>> {
        self.inner.get_timing_digest()
    }
    fn get_read_pending_time(&self) -> Duration {
        self.inner.get_read_pending_time()
    }
    fn get_write_pending_time(&self) -> Duration {
        self.inner.get_write_pending_time()
    }
}

impl GetProxyDigest for Guarded {
    fn get_proxy_digest(&self) -> Option<Arc<ProxyDigest>> {
        self.inner.get_proxy_digest()
    }
    fn set_proxy_digest(&mut self, digest: ProxyDigest) {
        self.inner.set_proxy_digest(digest);
    }
}

impl GetSocketDigest for Guarded {
    fn get_socket_digest(&self) -> Option<Arc<SocketDigest>> {
        self.inner.get_socket_digest()
    }
    fn set_socket_digest(&mut self, digest: SocketDigest) {
        self.inner.set_socket_digest(digest);
    }
}

#[async_trait]
impl Peek for Guarded {
    async fn try_peek(&mut self, buf: &mut [u8]) -> io::Result<bool> {
        self.inner.try_peek(buf).await
    }
}

/// The clock of a downstream HTTP/1 stream, when it is a `Guarded` one.
pub fn clock_of(stream: &Stream) -> Option<&Clock> {
    (**stream)
        .as_any()
        .downcast_ref::<Guarded>()
        .map(Guarded::clock)
}
