//! The single error type of `uadk-core`.
//!
//! Every message says what went wrong *and* what the caller can do about it.

use std::path::PathBuf;
use std::time::Duration;

/// Result alias used throughout `uadk-core`.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong while discovering devices or driving a queue pair.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A system call on a device file, region or socket failed.
    #[error("{what}: {source} (check that the device node exists and that you may open it; real uacce nodes are root-only unless a udev rule grants access)")]
    Io {
        /// What was being attempted.
        what: String,
        /// The underlying OS error.
        #[source]
        source: std::io::Error,
    },
    /// No usable uacce device offers the requested algorithm.
    #[error("no usable uacce device offers algorithm `{alg}` (run `uadk info` to list devices; set UADK_SYSFS_ROOT/UADK_DEV_ROOT to use an emulator started with `uadk emu start`)")]
    NoDevice {
        /// The algorithm that was asked for.
        alg: String,
    },
    /// A sysfs attribute could not be parsed.
    #[error("malformed sysfs attribute {path}: {reason} (the device is skipped; check the driver version)")]
    Malformed {
        /// The attribute file.
        path: PathBuf,
        /// Why it was rejected.
        reason: String,
    },
    /// The submission queue has no room for the batch.
    #[error("submission queue full ({free} free slots, {wanted} requested): poll completions, retry, or submit with a waiting busy policy")]
    Busy {
        /// Free slots at the time of the attempt.
        free: usize,
        /// Descriptors in the rejected batch.
        wanted: usize,
    },
    /// A request did not complete within its bounded wait.
    #[error("request timed out after {waited:?}; the queue is now unusable, drop it and open a new one")]
    Timeout {
        /// How long the caller waited.
        waited: Duration,
    },
    /// The device stopped the queue (stop-TX/stop-RX status word set, e.g. reset or CQ error).
    #[error("the device stopped this queue (reset or hardware error); drop it and open a new queue")]
    QueueStopped,
    /// The device node or emulator went away.
    #[error("the device went away ({detail}); in-flight requests are lost, open a new queue once the device is back")]
    DeviceGone {
        /// What was observed.
        detail: String,
    },
    /// The queue was opened by another process (the kernel does not copy queue mappings on fork).
    #[error("queue opened by process {opener} used after fork in process {current}: a child must open its own queues")]
    ForkedChild {
        /// Pid that opened the queue.
        opener: u32,
        /// Pid of the caller.
        current: u32,
    },
    /// A completion carried a tag different from the request in that SQ slot.
    #[error("completion tag mismatch in SQ slot {slot}: expected {expected:#x}, device wrote {got:#x} (device or driver bug; drop the queue)")]
    TagMismatch {
        /// SQ slot index.
        slot: u16,
        /// Tag written at submission.
        expected: u64,
        /// Tag found in the written-back descriptor.
        got: u64,
    },
    /// A CQE or region layout violated the interface contract.
    #[error(
        "device protocol violation: {0} (drop the queue; if it persists the device or emulator is faulty)"
    )]
    Protocol(String),
    /// The device completed a request with an error status.
    #[error("the device rejected the request: {0} (check the descriptor fields and buffer sizes)")]
    DeviceStatus(String),
    /// A configuration string (environment variable or builder input) is invalid.
    #[error("invalid configuration: {0}")]
    Config(String),
    /// The device or driver lacks a feature the caller needs.
    #[error("unsupported: {0}")]
    Unsupported(String),
    /// A caller-supplied argument is out of range.
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
}

impl Error {
    /// Wraps an OS error with a description of the attempted action.
    pub fn io(what: impl Into<String>, source: std::io::Error) -> Self {
        Error::Io {
            what: what.into(),
            source,
        }
    }

    /// True for errors after which the queue can no longer be used.
    pub fn is_fatal_for_queue(&self) -> bool {
        matches!(
            self,
            Error::Timeout { .. }
                | Error::QueueStopped
                | Error::DeviceGone { .. }
                | Error::ForkedChild { .. }
                | Error::TagMismatch { .. }
                | Error::Protocol(_)
        )
    }
}
