//! [`QueuePair`]: one hardware queue, from `open` to `PUT_Q`, and the request slots on it.
//!
//! Lifecycle (reference §3.6): open the node (`O_RDWR|O_CLOEXEC`) → mmap DUS (page offset
//! 1, exact size) → mmap MMIO (page offset 0) → `SET_QP_CTX(qc_type)` → `SET_QP_INFO` where
//! supported (else depth 1024) → `START_Q`. Drop: `PUT_Q`, munmap, close.
//!
//! Concurrency: one lock serialises producers (SQ tail), one serialises the consumer (CQ
//! head); neither is held while waiting. Every SQ slot has a small state machine so that any
//! thread polling the CQ can route a completion to its owner: a sync waiter (which then
//! copies the written-back descriptor out of the SQ itself), an async token (handed to the
//! poller's closure) or a callback.
//!
//! Fork: the queue records the opener's pid and the [fork generation](crate::sys::fork);
//! every operation in a forked child fails with [`Error::ForkedChild`]. Dropping an inherited
//! queue in the child neither sends `PUT_Q` nor unmaps its regions (the child has no copy of
//! them, and the addresses may hold something else by then: see
//! [`Region`](crate::sys::region::Region)); it only closes the inherited descriptor.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicU8, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use parking_lot::Mutex;

use super::doorbell::DoorbellFormat;
use super::layout::{parse_qm_version, Geometry, DEFAULT_DEPTH, SQE_SIZE_128};
use super::ring::{CqCursor, Ring, SqCursor};
use super::sqe::TagField;
use crate::discovery::Device;
use crate::error::{Error, Result};
use crate::request::{Callback, Completion};
use crate::sys;
use crate::uacce::{self, RegionType, UacceFile};

/// How to open a queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueueOptions {
    /// `qc_type` for `SET_QP_CTX` (ZIP: 0 compress / 1 decompress; SEC: 0).
    pub qc_type: u16,
    /// SQE size to assume when the kernel cannot report it (128 for ZIP/SEC, 64 for HPRE).
    pub sqe_size: usize,
    /// Where the descriptor family keeps its tag.
    pub tag: TagField,
    /// Arm the completion interrupt on CQ doorbells (for `poll()` sleeping).
    pub interrupt: bool,
    /// Async requests older than this fail the queue (the device is considered wedged).
    pub async_timeout: Duration,
}

impl Default for QueueOptions {
    fn default() -> Self {
        QueueOptions {
            qc_type: 0,
            sqe_size: SQE_SIZE_128,
            tag: TagField::None,
            interrupt: false,
            async_timeout: Duration::from_secs(10),
        }
    }
}

pub(super) const FREE: u8 = 0;
pub(super) const SYNC: u8 = 1;
pub(super) const SYNC_DONE: u8 = 2;
pub(super) const ASYNC: u8 = 3;
pub(super) const ASYNC_CB: u8 = 4;
pub(super) const ABANDONED: u8 = 5;

pub(super) const RUNNING: u8 = 0;
pub(super) const STOP_HW: u8 = 1;
pub(super) const STOP_GONE: u8 = 2;
pub(super) const STOP_TIMEOUT: u8 = 3;
pub(super) const STOP_PROTOCOL: u8 = 4;

#[derive(Debug)]
pub(super) struct Slot {
    pub(super) state: AtomicU8,
    pub(super) tag: AtomicU64,
    pub(super) token: AtomicU64,
    pub(super) submitted_ns: AtomicU64,
}

#[derive(Debug)]
pub(super) struct SqState {
    pub(super) cursor: SqCursor,
    pub(super) next_tag: u64,
}

#[derive(Debug)]
pub(super) struct CqState {
    pub(super) cursor: CqCursor,
    pub(super) empty_polls: u32,
}

/// One open hardware queue pair. `Send + Sync`: share it between threads with `Arc`.
///
/// ```no_run
/// use uadk_core::{discovery, qm::{QueuePair, QueueOptions, Sqe, TagField}, request::WaitPolicy};
/// let devs = discovery::scan(&discovery::Roots::from_env());
/// let dev = discovery::select(&devs.devices, "cipher", None).expect("a SEC device");
/// let q = QueuePair::open(dev, QueueOptions { tag: TagField::SEC_BD3, ..Default::default() })?;
/// let sqe = Sqe::zeroed(); // a real front-end builds a descriptor here
/// // SAFETY: this descriptor names no buffers.
/// let done = unsafe { q.submit_sync(&sqe, &WaitPolicy::default()) }?;
/// # let _ = done; Ok::<(), uadk_core::Error>(())
/// ```
pub struct QueuePair {
    pub(super) ring: Ring,
    pub(super) sq: Mutex<SqState>,
    pub(super) cq: Mutex<CqState>,
    pub(super) slots: Box<[Slot]>,
    pub(super) callbacks: Box<[Mutex<Option<Callback>>]>,
    pub(super) inflight: AtomicUsize,
    pub(super) stopped: AtomicU8,
    pub(super) overflow: Mutex<VecDeque<Completion>>,
    pub(super) has_overflow: AtomicBool,
    pub(super) tag: TagField,
    pub(super) async_timeout: Duration,
    pub(super) epoch: Instant,
    pub(super) opener_pid: u32,
    pub(super) fork_gen: u64,
    pub(super) name: String,
    pub(super) qm_version: Option<u32>,
    pub(super) file: Box<dyn UacceFile>,
}

impl std::fmt::Debug for QueuePair {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("QueuePair")
            .field("device", &self.name)
            .field("sqn", &self.ring.sqn())
            .field("geometry", self.ring.geometry())
            .field("inflight", &self.inflight.load(Ordering::Relaxed))
            .finish()
    }
}

impl QueuePair {
    /// Opens a queue on a discovered device.
    pub fn open(dev: &Device, opts: QueueOptions) -> Result<QueuePair> {
        let file = uacce::open_node(&dev.dev_path)?;
        Self::open_file(file, &dev.name, &dev.api, dev.mmio_size, dev.dus_size, opts)
    }

    /// Opens a queue on an already opened uacce file (the lifecycle after `open()`).
    pub fn open_file(
        file: Box<dyn UacceFile>,
        name: &str,
        api: &str,
        mmio_size: usize,
        dus_size: usize,
        opts: QueueOptions,
    ) -> Result<QueuePair> {
        let qm_version = parse_qm_version(api);
        if qm_version.is_none() {
            return Err(Error::Unsupported(format!(
                "device {name} has api `{api}`, not a HiSilicon QM queue (hisi_qm_v<N>)"
            )));
        }
        let dus = file.map_region(RegionType::Dus, dus_size)?;
        let mmio = file.map_region(RegionType::Mmio, mmio_size)?;
        let sqn = uacce::set_qp_ctx(file.as_ref(), opts.qc_type)?;
        let (sqe_size, sq_depth, cq_depth) = match uacce::qp_info(file.as_ref())? {
            Some(i) => (i.sqe_size as usize, i.sq_depth, i.cq_depth),
            None => (opts.sqe_size, DEFAULT_DEPTH, DEFAULT_DEPTH),
        };
        let geo = Geometry::new(sqe_size, sq_depth, cq_depth, dus_size)?;
        if !opts.tag.fits(sqe_size) {
            return Err(Error::InvalidArgument(format!(
                "tag field {:?} does not fit a {sqe_size}-byte SQE",
                opts.tag
            )));
        }
        let ring = Ring::new(
            mmio,
            dus,
            geo,
            DoorbellFormat::for_version(qm_version),
            sqn,
            file.doorbell_shadow(),
            opts.interrupt,
        )?;
        uacce::start_q(file.as_ref())?;
        let depth = sq_depth as usize;
        Ok(QueuePair {
            ring,
            sq: Mutex::new(SqState {
                cursor: SqCursor::default(),
                next_tag: 1,
            }),
            cq: Mutex::new(CqState {
                cursor: CqCursor::default(),
                empty_polls: 0,
            }),
            slots: (0..depth)
                .map(|_| Slot {
                    state: AtomicU8::new(FREE),
                    tag: AtomicU64::new(0),
                    token: AtomicU64::new(0),
                    submitted_ns: AtomicU64::new(0),
                })
                .collect(),
            callbacks: (0..depth).map(|_| Mutex::new(None)).collect(),
            inflight: AtomicUsize::new(0),
            stopped: AtomicU8::new(RUNNING),
            overflow: Mutex::new(VecDeque::new()),
            has_overflow: AtomicBool::new(false),
            tag: opts.tag,
            async_timeout: opts.async_timeout,
            epoch: Instant::now(),
            opener_pid: std::process::id(),
            fork_gen: sys::fork::generation(),
            name: name.to_string(),
            qm_version,
            file,
        })
    }

    /// Device name this queue belongs to.
    pub fn device_name(&self) -> &str {
        &self.name
    }

    /// QM version parsed from the device's `api`.
    pub fn qm_version(&self) -> Option<u32> {
        self.qm_version
    }

    /// Hardware queue number returned by `SET_QP_CTX`.
    pub fn sqn(&self) -> u16 {
        self.ring.sqn()
    }

    /// The queue geometry.
    pub fn geometry(&self) -> Geometry {
        *self.ring.geometry()
    }

    /// Requests submitted and not yet completed.
    pub fn in_flight(&self) -> usize {
        self.inflight.load(Ordering::Relaxed)
    }

    /// Free SQ slots (one slot is always kept free).
    pub fn free_slots(&self) -> usize {
        (self.ring.geometry().sq_depth as usize - 1).saturating_sub(self.in_flight())
    }

    /// True once the queue can no longer be used (stopped by the device, gone, wedged).
    pub fn is_stopped(&self) -> bool {
        self.stopped.load(Ordering::Acquire) != RUNNING
    }

    #[inline]
    pub(super) fn check_owner(&self) -> Result<()> {
        if sys::fork::generation() != self.fork_gen {
            return Err(Error::ForkedChild {
                opener: self.opener_pid,
                current: std::process::id(),
            });
        }
        Ok(())
    }

    pub(super) fn stop_error(&self) -> Error {
        match self.stopped.load(Ordering::Acquire) {
            STOP_GONE => Error::DeviceGone {
                detail: format!("{} stopped answering", self.file.describe()),
            },
            STOP_TIMEOUT => Error::Timeout {
                waited: self.async_timeout,
            },
            STOP_PROTOCOL => {
                Error::Protocol(format!("{} posted an invalid completion", self.file.describe()))
            }
            _ => Error::QueueStopped,
        }
    }

    pub(super) fn now_ns(&self) -> u64 {
        self.epoch.elapsed().as_nanos() as u64
    }

    pub(super) fn stop(&self, reason: u8) {
        let _ = self
            .stopped
            .compare_exchange(RUNNING, reason, Ordering::AcqRel, Ordering::Acquire);
    }
}

impl Drop for QueuePair {
    fn drop(&mut self) {
        if self.check_owner().is_ok() {
            if let Err(e) = uacce::put_q(self.file.as_ref()) {
                log::debug!("{}: PUT_Q on drop: {e}", self.name);
            }
        }
        // Remaining callbacks are dropped uncalled only if the queue never stopped; report
        // them as failed so no caller waits forever.
        for c in self.callbacks.iter() {
            if let Some(cb) = c.lock().take() {
                cb(Err(Error::QueueStopped));
            }
        }
        // Fields drop next: ring (munmap both regions), then the file (close).
    }
}
