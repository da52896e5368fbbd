//! `compress`, `compress2`, `compressBound`, `uncompress`, `uncompress2`.
//!
//! A whole-buffer call first runs on uadk-zip's one-shot path (libdeflate or ISA-L in
//! software — the measured choice — or the ZIP device for inputs of at least
//! `UADK_Z_DEVICE_MIN` bytes under `UADK_Z_BACKEND=auto`, any size under `device`). When
//! that path cannot give zlib's exact answer — output too small (zlib returns partial output
//! with `Z_BUF_ERROR`), damaged, truncated or dictionary-needing input, bytes after the
//! stream — the call is redone by zlib-rs, whose results are zlib's.

use crate::abi::*;
use crate::stats::{self, C};
use parking_lot::Mutex;
use std::collections::HashMap;
use std::ffi::{c_int, c_uchar, c_ulong};
use uadk_zip::{Backend, Config, Format, Session};

/// Sessions per (level, may use a device), rebuilt in a forked child (device queues belong
/// to the process that opened them).
struct Sessions {
    pid: u32,
    map: HashMap<(u32, bool), Session>,
}

static SESSIONS: Mutex<Option<Sessions>> = Mutex::new(None);

/// A session for zlib-format whole buffers at `level`.
fn session(level: u32, len: usize) -> Option<Session> {
    let set = crate::config::settings();
    let device = match set.backend {
        Backend::Software => false,
        Backend::Device => true,
        Backend::Auto => len >= set.device_min,
    };
    let pid = std::process::id();
    let mut g = SESSIONS.lock();
    if g.as_ref().is_none_or(|s| s.pid != pid) {
        *g = Some(Sessions {
            pid,
            map: HashMap::new(),
        });
    }
    let map = &mut g.as_mut().expect("set above").map;
    if let Some(s) = map.get(&(level, device)) {
        return Some(s.clone());
    }
    let cfg = Config {
        format: Format::Zlib,
        level,
        backend: if device { Backend::Auto } else { Backend::Software },
        threads: 1,
        ..Config::default()
    };
    let s = Session::new(cfg).ok()?;
    map.insert((level, device), s.clone());
    Some(s)
}

fn note_device(s: &Session, dir: uadk_zip::Direction) {
    if s.backend_reason(dir).starts_with("device") {
        stats::bump(C::OneShotDevice);
    }
}

/// `int compress(Bytef *dest, uLongf *destLen, const Bytef *source, uLong sourceLen)`.
///
/// # Safety
/// `dest` writable for `*destLen` bytes, `source` readable for `sourceLen` bytes.
#[no_mangle]
pub unsafe extern "C" fn compress(
    dest: *mut c_uchar,
    dest_len: *mut c_ulong,
    source: *const c_uchar,
    source_len: c_ulong,
) -> c_int {
    // SAFETY: forwarded contract.
    unsafe { compress2(dest, dest_len, source, source_len, Z_DEFAULT_COMPRESSION) }
}

/// `int compress2(Bytef *dest, uLongf *destLen, const Bytef *source, uLong sourceLen, int level)`.
///
/// # Safety
/// As [`compress`].
#[no_mangle]
pub unsafe extern "C" fn compress2(
    dest: *mut c_uchar,
    dest_len: *mut c_ulong,
    source: *const c_uchar,
    source_len: c_ulong,
    level: c_int,
) -> c_int {
    boundary(Z_STREAM_ERROR, || {
        if dest_len.is_null() || (source.is_null() && source_len > 0) {
            return Z_STREAM_ERROR;
        }
        // SAFETY: non-null (checked), the caller's length.
        let cap = unsafe { *dest_len } as usize;
        if dest.is_null() && cap > 0 {
            return Z_STREAM_ERROR;
        }
        let lvl = if level == Z_DEFAULT_COMPRESSION { 6 } else { level };
        let fast = (1..=9).contains(&lvl) && cap > 0 && !dest.is_null();
        if fast {
            let src: &[u8] = if source_len == 0 {
                &[]
            } else {
                // SAFETY: readable for source_len bytes (caller's contract).
                unsafe { std::slice::from_raw_parts(source, source_len as usize) }
            };
            if let Some(s) = session(lvl as u32, src.len()) {
                // SAFETY: writable for cap bytes (caller's contract).
                let dst = unsafe { std::slice::from_raw_parts_mut(dest, cap) };
                if let Ok(n) = s.compress_into(src, dst) {
                    // SAFETY: checked non-null above.
                    unsafe { *dest_len = n as c_ulong };
                    stats::bump(C::OneShotCompressFast);
                    note_device(&s, uadk_zip::Direction::Compress);
                    stats::publish();
                    return Z_OK;
                }
            }
        }
        stats::bump(C::OneShotCompressZlibRs);
        // SAFETY: forwarded contract.
        let rc = unsafe { libz_rs_sys::compress2(dest, dest_len, source, source_len, level) };
        stats::publish();
        rc
    })
}

/// `uLong compressBound(uLong sourceLen)` (zlib 1.2.13's formula).
#[no_mangle]
pub extern "C" fn compressBound(source_len: c_ulong) -> c_ulong {
    let s = source_len;
    s.wrapping_add(s >> 12)
        .wrapping_add(s >> 14)
        .wrapping_add(s >> 25)
        .wrapping_add(13)
}

/// `int uncompress(Bytef *dest, uLongf *destLen, const Bytef *source, uLong sourceLen)`.
///
/// # Safety
/// As [`compress`].
#[no_mangle]
pub unsafe extern "C" fn uncompress(
    dest: *mut c_uchar,
    dest_len: *mut c_ulong,
    source: *const c_uchar,
    source_len: c_ulong,
) -> c_int {
    let mut len = source_len;
    // SAFETY: forwarded contract; `len` is ours.
    unsafe { uncompress2(dest, dest_len, source, &mut len) }
}

/// `int uncompress2(Bytef *dest, uLongf *destLen, const Bytef *source, uLong *sourceLen)`.
///
/// # Safety
/// As [`compress`], with `*sourceLen` the input length (set to the bytes used).
#[no_mangle]
pub unsafe extern "C" fn uncompress2(
    dest: *mut c_uchar,
    dest_len: *mut c_ulong,
    source: *const c_uchar,
    source_len: *mut c_ulong,
) -> c_int {
    boundary(Z_STREAM_ERROR, || {
        if dest_len.is_null() || source_len.is_null() {
            return Z_STREAM_ERROR;
        }
        // SAFETY: non-null (checked), the caller's lengths.
        let (cap, len) = unsafe { (*dest_len as usize, *source_len as usize) };
        if (dest.is_null() && cap > 0) || (source.is_null() && len > 0) {
            return Z_STREAM_ERROR;
        }
        if cap > 0 && len > 0 {
            if let Some(s) = session(6, len) {
                // SAFETY: readable/writable for the given lengths (caller's contract).
                let (src, dst) = unsafe {
                    (
                        std::slice::from_raw_parts(source, len),
                        std::slice::from_raw_parts_mut(dest, cap),
                    )
                };
                if let Ok(n) = s.decompress_into(src, dst) {
                    // SAFETY: checked non-null above.
                    unsafe {
                        *dest_len = n as c_ulong;
                        *source_len = len as c_ulong;
                    }
                    stats::bump(C::OneShotUncompressFast);
                    note_device(&s, uadk_zip::Direction::Decompress);
                    stats::publish();
                    return Z_OK;
                }
            }
        }
        stats::bump(C::OneShotUncompressZlibRs);
        // SAFETY: forwarded contract.
        let rc = unsafe { libz_rs_sys::uncompress2(dest, dest_len, source, source_len) };
        stats::publish();
        rc
    })
}

// zlib version nodes of the functions above (see `crate::symbols`).
symver!(compressBound);
symver!(uncompress2);
