//! The provider's path counters (which provider path ran: [`Counters`]), counted per
//! thread without locked instructions.
//!
//! Every request counts one event. A shared `AtomicU64::fetch_add` is a locked
//! read-modify-write, which waits for the CPU's store buffer to drain: measured at 0.6% of a
//! 16 KiB AES-GCM message and about 3% of a 64-byte digest or XTS request. Instead each
//! thread claims one of [`SLOTS`] cache-line blocks on first use and counts there with a
//! plain load and store (only its own thread writes it; readers load it atomically). A
//! thread's counts are folded into the shared totals when it exits, and its block is
//! released; threads beyond [`SLOTS`] count on the shared totals directly.
//!
//! A reader ([`Counter::total`]) sums the shared total and every block, so a total is exact
//! once the counting threads are quiet; while a thread exits, its counts may be missing
//! from a concurrent read for the moment between the two steps of the fold.
//!
//! ```
//! use uadk_provider::counters::{count, COUNTERS};
//! let before = COUNTERS.ccm.total();
//! count(&COUNTERS.ccm);
//! assert!(COUNTERS.ccm.total() > before);
//! ```

use std::cell::Cell;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};

/// Number of counters.
const N: usize = 8;
/// Threads that get a private block; more count on the shared totals.
pub const SLOTS: usize = 256;

/// One thread's counts, alone on its cache line.
#[repr(align(64))]
struct Block([AtomicU64; N]);

static BLOCKS: [Block; SLOTS] = [const { Block([const { AtomicU64::new(0) }; N]) }; SLOTS];
static CLAIMED: [AtomicBool; SLOTS] = [const { AtomicBool::new(false) }; SLOTS];
/// Counts of exited threads and of threads without a block.
static SHARED: [AtomicU64; N] = [const { AtomicU64::new(0) }; N];

/// One counter of [`COUNTERS`].
pub struct Counter(usize);

/// What ran where, beyond uadk-crypto's device/software counters: which provider path.
pub struct Counters {
    /// GCM messages sealed/opened in one call through uadk-crypto (TLS 1.3, `speed`).
    pub gcm_oneshot: Counter,
    /// GCM messages on the streaming path (multi-update, odd IV or tag lengths).
    pub gcm_stream: Counter,
    /// TLS 1.2 GCM records (`EVP_Cipher` with `tlsaad`), through uadk-crypto.
    pub tls12_records: Counter,
    /// CCM messages through uadk-crypto.
    pub ccm: Counter,
    /// Block-cipher requests (ECB/CBC/CTR/XTS) through uadk-crypto.
    pub cipher_requests: Counter,
    /// Digests finished in one uadk-crypto request.
    pub digest_oneshot: Counter,
    /// Digests that streamed (long or duplicated contexts).
    pub digest_stream: Counter,
    /// Contexts handed to OpenSSL's default implementation (TLS CBC records, CCM in TLS
    /// 1.2 record mode).
    pub delegated: Counter,
}

/// The provider's counters.
pub static COUNTERS: Counters = Counters {
    gcm_oneshot: Counter(0),
    gcm_stream: Counter(1),
    tls12_records: Counter(2),
    ccm: Counter(3),
    cipher_requests: Counter(4),
    digest_oneshot: Counter(5),
    digest_stream: Counter(6),
    delegated: Counter(7),
};

impl Counter {
    /// The count over all threads of this process.
    pub fn total(&self) -> u64 {
        let own: u64 = BLOCKS
            .iter()
            .map(|b| b.0[self.0].load(Relaxed))
            .fold(0, u64::wrapping_add);
        SHARED[self.0].load(Relaxed).wrapping_add(own)
    }
}

/// This thread's block (index + 1; 0 = not claimed yet; `usize::MAX` = none was free).
struct Mine(Cell<usize>);

const NONE_FREE: usize = usize::MAX;

impl Mine {
    fn block(&self) -> Option<&'static Block> {
        match self.0.get() {
            NONE_FREE => None,
            0 => {
                let i = CLAIMED.iter().position(|c| !c.swap(true, Relaxed));
                self.0.set(i.map_or(NONE_FREE, |i| i + 1));
                i.map(|i| &BLOCKS[i])
            }
            i => Some(&BLOCKS[i - 1]),
        }
    }
}

impl Drop for Mine {
    fn drop(&mut self) {
        let i = self.0.get();
        if i == 0 || i == NONE_FREE {
            return;
        }
        // Fold this thread's counts into the shared totals and free the block.
        for (b, s) in BLOCKS[i - 1].0.iter().zip(&SHARED) {
            s.fetch_add(b.swap(0, Relaxed), Relaxed);
        }
        CLAIMED[i - 1].store(false, Relaxed);
    }
}

thread_local! {
    static MINE: Mine = const { Mine(Cell::new(0)) };
}

/// Adds `delta` (wrapping) to counter `c` of this thread; returns the thread's new value
/// (`None` when it counted on the shared total).
#[inline]
fn add(c: &Counter, delta: u64) -> Option<u64> {
    let mine = MINE.try_with(|m| {
        m.block().map(|b| {
            let a = &b.0[c.0];
            // Only this thread writes its block: a plain load and store, no lock prefix.
            let v = a.load(Relaxed).wrapping_add(delta);
            a.store(v, Relaxed);
            v
        })
    });
    match mine {
        Ok(Some(v)) => Some(v),
        // No free block, or the thread is exiting (its block already folded).
        _ => {
            SHARED[c.0].fetch_add(delta, Relaxed);
            None
        }
    }
}

/// Counts one event on `counter`; every 1024 events of a counter in a thread, the stats
/// file (if configured) is written when a second has passed since the last write.
#[inline]
pub fn count(counter: &Counter) {
    if add(counter, 1).is_some_and(|v| v & 1023 == 0) {
        crate::runtime::paced_write();
    }
}

/// Takes back one [`count`] of a request that then failed (paths count before the work:
/// see [`counted`]).
pub fn uncount(counter: &Counter) {
    add(counter, u64::MAX);
}

/// Runs one request `f`, counted on `counter` before it runs and taken back if it fails.
/// Counting before keeps the counter's stores ahead of the request's output.
#[inline]
pub fn counted<T, E>(counter: &Counter, f: impl FnOnce() -> Result<T, E>) -> Result<T, E> {
    count(counter);
    f().inspect_err(|_| uncount(counter))
}

/// Zeroes every counter: in a forked child, which counts its own work. Atomic stores only
/// (safe right after `fork`); blocks claimed by the parent's other threads stay claimed.
pub(crate) fn reset_in_child() {
    for b in &BLOCKS {
        for v in &b.0 {
            v.store(0, Relaxed);
        }
    }
    for v in &SHARED {
        v.store(0, Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn threads_count_privately_and_fold_on_exit() {
        let c = &COUNTERS.delegated;
        let before = c.total();
        let threads: Vec<_> = (0..8)
            .map(|_| {
                std::thread::spawn(|| {
                    for _ in 0..1000 {
                        count(&COUNTERS.delegated);
                    }
                    uncount(&COUNTERS.delegated);
                    assert!(counted(&COUNTERS.delegated, || Err::<(), ()>(())).is_err());
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        // Nothing else in this test binary counts `delegated`; the exited threads' counts
        // were folded into the shared total when they ended.
        assert_eq!(c.total().wrapping_sub(before), 8 * 999);
        assert!(SHARED[c.0].load(Relaxed) >= 8 * 999);
    }
}
