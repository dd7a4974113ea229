//! What Traefik's key-value providers (`redis`, `etcd`) share: the key layout under `rootKey`
//! turned into the provider's part ([`keys`]), the `rootKey` and `host:port` checks, and the
//! key an error of the merged config is about.
//!
//! - [`keys`] turns the keys into the part: one unit per object, read by the labels' decoder.

pub mod keys;

use crate::config::ConfigError;

/// The key-value providers pylon has; their units are objects and their keys keys.
pub const PROVIDERS: [&str; 2] = ["etcd", "redis"];

/// Traefik's default root key.
pub const DEFAULT_ROOT_KEY: &str = "traefik";

/// The most keys under `rootKey` a provider reads; more is an error (the last keys stay).
pub const MAX_KEYS: usize = 100_000;

/// Whether `provider` is a key-value provider.
pub fn is_kv(provider: &str) -> bool {
    PROVIDERS.contains(&provider)
}

/// `providers.<provider>.rootKey` without surrounding `/` (default `traefik`); empty is an error.
pub fn root_key(raw: Option<&str>, provider: &str, origin: &str) -> Result<String, ConfigError> {
    let root_key = raw
        .map(|k| k.trim().trim_matches('/'))
        .unwrap_or(DEFAULT_ROOT_KEY)
        .to_string();
    if root_key.is_empty() {
        return Err(
            ConfigError::new(origin, format!("providers.{provider}.rootKey"), "is empty")
                .with_hint("leave it out for Traefik's default \"traefik\""),
        );
    }
    Ok(root_key)
}

/// `host:port` (`[v6]:port` too) → its parts.
pub fn parse_endpoint(text: &str) -> Option<(String, u16)> {
    let text = text.trim();
    let (host, port) = text.rsplit_once(':')?;
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let port = port.parse::<u16>().ok().filter(|p| *p != 0)?;
    if host.is_empty() || host.contains('/') {
        return None;
    }
    Some((host.to_string(), port))
}

/// The key an error at `key_path` (`http.routers.web@etcd.tls.domains[0]`) is about, below the
/// object `unit` (`traefik/http/routers/web`) of `provider`:
/// `traefik/http/routers/web/tls/domains/0`.
pub fn key_of(provider: &str, unit: &str, key_path: &str) -> Option<String> {
    let (_, below) = key_path.split_once(&format!("@{provider}"))?;
    let below = below.replace('[', ".").replace(']', "");
    let mut key = unit.to_string();
    for segment in below.split('.').filter(|s| !s.is_empty()) {
        key.push('/');
        key.push_str(segment);
    }
    Some(key)
}

/// `s` unless it is empty.
pub fn non_empty(s: &Option<String>) -> Option<String> {
    s.clone().filter(|s| !s.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn root_keys_and_endpoints() {
        assert_eq!(root_key(None, "etcd", "t").expect("default"), "traefik");
        assert_eq!(
            root_key(Some("/a/b/"), "etcd", "t").expect("trimmed"),
            "a/b"
        );
        let e = root_key(Some("/"), "etcd", "t").expect_err("empty");
        assert_eq!(e.key_path, "providers.etcd.rootKey");
        assert_eq!(parse_endpoint("[::1]:2379"), Some(("::1".into(), 2379)));
        assert_eq!(parse_endpoint("a:0"), None);
        assert_eq!(parse_endpoint("nope"), None);
    }

    #[test]
    fn errors_are_mapped_back_to_the_providers_key() {
        assert_eq!(
            key_of(
                "etcd",
                "traefik/http/routers/web",
                "http.routers.web@etcd.tls.domains[0]"
            )
            .as_deref(),
            Some("traefik/http/routers/web/tls/domains/0")
        );
        assert_eq!(key_of("etcd", "u", "http.routers.web@redis.rule"), None);
    }
}
