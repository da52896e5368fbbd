//! # libuadk: the C API of uadk-rs
//!
//! `libuadk.so.0` / `libuadk.a` and the header `include/uadk.h` (generated from this crate
//! by cbindgen) give C programs the uadk-rs engines: the buffer pool (`uadk-pool`), device
//! discovery (`uadk-core`), compression (`uadk-zip`) and crypto (`uadk-crypto`). This crate
//! only wraps their public APIs; nothing here decides between device and software.
//!
//! ## The model
//!
//! - **Status codes.** Every entry point returns a `uadk_status` (`UADK_OK` = 0, errors
//!   `UADK_E_*` with fixed values, see [`status`]); results go through out-parameters,
//!   which are written only on success (except the `*_len` that tells the size needed with
//!   `UADK_E_OUTPUT_TOO_SMALL`). `uadk_strerror` names a code and
//!   `uadk_last_error_message` copies the calling thread's last failure message (what went
//!   wrong and what to do) into a caller buffer.
//! - **No panic crosses.** Every entry point runs inside `catch_unwind`; a panic (a bug)
//!   becomes `UADK_E_PANIC`, and a stream handle that panicked is poisoned
//!   (`UADK_E_BAD_STATE` afterwards). The workspace builds with `panic = "unwind"`.
//! - **Opaque handles** (`uadk_pool`, `uadk_zip_session`, ...) are `{ uint64_t id }` values,
//!   generation-tagged ids in a registry ([`registry`]): a zero, destroyed, double-destroyed,
//!   forged or wrong-type handle is `UADK_E_INVALID_HANDLE`, never a use-after-free.
//!   Destroying a zero handle is a no-op.
//! - **Explicit lengths.** Every buffer is a pointer and a length; a pointer may be NULL
//!   only when its length is 0. Input and output buffers must not overlap (checked), except
//!   exactly-equal buffers where a call says it works in place.
//! - **Which path ran and why.** Operations fill an optional `uadk_report` (device or
//!   software, the engine, the reason, whether a device failure fell back) and sessions
//!   keep counters.
//! - **Thread safety** is stated per handle type: pools, sessions and crypto contexts are
//!   safe to share between threads; streams and batches are used by one thread at a time
//!   (concurrent use is detected: `UADK_E_BUSY`).
//! - **Fork.** Handles stay valid in a child, and device queues are reopened there (a
//!   queue belongs to the process that opened it), except pools and zip batches, which own
//!   pinned memory or threads: in a child they fail with `UADK_E_FORKED`.
//!
//! ## Layout
//!
//! | module | job |
//! |---|---|
//! | [`status`] | codes, `uadk_strerror` |
//! | [`boundary`] | panic guard, last error, error mapping, every C-pointer conversion (the crate's `unsafe`) |
//! | [`registry`] | handles as generation-tagged ids; fork handling |
//! | [`report`] | `uadk_report` |
//! | [`device`] | uacce device listing |
//! | [`pool`] | buffer pools |
//! | [`zip`] | compression sessions, streams and batches |
//! | [`crypto`] | crypto contexts, cipher/digest/HMAC/AEAD sessions and streams |
//!
//! ## Example (Rust calling the C entry points, as the tests do)
//!
//! ```
//! use uadk::{status::UADK_OK, zip::*};
//! let mut cfg = std::mem::MaybeUninit::uninit();
//! // SAFETY: `cfg` is writable.
//! assert_eq!(unsafe { uadk_zip_config_default(cfg.as_mut_ptr()) }, UADK_OK);
//! // SAFETY: filled completely by the call above (it returned UADK_OK).
//! let mut cfg = unsafe { cfg.assume_init() };
//! cfg.backend = UADK_BACKEND_SOFTWARE;
//! let mut s = uadk_zip_session { id: 0 };
//! // SAFETY: `cfg` readable, `s` writable.
//! assert_eq!(unsafe { uadk_zip_session_create(&cfg, &mut s) }, UADK_OK);
//! let (src, mut dst, mut n) = (b"hello hello hello".to_vec(), vec![0u8; 256], 0usize);
//! // SAFETY: each buffer is valid for the length passed with it; the report may be NULL.
//! let rc = unsafe { uadk_zip_compress(s, src.as_ptr(), src.len(), dst.as_mut_ptr(), dst.len(), &mut n, std::ptr::null_mut()) };
//! assert_eq!(rc, UADK_OK);
//! assert_eq!(uadk_zip_session_destroy(s), UADK_OK);
//! assert_ne!(uadk_zip_session_destroy(s), UADK_OK); // double destroy: UADK_E_INVALID_HANDLE
//! ```

#![allow(non_camel_case_types)]
#![warn(missing_docs)]

pub mod boundary;
pub mod crypto;
pub mod device;
pub mod pool;
pub mod registry;
pub mod report;
pub mod status;
pub mod zip;

use boundary::{call, copy_out_str, out_ptr};
use status::*;
use std::ffi::c_char;
use std::sync::atomic::Ordering::Relaxed;

/// The library version as `"MAJOR.MINOR.PATCH"`, NUL-terminated, static; never NULL.
/// Compare with `UADK_VERSION_STRING` from the header to detect a header/library mismatch.
///
/// Thread-safe.
#[no_mangle]
pub extern "C" fn uadk_version() -> *const c_char {
    concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr().cast()
}

/// The library version as `MAJOR << 16 | MINOR << 8 | PATCH` (compare with
/// `UADK_VERSION_NUMBER`).
///
/// Thread-safe.
#[no_mangle]
pub extern "C" fn uadk_version_number() -> u32 {
    boundary::call_infallible("uadk_version_number", 0, version_number)
}

fn version_number() -> u32 {
    let part = |s: &str| s.parse::<u32>().unwrap_or(0);
    part(env!("CARGO_PKG_VERSION_MAJOR")) << 16
        | part(env!("CARGO_PKG_VERSION_MINOR")) << 8
        | part(env!("CARGO_PKG_VERSION_PATCH"))
}

/// The status of the last failed call on the calling thread (`UADK_OK` if none failed yet).
/// Successful calls do not reset it.
///
/// Thread-safe: each thread has its own last error.
#[no_mangle]
pub extern "C" fn uadk_last_error_code() -> uadk_status {
    boundary::call_infallible("uadk_last_error_code", UADK_E_PANIC, boundary::last_code)
}

/// Copies the calling thread's last failure message (`"function: what happened; what to
/// do"`) into `buf` (`cap` bytes, NUL-terminated, cut to fit). `*len`, if `len` is not NULL,
/// receives the full message length without the NUL. `buf` may be NULL when `cap` is 0 (to
/// ask for the length). The message is empty when no call failed on this thread yet.
///
/// Returns `UADK_OK`, or `UADK_E_OUTPUT_TOO_SMALL` when the message was cut. This call
/// never changes the last error itself, even when it fails.
///
/// Thread-safe: each thread has its own last error.
///
/// # Safety
/// `buf` must be writable for `cap` bytes; `len` must be NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn uadk_last_error_message(
    buf: *mut c_char,
    cap: usize,
    len: *mut usize,
) -> uadk_status {
    let r = std::panic::catch_unwind(|| {
        // SAFETY: forwarded contract.
        boundary::with_last_message(|m| unsafe { copy_out_str(m, buf, cap, len) })
    });
    match r {
        Ok(Ok(())) => UADK_OK,
        Ok(Err(f)) => f.code,
        Err(_) => UADK_E_PANIC,
    }
}

/// Library-wide counters (`uadk_get_counters`).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct uadk_lib_counters {
    /// Handles alive now (all types).
    pub handles_live: u64,
    /// Handles created since the library was loaded.
    pub handles_created: u64,
    /// Calls that returned an error status (all threads).
    pub failures: u64,
    /// Calls that named a zero, destroyed, forged or wrong-type handle.
    pub invalid_handles: u64,
    /// Panics caught at the C boundary (bugs).
    pub panics: u64,
}

/// Fills `*out` with the library-wide counters.
///
/// Thread-safe.
///
/// # Safety
/// `out` must be NULL (an error) or writable.
#[no_mangle]
pub unsafe extern "C" fn uadk_get_counters(out: *mut uadk_lib_counters) -> uadk_status {
    call("uadk_get_counters", || {
        // SAFETY: forwarded contract.
        let out = unsafe { out_ptr(out, "out") }?;
        let (live, created) = registry::counts();
        out.write(uadk_lib_counters {
            handles_live: live,
            handles_created: created,
            failures: boundary::FAILURES.load(Relaxed),
            invalid_handles: boundary::BAD_HANDLES.load(Relaxed),
            panics: boundary::PANICS.load(Relaxed),
        });
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::CStr;

    #[test]
    fn version_matches_cargo() {
        // SAFETY: static NUL-terminated string.
        let v = unsafe { CStr::from_ptr(uadk_version()) };
        assert_eq!(v.to_str().unwrap(), env!("CARGO_PKG_VERSION"));
        let n = uadk_version_number();
        assert_eq!(
            format!("{}.{}.{}", n >> 16, (n >> 8) & 0xff, n & 0xff),
            env!("CARGO_PKG_VERSION")
        );
    }
}
