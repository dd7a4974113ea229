//! The nonces a digestAuth middleware handed out, with the highest request count (`nc`) each
//! was used with, so a captured request cannot be replayed.
//!
//! Bounded and expiring: at most `MAX_NONCES` (sharded, so challenges from many clients do not
//! wait on one lock), a nonce unused for `IDLE` is forgotten, and when a shard is full the
//! longest unused one makes room. A forgotten nonce is answered as stale (the client retries
//! with a new one, without asking its user again), never accepted.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Nonces remembered at most (about 80 bytes each).
pub const MAX_NONCES: usize = 16_384;
/// A nonce unused this long is forgotten.
pub const IDLE: Duration = Duration::from_secs(300);
const SHARDS: usize = 16;

#[derive(Debug, Clone, Copy)]
struct Client {
    /// The highest `nc` accepted so far (0: none yet).
    nc: u64,
    last_seen: Instant,
}

/// What a request's nonce and count are worth.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Use {
    /// Known, and the count is higher than any before: accepted (and recorded).
    Fresh,
    /// Not (or no longer) known: the client should retry with a new nonce.
    Stale,
    /// Known, but the count was used already: a replay.
    Replayed,
}

/// The nonces of one digestAuth middleware.
pub struct Nonces {
    shards: [Mutex<HashMap<String, Client>>; SHARDS],
}

impl Default for Nonces {
    fn default() -> Self {
        Nonces {
            shards: std::array::from_fn(|_| Mutex::new(HashMap::new())),
        }
    }
}

impl Nonces {
    fn shard(&self, nonce: &str) -> &Mutex<HashMap<String, Client>> {
        let n = nonce
            .bytes()
            .fold(0usize, |h, b| h.wrapping_mul(31).wrapping_add(b as usize));
        &self.shards[n % SHARDS]
    }

    /// Remembers a new nonce (from a challenge).
    pub fn issue(&self, nonce: String, now: Instant) {
        let mut map = self.shard(&nonce).lock().unwrap_or_else(|p| p.into_inner());
        if map.len() >= MAX_NONCES / SHARDS {
            map.retain(|_, c| now.saturating_duration_since(c.last_seen) < IDLE);
        }
        if map.len() >= MAX_NONCES / SHARDS {
            let oldest = map
                .iter()
                .min_by_key(|(_, c)| c.last_seen)
                .map(|(n, _)| n.clone());
            if let Some(oldest) = oldest {
                map.remove(&oldest);
            }
        }
        map.insert(
            nonce,
            Client {
                nc: 0,
                last_seen: now,
            },
        );
    }

    /// Records a use of `nonce` with count `nc` (the response was already verified).
    pub fn record(&self, nonce: &str, nc: u64, now: Instant) -> Use {
        let mut map = self.shard(nonce).lock().unwrap_or_else(|p| p.into_inner());
        let Some(client) = map.get_mut(nonce) else {
            return Use::Stale;
        };
        if now.saturating_duration_since(client.last_seen) >= IDLE {
            map.remove(nonce);
            return Use::Stale;
        }
        if client.nc != 0 && client.nc >= nc {
            return Use::Replayed;
        }
        client.nc = nc;
        client.last_seen = now;
        Use::Fresh
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
    fn counts_must_grow_and_unknown_or_idle_nonces_are_stale() {
        let n = Nonces::default();
        let t0 = Instant::now();
        n.issue("a".into(), t0);
        assert_eq!(n.record("a", 1, t0), Use::Fresh);
        assert_eq!(n.record("a", 1, t0), Use::Replayed);
        assert_eq!(n.record("a", 2, t0), Use::Fresh);
        assert_eq!(n.record("b", 1, t0), Use::Stale);
        assert_eq!(n.record("a", 3, t0 + IDLE), Use::Stale);
        assert_eq!(n.record("a", 4, t0 + IDLE), Use::Stale, "forgotten");
    }

    #[test]
    fn memory_is_bounded() {
        let n = Nonces::default();
        let t0 = Instant::now();
        for i in 0..MAX_NONCES * 2 {
            n.issue(format!("nonce-{i}"), t0 + Duration::from_micros(i as u64));
        }
        assert!(n.len() <= MAX_NONCES, "{}", n.len());
        let last = format!("nonce-{}", MAX_NONCES * 2 - 1);
        assert_eq!(n.record(&last, 1, t0 + Duration::from_secs(1)), Use::Fresh);
    }
}
