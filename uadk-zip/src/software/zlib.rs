//! The system zlib (Debian `zlib1g`, through `libz-sys`): the reference peer of the
//! benchmark and the interop check. Whole buffers only, with zlib's own framing (windowBits
//! −15 / 15 / 31), so its output and its reading of ours are zlib's, not ours.
//!
//! All unsafe FFI to zlib lives in this module.

use crate::error::{Error, Result};
use crate::format::Format;
use libz_sys as z;
use std::os::raw::{c_int, c_uint, c_void};

unsafe extern "C" fn zalloc(_opaque: *mut c_void, items: c_uint, size: c_uint) -> *mut c_void {
    // SAFETY: calloc accepts any counts and returns null on failure, which zlib handles.
    unsafe { libc::calloc(items as usize, size as usize) }
}

unsafe extern "C" fn zfree(_opaque: *mut c_void, ptr: *mut c_void) {
    // SAFETY: zlib only frees pointers it obtained from `zalloc` (calloc) above.
    unsafe { libc::free(ptr) }
}

fn window_bits(format: Format) -> c_int {
    match format {
        Format::Deflate => -15,
        Format::Zlib => 15,
        Format::Gzip => 31,
    }
}

/// A z_stream with a known end function, boxed (zlib keeps a pointer back to it).
struct Stream {
    s: Box<z::z_stream>,
    inflate: bool,
}

impl Stream {
    fn blank() -> Box<z::z_stream> {
        Box::new(z::z_stream {
            next_in: std::ptr::null_mut(),
            avail_in: 0,
            total_in: 0,
            next_out: std::ptr::null_mut(),
            avail_out: 0,
            total_out: 0,
            msg: std::ptr::null_mut(),
            state: std::ptr::null_mut(),
            zalloc,
            zfree,
            opaque: std::ptr::null_mut(),
            data_type: 0,
            adler: 0,
            reserved: 0,
        })
    }

    fn error(&self, what: &str, rc: c_int) -> Error {
        Error::Library {
            library: "zlib",
            detail: format!("{what} returned {rc}"),
        }
    }
}

impl Drop for Stream {
    fn drop(&mut self) {
        // SAFETY: the stream was successfully initialised (Stream is only built after a
        // successful *Init2_) and is ended exactly once.
        unsafe {
            if self.inflate {
                z::inflateEnd(&mut *self.s);
            } else {
                z::deflateEnd(&mut *self.s);
            }
        }
    }
}

fn size_of_stream() -> c_int {
    std::mem::size_of::<z::z_stream>() as c_int
}

/// Compresses `input` with the system zlib in `format` at `level`.
pub(crate) fn compress(format: Format, level: u32, input: &[u8]) -> Result<Vec<u8>> {
    if level > 9 {
        return Err(Error::InvalidLevel(level));
    }
    let mut s = Stream::blank();
    // SAFETY: `s` is a fully initialised z_stream with valid allocators; the version string
    // and struct size come from the same headers zlib checks against.
    let rc = unsafe {
        z::deflateInit2_(
            &mut *s,
            level as c_int,
            z::Z_DEFLATED,
            window_bits(format),
            8,
            z::Z_DEFAULT_STRATEGY,
            z::zlibVersion(),
            size_of_stream(),
        )
    };
    if rc != z::Z_OK {
        return Err(Error::Library {
            library: "zlib",
            detail: format!("deflateInit2 returned {rc}"),
        });
    }
    let mut st = Stream { s, inflate: false };
    // SAFETY: the stream is initialised.
    let bound = unsafe { z::deflateBound(&mut *st.s, input.len() as _) } as usize;
    let mut out: Vec<u8> = Vec::with_capacity(bound);
    let mut pos = 0usize;
    loop {
        let in_chunk = (input.len() - pos).min(u32::MAX as usize);
        if out.capacity() - out.len() < 64 {
            out.reserve(out.capacity().max(1024));
        }
        let spare = out.spare_capacity_mut();
        let out_chunk = spare.len().min(u32::MAX as usize);
        let last = pos + in_chunk == input.len();
        // SAFETY: next_in/next_out are valid for avail_in/avail_out bytes during the call;
        // zlib keeps no pointer into them afterwards.
        let rc = unsafe {
            st.s.next_in = input.as_ptr().add(pos).cast_mut();
            st.s.avail_in = in_chunk as c_uint;
            st.s.next_out = spare.as_mut_ptr().cast::<u8>();
            st.s.avail_out = out_chunk as c_uint;
            z::deflate(&mut *st.s, if last { z::Z_FINISH } else { z::Z_NO_FLUSH })
        };
        let used = in_chunk - st.s.avail_in as usize;
        let produced = out_chunk - st.s.avail_out as usize;
        pos += used;
        // SAFETY: zlib initialised `produced` bytes of the spare capacity.
        unsafe { out.set_len(out.len() + produced) };
        match rc {
            z::Z_STREAM_END => return Ok(out),
            z::Z_OK | z::Z_BUF_ERROR => {}
            _ => return Err(st.error("deflate", rc)),
        }
    }
}

/// Decompresses `input` with the system zlib (all gzip members), refusing more than `limit`
/// output bytes and trailing data.
pub(crate) fn decompress(format: Format, input: &[u8], limit: u64) -> Result<Vec<u8>> {
    let mut s = Stream::blank();
    // SAFETY: as in `compress`.
    let rc = unsafe { z::inflateInit2_(&mut *s, window_bits(format), z::zlibVersion(), size_of_stream()) };
    if rc != z::Z_OK {
        return Err(Error::Library {
            library: "zlib",
            detail: format!("inflateInit2 returned {rc}"),
        });
    }
    let mut st = Stream { s, inflate: true };
    if input.is_empty() {
        return Err(Error::EmptyInput { format });
    }
    let mut out: Vec<u8> = Vec::with_capacity(input.len().saturating_mul(4).min(limit as usize));
    let mut pos = 0usize;
    loop {
        if out.len() as u64 >= limit && out.capacity() == out.len() {
            return Err(Error::OutputLimit { limit });
        }
        if out.capacity() - out.len() < 1024 {
            let grow = out.capacity().max(4096);
            out.reserve(grow);
        }
        let room = (out.capacity() - out.len()).min((limit - out.len() as u64) as usize);
        if room == 0 {
            return Err(Error::OutputLimit { limit });
        }
        let in_chunk = (input.len() - pos).min(u32::MAX as usize);
        let spare = out.spare_capacity_mut();
        let out_chunk = room.min(u32::MAX as usize);
        // SAFETY: next_in/next_out are valid for avail_in/avail_out bytes during the call.
        let rc = unsafe {
            st.s.next_in = input.as_ptr().add(pos).cast_mut();
            st.s.avail_in = in_chunk as c_uint;
            st.s.next_out = spare.as_mut_ptr().cast::<u8>();
            st.s.avail_out = out_chunk as c_uint;
            z::inflate(&mut *st.s, z::Z_NO_FLUSH)
        };
        let used = in_chunk - st.s.avail_in as usize;
        let produced = out_chunk - st.s.avail_out as usize;
        pos += used;
        // SAFETY: zlib initialised `produced` bytes of the spare capacity.
        unsafe { out.set_len(out.len() + produced) };
        match rc {
            z::Z_STREAM_END => {
                if pos == input.len() {
                    return Ok(out);
                }
                if format != Format::Gzip || input[pos] != 0x1f {
                    return Err(Error::TrailingData {
                        format,
                        offset: pos as u64,
                    });
                }
                // SAFETY: the stream is initialised; reset keeps the allocation.
                let rc = unsafe { z::inflateReset(&mut *st.s) };
                if rc != z::Z_OK {
                    return Err(st.error("inflateReset", rc));
                }
            }
            z::Z_OK => {}
            z::Z_BUF_ERROR if pos == input.len() && produced == 0 => return Err(Error::Truncated { format }),
            z::Z_BUF_ERROR => {}
            z::Z_DATA_ERROR | z::Z_NEED_DICT => {
                return Err(Error::corrupt(format, "zlib reports invalid data"))
            }
            _ => return Err(st.error("inflate", rc)),
        }
    }
}

/// Decompresses `input` (all gzip members) with the system zlib into `out`; returns the
/// length. Refuses trailing data; [`Error::OutputTooSmall`] when `out` cannot hold it all.
pub(crate) fn decompress_slice(format: Format, input: &[u8], out: &mut [u8]) -> Result<usize> {
    if input.is_empty() {
        return Err(Error::EmptyInput { format });
    }
    let mut s = Stream::blank();
    // SAFETY: as in `compress`.
    let rc = unsafe { z::inflateInit2_(&mut *s, window_bits(format), z::zlibVersion(), size_of_stream()) };
    if rc != z::Z_OK {
        return Err(Error::Library {
            library: "zlib",
            detail: format!("inflateInit2 returned {rc}"),
        });
    }
    let mut st = Stream { s, inflate: true };
    let (mut pos, mut op) = (0usize, 0usize);
    loop {
        let in_chunk = (input.len() - pos).min(u32::MAX as usize);
        let out_chunk = (out.len() - op).min(u32::MAX as usize);
        // SAFETY: next_in/next_out are valid for avail_in/avail_out bytes during the call.
        let rc = unsafe {
            st.s.next_in = input.as_ptr().add(pos).cast_mut();
            st.s.avail_in = in_chunk as c_uint;
            st.s.next_out = out.as_mut_ptr().add(op);
            st.s.avail_out = out_chunk as c_uint;
            z::inflate(&mut *st.s, z::Z_NO_FLUSH)
        };
        pos += in_chunk - st.s.avail_in as usize;
        op += out_chunk - st.s.avail_out as usize;
        match rc {
            z::Z_STREAM_END => {
                if pos == input.len() {
                    return Ok(op);
                }
                if format != Format::Gzip || input[pos] != 0x1f {
                    return Err(Error::TrailingData {
                        format,
                        offset: pos as u64,
                    });
                }
                // SAFETY: the stream is initialised.
                let rc = unsafe { z::inflateReset(&mut *st.s) };
                if rc != z::Z_OK {
                    return Err(st.error("inflateReset", rc));
                }
            }
            z::Z_OK | z::Z_BUF_ERROR if op == out.len() => {
                return Err(Error::OutputTooSmall {
                    needed: None,
                    available: out.len(),
                })
            }
            z::Z_OK => {}
            z::Z_BUF_ERROR => return Err(Error::Truncated { format }),
            z::Z_DATA_ERROR | z::Z_NEED_DICT => {
                return Err(Error::corrupt(format, "zlib reports invalid data"))
            }
            _ => return Err(st.error("inflate", rc)),
        }
    }
}

/// Bit offsets of the block boundaries of a raw deflate stream as zlib's `inflate(Z_BLOCK)`
/// reports them (the reference for the block walker's tests): each block's end, and whether
/// the block that ends there was the final one.
#[cfg(test)]
pub(crate) fn block_ends(raw: &[u8]) -> Result<Vec<(u64, bool)>> {
    let mut s = Stream::blank();
    // SAFETY: as in `compress`.
    let rc = unsafe { z::inflateInit2_(&mut *s, -15, z::zlibVersion(), size_of_stream()) };
    if rc != z::Z_OK {
        return Err(Error::Library {
            library: "zlib",
            detail: format!("inflateInit2 returned {rc}"),
        });
    }
    let mut st = Stream { s, inflate: true };
    let mut out = vec![0u8; 1 << 16];
    let (mut pos, mut ends) = (0usize, Vec::<(u64, bool)>::new());
    loop {
        // SAFETY: next_in/next_out are valid for avail_in/avail_out bytes during the call.
        let rc = unsafe {
            st.s.next_in = raw.as_ptr().add(pos).cast_mut();
            st.s.avail_in = (raw.len() - pos) as c_uint;
            st.s.next_out = out.as_mut_ptr();
            st.s.avail_out = out.len() as c_uint;
            z::inflate(&mut *st.s, z::Z_BLOCK)
        };
        pos = raw.len() - st.s.avail_in as usize;
        let dt = st.s.data_type;
        let bit = pos as u64 * 8 - (dt & 7) as u64;
        if rc == z::Z_STREAM_END {
            // The final block's end was reported at the stop before (this bit is aligned).
            return Ok(ends);
        }
        if rc != z::Z_OK && rc != z::Z_BUF_ERROR {
            return Err(Error::corrupt(Format::Deflate, "zlib reports invalid data"));
        }
        if rc == z::Z_BUF_ERROR && st.s.avail_in == 0 {
            return Err(Error::Truncated {
                format: Format::Deflate,
            });
        }
        // At a block boundary (after an end-of-block code; not at the start).
        if dt & 128 != 0 && pos > 0 && ends.last().is_none_or(|e| e.0 != bit) {
            ends.push((bit, dt & 64 != 0));
        }
    }
}
