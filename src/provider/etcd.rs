//! The etcd key-value provider (Traefik's `[providers.etcd]`, etcd's v3 API): keys under
//! `rootKey` (`traefik/http/routers/web/rule`, lists as `.../entrypoints/0`) become the
//! provider's part of the dynamic config, names `web@etcd`. The keys are read with one range
//! get, then followed with an etcd watch from the next revision.
//!
//! - [`crate::provider::kv`] turns the keys into the part (shared with Redis).
//! - [`client`] connects (credentials, TLS) and reads the keys, bounded.
//! - [`watch`] reads, watches, debounces, publishes, and reconnects with backoff while the last
//!   configuration keeps serving.

pub mod client;
pub mod tls;
pub mod watch;

use crate::config::static_config::EtcdProviderConfig;
use crate::config::ConfigError;
use crate::provider::kv::{self, non_empty, parse_endpoint};
use std::path::Path;
use std::time::Duration;

/// Traefik's default endpoint.
pub const DEFAULT_ENDPOINT: &str = "127.0.0.1:2379";
/// How long after a change the configuration is rebuilt: the changes in that time become one
/// update.
pub const DEFAULT_DEBOUNCE: Duration = Duration::from_millis(200);

/// `[providers.etcd]`, checked and ready to use. Debug leaves the password and the key out.
#[derive(Clone)]
pub struct EtcdSettings {
    /// `http://host:port` or `https://host:port` of each member.
    pub endpoints: Vec<String>,
    pub root_key: String,
    pub username: Option<String>,
    pub password: Option<String>,
    /// The client TLS material, read at start; `None`: plain gRPC (unless an endpoint is
    /// `https://`, then the system's roots).
    pub tls: Option<tls::TlsMaterial>,
    pub debounce: Duration,
    pub max_keys: usize,
}

impl std::fmt::Debug for EtcdSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EtcdSettings")
            .field("endpoints", &self.endpoints)
            .field("root_key", &self.root_key)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .field("tls", &self.tls)
            .field("debounce", &self.debounce)
            .finish()
    }
}

impl EtcdSettings {
    /// Checks the keys and reads the TLS files (relative to `static_path`'s directory); errors
    /// name the key and the fix.
    pub fn from_config(
        c: &EtcdProviderConfig,
        throttle: Option<Duration>,
        static_path: &Path,
        origin: &str,
    ) -> Result<EtcdSettings, ConfigError> {
        let tls = c
            .tls
            .as_ref()
            .map(|t| tls::TlsMaterial::read(t, static_path, origin))
            .transpose()?;
        let listed = c
            .endpoints
            .clone()
            .filter(|e| !e.is_empty())
            .unwrap_or_else(|| vec![DEFAULT_ENDPOINT.to_string()]);
        let mut endpoints = Vec::new();
        for (i, e) in listed.iter().enumerate() {
            endpoints.push(endpoint_url(e, tls.is_some()).map_err(|why| {
                ConfigError::new(origin, format!("providers.etcd.endpoints[{i}]"), why)
                    .with_hint("write e.g. \"127.0.0.1:2379\" or \"https://etcd.internal:2379\"")
            })?);
        }
        let username = non_empty(&c.username);
        let password = non_empty(&c.password);
        if username.is_some() != password.is_some() {
            let (missing, given) = match username {
                Some(_) => ("password", "username"),
                None => ("username", "password"),
            };
            return Err(ConfigError::new(
                origin,
                format!("providers.etcd.{missing}"),
                format!("is missing: `{given}` is set, and etcd authenticates with both"),
            )
            .with_hint("set both `username` and `password`, or neither"));
        }
        Ok(EtcdSettings {
            endpoints,
            root_key: kv::root_key(c.root_key.as_deref(), "etcd", origin)?,
            username,
            password,
            tls,
            debounce: throttle.unwrap_or(DEFAULT_DEBOUNCE),
            max_keys: kv::MAX_KEYS,
        })
    }
}

/// `host:port`, `http://host:port` or `https://host:port` → the URL the client dials (`https`
/// when `tls` is set; `http://` with `tls` is a contradiction).
fn endpoint_url(text: &str, tls: bool) -> Result<String, String> {
    let text = text.trim();
    let (scheme, rest) = match text.split_once("://") {
        Some(("http", rest)) if tls => {
            return Err(format!(
                "`{text}` is plain http while `providers.etcd.tls` is set: write `https://{rest}` or `{rest}`"
            ))
        }
        Some(("http", rest)) => ("http", rest),
        Some(("https", rest)) => ("https", rest),
        Some((other, _)) => return Err(format!("`{other}://` is not an etcd scheme (http, https)")),
        None if tls => ("https", text),
        None => ("http", text),
    };
    let rest = rest.trim_end_matches('/');
    let (host, port) =
        parse_endpoint(rest).ok_or_else(|| format!("`{text}` is not a host:port"))?;
    let host = match host.contains(':') {
        true => format!("[{host}]"),
        false => host,
    };
    Ok(format!("{scheme}://{host}:{port}"))
}

#[cfg(test)]
mod tests;
