//! The in-memory buckets of one `rateLimit` instance: Traefik's token bucket in GCRA form,
//! kept in sharded tables of compact entries from which full (idle) buckets are swept.
//!
//! A bucket is one number, its "theoretical arrival time" (TAT): the moment it would be full
//! again. `tokens(now) = burst - (TAT - now) / interval`, so a bucket whose TAT is in the past is
//! full and carries no information: the sweep drops it and a later request recreates it as full.

use hashbrown::HashTable;
use std::hash::{BuildHasher, Hash, RandomState};
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

/// Shards per table: concurrent requests rarely wait on the same lock.
pub const SHARDS: usize = 64;
/// At most this many buckets per shard (7/8 of a 32768-slot table, so it never grows past
/// that): about 1.8 million sources per address family. Beyond, new sources share one bucket
/// per shard (stricter, never unlimited) until the sweep frees room.
const MAX_PER_SHARD: usize = 28_672;
/// A shard is not swept for size before it holds this many buckets.
const MIN_SWEEP_LEN: usize = 256;

/// Traefik's token bucket: `average` tokens per `period`, at most `burst` saved up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    /// Time for one token to come back (`period / average`), ns.
    pub interval_ns: u64,
    /// `burst × interval`: how far the TAT may run ahead of now.
    pub capacity_ns: u64,
    /// Traefik delays a request rather than refusing it when its wait is at most this.
    pub max_delay_ns: u64,
}

/// What the limiter says about one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Admit it, after waiting `delay_ns` (0 nearly always).
    Allow { delay_ns: u64 },
    /// Refuse it: a token is `retry_in_ns` away.
    Deny { retry_in_ns: u64 },
}

impl Rate {
    /// The bucket for `average` per `period` with `burst`; `None` when `average` is 0 (no limit).
    pub fn new(average: u64, period: Duration, burst: u64) -> Option<Rate> {
        if average == 0 {
            return None;
        }
        let period_ns = u64::try_from(period.as_nanos()).unwrap_or(u64::MAX).max(1);
        let interval_ns = (period_ns / average).max(1);
        // Traefik: from 1 request/s up, wait at most half a token (its integer rate); below, 500ms.
        let per_sec = u128::from(average) * 1_000_000_000 / u128::from(period_ns);
        let max_delay_ns = match u64::try_from(per_sec) {
            Ok(0) => 500_000_000,
            Ok(r) => 1_000_000_000 / r.saturating_mul(2),
            Err(_) => 0,
        };
        Some(Rate {
            interval_ns,
            capacity_ns: interval_ns.saturating_mul(burst.max(1)),
            max_delay_ns,
        })
    }

    /// Decides for a bucket whose TAT is `tat` at `now`; on admission also the new TAT.
    pub fn decide(&self, tat: u64, now: u64) -> (Decision, Option<u64>) {
        let new_tat = tat.max(now).saturating_add(self.interval_ns);
        let wait = (new_tat - now).saturating_sub(self.capacity_ns);
        if wait > self.max_delay_ns {
            (Decision::Deny { retry_in_ns: wait }, None)
        } else {
            (Decision::Allow { delay_ns: wait }, Some(new_tat))
        }
    }

    /// How often a table is swept of full buckets: once they can have refilled, within 1s-60s.
    fn sweep_every_ns(&self) -> u64 {
        self.capacity_ns
            .saturating_add(self.max_delay_ns)
            .clamp(1_000_000_000, 60_000_000_000)
    }
}

/// A TAT stored in two `u32`s, so that an IPv4 entry takes 12 bytes rather than 16.
#[derive(Debug, Clone, Copy)]
struct Tat([u32; 2]);

impl Tat {
    fn new(ns: u64) -> Tat {
        Tat([ns as u32, (ns >> 32) as u32])
    }
    fn get(self) -> u64 {
        u64::from(self.0[0]) | (u64::from(self.0[1]) << 32)
    }
}

struct Shard<K> {
    entries: HashTable<(K, Tat)>,
    /// When the next sweep is due (ns since the limiter's epoch).
    sweep_at_ns: u64,
    /// Sweep when an insert finds this many buckets (doubles with the live count: amortised).
    sweep_at_len: usize,
    /// The bucket new sources share while the shard is full.
    overflow: Tat,
}

/// One table of buckets keyed by `K` (an IPv4 or IPv6 address, or a hashed string key).
pub struct Table<K> {
    hasher: RandomState,
    shards: Box<[Mutex<Shard<K>>]>,
    sweep_every_ns: u64,
}

impl<K: Copy + Eq + Hash> Table<K> {
    pub fn new(rate: &Rate) -> Self {
        let shards = (0..SHARDS)
            .map(|_| {
                Mutex::new(Shard {
                    entries: HashTable::new(),
                    sweep_at_ns: 0,
                    sweep_at_len: MIN_SWEEP_LEN,
                    overflow: Tat::new(0),
                })
            })
            .collect();
        Table {
            hasher: RandomState::new(),
            shards,
            sweep_every_ns: rate.sweep_every_ns(),
        }
    }

    /// Takes a token from `key`'s bucket at `now` (ns since the limiter's epoch), if it may.
    pub fn check(&self, key: K, rate: &Rate, now: u64) -> Decision {
        let hash = self.hasher.hash_one(key);
        // The middle bits pick the shard: hashbrown uses the low ones (slot) and the top 7 (tag).
        let shard = &self.shards[(hash >> 32) as usize % SHARDS];
        let mut s = shard.lock().unwrap_or_else(PoisonError::into_inner);
        if now >= s.sweep_at_ns {
            self.sweep(&mut s, now);
        }
        if let Some((_, tat)) = s.entries.find_mut(hash, |e| e.0 == key) {
            let (decision, new_tat) = rate.decide(tat.get(), now);
            if let Some(t) = new_tat {
                *tat = Tat::new(t);
            }
            return decision;
        }
        if s.entries.len() >= s.sweep_at_len {
            self.sweep(&mut s, now);
        }
        if s.entries.len() >= MAX_PER_SHARD {
            let (decision, new_tat) = rate.decide(s.overflow.get(), now);
            if let Some(t) = new_tat {
                s.overflow = Tat::new(t);
            }
            return decision;
        }
        let (decision, new_tat) = rate.decide(now, now);
        if let Some(t) = new_tat {
            s.entries
                .insert_unique(hash, (key, Tat::new(t)), |e| self.hasher.hash_one(e.0));
        }
        decision
    }

    /// Drops every full bucket (TAT not after `now`): they carry no information.
    fn sweep(&self, s: &mut Shard<K>, now: u64) {
        s.entries.retain(|e| e.1.get() > now);
        let len = s.entries.len();
        if s.entries.capacity() > 4 * len.max(MIN_SWEEP_LEN) {
            s.entries.shrink_to(2 * len, |e| self.hasher.hash_one(e.0));
        }
        s.sweep_at_len = (2 * len).max(MIN_SWEEP_LEN);
        s.sweep_at_ns = now.saturating_add(self.sweep_every_ns);
    }

    #[cfg(test)]
    fn sweep_all(&self, now: u64) {
        for m in self.shards.iter() {
            self.sweep(&mut m.lock().unwrap_or_else(PoisonError::into_inner), now);
        }
    }

    /// Buckets held now.
    pub fn len(&self) -> usize {
        self.lock_each(|s| s.entries.len())
    }

    /// Bytes the tables allocated (entries and control bytes).
    pub fn heap_bytes(&self) -> usize {
        self.lock_each(|s| s.entries.allocation_size())
            + self.shards.len() * std::mem::size_of::<Mutex<Shard<K>>>()
    }

    fn lock_each(&self, f: impl Fn(&Shard<K>) -> usize) -> usize {
        self.shards
            .iter()
            .map(|m| f(&m.lock().unwrap_or_else(PoisonError::into_inner)))
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: u64 = 1_000_000;
    const S: u64 = 1_000_000_000;

    fn rate(average: u64, period_ms: u64, burst: u64) -> Rate {
        Rate::new(average, Duration::from_millis(period_ms), burst).unwrap()
    }

    fn admitted(d: Decision) -> bool {
        matches!(d, Decision::Allow { .. })
    }

    #[test]
    fn average_zero_is_no_limit() {
        assert!(Rate::new(0, Duration::from_secs(1), 1).is_none());
    }

    #[test]
    fn burst_is_admitted_at_once_then_refused_with_the_wait() {
        let r = rate(5, 1000, 5);
        let t = Table::<u32>::new(&r);
        let now = 10 * S;
        for i in 0..5 {
            assert_eq!(t.check(1, &r, now), Decision::Allow { delay_ns: 0 }, "{i}");
        }
        // the next token comes 200ms later: more than Traefik's max delay (100ms)
        assert_eq!(
            t.check(1, &r, now),
            Decision::Deny {
                retry_in_ns: 200 * MS
            }
        );
        // another source has its own bucket
        assert!(admitted(t.check(2, &r, now)));
    }

    #[test]
    fn tokens_refill_at_average_per_period() {
        let r = rate(10, 1000, 1); // one token per 100ms
        let t = Table::<u32>::new(&r);
        let now = S;
        assert!(admitted(t.check(7, &r, now)));
        assert!(!admitted(t.check(7, &r, now + 10 * MS)));
        assert!(admitted(t.check(7, &r, now + 100 * MS)));
        // a long pause saves at most `burst` tokens
        assert!(admitted(t.check(7, &r, now + 10 * S)));
        assert!(!admitted(t.check(7, &r, now + 10 * S)));
    }

    #[test]
    fn a_short_wait_is_a_delay_not_a_refusal() {
        let r = rate(5, 1000, 1); // 200ms per token, max delay 100ms
        assert_eq!(r.max_delay_ns, 100 * MS);
        let t = Table::<u32>::new(&r);
        assert!(admitted(t.check(1, &r, S)));
        assert_eq!(
            t.check(1, &r, S + 150 * MS),
            Decision::Allow { delay_ns: 50 * MS }
        );
    }

    #[test]
    fn period_stretches_the_rate_below_one_per_second() {
        let r = rate(1, 60_000, 2); // one per minute, burst 2
        assert_eq!(r.interval_ns, 60 * S);
        assert_eq!(r.max_delay_ns, 500 * MS);
        let t = Table::<u64>::new(&r);
        assert!(admitted(t.check(9, &r, S)));
        assert!(admitted(t.check(9, &r, S)));
        assert_eq!(
            t.check(9, &r, S + 30 * S),
            Decision::Deny {
                retry_in_ns: 30 * S
            }
        );
        assert!(admitted(t.check(9, &r, S + 60 * S)));
    }

    #[test]
    fn full_buckets_are_swept_and_a_recreated_bucket_is_full() {
        let r = rate(100, 1000, 10); // refills completely in 100ms; swept every 1s
        let t = Table::<u32>::new(&r);
        for k in 0..10_000u32 {
            t.check(k, &r, S);
        }
        assert_eq!(t.len(), 10_000);
        // 2s later every bucket is full again: the first access of each shard sweeps it
        for k in 0..10_000u32 {
            t.check(k + 1_000_000, &r, 3 * S);
        }
        assert_eq!(t.len(), 10_000, "only the new keys are left");
        // a swept key starts with a full bucket again
        for _ in 0..10 {
            assert!(admitted(t.check(5, &r, 3 * S)));
        }
        assert!(!admitted(t.check(5, &r, 3 * S)));
    }

    #[test]
    fn the_sweep_keeps_buckets_that_are_not_full_yet() {
        let r = rate(1, 10_000, 1); // one per 10s
        let t = Table::<u32>::new(&r);
        assert!(admitted(t.check(1, &r, S))); // full again at 11s
        assert!(admitted(t.check(2, &r, 5 * S))); // full again at 15s
        t.sweep_all(12 * S);
        assert_eq!(t.len(), 1);
        assert!(!admitted(t.check(2, &r, 12 * S)), "key 2 kept its state");
        assert!(admitted(t.check(1, &r, 12 * S)));
    }

    #[test]
    fn tat_round_trips() {
        for v in [0, 1, u32::MAX as u64, 1 << 40, u64::MAX] {
            assert_eq!(Tat::new(v).get(), v);
        }
    }

    #[test]
    fn one_million_ipv4_sources_fit_in_64_mib() {
        let r = rate(100, 1000, 100);
        let t = Table::<u32>::new(&r);
        for i in 0..1_000_000u32 {
            t.check(0x0a00_0000 + i, &r, S);
        }
        assert_eq!(t.len(), 1_000_000);
        let bytes = t.heap_bytes();
        eprintln!(
            "1M IPv4 buckets: {:.1} MiB ({} bytes/source)",
            bytes as f64 / (1 << 20) as f64,
            bytes / 1_000_000
        );
        assert!(bytes <= 64 << 20, "{bytes} bytes");
    }

    #[test]
    fn one_million_ipv6_sources_fit_in_64_mib() {
        let r = rate(100, 1000, 100);
        let t = Table::<[u64; 2]>::new(&r);
        for i in 0..1_000_000u64 {
            t.check([0x2001_0db8_0000_0000, i], &r, S);
        }
        let bytes = t.heap_bytes();
        eprintln!(
            "1M IPv6 buckets: {:.1} MiB",
            bytes as f64 / (1 << 20) as f64
        );
        assert!(bytes <= 64 << 20, "{bytes} bytes");
    }

    #[test]
    fn a_full_shard_makes_new_sources_share_a_bucket_not_go_unlimited() {
        let r = rate(1, 1000, 1);
        let t = Table::<u32>::new(&r);
        let mut refused = 0;
        for k in 0..(SHARDS * MAX_PER_SHARD + 100_000) as u32 {
            if !admitted(t.check(k, &r, S)) {
                refused += 1;
            }
        }
        assert!(t.len() <= SHARDS * MAX_PER_SHARD);
        assert!(refused > 90_000, "{refused}");
    }
}
