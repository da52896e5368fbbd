//! Streaming compression and decompression with zlib's flush modes.
//!
//! [`Compressor`] writes the header, drives a raw engine, and appends the trailer;
//! [`Decompressor`] parses headers (gzip: name/mtime/comment/extra/hcrc), drives a raw
//! engine that verifies the trailer, follows concatenated gzip members, and rejects trailing
//! data, output beyond the session's limit and truncation.

use crate::backend::{Counters, DeviceEngine, DmaSetup, Engine, RawCompress, RawDecompress, Report, Step};
use crate::error::{Error, Result};
use crate::format::{check_zlib_header, header, trailer, Check, Format, GzipHeader};
use crate::software::{self, Library, Mode};
use crate::Direction;
use std::sync::Arc;

/// zlib's flush modes.
///
/// ```
/// use uadk_zip::Flush;
/// assert_ne!(Flush::Sync, Flush::Full);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Flush {
    /// Compress as input arrives; output may lag behind.
    #[default]
    None,
    /// Emit everything so far and byte-align (empty stored block); history is kept.
    Sync,
    /// Like `Sync`, and forget history, so decoding can restart here.
    Full,
    /// Finish the stream (final block and trailer).
    Finish,
}

/// Result of one streaming call.
///
/// ```
/// let p = uadk_zip::Progress { consumed: 1, produced: 2, done: false };
/// assert_eq!(p.produced, 2);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Progress {
    /// Input bytes consumed; pass the rest again.
    pub consumed: usize,
    /// Output bytes written.
    pub produced: usize,
    /// Compressor: the requested flush is complete (for `Finish`, the whole stream is
    /// out). Decompressor: a stream (gzip: a member) ended and everything is verified.
    pub done: bool,
}

/// Drives a raw compressor over all of `input` with `flush`, appending to `out`.
pub(crate) fn drive_to_vec(
    raw: &mut dyn RawCompress,
    mut input: &[u8],
    flush: Flush,
    out: &mut Vec<u8>,
) -> Result<()> {
    loop {
        let start = out.len();
        let room = (input.len() / 2).clamp(64 * 1024, 16 << 20);
        out.resize(start + room, 0);
        let s = raw.step(input, &mut out[start..], flush);
        let s = match s {
            Ok(s) => s,
            Err(e) => {
                out.truncate(start);
                return Err(e);
            }
        };
        out.truncate(start + s.produced);
        input = &input[s.consumed..];
        if s.done {
            return Ok(());
        }
        if s.consumed == 0 && s.produced == 0 {
            return Err(Error::Library {
                library: "engine",
                detail: "compression made no progress".into(),
            });
        }
    }
}

/// Streaming compressor producing a complete deflate/zlib/gzip stream.
///
/// ```
/// use uadk_zip::{Config, Flush, Session};
/// let s = Session::new(Config::default()).unwrap();
/// let mut c = s.compressor().unwrap();
/// let mut out = Vec::new();
/// c.compress_vec(b"part one, ", &mut out, Flush::Sync).unwrap();
/// c.compress_vec(b"part two", &mut out, Flush::Finish).unwrap();
/// assert_eq!(s.decompress(&out).unwrap(), b"part one, part two");
/// ```
pub struct Compressor {
    raw: Box<dyn RawCompress>,
    format: Format,
    level: u32,
    gzip: GzipHeader,
    pending: Vec<u8>,
    pending_pos: usize,
    check: Check,
    total_in: u64,
    total_out: u64,
    raw_in: u64,
    /// Input a device engine consumed while it had produced nothing yet: replayed into a
    /// software engine if the device fails before its first output (`None` once output was
    /// emitted or the input outgrew [`REPLAY_MAX`]).
    replay: Option<Vec<u8>>,
    finishing: bool,
    finished: bool,
    report: Report,
    fallback: bool,
    counters: Option<Arc<Counters>>,
    /// Full-flush points recorded for a block index at the end ([`Compressor::with_block_index`]).
    index_log: Option<crate::stream_index::IndexLog>,
}

/// Most input kept for a transparent software restart of a device stream.
const REPLAY_MAX: usize = 8 << 20;

impl Compressor {
    pub(crate) fn new(
        raw: Box<dyn RawCompress>,
        format: Format,
        level: u32,
        gzip: GzipHeader,
        reason: String,
        fallback: bool,
        counters: Option<Arc<Counters>>,
    ) -> Result<Self> {
        let pending = header(format, level, &gzip)?;
        let replay = matches!(raw.engine(), Engine::Device(_)).then(Vec::new);
        Ok(Compressor {
            replay,
            report: Report {
                engine: raw.engine(),
                reason,
                fell_back: false,
                threads: 1,
                uncompressed: 0,
                compressed: 0,
            },
            raw,
            format,
            level,
            gzip,
            pending,
            pending_pos: 0,
            check: Check::new(format),
            total_in: 0,
            total_out: 0,
            raw_in: 0,
            finishing: false,
            finished: false,
            fallback,
            counters,
            index_log: None,
        })
    }

    /// Records every full flush ([`Flush::Full`]) and ends the stream with a block index
    /// ([`crate::index`]) of the pieces between them, so that [`crate::Session::decompress`]
    /// and [`crate::Decoder`] can decode them in parallel; every other reader sees a plain
    /// stream. Pieces under 1 MiB are merged with the next. Software engines only: a device
    /// stream (whose output may be replayed in software) is left as it is.
    ///
    /// ```
    /// use uadk_zip::{Compressor, Flush, Format};
    /// let mut c = Compressor::software(Format::Zlib, 1)?.with_block_index();
    /// let mut z = Vec::new();
    /// for part in 0..3u8 {
    ///     c.compress_vec(&vec![part; 2 << 20], &mut z, Flush::Full)?;
    /// }
    /// c.compress_vec(&[], &mut z, Flush::Finish)?;
    /// assert_eq!(uadk_zip::index::locate(Format::Zlib, &z).unwrap().index.entries.len(), 3);
    /// assert_eq!(uadk_zip::decompress(&z, Format::Zlib)?.len(), 6 << 20);
    /// # Ok::<(), uadk_zip::Error>(())
    /// ```
    pub fn with_block_index(mut self) -> Self {
        if !matches!(self.raw.engine(), Engine::Device(_)) && self.total_in == 0 && self.total_out == 0 {
            self.index_log = Some(crate::stream_index::IndexLog::new(
                self.format,
                self.pending.len(),
            ));
        }
        self
    }

    /// A software compressor without a session (software library chosen by level).
    ///
    /// ```
    /// use uadk_zip::{Compressor, Flush, Format};
    /// let mut c = Compressor::software(Format::Zlib, 1).unwrap();
    /// let mut z = Vec::new();
    /// c.compress_vec(b"hi", &mut z, Flush::Finish).unwrap();
    /// assert_eq!(&z[..2], &[0x78, 0x01]);
    /// ```
    pub fn software(format: Format, level: u32) -> Result<Self> {
        if level > 9 {
            return Err(Error::InvalidLevel(level));
        }
        let (raw, why) = software::chosen_compressor(level)?;
        Self::new(raw, format, level, GzipHeader::default(), why.into(), false, None)
    }

    /// Compresses from `input` into `output`; call again with the unconsumed input (and the
    /// same flush) until [`Progress::done`].
    ///
    /// ```
    /// use uadk_zip::{Compressor, Flush, Format};
    /// let mut c = Compressor::software(Format::Deflate, 6).unwrap();
    /// let mut buf = [0u8; 64];
    /// let p = c.compress(b"aaaaaaaaaa", &mut buf, Flush::Finish).unwrap();
    /// assert!(p.done && p.consumed == 10);
    /// ```
    pub fn compress(&mut self, input: &[u8], output: &mut [u8], flush: Flush) -> Result<Progress> {
        if self.finished {
            if input.is_empty() {
                return Ok(Progress {
                    done: true,
                    ..Progress::default()
                });
            }
            return Err(Error::Finished);
        }
        if flush == Flush::Finish && input.is_empty() && self.raw_in == 0 && self.total_in == 0 {
            self.empty_stream_in_software()?;
        }
        let mut produced = self.drain_pending(output);
        let mut consumed = 0;
        let mut done = false;
        if self.pending_pos == self.pending.len() && !self.finishing {
            // With a block index the data ends with a full flush; the index and an empty
            // final block follow.
            let raw_flush = match (&self.index_log, flush) {
                (Some(_), Flush::Finish) => Flush::Full,
                _ => flush,
            };
            let step = self.raw_step(input, &mut output[produced..], raw_flush)?;
            self.check.update(&input[..step.consumed]);
            self.total_in += step.consumed as u64;
            consumed = step.consumed;
            produced += step.produced;
            if let Some(log) = self.index_log.as_mut() {
                log.input(&input[..step.consumed]);
                if step.done && raw_flush == Flush::Full {
                    log.boundary(self.total_out + produced as u64);
                }
            }
            if step.done && flush == Flush::Finish {
                self.finishing = true;
                let mut tail = self.index_log.take().map_or_else(Vec::new, |l| l.finish());
                tail.extend_from_slice(&trailer(self.format, self.check.value(), self.total_in));
                self.pending = tail;
                self.pending_pos = 0;
                produced += self.drain_pending(&mut output[produced..]);
            } else {
                done = step.done;
            }
            if !self.finishing && self.pending_pos < self.pending.len() {
                // A software restart replayed earlier input into `pending`.
                produced += self.drain_pending(&mut output[produced..]);
            }
        }
        if self.finishing && self.pending_pos == self.pending.len() {
            self.finished = true;
            done = true;
            self.report.uncompressed = self.total_in;
            self.report.compressed = self.total_out + produced as u64;
            if let Some(c) = &self.counters {
                c.record(&self.report);
            }
        }
        self.total_out += produced as u64;
        Ok(Progress {
            consumed,
            produced,
            done,
        })
    }

    /// A device stream that ends without ever taking input: the empty stream is not a ZIP
    /// request (it needs at least one input byte), so it is written in software under every
    /// backend, and the report says so.
    fn empty_stream_in_software(&mut self) -> Result<()> {
        if !matches!(self.raw.engine(), Engine::Device(_)) {
            return Ok(());
        }
        let (raw, why) = software::chosen_compressor(self.level)?;
        self.raw = raw;
        self.replay = None;
        self.report.engine = self.raw.engine();
        self.report.reason = format!("{}, completed in software; {why}", crate::oneshot::EMPTY_INPUT);
        Ok(())
    }

    fn raw_step(&mut self, input: &[u8], output: &mut [u8], flush: Flush) -> Result<Step> {
        match self.raw.step(input, output, flush) {
            Ok(s) => {
                self.raw_in += s.consumed as u64;
                if let Some(r) = self.replay.as_mut() {
                    if s.produced > 0 || r.len() + s.consumed > REPLAY_MAX {
                        self.replay = None;
                    } else {
                        r.extend_from_slice(&input[..s.consumed]);
                    }
                }
                Ok(s)
            }
            Err(e) if matches!(self.raw.engine(), Engine::Device(_)) => {
                let Some(replay) = self.replay.take().filter(|_| self.fallback) else {
                    if self.raw_in > 0 {
                        // Output of this stream already left through the device, or the
                        // consumed input is no longer held: never emit a corrupt stream.
                        return Err(Error::StreamLost(e.to_string()));
                    }
                    return Err(Error::Device(e.to_string()));
                };
                // Nothing was emitted yet: restart in software with the input so far.
                self.raw = software::chosen_compressor(self.level)?.0;
                self.report.engine = self.raw.engine();
                self.report.fell_back = true;
                self.report.reason = format!(
                    "device failed before any output ({e}); {} byte(s) replayed and the stream redone in software",
                    replay.len()
                );
                if !replay.is_empty() {
                    let mut v = Vec::new();
                    drive_to_vec(self.raw.as_mut(), &replay, Flush::None, &mut v)?;
                    self.pending = v;
                    self.pending_pos = 0;
                    return Ok(Step::default());
                }
                self.raw_step(input, output, flush)
            }
            Err(e) => Err(e),
        }
    }

    fn drain_pending(&mut self, output: &mut [u8]) -> usize {
        let n = (self.pending.len() - self.pending_pos).min(output.len());
        output[..n].copy_from_slice(&self.pending[self.pending_pos..self.pending_pos + n]);
        self.pending_pos += n;
        n
    }

    /// Compresses all of `input` with `flush`, appending the output to `out`.
    ///
    /// ```
    /// use uadk_zip::{Compressor, Flush, Format};
    /// let mut c = Compressor::software(Format::Gzip, 9).unwrap();
    /// let mut out = Vec::new();
    /// c.compress_vec(b"xyz", &mut out, Flush::Finish).unwrap();
    /// assert_eq!(&out[..2], &[0x1f, 0x8b]);
    /// ```
    pub fn compress_vec(&mut self, mut input: &[u8], out: &mut Vec<u8>, flush: Flush) -> Result<()> {
        loop {
            let start = out.len();
            let room = (input.len() / 2).clamp(32 * 1024, 16 << 20);
            out.resize(start + room, 0);
            let p = self.compress(input, &mut out[start..], flush);
            let p = match p {
                Ok(p) => p,
                Err(e) => {
                    out.truncate(start);
                    return Err(e);
                }
            };
            out.truncate(start + p.produced);
            input = &input[p.consumed..];
            if p.done || (flush == Flush::None && input.is_empty()) {
                return Ok(());
            }
        }
    }

    /// True once `Finish` has completed.
    ///
    /// ```
    /// let c = uadk_zip::Compressor::software(uadk_zip::Format::Gzip, 6).unwrap();
    /// assert!(!c.is_finished());
    /// ```
    pub fn is_finished(&self) -> bool {
        self.finished
    }

    /// Total uncompressed bytes consumed.
    ///
    /// ```
    /// let c = uadk_zip::Compressor::software(uadk_zip::Format::Gzip, 6).unwrap();
    /// assert_eq!(c.total_in(), 0);
    /// ```
    pub fn total_in(&self) -> u64 {
        self.total_in
    }

    /// Total compressed bytes produced.
    ///
    /// ```
    /// let c = uadk_zip::Compressor::software(uadk_zip::Format::Zlib, 6).unwrap();
    /// assert_eq!(c.total_out(), 0);
    /// ```
    pub fn total_out(&self) -> u64 {
        self.total_out
    }

    /// Which engine runs this stream and why.
    ///
    /// ```
    /// let c = uadk_zip::Compressor::software(uadk_zip::Format::Gzip, 1).unwrap();
    /// // ISA-L when libisal2 is installed, else the next fastest streaming compressor.
    /// assert!(["software:isa-l", "software:zlib-rs"].contains(&c.report().engine.to_string().as_str()));
    /// ```
    pub fn report(&self) -> &Report {
        &self.report
    }

    /// The gzip header fields this stream writes.
    ///
    /// ```
    /// let c = uadk_zip::Compressor::software(uadk_zip::Format::Gzip, 6).unwrap();
    /// assert_eq!(c.gzip_header().mtime, 0);
    /// ```
    pub fn gzip_header(&self) -> &GzipHeader {
        &self.gzip
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum DState {
    Header,
    Body,
    /// A gzip member ended; more input must be another member.
    MemberEnd,
    /// A zlib/deflate stream ended; more input is an error.
    Done,
}

/// Streaming decompressor of deflate, zlib or (multi-member) gzip.
///
/// ```
/// use uadk_zip::{compress, Decompressor, Format};
/// let mut two = compress(b"one ", Format::Gzip).unwrap();
/// two.extend(compress(b"two", Format::Gzip).unwrap());
/// let mut d = Decompressor::software(Format::Gzip);
/// let mut out = Vec::new();
/// d.decompress_vec(&two, &mut out).unwrap();
/// d.finish().unwrap();
/// assert_eq!(out, b"one two");
/// ```
pub struct Decompressor {
    format: Format,
    library: Library,
    state: DState,
    hdr: Vec<u8>,
    raw: Option<Box<dyn RawDecompress>>,
    gzip: Option<GzipHeader>,
    members: u64,
    total_in: u64,
    total_out: u64,
    limit: u64,
    report: Report,
    counters: Option<Arc<Counters>>,
    device: Option<Arc<dyn DeviceEngine>>,
    dma: DmaSetup,
    fallback: bool,
    member_in: u64,
    member_out: u64,
    /// Threads for members with a block index (1 = decode them sequentially).
    threads: usize,
    /// The member being decoded in parallel from its block index.
    indexed: Option<Box<crate::parallel_decompress::IndexedMember>>,
    /// An index found by the caller for the first stream ([`Decompressor::with_index`]).
    preset: Option<crate::index::Located>,
    /// The start of this member's deflate data was checked for a leading index carrier.
    probed: bool,
    /// Header length of the current gzip member.
    header_len: Option<usize>,
}

/// Most header bytes buffered before the header must be complete (extra + name + comment).
const MAX_HEADER: usize = 12 + 65_535 + 2 * (crate::format::MAX_GZIP_FIELD + 1) + 2;

impl Decompressor {
    pub(crate) fn new(
        format: Format,
        library: Library,
        limit: u64,
        reason: String,
        counters: Option<Arc<Counters>>,
    ) -> Self {
        Decompressor {
            format,
            library,
            state: DState::Header,
            hdr: Vec::new(),
            raw: None,
            gzip: None,
            members: 0,
            total_in: 0,
            total_out: 0,
            limit,
            report: Report {
                engine: Engine::Software(library),
                reason,
                fell_back: false,
                threads: 1,
                uncompressed: 0,
                compressed: 0,
            },
            counters,
            device: None,
            dma: DmaSetup::default(),
            fallback: false,
            member_in: 0,
            member_out: 0,
            threads: 1,
            indexed: None,
            preset: None,
            probed: false,
            header_len: None,
        }
    }

    /// Runs members on `device`; with `fallback`, a device failure before a member produced
    /// anything is redone in software, later ones end in [`Error::StreamLost`].
    pub(crate) fn with_device(mut self, device: Arc<dyn DeviceEngine>, fallback: bool) -> Self {
        self.report.engine = Engine::Device(device.name());
        self.device = Some(device);
        self.fallback = fallback;
        self
    }

    /// Decodes members that carry a block index ([`crate::index`]: gzip FEXTRA or a
    /// leading carrier) on `threads` threads ([`crate::parallel_decompress`]).
    pub(crate) fn with_threads(mut self, threads: usize) -> Self {
        self.threads = threads.max(1);
        self
    }

    /// Decodes the first stream (gzip: member) with `index`, which the caller found, e.g.
    /// at the end of a file with [`crate::index::locate_in_reader`] (a streaming reader
    /// cannot see an index at the end before the data). Used only when the decompressor
    /// has threads to spare (sessions with [`crate::Config::threads`] > 1 and no device);
    /// every piece is still checked against the index and the stream's trailer.
    ///
    /// ```
    /// use uadk_zip::{Compressor, Config, Flush, Format, Session};
    /// let mut c = Compressor::software(Format::Gzip, 1)?.with_block_index();
    /// let mut gz = Vec::new();
    /// for part in 0..3u8 {
    ///     c.compress_vec(&vec![part; 2 << 20], &mut gz, Flush::Full)?;
    /// }
    /// c.compress_vec(&[], &mut gz, Flush::Finish)?;
    /// let loc = uadk_zip::index::locate_in_reader(Format::Gzip, &mut std::io::Cursor::new(&gz))?.unwrap();
    /// let s = Session::new(Config { threads: 2, ..Config::default() })?;
    /// let mut d = s.decompressor()?.with_index(loc);
    /// let mut out = Vec::new();
    /// d.decompress_vec(&gz, &mut out)?;
    /// d.finish()?;
    /// assert_eq!(out.len(), 6 << 20);
    /// assert!(d.report().reason.contains("block index"), "{}", d.report().reason);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn with_index(mut self, index: crate::index::Located) -> Self {
        if self.total_in == 0 {
            self.preset = Some(index);
        }
        self
    }

    /// Starts decoding the current member from `loc` (its offsets counted from the
    /// member's start; `header` bytes of it were consumed, the first `skip` bytes of the
    /// deflate data are not yet).
    fn start_indexed(&mut self, loc: crate::index::Located, header: usize, skip: usize) {
        if self.threads < 2 || self.device.is_some() || loc.data_start != header + skip {
            return;
        }
        if loc.index.total_uncompressed() > self.limit.saturating_sub(self.total_out) {
            // Over the limit: the ordinary path reports it where it happens.
            return;
        }
        let Some(m) = crate::parallel_decompress::IndexedMember::new(self.format, loc, skip, self.threads)
        else {
            return;
        };
        let detail = format!(
            "block index: {} piece group(s) decoded in parallel on {} thread(s)",
            m.groups(),
            m.threads()
        );
        if !self.report.reason.contains("block index") {
            self.report.reason.push_str("; ");
            self.report.reason.push_str(&detail);
        }
        self.report.engine = Engine::Software(Library::Libdeflate);
        self.report.threads = self.report.threads.max(m.threads());
        self.indexed = Some(Box::new(m));
    }

    /// At the start of a stream's deflate data: an index given by the caller, else a
    /// leading carrier (zlib, raw deflate) in `input` — recognised when this call's input
    /// holds it whole (about 8 bytes per index byte, ~1 KiB for 16 pieces; any reader's
    /// buffer does), else the stream decodes sequentially.
    fn probe_index(&mut self, input: &[u8]) {
        self.probed = true;
        if self.threads < 2 {
            return;
        }
        let hl = crate::format::header(self.format, 0, &GzipHeader::default()).map_or(0, |h| h.len());
        if let Some(loc) = self.preset.take() {
            let skip = loc.data_start.saturating_sub(self.header_len.unwrap_or(hl));
            let header = loc.data_start - skip;
            return self.start_indexed(loc, header, skip);
        }
        if self.format == Format::Gzip {
            return;
        }
        if let Some((index, n)) = crate::index::parse_carrier(input) {
            if !index.last_final || index.kind != crate::index::CheckKind::for_format(self.format) {
                return;
            }
            let Some(body_end) = usize::try_from(index.total_compressed())
                .ok()
                .and_then(|c| c.checked_add(hl + n))
            else {
                return;
            };
            let loc = crate::index::Located {
                index,
                data_start: hl + n,
                body_end,
            };
            self.start_indexed(loc, hl, n);
        }
    }

    /// Places device inputs as `dma` says.
    pub(crate) fn with_dma(mut self, dma: DmaSetup) -> Self {
        self.dma = dma;
        self
    }

    fn body_step(&mut self, input: &[u8], output: &mut [u8]) -> Result<Step> {
        let raw = self.raw.as_mut().expect("engine exists in Body state");
        match raw.step(input, output) {
            Ok(s) => {
                self.member_in += s.consumed as u64;
                self.member_out += s.produced as u64;
                Ok(s)
            }
            Err(Error::Device(e)) => {
                if !self.fallback || self.member_in > 0 || self.member_out > 0 {
                    return Err(Error::StreamLost(e));
                }
                let lib = software::choose(Direction::Decompress, 0, Mode::Stream).0;
                self.raw = Some(software::raw_decompressor(lib, self.format)?);
                self.report.engine = Engine::Software(lib);
                self.report.fell_back = true;
                self.report.reason = format!("device failed before any output ({e}); redone in software");
                self.body_step(input, output)
            }
            Err(e) => Err(e),
        }
    }

    /// A software decompressor without a session and without an output limit.
    ///
    /// ```
    /// let d = uadk_zip::Decompressor::software(uadk_zip::Format::Zlib);
    /// assert!(!d.is_done());
    /// ```
    pub fn software(format: Format) -> Self {
        let (lib, why) = software::choose(Direction::Decompress, 0, Mode::Stream);
        Self::new(format, lib, u64::MAX, why.into(), None)
    }

    /// Decompresses from `input` into `output`. Returns when the input is used up, the
    /// output is full, or a stream/member ended (`done`); pass unconsumed input again.
    ///
    /// ```
    /// use uadk_zip::{compress, Decompressor, Format};
    /// let z = compress(b"hello", Format::Zlib).unwrap();
    /// let mut d = Decompressor::software(Format::Zlib);
    /// let mut out = [0u8; 16];
    /// let p = d.decompress(&z, &mut out).unwrap();
    /// assert!(p.done);
    /// assert_eq!(&out[..p.produced], b"hello");
    /// ```
    pub fn decompress(&mut self, input: &[u8], output: &mut [u8]) -> Result<Progress> {
        let r = self.decompress_inner(input, output);
        if r.is_err() {
            if let Some(c) = &self.counters {
                c.error();
            }
        }
        r
    }

    /// Like [`Decompressor::decompress`], but returns the output as a slice instead of
    /// always copying it into the caller's buffer: a member decoded in parallel from its
    /// block index lends the decoded bytes from its own buffers (the rest of one group of
    /// pieces, possibly many MiB, each checked against the index before it is lent);
    /// everything else is decoded into `scratch`, as `decompress` would. The slice is
    /// valid until the next call; `Progress::produced` is its length.
    ///
    /// ```
    /// use uadk_zip::{compress, Decompressor, Format};
    /// let z = compress(b"hello", Format::Gzip).unwrap();
    /// let mut d = Decompressor::software(Format::Gzip);
    /// let mut scratch = [0u8; 16];
    /// let (p, out) = d.decompress_lend(&z, &mut scratch).unwrap();
    /// assert!(p.done);
    /// assert_eq!(out, b"hello");
    /// ```
    pub fn decompress_lend<'a>(
        &'a mut self,
        input: &[u8],
        scratch: &'a mut [u8],
    ) -> Result<(Progress, &'a [u8])> {
        if !(self.state == DState::Body && self.probed && self.indexed.is_some()) {
            let p = self.decompress(input, scratch)?;
            let n = p.produced;
            return Ok((p, &scratch[..n]));
        }
        let m = self.indexed.as_mut().expect("checked above");
        let (consumed, done, range) = match m.lend(input) {
            Ok(r) => r,
            Err(e) => {
                if let Some(c) = &self.counters {
                    c.error();
                }
                return Err(e);
            }
        };
        let n = range.len();
        self.total_in += consumed as u64;
        self.member_in += consumed as u64;
        self.member_out += n as u64;
        self.total_out += n as u64;
        if self.total_out > self.limit {
            if let Some(c) = &self.counters {
                c.error();
            }
            return Err(Error::OutputLimit { limit: self.limit });
        }
        let progress = Progress {
            consumed,
            produced: n,
            done,
        };
        if done {
            self.indexed = None;
            self.member_done();
            return Ok((progress, &[]));
        }
        let m = self.indexed.as_ref().expect("still decoding");
        Ok((progress, m.lent(range)))
    }

    /// A member's body ended: count it and go on to the next member (gzip) or the end.
    fn member_done(&mut self) {
        self.members += 1;
        self.raw = None;
        self.state = if self.format == Format::Gzip {
            DState::MemberEnd
        } else {
            DState::Done
        };
    }

    fn decompress_inner(&mut self, input: &[u8], output: &mut [u8]) -> Result<Progress> {
        let mut ip = 0;
        let mut op = 0;
        loop {
            match self.state {
                DState::Header => {
                    if ip == input.len() {
                        break;
                    }
                    ip += self.read_header(&input[ip..])?;
                }
                DState::Body if !self.probed || self.indexed.is_some() => {
                    if !self.probed {
                        self.probe_index(&input[ip..]);
                        continue;
                    }
                    let m = self.indexed.as_mut().expect("checked above");
                    let st = m.step(&input[ip..], &mut output[op..])?;
                    ip += st.consumed;
                    op += st.produced;
                    self.member_in += st.consumed as u64;
                    self.member_out += st.produced as u64;
                    self.total_out += st.produced as u64;
                    if self.total_out > self.limit {
                        return Err(Error::OutputLimit { limit: self.limit });
                    }
                    if st.done {
                        self.indexed = None;
                        self.member_done();
                    }
                    // The step took what input it could and waited when there was nothing
                    // else to do: calling it again at once would only wait (or make the
                    // caller's next bytes wait) for the next group.
                    break;
                }
                DState::Body => {
                    let remaining = self.limit.saturating_sub(self.total_out);
                    let allow = (output.len() - op)
                        .min(usize::try_from(remaining).unwrap_or(usize::MAX).saturating_add(1));
                    let s = self
                        .body_step(&input[ip..], &mut output[op..op + allow])
                        .map_err(|e| match e {
                            Error::TrailingData { format, .. } => Error::TrailingData {
                                format,
                                offset: self.total_in + ip as u64,
                            },
                            e => e,
                        })?;
                    ip += s.consumed;
                    op += s.produced;
                    self.total_out += s.produced as u64;
                    if self.total_out > self.limit {
                        return Err(Error::OutputLimit { limit: self.limit });
                    }
                    if s.done {
                        self.member_done();
                        break;
                    }
                    if s.consumed == 0 && s.produced == 0 {
                        break;
                    }
                }
                DState::MemberEnd => {
                    if ip == input.len() {
                        break;
                    }
                    if input[ip] != 0x1f {
                        return Err(Error::TrailingData {
                            format: self.format,
                            offset: self.total_in + ip as u64,
                        });
                    }
                    self.state = DState::Header;
                }
                DState::Done => {
                    if ip < input.len() {
                        return Err(Error::TrailingData {
                            format: self.format,
                            offset: self.total_in + ip as u64,
                        });
                    }
                    break;
                }
            }
            if op == output.len() && self.state == DState::Body {
                break;
            }
        }
        self.total_in += ip as u64;
        let done = matches!(self.state, DState::MemberEnd | DState::Done);
        Ok(Progress {
            consumed: ip,
            produced: op,
            done,
        })
    }

    /// Consumes header bytes from `input`; returns how many.
    fn read_header(&mut self, input: &[u8]) -> Result<usize> {
        let need_more = |have: usize| have >= MAX_HEADER;
        match self.format {
            Format::Deflate => {
                self.start_body()?;
                Ok(0)
            }
            Format::Zlib => {
                let take = (2 - self.hdr.len()).min(input.len());
                self.hdr.extend_from_slice(&input[..take]);
                if self.hdr.len() == 2 {
                    check_zlib_header([self.hdr[0], self.hdr[1]])?;
                    self.start_body()?;
                }
                Ok(take)
            }
            Format::Gzip => {
                let before = self.hdr.len();
                let take = input.len().min(MAX_HEADER - before);
                self.hdr.extend_from_slice(&input[..take]);
                match GzipHeader::parse(&self.hdr)? {
                    Some((h, len)) => {
                        if self.gzip.is_none() {
                            self.gzip = Some(h);
                        }
                        let found = (self.threads > 1 && self.preset.is_none())
                            .then(|| crate::index::locate_at_start(Format::Gzip, &self.hdr[..len]))
                            .flatten();
                        self.header_len = Some(len);
                        self.start_body()?;
                        if let Some(loc) = found {
                            self.probed = true;
                            self.start_indexed(loc, len, 0);
                        }
                        Ok(len - before)
                    }
                    None if need_more(self.hdr.len()) => Err(Error::corrupt(
                        Format::Gzip,
                        format!("header longer than {MAX_HEADER} bytes"),
                    )),
                    None => Ok(take),
                }
            }
        }
    }

    fn start_body(&mut self) -> Result<()> {
        self.hdr.clear();
        self.member_in = 0;
        self.member_out = 0;
        self.probed = false;
        self.indexed = None;
        let mut raw = None;
        if let Some(dev) = &self.device {
            match dev.decompressor_for(self.format, &self.dma) {
                Ok(r) => raw = Some(r),
                Err(e) if self.fallback => {
                    self.report.engine = Engine::Software(self.library);
                    self.report.fell_back = true;
                    self.report.reason = format!("device unavailable ({e}); software");
                }
                Err(e) => return Err(Error::Device(e.to_string())),
            }
        }
        self.raw = Some(match raw {
            Some(r) => r,
            None => software::raw_decompressor(self.library, self.format)?,
        });
        self.state = DState::Body;
        Ok(())
    }

    /// Decompresses all of `input`, appending to `out` (growing it as needed, within the
    /// output limit).
    ///
    /// ```
    /// use uadk_zip::{compress, Decompressor, Format};
    /// let z = compress(&[1u8; 5000], Format::Deflate).unwrap();
    /// let mut d = Decompressor::software(Format::Deflate);
    /// let mut out = Vec::new();
    /// d.decompress_vec(&z, &mut out).unwrap();
    /// assert_eq!(out.len(), 5000);
    /// ```
    pub fn decompress_vec(&mut self, mut input: &[u8], out: &mut Vec<u8>) -> Result<()> {
        loop {
            if out.capacity() - out.len() < 16 * 1024 {
                out.reserve((out.len() / 2).clamp(64 * 1024, 64 << 20));
            }
            let start = out.len();
            let room = out.capacity() - start;
            out.resize(start + room, 0);
            let p = self.decompress(input, &mut out[start..]);
            let p = match p {
                Ok(p) => p,
                Err(e) => {
                    out.truncate(start);
                    return Err(e);
                }
            };
            out.truncate(start + p.produced);
            input = &input[p.consumed..];
            if input.is_empty() && (p.produced < room || p.done || self.state == DState::Header) {
                return Ok(());
            }
            if p.consumed == 0 && p.produced == 0 && !p.done {
                return Err(Error::Library {
                    library: "engine",
                    detail: "decompression made no progress".into(),
                });
            }
        }
    }

    /// Declares the end of input: an error unless at least one complete stream was read and
    /// nothing is left half-way.
    ///
    /// ```
    /// use uadk_zip::{compress, Decompressor, Error, Format};
    /// let z = compress(b"abcdef", Format::Gzip).unwrap();
    /// let mut d = Decompressor::software(Format::Gzip);
    /// let mut out = Vec::new();
    /// d.decompress_vec(&z[..z.len() - 3], &mut out).unwrap();
    /// assert!(matches!(d.finish(), Err(Error::Truncated { .. })));
    /// ```
    pub fn finish(&mut self) -> Result<()> {
        match self.state {
            DState::MemberEnd | DState::Done => {
                self.report.uncompressed = self.total_out;
                self.report.compressed = self.total_in;
                if let Some(c) = self.counters.take() {
                    c.record(&self.report);
                }
                Ok(())
            }
            DState::Header if self.members == 0 && self.hdr.is_empty() && self.total_in == 0 => {
                Err(Error::EmptyInput { format: self.format })
            }
            _ => Err(Error::Truncated { format: self.format }),
        }
    }

    /// True when the input so far ends exactly at the end of a stream (or gzip member).
    ///
    /// ```
    /// assert!(!uadk_zip::Decompressor::software(uadk_zip::Format::Gzip).is_done());
    /// ```
    pub fn is_done(&self) -> bool {
        matches!(self.state, DState::MemberEnd | DState::Done)
    }

    /// The header of the first gzip member, once read.
    ///
    /// ```
    /// use uadk_zip::{Config, Decompressor, Format, GzipHeader, Session};
    /// let s = Session::new(Config { gzip_header: GzipHeader { name: Some(b"f".to_vec()), ..Default::default() }, ..Config::default() }).unwrap();
    /// let z = s.compress(b"data").unwrap();
    /// let mut d = Decompressor::software(Format::Gzip);
    /// d.decompress_vec(&z, &mut Vec::new()).unwrap();
    /// assert_eq!(d.gzip_header().unwrap().name.as_deref(), Some(&b"f"[..]));
    /// ```
    pub fn gzip_header(&self) -> Option<&GzipHeader> {
        self.gzip.as_ref()
    }

    /// Number of complete streams (gzip members) read so far.
    ///
    /// ```
    /// assert_eq!(uadk_zip::Decompressor::software(uadk_zip::Format::Gzip).members(), 0);
    /// ```
    pub fn members(&self) -> u64 {
        self.members
    }

    /// Total compressed bytes consumed.
    ///
    /// ```
    /// assert_eq!(uadk_zip::Decompressor::software(uadk_zip::Format::Gzip).total_in(), 0);
    /// ```
    pub fn total_in(&self) -> u64 {
        self.total_in
    }

    /// Total decompressed bytes produced.
    ///
    /// ```
    /// assert_eq!(uadk_zip::Decompressor::software(uadk_zip::Format::Gzip).total_out(), 0);
    /// ```
    pub fn total_out(&self) -> u64 {
        self.total_out
    }

    /// Which engine runs this stream and why.
    ///
    /// ```
    /// let d = uadk_zip::Decompressor::software(uadk_zip::Format::Gzip);
    /// assert!(d.report().reason.contains("streaming inflater"), "{}", d.report().reason);
    /// ```
    pub fn report(&self) -> &Report {
        &self.report
    }
}
