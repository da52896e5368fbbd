//! # uadk-core
//!
//! The driver side of the Linux **uacce** interface for HiSilicon QM accelerators (ZIP, SEC,
//! HPRE), in the style of Linaro's UADK `libwd` — without its C code.
//!
//! ## The model
//!
//! A uacce device (`/sys/class/uacce/<driver>-<id>`) offers hardware *queue pairs*. Opening
//! its node gives one queue; two memory regions are mapped from it: **MMIO** (page offset 0)
//! with the *doorbell* register, and **DUS** (page offset 1) holding the submission queue
//! (SQ) of 128-byte descriptors, the completion queue (CQ) of 16-byte entries with a *phase*
//! bit, and two *status words* the kernel sets when it stops the queue. The process writes
//! descriptors holding plain virtual addresses (shared virtual addressing), rings the
//! doorbell, and the device writes results back into the descriptors and posts CQEs.
//!
//! ## Where things are
//!
//! | module | job |
//! |---|---|
//! | [`discovery`] | scan sysfs (`UADK_SYSFS_ROOT`, `UADK_DEV_ROOT`), pick a device by NUMA distance then free queues |
//! | [`uacce`] | the [`UacceFile`](uacce::UacceFile) trait: kernel chardev or emulator socket ([`uacce::emu_proto`]) |
//! | [`qm`] | doorbells, SQ/CQ ring, CQE, [`QueuePair`](qm::QueuePair) lifecycle |
//! | [`request`] | sync waits, async completions and callbacks, busy policy |
//! | [`sched`] | queues per (node, op type, sync/async), `WD_*_CTX_NUM` parsing |
//! | [`sec_copy`] | the SEC "copy" descriptor: the smallest real operation |
//! | [`sys`] | all `unsafe`: mmap, ioctl, fd passing, futex, poll |
//!
//! The same code drives real hardware and the `uadk-emu` emulator: only the file layer
//! differs. No device on this machine? Start one with `uadk emu start --root DIR` and set
//! `UADK_SYSFS_ROOT=DIR/sys UADK_DEV_ROOT=DIR/dev`.
//!
//! ## Example
//!
//! ```no_run
//! use uadk_core::{discovery, qm::{QueueOptions, QueuePair}, request::WaitPolicy, sec_copy};
//! let found = discovery::scan(&discovery::Roots::from_env());
//! let dev = discovery::select(&found.devices, "cipher", None).ok_or(uadk_core::Error::NoDevice { alg: "cipher".into() })?;
//! let bd = sec_copy::SecBd::for_version(dev.qm_version);
//! let q = QueuePair::open(dev, QueueOptions { tag: bd.tag_field(), ..Default::default() })?;
//! let src = vec![7u8; 4096];
//! let mut dst = vec![0u8; 4096];
//! let sqe = sec_copy::build_copy(bd, src.as_ptr() as u64, dst.as_mut_ptr() as u64, 4096)?;
//! // SAFETY: src and dst outlive the synchronous request.
//! let done = unsafe { q.submit_sync(&sqe, &WaitPolicy::default()) }?;
//! sec_copy::check_done(&done)?;
//! assert_eq!(src, dst);
//! # Ok::<(), uadk_core::Error>(())
//! ```

#![warn(missing_docs)]

pub mod discovery;
pub mod error;
pub mod qm;
pub mod request;
pub mod sched;
pub mod sec_copy;
pub mod sys;
pub mod uacce;

pub use error::{Error, Result};
