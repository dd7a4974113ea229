//! The background service looking names up again when their answers expire: a task per name.

use super::name::{Answer, Name, Outcome};
use super::{lookup, Resolver};
use async_trait::async_trait;
use hickory_resolver::TokioResolver;
use pingora::server::ShutdownWatch;
use pingora::services::background::BackgroundService;
use std::sync::{Arc, Weak};
use std::time::Instant;

/// Starts a refresh task for every name in use, now and as configurations bring new ones.
pub struct Refresher {
    pub resolver: Arc<Resolver>,
}

#[async_trait]
impl BackgroundService for Refresher {
    async fn start(&self, mut shutdown: ShutdownWatch) {
        let client = match lookup::client(self.resolver.servers()) {
            Ok(c) => Some(c),
            Err(e) => {
                log::error!("upstream host names will not be looked up again: {e}");
                None
            }
        };
        // The names of the configuration at start were looked up before logging was set up.
        let mut at_start = true;
        while !*shutdown.borrow() {
            for name in self.resolver.take_unwatched() {
                if at_start {
                    if let Some(n) = name.upgrade() {
                        n.announce();
                    }
                }
                match &client {
                    Some(client) => {
                        tokio::spawn(refresh(name, client.clone()));
                    }
                    None => fail(&name),
                }
            }
            at_start = false;
            tokio::select! {
                changed = shutdown.changed() => {
                    if changed.is_err() {
                        break;
                    }
                }
                _ = self.resolver.wake.notified() => {}
            }
        }
    }
}

/// Looks `name` up each time its answer expires, until no server names it any more.
async fn refresh(name: Weak<Name>, client: TokioResolver) {
    loop {
        let (wait, closed) = match name.upgrade() {
            Some(n) => (n.until_refresh(), n.closed()),
            None => return,
        };
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = closed.notified() => return,
        }
        let Some(n) = name.upgrade() else {
            return;
        };
        let answer = lookup::once(&client, n.host()).await;
        log::debug!("upstream host `{}`: {:?}", n.host(), answer.outcome);
        n.set(answer);
    }
}

/// Without a resolver, a name that was never answered fails for good.
fn fail(name: &Weak<Name>) {
    if let Some(n) = name.upgrade().filter(|n| n.outcome() == Outcome::Pending) {
        n.set(Answer {
            outcome: Outcome::Failed("no DNS resolver".into()),
            refresh_at: Instant::now() + lookup::MAX_TTL,
        });
    }
}
