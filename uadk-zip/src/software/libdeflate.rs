//! libdeflate (bundled by `libdeflate-sys`): whole-buffer raw deflate compression (levels
//! 0..=12, used for 4..=9) and whole-buffer decompression. It cannot stream.
//!
//! All unsafe FFI to libdeflate lives in this module.

use crate::error::{Error, Result};
use crate::format::Format;
use libdeflate_sys as ffi;
use std::os::raw::c_void;

fn alloc_error() -> Error {
    Error::Library {
        library: "libdeflate",
        detail: "allocation of the (de)compressor failed (out of memory)".into(),
    }
}

struct Compressor(*mut ffi::libdeflate_compressor);

impl Drop for Compressor {
    fn drop(&mut self) {
        // SAFETY: the pointer came from `libdeflate_alloc_compressor`, is non-null and is
        // freed exactly once, here.
        unsafe { ffi::libdeflate_free_compressor(self.0) }
    }
}

struct Decompressor(*mut ffi::libdeflate_decompressor);

impl Drop for Decompressor {
    fn drop(&mut self) {
        // SAFETY: the pointer came from `libdeflate_alloc_decompressor`, is non-null and is
        // freed exactly once, here.
        unsafe { ffi::libdeflate_free_decompressor(self.0) }
    }
}

/// Appends the raw deflate compression of `input` (one final stream) to `out`.
pub(crate) fn compress(level: u32, input: &[u8], out: &mut Vec<u8>) -> Result<()> {
    if level > 12 {
        return Err(Error::InvalidLevel(level));
    }
    // SAFETY: plain constructor; a null return is handled below.
    let c = unsafe { ffi::libdeflate_alloc_compressor(level as i32) };
    if c.is_null() {
        return Err(alloc_error());
    }
    let c = Compressor(c);
    // SAFETY: `c.0` is a live compressor.
    let bound = unsafe { ffi::libdeflate_deflate_compress_bound(c.0, input.len()) };
    out.reserve(bound);
    let start = out.len();
    let spare = out.spare_capacity_mut();
    // SAFETY: `input` is valid for reads of its length and the spare capacity for writes of
    // `spare.len()` bytes; they do not overlap; libdeflate writes at most that many bytes.
    let n = unsafe {
        ffi::libdeflate_deflate_compress(
            c.0,
            input.as_ptr().cast::<c_void>(),
            input.len(),
            spare.as_mut_ptr().cast::<c_void>(),
            spare.len(),
        )
    };
    if n == 0 {
        return Err(Error::Library {
            library: "libdeflate",
            detail: format!("output did not fit the bound of {bound} bytes"),
        });
    }
    // SAFETY: libdeflate initialised the first `n` bytes of the spare capacity.
    unsafe { out.set_len(start + n) };
    Ok(())
}

/// Decompresses one raw deflate stream at the start of `input` into `out` (`cap` bytes at
/// `out`). Returns `(input bytes used, output bytes produced)`, or `None` when the output
/// does not fit (libdeflate cannot resume; the caller decides what next).
///
/// # Safety
/// `out` must be valid for writes of `cap` bytes.
unsafe fn decompress_raw(
    format: Format,
    input: &[u8],
    out: *mut u8,
    cap: usize,
) -> Result<Option<(usize, usize)>> {
    // SAFETY: plain constructor; a null return is handled below.
    let d = unsafe { ffi::libdeflate_alloc_decompressor() };
    if d.is_null() {
        return Err(alloc_error());
    }
    let d = Decompressor(d);
    let (mut used, mut produced) = (0usize, 0usize);
    // SAFETY: `input` is valid for reads of its length, `out` for writes of `cap` bytes (the
    // caller's contract); libdeflate writes at most `cap` bytes and stores the counts in the
    // two locals, which live across the call.
    let rc = unsafe {
        ffi::libdeflate_deflate_decompress_ex(
            d.0,
            input.as_ptr().cast::<c_void>(),
            input.len(),
            out.cast::<c_void>(),
            cap,
            &mut used,
            &mut produced,
        )
    };
    match rc {
        ffi::libdeflate_result_LIBDEFLATE_SUCCESS => Ok(Some((used, produced))),
        ffi::libdeflate_result_LIBDEFLATE_INSUFFICIENT_SPACE => Ok(None),
        // libdeflate does not tell truncation from corruption.
        ffi::libdeflate_result_LIBDEFLATE_BAD_DATA => {
            Err(Error::corrupt(format, "invalid or truncated deflate data"))
        }
        other => Err(Error::Library {
            library: "libdeflate",
            detail: format!("decompression returned {other}"),
        }),
    }
}

/// Like [`decompress_slice`], appending to `out` within `cap` more bytes of capacity.
pub(crate) fn decompress(
    format: Format,
    input: &[u8],
    cap: usize,
    out: &mut Vec<u8>,
) -> Result<Option<usize>> {
    let start = out.len();
    out.reserve(cap);
    let spare = &mut out.spare_capacity_mut()[..cap];
    // SAFETY: the spare capacity is valid for writes of `cap` bytes.
    let r = unsafe { decompress_raw(format, input, spare.as_mut_ptr().cast::<u8>(), cap)? };
    Ok(r.map(|(used, produced)| {
        // SAFETY: libdeflate initialised `produced` bytes of the spare capacity.
        unsafe { out.set_len(start + produced) };
        used
    }))
}

/// Decompresses one raw deflate stream at the start of `input` into `out`; returns
/// `(input bytes used, output bytes produced)` or `None` when `out` is too small.
pub(crate) fn decompress_slice(
    format: Format,
    input: &[u8],
    out: &mut [u8],
) -> Result<Option<(usize, usize)>> {
    // SAFETY: `out` is a valid mutable slice of `out.len()` bytes.
    unsafe { decompress_raw(format, input, out.as_mut_ptr(), out.len()) }
}

/// libdeflate's CRC-32 (gzip polynomial), continuing from `crc` (0 to start); it uses
/// (V)PCLMULQDQ folding where the CPU has it.
pub(crate) fn crc32(crc: u32, data: &[u8]) -> u32 {
    // SAFETY: `data` is valid for reads of its length; the function only reads it.
    unsafe { ffi::libdeflate_crc32(crc, data.as_ptr().cast::<c_void>(), data.len()) }
}

/// libdeflate's Adler-32, continuing from `adler` (1 to start).
pub(crate) fn adler32(adler: u32, data: &[u8]) -> u32 {
    // SAFETY: `data` is valid for reads of its length; the function only reads it.
    unsafe { ffi::libdeflate_adler32(adler, data.as_ptr().cast::<c_void>(), data.len()) }
}
