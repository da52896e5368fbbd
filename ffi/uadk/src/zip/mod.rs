//! Compression (`uadk-zip`): sessions with one-shot calls, streams with zlib's flush modes,
//! and batches of asynchronous jobs.
//!
//! A session resolves its backend once: `UADK_BACKEND_AUTO` uses a ZIP device when one
//! offers the format (found under `UADK_SYSFS_ROOT`/`UADK_DEV_ROOT`, or `/sys`, `/dev`) and
//! software otherwise; `UADK_BACKEND_DEVICE` fails with `UADK_E_NO_DEVICE` without one;
//! `UADK_BACKEND_SOFTWARE` never touches a device.

mod batch;
mod stream;

pub use batch::*;
pub use stream::*;

use crate::boundary::{
    call, copy_out_str, flag, in_ref, opt_out_ptr, out_ptr, src_dst, Failure, OutPtr, Outcome,
};
use crate::pool::uadk_pool;
use crate::registry::{self, impl_handle};
use crate::report::uadk_report;
use crate::status::*;
use std::ffi::c_char;
use std::sync::Arc;
use uadk_zip::{Backend, Config, Direction, Format, Session};

/// A compression session: format, level, backend, limits and counters. Thread-safe: any
/// number of threads may run one-shot calls and create streams and batches on one session
/// at once. Destroying it does not invalidate streams or batches made from it.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct uadk_zip_session {
    /// Opaque id; 0 is no session.
    pub id: u64,
}
impl_handle!(uadk_zip_session, ZipSession, Session);

/// Container format (`uadk_zip_config.format`).
pub type uadk_format = i32;
/// Raw deflate (RFC 1951).
pub const UADK_FORMAT_DEFLATE: uadk_format = 0;
/// zlib (RFC 1950).
pub const UADK_FORMAT_ZLIB: uadk_format = 1;
/// gzip (RFC 1952); decompression reads concatenated members.
pub const UADK_FORMAT_GZIP: uadk_format = 2;

/// Which engines may run requests (`uadk_zip_config.backend`, `uadk_crypto_config.backend`).
pub type uadk_backend = i32;
/// A device when one offers the work (and, for crypto, the request is large enough), else
/// software.
pub const UADK_BACKEND_AUTO: uadk_backend = 0;
/// A device only: `UADK_E_NO_DEVICE` when none offers the work.
pub const UADK_BACKEND_DEVICE: uadk_backend = 1;
/// Software only.
pub const UADK_BACKEND_SOFTWARE: uadk_backend = 2;

/// Compression or decompression (batch jobs, `uadk_zip_session_reason`).
pub type uadk_direction = i32;
/// Compression.
pub const UADK_COMPRESS: uadk_direction = 0;
/// Decompression.
pub const UADK_DECOMPRESS: uadk_direction = 1;

/// Settings of a session. Fill with `uadk_zip_config_default`, then change fields. Flags
/// are `uint8_t` (0 = false, anything else = true).
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct uadk_zip_config {
    /// A `UADK_FORMAT_*` value (default gzip).
    pub format: uadk_format,
    /// Compression level 0..=9 (default 6).
    pub level: u32,
    /// A `UADK_BACKEND_*` value (default auto).
    pub backend: uadk_backend,
    /// Redo a failed device request in software (default 1).
    pub fallback: u8,
    /// Most bytes one decompression may produce (bomb guard; default 4 GiB).
    pub max_output: u64,
    /// Threads for parallel one-shot compression of large inputs, at least 1 (default: the
    /// available cores).
    pub threads: u32,
    /// One-shot inputs at least this large are compressed in parallel blocks (default 1 MiB).
    pub parallel_threshold: usize,
    /// A pool whose chunks go to a device without a copy, or the zero handle (default).
    /// The session keeps the pool's memory alive; the pool handle may be destroyed first.
    pub pool: uadk_pool,
}

/// A session's counters (`uadk_zip_session_get_counters`).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct uadk_zip_counters {
    /// Requests completed on a device.
    pub device_requests: u64,
    /// Requests completed in software (fallbacks included).
    pub software_requests: u64,
    /// Device failures redone in software.
    pub fallbacks: u64,
    /// Requests that returned an error.
    pub errors: u64,
    /// Uncompressed bytes of completed requests.
    pub bytes_uncompressed: u64,
    /// Compressed bytes of completed requests.
    pub bytes_compressed: u64,
    /// Device input bytes sent without a copy (inside a pool chunk).
    pub dma_zero_copy_bytes: u64,
    /// Device input bytes copied through a staging buffer.
    pub dma_bounced_bytes: u64,
    /// Device input bytes sent as they are from memory outside any pool.
    pub dma_direct_bytes: u64,
}

pub(crate) fn format(v: uadk_format) -> Outcome<Format> {
    Ok(match v {
        UADK_FORMAT_DEFLATE => Format::Deflate,
        UADK_FORMAT_ZLIB => Format::Zlib,
        UADK_FORMAT_GZIP => Format::Gzip,
        other => {
            return Err(Failure::invalid(format!(
                "format = {other} is not a UADK_FORMAT_* value"
            )))
        }
    })
}

fn format_code(f: Format) -> uadk_format {
    match f {
        Format::Deflate => UADK_FORMAT_DEFLATE,
        Format::Zlib => UADK_FORMAT_ZLIB,
        Format::Gzip => UADK_FORMAT_GZIP,
    }
}

pub(crate) fn backend(v: uadk_backend) -> Outcome<Backend> {
    Ok(match v {
        UADK_BACKEND_AUTO => Backend::Auto,
        UADK_BACKEND_DEVICE => Backend::Device,
        UADK_BACKEND_SOFTWARE => Backend::Software,
        other => {
            return Err(Failure::invalid(format!(
                "backend = {other} is not a UADK_BACKEND_* value"
            )))
        }
    })
}

pub(crate) fn direction(v: uadk_direction) -> Outcome<Direction> {
    Ok(match v {
        UADK_COMPRESS => Direction::Compress,
        UADK_DECOMPRESS => Direction::Decompress,
        other => {
            return Err(Failure::invalid(format!(
                "direction = {other}: use UADK_COMPRESS or UADK_DECOMPRESS"
            )))
        }
    })
}

/// Fills `*cfg` with the defaults (see the fields).
///
/// Thread-safe.
///
/// # Safety
/// `cfg` must be NULL (an error) or writable.
#[no_mangle]
pub unsafe extern "C" fn uadk_zip_config_default(cfg: *mut uadk_zip_config) -> uadk_status {
    call("uadk_zip_config_default", || {
        // SAFETY: forwarded contract.
        let cfg = unsafe { out_ptr(cfg, "cfg") }?;
        let d = Config::default();
        cfg.write(uadk_zip_config {
            format: format_code(d.format),
            level: d.level,
            backend: UADK_BACKEND_AUTO,
            fallback: u8::from(d.fallback),
            max_output: d.max_output,
            threads: u32::try_from(d.threads).unwrap_or(u32::MAX),
            parallel_threshold: d.parallel_threshold,
            pool: uadk_pool { id: 0 },
        });
        Ok(())
    })
}

fn config(c: &uadk_zip_config) -> Outcome<Config> {
    if c.level > 9 {
        return Err(Failure::invalid(format!(
            "level = {}: use a level from 0 (store) to 9 (best)",
            c.level
        )));
    }
    if c.threads == 0 {
        return Err(Failure::invalid("threads = 0: use at least 1"));
    }
    let pool = match c.pool.id {
        0 => None,
        _ => Some(registry::get(c.pool)?.pool.clone()),
    };
    Ok(Config {
        format: format(c.format)?,
        level: c.level,
        backend: backend(c.backend)?,
        fallback: flag(c.fallback),
        max_output: c.max_output,
        threads: c.threads as usize,
        parallel_threshold: c.parallel_threshold,
        pool,
        ..Config::default()
    })
}

/// Creates a session as `*cfg` says into `*out`. `UADK_E_NO_DEVICE` with
/// `UADK_BACKEND_DEVICE` when no device offers the format (in either direction).
///
/// Thread-safe. The caller owns the session and destroys it with `uadk_zip_session_destroy`.
///
/// # Safety
/// `cfg` must be NULL or readable; `out` NULL or writable (NULL is an error).
#[no_mangle]
pub unsafe extern "C" fn uadk_zip_session_create(
    cfg: *const uadk_zip_config,
    out: *mut uadk_zip_session,
) -> uadk_status {
    call("uadk_zip_session_create", || {
        // SAFETY: forwarded contracts.
        let (cfg, out) = unsafe { (in_ref(cfg, "cfg")?, out_ptr(out, "out")?) };
        let session = Session::new(config(cfg)?)?;
        out.write(registry::insert(Arc::new(session))?);
        Ok(())
    })
}

/// Destroys the session (streams and batches made from it keep working). A zero handle is
/// a no-op; a destroyed one is `UADK_E_INVALID_HANDLE`.
///
/// Thread-safe.
#[no_mangle]
pub extern "C" fn uadk_zip_session_destroy(session: uadk_zip_session) -> uadk_status {
    call("uadk_zip_session_destroy", || registry::destroy(session))
}

/// The checked arguments of a one-shot call.
struct OneShot<'a> {
    src: &'a [u8],
    dst: &'a mut [u8],
    dst_len: OutPtr<usize>,
    report: Option<OutPtr<uadk_report>>,
}

/// The checks shared by the one-shot calls: slices, no overlap, the length out-parameter.
///
/// # Safety
/// The pointers as documented on `uadk_zip_compress`.
unsafe fn one_shot<'a>(
    src: *const u8,
    src_len: usize,
    dst: *mut u8,
    dst_cap: usize,
    dst_len: *mut usize,
    report: *mut uadk_report,
) -> Outcome<OneShot<'a>> {
    // SAFETY: forwarded contracts.
    unsafe {
        let (src, dst) = src_dst(src, src_len, dst, dst_cap)?;
        Ok(OneShot {
            src,
            dst,
            dst_len: out_ptr(dst_len, "dst_len")?,
            report: opt_out_ptr(report, "report")?,
        })
    }
}

fn too_small(e: uadk_zip::Error, dst_len: &OutPtr<usize>) -> Failure {
    if let uadk_zip::Error::OutputTooSmall { needed: Some(n), .. } = &e {
        dst_len.write(*n);
    }
    e.into()
}

/// The body of `uadk_zip_compress` / `uadk_zip_decompress`: straight into `dst` without a
/// report, else through the reporting call and copied out.
fn run_one_shot(session: uadk_zip_session, dir: Direction, args: OneShot<'_>) -> Outcome {
    let OneShot {
        src,
        dst,
        dst_len,
        report,
    } = args;
    let s = registry::get(session)?;
    let compress = dir == Direction::Compress;
    let Some(report) = report else {
        let n = match compress {
            true => s.compress_into(src, dst),
            false => s.decompress_into(src, dst),
        }
        .map_err(|e| too_small(e, &dst_len))?;
        dst_len.write(n);
        return Ok(());
    };
    let (v, rep) = match compress {
        true => s.compress_report(src)?,
        false => s.decompress_report(src)?,
    };
    if v.len() > dst.len() {
        dst_len.write(v.len());
        return Err(Failure::new(
            UADK_E_OUTPUT_TOO_SMALL,
            format!(
                "output buffer too small: {} bytes given, {} bytes needed",
                dst.len(),
                v.len()
            ),
        ));
    }
    dst[..v.len()].copy_from_slice(&v);
    dst_len.write(v.len());
    report.write(uadk_report::from_zip(&rep, compress));
    Ok(())
}

/// Compresses `src_len` bytes at `src` into `dst` (`dst_cap` bytes); `*dst_len` receives
/// the compressed length. When `dst` is too small: `UADK_E_OUTPUT_TOO_SMALL` and `*dst_len`
/// is the exact size needed. Large inputs (`parallel_threshold`) are compressed on several
/// threads into one standard stream. `report` (may be NULL) says what ran and why.
///
/// Thread-safe (the session may be shared).
///
/// # Safety
/// `src` readable for `src_len` bytes and `dst` writable for `dst_cap` bytes (each may be
/// NULL only with length 0; they must not overlap); `dst_len` writable; `report` NULL or
/// writable.
#[no_mangle]
pub unsafe extern "C" fn uadk_zip_compress(
    session: uadk_zip_session,
    src: *const u8,
    src_len: usize,
    dst: *mut u8,
    dst_cap: usize,
    dst_len: *mut usize,
    report: *mut uadk_report,
) -> uadk_status {
    call("uadk_zip_compress", || {
        // SAFETY: forwarded contracts.
        let args = unsafe { one_shot(src, src_len, dst, dst_cap, dst_len, report) }?;
        run_one_shot(session, Direction::Compress, args)
    })
}

/// Decompresses the whole stream at `src` (all gzip members) into `dst`; `*dst_len`
/// receives the decompressed length. When `dst` is too small: `UADK_E_OUTPUT_TOO_SMALL` and
/// `*dst_len` is the size needed (counted up to the session's `max_output`). Corrupt,
/// truncated or trailing input: `UADK_E_DATA_CORRUPT`, `UADK_E_DATA_TRUNCATED`,
/// `UADK_E_TRAILING_DATA`, `UADK_E_CHECKSUM`. `report` (may be NULL) says what ran and why.
///
/// Thread-safe (the session may be shared).
///
/// # Safety
/// As `uadk_zip_compress`.
#[no_mangle]
pub unsafe extern "C" fn uadk_zip_decompress(
    session: uadk_zip_session,
    src: *const u8,
    src_len: usize,
    dst: *mut u8,
    dst_cap: usize,
    dst_len: *mut usize,
    report: *mut uadk_report,
) -> uadk_status {
    call("uadk_zip_decompress", || {
        // SAFETY: forwarded contracts.
        let args = unsafe { one_shot(src, src_len, dst, dst_cap, dst_len, report) }?;
        run_one_shot(session, Direction::Decompress, args)
    })
}

/// Fills `*out` with the session's counters (device and software requests, fallbacks,
/// errors, bytes, how device inputs were placed).
///
/// Thread-safe.
///
/// # Safety
/// `out` must be NULL (an error) or writable.
#[no_mangle]
pub unsafe extern "C" fn uadk_zip_session_get_counters(
    session: uadk_zip_session,
    out: *mut uadk_zip_counters,
) -> uadk_status {
    call("uadk_zip_session_get_counters", || {
        // SAFETY: forwarded contract.
        let out = unsafe { out_ptr(out, "out") }?;
        let c = registry::get(session)?.counters();
        out.write(uadk_zip_counters {
            device_requests: c.device_requests,
            software_requests: c.software_requests,
            fallbacks: c.fallbacks,
            errors: c.errors,
            bytes_uncompressed: c.bytes_uncompressed,
            bytes_compressed: c.bytes_compressed,
            dma_zero_copy_bytes: c.dma_zero_copy_bytes,
            dma_bounced_bytes: c.dma_bounced_bytes,
            dma_direct_bytes: c.dma_direct_bytes,
        });
        Ok(())
    })
}

/// Copies why requests in `dir` (`UADK_COMPRESS` / `UADK_DECOMPRESS`) go where they go
/// (e.g. `auto: no device offers gzip compress`) into `buf` (`cap` bytes, NUL-terminated,
/// cut to fit: `UADK_E_OUTPUT_TOO_SMALL`). `*len` (if not NULL) receives the full length;
/// `buf` may be NULL when `cap` is 0.
///
/// Thread-safe.
///
/// # Safety
/// `buf` writable for `cap` bytes; `len` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn uadk_zip_session_reason(
    session: uadk_zip_session,
    dir: uadk_direction,
    buf: *mut c_char,
    cap: usize,
    len: *mut usize,
) -> uadk_status {
    call("uadk_zip_session_reason", || {
        let d = direction(dir)?;
        let s = registry::get(session)?;
        // SAFETY: forwarded contract.
        unsafe { copy_out_str(s.backend_reason(d), buf, cap, len) }
    })
}
