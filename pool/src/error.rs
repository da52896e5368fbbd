//! The pool's one error type.

use crate::level::PinLevel;
use std::io;
use thiserror::Error;

/// Everything that can go wrong when creating or using a [`Pool`](crate::Pool).
///
/// Every message says what to do about it.
///
/// ```
/// use uadk_pool::{PoolBuilder, PoolError};
/// let err = PoolBuilder::new(1).build().unwrap_err();
/// assert!(matches!(err, PoolError::InvalidConfig(_)));
/// assert!(err.to_string().contains("chunk size"));
/// ```
#[derive(Debug, Error)]
pub enum PoolError {
    /// The configuration cannot be satisfied whatever the machine offers.
    #[error("invalid pool configuration: {0}")]
    InvalidConfig(String),

    /// Hugetlb pages of the requested size are not available.
    #[error(
        "no free {size} hugepages{on_node} ({free} free, {needed} needed): reserve some with \
         `sysctl vm.nr_hugepages=N` (2 MiB) or by writing to {sysfs_hint}, or allow fallback \
         (`PoolBuilder::fallback(true)` or `PageKind::Auto`)"
    )]
    HugepagesUnavailable {
        /// Page size, e.g. "2 MiB".
        size: &'static str,
        /// " on node N" or "".
        on_node: String,
        /// Free pages found.
        free: u64,
        /// Pages the pool needs.
        needed: u64,
        /// Where to reserve them.
        sysfs_hint: String,
    },

    /// Transparent huge pages were requested but the kernel has them switched off.
    #[error(
        "transparent huge pages are disabled (mode `{mode}`): enable them with \
         `echo madvise > /sys/kernel/mm/transparent_hugepage/enabled`, or allow fallback"
    )]
    ThpUnavailable {
        /// The current mode from sysfs.
        mode: String,
    },

    /// The requested NUMA node does not exist or has no memory.
    #[error(
        "NUMA node {node} does not exist or has no memory on this machine (nodes with memory: \
         {available:?}): choose one of those or leave the node unset"
    )]
    NodeUnavailable {
        /// The node asked for.
        node: u32,
        /// Nodes that have memory.
        available: Vec<u32>,
    },

    /// A system call needed to build the region failed.
    #[error("{what} failed: {source}")]
    Sys {
        /// What was being done, e.g. "mmap of 64 MiB with 2 MiB hugetlb pages".
        what: String,
        /// The OS error.
        #[source]
        source: io::Error,
    },

    /// The region could not be faulted in (for hugetlb: the pages ran out on the node).
    #[error(
        "could not fault in the pool's {bytes} bytes of {backing} memory: {source}; for \
         hugetlb memory reserve more pages on the node (see `uadk info`), or allow fallback"
    )]
    Prefault {
        /// Size of the region.
        bytes: usize,
        /// Backing kind.
        backing: &'static str,
        /// The OS error.
        #[source]
        source: io::Error,
    },

    /// The pin level reached is below what the configuration requires.
    #[error("pool memory reached pin level `{got}` but `{required}` is required: {why}")]
    PinBelowRequired {
        /// Level reached.
        got: PinLevel,
        /// Level required.
        required: PinLevel,
        /// What was missing, e.g. "mlock: RLIMIT_MEMLOCK is 8 MiB ... and no CAP_IPC_LOCK".
        why: String,
    },

    /// A blocking allocation timed out.
    #[error(
        "no chunk became free within {0:?}: the pool is exhausted; create it with more chunks \
         or return chunks sooner"
    )]
    Timeout(std::time::Duration),
}

/// Result with [`PoolError`].
pub type Result<T, E = PoolError> = std::result::Result<T, E>;

impl PoolError {
    pub(crate) fn sys(what: impl Into<String>, source: io::Error) -> Self {
        PoolError::Sys {
            what: what.into(),
            source,
        }
    }
}
