//! Chunk handles: RAII ownership of one chunk, returned to the pool on drop.

use crate::pool::Shared;
use crate::thread_cache;
use std::ops::{Deref, DerefMut};
use std::sync::Arc;

/// Where a pointer range lies in a pool ([`Pool::locate`](crate::Pool::locate)).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChunkLocation {
    /// Chunk index.
    pub index: u32,
    /// Byte offset inside the chunk.
    pub offset: usize,
}

/// One chunk, borrowed from its pool; derefs to `[u8]` of the chunk size and goes back to
/// the pool when dropped, on whatever thread that happens.
///
/// ```
/// # let pool = uadk_pool::PoolBuilder::new(4096).chunks(1).build()?;
/// let mut c = pool.try_alloc().unwrap();
/// assert_eq!(c.len(), 4096);
/// assert_eq!(c.as_ptr() as usize % 64, 0);
/// c.fill(7);
/// std::thread::scope(|s| { s.spawn(move || drop(c)); });
/// assert!(pool.try_alloc().is_some());
/// # Ok::<(), uadk_pool::PoolError>(())
/// ```
pub struct Chunk<'a> {
    shared: &'a Arc<Shared>,
    idx: u32,
}

impl<'a> Chunk<'a> {
    #[inline]
    pub(crate) fn new(shared: &'a Arc<Shared>, idx: u32) -> Self {
        Chunk { shared, idx }
    }

    /// The chunk's index in its pool.
    pub fn index(&self) -> u32 {
        self.idx
    }

    /// Start of the chunk.
    pub fn as_ptr(&self) -> *const u8 {
        self.shared.chunk_ptr(self.idx)
    }

    /// Start of the chunk, writable.
    pub fn as_mut_ptr(&mut self) -> *mut u8 {
        self.shared.chunk_ptr(self.idx)
    }
}

impl Deref for Chunk<'_> {
    type Target = [u8];
    #[inline]
    fn deref(&self) -> &[u8] {
        // SAFETY: the chunk lies inside the pool's mapping, which lives as long as `shared`;
        // its `chunk_size` bytes were faulted in (so initialised) and belong to this handle
        // alone until it is dropped: the free list hands each index out once.
        unsafe { std::slice::from_raw_parts(self.shared.chunk_ptr(self.idx), self.shared.chunk_size()) }
    }
}

impl DerefMut for Chunk<'_> {
    #[inline]
    fn deref_mut(&mut self) -> &mut [u8] {
        // SAFETY: as in `deref`; `&mut self` makes the access exclusive.
        unsafe { std::slice::from_raw_parts_mut(self.shared.chunk_ptr(self.idx), self.shared.chunk_size()) }
    }
}

impl Drop for Chunk<'_> {
    #[inline]
    fn drop(&mut self) {
        thread_cache::give(self.shared, self.idx);
    }
}

impl std::fmt::Debug for Chunk<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Chunk")
            .field("index", &self.idx)
            .field("ptr", &self.as_ptr())
            .field("len", &self.shared.chunk_size())
            .finish()
    }
}

/// A chunk that keeps its pool alive (from [`Pool::try_alloc_owned`](crate::Pool::try_alloc_owned)):
/// `'static`, so it can be sent anywhere.
pub struct OwnedChunk {
    shared: Arc<Shared>,
    idx: u32,
}

impl OwnedChunk {
    pub(crate) fn from_chunk(c: Chunk<'_>) -> Self {
        let c = std::mem::ManuallyDrop::new(c);
        OwnedChunk {
            shared: Arc::clone(c.shared),
            idx: c.idx,
        }
    }

    /// The chunk's index in its pool.
    pub fn index(&self) -> u32 {
        self.idx
    }

    /// Start of the chunk.
    pub fn as_ptr(&self) -> *const u8 {
        self.shared.chunk_ptr(self.idx)
    }
}

impl Deref for OwnedChunk {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        // SAFETY: as for `Chunk`; the `Arc` keeps the mapping alive.
        unsafe { std::slice::from_raw_parts(self.shared.chunk_ptr(self.idx), self.shared.chunk_size()) }
    }
}

impl DerefMut for OwnedChunk {
    fn deref_mut(&mut self) -> &mut [u8] {
        // SAFETY: as for `Chunk`; `&mut self` makes the access exclusive.
        unsafe { std::slice::from_raw_parts_mut(self.shared.chunk_ptr(self.idx), self.shared.chunk_size()) }
    }
}

impl Drop for OwnedChunk {
    fn drop(&mut self) {
        thread_cache::give(&self.shared, self.idx);
    }
}

impl std::fmt::Debug for OwnedChunk {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OwnedChunk").field("index", &self.idx).finish()
    }
}
