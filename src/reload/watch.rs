//! The reload trigger: file-system events on the config files (debounced) and SIGHUP.

use super::ReloadPlan;
use async_trait::async_trait;
use notify::{RecursiveMode, Watcher};
use pingora::server::ShutdownWatch;
use pingora::services::background::BackgroundService;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::signal::unix::{signal, SignalKind};
use tokio::sync::mpsc;

/// Runs reloads when told to: a Pingora background service.
pub struct ReloadService {
    pub plan: Arc<ReloadPlan>,
    /// Directories to watch, and the file names in them that matter (`None`: all).
    pub watched: Vec<(PathBuf, Option<String>)>,
    /// Quiet time after the last event before reloading (bursts become one reload).
    pub debounce: Duration,
}

impl ReloadService {
    /// Watches what the static config names: the static file itself (its inline `http`
    /// section) and, when `providers.file.watch` is on, the provider's file or directory.
    pub fn for_plan(plan: Arc<ReloadPlan>) -> ReloadService {
        let compiler = &plan.compiler;
        let static_path = compiler.static_path.clone();
        let base = static_path.parent().map(PathBuf::from).unwrap_or_default();
        let mut watched = Vec::new();
        if let Some(file) = compiler
            .static_config
            .providers
            .file
            .as_ref()
            .filter(|f| f.watch)
        {
            if compiler.source.has_file() {
                watched.push(split(&static_path));
            }
            if let Some(f) = &file.filename {
                watched.push(split(&base.join(f)));
            }
            if let Some(d) = &file.directory {
                watched.push((base.join(d), None));
            }
        }
        ReloadService {
            plan,
            watched,
            debounce: Duration::from_millis(200),
        }
    }
}

/// A file as (its directory, its name): editors replace files by renaming, so the directory
/// is watched and events are filtered by name.
fn split(path: &std::path::Path) -> (PathBuf, Option<String>) {
    let dir = path
        .parent()
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("."));
    let dir = if dir.as_os_str().is_empty() {
        PathBuf::from(".")
    } else {
        dir
    };
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
    (dir, name)
}

#[async_trait]
impl BackgroundService for ReloadService {
    async fn start(&self, mut shutdown: ShutdownWatch) {
        let (tx, mut rx) = mpsc::unbounded_channel::<()>();
        let watched = self.watched.clone();
        let _watcher = start_watcher(&watched, tx);
        let mut hup = match signal(SignalKind::hangup()) {
            Ok(s) => {
                // Until now SIGHUP's default action (exit) applied: this line says it is safe.
                log::info!("configuration reload: listening for SIGHUP");
                Some(s)
            }
            Err(e) => {
                log::error!("cannot listen for SIGHUP: {e}");
                None
            }
        };
        loop {
            tokio::select! {
                _ = shutdown.changed() => return,
                Some(()) = async { match hup.as_mut() { Some(h) => h.recv().await, None => std::future::pending().await } } => {
                    self.run("SIGHUP").await;
                }
                Some(()) = rx.recv() => {
                    // debounce: wait until the files have been quiet for a moment
                    while let Ok(Some(())) = tokio::time::timeout(self.debounce, rx.recv()).await {}
                    self.run("file change").await;
                }
            }
        }
    }
}

impl ReloadService {
    async fn run(&self, why: &'static str) {
        let plan = self.plan.clone();
        // compiling resolves DNS and reads files: keep it off the async workers
        if let Err(e) = tokio::task::spawn_blocking(move || plan.reload(why)).await {
            log::error!("reload task failed: {e}");
        }
    }
}

/// Starts a notify watcher sending a tick on every relevant event; `None` when nothing to watch.
fn start_watcher(
    watched: &[(PathBuf, Option<String>)],
    tx: mpsc::UnboundedSender<()>,
) -> Option<notify::RecommendedWatcher> {
    if watched.is_empty() {
        return None;
    }
    let filters: Vec<(PathBuf, Option<String>)> = watched.to_vec();
    let handler = move |event: notify::Result<notify::Event>| {
        let Ok(event) = event else { return };
        if event.kind.is_access() {
            return;
        }
        let relevant = event.paths.iter().any(|p| {
            filters.iter().any(|(dir, name)| {
                let in_dir = p.parent().is_some_and(|d| same_dir(d, dir)) || p.starts_with(dir);
                in_dir
                    && match name {
                        Some(n) => p.file_name().is_some_and(|f| f.to_string_lossy() == *n),
                        None => true,
                    }
            })
        });
        if relevant {
            let _ = tx.send(());
        }
    };
    let mut watcher = match notify::recommended_watcher(handler) {
        Ok(w) => w,
        Err(e) => {
            log::error!("cannot watch the configuration files: {e}; SIGHUP still reloads");
            return None;
        }
    };
    for (dir, name) in watched {
        // A provider directory is read with its subdirectories, so it is watched with them.
        let mode = match name {
            Some(_) => RecursiveMode::NonRecursive,
            None => RecursiveMode::Recursive,
        };
        if let Err(e) = watcher.watch(dir, mode) {
            log::error!("cannot watch {}: {e}; SIGHUP still reloads", dir.display());
        }
    }
    Some(watcher)
}

fn same_dir(a: &std::path::Path, b: &std::path::Path) -> bool {
    a == b
        || a.canonicalize()
            .ok()
            .zip(b.canonicalize().ok())
            .is_some_and(|(x, y)| x == y)
}
