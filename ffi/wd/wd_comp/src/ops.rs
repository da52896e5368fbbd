//! Requests: `wd_do_comp_sync`, `wd_do_comp_strm`, `wd_do_comp_sync2`, `wd_do_comp_async`.
//!
//! The direction is `req->op_type`; the scheduler's context for the session decides the
//! engine (device context: uadk-zip with `Backend::Auto`; software context: software).
//!
//! Stream semantics (`wd_do_comp_strm`), as UADK's hardware behaves:
//! - compression: `last == 0` emits everything for the input taken (a sync flush),
//!   `last == 1` finishes the stream; when the output is too small, `src_len` comes back
//!   smaller than given (at least one byte short if everything was taken but output is
//!   still waiting), so the caller passes the rest again with more room, until all input
//!   is taken; an empty `last` request finishes the stream (UADK's empty store block).
//! - decompression: `status == WD_STREAM_END` when the stream (gzip: member) ended;
//!   `status == WD_EAGAIN` when output is waiting: call again (with `src_len == 0` if all
//!   input was taken); `WD_IN_EPARA` for corrupt or truncated data (the stream is dropped).
//! - first packet of a stream: zlib needs `dst_len > 2` (compression) or `src_len > 2`
//!   (decompression), gzip more than 10, as UADK checks; otherwise `-WD_EINVAL`.
//!
//! ```
//! # use wd as _; // the doctest links the real libwd
//! use uadk_wd_common::abi::*;
//! use wd_comp::*;
//! assert_eq!(unsafe { wd_comp_init2_(c"zlib".as_ptr() as *mut _, 0, 2, std::ptr::null_mut()) }, 0);
//! let mut setup: WdCompSessSetup = unsafe { std::mem::zeroed() };
//! setup.alg_type = 1; // WD_ZLIB
//! let h = unsafe { wd_comp_alloc_sess(&mut setup) };
//! let mut src = vec![7u8; 4096];
//! let mut dst = vec![0u8; 8192];
//! let mut req: WdCompReq = unsafe { std::mem::zeroed() };
//! req.src = src.as_mut_ptr().cast();
//! req.src_len = 4096;
//! req.dst = dst.as_mut_ptr().cast();
//! req.dst_len = 8192;
//! assert_eq!(unsafe { wd_do_comp_sync(h, &mut req) }, 0);
//! assert_eq!((req.status, req.src_len), (0, 4096));
//! assert!(req.dst_len < 100);
//! wd_comp_free_sess(h);
//! wd_comp_uninit2();
//! ```

use crate::sess::{get, Sess};
use libc::c_int;
use std::sync::atomic::{AtomicU64, Ordering};
use uadk_wd_common::abi::*;
use uadk_wd_common::boundary::guard;
use uadk_wd_common::wd_err;
use uadk_zip::{Compressor, CounterSnapshot, Decompressor, Direction, Engine, Flush, Format, Report};

/// A stream in progress on a session.
pub(crate) enum Stream {
    Idle,
    Comp {
        c: Box<Compressor>,
        /// Input bytes taken but reported as not taken (passed again by the caller).
        owed: usize,
    },
    Decomp {
        d: Box<Decompressor>,
        /// Output produced but not yet handed out.
        carry: Vec<u8>,
        /// The stream ended; report it once `carry` is out.
        ended: bool,
    },
}

/// A completed asynchronous request, waiting for its poll.
pub struct Done(WdCompReq);

// SAFETY: the request holds the caller's buffer and callback pointers; UADK's contract
// keeps them valid until the callback, and they are only handed back to that callback.
unsafe impl Send for Done {}

impl Done {
    /// Calls the request's callback with the completed request (as UADK does, a copy
    /// holding the results; valid during the call).
    pub(crate) fn deliver(self) {
        let mut r = self.0;
        if let Some(cb) = r.cb {
            // SAFETY: the caller's callback with its own request data (UADK's contract).
            unsafe { cb(&mut r, r.cb_param) };
        }
    }
}

static DEVICE: AtomicU64 = AtomicU64::new(0);
static SOFTWARE: AtomicU64 = AtomicU64::new(0);
static FALLBACKS: AtomicU64 = AtomicU64::new(0);
static ERRORS: AtomicU64 = AtomicU64::new(0);

fn record(r: &Report) {
    match r.engine {
        Engine::Device(_) => &DEVICE,
        Engine::Software(_) => &SOFTWARE,
    }
    .fetch_add(1, Ordering::Relaxed);
    if r.fell_back {
        FALLBACKS.fetch_add(1, Ordering::Relaxed);
    }
}

fn record_delta(before: CounterSnapshot, after: CounterSnapshot) {
    DEVICE.fetch_add(after.device_requests - before.device_requests, Ordering::Relaxed);
    SOFTWARE.fetch_add(
        after.software_requests - before.software_requests,
        Ordering::Relaxed,
    );
    FALLBACKS.fetch_add(after.fallbacks - before.fallbacks, Ordering::Relaxed);
}

fn error() -> c_int {
    ERRORS.fetch_add(1, Ordering::Relaxed);
    -WD_EINVAL
}

fn route(r: &Report) -> String {
    format!("{} ({})", r.engine, r.reason)
}

/// Copies the library's request counters into `out`: 0, or `-WD_EINVAL` for NULL.
///
/// # Safety
/// `out` is NULL or writable.
pub unsafe extern "C" fn wd_rs_comp_counters(out: *mut WdRsCounters) -> c_int {
    guard("wd_rs_comp_counters", -WD_EINVAL, || {
        if out.is_null() {
            return -WD_EINVAL;
        }
        let g = |a: &AtomicU64| a.load(Ordering::Relaxed);
        // SAFETY: non-NULL and writable per the contract.
        unsafe {
            out.write(WdRsCounters {
                device_requests: g(&DEVICE),
                software_requests: g(&SOFTWARE),
                fallbacks: g(&FALLBACKS),
                errors: g(&ERRORS),
            })
        };
        0
    })
}

/// Reads and checks a request (UADK's checks): non-NULL, buffer format, buffers, room,
/// direction, and for async a callback with its argument.
///
/// # Safety
/// `req` is NULL or readable.
unsafe fn read_req(req: *mut WdCompReq, async_: bool) -> Result<WdCompReq, c_int> {
    if req.is_null() {
        wd_err!("compression request is NULL");
        return Err(error());
    }
    // SAFETY: non-NULL and readable per the contract.
    let r = unsafe { req.read() };
    let bad = |why: &str| {
        wd_err!("compression request: {why}");
        Err(error())
    };
    if r.data_fmt > WD_SGL_BUF {
        return bad("data_fmt is neither WD_FLAT_BUF nor WD_SGL_BUF");
    }
    if r.src.is_null() || r.dst.is_null() {
        return bad("src or dst is NULL");
    }
    if r.dst_len == 0 {
        return bad("dst_len is 0");
    }
    if r.op_type > 1 {
        return bad("op_type is neither WD_DIR_COMPRESS nor WD_DIR_DECOMPRESS");
    }
    if async_ && (r.cb.is_none() || r.cb_param.is_null()) {
        return bad("an async request needs cb and cb_param");
    }
    Ok(r)
}

/// Most scatter-gather entries walked (a guard against cyclic lists).
const MAX_SGL: usize = 65536;

/// The request's input: the flat buffer, or the scatter-gather list gathered.
///
/// # Safety
/// The request's buffers are valid for their lengths (UADK's contract).
unsafe fn input(r: &WdCompReq) -> Result<std::borrow::Cow<'static, [u8]>, c_int> {
    if r.src_len == 0 {
        return Ok(std::borrow::Cow::Borrowed(&[]));
    }
    if r.data_fmt == WD_FLAT_BUF {
        // SAFETY: src is valid for src_len bytes per the contract; the slice is used only
        // during this call.
        return Ok(std::borrow::Cow::Borrowed(unsafe {
            std::slice::from_raw_parts(r.src as *const u8, r.src_len as usize)
        }));
    }
    let mut v = Vec::with_capacity(r.src_len as usize);
    let mut p = r.src as *const WdDatalist;
    let mut n = 0;
    while !p.is_null() && v.len() < r.src_len as usize {
        n += 1;
        if n > MAX_SGL {
            return Err(error());
        }
        // SAFETY: a list entry per the contract.
        let e = unsafe { p.read() };
        let take = (e.len as usize).min(r.src_len as usize - v.len());
        if take > 0 {
            if e.data.is_null() {
                return Err(error());
            }
            // SAFETY: the entry's data is valid for e.len bytes per the contract.
            v.extend_from_slice(unsafe { std::slice::from_raw_parts(e.data as *const u8, take) });
        }
        p = e.next;
    }
    if v.len() < r.src_len as usize {
        wd_err!("compression request: the source list holds fewer than src_len bytes");
        return Err(error());
    }
    Ok(std::borrow::Cow::Owned(v))
}

/// Room in the destination list (bounded by dst_len).
///
/// # Safety
/// The list is valid per UADK's contract.
unsafe fn sgl_room(r: &WdCompReq) -> Result<usize, c_int> {
    let mut room = 0usize;
    let mut p = r.dst as *const WdDatalist;
    let mut n = 0;
    while !p.is_null() && room < r.dst_len as usize {
        n += 1;
        if n > MAX_SGL {
            return Err(error());
        }
        // SAFETY: a list entry per the contract.
        let e = unsafe { p.read() };
        if !e.data.is_null() {
            room += e.len as usize;
        }
        p = e.next;
    }
    Ok(room.min(r.dst_len as usize))
}

/// Writes `data` across the destination list.
///
/// # Safety
/// The list is valid per UADK's contract and holds at least `data.len()` bytes of room.
unsafe fn scatter(r: &WdCompReq, mut data: &[u8]) {
    let mut p = r.dst as *const WdDatalist;
    while !p.is_null() && !data.is_empty() {
        // SAFETY: a list entry per the contract.
        let e = unsafe { p.read() };
        if !e.data.is_null() {
            let n = (e.len as usize).min(data.len());
            // SAFETY: the entry's data is writable for e.len bytes per the contract.
            unsafe { std::ptr::copy_nonoverlapping(data.as_ptr(), e.data as *mut u8, n) };
            data = &data[n..];
        }
        p = e.next;
    }
}

fn data_error(e: &uadk_zip::Error) -> bool {
    use uadk_zip::Error as E;
    matches!(
        e,
        E::Corrupt { .. }
            | E::Truncated { .. }
            | E::TrailingData { .. }
            | E::Checksum { .. }
            | E::EmptyInput { .. }
            | E::InvalidHeader(_)
    )
}

/// (consumed, produced, status) of a stateless request.
type Outcome = (u32, u32, u32);

/// One whole stream in, one whole stream out.
///
/// # Safety
/// The request's buffers are valid per UADK's contract.
unsafe fn stateless(s: &Sess, r: &WdCompReq, device: bool) -> Result<Outcome, c_int> {
    let engine = s.engine(device)?;
    // SAFETY: buffers per the contract.
    let src = unsafe { input(r) }?;
    let sgl_out = r.data_fmt == WD_SGL_BUF;
    let mut tmp = Vec::new();
    let out: &mut [u8] = if sgl_out {
        // SAFETY: list per the contract.
        tmp.resize(unsafe { sgl_room(r) }?, 0);
        &mut tmp
    } else {
        // SAFETY: dst is writable for dst_len bytes per the contract, used only here.
        unsafe { std::slice::from_raw_parts_mut(r.dst as *mut u8, r.dst_len as usize) }
    };
    let produced = if r.op_type == 0 {
        match engine.compress_report(&src) {
            Ok((v, rep)) => {
                record(&rep);
                s.set_route(route(&rep));
                if v.len() > out.len() {
                    wd_err!(
                        "compression: {} bytes of output do not fit in {}",
                        v.len(),
                        out.len()
                    );
                    return Ok((0, 0, WD_EAGAIN as u32));
                }
                out[..v.len()].copy_from_slice(&v);
                v.len()
            }
            Err(e) => {
                wd_err!("compression failed: {e}");
                ERRORS.fetch_add(1, Ordering::Relaxed);
                return Err(-WD_EIO);
            }
        }
    } else {
        let before = engine.counters();
        let r2 = engine.decompress_into(&src, out);
        record_delta(before, engine.counters());
        s.set_route(engine.backend_reason(Direction::Decompress).to_string());
        match r2 {
            Ok(n) => n,
            Err(uadk_zip::Error::OutputTooSmall { .. }) => return Ok((0, 0, WD_EAGAIN as u32)),
            Err(e) if data_error(&e) => {
                wd_err!("decompression: {e}");
                ERRORS.fetch_add(1, Ordering::Relaxed);
                return Ok((0, 0, WD_IN_EPARA as u32));
            }
            Err(e) => {
                wd_err!("decompression failed: {e}");
                ERRORS.fetch_add(1, Ordering::Relaxed);
                return Err(-WD_EIO);
            }
        }
    };
    if sgl_out {
        // SAFETY: the list has `tmp.len()` bytes of room (sgl_room).
        unsafe { scatter(r, &tmp[..produced]) };
    }
    Ok((src.len() as u32, produced as u32, 0))
}

fn write_back(req: *mut WdCompReq, o: Outcome) {
    // SAFETY: `req` was checked non-NULL and is writable per UADK's contract.
    unsafe {
        (*req).src_len = o.0;
        (*req).dst_len = o.1;
        (*req).status = o.2;
    }
}

fn run(what: &'static str, f: impl FnOnce() -> Result<c_int, c_int>) -> c_int {
    guard(what, -WD_EINVAL, || f().unwrap_or_else(|e| e))
}

/// `wd_do_comp_sync`: one whole stream, stateless (flat or scatter-gather buffers).
/// Returns 0 with `status` 0 (done), `WD_EAGAIN` (output too small: nothing written) or
/// `WD_IN_EPARA` (corrupt data); negative for bad arguments (`-WD_EINVAL`) or an engine
/// failure (`-WD_EIO`).
///
/// # Safety
/// `req` is NULL or a valid request whose buffers are valid for their lengths.
pub unsafe extern "C" fn wd_do_comp_sync(h_sess: HandleT, req: *mut WdCompReq) -> c_int {
    run("wd_do_comp_sync", || {
        let s = get(h_sess)?;
        // SAFETY: per the contract.
        let r = unsafe { read_req(req, false) }?;
        if r.src_len == 0 {
            wd_err!("wd_do_comp_sync: src_len is 0");
            return Err(error());
        }
        let (_, ctx) = s.setting.pick(s.key, CTX_MODE_SYNC)?;
        let device = ctx.device;
        // SAFETY: buffers per the contract.
        let o = unsafe { stateless(&s, &r, device) }?;
        write_back(req, o);
        Ok(0)
    })
}

/// `wd_do_comp_async`: like [`wd_do_comp_sync`], run at submission and completed through
/// `req->cb(req, req->cb_param)` when polled; `-WD_EBUSY` when 1024 completions wait on
/// the context.
///
/// # Safety
/// As [`wd_do_comp_sync`]; the buffers and `cb_param` stay valid until the callback.
pub unsafe extern "C" fn wd_do_comp_async(h_sess: HandleT, req: *mut WdCompReq) -> c_int {
    run("wd_do_comp_async", || {
        let s = get(h_sess)?;
        // SAFETY: per the contract.
        let r = unsafe { read_req(req, true) }?;
        if r.src_len == 0 {
            return Err(error());
        }
        let (idx, ctx) = s.setting.pick(s.key, CTX_MODE_ASYNC)?;
        let device = ctx.device;
        // SAFETY: buffers per the contract.
        let o = unsafe { stateless(&s, &r, device) }?;
        let mut done = r;
        done.src_len = o.0;
        done.dst_len = o.1;
        done.status = o.2;
        s.setting.push_async(idx, Done(done))?;
        Ok(0)
    })
}

/// `wd_do_comp_strm`: one step of a stream (flat buffers only); see the module docs.
///
/// # Safety
/// `req` is NULL or a valid request whose buffers are valid for their lengths.
pub unsafe extern "C" fn wd_do_comp_strm(h_sess: HandleT, req: *mut WdCompReq) -> c_int {
    run("wd_do_comp_strm", || {
        let s = get(h_sess)?;
        // SAFETY: per the contract.
        let r = unsafe { read_req(req, false) }?;
        if r.data_fmt != WD_FLAT_BUF {
            wd_err!("wd_do_comp_strm: streams take flat buffers only");
            return Err(error());
        }
        let (_, ctx) = s.setting.pick(s.key, CTX_MODE_SYNC)?;
        let device = ctx.device;
        // SAFETY: buffers per the contract; used only during this call.
        let (src, dst) = unsafe {
            (
                std::slice::from_raw_parts(r.src as *const u8, r.src_len as usize),
                std::slice::from_raw_parts_mut(r.dst as *mut u8, r.dst_len as usize),
            )
        };
        let o = if r.op_type == 0 {
            compress_step(&s, device, src, dst, r.last != 0)?
        } else {
            decompress_step(&s, device, src, dst)?
        };
        write_back(req, o);
        Ok(0)
    })
}

fn first_packet_ok(format: Format, n: u32) -> bool {
    match format {
        Format::Zlib => n > 2,
        Format::Gzip => n > 10,
        Format::Deflate => true,
    }
}

fn compress_step(s: &Sess, device: bool, src: &[u8], dst: &mut [u8], last: bool) -> Result<Outcome, c_int> {
    let mut st = s.stream.lock();
    match &*st {
        Stream::Decomp { .. } => {
            wd_err!("wd_do_comp_strm: a decompression stream is in progress (reset the session first)");
            return Err(error());
        }
        Stream::Idle => {
            if !first_packet_ok(s.format, dst.len() as u32) {
                wd_err!(
                    "wd_do_comp_strm: the first packet of a {} stream needs more output room",
                    s.format
                );
                return Err(error());
            }
            let c = s.engine(device)?.compressor().map_err(|e| {
                wd_err!("wd_do_comp_strm: {e}");
                error()
            })?;
            *st = Stream::Comp {
                c: Box::new(c),
                owed: 0,
            };
        }
        Stream::Comp { .. } => {}
    }
    let Stream::Comp { c, owed } = &mut *st else {
        unreachable!("set above")
    };
    let skip = (*owed).min(src.len());
    let flush = if last { Flush::Finish } else { Flush::Sync };
    let p = match c.compress(&src[skip..], dst, flush) {
        Ok(p) => p,
        Err(e) => {
            wd_err!("wd_do_comp_strm: compression failed: {e}");
            *st = Stream::Idle;
            ERRORS.fetch_add(1, Ordering::Relaxed);
            return Err(-WD_EIO);
        }
    };
    let taken = skip + p.consumed;
    let out = p.produced as u32;
    if p.done && last {
        let rep = c.report().clone();
        record(&rep);
        s.set_route(route(&rep));
        *st = Stream::Idle;
        return Ok((taken as u32, out, 0));
    }
    if p.done {
        *owed = 0;
        s.set_route(route(c.report()));
        return Ok((taken as u32, out, 0));
    }
    if taken == src.len() && !src.is_empty() {
        // Everything was taken but output is waiting: report one byte short so the caller
        // comes back (with that byte, which is skipped) for the rest.
        *owed = 1;
        return Ok((taken as u32 - 1, out, 0));
    }
    *owed = 0;
    if src.is_empty() {
        return Ok((0, out, WD_EAGAIN as u32));
    }
    Ok((taken as u32, out, 0))
}

fn decompress_step(s: &Sess, device: bool, src: &[u8], dst: &mut [u8]) -> Result<Outcome, c_int> {
    let mut st = s.stream.lock();
    match &*st {
        Stream::Comp { .. } => {
            wd_err!("wd_do_comp_strm: a compression stream is in progress (reset the session first)");
            return Err(error());
        }
        Stream::Idle => {
            if !first_packet_ok(s.format, src.len() as u32) {
                wd_err!(
                    "wd_do_comp_strm: the first packet of a {} stream is too short",
                    s.format
                );
                return Err(error());
            }
            let d = s.engine(device)?.decompressor().map_err(|e| {
                wd_err!("wd_do_comp_strm: {e}");
                error()
            })?;
            *st = Stream::Decomp {
                d: Box::new(d),
                carry: Vec::new(),
                ended: false,
            };
        }
        Stream::Decomp { .. } => {}
    }
    let Stream::Decomp { d, carry, ended } = &mut *st else {
        unreachable!("set above")
    };
    let mut produced = carry.len().min(dst.len());
    dst[..produced].copy_from_slice(&carry[..produced]);
    carry.drain(..produced);
    if !carry.is_empty() {
        return Ok((0, produced as u32, WD_EAGAIN as u32));
    }
    if *ended {
        finish_decomp(s, d);
        *st = Stream::Idle;
        return Ok((0, produced as u32, WD_STREAM_END as u32));
    }
    let p = match d.decompress(src, &mut dst[produced..]) {
        Ok(p) => p,
        Err(e) => {
            wd_err!("wd_do_comp_strm: decompression: {e}");
            *st = Stream::Idle;
            ERRORS.fetch_add(1, Ordering::Relaxed);
            if data_error(&e) || matches!(e, uadk_zip::Error::OutputLimit { .. }) {
                return Ok((0, produced as u32, WD_IN_EPARA as u32));
            }
            return Err(-WD_EIO);
        }
    };
    produced += p.produced;
    if p.done {
        finish_decomp(s, d);
        *st = Stream::Idle;
        return Ok((p.consumed as u32, produced as u32, WD_STREAM_END as u32));
    }
    if produced == dst.len() && p.consumed == src.len() {
        // The output is full: see whether more is waiting (kept for the next call).
        let mut probe = [0u8; 256];
        match d.decompress(&[], &mut probe) {
            Ok(q) => {
                carry.extend_from_slice(&probe[..q.produced]);
                *ended = q.done;
                if q.produced == 0 && q.done {
                    finish_decomp(s, d);
                    *st = Stream::Idle;
                    return Ok((p.consumed as u32, produced as u32, WD_STREAM_END as u32));
                }
                let status = if carry.is_empty() { 0 } else { WD_EAGAIN as u32 };
                return Ok((p.consumed as u32, produced as u32, status));
            }
            Err(e) => {
                wd_err!("wd_do_comp_strm: decompression: {e}");
                *st = Stream::Idle;
                ERRORS.fetch_add(1, Ordering::Relaxed);
                return Ok((p.consumed as u32, produced as u32, WD_IN_EPARA as u32));
            }
        }
    }
    if src.is_empty() && produced == 0 {
        wd_err!("wd_do_comp_strm: no input and no output waiting: the stream is truncated");
        *st = Stream::Idle;
        ERRORS.fetch_add(1, Ordering::Relaxed);
        return Ok((0, 0, WD_IN_EPARA as u32));
    }
    Ok((p.consumed as u32, produced as u32, 0))
}

fn finish_decomp(s: &Sess, d: &Decompressor) {
    let rep = d.report().clone();
    record(&rep);
    s.set_route(route(&rep));
}

/// `wd_do_comp_sync2`: a whole stream of any size through the stream engine (flat
/// buffers). 0 with `status` 0; `-WD_ENOMEM` when the output does not fit;
/// `-WD_EINVAL` with `status == WD_IN_EPARA` for corrupt or truncated data.
///
/// # Safety
/// `req` is NULL or a valid request whose buffers are valid for their lengths.
pub unsafe extern "C" fn wd_do_comp_sync2(h_sess: HandleT, req: *mut WdCompReq) -> c_int {
    run("wd_do_comp_sync2", || {
        let s = get(h_sess)?;
        // SAFETY: per the contract.
        let r = unsafe { read_req(req, false) }?;
        if r.data_fmt != WD_FLAT_BUF || r.src_len == 0 {
            wd_err!("wd_do_comp_sync2: flat buffers and src_len > 0 are required");
            return Err(error());
        }
        let (_, ctx) = s.setting.pick(s.key, CTX_MODE_SYNC)?;
        let engine = s.engine(ctx.device)?;
        *s.stream.lock() = Stream::Idle;
        // SAFETY: buffers per the contract; used only during this call.
        let (src, dst) = unsafe {
            (
                std::slice::from_raw_parts(r.src as *const u8, r.src_len as usize),
                std::slice::from_raw_parts_mut(r.dst as *mut u8, r.dst_len as usize),
            )
        };
        let fail = |status: u32, ret: c_int| {
            ERRORS.fetch_add(1, Ordering::Relaxed);
            write_back(req, (0, 0, status));
            Err(ret)
        };
        if r.op_type == 0 {
            let mut c = engine.compressor().map_err(|_| error())?;
            match c.compress(src, dst, Flush::Finish) {
                Ok(p) if p.done => {
                    record(c.report());
                    s.set_route(route(c.report()));
                    write_back(req, (p.consumed as u32, p.produced as u32, 0));
                    Ok(0)
                }
                Ok(_) => {
                    wd_err!(
                        "wd_do_comp_sync2: the output does not fit in dst_len {}",
                        dst.len()
                    );
                    fail(0, -WD_ENOMEM)
                }
                Err(e) => {
                    wd_err!("wd_do_comp_sync2: {e}");
                    fail(0, -WD_EIO)
                }
            }
        } else {
            let mut d = engine.decompressor().map_err(|_| error())?;
            match d.decompress(src, dst) {
                Ok(p) if p.done => {
                    record(d.report());
                    s.set_route(route(d.report()));
                    write_back(req, (p.consumed as u32, p.produced as u32, 0));
                    Ok(0)
                }
                Ok(p) if p.produced == dst.len() => {
                    wd_err!(
                        "wd_do_comp_sync2: the output does not fit in dst_len {}",
                        dst.len()
                    );
                    fail(0, -WD_ENOMEM)
                }
                Ok(_) => {
                    wd_err!("wd_do_comp_sync2: the stream is truncated");
                    fail(WD_IN_EPARA as u32, -WD_EINVAL)
                }
                Err(e) => {
                    wd_err!("wd_do_comp_sync2: {e}");
                    fail(WD_IN_EPARA as u32, -WD_EINVAL)
                }
            }
        }
    })
}
