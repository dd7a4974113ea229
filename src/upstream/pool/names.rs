//! A pool's servers that name hosts: following their names, and saying so once per change.

use super::Pool;
use crate::upstream::dns::{Name, Outcome, Watcher};
use std::net::IpAddr;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Weak};

impl Pool {
    /// Has the pool told of its servers' host names changing (call once, on a new pool);
    /// a name that does not resolve is logged at once.
    pub fn watch_names(self: &Arc<Self>) {
        let weak: Weak<dyn Watcher> = Arc::downgrade(self) as Weak<dyn Watcher>;
        let mut seen: Vec<&Arc<Name>> = Vec::new();
        for name in self.servers.iter().filter_map(|s| s.name()) {
            if !seen.iter().any(|n| Arc::ptr_eq(n, name)) {
                seen.push(name);
                name.watch(weak.clone());
            }
        }
    }

    /// Why server `index` has no address now (its host name), for the API; `None` when it has.
    pub fn address_problem(&self, index: usize) -> Option<String> {
        let server = self.servers.get(index)?;
        if server.resolvable() {
            return None;
        }
        let Some(name) = server.name() else {
            return Some(format!("`{}` is not resolved", server.host));
        };
        Some(match name.outcome() {
            Outcome::Failed(e) => format!("`{}` does not resolve: {e}", name.host()),
            _ => format!("`{}` is not resolved yet", name.host()),
        })
    }
}

fn first(ips: &[IpAddr]) -> String {
    ips.first().map_or_else(String::new, IpAddr::to_string)
}

impl Watcher for Pool {
    fn name_changed(&self, name: &Name, before: &Outcome) {
        let now = name.outcome();
        let host = name.host();
        for (i, server) in self.servers.iter().enumerate() {
            if !server.name().is_some_and(|n| std::ptr::eq(&**n, name)) {
                continue;
            }
            let who = format!("{} {}", self.name, server.url);
            match (before, &now) {
                (Outcome::Failed(_), Outcome::Failed(_)) => {}
                (_, Outcome::Failed(e)) => log::warn!(
                    "server {who} is DOWN: its host `{host}` does not resolve: {e} (502 while the service has no other server up)"
                ),
                (Outcome::Failed(_), Outcome::Resolved(ips)) => log::info!(
                    "server {who} is UP again: its host `{host}` resolves to {}",
                    first(ips)
                ),
                (Outcome::Resolved(old), Outcome::Resolved(new)) if first(old) != first(new) => {
                    log::info!(
                        "server {who}: its host `{host}` now resolves to {} (was {}): new connections go there",
                        first(new),
                        first(old)
                    );
                }
                (Outcome::Pending, Outcome::Resolved(ips)) => {
                    log::debug!("server {who}: `{host}` resolves to {}", first(ips));
                }
                _ => {}
            }
            // An active health check probes the new address at once.
            if matches!(now, Outcome::Resolved(_)) && self.active.is_some() {
                if let Some(health) = self.health.get(i) {
                    health.next_probe_ms.store(0, Ordering::Release);
                }
            }
        }
    }
}
