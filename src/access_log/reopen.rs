//! SIGUSR1 → the access log opens its file again (after logrotate moved it), as Traefik does.

use super::AccessLog;
use async_trait::async_trait;
use pingora::server::ShutdownWatch;
use pingora::services::background::BackgroundService;
use std::sync::Arc;
use tokio::signal::unix::{signal, SignalKind};

/// A Pingora background service listening for SIGUSR1.
pub struct ReopenOnSignal(pub Arc<AccessLog>);

#[async_trait]
impl BackgroundService for ReopenOnSignal {
    async fn start(&self, mut shutdown: ShutdownWatch) {
        let mut usr1 = match signal(SignalKind::user_defined1()) {
            Ok(s) => s,
            Err(e) => {
                log::error!("access log: cannot listen for SIGUSR1: {e}");
                return;
            }
        };
        loop {
            tokio::select! {
                _ = usr1.recv() => {
                    log::info!("access log: SIGUSR1, reopening the file");
                    self.0.writer.reopen();
                }
                _ = shutdown.changed() => return,
            }
        }
    }
}
