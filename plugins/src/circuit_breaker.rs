//! The `circuitBreaker` middleware: Traefik's (vulcand/oxy's cbreaker). Counts the outcomes of
//! the requests it lets through (status, network error, latency) in a rolling window, checks
//! its expression at most every `checkPeriod`, and while open answers `responseCode` without
//! contacting the upstream (`state`). The settings and their build are in `config`, the
//! expression language in `expression`, the window in `window` and `latency`.
//!
//! One breaker (one state) per configured middleware, shared by the routers naming it; Traefik
//! keeps one per router. Its outcomes come through [`Plugin::request_done`].

mod config;
pub mod expression;
mod latency;
pub mod state;
mod window;

pub use config::{build, Config};
pub use state::State;

use crate::{Flow, Outcome, Plugin, PluginCtx, Reply};
use async_trait::async_trait;
use bytes::Bytes;
use http::StatusCode;
use pingora_error::Result;
use pingora_proxy::Session;
use state::{Breaker, Timing};
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Instant;

/// One `circuitBreaker` middleware instance.
pub struct CircuitBreaker {
    breaker: Breaker,
    /// What the fallback answers: `responseCode` and its reason phrase (Traefik's body).
    reply: Reply,
    timing: Timing,
    /// The breaker's clock: nanoseconds since it was built.
    epoch: Instant,
    /// Tells this breaker's requests from another's in the same chain.
    id: u64,
}

/// The breakers of a chain that let the request through, and when (per request).
struct Admitted(Vec<(u64, u64)>);

impl CircuitBreaker {
    pub fn new(condition: expression::Expr, timing: Timing, status: StatusCode) -> Self {
        static IDS: AtomicU64 = AtomicU64::new(0);
        let reason = status.canonical_reason().unwrap_or("");
        let mut reply = Reply::text(status, "");
        reply.body = Bytes::from_static(reason.as_bytes());
        CircuitBreaker {
            breaker: Breaker::new(condition, timing),
            reply,
            timing,
            epoch: Instant::now(),
            id: IDS.fetch_add(1, Relaxed),
        }
    }

    fn now(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_nanos()).unwrap_or(u64::MAX)
    }

    /// The state now (as last moved by a request or a check).
    pub fn state(&self) -> State {
        self.breaker.state()
    }

    /// How many times it opened since it was built.
    pub fn trips(&self) -> u64 {
        self.breaker.trips()
    }

    pub fn timing(&self) -> Timing {
        self.timing
    }

    pub fn response_code(&self) -> StatusCode {
        self.reply.status
    }
}

#[async_trait]
impl Plugin for CircuitBreaker {
    fn kind(&self) -> &'static str {
        "circuitBreaker"
    }

    async fn request_filter(&self, _session: &mut Session, cx: &mut PluginCtx) -> Result<Flow> {
        let now = self.now();
        if !self.breaker.admit(now) {
            return Ok(Flow::Respond(self.reply.clone()));
        }
        let mut admitted = cx
            .get::<Admitted>()
            .map(|a| a.0.clone())
            .unwrap_or_default();
        admitted.push((self.id, now));
        cx.put(Admitted(admitted));
        Ok(Flow::Continue)
    }

    fn wants_outcome(&self) -> bool {
        true
    }

    fn request_done(&self, outcome: &Outcome, cx: &PluginCtx) {
        let Some(&(_, start)) = cx
            .get::<Admitted>()
            .and_then(|a| a.0.iter().find(|(id, _)| *id == self.id))
        else {
            return; // answered before it reached this breaker, or by its fallback
        };
        let now = self.now();
        let latency_us = now.saturating_sub(start) / 1000;
        self.breaker
            .record(now, outcome.status, outcome.network_error, latency_us);
    }

    fn as_any(&self) -> Option<&dyn std::any::Any> {
        Some(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{IpAddr, Ipv4Addr};

    fn cx() -> PluginCtx {
        PluginCtx::new(IpAddr::V4(Ipv4Addr::LOCALHOST), false)
    }

    fn breaker(expression: &str) -> CircuitBreaker {
        let timing = Timing {
            check_period: 0,
            fallback: 60_000_000_000,
            recovery: 60_000_000_000,
        };
        CircuitBreaker::new(
            expression::parse(expression).unwrap(),
            timing,
            StatusCode::IM_A_TEAPOT,
        )
    }

    #[test]
    fn only_requests_it_let_through_are_counted() {
        let b = breaker("RequestThreshold() >= 1");
        let other = breaker("RequestThreshold() >= 1");
        // a request another breaker admitted (or none did) is not this one's
        let mut c = cx();
        c.put(Admitted(vec![(other.id, 0)]));
        b.request_done(&Outcome::default(), &c);
        b.request_done(&Outcome::default(), &cx());
        assert_eq!(b.state(), State::Closed);
        c.put(Admitted(vec![(other.id, 0), (b.id, 0)]));
        b.request_done(&Outcome::default(), &c);
        assert_eq!((b.state(), b.trips()), (State::Open, 1));
        assert!(b.wants_outcome());
        assert!(b.as_any().is_some_and(|a| a.is::<CircuitBreaker>()));
    }

    #[test]
    fn the_fallback_is_the_status_and_its_reason() {
        let b = breaker("RequestThreshold() > 1");
        assert_eq!(b.reply.status, StatusCode::IM_A_TEAPOT);
        assert_eq!(&b.reply.body[..], b"I'm a teapot");
    }
}
