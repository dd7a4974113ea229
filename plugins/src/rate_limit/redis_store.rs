//! Buckets kept in Redis, so that every pylon instance sharing it enforces one limit.
//!
//! One atomic Lua script per request (EVALSHA, EVAL when Redis lacks it) runs the same GCRA
//! bucket as the in-memory table, on Redis' clock, in microseconds; the key expires when the
//! bucket is full again. Every call is bounded by a timeout. When Redis cannot be reached the
//! store says `Unavailable` at once for a second (no request waits on a dead server), and the
//! outage is logged once, and its end once.

use super::buckets::{Decision, Rate};
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{Client, ErrorKind, RedisError, ServerErrorKind};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

/// The bucket: `KEYS[1]`; `ARGV`: interval, capacity, max delay (µs). Returns {admitted, wait µs}.
const SCRIPT: &str = r#"
if redis.replicate_commands then redis.replicate_commands() end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local interval = tonumber(ARGV[1])
local capacity = tonumber(ARGV[2])
local max_delay = tonumber(ARGV[3])
local tat = tonumber(redis.call('GET', KEYS[1]) or 0) or 0
if tat < now then tat = now end
local new_tat = tat + interval
local wait = new_tat - now - capacity
if wait > max_delay then return {0, math.ceil(wait)} end
redis.call('SET', KEYS[1], string.format('%.17g', new_tat), 'PX', math.ceil((new_tat - now) / 1000) + 1)
if wait < 0 then wait = 0 end
return {1, math.ceil(wait)}
"#;

/// After a failure, Redis is not asked again for this long.
const RETRY_AFTER_FAILURE: Duration = Duration::from_secs(1);

/// How to reach Redis.
#[derive(Debug, Clone)]
pub struct RedisSettings {
    /// `host:port` (port 6379 when missing).
    pub address: String,
    pub username: Option<String>,
    pub password: Option<String>,
    pub db: i64,
    pub dial_timeout: Duration,
    /// Bound of one call, connecting included.
    pub call_timeout: Duration,
    /// Admit requests (true) or refuse them while Redis cannot be reached.
    pub fail_open: bool,
}

/// The answer of the shared store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Decided(Decision),
    /// Redis did not answer (in time): the caller fails open or closed.
    Unavailable,
}

/// The Redis-backed buckets of one `rateLimit` instance.
pub struct RedisStore {
    /// The middleware's name, for logs and the key prefix.
    name: String,
    address: String,
    prefix: String,
    client: Client,
    /// Made on first use: it needs the runtime the proxy runs on.
    manager: Mutex<Option<ConnectionManager>>,
    script_hash: String,
    call_timeout: Duration,
    dial_timeout: Duration,
    fail_open: bool,
    epoch: Instant,
    /// Redis is not asked before this moment (ns since `epoch`).
    skip_until_ns: AtomicU64,
    /// Whether an outage is going on (and was logged).
    down: AtomicBool,
}

impl RedisStore {
    pub fn new(name: &str, s: &RedisSettings) -> Result<RedisStore, String> {
        let (host, port) = match s.address.rsplit_once(':') {
            Some((h, p)) if !h.is_empty() => (
                h.trim_start_matches('[').trim_end_matches(']'),
                p.parse::<u16>()
                    .map_err(|_| format!("`{}` has no valid port", s.address))?,
            ),
            _ => (s.address.as_str(), 6379),
        };
        let mut redis_info = redis::RedisConnectionInfo::default().set_db(s.db);
        if let Some(u) = s.username.as_deref().filter(|u| !u.is_empty()) {
            redis_info = redis_info.set_username(u);
        }
        if let Some(p) = s.password.as_deref().filter(|p| !p.is_empty()) {
            redis_info = redis_info.set_password(p);
        }
        let info = redis::IntoConnectionInfo::into_connection_info(redis::ConnectionAddr::Tcp(
            host.to_string(),
            port,
        ))
        .map_err(|e| e.to_string())?
        .set_redis_settings(redis_info);
        let client = Client::open(info).map_err(|e| e.to_string())?;
        Ok(RedisStore {
            name: name.to_string(),
            address: format!("{host}:{port}"),
            prefix: format!("pylon:ratelimit:{name}:"),
            client,
            manager: Mutex::new(None),
            script_hash: redis::Script::new(SCRIPT).get_hash().to_string(),
            call_timeout: s.call_timeout,
            dial_timeout: s.dial_timeout,
            fail_open: s.fail_open,
            epoch: Instant::now(),
            skip_until_ns: AtomicU64::new(0),
            down: AtomicBool::new(false),
        })
    }

    /// Takes a token from `source`'s shared bucket, within the call timeout.
    pub async fn check(&self, source: &str, rate: &Rate) -> Verdict {
        if self.now_ns() < self.skip_until_ns.load(Ordering::Relaxed) {
            return Verdict::Unavailable;
        }
        let mut conn = match self.connection() {
            Ok(c) => c,
            Err(e) => return self.failed(&e.to_string()),
        };
        let key = format!("{}{}", self.prefix, source);
        let call = eval(&mut conn, &self.script_hash, &key, rate);
        match tokio::time::timeout(self.call_timeout, call).await {
            Ok(Ok((admitted, wait_us))) => {
                self.recovered();
                let ns = u64::try_from(wait_us).unwrap_or(0).saturating_mul(1000);
                Verdict::Decided(if admitted == 1 {
                    Decision::Allow { delay_ns: ns }
                } else {
                    Decision::Deny { retry_in_ns: ns }
                })
            }
            Ok(Err(e)) => self.failed(&e.to_string()),
            Err(_) => self.failed(&format!("no answer within {:?}", self.call_timeout)),
        }
    }

    fn connection(&self) -> Result<ConnectionManager, RedisError> {
        let mut slot = self.manager.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(m) = slot.as_ref() {
            return Ok(m.clone());
        }
        let config = ConnectionManagerConfig::new()
            .set_number_of_retries(0)
            .set_connection_timeout(Some(self.dial_timeout))
            .set_response_timeout(Some(self.call_timeout));
        let m = ConnectionManager::new_lazy_with_config(self.client.clone(), config)?;
        *slot = Some(m.clone());
        Ok(m)
    }

    fn failed(&self, error: &str) -> Verdict {
        let until = self
            .now_ns()
            .saturating_add(RETRY_AFTER_FAILURE.as_nanos() as u64);
        self.skip_until_ns.store(until, Ordering::Relaxed);
        if !self.down.swap(true, Ordering::Relaxed) {
            let doing = if self.fail_open {
                "admitting every request (failOpen)"
            } else {
                "refusing requests with 503 (failOpen = false)"
            };
            log::warn!(
                "rateLimit `{}`: Redis at {} is unreachable ({error}); {doing} until it is back",
                self.name,
                self.address
            );
        }
        Verdict::Unavailable
    }

    fn recovered(&self) {
        if self.down.load(Ordering::Relaxed) && self.down.swap(false, Ordering::Relaxed) {
            log::info!(
                "rateLimit `{}`: Redis at {} is reachable again",
                self.name,
                self.address
            );
        }
    }

    /// Whether requests pass while Redis cannot be reached.
    pub fn fail_open(&self) -> bool {
        self.fail_open
    }

    fn now_ns(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_nanos()).unwrap_or(u64::MAX)
    }
}

/// Runs the script by its hash, sending its text only when Redis does not know it yet.
async fn eval(
    conn: &mut ConnectionManager,
    hash: &str,
    key: &str,
    rate: &Rate,
) -> Result<(i64, i64), RedisError> {
    let us = |ns: u64| format!("{:.3}", ns as f64 / 1000.0);
    let args = [
        us(rate.interval_ns),
        us(rate.capacity_ns),
        us(rate.max_delay_ns),
    ];
    let mut evalsha = redis::cmd("EVALSHA");
    evalsha.arg(hash).arg(1).arg(key).arg(&args[..]);
    match evalsha.query_async(conn).await {
        Err(e) if e.kind() == ErrorKind::Server(ServerErrorKind::NoScript) => {
            let mut eval = redis::cmd("EVAL");
            eval.arg(SCRIPT).arg(1).arg(key).arg(&args[..]);
            eval.query_async(conn).await
        }
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::{Child, Command, Stdio};

    struct Server(Child);

    impl Drop for Server {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }

    /// A `redis-server` on a free port; `None` when the binary is missing outside CI.
    async fn server() -> Option<(Server, u16)> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .unwrap();
        let child = Command::new("redis-server")
            .args([
                "--port",
                &port.to_string(),
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .args(["--bind", "127.0.0.1"])
            .stdout(Stdio::null())
            .spawn();
        let child = match child {
            Ok(c) => Server(c),
            Err(e) if std::env::var_os("CI").is_none() => {
                eprintln!("SKIPPED: no redis-server ({e})");
                return None;
            }
            Err(e) => panic!("redis-server is required in CI: {e}"),
        };
        for _ in 0..200 {
            if tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .is_ok()
            {
                return Some((child, port));
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("redis-server did not start");
    }

    fn store(port: u16) -> RedisStore {
        let s = RedisSettings {
            address: format!("127.0.0.1:{port}"),
            username: None,
            password: None,
            db: 0,
            dial_timeout: Duration::from_secs(1),
            call_timeout: Duration::from_millis(500),
            fail_open: true,
        };
        RedisStore::new("t", &s).unwrap()
    }

    #[tokio::test]
    async fn the_script_is_the_same_bucket_as_in_memory() {
        let Some((_server, port)) = server().await else {
            return;
        };
        let rate = Rate::new(5, Duration::from_secs(1), 5).unwrap();
        let s = store(port);
        for i in 0..5 {
            let v = s.check("a", &rate).await;
            assert!(
                matches!(v, Verdict::Decided(Decision::Allow { .. })),
                "{i}: {v:?}"
            );
        }
        match s.check("a", &rate).await {
            Verdict::Decided(Decision::Deny { retry_in_ns }) => {
                assert!(
                    (100_000_000..=200_000_000).contains(&retry_in_ns),
                    "{retry_in_ns}"
                )
            }
            v => panic!("{v:?}"),
        }
        let other = s.check("b", &rate).await;
        assert!(matches!(other, Verdict::Decided(Decision::Allow { .. })));
        // a second store (another pylon) sees the same bucket; EVAL loaded the script once
        let v = store(port).check("a", &rate).await;
        assert!(
            matches!(v, Verdict::Decided(Decision::Deny { .. })),
            "{v:?}"
        );
    }

    #[tokio::test]
    async fn an_unreachable_redis_is_unavailable_at_once_then_skipped() {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .unwrap();
        let rate = Rate::new(5, Duration::from_secs(1), 5).unwrap();
        let s = store(port);
        let started = std::time::Instant::now();
        assert_eq!(s.check("a", &rate).await, Verdict::Unavailable);
        assert_eq!(s.check("a", &rate).await, Verdict::Unavailable);
        assert!(started.elapsed() < Duration::from_millis(600));
        assert!(s.down.load(Ordering::Relaxed));
    }
}
