//! The Redis key-value provider (Traefik's `[providers.redis]`): keys under `rootKey`
//! (`traefik/http/routers/web/rule`, lists as `.../entrypoints/0`) become the provider's part of
//! the dynamic config, names `web@redis`; the keys are read again every `pollInterval`.
//!
//! - [`crate::provider::kv`] turns the keys into the part (shared with etcd).
//! - [`fetch`] connects (credentials, `db`) and reads the keys with SCAN and MGET, bounded.
//! - [`watch`] polls, publishes on change, and keeps the last good keys through outages.

pub mod fetch;
pub mod watch;

use crate::config::static_config::RedisProviderConfig;
use crate::config::ConfigError;
use crate::provider::kv::{self, non_empty, parse_endpoint};
use std::time::Duration;

/// Traefik's default endpoint.
pub const DEFAULT_ENDPOINT: &str = "127.0.0.1:6379";
/// How often the keys are read when `pollInterval` is not set.
pub const DEFAULT_POLL_INTERVAL: Duration = Duration::from_secs(2);
/// The shortest `pollInterval` accepted.
pub const MIN_POLL_INTERVAL: Duration = Duration::from_millis(100);

/// `[providers.redis]`, checked and ready to use. Debug leaves the password out.
#[derive(Clone)]
pub struct RedisSettings {
    /// `host:port` of each endpoint, tried in order.
    pub endpoints: Vec<(String, u16)>,
    pub root_key: String,
    pub username: Option<String>,
    pub password: Option<String>,
    pub db: i64,
    pub poll_interval: Duration,
    pub max_keys: usize,
}

impl std::fmt::Debug for RedisSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisSettings")
            .field("endpoints", &self.endpoints)
            .field("root_key", &self.root_key)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .field("db", &self.db)
            .field("poll_interval", &self.poll_interval)
            .finish()
    }
}

impl RedisSettings {
    /// Checks the keys; errors name the key and the fix.
    pub fn from_config(
        c: &RedisProviderConfig,
        origin: &str,
    ) -> Result<RedisSettings, ConfigError> {
        let listed = c
            .endpoints
            .clone()
            .filter(|e| !e.is_empty())
            .unwrap_or_else(|| vec![DEFAULT_ENDPOINT.to_string()]);
        let mut endpoints = Vec::new();
        for (i, e) in listed.iter().enumerate() {
            endpoints.push(parse_endpoint(e).ok_or_else(|| {
                ConfigError::new(
                    origin,
                    format!("providers.redis.endpoints[{i}]"),
                    format!("`{e}` is not a host:port"),
                )
                .with_hint("write e.g. \"127.0.0.1:6379\" or \"redis.internal:6379\"")
            })?);
        }
        let root_key = kv::root_key(c.root_key.as_deref(), "redis", origin)?;
        let db = c.db.unwrap_or(0);
        if db < 0 {
            return Err(ConfigError::new(
                origin,
                "providers.redis.db",
                format!("{db} is not a database number"),
            )
            .with_hint("write 0 (the default) or another index below the server's `databases`"));
        }
        let poll_interval = c.poll_interval.map_or(DEFAULT_POLL_INTERVAL, |d| d.get());
        if poll_interval < MIN_POLL_INTERVAL {
            return Err(ConfigError::new(
                origin,
                "providers.redis.pollInterval",
                format!("{poll_interval:?} is shorter than {MIN_POLL_INTERVAL:?}"),
            )
            .with_hint("write e.g. \"2s\" (the default)"));
        }
        Ok(RedisSettings {
            endpoints,
            root_key,
            username: non_empty(&c.username),
            password: non_empty(&c.password),
            db,
            poll_interval,
            max_keys: kv::MAX_KEYS,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(text: &str) -> Result<RedisSettings, ConfigError> {
        let c: RedisProviderConfig = toml::from_str(text).expect("toml");
        RedisSettings::from_config(&c, "test")
    }

    #[test]
    fn defaults_are_traefiks() {
        let s = settings("").expect("settings");
        assert_eq!(s.endpoints, [("127.0.0.1".to_string(), 6379)]);
        assert_eq!(s.root_key, "traefik");
        assert_eq!(s.db, 0);
        assert_eq!(s.poll_interval, DEFAULT_POLL_INTERVAL);
    }

    #[test]
    fn debug_leaves_the_password_out() {
        let s = settings("password = \"hunter2\"").expect("settings");
        assert!(!format!("{s:?}").contains("hunter2"));
        let c: RedisProviderConfig = toml::from_str("password = \"hunter2\"").expect("toml");
        assert!(!format!("{c:?}").contains("hunter2"));
    }

    #[test]
    fn bad_keys_are_named() {
        let e = settings("endpoints = [\"a:1\", \"nope\"]").expect_err("refused");
        assert_eq!(e.key_path, "providers.redis.endpoints[1]");
        let e = settings("rootKey = \"/\"").expect_err("refused");
        assert_eq!(e.key_path, "providers.redis.rootKey");
        let e = settings("db = -1").expect_err("refused");
        assert_eq!(e.key_path, "providers.redis.db");
        let e = settings("pollInterval = \"1ms\"").expect_err("refused");
        assert_eq!(e.key_path, "providers.redis.pollInterval");
        assert_eq!(
            settings("endpoints = [\"[::1]:6380\"]")
                .expect("v6")
                .endpoints,
            [("::1".to_string(), 6380)]
        );
    }
}
