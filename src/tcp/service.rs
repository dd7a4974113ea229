//! TCP services: a pool of backend addresses chosen by smooth weighted round robin (with the
//! PROXY protocol version to send them, if any), or a weighted split between services.

use crate::upstream::pool::smooth_weighted_schedule;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

/// What a TCP router's service resolves to.
#[derive(Debug, Clone)]
pub enum TcpService {
    Pool(Arc<TcpPool>),
    Weighted(Arc<TcpWeighted>),
}

/// `tcp.services.<s>.loadBalancer`.
#[derive(Debug)]
pub struct TcpPool {
    pub name: Arc<str>,
    /// `host:port` of each server.
    pub servers: Box<[String]>,
    schedule: Box<[u16]>,
    next: AtomicUsize,
    /// `proxyProtocol.version`: a PROXY header of this version goes first to the backend.
    pub proxy_protocol: Option<u8>,
}

/// `tcp.services.<s>.weighted`.
#[derive(Debug)]
pub struct TcpWeighted {
    children: Box<[TcpService]>,
    schedule: Box<[u16]>,
    next: AtomicUsize,
}

/// How deep weighted TCP services may nest (cycles are refused when the config loads).
const MAX_DEPTH: usize = 8;

impl TcpPool {
    pub fn new(name: &str, servers: Vec<(String, u32)>, proxy_protocol: Option<u8>) -> TcpPool {
        let weights: Vec<u32> = servers.iter().map(|(_, w)| *w).collect();
        TcpPool {
            name: Arc::from(name),
            schedule: smooth_weighted_schedule(&weights),
            servers: servers.into_iter().map(|(a, _)| a).collect(),
            next: AtomicUsize::new(0),
            proxy_protocol,
        }
    }

    /// The servers to try for one connection, the scheduled one first, then the others in
    /// order (a server that refuses the connection is skipped).
    pub fn attempt_order(&self) -> Vec<&str> {
        let mut order = Vec::with_capacity(self.servers.len());
        if !self.schedule.is_empty() {
            let start = self.next.fetch_add(1, Ordering::Relaxed) % self.schedule.len();
            let first = usize::from(self.schedule[start]);
            order.push(self.servers[first].as_str());
            order.extend(
                (0..self.servers.len())
                    .filter(|i| *i != first)
                    .map(|i| self.servers[i].as_str()),
            );
        }
        order
    }
}

impl TcpWeighted {
    pub fn new(children: Vec<(TcpService, u32)>) -> TcpWeighted {
        let weights: Vec<u32> = children.iter().map(|(_, w)| *w).collect();
        TcpWeighted {
            schedule: smooth_weighted_schedule(&weights),
            children: children.into_iter().map(|(c, _)| c).collect(),
            next: AtomicUsize::new(0),
        }
    }
}

impl TcpService {
    /// The pool a new connection goes to.
    pub fn pool(&self) -> Option<Arc<TcpPool>> {
        let mut level = self;
        for _ in 0..MAX_DEPTH {
            match level {
                TcpService::Pool(p) => return Some(p.clone()),
                TcpService::Weighted(w) => {
                    if w.schedule.is_empty() {
                        return None;
                    }
                    let i = w.next.fetch_add(1, Ordering::Relaxed) % w.schedule.len();
                    level = &w.children[usize::from(w.schedule[i])];
                }
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weights_order_the_first_attempt_and_the_rest_follow() {
        let pool = TcpPool::new("p", vec![("a:1".into(), 3), ("b:1".into(), 1)], None);
        let firsts: Vec<&str> = (0..4).map(|_| pool.attempt_order()[0]).collect();
        assert_eq!(firsts.iter().filter(|f| **f == "a:1").count(), 3);
        assert_eq!(pool.attempt_order().len(), 2);
    }

    #[test]
    fn weighted_services_split_connections() {
        let a = TcpService::Pool(Arc::new(TcpPool::new("a", vec![("a:1".into(), 1)], None)));
        let b = TcpService::Pool(Arc::new(TcpPool::new("b", vec![("b:1".into(), 1)], None)));
        let w = TcpService::Weighted(Arc::new(TcpWeighted::new(vec![(a, 1), (b, 1)])));
        let names: Vec<String> = (0..4).map(|_| w.pool().unwrap().name.to_string()).collect();
        assert_eq!(names.iter().filter(|n| *n == "a").count(), 2);
    }
}
