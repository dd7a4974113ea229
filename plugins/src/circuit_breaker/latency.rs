//! A fixed-size latency histogram of atomics: 896 log-linear buckets from 1 µs to ~71 minutes,
//! each within 1/32 (about 3%) of the values it holds. Recording is one atomic add; nothing
//! grows.

use std::sync::atomic::{AtomicU32, Ordering::Relaxed};

/// Values below this are counted exactly.
const LINEAR: u64 = 32;
/// Sub-buckets per power of two above `LINEAR` (5 bits of mantissa).
const SUB_BITS: u32 = 5;
/// The largest value told apart (2^32 - 1 µs, about 71 minutes); above counts as it.
const MAX: u64 = u32::MAX as u64;
/// How many buckets: 32 exact ones, then 32 per power of two from 2^5 to 2^31.
pub const BUCKETS: usize = LINEAR as usize + (32 - SUB_BITS as usize) * (1 << SUB_BITS);

/// The bucket holding `micros`.
fn index(micros: u64) -> usize {
    let v = micros.min(MAX);
    if v < LINEAR {
        return v as usize;
    }
    let exp = 63 - v.leading_zeros(); // position of the leading one, >= 5
    let sub = (v >> (exp - SUB_BITS)) & ((1 << SUB_BITS) - 1);
    LINEAR as usize + ((exp - SUB_BITS) as usize) * (1 << SUB_BITS) + sub as usize
}

/// The highest value bucket `i` holds (what a quantile reports, as HDR histograms do).
fn highest(i: usize) -> u64 {
    if i < LINEAR as usize {
        return i as u64;
    }
    let group = ((i - LINEAR as usize) >> SUB_BITS) as u32;
    let sub = ((i - LINEAR as usize) & ((1 << SUB_BITS) - 1)) as u64;
    let step = 1u64 << group;
    ((LINEAR + sub) << group) + step - 1
}

/// Latencies counted per bucket.
pub struct Histogram {
    counts: Box<[AtomicU32]>,
}

impl Default for Histogram {
    fn default() -> Self {
        Histogram {
            counts: (0..BUCKETS).map(|_| AtomicU32::new(0)).collect(),
        }
    }
}

impl Histogram {
    pub fn record(&self, micros: u64) {
        if let Some(c) = self.counts.get(index(micros)) {
            c.fetch_add(1, Relaxed);
        }
    }

    pub fn clear(&self) {
        for c in self.counts.iter() {
            c.store(0, Relaxed);
        }
    }

    /// Adds this histogram's counts into `into` (one per bucket).
    pub fn add_to(&self, into: &mut [u64]) {
        for (sum, c) in into.iter_mut().zip(self.counts.iter()) {
            *sum += u64::from(c.load(Relaxed));
        }
    }
}

/// The value at `percentile` (0-100) of summed bucket `counts`, in µs; 0 when empty. As HDR
/// histograms: the rank is rounded to the nearest count, at least 1.
pub fn value_at_percentile(counts: &[u64], percentile: f64) -> u64 {
    let total: u64 = counts.iter().sum();
    if total == 0 {
        return 0;
    }
    let p = percentile.clamp(0.0, 100.0);
    let rank = ((p / 100.0 * total as f64) + 0.5) as u64;
    let rank = rank.clamp(1, total);
    let mut seen = 0u64;
    for (i, c) in counts.iter().enumerate() {
        seen += c;
        if seen >= rank {
            return highest(i);
        }
    }
    highest(counts.len().saturating_sub(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_cover_the_range_in_order_within_three_percent() {
        assert_eq!(index(0), 0);
        assert_eq!(index(31), 31);
        assert_eq!(index(32), 32);
        assert_eq!(index(MAX), BUCKETS - 1);
        assert_eq!(index(u64::MAX), BUCKETS - 1);
        let mut last = 0;
        for v in (0..5_000_000u64).step_by(997).chain([MAX - 1, MAX]) {
            let i = index(v);
            assert!(i >= last, "{v}");
            last = i;
            let h = highest(i);
            assert!(h >= v, "{v} above its bucket's top {h}");
            assert!((h - v) as f64 <= v as f64 / 32.0 + 1.0, "{v} vs {h}");
            assert_eq!(index(h), i, "top of bucket {i}");
        }
    }

    #[test]
    fn percentiles() {
        let h = Histogram::default();
        for ms in 1..=100u64 {
            h.record(ms * 1000);
        }
        let mut counts = vec![0u64; BUCKETS];
        h.add_to(&mut counts);
        let p50 = value_at_percentile(&counts, 50.0);
        assert!((50_000..=51_600).contains(&p50), "{p50}");
        let p99 = value_at_percentile(&counts, 99.0);
        assert!((99_000..=102_400).contains(&p99), "{p99}");
        assert_eq!(value_at_percentile(&[0; 4], 50.0), 0);
        h.clear();
        let mut counts = vec![0u64; BUCKETS];
        h.add_to(&mut counts);
        assert_eq!(counts.iter().sum::<u64>(), 0);
    }
}
