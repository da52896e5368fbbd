//! # uadk-zip
//!
//! deflate, zlib and gzip compression and decompression — one-shot, streaming, `std::io`
//! adapters, parallel and batched — on a HiSilicon ZIP device (through `uadk-core`, when
//! one offers the algorithm) or in software, always producing standard streams that zlib
//! and `gzip` read, and reading theirs.
//!
//! ## The model
//!
//! * A [`Session`] holds a [`Config`] (format, level, [`Backend`], gzip header fields,
//!   output limit, threads) and resolves the backend once per direction: `Auto` takes a
//!   registered [`DeviceEngine`] that [offers](DeviceEngine::offers) the format, else
//!   software; `Device` fails with [`Error::NoDevice`] when none does; `Software` never
//!   touches a device. Every result can say what ran and why ([`Report`]); the session
//!   counts requests per engine, fallbacks and errors ([`CounterSnapshot`]).
//! * Every engine speaks **raw deflate** through two small traits ([`RawCompress`],
//!   [`RawDecompress`]); [`mod@format`] adds headers, trailers and checksums. So a device
//!   backend only has to implement those traits and register itself with
//!   [`register_device`]: no public API changes.
//! * Software engines are chosen **per operation by measurement** ([`software::choose`]):
//!   ISA-L igzip for levels 1–3, libdeflate for whole buffers at 4–9 and for one-shot
//!   inflate, zlib-rs for streaming at 0 and 4–9, ISA-L for streaming inflate. ISA-L is
//!   loaded at run time (`libisal.so.2`, Debian `libisal2`); without it (or with
//!   `UADK_NO_ISAL=1`) the table takes the next fastest library and the reason says so
//!   ([`software::isal_status`]). The system zlib is the reference peer
//!   ([`software::Library::Zlib`]).
//! * An empty input is not a ZIP request (it carries at least one byte): it is compressed
//!   in software under every backend, `Device` included, with a reason that says so.
//! * Large one-shot inputs (≥ [`Config::parallel_threshold`]) are compressed in blocks on
//!   several threads ([`parallel`]) and joined into one stream with combined checksums,
//!   carrying a block [`index`] that every other reader ignores. Decompression of such a
//!   stream (with [`Config::threads`] > 1) decodes its blocks in parallel again, each
//!   checked against the index's checksums and the whole against the trailer.
//! * Decompression guards against bad input: corrupt, truncated, trailing-garbage, wrong
//!   checksums and empty input are errors, and output is capped by [`Config::max_output`].
//!   Nothing panics and memory stays bounded.
//! * A device failure is redone in software when [`Config::fallback`] is on (counted); a
//!   stream that already passed data through a failed device ends with
//!   [`Error::StreamLost`] instead of a corrupt stream.
//!
//! ## Example
//!
//! ```
//! use uadk_zip::{Backend, Config, Format, Session};
//! let s = Session::new(Config { format: Format::Gzip, level: 1, backend: Backend::Auto, ..Config::default() })?;
//! let (gz, report) = s.compress_report(b"hello, accelerator")?;
//! assert_eq!(report.engine.kind(), "software"); // no device registered in this process
//! assert_eq!(s.decompress(&gz)?, b"hello, accelerator");
//! # Ok::<(), uadk_zip::Error>(())
//! ```

#![warn(missing_docs)]

pub mod backend;
pub mod batch;
pub mod device;
pub mod error;
pub mod format;
pub mod index;
pub mod io;
mod oneshot;
pub mod parallel;
mod parallel_decompress;
mod session;
pub mod software;
pub mod speculative_inflate;
pub mod stream;
mod stream_index;

pub use backend::{
    devices, register_device, unregister_device, Backend, CounterSnapshot, Counters, DeviceEngine, Direction,
    DmaPolicy, DmaSetup, Engine, RawCompress, RawDecompress, Report, Step,
};
pub use batch::{Batch, Completion};
pub use error::{Error, Result};
pub use format::{Format, GzipHeader};
pub use io::{Decoder, Encoder};
pub use session::{Config, Session};
pub use stream::{Compressor, Decompressor, Flush, Progress};

/// Compresses `input` at level 6 in software with the best library (parallel when large).
///
/// ```
/// let z = uadk_zip::compress(b"abc", uadk_zip::Format::Zlib).unwrap();
/// assert_eq!(uadk_zip::decompress(&z, uadk_zip::Format::Zlib).unwrap(), b"abc");
/// ```
pub fn compress(input: &[u8], format: Format) -> Result<Vec<u8>> {
    compress_level(input, format, 6)
}

/// Compresses `input` at `level` (0..=9).
///
/// ```
/// let z = uadk_zip::compress_level(&[0u8; 4096], uadk_zip::Format::Deflate, 1).unwrap();
/// assert!(z.len() < 100);
/// ```
pub fn compress_level(input: &[u8], format: Format, level: u32) -> Result<Vec<u8>> {
    Session::new(Config {
        format,
        level,
        ..Config::default()
    })?
    .compress(input)
}

/// Decompresses a whole stream (all gzip members) with the default output limit.
///
/// ```
/// let err = uadk_zip::decompress(b"", uadk_zip::Format::Gzip).unwrap_err();
/// assert!(matches!(err, uadk_zip::Error::EmptyInput { .. }));
/// ```
pub fn decompress(input: &[u8], format: Format) -> Result<Vec<u8>> {
    Session::new(Config {
        format,
        ..Config::default()
    })?
    .decompress(input)
}
