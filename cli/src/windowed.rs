//! Parallel compression of a stream of any length in bounded memory.
//!
//! uadk-zip compresses a whole buffer in parallel blocks ([`uadk_zip::parallel`]) and
//! streams on one thread ([`uadk_zip::Compressor`]); neither alone gives a file of any size
//! both speed and a memory ceiling. This module cuts the input into windows (1–8 MiB, see
//! [`Plan`]), compresses up to `threads` windows at once as raw deflate with the session's
//! engine choice (device or software), and writes them in order as ONE standard stream:
//!
//! * every window ends on a byte boundary without ending the stream: at levels 0–3 the
//!   streaming engine ends it with a sync flush; at 4–9 the window is compressed whole
//!   (libdeflate, the fastest choice there) and its final block is made non-final with
//!   [`uadk_zip::software::walk::make_nonfinal`] (if that ever refuses, the window is redone
//!   by the streaming engine with a sync flush);
//! * a stream of two or more windows ends with a block index ([`uadk_zip::index`], the
//!   "streams" layout: one entry per window, then [`uadk_zip::index::stream_tail`]: a
//!   carrier of empty stored blocks and a final empty stored block), so that
//!   `uadk decompress` can decode its windows on every thread again; every other reader
//!   (gzip, zlib, Python, libdeflate) skips those blocks and sees a plain stream. A stream of
//!   one window (or none) ends with an empty final block (`03 00`), as before;
//! * the gzip or zlib header comes first and the trailer last, its CRC-32 (crc32fast) or
//!   Adler-32 (adler2, joined with [`uadk_zip::format::adler32_combine`]) combined from the
//!   per-window checksums computed on the worker threads (the same checksums go into the
//!   index: CRC-32 for gzip and raw deflate, Adler-32 for zlib,
//!   [`uadk_zip::index::CheckKind::for_format`]).
//!
//! Windows start without the previous window's history (like pigz's independent blocks),
//! which costs well under 0.1% of ratio at these window sizes; that is also what lets each
//! index entry be decoded on its own (`needs_window: false`). Memory: at most
//! [`Plan::in_flight`] windows of input plus their outputs, whatever the input size, and an
//! index of at most [`MAX_ENTRIES`] entries (neighbours are merged beyond that).

use anyhow::{anyhow, Context, Result};
use std::collections::VecDeque;
use std::io::{self, Read, Write};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::sync::Mutex;
use uadk_zip::index::{CheckKind, Entry, Index};
use uadk_zip::{Config, Flush, Format, Report, Session};

/// Input bytes held in flight at most (windows waiting, being compressed or written).
pub const BUDGET: usize = 64 << 20;
/// Largest window.
pub const MAX_WINDOW: usize = 8 << 20;
/// Smallest window.
pub const MIN_WINDOW: usize = 1 << 20;
/// Most index entries held while compressing: at this count neighbouring entries are
/// merged in pairs (a merged entry is still independent, just larger), so the index stays
/// small for any input size. 8192 entries of 8 MiB windows cover 64 GiB before the first
/// merge; the record written is trimmed further to [`uadk_zip::index::MAX_RECORD`].
pub const MAX_ENTRIES: usize = 8192;

/// How a stream is cut and how many windows are in flight.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Plan {
    /// Worker threads.
    pub threads: usize,
    /// Window size in bytes.
    pub window: usize,
    /// Windows read ahead of the writer at most (bounds memory).
    pub in_flight: usize,
}

impl Plan {
    /// The plan for `threads` workers: windows of `BUDGET / (threads + 1)` clamped to
    /// 1–8 MiB, `threads + 1` of them in flight as far as [`BUDGET`] allows (so at most 64
    /// workers are useful).
    ///
    /// ```ignore
    /// assert_eq!(Plan::new(2), Plan { threads: 2, window: 8 << 20, in_flight: 3 });
    /// ```
    pub fn new(threads: usize) -> Plan {
        let threads = threads.max(1);
        let window = (BUDGET / (threads + 1)).clamp(MIN_WINDOW, MAX_WINDOW);
        let in_flight = (threads + 1).min((BUDGET / window).max(2));
        Plan {
            // More workers than windows in flight would only wait.
            threads: threads.min(in_flight),
            window,
            in_flight,
        }
    }
}

/// What [`compress`] did.
#[derive(Debug, Clone)]
pub struct Summary {
    /// Input bytes.
    pub bytes_in: u64,
    /// Output bytes (header and trailer included).
    pub bytes_out: u64,
    /// The engine that compressed the first window, and why.
    pub engine: String,
    /// Windows redone in software after a device failure.
    pub fell_back: u64,
    /// Windows compressed.
    pub windows: u64,
    /// Entries of the block index written at the end of the stream (0: none, the stream
    /// has fewer than two windows).
    pub index_entries: usize,
}

impl Summary {
    /// What the stream carries, for `-v`: `indexed (N pieces)` or why not.
    ///
    /// ```ignore
    /// // 3 windows of a 20 MB file: "indexed (3 pieces)"
    /// ```
    pub fn layout(&self) -> String {
        if self.index_entries > 0 {
            format!("indexed ({} pieces)", self.index_entries)
        } else if self.windows == 0 {
            "no block index (empty input)".into()
        } else {
            "no block index (one window)".into()
        }
    }
}

/// One compressed window: raw deflate ending on a byte boundary, not final.
struct Done {
    out: Vec<u8>,
    input: Vec<u8>,
    check: u32,
    report: Report,
}

struct Job {
    input: Vec<u8>,
    reply: SyncSender<Result<Done>>,
}

/// The zlib header for `level` (RFC 1950: deflate, 32 KiB window, FLEVEL as zlib sets it).
fn zlib_header(level: u32) -> [u8; 2] {
    let flevel: u16 = match level {
        0 | 1 => 0,
        2..=5 => 1,
        6 => 2,
        _ => 3,
    };
    let cmf: u16 = 0x78;
    let mut flg = flevel << 6;
    flg += 31 - ((cmf << 8) + flg) % 31;
    [cmf as u8, flg as u8]
}

/// Compresses one window into a non-final run of deflate blocks.
fn compress_window(session: &Session, level: u32, format: Format, input: Vec<u8>) -> Result<Done> {
    // The window's checksum for the trailer and the index: CRC-32 (gzip, and raw deflate,
    // whose only check is the index's) or Adler-32 (zlib).
    let check = match CheckKind::for_format(format) {
        CheckKind::Crc32 => crc32fast::hash(&input),
        CheckKind::Adler32 => adler2::adler32_slice(&input),
    };
    let stream = |input: &[u8]| -> Result<(Vec<u8>, Report)> {
        let mut c = session.compressor()?;
        let mut out = Vec::new();
        out.try_reserve(input.len() / 2 + 1024).map_err(oom)?;
        c.compress_vec(input, &mut out, Flush::Sync)?;
        Ok((out, c.report().clone()))
    };
    let (out, report) = if level <= 3 {
        stream(&input)?
    } else {
        let (mut out, report) = session.compress_report(&input)?;
        match uadk_zip::software::walk::make_nonfinal(&mut out, 0) {
            Ok(()) => (out, report),
            Err(e) => {
                log::warn!("window not joinable ({e}); redone with the streaming engine");
                stream(&input)?
            }
        }
    };
    Ok(Done {
        out,
        input,
        check,
        report,
    })
}

/// Halves `entries` by joining neighbours (a pair covers both windows; its check is the
/// two combined). Every entry stays independent, so the index stays valid.
fn merge_pairs(kind: CheckKind, entries: &mut Vec<Entry>) {
    let merged: Vec<Entry> = entries
        .chunks(2)
        .map(|p| match p {
            [a, b] => Entry {
                compressed: a.compressed + b.compressed,
                uncompressed: a.uncompressed + b.uncompressed,
                check: kind.combine(a.check, b.check, b.uncompressed),
                needs_window: false,
            },
            [a] => *a,
            _ => unreachable!("chunks(2) yields one or two entries"),
        })
        .collect();
    *entries = merged;
}

fn oom(e: std::collections::TryReserveError) -> anyhow::Error {
    anyhow!("out of memory ({e}); try fewer --threads or free some memory")
}

/// Reads until `buf` holds `want` bytes or the input ends; returns the bytes read.
/// `progress` is told of every read.
fn read_window(
    r: &mut dyn Read,
    buf: &mut Vec<u8>,
    want: usize,
    progress: &mut dyn FnMut(u64),
) -> io::Result<usize> {
    buf.clear();
    buf.resize(want, 0);
    let mut n = 0;
    while n < want {
        match r.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => {
                n += k;
                progress(k as u64);
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => {
                buf.clear();
                return Err(e);
            }
        }
    }
    buf.truncate(n);
    Ok(n)
}

/// Compresses everything `input` yields into `out` as one `cfg.format` stream (header,
/// windows, trailer), on `plan.threads` threads. `progress` is told of every input byte
/// read.
///
/// `cfg` gives the format, level, backend and gzip header; its `threads` and
/// `parallel_threshold` are not used (each window runs on one thread).
///
/// # Errors
/// Reading, compressing (device without fallback, library failure) or writing failed;
/// or memory for the windows could not be allocated.
pub fn compress(
    cfg: &Config,
    plan: Plan,
    input: &mut dyn Read,
    out: &mut dyn Write,
    progress: &mut dyn FnMut(u64),
) -> Result<Summary> {
    let session = Session::new(Config {
        format: Format::Deflate,
        threads: 1,
        parallel_threshold: usize::MAX,
        ..cfg.clone()
    })?;
    let level = cfg.level;
    let format = cfg.format;
    let header = match format {
        Format::Gzip => cfg.gzip_header.encode(level)?,
        Format::Zlib => zlib_header(level).to_vec(),
        Format::Deflate => Vec::new(),
    };
    out.write_all(&header)?;
    let mut summary = Summary {
        bytes_in: 0,
        bytes_out: header.len() as u64,
        engine: String::new(),
        fell_back: 0,
        windows: 0,
        index_entries: 0,
    };
    let kind = CheckKind::for_format(format);
    let mut entries: Vec<Entry> = Vec::new();
    let mut crc = crc32fast::Hasher::new();
    let mut adler = 1u32;

    let (job_tx, job_rx) = sync_channel::<Job>(plan.in_flight);
    let job_rx = Mutex::new(job_rx);
    let worker = || loop {
        let job = match job_rx.lock() {
            Ok(rx) => rx.recv(),
            Err(_) => return,
        };
        let Ok(job) = job else { return };
        let r = compress_window(&session, level, format, job.input);
        let _ = job.reply.send(r);
    };
    let result = std::thread::scope(|s| -> Result<()> {
        for i in 0..plan.threads {
            std::thread::Builder::new()
                .name(format!("uadk-window-{i}"))
                .spawn_scoped(s, worker)
                .context("cannot start a compression thread")?;
        }
        let mut pending: VecDeque<Receiver<Result<Done>>> = VecDeque::new();
        let mut spare: Vec<Vec<u8>> = Vec::new();
        let mut eof = false;
        let r = (|| -> Result<()> {
            loop {
                while !eof && pending.len() < plan.in_flight {
                    let mut buf = spare.pop().unwrap_or_default();
                    if buf.capacity() < plan.window {
                        buf.try_reserve_exact(plan.window - buf.len()).map_err(oom)?;
                    }
                    let n = read_window(input, &mut buf, plan.window, progress)
                        .context("cannot read the input")?;
                    if n < plan.window {
                        eof = true;
                    }
                    if n == 0 {
                        break;
                    }
                    summary.bytes_in += n as u64;
                    let (tx, rx) = sync_channel(1);
                    job_tx
                        .send(Job {
                            input: buf,
                            reply: tx,
                        })
                        .map_err(|_| anyhow!("the compression threads stopped"))?;
                    pending.push_back(rx);
                }
                let Some(rx) = pending.pop_front() else {
                    return Ok(());
                };
                let done = rx
                    .recv()
                    .map_err(|_| anyhow!("a compression thread stopped without a result"))??;
                let len = done.input.len() as u64;
                match format {
                    Format::Gzip => crc.combine(&crc32fast::Hasher::new_with_initial_len(done.check, len)),
                    Format::Zlib => adler = uadk_zip::format::adler32_combine(adler, done.check, len),
                    Format::Deflate => {}
                }
                if summary.windows == 0 {
                    summary.engine = format!("{} ({})", done.report.engine, done.report.reason);
                }
                summary.windows += 1;
                summary.fell_back += u64::from(done.report.fell_back);
                entries.push(Entry {
                    compressed: done.out.len() as u64,
                    uncompressed: len,
                    check: done.check,
                    needs_window: false,
                });
                if entries.len() >= MAX_ENTRIES {
                    merge_pairs(kind, &mut entries);
                }
                out.write_all(&done.out)?;
                summary.bytes_out += done.out.len() as u64;
                spare.push(done.input);
            }
        })();
        // Stop the workers (they finish the window in hand) whether or not all went well.
        drop(job_tx);
        r
    });
    result?;
    // End of stream: with two or more windows, the block index and a final empty stored
    // block; else an empty final block (fixed Huffman, end-of-block code only).
    let mut tail = if summary.windows >= 2 {
        let index = Index {
            kind,
            last_final: false,
            entries,
        };
        summary.index_entries = index.entries.len();
        uadk_zip::index::stream_tail(&index)
    } else {
        vec![0x03, 0x00]
    };
    match format {
        Format::Gzip => {
            tail.extend_from_slice(&crc.finalize().to_le_bytes());
            tail.extend_from_slice(&(summary.bytes_in as u32).to_le_bytes());
        }
        Format::Zlib => tail.extend_from_slice(&adler.to_be_bytes()),
        Format::Deflate => {}
    }
    out.write_all(&tail)?;
    summary.bytes_out += tail.len() as u64;
    if summary.engine.is_empty() {
        summary.engine = format!(
            "{} (empty input)",
            session.backend_reason(uadk_zip::Direction::Compress)
        );
    }
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use super::*;
    use uadk_zip::{Backend, GzipHeader};

    fn data(n: usize) -> Vec<u8> {
        let mut x = 0x9E37_79B9_7F4A_7C15u64;
        (0..n)
            .map(|i| {
                if (i / 5000) % 4 == 0 {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    x as u8
                } else {
                    b"windows of text, joined into one stream\n"[i % 40]
                }
            })
            .collect()
    }

    fn run(format: Format, level: u32, threads: usize, window: usize, input: &[u8]) -> (Vec<u8>, Summary) {
        let cfg = Config {
            format,
            level,
            backend: Backend::Software,
            gzip_header: GzipHeader {
                name: Some(b"n".to_vec()),
                ..GzipHeader::default()
            },
            ..Config::default()
        };
        let plan = Plan {
            threads,
            window,
            in_flight: threads + 1,
        };
        let mut out = Vec::new();
        let mut seen = 0;
        let s = compress(&cfg, plan, &mut &input[..], &mut out, &mut |n| seen += n).unwrap();
        assert_eq!(seen, input.len() as u64);
        (out, s)
    }

    #[test]
    fn every_format_and_level_round_trips_through_zlib() {
        let input = data(300_000);
        for format in [Format::Gzip, Format::Zlib, Format::Deflate] {
            for level in [0, 1, 3, 4, 6, 9] {
                let (z, s) = run(format, level, 2, 64 << 10, &input);
                assert_eq!(s.bytes_out, z.len() as u64);
                assert_eq!(s.windows, 5);
                let back = uadk_zip::software::Library::Zlib
                    .decompress(format, &z, 1 << 30)
                    .unwrap();
                assert!(back == input, "{format:?} level {level}");
            }
        }
    }

    #[test]
    fn two_or_more_windows_carry_an_index_one_does_not() {
        let input = data(300_000);
        for format in [Format::Gzip, Format::Zlib, Format::Deflate] {
            for level in [1, 6] {
                let (z, s) = run(format, level, 2, 64 << 10, &input);
                let loc = uadk_zip::index::locate(format, &z).expect("indexed");
                let idx = &loc.index;
                assert_eq!(s.index_entries, 5);
                assert_eq!(idx.entries.len(), 5, "{format:?} {level}");
                assert_eq!(idx.kind, CheckKind::for_format(format));
                assert!(!idx.last_final);
                assert_eq!(idx.total_uncompressed(), input.len() as u64);
                assert_eq!(idx.combined_check(), idx.kind.of(&input));
                let mut at = 0usize;
                for (e, w) in idx.entries.iter().zip(input.chunks(64 << 10)) {
                    assert!(!e.needs_window);
                    assert_eq!(e.uncompressed, w.len() as u64);
                    assert_eq!(e.check, idx.kind.of(w));
                    at += e.compressed as usize;
                }
                assert!(at + loc.data_start < loc.body_end);
                // Every piece decodes on its own to its window.
                let mut c = loc.data_start;
                for (e, w) in idx.entries.iter().zip(input.chunks(64 << 10)) {
                    let mut piece = z[c..c + e.compressed as usize].to_vec();
                    piece.extend_from_slice(&[0x03, 0x00]);
                    let back = uadk_zip::software::Library::Zlib
                        .decompress(Format::Deflate, &piece, 1 << 30)
                        .unwrap();
                    assert!(back == w, "{format:?} {level}: piece at {c}");
                    c += e.compressed as usize;
                }
            }
            let (z, s) = run(format, 6, 2, 1 << 20, &input);
            assert_eq!((s.windows, s.index_entries), (1, 0));
            assert!(uadk_zip::index::locate(format, &z).is_none());
            assert!(z.ends_with(&[0x03, 0x00]) || format != Format::Deflate);
        }
    }

    #[test]
    fn merged_entries_keep_totals_and_checks() {
        let k = CheckKind::Adler32;
        let parts: Vec<&[u8]> = vec![b"ab", b"cde", b"", b"fghij", b"k"];
        let mut e: Vec<Entry> = parts
            .iter()
            .map(|p| Entry {
                compressed: 1 + p.len() as u64,
                uncompressed: p.len() as u64,
                check: k.of(p),
                needs_window: false,
            })
            .collect();
        merge_pairs(k, &mut e);
        assert_eq!(e.len(), 3);
        assert_eq!(e[0].check, k.of(b"abcde"));
        assert_eq!(e[1].check, k.of(b"fghij"));
        assert_eq!(e[2].check, k.of(b"k"));
        assert_eq!(e.iter().map(|x| x.compressed).sum::<u64>(), 16);
    }

    #[test]
    fn empty_and_exact_multiple_inputs_are_complete_streams() {
        for len in [0usize, 65_536, 131_072] {
            let input = data(len);
            let (z, s) = run(Format::Gzip, 6, 3, 65_536, &input);
            assert_eq!(s.bytes_in, len as u64);
            let back = uadk_zip::software::Library::Zlib
                .decompress(Format::Gzip, &z, 1 << 30)
                .unwrap();
            assert_eq!(back, input);
        }
    }

    #[test]
    fn one_thread_equals_many_threads() {
        let input = data(200_000);
        let (a, _) = run(Format::Gzip, 6, 1, 50_000, &input);
        let (b, _) = run(Format::Gzip, 6, 4, 50_000, &input);
        assert_eq!(a, b, "output does not depend on the thread count");
    }

    #[test]
    fn plans_stay_within_the_budget() {
        assert_eq!(
            Plan::new(2),
            Plan {
                threads: 2,
                window: MAX_WINDOW,
                in_flight: 3
            }
        );
        for t in [1, 2, 7, 64, 1000] {
            let p = Plan::new(t);
            assert!(p.window >= MIN_WINDOW && p.window <= MAX_WINDOW);
            assert!(p.in_flight * p.window <= BUDGET.max(2 * MIN_WINDOW), "{p:?}");
            assert!(p.in_flight >= 2);
        }
    }

    #[test]
    fn zlib_headers_are_valid() {
        for level in 0..=9 {
            let h = zlib_header(level);
            assert_eq!((u16::from(h[0]) << 8 | u16::from(h[1])) % 31, 0);
            assert_eq!(h[0], 0x78);
        }
        assert_eq!(zlib_header(6), [0x78, 0x9c]);
        assert_eq!(zlib_header(1), [0x78, 0x01]);
        assert_eq!(zlib_header(9), [0x78, 0xda]);
    }
}
