//! Hot reload: on a file change (providers.file `watch`) or SIGHUP, compile the dynamic config
//! again and swap the Snapshot atomically. A bad update is logged with every error and the
//! last good config stays in force; unchanged pools and middlewares are reused.

pub mod diff;
pub mod watch;

use crate::runtime::compile::Compiler;
use crate::runtime::Store;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// Everything a reload needs: the compiler and the live state it replaces.
pub struct ReloadPlan {
    pub compiler: Arc<Compiler>,
    /// The Snapshot in force: routes and certificates, swapped together.
    pub store: Arc<Store>,
    /// Reloads are serialized; versions only grow.
    lock: Mutex<()>,
    /// Attempts and failures so far (for logs and, later, metrics).
    pub attempts: AtomicU64,
    pub failures: AtomicU64,
}

/// What a reload did.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The new config is in force.
    Applied { version: u64 },
    /// The config was refused; the previous one stays.
    Refused { errors: usize },
}

impl ReloadPlan {
    pub fn new(compiler: Arc<Compiler>, store: Arc<Store>) -> Self {
        ReloadPlan {
            compiler,
            store,
            lock: Mutex::new(()),
            attempts: AtomicU64::new(0),
            failures: AtomicU64::new(0),
        }
    }

    /// Compiles the current files and swaps them in if they are valid. `why` goes in the log.
    pub fn reload(&self, why: &str) -> Outcome {
        let _serial = self.lock.lock().unwrap_or_else(|p| p.into_inner());
        self.attempts.fetch_add(1, Ordering::Relaxed);
        let previous = self.store.load();
        let version = previous.version + 1;
        match self.compiler.compile(version, Some(&previous)) {
            Ok(compiled) => {
                let summary = describe_change(&previous, &compiled.snapshot);
                let changes =
                    diff::ConfigDiff::between(&previous.dynamic, &compiled.snapshot.dynamic)
                        .lines();
                report_left_out(&compiled);
                // One swap publishes the routes and the certificates they are served with.
                self.store.swap(compiled.snapshot);
                log::info!(
                    "configuration reloaded ({why}): version {version}, {} router(s), {} service(s); {summary}; {}",
                    compiled.routers,
                    compiled.services,
                    changes.join("; ")
                );
                if let Some(api) = crate::api::global() {
                    api.reloads.record(why, true, version, changes);
                }
                if let Some(m) = crate::metrics::global() {
                    m.reloaded(true);
                }
                Outcome::Applied { version }
            }
            Err(errors) => {
                self.failures.fetch_add(1, Ordering::Relaxed);
                if let Some(m) = crate::metrics::global() {
                    m.reloaded(false);
                }
                log::error!(
                    "configuration reload ({why}) refused, version {} stays in force:\n{errors}",
                    previous.version
                );
                if let Some(api) = crate::api::global() {
                    let details = errors.0.iter().map(|e| e.to_string()).collect();
                    api.reloads.record(why, false, previous.version, details);
                }
                Outcome::Refused {
                    errors: errors.len(),
                }
            }
        }
    }
}

/// Logs what the update left out: containers with bad labels, key-value objects with bad keys, file
/// routers whose other-provider objects are gone.
fn report_left_out(compiled: &crate::runtime::compile::Compiled) {
    for e in &compiled.skipped {
        if crate::provider::kv::is_kv(e.provider) {
            log::error!("{} provider: object left out: {e}", e.provider);
        } else {
            log::error!("docker provider: container left out: {e}");
        }
    }
    for e in &compiled.disabled_routers {
        log::warn!("{e}");
    }
}

/// "pools reused: 3 of 4" — what survived the reload.
fn describe_change(previous: &crate::runtime::Snapshot, next: &crate::runtime::Snapshot) -> String {
    let reused = next
        .pools
        .iter()
        .filter(|p| previous.pools.iter().any(|o| Arc::ptr_eq(o, p)))
        .count();
    format!("pools reused: {reused} of {}", next.pools.len())
}
