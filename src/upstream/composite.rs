//! `failover` and `mirroring` services as requests see them: a main service with a fallback,
//! and a main service whose requests are copied, in a share, to mirrors.

use super::Balancer;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// `[http.services.<s>.failover]`.
#[derive(Debug)]
pub struct Failover {
    pub name: Arc<str>,
    pub main: Balancer,
    pub fallback: Balancer,
    /// `errors.status`: the main service's answers that send the request to the fallback.
    pub on_status: Vec<(u16, u16)>,
    /// `errors.maxRequestBodyBytes`: larger bodies are not sent again.
    pub max_replayed_body: usize,
}

impl Failover {
    /// Whether an answer of the main service with `status` goes to the fallback instead.
    pub fn fails_over_on(&self, status: u16) -> bool {
        self.on_status
            .iter()
            .any(|(lo, hi)| (*lo..=*hi).contains(&status))
    }
}

/// `[http.services.<s>.mirroring]`.
#[derive(Debug)]
pub struct Mirroring {
    pub name: Arc<str>,
    pub main: Balancer,
    pub mirrors: Box<[Mirror]>,
    /// `mirrorBody`: copy bodies up to `max_body` bytes (`None`: no limit); larger ones are not
    /// mirrored.
    pub mirror_body: bool,
    pub max_body: Option<usize>,
    /// Requests seen, for the percentages.
    total: AtomicU64,
}

/// One mirror and its share of the requests.
#[derive(Debug)]
pub struct Mirror {
    pub service: Balancer,
    pub percent: u64,
    /// Requests copied to it so far.
    sent: AtomicU64,
}

impl Mirror {
    pub fn new(service: Balancer, percent: u64) -> Mirror {
        Mirror {
            service,
            percent: percent.min(100),
            sent: AtomicU64::new(0),
        }
    }
}

/// At most this many mirrors per mirroring service (more are refused when the config loads).
pub const MAX_MIRRORS: usize = 32;

impl Mirroring {
    pub fn new(
        name: &str,
        main: Balancer,
        mirrors: Vec<Mirror>,
        mirror_body: bool,
        max_body: Option<usize>,
    ) -> Mirroring {
        Mirroring {
            name: Arc::from(name),
            main,
            mirrors: mirrors.into_boxed_slice(),
            mirror_body,
            max_body,
            total: AtomicU64::new(0),
        }
    }

    /// The mirrors this request is copied to (bit i: mirror i), as Traefik counts: a mirror
    /// with `percent` p gets a request while it has had fewer than p% of all requests so far,
    /// so the copies are spread evenly.
    pub fn choose(&self) -> u32 {
        let total = self.total.fetch_add(1, Ordering::Relaxed) + 1;
        let mut chosen = 0u32;
        for (i, m) in self.mirrors.iter().enumerate().take(MAX_MIRRORS) {
            let due = m
                .sent
                .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |sent| {
                    (sent * 100 < total * m.percent).then_some(sent + 1)
                })
                .is_ok();
            if due {
                chosen |= 1 << i;
            }
        }
        chosen
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentages_are_spread_evenly() {
        let m = Mirroring::new(
            "m",
            Balancer::empty("main"),
            vec![
                Mirror::new(Balancer::empty("a"), 100),
                Mirror::new(Balancer::empty("b"), 25),
                Mirror::new(Balancer::empty("c"), 0),
            ],
            true,
            None,
        );
        let picks: Vec<u32> = (0..8).map(|_| m.choose()).collect();
        let count = |bit: u32| picks.iter().filter(|p| *p & bit != 0).count();
        assert_eq!((count(1), count(2), count(4)), (8, 2, 0));
        // b's two copies are four requests apart, not back to back
        let b: Vec<usize> = (0..8).filter(|i| picks[*i] & 2 != 0).collect();
        assert_eq!(b[1] - b[0], 4);
    }

    #[test]
    fn statuses_fail_over_by_range() {
        let f = Failover {
            name: Arc::from("f"),
            main: Balancer::empty("a"),
            fallback: Balancer::empty("b"),
            on_status: vec![(500, 599), (429, 429)],
            max_replayed_body: 0,
        };
        assert!(f.fails_over_on(503) && f.fails_over_on(429));
        assert!(!f.fails_over_on(404) && !f.fails_over_on(200));
    }
}
