//! A load-balancer pool: weighted round robin over a service's servers, lock-free per request.

use super::{Server, Transport};
use pingora::upstreams::peer::HttpPeer;
use std::sync::atomic::{AtomicUsize, Ordering};

/// The servers of one `loadBalancer` service and the order in which they are used.
#[derive(Debug)]
pub struct Pool {
    servers: Box<[Server]>,
    /// Server indexes in smooth weighted round-robin order; one full cycle of the weights.
    schedule: Box<[u16]>,
    next: AtomicUsize,
    /// Send the client's Host header upstream (`passHostHeader`, default true).
    pub pass_host_header: bool,
    pub transport: Transport,
}

/// Longest schedule kept; larger weight sums are scaled down proportionally.
const MAX_SCHEDULE: u64 = 4096;

impl Pool {
    pub fn new(servers: Vec<Server>, pass_host_header: bool, transport: Transport) -> Pool {
        let schedule = smooth_weighted_schedule(&servers);
        Pool {
            servers: servers.into_boxed_slice(),
            schedule,
            next: AtomicUsize::new(0),
            pass_host_header,
            transport,
        }
    }

    pub fn servers(&self) -> &[Server] {
        &self.servers
    }

    /// The next server in weighted round-robin order; `None` when the pool has none to offer.
    pub fn pick(&self) -> Option<usize> {
        if self.schedule.is_empty() {
            return None;
        }
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        Some(self.schedule[n % self.schedule.len()] as usize)
    }

    /// The server after `index` in schedule order that is not in `tried` (for connect failover).
    pub fn pick_other(&self, tried: u64) -> Option<usize> {
        for _ in 0..self.schedule.len() {
            let i = self.pick()?;
            if i >= 64 || tried & (1 << i) == 0 {
                return Some(i);
            }
        }
        None
    }

    /// A Pingora peer for server `index`, with this pool's timeouts.
    pub fn peer(&self, index: usize) -> Option<Box<HttpPeer>> {
        let server = self.servers.get(index)?;
        let mut peer = HttpPeer::new(server.addr, server.tls, server.host.clone());
        let t = &self.transport;
        peer.options.connection_timeout = Some(t.dial_timeout);
        peer.options.total_connection_timeout = Some(t.dial_timeout);
        peer.options.read_timeout = t.read_timeout;
        peer.options.idle_timeout = Some(t.idle_timeout);
        if t.insecure_skip_verify {
            peer.options.verify_cert = false;
            peer.options.verify_hostname = false;
        }
        Some(Box::new(peer))
    }
}

/// Builds the smooth weighted round-robin sequence (as nginx does) for one cycle of the weights,
/// so that picking is just an atomic increment.
fn smooth_weighted_schedule(servers: &[Server]) -> Box<[u16]> {
    let mut weights: Vec<u64> = servers
        .iter()
        .take(u16::MAX as usize)
        .map(|s| s.weight as u64)
        .collect();
    let total: u64 = weights.iter().sum();
    if total == 0 {
        return Box::new([]);
    }
    let g = weights.iter().copied().filter(|w| *w > 0).fold(0, gcd);
    weights.iter_mut().for_each(|w| *w /= g);
    let mut total: u64 = weights.iter().sum();
    if total > MAX_SCHEDULE {
        for w in weights.iter_mut().filter(|w| **w > 0) {
            *w = (*w * MAX_SCHEDULE / total).max(1);
        }
        total = weights.iter().sum();
    }
    let mut current = vec![0i64; weights.len()];
    let mut out = Vec::with_capacity(total as usize);
    for _ in 0..total {
        let mut best = 0;
        for (i, w) in weights.iter().enumerate() {
            current[i] += *w as i64;
            if current[i] > current[best] {
                best = i;
            }
        }
        current[best] -= total as i64;
        out.push(best as u16);
    }
    out.into_boxed_slice()
}

fn gcd(a: u64, b: u64) -> u64 {
    if b == 0 {
        a
    } else {
        gcd(b, a % b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pool(weights: &[u32]) -> Pool {
        let servers = weights
            .iter()
            .enumerate()
            .map(|(i, w)| Server::parse(&format!("http://127.0.0.1:{}", 9000 + i), *w).unwrap())
            .collect();
        Pool::new(servers, true, Transport::default())
    }

    #[test]
    fn equal_weights_alternate() {
        let p = pool(&[1, 1, 1]);
        let picks: Vec<_> = (0..6).map(|_| p.pick().unwrap()).collect();
        assert_eq!(picks, vec![0, 1, 2, 0, 1, 2]);
    }

    #[test]
    fn weights_are_respected_and_spread_out() {
        let p = pool(&[5, 1, 1]);
        let picks: Vec<_> = (0..7).map(|_| p.pick().unwrap()).collect();
        assert_eq!(picks.iter().filter(|i| **i == 0).count(), 5);
        // smooth: the heavy server is not picked 5 times in a row
        assert_ne!(&picks[..5], &[0, 0, 0, 0, 0]);
    }

    #[test]
    fn zero_weight_servers_get_nothing_and_empty_pool_gives_none() {
        let p = pool(&[0, 2]);
        assert!((0..10).all(|_| p.pick() == Some(1)));
        assert_eq!(pool(&[]).pick(), None);
        assert_eq!(pool(&[0]).pick(), None);
    }

    #[test]
    fn pick_other_skips_tried_servers() {
        let p = pool(&[1, 1, 1]);
        for _ in 0..10 {
            let i = p.pick_other(0b011).unwrap();
            assert_eq!(i, 2);
        }
        assert_eq!(p.pick_other(0b111), None);
    }

    #[test]
    fn huge_weights_are_scaled() {
        let p = pool(&[1_000_000, 3_000_000]);
        let picks: Vec<_> = (0..4).map(|_| p.pick().unwrap()).collect();
        assert_eq!(picks.iter().filter(|i| **i == 1).count(), 3);
    }
}
