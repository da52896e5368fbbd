//! Parallel decompression of indexed streams: the pieces an [`Index`] describes are decoded
//! at the same time, on every core (software) or every device queue, straight into their
//! place in the output.
//!
//! * **Groups.** A piece that needs the window before it joins the piece before it; each
//!   group starts without history and is decoded on its own.
//! * **Software.** A group that ends with the final deflate block is handed to libdeflate
//!   as it is. Any other group ends on a byte boundary after a non-final block (a flush);
//!   its bytes are copied and followed by [`TERMINATOR`], an empty final block, so that it
//!   becomes a complete deflate stream. libdeflate must then use every byte (the
//!   terminator included: the group really ended on that boundary) and produce exactly the
//!   index's length.
//! * **Checks.** Every piece's CRC-32 / Adler-32 is computed right after it is decoded and
//!   compared with the index; the whole stream's checksum is the entries' checksums
//!   combined, compared with the trailer (gzip: and ISIZE). So nothing the index says is
//!   taken on trust: a lying index is caught by a length, a boundary or a checksum, and the
//!   caller then decodes the input sequentially (which gives the data or the error an
//!   ordinary decoder gives).
//! * **Members.** gzip members are handled in order: indexed ones in parallel, others
//!   sequentially (libdeflate), so indexed and plain members may be concatenated.

use crate::error::{Error, Result};
use crate::format::{trailer_len, verify_trailer, Format, GzipHeader};
use crate::index::{CheckKind, Entry, Index, Located};
use crate::software::libdeflate;
use parking_lot::Mutex;
use std::ops::Range;
use std::sync::atomic::{AtomicUsize, Ordering};

/// An empty final block (fixed Huffman, end-of-block only) appended to a group that ends on
/// a non-final block, making it a complete deflate stream.
pub const TERMINATOR: [u8; 2] = [0x03, 0x00];

/// Pieces decoded together: one that starts without history and those that need its
/// window after it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Group {
    /// Entries of the index.
    pub entries: Range<usize>,
    /// Compressed bytes, offsets in the member.
    pub comp: Range<usize>,
    /// Uncompressed bytes, offsets in the member's output.
    pub out: Range<usize>,
    /// Ends with the stream's final block.
    pub ends_final: bool,
}

/// The groups of an indexed member; `None` when its offsets do not fit this address space.
pub(crate) fn plan(loc: &Located) -> Option<Vec<Group>> {
    let idx = &loc.index;
    let mut groups: Vec<Group> = Vec::new();
    let (mut c, mut u) = (loc.data_start, 0usize);
    for (i, e) in idx.entries.iter().enumerate() {
        let cl = usize::try_from(e.compressed).ok()?;
        let ul = usize::try_from(e.uncompressed).ok()?;
        let (c2, u2) = (c.checked_add(cl)?, u.checked_add(ul)?);
        match groups.last_mut() {
            Some(g) if e.needs_window => {
                g.entries.end = i + 1;
                g.comp.end = c2;
                g.out.end = u2;
            }
            _ => groups.push(Group {
                entries: i..i + 1,
                comp: c..c2,
                out: u..u2,
                ends_final: false,
            }),
        }
        (c, u) = (c2, u2);
    }
    if let Some(g) = groups.last_mut() {
        g.ends_final = idx.last_final;
    }
    Some(groups)
}

/// Decodes one group of `member` into `out` (exactly its length) and checks each piece.
fn decode_group(format: Format, member: &[u8], idx: &Index, g: &Group, out: &mut [u8]) -> Result<()> {
    let comp = member.get(g.comp.clone()).ok_or(Error::Truncated { format })?;
    let entries = &idx.entries[g.entries.clone()];
    // The member is borrowed: a group that ends on a non-final block is copied to take
    // its terminator (the streaming decoder writes it in place instead).
    let owned;
    let stream = if g.ends_final {
        comp
    } else {
        owned = [comp, &TERMINATOR[..]].concat();
        &owned[..]
    };
    let r = libdeflate::decompress_slice(format, stream, out)?;
    let produced = r.map_or(0, |(_, n)| n);
    check_span(
        format,
        idx.kind,
        entries,
        stream.len(),
        r,
        out.len(),
        &out[..produced],
        g.comp.start,
    )
}

/// Checks what libdeflate made of one group's complete deflate stream (its compressed
/// bytes, followed by [`TERMINATOR`] when it ends on a non-final block) of `stream_len`
/// bytes: `r` is (input used, output produced), `None` when the output would exceed
/// `want` (the index's length), and `out` the bytes produced. The stream must be used
/// whole (the group really ends on that boundary), produce exactly `want` bytes, and each
/// entry's piece must match its checksum. `at` (the compressed offset) is for messages.
#[allow(clippy::too_many_arguments)]
fn check_span(
    format: Format,
    kind: CheckKind,
    entries: &[Entry],
    stream_len: usize,
    r: Option<(usize, usize)>,
    want: usize,
    out: &[u8],
    at: usize,
) -> Result<()> {
    let bad = |what: String| Error::corrupt(format, format!("indexed piece at byte {at}: {what}"));
    let Some((used, produced)) = r else {
        return Err(bad(format!("decodes to more than the index's {want} bytes")));
    };
    if used != stream_len {
        return Err(bad(format!("its blocks end after {used} of {stream_len} bytes")));
    }
    if produced != want || out.len() != want {
        return Err(bad(format!("{produced} bytes decoded, the index says {want}")));
    }
    let mut o = 0usize;
    for e in entries {
        let n = usize::try_from(e.uncompressed).unwrap_or(usize::MAX);
        let piece = o.checked_add(n).and_then(|end| out.get(o..end));
        if piece.is_none_or(|p| kind.of(p) != e.check) {
            return Err(Error::Checksum {
                format,
                kind: "indexed piece checksum",
                detail: format!("piece {o} bytes into the span at byte {at} does not match the index"),
            });
        }
        o += n;
    }
    Ok(())
}

/// Decodes the groups of `member` on up to `threads` threads into `out` (the member's whole
/// output). Returns the number of threads used.
fn run_groups(
    format: Format,
    member: &[u8],
    idx: &Index,
    groups: &[Group],
    threads: usize,
    out: &mut [u8],
) -> Result<usize> {
    let mut slots: Vec<Mutex<Option<&mut [u8]>>> = Vec::with_capacity(groups.len());
    let mut rest = out;
    for g in groups {
        let (a, b) = rest.split_at_mut(g.out.len());
        slots.push(Mutex::new(Some(a)));
        rest = b;
    }
    let results: Vec<Mutex<Option<Result<()>>>> = groups.iter().map(|_| Mutex::new(None)).collect();
    let next = AtomicUsize::new(0);
    let work = |_: &crossbeam_utils::thread::Scope<'_>| loop {
        let i = next.fetch_add(1, Ordering::Relaxed);
        let Some(g) = groups.get(i) else { break };
        let Some(slice) = slots[i].lock().take() else {
            break;
        };
        *results[i].lock() = Some(decode_group(format, member, idx, g, slice));
    };
    let threads = threads.clamp(1, groups.len().max(1));
    crossbeam_utils::thread::scope(|s| {
        for _ in 1..threads {
            s.spawn(work);
        }
        work(s);
    })
    .map_err(|_| Error::Library {
        library: "parallel decompression",
        detail: "a decoding thread panicked".into(),
    })?;
    for r in results {
        r.into_inner().unwrap_or_else(|| {
            Err(Error::Library {
                library: "parallel decompression",
                detail: "a piece was not decoded".into(),
            })
        })?;
    }
    Ok(threads)
}

/// Where decoded members go: a growing Vec or the caller's slice.
pub(crate) enum Output<'a> {
    /// Appended, within `limit` bytes in total.
    Vec(&'a mut Vec<u8>, u64),
    /// Written from the start of the slice.
    Slice(&'a mut [u8]),
}

impl Output<'_> {
    fn reborrow(&mut self) -> Output<'_> {
        match self {
            Output::Vec(v, limit) => Output::Vec(v, *limit),
            Output::Slice(s) => Output::Slice(s),
        }
    }

    /// A zeroed region of `len` bytes at `at` (the output so far ends at `at`).
    fn region(&mut self, at: usize, len: usize) -> Result<&mut [u8]> {
        match self {
            Output::Vec(v, limit) => {
                let end = at.checked_add(len).filter(|&e| e as u64 <= *limit);
                let Some(end) = end else {
                    return Err(Error::OutputLimit { limit: *limit });
                };
                if v.is_empty() {
                    // Fresh zeroed pages: no memset; each thread faults in its own part.
                    **v = vec![0u8; end];
                } else {
                    v.resize(end, 0);
                }
                Ok(&mut v[at..end])
            }
            Output::Slice(s) => {
                let room = s.len();
                s.get_mut(at..at.saturating_add(len))
                    .ok_or(Error::OutputTooSmall {
                        needed: None,
                        available: room,
                    })
            }
        }
    }

    /// Decodes one plain member's deflate data at `at`: `(input used, output produced)`.
    fn plain(&mut self, format: Format, body: &[u8], at: usize) -> Result<(usize, usize)> {
        match self {
            Output::Vec(v, limit) => {
                let lim = usize::try_from(*limit).unwrap_or(usize::MAX).saturating_sub(at);
                let mut cap = body.len().saturating_mul(4).clamp(1 << 16, lim.max(1));
                loop {
                    v.truncate(at);
                    if let Some(used) = libdeflate::decompress(format, body, cap, v)? {
                        return Ok((used, v.len() - at));
                    }
                    if cap >= lim {
                        return Err(Error::OutputLimit { limit: *limit });
                    }
                    cap = cap.saturating_mul(2).min(lim);
                }
            }
            Output::Slice(s) => {
                let room = s.len();
                libdeflate::decompress_slice(format, body, &mut s[at..])?.ok_or(Error::OutputTooSmall {
                    needed: None,
                    available: room,
                })
            }
        }
    }
}

/// What a parallel decode did: the output length and a description for the report.
#[derive(Debug)]
pub(crate) struct Done {
    pub produced: usize,
    pub threads: usize,
    pub detail: String,
}

/// Decodes all of `input` (every gzip member) into `out` when its first member carries an
/// index: `Ok(None)` when it has none (decode sequentially), an error when anything does
/// not check out (the caller then decodes sequentially, which reports the real error).
pub(crate) fn decompress(
    format: Format,
    input: &[u8],
    threads: usize,
    mut out: Output<'_>,
) -> Result<Option<Done>> {
    let mut pos = 0;
    let mut op = 0;
    let (mut indexed, mut plain, mut groups_run, mut used_threads) = (0, 0, 0, 1);
    loop {
        let member = &input[pos..];
        match crate::index::locate(format, member) {
            Some(loc) => {
                let groups = plan(&loc).ok_or_else(|| Error::corrupt(format, "index offsets overflow"))?;
                let total = loc.index.total_uncompressed();
                let total =
                    usize::try_from(total).map_err(|_| Error::corrupt(format, "index total overflows"))?;
                let region = out.region(op, total)?;
                used_threads =
                    used_threads.max(run_groups(format, member, &loc.index, &groups, threads, region)?);
                let tl = trailer_len(format);
                let t = member
                    .get(loc.body_end..loc.body_end + tl)
                    .ok_or(Error::Truncated { format })?;
                verify_trailer(format, t, loc.index.combined_check(), total as u64)?;
                op += total;
                pos += loc.body_end + tl;
                indexed += 1;
                groups_run += groups.len();
            }
            None if pos == 0 => return Ok(None),
            None => {
                let hl = header_len(format, member)?;
                let (used, n) = out.plain(format, &member[hl..], op)?;
                let tl = trailer_len(format);
                let t = member
                    .get(hl + used..hl + used + tl)
                    .ok_or(Error::Truncated { format })?;
                let check = {
                    let mut c = crate::format::Check::new(format);
                    match &out {
                        Output::Vec(v, _) => c.update(&v[op..op + n]),
                        Output::Slice(s) => c.update(&s[op..op + n]),
                    }
                    c.value()
                };
                verify_trailer(format, t, check, n as u64)?;
                op += n;
                pos += hl + used + tl;
                plain += 1;
            }
        }
        if pos == input.len() {
            break;
        }
        if format != Format::Gzip || input[pos] != 0x1f {
            return Err(Error::TrailingData {
                format,
                offset: pos as u64,
            });
        }
    }
    let mut detail = format!(
        "block index: {groups_run} piece group(s) of {indexed} indexed member(s) decoded in parallel"
    );
    if plain > 0 {
        detail.push_str(&format!(", {plain} plain member(s) sequentially"));
    }
    Ok(Some(Done {
        produced: op,
        threads: used_threads,
        detail,
    }))
}

/// Smallest foreign gzip input decoded speculatively in parallel.
pub const FOREIGN_MIN: usize = 8 << 20;
/// How far past a chunk's nominal start a block start is searched for.
const FIND_SPAN: u64 = 8 * (4 << 20);

/// A little bit writer (LSB first, as deflate packs bits).
struct BitWriter {
    v: Vec<u8>,
    n: u64,
}

impl BitWriter {
    fn put(&mut self, value: u32, bits: u32) {
        for i in 0..bits {
            if self.n.is_multiple_of(8) {
                self.v.push(0);
            }
            let last = self.v.len() - 1;
            self.v[last] |= (((value >> i) & 1) as u8) << (self.n % 8);
            self.n += 1;
        }
    }

    /// An empty non-final fixed-Huffman block: 10 bits.
    fn empty_fixed(&mut self) {
        self.put(0, 1);
        self.put(1, 2);
        self.put(0, 7);
    }

    /// An empty non-final dynamic block: 93 bits. Its literal/length code has only
    /// end-of-block (length 1), its distance code one unused code (length 1), both written
    /// with a code-length code of two 1-bit codes (symbols 1 and 18).
    fn empty_dynamic(&mut self) {
        self.put(0, 1);
        self.put(2, 2);
        self.put(0, 5); // HLIT: 257 codes
        self.put(0, 5); // HDIST: 1 code
        self.put(15, 4); // HCLEN: 19 code-length code lengths
        for sym in [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15] {
            self.put(u32::from(sym == 18 || sym == 1), 3);
        }
        // 138 + 118 zero lengths (symbol 18 = code 1), then lengths 1, 1 (symbol 1 = code 0).
        self.put(1, 1);
        self.put(127, 7);
        self.put(1, 1);
        self.put(107, 7);
        self.put(0, 1);
        self.put(0, 1);
        self.put(0, 1); // end of block
    }
}

/// A complete deflate stream that decodes bits `[from, to)` of `data` (a block boundary to
/// a block boundary, or to the end of the data when `terminate` is false) after `window`:
/// a stored block holding the window, empty blocks whose length puts the next bit at
/// `from % 8` within a byte, then `data`'s own bytes (so that stored blocks keep their byte
/// alignment), and with `terminate` an empty final block at bit `to`. The output is the
/// window followed by the decoded bits.
fn spliced(window: &[u8], data: &[u8], from: u64, to: u64, terminate: bool) -> Vec<u8> {
    let mut w = BitWriter {
        v: Vec::with_capacity(window.len() + ((to - from) / 8) as usize + 32),
        n: 0,
    };
    if !window.is_empty() {
        let n = window.len() as u16;
        w.v.push(0x00);
        w.v.extend_from_slice(&n.to_le_bytes());
        w.v.extend_from_slice(&(!n).to_le_bytes());
        w.v.extend_from_slice(window);
        w.n = w.v.len() as u64 * 8;
    }
    let sh = (from % 8) as u32;
    let fixed = if sh.is_multiple_of(2) {
        sh / 2
    } else {
        w.empty_dynamic();
        ((sh + 8 - 5) % 8) / 2
    };
    for _ in 0..fixed {
        w.empty_fixed();
    }
    debug_assert_eq!(w.n % 8, u64::from(sh));
    let (first, last) = ((from / 8) as usize, to.div_ceil(8) as usize);
    if sh != 0 {
        // The writer's last byte holds `sh` filler bits; the rest come from `data`.
        let b = w.v.last_mut().expect("filler bits were written");
        *b |= data[first] & !((1u8 << sh) - 1);
        w.v.extend_from_slice(&data[first + 1..last]);
    } else {
        w.v.extend_from_slice(&data[first..last]);
    }
    w.n = w.v.len() as u64 * 8;
    if terminate {
        // Clear the bits after `to` and append an empty final block there.
        let keep = (to % 8) as u32;
        if keep != 0 {
            let b = w.v.last_mut().expect("data bytes were copied");
            *b &= (1u8 << keep) - 1;
            w.n -= u64::from(8 - keep);
        }
        w.put(1, 1);
        w.put(1, 2);
        w.put(0, 7);
    }
    w.v
}

/// How a chunk of a foreign member ended, for the chunk after it.
enum SlotState {
    Pending,
    /// Decoded and resolved: the last 32 KiB (or fewer at the start) of the output so far.
    Done(Vec<u8>),
    Failed,
}

/// One chunk's state, waited for by the chunk after it.
struct Slot {
    done: std::sync::atomic::AtomicBool,
    state: Mutex<SlotState>,
    cv: parking_lot::Condvar,
}

impl Slot {
    fn new() -> Slot {
        Slot {
            done: std::sync::atomic::AtomicBool::new(false),
            state: Mutex::new(SlotState::Pending),
            cv: parking_lot::Condvar::new(),
        }
    }

    fn set(&self, st: SlotState) {
        *self.state.lock() = st;
        self.done.store(true, Ordering::Release);
        self.cv.notify_all();
    }

    /// Waits for the chunk; its window, or an error if it failed.
    fn wait(&self) -> Result<Vec<u8>> {
        let mut g = self.state.lock();
        loop {
            match &*g {
                SlotState::Pending => self.cv.wait(&mut g),
                SlotState::Done(w) => return Ok(w.clone()),
                SlotState::Failed => return Err(Error::corrupt(Format::Gzip, "an earlier chunk failed")),
            }
        }
    }
}

/// The last 32 KiB of `a` followed by `b`.
fn last_window(a: &[u8], b: &[u8]) -> Vec<u8> {
    use crate::speculative_inflate::WINDOW;
    if b.len() >= WINDOW {
        return b[b.len() - WINDOW..].to_vec();
    }
    let from_a = (WINDOW - b.len()).min(a.len());
    let mut w = a[a.len() - from_a..].to_vec();
    w.extend_from_slice(b);
    w
}

/// libdeflate over `stream` into `out` (its whole length is room): bytes used and produced.
fn inflate_into(stream: &[u8], out: &mut [u8]) -> Result<(usize, usize)> {
    libdeflate::decompress_slice(Format::Deflate, stream, out)?
        .ok_or_else(|| Error::corrupt(Format::Gzip, "a chunk decodes to more than the member's size"))
}

/// What a chunk after the first decoded to: `symbols` (with markers, resolved in the
/// second phase with `prev_window`), then `tail[skip..]`.
struct Chunk {
    symbols: Vec<u16>,
    prev_window: Vec<u8>,
    tail: Vec<u8>,
    skip: usize,
}

impl Chunk {
    fn len(&self) -> usize {
        self.symbols.len() + self.tail.len() - self.skip
    }
}

/// The window after `symbols` (resolved with `prev`), without resolving all of them.
fn window_after(prev: &[u8], symbols: &[u16]) -> Result<Vec<u8>> {
    use crate::speculative_inflate::{resolve, WINDOW};
    let from = symbols.len().saturating_sub(WINDOW);
    let mut end = Vec::with_capacity(WINDOW);
    resolve(&symbols[from..], prev, &mut end)
        .map_err(|e| Error::corrupt(Format::Gzip, format!("speculative chunk: {e}")))?;
    // Markers in the last 32 KiB refer to `prev` only if the symbols are fewer than that.
    Ok(last_window(if from == 0 { prev } else { &[] }, &end))
}

/// Decodes chunk `k ≥ 1` of the deflate data `body`, from block start `start` to `end` (the
/// next chunk's start, or `None`: the end of the stream): with markers until its window is
/// clean or the chunk before is done, then with libdeflate behind a stored block holding
/// that window. Its markers are resolved later ([`foreign`]'s second phase).
fn decode_chunk(
    body: &[u8],
    start: u64,
    end: Option<u64>,
    cap: usize,
    prev: &Slot,
    me: &Slot,
) -> Result<Chunk> {
    use crate::speculative_inflate::{decode_until, Stop, WINDOW};
    let bad = |e: crate::speculative_inflate::BadData| {
        Error::corrupt(Format::Gzip, format!("speculative chunk: {e}"))
    };
    let mut stops = vec![Stop::Clean];
    if let Some(e) = end {
        stops.push(Stop::At(e));
    }
    let s = decode_until(body, start, &stops, cap, Some(&prev.done)).map_err(bad)?;
    if s.final_block && end.is_some() {
        return Err(Error::corrupt(
            Format::Gzip,
            "the final block came before the last chunk",
        ));
    }
    let finished = s.final_block || Some(s.end_bit) == end;
    let clean = s.window();
    let from = s.end_bit;
    let mut symbols = s.symbols;
    symbols.drain(..WINDOW);
    let (mut tail, mut skip) = (Vec::new(), 0);
    if !finished {
        // The window for libdeflate: our own when clean, else resolved from the previous.
        let window = match clean {
            Some(w) => w,
            None => window_after(&prev.wait()?, &symbols)?,
        };
        let stream_end = body.len() as u64 * 8;
        let stream = spliced(&window, body, from, end.unwrap_or(stream_end), end.is_some());
        tail = vec![0u8; cap.saturating_sub(symbols.len()).saturating_add(window.len())];
        let (used, n) = inflate_into(&stream, &mut tail)?;
        if used != stream.len() {
            return Err(Error::corrupt(
                Format::Gzip,
                "a chunk does not end where the next begins",
            ));
        }
        if n < window.len() {
            return Err(Error::corrupt(Format::Gzip, "a chunk lost its window"));
        }
        tail.truncate(n);
        skip = window.len();
    }
    let prev_window = prev.wait()?;
    let t = &tail[skip..];
    let mine = if t.len() >= WINDOW {
        t[t.len() - WINDOW..].to_vec()
    } else {
        last_window(&window_after(&prev_window, &symbols)?, t)
    };
    me.set(SlotState::Done(mine));
    Ok(Chunk {
        symbols,
        prev_window,
        tail,
        skip,
    })
}

/// Parallel decoding of one large gzip member without an index (rapidgzip style).
///
/// Phase 1: the deflate data is cut into `threads` chunks; each chunk after the first
/// starts at the first block [`crate::speculative_inflate::find_block`] finds past its
/// nominal start and decodes with markers for the unknown window until its own window is
/// clean or the chunk before it is done (whose last 32 KiB then give the window), and from
/// there with libdeflate; chunk 0 runs libdeflate up to the next chunk's start, straight
/// into the output. Phase 2, again on every thread: each later chunk's markers are resolved
/// with the window before it, straight into place, and its libdeflate part copied after;
/// CRC-32s per part. The combined CRC-32 and the length must match the member's trailer.
/// `Ok(None)`: not applicable (small, no block start found).
pub(crate) fn foreign(input: &[u8], threads: usize, mut out: Output<'_>) -> Result<Option<Done>> {
    use crate::speculative_inflate::{find_block, resolve};
    if threads < 2 || input.len() < FOREIGN_MIN {
        return Ok(None);
    }
    let Some((_, hl)) = GzipHeader::parse(input)? else {
        return Ok(None);
    };
    let body = &input[hl..input.len() - 8];
    let t = &input[input.len() - 8..];
    let isize = u32::from_le_bytes([t[4], t[5], t[6], t[7]]) as usize;
    // ISIZE is the size mod 2^32: a larger member overflows its region (an error, then
    // sequential decoding); much smaller than the deflate data is no deflate data at all.
    if isize < body.len() / 2 {
        return Ok(None);
    }
    let crc32 = crate::index::CheckKind::Crc32;
    let nbits = body.len() as u64 * 8;
    // Chunk 0 runs libdeflate from the start: give it a larger share.
    let starts: Vec<u64> = (1..threads as u64)
        .map(|k| (nbits as f64 * (k as f64 + FIRST_EXTRA) / (threads as f64 + FIRST_EXTRA)) as u64)
        .collect();
    let found: Vec<Mutex<Option<Option<u64>>>> = starts.iter().map(|_| Mutex::new(None)).collect();
    let slots: Vec<Slot> = (0..threads).map(|_| Slot::new()).collect();
    let chunks: Vec<Mutex<Option<Result<Chunk>>>> = (0..threads).map(|_| Mutex::new(None)).collect();
    let region = out.region(0, isize)?;
    let mut first: Option<Result<(usize, u32)>> = None;
    let wait_found = |k: usize| -> Option<u64> {
        loop {
            if let Some(f) = *found[k].lock() {
                return f;
            }
            std::thread::yield_now();
        }
    };
    let panicked = |_| Error::Library {
        library: "parallel decompression",
        detail: "a decoding thread panicked".into(),
    };
    crossbeam_utils::thread::scope(|sc| {
        for k in 1..threads {
            let (found, chunks, slots, starts) = (&found, &chunks, &slots, &starts);
            sc.spawn(move |_| {
                let s = starts[k - 1];
                let f = find_block(body, s, s + FIND_SPAN);
                *found[k - 1].lock() = Some(f);
                let end = if k + 1 < threads {
                    wait_found(k).map(Some)
                } else {
                    Some(None)
                };
                let r = match (f, end) {
                    (Some(s), Some(e)) => decode_chunk(body, s, e, isize, &slots[k - 1], &slots[k]),
                    _ => Err(Error::corrupt(Format::Gzip, "no block start found")),
                };
                if r.is_err() {
                    slots[k].set(SlotState::Failed);
                }
                *chunks[k].lock() = Some(r);
            });
        }
        // Chunk 0, on this thread, straight into the output.
        let r = (|| -> Result<(usize, u32)> {
            let end = wait_found(0).ok_or_else(|| Error::corrupt(Format::Gzip, "no block start found"))?;
            let stream = spliced(&[], body, 0, end, true);
            let (used, n) = inflate_into(&stream, region)?;
            if used != stream.len() {
                return Err(Error::corrupt(
                    Format::Gzip,
                    "chunk 0 does not end where chunk 1 begins",
                ));
            }
            slots[0].set(SlotState::Done(last_window(&[], &region[..n])));
            Ok((n, crc32.of(&region[..n])))
        })();
        if r.is_err() {
            slots[0].set(SlotState::Failed);
        }
        first = Some(r);
    })
    .map_err(panicked)?;
    if found.iter().any(|f| matches!(*f.lock(), Some(None))) {
        return Ok(None);
    }
    let (n0, crc0) = first.unwrap_or_else(|| Err(Error::corrupt(Format::Gzip, "chunk 0 did not run")))?;
    let mut later = Vec::with_capacity(threads - 1);
    for c in chunks.into_iter().skip(1) {
        later.push(
            c.into_inner()
                .unwrap_or_else(|| Err(Error::corrupt(Format::Gzip, "a chunk was not decoded")))?,
        );
    }
    let total = n0 + later.iter().map(Chunk::len).sum::<usize>();
    if total != isize {
        return Err(Error::Checksum {
            format: Format::Gzip,
            kind: "gzip ISIZE",
            detail: format!("trailer says {isize} bytes, data has {total} (mod 2^32)"),
        });
    }
    // Phase 2: resolve markers and place the libdeflate parts, one job per part.
    let mut jobs: Vec<PlaceJob<'_>> = Vec::new();
    let mut rest = &mut region[n0..];
    for c in &later {
        let (a, r) = rest.split_at_mut(c.symbols.len());
        let (b, r) = r.split_at_mut(c.tail.len() - c.skip);
        jobs.push((a, c, false));
        jobs.push((b, c, true));
        rest = r;
    }
    let crcs: Vec<Mutex<Option<Result<u32>>>> = jobs.iter().map(|_| Mutex::new(None)).collect();
    let slots2: Vec<Mutex<Option<PlaceJob<'_>>>> = jobs.into_iter().map(|j| Mutex::new(Some(j))).collect();
    let next = AtomicUsize::new(0);
    let work = |_: &crossbeam_utils::thread::Scope<'_>| loop {
        let i = next.fetch_add(1, Ordering::Relaxed);
        let Some(slot) = slots2.get(i) else { break };
        let Some((dst, c, is_tail)) = slot.lock().take() else {
            break;
        };
        let r = if is_tail {
            dst.copy_from_slice(&c.tail[c.skip..]);
            Ok(crc32.of(dst))
        } else {
            let mut v = Vec::with_capacity(dst.len());
            resolve(&c.symbols, &c.prev_window, &mut v)
                .map_err(|e| Error::corrupt(Format::Gzip, format!("speculative chunk: {e}")))
                .map(|()| {
                    dst.copy_from_slice(&v);
                    crc32.of(dst)
                })
        };
        *crcs[i].lock() = Some(r);
    };
    crossbeam_utils::thread::scope(|sc| {
        for _ in 1..threads.min(slots2.len()) {
            sc.spawn(work);
        }
        work(sc);
    })
    .map_err(panicked)?;
    let mut crc = crc0;
    for (i, r) in crcs.into_iter().enumerate() {
        let c = r
            .into_inner()
            .unwrap_or_else(|| Err(Error::corrupt(Format::Gzip, "a part was not placed")))?;
        let c2 = &later[i / 2];
        let len = if i % 2 == 0 {
            c2.symbols.len()
        } else {
            c2.tail.len() - c2.skip
        };
        crc = crc32.combine(crc, c, len as u64);
    }
    verify_trailer(Format::Gzip, t, crc, total as u64)?;
    Ok(Some(Done {
        produced: total,
        threads,
        detail: format!("no block index: {threads} chunk(s) decoded speculatively in parallel (block starts found in the data, markers for the unknown window resolved in order)"),
    }))
}

/// A second-phase job of [`foreign`]: where a part goes, its chunk, whether it is the
/// libdeflate part (else the markers to resolve).
type PlaceJob<'a> = (&'a mut [u8], &'a Chunk, bool);

/// Extra share of chunk 0 (in chunks): it runs libdeflate from the start, while the others
/// first decode with markers.
const FIRST_EXTRA: f64 = 0.25;

/// The parallel path of a one-shot software decode, when `cfg` allows threads: `Some`
/// when it produced the output, `None` when the input has no index or the index was
/// rejected (then `reason` says why and the caller decodes sequentially).
///
/// Raw deflate has no checksum of its own, so a rejected index of a raw deflate stream is
/// not dropped: the stream is decoded sequentially here and checked against the index's
/// length and CRC-32, and a mismatch is an error (the data or the index is damaged).
pub(crate) fn oneshot(
    cfg: &crate::Config,
    input: &[u8],
    mut out: Output<'_>,
    reason: &mut String,
) -> Result<Option<Done>> {
    // A forced library is a measurement of that library alone.
    if cfg.threads < 2 || cfg.library.is_some() {
        return Ok(None);
    }
    let format = cfg.format;
    let e = match decompress(format, input, cfg.threads, out.reborrow()) {
        Ok(Some(d)) => {
            reason.push_str(&format!("; {} on {} thread(s)", d.detail, d.threads));
            return Ok(Some(d));
        }
        Ok(None) if format == Format::Gzip && cfg.foreign_parallel => {
            return match foreign(input, cfg.threads, out) {
                Ok(Some(d)) => {
                    reason.push_str(&format!("; {} on {} thread(s)", d.detail, d.threads));
                    Ok(Some(d))
                }
                Ok(None) => Ok(None),
                Err(e) => {
                    log::info!("speculative parallel decoding not used: {e}");
                    reason.push_str(&format!(
                        "; speculative parallel decoding not used ({e}), decoded sequentially"
                    ));
                    Ok(None)
                }
            };
        }
        Ok(None) => return Ok(None),
        Err(e) => e,
    };
    log::info!("block index not used: {e}; decoding sequentially");
    reason.push_str(&format!("; block index not used ({e}), decoded sequentially"));
    let Some(loc) = crate::index::locate(format, input).filter(|_| format == Format::Deflate) else {
        return Ok(None);
    };
    // Raw deflate: sequential, checked against the index.
    let (used, produced) = match out.plain(format, input, 0) {
        Ok(r) => r,
        Err(Error::OutputTooSmall { .. }) => return Ok(None),
        Err(e) => return Err(e),
    };
    if used != input.len() {
        return Err(Error::TrailingData {
            format,
            offset: used as u64,
        });
    }
    let crc = match &out {
        Output::Vec(v, _) => loc.index.kind.of(&v[..produced]),
        Output::Slice(s) => loc.index.kind.of(&s[..produced]),
    };
    let (want_len, want_crc) = (loc.index.total_uncompressed(), loc.index.combined_check());
    if produced as u64 != want_len || crc != want_crc {
        return Err(Error::Checksum {
            format,
            kind: "block index crc32",
            detail: format!(
                "the stream's index says {want_len} bytes with CRC-32 {want_crc:#010x}, the data gives {produced} bytes with {crc:#010x}"
            ),
        });
    }
    reason.push_str(", checked against the index's CRC-32");
    Ok(Some(Done {
        produced,
        threads: 1,
        detail: "block index CRC-32".into(),
    }))
}

/// The standalone stream that group `g` of `member` becomes for an engine that takes only
/// whole streams (a device request): a gzip member (gzip and raw deflate streams: their
/// index carries CRC-32s) or a zlib stream, whose trailer is the group's checksum combined
/// from the index, so the engine checks the group while it decodes it.
fn standalone(format: Format, member: &[u8], idx: &Index, g: &Group) -> Option<Vec<u8>> {
    let comp = member.get(g.comp.clone())?;
    let entries = &idx.entries[g.entries.clone()];
    let check = entries.iter().fold(idx.kind.empty(), |c, e| {
        idx.kind.combine(c, e.check, e.uncompressed)
    });
    let mut v = Vec::with_capacity(comp.len() + 20);
    let zlib = format == Format::Zlib;
    if zlib {
        v.extend_from_slice(&crate::format::zlib_header(1));
    } else {
        v.extend_from_slice(&[0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff]);
    }
    v.extend_from_slice(comp);
    if !g.ends_final {
        v.extend_from_slice(&TERMINATOR);
    }
    if zlib {
        v.extend_from_slice(&check.to_be_bytes());
    } else {
        v.extend_from_slice(&check.to_le_bytes());
        v.extend_from_slice(&(g.out.len() as u32).to_le_bytes());
    }
    Some(v)
}

/// Decodes an indexed single-stream input over the device queues: each group becomes a
/// standalone stream ([`standalone`]) sent as one job of a [`crate::Batch`] (stateless
/// requests on every queue of every device offering the format, several in flight each;
/// jobs the device cannot take run on the batch's workers, through the device's stream path
/// or in software). The device checks each group's checksum; the groups' checksums,
/// combined, are checked against the stream's trailer. `Ok(None)`: no index (or more than
/// one member); an error: the caller runs its ordinary path.
pub(crate) fn device(cfg: &crate::Config, input: &[u8]) -> Result<Option<(Vec<u8>, crate::Report)>> {
    let format = cfg.format;
    let Some(loc) = crate::index::locate(format, input) else {
        return Ok(None);
    };
    if loc.body_end + trailer_len(format) != input.len() {
        return Ok(None);
    }
    let groups = plan(&loc).ok_or_else(|| Error::corrupt(format, "index offsets overflow"))?;
    let total = usize::try_from(loc.index.total_uncompressed())
        .map_err(|_| Error::corrupt(format, "index total overflows"))?;
    if total as u64 > cfg.max_output {
        return Err(Error::OutputLimit {
            limit: cfg.max_output,
        });
    }
    let t = &input[loc.body_end..];
    verify_trailer(format, t, loc.index.combined_check(), total as u64)?;
    let job_format = if format == Format::Zlib {
        Format::Zlib
    } else {
        Format::Gzip
    };
    let s = crate::Session::new(crate::Config {
        format: job_format,
        index: false,
        ..cfg.clone()
    })?;
    let mut batch = crate::Batch::new(&s, cfg.threads.max(1), groups.len().max(1))?;
    let mut ids = std::collections::HashMap::new();
    for (i, g) in groups.iter().enumerate() {
        let job = standalone(format, input, &loc.index, g).ok_or(Error::Truncated { format })?;
        ids.insert(batch.submit(crate::Direction::Decompress, job)?, i);
    }
    let done = batch.drain();
    let (requests, peak) = batch.device_stats();
    drop(batch);
    if done.len() != groups.len() {
        return Err(Error::Device(format!(
            "{} of {} indexed groups completed",
            done.len(),
            groups.len()
        )));
    }
    let mut out = vec![0u8; total];
    let (mut on_device, mut engines) = (0, Vec::<String>::new());
    for c in done {
        let i = *ids
            .get(&c.id)
            .ok_or_else(|| Error::Device("unknown batch job".into()))?;
        let (bytes, r) = c.result?;
        let g = &groups[i];
        if bytes.len() != g.out.len() {
            return Err(Error::corrupt(
                format,
                format!(
                    "indexed group {i}: {} bytes decoded, the index says {}",
                    bytes.len(),
                    g.out.len()
                ),
            ));
        }
        out[g.out.clone()].copy_from_slice(&bytes);
        if let crate::Engine::Device(name) = &r.engine {
            on_device += 1;
            if !engines.contains(name) {
                engines.push(name.clone());
            }
        }
    }
    engines.sort();
    let engine = if engines.is_empty() {
        crate::Engine::Software(crate::software::Library::Libdeflate)
    } else {
        crate::Engine::Device(engines.join("+"))
    };
    let report = crate::Report {
        engine,
        reason: format!(
            "{}; block index: {} group(s) as independent requests, {on_device} on device queues ({requests} request(s), up to {peak} in flight), the rest on the batch's workers; group checksums checked by the engine, combined against the trailer",
            s.backend_reason(crate::Direction::Decompress),
            groups.len()
        ),
        fell_back: on_device < groups.len(),
        threads: peak.max(1),
        uncompressed: total as u64,
        compressed: input.len() as u64,
    };
    Ok(Some((out, report)))
}

/// Decodes one indexed member inside a streaming [`crate::Decompressor`] (push mode: input
/// and output in pieces of any size). Each group's compressed bytes are gathered and handed
/// to a worker thread as soon as they are complete, up to `threads + 1` groups in flight
/// (bounding memory); decoded groups come back in order and are handed out, copied
/// ([`IndexedMember::step`]) or lent ([`IndexedMember::lend`]); the trailer is checked
/// against the index's combined checksum. A group that does not match its index is an
/// error (output handed out before is unverified, as with any streaming decoder).
///
/// Buffers are kept: a group's compressed and decoded bytes live in a [`GroupBufs`] that
/// goes from the gatherer to a worker and back, and returns to a pool once handed out. At
/// most `threads + 2` sets exist (in flight, ready, being handed out), each as large as the
/// largest group it held, so a long stream neither allocates nor faults in fresh pages per
/// group. A group that ends on a non-final block gets its [`TERMINATOR`] in the room its
/// buffer keeps for it, and decodes into its buffer's spare capacity (nothing is zeroed).
pub(crate) struct IndexedMember {
    format: Format,
    index: std::sync::Arc<Index>,
    groups: Vec<Group>,
    /// Bytes before the first piece still to consume (a leading carrier).
    skip: usize,
    /// The group being gathered.
    gather: Option<GroupBufs>,
    submitted: usize,
    threads: usize,
    pending: std::collections::VecDeque<std::sync::mpsc::Receiver<Result<GroupBufs>>>,
    jobs: Option<std::sync::mpsc::Sender<Job>>,
    workers: Vec<std::thread::JoinHandle<()>>,
    /// The decoded group being handed out, and how much of it is.
    current: Option<GroupBufs>,
    current_pos: usize,
    /// Buffers handed out, for the next groups.
    free: Vec<GroupBufs>,
    /// Bytes between the last piece and the trailer (an index carrier and the final empty
    /// block, when the index sits at the end), gathered and checked.
    tail_len: usize,
    tail: Vec<u8>,
    trailer: Vec<u8>,
}

/// The buffers of one group: its compressed bytes (and terminator), then its decoded bytes.
#[derive(Default)]
struct GroupBufs {
    comp: Vec<u8>,
    out: Vec<u8>,
}

struct Job {
    group: Group,
    bufs: GroupBufs,
    done: std::sync::mpsc::Sender<Result<GroupBufs>>,
}

/// Decodes a gathered group on a worker: terminates it in place when it ends on a
/// non-final block, decodes it into `out`'s spare capacity and checks it.
fn decode_job(format: Format, index: &Index, group: &Group, mut bufs: GroupBufs) -> Result<GroupBufs> {
    if !group.ends_final {
        // The gatherer reserved room for it: no reallocation, no copy.
        bufs.comp.extend_from_slice(&TERMINATOR);
    }
    let want = group.out.len();
    bufs.out.clear();
    let used = libdeflate::decompress(format, &bufs.comp, want, &mut bufs.out)?;
    let r = used.map(|u| (u, bufs.out.len()));
    let entries = &index.entries[group.entries.clone()];
    check_span(
        format,
        index.kind,
        entries,
        bufs.comp.len(),
        r,
        want,
        &bufs.out,
        group.comp.start,
    )?;
    Ok(bufs)
}

/// Result of one [`IndexedMember::step`].
pub(crate) struct MemberStep {
    pub consumed: usize,
    pub produced: usize,
    /// The member ended and its trailer checked.
    pub done: bool,
}

impl IndexedMember {
    /// A decoder for the member `loc` describes: the caller has consumed everything before
    /// the `skip` bytes that precede its first piece. `None` when the groups do not fit
    /// this address space or the workers cannot start.
    pub(crate) fn new(format: Format, loc: Located, skip: usize, threads: usize) -> Option<IndexedMember> {
        let groups = plan(&loc)?;
        let pieces_end = groups.last().map_or(loc.data_start, |g| g.comp.end);
        let tail_len = loc.body_end.checked_sub(pieces_end)?;
        if loc.index.last_final != (tail_len == 0) {
            return None;
        }
        let index = std::sync::Arc::new(loc.index);
        let (tx, rx) = std::sync::mpsc::channel::<Job>();
        let rx = std::sync::Arc::new(Mutex::new(rx));
        let threads = threads.clamp(1, groups.len().max(1));
        let mut workers = Vec::with_capacity(threads);
        for i in 0..threads {
            let (rx, index) = (rx.clone(), index.clone());
            let h = std::thread::Builder::new()
                .name(format!("uadk-zip-inflate-{i}"))
                .spawn(move || loop {
                    let job = rx.lock().recv();
                    let Ok(job) = job else { break };
                    let r = decode_job(format, &index, &job.group, job.bufs);
                    let _ = job.done.send(r);
                })
                .ok()?;
            workers.push(h);
        }
        Some(IndexedMember {
            format,
            index,
            groups,
            skip,
            gather: None,
            submitted: 0,
            threads,
            pending: Default::default(),
            jobs: Some(tx),
            workers,
            current: None,
            current_pos: 0,
            free: Vec::with_capacity(threads + 2),
            tail_len,
            tail: Vec::new(),
            trailer: Vec::new(),
        })
    }

    /// Threads decoding groups.
    pub(crate) fn threads(&self) -> usize {
        self.threads
    }

    /// Groups of this member.
    pub(crate) fn groups(&self) -> usize {
        self.groups.len()
    }

    fn lost() -> Error {
        Error::Library {
            library: "parallel decompression",
            detail: "the decoding threads stopped".into(),
        }
    }

    /// Another group may be gathered now (all of them are not yet, and fewer than
    /// `threads + 1` are in flight).
    fn room(&self) -> bool {
        self.skip == 0 && self.submitted < self.groups.len() && self.pending.len() <= self.threads
    }

    /// Takes what input it can: the carrier to skip, then the compressed bytes of groups
    /// (each handed to a worker as soon as it is complete) while there is [`Self::room`],
    /// then the tail and the trailer. Returns the bytes taken.
    fn feed(&mut self, input: &[u8]) -> Result<usize> {
        let mut ip = self.skip.min(input.len());
        self.skip -= ip;
        while self.room() {
            let g = &self.groups[self.submitted];
            let free = &mut self.free;
            let bufs = self.gather.get_or_insert_with(|| {
                let mut b = free.pop().unwrap_or_default();
                b.comp.clear();
                b.comp.reserve(g.comp.len() + TERMINATOR.len());
                b
            });
            let n = (g.comp.len() - bufs.comp.len()).min(input.len() - ip);
            bufs.comp.extend_from_slice(&input[ip..ip + n]);
            ip += n;
            if bufs.comp.len() < g.comp.len() {
                break;
            }
            let bufs = self.gather.take().expect("gathered above");
            let (done, rx) = std::sync::mpsc::channel();
            let job = Job {
                group: g.clone(),
                bufs,
                done,
            };
            self.jobs
                .as_ref()
                .ok_or_else(Self::lost)?
                .send(job)
                .map_err(|_| Self::lost())?;
            self.submitted += 1;
            self.pending.push_back(rx);
        }
        if self.submitted == self.groups.len() {
            let n = (self.tail_len - self.tail.len()).min(input.len() - ip);
            self.tail.extend_from_slice(&input[ip..ip + n]);
            ip += n;
            if self.tail.len() == self.tail_len {
                let n = (trailer_len(self.format) - self.trailer.len()).min(input.len() - ip);
                self.trailer.extend_from_slice(&input[ip..ip + n]);
                ip += n;
            }
        }
        Ok(ip)
    }

    /// Bytes of the current group not yet handed out.
    fn ready(&self) -> &[u8] {
        self.current.as_ref().map_or(&[], |c| &c.out[self.current_pos..])
    }

    /// Once the current group is handed out: returns its buffers to the pool and makes the
    /// next decoded group current, waiting for it when `wait`. `false` when there is none
    /// (yet).
    fn next_group(&mut self, wait: bool) -> Result<bool> {
        let Some(rx) = self.pending.front() else {
            return Ok(false);
        };
        let r = if wait {
            rx.recv().unwrap_or_else(|_| Err(Self::lost()))
        } else {
            match rx.try_recv() {
                Ok(r) => r,
                Err(std::sync::mpsc::TryRecvError::Empty) => return Ok(false),
                Err(std::sync::mpsc::TryRecvError::Disconnected) => Err(Self::lost()),
            }
        };
        self.pending.pop_front();
        let bufs = r?;
        if let Some(old) = self.current.replace(bufs) {
            self.free.push(old);
        }
        self.current_pos = 0;
        Ok(true)
    }

    /// With every group handed out and the tail and trailer taken: checks them. `true`
    /// when the member is complete and correct.
    fn finished(&self) -> Result<bool> {
        if !self.pending.is_empty()
            || self.submitted < self.groups.len()
            || self.trailer.len() < trailer_len(self.format)
            || !self.ready().is_empty()
        {
            return Ok(false);
        }
        // A tail must be empty stored blocks ending with the final one: nothing.
        let t = &self.tail;
        let groups_ok = t.len() >= crate::index::FINAL_EMPTY.len()
            && t[t.len() - 5..] == crate::index::FINAL_EMPTY
            && t[..t.len() - 5]
                .chunks(crate::index::GROUP)
                .all(|g| g.len() == 5 && g[0] & 7 == 0 && g[1..] == [0, 0, 0xff, 0xff]);
        if self.tail_len > 0 && !groups_ok {
            return Err(Error::corrupt(
                self.format,
                "the data after the indexed pieces is not the index",
            ));
        }
        let total = self.index.total_uncompressed();
        verify_trailer(self.format, &self.trailer, self.index.combined_check(), total)?;
        Ok(true)
    }

    /// Whether to wait for the next group rather than return: always, unless the caller's
    /// input (not empty) is used up while another group could be gathered — more input
    /// then keeps the workers busy. So a call returns with room left in its output only
    /// when it needs more input, or the member is done (the contract of
    /// [`crate::Decompressor::decompress`]).
    fn should_wait(&self, input: &[u8], ip: usize) -> bool {
        let hungry = !input.is_empty() && ip == input.len() && (self.skip > 0 || self.room());
        !hungry
    }

    /// Takes input and copies decoded bytes into `output`; call again with the rest of the
    /// input.
    pub(crate) fn step(&mut self, input: &[u8], output: &mut [u8]) -> Result<MemberStep> {
        let mut ip = 0;
        let mut op = 0;
        loop {
            ip += self.feed(&input[ip..])?;
            let ready = self.ready();
            let n = ready.len().min(output.len() - op);
            output[op..op + n].copy_from_slice(&ready[..n]);
            self.current_pos += n;
            op += n;
            if op == output.len() {
                break;
            }
            let wait = self.should_wait(input, ip);
            if !self.next_group(wait)? {
                let done = self.finished()?;
                return Ok(MemberStep {
                    consumed: ip,
                    produced: op,
                    done,
                });
            }
        }
        Ok(MemberStep {
            consumed: ip,
            produced: op,
            done: false,
        })
    }

    /// Takes input and lends the decoded bytes ready (the rest of one group, in its own
    /// buffer: no copy), to be read with [`Self::lent`] until the next call. Returns
    /// `(input consumed, member done, the bytes' range)`; the range is empty when the
    /// member is done or more input is needed first.
    pub(crate) fn lend(&mut self, input: &[u8]) -> Result<(usize, bool, Range<usize>)> {
        let mut ip = self.feed(input)?;
        while self.ready().is_empty() {
            let wait = self.should_wait(input, ip);
            if !self.next_group(wait)? {
                return Ok((ip, self.finished()?, 0..0));
            }
            // A slot opened: the next group may be gathered.
            ip += self.feed(&input[ip..])?;
        }
        let start = self.current_pos;
        self.current_pos = self.current.as_ref().map_or(0, |c| c.out.len());
        Ok((ip, false, start..self.current_pos))
    }

    /// The bytes of the current group that [`Self::lend`] lent (`range`, as it returned).
    pub(crate) fn lent(&self, range: Range<usize>) -> &[u8] {
        self.current.as_ref().map_or(&[], |c| &c.out[range])
    }
}

impl Drop for IndexedMember {
    fn drop(&mut self) {
        self.jobs = None;
        self.pending.clear();
        for w in self.workers.drain(..) {
            let _ = w.join();
        }
    }
}

/// The header length of the stream or member at the start of `input`.
fn header_len(format: Format, input: &[u8]) -> Result<usize> {
    match format {
        Format::Deflate => Ok(0),
        Format::Zlib => {
            let h = input.get(..2).ok_or(Error::Truncated { format })?;
            crate::format::check_zlib_header([h[0], h[1]])?;
            Ok(2)
        }
        Format::Gzip => GzipHeader::parse(input)?
            .map(|(_, n)| n)
            .ok_or(Error::Truncated { format }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn loc(needs: &[bool], last_final: bool) -> Located {
        Located {
            index: Index {
                kind: CheckKind::Crc32,
                last_final,
                entries: needs
                    .iter()
                    .map(|&n| Entry {
                        compressed: 10,
                        uncompressed: 100,
                        check: 0,
                        needs_window: n,
                    })
                    .collect(),
            },
            data_start: 7,
            body_end: 7 + 10 * needs.len(),
        }
    }

    #[test]
    fn pieces_that_need_a_window_join_the_group_before() {
        let g = plan(&loc(&[false, true, false, false, true, true], true)).unwrap();
        let spans: Vec<_> = g
            .iter()
            .map(|g| (g.entries.clone(), g.comp.clone(), g.out.clone(), g.ends_final))
            .collect();
        assert_eq!(
            spans,
            vec![
                (0..2, 7..27, 0..200, false),
                (2..3, 27..37, 200..300, false),
                (3..6, 37..67, 300..600, true)
            ]
        );
        assert!(!plan(&loc(&[false, false], false)).unwrap()[1].ends_final);
    }

    #[test]
    fn filler_blocks_decode_to_nothing_and_have_the_planned_length() {
        for (f, bits) in [
            (BitWriter::empty_fixed as fn(&mut BitWriter), 10),
            (BitWriter::empty_dynamic, 93),
        ] {
            let mut w = BitWriter { v: Vec::new(), n: 0 };
            f(&mut w);
            assert_eq!(w.n, bits);
            w.put(1, 1);
            w.put(1, 2);
            w.put(0, 7);
            let out = crate::software::zlib::decompress(Format::Deflate, &w.v, 10).unwrap();
            assert!(out.is_empty());
            let mut d = Vec::new();
            assert_eq!(
                libdeflate::decompress(Format::Deflate, &w.v, 10, &mut d).unwrap(),
                Some(w.v.len())
            );
        }
    }

    /// Every alignment of the start bit: window + the data's blocks from a block boundary.
    #[test]
    fn spliced_streams_keep_stored_blocks_aligned() {
        let data: Vec<u8> = (0..400_000u32)
            .map(|i| (i * 7 % 251) as u8 ^ (i >> 11) as u8)
            .collect();
        let z = crate::software::zlib::compress(Format::Deflate, 6, &data).unwrap();
        let stored = crate::software::zlib::compress(Format::Deflate, 0, &data).unwrap();
        for z in [z, stored] {
            // Block boundaries from the speculative decoder, one block at a time.
            let mut bit = 0;
            let mut out_at = 0usize;
            let mut seen = std::collections::HashSet::new();
            while let Ok(s) = crate::speculative_inflate::decode_with_markers(
                &z,
                bit,
                &[crate::speculative_inflate::Stop::Blocks(1)],
                usize::MAX,
            ) {
                let n = s.symbols.len() - crate::speculative_inflate::WINDOW;
                if out_at >= 32768 && seen.insert(bit % 8) {
                    let win = &data[out_at - 32768..out_at];
                    let st = spliced(win, &z, bit, z.len() as u64 * 8, false);
                    let mut d = Vec::new();
                    libdeflate::decompress(Format::Deflate, &st, data.len(), &mut d)
                        .unwrap()
                        .unwrap();
                    assert!(d[32768..] == data[out_at..], "from bit {bit}");
                }
                out_at += n;
                bit = s.end_bit;
                if s.final_block {
                    break;
                }
            }
            assert_eq!(out_at, data.len());
        }
    }

    /// Text with random runs.
    fn text(len: usize) -> Vec<u8> {
        let mut x = 0x9e37_79b9u32;
        let mut v = Vec::with_capacity(len + 300);
        while v.len() < len {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            if x.is_multiple_of(89) {
                v.extend((0..300).map(|i| (x.rotate_left(i) >> 5) as u8));
            } else {
                v.extend_from_slice([&b"group "[..], b"buffer ", b"lend\n", b"pool "][(x % 4) as usize]);
            }
        }
        v.truncate(len);
        v
    }

    /// An indexed stream of our parallel compressor (gzip: FEXTRA; zlib, raw deflate: a
    /// leading carrier), its index, and its data.
    fn indexed(format: Format) -> (Vec<u8>, Located, Vec<u8>) {
        let data = text(5 << 20);
        let s = crate::Session::new(crate::Config {
            format,
            // Four threads: libdeflate (level 6) cuts one block per thread.
            threads: 4,
            backend: crate::Backend::Software,
            parallel_threshold: 1 << 20,
            ..crate::Config::default()
        })
        .unwrap();
        let z = s.compress(&data).unwrap();
        let loc = crate::index::locate(format, &z).unwrap();
        assert!(plan(&loc).unwrap().len() >= 3, "{format:?}: several groups");
        (z, loc, data)
    }

    /// Sets of group buffers alive in `m`.
    fn buffer_sets(m: &IndexedMember) -> usize {
        m.free.len() + m.pending.len() + usize::from(m.current.is_some()) + usize::from(m.gather.is_some())
    }

    /// Runs `m` over `body` (its deflate data from the first piece, and the trailer) in
    /// reads of `chunk` bytes, lending or copying (into `out_room` bytes); returns the
    /// output, or the first error.
    fn drive(
        mut m: IndexedMember,
        body: &[u8],
        chunk: usize,
        lend: bool,
        out_room: usize,
    ) -> Result<Vec<u8>> {
        let threads = m.threads();
        let mut out = Vec::new();
        let mut buf = vec![0u8; out_room];
        let mut pos = 0usize;
        loop {
            let end = body.len().min(pos.saturating_add(chunk));
            let (consumed, done) = if lend {
                let (c, done, r) = m.lend(&body[pos..end])?;
                out.extend_from_slice(m.lent(r));
                (c, done)
            } else {
                let st = m.step(&body[pos..end], &mut buf)?;
                out.extend_from_slice(&buf[..st.produced]);
                (st.consumed, st.done)
            };
            assert!(buffer_sets(&m) <= threads + 2, "{} sets", buffer_sets(&m));
            pos += consumed;
            if done {
                assert_eq!(pos, body.len(), "the trailer ends the member");
                return Ok(out);
            }
            assert!(!(pos == body.len() && consumed == 0 && end == pos && out.is_empty() && chunk == 0));
            if pos == body.len() && consumed == 0 {
                // Input used up: drain (an empty call waits for the groups in flight).
                let before = out.len();
                let r = if lend {
                    let (_, done, r) = m.lend(&[])?;
                    out.extend_from_slice(m.lent(r));
                    done
                } else {
                    let st = m.step(&[], &mut buf)?;
                    out.extend_from_slice(&buf[..st.produced]);
                    st.done
                };
                if r {
                    return Ok(out);
                }
                if out.len() == before {
                    return Err(Error::Truncated { format: Format::Gzip });
                }
            }
        }
    }

    #[test]
    fn lent_and_copied_output_match_with_at_most_threads_plus_two_buffer_sets() {
        for format in [Format::Gzip, Format::Zlib, Format::Deflate] {
            let (z, loc, data) = indexed(format);
            let body = &z[loc.data_start..];
            for (chunk, lend, room) in [
                (usize::MAX, true, 0),
                (usize::MAX, false, 1 << 20),
                (64 << 10, true, 0),
                (64 << 10, false, 1000),
                (777, true, 0),
            ] {
                let m = IndexedMember::new(format, loc.clone(), 0, 2).unwrap();
                let out = drive(m, body, chunk, lend, room).unwrap();
                assert!(out == data, "{format:?} chunk {chunk} lend {lend}");
            }
        }
    }

    #[test]
    fn lending_checks_every_group_and_the_trailer() {
        for format in [Format::Gzip, Format::Zlib, Format::Deflate] {
            let (z, loc, _) = indexed(format);
            let body = &z[loc.data_start..];
            // A lying checksum, a lying length (moved between two pieces), damaged data.
            let mut lie = loc.clone();
            lie.index.entries[1].check ^= 1;
            let mut moved = loc.clone();
            moved.index.entries[0].uncompressed += 5;
            moved.index.entries[1].uncompressed -= 5;
            for (what, l) in [("check", lie), ("length", moved)] {
                let m = IndexedMember::new(format, l, 0, 2).unwrap();
                assert!(drive(m, body, 64 << 10, true, 0).is_err(), "{format:?} {what}");
            }
            let mut bad = body.to_vec();
            bad[loc.index.entries[0].compressed as usize + 300] ^= 0x10;
            let m = IndexedMember::new(format, loc.clone(), 0, 2).unwrap();
            assert!(drive(m, &bad, 64 << 10, true, 0).is_err(), "{format:?} damaged");
            if format != Format::Deflate {
                let mut t = body.to_vec();
                let last = t.len() - 1;
                t[last] ^= 1;
                let m = IndexedMember::new(format, loc.clone(), 0, 2).unwrap();
                assert!(drive(m, &t, 64 << 10, true, 0).is_err(), "{format:?} trailer");
            }
            let m = IndexedMember::new(format, loc.clone(), 0, 2).unwrap();
            let cut = &body[..body.len() - 1];
            assert!(drive(m, cut, 64 << 10, true, 0).is_err(), "{format:?} truncated");
        }
    }

    #[test]
    fn the_decompressor_lends_indexed_output_and_copies_the_rest() {
        let (z, _, data) = indexed(Format::Gzip);
        let plain = crate::compress(b"a plain member\n", Format::Gzip).unwrap();
        let all = [&z[..], &plain, &z].concat();
        let want = [&data[..], b"a plain member\n", &data].concat();
        let s = crate::Session::new(crate::Config {
            format: Format::Gzip,
            threads: 2,
            backend: crate::Backend::Software,
            ..crate::Config::default()
        })
        .unwrap();
        let mut d = s.decompressor().unwrap();
        let mut scratch = vec![0u8; 4096];
        let (mut out, mut pos, mut largest) = (Vec::new(), 0, 0);
        loop {
            let end = all.len().min(pos + (256 << 10));
            let (p, bytes) = d.decompress_lend(&all[pos..end], &mut scratch).unwrap();
            assert_eq!(p.produced, bytes.len());
            largest = largest.max(bytes.len());
            out.extend_from_slice(bytes);
            pos += p.consumed;
            if pos == all.len() && d.is_done() {
                break;
            }
        }
        d.finish().unwrap();
        assert!(out == want);
        assert!(
            largest > scratch.len(),
            "indexed groups are lent whole, not copied"
        );
        assert!(d.report().reason.contains("block index"), "{}", d.report().reason);
    }

    #[test]
    fn terminator_is_an_empty_final_block() {
        let mut d = Vec::new();
        let used = libdeflate::decompress(Format::Deflate, &TERMINATOR, 16, &mut d).unwrap();
        assert_eq!((used, d.len()), (Some(2), 0));
    }
}
