//! Pool configuration: the builder and the page kinds.

use crate::error::{PoolError, Result};
use crate::level::PinLevel;
use crate::pool::Pool;
use serde::Serialize;
use std::fmt;

/// Smallest chunk size.
pub const MIN_CHUNK_SIZE: usize = 4 << 10;
/// Largest chunk size.
pub const MAX_CHUNK_SIZE: usize = 64 << 20;
/// Smallest chunk alignment.
pub const MIN_ALIGN: usize = 64;

/// Which pages back the pool, best first.
///
/// ```
/// use uadk_pool::PageKind;
/// assert_eq!("huge2m".parse::<PageKind>().unwrap(), PageKind::Huge2M);
/// assert!("huge4m".parse::<PageKind>().is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum PageKind {
    /// The best available: 1 GiB hugetlb (when the region is large enough not to waste more
    /// than an eighth of it), then 2 MiB hugetlb, then THP, then normal pages.
    Auto,
    /// 1 GiB hugetlb pages.
    #[serde(rename = "huge1g")]
    Huge1G,
    /// 2 MiB hugetlb pages.
    #[serde(rename = "huge2m")]
    Huge2M,
    /// Transparent huge pages: 2 MiB-aligned anonymous memory with `MADV_HUGEPAGE`.
    Thp,
    /// Normal base pages.
    Normal,
}

impl PageKind {
    /// The kinds tried for this request, in order.
    pub(crate) fn chain(self, fallback: bool) -> Vec<PageKind> {
        const ALL: [PageKind; 4] = [
            PageKind::Huge1G,
            PageKind::Huge2M,
            PageKind::Thp,
            PageKind::Normal,
        ];
        match self {
            PageKind::Auto => ALL.to_vec(),
            k if fallback => ALL.iter().copied().skip_while(|x| *x != k).collect(),
            k => vec![k],
        }
    }
}

impl std::str::FromStr for PageKind {
    type Err = PoolError;
    fn from_str(s: &str) -> Result<Self> {
        Ok(match s {
            "auto" => PageKind::Auto,
            "huge1g" => PageKind::Huge1G,
            "huge2m" => PageKind::Huge2M,
            "thp" => PageKind::Thp,
            "normal" => PageKind::Normal,
            _ => {
                return Err(PoolError::InvalidConfig(format!(
                    "unknown page kind {s:?}: use auto, huge1g, huge2m, thp or normal"
                )))
            }
        })
    }
}

impl fmt::Display for PageKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            PageKind::Auto => "auto",
            PageKind::Huge1G => "huge1g",
            PageKind::Huge2M => "huge2m",
            PageKind::Thp => "thp",
            PageKind::Normal => "normal",
        })
    }
}

/// Builds a [`Pool`].
///
/// ```
/// use uadk_pool::{PageKind, PinLevel, PoolBuilder};
/// let pool = PoolBuilder::new(64 << 10)
///     .chunks(16)
///     .pages(PageKind::Auto)
///     .require_pin(PinLevel::Unpinned)
///     .build()?;
/// assert_eq!(pool.chunk_size(), 64 << 10);
/// # Ok::<(), uadk_pool::PoolError>(())
/// ```
#[derive(Debug, Clone)]
pub struct PoolBuilder {
    pub(crate) chunk_size: usize,
    pub(crate) chunks: u32,
    pub(crate) pages: PageKind,
    pub(crate) fallback: Option<bool>,
    pub(crate) node: Option<u32>,
    pub(crate) require: PinLevel,
    pub(crate) try_mempinfd: bool,
    pub(crate) try_pin_device: bool,
    pub(crate) try_mlock: bool,
    pub(crate) thread_cache: Option<usize>,
    pub(crate) align: usize,
}

impl PoolBuilder {
    /// A pool of chunks of `chunk_size` bytes (4 KiB ..= 64 MiB); 64 chunks, `Auto` pages,
    /// no NUMA binding, every pin strategy allowed, no minimum pin level.
    pub fn new(chunk_size: usize) -> Self {
        PoolBuilder {
            chunk_size,
            chunks: 64,
            pages: PageKind::Auto,
            fallback: None,
            node: None,
            require: PinLevel::Unpinned,
            try_mempinfd: true,
            try_pin_device: true,
            try_mlock: true,
            thread_cache: None,
            align: MIN_ALIGN,
        }
    }

    /// Number of chunks.
    pub fn chunks(mut self, n: u32) -> Self {
        self.chunks = n;
        self
    }

    /// Which pages back the pool. An explicit kind that is unavailable is an error unless
    /// [`fallback`](Self::fallback) is on.
    pub fn pages(mut self, kind: PageKind) -> Self {
        self.pages = kind;
        self
    }

    /// Whether an unavailable explicit page kind may fall back to weaker ones (default: off
    /// for explicit kinds; `Auto` always falls back).
    pub fn fallback(mut self, on: bool) -> Self {
        self.fallback = Some(on);
        self
    }

    /// Bind the memory to a NUMA node (`mbind(MPOL_BIND)` before the first touch).
    pub fn node(mut self, node: Option<u32>) -> Self {
        self.node = node;
        self
    }

    /// The minimum pin level; creation fails below it, naming what was missing.
    pub fn require_pin(mut self, level: PinLevel) -> Self {
        self.require = level;
        self
    }

    /// Allow the mempinfd strategy (used only when its syscall number is stated).
    pub fn mempinfd(mut self, on: bool) -> Self {
        self.try_mempinfd = on;
        self
    }

    /// Allow pin devices (`/dev/uacce_ctrl`, `/dev/mpin_user_pages`).
    pub fn pin_device(mut self, on: bool) -> Self {
        self.try_pin_device = on;
        self
    }

    /// Allow `mlock`.
    pub fn mlock(mut self, on: bool) -> Self {
        self.try_mlock = on;
        self
    }

    /// Chunks each thread may keep for itself (default: an eighth of the pool; at most 32;
    /// 0 disables the per-thread cache). Up to 128 threads and 4 pools per thread cache at
    /// once; beyond that, allocation goes to the shared lock-free list directly. Chunks in one thread's cache are free but are seen
    /// by other threads only when that thread returns them (cache overflow, thread exit,
    /// [`Pool::release_thread_cache`], or when another thread waits in
    /// [`Pool::alloc_timeout`], which makes frees go to the shared list). A thread's cache
    /// returns in its thread-local destructors, which run just after a scoped or joined
    /// thread counts as finished.
    pub fn thread_cache(mut self, n: usize) -> Self {
        self.thread_cache = Some(n);
        self
    }

    /// Chunk alignment: a power of two from 64 to 4096 (default 64). The chunk stride is the
    /// chunk size rounded up to it.
    pub fn align(mut self, align: usize) -> Self {
        self.align = align;
        self
    }

    /// Creates the pool: maps, binds, faults in and pins the memory, once.
    pub fn build(self) -> Result<Pool> {
        self.validate()?;
        Pool::create(self)
    }

    pub(crate) fn stride(&self) -> usize {
        self.chunk_size.div_ceil(self.align) * self.align
    }

    pub(crate) fn validate(&self) -> Result<()> {
        if !(MIN_CHUNK_SIZE..=MAX_CHUNK_SIZE).contains(&self.chunk_size) {
            return Err(PoolError::InvalidConfig(format!(
                "chunk size {} is outside 4 KiB ..= 64 MiB",
                self.chunk_size
            )));
        }
        if !self.align.is_power_of_two() || !(MIN_ALIGN..=4096).contains(&self.align) {
            return Err(PoolError::InvalidConfig(format!(
                "alignment {} must be a power of two from 64 to 4096",
                self.align
            )));
        }
        if self.chunks == 0 || self.chunks == u32::MAX {
            return Err(PoolError::InvalidConfig(format!(
                "chunk count {} must be between 1 and {}",
                self.chunks,
                u32::MAX - 1
            )));
        }
        if self
            .stride()
            .checked_mul(self.chunks as usize)
            .is_none_or(|b| b > (1 << 46))
        {
            return Err(PoolError::InvalidConfig(
                "pool size overflows (more than 64 TiB requested)".into(),
            ));
        }
        Ok(())
    }
}
