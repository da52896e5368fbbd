//! Pool counters.

use crate::backing::Backing;
use crate::level::PinLevel;
use serde::Serialize;

/// A snapshot of a pool's counters ([`Pool::stats`](crate::Pool::stats)).
///
/// Chunks held in a thread's cache count as free (`chunks_cached` says how many).
/// `high_water` is the most chunks that were out of the shared free list at once, which
/// includes chunks parked in thread caches: an upper bound of the chunks in use.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PoolStats {
    /// Bytes per chunk.
    pub chunk_size: usize,
    /// Chunks in the pool.
    pub chunks_total: usize,
    /// Chunks free (shared list plus thread caches).
    pub chunks_free: usize,
    /// Of the free chunks, those parked in thread caches.
    pub chunks_cached: usize,
    /// Chunks handed out.
    pub chunks_in_use: usize,
    /// Most chunks out of the shared list at once.
    pub high_water: usize,
    /// Allocations that found no chunk (`try_alloc` → `None`, timeouts).
    pub failed_allocs: u64,
    /// Memory kind.
    pub backing: Backing,
    /// Page size in bytes.
    pub page_size: usize,
    /// Requested NUMA node.
    pub node: Option<u32>,
    /// Node holding most of the pages.
    pub placement_node: Option<u32>,
    /// Pin level reached.
    pub pin_level: PinLevel,
    /// Bytes locked or long-term pinned.
    pub bytes_pinned: usize,
}
