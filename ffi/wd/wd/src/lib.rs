//! # libwd.so.2 on uadk-rs (crate `uadk-wd`)
//!
//! UADK's core C library with UADK's soname (`libwd.so.2`), symbol versions (`UADK_2.0`)
//! and struct layouts (UADK 2.11), so that programs and libraries built against UADK run
//! against uadk-rs without relinking. Headers: `ffi/wd/include/uadk/`.
//!
//! ## The model
//!
//! - **Accelerators** ([`accel`]): `wd_get_accel_list` lists the uacce devices uadk-core's
//!   discovery finds (`/sys/class/uacce`, or `UADK_SYSFS_ROOT`/`UADK_DEV_ROOT` for the
//!   emulator). When none offers the algorithm but uadk-rs's software does, the list holds
//!   one *software accelerator* (`api` = `uadk_rs_software_v1`, path `uadk-rs:software`),
//!   so UADK's explicit-context flow (Ceph, UADK's sample) works everywhere.
//! - **Contexts** ([`ctx`]): `wd_request_ctx` returns a checked handle naming a device or
//!   the software accelerator. uadk-rs's engines own the hardware queues (uadk-zip and
//!   uadk-crypto open them per stream or session), so a context never exposes raw queue
//!   mappings (`wd_ctx_mmap_qfr` returns NULL).
//! - **Scheduler** ([`sched`]): UADK's round-robin scheduler (per session: a session
//!   takes one sync and one async context from its region in turn). It is exported by
//!   `libwd_comp.so.2` and `libwd_crypto.so.2` as in UADK; both forward here, so there is
//!   one implementation and one set of live schedulers.
//! - **Memory** ([`mempool`]): `wd_mempool_*` / `wd_blockpool_*` / `wd_block_*` and the
//!   unified `wd_mem_*` pool are served by uadk-pool: hugetlb when available, NUMA-bound,
//!   pre-faulted, pinned once; allocation and free take no lock and make no system call.
//! - **Status** ([`status`]): the one place that records and announces that work runs in
//!   software (`wd_rs_software_mode`, one stderr line per algorithm family).
//!
//! ## How the three libraries share state
//!
//! All state that crosses library boundaries lives here: contexts, schedulers, pools and
//! the software-mode flag. `libwd_comp.so.2` and `libwd_crypto.so.2` are linked against
//! `libwd.so.2` (`DT_NEEDED`, as in UADK) and reach it only through C calls: the public
//! UADK ones and a small private interface in version node `UADK_RS_PRIVATE_1.0`
//! (`wd_rs_ctx_query`, `wd_rs_note_backend`, `wd_rs_sched_rr_*`). Each algorithm library
//! keeps only its own state (its initialisation, sessions, async completions), as in
//! UADK.
//!
//! ## Safety at the boundary
//!
//! Every exported function runs inside [`uadk_wd_common::boundary::guard`], checks its
//! pointers and handles (handles are registry keys, never dereferenced pointers, so a
//! freed or foreign handle is an error, not a crash), and documents ownership in the
//! header. All functions are thread-safe.
//!
//! ```
//! // The software accelerator is listed when no device offers zlib.
//! let list = unsafe { wd::accel::wd_get_accel_list(c"zlib".as_ptr()) };
//! assert!(!list.is_null());
//! unsafe { wd::accel::wd_free_list_accels(list) };
//! ```

#![deny(missing_docs)]

pub mod accel;
mod cmem;
pub mod compat;
pub mod ctx;
pub mod mempool;
pub mod sched;
pub mod status;
mod thread_key;

pub use accel::*;
pub use compat::*;
pub use ctx::*;
pub use mempool::*;
pub use sched::*;
pub use status::*;

// The exported entry points, each bound to its version node (generated from libwd.map).
include!(concat!(env!("OUT_DIR"), "/symver.rs"));
