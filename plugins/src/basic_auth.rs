//! The `basicAuth` middleware: HTTP Basic authentication against htpasswd entries.
//!
//! As in Traefik: 401 with `WWW-Authenticate: Basic realm="<realm>"` (default realm `traefik`,
//! kept for compatibility) and body `401 Unauthorized`; on success the user name can be sent
//! upstream in `headerField` and `Authorization` removed (`removeHeader`).
//!
//! Hardening beyond Traefik:
//! - an unknown user is checked against a dummy hash of the kind and cost most entries use, so
//!   the answer takes as long as for a known user with a wrong password (the dummy is made on
//!   the first such check, on a blocking thread, never while a configuration is compiled);
//! - bcrypt costs above [`MAX_BCRYPT_COST`] are refused when the entries are read, and
//!   passwords longer than [`MAX_PASSWORD_BYTES`] are refused unhashed (MD5-crypt's work grows
//!   with the password);
//! - hashes are computed on Tokio's blocking threads, by every basicAuth middleware together at
//!   most one fewer at once than the machine has cores, so logins never take every core;
//! - successful checks are remembered (bounded LRU keyed by a keyed SHA-256 of the whole
//!   `Authorization` value, never the value itself), so a logged-in client costs no hashing;
//! - repeated failures from one address are answered 429 for a while (see `guard`);
//! - the password is never logged (user names only, at debug level).
//!
//! Its settings, their checks and the build are in `config`.

mod config;
mod hash;

pub use crate::auth_guard::{BLOCK, MAX_FAILURES, MAX_IN_FLIGHT, WINDOW};
pub use config::{build, Config};
pub use hash::{md5_crypt_digest, PasswordHash, Work, MAX_BCRYPT_COST};

use crate::auth_guard::{too_many, FailureGuard};
use crate::{Flow, Plugin, PluginCtx, Reply};
use async_trait::async_trait;
use base64::Engine;
use bytes::Bytes;
use http::header::{AUTHORIZATION, CONTENT_TYPE, WWW_AUTHENTICATE};
use http::{HeaderName, HeaderValue, StatusCode};
use lru::LruCache;
use pingora_error::Result;
use pingora_proxy::Session;
use std::collections::HashMap;
use std::net::IpAddr;
use std::num::NonZeroUsize;
use std::sync::{Arc, LazyLock, Mutex};
use std::time::Instant;
use tokio::sync::Semaphore;

/// Longer passwords are refused without hashing (no htpasswd tool makes them; bcrypt reads 72
/// bytes at most).
pub const MAX_PASSWORD_BYTES: usize = 1024;

/// Password checks running at once, all basicAuth middlewares together: one fewer than the
/// cores (at least one), so a flood of logins leaves a core to proxy.
static HASHING: LazyLock<Arc<Semaphore>> = LazyLock::new(|| {
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    Arc::new(Semaphore::new(cores.saturating_sub(1).max(1)))
});

/// Traefik's default realm.
pub const DEFAULT_REALM: &str = "traefik";
/// Successful `Authorization` values remembered per middleware.
const CACHE_ENTRIES: usize = 1024;

/// Splits one htpasswd line into user and hash (exactly one `:`, as Traefik requires).
/// Errors name the user at most, never the hash.
pub fn parse_user(line: &str) -> std::result::Result<(String, PasswordHash), String> {
    let mut parts = line.split(':');
    let (Some(user), Some(hash), None) = (parts.next(), parts.next(), parts.next()) else {
        return Err("is not `user:hash` (exactly one `:`)".to_string());
    };
    if user.is_empty() {
        return Err("has an empty user name".to_string());
    }
    if user.chars().any(char::is_control) {
        return Err(format!("user {user:?}: the name has control characters"));
    }
    let hash = PasswordHash::parse(hash).map_err(|e| format!("user `{user}`: the hash {e}"))?;
    Ok((user.to_string(), hash))
}

/// The entries of an htpasswd file with their 1-based line numbers (blank and `#` lines skipped).
pub fn file_lines(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l.trim()))
        .filter(|(_, l)| !l.is_empty() && !l.starts_with('#'))
}

/// Settings of one basicAuth middleware besides its users.
#[derive(Debug, Clone, Default)]
pub struct BasicAuthOptions {
    /// Realm in the challenge; `DEFAULT_REALM` when `None`.
    pub realm: Option<String>,
    /// Header the authenticated user name is sent upstream in.
    pub header_field: Option<HeaderName>,
    /// Remove `Authorization` before proxying.
    pub remove_header: bool,
}

struct User {
    name: String,
    hash: Arc<PasswordHash>,
    /// The name as a header value, for `headerField`.
    header_value: HeaderValue,
}

/// The outcome of checking one `Authorization` value.
enum Verdict {
    Accepted(Arc<User>),
    /// No usable Basic credentials: challenge, count nothing.
    Missing,
    /// Wrong password or unknown user (the name the client sent).
    Refused(String),
    /// Too many failures or checks in flight for the client: 429, retry after this.
    Throttled(std::time::Duration),
}

/// One `basicAuth` middleware instance.
pub struct BasicAuth {
    name: String,
    users: HashMap<String, Arc<User>>,
    /// What unknown users are checked against (the dummy hash is made on first use).
    dummy_work: Work,
    challenge: Reply,
    header_field: Option<HeaderName>,
    remove_header: bool,
    cache_key: [u8; 32],
    cache: Mutex<LruCache<[u8; 32], Arc<User>>>,
    guard: FailureGuard,
}

impl BasicAuth {
    /// `users` in order; a later entry for the same user replaces an earlier one (as in Traefik).
    pub fn new(
        name: &str,
        users: Vec<(String, PasswordHash)>,
        options: BasicAuthOptions,
    ) -> std::result::Result<Self, String> {
        let mut table = HashMap::new();
        for (user, hash) in users {
            let header_value = HeaderValue::from_bytes(user.as_bytes()).map_err(|_| {
                format!(
                    "user name `{}` cannot be sent in a header",
                    user.escape_debug()
                )
            })?;
            let entry = User {
                name: user.clone(),
                hash: Arc::new(hash),
                header_value,
            };
            table.insert(user, Arc::new(entry));
        }
        let dummy_work = typical_work(table.values().map(|u| u.hash.work()));
        let realm = options.realm.as_deref().unwrap_or(DEFAULT_REALM);
        let mut cache_key = [0u8; 32];
        openssl::rand::rand_bytes(&mut cache_key).map_err(|e| format!("no randomness: {e}"))?;
        Ok(BasicAuth {
            name: name.to_string(),
            users: table,
            dummy_work,
            challenge: challenge(realm)?,
            header_field: options.header_field,
            remove_header: options.remove_header,
            cache_key,
            cache: Mutex::new(LruCache::new(
                NonZeroUsize::new(CACHE_ENTRIES).unwrap_or(NonZeroUsize::MIN),
            )),
            guard: FailureGuard::default(),
        })
    }

    /// What unknown users are checked against (for tests and diagnostics).
    pub fn dummy_work(&self) -> Work {
        self.dummy_work
    }

    fn cache_key(&self, authorization: &[u8]) -> [u8; 32] {
        let mut h = openssl::sha::Sha256::new();
        h.update(&self.cache_key);
        h.update(authorization);
        h.finish()
    }

    /// Checks an `Authorization` value from `client`; hashes on a blocking thread unless
    /// remembered, after reserving the check with the failure guard.
    async fn check(&self, authorization: &[u8], client: IpAddr) -> Verdict {
        let key = self.cache_key(authorization);
        if let Some(user) = self.lock_cache().get(&key) {
            return Verdict::Accepted(user.clone());
        }
        let Some((name, password)) = parse_basic(authorization) else {
            return Verdict::Missing;
        };
        let attempt = match self.guard.begin(client, Instant::now()) {
            Ok(attempt) => attempt,
            Err(refused) => return Verdict::Throttled(refused.retry_after()),
        };
        let user = self.users.get(&name).cloned();
        let hash = user.as_ref().map(|u| u.hash.clone());
        let matched = password.len() <= MAX_PASSWORD_BYTES
            && self.verify(hash, self.dummy_work, password).await;
        let accepted = matched && user.is_some();
        if self.guard.finish(attempt, accepted, Instant::now()) {
            log::warn!(
                "basicAuth `{}`: {} answered 429 for {}s after {} failed logins within {}s",
                self.name,
                client,
                BLOCK.as_secs(),
                MAX_FAILURES,
                WINDOW.as_secs()
            );
        }
        match user {
            Some(user) if accepted => {
                self.lock_cache().put(key, user.clone());
                Verdict::Accepted(user)
            }
            _ => Verdict::Refused(name),
        }
    }

    /// Checks `password` against `hash` (an unknown user's against the dummy doing `dummy`).
    async fn verify(
        &self,
        hash: Option<Arc<PasswordHash>>,
        dummy: Work,
        password: Vec<u8>,
    ) -> bool {
        let Ok(permit) = HASHING.clone().acquire_owned().await else {
            return false;
        };
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            match hash {
                Some(hash) => hash.verify(&password),
                None => {
                    // Unknown users never match: the dummy is checked so that they take as long.
                    if let Ok(d) = PasswordHash::dummy(dummy) {
                        std::hint::black_box(d.verify(&password));
                    }
                    false
                }
            }
        })
        .await
        .unwrap_or(false)
    }

    fn lock_cache(&self) -> std::sync::MutexGuard<'_, LruCache<[u8; 32], Arc<User>>> {
        self.cache.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// The kind and cost most entries use (ties: the costlier), so unknown users take as long as
/// most known ones. No users: bcrypt at htpasswd's default cost.
fn typical_work(works: impl Iterator<Item = Work>) -> Work {
    let mut counts: HashMap<Work, usize> = HashMap::new();
    for w in works {
        *counts.entry(w).or_default() += 1;
    }
    counts
        .into_iter()
        .max_by_key(|(w, n)| (*n, *w))
        .map_or(Work::Bcrypt(5), |(w, _)| w)
}

fn challenge(realm: &str) -> std::result::Result<Reply, String> {
    let quoted = realm.replace('\\', "\\\\").replace('"', "\\\"");
    let value = HeaderValue::from_str(&format!("Basic realm=\"{quoted}\"")).map_err(|_| {
        format!(
            "realm `{}` cannot be sent in a header",
            realm.escape_debug()
        )
    })?;
    Ok(Reply {
        status: StatusCode::UNAUTHORIZED,
        headers: vec![
            (WWW_AUTHENTICATE, value),
            (CONTENT_TYPE, HeaderValue::from_static("text/plain")),
        ],
        body: Bytes::from_static(b"401 Unauthorized\n"),
    })
}

/// `Basic base64(user:password)` (scheme in any case) → user and password, as Go's
/// `Request.BasicAuth` reads it: the password is everything after the first `:`.
fn parse_basic(value: &[u8]) -> Option<(String, Vec<u8>)> {
    const PREFIX: &[u8] = b"basic ";
    if value.len() < PREFIX.len() || !value[..PREFIX.len()].eq_ignore_ascii_case(PREFIX) {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(&value[PREFIX.len()..])
        .ok()?;
    let colon = decoded.iter().position(|b| *b == b':')?;
    let user = String::from_utf8(decoded[..colon].to_vec()).ok()?;
    Some((user, decoded[colon + 1..].to_vec()))
}

#[async_trait]
impl Plugin for BasicAuth {
    fn kind(&self) -> &'static str {
        "basicAuth"
    }

    fn wants_forwarded_client(&self) -> bool {
        true
    }

    async fn request_filter(&self, session: &mut Session, cx: &mut PluginCtx) -> Result<Flow> {
        let now = Instant::now();
        let client = cx.forwarded_client_ip;
        if let Some(wait) = self.guard.blocked(client, now) {
            return Ok(Flow::Respond(too_many(wait)));
        }
        let verdict = match session.req_header().headers.get(AUTHORIZATION) {
            Some(value) => self.check(value.as_bytes(), client).await,
            None => Verdict::Missing,
        };
        match verdict {
            Verdict::Accepted(user) => {
                log::trace!("basicAuth `{}`: `{}` authenticated", self.name, user.name);
                let req = session.req_header_mut();
                if let Some(field) = &self.header_field {
                    req.insert_header(field.clone(), user.header_value.clone())?;
                }
                if self.remove_header {
                    req.remove_header(&AUTHORIZATION);
                }
                Ok(Flow::Continue)
            }
            Verdict::Missing => Ok(Flow::Respond(self.challenge.clone())),
            Verdict::Throttled(wait) => Ok(Flow::Respond(too_many(wait))),
            Verdict::Refused(name) => {
                log::debug!(
                    "basicAuth `{}`: authentication failed for user {:?} from {}",
                    self.name,
                    name,
                    client
                );
                Ok(Flow::Respond(self.challenge.clone()))
            }
        }
    }
}

#[cfg(test)]
mod tests;
