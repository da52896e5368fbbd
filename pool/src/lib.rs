//! # uadk-pool
//!
//! A buffer pool for accelerator I/O: fixed-size chunks carved out of one region that is
//! **mapped, bound to a NUMA node, faulted in and pinned once, at creation**, so that the
//! hot path never takes a page fault or a system call.
//!
//! ## Why
//! In SVA mode an accelerator reads and writes process memory by virtual address. An IO page
//! fault (the device touching a page that is absent or being migrated) costs far more than a
//! CPU page fault. A pool avoids them by preparing its memory up front.
//!
//! ## The model
//! 1. **Backing** ([`PageKind`], [`Backing`]): 1 GiB hugetlb, 2 MiB hugetlb, transparent huge
//!    pages, or normal pages, best first, as the configuration allows. Hugetlb is preferred
//!    because it is what the kernel community recommends instead of pinning ("allocate
//!    special pages"): it is never swapped and rarely migrated, and pinning it does not
//!    fragment movable memory.
//! 2. **NUMA**: `mbind(MPOL_BIND)` to the requested node before the first touch; placement
//!    is checked with `move_pages` afterwards and reported ([`Placement`]).
//! 3. **Pre-fault**: every page, with `MADV_POPULATE_WRITE` (errors, not SIGBUS).
//! 4. **Pinning** ([`Pinning`], [`PinLevel`]): mempinfd (only with a stated syscall number,
//!    never probed), a pin device, `mlock`, or nothing — and the pool always says which.
//!    [`PoolBuilder::require_pin`] makes creation fail below a level, naming what was
//!    missing.
//! 5. **Chunks** ([`Chunk`]): RAII handles that deref to `[u8]`. Allocation pops from a
//!    per-thread cache (no atomic RMW, no lock, no syscall), refilled from a lock-free shared
//!    list (a tagged Treiber stack of indices, see `freelist.rs`).
//!
//! ## Where things are
//! - `sys/` — every system call (mmap, mbind, move_pages, mlock, mempinfd, pin ioctls).
//! - `backing.rs` — choosing pages, binding, faulting in, placement.
//! - `pinning.rs` — the pinning chain; **where a chunk is pinned**.
//! - `freelist.rs` — the lock-free shared free list; `thread_cache.rs` — the hot path.
//! - `probe.rs` — what the machine offers (`uadk info`).
//!
//! ## Example
//! ```
//! use uadk_pool::{PageKind, PinLevel, PoolBuilder};
//! let pool = PoolBuilder::new(64 << 10).chunks(8).pages(PageKind::Auto).build()?;
//! println!("{} pages, {}", pool.info().backing, pool.info().pinning);
//! let mut c = pool.try_alloc().expect("free chunk");
//! c[0] = 1;
//! assert!(pool.contains(c.as_ptr(), c.len()));
//! assert!(pool.pin_level() >= PinLevel::Unpinned);
//! # Ok::<(), uadk_pool::PoolError>(())
//! ```

#![warn(missing_docs)]

mod backing;
mod chunk;
mod config;
mod error;
mod freelist;
mod level;
mod pinning;
mod pool;
pub mod probe;
mod stats;
mod sys;
mod thread_cache;

pub use backing::{Backing, Placement};
pub use chunk::{Chunk, ChunkLocation, OwnedChunk};
pub use config::{PageKind, PoolBuilder, MAX_CHUNK_SIZE, MIN_ALIGN, MIN_CHUNK_SIZE};
pub use error::{PoolError, Result};
pub use level::{PinAttempt, PinLevel, PinVia, Pinning};
pub use pool::{Pool, PoolInfo};
pub use probe::MachineProbe;
pub use stats::PoolStats;
