//! The pool: region, free list, allocation paths and statistics.

use crate::backing::{self, Backing, Placement};
use crate::chunk::{Chunk, ChunkLocation, OwnedChunk};
use crate::config::PoolBuilder;
use crate::error::{PoolError, Result};
use crate::freelist::FreeList;
use crate::level::{PinAttempt, PinLevel, Pinning};
use crate::pinning::{self, PinGuard};
use crate::probe::MachineProbe;
use crate::stats::PoolStats;
use crate::sys::mmap::Mapping;
use crate::thread_cache;
use crossbeam_utils::CachePadded;
use parking_lot::{Condvar, Mutex};
use serde::Serialize;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

static NEXT_POOL_ID: AtomicU64 = AtomicU64::new(1);

/// Threads that can cache chunks of one pool at once; further threads use the shared list.
const CACHE_STAT_SLOTS: usize = 128;

/// What a pool got at creation; fixed for its life.
#[derive(Debug, Clone, Serialize)]
pub struct PoolInfo {
    /// The memory backing the chunks.
    pub backing: Backing,
    /// Its page size in bytes.
    pub page_size: usize,
    /// The NUMA node the memory was bound to, if one was requested.
    pub node: Option<u32>,
    /// Where the pages landed, as reported by the kernel after faulting.
    pub placement: Placement,
    /// The guarantee reached.
    pub pinning: Pinning,
    /// Every pinning strategy and how it ended (why the stronger ones did not hold).
    pub pin_attempts: Vec<PinAttempt>,
    /// Better page kinds that were passed over, and why.
    pub passed_over: Vec<String>,
    /// Bytes mapped (chunks rounded up to whole pages).
    pub region_bytes: usize,
}

/// State shared by a pool, its owned chunks and the thread caches.
pub(crate) struct Shared {
    pub(crate) id: u64,
    base: usize,
    stride: usize,
    chunk_size: usize,
    count: u32,
    pub(crate) free: FreeList,
    pub(crate) cache_capacity: usize,
    waiters: AtomicUsize,
    wait_lock: Mutex<()>,
    wait_cond: Condvar,
    failed: AtomicU64,
    high_water: AtomicUsize,
    /// Per-thread cache lengths, one slot per caching thread (see `thread_cache`).
    cache_lens: Box<[CachePadded<AtomicUsize>]>,
    cache_slot_used: Box<[AtomicBool]>,
    info: PoolInfo,
    // Drop order matters: the pin is released before the memory is unmapped.
    _pin: Option<PinGuard>,
    mapping: Mapping,
}

impl Shared {
    #[inline]
    pub(crate) fn chunk_ptr(&self, idx: u32) -> *mut u8 {
        (self.base + idx as usize * self.stride) as *mut u8
    }

    #[inline]
    pub(crate) fn chunk_size(&self) -> usize {
        self.chunk_size
    }

    /// Pops from the shared list, recording the high-water mark.
    pub(crate) fn take_shared(&self) -> Option<u32> {
        let i = self.free.pop()?;
        self.note_taken();
        Some(i)
    }

    pub(crate) fn note_taken(&self) {
        let out = self.count as usize - self.free.len();
        self.high_water.fetch_max(out, Ordering::Relaxed);
    }

    /// Pushes indices to the shared list and wakes a waiter if there is one.
    pub(crate) fn return_to_shared(&self, idxs: &[u32]) {
        if idxs.is_empty() {
            return;
        }
        self.free.push_many(idxs);
        if self.has_waiters() {
            let _g = self.wait_lock.lock();
            self.wait_cond.notify_all();
        }
    }

    #[inline]
    pub(crate) fn has_waiters(&self) -> bool {
        self.waiters.load(Ordering::SeqCst) != 0
    }

    /// Claims a statistics slot for a thread cache.
    pub(crate) fn claim_stat_slot(&self) -> Option<u32> {
        let i = self.cache_slot_used.iter().position(|u| {
            u.compare_exchange(false, true, Ordering::AcqRel, Ordering::Relaxed)
                .is_ok()
        })?;
        self.cache_lens[i].store(0, Ordering::Relaxed);
        Some(i as u32)
    }

    /// Releases a thread cache's statistics slot.
    pub(crate) fn release_stat_slot(&self, slot: u32) {
        self.cache_lens[slot as usize].store(0, Ordering::Relaxed);
        self.cache_slot_used[slot as usize].store(false, Ordering::Release);
    }

    /// Publishes a thread cache's length (single writer: the owning thread).
    #[inline]
    pub(crate) fn publish_cached(&self, slot: u32, len: usize) {
        self.cache_lens[slot as usize].store(len, Ordering::Relaxed);
    }

    fn cached(&self) -> usize {
        self.cache_lens.iter().map(|c| c.load(Ordering::Relaxed)).sum()
    }
}

/// A pool of fixed-size chunks in memory that was mapped, bound to a NUMA node, faulted in
/// and pinned once, at creation. Allocation and free make no system call and take no lock in
/// steady state.
///
/// `Pool` is `Send + Sync`; chunks can be freed from any thread. Many pools may coexist.
///
/// ```
/// use uadk_pool::{Pool, PoolBuilder};
/// let pool: Pool = PoolBuilder::new(4096).chunks(4).build()?;
/// let mut c = pool.try_alloc().expect("a fresh pool has free chunks");
/// c[..5].copy_from_slice(b"hello");
/// assert!(pool.contains(c.as_ptr(), 5));
/// drop(c); // back to the pool
/// assert_eq!(pool.stats().chunks_in_use, 0);
/// # Ok::<(), uadk_pool::PoolError>(())
/// ```
pub struct Pool {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for Pool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pool")
            .field("chunk_size", &self.shared.chunk_size)
            .field("chunks", &self.shared.count)
            .field("info", &self.shared.info)
            .finish()
    }
}

impl Pool {
    pub(crate) fn create(cfg: PoolBuilder) -> Result<Pool> {
        let probe = MachineProbe::read();
        let region = backing::create(&cfg, &probe)?;
        let outcome = pinning::pin_region(&cfg, &probe, &region.mapping, region.backing);
        let level = outcome.pinning.level();
        if level < cfg.require {
            let why = outcome
                .attempts
                .iter()
                .filter_map(|a| a.failure.as_ref().map(|f| format!("{}: {f}", a.strategy)))
                .collect::<Vec<_>>()
                .join("; ");
            return Err(PoolError::PinBelowRequired {
                got: level,
                required: cfg.require,
                why: if why.is_empty() {
                    "no pinning strategy was allowed".into()
                } else {
                    why
                },
            });
        }
        let cache_capacity = cfg
            .thread_cache
            .unwrap_or(cfg.chunks as usize / 8)
            .min(thread_cache::MAX_CACHE)
            .min(cfg.chunks as usize);
        let info = PoolInfo {
            backing: region.backing,
            page_size: region.page_size,
            node: cfg.node,
            placement: region.placement,
            pinning: outcome.pinning,
            pin_attempts: outcome.attempts,
            passed_over: region.passed_over,
            region_bytes: region.mapping.len(),
        };
        log::info!(
            "pool: {} x {} B on {} pages ({}), {}",
            cfg.chunks,
            cfg.chunk_size,
            info.backing,
            info.page_size,
            info.pinning
        );
        Ok(Pool {
            shared: Arc::new(Shared {
                id: NEXT_POOL_ID.fetch_add(1, Ordering::Relaxed),
                base: region.mapping.as_ptr() as usize,
                stride: cfg.stride(),
                chunk_size: cfg.chunk_size,
                count: cfg.chunks,
                free: FreeList::full(cfg.chunks),
                cache_capacity,
                waiters: AtomicUsize::new(0),
                wait_lock: Mutex::new(()),
                wait_cond: Condvar::new(),
                failed: AtomicU64::new(0),
                high_water: AtomicUsize::new(0),
                cache_lens: (0..CACHE_STAT_SLOTS)
                    .map(|_| CachePadded::new(AtomicUsize::new(0)))
                    .collect(),
                cache_slot_used: (0..CACHE_STAT_SLOTS).map(|_| AtomicBool::new(false)).collect(),
                info,
                _pin: outcome.guard,
                mapping: region.mapping,
            }),
        })
    }

    /// A chunk, or `None` when none is free to this thread. Never blocks.
    #[inline]
    pub fn try_alloc(&self) -> Option<Chunk<'_>> {
        match thread_cache::take(&self.shared) {
            Some(idx) => Some(Chunk::new(&self.shared, idx)),
            None => {
                self.shared.failed.fetch_add(1, Ordering::Relaxed);
                None
            }
        }
    }

    /// A chunk that holds a reference to the pool, so it can outlive this borrow (costs one
    /// reference-count increment). `None` when none is free.
    pub fn try_alloc_owned(&self) -> Option<OwnedChunk> {
        let c = self.try_alloc()?;
        Some(OwnedChunk::from_chunk(c))
    }

    /// A chunk, waiting up to `timeout` for one to be freed.
    ///
    /// While a thread waits, frees from every thread go to the shared list (and their
    /// caches are handed over), so the waiter sees them.
    pub fn alloc_timeout(&self, timeout: Duration) -> Result<Chunk<'_>> {
        if let Some(idx) = thread_cache::take(&self.shared) {
            return Ok(Chunk::new(&self.shared, idx));
        }
        let s = &*self.shared;
        let deadline = Instant::now() + timeout;
        s.waiters.fetch_add(1, Ordering::SeqCst);
        let mut g = s.wait_lock.lock();
        let got = loop {
            if let Some(idx) = s.take_shared() {
                break Some(idx);
            }
            if s.wait_cond.wait_until(&mut g, deadline).timed_out() {
                break s.take_shared();
            }
        };
        drop(g);
        s.waiters.fetch_sub(1, Ordering::SeqCst);
        match got {
            Some(idx) => Ok(Chunk::new(&self.shared, idx)),
            None => {
                s.failed.fetch_add(1, Ordering::Relaxed);
                Err(PoolError::Timeout(timeout))
            }
        }
    }

    /// Returns this thread's cached free chunks of this pool to the shared list, so other
    /// threads can take them.
    pub fn release_thread_cache(&self) {
        thread_cache::release(&self.shared);
    }

    /// Where `[ptr, ptr+len)` lies, if entirely inside one chunk of this pool. O(1): the
    /// device path uses it to send pool buffers to a device without copying.
    ///
    /// ```
    /// # let pool = uadk_pool::PoolBuilder::new(4096).chunks(2).build()?;
    /// let c = pool.try_alloc().unwrap();
    /// let at = pool.locate(c.as_ptr().wrapping_add(100), 50).unwrap();
    /// assert_eq!((at.index, at.offset), (c.index(), 100));
    /// assert!(pool.locate(c.as_ptr(), 4097).is_none()); // crosses the chunk's end
    /// # Ok::<(), uadk_pool::PoolError>(())
    /// ```
    #[inline]
    pub fn locate(&self, ptr: *const u8, len: usize) -> Option<ChunkLocation> {
        let s = &*self.shared;
        let p = (ptr as usize).checked_sub(s.base)?;
        let index = p / s.stride;
        let offset = p % s.stride;
        if index >= s.count as usize || len == 0 || offset.checked_add(len)? > s.chunk_size {
            return None;
        }
        Some(ChunkLocation {
            index: index as u32,
            offset,
        })
    }

    /// Whether `[ptr, ptr+len)` lies entirely inside one chunk of this pool.
    #[inline]
    pub fn contains(&self, ptr: *const u8, len: usize) -> bool {
        self.locate(ptr, len).is_some()
    }

    /// Chunk size in bytes.
    pub fn chunk_size(&self) -> usize {
        self.shared.chunk_size
    }

    /// Number of chunks.
    pub fn chunk_count(&self) -> u32 {
        self.shared.count
    }

    /// Distance between consecutive chunks (chunk size rounded up to the alignment).
    pub fn stride(&self) -> usize {
        self.shared.stride
    }

    /// What the pool got at creation: backing, placement, pin level and why.
    pub fn info(&self) -> &PoolInfo {
        &self.shared.info
    }

    /// The pin level reached.
    pub fn pin_level(&self) -> PinLevel {
        self.shared.info.pinning.level()
    }

    /// Base pages of the region that are resident now (`mincore`); equals
    /// `region_bytes / base page size` for a healthy pool.
    pub fn resident_pages(&self) -> std::io::Result<usize> {
        self.shared.mapping.resident_pages()
    }

    /// The region's address range `[start, end)`.
    pub fn region(&self) -> std::ops::Range<usize> {
        self.shared.base..self.shared.base + self.shared.mapping.len()
    }

    /// A snapshot of the counters.
    pub fn stats(&self) -> PoolStats {
        let s = &*self.shared;
        let total = s.count as usize;
        let free_shared = s.free.len();
        let cached = s.cached();
        let free = (free_shared + cached).min(total);
        let info = &s.info;
        PoolStats {
            chunk_size: s.chunk_size,
            chunks_total: total,
            chunks_free: free,
            chunks_cached: cached,
            chunks_in_use: total - free,
            high_water: s.high_water.load(Ordering::Relaxed),
            failed_allocs: s.failed.load(Ordering::Relaxed),
            backing: info.backing,
            page_size: info.page_size,
            node: info.node,
            placement_node: info.placement.main_node(),
            pin_level: info.pinning.level(),
            bytes_pinned: if info.pinning.level() >= PinLevel::Locked {
                info.region_bytes
            } else {
                0
            },
        }
    }
}
