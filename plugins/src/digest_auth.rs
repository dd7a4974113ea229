//! The `digestAuth` middleware: HTTP Digest authentication (RFC 2617 / RFC 7616, MD5,
//! `qop="auth"`) against htdigest entries `user:realm:HA1`, as Traefik (go-http-auth) does it:
//!
//! - 401 with `WWW-Authenticate: Digest realm="<realm>", nonce="…", opaque="…",
//!   algorithm=MD5, qop="auth"` (default realm `traefik`), body `401 Unauthorized`;
//! - a request is accepted when its `opaque` is this middleware's, its algorithm MD5 (or
//!   unset), its qop `auth`, its `uri` the request's target (or, as go-http-auth allows, a path
//!   prefix of it), its `response` right for the user's HA1 in this realm, and its nonce one
//!   this middleware handed out with a count (`nc`) higher than any before; an unknown or
//!   forgotten nonce gets the challenge with `stale=true` (browsers retry without asking);
//! - on success the user name can go upstream in `headerField`, `Authorization` can be
//!   removed (`removeHeader`); it is the access log's `ClientUsername`.
//!
//! Hardening: responses are compared in constant time and an unknown user is checked like a
//! known one; nonces are bounded in memory and expire (`nonces`); repeated wrong responses
//! from one client are answered 429 for a while (the failure guard basicAuth uses,
//! `auth_guard`); HA1s never reach logs or errors.

mod config;
mod nonces;
mod params;

pub use config::{build, parse_entry, Config};
pub use nonces::{Nonces, Use, IDLE, MAX_NONCES};
pub use params::{expected_response, md5_hex, parse as parse_params};

use crate::auth_guard::{too_many, FailureGuard, BLOCK, MAX_FAILURES, WINDOW};
use crate::{Flow, Plugin, PluginCtx, Reply};
use async_trait::async_trait;
use bytes::Bytes;
use http::header::{AUTHORIZATION, CONTENT_TYPE, WWW_AUTHENTICATE};
use http::{HeaderName, HeaderValue, StatusCode};
use pingora_error::Result;
use pingora_http::RequestHeader;
use pingora_proxy::Session;
use std::collections::HashMap;
use std::net::IpAddr;
use std::time::Instant;

/// Traefik's default realm.
pub const DEFAULT_REALM: &str = "traefik";
/// What an unknown user's response is checked against (never matches a real response).
const NO_HA1: &str = "00000000000000000000000000000000";

/// Settings of one digestAuth middleware besides its users.
#[derive(Debug, Clone)]
pub struct DigestOptions {
    pub realm: String,
    /// Header the authenticated user name is sent upstream in.
    pub header_field: Option<HeaderName>,
    /// Remove `Authorization` before proxying.
    pub remove_header: bool,
}

struct User {
    ha1: String,
    header_value: HeaderValue,
}

/// The outcome of checking one request.
#[derive(Debug)]
enum Verdict {
    Accepted(String),
    /// No usable Digest credentials (or not for this middleware): challenge, count nothing.
    Missing,
    /// Right response, but the nonce is unknown or forgotten: challenge with `stale=true`.
    Stale,
    /// Wrong response, unknown user or a replayed count (the name the client sent).
    Refused(String),
    /// Too many failures for the client: 429, retry after this.
    Throttled(std::time::Duration),
}

/// One `digestAuth` middleware instance.
pub struct DigestAuth {
    name: String,
    /// The users of this realm (entries of other realms can never match).
    users: HashMap<String, User>,
    realm: String,
    opaque: String,
    header_field: Option<HeaderName>,
    remove_header: bool,
    nonces: Nonces,
    guard: FailureGuard,
}

/// 16 random bytes, hex.
fn random_key() -> std::result::Result<String, String> {
    let mut bytes = [0u8; 16];
    openssl::rand::rand_bytes(&mut bytes).map_err(|e| format!("no randomness: {e}"))?;
    Ok(params::hex(&bytes))
}

impl DigestAuth {
    /// `users` as `(user, realm, HA1)` in order; a later entry for the same user and realm
    /// replaces an earlier one (as in Traefik).
    pub fn new(
        name: &str,
        users: Vec<(String, String, String)>,
        options: DigestOptions,
    ) -> std::result::Result<Self, String> {
        let mut table = HashMap::new();
        for (user, realm, ha1) in users {
            if realm != options.realm {
                continue;
            }
            let header_value = HeaderValue::from_bytes(user.as_bytes()).map_err(|_| {
                format!(
                    "user name `{}` cannot be sent in a header",
                    user.escape_debug()
                )
            })?;
            table.insert(user, User { ha1, header_value });
        }
        Ok(DigestAuth {
            name: name.to_string(),
            users: table,
            realm: options.realm,
            opaque: random_key()?,
            header_field: options.header_field,
            remove_header: options.remove_header,
            nonces: Nonces::default(),
            guard: FailureGuard::default(),
        })
    }

    /// The 401 challenge with a new nonce (remembered), `stale=true` when asked.
    fn challenge(&self, stale: bool) -> Reply {
        let nonce = match random_key() {
            Ok(n) => n,
            Err(e) => {
                log::error!("digestAuth `{}`: {e}", self.name);
                return Reply::text(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "500 Internal Server Error\n",
                );
            }
        };
        let value = format!(
            "Digest realm=\"{}\", nonce=\"{nonce}\", opaque=\"{}\", algorithm=MD5, qop=\"auth\"{}",
            self.realm,
            self.opaque,
            if stale { ", stale=true" } else { "" }
        );
        self.nonces.issue(nonce, Instant::now());
        let mut headers = vec![(CONTENT_TYPE, HeaderValue::from_static("text/plain"))];
        // the realm was checked to fit in a header when the middleware was built
        if let Ok(v) = HeaderValue::from_str(&value) {
            headers.push((WWW_AUTHENTICATE, v));
        }
        Reply {
            status: StatusCode::UNAUTHORIZED,
            headers,
            body: Bytes::from_static(b"401 Unauthorized\n"),
        }
    }

    /// Checks the request's `Authorization` (go-http-auth's `CheckAuth`).
    fn check(&self, req: &RequestHeader, client: IpAddr, now: Instant) -> Verdict {
        let Some(p) = req
            .headers
            .get(AUTHORIZATION)
            .and_then(|v| params::parse(v.as_bytes()))
        else {
            return Verdict::Missing;
        };
        let get = |k: &str| p.get(k).map_or("", String::as_str);
        let algorithm = p.get("algorithm").map_or("MD5", String::as_str);
        if !params::same(get("opaque"), &self.opaque) || algorithm != "MD5" || get("qop") != "auth"
        {
            return Verdict::Missing;
        }
        if !uri_matches(req, get("uri")) {
            return Verdict::Missing;
        }
        let Ok(nc) = u64::from_str_radix(get("nc"), 16) else {
            return Verdict::Missing;
        };
        let username = get("username").to_string();
        let attempt = match self.guard.begin(client, now) {
            Ok(attempt) => attempt,
            Err(refused) => return Verdict::Throttled(refused.retry_after()),
        };
        let user = self.users.get(&username);
        let ha1 = user.map_or(NO_HA1, |u| u.ha1.as_str());
        let expected = params::expected_response(ha1, req.method.as_str(), &p);
        let matched = params::same(&expected, get("response")) && user.is_some();
        let verdict = match (
            matched,
            matched.then(|| self.nonces.record(get("nonce"), nc, now)),
        ) {
            (true, Some(Use::Fresh)) => Verdict::Accepted(username),
            (true, Some(Use::Stale)) => Verdict::Stale,
            _ => Verdict::Refused(username),
        };
        // a stale nonce with the right response is no wrong guess
        let counted_ok = matches!(verdict, Verdict::Accepted(_) | Verdict::Stale);
        if self.guard.finish(attempt, counted_ok, now) {
            log::warn!(
                "digestAuth `{}`: {} answered 429 for {}s after {} failed logins within {}s",
                self.name,
                client,
                BLOCK.as_secs(),
                MAX_FAILURES,
                WINDOW.as_secs()
            );
        }
        verdict
    }
}

/// go-http-auth's rule: the `uri` parameter is the request target, or a URL whose path is a
/// prefix of the request's path.
fn uri_matches(req: &RequestHeader, uri: &str) -> bool {
    let target = req
        .uri
        .path_and_query()
        .map_or_else(|| req.uri.path(), |p| p.as_str());
    if uri == target || uri.as_bytes() == req.raw_path() {
        return true;
    }
    let Ok(given) = uri.parse::<http::Uri>() else {
        return false;
    };
    !uri.is_empty() && req.uri.path().starts_with(given.path())
}

#[async_trait]
impl Plugin for DigestAuth {
    fn kind(&self) -> &'static str {
        "digestAuth"
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
        match self.check(session.req_header(), client, now) {
            Verdict::Accepted(name) => {
                log::trace!("digestAuth `{}`: `{name}` authenticated", self.name);
                let req = session.req_header_mut();
                if let (Some(field), Some(user)) = (&self.header_field, self.users.get(&name)) {
                    req.insert_header(field.clone(), user.header_value.clone())?;
                }
                if self.remove_header {
                    req.remove_header(&AUTHORIZATION);
                }
                cx.user = Some(name);
                Ok(Flow::Continue)
            }
            Verdict::Missing => Ok(Flow::Respond(self.challenge(false))),
            Verdict::Stale => Ok(Flow::Respond(self.challenge(true))),
            Verdict::Throttled(wait) => Ok(Flow::Respond(too_many(wait))),
            Verdict::Refused(name) => {
                log::debug!(
                    "digestAuth `{}`: authentication failed for user {:?} from {}",
                    self.name,
                    name,
                    client
                );
                Ok(Flow::Respond(self.challenge(false)))
            }
        }
    }
}

#[cfg(test)]
mod tests;
