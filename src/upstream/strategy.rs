//! `loadBalancer.strategy`: how a pool picks among its healthy servers. `wrr` (the default)
//! keeps the lock-free weighted round robin; `p2c`, `hrw` and `leasttime` read per-server
//! load counters that only they keep up to date.

use std::hash::{Hash, Hasher};
use std::net::IpAddr;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::time::Duration;

/// Traefik's strategy names.
pub const STRATEGIES: [&str; 4] = ["wrr", "p2c", "hrw", "leasttime"];

/// How a pool chooses a server.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum Strategy {
    /// Smooth weighted round robin.
    #[default]
    Wrr,
    /// Power of two choices: of two random servers, the one with fewer requests in flight.
    P2c,
    /// Highest random weight on the client IP: a client stays on one server, and removing a
    /// server moves only its clients.
    Hrw,
    /// The lowest average response time × requests in flight, per weight.
    LeastTime,
}

impl Strategy {
    /// Traefik's name (any case); `None` for an unknown one.
    pub fn parse(name: &str) -> Option<Strategy> {
        Some(match name.to_ascii_lowercase().as_str() {
            "wrr" => Strategy::Wrr,
            "p2c" => Strategy::P2c,
            "hrw" => Strategy::Hrw,
            "leasttime" => Strategy::LeastTime,
            _ => return None,
        })
    }

    /// Whether requests in flight and response times are counted (never for `wrr`).
    pub fn tracks_load(self) -> bool {
        matches!(self, Strategy::P2c | Strategy::LeastTime)
    }
}

/// One server's load, as `p2c` and `leasttime` see it.
#[derive(Debug, Default)]
pub struct Load {
    in_flight: AtomicU32,
    /// Exponentially weighted average of response-header times, in microseconds.
    average_micros: AtomicU64,
}

impl Load {
    pub fn begin(&self) {
        self.in_flight.fetch_add(1, Ordering::Relaxed);
    }

    pub fn end(&self) {
        let _ = self
            .in_flight
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1));
    }

    pub fn in_flight(&self) -> u32 {
        self.in_flight.load(Ordering::Relaxed)
    }

    /// Folds one response time into the average (weight 1/8 for the new sample).
    pub fn record(&self, took: Duration) {
        let sample = u64::try_from(took.as_micros()).unwrap_or(u64::MAX);
        let _ = self
            .average_micros
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |avg| {
                Some(match avg {
                    0 => sample.max(1),
                    avg => avg - avg / 8 + sample / 8,
                })
            });
    }

    pub fn average_micros(&self) -> u64 {
        self.average_micros.load(Ordering::Relaxed)
    }
}

/// `hrw`'s score of a server for a client: weighted rendezvous hashing (the highest wins).
pub fn hrw_score(client: IpAddr, token: &str, weight: u32) -> f64 {
    // A fixed-key hash: the same client picks the same server in every pylon process.
    let mut h = std::collections::hash_map::DefaultHasher::new();
    client.hash(&mut h);
    token.hash(&mut h);
    // (0, 1]: never 0, so the logarithm is finite
    let unit = ((h.finish() >> 11) as f64 + 1.0) / (1u64 << 53) as f64;
    -f64::from(weight.max(1)) / unit.ln().min(-f64::MIN_POSITIVE)
}

/// `leasttime`'s cost of a server (the lowest wins): average time × (in flight + 1) / weight.
pub fn least_time_cost(load: &Load, weight: u32) -> f64 {
    let average = load.average_micros().max(1) as f64;
    average * f64::from(load.in_flight() + 1) / f64::from(weight.max(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_traefiks() {
        for name in STRATEGIES {
            assert!(Strategy::parse(name).is_some(), "{name}");
        }
        assert_eq!(Strategy::parse("LeastTime"), Some(Strategy::LeastTime));
        assert_eq!(Strategy::parse("random"), None);
    }

    #[test]
    fn hrw_moves_only_the_clients_of_a_removed_server() {
        let servers = ["a", "b", "c", "d"];
        fn pick(client: IpAddr, among: &[&'static str]) -> &'static str {
            among
                .iter()
                .copied()
                .max_by(|x, y| hrw_score(client, x, 1).total_cmp(&hrw_score(client, y, 1)))
                .unwrap()
        }
        let clients: Vec<IpAddr> = (0..400u32)
            .map(|i| IpAddr::V4((0x0a00_0000 + i).into()))
            .collect();
        let mut moved = 0;
        let mut per_server = std::collections::HashMap::new();
        for c in &clients {
            let before = pick(*c, &servers);
            *per_server.entry(before).or_insert(0) += 1;
            let after = pick(*c, &servers[..3]);
            if before != "d" {
                assert_eq!(before, after, "a client of a remaining server moved");
            } else {
                moved += 1;
            }
        }
        assert!((60..=140).contains(&moved), "{moved} of 400 were on d");
        assert!(
            per_server.values().all(|n| (60..=140).contains(n)),
            "{per_server:?}"
        );
    }

    #[test]
    fn the_average_follows_the_samples_and_in_flight_never_underflows() {
        let l = Load::default();
        l.record(Duration::from_millis(80));
        assert_eq!(l.average_micros(), 80_000);
        for _ in 0..40 {
            l.record(Duration::from_millis(8));
        }
        assert!(l.average_micros() < 10_000, "{}", l.average_micros());
        l.end();
        assert_eq!(l.in_flight(), 0);
        l.begin();
        assert!(least_time_cost(&l, 1) > least_time_cost(&Load::default(), 1));
    }
}
