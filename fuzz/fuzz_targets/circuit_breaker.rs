//! Fuzz target: a `circuitBreaker` expression (`pylon_plugins::circuit_breaker::expression`)
//! never panics when parsed; an error names a column within the text (or just past its end);
//! an accepted expression evaluates without panic on empty, ordinary and extreme figures.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pylon_plugins::circuit_breaker::expression::{parse, Figures};

/// Figures a window can give: (network ratio, code ratio, latency ms, requests).
struct Fixed(f64, f64, u64, u64);

impl Figures for Fixed {
    fn network_error_ratio(&self) -> f64 {
        self.0
    }
    fn response_code_ratio(&self, _: u16, _: u16, _: u16, _: u16) -> f64 {
        self.1
    }
    fn latency_at_quantile_ms(&self, _: f64) -> u64 {
        self.2
    }
    fn requests(&self) -> u64 {
        self.3
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match parse(text) {
        Ok(expr) => {
            for f in [
                Fixed(0.0, 0.0, 0, 0),
                Fixed(0.5, 0.25, 100, 20),
                Fixed(1.0, 1.0, u64::MAX, u64::MAX),
            ] {
                let _ = expr.holds(&f);
            }
        }
        Err(e) => {
            let len = text.chars().count();
            assert!(
                e.column >= 1 && e.column <= len + 1,
                "column {} outside 1..={} for {text:?}: {e}",
                e.column,
                len + 1
            );
        }
    }
});
