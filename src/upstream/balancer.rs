//! A service as requests see it: a pool of servers, a weighted split between services, a
//! failover pair or a mirrored service.

use super::composite::{Failover, Mirroring};
use super::pool::smooth_weighted_schedule;
use super::sticky::{server_token, StickyCookie};
use super::Pool;
use http::{HeaderMap, HeaderValue};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

/// What a router's service resolves to.
#[derive(Debug, Clone)]
pub enum Balancer {
    /// `loadBalancer`: servers.
    Pool(Arc<Pool>),
    /// `weighted`: other services in proportion (blue-green, canary).
    Weighted(Arc<Weighted>),
    /// `failover`: the main service while it has a server up, else the fallback.
    Failover(Arc<Failover>),
    /// `mirroring`: the main service, with copies of requests to mirrors.
    Mirroring(Arc<Mirroring>),
}

/// What resolving a service met on its way down to a pool, besides the pool.
#[derive(Debug, Default)]
pub struct Detours {
    /// The failover level whose main service was taken, when it fails over on statuses.
    pub failover: Option<Arc<Failover>>,
    /// The mirroring level passed (the innermost when nested) and its mirrors for this
    /// request (bit i: mirror i).
    pub mirroring: Option<(Arc<Mirroring>, u32)>,
}

/// `[http.services.<s>.weighted]`: services chosen by smooth weighted round robin.
#[derive(Debug)]
pub struct Weighted {
    pub name: Arc<str>,
    children: Box<[Balancer]>,
    /// Sticky-cookie value of each child (a hash of its name).
    tokens: Box<[String]>,
    schedule: Box<[u16]>,
    next: AtomicUsize,
    pub sticky: Option<StickyCookie>,
}

/// How deep weighted services may nest (a cycle is refused at compile time; this is a backstop).
const MAX_DEPTH: usize = 8;

impl Weighted {
    pub fn new(
        name: &str,
        children: Vec<(String, u32, Balancer)>,
        sticky: Option<StickyCookie>,
    ) -> Weighted {
        let weights: Vec<u32> = children.iter().map(|(_, w, _)| *w).collect();
        Weighted {
            name: Arc::from(name),
            tokens: children.iter().map(|(n, _, _)| server_token(n)).collect(),
            children: children.into_iter().map(|(_, _, b)| b).collect(),
            schedule: smooth_weighted_schedule(&weights),
            next: AtomicUsize::new(0),
            sticky,
        }
    }

    fn pick(&self) -> Option<usize> {
        let len = self.schedule.len();
        if len == 0 {
            return None;
        }
        let start = self.next.fetch_add(1, Ordering::Relaxed);
        (0..len)
            .map(|k| self.schedule[(start + k) % len] as usize)
            .find(|&i| self.children[i].has_available())
    }
}

impl Balancer {
    /// A service without servers, for the routes pylon answers itself (`api@internal`, ...).
    pub fn empty(name: &str) -> Balancer {
        Balancer::Weighted(Arc::new(Weighted::new(name, Vec::new(), None)))
    }

    /// Whether any server below this service is in rotation.
    pub fn has_available(&self) -> bool {
        match self {
            Balancer::Pool(p) => p.has_available(),
            Balancer::Weighted(w) => w.children.iter().any(Balancer::has_available),
            Balancer::Failover(f) => f.main.has_available() || f.fallback.has_available(),
            Balancer::Mirroring(m) => m.main.has_available(),
        }
    }

    /// Walks weighted levels down to a pool, honouring each level's sticky cookie; a level
    /// whose cookie is missing or names an unavailable child gets a `Set-Cookie` in `set`.
    pub fn resolve(&self, headers: &HeaderMap, set: &mut Vec<HeaderValue>) -> Option<Arc<Pool>> {
        self.resolve_with(headers, set, &mut Detours::default())
    }

    /// `resolve`, noting in `detours` the failover and mirroring levels passed.
    pub fn resolve_with(
        &self,
        headers: &HeaderMap,
        set: &mut Vec<HeaderValue>,
        detours: &mut Detours,
    ) -> Option<Arc<Pool>> {
        let mut level = self;
        for _ in 0..MAX_DEPTH {
            match level {
                Balancer::Pool(p) => return Some(p.clone()),
                Balancer::Weighted(w) => {
                    let from_cookie = w.sticky.as_ref().and_then(|s| {
                        let token = s.find(headers.get_all(http::header::COOKIE).iter())?;
                        let i = w.tokens.iter().position(|t| t == token)?;
                        w.children[i].has_available().then_some(i)
                    });
                    let index = match from_cookie {
                        Some(i) => i,
                        None => {
                            let i = w.pick()?;
                            if let Some(cookie) =
                                w.sticky.as_ref().and_then(|s| s.set_cookie(&w.tokens[i]))
                            {
                                set.push(cookie);
                            }
                            i
                        }
                    };
                    level = &w.children[index];
                }
                Balancer::Failover(f) => {
                    level = if f.main.has_available() {
                        if !f.on_status.is_empty() {
                            detours.failover = Some(f.clone());
                        }
                        &f.main
                    } else {
                        &f.fallback
                    };
                }
                Balancer::Mirroring(m) => {
                    detours.mirroring = Some((m.clone(), m.choose()));
                    level = &m.main;
                }
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::upstream::{PoolOptions, Server};

    fn pool(name: &str, port: u16) -> Balancer {
        let s = Server::parse(&format!("http://127.0.0.1:{port}"), 1).unwrap();
        Balancer::Pool(Arc::new(Pool::new(name, vec![s], PoolOptions::default())))
    }

    #[test]
    fn splits_by_weight() {
        let w = Weighted::new(
            "canary@file",
            vec![
                ("blue".into(), 3, pool("blue", 1)),
                ("green".into(), 1, pool("green", 2)),
            ],
            None,
        );
        let b = Balancer::Weighted(Arc::new(w));
        let mut set = Vec::new();
        let names: Vec<String> = (0..8)
            .map(|_| {
                b.resolve(&HeaderMap::new(), &mut set)
                    .unwrap()
                    .name
                    .to_string()
            })
            .collect();
        assert_eq!(names.iter().filter(|n| *n == "blue").count(), 6);
        assert!(set.is_empty());
    }

    #[test]
    fn sticky_cookie_keeps_the_child_and_is_set_when_missing() {
        let sticky = StickyCookie::defaults_for("canary@file");
        let w = Weighted::new(
            "canary@file",
            vec![
                ("blue".into(), 1, pool("blue", 1)),
                ("green".into(), 1, pool("green", 2)),
            ],
            Some(sticky.clone()),
        );
        let b = Balancer::Weighted(Arc::new(w));
        let mut set = Vec::new();
        let first = b.resolve(&HeaderMap::new(), &mut set).unwrap();
        assert_eq!(set.len(), 1);
        let cookie = set[0]
            .to_str()
            .unwrap()
            .split(';')
            .next()
            .unwrap()
            .to_string();
        let mut headers = HeaderMap::new();
        headers.insert(
            http::header::COOKIE,
            HeaderValue::from_str(&cookie).unwrap(),
        );
        for _ in 0..5 {
            let mut again = Vec::new();
            let p = b.resolve(&headers, &mut again).unwrap();
            assert_eq!(p.name, first.name);
            assert!(again.is_empty());
        }
    }

    #[test]
    fn unavailable_children_are_skipped() {
        let blue = pool("blue", 1);
        if let Balancer::Pool(p) = &blue {
            p.set_health(0, false, "test");
        }
        let w = Weighted::new(
            "c@file",
            vec![
                ("blue".into(), 9, blue),
                ("green".into(), 1, pool("green", 2)),
            ],
            None,
        );
        let b = Balancer::Weighted(Arc::new(w));
        let mut set = Vec::new();
        assert!((0..5).all(|_| &*b.resolve(&HeaderMap::new(), &mut set).unwrap().name == "green"));
    }
}
