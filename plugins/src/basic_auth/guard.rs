//! Failed-login throttling per client address: after `MAX_FAILURES` wrong passwords within
//! `WINDOW`, the address is answered 429 for `BLOCK`, without any hashing.
//!
//! IPv6 clients are counted per /64 (one subscriber's usual allocation). Memory is bounded:
//! at most `MAX_TRACKED` addresses are tracked; when full, stale entries are dropped first and,
//! if none is stale, a new address is not tracked (its failures still get 401s and cost a hash
//! each). Successful logins do not reset the count, so a valid account cannot be used to
//! launder guesses against another one.

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
/// Addresses tracked at most (about 40 bytes each).
const MAX_TRACKED: usize = 65_536;
const SHARDS: usize = 16;

#[derive(Debug, Clone, Copy)]
struct Entry {
    window_start: Instant,
    failures: u32,
    blocked_until: Option<Instant>,
}

impl Entry {
    fn stale(&self, now: Instant) -> bool {
        match self.blocked_until {
            Some(until) => until <= now,
            None => now.saturating_duration_since(self.window_start) > WINDOW,
        }
    }
}

/// The failure counts of one basicAuth middleware.
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

    /// Counts a wrong password from `ip`; true when this failure got it blocked.
    pub fn failed(&self, ip: IpAddr, now: Instant) -> bool {
        let key = key(ip);
        let mut map = self.shard(&key).lock().unwrap_or_else(|p| p.into_inner());
        if !map.contains_key(&key) && map.len() >= MAX_TRACKED / SHARDS {
            let before = map.len();
            map.retain(|_, e| !e.stale(now));
            self.tracked
                .fetch_sub(before - map.len(), Ordering::Relaxed);
            if map.len() >= MAX_TRACKED / SHARDS {
                return false;
            }
        }
        let entry = map.entry(key).or_insert_with(|| {
            self.tracked.fetch_add(1, Ordering::Relaxed);
            Entry {
                window_start: now,
                failures: 0,
                blocked_until: None,
            }
        });
        if entry.stale(now) {
            *entry = Entry {
                window_start: now,
                failures: 0,
                blocked_until: None,
            };
        }
        entry.failures += 1;
        if entry.failures >= MAX_FAILURES && entry.blocked_until.is_none() {
            entry.blocked_until = Some(now + BLOCK);
            return true;
        }
        false
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

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
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
