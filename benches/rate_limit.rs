//! Benchmarks the in-memory `rateLimit` decision with 1,000,000 client IPs tracked, and prints
//! the memory those buckets take (table bytes and the process' resident-set growth).

use std::hint::black_box;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use pylon_plugins::rate_limit::{RateLimit, RateLimitSettings};
use pylon_plugins::SourceCriterion;

const TRACKED: u32 = 1_000_000;

/// 100 per hour, burst 100: a bucket used once stays tracked (not full again) for 36 s.
fn limiter() -> RateLimit {
    let settings = RateLimitSettings {
        average: 100,
        period: Duration::from_secs(3600),
        burst: 100,
        source: SourceCriterion::ClientIp,
        redis: None,
    };
    RateLimit::new("bench", settings).expect("limiter")
}

/// Resident memory of this process, bytes (Linux).
fn rss() -> usize {
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| s.split_whitespace().nth(1).and_then(|p| p.parse().ok()))
        .map_or(0, |pages: usize| pages * 4096)
}

/// A cheap deterministic spread over the tracked addresses.
fn nth_ip(i: u64) -> IpAddr {
    let n = (i.wrapping_mul(2_654_435_761) % u64::from(TRACKED)) as u32;
    IpAddr::V4(Ipv4Addr::from(0x0a00_0000 + n))
}

fn bench(c: &mut Criterion) {
    let before = rss();
    let rl = limiter();
    for n in 0..TRACKED {
        rl.decide_ip(IpAddr::V4(Ipv4Addr::from(0x0a00_0000 + n)));
    }
    let (tracked, bytes) = rl.tracked();
    assert_eq!(tracked, TRACKED as usize);
    eprintln!(
        "rateLimit: {tracked} IPv4 sources tracked: tables {:.1} MiB, resident growth {:.1} MiB",
        bytes as f64 / 1048576.0,
        rss().saturating_sub(before) as f64 / 1048576.0
    );

    let mut group = c.benchmark_group("rate_limit_decision");
    group
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .sample_size(20);
    let mut i = 0u64;
    group.bench_function("tracked_ipv4_at_1M", |b| {
        b.iter(|| {
            i += 1;
            black_box(rl.decide_ip(black_box(nth_ip(i))))
        })
    });
    // the same lookups over 10,000 sources: tables that stay in the CPU caches
    let small = limiter();
    for n in 0..10_000u32 {
        small.decide_ip(IpAddr::V4(Ipv4Addr::from(0x0a00_0000 + n)));
    }
    let mut k = 0u64;
    group.bench_function("tracked_ipv4_at_10k", |b| {
        b.iter(|| {
            k += 1;
            let n = (k.wrapping_mul(2_654_435_761) % 10_000) as u32;
            black_box(small.decide_ip(black_box(IpAddr::V4(Ipv4Addr::from(0x0a00_0000 + n)))))
        })
    });
    let v6 = limiter();
    let mut j = 0u64;
    group.bench_function("new_ipv6_source", |b| {
        b.iter(|| {
            j += 1;
            let ip = IpAddr::V6(Ipv6Addr::from(0x2001_0db8_u128 << 96 | u128::from(j)));
            black_box(v6.decide_ip(black_box(ip)))
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
