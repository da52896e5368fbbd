//! The exported stream functions (`deflate*`, `inflate*`) with zlib 1.2.13's prototypes.
//!
//! Common contract (zlib's): a `z_stream` belongs to one thread at a time; the library keeps
//! no pointer into `next_in`/`next_out` between calls; `msg` points to static text. Every
//! function checks its stream (null, never initialised, ended, copied by `memcpy`, of the
//! other direction, or foreign) and answers `Z_STREAM_ERROR` — zlib dereferences such
//! pointers; we look them up in the registry ([`crate::registry`]) first. A panic inside
//! becomes the function's error code ([`crate::abi::boundary`]).

use crate::abi::*;
use crate::deflate::{bound_unknown, Deflate, Params};
use crate::inflate::Inflate;
use crate::registry::{self, Kind};
use crate::stats::{self, C};
use std::ffi::{c_char, c_int, c_long, c_uchar, c_uint, c_ulong, c_void};

type Strm = *mut z_stream;

/// `f` on the live stream at `strm` when `pick` finds the wanted direction in it; `err`
/// (counted as a bad stream) for a null, unknown, ended or other-direction stream.
fn with_stream<T, R>(
    strm: Strm,
    err: R,
    pick: impl FnOnce(&mut Kind) -> Option<&mut T>,
    f: impl FnOnce(&mut z_stream, &mut T) -> R,
) -> R {
    // SAFETY: `strm` is null or the caller's z_stream, exclusively ours during the call.
    match unsafe { registry::get(strm) } {
        Some((s, st)) => match pick(&mut st.kind) {
            Some(t) => f(s, t),
            None => {
                stats::bump(C::BadStream);
                err
            }
        },
        None => {
            stats::bump(C::BadStream);
            err
        }
    }
}

/// The deflate stream in `k`, if it is one.
fn deflate_of(k: &mut Kind) -> Option<&mut Deflate> {
    match k {
        Kind::Deflate(d) => Some(d),
        Kind::Inflate(_) => None,
    }
}

/// The inflate stream in `k`, if it is one.
fn inflate_of(k: &mut Kind) -> Option<&mut Inflate> {
    match k {
        Kind::Inflate(i) => Some(i),
        Kind::Deflate(_) => None,
    }
}

fn with_deflate<R>(strm: Strm, err: R, f: impl FnOnce(&mut z_stream, &mut Deflate) -> R) -> R {
    with_stream(strm, err, deflate_of, f)
}

fn with_inflate<R>(strm: Strm, err: R, f: impl FnOnce(&mut z_stream, &mut Inflate) -> R) -> R {
    with_stream(strm, err, inflate_of, f)
}

/// `deflateEnd` / `inflateEnd`: `Z_STREAM_ERROR` unless `strm` is a live stream of the
/// direction `pick` finds; else removes it from the registry, ends it with `end` and
/// publishes the counters.
fn end_stream<T>(strm: Strm, pick: fn(&mut Kind) -> Option<&mut T>, end: fn(Kind) -> c_int) -> c_int {
    if !with_stream(strm, false, pick, |_, _| true) {
        return Z_STREAM_ERROR;
    }
    // SAFETY: a live stream (checked just above): the caller's z_stream, exclusively ours
    // during the call.
    let s = unsafe { &mut *strm };
    let rc = registry::remove(s).map_or(Z_STREAM_ERROR, |st| end(st.kind));
    stats::publish();
    rc
}

/// The whole body of most stream entry points: `f` on the live deflate stream at `strm`,
/// `Z_STREAM_ERROR` for anything else (or a panic).
fn on_deflate(strm: Strm, f: impl FnOnce(&mut z_stream, &mut Deflate) -> c_int) -> c_int {
    entry(Z_STREAM_ERROR, || with_deflate(strm, Z_STREAM_ERROR, f))
}

/// As [`on_deflate`], for an inflate stream.
fn on_inflate(strm: Strm, f: impl FnOnce(&mut z_stream, &mut Inflate) -> c_int) -> c_int {
    entry(Z_STREAM_ERROR, || with_inflate(strm, Z_STREAM_ERROR, f))
}

/// Runs an entry point, counting caught panics.
fn entry<R: Copy>(on_panic: R, body: impl FnOnce() -> R) -> R {
    let mut panicked = true;
    let r = boundary(on_panic, || {
        let r = body();
        panicked = false;
        r
    });
    if panicked {
        stats::bump(C::Panics);
    }
    r
}

/// zlib's common `*Init_` preamble: version check, null check, msg and allocator defaults.
///
/// # Safety
/// `version` is null or NUL-terminated; `strm` is null or a writable `z_stream`.
unsafe fn init_preamble<'a>(
    strm: Strm,
    version: *const c_char,
    stream_size: c_int,
) -> Result<&'a mut z_stream, c_int> {
    // SAFETY: caller's contract.
    if !unsafe { version_ok(version, stream_size) } {
        return Err(Z_VERSION_ERROR);
    }
    if strm.is_null() {
        return Err(Z_STREAM_ERROR);
    }
    // SAFETY: non-null and writable (caller's contract).
    let s = unsafe { &mut *strm };
    s.msg = std::ptr::null_mut();
    if s.zalloc.is_none() {
        s.zalloc = Some(default_zalloc);
        s.opaque = std::ptr::null_mut();
    }
    if s.zfree.is_none() {
        s.zfree = Some(default_zfree);
    }
    Ok(s)
}

// ---------------------------------------------------------------------------------------
// deflate
// ---------------------------------------------------------------------------------------

/// `int deflateInit_(z_streamp strm, int level, const char *version, int stream_size)`.
///
/// # Safety
/// zlib's contract: `strm` points to a caller-owned `z_stream` with `zalloc`, `zfree`,
/// `opaque` set (or null); `version` is `ZLIB_VERSION`.
#[no_mangle]
pub unsafe extern "C" fn deflateInit_(
    strm: Strm,
    level: c_int,
    version: *const c_char,
    stream_size: c_int,
) -> c_int {
    // SAFETY: forwarded contract.
    unsafe {
        deflateInit2_(
            strm,
            level,
            Z_DEFLATED,
            15,
            8,
            Z_DEFAULT_STRATEGY,
            version,
            stream_size,
        )
    }
}

/// `int deflateInit2_(z_streamp strm, int level, int method, int windowBits, int memLevel,
/// int strategy, const char *version, int stream_size)`. Engine memory comes from malloc,
/// never from `zalloc`.
///
/// # Safety
/// As [`deflateInit_`].
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn deflateInit2_(
    strm: Strm,
    level: c_int,
    method: c_int,
    window_bits: c_int,
    mem_level: c_int,
    strategy: c_int,
    version: *const c_char,
    stream_size: c_int,
) -> c_int {
    entry(Z_STREAM_ERROR, || {
        // SAFETY: forwarded contract.
        let s = match unsafe { init_preamble(strm, version, stream_size) } {
            Ok(s) => s,
            Err(rc) => return rc,
        };
        let Some(p) = Params::new(level, method, window_bits, mem_level, strategy) else {
            return Z_STREAM_ERROR;
        };
        stats::bump(C::DeflateStreams);
        registry::install(s, Kind::Deflate(Box::new(Deflate::new(p))));
        with_deflate(strm, Z_STREAM_ERROR, |s, d| d.reset(s))
    })
}

/// `int deflate(z_streamp strm, int flush)`.
///
/// # Safety
/// zlib's contract: `next_in`/`next_out` valid for `avail_in`/`avail_out` bytes.
#[no_mangle]
pub unsafe extern "C" fn deflate(strm: Strm, flush: c_int) -> c_int {
    on_deflate(strm, |s, d| d.deflate(s, flush))
}

/// `int deflateEnd(z_streamp strm)`: frees everything; `Z_DATA_ERROR` if data was discarded.
///
/// # Safety
/// As [`deflate`].
#[no_mangle]
pub unsafe extern "C" fn deflateEnd(strm: Strm) -> c_int {
    let end = |k| match k {
        Kind::Deflate(d) => d.end(),
        Kind::Inflate(_) => Z_STREAM_ERROR,
    };
    entry(Z_STREAM_ERROR, || end_stream(strm, deflate_of, end))
}

/// `int deflateReset(z_streamp strm)`.
///
/// # Safety
/// As [`deflate`].
#[no_mangle]
pub unsafe extern "C" fn deflateReset(strm: Strm) -> c_int {
    on_deflate(strm, |s, d| d.reset(s))
}

/// `int deflateResetKeep(z_streamp strm)`.
///
/// # Safety
/// As [`deflate`].
#[no_mangle]
pub unsafe extern "C" fn deflateResetKeep(strm: Strm) -> c_int {
    on_deflate(strm, |s, d| d.reset(s))
}

/// `int deflateParams(z_streamp strm, int level, int strategy)`.
///
/// # Safety
/// As [`deflate`].
#[no_mangle]
pub unsafe extern "C" fn deflateParams(strm: Strm, level: c_int, strategy: c_int) -> c_int {
    on_deflate(strm, |s, d| d.params(s, level, strategy))
}

/// `int deflateSetDictionary(z_streamp strm, const Bytef *dictionary, uInt dictLength)`.
///
/// # Safety
/// As [`deflate`]; `dictionary` valid for `dictLength` bytes.
#[no_mangle]
pub unsafe extern "C" fn deflateSetDictionary(
    strm: Strm,
    dictionary: *const c_uchar,
    dict_length: c_uint,
) -> c_int {
    on_deflate(strm, |s, d| d.set_dictionary(s, dictionary, dict_length))
}

/// `int deflateGetDictionary(z_streamp strm, Bytef *dictionary, uInt *dictLength)`.
///
/// # Safety
/// As [`deflate`]; out-pointers null or writable (32 KiB for the dictionary).
#[no_mangle]
pub unsafe extern "C" fn deflateGetDictionary(
    strm: Strm,
    dictionary: *mut c_uchar,
    dict_length: *mut c_uint,
) -> c_int {
    on_deflate(strm, |s, d| d.get_dictionary(s, dictionary, dict_length))
}

/// `int deflateSetHeader(z_streamp strm, gz_headerp head)`.
///
/// # Safety
/// As [`deflate`]; `head` stays valid until the header is written.
#[no_mangle]
pub unsafe extern "C" fn deflateSetHeader(strm: Strm, head: *mut gz_header) -> c_int {
    on_deflate(strm, |s, d| d.set_header(s, head))
}

/// `int deflatePrime(z_streamp strm, int bits, int value)`.
///
/// # Safety
/// As [`deflate`].
#[no_mangle]
pub unsafe extern "C" fn deflatePrime(strm: Strm, bits: c_int, value: c_int) -> c_int {
    on_deflate(strm, |s, d| d.prime(s, bits, value))
}

/// `int deflateTune(z_streamp strm, int good_length, int max_lazy, int nice_length, int max_chain)`.
///
/// # Safety
/// As [`deflate`].
#[no_mangle]
pub unsafe extern "C" fn deflateTune(
    strm: Strm,
    good: c_int,
    lazy: c_int,
    nice: c_int,
    chain: c_int,
) -> c_int {
    on_deflate(strm, |s, d| d.tune(s, good, lazy, nice, chain))
}

/// `int deflatePending(z_streamp strm, unsigned *pending, int *bits)`.
///
/// # Safety
/// As [`deflate`]; out-pointers null or writable.
#[no_mangle]
pub unsafe extern "C" fn deflatePending(strm: Strm, pending: *mut c_uint, bits: *mut c_int) -> c_int {
    on_deflate(strm, |s, d| d.pending(s, pending, bits))
}

/// `uLong deflateBound(z_streamp strm, uLong sourceLen)`: zlib's bound, which every engine
/// here stays within for a single `Z_FINISH` call.
///
/// # Safety
/// `strm` null or a valid `z_stream`.
#[no_mangle]
pub unsafe extern "C" fn deflateBound(strm: Strm, source_len: c_ulong) -> c_ulong {
    entry(bound_unknown(source_len), || {
        // SAFETY: as in `with_deflate`.
        match unsafe { registry::get(strm) } {
            Some((s, st)) => match &mut st.kind {
                Kind::Deflate(d) => d.bound(s, source_len),
                Kind::Inflate(_) => bound_unknown(source_len),
            },
            None => bound_unknown(source_len),
        }
    })
}

/// `int deflateCopy(z_streamp dest, z_streamp source)`: `dest` becomes an independent copy
/// (a fast source stream continues on zlib-rs from here, for both copies).
///
/// # Safety
/// `dest` writable, `source` a live deflate stream; they differ.
#[no_mangle]
pub unsafe extern "C" fn deflateCopy(dest: Strm, source: Strm) -> c_int {
    entry(Z_STREAM_ERROR, || {
        if dest.is_null() || dest == source {
            return Z_STREAM_ERROR;
        }
        let copy = with_deflate(source, Err(Z_STREAM_ERROR), |_, d| d.try_clone());
        let copy = match copy {
            Ok(c) => c,
            Err(rc) => return rc,
        };
        // SAFETY: both point to distinct valid z_streams (checked non-null and different;
        // source checked live); zlib copies the whole struct the same way.
        let d = unsafe {
            std::ptr::copy_nonoverlapping(source, dest, 1);
            &mut *dest
        };
        registry::install(d, Kind::Deflate(Box::new(copy)));
        Z_OK
    })
}

// ---------------------------------------------------------------------------------------
// inflate
// ---------------------------------------------------------------------------------------

/// `int inflateInit_(z_streamp strm, const char *version, int stream_size)`.
///
/// # Safety
/// As [`deflateInit_`].
#[no_mangle]
pub unsafe extern "C" fn inflateInit_(strm: Strm, version: *const c_char, stream_size: c_int) -> c_int {
    // SAFETY: forwarded contract.
    unsafe { inflateInit2_(strm, 15, version, stream_size) }
}

/// `int inflateInit2_(z_streamp strm, int windowBits, const char *version, int stream_size)`.
///
/// # Safety
/// As [`deflateInit_`].
#[no_mangle]
pub unsafe extern "C" fn inflateInit2_(
    strm: Strm,
    window_bits: c_int,
    version: *const c_char,
    stream_size: c_int,
) -> c_int {
    entry(Z_STREAM_ERROR, || {
        // SAFETY: forwarded contract.
        let s = match unsafe { init_preamble(strm, version, stream_size) } {
            Ok(s) => s,
            Err(rc) => return rc,
        };
        match Inflate::new(window_bits) {
            Ok(i) => {
                i.init_fields(s);
                registry::install(s, Kind::Inflate(Box::new(i)));
                Z_OK
            }
            Err(rc) => {
                s.state = std::ptr::null_mut();
                rc
            }
        }
    })
}

/// `int inflate(z_streamp strm, int flush)`.
///
/// # Safety
/// As [`deflate`].
#[no_mangle]
pub unsafe extern "C" fn inflate(strm: Strm, flush: c_int) -> c_int {
    on_inflate(strm, |s, i| i.inflate(s, flush))
}

/// `int inflateEnd(z_streamp strm)`.
///
/// # Safety
/// As [`deflate`].
#[no_mangle]
pub unsafe extern "C" fn inflateEnd(strm: Strm) -> c_int {
    let end = |k| match k {
        Kind::Inflate(i) => i.end(),
        Kind::Deflate(_) => Z_STREAM_ERROR,
    };
    entry(Z_STREAM_ERROR, || end_stream(strm, inflate_of, end))
}

/// `int inflateReset(z_streamp strm)`.
///
/// # Safety
/// As [`deflate`].
#[no_mangle]
pub unsafe extern "C" fn inflateReset(strm: Strm) -> c_int {
    on_inflate(strm, |s, i| i.reset(s, None))
}

/// `int inflateResetKeep(z_streamp strm)`.
///
/// # Safety
/// As [`deflate`].
#[no_mangle]
pub unsafe extern "C" fn inflateResetKeep(strm: Strm) -> c_int {
    on_inflate(strm, |s, i| i.reset(s, None))
}

/// `int inflateReset2(z_streamp strm, int windowBits)`.
///
/// # Safety
/// As [`deflate`].
#[no_mangle]
pub unsafe extern "C" fn inflateReset2(strm: Strm, window_bits: c_int) -> c_int {
    on_inflate(strm, |s, i| i.reset(s, Some(window_bits)))
}

/// `int inflateSetDictionary(z_streamp strm, const Bytef *dictionary, uInt dictLength)`.
///
/// # Safety
/// As [`deflateSetDictionary`].
#[no_mangle]
pub unsafe extern "C" fn inflateSetDictionary(
    strm: Strm,
    dictionary: *const c_uchar,
    dict_length: c_uint,
) -> c_int {
    on_inflate(strm, |s, i| i.set_dictionary(s, dictionary, dict_length))
}

/// `int inflateGetDictionary(z_streamp strm, Bytef *dictionary, uInt *dictLength)`
/// (`Z_STREAM_ERROR` on a stream whose body runs on ISA-L: it keeps no zlib window).
///
/// # Safety
/// As [`deflateGetDictionary`].
#[no_mangle]
pub unsafe extern "C" fn inflateGetDictionary(
    strm: Strm,
    dictionary: *mut c_uchar,
    dict_length: *mut c_uint,
) -> c_int {
    on_inflate(strm, |s, i| i.get_dictionary(s, dictionary, dict_length))
}

/// `int inflateGetHeader(z_streamp strm, gz_headerp head)`.
///
/// # Safety
/// As [`deflateSetHeader`].
#[no_mangle]
pub unsafe extern "C" fn inflateGetHeader(strm: Strm, head: *mut gz_header) -> c_int {
    on_inflate(strm, |s, i| i.get_header(s, head))
}

/// `int inflateSync(z_streamp strm)`.
///
/// # Safety
/// As [`deflate`].
#[no_mangle]
pub unsafe extern "C" fn inflateSync(strm: Strm) -> c_int {
    on_inflate(strm, |s, i| i.sync(s))
}

/// `int inflateSyncPoint(z_streamp strm)`.
///
/// # Safety
/// As [`deflate`].
#[no_mangle]
pub unsafe extern "C" fn inflateSyncPoint(strm: Strm) -> c_int {
    on_inflate(strm, |s, i| i.sync_point(s))
}

/// `int inflatePrime(z_streamp strm, int bits, int value)` (before the body only).
///
/// # Safety
/// As [`deflate`].
#[no_mangle]
pub unsafe extern "C" fn inflatePrime(strm: Strm, bits: c_int, value: c_int) -> c_int {
    on_inflate(strm, |s, i| i.prime(s, bits, value))
}

/// `long inflateMark(z_streamp strm)`.
///
/// # Safety
/// As [`deflate`].
#[no_mangle]
pub unsafe extern "C" fn inflateMark(strm: Strm) -> c_long {
    entry(-(1 << 16), || with_inflate(strm, -(1 << 16), |_, i| i.mark()))
}

/// `unsigned long inflateCodesUsed(z_streamp strm)`.
///
/// # Safety
/// As [`deflate`].
#[no_mangle]
pub unsafe extern "C" fn inflateCodesUsed(strm: Strm) -> c_ulong {
    entry(c_ulong::MAX, || {
        with_inflate(strm, c_ulong::MAX, |_, i| i.codes_used())
    })
}

/// `int inflateUndermine(z_streamp strm, int subvert)`: zlib built without
/// `INFLATE_ALLOW_INVALID_DISTANCE_TOOFAR_ARRR` (Debian) answers `Z_DATA_ERROR`.
///
/// # Safety
/// As [`deflate`].
#[no_mangle]
pub unsafe extern "C" fn inflateUndermine(strm: Strm, _subvert: c_int) -> c_int {
    on_inflate(strm, |_, _| Z_DATA_ERROR)
}

/// `int inflateValidate(z_streamp strm, int check)`.
///
/// # Safety
/// As [`deflate`].
#[no_mangle]
pub unsafe extern "C" fn inflateValidate(strm: Strm, check: c_int) -> c_int {
    on_inflate(strm, |s, i| i.validate(s, check))
}

/// `int inflateCopy(z_streamp dest, z_streamp source)`.
///
/// # Safety
/// As [`deflateCopy`].
#[no_mangle]
pub unsafe extern "C" fn inflateCopy(dest: Strm, source: Strm) -> c_int {
    entry(Z_STREAM_ERROR, || {
        if dest.is_null() || dest == source {
            return Z_STREAM_ERROR;
        }
        let copy = match with_inflate(source, Err(Z_STREAM_ERROR), |_, i| i.try_clone()) {
            Ok(c) => c,
            Err(rc) => return rc,
        };
        // SAFETY: as in `deflateCopy`.
        let d = unsafe {
            std::ptr::copy_nonoverlapping(source, dest, 1);
            &mut *dest
        };
        registry::install(d, Kind::Inflate(Box::new(copy)));
        Z_OK
    })
}

/// `int inflateBackInit_(z_streamp strm, int windowBits, unsigned char *window, const char
/// *version, int stream_size)`: zlib-rs's implementation (the stream belongs to it; use
/// only the `inflateBack*` functions on it).
///
/// # Safety
/// zlib's contract for `inflateBackInit_`.
#[no_mangle]
pub unsafe extern "C" fn inflateBackInit_(
    strm: Strm,
    window_bits: c_int,
    window: *mut c_uchar,
    version: *const c_char,
    stream_size: c_int,
) -> c_int {
    // SAFETY: forwarded contract.
    entry(Z_STREAM_ERROR, || unsafe {
        libz_rs_sys::inflateBackInit_(strm, window_bits, window, version, stream_size)
    })
}

/// `int inflateBack(z_streamp strm, in_func in, void *in_desc, out_func out, void *out_desc)`.
///
/// # Safety
/// zlib's contract for `inflateBack`; the callbacks must not unwind.
#[no_mangle]
pub unsafe extern "C" fn inflateBack(
    strm: Strm,
    in_fn: Option<libz_rs_sys::in_func>,
    in_desc: *mut c_void,
    out_fn: Option<libz_rs_sys::out_func>,
    out_desc: *mut c_void,
) -> c_int {
    // SAFETY: forwarded contract.
    entry(Z_STREAM_ERROR, || unsafe {
        libz_rs_sys::inflateBack(strm, in_fn, in_desc, out_fn, out_desc)
    })
}

/// `int inflateBackEnd(z_streamp strm)`.
///
/// # Safety
/// zlib's contract for `inflateBackEnd`.
#[no_mangle]
pub unsafe extern "C" fn inflateBackEnd(strm: Strm) -> c_int {
    // SAFETY: forwarded contract.
    entry(Z_STREAM_ERROR, || unsafe { libz_rs_sys::inflateBackEnd(strm) })
}

// zlib version nodes of the functions above (see `crate::symbols`).
symver!(deflateResetKeep);
symver!(deflateGetDictionary);
symver!(deflateSetHeader);
symver!(deflatePrime);
symver!(deflateTune);
symver!(deflatePending);
symver!(deflateBound);
symver!(inflateResetKeep);
symver!(inflateReset2);
symver!(inflateGetDictionary);
symver!(inflateGetHeader);
symver!(inflatePrime);
symver!(inflateMark);
symver!(inflateCodesUsed);
symver!(inflateUndermine);
symver!(inflateValidate);
symver!(inflateCopy);
symver!(inflateBackInit_);
symver!(inflateBack);
symver!(inflateBackEnd);
