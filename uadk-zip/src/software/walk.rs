//! A deflate block walker: finds where the final block of a raw deflate stream starts and
//! where the stream ends, without producing any output.
//!
//! Parallel compression at levels 4..=9 compresses each block of the input with libdeflate,
//! which always ends its output with a final block (BFINAL = 1). To join such pieces into one
//! stream, the final block's BFINAL bit is cleared and an empty stored block (a sync flush)
//! is appended to reach a byte boundary ([`make_nonfinal`]). Finding that bit means walking
//! every block: Huffman symbols are decoded only as far as needed to skip them (code length
//! plus extra bits, precomputed in one table entry), never expanded into output, so a walk
//! costs a small fraction of an inflate.
//!
//! The walker is safe Rust, bounds-checked, and returns an error for any malformed input (it
//! is fuzzed against zlib: whatever zlib inflates, the walker must walk to the same end). It
//! does not check what only the decoded data reveals (distances reaching before the start);
//! its callers use it on libdeflate's output and verify that the walk ends exactly at the end
//! of that output.

use crate::error::{Error, Result};
use crate::format::Format;

/// Where the final block of a raw deflate stream lies, in bits from the stream's start.
///
/// ```
/// use uadk_zip::software::walk::{final_block, FinalBlock};
/// // A fixed-Huffman final block holding only its end-of-block code: BFINAL at bit 0, ten bits.
/// assert_eq!(final_block(&[0x03, 0x00]).unwrap(), FinalBlock { header_bit: 0, end_bit: 10 });
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FinalBlock {
    /// Offset of the final block's BFINAL bit (the first bit of its header).
    pub header_bit: u64,
    /// Offset just past the final block (its end-of-block code, or a stored block's data).
    pub end_bit: u64,
}

fn bad(detail: &'static str) -> Error {
    Error::corrupt(Format::Deflate, detail)
}

fn truncated() -> Error {
    Error::Truncated {
        format: Format::Deflate,
    }
}

/// LSB-first bit reader over a byte slice. Reads past the end yield zero bits, counted so that
/// the walk can fail as truncated (and cannot loop for ever on an endless run of zeros).
#[derive(Clone, Copy)]
struct Bits<'a> {
    data: &'a [u8],
    /// Next byte to load (may run past `data.len()` by the zero bytes loaded beyond it).
    pos: usize,
    buf: u64,
    /// Valid bits in `buf` (bits above them are either zero or the true next stream bits).
    count: u32,
}

/// Bits guaranteed in the buffer after `refill`: enough for a length code, its extra bits, a
/// distance code and its extra bits (15 + 5 + 15 + 13 = 48).
const REFILLED: u32 = 56;

impl<'a> Bits<'a> {
    fn new(data: &'a [u8]) -> Self {
        Bits {
            data,
            pos: 0,
            buf: 0,
            count: 0,
        }
    }

    /// Tops the buffer up to at least [`REFILLED`] bits.
    #[inline(always)]
    fn refill(&mut self) -> Result<()> {
        // At most 63 bits are ever held; more means a step overran its refill (never expected).
        if self.count > 63 {
            return Err(bad("bit reader overrun"));
        }
        if let Some(w) = self.data.get(self.pos..self.pos.wrapping_add(8)) {
            let w: [u8; 8] = w.try_into().unwrap_or([0; 8]);
            // Whole bytes are counted; the bits of a partly loaded byte above `count` are the
            // true stream bits, so loading that byte again later ORs in the same values.
            self.buf |= u64::from_le_bytes(w) << self.count;
            self.pos += ((63 - self.count) >> 3) as usize;
            self.count |= REFILLED;
            return Ok(());
        }
        while self.count < REFILLED {
            let b = self.data.get(self.pos).copied().unwrap_or(0);
            self.buf |= u64::from(b) << self.count;
            self.pos += 1;
            self.count += 8;
        }
        // Eight zero bytes beyond the end are already more than any single step needs.
        if self.pos > self.data.len() + 8 {
            return Err(truncated());
        }
        Ok(())
    }

    /// The next `n` (≤ 32) bits without consuming them; call after `refill`.
    #[inline(always)]
    fn peek(&self, n: u32) -> u32 {
        (self.buf & ((1u64 << n) - 1)) as u32
    }

    /// Drops `n` (< 32) bits. Callers consume at most what the last refill guaranteed; were
    /// that ever broken, `count` wraps and the next refill reports corrupt data (no panic).
    #[inline(always)]
    fn consume(&mut self, n: u32) {
        self.buf >>= n & 31;
        self.count = self.count.wrapping_sub(n);
    }

    /// Reads `n` (≤ 16) bits.
    fn take(&mut self, n: u32) -> Result<u32> {
        self.refill()?;
        let v = self.peek(n);
        self.consume(n);
        Ok(v)
    }

    /// Bit offset of the next unread bit (may exceed the data's bits after reading zeros).
    fn bit_pos(&self) -> u64 {
        (self.pos as u64 * 8).saturating_sub(u64::from(self.count))
    }
}

/// Table entry kinds (bits 8..12 of an entry; bits 0..8 hold the bits to consume, code plus
/// extra bits; a subtable link holds its index width in bits 0..8 and its offset in 16..32).
const KIND_SHIFT: u32 = 8;
const LIT: u32 = 0;
const LEN: u32 = 1;
const EOB: u32 = 2;
const BAD: u32 = 3;
const SUB: u32 = 4;
const BAD_ENTRY: u32 = BAD << KIND_SHIFT;

#[inline(always)]
fn kind(e: u32) -> u32 {
    (e >> KIND_SHIFT) & 0xff
}

#[inline(always)]
fn nbits(e: u32) -> u32 {
    e & 0xff
}

/// Extra bits of length symbols 257..=285.
const LEN_EXTRA: [u8; 29] = [
    0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0,
];
/// Extra bits of distance symbols 0..=29.
const DIST_EXTRA: [u8; 30] = [
    0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13,
];

/// What a symbol of each alphabet means to the walker: (kind, extra bits).
#[derive(Clone, Copy)]
enum Alphabet {
    LitLen,
    Dist,
    CodeLen,
}

impl Alphabet {
    fn meaning(self, sym: usize) -> (u32, u32) {
        match self {
            Alphabet::LitLen => match sym {
                0..=255 => (LIT, 0),
                256 => (EOB, 0),
                257..=285 => (LEN, u32::from(LEN_EXTRA[sym - 257])),
                _ => (BAD, 0),
            },
            Alphabet::Dist => match DIST_EXTRA.get(sym) {
                Some(&x) => (LIT, u32::from(x)),
                None => (BAD, 0),
            },
            // Code-length symbols: the entry holds the symbol itself in bits 16..32.
            Alphabet::CodeLen => (LIT, 0),
        }
    }
}

/// A two-level decoding table: `1 << primary` entries indexed by the next bits, then
/// subtables for longer codes.
struct Table {
    primary: u32,
    entries: Vec<u32>,
}

impl Table {
    /// Builds the canonical Huffman table for code lengths `lens` (0 = unused symbol).
    /// Over-subscribed codes are errors; unused codes of an incomplete set decode as errors.
    fn build(lens: &[u8], alphabet: Alphabet, primary: u32) -> Result<Table> {
        let mut count = [0u32; 16];
        for &l in lens {
            let l = usize::from(l);
            if l > 15 {
                return Err(bad("code length above 15"));
            }
            count[l] += 1;
        }
        count[0] = 0;
        let mut left: i64 = 1;
        for &c in &count[1..] {
            left = (left << 1) - i64::from(c);
            if left < 0 {
                return Err(bad("over-subscribed Huffman code"));
            }
        }
        let mut next = [0u32; 16];
        let mut code = 0u32;
        for l in 1..16 {
            code = (code + count[l - 1]) << 1;
            next[l] = code;
        }
        let max = (1..16).rev().find(|&l| count[l] > 0).unwrap_or(0) as u32;
        let sub_bits = max.saturating_sub(primary);
        let mut entries = vec![BAD_ENTRY; 1 << primary];
        for (sym, &l) in lens.iter().enumerate() {
            if l == 0 {
                continue;
            }
            let l = u32::from(l);
            let c = next[l as usize];
            next[l as usize] += 1;
            let rev = (c.reverse_bits() >> (32 - l)) as usize;
            let (k, extra) = alphabet.meaning(sym);
            let e = match alphabet {
                Alphabet::CodeLen => ((sym as u32) << 16) | (k << KIND_SHIFT) | l,
                _ if k == BAD => BAD_ENTRY,
                _ => (k << KIND_SHIFT) | (l + extra),
            };
            if l <= primary {
                let mut j = rev;
                while j < 1 << primary {
                    entries[j] = e;
                    j += 1 << l;
                }
                continue;
            }
            let low = rev & ((1 << primary) - 1);
            let link = entries[low];
            let base = match kind(link) {
                SUB => (link >> 16) as usize,
                BAD if link == BAD_ENTRY => {
                    let base = entries.len();
                    if base > 0xffff {
                        return Err(bad("Huffman table too large"));
                    }
                    entries.resize(base + (1 << sub_bits), BAD_ENTRY);
                    entries[low] = ((base as u32) << 16) | (SUB << KIND_SHIFT) | sub_bits;
                    base
                }
                // A shorter code already owns this prefix: not a prefix code.
                _ => return Err(bad("inconsistent Huffman code")),
            };
            let mut j = rev >> primary;
            while j < 1 << sub_bits {
                entries[base + j] = e;
                j += 1 << (l - primary);
            }
        }
        if matches!(alphabet, Alphabet::LitLen) {
            pack_literals(&mut entries, primary);
        }
        Ok(Table { primary, entries })
    }

    /// The entry for the next bits (`bits` holds at least 15 valid bits).
    #[inline(always)]
    fn lookup(&self, bits: u64) -> u32 {
        let mask = (1u64 << self.primary) - 1;
        let e = self
            .entries
            .get((bits & mask) as usize)
            .copied()
            .unwrap_or(BAD_ENTRY);
        if kind(e) != SUB {
            return e;
        }
        let sub = ((bits >> self.primary) & ((1u64 << nbits(e)) - 1)) as usize;
        let s = self
            .entries
            .get((e >> 16) as usize + sub)
            .copied()
            .unwrap_or(BAD_ENTRY);
        // Subtable entries hold the whole code length; nothing more to add.
        s
    }
}

/// Lets one primary entry skip a run of literals: where the bits of a primary index hold a
/// literal code and, after it, further complete literal codes, the entry consumes them all.
/// (A walker needs no literal values, only their lengths.)
fn pack_literals(entries: &mut [u32], primary: u32) {
    let size = 1usize << primary;
    let Some(single) = entries.get(..size).map(<[u32]>::to_vec) else {
        return;
    };
    for (i, slot) in entries.iter_mut().take(size).enumerate() {
        let mut total = 0;
        loop {
            let e = single[i >> total];
            if kind(e) != LIT || nbits(e) > primary - total {
                break;
            }
            total += nbits(e);
        }
        if total > 0 {
            *slot = (LIT << KIND_SHIFT) | total;
        }
    }
}

/// Primary index widths: 12 bits cover nearly every litlen code, and often two literals, in
/// one look-up (a 16 KiB table).
const LITLEN_PRIMARY: u32 = 12;
const DIST_PRIMARY: u32 = 8;

/// Order of the code-length code lengths in a dynamic block header.
const CL_ORDER: [usize; 19] = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15];

fn fixed_tables() -> Result<(Table, Table)> {
    let mut lens = [0u8; 288];
    lens[..144].fill(8);
    lens[144..256].fill(9);
    lens[256..280].fill(7);
    lens[280..].fill(8);
    Ok((
        Table::build(&lens, Alphabet::LitLen, LITLEN_PRIMARY)?,
        Table::build(&[5u8; 32], Alphabet::Dist, DIST_PRIMARY)?,
    ))
}

fn dynamic_tables(bits: &mut Bits<'_>) -> Result<(Table, Table)> {
    let hlit = bits.take(5)? as usize + 257;
    let hdist = bits.take(5)? as usize + 1;
    let hclen = bits.take(4)? as usize + 4;
    if hlit > 286 || hdist > 30 {
        return Err(bad("too many length or distance symbols"));
    }
    let mut cl = [0u8; 19];
    for &i in &CL_ORDER[..hclen] {
        cl[i] = bits.take(3)? as u8;
    }
    let cl = Table::build(&cl, Alphabet::CodeLen, 7)?;
    let mut lens = [0u8; 286 + 30];
    let total = hlit + hdist;
    let mut i = 0;
    while i < total {
        bits.refill()?;
        let e = cl.lookup(bits.buf);
        if kind(e) != LIT {
            return Err(bad("invalid code-length code"));
        }
        bits.consume(nbits(e));
        let sym = e >> 16;
        let (value, repeat) = match sym {
            0..=15 => (sym as u8, 1),
            16 => {
                let prev = i
                    .checked_sub(1)
                    .map(|p| lens[p])
                    .ok_or_else(|| bad("repeat of no length"))?;
                (prev, 3 + bits.take(2)? as usize)
            }
            17 => (0, 3 + bits.take(3)? as usize),
            _ => (0, 11 + bits.take(7)? as usize),
        };
        let end = i + repeat;
        if end > total {
            return Err(bad("code lengths repeat past the end"));
        }
        lens[i..end].fill(value);
        i = end;
    }
    if lens[256] == 0 {
        return Err(bad("no end-of-block code"));
    }
    Ok((
        Table::build(&lens[..hlit], Alphabet::LitLen, LITLEN_PRIMARY)?,
        Table::build(&lens[hlit..total], Alphabet::Dist, DIST_PRIMARY)?,
    ))
}

/// Skips the symbols of one Huffman block up to and including its end-of-block code.
fn skip_symbols(bits: &mut Bits<'_>, litlen: &Table, dist: &Table) -> Result<()> {
    // A local copy stays in registers in the loop.
    let mut local = *bits;
    let r = skip_symbols_in(&mut local, litlen, dist);
    *bits = local;
    r
}

#[inline(always)]
fn skip_symbols_in(bits: &mut Bits<'_>, litlen: &Table, dist: &Table) -> Result<()> {
    const LSIZE: usize = 1 << LITLEN_PRIMARY;
    // Fixed-size views of the primary tables: masked indexes need no bounds checks.
    let lp: &[u32; LSIZE] = litlen
        .entries
        .first_chunk()
        .filter(|_| litlen.primary == LITLEN_PRIMARY)
        .ok_or_else(|| bad("literal/length table of the wrong size"))?;
    loop {
        bits.refill()?;
        let mut e = lp[(bits.buf as usize) & (LSIZE - 1)];
        if kind(e) == LIT {
            bits.consume(nbits(e));
            // At most 12 bits so far: room for two more look-ups before the next refill.
            e = lp[(bits.buf as usize) & (LSIZE - 1)];
            if kind(e) == LIT {
                bits.consume(nbits(e));
                continue;
            }
        }
        if kind(e) == SUB {
            e = litlen.lookup(bits.buf);
        }
        match kind(e) {
            LIT => bits.consume(nbits(e)),
            LEN => {
                bits.consume(nbits(e));
                // A distance code and its extra bits take up to 28 bits.
                if bits.count < 28 {
                    bits.refill()?;
                }
                let d = dist.lookup(bits.buf);
                if kind(d) != LIT {
                    return Err(bad("invalid distance code"));
                }
                bits.consume(nbits(d));
            }
            EOB => {
                bits.consume(nbits(e));
                return Ok(());
            }
            _ => return Err(bad("invalid literal/length code")),
        }
    }
}

/// Walks the blocks of the raw deflate stream at the start of `data` to its final block.
///
/// Errors for malformed block structure or a stream cut short. Bytes after the stream are
/// ignored (compare [`FinalBlock::end_bit`] with the length to reject them).
///
/// ```
/// use uadk_zip::software::{walk::final_block, Library};
/// use uadk_zip::Format;
/// let raw = Library::Zlib.compress(Format::Deflate, 6, &b"walk me ".repeat(1000)).unwrap();
/// let f = final_block(&raw).unwrap();
/// assert_eq!(f.end_bit.div_ceil(8), raw.len() as u64);
/// assert!(final_block(&raw[..raw.len() - 1]).is_err());
/// ```
pub fn final_block(data: &[u8]) -> Result<FinalBlock> {
    let mut bits = Bits::new(data);
    let mut fixed: Option<(Table, Table)> = None;
    loop {
        let header_bit = bits.bit_pos();
        let last = bits.take(1)? == 1;
        let bt = bits.take(2)?;
        match bt {
            0 => {
                // Stored: to the byte boundary, LEN and its complement, LEN bytes.
                bits.consume(bits.count % 8);
                let at = usize::try_from(bits.bit_pos() / 8).map_err(|_| truncated())?;
                let h = data.get(at..at + 4).ok_or_else(truncated)?;
                let len = u16::from_le_bytes([h[0], h[1]]);
                if len != !u16::from_le_bytes([h[2], h[3]]) {
                    return Err(bad("stored block length does not match its complement"));
                }
                let end = at + 4 + usize::from(len);
                if end > data.len() {
                    return Err(truncated());
                }
                bits = Bits {
                    data,
                    pos: end,
                    buf: 0,
                    count: 0,
                };
            }
            1 => {
                let (l, d) = match fixed.take() {
                    Some(t) => t,
                    None => fixed_tables()?,
                };
                skip_symbols(&mut bits, &l, &d)?;
                fixed = Some((l, d));
            }
            2 => {
                let (l, d) = dynamic_tables(&mut bits)?;
                skip_symbols(&mut bits, &l, &d)?;
            }
            _ => return Err(bad("invalid block type")),
        }
        let end_bit = bits.bit_pos();
        if bits.count > 63 {
            return Err(bad("bit reader overrun"));
        }
        if end_bit > data.len() as u64 * 8 {
            return Err(truncated());
        }
        if last {
            return Ok(FinalBlock { header_bit, end_bit });
        }
    }
}

/// Turns the complete raw deflate stream in `buf[start..]` into a non-final run of blocks
/// that ends on a byte boundary: clears the final block's BFINAL bit and appends an empty
/// stored block (what a sync flush writes). Another stream's blocks may then follow.
///
/// Errors, leaving `buf` unchanged, unless the stream is well formed and ends in its last byte.
///
/// ```
/// use uadk_zip::software::{walk::make_nonfinal, Library};
/// use uadk_zip::Format;
/// let mut joined = Library::Zlib.compress(Format::Deflate, 6, b"first, ").unwrap();
/// make_nonfinal(&mut joined, 0).unwrap();
/// joined.extend(Library::Zlib.compress(Format::Deflate, 6, b"second").unwrap());
/// let back = Library::Zlib.decompress(Format::Deflate, &joined, 100).unwrap();
/// assert_eq!(back, b"first, second");
/// ```
pub fn make_nonfinal(buf: &mut Vec<u8>, start: usize) -> Result<()> {
    let piece = buf.get(start..).ok_or_else(truncated)?;
    let f = final_block(piece)?;
    if f.end_bit.div_ceil(8) != piece.len() as u64 {
        return Err(bad("data after the final block"));
    }
    let byte = |bit: u64| start + (bit / 8) as usize;
    let mask = |bit: u64| 1u8 << (bit % 8);
    // Clear BFINAL, then write the 3 zero bits of a non-final stored block header right
    // after the last block (zeroing the rest of that byte: the decoder skips to the boundary)
    // and the stored block's LEN = 0, NLEN = 0xffff.
    if let Some(b) = buf.get_mut(byte(f.header_bit)) {
        *b &= !mask(f.header_bit);
    }
    let bytes = start + (f.end_bit + 3).div_ceil(8) as usize;
    buf.resize(bytes, 0);
    if f.end_bit % 8 != 0 {
        if let Some(b) = buf.get_mut(byte(f.end_bit)) {
            *b &= mask(f.end_bit) - 1;
        }
    }
    buf.extend_from_slice(&[0, 0, 0xff, 0xff]);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::software::{libdeflate, zlib, Library};

    fn inputs() -> Vec<Vec<u8>> {
        let mut x = 7u32;
        let mut rnd = |n: usize| -> Vec<u8> {
            (0..n)
                .map(|_| {
                    x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
                    (x >> 16) as u8
                })
                .collect()
        };
        let text: Vec<u8> = b"the quick brown fox jumps over the lazy dog; "
            .iter()
            .cycle()
            .take(300_000)
            .copied()
            .collect();
        let mut mixed = text.clone();
        mixed.extend(rnd(100_000));
        mixed.extend(vec![0u8; 200_000]);
        vec![
            Vec::new(),
            b"x".to_vec(),
            rnd(70_000),
            text,
            vec![0u8; 1 << 20],
            mixed,
        ]
    }

    /// Every library's raw output, at several levels, walks to its exact end.
    #[test]
    fn walks_every_librarys_output_to_its_end() {
        for input in inputs() {
            let mut streams = Vec::new();
            for level in [0, 1, 4, 6, 9, 12] {
                let mut v = Vec::new();
                libdeflate::compress(level, &input, &mut v).unwrap();
                streams.push(v);
            }
            for level in [0, 1, 6, 9] {
                streams.push(zlib::compress(Format::Deflate, level, &input).unwrap());
            }
            if !input.is_empty() && Library::Isal.available() {
                streams.push(Library::Isal.compress(Format::Deflate, 1, &input).unwrap());
            }
            for (si, s) in streams.into_iter().enumerate() {
                let f = final_block(&s).unwrap();
                assert_eq!(
                    f.end_bit.div_ceil(8),
                    s.len() as u64,
                    "{} bytes in, stream {si}",
                    input.len()
                );
                assert!(f.header_bit < f.end_bit);
                // Same boundaries as zlib's inflate(Z_BLOCK) and the slow reference walker.
                let z = zlib::block_ends(&s).unwrap();
                let prev = z.len().checked_sub(2).map_or(0, |i| z[i].0);
                assert_eq!((f.header_bit, f.end_bit), (prev, z[z.len() - 1].0), "stream {si}");
                let r = reference::block_ends(&s).unwrap();
                assert_eq!(r, z.iter().map(|e| e.0 as usize).collect::<Vec<_>>());
                for cut in [s.len() / 2, s.len().saturating_sub(1)] {
                    if cut < s.len() {
                        assert!(final_block(&s[..cut]).is_err(), "cut at {cut} of {}", s.len());
                    }
                }
            }
        }
    }

    /// libdeflate pieces made non-final and joined decode (by system zlib) to the input.
    #[test]
    fn joined_libdeflate_pieces_decode_with_zlib() {
        for input in inputs() {
            for level in [1, 5, 6, 9] {
                let mut joined = Vec::new();
                let pieces: Vec<&[u8]> = if input.is_empty() {
                    vec![&[], &[]]
                } else {
                    input.chunks(input.len().div_ceil(3)).collect()
                };
                for (i, p) in pieces.iter().enumerate() {
                    let start = joined.len();
                    libdeflate::compress(level, p, &mut joined).unwrap();
                    if i + 1 < pieces.len() {
                        make_nonfinal(&mut joined, start).unwrap();
                        assert_eq!(&joined[joined.len() - 4..], &[0, 0, 0xff, 0xff]);
                    }
                }
                let back = zlib::decompress(Format::Deflate, &joined, u64::MAX).unwrap();
                assert!(back == input, "level {level}, {} bytes", input.len());
            }
        }
    }

    #[test]
    fn rejects_trailing_bytes_and_malformed_headers_without_panicking() {
        let mut v = zlib::compress(Format::Deflate, 6, b"abc abc abc").unwrap();
        v.push(0);
        let before = v.clone();
        assert!(make_nonfinal(&mut v, 0).is_err());
        assert_eq!(v, before, "left unchanged on error");
        // Block type 3 is reserved.
        assert!(final_block(&[0x07]).is_err());
        // Stored block whose NLEN is not the complement of LEN.
        assert!(final_block(&[0x01, 0x05, 0x00, 0x00, 0x00]).is_err());
        assert!(final_block(&[]).is_err());
        // An endless run of zeros is a non-final stored block of length 0... then truncation.
        assert!(final_block(&[0u8; 64]).is_err());
    }

    #[test]
    fn random_bytes_never_panic() {
        let mut x = 99u32;
        for n in 0..3000usize {
            let data: Vec<u8> = (0..n % 300)
                .map(|_| {
                    x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
                    (x >> 16) as u8
                })
                .collect();
            let ours = final_block(&data);
            if let (Ok(f), Some(r)) = (&ours, reference::block_ends(&data)) {
                assert_eq!(f.end_bit, *r.last().unwrap() as u64);
            }
            // Whatever zlib inflates to its end, the walker walks to the same end.
            let used = match zlib::decompress(Format::Deflate, &data, 1 << 20) {
                Ok(_) => data.len(),
                Err(Error::TrailingData { offset, .. }) => offset as usize,
                Err(_) => continue,
            };
            assert_eq!(ours.unwrap().end_bit.div_ceil(8), used as u64);
        }
    }
}

#[cfg(test)]
mod reference {
    //! A slow bit-at-a-time walker (canonical decoding by counts, no tables): the fast
    //! walker's tests compare symbol positions against it.
    use super::{DIST_EXTRA, LEN_EXTRA};

    pub struct R<'a> {
        pub d: &'a [u8],
        pub bit: usize,
    }
    impl R<'_> {
        fn b(&mut self) -> Option<u32> {
            let v = (*self.d.get(self.bit / 8)? >> (self.bit % 8)) & 1;
            self.bit += 1;
            Some(u32::from(v))
        }
        fn n(&mut self, k: u32) -> Option<u32> {
            let mut v = 0;
            for i in 0..k {
                v |= self.b()? << i;
            }
            Some(v)
        }
        fn sym(&mut self, h: &Huff) -> Option<usize> {
            let (mut code, mut first, mut index) = (0i32, 0i32, 0i32);
            for c in h.count.iter().skip(1) {
                code |= self.b()? as i32;
                if code - c < first {
                    return h.syms.get((index + code - first) as usize).copied();
                }
                index += c;
                first = (first + c) << 1;
                code <<= 1;
            }
            None
        }
    }

    /// Counts per code length and the symbols in canonical order.
    pub struct Huff {
        count: [i32; 16],
        syms: Vec<usize>,
    }

    fn huff(lens: &[u8]) -> Huff {
        let mut count = [0i32; 16];
        for &l in lens {
            count[l as usize] += 1;
        }
        count[0] = 0;
        let mut syms: Vec<usize> = (0..lens.len()).filter(|&s| lens[s] > 0).collect();
        syms.sort_by_key(|&s| lens[s]);
        Huff { count, syms }
    }

    /// Block end bit offsets, or None where the stream is invalid.
    pub fn block_ends(d: &[u8]) -> Option<Vec<usize>> {
        let mut r = R { d, bit: 0 };
        let mut ends = Vec::new();
        loop {
            let last = r.b()? == 1;
            let (ll, dl): (Vec<u8>, Vec<u8>) = match r.n(2)? {
                0 => {
                    r.bit = r.bit.div_ceil(8) * 8;
                    let len = r.n(16)? as usize;
                    let _ = r.n(16)?;
                    r.bit += len * 8;
                    ends.push(r.bit);
                    if last {
                        return Some(ends);
                    }
                    continue;
                }
                1 => {
                    let mut l = vec![8u8; 288];
                    l[144..256].fill(9);
                    l[256..280].fill(7);
                    (l, vec![5u8; 30])
                }
                2 => {
                    let hlit = r.n(5)? as usize + 257;
                    let hdist = r.n(5)? as usize + 1;
                    let hclen = r.n(4)? as usize + 4;
                    let mut cl = [0u8; 19];
                    for &i in &super::CL_ORDER[..hclen] {
                        cl[i] = r.n(3)? as u8;
                    }
                    let cl = huff(&cl);
                    let mut lens = Vec::new();
                    while lens.len() < hlit + hdist {
                        match r.sym(&cl)? {
                            s @ 0..=15 => lens.push(s as u8),
                            16 => {
                                let p = *lens.last()?;
                                for _ in 0..3 + r.n(2)? {
                                    lens.push(p);
                                }
                            }
                            17 => lens.extend(std::iter::repeat_n(0, 3 + r.n(3)? as usize)),
                            _ => lens.extend(std::iter::repeat_n(0, 11 + r.n(7)? as usize)),
                        }
                    }
                    (lens[..hlit].to_vec(), lens[hlit..hlit + hdist].to_vec())
                }
                _ => return None,
            };
            let (ll, dl) = (huff(&ll), huff(&dl));
            loop {
                match r.sym(&ll)? {
                    0..=255 => {}
                    256 => break,
                    s @ 257..=285 => {
                        r.bit += LEN_EXTRA[s - 257] as usize;
                        let ds = r.sym(&dl)?;
                        r.bit += *DIST_EXTRA.get(ds)? as usize;
                    }
                    _ => return None,
                }
            }
            ends.push(r.bit);
            if last {
                return Some(ends);
            }
        }
    }
}
