//! The software path: one file per library and the per-operation choice between them.
//!
//! The choice ([`choose`]) was made by measurement (`uadk bench zip`, Silesia corpus, single
//! thread, against system zlib in the same run; figures in the crate README/report):
//!
//! | operation                   | level  | library    |
//! |-----------------------------|--------|------------|
//! | one-shot compress           | 0      | zlib-rs (stored blocks) |
//! | one-shot compress           | 1..=3  | ISA-L igzip |
//! | one-shot compress           | 4..=9  | libdeflate (levels 5..=8 one lower, see [`libdeflate_level`]) |
//! | streaming compress          | 1..=3  | ISA-L igzip |
//! | streaming compress          | 0, 4..=9 | zlib-rs  |
//! | parallel blocks             | 1..=3  | ISA-L (sync-flush blocks) |
//! | parallel blocks             | 4..=9  | libdeflate (final block made non-final, see [`walk`]) |
//! | parallel blocks (forced)    | 0, 4..=9 | zlib-rs (sync flush, 32 KiB dictionary) |
//! | one-shot decompress         | all    | libdeflate (gzip ISIZE / ratio guess) |
//! | streaming decompress        | all    | ISA-L inflate |

pub(crate) mod isal;
pub(crate) mod libdeflate;
pub mod walk;
pub(crate) mod zlib;
pub(crate) mod zlib_rs;

use crate::backend::{Direction, RawCompress, RawDecompress};
use crate::error::{Error, Result};
use crate::format::Format;
use crate::stream::Flush;

/// A software deflate implementation.
///
/// ```
/// use uadk_zip::{software::Library, Format};
/// let packed = Library::Zlib.compress(Format::Gzip, 6, b"peer").unwrap();
/// assert_eq!(Library::Isal.decompress(Format::Gzip, &packed, 1 << 20).unwrap(), b"peer");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Library {
    /// Intel ISA-L igzip (system `libisal`): levels 1..=3, streaming.
    Isal,
    /// libdeflate: whole buffers only, levels 0..=9 (and beyond).
    Libdeflate,
    /// zlib-rs (pure Rust zlib), through flate2's raw API: streaming, levels 0..=9.
    ZlibRs,
    /// The system zlib: the reference peer, whole buffers in this crate.
    Zlib,
}

/// Whether an operation sees the whole input at once or a stream of pieces.
///
/// ```
/// use uadk_zip::software::Mode;
/// assert_ne!(Mode::OneShot, Mode::Stream);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Whole input and output buffers.
    OneShot,
    /// Streaming with flush points.
    Stream,
}

impl Library {
    /// Every library, peers included.
    pub const ALL: [Library; 4] = [Library::Isal, Library::Libdeflate, Library::ZlibRs, Library::Zlib];

    /// Short name used in reports and bench rows.
    ///
    /// ```
    /// assert_eq!(uadk_zip::software::Library::Libdeflate.name(), "libdeflate");
    /// ```
    pub fn name(self) -> &'static str {
        match self {
            Library::Isal => "isa-l",
            Library::Libdeflate => "libdeflate",
            Library::ZlibRs => "zlib-rs",
            Library::Zlib => "zlib",
        }
    }

    /// Whether this library can do `direction` at `level` in `mode`.
    ///
    /// ```
    /// use uadk_zip::{software::{Library, Mode}, Direction};
    /// assert!(!Library::Isal.supports(Direction::Compress, 6, Mode::OneShot));
    /// assert!(!Library::Libdeflate.supports(Direction::Compress, 6, Mode::Stream));
    /// ```
    pub fn supports(self, direction: Direction, level: u32, mode: Mode) -> bool {
        match (self, direction, mode) {
            (_, Direction::Compress, _) if level > 9 => false,
            (Library::Isal, Direction::Compress, _) => (1..=3).contains(&level),
            (Library::Libdeflate | Library::Zlib, _, Mode::Stream) => false,
            _ => true,
        }
    }

    /// One-shot compression with this library forced (for peers and measurements).
    ///
    /// ```
    /// use uadk_zip::{software::Library, Format};
    /// let z = Library::Libdeflate.compress(Format::Zlib, 9, &[7u8; 1000]).unwrap();
    /// assert!(z.len() < 40);
    /// ```
    pub fn compress(self, format: Format, level: u32, input: &[u8]) -> Result<Vec<u8>> {
        if !self.supports(Direction::Compress, level, Mode::OneShot) {
            return Err(unsupported(self, Direction::Compress, level));
        }
        if self == Library::Zlib {
            return zlib::compress(format, level, input);
        }
        let cfg = crate::Config {
            format,
            level,
            backend: crate::Backend::Software,
            library: Some(self),
            threads: 1,
            ..crate::Config::default()
        };
        crate::Session::new(cfg)?.compress(input)
    }

    /// One-shot decompression with this library forced, refusing more than `limit` bytes.
    ///
    /// ```
    /// use uadk_zip::{software::Library, Format};
    /// let z = Library::Zlib.compress(Format::Deflate, 1, b"abc").unwrap();
    /// assert_eq!(Library::ZlibRs.decompress(Format::Deflate, &z, 100).unwrap(), b"abc");
    /// ```
    pub fn decompress(self, format: Format, input: &[u8], limit: u64) -> Result<Vec<u8>> {
        if self == Library::Zlib {
            return zlib::decompress(format, input, limit);
        }
        let cfg = crate::Config {
            format,
            backend: crate::Backend::Software,
            library: Some(self),
            max_output: limit,
            ..crate::Config::default()
        };
        crate::Session::new(cfg)?.decompress(input)
    }

    /// One-shot decompression into `out` with this library forced; returns the length.
    ///
    /// ```
    /// use uadk_zip::{software::Library, Format};
    /// let z = Library::Zlib.compress(Format::Gzip, 6, b"into").unwrap();
    /// let mut buf = [0u8; 16];
    /// assert_eq!(Library::Libdeflate.decompress_into(Format::Gzip, &z, &mut buf).unwrap(), 4);
    /// ```
    pub fn decompress_into(self, format: Format, input: &[u8], out: &mut [u8]) -> Result<usize> {
        if self == Library::Zlib {
            return zlib::decompress_slice(format, input, out);
        }
        let cfg = crate::Config {
            format,
            backend: crate::Backend::Software,
            library: Some(self),
            max_output: u64::MAX,
            ..crate::Config::default()
        };
        crate::Session::new(cfg)?.decompress_into(input, out)
    }
}

impl std::fmt::Display for Library {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

pub(crate) fn unsupported(lib: Library, dir: Direction, level: u32) -> Error {
    Error::InvalidArgument(format!(
        "{} cannot {dir} at level {level} in this mode; pick another library or level",
        lib.name()
    ))
}

/// The measured best library for an operation, and why.
///
/// ```
/// use uadk_zip::{software::{choose, Library, Mode}, Direction};
/// assert_eq!(choose(Direction::Compress, 1, Mode::OneShot).0, Library::Isal);
/// assert_eq!(choose(Direction::Compress, 6, Mode::OneShot).0, Library::Libdeflate);
/// ```
pub fn choose(direction: Direction, level: u32, mode: Mode) -> (Library, &'static str) {
    match (direction, mode, level) {
        (Direction::Compress, _, 0) => (Library::ZlibRs, "level 0 (stored) via zlib-rs"),
        (Direction::Compress, _, 1..=3) => (Library::Isal, "ISA-L is fastest at levels 1-3"),
        (Direction::Compress, Mode::OneShot, _) => (
            Library::Libdeflate,
            "libdeflate is fastest with the best ratio for whole buffers at levels 4-9",
        ),
        (Direction::Compress, Mode::Stream, _) => (
            Library::ZlibRs,
            "zlib-rs is the fastest streaming compressor at levels 4-9",
        ),
        (Direction::Decompress, Mode::OneShot, _) => (
            Library::Libdeflate,
            "libdeflate is the fastest whole-buffer inflater",
        ),
        (Direction::Decompress, Mode::Stream, _) => {
            (Library::Isal, "ISA-L is the fastest streaming inflater")
        }
    }
}

/// The libdeflate level used for a requested (zlib-scale) level when libdeflate is the
/// measured choice: libdeflate reaches zlib's ratio one level lower, so 5..=8 map one level
/// down (measured at 6: libdeflate 5 gives zlib-6's ratio −0.6% on Silesia at 3.6x its
/// speed, where libdeflate 6 is +1% and 2.8x); 4 and 9 keep their level.
///
/// ```
/// assert_eq!(uadk_zip::software::libdeflate_level(6), 5);
/// assert_eq!(uadk_zip::software::libdeflate_level(9), 9);
/// ```
pub fn libdeflate_level(level: u32) -> u32 {
    match level {
        5..=8 => level - 1,
        other => other,
    }
}

/// The library for the blocks of parallel compression at `level`, the same as one-shot
/// compression on one thread: ISA-L at 1..=3 (blocks end with a sync flush), libdeflate at
/// 4..=9 (each block is a complete libdeflate stream whose final block is then made
/// non-final by [`walk::make_nonfinal`]; zlib-rs blocks on 2 threads measured only 0.59x the
/// single-thread libdeflate path). Level 0 (stored) uses zlib-rs.
///
/// ```
/// use uadk_zip::software::{choose_parallel, Library};
/// assert_eq!(choose_parallel(1), Library::Isal);
/// assert_eq!(choose_parallel(6), Library::Libdeflate);
/// assert_eq!(choose_parallel(0), Library::ZlibRs);
/// ```
pub fn choose_parallel(level: u32) -> Library {
    match level {
        1..=3 => Library::Isal,
        4.. => Library::Libdeflate,
        0 => Library::ZlibRs,
    }
}

/// A streaming raw compressor from `lib`.
pub(crate) fn raw_compressor(lib: Library, level: u32) -> Result<Box<dyn RawCompress>> {
    match lib {
        Library::Isal if (1..=3).contains(&level) => Ok(Box::new(isal::IsalCompress::new(level)?)),
        Library::ZlibRs => Ok(Box::new(zlib_rs::ZlibRsCompress::new(level)?)),
        _ => Err(unsupported(lib, Direction::Compress, level)),
    }
}

/// A streaming raw decompressor (body + trailer of `format`) from `lib`.
pub(crate) fn raw_decompressor(lib: Library, format: Format) -> Box<dyn RawDecompress> {
    match lib {
        Library::ZlibRs => Box::new(zlib_rs::ZlibRsDecompress::new(format)),
        _ => Box::new(isal::IsalDecompress::new(format)),
    }
}

/// Input per ISA-L call for whole buffers. Handing ISA-L 64 MiB at once yields huge blocks
/// with one Huffman table; 128 KiB calls let blocks follow the data (measured on the 64 MiB
/// text+random mix: ratio 2.300 instead of 2.226, same speed; Silesia unchanged).
const ISAL_CHUNK: usize = 128 * 1024;

/// ISA-L over `input` in [`ISAL_CHUNK`] calls, ending with `flush`.
fn isal_chunked(level: u32, input: &[u8], flush: Flush, out: &mut Vec<u8>) -> Result<()> {
    let mut c = isal::IsalCompress::new(level)?;
    let mut pieces = input.chunks(ISAL_CHUNK).peekable();
    while let Some(p) = pieces.next() {
        if pieces.peek().is_some() {
            crate::stream::drive_to_vec(&mut c, p, Flush::None, out)?;
        } else {
            return crate::stream::drive_to_vec(&mut c, p, flush, out);
        }
    }
    crate::stream::drive_to_vec(&mut c, &[], flush, out)
}

/// Appends the raw deflate of a whole buffer (a complete, final stream) to `out`.
pub(crate) fn compress_whole(lib: Library, level: u32, input: &[u8], out: &mut Vec<u8>) -> Result<()> {
    match lib {
        // The streaming API: same speed as the stateless one and a better ratio on text
        // mixes (measured on the generated 64 MiB text+random mix: −4.0% vs −7.0% against zlib -1;
        // equal on Silesia).
        Library::Isal => isal_chunked(level, input, Flush::Finish, out),
        Library::Libdeflate => libdeflate::compress(level, input, out),
        _ => zlib_rs::compress_block(level, &[], input, true, out),
    }
}

/// Appends one block of a parallel stream: ends on a flush boundary unless `last`.
/// `dict` is the input just before the block (used where the library supports it).
pub(crate) fn compress_piece(
    lib: Library,
    level: u32,
    dict: &[u8],
    input: &[u8],
    last: bool,
    out: &mut Vec<u8>,
) -> Result<()> {
    match lib {
        // Streaming ISA-L, as for whole buffers (better ratio than its stateless API); each
        // block starts without history, so a sync flush is a clean boundary.
        Library::Isal => {
            let flush = if last { Flush::Finish } else { Flush::Sync };
            isal_chunked(level, input, flush, out)
        }
        // A whole libdeflate stream (no history: libdeflate takes no dictionary), its final
        // block then made non-final with a sync-flush tail. Should the walk ever refuse the
        // output, the block is redone with zlib-rs: slower, never a wrong stream.
        Library::Libdeflate => {
            let start = out.len();
            libdeflate::compress(level, input, out)?;
            if last {
                return Ok(());
            }
            match walk::make_nonfinal(out, start) {
                Ok(()) => Ok(()),
                Err(e) => {
                    log::warn!("libdeflate block not joinable ({e}); redone with zlib-rs");
                    out.truncate(start);
                    zlib_rs::compress_block(level.min(9), dict, input, false, out)
                }
            }
        }
        _ => zlib_rs::compress_block(level, dict, input, last, out),
    }
}
