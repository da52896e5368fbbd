//! Shared helpers: the first byte picks the format and library, the rest is the input.

use uadk_zip::software::Library;
use uadk_zip::{Backend, Config, Format, Session};

/// Output limit: large enough for real data, small enough to keep fuzzing fast.
pub const LIMIT: u64 = 8 << 20;

pub fn split(data: &[u8]) -> Option<(Format, Option<Library>, &[u8])> {
    let (&sel, rest) = data.split_first()?;
    let format = match sel % 3 {
        0 => Format::Deflate,
        1 => Format::Zlib,
        _ => Format::Gzip,
    };
    let lib = match (sel / 3) % 4 {
        0 => None,
        1 => Some(Library::Isal),
        2 => Some(Library::ZlibRs),
        _ => Some(Library::Libdeflate),
    };
    Some((format, lib, rest))
}

pub fn session(format: Format, library: Option<Library>) -> Session {
    Session::new(Config {
        format,
        library,
        backend: Backend::Software,
        max_output: LIMIT,
        ..Config::default()
    })
    .expect("valid config")
}

/// Whatever decoded successfully must be what the system zlib decodes. Exception: raw
/// deflate has no checksum, and libdeflate/ISA-L accept a few invalid symbol codes zlib
/// rejects (a known leniency, see the crate README); for zlib and gzip the checksum must
/// still make us agree with zlib.
pub fn agree(format: Format, input: &[u8], ours: &[u8]) {
    match Library::Zlib.decompress(format, input, LIMIT) {
        Ok(theirs) => assert_eq!(ours, &theirs[..], "disagrees with zlib"),
        Err(_) if format == Format::Deflate => {}
        Err(e) => panic!("we accepted what zlib rejects: {e}"),
    }
}
