//! The active health checker: one background task probing the servers of every pool, reloads included.
//!
//! Pingora's own health checks belong to a `LoadBalancer` known at start; pylon's pools come and
//! go with reloads, so one task walks the *current* Snapshot's pools on every tick and starts a
//! probe for each server that is due and not already being probed. A new pool's servers are due
//! at once (`next_probe_ms = 0`); after a probe the next one is due `interval` later if the
//! server is up, `unhealthy_interval` later if it is down. Probes run concurrently, at most
//! [`MAX_CONCURRENT_PROBES`] at a time. A state change is logged once by `Pool::set_health`.

use super::checks::ActiveCheck;
use super::health::now_ms;
use super::probe::{probe, ProbeError};
use super::Pool;
use crate::runtime::Store;
use async_trait::async_trait;
use pingora::server::ShutdownWatch;
use pingora::services::background::BackgroundService;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Semaphore;

/// The longest the checker sleeps between looks at the Snapshot.
pub const TICK: Duration = Duration::from_millis(100);
/// Probes in flight at most, over all pools.
pub const MAX_CONCURRENT_PROBES: usize = 256;

/// Probes every server of every pool that has `healthCheck`, for the life of the process.
pub struct HealthChecker {
    store: Arc<Store>,
    permits: Arc<Semaphore>,
}

impl HealthChecker {
    pub fn new(store: Arc<Store>) -> HealthChecker {
        HealthChecker {
            store,
            permits: Arc::new(Semaphore::new(MAX_CONCURRENT_PROBES)),
        }
    }

    /// Starts a probe for every due server of the current Snapshot (in the current Tokio
    /// runtime); returns how long until the next server is due, at most [`TICK`].
    pub fn start_due(&self) -> Duration {
        let snapshot = self.store.load();
        let now = now_ms();
        let mut next_due = now + TICK.as_millis() as u64;
        for pool in &snapshot.pools {
            if pool.active.is_none() {
                continue;
            }
            for index in 0..pool.servers().len() {
                let Some(health) = pool.health(index) else {
                    continue;
                };
                let due = health.next_probe_ms.load(Ordering::Acquire);
                if due > now {
                    next_due = next_due.min(due);
                    continue;
                }
                let claimed = health.probing.compare_exchange(
                    false,
                    true,
                    Ordering::AcqRel,
                    Ordering::Acquire,
                );
                if claimed.is_ok() {
                    tokio::spawn(run_probe(pool.clone(), index, self.permits.clone()));
                }
            }
        }
        Duration::from_millis(next_due.saturating_sub(now).max(1))
    }
}

#[async_trait]
impl BackgroundService for HealthChecker {
    async fn start(&self, mut shutdown: ShutdownWatch) {
        log::debug!("active health checker started");
        while !*shutdown.borrow() {
            let wait = self.start_due();
            tokio::select! {
                changed = shutdown.changed() => {
                    if changed.is_err() {
                        break;
                    }
                }
                _ = tokio::time::sleep(wait) => {}
            }
        }
        log::debug!("active health checker stopped");
    }
}

/// Probes server `index` of `pool` (already claimed through its `probing` flag), records the
/// verdict and schedules the next probe.
async fn run_probe(pool: Arc<Pool>, index: usize, permits: Arc<Semaphore>) {
    // The semaphore is never closed; without a permit the probe still runs.
    let _permit = permits.acquire_owned().await.ok();
    let (Some(check), Some(server), Some(health)) =
        (&pool.active, pool.servers().get(index), pool.health(index))
    else {
        return;
    };
    let (up, reason) = verdict(check, probe(server, check).await);
    pool.set_health(index, up, &reason);
    let wait = if up {
        check.interval
    } else {
        check.unhealthy_interval
    };
    let wait_ms = u64::try_from(wait.as_millis()).unwrap_or(u64::MAX);
    health
        .next_probe_ms
        .store(now_ms().saturating_add(wait_ms), Ordering::Release);
    health.probing.store(false, Ordering::Release);
}

/// Whether a probe's outcome keeps the server up, and the reason shown for it.
pub fn verdict(check: &ActiveCheck, outcome: Result<u16, ProbeError>) -> (bool, String) {
    match outcome {
        Ok(status) if check.accepts(status) => (true, "health check passed".to_string()),
        Ok(status) => {
            let expected = check
                .status
                .map_or_else(|| "2xx/3xx".to_string(), |s| s.to_string());
            let reason = format!("health check failed: status {status}, expected {expected}");
            (false, reason)
        }
        Err(e) => (false, format!("health check failed: {e}")),
    }
}

#[cfg(test)]
mod tests;
