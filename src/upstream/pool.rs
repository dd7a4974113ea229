//! A load-balancer pool: weighted round robin over a service's servers, lock-free per request.

use super::{Health, Server, Transport};
use crate::upstream::checks::{ActiveCheck, PassiveCheck};
use crate::upstream::sticky::{server_token, StickyCookie};
use crate::upstream::strategy::{hrw_score, least_time_cost, Load, Strategy};
use pingora::upstreams::peer::HttpPeer;
use std::net::IpAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

/// How a pool treats its servers, besides the list itself.
#[derive(Debug, Clone, Default)]
pub struct PoolOptions {
    /// Send the client's Host header upstream (`passHostHeader`, default true).
    pub pass_host_header: bool,
    pub transport: Transport,
    pub active: Option<ActiveCheck>,
    pub passive: Option<PassiveCheck>,
    pub sticky: Option<StickyCookie>,
    /// `loadBalancer.strategy`.
    pub strategy: Strategy,
}

/// The servers of one `loadBalancer` service and the order in which they are used.
#[derive(Debug)]
pub struct Pool {
    /// The service's name as `name@provider`, for logs and the API.
    pub name: Arc<str>,
    /// Fingerprint of the config it was built from: an unchanged pool is reused on reload,
    /// keeping its health state, round-robin position and connections.
    pub fingerprint: u64,
    servers: Box<[Server]>,
    /// Sticky-cookie value of each server (a hash of its URL).
    tokens: Box<[String]>,
    health: Box<[Health]>,
    /// Server indexes in smooth weighted round-robin order; one full cycle of the weights.
    schedule: Box<[u16]>,
    next: AtomicUsize,
    pub pass_host_header: bool,
    pub transport: Transport,
    pub active: Option<ActiveCheck>,
    pub passive: Option<PassiveCheck>,
    pub sticky: Option<StickyCookie>,
    pub strategy: Strategy,
    /// Requests in flight and response times per server (kept for `p2c` and `leasttime`).
    loads: Box<[Load]>,
}

/// Longest schedule kept; larger weight sums are scaled down proportionally.
const MAX_SCHEDULE: u64 = 4096;
/// Concurrent requests on one HTTP/2 upstream connection at most (fewer if the server's
/// `SETTINGS_MAX_CONCURRENT_STREAMS` says so); more open another connection. 100 is the
/// minimum RFC 9113 recommends servers allow, and what Go's transport assumes.
const MAX_H2_STREAMS: usize = 100;

impl Pool {
    pub fn new(name: &str, servers: Vec<Server>, options: PoolOptions) -> Pool {
        let weights: Vec<u32> = servers.iter().map(|s| s.weight).collect();
        let schedule = smooth_weighted_schedule(&weights);
        let tokens = servers.iter().map(|s| server_token(&s.url)).collect();
        let health = servers
            .iter()
            .map(|s| Health::new(format!("{name} {}", s.url)))
            .collect();
        let loads = servers.iter().map(|_| Load::default()).collect();
        Pool {
            name: Arc::from(name),
            fingerprint: 0,
            servers: servers.into_boxed_slice(),
            tokens,
            health,
            schedule,
            next: AtomicUsize::new(0),
            pass_host_header: options.pass_host_header,
            transport: options.transport,
            active: options.active,
            passive: options.passive,
            sticky: options.sticky,
            strategy: options.strategy,
            loads,
        }
    }

    /// The same pool marked with the fingerprint of the config it came from.
    pub fn with_fingerprint(mut self, fingerprint: u64) -> Pool {
        self.fingerprint = fingerprint;
        self
    }

    pub fn servers(&self) -> &[Server] {
        &self.servers
    }

    pub fn health(&self, index: usize) -> Option<&Health> {
        self.health.get(index)
    }

    /// Whether server `index` exists and is in rotation: healthy, and with an address (its
    /// host name resolves).
    pub fn is_up(&self, index: usize) -> bool {
        self.health.get(index).is_some_and(Health::available)
            && self.servers.get(index).is_some_and(Server::resolvable)
    }

    /// Whether any server is in rotation.
    pub fn has_available(&self) -> bool {
        (0..self.servers.len()).any(|i| self.is_up(i))
    }

    /// The sticky-cookie value naming server `index`.
    pub fn token(&self, index: usize) -> Option<&str> {
        self.tokens.get(index).map(String::as_str)
    }

    /// The server a sticky-cookie value names.
    pub fn index_of_token(&self, token: &str) -> Option<usize> {
        self.tokens.iter().position(|t| t == token)
    }

    /// Counts a failure on live traffic (passive health); takes the server out at the limit.
    pub fn record_failure(&self, index: usize, what: &str) {
        let (Some(passive), Some(health)) = (&self.passive, self.health.get(index)) else {
            return;
        };
        if health.record_failure(passive.failure_window, passive.max_failed_attempts) {
            let reason = format!(
                "passive health check: {what} ({} failure(s) within {:?})",
                passive.max_failed_attempts, passive.failure_window
            );
            self.set_health(index, false, &reason);
            health.revive_after(passive.failure_window);
        }
    }

    /// The next healthy server in weighted round-robin order; `None` when none is up.
    pub fn pick(&self) -> Option<usize> {
        self.pick_other(0)
    }

    /// Like `pick`, skipping the servers whose bit is set in `tried` (failover after an error).
    /// A healthy server whose host name does not resolve is picked only when no other is left:
    /// its attempt then fails (502) as a refused connection would.
    pub fn pick_other(&self, tried: u64) -> Option<usize> {
        self.next_in_order(tried, true)
            .or_else(|| self.next_in_order(tried, false))
    }

    /// Whether server `i` may take the next attempt: not tried yet, healthy and (when
    /// `resolved_only`) with an address.
    #[inline]
    fn usable(&self, i: usize, tried: u64, resolved_only: bool) -> bool {
        (i >= 64 || tried & (1 << i) == 0)
            && self.health[i].available()
            && (!resolved_only || self.servers[i].resolvable())
    }

    fn next_in_order(&self, tried: u64, resolved_only: bool) -> Option<usize> {
        let len = self.schedule.len();
        if len == 0 {
            return None;
        }
        let start = self.next.fetch_add(1, Ordering::Relaxed);
        (0..len)
            .map(|k| self.schedule[(start + k) % len] as usize)
            .find(|&i| self.usable(i, tried, resolved_only))
    }

    /// The server for `client`'s next attempt by the pool's strategy, skipping those whose
    /// bit is set in `tried`; `None` when none is available. As in `pick_other`, servers
    /// without an address come last.
    pub fn pick_for(&self, tried: u64, client: IpAddr) -> Option<usize> {
        self.pick_by_strategy(tried, client, true)
            .or_else(|| self.pick_by_strategy(tried, client, false))
    }

    fn pick_by_strategy(&self, tried: u64, client: IpAddr, resolved_only: bool) -> Option<usize> {
        let usable = |i: usize| self.usable(i, tried, resolved_only);
        match self.strategy {
            Strategy::Wrr => self.next_in_order(tried, resolved_only),
            Strategy::Hrw => (0..self.servers.len())
                .filter(|&i| usable(i))
                .max_by(|&a, &b| {
                    let score =
                        |i: usize| hrw_score(client, &self.tokens[i], self.servers[i].weight);
                    score(a).total_cmp(&score(b))
                }),
            Strategy::LeastTime => {
                // ties (no sample yet) go round robin, so every server gets measured
                let first = self.next_in_order(tried, resolved_only)?;
                let cost = |i: usize| least_time_cost(&self.loads[i], self.servers[i].weight);
                let best = (0..self.servers.len())
                    .filter(|&i| usable(i))
                    .min_by(|&a, &b| cost(a).total_cmp(&cost(b)))?;
                Some(if cost(first) <= cost(best) {
                    first
                } else {
                    best
                })
            }
            Strategy::P2c => {
                let candidates: Vec<usize> =
                    (0..self.servers.len()).filter(|&i| usable(i)).collect();
                match candidates.len() {
                    0 => None,
                    1 => Some(candidates[0]),
                    n => {
                        let r = mix(self.next.fetch_add(1, Ordering::Relaxed) as u64);
                        let a = candidates[(r % n as u64) as usize];
                        let mut b = candidates[((r >> 32) % (n as u64 - 1)) as usize];
                        if b == a {
                            b = candidates[n - 1];
                        }
                        let load = |i: usize| self.loads[i].in_flight();
                        Some(if load(b) < load(a) { b } else { a })
                    }
                }
            }
        }
    }

    /// A request starts on server `index` (counted for `p2c` and `leasttime` only).
    pub fn begin(&self, index: usize) {
        if self.strategy.tracks_load() {
            if let Some(load) = self.loads.get(index) {
                load.begin();
            }
        }
    }

    /// The request on server `index` is over.
    pub fn end(&self, index: usize) {
        if let Some(load) = self
            .loads
            .get(index)
            .filter(|_| self.strategy.tracks_load())
        {
            load.end();
        }
    }

    /// Server `index` answered a request's head after `took` (`leasttime`'s average).
    pub fn record_time(&self, index: usize, took: std::time::Duration) {
        if let Some(load) = self
            .loads
            .get(index)
            .filter(|_| self.strategy.tracks_load())
        {
            load.record(took);
        }
    }

    /// Marks server `index` down (or up) with a reason; logged once per change.
    pub fn set_health(&self, index: usize, up: bool, reason: &str) {
        if let Some(h) = self.health.get(index) {
            h.set(up, reason);
        }
    }

    /// A Pingora peer for server `index`, with this pool's timeouts; `None` when its host
    /// name does not resolve now.
    pub fn peer(&self, index: usize) -> Option<Box<HttpPeer>> {
        let server = self.servers.get(index)?;
        let mut peer = HttpPeer::new(server.addr()?, server.tls, server.host.clone());
        let t = &self.transport;
        peer.options.connection_timeout = Some(t.dial_timeout);
        peer.options.total_connection_timeout = Some(t.dial_timeout);
        peer.options.read_timeout = t.read_timeout;
        peer.options.idle_timeout = Some(t.idle_timeout);
        if t.insecure_skip_verify {
            peer.options.verify_cert = false;
            peer.options.verify_hostname = false;
        }
        if let Some(tls) = &t.tls {
            if let Some(name) = &tls.server_name {
                peer.sni.clone_from(name);
            }
            peer.options.ca = tls.root_cas.clone();
            peer.client_cert_key = tls.client_cert.clone();
        }
        match (server.tls, server.h2c) {
            // h2 first, HTTP/1.1 if the server does not offer it (ALPN)
            (true, _) if !t.disable_http2 => peer.options.set_http_version(2, 1),
            // cleartext HTTP/2 with prior knowledge
            (false, true) => peer.options.set_http_version(2, 2),
            _ => {}
        }
        peer.options.max_h2_streams = MAX_H2_STREAMS;
        peer.group_key = t.connection_group();
        Some(Box::new(peer))
    }
}

mod names;

/// SplitMix64: spreads a counter into pseudo-random bits (p2c's two choices).
fn mix(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Builds the smooth weighted round-robin sequence (as nginx does) for one cycle of the weights,
/// so that picking is just an atomic increment.
pub(crate) fn smooth_weighted_schedule(weights: &[u32]) -> Box<[u16]> {
    let mut weights: Vec<u64> = weights
        .iter()
        .take(u16::MAX as usize)
        .map(|w| *w as u64)
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
        let options = PoolOptions {
            pass_host_header: true,
            ..PoolOptions::default()
        };
        Pool::new("test@file", servers, options)
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
    fn down_servers_are_skipped_and_all_down_gives_none() {
        let p = pool(&[1, 1, 1]);
        p.set_health(1, false, "test");
        assert!((0..9).all(|_| p.pick() != Some(1)));
        p.set_health(0, false, "test");
        p.set_health(2, false, "test");
        assert_eq!(p.pick(), None);
        p.set_health(2, true, "back");
        assert_eq!(p.pick(), Some(2));
    }

    #[test]
    fn servers_without_an_address_come_last_and_have_no_peer() {
        let named = Server::parse("http://app.pylon.invalid:9000", 1).unwrap();
        let ip = Server::parse("http://127.0.0.1:9001", 1).unwrap();
        let both = Pool::new("both@file", vec![named.clone(), ip], PoolOptions::default());
        assert!((0..6).all(|_| both.pick() == Some(1)));
        assert!(!both.is_up(0) && both.is_up(1) && both.has_available());
        assert!(both.address_problem(0).is_some() && both.address_problem(1).is_none());
        let alone = Pool::new("alone@file", vec![named], PoolOptions::default());
        // picked all the same, so that its attempt fails (502) rather than "no server" (503)
        assert_eq!(alone.pick(), Some(0));
        assert!(alone.peer(0).is_none());
        assert!(!alone.has_available());
    }

    #[test]
    fn huge_weights_are_scaled() {
        let p = pool(&[1_000_000, 3_000_000]);
        let picks: Vec<_> = (0..4).map(|_| p.pick().unwrap()).collect();
        assert_eq!(picks.iter().filter(|i| **i == 1).count(), 3);
    }
}
