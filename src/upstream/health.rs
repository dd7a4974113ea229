//! Up/down state of one upstream server: read lock-free per request, written by health checks.
//!
//! A change is logged once (not per request) with the reason, and kept with its time so the
//! API and logs can say since when and why a server is down.

use arc_swap::ArcSwap;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The health of one server of a pool.
#[derive(Debug)]
pub struct Health {
    /// `service@provider url`, for log lines.
    who: String,
    up: AtomicBool,
    /// When `up` last changed, in milliseconds since the Unix epoch (0: never).
    changed_at_ms: AtomicU64,
    reason: ArcSwap<String>,
    /// Passive health: failures seen in the current window and when the window started.
    window_failures: AtomicU32,
    window_started_ms: AtomicU64,
    /// Active checks: when the next probe is due (ms since epoch), and whether one is running.
    pub next_probe_ms: AtomicU64,
    pub probing: AtomicBool,
    /// Passive health: when a server taken out by live-traffic failures comes back (0: never).
    revive_at_ms: AtomicU64,
}

impl Default for Health {
    fn default() -> Self {
        Health::new(String::new())
    }
}

impl Health {
    /// A healthy server named `who` in logs.
    pub fn new(who: String) -> Self {
        Health {
            who,
            up: AtomicBool::new(true),
            changed_at_ms: AtomicU64::new(0),
            reason: ArcSwap::from_pointee(String::new()),
            window_failures: AtomicU32::new(0),
            window_started_ms: AtomicU64::new(0),
            next_probe_ms: AtomicU64::new(0),
            probing: AtomicBool::new(false),
            revive_at_ms: AtomicU64::new(0),
        }
    }
}

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// A server's state as the API and logs show it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HealthView {
    pub up: bool,
    pub since_ms: u64,
    pub reason: String,
}

impl Health {
    #[inline]
    pub fn is_up(&self) -> bool {
        self.up.load(Ordering::Relaxed)
    }

    /// Up, or down only for passive reasons whose window has passed (then it is put back).
    /// Reads the clock only for a server that is down.
    #[inline]
    pub fn available(&self) -> bool {
        if self.is_up() {
            return true;
        }
        let revive = self.revive_at_ms.load(Ordering::Relaxed);
        if revive != 0 && now_ms() >= revive {
            self.revive_at_ms.store(0, Ordering::Relaxed);
            self.set(true, "passive health check window elapsed");
            return true;
        }
        false
    }

    /// Puts a passively failed server back after `after` (unless an active check says otherwise).
    pub fn revive_after(&self, after: Duration) {
        self.revive_at_ms
            .store(now_ms() + after.as_millis() as u64, Ordering::Relaxed);
    }

    /// Sets the state; returns whether it changed (a change is logged once).
    pub fn set(&self, up: bool, reason: &str) -> bool {
        let was = self.up.swap(up, Ordering::AcqRel);
        if was == up {
            return false;
        }
        self.changed_at_ms.store(now_ms(), Ordering::Relaxed);
        self.reason.store(Arc::new(reason.to_string()));
        if up {
            self.window_failures.store(0, Ordering::Relaxed);
        } else {
            self.revive_at_ms.store(0, Ordering::Relaxed);
        }
        let who = &self.who;
        if up {
            log::info!("server {who} is UP again: {reason}");
        } else {
            log::warn!("server {who} is DOWN: {reason}");
        }
        true
    }

    /// Records one failure seen on live traffic; returns true when it reaches `max_failures`
    /// within `window` (the caller then marks the server down).
    pub fn record_failure(&self, window: Duration, max_failures: u32) -> bool {
        let now = now_ms();
        let started = self.window_started_ms.load(Ordering::Relaxed);
        if now.saturating_sub(started) > window.as_millis() as u64 {
            self.window_started_ms.store(now, Ordering::Relaxed);
            self.window_failures.store(1, Ordering::Relaxed);
            return max_failures <= 1;
        }
        self.window_failures.fetch_add(1, Ordering::Relaxed) + 1 >= max_failures
    }

    pub fn view(&self) -> HealthView {
        HealthView {
            up: self.is_up(),
            since_ms: self.changed_at_ms.load(Ordering::Relaxed),
            reason: self.reason.load().as_ref().clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_are_reported_once_with_reason_and_time() {
        let h = Health::default();
        assert!(h.is_up());
        assert!(h.set(false, "connection refused"));
        assert!(!h.set(false, "connection refused"));
        let v = h.view();
        assert!(!v.up);
        assert_eq!(v.reason, "connection refused");
        assert!(v.since_ms > 0);
        assert!(h.set(true, "health check passed"));
    }

    #[test]
    fn passive_failures_count_within_a_window() {
        let h = Health::default();
        let w = Duration::from_secs(10);
        assert!(!h.record_failure(w, 3));
        assert!(!h.record_failure(w, 3));
        assert!(h.record_failure(w, 3));
    }

    #[test]
    fn an_old_window_starts_over() {
        let h = Health::default();
        let w = Duration::from_millis(1);
        assert!(!h.record_failure(w, 2));
        std::thread::sleep(Duration::from_millis(5));
        assert!(!h.record_failure(w, 2));
    }
}
