//! Every client connection open in this process, counted so that a shutdown can end as soon as
//! the last one is done (see `crate::drain`).

use std::sync::atomic::{AtomicUsize, Ordering};

static OPEN: AtomicUsize = AtomicUsize::new(0);

/// Held for as long as a client connection is being served.
pub struct OpenConnection(());

impl OpenConnection {
    pub fn enter() -> OpenConnection {
        OPEN.fetch_add(1, Ordering::AcqRel);
        OpenConnection(())
    }
}

impl Drop for OpenConnection {
    fn drop(&mut self) {
        OPEN.fetch_sub(1, Ordering::AcqRel);
    }
}

/// How many client connections are open now, over all entry points.
pub fn count() -> usize {
    OPEN.load(Ordering::Acquire)
}
