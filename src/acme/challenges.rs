//! The answers to the challenges being solved right now: HTTP-01 key authorizations by token
//! (served by the proxy) and TLS-ALPN-01 validation certificates by name (served in the
//! handshake). Written by the ACME task; read with one ArcSwap load.

use crate::tls::CertPair;
use arc_swap::ArcSwap;
use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

/// The path HTTP-01 answers live under.
pub const HTTP01_PREFIX: &str = "/.well-known/acme-challenge/";
/// The ALPN protocol of TLS-ALPN-01 (RFC 8737).
pub const ACME_TLS_ALPN: &[u8] = b"acme-tls/1";

/// The challenge answers in force.
#[derive(Default)]
pub struct Challenges {
    /// HTTP-01: token → key authorization.
    http: ArcSwap<HashMap<String, Arc<str>>>,
    /// TLS-ALPN-01: DNS name (lower case) → validation certificate.
    tls_alpn: ArcSwap<HashMap<String, Arc<CertPair>>>,
    /// Entry points that answer HTTP-01 (`httpChallenge.entryPoint`), fixed at start.
    http_entrypoints: OnceLock<Vec<String>>,
}

static CHALLENGES: OnceLock<Challenges> = OnceLock::new();

/// The process's challenge answers.
pub fn global() -> &'static Challenges {
    CHALLENGES.get_or_init(Challenges::default)
}

impl Challenges {
    /// Sets once, at start, where HTTP-01 is answered.
    pub fn set_http_entrypoints(&self, names: Vec<String>) {
        let _ = self.http_entrypoints.set(names);
    }

    /// Whether entry point `name` answers HTTP-01 challenges.
    pub fn answers_http_on(&self, name: &str) -> bool {
        self.http_entrypoints
            .get()
            .is_some_and(|eps| eps.iter().any(|e| e == name))
    }

    /// The key authorization for `token`, when pylon is solving it.
    pub fn http_answer(&self, token: &str) -> Option<Arc<str>> {
        self.http.load().get(token).cloned()
    }

    pub fn add_http(&self, token: &str, key_authorization: &str) {
        let answer: Arc<str> = Arc::from(key_authorization);
        self.http.rcu(|m| {
            let mut m = HashMap::clone(m);
            m.insert(token.to_string(), answer.clone());
            m
        });
    }

    pub fn remove_http(&self, token: &str) {
        self.http.rcu(|m| {
            let mut m = HashMap::clone(m);
            m.remove(token);
            m
        });
    }

    /// The validation certificate for `name`, when pylon is solving TLS-ALPN-01 for it.
    pub fn tls_alpn_cert(&self, name: &str) -> Option<Arc<CertPair>> {
        let map = self.tls_alpn.load();
        if map.is_empty() {
            return None;
        }
        map.get(&name.trim_end_matches('.').to_ascii_lowercase())
            .cloned()
    }

    pub fn add_tls_alpn(&self, name: &str, cert: Arc<CertPair>) {
        self.tls_alpn.rcu(|m| {
            let mut m = HashMap::clone(m);
            m.insert(name.to_ascii_lowercase(), cert.clone());
            m
        });
    }

    pub fn remove_tls_alpn(&self, name: &str) {
        self.tls_alpn.rcu(|m| {
            let mut m = HashMap::clone(m);
            m.remove(&name.to_ascii_lowercase());
            m
        });
    }
}

/// Whether a ClientHello's ALPN list (wire format) offers `acme-tls/1`.
pub fn offers_acme_tls(alpn_wire: &[u8]) -> bool {
    let mut rest = alpn_wire;
    while let Some((&len, tail)) = rest.split_first() {
        let len = len as usize;
        if tail.len() < len {
            return false;
        }
        if &tail[..len] == ACME_TLS_ALPN {
            return true;
        }
        rest = &tail[len..];
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_come_and_go() {
        let c = Challenges::default();
        c.add_http("tok", "tok.thumb");
        assert_eq!(c.http_answer("tok").as_deref(), Some("tok.thumb"));
        assert!(c.http_answer("other").is_none());
        c.remove_http("tok");
        assert!(c.http_answer("tok").is_none());
    }

    #[test]
    fn finds_acme_tls_in_alpn_list() {
        assert!(offers_acme_tls(b"\x02h2\x0aacme-tls/1"));
        assert!(!offers_acme_tls(b"\x02h2\x08http/1.1"));
        assert!(!offers_acme_tls(b"\x0bacme-tls/1"));
    }
}
