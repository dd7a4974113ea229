//! The breaker's rolling window of outcomes, as oxy keeps it: requests, network errors and
//! status codes over the last 10 seconds (ten 1-second slots), latencies over the last
//! 60 seconds (six 10-second histograms). Fixed size, atomics only.
//!
//! A slot is reused for a new second by the first request of that second (it wins a CAS on
//! the slot's tag and clears it). A request counted by another thread in the microseconds while
//! the slot is cleared can be lost: the window is a statistic, not a ledger.

use super::expression::Figures;
use super::latency::{self, Histogram};
use std::sync::atomic::Ordering::{AcqRel, Acquire, Relaxed, Release};
use std::sync::atomic::{AtomicU32, AtomicU64};

/// Counting slots and their length (oxy: 10 buckets of 1 s).
const COUNT_SLOTS: u64 = 10;
const COUNT_SLOT_NS: u64 = 1_000_000_000;
/// Latency slots and their length (oxy: 6 histograms of 10 s).
const LATENCY_SLOTS: u64 = 6;
const LATENCY_SLOT_NS: u64 = 10_000_000_000;
/// Status codes counted one by one: 0 to 999 (an answer without a status counts as 0).
const CODES: usize = 1000;
/// The tag of a slot holding nothing.
const EMPTY: u64 = u64::MAX;

/// One second of outcomes.
struct Counts {
    tag: AtomicU64,
    requests: AtomicU32,
    network_errors: AtomicU32,
    codes: Box<[AtomicU32]>,
}

impl Counts {
    fn new() -> Self {
        Counts {
            tag: AtomicU64::new(EMPTY),
            requests: AtomicU32::new(0),
            network_errors: AtomicU32::new(0),
            codes: (0..CODES).map(|_| AtomicU32::new(0)).collect(),
        }
    }

    fn clear(&self) {
        self.requests.store(0, Relaxed);
        self.network_errors.store(0, Relaxed);
        for c in self.codes.iter() {
            c.store(0, Relaxed);
        }
    }
}

/// Ten seconds of latencies.
struct Latencies {
    tag: AtomicU64,
    histogram: Histogram,
}

/// Takes `tag` over for period `now_tag` if it holds an older one; true when this call must
/// clear the slot.
fn claim(tag: &AtomicU64, now_tag: u64) -> bool {
    let seen = tag.load(Acquire);
    if seen == now_tag || (seen != EMPTY && seen > now_tag) {
        return false;
    }
    tag.compare_exchange(seen, now_tag, AcqRel, Acquire).is_ok()
}

/// The rolling window of one breaker.
pub struct Window {
    counts: Box<[Counts]>,
    latencies: Box<[Latencies]>,
}

impl Default for Window {
    fn default() -> Self {
        Window {
            counts: (0..COUNT_SLOTS).map(|_| Counts::new()).collect(),
            latencies: (0..LATENCY_SLOTS)
                .map(|_| Latencies {
                    tag: AtomicU64::new(EMPTY),
                    histogram: Histogram::default(),
                })
                .collect(),
        }
    }
}

impl Window {
    /// Counts one request that ended at `now` (ns) with `status` (0: none was sent).
    pub fn record(&self, now: u64, status: u16, network_error: bool, latency_us: u64) {
        let second = now / COUNT_SLOT_NS;
        if let Some(slot) = self.counts.get((second % COUNT_SLOTS) as usize) {
            if claim(&slot.tag, second) {
                slot.clear();
            }
            slot.requests.fetch_add(1, Relaxed);
            if network_error {
                slot.network_errors.fetch_add(1, Relaxed);
            }
            if let Some(c) = slot.codes.get(usize::from(status)) {
                c.fetch_add(1, Relaxed);
            }
        }
        let period = now / LATENCY_SLOT_NS;
        if let Some(slot) = self.latencies.get((period % LATENCY_SLOTS) as usize) {
            if claim(&slot.tag, period) {
                slot.histogram.clear();
            }
            slot.histogram.record(latency_us);
        }
    }

    /// Forgets everything (oxy resets its metrics when the breaker trips).
    pub fn reset(&self) {
        for slot in self.counts.iter() {
            slot.tag.store(EMPTY, Release);
        }
        for slot in self.latencies.iter() {
            slot.tag.store(EMPTY, Release);
        }
    }

    /// The figures at `now`, summed from the slots still in the window; latencies only if
    /// `with_latency` (they are 0 otherwise).
    pub fn figures(&self, now: u64, with_latency: bool) -> Sums {
        let second = now / COUNT_SLOT_NS;
        let live = |tag: u64, current: u64, slots: u64| {
            tag != EMPTY && tag <= current && current - tag < slots
        };
        let mut sums = Sums {
            requests: 0,
            network_errors: 0,
            codes: vec![0; CODES],
            latencies: Vec::new(),
        };
        for slot in self.counts.iter() {
            if !live(slot.tag.load(Acquire), second, COUNT_SLOTS) {
                continue;
            }
            sums.requests += u64::from(slot.requests.load(Relaxed));
            sums.network_errors += u64::from(slot.network_errors.load(Relaxed));
            for (sum, c) in sums.codes.iter_mut().zip(slot.codes.iter()) {
                *sum += u64::from(c.load(Relaxed));
            }
        }
        if with_latency {
            let period = now / LATENCY_SLOT_NS;
            sums.latencies = vec![0; latency::BUCKETS];
            for slot in self.latencies.iter() {
                if live(slot.tag.load(Acquire), period, LATENCY_SLOTS) {
                    slot.histogram.add_to(&mut sums.latencies);
                }
            }
        }
        sums
    }
}

/// The window summed at one check.
pub struct Sums {
    pub requests: u64,
    pub network_errors: u64,
    /// Responses per status code (index = code).
    codes: Vec<u64>,
    /// Latencies per histogram bucket (empty when not summed).
    latencies: Vec<u64>,
}

impl Sums {
    fn in_range(&self, from: u16, to: u16) -> u64 {
        let (from, to) = (usize::from(from).min(CODES), usize::from(to).min(CODES));
        self.codes.get(from..to).map_or(0, |c| c.iter().sum())
    }
}

impl Figures for Sums {
    fn network_error_ratio(&self) -> f64 {
        if self.requests == 0 {
            return 0.0;
        }
        self.network_errors as f64 / self.requests as f64
    }

    fn response_code_ratio(&self, from: u16, to: u16, div_from: u16, div_to: u16) -> f64 {
        let divisor = self.in_range(div_from, div_to);
        if divisor == 0 {
            return 0.0;
        }
        self.in_range(from, to) as f64 / divisor as f64
    }

    fn latency_at_quantile_ms(&self, quantile: f64) -> u64 {
        latency::value_at_percentile(&self.latencies, quantile) / 1000
    }

    fn requests(&self) -> u64 {
        self.requests
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: u64 = 1_000_000_000;

    #[test]
    fn counts_ratios_over_the_last_ten_seconds() {
        let w = Window::default();
        for i in 0..10 {
            w.record(S + i, 200, false, 1000);
        }
        for i in 0..5 {
            w.record(2 * S + i, 502, true, 1000);
        }
        w.record(2 * S, 404, false, 1000);
        let f = w.figures(3 * S, false);
        assert_eq!(f.requests(), 16);
        assert!((f.network_error_ratio() - 5.0 / 16.0).abs() < 1e-9);
        assert!((f.response_code_ratio(500, 600, 0, 600) - 5.0 / 16.0).abs() < 1e-9);
        assert!((f.response_code_ratio(400, 500, 400, 600) - 1.0 / 6.0).abs() < 1e-9);
        assert_eq!(f.response_code_ratio(300, 400, 300, 400), 0.0);
        // second 1 leaves the window at second 11, second 2 at 12
        assert_eq!(w.figures(10 * S, false).requests(), 16);
        assert_eq!(w.figures(11 * S, false).requests(), 6);
        assert_eq!(w.figures(12 * S, false).requests(), 0);
        assert_eq!(w.figures(12 * S, false).network_error_ratio(), 0.0);
    }

    #[test]
    fn a_slot_reused_for_a_later_second_starts_empty() {
        let w = Window::default();
        w.record(S, 500, false, 10);
        w.record(11 * S, 200, false, 10); // same slot, ten seconds later
        let f = w.figures(11 * S, false);
        assert_eq!(f.requests(), 1);
        assert_eq!(f.response_code_ratio(500, 600, 0, 600), 0.0);
    }

    #[test]
    fn latencies_cover_a_minute_and_reset_forgets_all() {
        let w = Window::default();
        for ms in 1..=100u64 {
            w.record(S, 200, false, ms * 1000);
        }
        let f = w.figures(50 * S, true);
        assert!((50..=51).contains(&f.latency_at_quantile_ms(50.0)));
        assert_eq!(w.figures(50 * S, false).latency_at_quantile_ms(50.0), 0);
        assert_eq!(w.figures(61 * S, true).latency_at_quantile_ms(50.0), 0);
        w.record(70 * S, 200, false, 5_000);
        w.reset();
        let f = w.figures(70 * S, true);
        assert_eq!((f.requests(), f.latency_at_quantile_ms(99.0)), (0, 0));
    }

    #[test]
    fn odd_statuses_count_as_requests_only() {
        let w = Window::default();
        w.record(S, 0, false, 1);
        w.record(S, u16::MAX, false, 1);
        let f = w.figures(S, false);
        assert_eq!(f.requests(), 2);
        assert_eq!(f.response_code_ratio(0, 1000, 0, 1000), 1.0);
    }
}
