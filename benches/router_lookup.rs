//! Benchmarks `Router::lookup` at 10, 1,000 and 10,000 routes, and checks it does not allocate.

use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::net::IpAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use http::HeaderMap;
use pylon::router::{RouteSpec, Router};
use pylon::rule::{parse, RequestFacts};

/// Counts heap allocations so the bench can show `lookup` makes none.
struct CountingAlloc;

static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        System.alloc(layout)
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout)
    }
}

#[global_allocator]
static GLOBAL: CountingAlloc = CountingAlloc;

const SIZES: [usize; 3] = [10, 1_000, 10_000];

/// `n` routes in a realistic mix, plus a priority-1 catch-all.
fn build_router(n: usize) -> Router<usize> {
    let mut specs = Vec::with_capacity(n + 1);
    for i in 0..n {
        let rule = match i % 10 {
            0..=5 => format!("Host(`svc-{i}.example.com`) && PathPrefix(`/api/v{i}`)"),
            6..=8 => format!("PathPrefix(`/svc{i}`)"),
            _ => format!("Path(`/exact/{i}`) && Method(`GET`)"),
        };
        specs.push(spec(&format!("route-{i}"), &rule, None, i));
    }
    specs.push(spec("catch-all", "PathPrefix(`/`)", Some(1), usize::MAX));
    Router::build(specs)
}

fn spec(name: &str, rule: &str, priority: Option<i64>, value: usize) -> RouteSpec<usize> {
    let expr = parse(rule).unwrap_or_else(|e| panic!("{e}"));
    RouteSpec {
        name: name.to_owned(),
        rule: expr,
        rule_len: rule.chars().count(),
        priority,
        value,
    }
}

struct Request {
    label: &'static str,
    host: String,
    path: String,
    expect: usize,
}

/// A request for the host route in the middle of the table, one for a
/// host-less prefix route, and one only the catch-all matches.
fn requests(n: usize) -> Vec<Request> {
    let mid = n / 2 / 10 * 10; // i % 10 == 0: a Host && PathPrefix route
    let prefix = mid + 6; // i % 10 == 6: a PathPrefix route
    vec![
        Request {
            label: "middle-host",
            host: format!("Svc-{mid}.example.com:443"),
            path: format!("/api/v{mid}/items/42"),
            expect: mid,
        },
        Request {
            label: "middle-prefix",
            host: "www.example.com".to_owned(),
            path: format!("/svc{prefix}/a/b"),
            expect: prefix,
        },
        Request {
            label: "catch-all",
            host: "unknown.example.org".to_owned(),
            path: "/nothing/here".to_owned(),
            expect: usize::MAX,
        },
    ]
}

fn facts<'a>(req: &'a Request, headers: &'a HeaderMap) -> RequestFacts<'a> {
    RequestFacts {
        host: &req.host,
        path: &req.path,
        query: None,
        method: "GET",
        headers,
        client_ip: IpAddr::from([192, 0, 2, 1]),
    }
}

fn lookups(c: &mut Criterion) {
    let headers = HeaderMap::new();
    let mut group = c.benchmark_group("router_lookup");
    group
        .measurement_time(Duration::from_secs(3))
        .warm_up_time(Duration::from_secs(1))
        .sample_size(30);
    for n in SIZES {
        let router = build_router(n);
        for req in requests(n) {
            let facts = facts(&req, &headers);
            assert_eq!(router.lookup(&facts), Some(&req.expect), "{}", req.label);
            let before = ALLOCATIONS.load(Ordering::Relaxed);
            for _ in 0..1_000 {
                black_box(router.lookup(black_box(&facts)));
            }
            let allocated = ALLOCATIONS.load(Ordering::Relaxed) - before;
            assert_eq!(allocated, 0, "lookup allocated ({} at {n})", req.label);
            group.bench_with_input(BenchmarkId::new(req.label, n), &facts, |b, facts| {
                b.iter(|| router.lookup(black_box(facts)))
            });
        }
    }
    group.finish();
}

criterion_group!(benches, lookups);
criterion_main!(benches);
