//! Stream framing: raw deflate, zlib (RFC 1950) and gzip (RFC 1952) headers, trailers and
//! checksums. Every backend produces and consumes *raw deflate*; this module wraps it, so a
//! device that only speaks raw deflate and one that writes its own header look the same.

use crate::error::{Error, Result};

/// The container around the deflate data.
///
/// ```
/// use uadk_zip::Format;
/// assert_eq!("gzip".parse::<Format>().unwrap(), Format::Gzip);
/// assert_eq!(Format::Zlib.to_string(), "zlib");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum Format {
    /// Raw deflate (RFC 1951), no header, no checksum.
    Deflate,
    /// zlib (RFC 1950): 2-byte header, adler32 trailer.
    Zlib,
    /// gzip (RFC 1952): 10+ byte header, crc32 + size trailer, members may be concatenated.
    #[default]
    Gzip,
}

impl Format {
    /// Lower-case name, as used on the command line and in reports.
    ///
    /// ```
    /// assert_eq!(uadk_zip::Format::Deflate.name(), "deflate");
    /// ```
    pub fn name(self) -> &'static str {
        match self {
            Format::Deflate => "deflate",
            Format::Zlib => "zlib",
            Format::Gzip => "gzip",
        }
    }

    /// Bytes of header + trailer this format adds to a stream (gzip without name).
    ///
    /// ```
    /// assert_eq!(uadk_zip::Format::Zlib.overhead(), 6);
    /// ```
    pub fn overhead(self) -> usize {
        match self {
            Format::Deflate => 0,
            Format::Zlib => 6,
            Format::Gzip => 18,
        }
    }
}

impl std::fmt::Display for Format {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for Format {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s.to_ascii_lowercase().as_str() {
            "deflate" | "raw" => Ok(Format::Deflate),
            "zlib" => Ok(Format::Zlib),
            "gzip" | "gz" => Ok(Format::Gzip),
            _ => Err(Error::InvalidArgument(format!(
                "unknown format {s:?}: use gzip, zlib or deflate"
            ))),
        }
    }
}

/// Longest gzip file name or comment accepted when reading (a guard against endless headers).
pub const MAX_GZIP_FIELD: usize = 64 * 1024;

/// Fields of a gzip member header.
///
/// On output `name` and `mtime` are written; on input all fields are parsed (extra and
/// comment are skipped and checked for length) and the header CRC is verified.
///
/// ```
/// use uadk_zip::GzipHeader;
/// let h = GzipHeader { name: Some(b"notes.txt".to_vec()), mtime: 1_700_000_000, ..Default::default() };
/// assert_eq!(h.encode(6).unwrap().len(), 10 + 10);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GzipHeader {
    /// Original file name (FNAME), without the terminating zero.
    pub name: Option<Vec<u8>>,
    /// Modification time, seconds since the epoch (0 = unknown).
    pub mtime: u32,
    /// Comment (FCOMMENT), without the terminating zero.
    pub comment: Option<Vec<u8>>,
    /// Operating system byte; 0 is written as 3 (Unix), as gzip does on Linux.
    pub os: u8,
}

const FTEXT: u8 = 1;
const FHCRC: u8 = 2;
const FEXTRA: u8 = 4;
const FNAME: u8 = 8;
const FCOMMENT: u8 = 16;

impl GzipHeader {
    /// Encodes the header for a stream compressed at `level` (sets XFL like gzip does).
    ///
    /// Fails when `name` or `comment` contains a zero byte or is longer than
    /// [`MAX_GZIP_FIELD`].
    ///
    /// ```
    /// let bytes = uadk_zip::GzipHeader::default().encode(1).unwrap();
    /// assert_eq!(&bytes[..3], &[0x1f, 0x8b, 8]);
    /// ```
    pub fn encode(&self, level: u32) -> Result<Vec<u8>> {
        let mut flags = 0u8;
        let mut out = Vec::with_capacity(10);
        for (field, flag, what) in [(&self.name, FNAME, "name"), (&self.comment, FCOMMENT, "comment")] {
            if let Some(v) = field {
                if v.contains(&0) || v.len() > MAX_GZIP_FIELD {
                    return Err(Error::InvalidHeader(format!(
                        "the {what} must have no zero byte and at most {MAX_GZIP_FIELD} bytes"
                    )));
                }
                flags |= flag;
            }
        }
        let xfl = match level {
            9 => 2,
            0 | 1 => 4,
            _ => 0,
        };
        let os = if self.os == 0 { 3 } else { self.os };
        out.extend_from_slice(&[0x1f, 0x8b, 8, flags]);
        out.extend_from_slice(&self.mtime.to_le_bytes());
        out.extend_from_slice(&[xfl, os]);
        for v in [&self.name, &self.comment].into_iter().flatten() {
            out.extend_from_slice(v);
            out.push(0);
        }
        Ok(out)
    }

    /// Parses a gzip header at the start of `buf`.
    ///
    /// Returns `Ok(None)` when `buf` is a valid but incomplete prefix, `Ok(Some((header,
    /// length)))` when complete.
    ///
    /// ```
    /// use uadk_zip::GzipHeader;
    /// let bytes = GzipHeader { mtime: 7, ..Default::default() }.encode(6).unwrap();
    /// let (h, n) = GzipHeader::parse(&bytes).unwrap().unwrap();
    /// assert_eq!((h.mtime, n), (7, 10));
    /// assert!(GzipHeader::parse(&bytes[..5]).unwrap().is_none());
    /// ```
    pub fn parse(buf: &[u8]) -> Result<Option<(GzipHeader, usize)>> {
        let f = Format::Gzip;
        for (i, want) in [0x1fu8, 0x8b, 8].iter().enumerate() {
            match buf.get(i) {
                None => return Ok(None),
                Some(b) if b == want => {}
                Some(_) if i < 2 => return Err(Error::corrupt(f, "bad magic (not a gzip stream)")),
                Some(b) => {
                    return Err(Error::corrupt(
                        f,
                        format!("compression method {b} is not deflate (8)"),
                    ))
                }
            }
        }
        if buf.len() < 10 {
            return Ok(None);
        }
        let flags = buf[3];
        if flags & !(FTEXT | FHCRC | FEXTRA | FNAME | FCOMMENT) != 0 {
            return Err(Error::corrupt(
                f,
                format!("reserved header flags set ({flags:#04x})"),
            ));
        }
        let mut h = GzipHeader {
            mtime: u32::from_le_bytes([buf[4], buf[5], buf[6], buf[7]]),
            os: buf[9],
            ..Default::default()
        };
        let mut pos = 10;
        if flags & FEXTRA != 0 {
            let Some(len) = buf.get(pos..pos + 2) else {
                return Ok(None);
            };
            let xlen = u16::from_le_bytes([len[0], len[1]]) as usize;
            pos += 2 + xlen;
            if buf.len() < pos {
                return Ok(None);
            }
        }
        for (flag, slot, what) in [(FNAME, 0, "name"), (FCOMMENT, 1, "comment")] {
            if flags & flag == 0 {
                continue;
            }
            let rest = &buf[pos..];
            match rest.iter().take(MAX_GZIP_FIELD + 1).position(|&b| b == 0) {
                Some(end) => {
                    let v = rest[..end].to_vec();
                    if slot == 0 {
                        h.name = Some(v);
                    } else {
                        h.comment = Some(v);
                    }
                    pos += end + 1;
                }
                None if rest.len() > MAX_GZIP_FIELD => {
                    return Err(Error::corrupt(
                        f,
                        format!("header {what} longer than {MAX_GZIP_FIELD} bytes"),
                    ))
                }
                None => return Ok(None),
            }
        }
        if flags & FHCRC != 0 {
            let Some(c) = buf.get(pos..pos + 2) else {
                return Ok(None);
            };
            let want = u16::from_le_bytes([c[0], c[1]]);
            let got = (crc32fast::hash(&buf[..pos]) & 0xffff) as u16;
            if want != got {
                return Err(Error::Checksum {
                    format: f,
                    kind: "header crc16",
                    detail: format!("header says {want:#06x}, header bytes give {got:#06x}"),
                });
            }
            pos += 2;
        }
        Ok(Some((h, pos)))
    }
}

/// The zlib header written for `level` (window 32 KiB, FLEVEL like zlib's).
pub(crate) fn zlib_header(level: u32) -> [u8; 2] {
    let flevel: u16 = match level {
        0 | 1 => 0,
        2..=5 => 1,
        6 => 2,
        _ => 3,
    };
    let mut h: u16 = (0x78 << 8) | (flevel << 6);
    h += 31 - h % 31;
    h.to_be_bytes()
}

/// Checks a 2-byte zlib header.
pub(crate) fn check_zlib_header(h: [u8; 2]) -> Result<()> {
    let f = Format::Zlib;
    if h[0] & 0x0f != 8 {
        return Err(Error::corrupt(f, "compression method is not deflate (8)"));
    }
    if h[0] >> 4 > 7 {
        return Err(Error::corrupt(f, "window size larger than 32 KiB"));
    }
    if !u16::from_be_bytes(h).is_multiple_of(31) {
        return Err(Error::corrupt(
            f,
            "header check bits are wrong (not a zlib stream)",
        ));
    }
    if h[1] & 0x20 != 0 {
        return Err(Error::corrupt(
            f,
            "stream needs a preset dictionary, which is not supported",
        ));
    }
    Ok(())
}

/// Adler-32 of `a` followed by `b`, from the checksums of each and the length of `b`.
///
/// ```
/// use uadk_zip::format::adler32_combine;
/// let (a, b) = (b"hello ".as_slice(), b"world".as_slice());
/// let adler = |d: &[u8]| {
///     let (mut s1, mut s2) = (1u32, 0u32);
///     for &x in d { s1 = (s1 + x as u32) % 65521; s2 = (s2 + s1) % 65521; }
///     (s2 << 16) | s1
/// };
/// let whole = adler(&[a, b].concat());
/// assert_eq!(adler32_combine(adler(a), adler(b), b.len() as u64), whole);
/// ```
pub fn adler32_combine(adler1: u32, adler2: u32, len2: u64) -> u32 {
    const BASE: u64 = 65521;
    let rem = len2 % BASE;
    let mut sum1 = u64::from(adler1 & 0xffff);
    let mut sum2 = (rem * sum1) % BASE;
    sum1 += u64::from(adler2 & 0xffff) + BASE - 1;
    sum2 += u64::from(adler1 >> 16) + u64::from(adler2 >> 16) + BASE - rem;
    if sum1 >= BASE {
        sum1 -= BASE;
    }
    if sum1 >= BASE {
        sum1 -= BASE;
    }
    if sum2 >= BASE << 1 {
        sum2 -= BASE << 1;
    }
    if sum2 >= BASE {
        sum2 -= BASE;
    }
    (sum1 | (sum2 << 16)) as u32
}

/// Running checksum of the uncompressed data, the kind the format's trailer carries
/// (computed with libdeflate's vectorised CRC-32 / Adler-32).
#[derive(Clone, Copy)]
pub(crate) enum Check {
    None,
    Adler(u32),
    Crc(u32),
}

impl Check {
    pub(crate) fn new(format: Format) -> Self {
        match format {
            Format::Deflate => Check::None,
            Format::Zlib => Check::Adler(1),
            Format::Gzip => Check::Crc(0),
        }
    }

    pub(crate) fn update(&mut self, data: &[u8]) {
        use crate::software::libdeflate;
        match self {
            Check::None => {}
            Check::Adler(a) => *a = libdeflate::adler32(*a, data),
            Check::Crc(c) => *c = libdeflate::crc32(*c, data),
        }
    }

    pub(crate) fn value(&self) -> u32 {
        match *self {
            Check::None => 0,
            Check::Adler(a) => a,
            Check::Crc(c) => c,
        }
    }
}

/// Checksum of a whole buffer for `format` (0 for raw deflate).
pub(crate) fn checksum(format: Format, data: &[u8]) -> u32 {
    let mut c = Check::new(format);
    c.update(data);
    c.value()
}

/// Combines the checksums of two consecutive pieces of data.
pub(crate) fn combine(format: Format, first: u32, second: u32, len2: u64) -> u32 {
    match format {
        Format::Deflate => 0,
        Format::Zlib => adler32_combine(first, second, len2),
        Format::Gzip => {
            let mut a = crc32fast::Hasher::new_with_initial_len(first, 0);
            let b = crc32fast::Hasher::new_with_initial_len(second, len2);
            a.combine(&b);
            a.finalize()
        }
    }
}

/// Header bytes for a new stream.
pub(crate) fn header(format: Format, level: u32, gzip: &GzipHeader) -> Result<Vec<u8>> {
    Ok(match format {
        Format::Deflate => Vec::new(),
        Format::Zlib => zlib_header(level).to_vec(),
        Format::Gzip => gzip.encode(level)?,
    })
}

/// A gzip header like [`GzipHeader::encode`] with an FEXTRA field holding `extra` (the
/// subfields, XLEN excluded; at most 65535 bytes).
pub(crate) fn gzip_header_with_extra(gzip: &GzipHeader, level: u32, extra: &[u8]) -> Result<Vec<u8>> {
    let xlen = u16::try_from(extra.len())
        .map_err(|_| Error::InvalidHeader(format!("extra field of {} bytes (at most 65535)", extra.len())))?;
    let mut h = gzip.encode(level)?;
    h[3] |= FEXTRA;
    let mut x = xlen.to_le_bytes().to_vec();
    x.extend_from_slice(extra);
    h.splice(10..10, x);
    Ok(h)
}

/// The FEXTRA field (XLEN excluded) of the gzip header at the start of `buf`, when it has
/// one; `buf` must hold a header [`GzipHeader::parse`] accepted.
pub(crate) fn gzip_extra(buf: &[u8]) -> Option<&[u8]> {
    if buf.len() < 12 || buf[3] & FEXTRA == 0 {
        return None;
    }
    let xlen = u16::from_le_bytes([buf[10], buf[11]]) as usize;
    buf.get(12..12 + xlen)
}

/// Trailer bytes for a stream with checksum `check` over `len` uncompressed bytes.
pub(crate) fn trailer(format: Format, check: u32, len: u64) -> Vec<u8> {
    match format {
        Format::Deflate => Vec::new(),
        Format::Zlib => check.to_be_bytes().to_vec(),
        Format::Gzip => {
            let mut t = check.to_le_bytes().to_vec();
            t.extend_from_slice(&(len as u32).to_le_bytes());
            t
        }
    }
}

/// Trailer length of `format`.
pub(crate) fn trailer_len(format: Format) -> usize {
    match format {
        Format::Deflate => 0,
        Format::Zlib => 4,
        Format::Gzip => 8,
    }
}

/// Verifies a complete trailer against the computed checksum and length.
pub(crate) fn verify_trailer(format: Format, t: &[u8], check: u32, len: u64) -> Result<()> {
    let (expected, kind) = match format {
        Format::Deflate => return Ok(()),
        Format::Zlib => (u32::from_be_bytes([t[0], t[1], t[2], t[3]]), "adler32"),
        Format::Gzip => (u32::from_le_bytes([t[0], t[1], t[2], t[3]]), "crc32"),
    };
    if expected != check {
        return Err(Error::Checksum {
            format,
            kind,
            detail: format!("trailer says {expected:#010x}, data gives {check:#010x}"),
        });
    }
    if format == Format::Gzip {
        let isize = u32::from_le_bytes([t[4], t[5], t[6], t[7]]);
        if isize != len as u32 {
            return Err(Error::Checksum {
                format,
                kind: "gzip ISIZE",
                detail: format!("trailer says {isize} bytes, data has {} (mod 2^32)", len as u32),
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zlib_header_matches_zlib_for_default_level() {
        assert_eq!(zlib_header(6), [0x78, 0x9c]);
        assert_eq!(zlib_header(1), [0x78, 0x01]);
        assert_eq!(zlib_header(9), [0x78, 0xda]);
        for l in 0..=9 {
            check_zlib_header(zlib_header(l)).unwrap();
        }
    }

    #[test]
    fn checksums_combine() {
        let data: Vec<u8> = (0..100_000u32).map(|i| (i * 7 % 251) as u8).collect();
        for f in [Format::Zlib, Format::Gzip] {
            let (a, b) = data.split_at(33_333);
            let c = combine(f, checksum(f, a), checksum(f, b), b.len() as u64);
            assert_eq!(c, checksum(f, &data), "{f}");
        }
    }

    #[test]
    fn gzip_header_round_trip_with_all_fields() {
        let h = GzipHeader {
            name: Some(b"a.txt".to_vec()),
            comment: Some(b"hi".to_vec()),
            mtime: 42,
            os: 3,
        };
        let bytes = h.encode(9).unwrap();
        let (back, n) = GzipHeader::parse(&bytes).unwrap().unwrap();
        assert_eq!((back, n), (h, bytes.len()));
        for cut in 0..bytes.len() {
            assert!(GzipHeader::parse(&bytes[..cut]).unwrap().is_none());
        }
    }

    #[test]
    fn gzip_header_rejects_bad_input() {
        assert!(GzipHeader::parse(b"\x1f\x8c").is_err());
        assert!(GzipHeader::parse(b"\x1f\x8b\x07").is_err());
        assert!(GzipHeader::parse(b"\x1f\x8b\x08\xe0\0\0\0\0\0\x03").is_err());
        let h = GzipHeader {
            name: Some(b"a\0b".to_vec()),
            ..Default::default()
        };
        assert!(h.encode(6).is_err());
        let mut long = b"\x1f\x8b\x08\x08\0\0\0\0\0\x03".to_vec();
        long.resize(10 + MAX_GZIP_FIELD + 2, b'a');
        assert!(GzipHeader::parse(&long).is_err());
    }

    #[test]
    fn gzip_extra_field_is_written_and_found_and_readers_skip_it() {
        let h = GzipHeader {
            name: Some(b"x.txt".to_vec()),
            mtime: 5,
            os: 3,
            ..Default::default()
        };
        let bytes = gzip_header_with_extra(&h, 6, b"UZ\x02\x00ab").unwrap();
        let (back, n) = GzipHeader::parse(&bytes).unwrap().unwrap();
        assert_eq!((back, n), (h, bytes.len()));
        assert_eq!(gzip_extra(&bytes), Some(&b"UZ\x02\x00ab"[..]));
        assert_eq!(gzip_extra(&GzipHeader::default().encode(6).unwrap()), None);
        assert!(gzip_header_with_extra(&GzipHeader::default(), 6, &vec![0; 70_000]).is_err());
    }

    #[test]
    fn gzip_header_crc_is_checked() {
        let mut b = b"\x1f\x8b\x08\x02\0\0\0\0\0\x03".to_vec();
        let crc = (crc32fast::hash(&b) & 0xffff) as u16;
        b.extend_from_slice(&crc.to_le_bytes());
        assert_eq!(GzipHeader::parse(&b).unwrap().unwrap().1, 12);
        let n = b.len();
        b[n - 1] ^= 1;
        assert!(matches!(GzipHeader::parse(&b), Err(Error::Checksum { .. })));
    }
}
