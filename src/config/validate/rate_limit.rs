//! Validation of the `rateLimit` middleware's settings.

use super::Collector;
use crate::config::middlewares::rate_limit::RateLimitConfig;

/// Checks a `rateLimit` middleware's settings; `base` is `http.middlewares.NAME`.
pub(super) fn validate_rate_limit(base: &str, r: &RateLimitConfig, c: &mut Collector<'_>) {
    let key = format!("{base}.rateLimit");
    if r.average.is_some_and(|a| a < 0) {
        c.push(
            format!("{key}.average"),
            "must be 0 or more",
            Some("e.g. average = 100 (0 means no limit)".into()),
        );
    }
    if r.burst.is_some_and(|b| b < 1) {
        c.push(
            format!("{key}.burst"),
            "must be 1 or more",
            Some("e.g. burst = 50".into()),
        );
    }
    if r.period.is_some_and(|p| p.get().is_zero()) {
        c.push(
            format!("{key}.period"),
            "must be greater than 0",
            Some("e.g. period = \"1s\" (the default) or \"1m\"".into()),
        );
    }
    if let Some(d) = r
        .source_criterion
        .as_ref()
        .and_then(|s| s.ip_strategy.as_ref())
        .and_then(|i| i.depth)
        .filter(|d| *d < 0)
    {
        c.push(
            format!("{key}.sourceCriterion.ipStrategy.depth"),
            format!("{d} is negative: must be 0 or more"),
            None,
        );
    }
    if let Some(bits) = r
        .source_criterion
        .as_ref()
        .and_then(|s| s.ip_strategy.as_ref())
        .and_then(|i| i.ipv6_subnet)
        .filter(|b| !(0..=128).contains(b))
    {
        c.push(
            format!("{key}.sourceCriterion.ipStrategy.ipv6Subnet"),
            format!("{bits} is not a prefix length: must be between 0 and 128"),
            Some("e.g. ipv6Subnet = 64 to count a whole /64 as one client".into()),
        );
    }
    let Some(redis) = &r.redis else {
        return;
    };
    let key = format!("{key}.redis");
    match redis.endpoints.as_slice() {
        [] => c.push(
            format!("{key}.endpoints"),
            "is empty",
            Some("list the Redis server, e.g. endpoints = [\"127.0.0.1:6379\"]".into()),
        ),
        [one] if one.trim().is_empty() => {
            c.push(format!("{key}.endpoints[0]"), "is empty", None);
        }
        [_] => {}
        _ => c.push(
            format!("{key}.endpoints"),
            "more than one endpoint: Redis Cluster and Sentinel are not supported yet by pylon",
            Some("name the one Redis server (or proxy) every pylon instance shares".into()),
        ),
    }
    if redis.tls.is_some() {
        c.push(
            format!("{key}.tls"),
            "TLS to Redis is not supported yet by pylon",
            Some("remove `tls` and reach Redis over a private network or a TLS proxy".into()),
        );
    }
    if redis.password.is_some() && redis.password_file.is_some() {
        c.push(
            format!("{key}.passwordFile"),
            "both `password` and `passwordFile` are set",
            Some("keep one of them".into()),
        );
    }
    if let Some(file) = &redis.password_file {
        if let Err(e) = crate::config::key_file::read_key_file_to_string(file) {
            c.push(
                format!("{key}.passwordFile"),
                format!("cannot read `{file}`: {e}"),
                None,
            );
        }
    }
    if redis.db.is_some_and(|d| d < 0) {
        c.push(format!("{key}.db"), "must be 0 or more", None);
    }
    for (field, d) in [
        ("dialTimeout", redis.dial_timeout),
        ("readTimeout", redis.read_timeout),
        ("writeTimeout", redis.write_timeout),
    ] {
        if d.is_some_and(|d| d.get().is_zero()) {
            c.push(
                format!("{key}.{field}"),
                "must be greater than 0",
                Some("e.g. \"500ms\"".into()),
            );
        }
    }
}
