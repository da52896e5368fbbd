//! The raw-deflate engines a framed deflate stream runs on, one *segment* at a time.
//!
//! A segment is a run of deflate blocks from one engine that ends byte-aligned on a flush
//! boundary (a sync flush: an empty stored block) unless it holds the final block. Segments
//! from different engines can therefore follow each other in one stream, which is how a
//! stream moves to zlib-rs when a call needs zlib's own state (`deflateParams` with new
//! settings, `deflatePrime`, `deflateCopy`, `Z_BLOCK`, ...).
//!
//! | engine | when | how |
//! |---|---|---|
//! | device | `UADK_Z_BACKEND=auto/device` and a ZIP device offers raw deflate streams | uadk-zip's device stream |
//! | ISA-L streaming | levels 1–3 | `uadk_zip::Compressor` (uadk-zip picks ISA-L, or its fallback when ISA-L is absent) |
//! | libdeflate blocks | levels 4–9 | input gathered into 128 KiB blocks, each one libdeflate call; every block but the last made non-final ([`uadk_zip::software::walk::make_nonfinal`]) |
//! | zlib-rs | level 0, other strategies, and after a switch | a raw zlib-rs stream |

use crate::abi::*;
use crate::zrs::Inner;
use std::ffi::c_int;
use uadk_zip::software::{libdeflate_level, walk, Library};
use uadk_zip::{Backend, Compressor, Config, Direction, Flush, Format, Session};

/// Input gathered per libdeflate call at levels 4–9: large enough that starting each block
/// without history costs little ratio (libdeflate takes no dictionary), small enough to
/// bound the memory of a stream (zlib's own state is about 256 KiB at memLevel 8).
pub const BLOCK: usize = 128 << 10;

/// An empty non-final stored block at a byte boundary: what a sync flush writes.
const SYNC_MARKER: [u8; 5] = [0x00, 0x00, 0x00, 0xff, 0xff];

/// Pieces shorter than this are written as fixed-Huffman literals: libdeflate stores short
/// inputs (5 bytes of overhead), more than zlib's `deflateBound` allows for them with a
/// non-default memLevel (`n + 4` bytes under 8 input bytes).
const TINY: usize = 8;

/// Appends `data` as one fixed-Huffman block of literals (at most 9 bits each), final or
/// followed by a sync flush's empty stored block, ending on a byte boundary.
fn fixed_literals(data: &[u8], last: bool, out: &mut Vec<u8>) {
    let mut bits = BitWriter { acc: 0, n: 0 };
    // Huffman codes go most significant bit first: reversed in the LSB-first bit stream.
    let rev = |code: u32, len: u32| code.reverse_bits() >> (32 - len);
    bits.put(out, u32::from(last), 1);
    bits.put(out, 1, 2); // BTYPE 01: fixed Huffman codes
    for &b in data {
        let (code, len) = if b < 144 {
            (0x30 + u32::from(b), 8)
        } else {
            (0x190 + u32::from(b) - 144, 9)
        };
        bits.put(out, rev(code, len), len);
    }
    bits.put(out, 0, 7); // end of block (code 256: seven zero bits)
    if !last {
        bits.put(out, 0, 3); // an empty stored block, non-final
    }
    if bits.n > 0 {
        bits.put(out, 0, 8 - bits.n);
    }
    if !last {
        out.extend_from_slice(&SYNC_MARKER[1..]);
    }
}

/// Least-significant-bit-first bit packing (deflate's order).
struct BitWriter {
    acc: u64,
    n: u32,
}

impl BitWriter {
    fn put(&mut self, out: &mut Vec<u8>, value: u32, len: u32) {
        self.acc |= u64::from(value) << self.n;
        self.n += len;
        while self.n >= 8 {
            out.push(self.acc as u8);
            self.acc >>= 8;
            self.n -= 8;
        }
    }
}

/// Progress of one segment call.
#[derive(Clone, Copy, Debug, Default)]
pub struct SegStep {
    /// Input bytes consumed.
    pub consumed: usize,
    /// Bytes written directly to the output (more may have gone to the spill buffer).
    pub produced: usize,
    /// The flush asked for is complete (`Z_NO_FLUSH`: all input taken).
    pub done: bool,
}

/// Libdeflate over gathered blocks.
pub struct Blocks {
    level: u32,
    buf: Vec<u8>,
}

impl Blocks {
    fn piece(&self, data: &[u8], last: bool, spill: &mut Vec<u8>) -> Result<(), String> {
        if data.is_empty() && !last {
            spill.extend_from_slice(&SYNC_MARKER);
            return Ok(());
        }
        if data.len() < TINY {
            fixed_literals(data, last, spill);
            return Ok(());
        }
        let z = Library::Libdeflate
            .compress(Format::Deflate, libdeflate_level(self.level), data)
            .map_err(|e| e.to_string())?;
        let start = spill.len();
        spill.extend_from_slice(&z);
        if !last {
            walk::make_nonfinal(spill, start).map_err(|e| e.to_string())?;
        }
        Ok(())
    }

    fn step(&mut self, input: &[u8], spill: &mut Vec<u8>, flush: c_int) -> Result<SegStep, String> {
        if flush == Z_NO_FLUSH {
            let consumed = if self.buf.is_empty() && input.len() >= BLOCK {
                self.piece(&input[..BLOCK], false, spill)?;
                BLOCK
            } else {
                let take = (BLOCK - self.buf.len()).min(input.len());
                self.buf.extend_from_slice(&input[..take]);
                if self.buf.len() == BLOCK {
                    let buf = std::mem::take(&mut self.buf);
                    self.piece(&buf, false, spill)?;
                    self.buf = buf;
                    self.buf.clear();
                }
                take
            };
            return Ok(SegStep {
                consumed,
                produced: 0,
                done: consumed == input.len(),
            });
        }
        let last = flush == Z_FINISH;
        if self.buf.is_empty() {
            self.piece(input, last, spill)?;
        } else {
            let mut buf = std::mem::take(&mut self.buf);
            buf.extend_from_slice(input);
            self.piece(&buf, last, spill)?;
            buf.clear();
            self.buf = buf;
        }
        Ok(SegStep {
            consumed: input.len(),
            produced: 0,
            done: true,
        })
    }
}

/// One segment's engine.
pub enum Segment {
    /// A uadk-zip raw compressor (ISA-L or its fallback, or a device stream).
    Stream {
        /// The stream.
        c: Box<Compressor>,
        /// It runs on a device.
        device: bool,
    },
    /// libdeflate blocks.
    Blocks(Blocks),
    /// A raw zlib-rs stream.
    ZlibRs(Inner),
}

/// The parameters a segment is made for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SegParams {
    /// 0..=9.
    pub level: c_int,
    /// 9..=15.
    pub window_bits: c_int,
    /// 1..=9.
    pub mem_level: c_int,
    /// `Z_DEFAULT_STRATEGY` … `Z_FIXED`.
    pub strategy: c_int,
}

impl SegParams {
    /// Why the fast engines cannot produce what zlib would for these parameters, if so. (A
    /// window below 32 KiB is served by the framing: fast engines take at most `2^wbits`
    /// bytes, so no match can reach further back, and zlib-rs the rest.)
    pub fn needs_zlib(&self) -> Option<&'static str> {
        if self.level == 0 {
            Some("level 0 (stored blocks)")
        } else if !matches!(self.strategy, Z_DEFAULT_STRATEGY | Z_FILTERED) {
            Some("strategy Z_HUFFMAN_ONLY/Z_RLE/Z_FIXED")
        } else {
            None
        }
    }
}

/// Whether a registered ZIP device runs raw-deflate compression streams.
fn device_streams() -> bool {
    uadk_zip::device::auto_register();
    uadk_zip::devices()
        .iter()
        .any(|d| d.offers(Format::Deflate, Direction::Compress) && d.streams())
}

impl Segment {
    /// The engine for a segment with `p`, and the route to record (`path:engine (why)`).
    pub fn choose(p: SegParams) -> Result<(Segment, String), c_int> {
        if let Some(why) = p.needs_zlib() {
            return Ok((Segment::zlib_rs(p)?, format!("software:zlib-rs ({why})")));
        }
        let backend = crate::config::settings().backend;
        let level = p.level as u32;
        let mut note = "";
        if backend != Backend::Software {
            if device_streams() {
                let cfg = Config {
                    format: Format::Deflate,
                    level,
                    backend: Backend::Device,
                    threads: 1,
                    ..Config::default()
                };
                match Session::new(cfg).and_then(|s| s.compressor()) {
                    Ok(c) if c.report().engine.kind() == "device" => {
                        let why = format!("{}: {}", c.report().engine, c.report().reason);
                        return Ok((
                            Segment::Stream {
                                c: Box::new(c),
                                device: true,
                            },
                            format!("device ({why})"),
                        ));
                    }
                    Ok(_) => note = "device stream not available; ",
                    Err(_) => note = "device stream could not be opened; ",
                }
            } else if backend == Backend::Device {
                note = "no ZIP device offers deflate streams; ";
            }
        }
        if (1..=3).contains(&level) {
            let c = Compressor::software(Format::Deflate, level).map_err(|_| Z_MEM_ERROR)?;
            let why = format!("{note}level 1-3: {}", c.report().reason);
            let route = format!("software:{} ({why})", engine_name(&c));
            return Ok((
                Segment::Stream {
                    c: Box::new(c),
                    device: false,
                },
                route,
            ));
        }
        Ok((
            Segment::Blocks(Blocks {
                level,
                buf: Vec::new(),
            }),
            format!(
                "software:libdeflate ({note}level 4-9: libdeflate over {} KiB blocks)",
                BLOCK >> 10
            ),
        ))
    }

    /// A raw zlib-rs segment with `p`.
    pub fn zlib_rs(p: SegParams) -> Result<Segment, c_int> {
        Ok(Segment::ZlibRs(Inner::deflate(
            p.level,
            -p.window_bits,
            p.mem_level,
            p.strategy,
        )?))
    }

    /// Whether this segment runs on a device.
    pub fn on_device(&self) -> bool {
        matches!(self, Segment::Stream { device: true, .. })
    }

    /// Compresses from `input`: output goes to `out` or, for engines that produce whole
    /// blocks, to `spill`. `flush` is zlib's (`Z_BLOCK`/`Z_TREES` only on zlib-rs).
    pub fn step(
        &mut self,
        input: &[u8],
        out: &mut [u8],
        spill: &mut Vec<u8>,
        flush: c_int,
    ) -> Result<SegStep, String> {
        match self {
            Segment::Stream { c, .. } => {
                let f = match flush {
                    Z_NO_FLUSH => Flush::None,
                    Z_FULL_FLUSH => Flush::Full,
                    Z_FINISH => Flush::Finish,
                    _ => Flush::Sync,
                };
                let p = c.compress(input, out, f).map_err(|e| e.to_string())?;
                Ok(SegStep {
                    consumed: p.consumed,
                    produced: p.produced,
                    done: if f == Flush::None {
                        p.consumed == input.len()
                    } else {
                        p.done
                    },
                })
            }
            Segment::Blocks(b) => b.step(input, spill, flush),
            Segment::ZlibRs(inner) => {
                // SAFETY: `run` points the stream at `input`/`out` for this call only.
                let (rc, consumed, produced) =
                    inner.run(input, out, |s| unsafe { libz_rs_sys::deflate(s, flush) });
                let left = out.len() - produced;
                let done = match rc {
                    Z_STREAM_END => true,
                    Z_OK if flush == Z_NO_FLUSH => consumed == input.len(),
                    Z_OK => left > 0 && flush != Z_FINISH,
                    // No progress was possible: nothing is left to do for this flush.
                    Z_BUF_ERROR => flush != Z_FINISH,
                    _ => return Err(format!("zlib-rs deflate returned {rc}")),
                };
                Ok(SegStep {
                    consumed,
                    produced,
                    done,
                })
            }
        }
    }

    /// A copy for `deflateCopy` (zlib-rs segments only: the others are first switched).
    pub fn try_clone(&mut self) -> Result<Segment, c_int> {
        match self {
            Segment::ZlibRs(inner) => Ok(Segment::ZlibRs(inner.try_clone()?)),
            Segment::Blocks(b) => Ok(Segment::Blocks(Blocks {
                level: b.level,
                buf: b.buf.clone(),
            })),
            Segment::Stream { .. } => Err(Z_STREAM_ERROR),
        }
    }

    /// The zlib-rs stream of a zlib-rs segment.
    pub fn inner(&mut self) -> Option<&mut Inner> {
        match self {
            Segment::ZlibRs(i) => Some(i),
            _ => None,
        }
    }
}

fn engine_name(c: &Compressor) -> String {
    match &c.report().engine {
        uadk_zip::Engine::Software(l) => l.name().to_string(),
        uadk_zip::Engine::Device(d) => d.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_literal_blocks_decode() {
        for data in [&b""[..], b"a", b"\xff\x00\x90\x8f", b"seven!!"] {
            for last in [true, false] {
                let mut z = Vec::new();
                fixed_literals(data, last, &mut z);
                if !last {
                    assert_eq!(&z[z.len() - 4..], &[0, 0, 0xff, 0xff]);
                    fixed_literals(b"", true, &mut z);
                }
                let back = uadk_zip::decompress(&z, Format::Deflate).unwrap();
                assert_eq!(back, data);
                assert!(z.len() <= data.len() + 4 + if last { 0 } else { 5 + 2 });
            }
        }
        let mut z = Vec::new();
        fixed_literals(b"", true, &mut z);
        assert_eq!(z, [0x03, 0x00]);
    }
}
