//! Buffer pools (`uadk-pool`): hugetlb-backed, NUMA-bound, pre-faulted, pinned-once chunks.
//!
//! A chunk is handed to C as a plain pointer and returned with `uadk_pool_free`; the pool
//! keeps the chunk's owner in a table indexed by chunk, so a double free, a foreign pointer
//! or an interior pointer is `UADK_E_NOT_ALLOCATED`, never a corrupted free list. Chunks
//! placed in a zip session's pool (`uadk_zip_config.pool`) reach a device without a copy.

use crate::boundary::{call, copy_out_str, flag, in_ref, out_ptr, Failure, Outcome};
use crate::registry::{self, impl_handle};
use crate::status::*;
use ::uadk_pool::{Backing, OwnedChunk, PageKind, PinLevel, Pool, PoolBuilder};
use std::ffi::{c_char, c_void};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A buffer pool. Thread-safe: chunks may be allocated and freed from any thread at once.
/// Process-bound: in a child after `fork()` every call but destroy fails with
/// `UADK_E_FORKED` (the pin and the free lists belong to the parent).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct uadk_pool {
    /// Opaque id; 0 is no pool.
    pub id: u64,
}

/// The object behind a `uadk_pool` handle.
pub struct PoolObject {
    pub(crate) pool: Arc<Pool>,
    /// The owner of each chunk handed to C, by chunk index.
    out: Box<[Mutex<Option<OwnedChunk>>]>,
    /// Chunks held by the caller, plus allocations in progress.
    outstanding: AtomicUsize,
    /// Set while `uadk_pool_destroy` checks that no chunk is out.
    closing: AtomicBool,
}
impl_handle!(uadk_pool, Pool, PoolObject, process_bound);

/// Page kind (`uadk_pool_config.pages`).
pub type uadk_page_kind = i32;
/// The best available: 1 GiB hugetlb, 2 MiB hugetlb, THP, normal pages.
pub const UADK_PAGES_AUTO: uadk_page_kind = 0;
/// 1 GiB hugetlb pages.
pub const UADK_PAGES_HUGE_1G: uadk_page_kind = 1;
/// 2 MiB hugetlb pages.
pub const UADK_PAGES_HUGE_2M: uadk_page_kind = 2;
/// Transparent huge pages.
pub const UADK_PAGES_THP: uadk_page_kind = 3;
/// Normal base pages.
pub const UADK_PAGES_NORMAL: uadk_page_kind = 4;

/// Pin level, weakest first (`uadk_pool_config.require_pin`, `uadk_pool_stats.pin_level`).
pub type uadk_pin_level = i32;
/// Pre-faulted pages the kernel may still swap or migrate.
pub const UADK_PIN_UNPINNED: uadk_pin_level = 0;
/// Hugetlb pages: never swapped, not locked.
pub const UADK_PIN_RESIDENT: uadk_pin_level = 1;
/// `mlock`ed: never swapped, may migrate.
pub const UADK_PIN_LOCKED: uadk_pin_level = 2;
/// Long-term pinned (mempinfd or a pin device): neither swapped nor migrated.
pub const UADK_PIN_LONG_TERM: uadk_pin_level = 3;

/// The memory a pool got (`uadk_pool_stats.backing`).
pub type uadk_backing = i32;
/// 1 GiB hugetlb pages.
pub const UADK_BACKING_HUGETLB_1G: uadk_backing = 1;
/// 2 MiB hugetlb pages.
pub const UADK_BACKING_HUGETLB_2M: uadk_backing = 2;
/// Transparent huge pages.
pub const UADK_BACKING_THP: uadk_backing = 3;
/// Normal pages.
pub const UADK_BACKING_NORMAL: uadk_backing = 4;

/// How to build a pool. Fill it with `uadk_pool_config_default`, then change fields.
/// Flags are `uint8_t` (0 = false, anything else = true).
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct uadk_pool_config {
    /// Bytes per chunk, 4 KiB ..= 64 MiB (default 64 KiB).
    pub chunk_size: usize,
    /// Number of chunks, at least 1 (default 64).
    pub chunks: u32,
    /// A `UADK_PAGES_*` value (default `UADK_PAGES_AUTO`).
    pub pages: uadk_page_kind,
    /// Let an unavailable explicit page kind fall back to weaker ones (default 0).
    pub fallback: u8,
    /// Allow mempinfd (used only when its syscall number is stated; default 1).
    pub mempinfd: u8,
    /// Allow pin devices (default 1).
    pub pin_device: u8,
    /// Allow `mlock` (default 1).
    pub mlock: u8,
    /// NUMA node to bind the memory to, -1 for none (default -1).
    pub node: i32,
    /// Minimum `UADK_PIN_*` level; creation fails below it (default `UADK_PIN_UNPINNED`).
    pub require_pin: uadk_pin_level,
    /// Chunk alignment: a power of two from 64 to 4096 (default 64).
    pub align: usize,
    /// Chunks each thread may cache, -1 for the default (an eighth of the pool, at most 32).
    pub thread_cache: i32,
}

/// A snapshot of a pool's counters (`uadk_pool_get_stats`).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct uadk_pool_stats {
    /// Bytes per chunk.
    pub chunk_size: usize,
    /// Chunks in the pool.
    pub chunks_total: usize,
    /// Chunks free (shared list and thread caches).
    pub chunks_free: usize,
    /// Of those, chunks parked in thread caches.
    pub chunks_cached: usize,
    /// Chunks handed out (by the pool's own count).
    pub chunks_in_use: usize,
    /// Chunks the caller holds now (allocated through this handle and not freed).
    pub chunks_outstanding: usize,
    /// Most chunks out of the shared list at once.
    pub high_water: usize,
    /// Allocations that found no chunk.
    pub failed_allocs: u64,
    /// A `UADK_BACKING_*` value.
    pub backing: uadk_backing,
    /// The `UADK_PIN_*` level reached.
    pub pin_level: uadk_pin_level,
    /// Page size in bytes.
    pub page_size: usize,
    /// Requested NUMA node, -1 for none.
    pub node: i32,
    /// Node holding most of the pages, -1 when unknown.
    pub placement_node: i32,
    /// Bytes locked or long-term pinned.
    pub bytes_pinned: usize,
}

/// Fills `*cfg` with the defaults (see the fields).
///
/// Thread-safe.
///
/// # Safety
/// `cfg` must be NULL (an error) or writable.
#[no_mangle]
pub unsafe extern "C" fn uadk_pool_config_default(cfg: *mut uadk_pool_config) -> uadk_status {
    call("uadk_pool_config_default", || {
        // SAFETY: forwarded contract.
        let cfg = unsafe { out_ptr(cfg, "cfg") }?;
        cfg.write(uadk_pool_config {
            chunk_size: 64 << 10,
            chunks: 64,
            pages: UADK_PAGES_AUTO,
            fallback: 0,
            mempinfd: 1,
            pin_device: 1,
            mlock: 1,
            node: -1,
            require_pin: UADK_PIN_UNPINNED,
            align: ::uadk_pool::MIN_ALIGN,
            thread_cache: -1,
        });
        Ok(())
    })
}

fn page_kind(v: uadk_page_kind) -> Outcome<PageKind> {
    Ok(match v {
        UADK_PAGES_AUTO => PageKind::Auto,
        UADK_PAGES_HUGE_1G => PageKind::Huge1G,
        UADK_PAGES_HUGE_2M => PageKind::Huge2M,
        UADK_PAGES_THP => PageKind::Thp,
        UADK_PAGES_NORMAL => PageKind::Normal,
        other => {
            return Err(Failure::invalid(format!(
                "pages = {other} is not a UADK_PAGES_* value"
            )))
        }
    })
}

fn pin_level(v: uadk_pin_level) -> Outcome<PinLevel> {
    Ok(match v {
        UADK_PIN_UNPINNED => PinLevel::Unpinned,
        UADK_PIN_RESIDENT => PinLevel::Resident,
        UADK_PIN_LOCKED => PinLevel::Locked,
        UADK_PIN_LONG_TERM => PinLevel::LongTermPinned,
        other => {
            return Err(Failure::invalid(format!(
                "require_pin = {other} is not a UADK_PIN_* value"
            )))
        }
    })
}

fn pin_code(l: PinLevel) -> uadk_pin_level {
    match l {
        PinLevel::Unpinned => UADK_PIN_UNPINNED,
        PinLevel::Resident => UADK_PIN_RESIDENT,
        PinLevel::Locked => UADK_PIN_LOCKED,
        PinLevel::LongTermPinned => UADK_PIN_LONG_TERM,
    }
}

fn backing_code(b: Backing) -> uadk_backing {
    match b {
        Backing::Hugetlb1G => UADK_BACKING_HUGETLB_1G,
        Backing::Hugetlb2M => UADK_BACKING_HUGETLB_2M,
        Backing::Thp => UADK_BACKING_THP,
        Backing::Normal => UADK_BACKING_NORMAL,
    }
}

fn builder(c: &uadk_pool_config) -> Outcome<PoolBuilder> {
    let mut b = PoolBuilder::new(c.chunk_size)
        .chunks(c.chunks)
        .pages(page_kind(c.pages)?)
        .mempinfd(flag(c.mempinfd))
        .pin_device(flag(c.pin_device))
        .mlock(flag(c.mlock))
        .require_pin(pin_level(c.require_pin)?)
        .align(c.align)
        .node(match c.node {
            -1 => None,
            n => Some(u32::try_from(n).map_err(|_| {
                Failure::invalid(format!("node = {n}: use -1 (no binding) or a node number"))
            })?),
        });
    if flag(c.fallback) {
        b = b.fallback(true);
    }
    match c.thread_cache {
        -1 => {}
        n => {
            let n = usize::try_from(n).map_err(|_| {
                Failure::invalid(format!("thread_cache = {n}: use -1 (default) or a count from 0"))
            })?;
            b = b.thread_cache(n);
        }
    }
    Ok(b)
}

/// Creates a pool as `*cfg` says: maps, binds, faults in and pins its memory once. On
/// success `*out` is the new pool; `uadk_pool_describe` says what memory and pin it got.
/// Fails with `UADK_E_POOL_UNAVAILABLE` when the machine cannot provide it (the message says
/// what to change), `UADK_E_INVALID_ARGUMENT` for a bad configuration.
///
/// Thread-safe. The caller owns the pool and destroys it with `uadk_pool_destroy`.
///
/// # Safety
/// `cfg` must be NULL or readable; `out` must be NULL or writable (NULL is an error).
#[no_mangle]
pub unsafe extern "C" fn uadk_pool_create(cfg: *const uadk_pool_config, out: *mut uadk_pool) -> uadk_status {
    call("uadk_pool_create", || {
        // SAFETY: forwarded contracts.
        let (cfg, out) = unsafe { (in_ref(cfg, "cfg")?, out_ptr(out, "out")?) };
        let pool = builder(cfg)?.build()?;
        let out_table = (0..pool.chunk_count()).map(|_| Mutex::new(None)).collect();
        let obj = PoolObject {
            pool: Arc::new(pool),
            out: out_table,
            outstanding: AtomicUsize::new(0),
            closing: AtomicBool::new(false),
        };
        out.write(registry::insert(Arc::new(obj))?);
        Ok(())
    })
}

/// Allocates one chunk (`chunk_size` bytes, aligned as configured) into `*chunk`. With
/// `timeout_ms` 0 it never waits; otherwise it waits up to that long for a chunk to be
/// freed. `UADK_E_POOL_EXHAUSTED` when none is free.
///
/// Thread-safe. The chunk belongs to the caller until `uadk_pool_free`; it stays valid
/// while the pool exists (a pool with chunks out cannot be destroyed).
///
/// # Safety
/// `chunk` must be NULL (an error) or writable.
#[no_mangle]
pub unsafe extern "C" fn uadk_pool_alloc(
    pool: uadk_pool,
    timeout_ms: u32,
    chunk: *mut *mut c_void,
) -> uadk_status {
    call("uadk_pool_alloc", || {
        // SAFETY: forwarded contract.
        let chunk = unsafe { out_ptr(chunk, "chunk") }?;
        let p = registry::get(pool)?;
        // Reserve first, then check `closing` (SeqCst on both sides): a concurrent destroy
        // either sees this allocation or this allocation sees the destroy.
        p.outstanding.fetch_add(1, Ordering::SeqCst);
        let r = alloc_chunk(&p, timeout_ms);
        match r {
            Ok(ptr) => {
                chunk.write(ptr);
                Ok(())
            }
            Err(f) => {
                p.outstanding.fetch_sub(1, Ordering::SeqCst);
                Err(f)
            }
        }
    })
}

fn alloc_chunk(p: &PoolObject, timeout_ms: u32) -> Outcome<*mut c_void> {
    if p.closing.load(Ordering::SeqCst) {
        return Err(Failure::new(
            UADK_E_BAD_STATE,
            "the pool is being destroyed by another thread",
        ));
    }
    let c = match timeout_ms {
        0 => p.pool.try_alloc_owned().ok_or_else(|| {
            Failure::new(
                UADK_E_POOL_EXHAUSTED,
                format!(
                    "all {} chunks are in use; free some, wait (timeout_ms > 0) or create a larger pool",
                    p.pool.chunk_count()
                ),
            )
        })?,
        ms => owned_within(&p.pool, Duration::from_millis(ms.into()))?,
    };
    let ptr = c.as_ptr() as *mut c_void;
    let index = c.index() as usize;
    *p.out[index].lock().unwrap_or_else(|e| e.into_inner()) = Some(c);
    Ok(ptr)
}

/// An owned chunk, waiting up to `timeout`. The pool waits only for borrowed chunks
/// (`alloc_timeout`); one that frees is returned to this thread's cache and taken again as an
/// owned chunk. If another waiting thread takes it in between, wait again for the rest of
/// the time.
fn owned_within(pool: &Pool, timeout: Duration) -> Outcome<OwnedChunk> {
    let deadline = std::time::Instant::now() + timeout;
    loop {
        if let Some(c) = pool.try_alloc_owned() {
            return Ok(c);
        }
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        drop(pool.alloc_timeout(left)?);
    }
}

/// Returns `chunk` (a pointer `uadk_pool_alloc` gave, exactly) to the pool.
/// `UADK_E_NOT_ALLOCATED` for a pointer that is not the start of a chunk of this pool that
/// is currently allocated (double free, foreign or interior pointer); the pointer is never
/// dereferenced. `chunk` NULL is `UADK_E_NULL_POINTER`.
///
/// Thread-safe: any thread may free any chunk.
#[no_mangle]
pub extern "C" fn uadk_pool_free(pool: uadk_pool, chunk: *mut c_void) -> uadk_status {
    call("uadk_pool_free", || {
        if chunk.is_null() {
            return Err(Failure::null("chunk"));
        }
        let p = registry::get(pool)?;
        let not_ours = || {
            Failure::new(
                UADK_E_NOT_ALLOCATED,
                format!(
                    "{chunk:p} is not the start of a chunk allocated from this pool and not yet freed (double free or foreign pointer)"
                ),
            )
        };
        let at = p.pool.locate(chunk as *const u8, 1).ok_or_else(not_ours)?;
        if at.offset != 0 {
            return Err(not_ours());
        }
        let taken = p.out[at.index as usize]
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take()
            .ok_or_else(not_ours)?;
        drop(taken);
        p.outstanding.fetch_sub(1, Ordering::SeqCst);
        Ok(())
    })
}

/// Fills `*stats` with the pool's counters.
///
/// Thread-safe (a snapshot: counts may move while threads allocate).
///
/// # Safety
/// `stats` must be NULL (an error) or writable.
#[no_mangle]
pub unsafe extern "C" fn uadk_pool_get_stats(pool: uadk_pool, stats: *mut uadk_pool_stats) -> uadk_status {
    call("uadk_pool_get_stats", || {
        // SAFETY: forwarded contract.
        let stats = unsafe { out_ptr(stats, "stats") }?;
        let p = registry::get(pool)?;
        let s = p.pool.stats();
        let node = |n: Option<u32>| n.and_then(|n| i32::try_from(n).ok()).unwrap_or(-1);
        stats.write(uadk_pool_stats {
            chunk_size: s.chunk_size,
            chunks_total: s.chunks_total,
            chunks_free: s.chunks_free,
            chunks_cached: s.chunks_cached,
            chunks_in_use: s.chunks_in_use,
            chunks_outstanding: p.outstanding.load(Ordering::Relaxed),
            high_water: s.high_water,
            failed_allocs: s.failed_allocs,
            backing: backing_code(s.backing),
            pin_level: pin_code(s.pin_level),
            page_size: s.page_size,
            node: node(s.node),
            placement_node: node(s.placement_node),
            bytes_pinned: s.bytes_pinned,
        });
        Ok(())
    })
}

/// Copies a description of what the pool got and why into `buf` (`cap` bytes,
/// NUL-terminated, cut to fit: `UADK_E_OUTPUT_TOO_SMALL`): backing and page size, the pin
/// reached, every pin strategy tried and why the stronger ones did not hold, and the page
/// kinds passed over. `*len` (if not NULL) receives the full length; `buf` may be NULL when
/// `cap` is 0.
///
/// Thread-safe.
///
/// # Safety
/// `buf` must be writable for `cap` bytes; `len` must be NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn uadk_pool_describe(
    pool: uadk_pool,
    buf: *mut c_char,
    cap: usize,
    len: *mut usize,
) -> uadk_status {
    call("uadk_pool_describe", || {
        let p = registry::get(pool)?;
        let info = p.pool.info();
        let mut s = format!(
            "{} x {} B chunks on {} pages ({} B), {}",
            p.pool.chunk_count(),
            p.pool.chunk_size(),
            info.backing,
            info.page_size,
            info.pinning
        );
        for a in &info.pin_attempts {
            match &a.failure {
                None => s.push_str(&format!("; {}: held", a.strategy)),
                Some(why) => s.push_str(&format!("; {}: {why}", a.strategy)),
            }
        }
        for why in &info.passed_over {
            s.push_str(&format!("; passed over: {why}"));
        }
        // SAFETY: forwarded contract.
        unsafe { copy_out_str(&s, buf, cap, len) }
    })
}

/// Destroys the pool. Fails with `UADK_E_BAD_STATE` while chunks allocated through this
/// handle are not freed (their memory would go away under the caller). A zero handle is a
/// no-op. In a child after `fork()` the handle is removed without touching the parent's
/// memory or pin.
///
/// Thread-safe; a call still using the pool on another thread keeps it alive until it
/// returns.
#[no_mangle]
pub extern "C" fn uadk_pool_destroy(pool: uadk_pool) -> uadk_status {
    call("uadk_pool_destroy", || {
        if pool.id != 0 {
            match registry::get(pool) {
                Ok(p) => {
                    p.closing.store(true, Ordering::SeqCst);
                    let n = p.outstanding.load(Ordering::SeqCst);
                    if n > 0 {
                        p.closing.store(false, Ordering::SeqCst);
                        return Err(Failure::new(
                            UADK_E_BAD_STATE,
                            format!("{n} chunks are still allocated (or being allocated); uadk_pool_free them first"),
                        ));
                    }
                }
                Err(f) if f.code == UADK_E_FORKED => {}
                Err(f) => return Err(f),
            }
        }
        registry::destroy(pool)
    })
}
