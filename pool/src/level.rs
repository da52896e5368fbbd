//! What guarantee the pool's memory got: pin levels, and how they were reached.

use serde::Serialize;
use std::fmt;
use std::path::PathBuf;

/// How strongly the pool's memory is held in place, weakest first.
///
/// | level | resident (never swapped) | cannot migrate (no IO page fault from compaction, NUMA balancing, CMA) |
/// |---|---|---|
/// | `Unpinned` | no: pre-faulted normal pages, the kernel may swap or move them | no |
/// | `Resident` | yes, because hugetlb pages are never swapped | no (hugetlb pages migrate rarely: memory offline, `alloc_contig_range`, explicit mbind moves) |
/// | `Locked` | yes, `mlock(2)` | no: mlock does **not** stop migration |
/// | `LongTermPinned` | yes | yes, while pinned (`FOLL_LONGTERM` pin through mempinfd or a pin device) |
///
/// Levels are ordered, so a configuration can require a minimum:
///
/// ```
/// use uadk_pool::PinLevel;
/// assert!(PinLevel::LongTermPinned > PinLevel::Locked);
/// assert!(PinLevel::Resident > PinLevel::Unpinned);
/// assert_eq!(PinLevel::Locked.to_string(), "locked");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum PinLevel {
    /// Pre-faulted pages that the kernel may still swap out or migrate.
    Unpinned,
    /// Hugetlb pages: never swapped, but not locked and not pinned.
    Resident,
    /// `mlock`ed: never swapped; may still migrate.
    Locked,
    /// Long-term pinned: neither swapped nor migrated while the pool lives.
    LongTermPinned,
}

impl fmt::Display for PinLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            PinLevel::Unpinned => "unpinned",
            PinLevel::Resident => "resident",
            PinLevel::Locked => "locked",
            PinLevel::LongTermPinned => "long-term-pinned",
        })
    }
}

/// Which mechanism produced a long-term pin.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "kind")]
pub enum PinVia {
    /// The `mempinfd` system call (a patched kernel), with the number that was used.
    Mempinfd {
        /// The syscall number used.
        nr: i64,
        /// Where the number came from (`UADK_MEMPINFD_NR` or the sysfs file).
        source: String,
    },
    /// A pin device such as `/dev/uacce_ctrl` (`UACCE_CMD_PIN`).
    PinDevice {
        /// The device node.
        path: PathBuf,
    },
}

impl fmt::Display for PinVia {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PinVia::Mempinfd { nr, source } => write!(f, "mempinfd (syscall {nr} from {source})"),
            PinVia::PinDevice { path } => write!(f, "pin device {}", path.display()),
        }
    }
}

/// The guarantee a pool got, with the mechanism that produced it.
///
/// ```
/// use uadk_pool::{Pinning, PinLevel};
/// assert_eq!(Pinning::Locked.level(), PinLevel::Locked);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "level")]
pub enum Pinning {
    /// Long-term pinned.
    LongTermPinned {
        /// How.
        via: PinVia,
        /// Whether the kernel's own accounting confirmed it: `VmPin` in `/proc/self/status`
        /// grew by the pinned size. `false` means the call reported success but nothing shows
        /// that pages were pinned: some out-of-tree pin modules return success without pinning
        /// on old kernels, so a bare success is not proof.
        verified: bool,
    },
    /// `mlock`ed.
    Locked,
    /// Hugetlb, not locked.
    Resident,
    /// Pre-faulted only.
    Unpinned,
}

impl Pinning {
    /// The level this state corresponds to.
    pub fn level(&self) -> PinLevel {
        match self {
            Pinning::LongTermPinned { .. } => PinLevel::LongTermPinned,
            Pinning::Locked => PinLevel::Locked,
            Pinning::Resident => PinLevel::Resident,
            Pinning::Unpinned => PinLevel::Unpinned,
        }
    }
}

impl fmt::Display for Pinning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Pinning::LongTermPinned { via, verified } => write!(
                f,
                "long-term-pinned via {via}{}",
                if *verified { "" } else { " (unverified)" }
            ),
            other => write!(f, "{}", other.level()),
        }
    }
}

/// One step of the pinning chain and how it ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PinAttempt {
    /// The strategy: `mempinfd`, `pin-device`, `mlock`.
    pub strategy: &'static str,
    /// `None` when it held, otherwise why it did not (or why it was not tried).
    pub failure: Option<String>,
}
