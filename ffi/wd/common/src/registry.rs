//! Handles for objects owned by Rust. A handle is a tagged counter, never a pointer: a
//! freed, foreign or made-up handle is found missing (the call returns UADK's error)
//! instead of being dereferenced.
//!
//! ```
//! use std::sync::Arc;
//! use uadk_wd_common::registry::Registry;
//! let r: Registry<u32> = Registry::new(0x51);
//! let h = r.insert(Arc::new(7));
//! assert_eq!(*r.get(h).unwrap(), 7);
//! assert!(r.remove(h).is_some());
//! assert!(r.get(h).is_none());
//! assert!(r.get(12345).is_none());
//! ```

use crate::abi::HandleT;
use parking_lot::RwLock;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// Hashes a handle by multiplication (handles are already unique counters).
#[derive(Default)]
pub struct IdHasher(u64);

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0 << 8 | *b as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }
    fn write_u64(&mut self, v: u64) {
        self.0 = v.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

type Map<T> = HashMap<u64, Arc<T>, BuildHasherDefault<IdHasher>>;

/// A set of live objects addressed by handle.
pub struct Registry<T> {
    tag: u64,
    next: AtomicU64,
    map: RwLock<Map<T>>,
}

impl<T> Registry<T> {
    /// An empty registry whose handles carry `tag` (one byte) in bits 40..48.
    pub fn new(tag: u8) -> Self {
        Registry {
            tag: (tag as u64) << 40,
            next: AtomicU64::new(1),
            map: RwLock::new(Map::default()),
        }
    }

    /// Adds `v`; returns its handle (never 0, never a `WD_IS_ERR` value).
    pub fn insert(&self, v: Arc<T>) -> HandleT {
        let n = self.next.fetch_add(1, Ordering::Relaxed) & ((1 << 40) - 1);
        let h = self.tag | n;
        self.map.write().insert(h, v);
        h as HandleT
    }

    /// The object of `h`, if live.
    pub fn get(&self, h: HandleT) -> Option<Arc<T>> {
        self.map.read().get(&(h as u64)).cloned()
    }

    /// Removes and returns the object of `h`.
    pub fn remove(&self, h: HandleT) -> Option<Arc<T>> {
        self.map.write().remove(&(h as u64))
    }

    /// Live objects.
    pub fn len(&self) -> usize {
        self.map.read().len()
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Removes and returns every object.
    pub fn drain(&self) -> Vec<(HandleT, Arc<T>)> {
        self.map.write().drain().map(|(h, v)| (h as HandleT, v)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handles_are_distinct_tagged_and_not_errors() {
        let a: Registry<()> = Registry::new(1);
        let b: Registry<()> = Registry::new(2);
        let ha = a.insert(Arc::new(()));
        let hb = b.insert(Arc::new(()));
        assert_ne!(ha, hb);
        assert!(b.get(ha).is_none());
        assert!(ha != 0 && ha < usize::MAX - 1000);
        assert_eq!(a.drain().len(), 1);
        assert!(a.is_empty());
    }
}
