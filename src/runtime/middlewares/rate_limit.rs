//! Compiles a `rateLimit` middleware's settings into its plugin instance.

use super::{source_criterion, Built, CompileError};
use crate::config::middlewares::rate_limit::{RateLimitConfig, RedisConfig};
use pylon_plugins::rate_limit::{RateLimit, RateLimitSettings, RedisSettings};
use std::sync::Arc;
use std::time::Duration;

/// Bound of one Redis call when neither `readTimeout` nor `writeTimeout` is set.
const DEFAULT_CALL_TIMEOUT: Duration = Duration::from_millis(500);
/// Traefik's default `dialTimeout`.
const DEFAULT_DIAL_TIMEOUT: Duration = Duration::from_secs(5);

/// The middleware `name`: one instance, whose buckets every router naming it shares.
pub fn build(name: &str, cfg: &RateLimitConfig) -> Result<Built, CompileError> {
    let err = |field: &str, message: String| CompileError {
        key_path: format!("http.middlewares.{name}.rateLimit{field}"),
        message,
    };
    let source =
        source_criterion(cfg.source_criterion.as_ref()).map_err(|m| err(".sourceCriterion", m))?;
    let redis = match &cfg.redis {
        Some(r) => Some(redis_settings(r).map_err(|m| err(".redis", m))?),
        None => None,
    };
    let settings = RateLimitSettings {
        average: u64::try_from(cfg.average.unwrap_or(0)).unwrap_or(0),
        period: cfg
            .period
            .map_or(Duration::from_secs(1), |p| p.get())
            .max(Duration::from_nanos(1)),
        burst: u64::try_from(cfg.burst.unwrap_or(1)).unwrap_or(1).max(1),
        source,
        redis,
    };
    let plugin = RateLimit::new(name, settings).map_err(|m| err("", m))?;
    Ok(Built::Plugin(Arc::new(plugin)))
}

fn redis_settings(r: &RedisConfig) -> Result<RedisSettings, String> {
    let address = r
        .endpoints
        .first()
        .map(|e| e.trim().to_string())
        .filter(|e| !e.is_empty())
        .ok_or("`endpoints` is empty: name the Redis server")?;
    let password = match (&r.password, &r.password_file) {
        (_, Some(file)) => Some(
            crate::config::key_file::read_key_file_to_string(file)
                .map_err(|e| format!("cannot read passwordFile `{file}`: {e}"))?
                .trim_end_matches(['\r', '\n'])
                .to_string(),
        ),
        (p, None) => p.clone(),
    };
    let call_timeout = match (r.read_timeout, r.write_timeout) {
        (None, None) => DEFAULT_CALL_TIMEOUT,
        (read, write) => read
            .map(|d| d.get())
            .max(write.map(|d| d.get()))
            .unwrap_or(DEFAULT_CALL_TIMEOUT),
    };
    Ok(RedisSettings {
        address,
        username: r.username.clone(),
        password,
        db: r.db.unwrap_or(0).max(0),
        dial_timeout: r.dial_timeout.map_or(DEFAULT_DIAL_TIMEOUT, |d| d.get()),
        call_timeout,
        fail_open: r.fail_open.unwrap_or(true),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(toml_text: &str) -> RateLimitConfig {
        toml::from_str(toml_text).unwrap()
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
poolSize = 10
minIdleConns = 1
maxActiveConns = 20
dialTimeout = "1s"
readTimeout = "200ms"
writeTimeout = "300ms"
failOpen = false
"#);
        let r = redis_settings(c.redis.as_ref().unwrap()).unwrap();
        assert_eq!(r.call_timeout, Duration::from_millis(300));
        assert_eq!(r.dial_timeout, Duration::from_secs(1));
        assert_eq!(r.db, 2);
        assert!(build("m", &c).is_ok());
    }

    #[test]
    fn unknown_keys_are_refused() {
        assert!(toml::from_str::<RateLimitConfig>("averag = 1").is_err());
        assert!(toml::from_str::<RateLimitConfig>("[redis]\nendpoint = \"x\"").is_err());
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
        let r = redis_settings(c.redis.as_ref().unwrap()).unwrap();
        assert_eq!(r.password.as_deref(), Some("s3cret"));
        assert_eq!(r.call_timeout, DEFAULT_CALL_TIMEOUT);
    }

    #[test]
    fn ipv6_subnet_becomes_the_source_key_grouping() {
        use crate::runtime::middlewares::source_criterion;
        use pylon_plugins::source::SourceCriterion;
        let c = cfg("average = 1\n[sourceCriterion.ipStrategy]\nipv6Subnet = 64\n");
        let s = source_criterion(c.source_criterion.as_ref()).unwrap();
        assert_eq!(s, SourceCriterion::ClientIpSubnet { ipv6_subnet: 64 });
        let c = cfg("average = 1\n[sourceCriterion.ipStrategy]\ndepth = 1\nipv6Subnet = 56\n");
        let s = source_criterion(c.source_criterion.as_ref()).unwrap();
        assert!(matches!(
            s,
            SourceCriterion::ForwardedDepth {
                ipv6_subnet: Some(56),
                ..
            }
        ));
        let c = cfg("average = 1\n[sourceCriterion.ipStrategy]\nipv6Subnet = 129\n");
        assert!(build("m", &c).is_err());
    }
}
