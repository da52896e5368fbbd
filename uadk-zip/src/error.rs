//! The one error type of the crate.

use crate::format::Format;

/// Everything that can go wrong in `uadk-zip`.
///
/// Every message says what happened and what the caller can do about it.
///
/// ```
/// use uadk_zip::{decompress, Error, Format};
/// let err = decompress(b"definitely not gzip", Format::Gzip).unwrap_err();
/// assert!(matches!(err, Error::Corrupt { .. }));
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The caller's output buffer cannot hold the result.
    #[error("output buffer too small: {available} bytes given{}; pass a larger buffer or use the Vec-returning call", .needed.map(|n| format!(", {n} bytes needed")).unwrap_or_default())]
    OutputTooSmall {
        /// Bytes needed, when they are knowable (compression bound, gzip ISIZE).
        needed: Option<usize>,
        /// Bytes the caller offered.
        available: usize,
    },
    /// A compression level outside 0..=9.
    #[error("invalid compression level {0}: use a level from 0 (store) to 9 (best)")]
    InvalidLevel(u32),
    /// The stream is not valid data of the expected format.
    #[error("corrupt {format} stream: {detail}; the input is damaged or is not {format} data")]
    Corrupt {
        /// Format that was being read.
        format: Format,
        /// What exactly was wrong.
        detail: String,
    },
    /// The input ended before the end of the stream.
    #[error(
        "truncated {format} stream: the input ended before the end of the stream; the data is incomplete"
    )]
    Truncated {
        /// Format that was being read.
        format: Format,
    },
    /// Bytes follow the end of the stream that are not another gzip member.
    #[error("trailing data after the end of the {format} stream (at or just before input offset {offset}); strip it or decompress only the stream")]
    TrailingData {
        /// Format that was being read.
        format: Format,
        /// Offset of the first unexpected byte.
        offset: u64,
    },
    /// The checksum in the trailer does not match the decompressed data.
    #[error("{kind} mismatch in {format} stream ({detail}); the data is corrupt")]
    Checksum {
        /// Format that was being read.
        format: Format,
        /// "crc32", "adler32", "gzip ISIZE" or "header crc16".
        kind: &'static str,
        /// The values involved, as far as they are known.
        detail: String,
    },
    /// An empty input is not a stream of any format.
    #[error(
        "empty input is not a {format} stream; a compressed stream has at least a header or a final block"
    )]
    EmptyInput {
        /// Format that was expected.
        format: Format,
    },
    /// Decompression produced more than the configured limit (bomb guard).
    #[error("decompressed output exceeds the limit of {limit} bytes; raise the limit (Config::max_output) if the input is trusted")]
    OutputLimit {
        /// The configured limit.
        limit: u64,
    },
    /// `Backend::Device` was requested but no device offers the algorithm.
    #[error("no device backend for {format}: {reason}; use --backend auto or software (Backend::Auto / Backend::Software)")]
    NoDevice {
        /// Algorithm requested.
        format: Format,
        /// Why no device was usable.
        reason: String,
    },
    /// The device failed mid-stream and the stream cannot be resumed in software.
    #[error("the device failed in the middle of a stream ({0}) and the stream cannot be resumed; no output of it was returned past the last completed flush, restart the stream from its beginning")]
    StreamLost(String),
    /// A device request failed and fallback to software is disabled.
    #[error("device request failed: {0}; enable software fallback (Config::fallback) or check the device")]
    Device(String),
    /// The stream was already finished.
    #[error("the stream is already finished; create a new compressor or call reset()")]
    Finished,
    /// A gzip header field cannot be written or read.
    #[error("invalid gzip header: {0}")]
    InvalidHeader(String),
    /// An invalid argument (the message says which and why).
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
    /// A software library reported an internal failure.
    #[error("{library} failed: {detail}; this is a bug, please report it with the input")]
    Library {
        /// Library name.
        library: &'static str,
        /// Its message or code.
        detail: String,
    },
    /// A software library the request needs is not installed (or was disabled); only when
    /// it is forced ([`crate::Config::library`]): the measured choice skips absent libraries.
    #[error("{library} is not available: {reason}; or leave Config::library unset to use the next fastest library")]
    Unavailable {
        /// Library name.
        library: &'static str,
        /// Why, and the package that adds it.
        reason: String,
    },
    /// An I/O error from the reader or writer wrapped by the adapters.
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
}

impl Error {
    pub(crate) fn corrupt(format: Format, detail: impl Into<String>) -> Self {
        Error::Corrupt {
            format,
            detail: detail.into(),
        }
    }
}

impl From<Error> for std::io::Error {
    fn from(e: Error) -> Self {
        use std::io::ErrorKind;
        match e {
            Error::Io(io) => io,
            Error::Truncated { .. } => std::io::Error::new(ErrorKind::UnexpectedEof, e),
            Error::Corrupt { .. }
            | Error::Checksum { .. }
            | Error::TrailingData { .. }
            | Error::EmptyInput { .. }
            | Error::InvalidHeader(_) => std::io::Error::new(ErrorKind::InvalidData, e),
            Error::InvalidLevel(_) | Error::InvalidArgument(_) => {
                std::io::Error::new(ErrorKind::InvalidInput, e)
            }
            other => std::io::Error::other(other),
        }
    }
}

/// `Result` with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
