//! Polling Redis: read the keys every `pollInterval`, publish only when they changed, and keep
//! the last good keys (and so the config in force) while Redis cannot be read; an outage is
//! logged when it starts and when it ends, not at every poll (the errors between: debug).

use super::fetch::{connect, read_keys};
use super::RedisSettings;
use crate::provider::kv::keys::build_part;
use crate::reload::ReloadPlan;
use async_trait::async_trait;
use pingora::server::ShutdownWatch;
use pingora::services::background::BackgroundService;
use redis::aio::MultiplexedConnection;
use std::collections::BTreeMap;
use std::sync::Arc;

/// The provider as a Pingora background service.
pub struct RedisWatcher {
    pub settings: RedisSettings,
    pub plan: Arc<ReloadPlan>,
}

#[async_trait]
impl BackgroundService for RedisWatcher {
    async fn start(&self, mut shutdown: ShutdownWatch) {
        tokio::select! {
            _ = self.run() => {}
            _ = shutdown.changed() => {}
        }
    }
}

impl RedisWatcher {
    async fn run(&self) {
        let s = &self.settings;
        let mut conn: Option<MultiplexedConnection> = None;
        let mut last: Option<BTreeMap<String, String>> = None;
        // The error that began the outage being logged: one outage is one warning.
        let mut failing: Option<String> = None;
        loop {
            match self.poll(&mut conn).await {
                Ok(pairs) => {
                    if let Some(was) = failing.take() {
                        log::info!("redis provider: the keys can be read again (was: {was})");
                    }
                    if last.as_ref() != Some(&pairs) {
                        let why = format!("redis: {} key(s) under {}/", pairs.len(), s.root_key);
                        self.publish(&pairs, &why).await;
                        last = Some(pairs);
                    }
                }
                Err(e) => {
                    conn = None;
                    if failing.is_none() {
                        log::warn!(
                            "redis provider: {e}; keeping the last keys read ({}) and retrying every {:?}",
                            last.as_ref().map_or(0, BTreeMap::len),
                            s.poll_interval
                        );
                        failing = Some(e);
                    } else {
                        log::debug!("redis provider: still failing: {e}");
                    }
                }
            }
            tokio::time::sleep(s.poll_interval).await;
        }
    }

    /// One read of the keys, connecting first when there is no connection.
    async fn poll(
        &self,
        conn: &mut Option<MultiplexedConnection>,
    ) -> Result<BTreeMap<String, String>, String> {
        let s = &self.settings;
        if conn.is_none() {
            let (address, c) = connect(s)
                .await
                .map_err(|e| format!("cannot connect: {e}"))?;
            log::debug!("redis provider: connected to {address}");
            *conn = Some(c);
        }
        let Some(c) = conn.as_mut() else {
            return Err("no connection".into());
        };
        read_keys(c, &s.root_key, s.max_keys).await
    }

    /// Builds the provider's part, logs what it leaves out, and runs a reload with it (off the
    /// async threads).
    async fn publish(&self, pairs: &BTreeMap<String, String>, why: &str) {
        let part = build_part("redis", &self.settings.root_key, pairs);
        self.plan.compiler.sources.redis.store(Some(Arc::new(part)));
        let plan = self.plan.clone();
        let why = why.to_string();
        let _ = tokio::task::spawn_blocking(move || plan.reload(&why)).await;
    }
}
