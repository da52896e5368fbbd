//! A small pool of keyed engines, so sessions can serve `&self` requests from many threads
//! while each engine is used by one request at a time.

use std::cell::UnsafeCell;
use std::sync::atomic::{AtomicBool, Ordering};

use parking_lot::Mutex;

use crate::error::Result;

/// One "hot" engine used in place by whichever request claims it (so requests from one
/// thread cost one atomic swap and one plain store, and no moves), plus up to `MAX_IDLE`
/// idle engines for concurrent requests; more are created on demand and dropped when not
/// needed.
///
/// Why not a `Mutex` around the hot engine: unlocking a mutex is a locked read-modify-write,
/// and one right after a request has written its output waits for the CPU's store buffer to
/// drain; on an AES-GCM kernel at 18 GB/s that cost 3-4% at 16 KiB. Releasing the claim is a
/// plain release store, which does not wait.
pub(crate) struct EnginePool<T> {
    claimed: AtomicBool,
    hot: UnsafeCell<Option<T>>,
    idle: Mutex<Vec<T>>,
}

// SAFETY: the hot engine is reached only through `with`, by the one caller that turned
// `claimed` from false to true (Acquire) until it stores false again (Release), so no two
// threads ever touch it at once, and every access happens-after the previous one; the
// engine itself moves between threads, hence `T: Send`.
unsafe impl<T: Send> Sync for EnginePool<T> {}

const MAX_IDLE: usize = 64;

/// Releases the claim on the hot engine when dropped (also on unwinding).
struct Claim<'a>(&'a AtomicBool);

impl Drop for Claim<'_> {
    fn drop(&mut self) {
        self.0.store(false, Ordering::Release);
    }
}

impl<T> EnginePool<T> {
    pub(crate) fn new() -> EnginePool<T> {
        EnginePool {
            claimed: AtomicBool::new(false),
            hot: UnsafeCell::new(None),
            idle: Mutex::new(Vec::new()),
        }
    }

    /// Runs `f` on an engine: the hot one when no other request holds it, else a pooled one.
    pub(crate) fn with<R>(
        &self,
        make: impl FnOnce() -> Result<T>,
        f: impl FnOnce(&mut T) -> Result<R>,
    ) -> Result<R> {
        if !self.claimed.swap(true, Ordering::Acquire) {
            let _claim = Claim(&self.claimed);
            // SAFETY: this caller turned `claimed` from false to true, so it has the only
            // access to `hot` until `_claim` drops (see the `Sync` impl).
            let hot = unsafe { &mut *self.hot.get() };
            let e = match hot {
                Some(e) => e,
                None => hot.insert(self.take(make)?),
            };
            return f(e);
        }
        let mut e = self.take(make)?;
        let r = f(&mut e);
        self.put(e);
        r
    }

    /// An idle engine, or a new one from `make`.
    pub(crate) fn take(&self, make: impl FnOnce() -> Result<T>) -> Result<T> {
        let idle = self.idle.lock().pop();
        match idle {
            Some(e) => Ok(e),
            None => make(),
        }
    }

    /// Returns an engine for reuse.
    pub(crate) fn put(&self, engine: T) {
        let mut idle = self.idle.lock();
        if idle.len() < MAX_IDLE {
            idle.push(engine);
        }
    }
}
