//! # libuadk_z: zlib 1.2.13's C ABI on uadk-rs engines
//!
//! `libuadk_z.so` is a drop-in `libz.so.1`: it exports every function of zlib 1.2.13's API
//! with zlib's prototypes, `z_stream` layout, constants, return codes and `msg` strings,
//! binds them to zlib's symbol versions (soname `libz.so.1`), and so serves unmodified
//! programs — under `LD_PRELOAD`, or installed as `libz.so.1` — on faster engines.
//!
//! ## The model
//!
//! Every stream gets a state of its own (malloc'ed, never from the caller's `zalloc`),
//! registered so that bad stream pointers get `Z_STREAM_ERROR` instead of a crash
//! (`registry.rs`). The state routes the stream to a fast engine while its call pattern
//! lets the fast engine give exactly zlib's answers, and to **zlib-rs** (a complete zlib
//! implementation, through `libz-rs-sys`) otherwise:
//!
//! * **deflate** (`deflate.rs`): zlib's header, trailer, pending buffer, flush ranking and
//!   return codes are ours; the raw deflate body runs in segments on ISA-L (levels 1–3),
//!   libdeflate over 128 KiB blocks (4–9), a ZIP device when one is present, or zlib-rs
//!   (`engines.rs`). Calls that need zlib's own state mid-stream move the stream to zlib-rs
//!   at a flush boundary; pre-data calls (dictionary, gzip header, ...) pick zlib-rs from
//!   the start. Output differs from zlib's bytes but always decodes with zlib.
//! * **inflate** (`inflate.rs`): zlib-rs parses the header (stopping there with `Z_BLOCK`),
//!   ISA-L decodes the body with exact input accounting, and the trailer is checked here.
//! * **one-shot** ([`oneshot`]): uadk-zip's whole-buffer path (libdeflate/ISA-L or the
//!   device), redone by zlib-rs whenever only zlib's exact partial answer will do.
//! * checksums, `gz*`, `inflateBack*`: zlib-rs ([`misc`], [`gz`]).
//!
//! Settings come from the environment at load time ([`config`]: `UADK_Z_BACKEND`,
//! `UADK_Z_DEVICE_MIN`, `UADK_Z_STATS`); counters say which path served what and why
//! ([`stats`]).
//!
//! ## Example (the C view)
//!
//! ```text
//! $ LD_PRELOAD=target/release/libuadk_z.so UADK_Z_STATS=/tmp/z \
//!     python3 -c 'import zlib; print(len(zlib.compress(b"x" * 100000)))'
//! $ cat /tmp/z.*.json     # {"counters":{"oneshot_compress_fast":1,...},"routes":{...}}
//! ```
//!
//! From Rust the same functions are callable directly (they are `unsafe extern "C"`):
//!
//! ```
//! use uadk_z::abi::{z_stream, Z_FINISH, Z_STREAM_END, Z_OK};
//! let input = b"hello, hello, hello".repeat(100);
//! let mut out = vec![0u8; 4096];
//! // SAFETY: all-zero is a valid, not yet initialised z_stream.
//! let mut s: z_stream = unsafe { std::mem::zeroed() };
//! // SAFETY: a fresh stream; the buffers outlive the calls.
//! unsafe {
//!     assert_eq!(uadk_z::api::deflateInit_(&mut s, 6, c"1.2.13".as_ptr(), std::mem::size_of::<z_stream>() as i32), Z_OK);
//!     s.next_in = input.as_ptr();
//!     s.avail_in = input.len() as u32;
//!     s.next_out = out.as_mut_ptr();
//!     s.avail_out = out.len() as u32;
//!     assert_eq!(uadk_z::api::deflate(&mut s, Z_FINISH), Z_STREAM_END);
//!     assert_eq!(uadk_z::api::deflateEnd(&mut s), Z_OK);
//! }
//! assert!(s.total_out < 100);
//! ```

#[macro_use]
mod symbols;

pub mod abi;
pub mod api;
pub mod config;
pub(crate) mod deflate;
pub(crate) mod engines;
pub mod gz;
pub(crate) mod inflate;
pub mod misc;
pub mod oneshot;
pub(crate) mod registry;
pub mod stats;

pub(crate) mod zrs;
