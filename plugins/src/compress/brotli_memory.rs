//! Brotli's encoder state cannot be reset, so pylon pools its memory instead: a brotli
//! allocator whose freed blocks go to a bounded process-wide pool and are handed out again
//! (cleared) to the next stream, so a response does not pay for fresh megabyte-sized
//! allocations (Traefik's per-request brotli writer cost 2 MB each: issue 10859).

use brotli::enc::BrotliAlloc;
use brotli::Allocator;
use brotli::HeapAlloc;
use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{LazyLock, Mutex};

/// The most bytes of idle brotli memory kept (enough for several concurrent streams' state).
const MAX_IDLE_BYTES: usize = 16 << 20;

/// Idle blocks by element type and length, with their total size.
#[derive(Default)]
struct Idle {
    blocks: HashMap<(TypeId, usize), Vec<Box<dyn Any + Send>>>,
    bytes: usize,
}

/// The process's idle brotli memory and counters.
pub struct BlockPool {
    idle: Mutex<Idle>,
    fresh_bytes: AtomicU64,
    reused_bytes: AtomicU64,
}

static POOL: LazyLock<BlockPool> = LazyLock::new(|| BlockPool {
    idle: Mutex::new(Idle::default()),
    fresh_bytes: AtomicU64::new(0),
    reused_bytes: AtomicU64::new(0),
});

/// Bytes allocated fresh and bytes served from the pool so far (for tests and the bench).
pub fn stats() -> (u64, u64) {
    (
        POOL.fresh_bytes.load(Ordering::Relaxed),
        POOL.reused_bytes.load(Ordering::Relaxed),
    )
}

/// The allocator handed to each brotli encoder; every instance shares the process's pool.
#[derive(Clone, Copy, Default)]
pub struct PooledAlloc;

impl<T: Clone + Default + Send + 'static> Allocator<T> for PooledAlloc {
    type AllocatedMemory = <HeapAlloc<T> as Allocator<T>>::AllocatedMemory;

    fn alloc_cell(&mut self, len: usize) -> Self::AllocatedMemory {
        let size = len * std::mem::size_of::<T>();
        let reused = {
            let mut idle = POOL.idle.lock().unwrap_or_else(|p| p.into_inner());
            let found = idle
                .blocks
                .get_mut(&(TypeId::of::<T>(), len))
                .and_then(Vec::pop);
            if found.is_some() {
                idle.bytes -= size;
            }
            found
        };
        if let Some(block) = reused.and_then(|b| b.downcast::<Box<[T]>>().ok()) {
            let mut block: Box<[T]> = *block;
            block.fill(T::default());
            POOL.reused_bytes.fetch_add(size as u64, Ordering::Relaxed);
            return Vec::from(block).into();
        }
        POOL.fresh_bytes.fetch_add(size as u64, Ordering::Relaxed);
        vec![T::default(); len].into()
    }

    fn free_cell(&mut self, data: Self::AllocatedMemory) {
        let block: Box<[T]> = data.into();
        let size = std::mem::size_of_val(&*block);
        if block.is_empty() {
            return;
        }
        let mut idle = POOL.idle.lock().unwrap_or_else(|p| p.into_inner());
        if idle.bytes + size > MAX_IDLE_BYTES {
            return;
        }
        idle.bytes += size;
        idle.blocks
            .entry((TypeId::of::<T>(), block.len()))
            .or_default()
            .push(Box::new(block));
    }
}

impl BrotliAlloc for PooledAlloc {}
