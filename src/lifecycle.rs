//! Process life cycle: shutdown signals, and the draining state `/ping` reports.
//!
//! SIGTERM: `/ping` turns 503 at once so load balancers stop sending traffic, requests are still
//! accepted for `lifeCycle.requestAcceptGraceTimeout` (default 0), then the listeners close and
//! in-flight requests get up to `lifeCycle.graceTimeOut` (default 10 s; the process exits as soon
//! as none is left, see `crate::drain`). SIGINT: immediate exit.
//! SIGQUIT: zero-downtime upgrade (the listening sockets go to the new process, which keeps them
//! open; this process accepts 5 s more, then drains like after SIGTERM). Once the listeners close,
//! idle keep-alive connections get up to 2 s to send a last request (see `src/server.rs`).

use async_trait::async_trait;
use pingora::server::{ShutdownSignal, ShutdownSignalWatch};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::signal::unix::{signal, SignalKind};

/// Shared flag: set once the process has been asked to stop.
#[derive(Debug, Default)]
pub struct Lifecycle {
    draining: AtomicBool,
}

impl Lifecycle {
    pub fn is_draining(&self) -> bool {
        self.draining.load(Ordering::Relaxed)
    }

    pub fn start_draining(&self) {
        self.draining.store(true, Ordering::Relaxed);
    }
}

/// Pingora's shutdown-signal source, with Traefik's accept grace period in front of SIGTERM.
pub struct Signals {
    pub lifecycle: Arc<Lifecycle>,
    pub accept_grace: Duration,
}

#[async_trait]
impl ShutdownSignalWatch for Signals {
    async fn recv(&self) -> ShutdownSignal {
        let (Ok(mut term), Ok(mut quit), Ok(mut int)) = (
            signal(SignalKind::terminate()),
            signal(SignalKind::quit()),
            signal(SignalKind::interrupt()),
        ) else {
            log::error!("cannot install signal handlers; only SIGKILL will stop pylon");
            return std::future::pending().await;
        };
        tokio::select! {
            _ = term.recv() => {
                log::info!("SIGTERM: draining (ping answers 503), accepting requests for {:?} more", self.accept_grace);
                self.lifecycle.start_draining();
                tokio::time::sleep(self.accept_grace).await;
                ShutdownSignal::GracefulTerminate
            }
            _ = quit.recv() => {
                log::info!("SIGQUIT: handing the listening sockets to the new process");
                ShutdownSignal::GracefulUpgrade
            }
            _ = int.recv() => {
                log::info!("SIGINT: stopping now");
                ShutdownSignal::FastShutdown
            }
        }
    }
}
