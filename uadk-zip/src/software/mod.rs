//! The software path: one file per library and the per-operation choice between them.
//!
//! ## The engine table
//!
//! [`choose`] picks a library per operation, level and mode from a rule table measured with
//! `uadk bench zip` (Silesia, single thread, thread CPU time, against system zlib in the same
//! run; the figures are in the crate README). A rule applies only when its library can run
//! in this process: ISA-L is loaded at run time ([`isal_status`]), and when it is absent
//! (no `libisal2`, or `UADK_NO_ISAL=1`) the next rule, the next fastest library, is taken
//! and the reason says so.
//!
//! | operation | level | library | without ISA-L |
//! |---|---|---|---|
//! | one-shot compress | 0 | zlib-rs (stored blocks) | |
//! | one-shot compress | 1..=3 | ISA-L igzip | libdeflate |
//! | one-shot compress | 4..=9 | libdeflate (levels 5..=8 one lower, see [`libdeflate_level`]) | |
//! | streaming compress | 1..=3 | ISA-L igzip | zlib-rs at level 2 (see [`stream_level`]) |
//! | streaming compress | 0, 4..=9 | zlib-rs | |
//! | parallel blocks | 1..=3 | ISA-L (sync-flush blocks) | libdeflate |
//! | parallel blocks | 4..=9 | libdeflate (final block made non-final, see [`walk`]) | |
//! | parallel blocks (forced) | 0, 4..=9 | zlib-rs (sync flush, 32 KiB dictionary) | |
//! | one-shot decompress | all | libdeflate (gzip ISIZE / ratio guess) | |
//! | streaming decompress | all | ISA-L inflate | zlib-rs |
//!
//! The CPU does not change this table on the two CPUs measured (AMD EPYC Zen 3 with AVX2
//! and 256-bit VAES, no AVX-512; Intel Xeon with AVX-512 and 512-bit VAES): ISA-L and
//! libdeflate pick their own SIMD kernels at run time, and the ranking of the libraries was
//! the same on both (README, "Software choice"). So the rules carry no CPU condition;
//! [`Machine`] still records the CPU features for reports and for a rule that needs them.

pub mod exact_inflate;
pub(crate) mod isal;
pub(crate) mod isal_lib;
pub(crate) mod libdeflate;
pub mod walk;
pub(crate) mod zlib;
pub(crate) mod zlib_rs;

use crate::backend::{Direction, RawCompress, RawDecompress};
use crate::error::{Error, Result};
use crate::format::Format;
use crate::stream::Flush;
use uadk_core::sys::cpu::CpuFeatures;

/// A software deflate implementation.
///
/// ```
/// use uadk_zip::{software::Library, Format};
/// let packed = Library::Zlib.compress(Format::Gzip, 6, b"peer").unwrap();
/// assert_eq!(Library::ZlibRs.decompress(Format::Gzip, &packed, 1 << 20).unwrap(), b"peer");
/// if Library::Isal.available() {
///     assert_eq!(Library::Isal.decompress(Format::Gzip, &packed, 1 << 20).unwrap(), b"peer");
/// }
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Library {
    /// Intel ISA-L igzip (`libisal.so.2`, loaded at run time when installed): levels 1..=3,
    /// streaming.
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

    /// Whether this library can run in this process: ISA-L only when `libisal.so.2` was
    /// loaded (see [`isal_status`]); the others are built in.
    ///
    /// ```
    /// assert!(uadk_zip::software::Library::Libdeflate.available());
    /// ```
    pub fn available(self) -> bool {
        self != Library::Isal || isal_lib::available()
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
        self.check_available()?;
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
        self.check_available()?;
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
        self.check_available()?;
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

impl Library {
    /// [`Error::Unavailable`] (naming the package to install) when the library cannot run.
    pub(crate) fn check_available(self) -> Result<()> {
        if self != Library::Isal {
            return Ok(());
        }
        isal_lib::get().map(drop).map_err(|why| Error::Unavailable {
            library: "ISA-L",
            reason: why.to_string(),
        })
    }
}

/// Whether ISA-L is loaded in this process, or why not (a sentence naming the missing file
/// and the Debian/Ubuntu package that adds it, or the `UADK_NO_ISAL` setting).
///
/// ```
/// match uadk_zip::software::isal_status() {
///     Ok(()) => println!("ISA-L loaded"),
///     Err(why) => println!("ISA-L unavailable: {why}"),
/// }
/// ```
pub fn isal_status() -> std::result::Result<(), &'static str> {
    isal_lib::get().map(drop)
}

/// What the engine table looks at: the CPU's features and which optional libraries loaded.
///
/// ```
/// use uadk_zip::software::Machine;
/// let here = Machine::current();
/// let bare = Machine { isal: false, ..here };
/// assert!(!bare.isal);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Machine {
    /// CPU features (CPUID).
    pub cpu: CpuFeatures,
    /// ISA-L (`libisal.so.2`) is loaded.
    pub isal: bool,
}

impl Machine {
    /// This process's machine (detected once).
    pub fn current() -> Machine {
        Machine {
            cpu: CpuFeatures::detect(),
            isal: isal_lib::available(),
        }
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

/// The measured best library for an operation on this machine, and why (see the table in
/// the module docs; without ISA-L the reason says what replaced it).
///
/// ```
/// use uadk_zip::{software::{choose, isal_status, Library, Mode}, Direction};
/// let (lib, why) = choose(Direction::Compress, 1, Mode::OneShot);
/// match isal_status() {
///     Ok(()) => assert_eq!(lib, Library::Isal),
///     Err(_) => assert!(lib == Library::Libdeflate && why.contains("ISA-L is not loaded")),
/// }
/// assert_eq!(choose(Direction::Compress, 6, Mode::OneShot).0, Library::Libdeflate);
/// ```
pub fn choose(direction: Direction, level: u32, mode: Mode) -> (Library, &'static str) {
    choose_for(&Machine::current(), direction, level, mode)
}

/// [`choose`] for a given machine (tests of the table; `uadk info`).
///
/// ```
/// use uadk_zip::{software::{choose_for, Library, Machine, Mode}, Direction};
/// let m = Machine { isal: false, ..Machine::current() };
/// assert_eq!(choose_for(&m, Direction::Decompress, 6, Mode::Stream).0, Library::ZlibRs);
/// ```
pub fn choose_for(m: &Machine, direction: Direction, level: u32, mode: Mode) -> (Library, &'static str) {
    match (direction, mode, level) {
        (Direction::Compress, _, 0) => (Library::ZlibRs, "level 0 (stored) via zlib-rs"),
        (Direction::Compress, _, 1..=3) if m.isal => (Library::Isal, "ISA-L is fastest at levels 1-3"),
        (Direction::Compress, Mode::OneShot, 1..=3) => (
            Library::Libdeflate,
            "ISA-L is not loaded (install libisal2): libdeflate is the next fastest at levels 1-3 with zlib's ratio",
        ),
        (Direction::Compress, Mode::Stream, 1..=3) => (
            Library::ZlibRs,
            "ISA-L is not loaded (install libisal2): zlib-rs at level 2 is the next fastest streaming compressor with zlib -1's ratio",
        ),
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
        (Direction::Decompress, Mode::Stream, _) if m.isal => {
            (Library::Isal, "ISA-L is the fastest streaming inflater")
        }
        (Direction::Decompress, Mode::Stream, _) => (
            Library::ZlibRs,
            "ISA-L is not loaded (install libisal2): zlib-rs is the next fastest streaming inflater",
        ),
    }
}

/// The zlib-rs level used for streaming compression at a requested level when zlib-rs is
/// the table's choice: level 1 maps to 2. zlib-rs level 1 is a "quick" strategy whose output
/// is 20% larger than zlib -1's (Silesia: ratio 2.774 against 3.449); level 2 keeps zlib -1's
/// ratio (figures in the README). Other levels are unchanged.
///
/// ```
/// assert_eq!(uadk_zip::software::stream_level(1), 2);
/// assert_eq!(uadk_zip::software::stream_level(6), 6);
/// ```
pub fn stream_level(level: u32) -> u32 {
    if level == 1 {
        2
    } else {
        level
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
/// compression on one thread: ISA-L at 1..=3 (blocks end with a sync flush; libdeflate
/// when ISA-L is not loaded), libdeflate at
/// 4..=9 (each block is a complete libdeflate stream whose final block is then made
/// non-final by [`walk::make_nonfinal`]; zlib-rs blocks on 2 threads measured only 0.59x the
/// single-thread libdeflate path). Level 0 (stored) uses zlib-rs.
///
/// ```
/// use uadk_zip::software::{choose_parallel, Library};
/// assert_eq!(choose_parallel(1) == Library::Isal, Library::Isal.available());
/// assert_eq!(choose_parallel(6), Library::Libdeflate);
/// assert_eq!(choose_parallel(0), Library::ZlibRs);
/// ```
pub fn choose_parallel(level: u32) -> Library {
    match level {
        1..=3 if isal_lib::available() => Library::Isal,
        1..=3 => Library::Libdeflate,
        4.. => Library::Libdeflate,
        0 => Library::ZlibRs,
    }
}

/// The table's streaming compressor for `level` (zlib-rs at [`stream_level`] when it is the
/// choice), and why.
pub(crate) fn chosen_compressor(level: u32) -> Result<(Box<dyn RawCompress>, &'static str)> {
    let (lib, why) = choose(Direction::Compress, level, Mode::Stream);
    let level = if lib == Library::ZlibRs {
        stream_level(level)
    } else {
        level
    };
    Ok((raw_compressor(lib, level)?, why))
}

/// A streaming raw compressor from `lib`.
pub(crate) fn raw_compressor(lib: Library, level: u32) -> Result<Box<dyn RawCompress>> {
    match lib {
        Library::Isal if (1..=3).contains(&level) => Ok(Box::new(isal::IsalCompress::new(level)?)),
        Library::ZlibRs => Ok(Box::new(zlib_rs::ZlibRsCompress::new(level)?)),
        _ => Err(unsupported(lib, Direction::Compress, level)),
    }
}

/// A streaming raw decompressor (body + trailer of `format`) from `lib` (libdeflate and
/// zlib cannot stream: the table's streaming inflater runs instead).
pub(crate) fn raw_decompressor(lib: Library, format: Format) -> Result<Box<dyn RawDecompress>> {
    let lib = match lib {
        Library::Libdeflate | Library::Zlib => choose(Direction::Decompress, 0, Mode::Stream).0,
        l => l,
    };
    Ok(match lib {
        Library::Isal => Box::new(isal::IsalDecompress::new(format)?),
        _ => Box::new(zlib_rs::ZlibRsDecompress::new(format)),
    })
}

/// Input per ISA-L call for whole buffers. Handing ISA-L 64 MiB at once yields huge blocks
/// with one Huffman table; 128 KiB calls let blocks follow the data (measured on the 64 MiB
/// text+random mix: ratio 2.300 instead of 2.226, same speed; Silesia unchanged).
const ISAL_CHUNK: usize = 128 * 1024;

/// ISA-L over `input` in [`ISAL_CHUNK`] calls, ending with `flush`; `check`, when given,
/// absorbs each piece right after it was compressed, while it is still in cache (a separate
/// CRC-32 pass over a large input reads it from memory again: 5-6% of level-1 time).
fn isal_chunked(
    level: u32,
    input: &[u8],
    flush: Flush,
    out: &mut Vec<u8>,
    mut check: Option<&mut crate::format::Check>,
) -> Result<()> {
    let mut c = isal::IsalCompress::new(level)?;
    let mut pieces = input.chunks(ISAL_CHUNK).peekable();
    while let Some(p) = pieces.next() {
        let last = pieces.peek().is_none();
        crate::stream::drive_to_vec(&mut c, p, if last { flush } else { Flush::None }, out)?;
        if let Some(ch) = check.as_deref_mut() {
            ch.update(p);
        }
        if last {
            return Ok(());
        }
    }
    crate::stream::drive_to_vec(&mut c, &[], flush, out)
}

/// Appends the raw deflate of a whole buffer (a complete, final stream) to `out` and
/// returns `format`'s checksum of `input`.
pub(crate) fn compress_whole(
    lib: Library,
    level: u32,
    format: Format,
    input: &[u8],
    out: &mut Vec<u8>,
) -> Result<u32> {
    let mut check = crate::format::Check::new(format);
    match lib {
        // The streaming API: same speed as the stateless one and a better ratio on text
        // mixes (measured on the generated 64 MiB text+random mix: −4.0% vs −7.0% against zlib -1;
        // equal on Silesia). The checksum is taken piece by piece, in cache.
        Library::Isal => {
            // Room for the whole stream up front: growing the Vec copies it again and again.
            out.reserve(input.len() / 2 + 1024);
            isal_chunked(level, input, Flush::Finish, out, Some(&mut check))?;
            return Ok(check.value());
        }
        Library::Libdeflate => libdeflate::compress(level, input, out)?,
        _ => zlib_rs::compress_block(level, &[], input, true, out)?,
    }
    check.update(input);
    Ok(check.value())
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
            isal_chunked(level, input, flush, out, None)
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
