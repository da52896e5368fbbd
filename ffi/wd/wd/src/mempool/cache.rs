//! Per-thread block caches: the hot paths of `wd_block_alloc` and `wd_block_free`.
//!
//! Each thread that uses a blockpool gets a [`Hot`] cache on the heap: up to
//! [`CACHE_MAX`] free blocks of the pool it used last, copies of the pool constants the
//! hot path reads, and the reference that keeps that pool alive. A call on the hot path
//! takes no lock, makes no call and no atomic read-modify-write, and contains nothing that
//! can panic (it runs outside the panic boundary); it touches the thread's cache and the
//! block's state byte. Everything else (refills, spills, pool changes, errors) is the slow
//! path, inside the boundary.
//!
//! ## Finding the calling thread's cache without a TLS call
//!
//! The hot path finds its cache in [`THREADS`], a table indexed by a hash of the thread's
//! [key](crate::thread_key) (its thread pointer): entry `i` or its neighbour `i ^ 1` holds
//! `(key, cache)` when the thread registered there. The slow path reaches the same cache
//! through the thread-local [`OWNED`], whose destructor unregisters the cache and frees it
//! when the thread exits. The rules that make `&mut *cache` on the hot path exclusive:
//!
//! 1. Only the thread whose key an entry holds can match it, and no two live threads
//!    share a key.
//! 2. An entry is set (key claimed by compare-and-swap from 0, then the cache stored) and
//!    cleared (cache removed, then the key) only by its owner, or by the fork handler in
//!    a child, where the other threads are gone.
//! 3. A registered cache is freed only after it was unregistered.
//!
//! A thread that finds neither entry free (a third thread on the same pair) keeps its cache
//! in `OWNED` only and takes the slow path on every call: slower, never wrong. A fork
//! child clears every entry but its own thread's ([`forget_other_threads`]): the other
//! threads are gone without running their exit handlers, and a thread created later may
//! get one of their thread pointers; their caches (and the pools they keep) are leaked.

use super::{slot_of, Blockpool, BLOCKPOOLS, CACHED, GENERATION, WITH_USER};
use crate::thread_key;
use libc::c_void;
use std::cell::Cell;
use std::sync::atomic::{AtomicPtr, AtomicU8, AtomicUsize, Ordering};
use std::sync::{Arc, Once};
use uadk_wd_common::abi::HandleT;

/// Most blocks one thread's cache holds (before it spills half).
pub(super) const CACHE_MAX: usize = 64;

/// One thread's block cache, serving the blockpool the thread used last.
pub(super) struct Hot {
    /// The blockpool served (0: none).
    handle: HandleT,
    /// [`GENERATION`] when `handle` was last found live.
    generation: u64,
    len: usize,
    /// Blocks held before a free spills half (at most [`CACHE_MAX`]).
    cap: usize,
    /// The pool's `base`, `shift`, `state.len()` and `state.as_ptr()` (see [`slot_of`]).
    base: usize,
    shift: u32,
    slots: usize,
    state: *const AtomicU8,
    /// Keeps the pool (and so `state`) alive.
    bp: Option<Arc<Blockpool>>,
    /// Cached blocks: address and state byte (so taking one computes nothing).
    free: [(usize, usize); CACHE_MAX],
}

impl Hot {
    const EMPTY: Hot = Hot {
        handle: 0,
        generation: u64::MAX,
        len: 0,
        cap: 0,
        base: 0,
        shift: 0,
        slots: 0,
        state: std::ptr::null(),
        bp: None,
        free: [(0, 0); CACHE_MAX],
    };

    /// Gives the cached blocks back to their pool and serves nothing.
    fn release(&mut self) {
        if let Some(bp) = self.bp.take() {
            bp.spill(self.free[..self.len].iter().map(|b| b.0));
        }
        self.len = 0;
        self.handle = 0;
        self.generation = u64::MAX;
        self.cap = 0;
        self.slots = 0;
        self.state = std::ptr::null();
    }

    /// Serves `bp`, live at `generation` (the cache is empty).
    fn point_at(&mut self, hd: HandleT, generation: u64, bp: Arc<Blockpool>) {
        self.release();
        self.cap = bp.cache_cap.min(CACHE_MAX);
        self.base = bp.base;
        self.shift = bp.shift;
        self.slots = bp.state.len();
        self.state = bp.state.as_ptr();
        self.bp = Some(bp);
        self.handle = hd;
        self.generation = generation;
    }

    /// The pool served, after revalidating `hd` if any blockpool was destroyed since.
    fn select(&mut self, hd: HandleT) -> Option<Arc<Blockpool>> {
        let generation = GENERATION.load(Ordering::Acquire);
        if self.handle != hd || self.generation != generation || self.bp.is_none() {
            self.release();
            self.point_at(hd, generation, BLOCKPOOLS.get(hd)?);
        }
        self.bp.clone()
    }
}

/// A cache's entry in [`THREADS`].
struct Entry {
    /// The owner's thread key; 0 when free.
    key: AtomicUsize,
    cache: AtomicPtr<Hot>,
}

const TABLE_BITS: u32 = 10;

/// Threads' caches by thread key (16 KiB; only the lines of entries in use are touched).
static THREADS: [Entry; 1 << TABLE_BITS] = [const {
    Entry {
        key: AtomicUsize::new(0),
        cache: AtomicPtr::new(std::ptr::null_mut()),
    }
}; 1 << TABLE_BITS];

/// The first of the two entries `key` may use (the other is `^ 1`).
#[inline(always)]
fn home(key: usize) -> usize {
    key.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> (usize::BITS - TABLE_BITS)
}

/// The cache registered for `key`, or NULL.
#[inline(always)]
fn registered(key: usize) -> *mut Hot {
    let i = home(key);
    let e = &THREADS[i];
    if e.key.load(Ordering::Acquire) == key {
        return e.cache.load(Ordering::Acquire);
    }
    let e = &THREADS[i ^ 1];
    if e.key.load(Ordering::Acquire) == key {
        return e.cache.load(Ordering::Acquire);
    }
    std::ptr::null_mut()
}

/// Registers `h` for `key` in a free entry of its pair (or the one it already holds).
fn register(key: usize, h: *mut Hot) {
    static FORK_HANDLER: Once = Once::new();
    FORK_HANDLER.call_once(|| {
        // SAFETY: registers a handler that only stores to atomics (async-signal-safe).
        unsafe { libc::pthread_atfork(None, None, Some(forget_other_threads)) };
    });
    let i = home(key);
    for e in [&THREADS[i], &THREADS[i ^ 1]] {
        let cur = e.key.load(Ordering::Acquire);
        if cur == key
            || (cur == 0
                && e.key
                    .compare_exchange(0, key, Ordering::AcqRel, Ordering::Acquire)
                    .is_ok())
        {
            e.cache.store(h, Ordering::Release);
            return;
        }
    }
}

/// Unregisters `h` if it is registered for `key`.
fn unregister(key: usize, h: *mut Hot) {
    let i = home(key);
    for e in [&THREADS[i], &THREADS[i ^ 1]] {
        if e.key.load(Ordering::Acquire) == key && e.cache.load(Ordering::Acquire) == h {
            // Cache first, key last: a thread claiming the freed key stores its own cache.
            e.cache.store(std::ptr::null_mut(), Ordering::Release);
            e.key.store(0, Ordering::Release);
        }
    }
}

/// Fork child handler: only the forking thread exists in the child; its entries stay.
extern "C" fn forget_other_threads() {
    let me = thread_key::current();
    for e in &THREADS {
        let key = e.key.load(Ordering::Acquire);
        if key != 0 && key != me {
            e.cache.store(std::ptr::null_mut(), Ordering::Release);
            e.key.store(0, Ordering::Release);
        }
    }
}

/// The cache this thread owns (allocated on its first slow-path call); freed at exit.
struct Owned(Cell<*mut Hot>);

impl Drop for Owned {
    fn drop(&mut self) {
        let h = self.0.replace(std::ptr::null_mut());
        if h.is_null() {
            return;
        }
        unregister(thread_key::current(), h);
        // SAFETY: `h` came from Box::into_raw in `with_hot`, is owned by this thread
        // alone, and is no longer registered, so nothing else reaches it.
        let mut h = unsafe { Box::from_raw(h) };
        h.release();
    }
}

thread_local! {
    static OWNED: Owned = const { Owned(Cell::new(std::ptr::null_mut())) };
}

/// Runs `f` on this thread's cache (slow paths), creating and registering it when needed;
/// `None` once the thread's exit handlers have released it.
fn with_hot<R>(f: impl FnOnce(Option<&mut Hot>) -> R) -> R {
    let key = thread_key::current();
    let reg = registered(key);
    let h = OWNED
        .try_with(|o| {
            let mut h = o.0.get();
            if !reg.is_null() && reg != h {
                // The entry holds this thread's key but not its cache: its previous owner
                // is gone without an exit handler (rule 1). Take that cache over.
                if !h.is_null() {
                    // SAFETY: owned by this thread alone and not registered.
                    unsafe { Box::from_raw(h) }.release();
                }
                h = reg;
                o.0.set(h);
            }
            if h.is_null() {
                h = Box::into_raw(Box::new(Hot::EMPTY));
                o.0.set(h);
            }
            if reg.is_null() {
                register(key, h);
            }
            h
        })
        .unwrap_or(std::ptr::null_mut());
    // SAFETY: NULL, or this thread's cache: reached by this thread alone (the rules of
    // the module docs) and alive until its exit handler; this module never holds two
    // references to it at once (no re-entry).
    f(unsafe { h.as_mut() })
}

/// The hot path of `wd_block_alloc`: a block when this thread's cache serves `hd` and
/// holds one; None otherwise (then [`alloc`] decides).
#[inline(always)]
pub(super) fn fast_alloc(hd: HandleT) -> Option<*mut c_void> {
    // SAFETY: NULL or this thread's cache, exclusively (module docs, rules 1-3).
    let h = unsafe { registered(thread_key::current()).as_mut() }?;
    if h.handle != hd || h.generation != GENERATION.load(Ordering::Acquire) {
        return None;
    }
    let len = h.len.checked_sub(1)?;
    let &(p, s) = h.free.get(len)?;
    if s >= h.slots {
        return None; // never: `s` is the state byte of `p`, in this pool
    }
    // SAFETY: matching handle and generation: `h.state` is the state array, of `h.slots`
    // bytes, of the live pool `h.bp` keeps, and `s < h.slots`.
    unsafe { &*h.state.add(s) }.store(WITH_USER, Ordering::Relaxed);
    h.len = len;
    Some(p as *mut c_void)
}

/// The hot path of `wd_block_free` (same rules as [`fast_alloc`]): true when done; false
/// leaves everything, errors included, to [`free`].
#[inline(always)]
pub(super) fn fast_free(hd: HandleT, p: usize) -> bool {
    // SAFETY: as in fast_alloc.
    let Some(h) = (unsafe { registered(thread_key::current()).as_mut() }) else {
        return false;
    };
    if h.handle != hd || h.generation != GENERATION.load(Ordering::Acquire) || h.len >= h.cap {
        return false;
    }
    let Some(s) = slot_of(h.base, h.shift, h.slots, p) else {
        return false;
    };
    // SAFETY: as in fast_alloc.
    let st = unsafe { &*h.state.add(s) };
    if st.load(Ordering::Relaxed) != WITH_USER {
        return false;
    }
    let Some(slot) = h.free.get_mut(h.len) else {
        return false;
    };
    st.store(CACHED, Ordering::Relaxed);
    *slot = (p, s);
    h.len += 1;
    true
}

/// `wd_block_alloc` off the hot path: a block or NULL (no such pool, or none free).
pub(super) fn alloc(hd: HandleT) -> *mut c_void {
    with_hot(|h| {
        let Some(h) = h else {
            // Thread exit: no cache, one block straight from the pool.
            let Some(bp) = BLOCKPOOLS.get(hd) else {
                return std::ptr::null_mut();
            };
            let mut v = Vec::with_capacity(1);
            bp.refill(&mut v, 1);
            return v.first().map_or_else(
                || {
                    bp.failed.fetch_add(1, Ordering::Relaxed);
                    std::ptr::null_mut()
                },
                |&b| bp.hand_out(b),
            );
        };
        let Some(bp) = h.select(hd) else {
            return std::ptr::null_mut();
        };
        if h.len == 0 {
            let mut v = Vec::with_capacity(h.cap);
            bp.refill(&mut v, (h.cap / 2).max(1));
            h.free[..v.len()].copy_from_slice(&v);
            h.len = v.len();
            if h.len == 0 {
                bp.failed.fetch_add(1, Ordering::Relaxed);
                return std::ptr::null_mut();
            }
        }
        h.len -= 1;
        bp.hand_out(h.free[h.len])
    })
}

/// `wd_block_free` off the hot path. Ok(true): freed; Ok(false): not an allocated block
/// of the pool; Err: no such pool.
pub(super) fn free(hd: HandleT, p: usize) -> Result<bool, ()> {
    with_hot(|mut h| {
        let bp = match h.as_deref_mut() {
            Some(h) => h.select(hd),
            None => BLOCKPOOLS.get(hd),
        }
        .ok_or(())?;
        let Some(s) = bp.slot_of(p) else { return Ok(false) };
        if bp.state[s].load(Ordering::Relaxed) != WITH_USER {
            return Ok(false);
        }
        bp.state[s].store(CACHED, Ordering::Relaxed);
        let Some(h) = h else {
            // Thread exit: straight back to the pool.
            bp.spill(std::iter::once(p));
            return Ok(true);
        };
        if h.len >= h.cap {
            let keep = h.len / 2;
            bp.spill(h.free[keep..h.len].iter().map(|b| b.0));
            h.len = keep;
        }
        h.free[h.len] = (p, s);
        h.len += 1;
        Ok(true)
    })
}

/// Gives this thread's cached blocks of `hd` back (the pool is being destroyed; other
/// threads give theirs back on their next call, or at exit).
pub(super) fn forget_pool(hd: HandleT) {
    with_hot(|h| {
        if let Some(h) = h.filter(|h| h.handle == hd) {
            h.release();
        }
    });
}

#[cfg(test)]
mod tests {
    use super::super::*;
    use super::*;

    fn free_count(bp: HandleT) -> u64 {
        let mut b = WdBlockpoolStats::default();
        // SAFETY: `b` is a live, writable `WdBlockpoolStats`; `bp` is a checked handle.
        unsafe { wd_blockpool_stats(bp, &mut b) };
        b.free_block_num
    }

    /// Threads that are alive together never get the same block, and each one's cache
    /// goes back to the pool when it exits.
    #[test]
    fn caches_follow_threads() {
        // 12 threads holding 8 blocks each plus a full cache (N / 8, at most 32) fit.
        const N: usize = 512;
        let mp = wd_mempool_create(N * 4096, -1);
        let bp = wd_blockpool_create(mp, 4096, N);
        for _ in 0..3 {
            // Joined (not scoped) threads: join returns after their exit handlers ran.
            let threads: Vec<_> = (0..12u8)
                .map(|t| {
                    std::thread::spawn(move || {
                        for round in 0..200 {
                            let held: Vec<*mut u8> =
                                (0..8).map(|_| wd_block_alloc(bp).cast::<u8>()).collect();
                            for p in &held {
                                assert!(!p.is_null());
                                // SAFETY: `p` is non-NULL (checked above), the start of a
                                // 4096-byte block of `bp` that this thread holds.
                                unsafe { p.write_bytes(t, 4096) };
                            }
                            for p in &held {
                                // SAFETY: `p` is a held 4096-byte block, initialised by the
                                // write above and not freed until after this read (a block
                                // handed to two threads at once is the bug under test).
                                let b = unsafe { std::slice::from_raw_parts(*p, 4096) };
                                assert!(b.iter().all(|&x| x == t), "round {round}: shared block");
                                wd_block_free(bp, p.cast());
                            }
                        }
                    })
                })
                .collect();
            for t in threads {
                t.join().unwrap();
            }
            assert_eq!(free_count(bp), N as u64);
        }
        // Every exited thread's cache went back: this thread can take all N blocks.
        let all: Vec<_> = (0..N).map(|_| wd_block_alloc(bp)).collect();
        assert!(all.iter().all(|p| !p.is_null()));
        for p in all {
            wd_block_free(bp, p);
        }
        wd_blockpool_destroy(bp);
        wd_mempool_destroy(mp);
    }

    /// A thread that finds both entries of its pair taken works through the slow path.
    #[test]
    fn a_thread_without_an_entry_still_has_a_cache() {
        let mp = wd_mempool_create(64 * 4096, -1);
        let bp = wd_blockpool_create(mp, 4096, 64);
        std::thread::spawn(move || {
            let key = thread_key::current();
            let i = home(key);
            // Odd keys are no thread's (thread pointers are aligned).
            let taken: Vec<&Entry> = [(i, 1usize), (i ^ 1, 3)]
                .into_iter()
                .filter_map(|(j, fake)| {
                    let e = &THREADS[j];
                    e.key
                        .compare_exchange(0, fake, Ordering::AcqRel, Ordering::Acquire)
                        .is_ok()
                        .then_some(e)
                })
                .collect();
            if taken.len() == 2 {
                for _ in 0..1000 {
                    let a = wd_block_alloc(bp);
                    let b = wd_block_alloc(bp);
                    assert!(!a.is_null() && !b.is_null() && a != b);
                    wd_block_free(bp, a);
                    wd_block_free(bp, a); // refused
                    wd_block_free(bp, b);
                }
                assert!(registered(key).is_null(), "no entry, so only the slow path ran");
                assert!(OWNED.with(|o| !o.0.get().is_null()), "but with a cache");
            }
            for e in taken {
                e.key.store(0, Ordering::Release);
            }
        })
        .join()
        .unwrap();
        assert_eq!(free_count(bp), 64);
        wd_blockpool_destroy(bp);
        wd_mempool_destroy(mp);
    }

    /// Calls from a thread's exit handlers, after its cache is gone, go straight to the pool.
    #[test]
    fn calls_after_the_cache_is_gone_still_work() {
        struct Late(HandleT);
        impl Drop for Late {
            fn drop(&mut self) {
                let p = wd_block_alloc(self.0);
                assert!(!p.is_null());
                wd_block_free(self.0, p);
                wd_block_free(self.0, p); // refused
            }
        }
        thread_local! {
            static LATE: std::cell::RefCell<Option<Late>> = const { std::cell::RefCell::new(None) };
        }
        let mp = wd_mempool_create(16 * 4096, -1);
        let bp = wd_blockpool_create(mp, 4096, 16);
        std::thread::spawn(move || {
            // LATE is registered first, so its destructor runs after OWNED's.
            LATE.with(|l| *l.borrow_mut() = Some(Late(bp)));
            let p = wd_block_alloc(bp);
            wd_block_free(bp, p);
        })
        .join()
        .unwrap();
        assert_eq!(free_count(bp), 16);
        let all: Vec<_> = (0..16).map(|_| wd_block_alloc(bp)).collect();
        assert!(all.iter().all(|p| !p.is_null()));
        for p in all {
            wd_block_free(bp, p);
        }
        wd_blockpool_destroy(bp);
        wd_mempool_destroy(mp);
    }
}
