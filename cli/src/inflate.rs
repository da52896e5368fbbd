//! Streaming decompression with gzip's rules for what follows the data.
//!
//! Drives a [`uadk_zip::Decompressor`] from a reader to a writer in fixed buffers (256 KiB
//! in, 1 MiB out), so memory stays bounded for any input. Between members it decides, as
//! gzip 1.12 does, what the following bytes are:
//!
//! * the gzip magic `1f 8b`: another member (a bad one is an error, as in gzip);
//! * only zero bytes up to the end (tape padding): ignored silently;
//! * anything else: the data so far is complete and kept, and the caller warns
//!   "decompression OK, trailing garbage ignored" (exit status 2).
//!
//! For zlib and raw deflate (one stream, no members) the same applies to bytes after the
//! stream's end.
//!
//! ## Inputs with a block index: parallel decoding
//!
//! `uadk compress` ends a stream of two or more windows with a block index
//! ([`uadk_zip::index`]; other writers of this project put one at the start). For a seekable
//! input (a regular file, or stdin redirected from one), [`route`] looks for it, reading only
//! the input's head and tail ([`uadk_zip::index::locate_in_reader`]), and uses it when
//!
//! * there are threads to spare (`--threads` ≥ 2);
//! * it describes the whole input (one stream or gzip member, nothing after it; anything
//!   else follows gzip's member and trailing-garbage rules sequentially); and
//! * at least two of its largest pieces fit [`DECODE_BUDGET`] at once, so memory stays
//!   bounded whatever the index says.
//!
//! The decompressor is then handed the index ([`uadk_zip::Decompressor::with_index`]) and
//! decodes its pieces on that many threads; every piece is checked against its length and
//! checksum in the index before its bytes are written, and the whole against the trailer.
//! Everything else decodes sequentially with a one-thread session, so the library never
//! picks up an index that was not vetted here (a pipe's index cannot be, before its data
//! has arrived). When an indexed decode fails, [`inflate_seekable`] decodes the input
//! again sequentially if the output can be thrown away (a file being written, `-t`, `-l`,
//! or standard output before any byte reached it); the data and its checksum decide,
//! never the index. [`Inflated::decode`] says which path ran, for `-v`.

use anyhow::{anyhow, Result};
use std::fs::File;
use std::io::{self, BufWriter, Read, Seek, SeekFrom, Write};
use uadk_zip::index::Located;
use uadk_zip::{Format, GzipHeader, Session};

/// What followed the last complete member or stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trailing {
    /// Nothing.
    None,
    /// Only zero bytes (ignored silently).
    Zeros(u64),
    /// Other bytes, starting at this input offset (ignored with a warning).
    Garbage(u64),
}

/// What [`inflate`] did.
#[derive(Debug, Clone)]
pub struct Inflated {
    /// Compressed bytes of the members/stream (trailing bytes not included).
    pub bytes_in: u64,
    /// Decompressed bytes.
    pub bytes_out: u64,
    /// What followed the data.
    pub trailing: Trailing,
    /// The first gzip member's header.
    pub header: Option<GzipHeader>,
    /// Which engine ran, and why.
    pub engine: String,
    /// How the stream was decoded: `parallel (indexed, N pieces, T threads)` or
    /// `sequential (why)`.
    pub decode: String,
}

/// Most bytes an indexed decode may hold at once (the groups in flight: decoded and
/// compressed bytes; and the input buffer); the thread count is lowered to stay within
/// it, and an index whose pieces are too large for two threads is not used.
pub const DECODE_BUDGET: u64 = 128 << 20;

/// How an input will be decoded: with its block index on several threads, or sequentially.
#[derive(Debug, Clone)]
pub struct Route {
    /// The vetted index, when it is used.
    pub index: Option<Located>,
    /// Threads for the decompression session (1 without an index: the library then never
    /// uses an index on its own).
    pub threads: usize,
    /// Why the input decodes sequentially, when it does.
    pub why: String,
    /// Input buffer: with an index, large enough to hold the compressed bytes of the
    /// groups in flight, so that the decoder is handed whole groups while it waits for
    /// one (with 256 KiB reads it would gather the next group only after the last was
    /// decoded, one at a time).
    pub in_buf: usize,
}

impl Route {
    /// Sequential decoding, for the reason given.
    pub fn sequential(why: impl Into<String>) -> Route {
        Route {
            index: None,
            threads: 1,
            why: why.into(),
            in_buf: IN_BUF,
        }
    }
}

/// Bytes after the deflate data of a stream or member.
fn trailer_len(format: Format) -> u64 {
    match format {
        Format::Gzip => 8,
        Format::Zlib => 4,
        Format::Deflate => 0,
    }
}

/// Largest input buffer of an indexed decode.
const MAX_IN_BUF: u64 = 32 << 20;

/// The (decoded, compressed) bytes of each group of pieces: a piece that starts without
/// history and the pieces after it that need its window (they are decoded together).
fn groups(loc: &Located) -> Vec<(u64, u64)> {
    let mut groups: Vec<(u64, u64)> = Vec::new();
    for e in &loc.index.entries {
        match groups.last_mut() {
            Some((u, c)) if e.needs_window => {
                *u = u.saturating_add(e.uncompressed);
                *c = c.saturating_add(e.compressed);
            }
            _ => groups.push((e.uncompressed, e.compressed)),
        }
    }
    groups
}

/// Memory of an indexed decode on `threads` threads whose largest group decodes to `out`
/// bytes from `comp`: `threads + 2` groups at once (one per thread, one finished and
/// waiting, one being written out), each its output and its compressed bytes (gathered
/// once, decoded where they were gathered; the library keeps these buffers for the next
/// groups), plus the input buffer.
fn decode_memory(threads: u64, out: u64, comp: u64, in_buf: u64) -> u64 {
    (threads + 2)
        .saturating_mul(out.saturating_add(comp))
        .saturating_add(in_buf)
}

/// Decides how the input `r` (seekable, at its start) decodes with up to `threads`
/// threads: finds its block index, if any, and vets it (see the module doc). Leaves `r`
/// at its start.
///
/// # Errors
/// Reading or seeking the input failed.
pub fn route<R: Read + Seek>(format: Format, r: &mut R, threads: usize) -> io::Result<Route> {
    if threads < 2 {
        return Ok(Route::sequential("one thread"));
    }
    let found = uadk_zip::index::locate_in_reader(format, r)?;
    let len = r.seek(SeekFrom::End(0))?;
    r.seek(SeekFrom::Start(0))?;
    let Some(loc) = found else {
        return Ok(Route::sequential("no block index"));
    };
    let end = (loc.body_end as u64).saturating_add(trailer_len(format));
    if end != len {
        return Ok(Route::sequential(format!(
            "block index not used: {} more byte(s) follow the indexed stream (further members or trailing data)",
            len.saturating_sub(end)
        )));
    }
    let groups = groups(&loc);
    if groups.len() < 2 {
        return Ok(Route::sequential("block index of a single piece"));
    }
    let out = groups.iter().map(|g| g.0).max().unwrap_or(0);
    let comp = groups.iter().map(|g| g.1).max().unwrap_or(0);
    let in_buf = |t: usize| ((t as u64 + 1).saturating_mul(comp)).clamp(IN_BUF as u64, MAX_IN_BUF);
    let mut threads = threads.min(groups.len());
    while threads >= 2 && decode_memory(threads as u64, out, comp, in_buf(threads)) > DECODE_BUDGET {
        threads -= 1;
    }
    if threads < 2 {
        return Ok(Route::sequential(format!(
            "block index not used: its largest piece ({} MiB, {} MiB compressed) is too large for two at once within {} MiB",
            out >> 20,
            comp >> 20,
            DECODE_BUDGET >> 20
        )));
    }
    Ok(Route {
        index: Some(loc),
        threads,
        why: String::new(),
        in_buf: in_buf(threads) as usize,
    })
}

/// The indexed decode failed: the index does not match the data, or the data is damaged.
/// [`inflate_seekable`] then decodes the input again without the index when it can.
#[derive(Debug, thiserror::Error)]
#[error("decoding with the stream's block index failed after {written} byte(s) of output")]
pub struct IndexedFailed {
    /// Bytes already handed to the output.
    pub written: u64,
    /// What the library said.
    #[source]
    pub source: uadk_zip::Error,
}

const IN_BUF: usize = 256 << 10;
const OUT_BUF: usize = 1 << 20;

/// Reads until `buf[..*end]` holds at least `want` bytes from `pos`, or the input ends.
fn fill(r: &mut dyn Read, buf: &mut [u8], pos: &mut usize, end: &mut usize, want: usize) -> io::Result<bool> {
    if *end - *pos >= want {
        return Ok(true);
    }
    buf.copy_within(*pos..*end, 0);
    *end -= *pos;
    *pos = 0;
    while *end < want {
        match r.read(&mut buf[*end..]) {
            Ok(0) => return Ok(false),
            Ok(n) => *end += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(true)
}

/// Classifies the rest of the input (`first` and everything `r` still yields).
fn classify_rest(first: &[u8], r: &mut dyn Read, offset: u64) -> io::Result<Trailing> {
    let mut zeros = first.iter().all(|&b| b == 0);
    let mut n = first.len() as u64;
    let mut buf = vec![0u8; 64 << 10];
    loop {
        match r.read(&mut buf) {
            Ok(0) => break,
            Ok(k) => {
                zeros &= buf[..k].iter().all(|&b| b == 0);
                n += k as u64;
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(match (n, zeros) {
        (0, _) => Trailing::None,
        (n, true) => Trailing::Zeros(n),
        (_, false) => Trailing::Garbage(offset),
    })
}

/// Decompresses everything `input` yields into `out` with `session`'s format, engine and
/// output limit, with `route`'s index when it has one (on `session`'s threads).
/// `progress` is told of every compressed byte read.
///
/// # Errors
/// Corrupt, truncated or empty input, a checksum mismatch, the output limit, reading or
/// writing. What was written to `out` before the error is incomplete. A library error
/// while decoding with an index is an [`IndexedFailed`].
pub fn inflate(
    session: &Session,
    route: Route,
    input: &mut dyn Read,
    out: &mut dyn Write,
    progress: &mut dyn FnMut(u64),
) -> Result<Inflated> {
    let format = session.config().format;
    let mut d = session.decompressor()?;
    let pieces = route.index.as_ref().map(|l| l.index.entries.len());
    if let Some(loc) = route.index {
        d = d.with_index(loc);
    }
    let mut written = 0u64;
    // A library error while decoding with an index may be the index's fault; the output
    // limit is not (decoding again would only hit it again).
    let failed = |e: uadk_zip::Error, written: u64| -> anyhow::Error {
        if pieces.is_some() && !matches!(e, uadk_zip::Error::OutputLimit { .. }) {
            IndexedFailed { written, source: e }.into()
        } else {
            e.into()
        }
    };
    let mut inbuf = vec![0u8; route.in_buf.max(IN_BUF)];
    let mut outbuf = vec![0u8; OUT_BUF];
    let (mut pos, mut end) = (0usize, 0usize);
    let mut eof = false;
    let mut trailing = Trailing::None;
    loop {
        if pos == end && !eof {
            let before = end - pos;
            eof = !fill(input, &mut inbuf, &mut pos, &mut end, 1)?;
            progress((end - pos - before) as u64);
        }
        if d.is_done() {
            if pos == end && eof {
                break;
            }
            if format == Format::Gzip {
                let before = end - pos;
                let more = fill(input, &mut inbuf, &mut pos, &mut end, 2)?;
                progress((end - pos - before) as u64);
                eof |= !more;
                if inbuf[pos..end].starts_with(&[0x1f, 0x8b]) {
                    // Another member follows.
                } else {
                    trailing = classify_rest(&inbuf[pos..end], input, d.total_in())?;
                    break;
                }
            } else {
                trailing = classify_rest(&inbuf[pos..end], input, d.total_in())?;
                break;
            }
        }
        // With all input taken, the decompressor may still hold output (an indexed decode
        // has whole pieces in flight): drain it until it gives nothing more.
        let draining = pos == end && eof;
        // An indexed decode lends each group's bytes from its own buffer (no copy here).
        let (p, decoded) = d
            .decompress_lend(&inbuf[pos..end], &mut outbuf)
            .map_err(|e| failed(e, written))?;
        pos += p.consumed;
        out.write_all(decoded)?;
        written += p.produced as u64;
        if draining && p.produced == 0 && !p.done {
            break;
        }
        if p.consumed == 0 && p.produced == 0 && !p.done && pos < end {
            return Err(anyhow!(
                "decompression made no progress (engine {})",
                d.report().engine
            ));
        }
    }
    d.finish().map_err(|e| failed(e, written))?;
    out.flush()?;
    let r = d.report();
    let decode = match pieces {
        // The library reports the threads its indexed decoder ran on (1 otherwise).
        Some(n) if r.threads >= 2 => format!("parallel (indexed, {n} pieces, {} threads)", r.threads),
        Some(_) => format!("sequential (block index not used by {})", r.engine),
        None => format!("sequential ({})", route.why),
    };
    Ok(Inflated {
        bytes_in: d.total_in(),
        bytes_out: d.total_out(),
        trailing,
        header: d.gzip_header().cloned(),
        engine: format!("{} ({})", r.engine, r.reason),
        decode,
    })
}

/// An output that can start over, for a decode that must be redone.
pub trait Restart: Write {
    /// Throws away everything written so far and starts again at the beginning; `false`
    /// when that is impossible (bytes already reached a pipe).
    fn restart(&mut self) -> io::Result<bool>;
}

impl Restart for io::Sink {
    fn restart(&mut self) -> io::Result<bool> {
        Ok(true)
    }
}

/// A file being written (a temporary output), buffered; restarting truncates it.
pub struct FileOut<'a> {
    w: BufWriter<&'a File>,
    cap: usize,
}

impl<'a> FileOut<'a> {
    /// Writes to `file` (from its current position) through a `cap`-byte buffer.
    pub fn new(file: &'a File, cap: usize) -> FileOut<'a> {
        FileOut {
            w: BufWriter::with_capacity(cap, file),
            cap,
        }
    }
}

impl Write for FileOut<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.w.write(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.w.flush()
    }
}

impl Restart for FileOut<'_> {
    fn restart(&mut self) -> io::Result<bool> {
        let mut f: &File = self.w.get_ref();
        // The buffered bytes are dropped unwritten.
        let old = std::mem::replace(&mut self.w, BufWriter::with_capacity(self.cap, f));
        drop(old.into_parts());
        f.set_len(0)?;
        f.seek(SeekFrom::Start(0))?;
        Ok(true)
    }
}

/// A stream (standard output): restartable only while nothing was written to it.
pub struct StreamOut<W: Write> {
    w: W,
    written: u64,
}

impl<W: Write> StreamOut<W> {
    /// Counts what goes to `w`.
    pub fn new(w: W) -> StreamOut<W> {
        StreamOut { w, written: 0 }
    }
}

impl<W: Write> Write for StreamOut<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.w.write(buf)?;
        self.written += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.w.flush()
    }
}

impl<W: Write> Restart for StreamOut<W> {
    fn restart(&mut self) -> io::Result<bool> {
        Ok(self.written == 0)
    }
}

/// Decompresses a seekable `input` (at its start) into `out` the way [`route`] decided,
/// with a session from `session(threads)`. When the indexed decode fails and `out` can
/// start over, the input is decoded again sequentially, and that result (data or error)
/// is the answer; when `out` cannot (bytes already went to a pipe), the error says how to
/// decode without the index. `progress` is told of every compressed byte read (a second
/// pass reports only what goes beyond the first).
///
/// # Errors
/// As [`inflate`], and reading, seeking or truncating for a second pass.
pub fn inflate_seekable<R: Read + Seek>(
    session: &dyn Fn(usize) -> Result<Session>,
    route: Route,
    input: &mut R,
    out: &mut dyn Restart,
    progress: &mut dyn FnMut(u64),
) -> Result<Inflated> {
    let mut seen = 0u64;
    let s = session(route.threads)?;
    let e = match inflate(&s, route, input, out, &mut |n| {
        seen += n;
        progress(n)
    }) {
        Err(e) if e.is::<IndexedFailed>() => e,
        r => return r,
    };
    if !out.restart()? {
        return Err(e.context(
            "output already written to standard output; decompress again with --threads 1 to decode without the block index",
        ));
    }
    log::info!("{e:#}; decoding again without the block index");
    input.seek(SeekFrom::Start(0))?;
    let s = session(1)?;
    let why = format!("{e:#}; decoded again without the block index");
    let mut read = 0u64;
    inflate(&s, Route::sequential(why), input, out, &mut |n| {
        let before = read;
        read += n;
        if read > seen {
            progress(read - before.max(seen));
        }
    })
}

/// Standard input as a file, when it is a regular file at its start (redirected with
/// `< file`), so that [`route`] can look for an index; `None` for pipes and terminals.
pub fn seekable_stdin() -> Option<File> {
    use std::os::fd::AsFd;
    let fd = io::stdin().as_fd().try_clone_to_owned().ok()?;
    let mut f = File::from(fd);
    let meta = f.metadata().ok()?;
    (meta.is_file() && f.stream_position().ok()? == 0).then_some(f)
}

#[cfg(test)]
mod tests {
    use super::*;
    use uadk_zip::{Backend, Config};

    fn session(format: Format) -> Session {
        Session::new(Config {
            format,
            backend: Backend::Software,
            max_output: u64::MAX,
            ..Config::default()
        })
        .unwrap()
    }

    fn run(format: Format, input: &[u8]) -> Result<(Vec<u8>, Inflated)> {
        let mut out = Vec::new();
        let r = inflate(
            &session(format),
            Route::sequential("test"),
            &mut &input[..],
            &mut out,
            &mut |_| {},
        )?;
        Ok((out, r))
    }

    fn session_on(format: Format, threads: usize) -> Result<Session> {
        Ok(Session::new(Config {
            format,
            threads,
            backend: Backend::Software,
            max_output: u64::MAX,
            ..Config::default()
        })?)
    }

    fn data(n: usize) -> Vec<u8> {
        (0..n).map(|i| (i % 251) as u8 ^ (i >> 11) as u8).collect()
    }

    /// `data` through the windowed compressor in 64 KiB windows (indexed from two on).
    fn windowed(format: Format, data: &[u8]) -> Vec<u8> {
        let cfg = Config {
            format,
            backend: Backend::Software,
            ..Config::default()
        };
        let plan = crate::windowed::Plan {
            threads: 2,
            window: 64 << 10,
            in_flight: 3,
        };
        let mut out = Vec::new();
        crate::windowed::compress(&cfg, plan, &mut &data[..], &mut out, &mut |_| {}).unwrap();
        out
    }

    /// `z` with its index (at the end) rewritten by `f`.
    fn reindex(format: Format, z: &[u8], f: impl FnOnce(&mut uadk_zip::index::Index)) -> Vec<u8> {
        let loc = uadk_zip::index::locate(format, z).expect("indexed");
        let carrier_at = loc.data_start + loc.index.total_compressed() as usize;
        let mut idx = loc.index.clone();
        f(&mut idx);
        let mut out = z[..carrier_at].to_vec();
        out.extend(uadk_zip::index::stream_tail(&idx));
        out.extend_from_slice(&z[loc.body_end..]);
        out
    }

    fn seekable(format: Format, z: &[u8], threads: usize) -> Result<(Vec<u8>, Inflated)> {
        let mut c = io::Cursor::new(z);
        let r = route(format, &mut c, threads)?;
        assert_eq!(c.position(), 0, "route leaves the input at its start");
        let mut out = Vec::new();
        let i = inflate_seekable(
            &|t| session_on(format, t),
            r,
            &mut c,
            &mut StreamOut::new(&mut out),
            &mut |_| {},
        )?;
        Ok((out, i))
    }

    #[test]
    fn an_index_over_the_whole_input_decodes_in_parallel() {
        let d = data(300_000);
        for format in [Format::Gzip, Format::Zlib, Format::Deflate] {
            let z = windowed(format, &d);
            let r = route(format, &mut io::Cursor::new(&z), 8).unwrap();
            assert_eq!(r.index.as_ref().map(|l| l.index.entries.len()), Some(5));
            assert_eq!(r.threads, 5, "no more threads than pieces");
            assert_eq!(r.in_buf, IN_BUF, "small pieces: the ordinary input buffer");
            let (out, i) = seekable(format, &z, 8).unwrap();
            assert!(out == d, "{format:?}");
            assert_eq!(i.decode, "parallel (indexed, 5 pieces, 5 threads)");
            let (out, i) = seekable(format, &z, 1).unwrap();
            assert!(out == d);
            assert_eq!(i.decode, "sequential (one thread)");
        }
        // A stream of one window has no index.
        let z = windowed(Format::Gzip, &d[..1000]);
        let (out, i) = seekable(Format::Gzip, &z, 2).unwrap();
        assert_eq!(
            (out.as_slice(), i.decode.as_str()),
            (&d[..1000], "sequential (no block index)")
        );
    }

    #[test]
    fn an_index_followed_by_more_data_is_not_used() {
        // The library's parallel compressor puts its index first (gzip FEXTRA, a leading
        // carrier), so it is found whatever follows.
        let d = data(3 << 20);
        for format in [Format::Gzip, Format::Zlib] {
            let z = session_on(format, 2).unwrap().compress(&d).unwrap();
            assert!(route(format, &mut io::Cursor::new(&z), 2)
                .unwrap()
                .index
                .is_some());
            let more = [&z[..], &[0u8; 3]].concat();
            let r = route(format, &mut io::Cursor::new(&more), 2).unwrap();
            assert!(r.index.is_none());
            assert!(r.why.contains("3 more byte(s) follow"), "{}", r.why);
            let (out, i) = seekable(format, &more, 2).unwrap();
            assert!(out == d);
            assert_eq!(i.trailing, Trailing::Zeros(3));
            assert!(
                i.decode.starts_with("sequential (block index not used"),
                "{}",
                i.decode
            );
        }
        let z = session_on(Format::Gzip, 2).unwrap().compress(&d).unwrap();
        let two = [&z[..], &z[..]].concat();
        let (out, _) = seekable(Format::Gzip, &two, 2).unwrap();
        assert!(out.len() == 2 * d.len() && out[..d.len()] == d[..] && out[d.len()..] == d[..]);
    }

    #[test]
    fn pieces_too_large_for_the_budget_lower_the_threads_or_the_index_is_not_used() {
        let d = data(300_000);
        let z = windowed(Format::Gzip, &d);
        // Claimed sizes (the index lies, but only the budget is looked at here).
        let big = |u: u64| {
            reindex(Format::Gzip, &z, |idx| {
                for e in &mut idx.entries {
                    e.uncompressed = u;
                }
            })
        };
        let r = route(Format::Gzip, &mut io::Cursor::new(big(30 << 20)), 8).unwrap();
        assert_eq!(r.threads, 2, "4 pieces of 30 MiB fit 128 MiB: 2 threads");
        let r = route(Format::Gzip, &mut io::Cursor::new(big(100 << 20)), 8).unwrap();
        assert!(r.index.is_none());
        assert!(r.why.contains("too large"), "{}", r.why);
        // Decoding either gives the data (the lie is caught, the input decoded again).
        let (out, i) = seekable(Format::Gzip, &big(30 << 20), 8).unwrap();
        assert!(out == d);
        assert!(
            i.decode.contains("decoded again without the block index"),
            "{}",
            i.decode
        );
    }

    #[test]
    fn a_lying_index_never_decides_the_output() {
        let d = data(300_000);
        for format in [Format::Gzip, Format::Zlib, Format::Deflate] {
            let z = windowed(format, &d);
            type Lie = fn(&mut uadk_zip::index::Index);
            let lies: [(&str, Lie); 3] = [
                ("check", |idx| idx.entries[2].check ^= 1),
                ("boundary", |idx| {
                    idx.entries[1].compressed += 1;
                    idx.entries[2].compressed -= 1;
                }),
                ("lengths", |idx| {
                    idx.entries[0].uncompressed += 7;
                    idx.entries[4].uncompressed -= 7;
                }),
            ];
            for (what, lie) in lies {
                let bad = reindex(format, &z, lie);
                assert!(route(format, &mut io::Cursor::new(&bad), 2)
                    .unwrap()
                    .index
                    .is_some());
                let (out, i) = seekable(format, &bad, 2).unwrap();
                assert!(out == d, "{format:?} {what}");
                assert!(
                    i.decode
                        .starts_with("sequential (decoding with the stream's block index failed"),
                    "{}",
                    i.decode
                );
            }
            // Damaged data under a true index: an error either way.
            let loc = uadk_zip::index::locate(format, &z).unwrap();
            let mut bad = z.clone();
            bad[loc.data_start + 100] ^= 0x55;
            assert!(seekable(format, &bad, 2).is_err(), "{format:?}");
        }
    }

    #[test]
    fn a_stream_output_restarts_only_before_its_first_byte() {
        let mut v = Vec::new();
        let mut s = StreamOut::new(&mut v);
        assert!(s.restart().unwrap());
        s.write_all(b"x").unwrap();
        assert!(!s.restart().unwrap());
        assert!(io::sink().restart().unwrap());
    }

    #[test]
    fn members_then_garbage_or_zeros() {
        let a = uadk_zip::compress(b"first ", Format::Gzip).unwrap();
        let b = uadk_zip::compress(b"second", Format::Gzip).unwrap();
        let two = [a.clone(), b].concat();
        let (out, r) = run(Format::Gzip, &two).unwrap();
        assert_eq!(out, b"first second");
        assert_eq!(r.trailing, Trailing::None);
        assert_eq!(r.bytes_in, two.len() as u64);

        let (out, r) = run(Format::Gzip, &[&two[..], b"garbage"].concat()).unwrap();
        assert_eq!(out, b"first second");
        assert_eq!(r.trailing, Trailing::Garbage(two.len() as u64));

        let (out, r) = run(Format::Gzip, &[&a[..], &[0u8; 1000]].concat()).unwrap();
        assert_eq!(out, b"first ");
        assert_eq!(r.trailing, Trailing::Zeros(1000));

        let (_, r) = run(Format::Gzip, &[&a[..], &[0u8, 0, b'x']].concat()).unwrap();
        assert_eq!(r.trailing, Trailing::Garbage(a.len() as u64));

        // A lone trailing 0x1f byte is garbage too (no room for the magic).
        let (_, r) = run(Format::Gzip, &[&a[..], &[0x1f]].concat()).unwrap();
        assert_eq!(r.trailing, Trailing::Garbage(a.len() as u64));
    }

    #[test]
    fn a_bad_or_cut_member_after_a_good_one_is_an_error() {
        let a = uadk_zip::compress(b"first ", Format::Gzip).unwrap();
        assert!(run(Format::Gzip, &[&a[..], b"\x1f\x8bjunkjunk"].concat()).is_err());
        assert!(run(Format::Gzip, &[&a[..], b"\x1f\x8b\x08\x00"].concat()).is_err());
        assert!(run(Format::Gzip, &a[..a.len() - 1]).is_err());
        assert!(run(Format::Gzip, b"").is_err());
    }

    #[test]
    fn zlib_and_deflate_trailing_bytes() {
        for format in [Format::Zlib, Format::Deflate] {
            let z = uadk_zip::compress(b"payload", format).unwrap();
            let (out, r) = run(format, &[&z[..], b"xy"].concat()).unwrap();
            assert_eq!(out, b"payload");
            assert!(matches!(r.trailing, Trailing::Garbage(_)), "{format:?}");
            let (_, r) = run(format, &[&z[..], &[0, 0]].concat()).unwrap();
            assert_eq!(r.trailing, Trailing::Zeros(2));
        }
    }

    #[test]
    fn reads_in_small_pieces_give_the_same_result() {
        struct Trickle<'a>(&'a [u8]);
        impl Read for Trickle<'_> {
            fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
                let n = buf.len().min(self.0.len()).min(3);
                buf[..n].copy_from_slice(&self.0[..n]);
                self.0 = &self.0[n..];
                Ok(n)
            }
        }
        let a = uadk_zip::compress(&[7u8; 10_000], Format::Gzip).unwrap();
        let all = [&a[..], &a[..], b"\0\0"].concat();
        let mut out = Vec::new();
        let r = inflate(
            &session(Format::Gzip),
            Route::sequential("test"),
            &mut Trickle(&all),
            &mut out,
            &mut |_| {},
        )
        .unwrap();
        assert_eq!(out.len(), 20_000);
        assert_eq!(r.trailing, Trailing::Zeros(2));
    }
}
