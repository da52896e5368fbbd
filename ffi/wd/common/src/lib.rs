//! # uadk-wd-common
//!
//! What the three UADK C ABI libraries of uadk-rs (`libwd.so.2`, `libwd_comp.so.2`,
//! `libwd_crypto.so.2`) share as *code*. Shared *state* lives in `libwd.so.2` only and is
//! reached through its C interface (see `ffi/wd/README.md`), so nothing here holds global
//! state that would matter if each library carried its own copy.
//!
//! - [`abi`]: the C types and constants of UADK's headers (`ffi/wd/include/uadk/`), with
//!   their sizes checked against the headers by the C layout test.
//! - [`boundary`]: the panic boundary every exported function runs inside.
//! - [`env`]: `secure_getenv` and the `WD_*_CTX_NUM` syntax.
//! - [`registry`]: handles (`handle_t`) for objects owned by Rust, checked on every use.
//! - [`client`]: the calls the algorithm libraries make into `libwd.so.2`.
//! - [`setting`]: one algorithm library's initialisation (contexts, scheduler, async
//!   completions, fork handling).
//! - [`log`]: the one-line error log (`WD_RS_LOG=1`).
//! - [`buildtool`]: used by the libraries' build scripts: soname, version script, `.symver`
//!   directives and the link stub of `libwd.so.2`.
//!
//! ```
//! use uadk_wd_common::env::{parse_ctx_num, CtxNumEntry};
//! let v = parse_ctx_num("sync:2@0,async:1@1", &["sync", "async"]).unwrap();
//! assert_eq!(v[0], CtxNumEntry { key: 0, num: 2, node: 0 });
//! ```

#![deny(missing_docs)]

pub mod abi;
pub mod boundary;
pub mod buildtool;
pub mod client;
pub mod env;
pub mod log;
pub mod registry;
pub mod setting;
