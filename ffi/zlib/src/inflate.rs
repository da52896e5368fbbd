//! inflate streams: zlib-rs for headers and everything exotic, ISA-L for bodies.
//!
//! A *fast* stream (window 32 KiB, ISA-L loaded, backend allows software) works in phases:
//!
//! 1. **header** (zlib/gzip/auto-detect): a zlib-rs stream with the caller's windowBits is
//!    driven with `Z_BLOCK`, which stops right after the header — so header parsing, its
//!    error messages, `Z_NEED_DICT` and `inflateGetHeader` are zlib's exactly. A dictionary
//!    request or a header error turns the stream native (that zlib-rs stream carries on).
//! 2. **body**: ISA-L through [`ExactInflate`], which reports its read-ahead, so consumption is
//!    reported as zlib does — never past the end of the deflate data. Bytes ISA-L holds but
//!    that were not yet reported consumed are presented again by the caller and skipped.
//!    The check value (adler32 or crc32) of the output is kept in `strm->adler` as zlib does.
//! 3. **trailer**: checked here with zlib's messages ("incorrect data check",
//!    "incorrect length check").
//!
//! Other streams are *native*: zlib-rs throughout. `Z_BLOCK`/`Z_TREES`, dictionaries,
//! `inflatePrime`, `inflateSync` and friends move a fast stream that is still in its header
//! to native; in the body they are answered as documented per function.

use crate::abi::*;
use crate::stats::{self, C};
use crate::zrs::Inner;
use std::ffi::{c_int, c_long, c_uint, c_ulong, CStr};
use uadk_zip::software::exact_inflate::ExactInflate;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    Header,
    Body,
    Trailer,
    Done,
    Bad,
}

/// The fast path's state.
struct Fast {
    phase: Phase,
    /// zlib-rs parsing the header (wrapped formats, header phase only).
    header: Option<Inner>,
    body: Option<ExactInflate>,
    /// Bytes at the front of the caller's next input that the body engine already holds.
    held: usize,
    /// The body engine has decoded the end of the stream (it needs no more input).
    input_done: bool,
    gzip: bool,
    check: u32,
    out: u64,
    trailer: [u8; 8],
    have: usize,
    validate: bool,
    first: Option<u8>,
}

enum Mode {
    Fast(Box<Fast>),
    Native(Inner),
}

/// An inflate stream's state.
pub struct Inflate {
    /// windowBits as given (for a native restart).
    window_bits: c_int,
    /// zlib's `wrap` (0 raw, bit 0 zlib, bit 1 gzip, bit 2 check).
    wrap: c_int,
    mode: Mode,
}

/// zlib's `inflateReset2` window checks: `(wrap, window bits)` or `None` (`Z_STREAM_ERROR`).
pub fn check_window_bits(window_bits: c_int) -> Option<(c_int, c_int)> {
    let (wrap, mut w) = if window_bits < 0 {
        if window_bits < -15 {
            return None;
        }
        (0, -window_bits)
    } else {
        ((window_bits >> 4) + 5, window_bits)
    };
    if wrap != 0 && w < 48 {
        w &= 15;
    }
    if w != 0 && !(8..=15).contains(&w) {
        return None;
    }
    Some((wrap, w))
}

/// Whether ISA-L's inflater can be created in this process (checked once).
fn isal_inflate() -> Result<(), &'static str> {
    static OK: std::sync::OnceLock<Result<(), String>> = std::sync::OnceLock::new();
    OK.get_or_init(|| ExactInflate::new().map(|_| ()).map_err(|e| e.to_string()))
        .as_ref()
        .map(|_| ())
        .map_err(String::as_str)
}

/// Maps an ISA-L error to the zlib message for the same class of damage.
fn data_error_message(detail: &str) -> &'static CStr {
    if detail.contains("block") {
        c"invalid block type"
    } else if detail.contains("back-reference") || detail.contains("distance") {
        c"invalid distance too far back"
    } else if detail.contains("stored") {
        c"invalid stored block lengths"
    } else {
        c"invalid literal/length code"
    }
}

impl Inflate {
    /// A new stream for validated `window_bits` (see [`check_window_bits`]).
    pub fn new(window_bits: c_int) -> Result<Inflate, c_int> {
        let (wrap, w) = check_window_bits(window_bits).ok_or(Z_STREAM_ERROR)?;
        stats::bump(C::InflateStreams);
        let why = if w != 15 && !(w == 0 && wrap != 0) {
            Some("window below 32 KiB".to_string())
        } else {
            isal_inflate().err().map(|e| format!("ISA-L unavailable: {e}"))
        };
        let mode = match why {
            Some(why) => {
                stats::bump(C::InflateZlibRs);
                stats::route(format!("inflate software:zlib-rs ({why})"));
                Mode::Native(Inner::inflate(window_bits)?)
            }
            None => Mode::Fast(Box::new(Fast::new(wrap, window_bits)?)),
        };
        Ok(Inflate {
            window_bits,
            wrap,
            mode,
        })
    }

    /// The zlib-rs stream, moving a fast stream still in its header there first; `None`
    /// when the fast stream is past its header (zlib's state for it does not exist).
    fn native(&mut self, why: &str) -> Option<&mut Inner> {
        if let Mode::Fast(f) = &mut self.mode {
            if f.phase != Phase::Header {
                stats::bump(C::Unsupported);
                stats::route(format!(
                    "inflate refused mid-stream ({why}: the body runs on ISA-L)"
                ));
                return None;
            }
            let inner = match f.header.take() {
                Some(i) => i,
                None => Inner::inflate(self.window_bits).ok()?,
            };
            stats::bump(C::InflateZlibRs);
            stats::route(format!("inflate software:zlib-rs ({why})"));
            self.mode = Mode::Native(inner);
        }
        match &mut self.mode {
            Mode::Native(i) => Some(i),
            Mode::Fast(_) => None,
        }
    }

    /// `inflate()`.
    pub fn inflate(&mut self, strm: &mut z_stream, flush: c_int) -> c_int {
        if strm.next_out.is_null() || (strm.next_in.is_null() && strm.avail_in != 0) {
            return Z_STREAM_ERROR;
        }
        if flush == Z_BLOCK || flush == Z_TREES {
            if let Mode::Fast(f) = &self.mode {
                if matches!(f.phase, Phase::Done | Phase::Bad) {
                    // Nothing left to decode: the fast path answers as zlib would.
                } else if self.native("Z_BLOCK/Z_TREES").is_none() {
                    return Z_STREAM_ERROR;
                }
            }
        }
        let (in0, out0) = (strm.avail_in, strm.avail_out);
        let rc = match &mut self.mode {
            Mode::Native(inner) => {
                let adler = strm.adler;
                // SAFETY: the zlib-rs stream holds the caller's fields for this call.
                let rc = inner.call(strm, |s| unsafe { libz_rs_sys::inflate(s, flush) });
                if self.wrap == 0 {
                    // zlib leaves `adler` alone for raw streams; zlib-rs sets it to 1.
                    strm.adler = adler;
                }
                rc
            }
            Mode::Fast(f) => match f.run(strm, flush) {
                Ok(rc) => rc,
                Err(to_native) => {
                    // The header stream asked for a dictionary or failed: it continues natively.
                    self.mode = Mode::Native(to_native.inner);
                    stats::bump(C::InflateZlibRs);
                    stats::route(format!("inflate software:zlib-rs ({})", to_native.why));
                    to_native.rc
                }
            },
        };
        stats::add(C::InflateBytesIn, u64::from(in0 - strm.avail_in));
        stats::add(C::InflateBytesOut, u64::from(out0 - strm.avail_out));
        if rc == Z_DATA_ERROR {
            stats::bump(C::InflateDataErrors);
        }
        rc
    }

    /// The caller's fields after `inflateInit2_` (zlib's `inflateReset`).
    pub fn init_fields(&self, strm: &mut z_stream) {
        strm.total_in = 0;
        strm.total_out = 0;
        strm.msg = std::ptr::null_mut();
        if self.wrap != 0 {
            strm.adler = (self.wrap & 1) as c_ulong;
        }
    }

    /// `inflateReset` and friends: `window_bits` `None` keeps the current one.
    pub fn reset(&mut self, strm: &mut z_stream, window_bits: Option<c_int>) -> c_int {
        let w = window_bits.unwrap_or(self.window_bits);
        if check_window_bits(w).is_none() {
            return Z_STREAM_ERROR;
        }
        match Inflate::new(w) {
            Ok(n) => {
                *self = n;
                strm.total_in = 0;
                strm.total_out = 0;
                strm.msg = std::ptr::null_mut();
                if self.wrap != 0 {
                    strm.adler = (self.wrap & 1) as c_ulong;
                }
                Z_OK
            }
            Err(rc) => rc,
        }
    }

    /// `inflateEnd`.
    pub fn end(self) -> c_int {
        match self.mode {
            Mode::Native(inner) => inner.end(),
            Mode::Fast(_) => Z_OK,
        }
    }

    /// `inflateSetDictionary`.
    pub fn set_dictionary(&mut self, strm: &mut z_stream, dict: *const u8, len: c_uint) -> c_int {
        match self.native("dictionary") {
            // SAFETY: dict is valid for len bytes (caller's contract); zlib-rs checks null.
            Some(inner) => inner.call(strm, |s| unsafe {
                libz_rs_sys::inflateSetDictionary(s, dict, len)
            }),
            None => Z_STREAM_ERROR,
        }
    }

    /// `inflateGetDictionary`.
    pub fn get_dictionary(&mut self, strm: &mut z_stream, dict: *mut u8, len: *mut c_uint) -> c_int {
        match self.native("inflateGetDictionary") {
            // SAFETY: dict/len are null or valid (caller's contract).
            Some(inner) => inner.call(strm, |s| unsafe {
                libz_rs_sys::inflateGetDictionary(s, dict, len)
            }),
            None => Z_STREAM_ERROR,
        }
    }

    /// `inflateGetHeader`.
    pub fn get_header(&mut self, strm: &mut z_stream, head: *mut gz_header) -> c_int {
        if self.wrap & 2 == 0 {
            return Z_STREAM_ERROR;
        }
        let inner = match &mut self.mode {
            Mode::Native(i) => i,
            Mode::Fast(f) => match f.header.as_mut() {
                Some(i) if f.phase == Phase::Header => i,
                // Past the header: zlib would keep the pointer for nothing (reset clears it).
                _ => return Z_OK,
            },
        };
        // SAFETY: head is null or a gz_header the caller keeps alive (zlib's contract).
        inner.call(strm, |s| unsafe { libz_rs_sys::inflateGetHeader(s, head) })
    }

    /// `inflatePrime`.
    pub fn prime(&mut self, strm: &mut z_stream, bits: c_int, value: c_int) -> c_int {
        match self.native("inflatePrime") {
            // SAFETY: plain values.
            Some(inner) => inner.call(strm, |s| unsafe { libz_rs_sys::inflatePrime(s, bits, value) }),
            None => Z_STREAM_ERROR,
        }
    }

    /// `inflateSync`: on a fast stream past its header, the search runs on a new raw zlib-rs
    /// stream (what zlib does after a sync point: raw blocks, no trailer check).
    pub fn sync(&mut self, strm: &mut z_stream) -> c_int {
        if let Mode::Fast(f) = &self.mode {
            if f.phase != Phase::Header {
                match Inner::inflate(-15) {
                    Ok(i) => {
                        stats::route("inflate software:zlib-rs (inflateSync)".into());
                        self.mode = Mode::Native(i);
                    }
                    Err(rc) => return rc,
                }
            }
        }
        match self.native("inflateSync") {
            // SAFETY: the zlib-rs stream holds the caller's fields for this call.
            Some(inner) => inner.call(strm, |s| unsafe { libz_rs_sys::inflateSync(s) }),
            None => Z_STREAM_ERROR,
        }
    }

    /// `inflateSyncPoint`.
    pub fn sync_point(&mut self, strm: &mut z_stream) -> c_int {
        match &mut self.mode {
            // SAFETY: the zlib-rs stream holds the caller's fields for this call.
            Mode::Native(inner) => inner.call(strm, |s| unsafe { libz_rs_sys::inflateSyncPoint(s) }),
            Mode::Fast(_) => 0,
        }
    }

    /// `inflateMark`: on a fast stream, -65536 (zlib's value between codes).
    pub fn mark(&mut self) -> c_long {
        match &mut self.mode {
            // SAFETY: the stream is live.
            Mode::Native(inner) => unsafe { libz_rs_sys::inflateMark(inner.raw()) },
            Mode::Fast(f) => match f.header.as_mut() {
                // SAFETY: the stream is live.
                Some(i) => unsafe { libz_rs_sys::inflateMark(i.raw()) },
                None => -(1 << 16),
            },
        }
    }

    /// `inflateCodesUsed`.
    pub fn codes_used(&mut self) -> c_ulong {
        match &mut self.mode {
            // SAFETY: the stream is live.
            Mode::Native(inner) => unsafe { libz_rs_sys::inflateCodesUsed(inner.raw()) },
            Mode::Fast(_) => 0,
        }
    }

    /// `inflateValidate`.
    pub fn validate(&mut self, strm: &mut z_stream, check: c_int) -> c_int {
        if check != 0 && self.wrap != 0 {
            self.wrap |= 4;
        } else {
            self.wrap &= !4;
        }
        match &mut self.mode {
            // SAFETY: plain value.
            Mode::Native(inner) => inner.call(strm, |s| unsafe { libz_rs_sys::inflateValidate(s, check) }),
            Mode::Fast(f) => {
                f.validate = self.wrap & 4 != 0;
                if let Some(i) = f.header.as_mut() {
                    // SAFETY: plain value; the stream is live.
                    unsafe { libz_rs_sys::inflateValidate(i.raw(), check) };
                }
                Z_OK
            }
        }
    }

    /// `inflateCopy`: a deep copy.
    pub fn try_clone(&mut self) -> Result<Inflate, c_int> {
        let mode = match &mut self.mode {
            Mode::Native(inner) => Mode::Native(inner.try_clone()?),
            Mode::Fast(f) => Mode::Fast(Box::new(Fast {
                phase: f.phase,
                header: match f.header.as_mut() {
                    Some(i) => Some(i.try_clone()?),
                    None => None,
                },
                body: f.body.as_ref().map(ExactInflate::try_clone),
                held: f.held,
                input_done: f.input_done,
                gzip: f.gzip,
                check: f.check,
                out: f.out,
                trailer: f.trailer,
                have: f.have,
                validate: f.validate,
                first: f.first,
            })),
        };
        Ok(Inflate {
            window_bits: self.window_bits,
            wrap: self.wrap,
            mode,
        })
    }
}

/// A fast stream that must continue natively, with the code of the call that found out.
struct ToNative {
    inner: Inner,
    rc: c_int,
    why: &'static str,
}

impl Fast {
    fn new(wrap: c_int, window_bits: c_int) -> Result<Fast, c_int> {
        let header = if wrap != 0 {
            Some(Inner::inflate(window_bits)?)
        } else {
            None
        };
        stats::bump(C::InflateFast);
        stats::route(format!(
            "inflate software:isa-l ({} body on ISA-L, header and trailer checked by zlib-rs/uadk_z)",
            if wrap == 0 { "raw" } else { "wrapped" }
        ));
        Ok(Fast {
            phase: Phase::Header,
            header,
            body: None,
            held: 0,
            input_done: false,
            gzip: false,
            check: 0,
            out: 0,
            trailer: [0; 8],
            have: 0,
            validate: wrap & 4 != 0,
            first: None,
        })
    }

    fn set_bad(&mut self, strm: &mut z_stream, msg: &'static CStr) -> c_int {
        self.phase = Phase::Bad;
        self.body = None;
        strm.msg = msg_ptr(msg);
        Z_DATA_ERROR
    }

    /// One `inflate()` call; `Err` hands the header's zlib-rs stream over to native mode.
    fn run(&mut self, strm: &mut z_stream, flush: c_int) -> Result<c_int, ToNative> {
        let (in0, out0) = (strm.avail_in, strm.avail_out);
        loop {
            match self.phase {
                Phase::Header => {
                    let Some(inner) = self.header.as_mut() else {
                        // Raw: the body starts with the first input (until then a dictionary
                        // may still be set, natively).
                        if strm.avail_in == 0 {
                            break;
                        }
                        self.start_body();
                        continue;
                    };
                    if self.first.is_none() && strm.avail_in > 0 {
                        // SAFETY: avail_in > 0, so next_in points to a readable byte.
                        self.first = Some(unsafe { *strm.next_in });
                    }
                    // SAFETY: the zlib-rs stream holds the caller's fields for this call.
                    let rc = inner.call(strm, |s| unsafe { libz_rs_sys::inflate(s, Z_BLOCK) });
                    let at_body = inner.fields().data_type & 128 != 0;
                    if rc == Z_NEED_DICT || rc < 0 && rc != Z_BUF_ERROR {
                        let inner = self.header.take().expect("header stream exists");
                        let why = if rc == Z_NEED_DICT {
                            "zlib header asks for a dictionary"
                        } else {
                            "bad header"
                        };
                        return Err(ToNative { inner, rc, why });
                    }
                    if !at_body {
                        break;
                    }
                    self.gzip = self.first == Some(0x1f);
                    self.check = strm.adler as u32;
                    self.header = None;
                    self.start_body();
                }
                Phase::Body => {
                    let skip = self.held.min(strm.avail_in as usize);
                    // SAFETY: the caller's buffers, valid for avail_in/avail_out.
                    let (inp, out) = unsafe { (slice_in(strm), slice_out(strm)) };
                    let feed = if self.input_done { &[][..] } else { &inp[skip..] };
                    let body = self.body.as_mut().expect("body engine in the body phase");
                    let s = match body.step(feed, out) {
                        Ok(s) => s,
                        Err(e) => return Ok(self.set_bad(strm, data_error_message(&e.to_string()))),
                    };
                    // Bytes the engine read ahead stay unreported (presented again, skipped)
                    // when they may follow the stream: once its end is decoded, or when the
                    // output filled before it. When the engine stopped for want of input,
                    // all of it counts as consumed, as zlib's bit buffer does.
                    let keep = if s.input_done || s.produced == out.len() {
                        s.held
                    } else {
                        0
                    };
                    let used = (skip + s.fed).saturating_sub(keep);
                    self.held = keep;
                    self.input_done = s.input_done;
                    if s.produced > 0 && self.validate && self.header_wrapped() {
                        let o = &out[..s.produced];
                        // SAFETY: `o` is a valid slice.
                        self.check = unsafe {
                            if self.gzip {
                                libz_rs_sys::crc32_z(c_ulong::from(self.check), o.as_ptr(), o.len())
                            } else {
                                libz_rs_sys::adler32_z(c_ulong::from(self.check), o.as_ptr(), o.len())
                            }
                        } as u32;
                        strm.adler = c_ulong::from(self.check);
                    }
                    self.out += s.produced as u64;
                    advance(strm, used, s.produced);
                    if s.done {
                        self.body = None;
                        self.held = 0;
                        self.input_done = false;
                        self.phase = if self.header_wrapped() {
                            Phase::Trailer
                        } else {
                            Phase::Done
                        };
                        continue;
                    }
                    if (s.fed == 0 && s.produced == 0) || strm.avail_out == 0 {
                        break;
                    }
                }
                Phase::Trailer => {
                    // As zlib: the check value first (its 4 bytes, then verified), then for
                    // gzip the length; each error as soon as its bytes are in.
                    let need = if self.have < 4 { 4 } else { 8 };
                    let take = (need - self.have).min(strm.avail_in as usize);
                    // SAFETY: the caller's input, valid for avail_in ≥ take bytes.
                    let inp = unsafe { slice_in(strm) };
                    self.trailer[self.have..self.have + take].copy_from_slice(&inp[..take]);
                    self.have += take;
                    advance(strm, take, 0);
                    if self.have < need {
                        break;
                    }
                    let t = self.trailer;
                    if need == 4 {
                        let stored = if self.gzip {
                            u32::from_le_bytes([t[0], t[1], t[2], t[3]])
                        } else {
                            u32::from_be_bytes([t[0], t[1], t[2], t[3]])
                        };
                        if self.validate && stored != self.check {
                            return Ok(self.set_bad(strm, c"incorrect data check"));
                        }
                        if self.gzip {
                            continue;
                        }
                    } else if self.validate && u32::from_le_bytes([t[4], t[5], t[6], t[7]]) != self.out as u32
                    {
                        return Ok(self.set_bad(strm, c"incorrect length check"));
                    }
                    self.phase = Phase::Done;
                }
                Phase::Done | Phase::Bad => break,
            }
        }
        strm.data_type = match self.phase {
            Phase::Done => 64,
            Phase::Header => strm.data_type,
            _ => 0,
        };
        let ret = match self.phase {
            Phase::Done => Z_STREAM_END,
            Phase::Bad => return Ok(Z_DATA_ERROR),
            _ => Z_OK,
        };
        let progress = in0 != strm.avail_in || out0 != strm.avail_out;
        if (!progress || flush == Z_FINISH) && ret == Z_OK {
            return Ok(Z_BUF_ERROR);
        }
        Ok(ret)
    }

    /// Whether the stream has a zlib/gzip wrapper (a header was parsed).
    fn header_wrapped(&self) -> bool {
        self.first.is_some()
    }

    fn start_body(&mut self) {
        match ExactInflate::new() {
            Ok(b) => {
                self.body = Some(b);
                self.phase = Phase::Body;
            }
            Err(_) => {
                // ISA-L was loaded when the stream was created; it cannot vanish.
                self.phase = Phase::Bad;
            }
        }
    }
}

/// # Safety
/// `strm.next_in` is valid for `avail_in` bytes.
unsafe fn slice_in<'a>(strm: &z_stream) -> &'a [u8] {
    if strm.avail_in == 0 {
        return &[];
    }
    // SAFETY: caller's contract.
    unsafe { std::slice::from_raw_parts(strm.next_in, strm.avail_in as usize) }
}

/// # Safety
/// `strm.next_out` is valid for `avail_out` bytes.
unsafe fn slice_out<'a>(strm: &z_stream) -> &'a mut [u8] {
    if strm.avail_out == 0 {
        return &mut [];
    }
    // SAFETY: caller's contract.
    unsafe { std::slice::from_raw_parts_mut(strm.next_out, strm.avail_out as usize) }
}

fn advance(strm: &mut z_stream, used: usize, produced: usize) {
    // SAFETY: used ≤ avail_in and produced ≤ avail_out: the pointers stay in their buffers.
    unsafe {
        strm.next_in = strm.next_in.add(used);
        strm.next_out = strm.next_out.add(produced);
    }
    strm.avail_in -= used as c_uint;
    strm.avail_out -= produced as c_uint;
    strm.total_in = strm.total_in.wrapping_add(used as c_ulong);
    strm.total_out = strm.total_out.wrapping_add(produced as c_ulong);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_bits_follow_inflate_reset2() {
        assert_eq!(check_window_bits(15), Some((5, 15)));
        assert_eq!(check_window_bits(31), Some((6, 15)));
        assert_eq!(check_window_bits(47), Some((7, 15)));
        assert_eq!(check_window_bits(-15), Some((0, 15)));
        assert_eq!(check_window_bits(0), Some((5, 0)));
        assert_eq!(check_window_bits(-16), None);
        assert_eq!(check_window_bits(7), None);
        assert_eq!(check_window_bits(-7), None);
        assert_eq!(check_window_bits(16), Some((6, 0)));
    }
}
