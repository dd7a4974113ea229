//! Ends a graceful shutdown as soon as nothing is in flight.
//!
//! After SIGTERM (or the handover of an upgrade), Pingora sleeps the whole grace period
//! (`lifeCycle.graceTimeOut`) before it stops, even with no connection open. This service watches
//! for that period and exits the process once the last client connection is closed (idle
//! keep-alive connections close within their short linger), so an idle gateway stops in
//! milliseconds and a busy one as soon as its requests and streams are done — the grace period
//! stays the upper bound, as in Traefik.

use async_trait::async_trait;
use pingora::server::{ExecutionPhase, ShutdownWatch};
use pingora::services::background::BackgroundService;
use std::sync::Mutex;
use std::time::Duration;
use tokio::sync::broadcast;

/// How often the open connections are counted during the grace period.
const POLL: Duration = Duration::from_millis(10);

/// The background service that exits once drained.
pub struct ExitWhenDrained {
    phases: Mutex<Option<broadcast::Receiver<ExecutionPhase>>>,
}

impl ExitWhenDrained {
    pub fn new(phases: broadcast::Receiver<ExecutionPhase>) -> Self {
        ExitWhenDrained {
            phases: Mutex::new(Some(phases)),
        }
    }
}

#[async_trait]
impl BackgroundService for ExitWhenDrained {
    async fn start(&self, _shutdown: ShutdownWatch) {
        let Some(mut phases) = self.phases.lock().ok().and_then(|mut p| p.take()) else {
            return;
        };
        loop {
            match phases.recv().await {
                Ok(ExecutionPhase::ShutdownGracePeriod) => break,
                Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => continue,
                Err(broadcast::error::RecvError::Closed) => return,
            }
        }
        while crate::listener::open::count() > 0 {
            tokio::time::sleep(POLL).await;
        }
        log::info!("shutdown: no connection left, exiting before the grace period ends");
        if let Some(log) = crate::access_log::global() {
            log.writer.wait_written(Duration::from_secs(1));
        }
        std::process::exit(0);
    }
}
