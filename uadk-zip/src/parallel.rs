//! Parallel one-shot compression: the input is cut into blocks compressed concurrently, each
//! ending on a flush boundary (the last one final), then joined into ONE standard stream with
//! the per-block checksums combined. Any inflater decodes the result as it is; with
//! [`Config::index`] (the default) the stream also carries a block index
//! ([`crate::index`]: where each block starts, its length and checksum), which lets
//! `parallel_decompress.rs` decode the blocks in parallel again.
//!
//! ISA-L (levels 1..=3) and zlib-rs end a block with a sync flush. libdeflate (levels 4..=9)
//! cannot flush: each of its blocks is a complete stream whose final block is then made
//! non-final, followed by an empty stored block ([`crate::software::walk::make_nonfinal`]);
//! finding that final block costs a walk over the block's compressed data (about a tenth of
//! its compression time), so libdeflate blocks are few and the unwalked last one is larger
//! ([`libdeflate_blocks`]).

use crate::error::{Error, Result};
use crate::format::{gzip_header_with_extra, header, trailer, Format};
use crate::index::{self, CheckKind, Entry, Index};
use crate::session::Config;
use crate::software::{self, Library};
use parking_lot::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Smallest block: below this the per-block overhead and lost history start to show.
pub const MIN_BLOCK: usize = 1 << 20;
/// Largest block (keeps the work balanced and within ISA-L's 32-bit counters).
pub const MAX_BLOCK: usize = 64 << 20;
/// History carried into each block by libraries that accept a dictionary.
const DICT: usize = 32 * 1024;

/// Block size for `len` bytes on `threads` threads: about four blocks per thread.
///
/// ```
/// assert_eq!(uadk_zip::parallel::block_size(64 << 20, 2), 8 << 20);
/// assert_eq!(uadk_zip::parallel::block_size(3 << 20, 2), 1 << 20);
/// ```
pub fn block_size(len: usize, threads: usize) -> usize {
    (len / (threads.max(1) * 4)).clamp(MIN_BLOCK, MAX_BLOCK)
}

/// Extra CPU time of a libdeflate block that is not the last, as a share of its compression:
/// the walk that finds its final block (measured on Silesia at libdeflate level 5: 10-12%).
const WALK_SHARE: f64 = 0.11;

/// Block lengths for libdeflate blocks on `threads` threads. Every block but the last is
/// walked after compression, so blocks are few (one per thread, more only above
/// [`MAX_BLOCK`]) and the last one is larger by `WALK_SHARE`, so that all threads finish
/// together while the least input is walked.
///
/// ```
/// let b = uadk_zip::parallel::libdeflate_blocks(64 << 20, 2);
/// assert_eq!((b.len(), b.iter().sum::<usize>()), (2, 64 << 20));
/// assert!(b[1] > b[0]);
/// assert_eq!(uadk_zip::parallel::libdeflate_blocks(1000, 4), vec![1000]);
/// ```
pub fn libdeflate_blocks(len: usize, threads: usize) -> Vec<usize> {
    let n = len
        .div_ceil(MAX_BLOCK)
        .max(threads.max(1) * LIBDEFLATE_BLOCKS_PER_THREAD);
    // n - 1 walked blocks of `s` and a last one of `s * (1 + WALK_SHARE)`.
    let s = ((len as f64 / (n as f64 + WALK_SHARE)) as usize).max(MIN_BLOCK);
    let mut v = Vec::new();
    let mut rest = len;
    while v.len() + 1 < n && rest > s + MIN_BLOCK {
        v.push(s);
        rest -= s;
    }
    v.push(rest);
    v
}

/// libdeflate blocks per thread: more balance the threads when other work shares the cores,
/// fewer walk less of the input (2 measured no better than 1 at load average 3-5 on 2 cores).
const LIBDEFLATE_BLOCKS_PER_THREAD: usize = 1;

type Piece = Mutex<Option<Result<(Vec<u8>, u32)>>>;

/// Compresses `input` with `lib` in blocks on `threads` threads into one stream of
/// `cfg.format`.
pub(crate) fn compress(lib: Library, cfg: &Config, input: &[u8], threads: usize) -> Result<Vec<u8>> {
    // The one-shot choice's level mapping applies to its library's blocks too.
    let level = if cfg.library.is_none() && lib == Library::Libdeflate {
        software::libdeflate_level(cfg.level)
    } else {
        cfg.level
    };
    let lens = if lib == Library::Libdeflate {
        libdeflate_blocks(input.len(), threads)
    } else {
        let bs = block_size(input.len(), threads);
        input.chunks(bs).map(<[u8]>::len).collect()
    };
    let mut blocks: Vec<&[u8]> = Vec::with_capacity(lens.len());
    let mut starts = Vec::with_capacity(lens.len());
    let mut rest = input;
    for &l in &lens {
        let (b, r) = rest.split_at(l.min(rest.len()));
        starts.push(input.len() - rest.len());
        blocks.push(b);
        rest = r;
    }
    let n = blocks.len().max(1);
    // Per-block checksums: the format's (CRC-32 also for raw deflate when indexed, where
    // the index is the only check a reader gets).
    let kind = CheckKind::for_format(cfg.format);
    let checked = cfg.format != Format::Deflate || cfg.index;
    let pieces: Vec<Piece> = (0..n).map(|_| Mutex::new(None)).collect();
    let next = AtomicUsize::new(0);
    let work = |_: &crossbeam_utils::thread::Scope<'_>| loop {
        let i = next.fetch_add(1, Ordering::Relaxed);
        if i >= n {
            break;
        }
        let block = blocks.get(i).copied().unwrap_or(&[]);
        let start = starts.get(i).copied().unwrap_or(0);
        let dict = &input[start.saturating_sub(DICT)..start];
        let mut out = Vec::new();
        let r = software::compress_piece(lib, level, dict, block, i + 1 == n, &mut out)
            .map(|()| (out, if checked { kind.of(block) } else { 0 }));
        *pieces[i].lock() = Some(r);
    };
    let threads = threads.min(n);
    crossbeam_utils::thread::scope(|s| {
        for _ in 1..threads {
            s.spawn(work);
        }
        work(s);
    })
    .map_err(|_| Error::Library {
        library: "parallel",
        detail: "a compression thread panicked".into(),
    })?;
    let mut parts = Vec::with_capacity(n);
    for (i, p) in pieces.into_iter().enumerate() {
        let (bytes, c) = p.into_inner().ok_or_else(|| Error::Library {
            library: "parallel",
            detail: format!("block {i} was not compressed"),
        })??;
        parts.push(Part {
            bytes,
            len: blocks.get(i).map_or(0, |b| b.len()) as u64,
            check: c,
            // Only zlib-rs blocks start from the previous block's last 32 KiB.
            needs_window: i > 0 && !matches!(lib, Library::Isal | Library::Libdeflate),
        });
    }
    join(cfg, kind, &parts, input.len() as u64)
}

/// One compressed block of a parallel stream.
pub(crate) struct Part {
    /// Its deflate data (non-final blocks, ending on a byte boundary, unless it is the last).
    pub bytes: Vec<u8>,
    /// Uncompressed length.
    pub len: u64,
    /// Checksum of its uncompressed bytes ([`CheckKind::for_format`] of the stream).
    pub check: u32,
    /// Decoding it needs the 32 KiB of output before it.
    pub needs_window: bool,
}

/// Joins `parts` into one stream of `cfg.format` with header and trailer, and with a block
/// index ([`crate::index`]) when `cfg.index` is set and there are two parts or more.
pub(crate) fn join(cfg: &Config, kind: CheckKind, parts: &[Part], total_len: u64) -> Result<Vec<u8>> {
    let mut check = kind.empty();
    for p in parts {
        check = kind.combine(check, p.check, p.len);
    }
    let (mut out, carrier) = if cfg.index && parts.len() > 1 {
        let mut idx = Index {
            kind,
            last_final: true,
            entries: parts
                .iter()
                .map(|p| Entry {
                    compressed: p.bytes.len() as u64,
                    uncompressed: p.len,
                    check: p.check,
                    needs_window: p.needs_window,
                })
                .collect(),
        };
        idx.fit();
        let record = idx.encode();
        match cfg.format {
            Format::Gzip => (
                gzip_header_with_extra(&cfg.gzip_header, cfg.level, &index::gzip_subfield(&record))?,
                Vec::new(),
            ),
            _ => (
                header(cfg.format, cfg.level, &cfg.gzip_header)?,
                index::carrier(&record),
            ),
        }
    } else {
        (header(cfg.format, cfg.level, &cfg.gzip_header)?, Vec::new())
    };
    let total: usize = parts.iter().map(|p| p.bytes.len()).sum();
    out.reserve(carrier.len() + total + 8);
    out.extend_from_slice(&carrier);
    for p in parts {
        out.extend_from_slice(&p.bytes);
    }
    out.extend_from_slice(&trailer(cfg.format, check, total_len));
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::Format;

    fn data(n: usize) -> Vec<u8> {
        let words = ["alpha ", "beta ", "gamma ", "delta ", "\n", "epsilon "];
        let mut v = Vec::with_capacity(n);
        let mut x = 12345u32;
        while v.len() < n {
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
            v.extend_from_slice(words[(x >> 16) as usize % words.len()].as_bytes());
        }
        v.truncate(n);
        v
    }

    #[test]
    fn parallel_output_is_one_standard_stream_for_each_format_and_library() {
        let input = data(5 * MIN_BLOCK + 12345);
        for format in [Format::Deflate, Format::Zlib, Format::Gzip] {
            for (lib, level) in [(Library::Isal, 1), (Library::ZlibRs, 6), (Library::Libdeflate, 6)] {
                if !lib.available() {
                    continue; // ISA-L not installed (or UADK_NO_ISAL=1)
                }
                let cfg = Config {
                    format,
                    level,
                    ..Config::default()
                };
                let z = compress(lib, &cfg, &input, 3).unwrap();
                let back = crate::software::zlib::decompress(format, &z, u64::MAX).unwrap();
                assert!(back == input, "{format} {lib}");
            }
        }
    }

    /// Levels 4..=9 split into libdeflate blocks (made non-final and joined) by default;
    /// system zlib reads the one stream, and the ratio stays that of one thread.
    #[test]
    fn levels_4_to_9_go_parallel_with_libdeflate_and_zlib_reads_the_stream() {
        let mut mixed = data(3 * MIN_BLOCK);
        let mut x = 1u32;
        mixed.extend((0..MIN_BLOCK).map(|_| {
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
            (x >> 16) as u8
        }));
        mixed.extend(vec![0u8; MIN_BLOCK + 777]);
        let (d, z, g) = (Format::Deflate, Format::Zlib, Format::Gzip);
        for (level, format) in [(4, d), (5, z), (6, g), (7, d), (8, z), (9, g)] {
            let cfg = |threads| crate::Config {
                format,
                level,
                threads,
                backend: crate::Backend::Software,
                parallel_threshold: MIN_BLOCK,
                ..crate::Config::default()
            };
            let par = crate::Session::new(cfg(2)).unwrap();
            let (z, r) = par.compress_report(&mixed).unwrap();
            assert_eq!(r.threads, 2);
            assert!(
                r.reason.contains("parallel blocks with libdeflate"),
                "{}",
                r.reason
            );
            let back = crate::software::zlib::decompress(format, &z, u64::MAX).unwrap();
            assert!(back == mixed, "level {level} {format}");
            let one = crate::Session::new(cfg(1)).unwrap().compress(&mixed).unwrap();
            let loss = z.len() as f64 / one.len() as f64 - 1.0;
            assert!(loss < 0.01, "level {level}: parallel output {loss:.4} larger");
        }
    }

    #[test]
    fn empty_and_tiny_inputs_still_form_a_stream() {
        for input in [&b""[..], b"x"] {
            let cfg = Config::default();
            let z = compress(
                crate::software::choose_parallel(1),
                &Config {
                    level: 1,
                    ..cfg.clone()
                },
                input,
                2,
            )
            .unwrap();
            assert_eq!(
                crate::software::zlib::decompress(Format::Gzip, &z, 100).unwrap(),
                input
            );
        }
    }
}
