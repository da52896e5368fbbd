//! UADK's memory pools on uadk-pool.
//!
//! - A **mempool** (`wd_mempool_create(size, node)`) is a budget of `size` bytes on a NUMA
//!   node, accounted in UADK's 4 KiB units.
//! - A **blockpool** (`wd_blockpool_create(mempool, block_size, block_num)`) is one
//!   uadk-pool [`Pool`] of `block_num` chunks of `max(block_size, 4 KiB)` bytes on the
//!   mempool's node: hugetlb pages when the machine has them free (UADK requires them;
//!   uadk-pool falls back to THP or normal pages and `wd_mempool_stats` says which),
//!   NUMA-bound, pre-faulted, pinned once. It is charged `block_size * block_num` (rounded
//!   to 4 KiB, as UADK charges) against its mempool, so what fits in UADK fits here; the
//!   4 KiB chunk minimum shows up as `mem_waste_rate`.
//! - `wd_block_alloc` / `wd_block_free` take no lock and make no call (not even a TLS
//!   lookup), no system call and no atomic read-modify-write: a per-thread block cache
//!   (refilled from and spilled to the uadk-pool in batches, see `mempool/cache.rs`) found by the
//!   thread pointer, and one state byte per block, which also catches double frees,
//!   interior and foreign pointers and blocks of other pools. The handle is checked
//!   through that cache, which revalidates whenever any blockpool is destroyed (one
//!   atomic load), so a destroyed or made-up handle returns NULL. Their hot paths
//!   (`cache::fast_alloc`, `cache::fast_free`) contain no operation that can panic and
//!   run outside the panic boundary (catch_unwind costs about a third of a pair here);
//!   everything else runs inside it. Were a panic to happen there anyway, Rust aborts at
//!   the `extern "C"` boundary: it never unwinds into C.
//! - A thread's cache holds up to `min(block_num / 8, 32)` free blocks of the pool it used
//!   last, so with many threads a pool can run dry (NULL) while other threads' caches hold
//!   free blocks (`free_block_num` counts them); size pools with that margin.
//! - The unified pool of `wd_bmm.h` (`wd_mempool_alloc`, `wd_mem_*`) is a mempool plus a
//!   blockpool; `wd_mem_map` returns the address itself (every uadk-rs context reads
//!   virtual addresses).
//!
//! ```
//! use wd::mempool::*;
//! let mp = wd_mempool_create(1 << 20, -1);
//! let bp = wd_blockpool_create(mp, 4096, 16);
//! let b = wd_block_alloc(bp);
//! assert!(!b.is_null());
//! unsafe { b.cast::<u8>().write_bytes(7, 4096) };
//! wd_block_free(bp, b);
//! wd_blockpool_destroy(bp);
//! wd_mempool_destroy(mp);
//! assert!(wd_block_alloc(bp).is_null()); // destroyed: NULL, not a crash
//! ```

use libc::{c_int, c_ulong, c_void};
use parking_lot::Mutex;
use std::sync::atomic::{AtomicU64, AtomicU8, Ordering};
use std::sync::{Arc, LazyLock};
use uadk_pool::{Chunk, PageKind, Pool, PoolBuilder};
use uadk_wd_common::abi::*;
use uadk_wd_common::boundary::guard;
use uadk_wd_common::registry::Registry;
use uadk_wd_common::wd_err;

mod cache;
use cache::CACHE_MAX;

/// UADK's mempool accounting unit.
const UNIT: usize = 4096;
/// Largest block (uadk-pool's largest chunk).
const MAX_BLOCK: usize = uadk_pool::MAX_CHUNK_SIZE;

struct Mempool {
    size: usize,
    node: Option<u32>,
    used: Mutex<usize>,
    /// (page type, page size) of the most recent blockpool.
    pages: Mutex<Option<(u32, usize)>>,
}

/// Block states (one byte per block, atomically loaded and stored, never read-modify-
/// written on the hot path). Only `WITH_USER` blocks may be freed.
const IN_POOL: u8 = 0;
const CACHED: u8 = 1;
const WITH_USER: u8 = 2;

/// A blockpool. Field order is drop order: the chunk handles go back before the pool goes.
///
/// Blocks move between three places: the uadk-pool [`Pool`] (state `IN_POOL`), a thread's
/// block cache (`CACHED`, chunk handle kept in `chunks`), and the caller (`WITH_USER`).
/// `wd_block_alloc`/`wd_block_free` touch only the calling thread's cache and the
/// block's state byte; the cache refills from and spills to the pool in batches under
/// the `chunks` mutex, which is the only place chunk handles are touched. So a caller's
/// bug (a double free, even from two threads at once) can hand one block out twice, but
/// never races on Rust-owned memory.
///
/// The state bytes are indexed by *granule*: the region is cut into granules of
/// `1 << shift` bytes, the largest power of two dividing the block stride, and block `k`
/// (at `base + k * stride`) has the byte of granule `k * (stride >> shift)`; the bytes of
/// granules where no block starts stay `IN_POOL`. So the byte of an address is found with
/// a subtraction and a rotation, with no division, whatever the stride (see `slot_of`).
pub struct Blockpool {
    chunks: Mutex<Vec<Option<Chunk<'static>>>>,
    state: Box<[AtomicU8]>,
    pool: Box<Pool>,
    base: usize,
    stride: usize,
    shift: u32,
    cache_cap: usize,
    block_size: usize,
    block_num: usize,
    accounted: usize,
    mp: Arc<Mempool>,
    failed: AtomicU64,
}

/// The state byte of the block starting at `p` in a region at `base` with `slots` bytes
/// of granules of `1 << shift` bytes, if `p` is the start of a granule of the region.
///
/// The rotation turns `p - base` into the granule number when its low `shift` bits are
/// zero, and into a number of at least `1 << (64 - shift)` otherwise; pointers below
/// `base` wrap to at least `2^64 - 2^47`. A region holds at most `2^46` bytes (uadk-pool's
/// limit), so `slots <= 2^(46 - shift)` and one comparison rejects all of them.
#[inline(always)]
fn slot_of(base: usize, shift: u32, slots: usize, p: usize) -> Option<usize> {
    let s = p.wrapping_sub(base).rotate_right(shift);
    (s < slots).then_some(s)
}

impl Blockpool {
    /// The state byte of the block starting at `p`, if `p` starts a granule.
    #[inline]
    fn slot_of(&self, p: usize) -> Option<usize> {
        slot_of(self.base, self.shift, self.state.len(), p)
    }

    /// The state byte of block `k`.
    #[inline]
    fn block_slot(&self, k: usize) -> usize {
        k * (self.stride >> self.shift)
    }

    /// Moves up to `n` chunks from the pool into `out` (as cached blocks): each block's
    /// address and state byte.
    fn refill(&self, out: &mut Vec<(usize, usize)>, n: usize) {
        let mut chunks = self.chunks.lock();
        for _ in 0..n {
            let Some(c) = self.pool.try_alloc() else { break };
            let k = c.index() as usize;
            let p = c.as_ptr() as usize;
            // SAFETY: only the lifetime changes. The chunk borrows `self.pool`, which is
            // boxed (stable address) and outlives `self.chunks` (field order).
            chunks[k] = Some(unsafe { std::mem::transmute::<Chunk<'_>, Chunk<'static>>(c) });
            let s = self.block_slot(k);
            self.state[s].store(CACHED, Ordering::Relaxed);
            out.push((p, s));
        }
    }

    /// Returns cached blocks to the pool.
    fn spill(&self, blocks: impl Iterator<Item = usize>) {
        let mut chunks = self.chunks.lock();
        let step = self.stride >> self.shift;
        for p in blocks {
            let Some(s) = self.slot_of(p) else { continue };
            if self.state[s].load(Ordering::Relaxed) == CACHED && s.is_multiple_of(step) {
                self.state[s].store(IN_POOL, Ordering::Relaxed);
                drop(chunks[s / step].take());
            }
        }
    }

    /// Marks the cached block `p` (state byte `s`) as the caller's and returns it.
    fn hand_out(&self, (p, s): (usize, usize)) -> *mut c_void {
        self.state[s].store(WITH_USER, Ordering::Relaxed);
        p as *mut c_void
    }

    fn free_blocks(&self) -> usize {
        (0..self.block_num)
            .filter(|&k| self.state[self.block_slot(k)].load(Ordering::Relaxed) != WITH_USER)
            .count()
    }
}

static MEMPOOLS: LazyLock<Registry<Mempool>> = LazyLock::new(|| Registry::new(0x4d));
static BLOCKPOOLS: LazyLock<Registry<Blockpool>> = LazyLock::new(|| Registry::new(0x42));
/// Bumped on every blockpool destroy: per-thread caches revalidate their pool.
static GENERATION: AtomicU64 = AtomicU64::new(0);

/// Runs `f` on the live blockpool `h` (None when `h` is not one).
fn with_bp<R>(h: HandleT, f: impl FnOnce(&Blockpool) -> R) -> Option<R> {
    BLOCKPOOLS.get(h).map(|bp| f(&bp))
}

fn err_handle(e: c_int) -> HandleT {
    (-(e as isize)) as usize
}

fn set_errno(e: c_int) {
    // SAFETY: __errno_location returns this thread's errno slot.
    unsafe { *libc::__errno_location() = e };
}

/// A mempool of `size` bytes (rounded up to 4 KiB) on `node` (`-1`: no binding); a
/// handle, or `-WD_EINVAL` as a `WD_IS_ERR` handle (errno set) for size 0 or a node
/// the machine does not have.
pub extern "C" fn wd_mempool_create(size: usize, node: c_int) -> HandleT {
    guard("wd_mempool_create", err_handle(WD_EINVAL), || {
        let nodes = std::fs::read_dir("/sys/devices/system/node")
            .map(|d| {
                d.filter_map(|e| e.ok())
                    .filter(|e| e.file_name().to_string_lossy().starts_with("node"))
                    .count()
            })
            .unwrap_or(1)
            .max(1);
        if size == 0 || size > isize::MAX as usize / 2 || node < -1 || node >= nodes as c_int {
            wd_err!("wd_mempool_create: size {size} or node {node} invalid (nodes: {nodes})");
            set_errno(WD_EINVAL);
            return err_handle(WD_EINVAL);
        }
        MEMPOOLS.insert(Arc::new(Mempool {
            size: size.div_ceil(UNIT) * UNIT,
            node: (node >= 0).then_some(node as u32),
            used: Mutex::new(0),
            pages: Mutex::new(None),
        }))
    })
}

/// Destroys a mempool handle; its memory goes when its last blockpool is destroyed.
pub extern "C" fn wd_mempool_destroy(mempool: HandleT) {
    guard("wd_mempool_destroy", (), || {
        if MEMPOOLS.remove(mempool).is_none() {
            wd_err!("wd_mempool_destroy: {mempool:#x} is not a live mempool");
        }
    })
}

fn create_blockpool(
    mp: Arc<Mempool>,
    block_size: usize,
    block_num: usize,
    align: usize,
) -> Result<HandleT, c_int> {
    if block_size == 0 || block_num == 0 || block_size > MAX_BLOCK || block_num > u32::MAX as usize {
        wd_err!(
            "wd_blockpool_create: block_size {block_size} (1..={MAX_BLOCK}) or block_num {block_num} invalid"
        );
        return Err(WD_EINVAL);
    }
    let accounted = (block_size.checked_mul(block_num).ok_or(WD_EINVAL)?).div_ceil(UNIT) * UNIT;
    {
        let mut used = mp.used.lock();
        if *used + accounted > mp.size {
            wd_err!(
                "wd_blockpool_create: {accounted} bytes do not fit in the mempool ({} of {} used)",
                *used,
                mp.size
            );
            return Err(WD_ENOMEM);
        }
        *used += accounted;
    }
    let chunk = block_size.max(uadk_pool::MIN_CHUNK_SIZE);
    let built = PoolBuilder::new(chunk)
        .chunks(block_num as u32)
        .pages(PageKind::Auto)
        .node(mp.node)
        .align(align.clamp(uadk_pool::MIN_ALIGN, 4096))
        .build();
    let pool = match built {
        Ok(p) => p,
        Err(e) => {
            *mp.used.lock() -= accounted;
            wd_err!("wd_blockpool_create: {e}");
            return Err(WD_ENOMEM);
        }
    };
    let info = pool.info();
    let page_type = if info.backing.is_hugetlb() { 0 } else { 1 };
    *mp.pages.lock() = Some((page_type, info.page_size));
    let stride = pool.stride();
    let base = pool.region().start;
    // Granules: the largest power of two dividing the stride (at least uadk-pool's 64-byte
    // alignment), so one state byte per block when the stride is a power of two and at
    // most one per 64 bytes of region otherwise.
    let shift = stride.trailing_zeros();
    let slots = (block_num - 1) * (stride >> shift) + 1;
    debug_assert!(slots <= 1usize << (64 - shift));
    let bp = Blockpool {
        chunks: Mutex::new((0..block_num).map(|_| None).collect()),
        state: (0..slots).map(|_| AtomicU8::new(IN_POOL)).collect(),
        base,
        stride,
        shift,
        cache_cap: (block_num / 8).clamp(1, CACHE_MAX / 2),
        pool: Box::new(pool),
        block_size,
        block_num,
        accounted,
        mp,
        failed: AtomicU64::new(0),
    };
    Ok(BLOCKPOOLS.insert(Arc::new(bp)))
}

/// A blockpool of `block_num` blocks of `block_size` bytes from `mempool`; a handle, or
/// a `WD_IS_ERR` handle (errno set): `-WD_EINVAL` (bad mempool or sizes), `-WD_ENOMEM`
/// (does not fit in the mempool, or the pool could not be built).
pub extern "C" fn wd_blockpool_create(mempool: HandleT, block_size: usize, block_num: usize) -> HandleT {
    guard("wd_blockpool_create", err_handle(WD_EINVAL), || {
        let Some(mp) = MEMPOOLS.get(mempool) else {
            wd_err!("wd_blockpool_create: {mempool:#x} is not a live mempool");
            set_errno(WD_EINVAL);
            return err_handle(WD_EINVAL);
        };
        match create_blockpool(mp, block_size, block_num, uadk_pool::MIN_ALIGN) {
            Ok(h) => h,
            Err(e) => {
                set_errno(e);
                err_handle(e)
            }
        }
    })
}

fn destroy_blockpool(h: HandleT) -> bool {
    let Some(bp) = BLOCKPOOLS.remove(h) else {
        return false;
    };
    GENERATION.fetch_add(1, Ordering::AcqRel);
    let out = bp.block_num - bp.free_blocks();
    if out > 0 {
        wd_err!("blockpool {h:#x} destroyed with {out} block(s) still allocated");
    }
    *bp.mp.used.lock() -= bp.accounted;
    cache::forget_pool(h);
    true
}

/// Destroys a blockpool. Its memory is unmapped once no thread is inside a call on it
/// (threads that used it release their reference on their next `wd_block_*` call or exit).
pub extern "C" fn wd_blockpool_destroy(blkpool: HandleT) {
    guard("wd_blockpool_destroy", (), || {
        if !destroy_blockpool(blkpool) {
            wd_err!("wd_blockpool_destroy: {blkpool:#x} is not a live blockpool");
        }
    })
}

/// A block, or NULL when the pool has none free or `blkpool` is not a live blockpool.
pub extern "C" fn wd_block_alloc(blkpool: HandleT) -> *mut c_void {
    match cache::fast_alloc(blkpool) {
        Some(p) => p,
        None => block_alloc_guarded(blkpool),
    }
}

/// Everything `wd_block_alloc` does not do on its hot path, inside the panic boundary.
/// `extern "C"` (cannot unwind), so the hot path ends in a plain tail call to it.
#[cold]
#[inline(never)]
extern "C" fn block_alloc_guarded(blkpool: HandleT) -> *mut c_void {
    guard("wd_block_alloc", std::ptr::null_mut(), || cache::alloc(blkpool))
}

/// Returns a block. Pointers that are not the start of a block of this pool, blocks that
/// are not out, and unknown pools are ignored (logged with `WD_RS_LOG=1`).
pub extern "C" fn wd_block_free(blkpool: HandleT, addr: *mut c_void) {
    // NULL is never a block (fast_free leaves it to the slow path).
    if !cache::fast_free(blkpool, addr as usize) {
        block_free_guarded(blkpool, addr);
    }
}

/// Everything `wd_block_free` does not do on its hot path (as [`block_alloc_guarded`]).
#[cold]
#[inline(never)]
extern "C" fn block_free_guarded(blkpool: HandleT, addr: *mut c_void) {
    guard("wd_block_free", (), || {
        if addr.is_null() {
            return;
        }
        match cache::free(blkpool, addr as usize) {
            Ok(true) => {}
            Ok(false) => wd_err!("wd_block_free: {addr:?} is not an allocated block of {blkpool:#x}"),
            Err(()) => wd_err!("wd_block_free: {blkpool:#x} is not a live blockpool"),
        }
    })
}

/// Fills `stats` for a mempool (page kind and size of its most recent blockpool, or base
/// pages before the first; usage in 4 KiB units). Unknown handles or NULL are ignored.
///
/// # Safety
/// `stats` is NULL or points to a writable `struct wd_mempool_stats`.
pub unsafe extern "C" fn wd_mempool_stats(mempool: HandleT, stats: *mut WdMempoolStats) {
    guard("wd_mempool_stats", (), || {
        let Some(mp) = MEMPOOLS.get(mempool) else { return };
        if stats.is_null() {
            return;
        }
        // SAFETY: sysconf has no preconditions.
        let base = unsafe { libc::sysconf(libc::_SC_PAGESIZE) }.max(4096) as usize;
        let (page_type, page_size) = mp.pages.lock().unwrap_or((1, base));
        let used = *mp.used.lock();
        let s = WdMempoolStats {
            page_type,
            page_size: page_size as c_ulong,
            page_num: mp.size.div_ceil(page_size) as c_ulong,
            blk_size: UNIT as c_ulong,
            blk_num: (mp.size / UNIT) as c_ulong,
            free_blk_num: ((mp.size - used) / UNIT) as c_ulong,
            blk_usage_rate: (used * 100 / mp.size) as c_ulong,
        };
        // SAFETY: non-NULL and writable per the contract.
        unsafe { stats.write(s) };
    })
}

fn bp_stats(bp: &Blockpool) -> WdBlockpoolStats {
    let free = bp.free_blocks();
    let region = bp.pool.info().region_bytes.max(1);
    let used_bytes = bp.block_size * bp.block_num;
    WdBlockpoolStats {
        block_size: bp.block_size as c_ulong,
        block_num: bp.block_num as c_ulong,
        free_block_num: free as c_ulong,
        block_usage_rate: ((bp.block_num - free) * 100 / bp.block_num) as c_ulong,
        mem_waste_rate: (region.saturating_sub(used_bytes) * 100 / region) as c_ulong,
    }
}

/// Fills `stats` for a blockpool. Unknown handles or NULL are ignored.
///
/// # Safety
/// `stats` is NULL or points to a writable `struct wd_blockpool_stats`.
pub unsafe extern "C" fn wd_blockpool_stats(blkpool: HandleT, stats: *mut WdBlockpoolStats) {
    guard("wd_blockpool_stats", (), || {
        if stats.is_null() {
            return;
        }
        if let Some(s) = with_bp(blkpool, bp_stats) {
            // SAFETY: non-NULL and writable per the contract.
            unsafe { stats.write(s) };
        }
    })
}

// ---- wd_bmm.h: the unified pool -------------------------------------------------------

struct BmmPool {
    mempool: HandleT,
    blockpool: HandleT,
    block_size: u32,
}

static BMM: LazyLock<Registry<BmmPool>> = LazyLock::new(|| Registry::new(0x55));

fn bmm(pool: *mut c_void) -> Option<Arc<BmmPool>> {
    BMM.get(pool as HandleT)
}

/// A pool of `setup->block_num` blocks of `setup->block_size` bytes aligned to
/// `setup->align_size` (a power of two up to 4096), on the node of context `h_ctx` (any
/// node if 0); NULL on bad input. The caller's `ops` are not used (see the module docs).
///
/// # Safety
/// `setup` is NULL or points to a readable `struct wd_mempool_setup`.
pub unsafe extern "C" fn wd_mempool_alloc(h_ctx: HandleT, setup: *mut WdMempoolSetup) -> *mut c_void {
    guard("wd_mempool_alloc", std::ptr::null_mut(), || {
        if setup.is_null() {
            return std::ptr::null_mut();
        }
        // SAFETY: non-NULL and readable per the contract; only the three sizes are read.
        let (bs, bn, align) = unsafe { ((*setup).block_size, (*setup).block_num, (*setup).align_size) };
        if align != 0 && (!align.is_power_of_two() || align > 4096) {
            wd_err!("wd_mempool_alloc: align_size {align} must be a power of two up to 4096");
            return std::ptr::null_mut();
        }
        let node = if h_ctx == 0 {
            -1
        } else {
            crate::ctx::wd_get_numa_id(h_ctx).max(-1)
        };
        let bytes = (bs as usize).saturating_mul(bn as usize);
        let mp = wd_mempool_create(bytes.max(1), node);
        if mp > usize::MAX - 1000 {
            return std::ptr::null_mut();
        }
        let Some(m) = MEMPOOLS.get(mp) else {
            return std::ptr::null_mut();
        };
        match create_blockpool(m, bs as usize, bn as usize, align as usize) {
            Ok(bp) => BMM.insert(Arc::new(BmmPool {
                mempool: mp,
                blockpool: bp,
                block_size: bs,
            })) as *mut c_void,
            Err(_) => {
                wd_mempool_destroy(mp);
                std::ptr::null_mut()
            }
        }
    })
}

/// Frees a pool from [`wd_mempool_alloc`].
pub extern "C" fn wd_mempool_free(h_ctx: HandleT, pool: *mut c_void) {
    let _ = h_ctx;
    guard("wd_mempool_free", (), || {
        if let Some(p) = BMM.remove(pool as HandleT) {
            destroy_blockpool(p.blockpool);
            wd_mempool_destroy(p.mempool);
        }
    })
}

/// A block for `size` bytes (at most the block size), or NULL.
pub extern "C" fn wd_mem_alloc(pool: *mut c_void, size: usize) -> *mut c_void {
    guard("wd_mem_alloc", std::ptr::null_mut(), || {
        let Some(p) = bmm(pool) else {
            return std::ptr::null_mut();
        };
        if size == 0 || size > p.block_size as usize {
            wd_err!(
                "wd_mem_alloc: {size} bytes do not fit a {}-byte block",
                p.block_size
            );
            return std::ptr::null_mut();
        }
        wd_block_alloc(p.blockpool)
    })
}

/// Returns a block from [`wd_mem_alloc`].
pub extern "C" fn wd_mem_free(pool: *mut c_void, buf: *mut c_void) {
    guard("wd_mem_free", (), || {
        if let Some(p) = bmm(pool) {
            wd_block_free(p.blockpool, buf);
        }
    })
}

/// The device address of `buf`: the address itself (SVA semantics), NULL for bad input.
pub extern "C" fn wd_mem_map(pool: *mut c_void, buf: *mut c_void, sz: usize) -> *mut c_void {
    let _ = sz;
    guard("wd_mem_map", std::ptr::null_mut(), || {
        if bmm(pool).is_none() {
            return std::ptr::null_mut();
        }
        buf
    })
}

/// No-op (nothing is mapped).
pub extern "C" fn wd_mem_unmap(pool: *mut c_void, buf_dma: *mut c_void, buf: *mut c_void, sz: usize) {
    let _ = (pool, buf_dma, buf, sz);
}

/// Free blocks into `*free_num`: 0, or `-WD_EINVAL`.
///
/// # Safety
/// `free_num` is NULL or writable.
pub unsafe extern "C" fn wd_get_free_num(pool: *mut c_void, free_num: *mut u32) -> c_int {
    guard("wd_get_free_num", -WD_EINVAL, || {
        let Some(p) = bmm(pool) else { return -WD_EINVAL };
        if free_num.is_null() {
            return -WD_EINVAL;
        }
        let Some(n) = with_bp(p.blockpool, |bp| bp.free_blocks()) else {
            return -WD_EINVAL;
        };
        // SAFETY: non-NULL and writable per the contract.
        unsafe { *free_num = n as u32 };
        0
    })
}

/// Failed allocations into `*fail_num`: 0, or `-WD_EINVAL`.
///
/// # Safety
/// `fail_num` is NULL or writable.
pub unsafe extern "C" fn wd_get_fail_num(pool: *mut c_void, fail_num: *mut u32) -> c_int {
    guard("wd_get_fail_num", -WD_EINVAL, || {
        let Some(p) = bmm(pool) else { return -WD_EINVAL };
        if fail_num.is_null() {
            return -WD_EINVAL;
        }
        let Some(n) = with_bp(p.blockpool, |bp| bp.failed.load(Ordering::Relaxed)) else {
            return -WD_EINVAL;
        };
        // SAFETY: non-NULL and writable per the contract.
        unsafe { *fail_num = n.min(u32::MAX as u64) as u32 };
        0
    })
}

/// The block size, or 0 for an unknown pool.
pub extern "C" fn wd_get_bufsize(pool: *mut c_void) -> u32 {
    guard("wd_get_bufsize", 0, || bmm(pool).map_or(0, |p| p.block_size))
}

/// Device id of the pool's memory: 0 (uadk-rs pools are not tied to one device).
pub extern "C" fn wd_get_dev_id(pool: *mut c_void) -> u32 {
    let _ = pool;
    0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accounting_and_errors() {
        let mp = wd_mempool_create(64 << 10, -1);
        assert!(mp < usize::MAX - 1000);
        assert_eq!(wd_blockpool_create(mp, 0, 4), err_handle(WD_EINVAL));
        assert_eq!(wd_blockpool_create(mp, 4096, 17), err_handle(WD_ENOMEM));
        assert_eq!(wd_blockpool_create(12345, 4096, 1), err_handle(WD_EINVAL));
        let bp = wd_blockpool_create(mp, 1024, 8); // charged 8 KiB
        let mut s = WdMempoolStats::default();
        // SAFETY: `s` is a live, writable `WdMempoolStats`; `mp` is a checked handle.
        unsafe { wd_mempool_stats(mp, &mut s) };
        assert_eq!((s.blk_num, s.free_blk_num), (16, 14));
        let blocks: Vec<_> = (0..8).map(|_| wd_block_alloc(bp)).collect();
        assert!(blocks.iter().all(|b| !b.is_null()));
        assert!(wd_block_alloc(bp).is_null());
        let mut b = WdBlockpoolStats::default();
        // SAFETY: `b` is a live, writable `WdBlockpoolStats`; `bp` is a checked handle.
        unsafe { wd_blockpool_stats(bp, &mut b) };
        assert_eq!((b.block_num, b.free_block_num, b.block_usage_rate), (8, 0, 100));
        assert!(b.mem_waste_rate >= 75);
        // Double free and interior pointers are ignored.
        wd_block_free(bp, blocks[0]);
        wd_block_free(bp, blocks[0]);
        wd_block_free(bp, blocks[1].wrapping_byte_add(8));
        // SAFETY: as above.
        unsafe { wd_blockpool_stats(bp, &mut b) };
        assert_eq!(b.free_block_num, 1);
        for p in &blocks[1..] {
            wd_block_free(bp, *p);
        }
        wd_blockpool_destroy(bp);
        wd_blockpool_destroy(bp);
        // SAFETY: `s` is a live, writable `WdMempoolStats`; `mp` is a checked handle.
        unsafe { wd_mempool_stats(mp, &mut s) };
        assert_eq!(s.free_blk_num, 16);
        wd_mempool_destroy(mp);
        assert_eq!(wd_mempool_create(0, 0), err_handle(WD_EINVAL));
        assert_eq!(wd_mempool_create(4096, 4096), err_handle(WD_EINVAL));
    }

    fn free_count(bp: HandleT) -> u64 {
        let mut b = WdBlockpoolStats::default();
        // SAFETY: `b` is a live, writable `WdBlockpoolStats`; `bp` is a checked handle.
        unsafe { wd_blockpool_stats(bp, &mut b) };
        b.free_block_num
    }

    /// Only the start of a block that is out is accepted, on the hot path and off it,
    /// for power-of-two strides (one state byte per block) and others (one per granule).
    #[test]
    fn frees_are_checked_whatever_the_stride() {
        for (size, n) in [(4096usize, 64usize), (5000, 64), (65536, 16), (12288, 24)] {
            let mp = wd_mempool_create(size * n * 2 + (1 << 20), -1);
            let bp = wd_blockpool_create(mp, size, n);
            let other = wd_blockpool_create(mp, size, n);
            let stride = BLOCKPOOLS.get(bp).unwrap().stride;
            let granule = 1usize << stride.trailing_zeros();
            assert_eq!(granule < stride, !stride.is_power_of_two());
            let a = wd_block_alloc(bp);
            let b = wd_block_alloc(bp);
            let foreign = wd_block_alloc(other);
            assert!(!a.is_null() && !b.is_null() && !foreign.is_null());
            assert_eq!(free_count(bp), n as u64 - 2);
            // Interior pointers, granule starts inside a block, pointers around the
            // region, another pool's block, NULL: all refused (hot path: b's pool is cached).
            let base = BLOCKPOOLS.get(bp).unwrap().base;
            // Inside a block: a granule start when granules are smaller than blocks.
            let inner = a.wrapping_byte_add(granule % stride + 64 * (granule == stride) as usize);
            for bad in [
                a.wrapping_byte_add(1),
                a.wrapping_byte_add(64),
                inner,
                (base - granule) as *mut c_void,
                (base + stride * n) as *mut c_void,
                (base + stride * (n + 1)) as *mut c_void,
                foreign,
                std::ptr::null_mut(),
                usize::MAX as *mut c_void,
            ] {
                wd_block_free(bp, bad);
                assert_eq!(free_count(bp), n as u64 - 2, "{size}: {bad:?} was taken");
            }
            // Double frees are refused, whether the block sits in this thread's cache or
            // went back to the uadk-pool (the cache spills half when full).
            wd_block_free(bp, a);
            wd_block_free(bp, a);
            assert_eq!(free_count(bp), n as u64 - 1);
            let held: Vec<_> = (0..n - 1).map(|_| wd_block_alloc(bp)).collect();
            assert!(held.iter().all(|p| !p.is_null()));
            assert!(wd_block_alloc(bp).is_null());
            for p in held.iter().chain([&b]) {
                wd_block_free(bp, *p);
            }
            assert_eq!(free_count(bp), n as u64);
            for p in held.iter().chain([&b]) {
                wd_block_free(bp, *p);
            }
            assert_eq!(free_count(bp), n as u64);
            // No block is handed out twice.
            let mut again: Vec<_> = (0..n).map(|_| wd_block_alloc(bp) as usize).collect();
            assert!(wd_block_alloc(bp).is_null());
            again.sort_unstable();
            again.dedup();
            assert_eq!(again.len(), n);
            assert!(again.iter().all(|&p| (p - base).is_multiple_of(stride) && p != 0));
            for p in again {
                wd_block_free(bp, p as *mut c_void);
            }
            // A block of a destroyed pool goes nowhere; alloc on it is NULL.
            wd_block_free(other, foreign);
            wd_blockpool_destroy(other);
            wd_block_free(other, foreign);
            assert!(wd_block_alloc(other).is_null());
            wd_blockpool_destroy(bp);
            assert!(wd_block_alloc(bp).is_null());
            wd_mempool_destroy(mp);
        }
    }

    #[test]
    fn slot_of_takes_only_granule_starts_in_the_region() {
        let base = 0x7f00_0000_0000usize;
        for shift in [6u32, 12, 16, 26] {
            let g = 1usize << shift;
            let slots = 100;
            assert_eq!(slot_of(base, shift, slots, base), Some(0));
            assert_eq!(slot_of(base, shift, slots, base + 99 * g), Some(99));
            assert_eq!(slot_of(base, shift, slots, base + 100 * g), None);
            assert_eq!(slot_of(base, shift, slots, base + 5 * g + 1), None);
            assert_eq!(slot_of(base, shift, slots, base + 5 * g + g / 2), None);
            assert_eq!(slot_of(base, shift, slots, base - g), None);
            assert_eq!(slot_of(base, shift, slots, 0), None);
            assert_eq!(slot_of(base, shift, slots, usize::MAX), None);
        }
    }

    #[test]
    fn blocks_move_between_threads() {
        let mp = wd_mempool_create(1 << 20, -1);
        let bp = wd_blockpool_create(mp, 8192, 32);
        let got: Vec<usize> = (0..32).map(|_| wd_block_alloc(bp) as usize).collect();
        std::thread::scope(|s| {
            s.spawn(|| {
                for p in &got {
                    wd_block_free(bp, *p as *mut c_void);
                }
            });
        });
        let mut b = WdBlockpoolStats::default();
        // SAFETY: `b` is a live, writable `WdBlockpoolStats`; `bp` is a checked handle.
        unsafe { wd_blockpool_stats(bp, &mut b) };
        assert_eq!(b.free_block_num, 32);
        wd_blockpool_destroy(bp);
        wd_mempool_destroy(mp);
    }

    #[test]
    fn bmm_pool() {
        let mut setup = WdMempoolSetup {
            block_size: 4096,
            block_num: 4,
            align_size: 128,
            ops: WdMmOps {
                alloc: None,
                free: None,
                iova_map: None,
                iova_unmap: None,
                get_bufsize: None,
                usr: std::ptr::null_mut(),
                sva_mode: true,
            },
        };
        // SAFETY: `setup` is a live, initialised `WdMempoolSetup`.
        let p = unsafe { wd_mempool_alloc(0, &mut setup) };
        assert!(!p.is_null());
        assert_eq!(wd_get_bufsize(p), 4096);
        let b = wd_mem_alloc(p, 100);
        assert_eq!(b as usize % 128, 0);
        assert_eq!(wd_mem_map(p, b, 100), b);
        assert!(wd_mem_alloc(p, 5000).is_null());
        let mut n = 0;
        // SAFETY: `n` is a live, writable u32; `p` is a checked pool handle.
        assert_eq!(unsafe { wd_get_free_num(p, &mut n) }, 0);
        assert_eq!(n, 3);
        wd_mem_free(p, b);
        wd_mempool_free(0, p);
        // SAFETY: `n` is a live, writable u32; the freed pool `p` is looked up in the
        // registry, never dereferenced.
        assert_eq!(unsafe { wd_get_free_num(p, &mut n) }, -WD_EINVAL);
    }
}
