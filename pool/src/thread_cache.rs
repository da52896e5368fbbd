//! Per-thread chunk caches: the hot path's only state.
//!
//! Each thread keeps, for up to [`POOLS_PER_THREAD`] pools, a small stack of free chunk
//! indices in a `const`-initialised thread-local without a destructor (so reaching it is a
//! plain TLS access). Allocation pops from it and freeing pushes onto it: no atomic
//! read-modify-write, no lock, no system call. An empty stack refills half its capacity from
//! the pool's lock-free shared list; a full one returns half in one CAS.
//!
//! A second thread-local, touched only on slow paths, remembers which pools the thread
//! cached for and gives their chunks back when the thread exits. It holds only `Weak`
//! references, and entries are keyed by pool ids that are never reused, so a pool can be
//! dropped while other threads still have stale entries.
//!
//! Each cache publishes its length into a per-pool slot (a plain store) for statistics.

use crate::pool::Shared;
use std::cell::RefCell;
use std::sync::{Arc, Weak};

/// Pools one thread caches for at once; further pools go straight to their shared lists.
pub(crate) const POOLS_PER_THREAD: usize = 4;
/// Largest per-thread cache.
pub(crate) const MAX_CACHE: usize = 32;

#[derive(Clone, Copy)]
struct Entry {
    /// 0 = unused.
    pool_id: u64,
    /// The pool's statistics slot this thread publishes into.
    stat_slot: u32,
    len: u32,
    slots: [u32; MAX_CACHE],
}

impl Entry {
    const EMPTY: Entry = Entry {
        pool_id: 0,
        stat_slot: 0,
        len: 0,
        slots: [0; MAX_CACHE],
    };
}

struct Hot {
    entries: [Entry; POOLS_PER_THREAD],
}

thread_local! {
    static HOT: RefCell<Hot> = const { RefCell::new(Hot { entries: [Entry::EMPTY; POOLS_PER_THREAD] }) };
    static EXIT: RefCell<ExitGuard> = const { RefCell::new(ExitGuard { pools: Vec::new() }) };
}

/// Gives every cached chunk back when the thread exits.
struct ExitGuard {
    pools: Vec<(u64, Weak<Shared>)>,
}

impl Drop for ExitGuard {
    fn drop(&mut self) {
        for (id, weak) in self.pools.drain(..) {
            if let Some(shared) = weak.upgrade() {
                // HOT has no destructor, so it is still readable here.
                let _ = HOT.try_with(|h| {
                    if let Ok(mut h) = h.try_borrow_mut() {
                        if let Some(e) = h.entries.iter_mut().find(|e| e.pool_id == id) {
                            flush(&shared, e, 0);
                            shared.release_stat_slot(e.stat_slot);
                            *e = Entry::EMPTY;
                        }
                    }
                });
            }
        }
    }
}

#[inline]
fn find(h: &mut Hot, id: u64) -> Option<&mut Entry> {
    h.entries.iter_mut().find(|e| e.pool_id == id)
}

/// Returns all but `keep` cached chunks of `e` to the shared list.
fn flush(shared: &Shared, e: &mut Entry, keep: u32) {
    if e.len > keep {
        shared.return_to_shared(&e.slots[keep as usize..e.len as usize]);
        e.len = keep;
        shared.publish_cached(e.stat_slot, keep as usize);
    }
}

/// Claims an entry for `shared` (slow path). `None` when the thread already caches for
/// [`POOLS_PER_THREAD`] live pools or the pool has no statistics slot left.
#[cold]
fn claim<'h>(h: &'h mut Hot, shared: &Arc<Shared>) -> Option<&'h mut Entry> {
    // Reuse entries of pools that no longer exist.
    let registered = EXIT
        .try_with(|x| {
            let mut x = x.borrow_mut();
            x.pools.retain(|(id, w)| {
                let alive = w.strong_count() > 0;
                if !alive {
                    if let Some(e) = h.entries.iter_mut().find(|e| e.pool_id == *id) {
                        *e = Entry::EMPTY;
                    }
                }
                alive
            });
            let i = h.entries.iter().position(|e| e.pool_id == 0)?;
            let slot = shared.claim_stat_slot()?;
            x.pools.push((shared.id, Arc::downgrade(shared)));
            Some((i, slot))
        })
        .ok()
        .flatten();
    let (i, slot) = registered?;
    h.entries[i] = Entry {
        pool_id: shared.id,
        stat_slot: slot,
        len: 0,
        slots: [0; MAX_CACHE],
    };
    Some(&mut h.entries[i])
}

/// Takes a chunk index for `shared` from this thread's cache, refilling it from the shared
/// list when empty. `None` when neither has one.
#[inline]
pub(crate) fn take(shared: &Arc<Shared>) -> Option<u32> {
    if shared.cache_capacity == 0 {
        return shared.take_shared();
    }
    HOT.try_with(|h| {
        let Ok(mut h) = h.try_borrow_mut() else {
            return shared.take_shared();
        };
        let e = match find(&mut h, shared.id) {
            Some(e) => e,
            None => match claim(&mut h, shared) {
                Some(e) => e,
                None => return shared.take_shared(),
            },
        };
        if e.len > 0 {
            e.len -= 1;
            shared.publish_cached(e.stat_slot, e.len as usize);
            return Some(e.slots[e.len as usize]);
        }
        refill(shared, e)
    })
    .unwrap_or_else(|_| shared.take_shared())
}

#[cold]
fn refill(shared: &Shared, e: &mut Entry) -> Option<u32> {
    let want = (shared.cache_capacity / 2).max(1);
    let first = shared.take_shared()?;
    while (e.len as usize) < want - 1 {
        match shared.free.pop() {
            Some(i) => {
                e.slots[e.len as usize] = i;
                e.len += 1;
            }
            None => break,
        }
    }
    shared.note_taken();
    shared.publish_cached(e.stat_slot, e.len as usize);
    Some(first)
}

/// Gives a chunk index back: to this thread's cache, or to the shared list when another
/// thread is waiting for a chunk (then the whole cache goes too) or there is no cache.
#[inline]
pub(crate) fn give(shared: &Arc<Shared>, idx: u32) {
    if shared.cache_capacity == 0 {
        return shared.return_to_shared(&[idx]);
    }
    let waiters = shared.has_waiters();
    let cached = HOT
        .try_with(|h| {
            let Ok(mut h) = h.try_borrow_mut() else {
                return false;
            };
            let Some(e) = find(&mut h, shared.id) else {
                return false;
            };
            if waiters {
                flush(shared, e, 0);
                return false;
            }
            if e.len as usize == shared.cache_capacity {
                flush(shared, e, (shared.cache_capacity / 2) as u32);
            }
            e.slots[e.len as usize] = idx;
            e.len += 1;
            shared.publish_cached(e.stat_slot, e.len as usize);
            true
        })
        .unwrap_or(false);
    if !cached {
        shared.return_to_shared(&[idx]);
    }
}

/// Returns this thread's cached chunks of `shared` to the shared list.
pub(crate) fn release(shared: &Shared) {
    let _ = HOT.try_with(|h| {
        if let Ok(mut h) = h.try_borrow_mut() {
            if let Some(e) = find(&mut h, shared.id) {
                flush(shared, e, 0);
            }
        }
    });
}
