//! The system zlib (Debian `zlib1g`, `libz.so.1`): the reference peer of the benchmark and
//! the interop check. Whole buffers only, with zlib's own framing (windowBits −15 / 15 / 31),
//! so its output and its reading of ours are zlib's, not ours.
//!
//! The library is **loaded at run time** (`dlopen` by absolute path, then by soname) and its
//! entry points resolved from that handle, never linked: `ffi/zlib`'s `libuadk_z.so` exports
//! zlib's own symbols (and carries the soname `libz.so.1`), so a link-time reference here
//! would bind the peer to our own library when it is preloaded. When no system zlib exists
//! the peer reports [`Error::Library`] ("install zlib1g") instead of failing to start.
//!
//! All unsafe FFI to zlib lives in this module.

use crate::error::{Error, Result};
use crate::format::Format;
use std::os::raw::{c_char, c_int, c_uint, c_ulong, c_void};
use std::sync::OnceLock;

/// Environment variable naming the peer library file explicitly (an absolute path).
pub const PEER_ENV: &str = "UADK_ZLIB_PEER";

// zlib.h constants used here.
const Z_OK: c_int = 0;
const Z_STREAM_END: c_int = 1;
const Z_NEED_DICT: c_int = 2;
const Z_DATA_ERROR: c_int = -3;
const Z_BUF_ERROR: c_int = -5;
const Z_NO_FLUSH: c_int = 0;
const Z_FINISH: c_int = 4;
#[cfg(test)]
const Z_BLOCK: c_int = 5;
const Z_DEFLATED: c_int = 8;
const Z_DEFAULT_STRATEGY: c_int = 0;

type AllocFn = unsafe extern "C" fn(*mut c_void, c_uint, c_uint) -> *mut c_void;
type FreeFn = unsafe extern "C" fn(*mut c_void, *mut c_void);

/// zlib.h's `z_stream` (LP64 / ILP32 layout by construction: C types throughout).
#[repr(C)]
struct ZStream {
    next_in: *mut u8,
    avail_in: c_uint,
    total_in: c_ulong,
    next_out: *mut u8,
    avail_out: c_uint,
    total_out: c_ulong,
    msg: *mut c_char,
    state: *mut c_void,
    zalloc: AllocFn,
    zfree: FreeFn,
    opaque: *mut c_void,
    data_type: c_int,
    adler: c_ulong,
    reserved: c_ulong,
}

type DeflateInit2 =
    unsafe extern "C" fn(*mut ZStream, c_int, c_int, c_int, c_int, c_int, *const c_char, c_int) -> c_int;
type InflateInit2 = unsafe extern "C" fn(*mut ZStream, c_int, *const c_char, c_int) -> c_int;
type StreamFn = unsafe extern "C" fn(*mut ZStream, c_int) -> c_int;
type EndFn = unsafe extern "C" fn(*mut ZStream) -> c_int;
type BoundFn = unsafe extern "C" fn(*mut ZStream, c_ulong) -> c_ulong;
type VersionFn = unsafe extern "C" fn() -> *const c_char;

/// The entry points of the loaded library; the library stays loaded for the process.
struct Api {
    _lib: libloading::Library,
    deflate_init2: DeflateInit2,
    deflate: StreamFn,
    deflate_end: EndFn,
    deflate_bound: BoundFn,
    inflate_init2: InflateInit2,
    inflate: StreamFn,
    inflate_end: EndFn,
    inflate_reset: EndFn,
    version: VersionFn,
}

static API: OnceLock<std::result::Result<Api, String>> = OnceLock::new();

/// Absolute paths tried before the bare soname. The soname alone could resolve to a
/// preloaded `libuadk_z.so` (it carries `libz.so.1` as its soname); a path never does.
fn candidates() -> Vec<String> {
    let mut v = Vec::new();
    if let Ok(p) = std::env::var(PEER_ENV) {
        v.push(p);
    }
    let triple = format!("{}-linux-gnu", std::env::consts::ARCH);
    for dir in [
        format!("/lib/{triple}"),
        format!("/usr/lib/{triple}"),
        "/lib64".into(),
        "/usr/lib64".into(),
        "/lib".into(),
        "/usr/lib".into(),
    ] {
        v.push(format!("{dir}/libz.so.1"));
    }
    v.push("libz.so.1".into());
    v
}

fn load() -> std::result::Result<Api, String> {
    let mut last = String::from("no candidate path");
    for path in candidates() {
        if path.starts_with('/') && !std::path::Path::new(&path).exists() {
            continue;
        }
        // SAFETY: loading zlib runs no initialisers with preconditions on us.
        let lib = match unsafe { libloading::Library::new(&path) } {
            Ok(l) => l,
            Err(e) => {
                last = format!("{path}: {e}");
                continue;
            }
        };
        // SAFETY: each symbol is resolved from this handle and has the C signature of
        // zlib.h (1.2.x, unchanged since 1.0 for these functions); the handle is kept
        // alive in `Api` as long as the pointers.
        let api = unsafe {
            let f = |name: &[u8]| -> std::result::Result<*const c_void, String> {
                lib.get::<*const c_void>(name)
                    .map(|s| *s)
                    .map_err(|e| format!("{path}: {e}"))
            };
            Api {
                deflate_init2: std::mem::transmute::<*const c_void, DeflateInit2>(f(b"deflateInit2_\0")?),
                deflate: std::mem::transmute::<*const c_void, StreamFn>(f(b"deflate\0")?),
                deflate_end: std::mem::transmute::<*const c_void, EndFn>(f(b"deflateEnd\0")?),
                deflate_bound: std::mem::transmute::<*const c_void, BoundFn>(f(b"deflateBound\0")?),
                inflate_init2: std::mem::transmute::<*const c_void, InflateInit2>(f(b"inflateInit2_\0")?),
                inflate: std::mem::transmute::<*const c_void, StreamFn>(f(b"inflate\0")?),
                inflate_end: std::mem::transmute::<*const c_void, EndFn>(f(b"inflateEnd\0")?),
                inflate_reset: std::mem::transmute::<*const c_void, EndFn>(f(b"inflateReset\0")?),
                version: std::mem::transmute::<*const c_void, VersionFn>(f(b"zlibVersion\0")?),
                _lib: lib,
            }
        };
        return Ok(api);
    }
    Err(last)
}

fn api() -> Result<&'static Api> {
    API.get_or_init(load).as_ref().map_err(|e| Error::Library {
        library: "zlib",
        detail: format!(
            "the system zlib (libz.so.1) could not be loaded ({e}); install zlib1g or set {PEER_ENV} to its path"
        ),
    })
}

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
    s: Box<ZStream>,
    inflate: bool,
    api: &'static Api,
}

impl Stream {
    fn blank() -> Box<ZStream> {
        Box::new(ZStream {
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
                (self.api.inflate_end)(&mut *self.s);
            } else {
                (self.api.deflate_end)(&mut *self.s);
            }
        }
    }
}

fn size_of_stream() -> c_int {
    std::mem::size_of::<ZStream>() as c_int
}

/// Compresses `input` with the system zlib in `format` at `level`.
pub(crate) fn compress(format: Format, level: u32, input: &[u8]) -> Result<Vec<u8>> {
    if level > 9 {
        return Err(Error::InvalidLevel(level));
    }
    let api = api()?;
    let mut s = Stream::blank();
    // SAFETY: `s` is a fully initialised z_stream with valid allocators; the version string
    // is the library's own and the struct size is zlib.h's `z_stream`.
    let rc = unsafe {
        (api.deflate_init2)(
            &mut *s,
            level as c_int,
            Z_DEFLATED,
            window_bits(format),
            8,
            Z_DEFAULT_STRATEGY,
            (api.version)(),
            size_of_stream(),
        )
    };
    if rc != Z_OK {
        return Err(Error::Library {
            library: "zlib",
            detail: format!("deflateInit2 returned {rc}"),
        });
    }
    let mut st = Stream {
        s,
        inflate: false,
        api,
    };
    // SAFETY: the stream is initialised.
    let bound = unsafe { (api.deflate_bound)(&mut *st.s, input.len() as _) } as usize;
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
            (api.deflate)(&mut *st.s, if last { Z_FINISH } else { Z_NO_FLUSH })
        };
        let used = in_chunk - st.s.avail_in as usize;
        let produced = out_chunk - st.s.avail_out as usize;
        pos += used;
        // SAFETY: zlib initialised `produced` bytes of the spare capacity.
        unsafe { out.set_len(out.len() + produced) };
        match rc {
            Z_STREAM_END => return Ok(out),
            Z_OK | Z_BUF_ERROR => {}
            _ => return Err(st.error("deflate", rc)),
        }
    }
}

/// Decompresses `input` with the system zlib (all gzip members), refusing more than `limit`
/// output bytes and trailing data.
pub(crate) fn decompress(format: Format, input: &[u8], limit: u64) -> Result<Vec<u8>> {
    let api = api()?;
    let mut s = Stream::blank();
    // SAFETY: as in `compress`.
    let rc = unsafe { (api.inflate_init2)(&mut *s, window_bits(format), (api.version)(), size_of_stream()) };
    if rc != Z_OK {
        return Err(Error::Library {
            library: "zlib",
            detail: format!("inflateInit2 returned {rc}"),
        });
    }
    let mut st = Stream {
        s,
        inflate: true,
        api,
    };
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
            (api.inflate)(&mut *st.s, Z_NO_FLUSH)
        };
        let used = in_chunk - st.s.avail_in as usize;
        let produced = out_chunk - st.s.avail_out as usize;
        pos += used;
        // SAFETY: zlib initialised `produced` bytes of the spare capacity.
        unsafe { out.set_len(out.len() + produced) };
        match rc {
            Z_STREAM_END => {
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
                let rc = unsafe { (api.inflate_reset)(&mut *st.s) };
                if rc != Z_OK {
                    return Err(st.error("inflateReset", rc));
                }
            }
            Z_OK => {}
            Z_BUF_ERROR if pos == input.len() && produced == 0 => return Err(Error::Truncated { format }),
            Z_BUF_ERROR => {}
            Z_DATA_ERROR | Z_NEED_DICT => return Err(Error::corrupt(format, "zlib reports invalid data")),
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
    let api = api()?;
    let mut s = Stream::blank();
    // SAFETY: as in `compress`.
    let rc = unsafe { (api.inflate_init2)(&mut *s, window_bits(format), (api.version)(), size_of_stream()) };
    if rc != Z_OK {
        return Err(Error::Library {
            library: "zlib",
            detail: format!("inflateInit2 returned {rc}"),
        });
    }
    let mut st = Stream {
        s,
        inflate: true,
        api,
    };
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
            (api.inflate)(&mut *st.s, Z_NO_FLUSH)
        };
        pos += in_chunk - st.s.avail_in as usize;
        op += out_chunk - st.s.avail_out as usize;
        match rc {
            Z_STREAM_END => {
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
                let rc = unsafe { (api.inflate_reset)(&mut *st.s) };
                if rc != Z_OK {
                    return Err(st.error("inflateReset", rc));
                }
            }
            Z_OK | Z_BUF_ERROR if op == out.len() => {
                return Err(Error::OutputTooSmall {
                    needed: None,
                    available: out.len(),
                })
            }
            Z_OK => {}
            Z_BUF_ERROR => return Err(Error::Truncated { format }),
            Z_DATA_ERROR | Z_NEED_DICT => return Err(Error::corrupt(format, "zlib reports invalid data")),
            _ => return Err(st.error("inflate", rc)),
        }
    }
}

/// Bit offsets of the block boundaries of a raw deflate stream as zlib's `inflate(Z_BLOCK)`
/// reports them (the reference for the block walker's tests): each block's end, and whether
/// the block that ends there was the final one.
#[cfg(test)]
pub(crate) fn block_ends(raw: &[u8]) -> Result<Vec<(u64, bool)>> {
    let api = api()?;
    let mut s = Stream::blank();
    // SAFETY: as in `compress`.
    let rc = unsafe { (api.inflate_init2)(&mut *s, -15, (api.version)(), size_of_stream()) };
    if rc != Z_OK {
        return Err(Error::Library {
            library: "zlib",
            detail: format!("inflateInit2 returned {rc}"),
        });
    }
    let mut st = Stream {
        s,
        inflate: true,
        api,
    };
    let mut out = vec![0u8; 1 << 16];
    let (mut pos, mut ends) = (0usize, Vec::<(u64, bool)>::new());
    loop {
        // SAFETY: next_in/next_out are valid for avail_in/avail_out bytes during the call.
        let rc = unsafe {
            st.s.next_in = raw.as_ptr().add(pos).cast_mut();
            st.s.avail_in = (raw.len() - pos) as c_uint;
            st.s.next_out = out.as_mut_ptr();
            st.s.avail_out = out.len() as c_uint;
            (api.inflate)(&mut *st.s, Z_BLOCK)
        };
        pos = raw.len() - st.s.avail_in as usize;
        let dt = st.s.data_type;
        let bit = pos as u64 * 8 - (dt & 7) as u64;
        if rc == Z_STREAM_END {
            // The final block's end was reported at the stop before (this bit is aligned).
            return Ok(ends);
        }
        if rc != Z_OK && rc != Z_BUF_ERROR {
            return Err(Error::corrupt(Format::Deflate, "zlib reports invalid data"));
        }
        if rc == Z_BUF_ERROR && st.s.avail_in == 0 {
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
