//! Parallel compression of one large input over every device queue: the input is cut into
//! blocks, each block is a **new device stream** (stateful request, new-stream flag) sent
//! asynchronously, round robin over `QUEUES_PER_DEVICE` queues on every ZIP device that
//! offers the format, with several blocks in flight per queue. The outputs are joined into
//! ONE standard stream:
//!
//! * every block but the last is a non-final request: the device ends its output on a byte
//!   boundary with non-final blocks (a sync flush) — the emulator models exactly that; the
//!   reference does not document partial-byte output for non-final requests — so the next
//!   block's deflate data follows directly; it uses no history from earlier blocks, so
//!   nothing it references is missing;
//! * the last block is a finish request (final block + the device's trailer, dropped here);
//! * the checksum is the device's per-block running checksum (dw31, request type
//!   zlib/gzip) combined with [`crate::format::combine`] (adler32 / crc32 combine), so no
//!   CPU checksum pass runs; header and trailer are written in software.
//!
//! Output the device could not place (ctx status 0x1) is fetched with continuation requests
//! on the block's queue and context. Any failure fails the whole call (the caller then runs
//! the input as one device stream or in software): never a partial stream.

use super::batch::QUEUES_PER_DEVICE;
use super::dma::{AsyncQueue, Bufs};
use super::engine::{extra_trailer, req_type_for};
use super::sqe::{self, Status, StreamFlags, StreamWords, CTX_HW_OFFSET, CTX_SIZE, MAX_SIZE};
use super::stream::comp_cap;
use super::ZipDevice;
use crate::backend::{Direction, Engine, Report};
use crate::error::{Error, Result};
use crate::format::trailer_len;
use crate::session::Inner;
use std::sync::Arc;
use std::time::Duration;

/// Smallest block (smaller blocks cost ratio: no history crosses a block boundary).
pub const MIN_BLOCK: usize = 256 * 1024;
/// Largest block: its output buffer stays within the 8 MiB request limit.
pub const MAX_BLOCK: usize = 7 << 20;
/// Blocks in flight per queue.
pub const PER_QUEUE: usize = 2;

struct Block {
    start: usize,
    len: usize,
    out: Vec<u8>,
    check: u32,
    done: bool,
}

struct Inflight {
    block: usize,
    queue: usize,
    words: StreamWords,
}

/// Block size for `len` bytes over `queues` queues.
pub fn block_size(len: usize, queues: usize) -> usize {
    (len / (queues.max(1) * 2)).clamp(MIN_BLOCK, MAX_BLOCK)
}

/// Compresses `input` in parallel blocks on the device queues; `Ok(None)` when fewer than
/// two queues could be opened (the caller then uses one device stream).
pub(crate) fn compress(inner: &Inner, input: &[u8]) -> Result<Option<(Vec<u8>, Report)>> {
    let cfg = &inner.cfg;
    let format = cfg.format;
    let in_pool = cfg
        .pool
        .as_ref()
        .is_some_and(|p| p.contains(input.as_ptr(), input.len()));
    if cfg.dma == crate::DmaPolicy::ZeroCopyOnly && !in_pool {
        return Ok(None);
    }
    let devs: Vec<Arc<dyn crate::DeviceEngine>> = super::batch::zips(inner, Direction::Compress);
    let mut owners: Vec<(&ZipDevice, usize)> = Vec::new();
    let mut queues: Vec<(AsyncQueue, sqe::SqeType)> = Vec::new();
    for d in &devs {
        if let Some(z) = d.as_any().and_then(|a| a.downcast_ref::<ZipDevice>()) {
            let qs = z.take_block_queues(QUEUES_PER_DEVICE);
            owners.push((z, qs.len()));
            queues.extend(qs.into_iter().map(|q| (q, z.sqe_type())));
        }
    }
    let give_back = |queues: Vec<(AsyncQueue, sqe::SqeType)>, owners: &[(&ZipDevice, usize)]| {
        let mut it = queues.into_iter().map(|(q, _)| q);
        for (z, n) in owners {
            z.put_block_queues(it.by_ref().take(*n).collect());
        }
    };
    if queues.len() < 2 {
        give_back(queues, &owners);
        return Ok(None);
    }
    // Each block is copied into a buffer its request owns (counted as bounced).
    inner
        .counters
        .dma(crate::backend::Placement::Bounced, input.len());
    let r = run(inner, input, &mut queues);
    let names: Vec<String> = {
        let mut v: Vec<String> = queues.iter().map(|(q, _)| q.name().to_string()).collect();
        v.dedup();
        v
    };
    let nq = queues.len();
    give_back(queues, &owners);
    let body = r?;
    // One stream with the block index (crate::index): raw deflate blocks get a CPU CRC-32
    // for it (the device's checksum word is the format's: adler32 / crc32 for zlib / gzip).
    let kind = crate::index::CheckKind::for_format(format);
    let parts: Vec<crate::parallel::Part> = body
        .0
        .into_iter()
        .map(|b| crate::parallel::Part {
            check: if format == crate::Format::Deflate && cfg.index {
                kind.of(&input[b.start..b.start + b.len])
            } else {
                b.check
            },
            len: b.len as u64,
            bytes: b.out,
            needs_window: false,
        })
        .collect();
    let out = crate::parallel::join(cfg, kind, &parts, input.len() as u64)?;
    let report = Report {
        engine: Engine::Device(names.join("+")),
        reason: format!(
            "{}; parallel blocks of {} KiB on {nq} device queue(s) ({} request(s))",
            inner.comp.reason,
            body.1 / 1024,
            body.2
        ) + if cfg.index && parts.len() > 1 {
            ", with a block index"
        } else {
            ""
        },
        fell_back: false,
        threads: nq,
        uncompressed: input.len() as u64,
        compressed: out.len() as u64,
    };
    Ok(Some((out, report)))
}

/// Runs every block; returns the blocks, the block size and the request count.
fn run(
    inner: &Inner,
    input: &[u8],
    queues: &mut [(AsyncQueue, sqe::SqeType)],
) -> Result<(Vec<Block>, usize, u64)> {
    let format = inner.cfg.format;
    let bs = block_size(input.len(), queues.len());
    let mut blocks: Vec<Block> = (0..input.len().div_ceil(bs))
        .map(|i| Block {
            start: i * bs,
            len: bs.min(input.len() - i * bs),
            out: Vec::new(),
            check: 0,
            done: false,
        })
        .collect();
    let last = blocks.len() - 1;
    let mut inflight: std::collections::HashMap<(usize, u64), Inflight> = std::collections::HashMap::new();
    let mut spare_ctx: Vec<Box<[u8]>> = Vec::new();
    let mut next = 0;
    let mut remaining = blocks.len();
    let mut requests = 0u64;
    let fail = |what: String| Error::Device(format!("parallel blocks: {what}"));
    // Submits one request (first or continuation) for `block` on queue `qi`.
    let submit = |q: &mut AsyncQueue,
                  t: sqe::SqeType,
                  b: &Block,
                  is_last: bool,
                  first: bool,
                  words: StreamWords,
                  ctx: Box<[u8]>|
     -> std::result::Result<u64, Error> {
        let src: Vec<u8> = if first {
            input[b.start..b.start + b.len].to_vec()
        } else {
            Vec::new()
        };
        let cap = if first {
            comp_cap(b.len)
        } else {
            MAX_SIZE.min(comp_cap(b.len))
        };
        let rt = req_type_for(format, t);
        let in_len = src.len() as u32;
        let flags = StreamFlags {
            new_stream: first,
            finish: is_last,
        };
        let bufs = Bufs {
            src,
            dst: vec![0u8; cap],
            ctx: Some(ctx),
        };
        q.submit(bufs, |a| {
            sqe::build_stateful(
                t,
                rt,
                a.src,
                in_len,
                a.dst,
                cap as u32,
                a.ctx + CTX_HW_OFFSET as u64,
                flags,
                &words,
            )
        })
        .map_err(|(e, _)| fail(format!("{}: submit: {e}", q.name())))
    };
    while remaining > 0 {
        // Fill every queue up to PER_QUEUE blocks in flight.
        for (qi, (q, t)) in queues.iter_mut().enumerate() {
            while next < blocks.len() && q.in_flight() < PER_QUEUE && q.free_slots() > 0 {
                let ctx = spare_ctx
                    .pop()
                    .unwrap_or_else(|| vec![0u8; CTX_SIZE].into_boxed_slice());
                let token = submit(
                    q,
                    *t,
                    &blocks[next],
                    next == last,
                    true,
                    StreamWords::default(),
                    ctx,
                )?;
                requests += 1;
                inflight.insert(
                    (qi, token),
                    Inflight {
                        block: next,
                        queue: qi,
                        words: StreamWords::default(),
                    },
                );
                next += 1;
            }
        }
        // Reap.
        let mut got = Vec::new();
        for (qi, (q, _)) in queues.iter_mut().enumerate() {
            if q.in_flight() > 0 {
                q.poll(Duration::from_micros(200), |t, r, b| got.push((qi, t, r, b)));
            }
        }
        for (qi, token, r, bufs) in got {
            let Some(f) = inflight.remove(&(qi, token)) else {
                continue;
            };
            let name = queues[qi].0.name().to_string();
            let s = r.map_err(|e| fail(format!("{name}: {e}")))?;
            let c = sqe::decode(&s);
            if c.produced as usize > bufs.dst.len() {
                return Err(fail(format!(
                    "{name}: completion reports {} bytes out",
                    c.produced
                )));
            }
            match c.status {
                Status::Ok | Status::NegativeCompression => {}
                st => return Err(fail(format!("{name}: {}", st.describe()))),
            }
            let tl = trailer_len(format) + extra_trailer(format, queues[qi].1);
            let b = &mut blocks[f.block];
            b.out.extend_from_slice(&bufs.dst[..c.produced as usize]);
            let words = sqe::stream_words(&s);
            b.check = c.checksum;
            let more = c.ctx_status == sqe::CTX_NO_SPACE_FINISH || c.ctx_status == sqe::CTX_NO_SPACE_DECOMP;
            let is_last = f.block == last;
            let mut ctx = bufs.ctx.unwrap_or_else(|| vec![0u8; CTX_SIZE].into_boxed_slice());
            if more {
                // Fetch the rest on the same queue and context.
                for (i, v) in [words.ctx0, words.ctx1, words.ctx2].iter().enumerate() {
                    ctx[i * 4..i * 4 + 4].copy_from_slice(&v.to_le_bytes());
                }
                let (q, t) = &mut queues[f.queue];
                let token = submit(q, *t, &blocks[f.block], is_last, false, words, ctx)?;
                requests += 1;
                inflight.insert((f.queue, token), Inflight { words, ..f });
                continue;
            }
            if is_last && !c.last_block {
                return Err(fail(format!("{name}: the final block did not end the stream")));
            }
            if is_last {
                if b.out.len() < tl {
                    return Err(fail(format!("{name}: final output shorter than the trailer")));
                }
                b.out.truncate(b.out.len() - tl);
            }
            b.done = true;
            remaining -= 1;
            spare_ctx.push(ctx);
            let _ = f.words;
        }
    }
    debug_assert!(blocks.iter().all(|b| b.done));
    Ok((blocks, bs, requests))
}
