//! Failed-login throttling per client address, shared by the auth middlewares (basicAuth,
//! digestAuth): after `MAX_FAILURES` wrong passwords within
//! `WINDOW`, the address is answered 429 for `BLOCK`, without any hashing.
//!
//! A check is reserved before its hash is computed ([`FailureGuard::begin`]), so guesses sent
//! at once (100 streams of one HTTP/2 connection) are counted as they start: once the failures
//! and the checks in flight reach `MAX_FAILURES`, the rest are answered 429 unhashed; and one
//! address has at most `MAX_IN_FLIGHT` checks running.
//!
//! IPv6 clients are counted per /64 (one subscriber's usual allocation). Memory is bounded:
//! at most `MAX_TRACKED` addresses are tracked; when full, stale entries are dropped first and,
//! if none is stale, a new address is answered 429 until room is made (it cannot be counted,
//! so it is not let guess). Successful logins do not reset the count, so a valid account
//! cannot be used to launder guesses against another one.

use crate::Reply;
use http::header::RETRY_AFTER;
use http::{HeaderValue, StatusCode};
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Wrong passwords allowed from one address within `WINDOW` before it is blocked.
pub const MAX_FAILURES: u32 = 10;
/// The window failures are counted in, from the first one.
pub const WINDOW: Duration = Duration::from_secs(60);
/// How long a blocked address is answered 429.
pub const BLOCK: Duration = Duration::from_secs(60);
/// Password checks one address may have running at once.
pub const MAX_IN_FLIGHT: u32 = 4;
/// Addresses tracked at most (about 40 bytes each).
const MAX_TRACKED: usize = 65_536;
const SHARDS: usize = 16;

#[derive(Debug, Clone, Copy)]
struct Entry {
    window_start: Instant,
    failures: u32,
    /// Checks started and not finished yet.
    in_flight: u32,
    blocked_until: Option<Instant>,
}

impl Entry {
    fn fresh(now: Instant) -> Entry {
        Entry {
            window_start: now,
            failures: 0,
            in_flight: 0,
            blocked_until: None,
        }
    }

    fn stale(&self, now: Instant) -> bool {
        if self.in_flight > 0 {
            return false;
        }
        match self.blocked_until {
            Some(until) => until <= now,
            None => now.saturating_duration_since(self.window_start) > WINDOW,
        }
    }
}

/// A password check that may run: its hash is counted under `key` until it is finished.
#[derive(Debug)]
#[must_use = "finish the attempt, or its address keeps a check in flight"]
pub struct Attempt {
    key: IpAddr,
}

/// Why a check may not run now; answered 429, retry after the duration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// Too many failures (counting the checks in flight).
    Blocked(Duration),
    /// Too many checks in flight for the address, or no room to count it.
    Busy(Duration),
}

impl Refused {
    pub fn retry_after(self) -> Duration {
        match self {
            Refused::Blocked(d) | Refused::Busy(d) => d,
        }
    }
}

/// The failure counts of one auth middleware.
pub struct FailureGuard {
    shards: [Mutex<HashMap<IpAddr, Entry>>; SHARDS],
    tracked: AtomicUsize,
}

impl Default for FailureGuard {
    fn default() -> Self {
        FailureGuard {
            shards: std::array::from_fn(|_| Mutex::new(HashMap::new())),
            tracked: AtomicUsize::new(0),
        }
    }
}

/// The 429 answered to a throttled client, with `Retry-After` in whole seconds (at least 1).
pub fn too_many(wait: Duration) -> Reply {
    let mut reply = Reply::text(StatusCode::TOO_MANY_REQUESTS, "429 Too Many Requests\n");
    let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    reply
        .headers
        .push((RETRY_AFTER, HeaderValue::from(secs.max(1))));
    reply
}

/// The address failures are counted under: IPv4 as is, IPv6 by its /64.
fn key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6((u128::from(v6) & !((1u128 << 64) - 1)).into()),
        },
    }
}

impl FailureGuard {
    fn shard(&self, key: &IpAddr) -> &Mutex<HashMap<IpAddr, Entry>> {
        let n = match key {
            IpAddr::V4(v4) => u32::from(*v4) as usize,
            IpAddr::V6(v6) => (u128::from(*v6) >> 64) as usize,
        };
        &self.shards[(n.wrapping_mul(0x9E37_79B9) >> 7) & (SHARDS - 1)]
    }

    /// How long `ip` stays blocked, if it is.
    pub fn blocked(&self, ip: IpAddr, now: Instant) -> Option<Duration> {
        if self.tracked.load(Ordering::Relaxed) == 0 {
            return None;
        }
        let key = key(ip);
        let map = self.shard(&key).lock().unwrap_or_else(|p| p.into_inner());
        let until = map.get(&key)?.blocked_until?;
        (until > now).then(|| until - now)
    }

    /// Reserves a password check for `ip` before its hash is computed.
    pub fn begin(&self, ip: IpAddr, now: Instant) -> Result<Attempt, Refused> {
        let key = key(ip);
        let mut map = self.shard(&key).lock().unwrap_or_else(|p| p.into_inner());
        if !map.contains_key(&key) && map.len() >= MAX_TRACKED / SHARDS {
            let before = map.len();
            map.retain(|_, e| !e.stale(now));
            self.tracked
                .fetch_sub(before - map.len(), Ordering::Relaxed);
            if map.len() >= MAX_TRACKED / SHARDS {
                return Err(Refused::Busy(WINDOW));
            }
        }
        let entry = map.entry(key).or_insert_with(|| {
            self.tracked.fetch_add(1, Ordering::Relaxed);
            Entry::fresh(now)
        });
        if entry.stale(now) {
            *entry = Entry::fresh(now);
        }
        if let Some(until) = entry.blocked_until.filter(|until| *until > now) {
            return Err(Refused::Blocked(until - now));
        }
        let window_left = WINDOW.saturating_sub(now.saturating_duration_since(entry.window_start));
        if entry.failures + entry.in_flight >= MAX_FAILURES {
            return Err(Refused::Blocked(window_left.max(Duration::from_secs(1))));
        }
        if entry.in_flight >= MAX_IN_FLIGHT {
            return Err(Refused::Busy(Duration::from_secs(1)));
        }
        entry.in_flight += 1;
        Ok(Attempt { key })
    }

    /// Ends a reserved check; a wrong password is counted. True when this failure got the
    /// address blocked.
    pub fn finish(&self, attempt: Attempt, matched: bool, now: Instant) -> bool {
        let mut map = self
            .shard(&attempt.key)
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        let Some(entry) = map.get_mut(&attempt.key) else {
            return false;
        };
        entry.in_flight = entry.in_flight.saturating_sub(1);
        if matched {
            return false;
        }
        entry.failures += 1;
        if entry.failures >= MAX_FAILURES && entry.blocked_until.is_none() {
            entry.blocked_until = Some(now + BLOCK);
            return true;
        }
        false
    }

    /// A wrong password from `ip`, counted at once (tests): `begin` then `finish`.
    #[cfg(test)]
    fn failed(&self, ip: IpAddr, now: Instant) -> bool {
        match self.begin(ip, now) {
            Ok(attempt) => self.finish(attempt, false, now),
            Err(_) => false,
        }
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.shards
            .iter()
            .map(|s| s.lock().unwrap_or_else(|p| p.into_inner()).len())
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn too_many_says_when_to_retry() {
        let r = too_many(Duration::from_millis(1500));
        assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
        assert!(r.headers.iter().any(|(n, v)| *n == RETRY_AFTER && v == "2"));
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn checks_in_flight_count_before_their_hash_is_done() {
        // The steps below assume MAX_IN_FLIGHT = 4 and MAX_FAILURES = 10.
        const _: () = assert!(MAX_IN_FLIGHT == 4 && MAX_FAILURES == 10);
        let g = FailureGuard::default();
        let t0 = Instant::now();
        let client = ip("198.51.100.4");
        let start = |n: usize| -> Vec<Attempt> {
            (0..n)
                .map(|_| g.begin(client, t0).expect("a check may start"))
                .collect()
        };
        let first = start(4);
        assert_eq!(
            g.begin(client, t0).map(|_| ()),
            Err(Refused::Busy(Duration::from_secs(1))),
            "at most MAX_IN_FLIGHT at once"
        );
        for attempt in first {
            g.finish(attempt, false, t0);
        }
        for attempt in start(4) {
            g.finish(attempt, false, t0);
        }
        // 8 failures counted: two more checks may run, and a third is refused while they are
        // still hashing, before either has failed.
        let last = start(2);
        assert!(matches!(g.begin(client, t0), Err(Refused::Blocked(_))));
        for attempt in last {
            g.finish(attempt, false, t0);
        }
        assert!(g.blocked(client, t0).is_some());
    }

    #[test]
    fn blocks_after_the_tenth_failure_in_a_window_then_lets_go() {
        let g = FailureGuard::default();
        let t0 = Instant::now();
        for i in 1..MAX_FAILURES {
            assert!(!g.failed(ip("10.0.0.1"), t0), "failure {i}");
            assert_eq!(g.blocked(ip("10.0.0.1"), t0), None);
        }
        assert!(g.failed(ip("10.0.0.1"), t0));
        assert_eq!(g.blocked(ip("10.0.0.1"), t0), Some(BLOCK));
        assert_eq!(
            g.blocked(ip("10.0.0.2"), t0),
            None,
            "others are not affected"
        );
        let later = t0 + BLOCK + Duration::from_millis(1);
        assert_eq!(g.blocked(ip("10.0.0.1"), later), None);
        assert!(
            !g.failed(ip("10.0.0.1"), later),
            "a fresh window after the block"
        );
    }

    #[test]
    fn failures_spread_over_more_than_a_window_do_not_block() {
        let g = FailureGuard::default();
        let t0 = Instant::now();
        for i in 0..30u64 {
            let t = t0 + Duration::from_secs(7 * i);
            assert!(!g.failed(ip("192.0.2.9"), t), "failure {i}");
        }
    }

    #[test]
    fn ipv6_is_counted_per_64_and_mapped_v4_as_v4() {
        let g = FailureGuard::default();
        let t0 = Instant::now();
        for i in 0..MAX_FAILURES {
            g.failed(ip(&format!("2001:db8:1:2::{:x}", i + 1)), t0);
        }
        assert!(g.blocked(ip("2001:db8:1:2:ffff::1"), t0).is_some());
        assert!(g.blocked(ip("2001:db8:1:3::1"), t0).is_none());
        assert_eq!(key(ip("::ffff:10.1.2.3")), ip("10.1.2.3"));
    }

    #[test]
    fn memory_is_bounded_and_stale_entries_make_room() {
        let g = FailureGuard::default();
        let t0 = Instant::now();
        for n in 0..(2 * MAX_TRACKED as u32) {
            g.failed(IpAddr::V4(n.into()), t0);
        }
        assert!(g.len() <= MAX_TRACKED);
        let newcomer = ip("203.0.113.7");
        for _ in 0..MAX_FAILURES {
            g.failed(newcomer, t0);
        }
        assert!(
            g.blocked(newcomer, t0).is_none(),
            "a full table tracks no newcomer"
        );
        assert_eq!(
            g.begin(newcomer, t0).map(|_| ()),
            Err(Refused::Busy(WINDOW)),
            "and does not let it guess"
        );
        let later = t0 + WINDOW + Duration::from_secs(1);
        for _ in 0..MAX_FAILURES {
            g.failed(newcomer, later);
        }
        assert!(
            g.blocked(newcomer, later).is_some(),
            "stale entries made room"
        );
        assert_eq!(g.tracked.load(Ordering::Relaxed), g.len());
    }
}
