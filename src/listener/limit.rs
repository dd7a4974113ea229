//! `maxConnections`: a count of an entry point's open connections with a ceiling.

use std::sync::atomic::{AtomicUsize, Ordering};

/// Open connections of one entry point.
#[derive(Debug)]
pub struct ConnectionLimit {
    open: AtomicUsize,
    max: usize,
}

/// A connection counted in its `ConnectionLimit` while it lives.
#[derive(Debug)]
pub struct Slot<'a>(&'a AtomicUsize);

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

impl ConnectionLimit {
    pub fn new(max: usize) -> Self {
        ConnectionLimit {
            open: AtomicUsize::new(0),
            max,
        }
    }

    /// A slot for one more connection, or `None` when `max` are already open.
    pub fn acquire(&self) -> Option<Slot<'_>> {
        let mut open = self.open.load(Ordering::Acquire);
        loop {
            if open >= self.max {
                return None;
            }
            match self.open.compare_exchange_weak(
                open,
                open + 1,
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => return Some(Slot(&self.open)),
                Err(now) => open = now,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_past_the_ceiling_and_frees_on_drop() {
        let limit = ConnectionLimit::new(2);
        let a = limit.acquire();
        let b = limit.acquire();
        assert!(a.is_some() && b.is_some());
        assert!(limit.acquire().is_none());
        drop(a);
        assert!(limit.acquire().is_some());
    }
}
