//! `rateLimit` settings (Traefik v3.4 keys, plus pylon's `failOpen` and `passwordFile`), their
//! checks, and the middleware built from them in the same pass.

use super::{RateLimit, RateLimitSettings, RedisSettings};
use crate::build::{BuildCx, BuildResult, Problems};
use crate::duration::Duration;
use crate::source_config::{source_criterion, SourceCriterionConfig};
use serde::{Deserialize, Serialize};
use std::time::Duration as StdDuration;

/// Bound of one Redis call when neither `readTimeout` nor `writeTimeout` is set.
const DEFAULT_CALL_TIMEOUT: StdDuration = StdDuration::from_millis(500);
/// Traefik's default `dialTimeout`.
const DEFAULT_DIAL_TIMEOUT: StdDuration = StdDuration::from_secs(5);

/// `rateLimit`: a token bucket per source; `average` tokens per `period`, at most `burst` saved.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Config {
    /// Requests allowed per `period` on average; 0 (the default) means no limit.
    pub average: Option<i64>,
    /// The period `average` is counted over (default 1s).
    pub period: Option<Duration>,
    /// How many requests may arrive at once (the bucket's size; default 1).
    pub burst: Option<i64>,
    pub source_criterion: Option<SourceCriterionConfig>,
    /// Keep the buckets in Redis so that several pylon instances enforce one limit.
    pub redis: Option<RedisConfig>,
}

/// Where the shared buckets live (Traefik v3.4's `rateLimit.redis`).
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RedisConfig {
    /// `host:port` of the Redis server; pylon uses one (a cluster seed list is refused).
    #[serde(default)]
    pub endpoints: Vec<String>,
    pub username: Option<String>,
    pub password: Option<String>,
    /// pylon: read the password from this file (trailing newline removed).
    pub password_file: Option<String>,
    pub db: Option<i64>,
    /// Time allowed to establish a connection (default 5s, as Traefik).
    pub dial_timeout: Option<Duration>,
    /// Bound of one Redis call, with `writeTimeout` (pylon's default: 500ms).
    pub read_timeout: Option<Duration>,
    pub write_timeout: Option<Duration>,
    /// Refused by name: pylon multiplexes every call on one connection per limiter.
    pub pool_size: Option<i64>,
    pub min_idle_conns: Option<i64>,
    pub max_active_conns: Option<i64>,
    /// TLS to Redis: recognised so that the error is clear; pylon does not support it yet.
    pub tls: Option<toml::Value>,
    /// pylon: when Redis cannot be reached, admit requests (true, the default) or refuse them.
    pub fail_open: Option<bool>,
}

/// Checks the settings and builds the middleware: one instance, whose buckets every router
/// naming it shares.
pub fn build(cfg: &Config, cx: &BuildCx) -> BuildResult<RateLimit> {
    let mut problems = Problems::new(cx, "rateLimit");
    check_rate(cfg, &mut problems);
    let redis = cfg
        .redis
        .as_ref()
        .and_then(|r| redis_settings(r, cx, &mut problems));
    if !problems.is_empty() {
        return Err(problems.into_errors());
    }
    let source = match source_criterion(cfg.source_criterion.as_ref()) {
        Ok(source) => source,
        Err(message) => {
            problems.push("sourceCriterion", message, None);
            return Err(problems.into_errors());
        }
    };
    let settings = RateLimitSettings {
        average: u64::try_from(cfg.average.unwrap_or(0)).unwrap_or(0),
        period: cfg
            .period
            .map_or(StdDuration::from_secs(1), Duration::get)
            .max(StdDuration::from_nanos(1)),
        burst: u64::try_from(cfg.burst.unwrap_or(1)).unwrap_or(1).max(1),
        source,
        redis,
    };
    RateLimit::new(cx.name, settings).map_err(|message| {
        problems.push("", message, None);
        problems.into_errors()
    })
}

/// `average`, `burst`, `period` and the source criterion's `ipStrategy`.
fn check_rate(r: &Config, problems: &mut Problems) {
    if r.average.is_some_and(|a| a < 0) {
        problems.push(
            "average",
            "must be 0 or more",
            Some("e.g. average = 100 (0 means no limit)".into()),
        );
    }
    if r.burst.is_some_and(|b| b < 1) {
        problems.push("burst", "must be 1 or more", Some("e.g. burst = 50".into()));
    }
    if r.period.is_some_and(|p| p.get().is_zero()) {
        problems.push(
            "period",
            "must be greater than 0",
            Some("e.g. period = \"1s\" (the default) or \"1m\"".into()),
        );
    }
    let strategy = r
        .source_criterion
        .as_ref()
        .and_then(|s| s.ip_strategy.as_ref());
    if let Some(d) = strategy.and_then(|i| i.depth).filter(|d| *d < 0) {
        problems.push(
            "sourceCriterion.ipStrategy.depth",
            format!("{d} is negative: must be 0 or more"),
            None,
        );
    }
    if let Some(bits) = strategy
        .and_then(|i| i.ipv6_subnet)
        .filter(|b| !(0..=128).contains(b))
    {
        problems.push(
            "sourceCriterion.ipStrategy.ipv6Subnet",
            format!("{bits} is not a prefix length: must be between 0 and 128"),
            Some("e.g. ipv6Subnet = 64 to count a whole /64 as one client".into()),
        );
    }
}

/// Checks `redis` (reading `passwordFile`) and gives its settings, defaults applied.
fn redis_settings(r: &RedisConfig, cx: &BuildCx, problems: &mut Problems) -> Option<RedisSettings> {
    let address = match r.endpoints.as_slice() {
        [] => {
            problems.push(
                "redis.endpoints",
                "is empty",
                Some("list the Redis server, e.g. endpoints = [\"127.0.0.1:6379\"]".into()),
            );
            None
        }
        [one] if one.trim().is_empty() => {
            problems.push("redis.endpoints[0]", "is empty", None);
            None
        }
        [one] => Some(one.trim().to_string()),
        _ => {
            problems.push(
                "redis.endpoints",
                "more than one endpoint: Redis Cluster and Sentinel are not supported yet by pylon",
                Some("name the one Redis server (or proxy) every pylon instance shares".into()),
            );
            None
        }
    };
    if r.tls.is_some() {
        problems.push(
            "redis.tls",
            "TLS to Redis is not supported yet by pylon",
            Some("remove `tls` and reach Redis over a private network or a TLS proxy".into()),
        );
    }
    let pool = [
        ("poolSize", r.pool_size),
        ("minIdleConns", r.min_idle_conns),
        ("maxActiveConns", r.max_active_conns),
    ];
    for (key, value) in pool {
        if value.is_some() {
            problems.push(
                &format!("redis.{key}"),
                "pylon sends every rate-limit call over one multiplexed Redis connection, so connection pool sizes are not supported",
                Some("remove the key to run on pylon".to_string()),
            );
        }
    }
    let password = match (&r.password, &r.password_file) {
        (Some(_), Some(_)) => {
            problems.push(
                "redis.passwordFile",
                "both `password` and `passwordFile` are set",
                Some("keep one of them".into()),
            );
            None
        }
        (_, Some(file)) => match (cx.read_file)(file) {
            Ok(text) => Some(text.trim_end_matches(['\r', '\n']).to_string()),
            Err(e) => {
                problems.push(
                    "redis.passwordFile",
                    format!("cannot read `{file}`: {e}"),
                    None,
                );
                None
            }
        },
        (p, None) => p.clone(),
    };
    if r.db.is_some_and(|d| d < 0) {
        problems.push("redis.db", "must be 0 or more", None);
    }
    for (field, d) in [
        ("dialTimeout", r.dial_timeout),
        ("readTimeout", r.read_timeout),
        ("writeTimeout", r.write_timeout),
    ] {
        if d.is_some_and(|d| d.get().is_zero()) {
            problems.push(
                &format!("redis.{field}"),
                "must be greater than 0",
                Some("e.g. \"500ms\"".into()),
            );
        }
    }
    let call_timeout = match (r.read_timeout, r.write_timeout) {
        (None, None) => DEFAULT_CALL_TIMEOUT,
        (read, write) => read
            .map(Duration::get)
            .max(write.map(Duration::get))
            .unwrap_or(DEFAULT_CALL_TIMEOUT),
    };
    Some(RedisSettings {
        address: address?,
        username: r.username.clone(),
        password,
        db: r.db.unwrap_or(0).max(0),
        dial_timeout: r.dial_timeout.map_or(DEFAULT_DIAL_TIMEOUT, Duration::get),
        call_timeout,
        fail_open: r.fail_open.unwrap_or(true),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(toml_text: &str) -> Config {
        toml::from_str(toml_text).unwrap()
    }

    fn error_keys(c: &Config) -> Vec<String> {
        build(c, &crate::build::test_cx())
            .err()
            .unwrap_or_default()
            .into_iter()
            .map(|e| e.key_path)
            .collect()
    }

    #[test]
    fn traefik_keys_parse_and_build() {
        let c = cfg(r#"
average = 100
period = "1m"
burst = 50
[sourceCriterion.ipStrategy]
depth = 2
[redis]
endpoints = ["127.0.0.1:6379"]
username = "u"
password = "p"
db = 2
dialTimeout = "1s"
readTimeout = "200ms"
writeTimeout = "300ms"
failOpen = false
"#);
        let mut problems = Problems::new(&crate::build::test_cx(), "rateLimit");
        let redis = c.redis.as_ref().unwrap();
        let r = redis_settings(redis, &crate::build::test_cx(), &mut problems).unwrap();
        assert_eq!(r.call_timeout, StdDuration::from_millis(300));
        assert_eq!(r.dial_timeout, StdDuration::from_secs(1));
        assert_eq!(r.db, 2);
        assert!(problems.is_empty());
        assert!(build(&c, &crate::build::test_cx()).is_ok());
    }

    #[test]
    fn unknown_keys_are_refused() {
        assert!(toml::from_str::<Config>("averag = 1").is_err());
        assert!(toml::from_str::<Config>("[redis]\nendpoint = \"x\"").is_err());
    }

    #[test]
    fn password_file_is_read_without_its_newline() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("pw");
        std::fs::write(&file, "s3cret\n").unwrap();
        let c = cfg(&format!(
            "average = 1\n[redis]\nendpoints = [\"h:1\"]\npasswordFile = {:?}\n",
            file.display().to_string()
        ));
        let mut problems = Problems::new(&crate::build::test_cx(), "rateLimit");
        let redis = c.redis.as_ref().unwrap();
        let r = redis_settings(redis, &crate::build::test_cx(), &mut problems).unwrap();
        assert_eq!(r.password.as_deref(), Some("s3cret"));
        assert_eq!(r.call_timeout, DEFAULT_CALL_TIMEOUT);
    }

    #[test]
    fn every_bad_setting_is_named_by_its_key() {
        let key = "http.middlewares.m.rateLimit";
        let c = cfg("average = -1\nburst = 0\nperiod = 0\n\
                     [sourceCriterion.ipStrategy]\ndepth = -1\nipv6Subnet = 129\n\
                     [redis]\nendpoints = [\"a:1\", \"b:1\"]\npoolSize = 3\ndb = -1\n\
                     password = \"p\"\npasswordFile = \"/nope\"\n");
        let keys = error_keys(&c);
        for field in [
            "average",
            "burst",
            "period",
            "sourceCriterion.ipStrategy.depth",
            "sourceCriterion.ipStrategy.ipv6Subnet",
            "redis.endpoints",
            "redis.poolSize",
            "redis.passwordFile",
            "redis.db",
        ] {
            assert!(
                keys.contains(&format!("{key}.{field}")),
                "{field}: {keys:?}"
            );
        }
        let unreadable =
            cfg("average = 1\n[redis]\nendpoints = [\"h:1\"]\npasswordFile = \"/no/such/pw\"\n");
        assert_eq!(
            error_keys(&unreadable),
            [format!("{key}.redis.passwordFile")]
        );
    }

    #[test]
    fn a_bad_source_header_is_refused_at_the_criterion() {
        let c = cfg("average = 1\n[sourceCriterion]\nrequestHeaderName = \"a b\"\n");
        assert_eq!(
            error_keys(&c),
            ["http.middlewares.m.rateLimit.sourceCriterion"]
        );
    }
}
