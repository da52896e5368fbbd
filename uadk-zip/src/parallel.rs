//! Parallel one-shot compression: the input is cut into blocks compressed concurrently, each
//! ending on a flush boundary (the last one final), then joined into ONE standard stream with
//! the per-block checksums combined. Decompression of the result is ordinary.

use crate::error::{Error, Result};
use crate::format::{checksum, combine, header, trailer};
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

type Piece = Mutex<Option<Result<(Vec<u8>, u32)>>>;

/// Compresses `input` with `lib` in blocks on `threads` threads into one stream of
/// `cfg.format`.
pub(crate) fn compress(lib: Library, cfg: &Config, input: &[u8], threads: usize) -> Result<Vec<u8>> {
    let bs = block_size(input.len(), threads);
    let blocks: Vec<&[u8]> = input.chunks(bs).collect();
    let n = blocks.len().max(1);
    let pieces: Vec<Piece> = (0..n).map(|_| Mutex::new(None)).collect();
    let next = AtomicUsize::new(0);
    let work = |_: &crossbeam_utils::thread::Scope<'_>| loop {
        let i = next.fetch_add(1, Ordering::Relaxed);
        if i >= n {
            break;
        }
        let block = blocks.get(i).copied().unwrap_or(&[]);
        let start = i * bs;
        let dict = &input[start.saturating_sub(DICT)..start];
        let mut out = Vec::new();
        let r = software::compress_piece(lib, cfg.level, dict, block, i + 1 == n, &mut out)
            .map(|()| (out, checksum(cfg.format, block)));
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
    let mut out = header(cfg.format, cfg.level, &cfg.gzip_header)?;
    let total: usize = pieces
        .iter()
        .map(|p| {
            p.lock()
                .as_ref()
                .map_or(0, |r| r.as_ref().map_or(0, |(v, _)| v.len()))
        })
        .sum();
    out.reserve(total + 8);
    let mut check = checksum(cfg.format, &[]);
    for (i, p) in pieces.into_iter().enumerate() {
        let (bytes, c) = p.into_inner().ok_or_else(|| Error::Library {
            library: "parallel",
            detail: format!("block {i} was not compressed"),
        })??;
        out.extend_from_slice(&bytes);
        let len = blocks.get(i).map_or(0, |b| b.len()) as u64;
        check = combine(cfg.format, check, c, len);
    }
    out.extend_from_slice(&trailer(cfg.format, check, input.len() as u64));
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
            for (lib, level) in [(Library::Isal, 1), (Library::ZlibRs, 6)] {
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

    #[test]
    fn empty_and_tiny_inputs_still_form_a_stream() {
        for input in [&b""[..], b"x"] {
            let cfg = Config::default();
            let z = compress(
                Library::Isal,
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
