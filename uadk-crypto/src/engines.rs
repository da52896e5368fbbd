//! A small pool of keyed engines, so sessions can serve `&self` requests from many threads
//! while each engine is used by one request at a time.

use parking_lot::Mutex;

use crate::error::Result;

/// One "hot" engine used in place under a lock that is only ever tried (so requests from
/// one thread cost one lock/unlock pair and no moves), plus up to `MAX_IDLE` idle engines
/// for concurrent requests; more are created on demand and dropped when not needed.
pub(crate) struct EnginePool<T> {
    hot: Mutex<Option<T>>,
    idle: Mutex<Vec<T>>,
}

const MAX_IDLE: usize = 64;

impl<T> EnginePool<T> {
    pub(crate) fn new() -> EnginePool<T> {
        EnginePool {
            hot: Mutex::new(None),
            idle: Mutex::new(Vec::new()),
        }
    }

    /// Runs `f` on an engine: the hot one when no other request holds it, else a pooled one.
    pub(crate) fn with<R>(
        &self,
        make: impl FnOnce() -> Result<T>,
        f: impl FnOnce(&mut T) -> Result<R>,
    ) -> Result<R> {
        if let Some(mut hot) = self.hot.try_lock() {
            let e = match hot.take() {
                Some(e) => hot.insert(e),
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
