//! The `rateLimit` middleware: Traefik's token bucket per source, 429 with `Retry-After` past it.
//!
//! One instance (and so one set of buckets) per configured middleware, shared by every router
//! that names it. Buckets live in memory (`buckets`) or, with `redis`, in Redis so that several
//! pylon instances enforce one limit (`redis_store`). Its settings, their checks and the build
//! are in `config`.

mod buckets;
mod config;
mod redis_store;

pub use buckets::{Decision, Rate};
pub use config::{build, Config, RedisConfig};
pub use redis_store::RedisSettings;

use crate::source::SourceCriterion;
use crate::{Flow, Plugin, PluginCtx, Reply};
use async_trait::async_trait;
use buckets::Table;
use bytes::Bytes;
use http::{HeaderName, HeaderValue, StatusCode};
use pingora_error::Result;
use pingora_proxy::Session;
use redis_store::{RedisStore, Verdict};
use std::hash::{BuildHasher, RandomState};
use std::net::IpAddr;
use std::time::{Duration, Instant};

/// A `rateLimit` middleware's settings, defaults applied.
#[derive(Debug, Clone)]
pub struct RateLimitSettings {
    /// Requests per `period` on average; 0 means no limit.
    pub average: u64,
    pub period: Duration,
    pub burst: u64,
    pub source: SourceCriterion,
    /// Keep the buckets in Redis, shared by every pylon instance using it.
    pub redis: Option<RedisSettings>,
}

/// One `rateLimit` middleware instance.
pub struct RateLimit {
    source: SourceCriterion,
    /// `None` when `average` is 0: every request passes.
    limit: Option<(Rate, Backend)>,
}

enum Backend {
    Local(Box<Local>),
    Redis(Box<RedisStore>),
}

/// The source of a request: an address (compact tables) or another key (hashed).
enum SourceKey {
    Ip(IpAddr),
    Text(String),
}

impl RateLimit {
    /// Builds the middleware `name` (the name prefixes its keys in Redis).
    pub fn new(name: &str, s: RateLimitSettings) -> std::result::Result<RateLimit, String> {
        let limit = match Rate::new(s.average, s.period, s.burst) {
            None => None,
            Some(rate) => {
                let backend = match &s.redis {
                    None => Backend::Local(Box::new(Local::new(&rate))),
                    Some(r) => Backend::Redis(Box::new(RedisStore::new(name, r)?)),
                };
                Some((rate, backend))
            }
        };
        Ok(RateLimit {
            source: s.source,
            limit,
        })
    }

    /// The in-memory decision for a request from `ip` (pass-all without a limit; with Redis,
    /// which this does not ask, too). For benchmarks and tests.
    pub fn decide_ip(&self, ip: IpAddr) -> Decision {
        match &self.limit {
            Some((rate, Backend::Local(l))) => l.check(&SourceKey::Ip(canonical(ip)), rate),
            _ => Decision::Allow { delay_ns: 0 },
        }
    }

    /// Sources with a bucket in memory now, and the bytes their tables take.
    pub fn tracked(&self) -> (usize, usize) {
        match &self.limit {
            Some((_, Backend::Local(l))) => l.tracked(),
            _ => (0, 0),
        }
    }

    fn source_key(&self, session: &Session, client_ip: IpAddr) -> SourceKey {
        if self.source == SourceCriterion::ClientIp {
            return SourceKey::Ip(canonical(client_ip));
        }
        let key = self.source.key(session.req_header(), client_ip);
        match key.parse::<IpAddr>() {
            Ok(ip) => SourceKey::Ip(canonical(ip)),
            Err(_) => SourceKey::Text(key),
        }
    }
}

#[async_trait]
impl Plugin for RateLimit {
    fn kind(&self) -> &'static str {
        "rateLimit"
    }

    async fn request_filter(&self, session: &mut Session, cx: &mut PluginCtx) -> Result<Flow> {
        let Some((rate, backend)) = &self.limit else {
            return Ok(Flow::Continue);
        };
        let key = self.source_key(session, cx.client_ip);
        let decision = match backend {
            Backend::Local(l) => l.check(&key, rate),
            Backend::Redis(store) => {
                let text = match &key {
                    SourceKey::Ip(ip) => ip.to_string(),
                    SourceKey::Text(t) => t.clone(),
                };
                match store.check(&text, rate).await {
                    Verdict::Decided(d) => d,
                    Verdict::Unavailable if store.fail_open() => return Ok(Flow::Continue),
                    Verdict::Unavailable => return Ok(Flow::Respond(unavailable())),
                }
            }
        };
        match decision {
            Decision::Allow { delay_ns: 0 } => Ok(Flow::Continue),
            Decision::Allow { delay_ns } => {
                // Traefik waits for a token that is less than half an interval away.
                tokio::time::sleep(Duration::from_nanos(delay_ns)).await;
                Ok(Flow::Continue)
            }
            Decision::Deny { retry_in_ns } => Ok(Flow::Respond(too_many(retry_in_ns))),
        }
    }
}

/// The in-memory buckets: IPv4 and IPv6 sources in their own compact tables, other keys hashed.
struct Local {
    epoch: Instant,
    v4: Table<u32>,
    v6: Table<[u64; 2]>,
    other: Table<u64>,
    hasher: RandomState,
}

impl Local {
    fn new(rate: &Rate) -> Self {
        Local {
            epoch: Instant::now(),
            v4: Table::new(rate),
            v6: Table::new(rate),
            other: Table::new(rate),
            hasher: RandomState::new(),
        }
    }

    fn check(&self, key: &SourceKey, rate: &Rate) -> Decision {
        let now = u64::try_from(self.epoch.elapsed().as_nanos()).unwrap_or(u64::MAX);
        match key {
            SourceKey::Ip(IpAddr::V4(a)) => self.v4.check(u32::from(*a), rate, now),
            SourceKey::Ip(IpAddr::V6(a)) => {
                let n = u128::from(*a);
                self.v6.check([(n >> 64) as u64, n as u64], rate, now)
            }
            SourceKey::Text(t) => self.other.check(self.hasher.hash_one(t), rate, now),
        }
    }

    fn tracked(&self) -> (usize, usize) {
        (
            self.v4.len() + self.v6.len() + self.other.len(),
            self.v4.heap_bytes() + self.v6.heap_bytes() + self.other.heap_bytes(),
        )
    }
}

/// `::ffff:a.b.c.d` counts as `a.b.c.d`.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(ip),
        v4 => v4,
    }
}

/// Traefik's refusal: 429, `Retry-After` in whole seconds (rounded up), `X-Retry-In` exactly.
fn too_many(retry_in_ns: u64) -> Reply {
    let secs = retry_in_ns.div_ceil(1_000_000_000).max(1);
    let mut reply = Reply::text(StatusCode::TOO_MANY_REQUESTS, "Too Many Requests");
    reply.headers.push((
        http::header::RETRY_AFTER,
        HeaderValue::from_str(&secs.to_string()).unwrap_or(HeaderValue::from_static("1")),
    ));
    if let Ok(v) = HeaderValue::from_str(&go_duration(retry_in_ns)) {
        reply
            .headers
            .push((HeaderName::from_static("x-retry-in"), v));
    }
    reply
}

/// The limiter itself cannot decide (Redis unreachable, `failOpen = false`).
fn unavailable() -> Reply {
    let mut reply = Reply::text(StatusCode::SERVICE_UNAVAILABLE, "Service Unavailable");
    reply.body = Bytes::from_static(b"Service Unavailable: the rate limiter cannot decide");
    reply
        .headers
        .push((http::header::RETRY_AFTER, HeaderValue::from_static("1")));
    reply
}

/// A duration as Go prints it (`199.982ms`, `1.5s`, `1m30s`), as Traefik's `X-Retry-In` has it.
fn go_duration(ns: u64) -> String {
    fn with_fraction(whole: u64, fraction: u64, digits: usize) -> String {
        if fraction == 0 {
            return whole.to_string();
        }
        let f = format!("{fraction:0digits$}");
        format!("{whole}.{}", f.trim_end_matches('0'))
    }
    match ns {
        0 => "0s".to_string(),
        n if n < 1_000 => format!("{n}ns"),
        n if n < 1_000_000 => format!("{}µs", with_fraction(n / 1_000, n % 1_000, 3)),
        n if n < 1_000_000_000 => {
            format!("{}ms", with_fraction(n / 1_000_000, n % 1_000_000, 6))
        }
        n => {
            let secs = n / 1_000_000_000;
            let s = with_fraction(secs % 60, n % 1_000_000_000, 9);
            match (secs / 3600, secs / 60 % 60) {
                (0, 0) => format!("{s}s"),
                (0, m) => format!("{m}m{s}s"),
                (h, m) => format!("{h}h{m}m{s}s"),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limiter(average: u64, burst: u64) -> RateLimit {
        let s = RateLimitSettings {
            average,
            period: Duration::from_secs(1),
            burst,
            source: SourceCriterion::ClientIp,
            redis: None,
        };
        RateLimit::new("t", s).unwrap()
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn go_durations() {
        assert_eq!(go_duration(0), "0s");
        assert_eq!(go_duration(999), "999ns");
        assert_eq!(go_duration(1_500), "1.5µs");
        assert_eq!(go_duration(199_982_000), "199.982ms");
        assert_eq!(go_duration(200_000_000), "200ms");
        assert_eq!(go_duration(1_500_000_000), "1.5s");
        assert_eq!(go_duration(90_000_000_000), "1m30s");
        assert_eq!(go_duration(3_600_000_000_000), "1h0m0s");
    }

    #[test]
    fn refusal_carries_retry_after_rounded_up_and_x_retry_in() {
        let r = too_many(200_000_000);
        assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
        let get = |n: &str| {
            r.headers
                .iter()
                .find(|(k, _)| k.as_str() == n)
                .map(|(_, v)| v.to_str().unwrap().to_string())
        };
        assert_eq!(get("retry-after").as_deref(), Some("1"));
        assert_eq!(get("x-retry-in").as_deref(), Some("200ms"));
        assert_eq!(too_many(2_100_000_000).headers[1].1.to_str().unwrap(), "3");
    }

    #[test]
    fn average_zero_passes_everything_and_tracks_nothing() {
        let l = limiter(0, 1);
        for _ in 0..100 {
            assert_eq!(l.decide_ip(ip("10.0.0.1")), Decision::Allow { delay_ns: 0 });
        }
        assert_eq!(l.tracked().0, 0);
    }

    #[test]
    fn mapped_ipv4_shares_the_ipv4_bucket() {
        let l = limiter(1, 1);
        assert!(matches!(
            l.decide_ip(ip("10.0.0.1")),
            Decision::Allow { .. }
        ));
        assert!(matches!(
            l.decide_ip(ip("::ffff:10.0.0.1")),
            Decision::Deny { .. }
        ));
        assert!(matches!(
            l.decide_ip(ip("2001:db8::1")),
            Decision::Allow { .. }
        ));
        assert!(matches!(
            l.decide_ip(ip("2001:db8::1")),
            Decision::Deny { .. }
        ));
        assert_eq!(l.tracked().0, 2);
    }
}
