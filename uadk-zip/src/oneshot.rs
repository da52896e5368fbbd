//! One-shot compression and decompression of whole buffers: device first when the session
//! resolved one (with software fallback), else the measured software choice, parallel for
//! large inputs.

use crate::backend::{DeviceEngine, Direction, DmaSetup, Engine, Report};
use crate::error::{Error, Result};
use crate::format::{checksum, header, trailer, verify_trailer, Format, GzipHeader};
use crate::parallel_decompress::Output;
use crate::session::Inner;
use crate::software::{self, libdeflate, Library, Mode};
use crate::stream::{drive_to_vec, Decompressor, Flush};
use std::sync::Arc;

/// Largest input compressed as a single block on one thread (ISA-L counters are 32-bit).
const MAX_SINGLE: usize = 1 << 30;

fn report(engine: Engine, reason: String, fell_back: bool, threads: usize, u: usize, c: usize) -> Report {
    Report {
        engine,
        reason,
        fell_back,
        threads,
        uncompressed: u as u64,
        compressed: c as u64,
    }
}

/// Why an empty input never goes to a device: a ZIP request carries at least one input
/// byte; the empty stream is written in software under every backend.
pub(crate) const EMPTY_INPUT: &str = "0-byte input: not expressible as a ZIP request";

pub(crate) fn compress(inner: &Inner, input: &[u8]) -> Result<(Vec<u8>, Report)> {
    inner.comp.usable()?;
    let cfg = &inner.cfg;
    let mut prefix = String::new();
    let mut fell_back = false;
    if input.is_empty() && inner.comp.device.is_some() {
        let (v, mut r) = compress_software(inner, input, prefix, fell_back)?;
        let why = match cfg.library {
            Some(_) => "library forced by the configuration",
            None => software::choose(Direction::Compress, cfg.level, Mode::OneShot).1,
        };
        r.reason = format!("{EMPTY_INPUT}, completed in software; {why}");
        return Ok((v, r));
    }
    if let Some(dev) = &inner.comp.device {
        // Large inputs: parallel blocks over every device queue (one stream, see
        // device::blocks); fewer than two queues, or a failure, → one device stream below.
        if cfg.threads > 1 && input.len() >= cfg.parallel_threshold.max(2 * crate::device::blocks::MIN_BLOCK)
        {
            match crate::device::blocks::compress(inner, input) {
                Ok(Some(r)) => return Ok(r),
                Ok(None) => {}
                Err(e) => log::warn!("{e}; compressing as one device stream"),
            }
        }
        match device_compress(dev, cfg.format, cfg.level, &cfg.gzip_header, input, &inner.dma()) {
            Ok(v) => {
                let n = v.len();
                let r = report(
                    Engine::Device(dev.name()),
                    inner.comp.reason.clone(),
                    false,
                    1,
                    input.len(),
                    n,
                );
                return Ok((v, r));
            }
            Err(e) if cfg.fallback => {
                prefix = format!("device {} failed ({e}); redone in software; ", dev.name());
                fell_back = true;
            }
            Err(e) => return Err(Error::Device(e.to_string())),
        }
    }
    compress_software(inner, input, prefix, fell_back)
}

/// The software part of [`compress`]: `prefix` and `fell_back` describe a device attempt.
pub(crate) fn compress_software(
    inner: &Inner,
    input: &[u8],
    prefix: String,
    fell_back: bool,
) -> Result<(Vec<u8>, Report)> {
    let cfg = &inner.cfg;
    let (lib, why) = match cfg.library {
        Some(l) if !l.supports(Direction::Compress, cfg.level, Mode::OneShot) => {
            return Err(software::unsupported(l, Direction::Compress, cfg.level))
        }
        Some(l) => (l, "library forced by the configuration"),
        None => software::choose(Direction::Compress, cfg.level, Mode::OneShot),
    };
    let reason = format!("{prefix}{}; {why}", inner.comp.reason);
    let plib = if cfg.library.is_some() {
        lib
    } else {
        software::choose_parallel(cfg.level)
    };
    // Without a forced library, levels 1..=9 go parallel (see `choose_parallel`).
    let splittable = cfg.library.is_some() || matches!(lib, Library::Isal | Library::Libdeflate);
    let wide = cfg.threads > 1 && input.len() >= cfg.parallel_threshold;
    if splittable && (wide || (lib == Library::Isal && input.len() > MAX_SINGLE)) {
        let threads = if wide { cfg.threads } else { 1 };
        let v = crate::parallel::compress(plib, cfg, input, threads)?;
        let n = v.len();
        let reason = format!("{reason}; parallel blocks with {plib} on {threads} thread(s)");
        return Ok((
            v,
            report(Engine::Software(plib), reason, fell_back, threads, input.len(), n),
        ));
    }
    let mut out = header(cfg.format, cfg.level, &cfg.gzip_header)?;
    let (lib_level, reason) = if cfg.library.is_none() && lib == Library::Libdeflate {
        let l = software::libdeflate_level(cfg.level);
        (l, format!("{reason} (libdeflate level {l})"))
    } else {
        (cfg.level, reason)
    };
    let sum = software::compress_whole(lib, lib_level, cfg.format, input, &mut out)?;
    out.extend_from_slice(&trailer(cfg.format, sum, input.len() as u64));
    let n = out.len();
    Ok((
        out,
        report(Engine::Software(lib), reason, fell_back, 1, input.len(), n),
    ))
}

fn device_compress(
    dev: &Arc<dyn DeviceEngine>,
    format: Format,
    level: u32,
    gzip: &GzipHeader,
    input: &[u8],
    dma: &DmaSetup,
) -> Result<Vec<u8>> {
    let mut raw = dev.compressor_for(level, dma)?;
    let mut out = header(format, level, gzip)?;
    drive_to_vec(raw.as_mut(), input, Flush::Finish, &mut out)?;
    out.extend_from_slice(&trailer(format, checksum(format, input), input.len() as u64));
    Ok(out)
}

pub(crate) fn decompress(inner: &Inner, input: &[u8]) -> Result<(Vec<u8>, Report)> {
    inner.decomp.usable()?;
    let cfg = &inner.cfg;
    if input.is_empty() {
        return Err(Error::EmptyInput { format: cfg.format });
    }
    let mut prefix = String::new();
    let mut fell_back = false;
    if let Some(dev) = &inner.decomp.device {
        // Streams with a block index: every group at once over the device queues.
        if cfg.threads > 1 {
            match crate::parallel_decompress::device(cfg, input) {
                Ok(Some(r)) => return Ok(r),
                Ok(None) => {}
                Err(e) => log::info!("indexed device decode not used ({e}); one device stream"),
            }
        }
        let sw = software::choose(Direction::Decompress, 0, Mode::Stream).0;
        let mut d = Decompressor::new(cfg.format, sw, cfg.max_output, String::new(), None)
            .with_device(dev.clone(), false)
            .with_dma(inner.dma());
        let mut out = Vec::new();
        match d.decompress_vec(input, &mut out).and_then(|()| d.finish()) {
            Ok(()) => {
                let r = report(
                    Engine::Device(dev.name()),
                    inner.decomp.reason.clone(),
                    false,
                    1,
                    out.len(),
                    input.len(),
                );
                return Ok((out, r));
            }
            // Bad data is bad data on any engine; only device failures are retried.
            Err(e @ Error::Device(_)) | Err(e @ Error::StreamLost(_)) if cfg.fallback => {
                prefix = format!("device {} failed ({e}); redone in software; ", dev.name());
                fell_back = true;
            }
            // A one-shot request has no stream to lose: report the device failure itself.
            Err(Error::StreamLost(e)) => return Err(Error::Device(e)),
            Err(e) => return Err(e),
        }
    }
    decompress_software(inner, input, prefix, fell_back)
}

/// The software part of [`decompress`]: `prefix` and `fell_back` describe a device attempt.
pub(crate) fn decompress_software(
    inner: &Inner,
    input: &[u8],
    prefix: String,
    fell_back: bool,
) -> Result<(Vec<u8>, Report)> {
    let cfg = &inner.cfg;
    if input.is_empty() {
        return Err(Error::EmptyInput { format: cfg.format });
    }
    let (lib, why) = match cfg.library {
        Some(l) => (l, "library forced by the configuration"),
        None => software::choose(Direction::Decompress, 0, Mode::OneShot),
    };
    let mut reason = format!("{prefix}{}; {why}", inner.decomp.reason);
    if lib == Library::Libdeflate {
        // Streams with a block index decode on every thread (crate::parallel_decompress).
        let mut out = Vec::new();
        let whole = Output::Vec(&mut out, cfg.max_output);
        if let Some(d) = crate::parallel_decompress::oneshot(cfg, input, whole, &mut reason)? {
            let r = report(
                Engine::Software(lib),
                reason,
                fell_back,
                d.threads,
                d.produced,
                input.len(),
            );
            return Ok((out, r));
        }
        if let Some(out) = libdeflate_whole(cfg.format, input, cfg.max_output)? {
            let n = out.len();
            return Ok((
                out,
                report(Engine::Software(lib), reason, fell_back, 1, n, input.len()),
            ));
        }
    }
    let stream_lib = if lib == Library::Libdeflate {
        software::choose(Direction::Decompress, 0, Mode::Stream).0
    } else {
        lib
    };
    let mut d = Decompressor::new(cfg.format, stream_lib, cfg.max_output, String::new(), None);
    let mut out = Vec::with_capacity(input.len().saturating_mul(3).min(cfg.max_output as usize));
    d.decompress_vec(input, &mut out)?;
    d.finish()?;
    let n = out.len();
    Ok((
        out,
        report(Engine::Software(stream_lib), reason, fell_back, 1, n, input.len()),
    ))
}

/// Where libdeflate writes: a growing Vec (with a total capacity) or the caller's slice.
enum Sink<'a> {
    Vec(&'a mut Vec<u8>, usize),
    Slice(&'a mut [u8]),
}

impl Sink<'_> {
    /// Decodes one raw stream to output offset `at`; `(used, produced)` or `None` if full.
    fn decode(&mut self, format: Format, body: &[u8], at: usize) -> Result<Option<(usize, usize)>> {
        match self {
            Sink::Vec(v, cap) => {
                let room = cap.saturating_sub(v.len());
                Ok(libdeflate::decompress(format, body, room, v)?.map(|u| (u, v.len() - at)))
            }
            Sink::Slice(s) => libdeflate::decompress_slice(format, body, &mut s[at..]),
        }
    }

    fn bytes(&self, from: usize, to: usize) -> &[u8] {
        match self {
            Sink::Vec(v, _) => &v[from..to],
            Sink::Slice(s) => &s[from..to],
        }
    }
}

/// Whole-buffer decompression with libdeflate, all members. `Ok(None)` when the output does
/// not fit the sink; errors for bad data.
fn libdeflate_members(format: Format, input: &[u8], mut sink: Sink<'_>) -> Result<Option<usize>> {
    let mut pos = 0;
    let mut op = 0;
    loop {
        let rest = &input[pos..];
        let hdr_len = match format {
            Format::Deflate => 0,
            Format::Zlib => {
                if rest.len() < 2 {
                    return Err(Error::Truncated { format });
                }
                crate::format::check_zlib_header([rest[0], rest[1]])?;
                2
            }
            Format::Gzip => match GzipHeader::parse(rest)? {
                Some((_, n)) => n,
                None => return Err(Error::Truncated { format }),
            },
        };
        let body = &rest[hdr_len..];
        let tl = crate::format::trailer_len(format);
        let Some((used, produced)) = sink.decode(format, body, op)? else {
            return Ok(None);
        };
        let t = body.get(used..used + tl).ok_or(Error::Truncated { format })?;
        let out = sink.bytes(op, op + produced);
        verify_trailer(format, t, checksum(format, out), produced as u64)?;
        op += produced;
        pos += hdr_len + used + tl;
        if pos == input.len() {
            return Ok(Some(op));
        }
        if format != Format::Gzip || input[pos] != 0x1f {
            return Err(Error::TrailingData {
                format,
                offset: pos as u64,
            });
        }
    }
}

/// Whole-buffer decompression into a new Vec sized by a guess (gzip: the ISIZE of the last
/// member, exact for single-member files). `Ok(None)` when the output outgrew the guess.
fn libdeflate_whole(format: Format, input: &[u8], limit: u64) -> Result<Option<Vec<u8>>> {
    let limit_us = usize::try_from(limit).unwrap_or(usize::MAX);
    let guess = if format == Format::Gzip && input.len() >= 18 {
        let t = &input[input.len() - 4..];
        let isize = u32::from_le_bytes([t[0], t[1], t[2], t[3]]) as usize;
        // A forged ISIZE must not reserve more than deflate can expand to (1032:1).
        isize.max(input.len()).min(input.len().saturating_mul(1032)) + 64
    } else {
        input.len().saturating_mul(8).saturating_add(1 << 20)
    };
    let cap = guess.min(limit_us);
    let mut out = Vec::new();
    match libdeflate_members(format, input, Sink::Vec(&mut out, cap))? {
        Some(_) => Ok(Some(out)),
        None if cap == limit_us => Err(Error::OutputLimit { limit }),
        None => Ok(None),
    }
}

pub(crate) fn decompress_into(inner: &Inner, input: &[u8], out: &mut [u8]) -> Result<(usize, Report)> {
    inner.decomp.usable()?;
    let cfg = &inner.cfg;
    if input.is_empty() {
        return Err(Error::EmptyInput { format: cfg.format });
    }
    let lib = match cfg.library {
        Some(l) => l,
        None => software::choose(Direction::Decompress, 0, Mode::OneShot).0,
    };
    if inner.decomp.device.is_none() && lib == Library::Libdeflate {
        let cap = out
            .len()
            .min(usize::try_from(cfg.max_output).unwrap_or(usize::MAX));
        let mut reason = inner.decomp.reason.clone();
        let slice = Output::Slice(&mut out[..cap]);
        if let Some(d) = crate::parallel_decompress::oneshot(cfg, input, slice, &mut reason)? {
            let r = report(
                Engine::Software(lib),
                reason,
                false,
                d.threads,
                d.produced,
                input.len(),
            );
            return Ok((d.produced, r));
        }
        if let Some(n) = libdeflate_members(cfg.format, input, Sink::Slice(&mut out[..cap]))? {
            let r = report(
                Engine::Software(lib),
                inner.decomp.reason.clone(),
                false,
                1,
                n,
                input.len(),
            );
            return Ok((n, r));
        }
        // Too small: the streaming path below counts the exact size needed.
    }
    let stream_lib = if lib == Library::Libdeflate {
        software::choose(Direction::Decompress, 0, Mode::Stream).0
    } else {
        lib
    };
    let mut d = Decompressor::new(cfg.format, stream_lib, cfg.max_output, String::new(), None);
    if let Some(dev) = &inner.decomp.device {
        d = d.with_device(dev.clone(), cfg.fallback).with_dma(inner.dma());
    }
    let mut ip = 0;
    let mut op = 0;
    loop {
        let p = d.decompress(&input[ip..], &mut out[op..])?;
        ip += p.consumed;
        op += p.produced;
        // A full buffer is checked first: with an empty `out` (a 0-byte result) the first
        // call makes no progress, and the rest must still be driven to its end.
        if op == out.len() && !(p.done && ip == input.len()) {
            // Count the rest to report the exact size needed.
            let mut scratch = vec![0u8; 64 * 1024];
            let mut needed = op as u64;
            loop {
                let p = d.decompress(&input[ip..], &mut scratch)?;
                ip += p.consumed;
                needed += p.produced as u64;
                if (ip == input.len() && (p.produced == 0 || p.done)) || (p.consumed == 0 && p.produced == 0)
                {
                    break;
                }
            }
            d.finish()?;
            if needed == op as u64 {
                // Everything fitted; only the trailer was left.
                break;
            }
            return Err(Error::OutputTooSmall {
                needed: usize::try_from(needed).ok(),
                available: out.len(),
            });
        }
        if (ip == input.len() && (p.done || p.produced == 0)) || (p.consumed == 0 && p.produced == 0) {
            break;
        }
    }
    d.finish()?;
    let r = report(
        d.report().engine.clone(),
        inner.decomp.reason.clone(),
        false,
        1,
        op,
        input.len(),
    );
    Ok((op, r))
}
