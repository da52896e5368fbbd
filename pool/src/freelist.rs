//! The shared free list: a lock-free LIFO stack of chunk indices (a Treiber stack).
//!
//! Nodes are indices into a fixed array of `next` links, never pointers, so a node that is
//! popped and pushed again by other threads while one thread still reads its link is never
//! freed memory. The ABA problem (head changes A→B→A between a thread's load and its CAS) is
//! closed by a 32-bit tag in the head word that every successful update increments.
//!
//! Head word: `tag << 32 | (index + 1)`, where the low half 0 means "empty".

#[cfg(loom)]
use loom::sync::atomic::{AtomicU32, AtomicU64, AtomicUsize, Ordering};
#[cfg(not(loom))]
use std::sync::atomic::{AtomicU32, AtomicU64, AtomicUsize, Ordering};

const EMPTY: u32 = 0;

/// A lock-free stack of the indices `0..capacity`.
pub(crate) struct FreeList {
    head: crossbeam_utils::CachePadded<AtomicU64>,
    len: AtomicUsize,
    next: Box<[AtomicU32]>,
}

#[inline]
fn pack(tag: u32, link: u32) -> u64 {
    (u64::from(tag) << 32) | u64::from(link)
}

#[inline]
fn unpack(word: u64) -> (u32, u32) {
    ((word >> 32) as u32, word as u32)
}

impl FreeList {
    /// A stack holding every index `0..capacity`, lowest on top.
    pub(crate) fn full(capacity: u32) -> Self {
        let next: Box<[AtomicU32]> = (0..capacity)
            .map(|i| AtomicU32::new(if i + 1 < capacity { i + 2 } else { EMPTY }))
            .collect();
        let top = if capacity > 0 { 1 } else { EMPTY };
        FreeList {
            head: crossbeam_utils::CachePadded::new(AtomicU64::new(pack(0, top))),
            len: AtomicUsize::new(capacity as usize),
            next,
        }
    }

    /// Indices currently on the stack (a snapshot under concurrency).
    pub(crate) fn len(&self) -> usize {
        self.len.load(Ordering::Relaxed)
    }

    /// Pops one index.
    pub(crate) fn pop(&self) -> Option<u32> {
        let mut cur = self.head.load(Ordering::Acquire);
        loop {
            let (tag, link) = unpack(cur);
            if link == EMPTY {
                return None;
            }
            let idx = link - 1;
            // May read a link another thread is rewriting; then the CAS below fails because
            // the tag moved on, and the value read is discarded.
            let after = self.next[idx as usize].load(Ordering::Relaxed);
            match self.head.compare_exchange_weak(
                cur,
                pack(tag.wrapping_add(1), after),
                Ordering::Acquire,
                Ordering::Acquire,
            ) {
                Ok(_) => {
                    self.len.fetch_sub(1, Ordering::Relaxed);
                    return Some(idx);
                }
                Err(now) => cur = now,
            }
        }
    }

    /// Pushes one index. The caller must own it (it was popped and not pushed since).
    #[cfg(test)]
    pub(crate) fn push(&self, idx: u32) {
        self.push_chain(idx, idx, 1);
    }

    /// Pushes several indices with one successful CAS. The caller owns all of them.
    pub(crate) fn push_many(&self, idxs: &[u32]) {
        let (Some(&first), Some(&last)) = (idxs.first(), idxs.last()) else {
            return;
        };
        for w in idxs.windows(2) {
            self.next[w[0] as usize].store(w[1] + 1, Ordering::Relaxed);
        }
        self.push_chain(first, last, idxs.len());
    }

    /// Links `last` to the current top and swings the head to `first`.
    fn push_chain(&self, first: u32, last: u32, n: usize) {
        let mut cur = self.head.load(Ordering::Relaxed);
        loop {
            let (tag, link) = unpack(cur);
            self.next[last as usize].store(link, Ordering::Relaxed);
            match self.head.compare_exchange_weak(
                cur,
                pack(tag.wrapping_add(1), first + 1),
                Ordering::Release,
                Ordering::Relaxed,
            ) {
                Ok(_) => {
                    self.len.fetch_add(n, Ordering::Relaxed);
                    return;
                }
                Err(now) => cur = now,
            }
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use std::collections::HashSet;
    use std::sync::Arc;

    #[test]
    fn pops_every_index_once_then_empty() {
        let f = FreeList::full(5);
        let got: Vec<u32> = std::iter::from_fn(|| f.pop()).collect();
        assert_eq!(got, vec![0, 1, 2, 3, 4]);
        assert_eq!(f.len(), 0);
        assert_eq!(f.pop(), None);
    }

    #[test]
    fn push_many_keeps_order_and_count() {
        let f = FreeList::full(6);
        let all: Vec<u32> = std::iter::from_fn(|| f.pop()).collect();
        f.push_many(&all[2..5]);
        f.push(0);
        assert_eq!(f.len(), 4);
        let got: Vec<u32> = std::iter::from_fn(|| f.pop()).collect();
        assert_eq!(got, vec![0, 2, 3, 4]);
    }

    #[test]
    fn empty_list_is_empty() {
        let f = FreeList::full(0);
        assert_eq!(f.pop(), None);
        f.push_many(&[]);
        assert_eq!(f.len(), 0);
    }

    #[test]
    fn concurrent_pop_push_never_duplicates() {
        let n = 64u32;
        let f = Arc::new(FreeList::full(n));
        let threads: Vec<_> = (0..16)
            .map(|t| {
                let f = f.clone();
                std::thread::spawn(move || {
                    let mut held = Vec::new();
                    for i in 0..20_000u32 {
                        if (i + t) % 3 == 0 || held.is_empty() {
                            if let Some(x) = f.pop() {
                                held.push(x);
                            }
                        } else if held.len() > 2 && i % 7 == 0 {
                            let k = held.len() / 2;
                            let tail: Vec<u32> = held.drain(k..).collect();
                            f.push_many(&tail);
                        } else if let Some(x) = held.pop() {
                            f.push(x);
                        }
                    }
                    f.push_many(&held);
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        let got: Vec<u32> = std::iter::from_fn(|| f.pop()).collect();
        let set: HashSet<u32> = got.iter().copied().collect();
        assert_eq!(got.len(), n as usize, "lost or duplicated indices");
        assert_eq!(set.len(), n as usize);
    }
}

/// Loom model: `RUSTFLAGS="--cfg loom" cargo test -p uadk-pool --release --lib loom`.
#[cfg(all(test, loom))]
mod loom_tests {
    use super::*;
    use loom::sync::Arc;

    #[test]
    fn loom_two_threads_pop_push_keep_set() {
        loom::model(|| {
            let f = Arc::new(FreeList::full(2));
            let a = {
                let f = f.clone();
                loom::thread::spawn(move || {
                    if let Some(x) = f.pop() {
                        f.push(x);
                    }
                })
            };
            let b = {
                let f = f.clone();
                loom::thread::spawn(move || {
                    let x = f.pop();
                    let y = f.pop();
                    let mut v: Vec<u32> = x.into_iter().chain(y).collect();
                    v.sort_unstable();
                    f.push_many(&v);
                })
            };
            a.join().unwrap();
            b.join().unwrap();
            let mut got = vec![];
            while let Some(x) = f.pop() {
                got.push(x);
            }
            got.sort_unstable();
            assert_eq!(got, vec![0, 1]);
        });
    }

    #[test]
    fn loom_aba_pop_pop_push_against_pop() {
        loom::model(|| {
            let f = Arc::new(FreeList::full(3));
            let a = {
                let f = f.clone();
                loom::thread::spawn(move || {
                    // A thread that may stall between reading the head and its CAS.
                    f.pop()
                })
            };
            let b = {
                let f = f.clone();
                loom::thread::spawn(move || {
                    let x = f.pop();
                    let y = f.pop();
                    if let Some(x) = x {
                        f.push(x);
                    }
                    y
                })
            };
            let ra = a.join().unwrap();
            let rb = b.join().unwrap();
            let mut got: Vec<u32> = ra.into_iter().chain(rb).collect();
            while let Some(x) = f.pop() {
                got.push(x);
            }
            got.sort_unstable();
            assert_eq!(got, vec![0, 1, 2]);
        });
    }
}
