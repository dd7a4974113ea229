//! Following the Docker engine: list the containers at start, then the event stream; bursts of
//! events are debounced into one update; when the engine goes away, reconnect with backoff and
//! keep serving the last known containers meanwhile.

use super::client::connect;
use super::inspect::{inspected, Inspected};
use super::{build_part, DockerSettings};
use crate::reload::ReloadPlan;
use async_trait::async_trait;
use bollard::query_parameters::{EventsOptions, ListContainersOptions};
use bollard::Docker;
use futures_util::StreamExt;
use pingora::server::ShutdownWatch;
use pingora::services::background::BackgroundService;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::time::{sleep, Instant};

/// Container events after which a container is read again.
const ACTIONS: [&str; 11] = [
    "start",
    "restart",
    "die",
    "stop",
    "kill",
    "pause",
    "unpause",
    "destroy",
    "rename",
    "update",
    "health_status",
];

/// Backoff between reconnection attempts: doubles up to the cap.
const BACKOFF_FIRST: Duration = Duration::from_millis(250);
const BACKOFF_CAP: Duration = Duration::from_secs(5);

/// The provider as a Pingora background service.
pub struct DockerWatcher {
    pub settings: DockerSettings,
    pub plan: Arc<ReloadPlan>,
}

#[async_trait]
impl BackgroundService for DockerWatcher {
    async fn start(&self, mut shutdown: ShutdownWatch) {
        tokio::select! {
            _ = self.run() => {}
            _ = shutdown.changed() => {}
        }
    }
}

/// Why following the engine stopped (and a reconnection is due).
enum Lost {
    Unreachable(String),
    Stream(String),
}

/// Reconnection state: the next wait, and whether the outage was logged.
struct Retry {
    backoff: Duration,
    outage_logged: bool,
}

impl DockerWatcher {
    async fn run(&self) {
        let mut known: BTreeMap<String, Inspected> = BTreeMap::new();
        let mut retry = Retry {
            backoff: BACKOFF_FIRST,
            outage_logged: false,
        };
        loop {
            let message = match self.follow(&mut known, &mut retry).await {
                Ok(()) => return,
                Err(Lost::Unreachable(m)) => m,
                Err(Lost::Stream(m)) => format!("lost the Docker event stream: {m}"),
            };
            if retry.outage_logged {
                log::debug!("docker provider: {message}");
            } else {
                log::warn!(
                    "docker provider: {message}; keeping the last known containers ({}) and retrying",
                    known.len()
                );
                retry.outage_logged = true;
            }
            sleep(retry.backoff).await;
            retry.backoff = (retry.backoff * 2).min(BACKOFF_CAP);
        }
    }

    /// Lists, publishes, then follows events until the stream ends (`Err`) or, without
    /// `watch`, returns after the first list.
    async fn follow(
        &self,
        known: &mut BTreeMap<String, Inspected>,
        retry: &mut Retry,
    ) -> Result<(), Lost> {
        let s = &self.settings;
        let docker = connect(&s.endpoint, s.request_timeout)
            .await
            .map_err(Lost::Unreachable)?;
        // Events since a second before the list are replayed: nothing between is missed.
        let since = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs().saturating_sub(1))
            .unwrap_or_default();
        let mut events = docker.events(Some(EventsOptions {
            since: Some(since.to_string()),
            until: None,
            filters: Some(HashMap::from([(
                "type".to_string(),
                vec!["container".to_string()],
            )])),
        }));
        *known = list(&docker, s).await.map_err(Lost::Unreachable)?;
        if retry.outage_logged {
            log::info!("docker provider: the engine at {} is back", s.endpoint);
            retry.outage_logged = false;
        }
        retry.backoff = BACKOFF_FIRST;
        self.publish(known, "docker: containers listed").await;
        if !s.watch {
            return Ok(());
        }
        let mut pending: BTreeSet<String> = BTreeSet::new();
        let mut due: Option<Instant> = None;
        loop {
            let wait = async {
                match due {
                    Some(at) => tokio::time::sleep_until(at).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                event = events.next() => match event {
                    Some(Ok(e)) => {
                        let action = e.action.unwrap_or_default();
                        let relevant = ACTIONS.iter().any(|a| action == *a || action.starts_with(&format!("{a}:")));
                        if let (true, Some(id)) = (relevant, e.actor.and_then(|a| a.id)) {
                            log::debug!("docker provider: event {action} for {id}");
                            pending.insert(id);
                            due.get_or_insert_with(|| Instant::now() + s.debounce);
                        }
                    }
                    Some(Err(e)) => return Err(Lost::Stream(e.to_string())),
                    None => return Err(Lost::Stream("the engine closed it".into())),
                },
                _ = wait => {
                    due = None;
                    let ids = std::mem::take(&mut pending);
                    let count = ids.len();
                    for id in ids {
                        match docker.inspect_container(&id, None).await {
                            Ok(c) => {
                                let c = inspected(&c, &s.inspect);
                                if let Some(w) = &c.warning {
                                    log::warn!("docker provider: {w}");
                                }
                                known.insert(id, c);
                            }
                            Err(bollard::errors::Error::DockerResponseServerError { status_code: 404, .. }) => {
                                known.remove(&id);
                            }
                            Err(e) => return Err(Lost::Stream(format!("inspecting {id}: {e}"))),
                        }
                    }
                    known.retain(|_, c| c.serving);
                    self.publish(known, &format!("docker: {count} container(s) changed")).await;
                }
            }
        }
    }

    /// Builds the provider's part and runs a reload with it (off the async threads).
    async fn publish(&self, known: &BTreeMap<String, Inspected>, why: &str) {
        let part = build_part(known, &self.settings);
        self.plan
            .compiler
            .sources
            .docker
            .store(Some(Arc::new(part)));
        let plan = self.plan.clone();
        let why = why.to_string();
        let _ = tokio::task::spawn_blocking(move || plan.reload(&why)).await;
    }
}

/// Every running container, inspected.
async fn list(docker: &Docker, s: &DockerSettings) -> Result<BTreeMap<String, Inspected>, String> {
    let summaries = docker
        .list_containers(Some(ListContainersOptions::default()))
        .await
        .map_err(|e| format!("listing containers: {e}"))?;
    let mut known = BTreeMap::new();
    for summary in summaries {
        let Some(id) = summary.id else { continue };
        match docker.inspect_container(&id, None).await {
            Ok(c) => {
                let c = inspected(&c, &s.inspect);
                if let Some(w) = &c.warning {
                    log::warn!("docker provider: {w}");
                }
                if c.serving {
                    known.insert(id, c);
                }
            }
            // Gone between the list and the inspect.
            Err(bollard::errors::Error::DockerResponseServerError {
                status_code: 404, ..
            }) => {}
            Err(e) => return Err(format!("inspecting {id}: {e}")),
        }
    }
    Ok(known)
}
