//! Host names in server URLs, resolved when connections are made rather than at load.
//!
//! A server whose URL names an IP address dials it, with none of this. A server naming a host
//! shares a [`Name`] with every server (of every Snapshot) naming the same host: requests read
//! its current address lock-free ([`Name::address`]); no DNS lookup and no lock is on a
//! request's way. A name is looked up once when a configuration first uses it (bounded by
//! [`FIRST_LOOKUP_WAIT`], so a config that resolves is served at once), then by its task in
//! [`refresh::Refresher`] each time its answer expires: the record's TTL clamped to 1–60 s
//! ([`lookup::clamp_ttl`]); a failure is kept for its negative TTL, else 5 s. The task stops
//! when no Snapshot names the host any more.
//!
//! A name that does not resolve refuses nothing: its servers are out of rotation (DOWN in the
//! API) while it fails, and a service with no other server answers 502. Each change is logged
//! once per server by its pool (see [`crate::upstream::Pool`]'s [`Watcher`]). When the address
//! changes, new connections go to the new one: Pingora keys idle connections by the peer's
//! address, so those to the old address are not reused for it.
//!
//! The DNS servers asked are `serversTransport.dns.servers` (a pylon extension), else the
//! system's (`/etc/resolv.conf`; `/etc/hosts` is read first either way).

pub mod lookup;
pub mod name;
pub mod refresh;

pub use name::{Answer, Name, Outcome, Watcher};

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;
use tokio::sync::Notify;

/// Longest a compile waits for the first lookups of the names it brings (all at once).
pub const FIRST_LOOKUP_WAIT: Duration = Duration::from_secs(3);

/// The names in use, process-wide (reloads share them), and the DNS servers they are asked of.
#[derive(Default)]
pub struct Resolver {
    /// Empty: the system's.
    servers: Vec<SocketAddr>,
    names: Mutex<Names>,
    /// A name without a refresh task is waiting in `names.unwatched`.
    wake: Notify,
}

#[derive(Default)]
struct Names {
    by_host: HashMap<String, Weak<Name>>,
    /// Names whose refresh task has not started yet.
    unwatched: Vec<Weak<Name>>,
}

impl Resolver {
    /// A resolver asking `servers`, or the system's DNS servers when empty.
    pub fn new(servers: Vec<SocketAddr>) -> Resolver {
        Resolver {
            servers,
            ..Resolver::default()
        }
    }

    pub fn servers(&self) -> &[SocketAddr] {
        &self.servers
    }

    /// The name `host` (lowercase), shared with every server already naming it; `true` when it
    /// is new (not looked up yet: pass it to [`Resolver::first_lookups`]).
    pub fn name(&self, host: &str) -> (Arc<Name>, bool) {
        let host = host.to_ascii_lowercase();
        let mut names = self.names.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(name) = names.by_host.get(&host).and_then(Weak::upgrade) {
            return (name, false);
        }
        names.by_host.retain(|_, n| n.strong_count() > 0);
        let name = Arc::new(Name::new(&host));
        names.by_host.insert(host, Arc::downgrade(&name));
        names.unwatched.push(Arc::downgrade(&name));
        drop(names);
        self.wake.notify_one();
        (name, true)
    }

    /// Names waiting for their refresh task.
    fn take_unwatched(&self) -> Vec<Weak<Name>> {
        let mut names = self.names.lock().unwrap_or_else(|p| p.into_inner());
        std::mem::take(&mut names.unwatched)
    }

    /// Looks `names` up at once, all together, waiting at most [`FIRST_LOOKUP_WAIT`]: a name
    /// still unanswered then stays pending (out of rotation) until its refresh task answers.
    /// Blocks the calling thread (a compile: at start, or a reload on a blocking thread).
    pub fn first_lookups(&self, names: &[Arc<Name>]) {
        if names.is_empty() {
            return;
        }
        let servers = &self.servers;
        // A thread of its own: the caller may be inside a Tokio runtime's blocking pool.
        std::thread::scope(|scope| {
            scope.spawn(|| {
                let runtime = match tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    Ok(r) => r,
                    Err(e) => {
                        log::error!("cannot look up upstream host names: {e}");
                        return;
                    }
                };
                runtime.block_on(first_lookups_async(servers, names));
            });
        });
    }
}

async fn first_lookups_async(servers: &[SocketAddr], names: &[Arc<Name>]) {
    let client = match lookup::client(servers) {
        Ok(c) => c,
        Err(e) => {
            for name in names {
                name.set(Answer {
                    outcome: Outcome::Failed(e.clone()),
                    refresh_at: std::time::Instant::now() + lookup::FAILURE_TTL,
                });
            }
            return;
        }
    };
    let mut lookups = tokio::task::JoinSet::new();
    for name in names {
        let (client, name) = (client.clone(), name.clone());
        lookups.spawn(async move { name.set(lookup::once(&client, name.host()).await) });
    }
    let all = async { while lookups.join_next().await.is_some() {} };
    if tokio::time::timeout(FIRST_LOOKUP_WAIT, all).await.is_err() {
        log::warn!(
            "upstream host names not resolved within {FIRST_LOOKUP_WAIT:?}: their servers wait for the answer"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_host_is_one_name_while_it_is_used() {
        let r = Resolver::new(Vec::new());
        let (a, new_a) = r.name("App.pylon.test");
        let (b, new_b) = r.name("app.pylon.test");
        assert!(new_a && !new_b);
        assert!(Arc::ptr_eq(&a, &b));
        drop((a, b));
        let (_c, new_c) = r.name("app.pylon.test");
        assert!(new_c, "a name no server uses is gone");
        assert_eq!(r.take_unwatched().len(), 2);
    }
}
