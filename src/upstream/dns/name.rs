//! One host name's current address: set by its lookups, read lock-free by every request.

use arc_swap::ArcSwap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::Instant;
use tokio::sync::Notify;

/// What the last lookup of a name gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Not looked up yet (or the first lookup is still running).
    Pending,
    /// Its addresses, sorted (so a server answering in rotating order is no change); the
    /// first one is dialled.
    Resolved(Arc<[IpAddr]>),
    /// Why it does not resolve (NXDOMAIN, refused, timed out...).
    Failed(String),
}

impl Outcome {
    /// The address connections go to.
    pub fn address(&self) -> Option<IpAddr> {
        match self {
            Outcome::Resolved(ips) => ips.first().copied(),
            _ => None,
        }
    }
}

/// One lookup's result and when the name is to be looked up again (the record's TTL, clamped).
#[derive(Debug, Clone)]
pub struct Answer {
    pub outcome: Outcome,
    pub refresh_at: Instant,
}

/// Told when a name's outcome changes (a pool logs it and shows its servers down or up).
pub trait Watcher: Send + Sync {
    /// `name` went from `before` to its current outcome.
    fn name_changed(&self, name: &Name, before: &Outcome);
}

/// A host name used by server URLs, shared by every server (of every Snapshot) naming it.
pub struct Name {
    host: String,
    answer: ArcSwap<Answer>,
    /// `answer` holds an address: read when picking a server, without loading `answer`.
    resolved: AtomicBool,
    watchers: Mutex<Vec<Weak<dyn Watcher>>>,
    /// Notified when the last server naming it is gone: its refresh task stops.
    closed: Arc<Notify>,
}

impl std::fmt::Debug for Name {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Name")
            .field("host", &self.host)
            .field("outcome", &self.answer.load().outcome)
            .finish()
    }
}

impl Name {
    /// A name not looked up yet (due at once).
    pub fn new(host: &str) -> Name {
        Name {
            host: host.to_string(),
            answer: ArcSwap::from_pointee(Answer {
                outcome: Outcome::Pending,
                refresh_at: Instant::now(),
            }),
            resolved: AtomicBool::new(false),
            watchers: Mutex::new(Vec::new()),
            closed: Arc::new(Notify::new()),
        }
    }

    pub fn host(&self) -> &str {
        &self.host
    }

    /// Whether the name has an address now (one atomic load).
    #[inline]
    pub fn is_resolved(&self) -> bool {
        self.resolved.load(Ordering::Acquire)
    }

    /// The address to dial now, if the name resolves.
    #[inline]
    pub fn address(&self) -> Option<IpAddr> {
        if !self.is_resolved() {
            return None;
        }
        self.answer.load().outcome.address()
    }

    pub fn outcome(&self) -> Outcome {
        self.answer.load().outcome.clone()
    }

    /// How long until the name is due for its next lookup.
    pub fn until_refresh(&self) -> std::time::Duration {
        self.answer
            .load()
            .refresh_at
            .saturating_duration_since(Instant::now())
    }

    pub(super) fn closed(&self) -> Arc<Notify> {
        self.closed.clone()
    }

    /// Records a lookup's answer; the watchers hear of a changed outcome.
    pub fn set(&self, answer: Answer) {
        let resolved = matches!(answer.outcome, Outcome::Resolved(_));
        let before = self.answer.swap(Arc::new(answer));
        self.resolved.store(resolved, Ordering::Release);
        if before.outcome != self.answer.load().outcome {
            for watcher in self.live_watchers() {
                watcher.name_changed(self, &before.outcome);
            }
        }
    }

    /// Adds a watcher and tells it the current outcome (as a change from `Pending`).
    pub fn watch(&self, watcher: Weak<dyn Watcher>) {
        let Some(live) = watcher.upgrade() else {
            return;
        };
        {
            let mut watchers = self.watchers.lock().unwrap_or_else(|p| p.into_inner());
            watchers.retain(|w| w.strong_count() > 0);
            watchers.push(watcher);
        }
        live.name_changed(self, &Outcome::Pending);
    }

    /// Tells every watcher the current outcome again, as a change from `Pending` (the lookups
    /// at start run before logging is set up: their news is repeated once it is).
    pub fn announce(&self) {
        for watcher in self.live_watchers() {
            watcher.name_changed(self, &Outcome::Pending);
        }
    }

    /// The watchers still alive (called outside the lock).
    fn live_watchers(&self) -> Vec<Arc<dyn Watcher>> {
        let mut watchers = self.watchers.lock().unwrap_or_else(|p| p.into_inner());
        watchers.retain(|w| w.strong_count() > 0);
        watchers.iter().filter_map(Weak::upgrade).collect()
    }
}

impl Drop for Name {
    fn drop(&mut self) {
        self.closed.notify_one();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;
    use std::time::Duration;

    #[derive(Default)]
    struct Count(AtomicUsize);

    impl Watcher for Count {
        fn name_changed(&self, _: &Name, _: &Outcome) {
            self.0.fetch_add(1, Ordering::Relaxed);
        }
    }

    fn answer(outcome: Outcome) -> Answer {
        Answer {
            outcome,
            refresh_at: Instant::now() + Duration::from_secs(5),
        }
    }

    #[test]
    fn watchers_hear_of_changes_only() {
        let name = Name::new("app.pylon.test");
        let count = Arc::new(Count::default());
        let weak: Weak<dyn Watcher> = Arc::downgrade(&count) as Weak<dyn Watcher>;
        name.watch(weak);
        assert_eq!(count.0.load(Ordering::Relaxed), 1, "told at once");
        let ip: IpAddr = "127.0.0.2".parse().unwrap();
        name.set(answer(Outcome::Resolved(Arc::from([ip]))));
        name.set(answer(Outcome::Resolved(Arc::from([ip]))));
        assert_eq!(count.0.load(Ordering::Relaxed), 2, "same answer: no news");
        assert_eq!(name.address(), Some(ip));
        assert!(name.until_refresh() > Duration::from_secs(4));
        name.set(answer(Outcome::Failed("NXDOMAIN".into())));
        assert_eq!(count.0.load(Ordering::Relaxed), 3);
        assert!(!name.is_resolved());
        assert_eq!(name.address(), None);
    }
}
