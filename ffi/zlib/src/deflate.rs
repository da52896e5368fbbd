//! deflate streams: zlib's `deflate()` rules over fast engines, or zlib-rs throughout.
//!
//! A stream starts *fresh*: `deflateInit2_` only validates and records the parameters
//! (cheap, and calls made before any data — `deflateSetDictionary`, `deflateSetHeader`,
//! `deflatePrime`, `deflateTune` — decide freely). The first `deflate()` picks the mode:
//!
//! * **framed**: we write zlib's header and trailer (adler32 or gzip crc32/ISIZE kept in
//!   `strm->adler` as zlib does), keep zlib's pending-output buffer, and run the raw deflate
//!   body on segment engines ([`crate::engines`]). Return codes, `Z_BUF_ERROR` rules,
//!   `last_flush` ranking and the `FINISH` state follow zlib 1.2.13's `deflate()` line by line.
//!   A mid-stream call that needs zlib's own state ends the current segment with a sync flush
//!   and continues on a raw zlib-rs segment.
//! * **native**: a zlib-rs stream with the caller's parameters does everything (window
//!   below 32 KiB, level 0, Huffman-only/RLE/fixed strategies, a dictionary or gzip header
//!   set before the first call, ...).

use crate::abi::*;
use crate::engines::{SegParams, Segment};
use crate::stats::{self, C};
use crate::zrs::Inner;
use std::ffi::{c_int, c_uint, c_ulong};

/// zlib's stream status (`INIT_STATE`, `BUSY_STATE`, `FINISH_STATE`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Status {
    Init,
    Busy,
    Finish,
}

/// Validated `deflateInit2_` parameters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Params {
    /// 0 raw, 1 zlib, 2 gzip.
    wrap: c_int,
    seg: SegParams,
}

impl Params {
    /// zlib's `deflateInit2_` checks; `None` means `Z_STREAM_ERROR`.
    pub fn new(
        level: c_int,
        method: c_int,
        window_bits: c_int,
        mem_level: c_int,
        strategy: c_int,
    ) -> Option<Params> {
        let level = if level == Z_DEFAULT_COMPRESSION { 6 } else { level };
        let (wrap, mut wbits) = if window_bits < 0 {
            if window_bits < -15 {
                return None;
            }
            (0, -window_bits)
        } else if window_bits > 15 {
            (2, window_bits - 16)
        } else {
            (1, window_bits)
        };
        if !(1..=MAX_MEM_LEVEL).contains(&mem_level)
            || method != Z_DEFLATED
            || !(8..=15).contains(&wbits)
            || !(0..=9).contains(&level)
            || !(0..=Z_FIXED).contains(&strategy)
            || (wbits == 8 && wrap != 1)
        {
            return None;
        }
        if wbits == 8 {
            wbits = 9; // zlib: until the 256-byte window bug is fixed
        }
        Some(Params {
            wrap,
            seg: SegParams {
                level,
                window_bits: wbits,
                mem_level,
                strategy,
            },
        })
    }

    /// The window bits to give zlib-rs for a native stream.
    fn native_window_bits(&self) -> c_int {
        match self.wrap {
            0 => -self.seg.window_bits,
            2 => self.seg.window_bits + 16,
            _ => self.seg.window_bits,
        }
    }
}

/// zlib's flush ranking (`RANK` in deflate.c).
fn rank(f: c_int) -> c_int {
    f * 2 - if f > 4 { 9 } else { 0 }
}

/// Our framing around segment engines.
struct Framed {
    status: Status,
    /// zlib's `s->wrap`: negative once the trailer is queued.
    wrap: c_int,
    last_flush: c_int,
    pending: Vec<u8>,
    pending_pos: usize,
    seg: Option<Segment>,
    /// `deflateSetHeader` after the first call (kept for `deflateBound`, as zlib does).
    gzhead: *mut gz_header,
    /// Input consumed (zlib's `strstart != 0` test in `deflateBound`).
    started: bool,
    /// The pid whose device queues a device segment uses.
    pid: u32,
    /// Most input a fast (32 KiB window) segment may see: `2^wbits` for smaller windows,
    /// so that no match distance exceeds the window the header promises.
    limit: u64,
    /// Input given to fast segments so far.
    fed: u64,
}

enum Mode {
    Fresh,
    Framed(Box<Framed>),
    Native(Inner),
}

/// A deflate stream's state.
pub struct Deflate {
    params: Params,
    mode: Mode,
}

/// Sets `msg` to zlib's message for `code` and returns it (zlib's `ERR_RETURN`).
fn err_return(strm: &mut z_stream, code: c_int) -> c_int {
    strm.msg = msg_ptr(message(code));
    code
}

/// # Safety
/// `strm.next_in` is valid for `avail_in` bytes.
unsafe fn input<'a>(strm: &z_stream) -> &'a [u8] {
    if strm.avail_in == 0 {
        return &[];
    }
    // SAFETY: caller's contract (zlib's: next_in points to avail_in readable bytes).
    unsafe { std::slice::from_raw_parts(strm.next_in, strm.avail_in as usize) }
}

/// # Safety
/// `strm.next_out` is valid for `avail_out` bytes.
unsafe fn output<'a>(strm: &z_stream) -> &'a mut [u8] {
    if strm.avail_out == 0 {
        return &mut [];
    }
    // SAFETY: caller's contract (next_out points to avail_out writable bytes, not
    // overlapping the input).
    unsafe { std::slice::from_raw_parts_mut(strm.next_out, strm.avail_out as usize) }
}

fn advance_in(strm: &mut z_stream, n: usize) {
    if n > 0 {
        // SAFETY: n ≤ avail_in, so the pointer stays within (or one past) the input.
        strm.next_in = unsafe { strm.next_in.add(n) };
        strm.avail_in -= n as c_uint;
        strm.total_in = strm.total_in.wrapping_add(n as c_ulong);
    }
}

fn advance_out(strm: &mut z_stream, n: usize) {
    if n > 0 {
        // SAFETY: n ≤ avail_out, so the pointer stays within (or one past) the output.
        strm.next_out = unsafe { strm.next_out.add(n) };
        strm.avail_out -= n as c_uint;
        strm.total_out = strm.total_out.wrapping_add(n as c_ulong);
    }
}

/// zlib's `detect_data_type` on the first input (literal statistics approximated by bytes).
fn detect_data_type(data: &[u8]) -> c_int {
    let block = |b: u8| matches!(b, 0..=6 | 14..=25 | 28..=31);
    let allow = |b: u8| matches!(b, 9 | 10 | 13) || b >= 32;
    if data.iter().any(|&b| block(b)) {
        Z_BINARY
    } else if data.iter().any(|&b| allow(b)) {
        Z_TEXT
    } else {
        Z_BINARY
    }
}

impl Framed {
    fn new(wrap: c_int, window_bits: c_int) -> Framed {
        Framed {
            limit: if window_bits >= 15 {
                u64::MAX
            } else {
                1 << window_bits
            },
            fed: 0,
            status: Status::Init,
            wrap,
            last_flush: -2,
            pending: Vec::new(),
            pending_pos: 0,
            seg: None,
            gzhead: std::ptr::null_mut(),
            started: false,
            pid: std::process::id(),
        }
    }

    fn pending_len(&self) -> usize {
        self.pending.len() - self.pending_pos
    }

    /// zlib's `flush_pending`.
    fn flush_pending(&mut self, strm: &mut z_stream) {
        let n = self.pending_len().min(strm.avail_out as usize);
        if n == 0 {
            return;
        }
        // SAFETY: next_out is valid for avail_out ≥ n bytes; the source is our buffer.
        unsafe {
            std::ptr::copy_nonoverlapping(self.pending.as_ptr().add(self.pending_pos), strm.next_out, n)
        };
        advance_out(strm, n);
        self.pending_pos += n;
        if self.pending_pos == self.pending.len() {
            self.pending.clear();
            self.pending_pos = 0;
        }
    }

    fn header(&mut self, strm: &mut z_stream, p: &SegParams) {
        match self.wrap {
            1 => {
                let level_flags = if p.strategy >= Z_HUFFMAN_ONLY || p.level < 2 {
                    0
                } else if p.level < 6 {
                    1
                } else if p.level == 6 {
                    2
                } else {
                    3
                };
                let mut h: u32 = ((Z_DEFLATED as u32) + (((p.window_bits - 8) as u32) << 4)) << 8;
                h |= level_flags << 6;
                h += 31 - (h % 31);
                self.pending.extend_from_slice(&(h as u16).to_be_bytes());
                strm.adler = 1;
            }
            2 => {
                let xfl = if p.level == 9 {
                    2
                } else if p.strategy >= Z_HUFFMAN_ONLY || p.level < 2 {
                    4
                } else {
                    0
                };
                self.pending
                    .extend_from_slice(&[0x1f, 0x8b, 8, 0, 0, 0, 0, 0, xfl, 3]);
                strm.adler = 0;
            }
            _ => {}
        }
    }

    fn trailer(&mut self, strm: &z_stream) {
        match self.wrap {
            1 => self.pending.extend_from_slice(&(strm.adler as u32).to_be_bytes()),
            2 => {
                self.pending.extend_from_slice(&(strm.adler as u32).to_le_bytes());
                self.pending
                    .extend_from_slice(&(strm.total_in as u32).to_le_bytes());
            }
            _ => {}
        }
    }

    /// Runs the segment engine on the caller's buffers until the input is used up for
    /// `Z_NO_FLUSH`, the flush is complete, or the output is full. Returns whether the
    /// requested flush completed.
    fn run(&mut self, strm: &mut z_stream, p: &SegParams, flush: c_int) -> Result<bool, String> {
        if self.seg.is_none() {
            let (seg, route) = Segment::choose(*p).map_err(|rc| format!("no engine ({rc})"))?;
            stats::bump(if seg.on_device() {
                C::DeflateFastDevice
            } else if matches!(seg, Segment::ZlibRs(_)) {
                C::DeflateZlibRs
            } else {
                C::DeflateFastSoftware
            });
            stats::route(format!("deflate {route}"));
            self.seg = Some(seg);
        }
        if self.seg.as_ref().is_some_and(Segment::on_device) && self.pid != std::process::id() {
            return Err(
                "the stream's device queue belongs to the parent process (stream used across fork)".into(),
            );
        }
        loop {
            self.flush_pending(strm);
            if strm.avail_out == 0 {
                return Ok(false);
            }
            // SAFETY: the caller's buffers, valid for avail_in/avail_out (zlib's contract;
            // checked non-null by `deflate`).
            let (all, out) = unsafe { (input(strm), output(strm)) };
            let fast = !matches!(self.seg, Some(Segment::ZlibRs(_)));
            let (mut inp, mut fl) = (all, flush);
            if fast && self.limit != u64::MAX {
                let allowed = usize::try_from(self.limit.saturating_sub(self.fed)).unwrap_or(usize::MAX);
                if allowed == 0 && !all.is_empty() {
                    // More input than the window: the rest goes to zlib-rs with that window.
                    self.continue_on_zlib_rs(p)
                        .map_err(|rc| format!("no zlib-rs segment ({rc})"))?;
                    stats::route(
                        "deflate switched to software:zlib-rs (input beyond the 2^windowBits window)".into(),
                    );
                    continue;
                }
                if all.len() > allowed {
                    inp = &all[..allowed];
                    fl = Z_NO_FLUSH;
                }
            }
            let spill_before = self.pending.len();
            let seg = self.seg.as_mut().expect("segment chosen above");
            let s = seg.step(inp, out, &mut self.pending, fl)?;
            if fast {
                self.fed += s.consumed as u64;
            }
            if s.consumed > 0 {
                let used = &inp[..s.consumed];
                if strm.data_type == Z_UNKNOWN {
                    strm.data_type = detect_data_type(&used[..used.len().min(4096)]);
                }
                strm.adler = match self.wrap.abs() {
                    // SAFETY: `used` is a valid slice.
                    1 => unsafe { libz_rs_sys::adler32_z(strm.adler, used.as_ptr(), used.len()) },
                    // SAFETY: as above.
                    2 => unsafe { libz_rs_sys::crc32_z(strm.adler, used.as_ptr(), used.len()) },
                    _ => strm.adler,
                };
                self.started = true;
                stats::add(C::DeflateBytesIn, s.consumed as u64);
            }
            stats::add(
                C::DeflateBytesOut,
                (s.produced + self.pending.len() - spill_before) as u64,
            );
            advance_in(strm, s.consumed);
            advance_out(strm, s.produced);
            if s.done && inp.len() == all.len() {
                self.flush_pending(strm);
                return Ok(true);
            }
            if s.consumed == 0 && s.produced == 0 && self.pending.len() == spill_before {
                return Ok(false);
            }
        }
    }

    /// zlib 1.2.13's `deflate()` after the stream and flush checks.
    fn deflate(&mut self, strm: &mut z_stream, p: &SegParams, flush: c_int) -> c_int {
        if strm.next_out.is_null()
            || (strm.avail_in != 0 && strm.next_in.is_null())
            || (self.status == Status::Finish && flush != Z_FINISH)
        {
            return err_return(strm, Z_STREAM_ERROR);
        }
        if strm.avail_out == 0 {
            return err_return(strm, Z_BUF_ERROR);
        }
        let old_flush = self.last_flush;
        self.last_flush = flush;
        if self.pending_len() != 0 {
            self.flush_pending(strm);
            if strm.avail_out == 0 {
                self.last_flush = -1;
                return Z_OK;
            }
        } else if strm.avail_in == 0 && rank(flush) <= rank(old_flush) && flush != Z_FINISH {
            return err_return(strm, Z_BUF_ERROR);
        }
        if self.status == Status::Finish && strm.avail_in != 0 {
            return err_return(strm, Z_BUF_ERROR);
        }
        if self.status == Status::Init {
            self.header(strm, p);
            self.status = Status::Busy;
            self.flush_pending(strm);
            if self.pending_len() != 0 {
                self.last_flush = -1;
                return Z_OK;
            }
        }
        if strm.avail_in != 0 || (flush != Z_NO_FLUSH && self.status != Status::Finish) {
            if flush == Z_BLOCK || flush == Z_TREES {
                if let Err(rc) = self.continue_on_zlib_rs(p) {
                    return rc;
                }
            }
            let done = match self.run(strm, p, flush) {
                Ok(d) => d,
                Err(e) => {
                    stats::route(format!("deflate error ({e})"));
                    strm.msg = msg_ptr(c"stream error: engine failed (see UADK_Z_STATS)");
                    return Z_STREAM_ERROR;
                }
            };
            if flush == Z_FINISH && done {
                self.status = Status::Finish;
            }
            // zlib's need_more, finish_started, and block_done with the output full. (A
            // final block that exactly filled the output goes on to the trailer: zlib would
            // answer Z_OK and Z_STREAM_END on the next call, we answer at once when the
            // trailer is out too.)
            let more = if flush == Z_FINISH {
                !done || self.pending_len() != 0
            } else {
                !done || flush == Z_NO_FLUSH || self.pending_len() != 0 || strm.avail_out == 0
            };
            if more {
                if strm.avail_out == 0 {
                    self.last_flush = -1;
                }
                return Z_OK;
            }
        }
        if flush != Z_FINISH {
            return Z_OK;
        }
        if self.wrap <= 0 {
            return Z_STREAM_END;
        }
        self.trailer(strm);
        self.flush_pending(strm);
        self.wrap = -self.wrap;
        if self.pending_len() != 0 {
            Z_OK
        } else {
            Z_STREAM_END
        }
    }

    /// Ends the current segment with a sync flush (its output queued as pending) so that the
    /// next segment can be a different engine.
    fn end_segment(&mut self) -> Result<(), c_int> {
        let Some(mut seg) = self.seg.take() else {
            return Ok(());
        };
        let mut buf = vec![0u8; 64 << 10];
        loop {
            let before = self.pending.len();
            let s = seg
                .step(&[], &mut buf, &mut self.pending, Z_SYNC_FLUSH)
                .map_err(|_| Z_STREAM_ERROR)?;
            self.pending.extend_from_slice(&buf[..s.produced]);
            if s.done && s.produced < buf.len() {
                return Ok(());
            }
            if s.produced == 0 && self.pending.len() == before {
                return Err(Z_STREAM_ERROR);
            }
        }
    }

    /// Continues the stream on a raw zlib-rs segment (a no-op when it already is one).
    fn continue_on_zlib_rs(&mut self, p: &SegParams) -> Result<(), c_int> {
        if matches!(self.seg, Some(Segment::ZlibRs(_))) {
            return Ok(());
        }
        if self.status == Status::Finish {
            return Err(Z_STREAM_ERROR);
        }
        self.end_segment()?;
        self.seg = Some(Segment::zlib_rs(*p)?);
        stats::bump(C::DeflateSwitched);
        Ok(())
    }
}

impl Deflate {
    /// A fresh stream with validated parameters.
    pub fn new(params: Params) -> Deflate {
        Deflate {
            params,
            mode: Mode::Fresh,
        }
    }

    /// Moves a fresh stream to zlib-rs (for a pre-data call that needs it).
    fn go_native(&mut self, why: &str) -> Result<&mut Inner, c_int> {
        if let Mode::Fresh = self.mode {
            let p = self.params;
            let inner = Inner::deflate(
                p.seg.level,
                p.native_window_bits(),
                p.seg.mem_level,
                p.seg.strategy,
            )?;
            stats::bump(C::DeflateZlibRs);
            stats::route(format!("deflate software:zlib-rs ({why})"));
            self.mode = Mode::Native(inner);
        }
        match &mut self.mode {
            Mode::Native(i) => Ok(i),
            _ => Err(Z_STREAM_ERROR),
        }
    }

    /// `deflate()`.
    pub fn deflate(&mut self, strm: &mut z_stream, flush: c_int) -> c_int {
        if !(0..=Z_BLOCK).contains(&flush) {
            return Z_STREAM_ERROR;
        }
        if let Mode::Fresh = self.mode {
            match self.params.seg.needs_zlib() {
                Some(why) => {
                    if let Err(rc) = self.go_native(why) {
                        return rc;
                    }
                }
                None => {
                    self.mode = Mode::Framed(Box::new(Framed::new(
                        self.params.wrap,
                        self.params.seg.window_bits,
                    )))
                }
            }
        }
        let p = self.params.seg;
        match &mut self.mode {
            // SAFETY: the zlib-rs stream holds the caller's fields for this call.
            Mode::Native(inner) => inner.call(strm, |s| unsafe { libz_rs_sys::deflate(s, flush) }),
            Mode::Framed(f) => f.deflate(strm, &p, flush),
            Mode::Fresh => Z_STREAM_ERROR,
        }
    }

    /// `deflateEnd`'s result: `Z_DATA_ERROR` when data was discarded.
    pub fn end(self) -> c_int {
        match self.mode {
            Mode::Fresh => Z_OK,
            Mode::Native(inner) => inner.end(),
            Mode::Framed(f) => {
                if f.status == Status::Busy {
                    Z_DATA_ERROR
                } else {
                    Z_OK
                }
            }
        }
    }

    /// `deflateReset` / `deflateResetKeep` (the caller's fields are reset by the caller).
    pub fn reset(&mut self, strm: &mut z_stream) -> c_int {
        if let Mode::Native(inner) = &mut self.mode {
            // SAFETY: the zlib-rs stream holds the caller's fields for this call.
            return inner.call(strm, |s| unsafe { libz_rs_sys::deflateReset(s) });
        }
        self.mode = Mode::Fresh;
        strm.total_in = 0;
        strm.total_out = 0;
        strm.msg = std::ptr::null_mut();
        strm.data_type = Z_UNKNOWN;
        strm.adler = if self.params.wrap == 2 { 0 } else { 1 };
        Z_OK
    }

    /// `deflateParams`.
    pub fn params(&mut self, strm: &mut z_stream, level: c_int, strategy: c_int) -> c_int {
        let level = if level == Z_DEFAULT_COMPRESSION { 6 } else { level };
        if !(0..=9).contains(&level) || !(0..=Z_FIXED).contains(&strategy) {
            return Z_STREAM_ERROR;
        }
        match &mut self.mode {
            Mode::Fresh => {}
            // SAFETY: the zlib-rs stream holds the caller's fields for this call.
            Mode::Native(inner) => {
                return inner.call(strm, |s| unsafe {
                    libz_rs_sys::deflateParams(s, level, strategy)
                })
            }
            Mode::Framed(f) => {
                let p = self.params.seg;
                if (p.level != level || p.strategy != strategy) && f.last_flush != -2 {
                    // zlib compresses what is given with the old settings (a Z_BLOCK flush)
                    // first; here the current segment ends with a sync flush instead, and
                    // the next segment gets the new settings.
                    if strm.avail_in != 0 || f.seg.is_some() {
                        let rc = f.deflate(strm, &p, Z_SYNC_FLUSH);
                        if rc == Z_STREAM_ERROR {
                            return rc;
                        }
                        f.last_flush = Z_BLOCK;
                        if strm.avail_in != 0 {
                            return Z_BUF_ERROR;
                        }
                    }
                    if f.status == Status::Finish {
                        return Z_STREAM_ERROR;
                    }
                    if let Err(rc) = f.end_segment() {
                        return rc;
                    }
                }
            }
        }
        self.params.seg.level = level;
        self.params.seg.strategy = strategy;
        Z_OK
    }

    /// `deflateSetDictionary`.
    pub fn set_dictionary(&mut self, strm: &mut z_stream, dict: *const u8, len: c_uint) -> c_int {
        if dict.is_null() {
            return Z_STREAM_ERROR;
        }
        let p = self.params.seg;
        let inner = match &mut self.mode {
            Mode::Fresh => match self.go_native("dictionary") {
                Ok(i) => i,
                Err(rc) => return rc,
            },
            Mode::Native(i) => i,
            Mode::Framed(f) => {
                // zlib: only raw streams take a dictionary after the first call.
                if f.wrap != 0 || f.status == Status::Finish {
                    return Z_STREAM_ERROR;
                }
                if let Err(rc) = f.continue_on_zlib_rs(&p) {
                    return rc;
                }
                match f.seg.as_mut().and_then(Segment::inner) {
                    Some(i) => {
                        // SAFETY: dict is valid for len bytes (caller's contract).
                        return unsafe { libz_rs_sys::deflateSetDictionary(i.raw(), dict, len) };
                    }
                    None => return Z_STREAM_ERROR,
                }
            }
        };
        // SAFETY: as above; the zlib-rs stream holds the caller's fields for this call.
        inner.call(strm, |s| unsafe {
            libz_rs_sys::deflateSetDictionary(s, dict, len)
        })
    }

    /// `deflateGetDictionary` (zlib-rs streams; a fast segment keeps no window).
    pub fn get_dictionary(&mut self, strm: &mut z_stream, dict: *mut u8, len: *mut c_uint) -> c_int {
        let inner = match &mut self.mode {
            Mode::Fresh => match self.go_native("deflateGetDictionary") {
                Ok(i) => i,
                Err(rc) => return rc,
            },
            Mode::Native(i) => i,
            Mode::Framed(f) => match f.seg.as_mut().and_then(Segment::inner) {
                Some(i) => i,
                None => {
                    stats::bump(C::Unsupported);
                    return Z_STREAM_ERROR;
                }
            },
        };
        // SAFETY: dict/len are null or valid (caller's contract, zlib checks the rest).
        inner.call(strm, |s| unsafe {
            libz_rs_sys::deflateGetDictionary(s, dict, len)
        })
    }

    /// `deflateSetHeader`.
    pub fn set_header(&mut self, strm: &mut z_stream, head: *mut gz_header) -> c_int {
        if self.params.wrap != 2 {
            return Z_STREAM_ERROR;
        }
        match &mut self.mode {
            Mode::Framed(f) => {
                f.gzhead = head;
                Z_OK
            }
            _ => match self.go_native("gzip header set") {
                // SAFETY: head is null or a gz_header the caller keeps alive (zlib's contract).
                Ok(inner) => inner.call(strm, |s| unsafe { libz_rs_sys::deflateSetHeader(s, head) }),
                Err(rc) => rc,
            },
        }
    }

    /// `deflatePrime`.
    pub fn prime(&mut self, strm: &mut z_stream, bits: c_int, value: c_int) -> c_int {
        // SAFETY: plain values; `s` is the zlib-rs stream (holding the caller's fields for a
        // native stream).
        self.tuning_call(strm, "deflatePrime", |s| unsafe {
            libz_rs_sys::deflatePrime(s, bits, value)
        })
    }

    /// `deflateTune`.
    pub fn tune(
        &mut self,
        strm: &mut z_stream,
        good: c_int,
        lazy: c_int,
        nice: c_int,
        chain: c_int,
    ) -> c_int {
        // SAFETY: as in `prime`.
        self.tuning_call(strm, "deflateTune", |s| unsafe {
            libz_rs_sys::deflateTune(s, good, lazy, nice, chain)
        })
    }

    /// Runs a zlib-rs call that only zlib-rs can serve (`deflatePrime`, `deflateTune`): on
    /// a fresh stream it becomes native (`why` says which call made it); a framed stream
    /// continues its current segment on zlib-rs and calls it there.
    fn tuning_call(
        &mut self,
        strm: &mut z_stream,
        why: &str,
        op: impl FnOnce(*mut z_stream) -> c_int,
    ) -> c_int {
        let p = self.params.seg;
        let inner = match &mut self.mode {
            Mode::Fresh => match self.go_native(why) {
                Ok(i) => i,
                Err(rc) => return rc,
            },
            Mode::Native(i) => i,
            Mode::Framed(f) => {
                if let Err(rc) = f.continue_on_zlib_rs(&p) {
                    return rc;
                }
                return match f.seg.as_mut().and_then(Segment::inner) {
                    Some(i) => op(i.raw()),
                    None => Z_STREAM_ERROR,
                };
            }
        };
        inner.call(strm, op)
    }

    /// `deflatePending`.
    pub fn pending(&mut self, strm: &mut z_stream, pending: *mut c_uint, bits: *mut c_int) -> c_int {
        let (mut n, mut b): (c_uint, c_int) = (0, 0);
        match &mut self.mode {
            Mode::Fresh => {}
            // SAFETY: out-parameters are ours.
            Mode::Native(inner) => {
                let rc = inner.call(strm, |s| unsafe {
                    libz_rs_sys::deflatePending(s, &mut n, &mut b)
                });
                if rc != Z_OK {
                    return rc;
                }
            }
            Mode::Framed(f) => {
                n = f.pending_len() as c_uint;
                if let Some(i) = f.seg.as_mut().and_then(Segment::inner) {
                    let (mut n2, mut b2): (c_uint, c_int) = (0, 0);
                    // SAFETY: out-parameters are ours; the stream is live.
                    unsafe { libz_rs_sys::deflatePending(i.raw(), &mut n2, &mut b2) };
                    n += n2;
                    b = b2;
                }
            }
        }
        // SAFETY: each out-pointer is null or valid for a write (caller's contract).
        unsafe {
            if !pending.is_null() {
                *pending = n;
            }
            if !bits.is_null() {
                *bits = b;
            }
        }
        Z_OK
    }

    /// `deflateBound` (zlib 1.2.13's formulas).
    pub fn bound(&mut self, strm: &mut z_stream, source_len: c_ulong) -> c_ulong {
        if let Mode::Native(inner) = &mut self.mode {
            // SAFETY: the zlib-rs stream holds the caller's fields for this call.
            let mut r = 0;
            inner.call(strm, |s| {
                r = unsafe { libz_rs_sys::deflateBound(s, source_len) };
                Z_OK
            });
            return r;
        }
        let (gzhead, started) = match &self.mode {
            Mode::Framed(f) => (f.gzhead, f.started),
            _ => (std::ptr::null_mut(), false),
        };
        let wraplen: c_ulong = match self.params.wrap {
            0 => 0,
            1 => 6 + if started { 4 } else { 0 },
            // SAFETY: gzhead is null or the caller's live gz_header (deflateSetHeader).
            2 => 18 + unsafe { gzip_extra_len(gzhead) },
            _ => 6,
        };
        bound_for(
            source_len,
            self.params.seg.window_bits,
            self.params.seg.mem_level,
            self.params.seg.level,
        ) + wraplen
    }

    /// `deflateCopy`: a deep copy for `dest` (whose fields the caller copied from source).
    pub fn try_clone(&mut self) -> Result<Deflate, c_int> {
        let p = self.params.seg;
        let mode = match &mut self.mode {
            Mode::Fresh => Mode::Fresh,
            Mode::Native(inner) => Mode::Native(inner.try_clone()?),
            Mode::Framed(f) => {
                if matches!(f.seg, Some(Segment::Stream { .. })) {
                    f.continue_on_zlib_rs(&p)?;
                }
                let seg = match &mut f.seg {
                    Some(s) => Some(s.try_clone()?),
                    None => None,
                };
                Mode::Framed(Box::new(Framed {
                    status: f.status,
                    wrap: f.wrap,
                    last_flush: f.last_flush,
                    pending: f.pending[f.pending_pos..].to_vec(),
                    pending_pos: 0,
                    seg,
                    gzhead: f.gzhead,
                    started: f.started,
                    pid: f.pid,
                    limit: f.limit,
                    fed: f.fed,
                }))
            }
        };
        Ok(Deflate {
            params: self.params,
            mode,
        })
    }
}

/// The gzip header bytes beyond the fixed 10 that `head` adds (zlib's `deflateBound`).
///
/// # Safety
/// `head` is null or points to a valid `gz_header` whose strings are NUL-terminated.
unsafe fn gzip_extra_len(head: *const gz_header) -> c_ulong {
    if head.is_null() {
        return 0;
    }
    // SAFETY: caller's contract.
    let h = unsafe { &*head };
    let mut n: c_ulong = 0;
    if !h.extra.is_null() {
        n += 2 + c_ulong::from(h.extra_len);
    }
    for s in [h.name, h.comment] {
        if !s.is_null() {
            // SAFETY: NUL-terminated (caller's contract); the terminator is counted too.
            n += unsafe { std::ffi::CStr::from_ptr(s.cast()) }.to_bytes().len() as c_ulong + 1;
        }
    }
    if h.hcrc != 0 {
        n += 2;
    }
    n
}

/// zlib 1.2.13's `deflateBound` without the wrapper.
pub fn bound_for(source_len: c_ulong, window_bits: c_int, mem_level: c_int, level: c_int) -> c_ulong {
    let s = source_len;
    let fixedlen = s + (s >> 3) + (s >> 8) + (s >> 9) + 4;
    let storelen = s + (s >> 5) + (s >> 7) + (s >> 11) + 7;
    let hash_bits = mem_level + 7;
    if window_bits != 15 || hash_bits != 15 {
        return if window_bits <= hash_bits && level != 0 {
            fixedlen
        } else {
            storelen
        };
    }
    s + (s >> 12) + (s >> 14) + (s >> 25) + 13 - 6
}

/// `deflateBound` for a stream we cannot read: zlib's conservative answer.
pub fn bound_unknown(source_len: c_ulong) -> c_ulong {
    let s = source_len;
    let fixedlen = s + (s >> 3) + (s >> 8) + (s >> 9) + 4;
    let storelen = s + (s >> 5) + (s >> 7) + (s >> 11) + 7;
    fixedlen.max(storelen) + 6
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn params_follow_zlibs_checks() {
        assert!(Params::new(-1, 8, 15, 8, 0).is_some());
        assert!(Params::new(10, 8, 15, 8, 0).is_none());
        assert!(Params::new(6, 7, 15, 8, 0).is_none());
        assert!(Params::new(6, 8, 16 + 8, 8, 0).is_none());
        assert!(Params::new(6, 8, -8, 8, 0).is_none());
        assert_eq!(Params::new(6, 8, 8, 8, 0).unwrap().seg.window_bits, 9);
        assert!(Params::new(6, 8, 15, 10, 0).is_none());
        assert!(Params::new(6, 8, 15, 8, 5).is_none());
        assert_eq!(Params::new(6, 8, 31, 8, 0).unwrap().wrap, 2);
        assert_eq!(Params::new(6, 8, -15, 8, 0).unwrap().wrap, 0);
    }

    #[test]
    fn bound_matches_zlibs_default_formula() {
        assert_eq!(bound_for(0, 15, 8, 6), 7);
        assert_eq!(bound_for(65536, 15, 8, 6), 65536 + 16 + 4 + 7);
    }

    #[test]
    fn rank_orders_flushes_as_zlib() {
        assert!(rank(Z_BLOCK) < rank(Z_PARTIAL_FLUSH));
        assert!(rank(Z_NO_FLUSH) < rank(Z_BLOCK));
        assert!(rank(-2) < rank(Z_NO_FLUSH));
    }
}
