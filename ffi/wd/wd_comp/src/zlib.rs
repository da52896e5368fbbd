//! UADK's zlib-like wrapper (`wd_zlibwrapper.h`) on the stream API.
//!
//! The first `wd_deflateInit*`/`wd_inflateInit*` of a process initialises the library
//! (`wd_comp_init2_` for zlib with two sync contexts per direction, as UADK's wrapper
//! does) unless the application already did; the last `*End` uninitialises what the
//! wrapper initialised. `strm->reserved` holds the session handle (as in UADK) and
//! `strm->state` the wrapper's own state. Beyond UADK, `Z_NO_FLUSH`, `Z_PARTIAL_FLUSH`
//! and `Z_FULL_FLUSH` are accepted (as a sync flush), corrupt input returns
//! `Z_DATA_ERROR`, and a call that can make no progress returns `Z_BUF_ERROR`.
//!
//! ```
//! # use wd as _; // the doctest links the real libwd
//! use uadk_wd_common::abi::ZStream;
//! use wd_comp::*;
//! let mut z: ZStream = unsafe { std::mem::zeroed() };
//! let size = std::mem::size_of::<ZStream>() as i32;
//! assert_eq!(unsafe { wd_deflateInit2_(&mut z, 1, 8, 31, 8, 0, c"1.2.11".as_ptr(), size) }, 0);
//! let input = b"hello hello hello hello";
//! let mut out = [0u8; 128];
//! z.next_in = input.as_ptr();
//! z.avail_in = input.len() as u32;
//! z.next_out = out.as_mut_ptr();
//! z.avail_out = 128;
//! assert_eq!(unsafe { wd_deflate(&mut z, 4) }, 1); // Z_FINISH -> Z_STREAM_END
//! assert_eq!(&out[..2], &[0x1f, 0x8b]);
//! assert_eq!(unsafe { wd_deflateEnd(&mut z) }, 0);
//! ```

#![allow(non_snake_case)] // the C names are zlib's

use crate::init::{alg_offered, LIB};
use crate::ops::wd_do_comp_strm;
use crate::sess::{wd_comp_alloc_sess, wd_comp_free_sess, wd_comp_reset_sess};
use libc::{c_char, c_int, c_void};
use parking_lot::Mutex;
use uadk_wd_common::abi::*;
use uadk_wd_common::boundary::guard;
use uadk_wd_common::wd_err;

const Z_OK: c_int = 0;
const Z_STREAM_END: c_int = 1;
const Z_STREAM_ERROR: c_int = -2;
const Z_DATA_ERROR: c_int = -3;
const Z_MEM_ERROR: c_int = -4;
const Z_BUF_ERROR: c_int = -5;
const Z_VERSION_ERROR: c_int = -6;
const Z_FINISH: c_int = 4;

struct Wrap {
    refs: usize,
    owns_init: bool,
}

static WRAP: Mutex<Wrap> = Mutex::new(Wrap {
    refs: 0,
    owns_init: false,
});

/// The wrapper's per-stream state (behind `strm->state`).
struct State {
    sess: HandleT,
    finished: bool,
}

unsafe extern "C" fn poll_trampoline(idx: u32, expt: u32, count: *mut u32) -> c_int {
    // SAFETY: called by the scheduler's poll policy with a valid count pointer.
    unsafe { crate::init::wd_comp_poll_ctx(idx, expt, count) }
}

fn acquire() -> Result<(), c_int> {
    let mut w = WRAP.lock();
    if LIB.current().is_none() {
        let mut nums = [WdCtxNums {
            sync_ctx_num: 2,
            async_ctx_num: 0,
        }; 2];
        let mut params = WdCtxParams {
            op_type_num: 2,
            ctx_set_num: nums.as_mut_ptr(),
            bmp: std::ptr::null_mut(),
            cap: std::ptr::null_mut(),
        };
        // SAFETY: `params` and its array are valid for the call.
        let ret = unsafe {
            LIB.init2(
                Some("zlib"),
                true,
                SCHED_POLICY_RR,
                TASK_MIX,
                &mut params,
                poll_trampoline,
            )
        };
        match ret {
            0 => w.owns_init = true,
            r if r == -WD_EEXIST => {}
            r => return Err(r),
        }
    }
    w.refs += 1;
    Ok(())
}

fn release() {
    let mut w = WRAP.lock();
    w.refs = w.refs.saturating_sub(1);
    if w.refs == 0 && w.owns_init {
        LIB.uninit();
        w.owns_init = false;
    }
}

fn format_of(window_bits: c_int) -> Option<u32> {
    match window_bits {
        -15..=-8 => Some(0),
        8..=15 => Some(1),
        24..=31 => Some(2),
        _ => None,
    }
}

/// Checks `version`/`stream_size` as zlib does.
///
/// # Safety
/// `version` is NULL or a string.
unsafe fn version_ok(version: *const c_char, stream_size: c_int) -> bool {
    // SAFETY: a NUL-terminated string per the contract; only its first byte is read.
    !version.is_null()
        && unsafe { *version } as u8 == b'1'
        && stream_size == std::mem::size_of::<ZStream>() as c_int
}

/// # Safety
/// `strm` is NULL or a valid `z_stream` of `wd_zlibwrapper.h`.
unsafe fn init(strm: *mut ZStream, level: c_int, window_bits: c_int, op: u32) -> c_int {
    if strm.is_null() {
        return Z_STREAM_ERROR;
    }
    let Some(alg) = format_of(window_bits) else {
        wd_err!("wd zlib wrapper: windowBits {window_bits} (use -15..-8, 8..15 or 24..31)");
        return Z_STREAM_ERROR;
    };
    let level = if level == -1 { 6 } else { level };
    if !(0..=9).contains(&level) {
        return Z_STREAM_ERROR;
    }
    if acquire().is_err() {
        return Z_MEM_ERROR;
    }
    let mut param = SchedParams {
        numa_id: -1,
        type_: op as u8,
        ..Default::default()
    };
    let mut setup = WdCompSessSetup {
        alg_type: alg,
        comp_lv: level.max(1) as u32,
        win_sz: 4,
        op_type: op,
        sched_param: (&mut param as *mut SchedParams).cast(),
        mm_ops: WdMmOps {
            alloc: None,
            free: None,
            iova_map: None,
            iova_unmap: None,
            get_bufsize: None,
            usr: std::ptr::null_mut(),
            sva_mode: true,
        },
        mm_type: 0,
    };
    // SAFETY: `setup` and `param` are valid for the call.
    let h = unsafe { wd_comp_alloc_sess(&mut setup) };
    if h == 0 {
        release();
        return Z_MEM_ERROR;
    }
    let state = Box::into_raw(Box::new(State {
        sess: h,
        finished: false,
    }));
    // SAFETY: `strm` is a valid z_stream per the contract.
    unsafe {
        (*strm).total_in = 0;
        (*strm).total_out = 0;
        (*strm).msg = std::ptr::null();
        (*strm).state = state.cast();
        (*strm).reserved = h as u64;
    }
    Z_OK
}

/// The wrapper state of `strm`, if it is one of ours.
///
/// # Safety
/// `strm` is NULL or a valid `z_stream`.
unsafe fn state<'a>(strm: *mut ZStream) -> Option<&'a mut State> {
    if strm.is_null() {
        return None;
    }
    // SAFETY: valid per the contract.
    let (p, h) = unsafe { ((*strm).state as *mut State, (*strm).reserved as HandleT) };
    if p.is_null() || crate::sess::get(h).is_err() {
        return None;
    }
    // SAFETY: `state` was set by init to a boxed State whose session is live (checked).
    let st = unsafe { &mut *p };
    (st.sess == h).then_some(st)
}

/// # Safety
/// `strm` is NULL or a valid `z_stream` with valid buffers.
unsafe fn step(strm: *mut ZStream, flush: c_int, op: u32) -> c_int {
    // SAFETY: per the contract.
    let Some(st) = (unsafe { state(strm) }) else {
        return Z_STREAM_ERROR;
    };
    if !(0..=4).contains(&flush) {
        return Z_STREAM_ERROR;
    }
    if st.finished {
        return if op == 1 || flush == Z_FINISH {
            Z_STREAM_END
        } else {
            Z_STREAM_ERROR
        };
    }
    // SAFETY: valid per the contract.
    let z = unsafe { &mut *strm };
    if z.avail_out == 0 || z.next_out.is_null() || (z.avail_in > 0 && z.next_in.is_null()) {
        return Z_BUF_ERROR;
    }
    let mut dummy = 0u8;
    let src = if z.next_in.is_null() {
        &mut dummy as *mut u8
    } else {
        z.next_in as *mut u8
    };
    let mut req = WdCompReq {
        src: src as *mut c_void,
        src_len: z.avail_in,
        dst: z.next_out as *mut c_void,
        dst_len: z.avail_out,
        cb: None,
        cb_param: std::ptr::null_mut(),
        op_type: op,
        data_fmt: WD_FLAT_BUF,
        last: (op == 0 && flush == Z_FINISH) as u32,
        status: 0,
        priv_: std::ptr::null_mut(),
    };
    // SAFETY: `req` describes the caller's buffers, valid per the contract.
    let ret = unsafe { wd_do_comp_strm(st.sess, &mut req) };
    if ret < 0 {
        z.msg = c"uadk-rs: request refused (see WD_RS_LOG=1)".as_ptr();
        return Z_STREAM_ERROR;
    }
    let (taken, made) = (req.src_len, req.dst_len);
    if !z.next_in.is_null() {
        // SAFETY: `taken` <= avail_in bytes of the caller's input.
        z.next_in = unsafe { z.next_in.add(taken as usize) };
    }
    z.avail_in -= taken;
    z.total_in += taken as u64;
    // SAFETY: `made` <= avail_out bytes of the caller's output.
    z.next_out = unsafe { z.next_out.add(made as usize) };
    z.avail_out -= made;
    z.total_out += made as u64;
    if req.status == WD_IN_EPARA as u32 {
        z.msg = c"uadk-rs: invalid compressed data".as_ptr();
        return Z_DATA_ERROR;
    }
    let ended = if op == 0 {
        flush == Z_FINISH && z.avail_in == 0 && req.status == 0
    } else {
        req.status == WD_STREAM_END as u32
    };
    if ended {
        st.finished = true;
        return Z_STREAM_END;
    }
    if taken == 0 && made == 0 && req.status != WD_EAGAIN as u32 {
        return Z_BUF_ERROR;
    }
    Z_OK
}

/// # Safety
/// `strm` is NULL or a valid `z_stream`.
unsafe fn end(strm: *mut ZStream) -> c_int {
    // SAFETY: per the contract.
    let Some(st) = (unsafe { state(strm) }) else {
        return Z_STREAM_ERROR;
    };
    wd_comp_free_sess(st.sess);
    // SAFETY: `state` was created by Box::into_raw in init and is freed once: the
    // session is gone, so `state()` refuses this stream from now on.
    unsafe {
        drop(Box::from_raw(st as *mut State));
        (*strm).state = std::ptr::null_mut();
        (*strm).reserved = 0;
    }
    release();
    Z_OK
}

/// # Safety
/// `strm` is NULL or a valid `z_stream`.
unsafe fn reset(strm: *mut ZStream) -> c_int {
    // SAFETY: per the contract.
    let Some(st) = (unsafe { state(strm) }) else {
        return Z_STREAM_ERROR;
    };
    wd_comp_reset_sess(st.sess);
    st.finished = false;
    // SAFETY: valid per the contract.
    unsafe {
        (*strm).total_in = 0;
        (*strm).total_out = 0;
    }
    Z_OK
}

/// `wd_deflateInit_(strm, level, version, stream_size)`: zlib format.
///
/// # Safety
/// `strm` is NULL or a valid `z_stream`; `version` NULL or a string.
pub unsafe extern "C" fn wd_deflateInit_(
    strm: *mut ZStream,
    level: c_int,
    version: *const c_char,
    stream_size: c_int,
) -> c_int {
    // SAFETY: forwarded under the same contract.
    unsafe { wd_deflateInit2_(strm, level, 8, 15, 8, 0, version, stream_size) }
}

/// `wd_deflateInit2_`: a compression stream (`method` 0 or 8; `memLevel` and `strategy`
/// are ignored).
///
/// # Safety
/// `strm` is NULL or a valid `z_stream`; `version` NULL or a string.
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn wd_deflateInit2_(
    strm: *mut ZStream,
    level: c_int,
    method: c_int,
    window_bits: c_int,
    mem_level: c_int,
    strategy: c_int,
    version: *const c_char,
    stream_size: c_int,
) -> c_int {
    let _ = (mem_level, strategy);
    guard("wd_deflateInit2_", Z_STREAM_ERROR, || {
        // SAFETY: per the contract.
        if !unsafe { version_ok(version, stream_size) } {
            return Z_VERSION_ERROR;
        }
        if method != 0 && method != 8 {
            return Z_STREAM_ERROR;
        }
        debug_assert!(alg_offered("zlib"));
        // SAFETY: per the contract.
        unsafe { init(strm, level, window_bits, 0) }
    })
}

/// `wd_deflate(strm, flush)`.
///
/// # Safety
/// `strm` is NULL or a valid `z_stream` with valid buffers.
pub unsafe extern "C" fn wd_deflate(strm: *mut ZStream, flush: c_int) -> c_int {
    // SAFETY: per the contract.
    guard("wd_deflate", Z_STREAM_ERROR, || unsafe { step(strm, flush, 0) })
}

/// `wd_deflateReset(strm)`.
///
/// # Safety
/// `strm` is NULL or a valid `z_stream`.
pub unsafe extern "C" fn wd_deflateReset(strm: *mut ZStream) -> c_int {
    // SAFETY: per the contract.
    guard("wd_deflateReset", Z_STREAM_ERROR, || unsafe { reset(strm) })
}

/// `wd_deflateEnd(strm)`.
///
/// # Safety
/// `strm` is NULL or a valid `z_stream`.
pub unsafe extern "C" fn wd_deflateEnd(strm: *mut ZStream) -> c_int {
    // SAFETY: per the contract.
    guard("wd_deflateEnd", Z_STREAM_ERROR, || unsafe { end(strm) })
}

/// `wd_inflateInit_(strm, version, stream_size)`: zlib format.
///
/// # Safety
/// `strm` is NULL or a valid `z_stream`; `version` NULL or a string.
pub unsafe extern "C" fn wd_inflateInit_(
    strm: *mut ZStream,
    version: *const c_char,
    stream_size: c_int,
) -> c_int {
    // SAFETY: forwarded under the same contract.
    unsafe { wd_inflateInit2_(strm, 15, version, stream_size) }
}

/// `wd_inflateInit2_(strm, windowBits, version, stream_size)`.
///
/// # Safety
/// `strm` is NULL or a valid `z_stream`; `version` NULL or a string.
pub unsafe extern "C" fn wd_inflateInit2_(
    strm: *mut ZStream,
    window_bits: c_int,
    version: *const c_char,
    stream_size: c_int,
) -> c_int {
    guard("wd_inflateInit2_", Z_STREAM_ERROR, || {
        // SAFETY: per the contract.
        if !unsafe { version_ok(version, stream_size) } {
            return Z_VERSION_ERROR;
        }
        // SAFETY: per the contract.
        unsafe { init(strm, 1, window_bits, 1) }
    })
}

/// `wd_inflate(strm, flush)`.
///
/// # Safety
/// `strm` is NULL or a valid `z_stream` with valid buffers.
pub unsafe extern "C" fn wd_inflate(strm: *mut ZStream, flush: c_int) -> c_int {
    // SAFETY: per the contract.
    guard("wd_inflate", Z_STREAM_ERROR, || unsafe { step(strm, flush, 1) })
}

/// `wd_inflateReset(strm)`.
///
/// # Safety
/// `strm` is NULL or a valid `z_stream`.
pub unsafe extern "C" fn wd_inflateReset(strm: *mut ZStream) -> c_int {
    // SAFETY: per the contract.
    guard("wd_inflateReset", Z_STREAM_ERROR, || unsafe { reset(strm) })
}

/// `wd_inflateEnd(strm)`.
///
/// # Safety
/// `strm` is NULL or a valid `z_stream`.
pub unsafe extern "C" fn wd_inflateEnd(strm: *mut ZStream) -> c_int {
    // SAFETY: per the contract.
    guard("wd_inflateEnd", Z_STREAM_ERROR, || unsafe { end(strm) })
}
