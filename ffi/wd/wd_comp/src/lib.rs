//! # libwd_comp.so.2 on uadk-rs (crate `uadk-wd-comp`)
//!
//! UADK's compression library with UADK's soname, symbol versions (`UADK_COMP_2.0`) and
//! struct layouts (UADK 2.11), on uadk-zip: deflate, zlib and gzip on a HiSilicon ZIP
//! device when a request's context is on one (uadk-zip's device engine over uadk-core
//! queues, redone in software if the device fails), in software otherwise (uadk-zip's
//! measured choice of ISA-L, libdeflate and zlib-rs).
//!
//! ## The model
//!
//! - **Initialisation** ([`init`]): UADK's explicit flow (`wd_comp_init` with contexts from
//!   `wd_request_ctx` and a scheduler: Ceph, UADK's sample), `wd_comp_init2_` (QEMU),
//!   `wd_comp_env_init` and `wd_comp_ctx_num_init`. The state is in
//!   [`uadk_wd_common::setting`]; contexts and schedulers live in `libwd.so.2`.
//! - **Sessions** ([`sess`]): a checked handle with the format, level, the scheduler's key
//!   and the stream in progress. The direction of each request is `req->op_type`, as in
//!   UADK. The context the scheduler picks decides the engine: a device context lets
//!   uadk-zip use the device (`Backend::Auto`), a software context runs in software.
//! - **Requests** ([`ops`]): `wd_do_comp_sync` (one whole stream, stateless),
//!   `wd_do_comp_strm` (one step of a stream), `wd_do_comp_sync2` (a whole stream through
//!   the stream engine), `wd_do_comp_async` + `wd_comp_poll_ctx`/`wd_comp_poll` (run at
//!   submission, completed through the callback when polled).
//! - **zlib wrapper** ([`zlib`]): UADK's `wd_deflate*`/`wd_inflate*` on the stream API.
//!
//! UADK's request semantics are kept: `src_len`/`dst_len` in and out, `status`
//! `WD_STREAM_END` at the end of a decompressed stream, `WD_EAGAIN` when output is waiting
//! for another call, `WD_IN_EPARA` for bad data; a compression step that cannot hand out
//! everything it consumed reports one byte less consumed, so callers that loop until all
//! input is taken (Ceph) also collect all output.
//!
//! Where each request ran is reported by `wd_rs_comp_sess_route` and counted by
//! `wd_rs_comp_counters` (declared in `wd_rs.h`).

#![deny(missing_docs)]

pub mod init;
pub mod ops;
pub mod sess;
pub mod zlib;

pub use init::*;
pub use ops::*;
pub use sess::*;
pub use zlib::*;

// Unit tests link the real libwd (an rlib) for the calls the cdylib makes into libwd.so.2.
#[cfg(test)]
use wd as _;

// The exported entry points, each bound to its version node (generated from libwd_comp.map).
include!(concat!(env!("OUT_DIR"), "/symver.rs"));
