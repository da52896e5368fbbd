//! `uadk_report`: which path ran an operation (device or software) and why, filled from the
//! zip crate's `Report` and the crypto crate's `Route`.

use crate::boundary::fill_chars;
use std::ffi::c_char;

/// Which kind of engine ran an operation (`uadk_report.path`).
pub type uadk_path = i32;
/// No operation ran (a failed batch job).
pub const UADK_PATH_NONE: uadk_path = 0;
/// A hardware accelerator (or the emulator standing in for one) ran it.
pub const UADK_PATH_DEVICE: uadk_path = 1;
/// Software ran it.
pub const UADK_PATH_SOFTWARE: uadk_path = 2;

/// Size of `uadk_report.engine`, including the NUL.
pub const UADK_REPORT_ENGINE_LEN: usize = 64;
/// Size of `uadk_report.reason`, including the NUL.
pub const UADK_REPORT_REASON_LEN: usize = 448;

/// What ran an operation and why: filled by every call that takes a `uadk_report *`
/// (which may be NULL when the caller does not want it).
///
/// Strings are NUL-terminated UTF-8 in fixed arrays; a reason longer than the array is cut
/// (on a character boundary) and `reason_truncated` is set.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct uadk_report {
    /// `UADK_PATH_DEVICE` or `UADK_PATH_SOFTWARE` (`UADK_PATH_NONE` for a failed batch job).
    pub path: uadk_path,
    /// True when a device failed and the operation was redone in software.
    pub fell_back: bool,
    /// True when `reason` was cut to fit.
    pub reason_truncated: bool,
    /// Threads that worked on the operation (more than 1 for parallel compression).
    pub threads: u32,
    /// Input bytes of the operation (zip: uncompressed for compression, compressed for
    /// decompression; crypto: data bytes, plus AAD for AEAD).
    pub bytes_in: u64,
    /// Output bytes of the operation.
    pub bytes_out: u64,
    /// The engine: `software:isa-l`, `software:libdeflate`, `device:hisi_zip-0`, or for
    /// crypto `software` / `device`.
    pub engine: [c_char; UADK_REPORT_ENGINE_LEN],
    /// Why this path: e.g. `auto: no device offers gzip compress; ISA-L ...`, or
    /// `software (2048 B is below the 16384 B small-packet threshold)`.
    pub reason: [c_char; UADK_REPORT_REASON_LEN],
}

impl uadk_report {
    pub(crate) fn new(path: uadk_path, engine: &str, reason: &str) -> uadk_report {
        let mut r = uadk_report {
            path,
            fell_back: false,
            reason_truncated: false,
            threads: 1,
            bytes_in: 0,
            bytes_out: 0,
            engine: [0; UADK_REPORT_ENGINE_LEN],
            reason: [0; UADK_REPORT_REASON_LEN],
        };
        fill_chars(&mut r.engine, engine);
        r.reason_truncated = fill_chars(&mut r.reason, reason);
        r
    }

    /// From a zip report; `compress` says which byte count is the input.
    pub(crate) fn from_zip(rep: &uadk_zip::Report, compress: bool) -> uadk_report {
        let path = match rep.engine.kind() {
            "device" => UADK_PATH_DEVICE,
            _ => UADK_PATH_SOFTWARE,
        };
        let mut r = uadk_report::new(path, &rep.engine.to_string(), &rep.reason);
        r.fell_back = rep.fell_back;
        r.threads = u32::try_from(rep.threads).unwrap_or(u32::MAX);
        (r.bytes_in, r.bytes_out) = if compress {
            (rep.uncompressed, rep.compressed)
        } else {
            (rep.compressed, rep.uncompressed)
        };
        r
    }

    /// From a crypto route.
    pub(crate) fn from_route(route: &::uadk_crypto::Route, bytes_in: usize, bytes_out: usize) -> uadk_report {
        let path = match route.ran {
            ::uadk_crypto::Ran::Device => UADK_PATH_DEVICE,
            ::uadk_crypto::Ran::Software => UADK_PATH_SOFTWARE,
        };
        let mut r = uadk_report::new(path, &route.ran.to_string(), &route.to_string());
        r.fell_back = matches!(route.reason, ::uadk_crypto::Reason::Fallback(_));
        r.bytes_in = bytes_in as u64;
        r.bytes_out = bytes_out as u64;
        r
    }
}
