//! The breaker's states, as oxy's cbreaker (Traefik's): closed (every request passes, outcomes
//! are counted, the condition is checked at most every `checkPeriod`) → open (every request
//! gets the fallback for `fallbackDuration`; the window is reset) → recovering (a share of
//! requests rising linearly from 0 to a half over `recoveryDuration` passes, the rest get the
//! fallback; the condition holding again opens it again, the end of the recovery closes it).
//!
//! Time is a parameter (nanoseconds on the breaker's own clock), so tests drive it. The request
//! path reads atomics; the mutex is taken only for a transition and, with `try_lock` (skipped
//! when another thread holds it), for the periodic check.

use super::expression::Expr;
use super::window::Window;
use std::sync::atomic::Ordering::{Acquire, Relaxed, Release};
use std::sync::atomic::{AtomicU64, AtomicU8};
use std::sync::{Mutex, MutexGuard, TryLockError};

/// A breaker's state, as the metrics number it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum State {
    Closed = 0,
    Open = 1,
    Recovering = 2,
}

impl State {
    fn from_u8(v: u8) -> State {
        match v {
            1 => State::Open,
            2 => State::Recovering,
            _ => State::Closed,
        }
    }

    /// How the API names it.
    pub fn name(self) -> &'static str {
        match self {
            State::Closed => "closed",
            State::Open => "open",
            State::Recovering => "recovering",
        }
    }
}

/// The durations of a breaker, in nanoseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timing {
    pub check_period: u64,
    pub fallback: u64,
    pub recovery: u64,
}

/// The state machine and the window of one breaker.
pub struct Breaker {
    condition: Expr,
    reads_latency: bool,
    timing: Timing,
    window: Window,
    state: AtomicU8,
    /// Open: when the fallback ends; recovering: when the recovery ends.
    until: AtomicU64,
    /// When the recovery began, and the requests it let through and turned away so far.
    recovery_start: AtomicU64,
    allowed: AtomicU64,
    denied: AtomicU64,
    /// No check before this time.
    next_check: AtomicU64,
    trips: AtomicU64,
    /// Held for transitions and checks.
    lock: Mutex<()>,
}

impl Breaker {
    pub fn new(condition: Expr, timing: Timing) -> Breaker {
        Breaker {
            reads_latency: condition.reads_latency(),
            condition,
            timing,
            window: Window::default(),
            state: AtomicU8::new(State::Closed as u8),
            until: AtomicU64::new(0),
            recovery_start: AtomicU64::new(0),
            allowed: AtomicU64::new(0),
            denied: AtomicU64::new(0),
            next_check: AtomicU64::new(0),
            trips: AtomicU64::new(0),
            lock: Mutex::new(()),
        }
    }

    pub fn state(&self) -> State {
        State::from_u8(self.state.load(Acquire))
    }

    /// How many times it opened.
    pub fn trips(&self) -> u64 {
        self.trips.load(Relaxed)
    }

    fn locked(&self) -> MutexGuard<'_, ()> {
        self.lock.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn set(&self, state: State, until: u64) {
        self.until.store(until, Release);
        self.state.store(state as u8, Release);
    }

    /// Whether a request arriving at `now` goes on to the upstream (else: the fallback).
    pub fn admit(&self, now: u64) -> bool {
        match self.state() {
            State::Closed => true,
            State::Open => {
                if now < self.until.load(Acquire) {
                    return false;
                }
                {
                    let _guard = self.locked();
                    // another request may have moved it on meanwhile
                    if self.state() == State::Open && now >= self.until.load(Acquire) {
                        self.recovery_start.store(now, Relaxed);
                        self.allowed.store(0, Relaxed);
                        self.denied.store(0, Relaxed);
                        self.set(State::Recovering, now.saturating_add(self.timing.recovery));
                    }
                }
                self.recovering(now)
            }
            State::Recovering => self.recovering(now),
        }
    }

    fn recovering(&self, now: u64) -> bool {
        match self.state() {
            State::Closed => return true,
            State::Open => return false,
            State::Recovering => {}
        }
        if now > self.until.load(Acquire) {
            let _guard = self.locked();
            if self.state() == State::Recovering && now > self.until.load(Acquire) {
                self.set(State::Closed, now);
            }
            return self.state() != State::Open;
        }
        // oxy's ratio: let this one through if the share let through stays under the target
        let start = self.recovery_start.load(Relaxed);
        let elapsed = now.saturating_sub(start) as f64;
        let target = 0.5 * elapsed / (self.timing.recovery.max(1) as f64);
        let allowed = self.allowed.load(Relaxed) + 1;
        let denied = self.denied.load(Relaxed);
        if (allowed as f64) / ((allowed + denied) as f64) < target {
            self.allowed.fetch_add(1, Relaxed);
            true
        } else {
            self.denied.fetch_add(1, Relaxed);
            false
        }
    }

    /// Counts a request let through that ended at `now`, then checks the condition if its
    /// period has come.
    pub fn record(&self, now: u64, status: u16, network_error: bool, latency_us: u64) {
        self.window.record(now, status, network_error, latency_us);
        self.check(now);
    }

    /// Evaluates the condition if `checkPeriod` has passed since the last check (and no other
    /// thread is checking); opens the breaker when it holds.
    pub fn check(&self, now: u64) {
        if now < self.next_check.load(Relaxed) {
            return;
        }
        let _guard = match self.lock.try_lock() {
            Ok(g) => g,
            Err(TryLockError::Poisoned(p)) => p.into_inner(),
            Err(TryLockError::WouldBlock) => return,
        };
        if now < self.next_check.load(Relaxed) {
            return;
        }
        self.next_check
            .store(now.saturating_add(self.timing.check_period), Relaxed);
        if self.state() == State::Open {
            return;
        }
        if self
            .condition
            .holds(&self.window.figures(now, self.reads_latency))
        {
            self.set(State::Open, now.saturating_add(self.timing.fallback));
            self.window.reset();
            self.trips.fetch_add(1, Relaxed);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::expression::parse;
    use super::*;

    const MS: u64 = 1_000_000;
    const S: u64 = 1_000 * MS;

    fn breaker(expression: &str) -> Breaker {
        let timing = Timing {
            check_period: 100 * MS,
            fallback: 10 * S,
            recovery: 10 * S,
        };
        Breaker::new(parse(expression).unwrap(), timing)
    }

    /// Sends `n` requests at `now` answered `status`; returns how many were let through.
    fn traffic(b: &Breaker, now: u64, n: u32, status: u16) -> u32 {
        let mut through = 0;
        for _ in 0..n {
            if b.admit(now) {
                through += 1;
                b.record(now, status, status == 502, 1000);
            }
        }
        through
    }

    #[test]
    fn opens_on_the_condition_falls_back_recovers_and_closes() {
        let b = breaker("ResponseCodeRatio(500, 600, 0, 600) > 0.5");
        assert_eq!(traffic(&b, S, 10, 200), 10);
        assert_eq!(b.state(), State::Closed);
        // the first check ran at the first request; the next one is due 100 ms later
        assert_eq!(traffic(&b, S + 50 * MS, 20, 500), 20);
        assert_eq!(
            b.state(),
            State::Closed,
            "checked at most every checkPeriod"
        );
        assert_eq!(traffic(&b, S + 150 * MS, 1, 500), 1);
        assert_eq!((b.state(), b.trips()), (State::Open, 1));
        // open: nothing goes through for fallbackDuration
        assert_eq!(traffic(&b, S + 5 * S, 100, 200), 0);
        assert_eq!(traffic(&b, S + 150 * MS + 10 * S - 1, 100, 200), 0);
        // recovering: a share rising from 0 to a half over recoveryDuration
        let start = S + 150 * MS + 10 * S;
        let mut shares = Vec::new();
        for second in 0..10 {
            let now = start + second * S;
            shares.push(traffic(&b, now, 100, 200));
            assert_eq!(b.state(), State::Recovering, "second {second}");
        }
        assert_eq!(shares[0], 0, "{shares:?}");
        assert!(
            shares.windows(2).all(|w| w[0] <= w[1]),
            "rising: {shares:?}"
        );
        assert!(shares[9] >= 40, "{shares:?}");
        assert_eq!(traffic(&b, start + 10 * S + 1, 10, 200), 10);
        assert_eq!(b.state(), State::Closed);
        assert_eq!(b.trips(), 1);
    }

    #[test]
    fn failing_again_while_recovering_opens_again() {
        let b = breaker("NetworkErrorRatio() > 0.5");
        traffic(&b, S, 10, 502);
        assert_eq!(b.state(), State::Open);
        let start = S + 10 * S;
        // the breaker was reset when it opened: what recovery lets through is all it sees
        let mut now = start;
        while b.trips() < 2 && now < start + 10 * S {
            traffic(&b, now, 10, 502);
            now += 100 * MS;
        }
        assert_eq!((b.state(), b.trips()), (State::Open, 2));
        assert!(!b.admit(now));
    }

    #[test]
    fn the_window_is_reset_when_it_opens() {
        let b = breaker("RequestThreshold() >= 5");
        traffic(&b, S, 5, 200);
        assert_eq!(
            b.state(),
            State::Closed,
            "the 5th came after the first check"
        );
        assert_eq!(b.window.figures(S, false).requests, 5);
        b.check(S + 100 * MS);
        assert_eq!(b.state(), State::Open);
        assert_eq!(b.window.figures(S + 100 * MS, false).requests, 0);
    }

    #[test]
    fn latency_conditions_read_the_histogram() {
        let b = breaker("LatencyAtQuantileMS(50.0) > 100");
        b.record(S, 200, false, 50_000);
        assert_eq!(b.state(), State::Closed, "median 50 ms");
        for _ in 0..10 {
            b.record(S + 10 * MS, 200, false, 250_000);
        }
        assert_eq!(b.state(), State::Closed, "not checked before checkPeriod");
        b.check(S + 100 * MS);
        assert_eq!(b.state(), State::Open);
    }
}
