//! A small pool of keyed engines, so sessions can serve `&self` requests from many threads
//! while each engine is used by one request at a time.

use parking_lot::Mutex;

use crate::error::Result;

/// Up to `MAX_IDLE` idle engines; more are created on demand and dropped when not needed.
pub(crate) struct EnginePool<T> {
    idle: Mutex<Vec<T>>,
}

const MAX_IDLE: usize = 64;

impl<T> EnginePool<T> {
    pub(crate) fn new() -> EnginePool<T> {
        EnginePool {
            idle: Mutex::new(Vec::new()),
        }
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
