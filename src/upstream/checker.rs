//! The active health checker: one background task probing the servers of every pool, reloads included.
//!
//! Pingora's own health checks belong to a `LoadBalancer` known at start; pylon's pools come and
//! go with reloads, so one task walks the *current* Snapshot's pools every [`TICK`] and starts a
//! probe for each server that is due (within half a tick) and not already being probed. A new
//! pool's servers are due at once (`next_probe_ms = 0`); after a probe the next one is due
//! `interval` later if the server is up, `unhealthy_interval` later if it is down. Probes run
//! concurrently, at most [`MAX_CONCURRENT_PROBES`] at a time. A state change is logged once by
//! `Pool::set_health`.
//!
//! Starting probes in per-tick batches (rather than waking for each due time) keeps the
//! checker's wake-ups at 10 per second whatever the number of servers; a probe runs at most
//! half a tick early or late, so intervals below one tick behave as one tick.

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

/// How often the checker looks at the Snapshot for due servers.
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

    /// Starts a probe (in the current Tokio runtime) for every server of the current Snapshot
    /// that is due within half a tick; returns how many were started.
    pub fn start_due(&self) -> usize {
        let snapshot = self.store.load();
        let horizon = now_ms() + TICK.as_millis() as u64 / 2;
        let mut started = 0;
        for pool in &snapshot.pools {
            if pool.active.is_none() {
                continue;
            }
            for index in 0..pool.servers().len() {
                let Some(health) = pool.health(index) else {
                    continue;
                };
                if health.next_probe_ms.load(Ordering::Acquire) > horizon {
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
                    started += 1;
                }
            }
        }
        started
    }
}

#[async_trait]
impl BackgroundService for HealthChecker {
    async fn start(&self, mut shutdown: ShutdownWatch) {
        log::debug!("active health checker started");
        let mut tick = tokio::time::interval(TICK);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        while !*shutdown.borrow() {
            tokio::select! {
                changed = shutdown.changed() => {
                    if changed.is_err() {
                        break;
                    }
                }
                _ = tick.tick() => {
                    self.start_due();
                }
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
    // Only a change writes: the flag's cache line stays shared with the request threads.
    if health.is_up() != up {
        pool.set_health(index, up, &reason);
    }
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
