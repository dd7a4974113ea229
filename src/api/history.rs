//! The last configuration reloads (time, trigger, result, what changed), for the API and the
//! dashboard. Written by the reload task only, so a plain mutex off the request path serves.

use serde::Serialize;
use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

/// How many reloads are kept.
const KEPT: usize = 50;

/// One reload, as `/api/reloads` shows it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct ReloadEvent {
    /// Unix time in milliseconds.
    pub at_ms: u64,
    /// What triggered it ("start", "file change", "SIGHUP", "docker event", ...).
    pub source: String,
    /// `applied` or `refused`.
    pub result: &'static str,
    /// The version in force afterwards.
    pub version: u64,
    /// What changed (applied) or the errors (refused), one line each.
    pub details: Vec<String>,
}

/// The recent reloads, newest last.
#[derive(Debug, Default)]
pub struct ReloadHistory {
    events: Mutex<VecDeque<ReloadEvent>>,
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

impl ReloadHistory {
    /// Records a reload that just happened.
    pub fn record(&self, source: &str, applied: bool, version: u64, details: Vec<String>) {
        let event = ReloadEvent {
            at_ms: now_ms(),
            source: source.to_string(),
            result: if applied { "applied" } else { "refused" },
            version,
            details,
        };
        let mut events = self.events.lock().unwrap_or_else(|p| p.into_inner());
        if events.len() == KEPT {
            events.pop_front();
        }
        events.push_back(event);
    }

    /// The kept reloads, newest first.
    pub fn recent(&self) -> Vec<ReloadEvent> {
        let events = self.events.lock().unwrap_or_else(|p| p.into_inner());
        events.iter().rev().cloned().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_latest_newest_first() {
        let h = ReloadHistory::default();
        for v in 0..(KEPT as u64 + 5) {
            h.record("file change", v % 2 == 0, v, vec![format!("v{v}")]);
        }
        let recent = h.recent();
        assert_eq!(recent.len(), KEPT);
        assert_eq!(recent[0].version, KEPT as u64 + 4);
        assert_eq!(recent[KEPT - 1].version, 5);
        assert_eq!(recent[1].result, "refused");
    }
}
