//! Decoding deflate from the middle, without the data before it (in the style of
//! rapidgzip): the parallel decoder of foreign gzip files (`parallel_decompress.rs`)
//! starts threads at block boundaries it finds itself ([`find_block`]) and decodes from
//! there with [`decode_with_markers`], which writes 16-bit symbols: a byte, or a *marker*
//! standing for byte `i` of the unknown 32 KiB window before the start. Once the previous
//! chunk is decoded, its last 32 KiB resolve the markers ([`resolve`]).
//!
//! Markers only spread through back-references; as soon as the last 32 KiB of output hold
//! none, the rest of the chunk no longer depends on the unknown window, and the caller
//! switches to libdeflate (much faster) with that window as a prefix. This module is plain
//! safe Rust, checks every code and distance, and returns an error for anything a
//! conforming inflater would reject; a chunk start that was not a real block boundary shows
//! up as an error here or as a checksum mismatch of the whole stream.

use std::fmt;

/// The window a deflate stream may reach back into.
pub const WINDOW: usize = 32 * 1024;
/// Symbols at or above this are markers: `symbol - MARKER` is the window byte's index.
pub const MARKER: u16 = 0x8000;

/// Why speculative decoding stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadData(pub &'static str);

impl fmt::Display for BadData {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

type R<T> = std::result::Result<T, BadData>;

/// An LSB-first bit reader over a byte slice with exact bit positions.
struct Bits<'a> {
    data: &'a [u8],
    next: usize,
    buf: u64,
    n: u32,
}

impl<'a> Bits<'a> {
    fn at(data: &'a [u8], bit: u64) -> R<Self> {
        let byte = usize::try_from(bit / 8).map_err(|_| BadData("position out of range"))?;
        if byte > data.len() {
            return Err(BadData("position past the end"));
        }
        let mut b = Bits {
            data,
            next: byte,
            buf: 0,
            n: 0,
        };
        let skip = (bit % 8) as u32;
        if skip > 0 {
            b.need(skip)?;
            b.drop_bits(skip);
        }
        Ok(b)
    }

    fn pos(&self) -> u64 {
        self.next as u64 * 8 - u64::from(self.n)
    }

    fn refill(&mut self) {
        if self.n <= 56 {
            if let Some(w) = self.data.get(self.next..self.next + 8) {
                let w = u64::from_le_bytes([w[0], w[1], w[2], w[3], w[4], w[5], w[6], w[7]]);
                self.buf |= w << self.n;
                self.next += ((63 - self.n) / 8) as usize;
                self.n |= 56;
                return;
            }
        }
        while self.n <= 56 {
            let Some(&b) = self.data.get(self.next) else { break };
            self.buf |= u64::from(b) << self.n;
            self.next += 1;
            self.n += 8;
        }
    }

    fn need(&mut self, k: u32) -> R<()> {
        if self.n < k {
            self.refill();
            if self.n < k {
                return Err(BadData("input ends inside a block"));
            }
        }
        Ok(())
    }

    fn peek(&self, k: u32) -> u32 {
        (self.buf & ((1u64 << k) - 1)) as u32
    }

    fn drop_bits(&mut self, k: u32) {
        self.buf >>= k;
        self.n -= k;
    }

    fn take(&mut self, k: u32) -> R<u32> {
        if k == 0 {
            return Ok(0);
        }
        self.need(k)?;
        let v = self.peek(k);
        self.drop_bits(k);
        Ok(v)
    }

    fn align(&mut self) {
        let r = self.n % 8;
        self.drop_bits(r);
    }
}

const FAST: u32 = 10;
const MAXBITS: usize = 15;

/// A canonical Huffman code: a 10-bit lookup table, and counts/symbols for longer codes.
struct Huffman {
    fast: Vec<u16>,
    count: [u16; MAXBITS + 1],
    symbol: Vec<u16>,
}

impl Huffman {
    /// Builds the code for `lengths`; `complete` demands a complete code (a single code of
    /// length 1 is also accepted, as zlib does).
    fn new(lengths: &[u8], complete: bool) -> R<Huffman> {
        let mut count = [0u16; MAXBITS + 1];
        for &l in lengths {
            count[l as usize] += 1;
        }
        count[0] = 0;
        let mut left: i32 = 1;
        for &c in &count[1..] {
            left = left * 2 - i32::from(c);
            if left < 0 {
                return Err(BadData("over-subscribed code"));
            }
        }
        let used: u32 = count[1..].iter().map(|&c| u32::from(c)).sum();
        if left > 0 && complete && !(used == 1 && count[1] == 1) {
            return Err(BadData("incomplete code"));
        }
        let mut offs = [0u16; MAXBITS + 2];
        for l in 1..=MAXBITS {
            offs[l + 1] = offs[l] + count[l];
        }
        let mut symbol = vec![0u16; used as usize];
        for (s, &l) in lengths.iter().enumerate() {
            if l != 0 {
                symbol[offs[l as usize] as usize] = s as u16;
                offs[l as usize] += 1;
            }
        }
        // The lookup table: index = the code's bits as read (reversed), entry = sym<<4|len.
        let mut fast = vec![0u16; 1 << FAST];
        let mut code = 0u32;
        let mut idx = 0usize;
        for len in 1..=MAXBITS as u32 {
            for _ in 0..count[len as usize] {
                if len <= FAST {
                    let rev = code.reverse_bits() >> (32 - len);
                    let entry = (symbol[idx] << 4) | len as u16;
                    let mut r = rev as usize;
                    while r < fast.len() {
                        fast[r] = entry;
                        r += 1 << len;
                    }
                }
                code += 1;
                idx += 1;
            }
            code <<= 1;
        }
        Ok(Huffman { fast, count, symbol })
    }

    fn decode(&self, b: &mut Bits<'_>) -> R<u16> {
        b.refill();
        if b.n >= FAST {
            let e = self.fast[b.peek(FAST) as usize];
            if e != 0 {
                b.drop_bits(u32::from(e & 15));
                return Ok(e >> 4);
            }
        }
        // Slow path, one bit at a time (codes longer than 10 bits, or near the end).
        let (mut code, mut first, mut index) = (0i32, 0i32, 0i32);
        for len in 1..=MAXBITS {
            code |= b.take(1)? as i32;
            let c = i32::from(self.count[len]);
            if code - c < first {
                return Ok(self.symbol[(index + (code - first)) as usize]);
            }
            index += c;
            first = (first + c) << 1;
            code <<= 1;
        }
        Err(BadData("invalid code"))
    }
}

const LEN_BASE: [u16; 29] = [
    3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195,
    227, 258,
];
const LEN_EXTRA: [u8; 29] = [
    0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0,
];
const DIST_BASE: [u16; 30] = [
    1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073,
    4097, 6145, 8193, 12289, 16385, 24577,
];
const DIST_EXTRA: [u8; 30] = [
    0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13,
];
const CL_ORDER: [usize; 19] = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15];

/// Reads a dynamic block's header (after BFINAL/BTYPE): the literal/length and distance
/// codes, both checked as zlib checks them.
fn dynamic_tables(b: &mut Bits<'_>) -> R<(Huffman, Huffman)> {
    let hlit = b.take(5)? as usize + 257;
    let hdist = b.take(5)? as usize + 1;
    let hclen = b.take(4)? as usize + 4;
    if hlit > 286 || hdist > 30 {
        return Err(BadData("too many length or distance codes"));
    }
    let mut cl = [0u8; 19];
    for &i in &CL_ORDER[..hclen] {
        cl[i] = b.take(3)? as u8;
    }
    let clh = Huffman::new(&cl, true)?;
    let mut lens = [0u8; 286 + 30];
    let mut i = 0;
    while i < hlit + hdist {
        let sym = clh.decode(b)?;
        let (val, rep) = match sym {
            0..=15 => (sym as u8, 1),
            16 => {
                if i == 0 {
                    return Err(BadData("repeat with no previous length"));
                }
                (lens[i - 1], 3 + b.take(2)? as usize)
            }
            17 => (0, 3 + b.take(3)? as usize),
            _ => (0, 11 + b.take(7)? as usize),
        };
        if i + rep > hlit + hdist {
            return Err(BadData("code lengths overflow"));
        }
        lens[i..i + rep].fill(val);
        i += rep;
    }
    if lens[256] == 0 {
        return Err(BadData("no end-of-block code"));
    }
    let lit = Huffman::new(&lens[..hlit], true)?;
    let dl = &lens[hlit..hlit + hdist];
    let dist = Huffman::new(dl, dl.iter().any(|&l| l != 0))?;
    Ok((lit, dist))
}

fn fixed_tables() -> (Huffman, Huffman) {
    let mut l = [0u8; 288];
    l[..144].fill(8);
    l[144..256].fill(9);
    l[256..280].fill(7);
    l[280..].fill(8);
    let lit = Huffman::new(&l, false).expect("the fixed code is valid");
    let dist = Huffman::new(&[5u8; 30], false).expect("the fixed code is valid");
    (lit, dist)
}

/// Output of speculative decoding: symbols with a [`WINDOW`]-long prefix of markers.
pub struct Speculative {
    /// `WINDOW` markers (`MARKER + i`), then the decoded symbols.
    pub symbols: Vec<u16>,
    /// Bit position (in the input) after the last decoded block.
    pub end_bit: u64,
    /// The last block decoded was the final block.
    pub final_block: bool,
    /// Index in `symbols` up to which markers may occur.
    pub dirty_until: usize,
}

impl Speculative {
    /// The decoded symbols (without the marker prefix).
    #[cfg(test)]
    pub fn decoded(&self) -> &[u16] {
        &self.symbols[WINDOW..]
    }

    /// The last 32 KiB of output hold no marker.
    pub fn clean(&self) -> bool {
        self.symbols.len() >= self.dirty_until + WINDOW
    }

    /// The last 32 KiB of output as bytes, if they hold no marker.
    pub fn window(&self) -> Option<Vec<u8>> {
        self.clean().then(|| {
            self.symbols[self.symbols.len() - WINDOW..]
                .iter()
                .map(|&s| s as u8)
                .collect()
        })
    }
}

/// Why [`decode_with_markers`] returns.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stop {
    /// After the block that ends exactly at this bit (an error if a block ends past it).
    At(u64),
    /// At the first block boundary where the last 32 KiB hold no marker.
    Clean,
    /// After this many blocks.
    Blocks(usize),
}

/// Decodes blocks from bit `start` of `data` (a block boundary, or an error) with the window
/// before it unknown, until the final block, any of `stop`, or more than `max_out` symbols
/// (an error).
pub fn decode_with_markers(data: &[u8], start: u64, stop: &[Stop], max_out: usize) -> R<Speculative> {
    decode_until(data, start, stop, max_out, None)
}

/// [`decode_with_markers`] that also stops at the first block boundary after `interrupt`
/// is set (the chunk before is done: the window is known and libdeflate can go on).
pub fn decode_until(
    data: &[u8],
    start: u64,
    stop: &[Stop],
    max_out: usize,
    interrupt: Option<&std::sync::atomic::AtomicBool>,
) -> R<Speculative> {
    let mut b = Bits::at(data, start)?;
    let mut out: Vec<u16> = Vec::with_capacity(WINDOW + (max_out / 4).min(8 << 20));
    out.extend((0..WINDOW as u16).map(|i| MARKER + i));
    let mut dirty_until = WINDOW;
    let mut blocks = 0;
    loop {
        let fin = b.take(1)? == 1;
        let btype = b.take(2)?;
        match btype {
            0 => {
                b.align();
                let len = b.take(16)?;
                let nlen = b.take(16)?;
                if len != !nlen & 0xffff {
                    return Err(BadData("stored block length check failed"));
                }
                for _ in 0..len {
                    out.push(b.take(8)? as u16);
                }
            }
            1 | 2 => {
                let (lit, dist) = if btype == 1 {
                    fixed_tables()
                } else {
                    dynamic_tables(&mut b)?
                };
                loop {
                    let sym = lit.decode(&mut b)?;
                    if sym < 256 {
                        out.push(sym);
                        continue;
                    }
                    if sym == 256 {
                        break;
                    }
                    let li = usize::from(sym - 257);
                    if li >= 29 {
                        return Err(BadData("invalid length symbol"));
                    }
                    let len = usize::from(LEN_BASE[li]) + b.take(u32::from(LEN_EXTRA[li]))? as usize;
                    let ds = usize::from(dist.decode(&mut b)?);
                    if ds >= 30 {
                        return Err(BadData("invalid distance symbol"));
                    }
                    let d = usize::from(DIST_BASE[ds]) + b.take(u32::from(DIST_EXTRA[ds]))? as usize;
                    if d > out.len() {
                        return Err(BadData("distance beyond the window"));
                    }
                    let from = out.len() - d;
                    // A copy from before `dirty_until` may carry markers: look.
                    if from < dirty_until && out[from..from + d.min(len)].iter().any(|&v| v >= MARKER) {
                        dirty_until = out.len() + len;
                    }
                    if d >= len {
                        out.extend_from_within(from..from + len);
                    } else {
                        for k in 0..len {
                            let v = out[from + k];
                            out.push(v);
                        }
                    }
                }
            }
            _ => return Err(BadData("invalid block type")),
        }
        if out.len() - WINDOW > max_out {
            return Err(BadData("more output than allowed"));
        }
        let pos = b.pos();
        blocks += 1;
        let mut done = fin || interrupt.is_some_and(|f| f.load(std::sync::atomic::Ordering::Acquire));
        for s in stop {
            match *s {
                Stop::At(at) if pos == at => done = true,
                Stop::At(at) if pos > at => return Err(BadData("a block runs past the next chunk's start")),
                Stop::Clean if out.len() >= dirty_until + WINDOW => done = true,
                Stop::Blocks(n) if blocks >= n => done = true,
                _ => {}
            }
        }
        if done {
            return Ok(Speculative {
                symbols: out,
                end_bit: pos,
                final_block: fin,
                dirty_until,
            });
        }
    }
}

/// Replaces the markers of `symbols` with bytes of `window` (the 32 KiB before the chunk;
/// shorter at the start of a stream) and appends the bytes to `out`; an error if a marker
/// points before the start of `window`.
pub fn resolve(symbols: &[u16], window: &[u8], out: &mut Vec<u8>) -> R<()> {
    let skip = WINDOW.saturating_sub(window.len());
    out.reserve(symbols.len());
    for &s in symbols {
        if s < 256 {
            out.push(s as u8);
        } else {
            let i = usize::from(s - MARKER);
            if i < skip {
                return Err(BadData("reference before the start of the stream"));
            }
            out.push(window[i - skip]);
        }
    }
    Ok(())
}

/// Finds the first bit in `[from, to)` where a non-final dynamic block starts whose header
/// is valid and whose whole block decodes (with markers), followed by a valid block type.
/// Candidates are rejected cheaply on their first bits, so a scan over one block's length
/// costs a few milliseconds.
pub fn find_block(data: &[u8], from: u64, to: u64) -> Option<u64> {
    let end = to.min(data.len() as u64 * 8);
    let mut bit = from;
    while bit < end {
        let byte = (bit / 8) as usize;
        // 8 bytes at `byte`, shifted to `bit`: 56 usable bits.
        let mut w = 0u64;
        for (k, &x) in data[byte..data.len().min(byte + 8)].iter().enumerate() {
            w |= u64::from(x) << (8 * k);
        }
        let w = w >> (bit % 8);
        // BFINAL 0, BTYPE 10, HLIT <= 29, HDIST <= 29.
        if w & 7 == 0b100 && (w >> 3) & 31 <= 29 && (w >> 8) & 31 <= 29 && plausible(data, bit) {
            return Some(bit);
        }
        bit += 1;
    }
    None
}

/// Full check of a candidate block start (see [`find_block`]).
fn plausible(data: &[u8], bit: u64) -> bool {
    let Ok(mut b) = Bits::at(data, bit) else {
        return false;
    };
    if b.take(3).is_err() || dynamic_tables(&mut b).is_err() {
        return false;
    }
    // The whole block must decode, and the next block must have a valid type.
    let Ok(s) = decode_with_markers(data, bit, &[Stop::Blocks(1)], 1 << 22) else {
        return false;
    };
    if s.final_block {
        return true;
    }
    let Ok(mut next) = Bits::at(data, s.end_bit) else {
        return false;
    };
    next.take(3).is_ok_and(|h| (h >> 1) & 3 != 3)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(n: usize) -> Vec<u8> {
        let mut x = 99u32;
        let words = ["alpha ", "beta ", "gamma\n", "delta ", "epsilon "];
        let mut v = Vec::new();
        while v.len() < n {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            v.extend_from_slice(words[(x % 5) as usize].as_bytes());
        }
        v.truncate(n);
        v
    }

    /// Decoding a whole stream from bit 0 gives the data (no markers), as zlib does.
    #[test]
    fn decodes_whole_streams_like_zlib() {
        let data = text(300_000);
        for level in [1, 6, 9] {
            let z = crate::software::zlib::compress(crate::Format::Deflate, level, &data).unwrap();
            let s = decode_with_markers(&z, 0, &[], usize::MAX).unwrap();
            assert!(s.final_block);
            let mut out = Vec::new();
            resolve(s.decoded(), &[], &mut out).unwrap();
            assert!(out == data, "level {level}");
        }
        // Stored and fixed blocks too.
        let z = crate::software::zlib::compress(crate::Format::Deflate, 0, &data).unwrap();
        let s = decode_with_markers(&z, 0, &[], usize::MAX).unwrap();
        assert_eq!(s.decoded().len(), data.len());
        let z = crate::software::zlib::compress(crate::Format::Deflate, 6, b"ab").unwrap();
        let s = decode_with_markers(&z, 0, &[], 10).unwrap();
        assert_eq!(s.decoded(), &[u16::from(b'a'), u16::from(b'b')]);
    }

    /// From a block found in the middle, markers resolved with the real window give the
    /// rest of the data; the window becomes clean.
    #[test]
    fn finds_a_block_mid_stream_and_resolves_markers() {
        let data = text(2_000_000);
        let z = crate::software::zlib::compress(crate::Format::Deflate, 6, &data).unwrap();
        let mid = (z.len() / 2) as u64 * 8;
        let b = find_block(&z, mid, z.len() as u64 * 8).expect("a block start");
        let s = decode_with_markers(&z, b, &[], usize::MAX).unwrap();
        assert!(s.final_block);
        let n = s.decoded().len();
        let before = data.len() - n;
        let mut out = Vec::new();
        resolve(s.decoded(), &data[before - WINDOW..before], &mut out).unwrap();
        assert!(out == data[before..]);
        // Stopping at the first clean window (this word salad may never get one: every
        // match can reach back into the unknown window) gives a prefix of the same.
        let c = decode_with_markers(&z, b, &[Stop::Clean], usize::MAX).unwrap();
        assert!(c.clean() || c.final_block);
        assert_eq!(c.window().is_some(), c.clean());
        assert!(c.decoded() == &s.decoded()[..c.decoded().len()]);
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        let mut x = 5u32;
        let junk: Vec<u8> = (0..10_000)
            .map(|_| {
                x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
                (x >> 16) as u8
            })
            .collect();
        for start in 0..64 {
            let _ = decode_with_markers(&junk, start, &[Stop::Clean], 1 << 20);
        }
        let _ = find_block(&junk, 0, 80_000);
        assert!(decode_with_markers(&[], 0, &[], 10).is_err());
    }
}
