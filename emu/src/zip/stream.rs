//! Stateful requests (dw7 bit 26): per-stream codec state across SQEs (reference §6.4).
//!
//! The hardware keeps a stream's history in the client's context buffer (`stream_ctx_addr`,
//! session ctx_buf + 64). This model keeps the codec state engine-side instead, keyed by that
//! address, in a map owned by the engine thread (one engine thread per queue, and a stream
//! stays on its session's queue). What crosses the SQE is honoured like the hardware's:
//! the new-stream flag resets the state, a continued stream takes its running checksum
//! (dw31) and isize (dw30) from the SQE the driver filled, output that does not fit stays
//! pending in the device and is reported with ctx status 0x1 (compress) / 0x2 (decompress)
//! so the driver calls again (`WD_EAGAIN`), and the end of a decompressed stream is status
//! 0x13 with the last-block bit once the trailer has been checked.

use std::cell::RefCell;
use std::collections::HashMap;

use miniz_oxide::inflate::stream::{inflate, InflateState};
use miniz_oxide::{DataFormat, MZError, MZFlush, MZStatus};

use super::codec::{Deflater, Format};
use super::sqe::{CTX_NO_SPACE_DECOMP, CTX_NO_SPACE_FINISH};
use super::*;

/// Streams one engine keeps at most; the oldest is dropped beyond that (a driver that never
/// finishes its streams cannot make the emulator grow without bound).
pub const MAX_STREAMS: usize = 256;

struct CompStream {
    fmt: Format,
    deflater: Deflater,
    pending: Vec<u8>,
    finished: bool,
    /// Input bytes seen (history for ctx_dw2).
    total: u64,
}

struct DecompStream {
    fmt: Format,
    state: Box<InflateState>,
    body_done: bool,
    trailer: Vec<u8>,
    /// Output bytes produced (history for ctx_dw2).
    total: u64,
}

enum Stream {
    Comp(CompStream),
    Decomp(DecompStream),
}

struct Streams {
    map: HashMap<u64, (u64, Stream)>,
    seq: u64,
}

impl Streams {
    fn insert(&mut self, key: u64, s: Stream) {
        if !self.map.contains_key(&key) && self.map.len() >= MAX_STREAMS {
            if let Some(old) = self.map.iter().min_by_key(|(_, (n, _))| *n).map(|(k, _)| *k) {
                self.map.remove(&old);
            }
        }
        self.seq += 1;
        self.map.insert(key, (self.seq, s));
    }
}

thread_local! {
    static STREAMS: RefCell<Streams> = RefCell::new(Streams { map: HashMap::new(), seq: 0 });
}

/// Number of open streams of the calling engine thread (tests).
pub fn open_streams() -> usize {
    STREAMS.with(|s| s.borrow().map.len())
}

/// Executes one stateful request on already-read `input`; the caller writes `Done::out`.
pub(super) fn run(dir: Dir, fmt: Format, f: &ZipSqe, input: &[u8]) -> Done {
    STREAMS.with(|s| {
        let mut streams = s.borrow_mut();
        if f.new_stream {
            let st = match dir {
                Dir::Compress => Stream::Comp(CompStream {
                    fmt,
                    deflater: Deflater::new(),
                    pending: Vec::new(),
                    finished: false,
                    total: 0,
                }),
                Dir::Decompress => Stream::Decomp(DecompStream {
                    fmt,
                    state: InflateState::new_boxed(DataFormat::Raw),
                    body_done: false,
                    trailer: Vec::new(),
                    total: 0,
                }),
            };
            streams.insert(f.ctx_addr, st);
        }
        let (check, isize) = if f.new_stream {
            (fmt.initial_check(), 0)
        } else {
            (f.checksum, f.isize)
        };
        let Some((_, st)) = streams.map.get_mut(&f.ctx_addr) else {
            return Done::fail(STATUS_STREAM_CTX);
        };
        let (done, end) = match st {
            Stream::Comp(c) if dir == Dir::Compress && c.fmt == fmt => compress(c, f, input, check, isize),
            Stream::Decomp(d) if dir == Dir::Decompress && d.fmt == fmt => {
                decompress(d, f, input, check, isize)
            }
            _ => (Done::fail(STATUS_STREAM_CTX), false),
        };
        if end || done.status != STATUS_OK && done.status != STATUS_DECOMP_END {
            streams.map.remove(&f.ctx_addr);
        }
        done
    })
}

/// Returns the completion and whether the stream is over.
fn compress(c: &mut CompStream, f: &ZipSqe, input: &[u8], check: u32, isize: u32) -> (Done, bool) {
    if c.finished && c.pending.is_empty() {
        return (Done::fail(STATUS_STREAM_CTX), true);
    }
    // A finished stream only drains its pending output: further input is not taken.
    let input = if c.finished { &[][..] } else { input };
    let check = c.fmt.update(check, input);
    let isize = isize.wrapping_add(input.len() as u32);
    c.total += input.len() as u64;
    if !c.finished {
        let ok = if f.flush {
            c.deflater.run(input, true, &mut c.pending)
        } else if !input.is_empty() {
            c.deflater.run(input, false, &mut c.pending)
        } else {
            true
        };
        if !ok {
            return (Done::fail(STATUS_DATA), true);
        }
        if f.flush {
            c.finished = true;
            c.pending.extend_from_slice(&c.fmt.trailer(check, isize));
        }
    }
    let n = c.pending.len().min(f.avail_out as usize);
    let out: Vec<u8> = c.pending.drain(..n).collect();
    let end = c.finished && c.pending.is_empty();
    let done = Done {
        status: STATUS_OK,
        consumed: input.len() as u32,
        produced: n as u32,
        last: end,
        ctx_status: if c.pending.is_empty() {
            0
        } else {
            CTX_NO_SPACE_FINISH
        },
        bfinal: c.finished,
        window: Some(window_len(c.total)),
        check: Some((check, isize)),
        out,
    };
    (done, end)
}

fn decompress(d: &mut DecompStream, f: &ZipSqe, input: &[u8], check: u32, isize: u32) -> (Done, bool) {
    let mut out = vec![0u8; f.avail_out as usize];
    let mut consumed = 0usize;
    let mut produced = 0usize;
    let mut no_space = false;
    if !d.body_done {
        let r = inflate(&mut d.state, input, &mut out, MZFlush::None);
        consumed = r.bytes_consumed;
        produced = r.bytes_written;
        match r.status {
            Ok(MZStatus::StreamEnd) => d.body_done = true,
            Ok(_) => no_space = produced == out.len(),
            // No progress possible: waits for more input.
            Err(MZError::Buf) => {}
            Err(_) => return (Done::fail(STATUS_DATA), true),
        }
    }
    out.truncate(produced);
    let check = d.fmt.update(check, &out);
    let isize = isize.wrapping_add(produced as u32);
    d.total += produced as u64;
    let mut end = false;
    let mut status = STATUS_OK;
    if d.body_done {
        let need = d.fmt.trailer_len() - d.trailer.len();
        let take = need.min(input.len() - consumed);
        d.trailer.extend_from_slice(&input[consumed..consumed + take]);
        consumed += take;
        if d.trailer.len() == d.fmt.trailer_len() {
            end = true;
            if d.trailer != d.fmt.trailer(check, isize) {
                return (Done::fail(STATUS_CRC_ERR), true);
            }
            status = STATUS_DECOMP_END;
        }
    }
    let done = Done {
        status,
        consumed: consumed as u32,
        produced: produced as u32,
        last: end,
        ctx_status: if no_space { CTX_NO_SPACE_DECOMP } else { 0 },
        bfinal: d.body_done,
        window: Some(window_len(d.total)),
        check: Some((check, isize)),
        out,
    };
    (done, end)
}

/// ctx_dw2 bits 15:0: history the stream holds, up to the 32 KiB deflate window.
fn window_len(total: u64) -> u32 {
    total.min(32 * 1024) as u32
}
