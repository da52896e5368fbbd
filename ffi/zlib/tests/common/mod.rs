//! Loads the system zlib and our `libuadk_z.so` side by side (dlopen, by path) and drives
//! both through the same C entry points.
#![allow(dead_code, non_snake_case, clippy::too_many_arguments)]

use std::ffi::{c_char, c_int, c_long, c_uint, c_ulong, c_void};
use std::path::PathBuf;
use std::sync::OnceLock;

pub use uadk_z::abi::*;

pub type Stream = z_stream;

macro_rules! lib_api {
    ($($name:ident: $ty:ty;)*) => {
        /// One library's entry points.
        pub struct Lib {
            pub name: &'static str,
            _lib: libloading::Library,
            $(pub $name: $ty,)*
        }
        impl Lib {
            fn load(name: &'static str, path: &std::path::Path) -> Lib {
                // SAFETY: both files are zlib ABI libraries; loading runs their constructors.
                let lib = unsafe { libloading::Library::new(path) }
                    .unwrap_or_else(|e| panic!("load {}: {e}", path.display()));
                // SAFETY: every symbol has zlib.h's prototype, written out in the type.
                unsafe {
                    Lib {
                        name,
                        $($name: *lib.get::<$ty>(concat!(stringify!($name), "\0").as_bytes())
                            .unwrap_or_else(|e| panic!("{}: {e}", stringify!($name))),)*
                        _lib: lib,
                    }
                }
            }
        }
    };
}

type S = *mut Stream;
lib_api! {
    zlibVersion: unsafe extern "C" fn() -> *const c_char;
    deflateInit_: unsafe extern "C" fn(S, c_int, *const c_char, c_int) -> c_int;
    deflateInit2_: unsafe extern "C" fn(S, c_int, c_int, c_int, c_int, c_int, *const c_char, c_int) -> c_int;
    deflate: unsafe extern "C" fn(S, c_int) -> c_int;
    deflateEnd: unsafe extern "C" fn(S) -> c_int;
    deflateReset: unsafe extern "C" fn(S) -> c_int;
    deflateParams: unsafe extern "C" fn(S, c_int, c_int) -> c_int;
    deflateSetDictionary: unsafe extern "C" fn(S, *const u8, c_uint) -> c_int;
    deflateGetDictionary: unsafe extern "C" fn(S, *mut u8, *mut c_uint) -> c_int;
    deflateSetHeader: unsafe extern "C" fn(S, *mut gz_header) -> c_int;
    deflateBound: unsafe extern "C" fn(S, c_ulong) -> c_ulong;
    deflateCopy: unsafe extern "C" fn(S, S) -> c_int;
    deflatePending: unsafe extern "C" fn(S, *mut c_uint, *mut c_int) -> c_int;
    deflatePrime: unsafe extern "C" fn(S, c_int, c_int) -> c_int;
    deflateTune: unsafe extern "C" fn(S, c_int, c_int, c_int, c_int) -> c_int;
    inflateInit_: unsafe extern "C" fn(S, *const c_char, c_int) -> c_int;
    inflateInit2_: unsafe extern "C" fn(S, c_int, *const c_char, c_int) -> c_int;
    inflate: unsafe extern "C" fn(S, c_int) -> c_int;
    inflateEnd: unsafe extern "C" fn(S) -> c_int;
    inflateReset: unsafe extern "C" fn(S) -> c_int;
    inflateReset2: unsafe extern "C" fn(S, c_int) -> c_int;
    inflateSetDictionary: unsafe extern "C" fn(S, *const u8, c_uint) -> c_int;
    inflateGetDictionary: unsafe extern "C" fn(S, *mut u8, *mut c_uint) -> c_int;
    inflateGetHeader: unsafe extern "C" fn(S, *mut gz_header) -> c_int;
    inflateCopy: unsafe extern "C" fn(S, S) -> c_int;
    inflateSync: unsafe extern "C" fn(S) -> c_int;
    inflatePrime: unsafe extern "C" fn(S, c_int, c_int) -> c_int;
    inflateMark: unsafe extern "C" fn(S) -> c_long;
    inflateValidate: unsafe extern "C" fn(S, c_int) -> c_int;
    compress2: unsafe extern "C" fn(*mut u8, *mut c_ulong, *const u8, c_ulong, c_int) -> c_int;
    compressBound: unsafe extern "C" fn(c_ulong) -> c_ulong;
    uncompress: unsafe extern "C" fn(*mut u8, *mut c_ulong, *const u8, c_ulong) -> c_int;
    uncompress2: unsafe extern "C" fn(*mut u8, *mut c_ulong, *const u8, *mut c_ulong) -> c_int;
    crc32: unsafe extern "C" fn(c_ulong, *const u8, c_uint) -> c_ulong;
    crc32_z: unsafe extern "C" fn(c_ulong, *const u8, usize) -> c_ulong;
    adler32: unsafe extern "C" fn(c_ulong, *const u8, c_uint) -> c_ulong;
    adler32_z: unsafe extern "C" fn(c_ulong, *const u8, usize) -> c_ulong;
    crc32_combine: unsafe extern "C" fn(c_ulong, c_ulong, c_long) -> c_ulong;
    adler32_combine: unsafe extern "C" fn(c_ulong, c_ulong, c_long) -> c_ulong;
    get_crc_table: unsafe extern "C" fn() -> *const u32;
    zError: unsafe extern "C" fn(c_int) -> *const c_char;
    zlibCompileFlags: unsafe extern "C" fn() -> c_ulong;
    gzopen: unsafe extern "C" fn(*const c_char, *const c_char) -> *mut c_void;
    gzwrite: unsafe extern "C" fn(*mut c_void, *const c_void, c_uint) -> c_int;
    gzread: unsafe extern "C" fn(*mut c_void, *mut c_void, c_uint) -> c_int;
    gzclose: unsafe extern "C" fn(*mut c_void) -> c_int;
    gzprintf: unsafe extern "C" fn(*mut c_void, *const c_char, ...) -> c_int;
    gzgets: unsafe extern "C" fn(*mut c_void, *mut c_char, c_int) -> *mut c_char;
}

/// target/<profile>/ of this test binary.
pub fn target_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("test binary path");
    exe.parent()
        .and_then(|d| d.parent())
        .expect("target/<profile>/deps/..")
        .to_path_buf()
}

/// Our library, as built by cargo for this test run (`cargo test` leaves the fresh cdylib
/// in `deps/`, beside the test binary; `cargo build` copies it up to `target/<profile>/`).
pub fn ours_path() -> PathBuf {
    let exe = std::env::current_exe().expect("test binary path");
    exe.parent().expect("deps dir").join("libuadk_z.so")
}

/// Our library.
pub fn ours() -> &'static Lib {
    static L: OnceLock<Lib> = OnceLock::new();
    L.get_or_init(|| Lib::load("uadk_z", &ours_path()))
}

/// The system zlib (by absolute path, never by soname: ours is libz.so.1 too).
pub fn system() -> &'static Lib {
    static L: OnceLock<Lib> = OnceLock::new();
    L.get_or_init(|| {
        let triple = format!("{}-linux-gnu", std::env::consts::ARCH);
        let path = [
            format!("/lib/{triple}/libz.so.1"),
            format!("/usr/lib/{triple}/libz.so.1"),
            "/usr/lib64/libz.so.1".into(),
        ]
        .into_iter()
        .map(PathBuf::from)
        .find(|p| p.exists())
        .expect("the system zlib (zlib1g) is installed");
        Lib::load("system", &path)
    })
}

pub const VERSION: *const c_char = c"1.2.13".as_ptr();
pub fn size() -> c_int {
    std::mem::size_of::<Stream>() as c_int
}

/// Deterministic test data.
pub fn data(kind: u8, n: usize, seed: u64) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut next = || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let words: [&[u8]; 8] = [
        b"the ", b"queue ", b"device ", b"stream ", b"of ", b"zlib\n", b"data, ", b"1234 ",
    ];
    let mut v = Vec::with_capacity(n + 8);
    match kind % 4 {
        0 => {
            while v.len() < n {
                v.extend_from_slice(words[(next() % 8) as usize]);
            }
        }
        1 => {
            while v.len() < n {
                v.extend_from_slice(&next().to_le_bytes());
            }
        }
        2 => v.resize(n, 0),
        _ => {
            while v.len() < n {
                if next() % 4 == 0 {
                    v.extend_from_slice(&next().to_le_bytes());
                } else {
                    v.extend_from_slice(words[(next() % 8) as usize]);
                }
            }
        }
    }
    v.truncate(n);
    v
}

/// Compresses with `lib` in one deflate stream: input in `ichunk` pieces, outputs of
/// `ochunk` bytes, `flushes[i]` after piece i (Z_NO_FLUSH when absent), Z_FINISH at the end.
/// Returns the stream and every return code.
pub fn deflate_with(
    lib: &Lib,
    input: &[u8],
    level: c_int,
    wbits: c_int,
    strategy: c_int,
    ichunk: usize,
    ochunk: usize,
    flushes: &[c_int],
) -> (Vec<u8>, Vec<c_int>) {
    let mut s = new_stream();
    let mut codes = Vec::new();
    // SAFETY: zlib's contract: a fresh stream, buffers valid for the lengths set.
    unsafe {
        assert_eq!(
            (lib.deflateInit2_)(&mut s, level, 8, wbits, 8, strategy, VERSION, size()),
            Z_OK
        );
        let mut out = Vec::new();
        let mut buf = vec![0u8; ochunk.max(1)];
        let pieces: Vec<&[u8]> = if input.is_empty() {
            vec![&[][..]]
        } else {
            input.chunks(ichunk.max(1)).collect()
        };
        for (i, piece) in pieces.iter().enumerate() {
            let last = i + 1 == pieces.len();
            let flush = if last {
                Z_FINISH
            } else {
                *flushes.get(i).unwrap_or(&Z_NO_FLUSH)
            };
            s.next_in = piece.as_ptr();
            s.avail_in = piece.len() as c_uint;
            // zlib.h: "make sure that avail_out is greater than six to avoid repeated flush
            // markers due to avail_out == 0 on return" (Z_SYNC_FLUSH, Z_FULL_FLUSH).
            let room = if flush == Z_NO_FLUSH || flush == Z_FINISH {
                buf.len()
            } else {
                buf.len().max(8)
            };
            if buf.len() < room {
                buf.resize(room, 0);
            }
            loop {
                s.next_out = buf.as_mut_ptr();
                s.avail_out = room as c_uint;
                let rc = (lib.deflate)(&mut s, flush);
                codes.push(rc);
                out.extend_from_slice(&buf[..room - s.avail_out as usize]);
                assert!(
                    rc == Z_OK || rc == Z_STREAM_END || rc == Z_BUF_ERROR,
                    "{}: deflate returned {rc}",
                    lib.name
                );
                if rc == Z_STREAM_END {
                    break;
                }
                if s.avail_out != 0 && s.avail_in == 0 && flush != Z_FINISH {
                    break;
                }
                assert!(
                    codes.len() < 2_000_000,
                    "{}: deflate made no progress (level {level} wbits {wbits} piece {i} flush {flush} avail_in {} last codes {:?})",
                    lib.name,
                    s.avail_in,
                    &codes[codes.len() - 5..]
                );
            }
        }
        assert_eq!(*codes.last().unwrap(), Z_STREAM_END, "{}", lib.name);
        assert_eq!(s.total_in as usize, input.len());
        assert_eq!(s.total_out as usize, out.len());
        assert_eq!((lib.deflateEnd)(&mut s), Z_OK);
        (out, codes)
    }
}

/// The outcome of inflating with one library.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inflated {
    pub out: Vec<u8>,
    /// Last return code.
    pub rc: c_int,
    /// Input bytes left after the last call (trailing data after the stream end).
    pub left: usize,
    pub total_in: u64,
    pub adler: u64,
    pub msg: Option<String>,
    pub codes: Vec<c_int>,
}

/// Inflates `input` with `lib`: pieces of `ichunk`, outputs of `ochunk`, stopping at the
/// end of the stream, an error, or when no progress is possible.
pub fn inflate_with(
    lib: &Lib,
    input: &[u8],
    wbits: c_int,
    ichunk: usize,
    ochunk: usize,
    flush: c_int,
) -> Inflated {
    let mut s = new_stream();
    let mut codes = Vec::new();
    // SAFETY: as in `deflate_with`.
    unsafe {
        assert_eq!((lib.inflateInit2_)(&mut s, wbits, VERSION, size()), Z_OK);
        let mut out = Vec::new();
        let mut buf = vec![0u8; ochunk.max(1)];
        let mut pos = 0usize;
        let mut rc;
        let mut stalls = 0;
        loop {
            let end = (pos + ichunk.max(1)).min(input.len());
            let piece = &input[pos..end];
            s.next_in = piece.as_ptr();
            s.avail_in = piece.len() as c_uint;
            s.next_out = buf.as_mut_ptr();
            s.avail_out = buf.len() as c_uint;
            rc = (lib.inflate)(&mut s, flush);
            codes.push(rc);
            let used = piece.len() - s.avail_in as usize;
            let made = buf.len() - s.avail_out as usize;
            out.extend_from_slice(&buf[..made]);
            pos += used;
            if rc != Z_OK && rc != Z_BUF_ERROR {
                break;
            }
            if used == 0 && made == 0 {
                stalls += 1;
                if pos == input.len() || stalls > 3 {
                    break;
                }
            } else {
                stalls = 0;
            }
        }
        let msg = (!s.msg.is_null()).then(|| std::ffi::CStr::from_ptr(s.msg).to_string_lossy().into_owned());
        let r = Inflated {
            out,
            rc,
            left: input.len() - pos,
            total_in: s.total_in as u64,
            adler: s.adler as u64,
            msg,
            codes,
        };
        (lib.inflateEnd)(&mut s);
        r
    }
}

/// A zeroed `z_stream` (null `zalloc`/`zfree`: each library installs its own allocator).
pub fn new_stream() -> Stream {
    // SAFETY: all-zero is a valid z_stream (null pointers, `None` allocators, zero counts).
    unsafe { std::mem::zeroed() }
}
