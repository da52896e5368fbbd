//! Stateful device streams (reference §6.4): the [`RawCompress`] / [`RawDecompress`] engines
//! a [`crate::Compressor`] / [`crate::Decompressor`] drives on a ZIP device.
//!
//! Each stream owns a 64 KiB context buffer (`HW_CTX_SIZE`); requests pass `ctx + 64` as the
//! stream context and mirror ctx_dw0..2 between the descriptor and the first 12 bytes of the
//! buffer, and carry the running checksum (dw31) and isize (dw30), around every request.
//!
//! Compression:
//! * `Flush::None` stages input up to [`STAGE`] and sends full stages as non-final requests;
//!   a non-final request's output ends on a byte boundary, so `Sync` is "send what is staged".
//! * `Flush::Full` additionally starts a **new device stream** for what follows: the device
//!   forgets its history, and the new stream's blocks continue the byte-aligned, non-final
//!   blocks already written — exactly what a full flush means to a decoder.
//! * `Flush::Finish` sends the rest with the finish flag; a stream that has not started yet
//!   and fits one request (≤ 8 MiB) goes as one stateless request instead. An empty final
//!   request is answered in software (an empty final block), as the UADK driver does.
//! * Inputs larger than the 8 MiB per-request limit are cut into requests of at most
//!   [`CHUNK`] bytes with an output buffer ≥ 1.125 × the input (so the device never trims).
//! * Output the device cannot place (ctx status 0x1) is fetched with empty continuation
//!   requests; output the caller cannot take stays pending here.
//! * QM v2 has no raw-deflate request type: v2 streams run as `HW_ZLIB` and the 4-byte
//!   adler32 the device appends at the end is held back and dropped (the front-end writes
//!   the real trailer).
//!
//! Decompression sends body + trailer with the format's request type; the device checks
//! the trailer and ends with status 0x13. Input it did not consume is sent again.

use super::dma;
use super::engine::Request;
use super::sqe::{self, Completion, SqeType, Status, StreamFlags, StreamWords, CTX_HW_OFFSET, CTX_SIZE};
use super::sqe::{MAX_SIZE, MIN_OUT};
use crate::backend::{Direction, Engine, RawCompress, RawDecompress, Step};
use crate::error::{Error, Result};
use crate::stream::Flush;

/// Input staged before a `Flush::None` request is sent.
pub const STAGE: usize = 1 << 20;
/// Largest input of one stateful compress request: its output buffer (9/8 of it plus slack)
/// stays within the 8 MiB limit, so the device never trims the input.
pub const CHUNK: usize = 7 << 20;
/// The empty raw-deflate stream / empty final block (fixed Huffman, end-of-block only).
pub(crate) const EMPTY_FINAL: [u8; 2] = [0x03, 0x00];

/// Output capacity for a compress request of `n` input bytes (≥ 1.125 × n, within limits).
pub(crate) fn comp_cap(n: usize) -> usize {
    (n + n / 8 + 1024).clamp(MIN_OUT, MAX_SIZE)
}

/// One device stream on one queue: the context buffer and the mirrored words.
pub(crate) struct DevStream {
    pub req: Request,
    req_type: u8,
    ctx: Box<[u8]>,
    words: StreamWords,
    /// A request of the current device stream was sent (the next is not a new stream).
    pub started: bool,
    /// The device holds output it could not place (ctx status 0x1 / 0x2).
    pub more: bool,
    /// Requests completed (for tests and reports).
    pub requests: u64,
}

impl DevStream {
    pub(crate) fn new(req: Request, req_type: u8) -> DevStream {
        DevStream {
            req,
            req_type,
            ctx: vec![0u8; CTX_SIZE].into_boxed_slice(),
            words: StreamWords::default(),
            started: false,
            more: false,
            requests: 0,
        }
    }

    /// Forgets the device stream: the next request starts a new one.
    pub(crate) fn restart(&mut self) {
        self.started = false;
        self.more = false;
        self.words = StreamWords::default();
        self.ctx[..12].fill(0);
    }

    /// One stateful request from `src` into the first `cap` bytes of `dst`.
    pub(crate) fn request(
        &mut self,
        src: &[u8],
        own_src: bool,
        dst: &mut Vec<u8>,
        cap: usize,
        finish: bool,
        dir: Direction,
    ) -> Result<Completion> {
        debug_assert!(src.len() <= MAX_SIZE && (MIN_OUT..=MAX_SIZE).contains(&cap));
        let flags = StreamFlags {
            new_stream: !self.started,
            finish,
        };
        // Mirror ctx_dw0..2 from the ctx buffer into the descriptor (§6.4).
        let w =
            |i: usize| u32::from_le_bytes([self.ctx[i], self.ctx[i + 1], self.ctx[i + 2], self.ctx[i + 3]]);
        let words = if self.started {
            StreamWords {
                ctx0: w(0),
                ctx1: w(4),
                ctx2: w(8),
                ..self.words
            }
        } else {
            StreamWords::default()
        };
        let staged = super::staging::stage(&self.req.dma, src, own_src)?;
        let src = staged.bytes();
        let (t, rt) = (self.req.sqe, self.req_type);
        let in_len = src.len() as u32;
        let done = dma::sync(&self.req.queue, src, dst, cap, Some(&mut self.ctx), |a| {
            sqe::build_stateful(
                t,
                rt,
                a.src,
                in_len,
                a.dst,
                cap as u32,
                a.ctx + CTX_HW_OFFSET as u64,
                flags,
                &words,
            )
        });
        let done = match done {
            Ok(d) => d,
            Err(e) => {
                self.restart();
                return Err(Error::Device(format!("{}: queue: {e}", self.req.name)));
            }
        };
        let c = sqe::decode(&done);
        if c.produced as usize > cap || c.consumed > in_len {
            self.restart();
            return Err(Error::Device(format!(
                "{}: completion reports {} in / {} out for a {in_len}-byte input and {cap}-byte output",
                self.req.name, c.consumed, c.produced
            )));
        }
        match c.status {
            Status::Ok | Status::NegativeCompression | Status::DecompressEnd => {}
            st => {
                // The device dropped the stream; nothing of it can be resumed there.
                self.restart();
                return Err(self.req.failed(dir, st));
            }
        }
        self.requests += 1;
        self.started = true;
        self.words = sqe::stream_words(&done);
        for (i, v) in [self.words.ctx0, self.words.ctx1, self.words.ctx2]
            .iter()
            .enumerate()
        {
            self.ctx[i * 4..i * 4 + 4].copy_from_slice(&v.to_le_bytes());
        }
        self.more = c.ctx_status == sqe::CTX_NO_SPACE_FINISH || c.ctx_status == sqe::CTX_NO_SPACE_DECOMP;
        Ok(c)
    }
}

/// Output not yet handed to the caller.
#[derive(Default)]
struct Pending {
    buf: Vec<u8>,
    pos: usize,
}

impl Pending {
    fn left(&self) -> usize {
        self.buf.len() - self.pos
    }

    /// Copies up to `output.len()` bytes, keeping the last `hold` bytes back.
    fn drain(&mut self, output: &mut [u8], hold: usize) -> usize {
        let avail = self.left().saturating_sub(hold);
        let n = avail.min(output.len());
        output[..n].copy_from_slice(&self.buf[self.pos..self.pos + n]);
        self.pos += n;
        if self.pos == self.buf.len() {
            self.buf.clear();
            self.pos = 0;
        }
        n
    }
}

/// A raw-deflate compressor on a device stream (see the module doc).
pub(crate) struct DevStreamCompress {
    dev: DevStream,
    /// Bytes of device trailer to drop at the end (v2 runs zlib for raw deflate).
    strip: usize,
    staged: Vec<u8>,
    out: Vec<u8>,
    pending: Pending,
    /// A finish request was sent; output until `finished` may end with the device trailer.
    finishing: bool,
    finished: bool,
    /// Requests that ran as one stateless descriptor.
    pub stateless: u64,
}

impl DevStreamCompress {
    pub(crate) fn new(req: Request) -> DevStreamCompress {
        // v3 writes raw deflate; v2 only zlib/gzip: ask for zlib and drop its adler32.
        let (req_type, strip) = match req.sqe {
            SqeType::V3 => (sqe::HW_DEFLATE, 0),
            SqeType::V2 => (sqe::HW_ZLIB, 4),
        };
        DevStreamCompress {
            dev: DevStream::new(req, req_type),
            strip,
            staged: Vec::new(),
            out: Vec::new(),
            pending: Pending::default(),
            finishing: false,
            finished: false,
            stateless: 0,
        }
    }

    fn hold(&self) -> usize {
        if self.finishing && !self.finished {
            self.strip
        } else {
            0
        }
    }

    /// Sends the staged input (`src_staged`) or `input`, at most [`CHUNK`] bytes, as one
    /// request; `finish` asks to end the stream when this request takes the last byte.
    /// Output goes to `pending`. Returns the bytes of `input` consumed (0 for staged input).
    fn send(&mut self, src_staged: bool, input: &[u8], finish: bool) -> Result<usize> {
        let total = if src_staged {
            self.staged.len()
        } else {
            input.len()
        };
        let n = total.min(CHUNK);
        let finish_req = finish && n == total;
        let cap = comp_cap(n);
        if self.out.len() < cap {
            self.out.resize(cap, 0);
        }
        let src = if src_staged {
            &self.staged[..n]
        } else {
            &input[..n]
        };
        let c = self.dev.request(
            src,
            src_staged,
            &mut self.out,
            cap,
            finish_req,
            Direction::Compress,
        )?;
        let used = c.consumed as usize;
        self.pending
            .buf
            .extend_from_slice(&self.out[..c.produced as usize]);
        if src_staged {
            self.staged.drain(..used);
        }
        // A trimmed request (used < n) is not the last one: the rest goes again.
        if finish_req && used == n {
            self.finishing = true;
            if c.last_block && !self.dev.more {
                self.end()?;
            }
        }
        Ok(if src_staged { 0 } else { used })
    }

    /// The device's final output arrived: drop its trailer (v2).
    fn end(&mut self) -> Result<()> {
        if self.pending.left() < self.strip {
            return Err(Error::Device(format!(
                "{}: compress: the device ended the stream with {} bytes, too short for its trailer",
                self.dev.req.name,
                self.pending.left()
            )));
        }
        let keep = self.pending.buf.len() - self.strip;
        self.pending.buf.truncate(keep);
        self.finished = true;
        self.finishing = true;
        Ok(())
    }

    /// One stateless request for a whole stream (nothing sent yet, ≤ 8 MiB).
    fn stateless(&mut self, data: &[u8], own: bool) -> Result<bool> {
        if data.is_empty() {
            self.pending.buf.extend_from_slice(&EMPTY_FINAL);
            self.finished = true;
            self.finishing = true;
            return Ok(true);
        }
        let rt = if self.strip > 0 {
            sqe::HW_ZLIB
        } else {
            sqe::HW_DEFLATE
        };
        let cap = comp_cap(data.len());
        let (c, mut out) = self.dev.req.run(rt, data, own, cap)?;
        match c.status {
            Status::Ok | Status::NegativeCompression if out.len() >= self.strip + 2 => {
                out.truncate(out.len() - self.strip);
                self.pending.buf.extend_from_slice(&out);
                self.finished = true;
                self.finishing = true;
                self.stateless += 1;
                Ok(true)
            }
            // Incompressible near the limit: the stateful path below takes it in pieces.
            Status::OutputTooSmall => Ok(false),
            Status::Ok | Status::NegativeCompression => Err(Error::Device(format!(
                "{}: compress: {} bytes produced, too short for a stream",
                self.dev.req.name,
                out.len()
            ))),
            st => Err(self.dev.req.failed(Direction::Compress, st)),
        }
    }
}

impl RawCompress for DevStreamCompress {
    fn step(&mut self, input: &[u8], output: &mut [u8], flush: Flush) -> Result<Step> {
        let mut produced = 0;
        let mut consumed = 0;
        loop {
            let hold = self.hold();
            produced += self.pending.drain(&mut output[produced..], hold);
            if self.pending.left() > hold || (produced == output.len() && self.pending.left() > 0) {
                // The caller's buffer is full.
                return Ok(Step {
                    consumed,
                    produced,
                    done: false,
                });
            }
            if self.finished {
                return Ok(Step {
                    consumed,
                    produced,
                    done: flush == Flush::Finish && self.pending.left() == 0,
                });
            }
            if self.dev.more {
                // The device holds output: fetch it with an empty continuation request.
                self.send(false, &[], self.finishing)?;
                continue;
            }
            if self.finishing {
                // Finish sent and accepted, nothing held by the device, yet no last block.
                return Err(Error::Device(format!(
                    "{}: compress: the device did not end the stream after a finish request",
                    self.dev.req.name
                )));
            }
            let rest = &input[consumed..];
            match flush {
                Flush::None => {
                    let take = rest.len().min(STAGE.saturating_sub(self.staged.len()));
                    self.staged.extend_from_slice(&rest[..take]);
                    consumed += take;
                    if self.staged.len() >= STAGE {
                        self.send(true, &[], false)?;
                        continue;
                    }
                    return Ok(Step {
                        consumed,
                        produced,
                        done: consumed == input.len(),
                    });
                }
                Flush::Sync | Flush::Full => {
                    if !self.staged.is_empty() {
                        self.send(true, &[], false)?;
                    } else if !rest.is_empty() {
                        consumed += self.send(false, rest, false)?;
                    } else {
                        if flush == Flush::Full {
                            // Forget history: what follows is a new device stream.
                            self.dev.restart();
                        }
                        return Ok(Step {
                            consumed,
                            produced,
                            done: true,
                        });
                    }
                }
                Flush::Finish => {
                    if !self.dev.started && self.staged.len() + rest.len() <= MAX_SIZE {
                        let done = if self.staged.is_empty() {
                            self.stateless(rest, false)?
                        } else {
                            let mut all = std::mem::take(&mut self.staged);
                            all.extend_from_slice(rest);
                            let r = self.stateless(&all, true);
                            if !matches!(r, Ok(true)) {
                                // Keep the input for the stateful path (or a software retry).
                                all.truncate(all.len() - rest.len());
                                self.staged = all;
                            }
                            r?
                        };
                        if done {
                            consumed = input.len();
                            continue;
                        }
                    }
                    if !self.staged.is_empty() {
                        // Finish only with the last piece of input.
                        let last = rest.is_empty() && self.staged.len() <= CHUNK;
                        self.send(true, &[], last)?;
                    } else if !rest.is_empty() {
                        consumed += self.send(false, rest, true)?;
                    } else {
                        // Empty final request: answered in software, as the driver does
                        // (valid after byte-aligned blocks, or as a whole empty stream).
                        self.pending.buf.extend_from_slice(&EMPTY_FINAL);
                        self.finished = true;
                        self.finishing = true;
                    }
                }
            }
        }
    }

    fn engine(&self) -> Engine {
        Engine::Device(self.dev.req.name.clone())
    }
}

/// A decompressor of a stream's body and trailer on a device stream.
///
/// Raw deflate on QM v2 (`synth`): the device only knows zlib, whose decompression ends by
/// checking a 4-byte adler32 after the final block. Raw deflate has none, so once the
/// device reports the final block decoded (ctx_dw0 bit 7) with all input consumed, this
/// engine computes the adler32 of everything the device produced and sends it as the
/// trailer. Bytes following the deflate end in the same request (trailing data, an error
/// for raw deflate anyway) are taken by the device as the trailer: the check fails, the
/// request reports an error and nothing of it is returned — never wrong output.
pub(crate) struct DevStreamDecompress {
    dev: DevStream,
    out: Vec<u8>,
    cap: usize,
    pending: Pending,
    ended: bool,
    synth: Option<u32>,
    /// The first request was offered as one stateless descriptor (see `step`).
    tried_stateless: bool,
    /// Requests that ran as one stateless descriptor.
    pub stateless: u64,
}

impl DevStreamDecompress {
    pub(crate) fn new(req: Request, req_type: u8, synth: bool) -> DevStreamDecompress {
        DevStreamDecompress {
            dev: DevStream::new(req, req_type),
            out: Vec::new(),
            cap: 0,
            pending: Pending::default(),
            ended: false,
            synth: synth.then_some(1),
            tried_stateless: false,
            stateless: 0,
        }
    }

    /// Offers `rest`, the first input of the stream, as one stateless request: a whole
    /// stream of at most 8 MiB whose output fits then costs one descriptor and no stream
    /// context (and runs on devices that execute only stateless requests). Returns the
    /// completion and output when the device decoded the stream to its end; `None` for any
    /// other status: a stateless request leaves no state on the device, so the stream path
    /// starts afresh.
    fn try_stateless(&mut self, rest: &[u8]) -> Result<Option<(u32, Vec<u8>)>> {
        self.tried_stateless = true;
        if self.synth.is_some() || rest.is_empty() || rest.len() > MAX_SIZE {
            return Ok(None);
        }
        // The whole request limit: the output size is unknown, and the buffer is a staging
        // chunk of that size anyway (or lazily-touched heap).
        let cap = MAX_SIZE;
        let (c, out) = self.dev.req.run(self.dev.req_type, rest, false, cap)?;
        if c.status != Status::DecompressEnd {
            return Ok(None);
        }
        self.stateless += 1;
        Ok(Some((c.consumed, out)))
    }
}

impl RawDecompress for DevStreamDecompress {
    fn step(&mut self, input: &[u8], output: &mut [u8]) -> Result<Step> {
        let mut produced = self.pending.drain(output, 0);
        let mut consumed = 0;
        loop {
            if self.pending.left() > 0 {
                break;
            }
            if self.ended {
                break;
            }
            let rest = &input[consumed..];
            let bfinal = self.dev.started && self.dev.words.ctx0 & sqe::CTX_BFINAL != 0;
            if let (Some(adler), true, false) = (self.synth, bfinal, self.dev.more) {
                // v2 raw deflate: the body ended; the trailer zlib mode wants is ours.
                let t = adler.to_be_bytes();
                let cap = MIN_OUT.max(self.cap);
                if self.out.len() < cap {
                    self.out.resize(cap, 0);
                }
                let c = self
                    .dev
                    .request(&t, true, &mut self.out, cap, false, Direction::Decompress)?;
                if c.status != Status::DecompressEnd || c.produced != 0 || c.consumed != 4 {
                    return Err(Error::Device(format!(
                        "{}: decompress: raw deflate on a v2 device did not end after the final block (status {:?}, {} in, {} out)",
                        self.dev.req.name, c.status, c.consumed, c.produced
                    )));
                }
                self.ended = true;
                break;
            }
            if rest.is_empty() && !self.dev.more {
                break;
            }
            if !self.tried_stateless && !self.dev.started {
                if let Some((used, got)) = self.try_stateless(rest)? {
                    let n = got.len().min(output.len() - produced);
                    output[produced..produced + n].copy_from_slice(&got[..n]);
                    produced += n;
                    self.pending.buf.extend_from_slice(&got[n..]);
                    consumed += used as usize;
                    self.ended = true;
                    break;
                }
            }
            if self.cap == 0 {
                self.cap = rest.len().saturating_mul(8).clamp(256 * 1024, MAX_SIZE);
            }
            // The device writes only into this engine's buffer (see `dma::sync`).
            let src = &rest[..rest.len().min(MAX_SIZE)];
            let cap = self.cap.max(MIN_OUT);
            if self.out.len() < cap {
                self.out.resize(cap, 0);
            }
            let c = self
                .dev
                .request(src, false, &mut self.out, cap, false, Direction::Decompress)?;
            let got = &self.out[..c.produced as usize];
            if let Some(a) = self.synth.as_mut() {
                *a = crate::software::libdeflate::adler32(*a, got);
            }
            // Straight to the caller; only what does not fit waits in `pending` (empty here).
            let n = got.len().min(output.len() - produced);
            output[produced..produced + n].copy_from_slice(&got[..n]);
            produced += n;
            self.pending.buf.extend_from_slice(&got[n..]);
            consumed += c.consumed as usize;
            if c.status == Status::DecompressEnd || c.last_block {
                self.ended = true;
                break;
            }
            if self.dev.more {
                // Output space ran out: offer more next time.
                self.cap = (self.cap * 2).min(MAX_SIZE);
            } else if c.consumed == 0 && c.produced == 0 {
                // The device needs more input than there is.
                break;
            }
            if produced == output.len() {
                break;
            }
        }
        Ok(Step {
            consumed,
            produced,
            done: self.ended && self.pending.left() == 0,
        })
    }

    fn engine(&self) -> Engine {
        Engine::Device(self.dev.req.name.clone())
    }
}
