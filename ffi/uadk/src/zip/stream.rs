//! Streaming compression and decompression with zlib's flush modes.

use super::uadk_zip_session;
use crate::boundary::{call, out_ptr, src_dst, Failure, Outcome};
use crate::registry::{self, exclusive, impl_handle};
use crate::report::uadk_report;
use crate::status::*;
use std::sync::{Arc, Mutex};
use uadk_zip::{Compressor, Decompressor, Flush, Progress};

/// A compression stream made from a session. One thread at a time (concurrent use is
/// `UADK_E_BUSY`); any thread may continue it. Valid in a forked child (a device stream
/// then continues in software or ends with `UADK_E_STREAM_LOST`).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct uadk_zip_compressor {
    /// Opaque id; 0 is no stream.
    pub id: u64,
}
impl_handle!(uadk_zip_compressor, ZipCompressor, Mutex<Compressor>);

/// A decompression stream made from a session (reads concatenated gzip members). One thread
/// at a time, as `uadk_zip_compressor`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct uadk_zip_decompressor {
    /// Opaque id; 0 is no stream.
    pub id: u64,
}
impl_handle!(uadk_zip_decompressor, ZipDecompressor, Mutex<Decompressor>);

/// zlib's flush modes, with zlib's values (`Z_NO_FLUSH` ... `Z_BLOCK`).
pub type uadk_flush = i32;
/// Compress as input arrives; output may lag behind (`Z_NO_FLUSH`).
pub const UADK_FLUSH_NONE: uadk_flush = 0;
/// `Z_PARTIAL_FLUSH`: served as a sync flush (everything so far is emitted and
/// byte-aligned, which is all a partial flush promises and a little more).
pub const UADK_FLUSH_PARTIAL: uadk_flush = 1;
/// Emit everything so far and byte-align (empty stored block); history is kept
/// (`Z_SYNC_FLUSH`).
pub const UADK_FLUSH_SYNC: uadk_flush = 2;
/// As sync, and forget history so decoding can restart here (`Z_FULL_FLUSH`).
pub const UADK_FLUSH_FULL: uadk_flush = 3;
/// Finish the stream: final block and trailer (`Z_FINISH`).
pub const UADK_FLUSH_FINISH: uadk_flush = 4;
/// `Z_BLOCK`: served as a sync flush (the current block is completed, and byte-aligned).
pub const UADK_FLUSH_BLOCK: uadk_flush = 5;

/// What one streaming call did.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct uadk_zip_progress {
    /// Input bytes consumed; pass the rest again.
    pub consumed: usize,
    /// Output bytes written.
    pub produced: usize,
    /// Compressor: the requested flush is complete (for `UADK_FLUSH_FINISH`, the whole
    /// stream is out). Decompressor: a stream (gzip: a member) ended and was verified.
    pub done: bool,
    /// Input bytes consumed by the stream so far.
    pub total_in: u64,
    /// Output bytes produced by the stream so far.
    pub total_out: u64,
}

fn flush(v: uadk_flush) -> Outcome<Flush> {
    Ok(match v {
        UADK_FLUSH_NONE => Flush::None,
        UADK_FLUSH_PARTIAL | UADK_FLUSH_SYNC | UADK_FLUSH_BLOCK => Flush::Sync,
        UADK_FLUSH_FULL => Flush::Full,
        UADK_FLUSH_FINISH => Flush::Finish,
        other => {
            return Err(Failure::invalid(format!(
                "flush = {other} is not a UADK_FLUSH_* value (zlib's Z_NO_FLUSH..Z_BLOCK)"
            )))
        }
    })
}

fn progress(p: Progress, total_in: u64, total_out: u64) -> uadk_zip_progress {
    uadk_zip_progress {
        consumed: p.consumed,
        produced: p.produced,
        done: p.done,
        total_in,
        total_out,
    }
}

/// Creates a compression stream with the session's format, level and backend into `*out`.
///
/// Thread-safe. The caller owns the stream and destroys it with
/// `uadk_zip_compressor_destroy`.
///
/// # Safety
/// `out` must be NULL (an error) or writable.
#[no_mangle]
pub unsafe extern "C" fn uadk_zip_compressor_create(
    session: uadk_zip_session,
    out: *mut uadk_zip_compressor,
) -> uadk_status {
    call("uadk_zip_compressor_create", || {
        // SAFETY: forwarded contract.
        let out = unsafe { out_ptr(out, "out") }?;
        let c = registry::get(session)?.compressor()?;
        out.write(registry::insert(Arc::new(Mutex::new(c)))?);
        Ok(())
    })
}

/// Compresses from `src` into `dst` with `flush` (a `UADK_FLUSH_*`); `*progress` says how
/// much was consumed and produced and whether the flush completed. As with zlib's
/// `deflate()`, call again with the unconsumed input (and the same flush) until
/// `progress->done`. After `UADK_FLUSH_FINISH` completed, further calls fail with
/// `UADK_E_BAD_STATE`.
///
/// One thread at a time per stream.
///
/// # Safety
/// `src` readable for `src_len` bytes, `dst` writable for `dst_cap` bytes (NULL only with
/// length 0; no overlap); `progress` writable.
#[no_mangle]
pub unsafe extern "C" fn uadk_zip_compressor_compress(
    stream: uadk_zip_compressor,
    src: *const u8,
    src_len: usize,
    dst: *mut u8,
    dst_cap: usize,
    flush_mode: uadk_flush,
    progress_out: *mut uadk_zip_progress,
) -> uadk_status {
    call("uadk_zip_compressor_compress", || {
        // SAFETY: forwarded contracts.
        let ((src, dst), out) = unsafe {
            (
                src_dst(src, src_len, dst, dst_cap)?,
                out_ptr(progress_out, "progress")?,
            )
        };
        let f = flush(flush_mode)?;
        let obj = registry::get(stream)?;
        let mut c = exclusive::<uadk_zip_compressor, _>(&obj)?;
        let p = c.compress(src, dst, f)?;
        out.write(progress(p, c.total_in(), c.total_out()));
        Ok(())
    })
}

/// Fills `*report` with what runs this stream and why, and its byte counts so far.
///
/// One thread at a time per stream.
///
/// # Safety
/// `report` must be NULL (an error) or writable.
#[no_mangle]
pub unsafe extern "C" fn uadk_zip_compressor_report(
    stream: uadk_zip_compressor,
    report: *mut uadk_report,
) -> uadk_status {
    call("uadk_zip_compressor_report", || {
        // SAFETY: forwarded contract.
        let out = unsafe { out_ptr(report, "report") }?;
        let obj = registry::get(stream)?;
        let c = exclusive::<uadk_zip_compressor, _>(&obj)?;
        let mut r = uadk_report::from_zip(c.report(), true);
        (r.bytes_in, r.bytes_out) = (c.total_in(), c.total_out());
        out.write(r);
        Ok(())
    })
}

/// Destroys the stream (an unfinished stream is simply dropped). A zero handle is a no-op;
/// a destroyed one is `UADK_E_INVALID_HANDLE`.
///
/// Thread-safe.
#[no_mangle]
pub extern "C" fn uadk_zip_compressor_destroy(stream: uadk_zip_compressor) -> uadk_status {
    call("uadk_zip_compressor_destroy", || registry::destroy(stream))
}

/// Creates a decompression stream with the session's format, output limit and backend
/// into `*out`.
///
/// Thread-safe. The caller owns the stream and destroys it with
/// `uadk_zip_decompressor_destroy`.
///
/// # Safety
/// `out` must be NULL (an error) or writable.
#[no_mangle]
pub unsafe extern "C" fn uadk_zip_decompressor_create(
    session: uadk_zip_session,
    out: *mut uadk_zip_decompressor,
) -> uadk_status {
    call("uadk_zip_decompressor_create", || {
        // SAFETY: forwarded contract.
        let out = unsafe { out_ptr(out, "out") }?;
        let d = registry::get(session)?.decompressor()?;
        out.write(registry::insert(Arc::new(Mutex::new(d)))?);
        Ok(())
    })
}

/// Decompresses from `src` into `dst`; returns when the input is used up, the output is
/// full, or a stream (gzip: member) ended (`progress->done`). Pass unconsumed input again.
/// Corrupt input, a checksum mismatch or output beyond the session's limit are errors.
/// Call `uadk_zip_decompressor_finish` after the last input to detect truncation.
///
/// One thread at a time per stream.
///
/// # Safety
/// As `uadk_zip_compressor_compress`.
#[no_mangle]
pub unsafe extern "C" fn uadk_zip_decompressor_decompress(
    stream: uadk_zip_decompressor,
    src: *const u8,
    src_len: usize,
    dst: *mut u8,
    dst_cap: usize,
    progress_out: *mut uadk_zip_progress,
) -> uadk_status {
    call("uadk_zip_decompressor_decompress", || {
        // SAFETY: forwarded contracts.
        let ((src, dst), out) = unsafe {
            (
                src_dst(src, src_len, dst, dst_cap)?,
                out_ptr(progress_out, "progress")?,
            )
        };
        let obj = registry::get(stream)?;
        let mut d = exclusive::<uadk_zip_decompressor, _>(&obj)?;
        let p = d.decompress(src, dst)?;
        out.write(progress(p, d.total_in(), d.total_out()));
        Ok(())
    })
}

/// Declares the end of the input: `UADK_OK` when at least one complete stream was read and
/// nothing is left half-way, `UADK_E_DATA_TRUNCATED` otherwise.
///
/// One thread at a time per stream.
#[no_mangle]
pub extern "C" fn uadk_zip_decompressor_finish(stream: uadk_zip_decompressor) -> uadk_status {
    call("uadk_zip_decompressor_finish", || {
        let obj = registry::get(stream)?;
        let mut d = exclusive::<uadk_zip_decompressor, _>(&obj)?;
        d.finish()?;
        Ok(())
    })
}

/// Fills `*report` with what runs this stream and why, and its byte counts so far.
///
/// One thread at a time per stream.
///
/// # Safety
/// `report` must be NULL (an error) or writable.
#[no_mangle]
pub unsafe extern "C" fn uadk_zip_decompressor_report(
    stream: uadk_zip_decompressor,
    report: *mut uadk_report,
) -> uadk_status {
    call("uadk_zip_decompressor_report", || {
        // SAFETY: forwarded contract.
        let out = unsafe { out_ptr(report, "report") }?;
        let obj = registry::get(stream)?;
        let d = exclusive::<uadk_zip_decompressor, _>(&obj)?;
        let mut r = uadk_report::from_zip(d.report(), false);
        (r.bytes_in, r.bytes_out) = (d.total_in(), d.total_out());
        out.write(r);
        Ok(())
    })
}

/// Destroys the stream. A zero handle is a no-op; a destroyed one is
/// `UADK_E_INVALID_HANDLE`.
///
/// Thread-safe.
#[no_mangle]
pub extern "C" fn uadk_zip_decompressor_destroy(stream: uadk_zip_decompressor) -> uadk_status {
    call("uadk_zip_decompressor_destroy", || registry::destroy(stream))
}
