//! The block index: where the independently decodable pieces of a stream start, so that
//! decompression can run them on every core or every device queue at once
//! (`parallel_decompress.rs`), while every other reader still sees a plain stream.
//!
//! ## What it says
//!
//! An [`Index`] is a list of [`Entry`]s, one per piece of the deflate data in order: its
//! compressed length (bytes; every piece starts and ends on a byte boundary), its
//! uncompressed length, the checksum of its uncompressed bytes (CRC-32 for gzip and raw
//! deflate, Adler-32 for zlib) and whether it needs the 32 KiB of output before it (a piece
//! after a sync flush) or starts without history (after a full flush, or a new block of the
//! parallel compressor). The per-piece checksums let a decoder check every piece on its own
//! and the whole stream by combining them (CRC-32 / Adler-32 combine) against the trailer;
//! for raw deflate they are the only check there is.
//!
//! ## The record (the bytes the index is stored as)
//!
//! ```text
//! u16 LE  payload length
//! payload:
//!   u8      version (1)
//!   u8      flags: bit 0 = checks are Adler-32 (else CRC-32),
//!                  bit 1 = the last piece ends with the final deflate block
//!   varint  number of entries (LEB128)
//!   per entry: varint (compressed << 1 | needs_window), varint uncompressed, u32 LE check
//! u32 LE  CRC-32 of the payload
//! ```
//!
//! About 8–12 bytes per piece and 8 bytes of framing. Records stay within
//! [`MAX_RECORD`] bytes: a writer with more pieces merges neighbours
//! ([`Index::fit`]), which is always valid (a piece may span several deflate blocks).
//!
//! ## Where it is stored (so that every other reader ignores it)
//!
//! * **gzip, one-shot** (the parallel compressor): an FEXTRA subfield with ID `'U','Z'`
//!   ([`SUBFIELD_ID`]) holding the record (RFC 1952 §2.3.1.1: readers skip subfields they do
//!   not know; `gzip`, zlib, Python and libdeflate all do). Pieces start at the first byte
//!   of the deflate data. Cost: 4 bytes of FEXTRA framing + the record.
//! * **zlib and raw deflate, one-shot**: a *carrier* of empty stored blocks at the start of
//!   the deflate data. RFC 1951 §3.2.4: after a stored block's 3 header bits, "any bits of
//!   input up to the next byte boundary are ignored"; a non-final empty stored block that
//!   starts on a byte boundary is `bbbbb000 00 00 ff ff`, five bytes whose five `b` bits every
//!   inflater skips. The record's bits (LSB first), zero-padded to a multiple of 5, then a
//!   40-bit footer (`"UZI"`, u16 LE total group count) fill one such block per 5 bits.
//!   Pieces start right after the carrier. Cost: 8 bytes per record byte (about 1 KiB for a
//!   64 MiB stream in 8 pieces: 0.004% of its compressed size).
//! * **streams** (the streaming compressor with [`crate::Config::stream_index`], every
//!   format): the index is only known at the end, so the last piece ends with a full flush
//!   and the deflate data ends with the carrier followed by a final empty stored block
//!   (`01 00 00 ff ff`); pieces start at the first byte of the deflate data. A reader finds
//!   it from the end of the input (single-stream inputs only).
//!
//! Nothing in an index is trusted: a decoder checks every piece (length, exact end on the
//! piece boundary, checksum) and the combined checksum against the trailer, and falls back
//! to ordinary sequential decoding when anything disagrees.
//!
//! ```
//! use uadk_zip::index::{CheckKind, Entry, Index};
//! let idx = Index {
//!     kind: CheckKind::Crc32,
//!     last_final: true,
//!     entries: vec![
//!         Entry { compressed: 1000, uncompressed: 4096, check: 0x1234_5678, needs_window: false },
//!         Entry { compressed: 900, uncompressed: 4000, check: 0x9abc_def0, needs_window: false },
//!     ],
//! };
//! let record = idx.encode();
//! assert_eq!(Index::decode(&record).unwrap(), (idx.clone(), record.len()));
//! let carrier = uadk_zip::index::carrier(&record);
//! assert_eq!(uadk_zip::index::parse_carrier(&carrier), Some((idx, carrier.len())));
//! ```

use crate::format::Format;

/// The gzip FEXTRA subfield ID of the index (`SI1 = 'U'`, `SI2 = 'Z'`).
pub const SUBFIELD_ID: [u8; 2] = *b"UZ";
/// Index record version written and read.
pub const VERSION: u8 = 1;
/// Largest record written (and read): keeps a gzip FEXTRA field within its 65535-byte limit
/// and a carrier within 262 144 bytes.
pub const MAX_RECORD: usize = 32 * 1024;
/// Magic of the carrier footer.
const MAGIC: &[u8; 3] = b"UZI";
/// Bytes of one carrier group (an empty non-final stored block on a byte boundary).
pub const GROUP: usize = 5;
/// Groups of the carrier footer (40 bits).
const FOOTER_GROUPS: usize = 8;
/// The final empty stored block that ends a stream whose index sits at its end.
pub const FINAL_EMPTY: [u8; 5] = [0x01, 0x00, 0x00, 0xff, 0xff];

const FLAG_ADLER: u8 = 1;
const FLAG_LAST_FINAL: u8 = 2;

/// Which checksum the entries carry.
///
/// ```
/// use uadk_zip::{index::CheckKind, Format};
/// assert_eq!(CheckKind::for_format(Format::Zlib), CheckKind::Adler32);
/// assert_eq!(CheckKind::for_format(Format::Deflate), CheckKind::Crc32);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CheckKind {
    /// CRC-32 (gzip's; also used for raw deflate, which has no checksum of its own).
    Crc32,
    /// Adler-32 (zlib's).
    Adler32,
}

impl CheckKind {
    /// The kind an index of a `format` stream carries.
    pub fn for_format(format: Format) -> CheckKind {
        match format {
            Format::Zlib => CheckKind::Adler32,
            Format::Gzip | Format::Deflate => CheckKind::Crc32,
        }
    }

    /// The checksum of `data`.
    ///
    /// ```
    /// use uadk_zip::index::CheckKind;
    /// assert_eq!(CheckKind::Crc32.of(b"123456789"), 0xcbf4_3926);
    /// assert_eq!(CheckKind::Adler32.of(b""), 1);
    /// ```
    pub fn of(self, data: &[u8]) -> u32 {
        crate::format::checksum(self.format(), data)
    }

    /// The checksum of `a` followed by `b`, from the checksums of each and `b`'s length.
    ///
    /// ```
    /// use uadk_zip::index::CheckKind;
    /// let k = CheckKind::Crc32;
    /// assert_eq!(k.combine(k.of(b"ab"), k.of(b"cd"), 2), k.of(b"abcd"));
    /// ```
    pub fn combine(self, a: u32, b: u32, len_b: u64) -> u32 {
        crate::format::combine(self.format(), a, b, len_b)
    }

    /// `value` (the checksum so far) continued over `data`.
    ///
    /// ```
    /// use uadk_zip::index::CheckKind;
    /// let k = CheckKind::Adler32;
    /// assert_eq!(k.update(k.of(b"ab"), b"cd"), k.of(b"abcd"));
    /// ```
    pub fn update(self, value: u32, data: &[u8]) -> u32 {
        let mut c = match self {
            CheckKind::Crc32 => crate::format::Check::Crc(value),
            CheckKind::Adler32 => crate::format::Check::Adler(value),
        };
        c.update(data);
        c.value()
    }

    /// The checksum of no data.
    pub fn empty(self) -> u32 {
        self.of(&[])
    }

    fn format(self) -> Format {
        match self {
            CheckKind::Crc32 => Format::Gzip,
            CheckKind::Adler32 => Format::Zlib,
        }
    }
}

/// One piece of the deflate data.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Entry {
    /// Compressed bytes (the piece starts and ends on a byte boundary).
    pub compressed: u64,
    /// Uncompressed bytes it decodes to.
    pub uncompressed: u64,
    /// Checksum of those bytes ([`Index::kind`]).
    pub check: u32,
    /// Whether decoding it needs the 32 KiB of output before it (else it starts without
    /// history and can be decoded on its own).
    pub needs_window: bool,
}

/// A stream's block index.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Index {
    /// Checksum of the entries.
    pub kind: CheckKind,
    /// The last entry ends with the final deflate block (one-shot layouts); otherwise the
    /// last entry ends non-final and the stream goes on with the carrier and a final empty
    /// block (stream layout).
    pub last_final: bool,
    /// The pieces, in stream order.
    pub entries: Vec<Entry>,
}

/// Why bytes are not an index record.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum IndexError {
    /// Fewer bytes than the record says it has.
    #[error("index record truncated")]
    Truncated,
    /// The record's CRC-32 does not match its payload.
    #[error("index record checksum mismatch")]
    Checksum,
    /// A version this reader does not know.
    #[error("index version {0} is not supported (this reader knows version 1)")]
    Version(u8),
    /// Anything else that cannot be (entries, varints, lengths, flags).
    #[error("malformed index: {0}")]
    Malformed(&'static str),
}

fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn get_varint(buf: &[u8], pos: &mut usize) -> Result<u64, IndexError> {
    let mut v = 0u64;
    for i in 0..10 {
        let b = *buf
            .get(*pos)
            .ok_or(IndexError::Malformed("varint runs past the payload"))?;
        *pos += 1;
        let bits = u64::from(b & 0x7f);
        if i == 9 && bits > 1 {
            return Err(IndexError::Malformed("varint overflows 64 bits"));
        }
        v |= bits << (7 * i);
        if b & 0x80 == 0 {
            if i > 0 && b == 0 {
                return Err(IndexError::Malformed("overlong varint"));
            }
            return Ok(v);
        }
    }
    Err(IndexError::Malformed("varint longer than 10 bytes"))
}

impl Index {
    /// Sum of the entries' compressed lengths (saturating).
    pub fn total_compressed(&self) -> u64 {
        self.entries
            .iter()
            .fold(0u64, |a, e| a.saturating_add(e.compressed))
    }

    /// Sum of the entries' uncompressed lengths (saturating).
    pub fn total_uncompressed(&self) -> u64 {
        self.entries
            .iter()
            .fold(0u64, |a, e| a.saturating_add(e.uncompressed))
    }

    /// The checksum of the whole uncompressed data, combined from the entries.
    ///
    /// ```
    /// use uadk_zip::index::{CheckKind, Entry, Index};
    /// let k = CheckKind::Adler32;
    /// let e = |d: &[u8]| Entry { compressed: 1, uncompressed: d.len() as u64, check: k.of(d), needs_window: false };
    /// let idx = Index { kind: k, last_final: true, entries: vec![e(b"abc"), e(b"def")] };
    /// assert_eq!(idx.combined_check(), k.of(b"abcdef"));
    /// ```
    pub fn combined_check(&self) -> u32 {
        self.entries.iter().fold(self.kind.empty(), |c, e| {
            self.kind.combine(c, e.check, e.uncompressed)
        })
    }

    fn payload(&self) -> Vec<u8> {
        let mut p = vec![VERSION];
        let mut flags = 0;
        if self.kind == CheckKind::Adler32 {
            flags |= FLAG_ADLER;
        }
        if self.last_final {
            flags |= FLAG_LAST_FINAL;
        }
        p.push(flags);
        put_varint(&mut p, self.entries.len() as u64);
        for e in &self.entries {
            put_varint(&mut p, (e.compressed << 1) | u64::from(e.needs_window));
            put_varint(&mut p, e.uncompressed);
            p.extend_from_slice(&e.check.to_le_bytes());
        }
        p
    }

    /// The record bytes (see the module doc). Call [`fit`](Index::fit) first when the index
    /// may have many entries.
    pub fn encode(&self) -> Vec<u8> {
        let p = self.payload();
        let mut r = Vec::with_capacity(p.len() + 6);
        r.extend_from_slice(&(p.len().min(u16::MAX as usize) as u16).to_le_bytes());
        r.extend_from_slice(&p);
        r.extend_from_slice(&crc32fast::hash(&p).to_le_bytes());
        r
    }

    /// Merges neighbouring entries until the record fits [`MAX_RECORD`] bytes (a merged
    /// entry needs a window when its first part did). Compressed lengths must stay below
    /// 2^63.
    ///
    /// ```
    /// use uadk_zip::index::{CheckKind, Entry, Index, MAX_RECORD};
    /// let k = CheckKind::Crc32;
    /// let e = Entry { compressed: 1 << 40, uncompressed: 1 << 41, check: 7, needs_window: false };
    /// let mut idx = Index { kind: k, last_final: true, entries: vec![e; 10_000] };
    /// let before = idx.total_uncompressed();
    /// idx.fit();
    /// assert!(idx.encode().len() <= MAX_RECORD);
    /// assert_eq!(idx.total_uncompressed(), before);
    /// ```
    pub fn fit(&mut self) {
        while self.encode().len() > MAX_RECORD && self.entries.len() > 1 {
            let kind = self.kind;
            self.entries = self
                .entries
                .chunks(2)
                .map(|p| match p {
                    [a, b] => Entry {
                        compressed: a.compressed + b.compressed,
                        uncompressed: a.uncompressed + b.uncompressed,
                        check: kind.combine(a.check, b.check, b.uncompressed),
                        needs_window: a.needs_window,
                    },
                    [a] => *a,
                    _ => unreachable!("chunks(2) yields one or two"),
                })
                .collect();
        }
    }

    /// Parses a record at the start of `buf`; returns the index and the record's length.
    ///
    /// Checks the record's CRC, the version, the flags, every varint, that there is at
    /// least one entry, that the first entry needs no window, that every compressed length
    /// is at least 1 and that the totals do not overflow. Never panics.
    ///
    /// ```
    /// use uadk_zip::index::{Index, IndexError};
    /// assert_eq!(Index::decode(&[5, 0, 1]), Err(IndexError::Truncated));
    /// ```
    pub fn decode(buf: &[u8]) -> Result<(Index, usize), IndexError> {
        let len = buf.get(..2).ok_or(IndexError::Truncated)?;
        let len = u16::from_le_bytes([len[0], len[1]]) as usize;
        let total = 2 + len + 4;
        let rec = buf.get(..total).ok_or(IndexError::Truncated)?;
        let p = &rec[2..2 + len];
        let crc = u32::from_le_bytes([rec[total - 4], rec[total - 3], rec[total - 2], rec[total - 1]]);
        if crc32fast::hash(p) != crc {
            return Err(IndexError::Checksum);
        }
        let (&version, rest) = p.split_first().ok_or(IndexError::Malformed("empty payload"))?;
        if version != VERSION {
            return Err(IndexError::Version(version));
        }
        let &flags = rest.first().ok_or(IndexError::Malformed("no flags"))?;
        if flags & !(FLAG_ADLER | FLAG_LAST_FINAL) != 0 {
            return Err(IndexError::Malformed("unknown flags"));
        }
        let mut pos = 2;
        let n = get_varint(p, &mut pos)?;
        // Every entry takes at least 6 bytes: more entries than that cannot fit.
        if n == 0 || n > (p.len() / 6) as u64 {
            return Err(IndexError::Malformed("entry count"));
        }
        let mut entries = Vec::with_capacity(n as usize);
        let (mut tc, mut tu) = (0u64, 0u64);
        for i in 0..n {
            let c = get_varint(p, &mut pos)?;
            let u = get_varint(p, &mut pos)?;
            let check = p
                .get(pos..pos + 4)
                .ok_or(IndexError::Malformed("entry runs past the payload"))?;
            pos += 4;
            let e = Entry {
                compressed: c >> 1,
                uncompressed: u,
                check: u32::from_le_bytes([check[0], check[1], check[2], check[3]]),
                needs_window: c & 1 == 1,
            };
            if e.compressed == 0 {
                return Err(IndexError::Malformed("an entry with no compressed bytes"));
            }
            if i == 0 && e.needs_window {
                return Err(IndexError::Malformed("the first entry cannot need a window"));
            }
            tc = tc
                .checked_add(e.compressed)
                .ok_or(IndexError::Malformed("total compressed length overflows"))?;
            tu = tu
                .checked_add(e.uncompressed)
                .ok_or(IndexError::Malformed("total uncompressed length overflows"))?;
            entries.push(e);
        }
        if pos != p.len() {
            return Err(IndexError::Malformed("bytes after the last entry"));
        }
        let kind = if flags & FLAG_ADLER != 0 {
            CheckKind::Adler32
        } else {
            CheckKind::Crc32
        };
        Ok((
            Index {
                kind,
                last_final: flags & FLAG_LAST_FINAL != 0,
                entries,
            },
            total,
        ))
    }
}

/// The gzip FEXTRA field (XLEN excluded) holding `record`: `'U' 'Z' LEN record`.
///
/// ```
/// let f = uadk_zip::index::gzip_subfield(&[1, 2, 3]);
/// assert_eq!(f, [b'U', b'Z', 3, 0, 1, 2, 3]);
/// ```
pub fn gzip_subfield(record: &[u8]) -> Vec<u8> {
    let mut f = Vec::with_capacity(4 + record.len());
    f.extend_from_slice(&SUBFIELD_ID);
    f.extend_from_slice(&(record.len() as u16).to_le_bytes());
    f.extend_from_slice(record);
    f
}

/// Finds the index subfield in a gzip FEXTRA field (XLEN excluded) and parses it; `None`
/// when there is none or it does not parse (subfields that run past the field end the
/// search).
///
/// ```
/// use uadk_zip::index::{gzip_subfield, find_in_extra, CheckKind, Entry, Index};
/// let idx = Index { kind: CheckKind::Crc32, last_final: true,
///     entries: vec![Entry { compressed: 5, uncompressed: 9, check: 1, needs_window: false }] };
/// let mut extra = vec![b'A', b'P', 2, 0, 7, 7]; // someone else's subfield first
/// extra.extend(gzip_subfield(&idx.encode()));
/// assert_eq!(find_in_extra(&extra), Some(idx));
/// ```
pub fn find_in_extra(extra: &[u8]) -> Option<Index> {
    let mut pos = 0;
    while let Some(h) = extra.get(pos..pos + 4) {
        let len = u16::from_le_bytes([h[2], h[3]]) as usize;
        let data = extra.get(pos + 4..pos + 4 + len)?;
        if h[..2] == SUBFIELD_ID {
            return match Index::decode(data) {
                Ok((idx, n)) if n == data.len() => Some(idx),
                _ => None,
            };
        }
        pos += 4 + len;
    }
    None
}

/// Packs `record` into a carrier of empty stored blocks (see the module doc).
///
/// ```
/// let c = uadk_zip::index::carrier(&[0xff]);
/// assert_eq!(c.len() % 5, 0);
/// assert!(c.chunks(5).all(|g| g[0] & 7 == 0 && g[1..] == [0, 0, 0xff, 0xff]));
/// ```
pub fn carrier(record: &[u8]) -> Vec<u8> {
    let data_bits = record.len() * 8;
    let data_groups = data_bits.div_ceil(5);
    let groups = data_groups + FOOTER_GROUPS;
    let bit = |buf: &[u8], i: usize| buf.get(i / 8).map_or(0, |b| (b >> (i % 8)) & 1);
    let mut footer = MAGIC.to_vec();
    footer.extend_from_slice(&(groups.min(u16::MAX as usize) as u16).to_le_bytes());
    let mut out = Vec::with_capacity(groups * GROUP);
    for g in 0..groups {
        let mut v = 0u8;
        for k in 0..5 {
            let b = if g < data_groups {
                bit(record, g * 5 + k)
            } else {
                bit(&footer, (g - data_groups) * 5 + k)
            };
            v |= b << k;
        }
        out.extend_from_slice(&[v << 3, 0, 0, 0xff, 0xff]);
    }
    out
}

/// The 5 payload bits of the carrier group at `buf[0..5]`, if it is one.
fn group_bits(buf: &[u8]) -> Option<u8> {
    match buf.get(..GROUP)? {
        [h, 0, 0, 0xff, 0xff] if h & 7 == 0 => Some(h >> 3),
        _ => None,
    }
}

/// Byte `byte` of the bit stream carried by the groups at the start of `buf`.
fn carrier_byte(buf: &[u8], byte: usize) -> Option<u8> {
    let mut v = 0u8;
    for k in 0..8 {
        let i = byte * 8 + k;
        let g = group_bits(buf.get((i / 5) * GROUP..)?)?;
        v |= ((g >> (i % 5)) & 1) << k;
    }
    Some(v)
}

/// Parses a carrier at the start of `buf` (the first bytes of deflate data); returns the
/// index and the carrier's length in bytes, or `None` when `buf` does not start with one.
///
/// ```
/// // A stream that starts with an ordinary empty stored block has no index.
/// assert_eq!(uadk_zip::index::parse_carrier(&[0, 0, 0, 0xff, 0xff, 3, 0]), None);
/// ```
pub fn parse_carrier(buf: &[u8]) -> Option<(Index, usize)> {
    let lo = carrier_byte(buf, 0)?;
    let hi = carrier_byte(buf, 1)?;
    let len = u16::from_le_bytes([lo, hi]) as usize;
    let rec_len = 2 + len + 4;
    if rec_len > MAX_RECORD {
        return None;
    }
    let data_groups = (rec_len * 8).div_ceil(5);
    let groups = data_groups + FOOTER_GROUPS;
    let bytes = groups * GROUP;
    let region = buf.get(..bytes)?;
    // The footer: its 40 bits start at group `data_groups`.
    let foot = &region[data_groups * GROUP..];
    let mut footer = [0u8; 5];
    for (i, f) in footer.iter_mut().enumerate() {
        *f = carrier_byte(foot, i)?;
    }
    if footer[..3] != MAGIC[..] || u16::from_le_bytes([footer[3], footer[4]]) as usize != groups {
        return None;
    }
    let mut rec = Vec::with_capacity(rec_len);
    for i in 0..rec_len {
        rec.push(carrier_byte(region, i)?);
    }
    // Padding bits after the record must be zero (one way to write each index).
    for i in rec_len * 8..data_groups * 5 {
        let g = group_bits(&region[(i / 5) * GROUP..])?;
        if (g >> (i % 5)) & 1 != 0 {
            return None;
        }
    }
    match Index::decode(&rec) {
        Ok((idx, n)) if n == rec_len => Some((idx, bytes)),
        _ => None,
    }
}

/// Finds a carrier that ends exactly at the end of `buf`; returns the index and the offset
/// where the carrier starts.
///
/// ```
/// use uadk_zip::index::{carrier, parse_carrier_at_end, CheckKind, Entry, Index};
/// let idx = Index { kind: CheckKind::Crc32, last_final: false,
///     entries: vec![Entry { compressed: 3, uncompressed: 1, check: 0, needs_window: false }] };
/// let mut body = vec![0xaa, 0xbb, 0xcc];
/// body.extend(carrier(&idx.encode()));
/// assert_eq!(parse_carrier_at_end(&body), Some((idx, 3)));
/// ```
pub fn parse_carrier_at_end(buf: &[u8]) -> Option<(Index, usize)> {
    let foot_start = buf.len().checked_sub(FOOTER_GROUPS * GROUP)?;
    let foot = &buf[foot_start..];
    let mut footer = [0u8; 5];
    for (i, f) in footer.iter_mut().enumerate() {
        *f = carrier_byte(foot, i)?;
    }
    if footer[..3] != MAGIC[..] {
        return None;
    }
    let groups = u16::from_le_bytes([footer[3], footer[4]]) as usize;
    let start = buf.len().checked_sub(groups * GROUP)?;
    match parse_carrier(&buf[start..]) {
        Some((idx, n)) if n == buf.len() - start => Some((idx, start)),
        _ => None,
    }
}

/// An indexed stream (or gzip member) found by [`locate`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Located {
    /// The index.
    pub index: Index,
    /// Offset of the first piece in the member (after the header and a leading carrier).
    pub data_start: usize,
    /// Offset where the deflate data ends and the trailer starts.
    pub body_end: usize,
}

/// Finds the index of the stream or gzip member that starts at `member[0]`, wherever this
/// crate stores it (gzip FEXTRA, a carrier at the start of the deflate data, or a carrier
/// at the end of a stream that runs to the end of `member`). Checks that the pieces and
/// the trailer fit inside `member`; `None` when there is no (usable) index.
///
/// ```
/// use uadk_zip::{Config, Format, Session};
/// let data: Vec<u8> = (0..3u32 << 20).map(|i| (i % 251) as u8 ^ (i >> 12) as u8).collect();
/// for format in [Format::Gzip, Format::Zlib, Format::Deflate] {
///     let s = Session::new(Config { format, threads: 2, ..Config::default() })?;
///     let z = s.compress(&data)?;
///     let found = uadk_zip::index::locate(format, &z).expect("parallel output is indexed");
///     assert_eq!(found.index.total_uncompressed(), data.len() as u64);
///     assert!(found.index.entries.len() >= 2);
/// }
/// assert!(uadk_zip::index::locate(Format::Gzip, &uadk_zip::compress(b"small", Format::Gzip)?).is_none());
/// # Ok::<(), uadk_zip::Error>(())
/// ```
pub fn locate(format: Format, member: &[u8]) -> Option<Located> {
    let tl = crate::format::trailer_len(format);
    if let Some(loc) = locate_at_start(format, member) {
        return (loc.body_end.checked_add(tl)? <= member.len()).then_some(loc);
    }
    // At the end (streams): pieces, carrier, final empty stored block, trailer.
    let hl = header_len(format, member)?;
    let body_end = member.len().checked_sub(tl)?;
    let before_final = body_end.checked_sub(FINAL_EMPTY.len())?;
    if before_final < hl || member[before_final..body_end] != FINAL_EMPTY {
        return None;
    }
    let (idx, carrier_at) = parse_carrier_at_end(&member[hl..before_final])?;
    if idx.last_final
        || idx.kind != CheckKind::for_format(format)
        || idx.total_compressed() != carrier_at as u64
    {
        return None;
    }
    Some(Located {
        index: idx,
        data_start: hl,
        body_end,
    })
}

/// Like [`locate`] for the layouts whose index comes before the data (gzip FEXTRA, a
/// leading carrier), from a prefix of the member: it does not check that the member is
/// complete (a streaming reader learns where it must end).
///
/// ```
/// use uadk_zip::{Config, Format, Session};
/// let data = vec![7u8; 3 << 20];
/// let z = Session::new(Config { format: Format::Zlib, threads: 2, ..Config::default() })?.compress(&data)?;
/// // A prefix of the stream is enough.
/// let loc = uadk_zip::index::locate_at_start(Format::Zlib, &z[..z.len() / 2]).unwrap();
/// assert_eq!(loc.body_end + 4, z.len());
/// # Ok::<(), uadk_zip::Error>(())
/// ```
pub fn locate_at_start(format: Format, member: &[u8]) -> Option<Located> {
    let hl = header_len(format, member)?;
    let (idx, start) = if format == Format::Gzip {
        let idx = crate::format::gzip_extra(member).and_then(find_in_extra)?;
        (idx, hl)
    } else {
        let (idx, n) = parse_carrier(&member[hl..])?;
        (idx, hl + n)
    };
    if !idx.last_final || idx.kind != CheckKind::for_format(format) {
        return None;
    }
    let body_end = start.checked_add(usize::try_from(idx.total_compressed()).ok()?)?;
    Some(Located {
        index: idx,
        data_start: start,
        body_end,
    })
}

/// The end of a stream's deflate data that carries `index` at its end (the "streams"
/// layout): the carrier and an empty final block. A streaming writer whose pieces all end
/// on a byte boundary without history across them (full flushes, independent windows)
/// writes this instead of its final block, then the trailer.
///
/// ```
/// use uadk_zip::index::{stream_tail, CheckKind, Entry, Index, FINAL_EMPTY};
/// let idx = Index { kind: CheckKind::Crc32, last_final: false,
///     entries: vec![Entry { compressed: 9, uncompressed: 4, check: 0, needs_window: false }; 2] };
/// assert!(stream_tail(&idx).ends_with(&FINAL_EMPTY));
/// ```
pub fn stream_tail(index: &Index) -> Vec<u8> {
    let mut idx = index.clone();
    idx.last_final = false;
    idx.fit();
    let mut t = carrier(&idx.encode());
    t.extend_from_slice(&FINAL_EMPTY);
    t
}

/// Finds the index of the stream (or first gzip member) in a seekable reader, wherever it
/// is stored, reading only the head and the tail; the reader is left at its start. For an
/// index at the end of a stream (which a streaming reader cannot see in time), hand the
/// result to [`crate::Decompressor::with_index`].
///
/// ```
/// use uadk_zip::{Config, Format, Session};
/// let z = Session::new(Config { format: Format::Zlib, threads: 2, ..Config::default() })?.compress(&vec![1u8; 3 << 20])?;
/// let loc = uadk_zip::index::locate_in_reader(Format::Zlib, &mut std::io::Cursor::new(&z))?.unwrap();
/// assert_eq!(loc.index.total_uncompressed(), 3 << 20);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn locate_in_reader<R: std::io::Read + std::io::Seek>(
    format: Format,
    r: &mut R,
) -> std::io::Result<Option<Located>> {
    use std::io::SeekFrom;
    let len = r.seek(SeekFrom::End(0))?;
    let read_at = |r: &mut R, at: u64, n: usize| -> std::io::Result<Vec<u8>> {
        r.seek(SeekFrom::Start(at))?;
        let mut v = Vec::with_capacity(n);
        std::io::Read::read_to_end(&mut std::io::Read::take(&mut *r, n as u64), &mut v)?;
        Ok(v)
    };
    const HEAD: usize = 512 * 1024;
    let head = read_at(r, 0, HEAD.min(len as usize))?;
    let tl = crate::format::trailer_len(format) as u64;
    let found = (|| {
        if let Some(loc) = locate_at_start(format, &head) {
            return (loc.body_end as u64 + tl <= len).then_some(loc);
        }
        let hl = header_len(format, &head)?;
        // The largest carrier, the final empty block and the trailer.
        let tail_n = ((MAX_RECORD * 8).div_ceil(5) * GROUP + 64 + FINAL_EMPTY.len()) as u64 + tl;
        let tail_at = len.saturating_sub(tail_n);
        let tail = read_at(r, tail_at, (len - tail_at) as usize).ok()?;
        let body_end = tail.len().checked_sub(tl as usize)?;
        let before_final = body_end.checked_sub(FINAL_EMPTY.len())?;
        if tail[before_final..body_end] != FINAL_EMPTY {
            return None;
        }
        let (idx, at) = parse_carrier_at_end(&tail[..before_final])?;
        let carrier_abs = tail_at + at as u64;
        if idx.last_final
            || idx.kind != CheckKind::for_format(format)
            || (hl as u64).checked_add(idx.total_compressed())? != carrier_abs
            || carrier_abs < hl as u64
        {
            return None;
        }
        Some(Located {
            index: idx,
            data_start: hl,
            body_end: usize::try_from(len - tl).ok()?,
        })
    })();
    r.seek(SeekFrom::Start(0))?;
    Ok(found)
}

/// Header length of a complete, valid header at the start of `member`.
fn header_len(format: Format, member: &[u8]) -> Option<usize> {
    match format {
        Format::Deflate => Some(0),
        Format::Zlib => {
            let h = member.get(..2)?;
            crate::format::check_zlib_header([h[0], h[1]]).ok()?;
            Some(2)
        }
        Format::Gzip => Some(crate::format::GzipHeader::parse(member).ok()??.1),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(n: usize) -> Index {
        Index {
            kind: CheckKind::Adler32,
            last_final: false,
            entries: (0..n)
                .map(|i| Entry {
                    compressed: 1 + (i as u64) * 977,
                    uncompressed: (i as u64) << 20,
                    check: (i as u32).wrapping_mul(0x9e37_79b9),
                    needs_window: i % 3 == 2,
                })
                .collect(),
        }
    }

    #[test]
    fn record_round_trips_and_every_truncation_or_bit_flip_is_refused() {
        let idx = sample(7);
        let rec = idx.encode();
        assert_eq!(Index::decode(&rec).unwrap(), (idx, rec.len()));
        for cut in 0..rec.len() {
            assert!(Index::decode(&rec[..cut]).is_err(), "cut {cut}");
        }
        for i in 0..rec.len() * 8 {
            let mut r = rec.clone();
            r[i / 8] ^= 1 << (i % 8);
            if let Ok((_, n)) = Index::decode(&r) {
                // Only a length change can still frame a valid (shorter/longer) record,
                // and then its CRC would have to match: never for a single bit flip here.
                panic!("bit {i} flipped still parsed ({n} bytes)");
            }
        }
    }

    #[test]
    fn malformed_payloads_are_refused() {
        let frame = |p: &[u8]| {
            let mut r = (p.len() as u16).to_le_bytes().to_vec();
            r.extend_from_slice(p);
            r.extend_from_slice(&crc32fast::hash(p).to_le_bytes());
            r
        };
        let cases: &[(&[u8], &str)] = &[
            (&[], "empty"),
            (&[2, 0, 1, 2, 1, 0, 0, 0, 0], "version"),
            (&[1, 4, 1, 2, 1, 0, 0, 0, 0], "flags"),
            (&[1, 0, 0], "no entries"),
            (&[1, 0, 1, 0, 1, 0, 0, 0, 0], "zero compressed"),
            (&[1, 0, 1, 3, 1, 0, 0, 0, 0], "first needs window"),
            (&[1, 0, 1, 2, 1, 0, 0, 0], "short check"),
            (&[1, 0, 1, 2, 1, 0, 0, 0, 0, 9], "trailing byte"),
            (&[1, 0, 200, 2, 1, 0, 0, 0, 0], "count too large"),
            (&[1, 0, 0x81, 0, 2, 1, 0, 0, 0, 0], "overlong varint"),
            (
                &[
                    1, 0, 1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f, 1, 0, 0, 0, 0,
                ],
                "varint overflow",
            ),
        ];
        for (p, what) in cases {
            assert!(Index::decode(&frame(p)).is_err(), "{what}");
        }
        // Totals that overflow u64.
        let mut p = vec![1, 0, 2];
        for _ in 0..2 {
            put_varint(&mut p, 2);
            put_varint(&mut p, u64::MAX - 1);
            p.extend_from_slice(&[0; 4]);
        }
        assert!(Index::decode(&frame(&p)).is_err());
    }

    #[test]
    fn carrier_round_trips_at_start_and_end_and_rejects_damage() {
        for n in [1, 2, 5, 40] {
            let idx = sample(n);
            let c = carrier(&idx.encode());
            assert_eq!(parse_carrier(&c), Some((idx.clone(), c.len())));
            let mut tail = b"deflate data".to_vec();
            tail.extend_from_slice(&c);
            assert_eq!(parse_carrier_at_end(&tail), Some((idx.clone(), 12)));
            for i in (0..c.len()).step_by(7) {
                let mut d = c.clone();
                d[i] ^= 0x08;
                assert_eq!(parse_carrier(&d), None, "byte {i}");
            }
            assert_eq!(parse_carrier(&c[..c.len() - 1]), None);
        }
    }

    #[test]
    fn every_inflater_sees_a_carrier_as_nothing() {
        let idx = sample(3);
        let mut raw = carrier(&idx.encode());
        raw.extend_from_slice(&[0x03, 0x00]); // final empty fixed block
        let out = crate::software::zlib::decompress(Format::Deflate, &raw, 10).unwrap();
        assert!(out.is_empty());
    }

    #[test]
    fn extra_field_scan_handles_foreign_and_broken_subfields() {
        let idx = sample(2);
        let sub = gzip_subfield(&idx.encode());
        assert_eq!(find_in_extra(&sub), Some(idx.clone()));
        let mut broken = sub.clone();
        broken[3] = 0xff; // LEN past the field
        assert_eq!(find_in_extra(&broken), None);
        assert_eq!(find_in_extra(b"AP"), None);
        assert_eq!(find_in_extra(&[]), None);
    }
}
