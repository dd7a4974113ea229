//! A connection's read and write deadlines, moved along as its requests go (slow clients).
//!
//! The listener arms the head deadline before each request; the gateway moves it on when the
//! head is in (`head_done`), the body is in (`body_done`) or the connection becomes a tunnel
//! (`release`). The connection's stream (`Guarded`) fails reads and writes past them.

use crate::runtime::client_limits::ClientLimits;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;
use tokio::time::Instant;

/// No deadline.
const NONE: u64 = u64::MAX;

/// Deadlines as nanoseconds since the connection was accepted, shared by stream and gateway.
#[derive(Debug)]
pub struct Clock {
    base: Instant,
    limits: ClientLimits,
    read_at: AtomicU64,
    write_at: AtomicU64,
    /// When the current request's first byte arrived.
    request_start: AtomicU64,
    /// Waiting (idle) for the first byte of a keep-alive request.
    idle: AtomicBool,
    /// A tunnel now: no deadline, no stall bound.
    released: AtomicBool,
    /// HTTP/2: bytes of the connection preface still expected before the clock lets go.
    preface_left: AtomicUsize,
    /// Bytes of the request head being read so far; `NOT_IN_HEAD` between heads.
    head_read: AtomicUsize,
}

/// `head_read` while no head is being read (idle, body, tunnel, HTTP/2).
const NOT_IN_HEAD: usize = usize::MAX;

/// `PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n`
const H2_PREFACE_LEN: usize = 24;

fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(NONE - 1)
}

impl Clock {
    pub fn new(limits: ClientLimits) -> Self {
        Clock {
            base: Instant::now(),
            limits,
            read_at: AtomicU64::new(NONE),
            write_at: AtomicU64::new(NONE),
            request_start: AtomicU64::new(0),
            idle: AtomicBool::new(false),
            released: AtomicBool::new(false),
            preface_left: AtomicUsize::new(0),
            head_read: AtomicUsize::new(NOT_IN_HEAD),
        }
    }

    pub fn limits(&self) -> &ClientLimits {
        &self.limits
    }

    /// How long the connection has been open.
    pub fn age(&self) -> Duration {
        self.base.elapsed()
    }

    fn now(&self) -> u64 {
        nanos(self.base.elapsed())
    }

    fn after(from: u64, limit: Option<Duration>) -> u64 {
        limit.map_or(NONE, |d| from.saturating_add(nanos(d)).min(NONE - 1))
    }

    /// The first request: its head must be in `headerTimeout` after the accept.
    pub fn first_request(&self) {
        let now = self.now();
        self.request_start.store(now, Ordering::Relaxed);
        self.idle.store(false, Ordering::Relaxed);
        self.head_read.store(0, Ordering::Relaxed);
        self.read_at
            .store(Self::after(now, self.limits.head()), Ordering::Relaxed);
        self.write_at.store(NONE, Ordering::Relaxed);
    }

    /// A keep-alive wait: the next request must start within `idleTimeout`.
    pub fn next_request(&self) {
        self.idle.store(true, Ordering::Relaxed);
        self.head_read.store(NOT_IN_HEAD, Ordering::Relaxed);
        self.read_at
            .store(Self::after(self.now(), self.limits.idle), Ordering::Relaxed);
        self.write_at.store(NONE, Ordering::Relaxed);
    }

    /// An HTTP/2 connection: its preface must arrive within the head deadline, then Pingora's
    /// HTTP/2 server (and `h2_idle_timeout`) takes over.
    pub fn h2_preface(&self) {
        self.first_request();
        // HTTP/2 heads are bounded by Pingora's HTTP/2 server (header list size)
        self.head_read.store(NOT_IN_HEAD, Ordering::Relaxed);
        self.preface_left.store(H2_PREFACE_LEN, Ordering::Relaxed);
    }

    /// `n` bytes arrived: the first ones after an idle wait start the head deadline.
    pub fn bytes_read(&self, n: usize) {
        let left = self.preface_left.load(Ordering::Relaxed);
        if left > 0 {
            let left = left.saturating_sub(n);
            self.preface_left.store(left, Ordering::Relaxed);
            if left == 0 {
                self.release();
            }
            return;
        }
        if self.idle.load(Ordering::Relaxed) {
            self.idle.store(false, Ordering::Relaxed);
            let now = self.now();
            self.request_start.store(now, Ordering::Relaxed);
            self.read_at
                .store(Self::after(now, self.limits.head()), Ordering::Relaxed);
            self.head_read.store(0, Ordering::Relaxed);
        }
        let read = self.head_read.load(Ordering::Relaxed);
        if read != NOT_IN_HEAD {
            self.head_read.store(
                read.saturating_add(n).min(NOT_IN_HEAD - 1),
                Ordering::Relaxed,
            );
        }
    }

    /// Whether the head being read has taken more than `head_bytes` and is still not in: the
    /// stream refuses to read more of it (431), so its buffer stays near the limit.
    pub fn head_too_large(&self) -> bool {
        let read = self.head_read.load(Ordering::Relaxed);
        read != NOT_IN_HEAD && self.limits.head_bytes.is_some_and(|limit| read > limit)
    }

    /// The head is in: the body has until `readTimeout` after the request started, the
    /// response `writeTimeout` from now.
    pub fn head_done(&self) {
        self.head_read.store(NOT_IN_HEAD, Ordering::Relaxed);
        let start = self.request_start.load(Ordering::Relaxed);
        self.read_at
            .store(Self::after(start, self.limits.read), Ordering::Relaxed);
        self.write_at.store(
            Self::after(self.now(), self.limits.write),
            Ordering::Relaxed,
        );
    }

    /// The body is in: reads (the proxy watching for a client close) are no longer bounded.
    pub fn body_done(&self) {
        self.read_at.store(NONE, Ordering::Relaxed);
    }

    /// The connection became a tunnel (its `101` is written): no deadline applies any more; the
    /// tunnel bounds its own idleness (`proxy::upgrade::relay`).
    pub fn release(&self) {
        self.released.store(true, Ordering::Relaxed);
        self.head_read.store(NOT_IN_HEAD, Ordering::Relaxed);
        self.idle.store(false, Ordering::Relaxed);
        self.read_at.store(NONE, Ordering::Relaxed);
        self.write_at.store(NONE, Ordering::Relaxed);
    }

    /// The connection is done (an idle tunnel): reads and writes fail from now on.
    pub fn expire(&self) {
        let now = self.now();
        self.idle.store(false, Ordering::Relaxed);
        self.read_at.store(now, Ordering::Relaxed);
        self.write_at.store(now, Ordering::Relaxed);
    }

    fn instant(&self, at: u64) -> Option<Instant> {
        (at != NONE).then(|| self.base + Duration::from_nanos(at))
    }

    /// When reads start failing, if they do.
    pub fn read_deadline(&self) -> Option<Instant> {
        self.instant(self.read_at.load(Ordering::Relaxed))
    }

    /// How long a write may stay blocked (the client reading nothing): `idleTimeout`, so a
    /// stalled reader is cut even when `writeTimeout` is off; none for a tunnel.
    pub fn write_stall(&self) -> Option<Duration> {
        match self.released.load(Ordering::Relaxed) {
            true => None,
            false => self.limits.idle,
        }
    }

    /// When writes start failing, if they do.
    pub fn write_deadline(&self) -> Option<Instant> {
        self.instant(self.write_at.load(Ordering::Relaxed))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> ClientLimits {
        ClientLimits {
            header: Some(Duration::from_secs(1)),
            read: Some(Duration::from_secs(5)),
            write: Some(Duration::from_secs(7)),
            idle: Some(Duration::from_secs(3)),
            ..ClientLimits::default()
        }
    }

    #[test]
    fn a_head_is_bounded_while_it_is_read_and_only_then() {
        let c = Clock::new(ClientLimits {
            head_bytes: Some(100),
            ..limits()
        });
        c.first_request();
        c.bytes_read(100);
        assert!(!c.head_too_large(), "at the limit");
        c.bytes_read(1);
        assert!(c.head_too_large());
        c.head_done();
        c.bytes_read(10_000);
        assert!(!c.head_too_large(), "a body is not a head");
        c.next_request();
        c.bytes_read(60);
        c.bytes_read(60);
        assert!(
            c.head_too_large(),
            "each keep-alive head counts from its first byte"
        );
        c.h2_preface();
        c.bytes_read(1_000);
        assert!(
            !c.head_too_large(),
            "HTTP/2 is bounded by Pingora's h2 server"
        );
    }

    #[tokio::test]
    async fn deadlines_follow_the_request() {
        let c = Clock::new(limits());
        let base = c.base;
        c.first_request();
        let head = c.read_deadline().unwrap() - base;
        assert!(head <= Duration::from_millis(1100), "{head:?}");
        assert_eq!(c.write_deadline(), None);
        c.head_done();
        let read = c.read_deadline().unwrap() - base;
        assert!(read >= Duration::from_secs(5) && read < Duration::from_secs(6));
        assert!(c.write_deadline().is_some());
        c.body_done();
        assert_eq!(c.read_deadline(), None);
        c.next_request();
        let idle = c.read_deadline().unwrap() - base;
        assert!(idle >= Duration::from_secs(3) && idle < Duration::from_secs(4));
        c.bytes_read(1);
        let head = c.read_deadline().unwrap() - base;
        assert!(head < Duration::from_secs(2));
        assert_eq!(c.write_stall(), Some(Duration::from_secs(3)));
        c.release();
        assert_eq!((c.read_deadline(), c.write_deadline()), (None, None));
        assert_eq!(c.write_stall(), None);
        c.expire();
        let now = Instant::now();
        assert!(c.read_deadline().is_some_and(|at| at <= now));
        assert!(c.write_deadline().is_some_and(|at| at <= now));
    }

    #[tokio::test]
    async fn h2_preface_releases_the_clock() {
        let c = Clock::new(limits());
        c.h2_preface();
        assert!(c.read_deadline().is_some());
        c.bytes_read(20);
        assert!(c.read_deadline().is_some());
        c.bytes_read(30);
        assert_eq!((c.read_deadline(), c.write_stall()), (None, None));
    }
}
