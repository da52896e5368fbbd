//! Where a device request's input comes from ([`DmaPolicy`]): the caller's buffer as it is
//! (inside a chunk of the session's pool — zero copy — or anywhere with `Direct`), or a copy
//! in a pinned staging chunk (`Bounce`). Outputs are always the engine's own buffers (see
//! `dma::sync` for why); a one-shot request's output is a pinned staging chunk too unless
//! the policy is `Direct` ([`out_buf`]).
//!
//! The staging chunks come from the session's pool when its chunks are large enough, else
//! from one process-wide pool of [`STAGING_CHUNKS`] chunks of 8 MiB (hugetlb when available,
//! pre-faulted, pinned as far as the machine allows), created on first use. When every chunk
//! is taken, the copy goes to a heap buffer (still counted as bounced).

use super::dma::DmaOut;
use crate::backend::{DmaPolicy, DmaSetup, Placement};
use crate::error::{Error, Result};
use std::sync::OnceLock;
use uadk_pool::{OwnedChunk, PageKind, Pool, PoolBuilder};

use super::sqe::MAX_SIZE;

/// Chunks of the process-wide staging pool.
pub const STAGING_CHUNKS: u32 = 4;

static STAGING: OnceLock<Option<Pool>> = OnceLock::new();

fn staging_pool() -> Option<&'static Pool> {
    STAGING
        .get_or_init(|| {
            PoolBuilder::new(MAX_SIZE)
                .chunks(STAGING_CHUNKS)
                .pages(PageKind::Auto)
                .build()
                .map_err(|e| log::warn!("uadk-zip: no staging pool ({e}); bouncing through the heap"))
                .ok()
        })
        .as_ref()
}

/// A request's input, placed.
pub(crate) enum Staged<'a> {
    /// The caller's bytes.
    Borrowed(&'a [u8]),
    /// A copy in a pool chunk (first `usize` bytes).
    Chunk(OwnedChunk, usize),
    /// A copy on the heap (no chunk was free).
    Heap(Vec<u8>),
}

impl Staged<'_> {
    /// The bytes the device reads.
    pub(crate) fn bytes(&self) -> &[u8] {
        match self {
            Staged::Borrowed(b) => b,
            Staged::Chunk(c, n) => &c[..*n],
            Staged::Heap(v) => v,
        }
    }
}

/// Places `src` for a device request under `dma`; `own` marks the engine's own staging
/// buffer (already a copy: sent as it is, counted as bounced).
pub(crate) fn stage<'a>(dma: &DmaSetup, src: &'a [u8], own: bool) -> Result<Staged<'a>> {
    if src.is_empty() {
        return Ok(Staged::Borrowed(src));
    }
    let count = |how| {
        if let Some(c) = &dma.counters {
            c.dma(how, src.len());
        }
    };
    if own {
        count(Placement::Bounced);
        return Ok(Staged::Borrowed(src));
    }
    if dma
        .pool
        .as_ref()
        .is_some_and(|p| p.contains(src.as_ptr(), src.len()))
    {
        count(Placement::ZeroCopy);
        return Ok(Staged::Borrowed(src));
    }
    match dma.policy {
        DmaPolicy::Direct => {
            count(Placement::Direct);
            Ok(Staged::Borrowed(src))
        }
        DmaPolicy::ZeroCopyOnly => Err(Error::Device(format!(
            "DMA policy zero-copy-only: a {}-byte input outside the session's pool cannot go to the device (allocate it from Config::pool, or use DmaPolicy::Bounce)",
            src.len()
        ))),
        DmaPolicy::Bounce => {
            count(Placement::Bounced);
            let from_session = dma
                .pool
                .as_ref()
                .filter(|p| p.chunk_size() >= src.len())
                .and_then(|p| p.try_alloc_owned());
            let chunk = from_session.or_else(|| {
                staging_pool()
                    .filter(|p| p.chunk_size() >= src.len())
                    .and_then(|p| p.try_alloc_owned())
            });
            Ok(match chunk {
                Some(mut c) => {
                    c[..src.len()].copy_from_slice(src);
                    Staged::Chunk(c, src.len())
                }
                None => Staged::Heap(src.to_vec()),
            })
        }
    }
}

/// The output buffer of one request.
pub(crate) enum OutBuf {
    /// Heap memory.
    Heap(Vec<u8>),
    /// A pinned pool chunk.
    Chunk(OwnedChunk),
    /// Abandoned after a timeout (leaked).
    Gone,
}

impl DmaOut for OutBuf {
    fn bytes_mut(&mut self) -> &mut [u8] {
        match self {
            OutBuf::Heap(v) => v,
            OutBuf::Chunk(c) => c,
            OutBuf::Gone => &mut [],
        }
    }
    fn abandon(&mut self) {
        std::mem::forget(std::mem::replace(self, OutBuf::Gone));
    }
}

/// An output buffer of at least `cap` bytes: a pinned chunk (the session pool's, else the
/// staging pool's) unless the policy is `Direct` or none is free, else heap memory.
pub(crate) fn out_buf(dma: &DmaSetup, cap: usize) -> OutBuf {
    if dma.policy != DmaPolicy::Direct {
        let chunk = dma
            .pool
            .as_ref()
            .filter(|p| p.chunk_size() >= cap)
            .and_then(|p| p.try_alloc_owned())
            .or_else(|| {
                staging_pool()
                    .filter(|p| p.chunk_size() >= cap)
                    .and_then(|p| p.try_alloc_owned())
            });
        if let Some(c) = chunk {
            return OutBuf::Chunk(c);
        }
    }
    OutBuf::Heap(vec![0u8; cap])
}
