//! The `retry` middleware: a failed request is sent again (idempotent, or never reached the
//! server). Not a plugin in the chain: its policy changes how the proxy retries attempts.
//! Settings (Traefik's keys), their checks and the policy, in one place.

use crate::build::{BuildCx, BuildResult, Problems};
use crate::duration::Duration;
use serde::{Deserialize, Serialize};

/// Traefik's `retry`: `attempts`, `initialInterval`, `timeout`.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Config {
    /// Total attempts, the first included (Traefik's meaning).
    pub attempts: Option<i64>,
    /// Wait before the first retry; doubles each time (default 100ms).
    pub initial_interval: Option<Duration>,
    /// Accepted for compatibility; pylon bounds attempts by the transport timeouts.
    pub timeout: Option<Duration>,
}

/// How failed attempts are retried.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Total attempts, the first included.
    pub attempts: u32,
    /// Wait before the first retry; doubled for each further one.
    pub initial_interval: std::time::Duration,
}

impl RetryPolicy {
    /// The wait before attempt number `attempt` (1 = the first retry), capped at 10 s.
    pub fn backoff(&self, attempt: u32) -> std::time::Duration {
        let factor = 1u32 << attempt.saturating_sub(1).min(16);
        (self.initial_interval * factor).min(std::time::Duration::from_secs(10))
    }
}

/// Checks the attempts and builds the policy.
pub fn build(cfg: &Config, cx: &BuildCx) -> BuildResult<RetryPolicy> {
    let mut problems = Problems::new(cx, "retry");
    if cfg.attempts.is_some_and(|a| a < 1) {
        problems.push(
            "attempts",
            "must be 1 or more",
            Some("e.g. attempts = 3".into()),
        );
    }
    problems.finish(|| RetryPolicy {
        attempts: u32::try_from(cfg.attempts.unwrap_or(1).clamp(1, 64)).unwrap_or(1),
        initial_interval: cfg
            .initial_interval
            .map_or(std::time::Duration::from_millis(100), Duration::get),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attempts_are_bounded_and_the_interval_doubles() {
        let cx = crate::build::test_cx();
        let cfg: Config = toml::from_str("attempts = 500\ninitialInterval = \"50ms\"\n").unwrap();
        let p = build(&cfg, &cx).unwrap();
        assert_eq!(p.attempts, 64);
        assert_eq!(p.backoff(1), std::time::Duration::from_millis(50));
        assert_eq!(p.backoff(3), std::time::Duration::from_millis(200));
        assert_eq!(p.backoff(30), std::time::Duration::from_secs(10));
        let e = build(&toml::from_str("attempts = 0").unwrap(), &cx).unwrap_err();
        assert_eq!(e[0].key_path, "http.middlewares.m.retry.attempts");
    }
}
