//! # uadk-emu
//!
//! A device emulator that serves the uacce / HiSilicon QM interface, so the driver in
//! `uadk-core` runs unchanged on machines without Kunpeng accelerators.
//!
//! ## What it emulates
//!
//! - **sysfs**: `DIR/sys/class/uacce/<name>/{api, flags, algorithms, available_instances,
//!   region_mmio_size, region_dus_size, isolate, device/numa_node}` for each configured
//!   device (`hisi_zip` v2/v3, `hisi_sec2`), names `<driver>-<id>` from one global counter.
//! - **device nodes**: `DIR/dev/<name>` is a Unix socket; one connection is one queue pair.
//!   The uacce ioctls are messages carrying the real ioctl numbers and argument structs, and
//!   the MMIO and DUS regions are memfds passed with `SCM_RIGHTS`, mapped by the client like
//!   the kernel's regions (protocol: `uadk_core::uacce::emu_proto`).
//! - **engines**: per started queue, a thread watches the doorbell words in shared MMIO
//!   (spin, then yield, then park on a futex), reads SQEs from DUS, performs the operation
//!   on the client's buffers by virtual address (same process: directly; other process:
//!   `process_vm_readv/writev`, the SVA model), writes status back into the SQE and posts a
//!   CQE with the right phase. The device side of the descriptors is implemented here from
//!   the reference, independently of the front-ends: [`sec`] (SEC BD2/BD3: ciphers, digests,
//!   HMAC, AEAD and copy) and [`zip`] (ZIP SQEs for QM v2/v3: zlib, gzip and, on v3, raw
//!   deflate; one-shot and streaming).
//! - **faults** ([`Faults`]), per device, at start or at run time: error rate, delayed
//!   completions, stalled queues, device reset (status words set, in-flight requests never
//!   complete), ZIP completions with status OK but impossible byte counts (a misreporting
//!   device, for the driver's checks), and the [IO page fault model](iopf) (a *model*:
//!   latency charged on first touch of pages that are neither hugetlb nor locked, and again
//!   after simulated churn).
//! - **counters** per engine: requests, bytes, faults charged, errors injected.
//! - **benchmark** ([`bench`](mod@bench)): queue round trips with the SEC copy operation
//!   (`uadk bench queue`).
//!
//! ## Use
//!
//! In-process (tests, benchmarks): [`Emulator::start`]. As a service: [`daemon`]
//! (`uadk emu start|stop|status --root DIR`). Then point programs at it with
//! `UADK_SYSFS_ROOT=DIR/sys UADK_DEV_ROOT=DIR/dev`.
//!
//! ```
//! use uadk_core::{discovery, qm::{QueueOptions, QueuePair}, request::WaitPolicy, sec_copy};
//! let dir = std::env::temp_dir().join(format!("uadk-emu-lib-doc-{}", std::process::id()));
//! let emu = uadk_emu::Emulator::start(&dir, &uadk_emu::EmuConfig::default()).unwrap();
//! let found = discovery::scan(&emu.roots());
//! let dev = found.devices.iter().find(|d| d.supports("cipher")).unwrap();
//! let bd = sec_copy::SecBd::for_version(dev.qm_version);
//! let q = QueuePair::open(dev, QueueOptions { tag: bd.tag_field(), ..Default::default() }).unwrap();
//! let src = b"hello, device".to_vec();
//! let mut dst = vec![0u8; src.len()];
//! let sqe = sec_copy::build_copy(bd, src.as_ptr() as u64, dst.as_mut_ptr() as u64, src.len() as u32).unwrap();
//! // SAFETY: both buffers outlive the synchronous request.
//! let done = unsafe { q.submit_sync(&sqe, &WaitPolicy::default()) }.unwrap();
//! sec_copy::check_done(&done).unwrap();
//! assert_eq!(dst, src);
//! # drop(q); drop(emu); let _ = std::fs::remove_dir_all(&dir);
//! ```

#![warn(missing_docs)]

pub mod bench;
pub mod config;
pub mod counters;
pub mod daemon;
pub mod device;
pub mod engine;
pub mod error;
pub mod faults;
pub mod iopf;
pub mod memory;
pub mod sec;
pub mod server;
pub mod session;
pub mod tree;
pub mod zip;

pub use config::{DeviceKind, DeviceSpec, EmuConfig, Faults};
pub use counters::CounterSnapshot;
pub use device::DeviceStatus;
pub use error::{EmuError, Result};
pub use server::{EmuStatus, Emulator};
