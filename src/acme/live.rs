//! The ACME certificates being served, indexed by name for the handshake (one ArcSwap load),
//! and what the API shows about each resolver and certificate.

use crate::tls::CertPair;
use arc_swap::ArcSwap;
use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

/// One ACME certificate in service.
#[derive(Debug, Clone)]
pub struct LiveCert {
    pub resolver: String,
    /// The names it was ordered for (main first).
    pub domains: Vec<String>,
    pub pair: Arc<CertPair>,
    /// Unix seconds.
    pub not_before: i64,
    pub not_after: i64,
}

impl LiveCert {
    /// When to order its successor: a third of its lifetime before it ends, at most
    /// `max_window` before (a third of `certificatesDuration`: 30 days by default).
    pub fn renew_at(&self, max_window: i64) -> i64 {
        let lifetime = (self.not_after - self.not_before).max(0);
        self.not_after - (lifetime / 3).min(max_window)
    }

    /// Whether it covers every one of `names`.
    pub fn covers(&self, names: &[String]) -> bool {
        names.iter().all(|n| covers_name(&self.pair.names, n))
    }
}

/// Whether a certificate with `sans` covers `name` (exact, or one-label `*.` wildcard).
pub fn covers_name(sans: &[String], name: &str) -> bool {
    sans.iter().any(|s| {
        s == name
            || s.strip_prefix("*.").is_some_and(|parent| {
                name.split_once('.').is_some_and(|(_, rest)| rest == parent)
                    && !name.starts_with("*.")
            })
    })
}

/// The index the handshake reads.
#[derive(Debug, Default)]
pub struct Index {
    pub certs: Vec<LiveCert>,
    exact: HashMap<String, Arc<CertPair>>,
    wildcard: HashMap<String, Arc<CertPair>>,
}

impl Index {
    pub fn new(certs: Vec<LiveCert>) -> Index {
        let mut exact = HashMap::new();
        let mut wildcard = HashMap::new();
        // The latest certificate for a name wins (a renewal replaces its predecessor).
        let mut by_age: Vec<&LiveCert> = certs.iter().collect();
        by_age.sort_by_key(|c| std::cmp::Reverse(c.not_after));
        for c in by_age {
            for name in &c.pair.names {
                match name.strip_prefix("*.") {
                    Some(parent) => wildcard.entry(parent.to_string()),
                    None => exact.entry(name.clone()),
                }
                .or_insert_with(|| c.pair.clone());
            }
        }
        Index {
            certs,
            exact,
            wildcard,
        }
    }

    /// The certificate for an SNI name (any case, trailing dot allowed).
    pub fn find(&self, sni: &str) -> Option<&Arc<CertPair>> {
        if self.exact.is_empty() && self.wildcard.is_empty() {
            return None;
        }
        let name = sni.trim_end_matches('.').to_ascii_lowercase();
        self.exact.get(&name).or_else(|| {
            let (_, parent) = name.split_once('.')?;
            self.wildcard.get(parent)
        })
    }
}

/// A resolver as the API shows it.
#[derive(Debug, Clone, Default, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ResolverStatus {
    pub name: String,
    pub ca_server: String,
    pub challenge: String,
    pub storage: String,
    /// The account's URL once registered.
    pub account: Option<String>,
    pub last_error: Option<String>,
}

/// A domain set as the API shows it.
#[derive(Debug, Clone, Default, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CertificateStatus {
    pub resolver: String,
    pub domains: Vec<String>,
    /// RFC 3339, when a certificate is in service.
    pub not_after: Option<String>,
    pub serial: Option<String>,
    pub last_error: Option<String>,
    /// RFC 3339 of the next attempt after a failure.
    pub next_attempt: Option<String>,
}

/// What the API's `/api/acme` returns.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Status {
    pub resolvers: Vec<ResolverStatus>,
    pub certificates: Vec<CertificateStatus>,
}

/// The process's ACME certificates and status.
#[derive(Default)]
pub struct Live {
    pub index: ArcSwap<Index>,
    pub status: ArcSwap<Status>,
}

impl Live {
    /// What `/api/acme` returns.
    pub fn status_json(&self) -> serde_json::Value {
        serde_json::to_value(&**self.status.load()).unwrap_or_default()
    }
}

static LIVE: OnceLock<Live> = OnceLock::new();

pub fn global() -> &'static Live {
    LIVE.get_or_init(Live::default)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cert(names: &[&str], not_after: i64) -> LiveCert {
        let (c, k) = crate::tls::self_signed::generate("x", names).unwrap();
        LiveCert {
            resolver: "le".into(),
            domains: names.iter().map(|n| n.to_string()).collect(),
            pair: Arc::new(CertPair::new(c, vec![], k)),
            not_before: 0,
            not_after,
        }
    }

    #[test]
    fn newest_wins_and_wildcards_cover_one_label() {
        let idx = Index::new(vec![
            cert(&["a.test"], 10),
            cert(&["a.test", "*.w.test"], 20),
        ]);
        assert_eq!(idx.find("A.test.").unwrap().names.len(), 2);
        assert!(idx.find("x.w.test").is_some());
        assert!(idx.find("y.x.w.test").is_none());
        assert!(covers_name(&["*.w.test".into()], "x.w.test"));
        assert!(!covers_name(&["*.w.test".into()], "w.test"));
    }

    #[test]
    fn renews_a_third_before_the_end_at_most_the_window() {
        let c = cert(&["a.test"], 90);
        assert_eq!(c.renew_at(1000), 60);
        assert_eq!(c.renew_at(10), 80);
    }
}
