//! The `inFlightReq` middleware: at most `amount` simultaneous requests per source, else 429.
//! Settings (Traefik's keys), their checks and the plugin, in one place.

use crate::build::{BuildCx, BuildResult, Problems};
use crate::source::SourceCriterion;
use crate::source_config::{source_criterion, SourceCriterionConfig};
use crate::{Flow, Plugin, PluginCtx, Reply};
use async_trait::async_trait;
use http::StatusCode;
use pingora_error::Result;
use pingora_proxy::Session;
use serde::{Deserialize, Serialize};
use std::collections::hash_map::DefaultHasher;
use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

/// Traefik's `inFlightReq`: at most `amount` simultaneous requests per source.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Config {
    pub amount: Option<i64>,
    pub source_criterion: Option<SourceCriterionConfig>,
}

/// Checks the amount and the source criterion, and builds the plugin.
pub fn build(cfg: &Config, cx: &BuildCx) -> BuildResult<InFlightReq> {
    let mut problems = Problems::new(cx, "inFlightReq");
    if cfg.amount.is_some_and(|a| a < 1) {
        problems.push(
            "amount",
            "must be 1 or more",
            Some("e.g. amount = 10".into()),
        );
    }
    let depth = cfg
        .source_criterion
        .as_ref()
        .and_then(|s| s.ip_strategy.as_ref())
        .and_then(|i| i.depth);
    if depth.is_some_and(|d| d < 0) {
        problems.push(
            "sourceCriterion.ipStrategy.depth",
            "must be 0 or more",
            None,
        );
    }
    if !problems.is_empty() {
        return Err(problems.into_errors());
    }
    match source_criterion(cfg.source_criterion.as_ref()) {
        Ok(source) => {
            let amount = u32::try_from(cfg.amount.unwrap_or(1).max(1)).unwrap_or(u32::MAX);
            Ok(InFlightReq::new(amount, source))
        }
        Err(message) => {
            problems.push("sourceCriterion", message, None);
            Err(problems.into_errors())
        }
    }
}

/// Counters are spread over shards so concurrent requests rarely wait on one lock.
const SHARDS: usize = 32;

#[derive(Default)]
struct Counters {
    shards: [Mutex<HashMap<String, u32>>; SHARDS],
}

impl Counters {
    fn shard(&self, key: &str) -> &Mutex<HashMap<String, u32>> {
        let mut h = DefaultHasher::new();
        key.hash(&mut h);
        &self.shards[h.finish() as usize % SHARDS]
    }

    /// Takes one slot for `key` unless `amount` are taken; returns whether it did.
    fn acquire(&self, key: &str, amount: u32) -> bool {
        let mut map = self.shard(key).lock().unwrap_or_else(|p| p.into_inner());
        let n = map.entry(key.to_string()).or_insert(0);
        if *n >= amount {
            return false;
        }
        *n += 1;
        true
    }

    fn release(&self, key: &str) {
        let mut map = self.shard(key).lock().unwrap_or_else(|p| p.into_inner());
        if let Some(n) = map.get_mut(key) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                map.remove(key);
            }
        }
    }
}

/// Gives the slot back when the request ends, however it ends.
struct Slot {
    counters: Arc<Counters>,
    key: String,
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.counters.release(&self.key);
    }
}

/// One `inFlightReq` middleware instance, shared by every router that names it.
pub struct InFlightReq {
    amount: u32,
    source: SourceCriterion,
    counters: Arc<Counters>,
}

impl InFlightReq {
    pub fn new(amount: u32, source: SourceCriterion) -> Self {
        InFlightReq {
            amount,
            source,
            counters: Arc::new(Counters::default()),
        }
    }

    /// Admits a request from `key`; the returned slot must live as long as the request.
    fn admit(&self, key: String) -> Option<Slot> {
        self.counters.acquire(&key, self.amount).then(|| Slot {
            counters: self.counters.clone(),
            key,
        })
    }

    fn key(&self, session: &Session, client_ip: IpAddr) -> String {
        self.source.key(session.req_header(), client_ip)
    }
}

#[async_trait]
impl Plugin for InFlightReq {
    fn kind(&self) -> &'static str {
        "inFlightReq"
    }

    async fn request_filter(&self, session: &mut Session, cx: &mut PluginCtx) -> Result<Flow> {
        let key = self.key(session, cx.client_ip);
        match self.admit(key) {
            Some(slot) => {
                cx.hold(Box::new(slot));
                Ok(Flow::Continue)
            }
            None => Ok(Flow::Respond(Reply::text(
                StatusCode::TOO_MANY_REQUESTS,
                "Too Many Requests\n",
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amount_depth_and_criterion_are_checked_at_their_keys() {
        let keys = |text: &str| {
            build(&toml::from_str(text).unwrap(), &crate::build::test_cx())
                .err()
                .unwrap_or_default()
                .into_iter()
                .map(|e| e.key_path)
                .collect::<Vec<_>>()
        };
        let key = "http.middlewares.m.inFlightReq";
        assert_eq!(
            keys("amount = 0\n[sourceCriterion.ipStrategy]\ndepth = -1\n"),
            [
                format!("{key}.amount"),
                format!("{key}.sourceCriterion.ipStrategy.depth")
            ]
        );
        assert_eq!(
            keys("amount = 1\n[sourceCriterion]\nrequestHeaderName = \"a b\"\n"),
            [format!("{key}.sourceCriterion")]
        );
        assert!(keys("amount = 3\n").is_empty());
    }

    #[test]
    fn admits_up_to_amount_per_key_and_frees_on_drop() {
        let f = InFlightReq::new(2, SourceCriterion::ClientIp);
        let a1 = f.admit("a".into()).unwrap();
        let _a2 = f.admit("a".into()).unwrap();
        assert!(f.admit("a".into()).is_none());
        assert!(f.admit("b".into()).is_some());
        drop(a1);
        assert!(f.admit("a".into()).is_some());
    }

    #[test]
    fn counters_are_removed_when_idle() {
        let f = InFlightReq::new(1, SourceCriterion::ClientIp);
        drop(f.admit("x".into()).unwrap());
        let total: usize = f
            .counters
            .shards
            .iter()
            .map(|s| s.lock().unwrap().len())
            .sum();
        assert_eq!(total, 0);
    }
}
