//! Following etcd: read the keys, publish, then watch the prefix from the read's revision + 1
//! and apply each event to the keys; the events of one debounce time from the first become
//! one update. When etcd cannot be reached or the watch ends (etcd stopped, the revision was
//! compacted), the last configuration keeps serving and the provider reconnects with capped
//! backoff, reading the keys again. An outage is logged when it starts and when it ends (the
//! errors between: debug).

use super::client::{open, text, watch_after, Failure};
use super::EtcdSettings;
use crate::provider::kv::keys::build_part;
use crate::reload::ReloadPlan;
use async_trait::async_trait;
use etcd_client::EventType;
use pingora::server::ShutdownWatch;
use pingora::services::background::BackgroundService;
use std::collections::BTreeMap;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;
use tokio::time::{sleep, Instant};

/// Backoff between reconnection attempts: doubles up to the cap.
pub const BACKOFF_FIRST: Duration = Duration::from_millis(250);
pub const BACKOFF_CAP: Duration = Duration::from_secs(5);

/// The provider as a Pingora background service.
pub struct EtcdWatcher {
    pub settings: EtcdSettings,
    pub plan: Arc<ReloadPlan>,
}

#[async_trait]
impl BackgroundService for EtcdWatcher {
    async fn start(&self, mut shutdown: ShutdownWatch) {
        tokio::select! {
            _ = self.run() => {}
            _ = shutdown.changed() => {}
        }
    }
}

/// Reconnection state: the next wait, and the failure that began the outage (one outage is
/// one warning).
struct Retry {
    backoff: Duration,
    outage: Option<Failure>,
}

impl EtcdWatcher {
    async fn run(&self) {
        let mut last: Option<BTreeMap<String, String>> = None;
        let mut retry = Retry {
            backoff: BACKOFF_FIRST,
            outage: None,
        };
        loop {
            let Err(failure) = self.follow(&mut last, &mut retry).await;
            let kept = last.as_ref().map_or(0, BTreeMap::len);
            match (&retry.outage, &failure) {
                (Some(_), _) => log::debug!("etcd provider: still failing: {failure}"),
                (None, Failure::Auth(_)) => log::error!(
                    "etcd provider: {failure}; keeping the last keys read ({kept}) and retrying with backoff up to {BACKOFF_CAP:?}"
                ),
                (None, Failure::Other(_)) => log::warn!(
                    "etcd provider: cannot read the keys from {failure}; keeping the last keys read ({kept}) and retrying with backoff up to {BACKOFF_CAP:?}"
                ),
            }
            if retry.outage.is_none() {
                retry.outage = Some(failure);
            }
            sleep(retry.backoff).await;
            retry.backoff = (retry.backoff * 2).min(BACKOFF_CAP);
        }
    }

    /// Connects, reads and publishes, then follows the watch until it fails.
    async fn follow(
        &self,
        last: &mut Option<BTreeMap<String, String>>,
        retry: &mut Retry,
    ) -> Result<Infallible, Failure> {
        let s = &self.settings;
        let session = open(s).await?;
        let mut stream = watch_after(&session, &s.root_key).await?;
        let (member, mut keys) = (session.member, session.keys);
        log::debug!("etcd provider: watching {}/ at {member}", s.root_key);
        if let Some(was) = retry.outage.take() {
            log::info!("etcd provider: the keys can be read again (was: {was})");
        }
        retry.backoff = BACKOFF_FIRST;
        self.publish_if_changed(&keys, last).await;
        let mut due: Option<Instant> = None;
        loop {
            let wait = async {
                match due {
                    Some(at) => tokio::time::sleep_until(at).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                message = stream.message() => {
                    let response = match message {
                        Ok(Some(r)) => r,
                        Ok(None) => return Err(Failure::Other(format!("{member}: etcd closed the watch"))),
                        Err(e) => return Err(Failure::Other(format!("{member}: the watch failed: {e}"))),
                    };
                    if response.canceled() {
                        return Err(canceled(&member, response.cancel_reason(), response.compact_revision()));
                    }
                    for event in response.events() {
                        let Some(kv) = event.kv() else { continue };
                        let Some((key, value)) = text(kv.key(), kv.value()) else { continue };
                        match event.event_type() {
                            EventType::Put => keys.insert(key, value),
                            EventType::Delete => keys.remove(&key),
                        };
                    }
                    if !response.events().is_empty() {
                        if keys.len() > s.max_keys {
                            return Err(Failure::Other(format!(
                                "{member}: more than {} keys under `{}/`: remove keys or use another rootKey",
                                s.max_keys, s.root_key
                            )));
                        }
                        due.get_or_insert_with(|| Instant::now() + s.debounce);
                    }
                }
                _ = wait => {
                    due = None;
                    self.publish_if_changed(&keys, last).await;
                }
            }
        }
    }

    /// Publishes `keys` unless they are the ones last published.
    async fn publish_if_changed(
        &self,
        keys: &BTreeMap<String, String>,
        last: &mut Option<BTreeMap<String, String>>,
    ) {
        if last.as_ref() == Some(keys) {
            return;
        }
        let why = format!(
            "etcd: {} key(s) under {}/",
            keys.len(),
            self.settings.root_key
        );
        self.publish(keys, &why).await;
        *last = Some(keys.clone());
    }

    /// Builds the provider's part, logs what it leaves out, and runs a reload with it (off the
    /// async threads).
    async fn publish(&self, keys: &BTreeMap<String, String>, why: &str) {
        let part = build_part("etcd", &self.settings.root_key, keys);
        self.plan.compiler.sources.etcd.store(Some(Arc::new(part)));
        let plan = self.plan.clone();
        let why = why.to_string();
        let _ = tokio::task::spawn_blocking(move || plan.reload(&why)).await;
    }
}

/// Why etcd canceled the watch: the revision it needed was compacted (then the keys are read
/// again), the user may not watch the keys (`Auth`), or etcd's reason.
fn canceled(member: &str, reason: &str, compact_revision: i64) -> Failure {
    if compact_revision > 0 {
        return Failure::Other(format!(
            "{member}: the watch's revision was compacted (etcd keeps from {compact_revision}): reading the keys again"
        ));
    }
    let text = format!("{member}: etcd canceled the watch: {reason}");
    match reason.contains("permission denied") {
        true => Failure::Auth(text),
        false => Failure::Other(text),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_canceled_watch_says_why() {
        let f = canceled("http://m:1", "", 7);
        assert!(
            f.to_string().contains("compacted (etcd keeps from 7)"),
            "{f}"
        );
        let f = canceled("http://m:1", "etcdserver: permission denied", 0);
        assert!(matches!(f, Failure::Auth(_)), "{f:?}");
        assert!(f.to_string().contains("providers.etcd.username"), "{f}");
        let f = canceled("http://m:1", "etcdserver: no leader", 0);
        assert_eq!(
            f,
            Failure::Other("http://m:1: etcd canceled the watch: etcdserver: no leader".into())
        );
    }
}
