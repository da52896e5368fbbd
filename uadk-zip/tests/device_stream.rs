//! Stateful device streams against the in-process emulator in QM v2 and v3 modes: every
//! flush mode, sizes from 0 B to over the 8 MiB request limit, tiny output buffers, the
//! `io` adapters, full-flush restart points, fault injection (transparent software restart
//! before any output, a loud `StreamLost` after), and 8 threads on 2 devices. Every device
//! stream is read back by the system zlib and compared with the input.

use std::io::{Read, Write};
use uadk_emu::Faults;
use uadk_zip::software::Library;
use uadk_zip::{Backend, Config, Decoder, Encoder, Error, Flush, Format, Session};

mod common;
use common::Env;

fn env(tag: &str, versions: &[u32]) -> Env {
    common::env("dstream", tag, versions)
}

impl Env {
    /// Requests the emulated devices completed so far.
    fn device_requests(&self) -> u64 {
        self.emu.status().devices.iter().map(|d| d.totals.requests).sum()
    }

    /// Requests completed, waiting (≤ 2 s) until at least `want` are counted: the emulator
    /// counts a request just after posting its completion.
    fn requests_at_least(&self, want: u64) -> u64 {
        let t = std::time::Instant::now();
        loop {
            let n = self.device_requests();
            if n >= want || t.elapsed().as_secs() >= 2 {
                return n;
            }
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
    }
}

fn session(format: Format, backend: Backend, fallback: bool) -> Session {
    Session::new(Config {
        format,
        level: 6,
        backend,
        fallback,
        ..Config::default()
    })
    .unwrap()
}

fn text(len: usize, seed: u32) -> Vec<u8> {
    let words = [
        "device ", "queue ", "deflate ", "zlib ", "gzip ", "stream ", "flush\n",
    ];
    let mut x = 12345u32 ^ seed;
    let mut v = Vec::with_capacity(len + 16);
    while v.len() < len {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        v.extend_from_slice(words[(x % 7) as usize].as_bytes());
    }
    v.truncate(len);
    v
}

fn random(len: usize, seed: u32) -> Vec<u8> {
    let mut x = 0x9e37_79b9u32 ^ seed;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            (x >> 7) as u8
        })
        .collect()
}

/// Every format on both versions (v2 raw deflate runs through zlib mode).
fn formats(_version: u32) -> Vec<Format> {
    vec![Format::Zlib, Format::Gzip, Format::Deflate]
}

/// Compresses `data` in `pieces` calls, each with `flush` (the last with Finish), through a
/// caller buffer of `out_buf` bytes; returns the stream and the offsets after each piece.
fn stream_compress(
    s: &Session,
    data: &[u8],
    pieces: usize,
    flush: Flush,
    out_buf: usize,
) -> (Vec<u8>, Vec<usize>) {
    let mut c = s.compressor().unwrap();
    assert_eq!(c.report().engine.kind(), "device", "{}", c.report().reason);
    let mut z = Vec::new();
    let mut marks = Vec::new();
    let mut buf = vec![0u8; out_buf];
    let step = data.len().div_ceil(pieces.max(1)).max(1);
    let mut chunks: Vec<&[u8]> = data.chunks(step).collect();
    if chunks.is_empty() {
        chunks.push(&[]);
    }
    let n = chunks.len();
    for (i, mut part) in chunks.into_iter().enumerate() {
        let f = if i + 1 == n { Flush::Finish } else { flush };
        loop {
            let p = c.compress(part, &mut buf, f).unwrap();
            z.extend_from_slice(&buf[..p.produced]);
            part = &part[p.consumed..];
            if p.done || (f == Flush::None && part.is_empty() && p.produced < buf.len()) {
                break;
            }
        }
        marks.push(z.len());
    }
    assert!(c.is_finished());
    if data.is_empty() {
        // A stream that never took input is not a ZIP request: written in software.
        assert_eq!(c.report().engine.kind(), "software", "{}", c.report().reason);
        assert!(c.report().reason.contains("not expressible as a ZIP request"));
    } else {
        assert_eq!(c.report().engine.kind(), "device", "{}", c.report().reason);
    }
    assert!(!c.report().fell_back);
    (z, marks)
}

/// Decompresses through a device stream with a caller buffer of `out_buf` bytes, feeding
/// the input in pieces of `in_piece` bytes.
fn stream_decompress(s: &Session, z: &[u8], in_piece: usize, out_buf: usize) -> Vec<u8> {
    let mut d = s.decompressor().unwrap();
    assert_eq!(d.report().engine.kind(), "device", "{}", d.report().reason);
    let mut out = Vec::new();
    let mut buf = vec![0u8; out_buf];
    for mut part in z.chunks(in_piece.max(1)) {
        loop {
            let p = d.decompress(part, &mut buf).unwrap();
            out.extend_from_slice(&buf[..p.produced]);
            part = &part[p.consumed..];
            if part.is_empty() && p.produced < buf.len() {
                break;
            }
            if p.consumed == 0 && p.produced == 0 {
                break;
            }
        }
    }
    // Drain what the device still holds.
    loop {
        let p = d.decompress(&[], &mut buf).unwrap();
        out.extend_from_slice(&buf[..p.produced]);
        if p.produced == 0 {
            break;
        }
    }
    d.finish().unwrap();
    assert_eq!(d.report().engine.kind(), "device", "{}", d.report().reason);
    out
}

fn flush_modes_and_sizes(version: u32) {
    let e = env(&format!("modes{version}"), &[version]);
    for format in formats(version) {
        let dev = session(format, Backend::Device, false);
        // Empty streams are not ZIP requests: they are written in software (counted).
        let mut empty = 0;
        for (len, pieces) in [
            (0, 1),
            (1, 1),
            (199, 3),
            (200, 2),
            (4096, 4),
            (100_000, 7),
            (1 << 20, 5),
        ] {
            for flush in [Flush::None, Flush::Sync, Flush::Full, Flush::Finish] {
                let pieces = if flush == Flush::Finish { 1 } else { pieces };
                for (kind, data) in [("text", text(len, 1)), ("random", random(len, 2))] {
                    if len >= 1 << 20 && (kind == "random" || flush == Flush::None) {
                        continue; // (kept short: unoptimised test builds run the emulator's codec slowly)
                    }
                    let what = format!("v{version} {format} {kind} {len} {flush:?} x{pieces}");
                    let before = e.device_requests();
                    let (z, _) = stream_compress(&dev, &data, pieces, flush, 64 * 1024);
                    empty += u64::from(len == 0);
                    assert!(
                        e.requests_at_least(before + 1) > before || len == 0,
                        "{what}: no device request"
                    );
                    let back = Library::Zlib.decompress(format, &z, 1 << 26).unwrap();
                    assert_eq!(back, data, "{what}: zlib reads the device stream");
                    // The device reads software streams, fed in pieces into a small buffer.
                    let zs = session(format, Backend::Software, false).compress(&data).unwrap();
                    let plain = stream_decompress(&dev, &zs, 777, 4096);
                    assert_eq!(plain, data, "{what}: device decompresses software output");
                }
            }
        }
        let c = dev.counters();
        assert_eq!(
            (c.software_requests, c.fallbacks, c.errors),
            (empty, 0, 0),
            "v{version} {format}"
        );
        assert!(c.device_requests > 0);
    }
}

#[test]
fn v2_stream_flush_modes_and_sizes() {
    flush_modes_and_sizes(2);
}

#[test]
fn v3_stream_flush_modes_and_sizes() {
    flush_modes_and_sizes(3);
}

/// Outputs over the device's 8 MiB request limit in both directions, and one-shot calls over
/// the limit: split into requests of one stream, read by zlib, on the device.
fn over_the_limit(version: u32) {
    let e = env(&format!("big{version}"), &[version]);
    let mut data = text(9 << 20, 3);
    data.extend(random(600_000, 4));
    for format in [Format::Gzip, Format::Zlib, Format::Deflate] {
        let dev = session(format, Backend::Device, false);
        let before = e.device_requests();
        let (z, r) = dev.compress_report(&data).unwrap();
        assert_eq!(r.engine.kind(), "device", "{}", r.reason);
        assert!(
            e.requests_at_least(before + 2) - before >= 2,
            "split into several requests"
        );
        assert_eq!(Library::Zlib.decompress(format, &z, 1 << 26).unwrap(), data);
        let (back, r) = dev.decompress_report(&z).unwrap();
        assert_eq!(r.engine.kind(), "device", "{}", r.reason);
        assert_eq!(back, data, "v{version} {format} one-shot decompress over 8 MiB");
        // Streaming in 3 MiB pieces with sync flushes.
        let (z2, _) = stream_compress(&dev, &data, 3, Flush::Sync, 1 << 20);
        assert_eq!(Library::Zlib.decompress(format, &z2, 1 << 26).unwrap(), data);
        // An incompressible 8 MiB input (its output exceeds one request's limit).
        let rnd = random(8 << 20, 5);
        let (z3, r) = dev.compress_report(&rnd).unwrap();
        assert_eq!(r.engine.kind(), "device", "{}", r.reason);
        assert_eq!(Library::Zlib.decompress(format, &z3, 1 << 26).unwrap(), rnd);
        // Software-compressed 9.6 MiB decompressed on the device into a caller buffer.
        let zs = session(format, Backend::Software, false).compress(&data).unwrap();
        let mut exact = vec![0u8; data.len()];
        let n = dev.decompress_into(&zs, &mut exact).unwrap();
        assert_eq!(n, data.len());
        assert!(exact == data);
        let c = dev.counters();
        assert_eq!(
            (c.software_requests, c.fallbacks, c.errors),
            (0, 0, 0),
            "v{version} {format}"
        );
    }
}

#[test]
fn v2_over_8_mib_in_and_out() {
    over_the_limit(2);
}

#[test]
fn v3_over_8_mib_in_and_out() {
    over_the_limit(3);
}

/// Tiny caller buffers (< 200 B, below the device's minimum) both ways.
#[test]
fn small_output_buffers_v2_and_v3() {
    let _e = env("small", &[2, 3]);
    for format in [Format::Zlib, Format::Gzip] {
        let dev = session(format, Backend::Device, false);
        let data = text(50_000, 6);
        for out_buf in [1, 7, 199] {
            let (z, _) = stream_compress(&dev, &data, 4, Flush::Sync, out_buf);
            assert_eq!(Library::Zlib.decompress(format, &z, 1 << 24).unwrap(), data);
            assert_eq!(stream_decompress(&dev, &z, 333, out_buf), data);
        }
    }
}

/// A full flush is a restart point: the raw deflate after it decodes on its own.
#[test]
fn full_flush_is_a_restart_point_v3() {
    let _e = env("full", &[3]);
    let dev = session(Format::Deflate, Backend::Device, false);
    let a = text(300_000, 7);
    let b = text(200_000, 8);
    let mut c = dev.compressor().unwrap();
    let mut z = Vec::new();
    c.compress_vec(&a, &mut z, Flush::Full).unwrap();
    let mark = z.len();
    c.compress_vec(&b, &mut z, Flush::Finish).unwrap();
    assert_eq!(c.report().engine.kind(), "device");
    let whole = Library::Zlib.decompress(Format::Deflate, &z, 1 << 24).unwrap();
    assert_eq!(whole, [a.clone(), b.clone()].concat());
    let tail = Library::Zlib
        .decompress(Format::Deflate, &z[mark..], 1 << 24)
        .unwrap();
    assert_eq!(tail, b, "the stream after a full flush needs no earlier history");
    // A sync flush point is byte aligned: the prefix decodes to `a` with a streaming inflater.
    let mut c = dev.compressor().unwrap();
    let mut z = Vec::new();
    c.compress_vec(&a, &mut z, Flush::Sync).unwrap();
    let mut d = uadk_zip::Decompressor::software(Format::Deflate);
    let mut out = Vec::new();
    d.decompress_vec(&z, &mut out).unwrap();
    assert_eq!(out, a, "everything before a sync flush is decodable");
}

/// `Write`/`Read` adapters over device streams.
#[test]
fn io_adapters_over_device_streams_v2_and_v3() {
    let _e = env("io", &[2, 3]);
    let data = [text(700_000, 9), random(300_000, 10), text(1_500_000, 11)].concat();
    for format in [Format::Gzip, Format::Zlib] {
        let dev = session(format, Backend::Device, false);
        let mut enc = Encoder::new(dev.compressor().unwrap(), Vec::new());
        for (i, piece) in data.chunks(65_536 + 17).enumerate() {
            enc.write_all(piece).unwrap();
            if i % 9 == 4 {
                enc.flush().unwrap();
            }
        }
        assert_eq!(enc.compressor().report().engine.kind(), "device");
        let z = enc.finish().unwrap();
        assert_eq!(Library::Zlib.decompress(format, &z, 1 << 26).unwrap(), data);
        let mut dec = Decoder::new(dev.decompressor().unwrap(), &z[..]);
        let mut out = Vec::new();
        dec.read_to_end(&mut out).unwrap();
        assert!(out == data, "{format}: Decoder over a device stream");
        let c = dev.counters();
        assert_eq!((c.device_requests, c.software_requests, c.errors), (2, 0, 0));
    }
}

/// Faults: before any output a stream restarts in software transparently (counted); after
/// output it fails loudly with `StreamLost`, and nothing wrong was emitted.
#[test]
fn faults_restart_before_output_and_fail_loudly_after() {
    let e = env("faults", &[2, 3]);
    for (i, name) in e.emu.device_names().into_iter().enumerate() {
        let format = Format::Zlib;
        let data = text(3 << 20, 12);
        // Only this device: the session resolves to the first registered one.
        let s = Session::new(Config {
            format,
            backend: Backend::Auto,
            fallback: true,
            ..Config::default()
        })
        .unwrap();
        let first = e.emu.device_names()[0].clone();
        if name != first {
            continue;
        }
        let _ = i;
        // (1) Failing from the start: input staged under Flush::None is replayed in software.
        e.emu
            .set_faults(
                &name,
                Faults {
                    error_rate: 1.0,
                    ..Faults::default()
                },
            )
            .unwrap();
        let mut c = s.compressor().unwrap();
        assert_eq!(c.report().engine.kind(), "device");
        let mut z = Vec::new();
        c.compress_vec(&data[..500_000], &mut z, Flush::None).unwrap();
        c.compress_vec(&data[500_000..], &mut z, Flush::Finish).unwrap();
        assert!(c.report().fell_back, "{}", c.report().reason);
        assert_eq!(c.report().engine.kind(), "software");
        assert!(
            c.report().reason.contains("injected fault"),
            "{}",
            c.report().reason
        );
        assert_eq!(Library::Zlib.decompress(format, &z, 1 << 26).unwrap(), data);
        let snap = s.counters();
        assert_eq!((snap.software_requests, snap.fallbacks), (1, 1));
        // Decompression failing from the start: the member is redone in software.
        let mut d = s.decompressor().unwrap();
        let mut out = Vec::new();
        d.decompress_vec(&z, &mut out).unwrap();
        d.finish().unwrap();
        assert_eq!(out, data);
        assert!(d.report().fell_back);
        // (2) Failing after output: a loud StreamLost, the output so far is a valid prefix.
        e.emu.set_faults(&name, Faults::default()).unwrap();
        let mut c = s.compressor().unwrap();
        let mut z = Vec::new();
        c.compress_vec(&data[..1 << 20], &mut z, Flush::Sync).unwrap();
        assert!(!z.is_empty());
        let emitted = z.clone();
        e.emu
            .set_faults(
                &name,
                Faults {
                    error_rate: 1.0,
                    ..Faults::default()
                },
            )
            .unwrap();
        let err = c
            .compress_vec(&data[1 << 20..], &mut z, Flush::Finish)
            .unwrap_err();
        assert!(matches!(err, Error::StreamLost(_)), "{err}");
        assert!(err.to_string().contains("restart the stream"), "{err}");
        assert_eq!(z, emitted, "nothing was appended by the failed call");
        let mut d = uadk_zip::Decompressor::software(format);
        let mut prefix = Vec::new();
        d.decompress_vec(&z, &mut prefix).unwrap();
        assert_eq!(
            prefix,
            &data[..1 << 20],
            "the output before the failure is the sync-flushed prefix"
        );
        // Decompression failing mid-stream: StreamLost, not wrong data.
        e.emu.set_faults(&name, Faults::default()).unwrap();
        let zs = session(format, Backend::Software, false).compress(&data).unwrap();
        let mut d = s.decompressor().unwrap();
        let mut buf = vec![0u8; 256 * 1024];
        // Half the input first: a whole stream would be decoded by one stateless request
        // (nothing left on the device to fail), half of one runs as a device stream.
        let p = d.decompress(&zs[..zs.len() / 2], &mut buf).unwrap();
        assert!(p.produced > 0);
        assert_eq!(&buf[..p.produced], &data[..p.produced]);
        e.emu
            .set_faults(
                &name,
                Faults {
                    error_rate: 1.0,
                    ..Faults::default()
                },
            )
            .unwrap();
        // Output already held is still handed out (it is correct); then the loud error.
        let mut at = p.produced;
        let mut rest = &zs[p.consumed..];
        let err = loop {
            match d.decompress(rest, &mut buf) {
                Ok(p) => {
                    assert!(p.produced > 0, "progress until the error");
                    assert_eq!(&buf[..p.produced], &data[at..at + p.produced]);
                    at += p.produced;
                    rest = &rest[p.consumed..];
                }
                Err(e) => break e,
            }
        };
        assert!(matches!(err, Error::StreamLost(_)), "{err}");
        e.emu.set_faults(&name, Faults::default()).unwrap();
    }
}

/// Without fallback, a device failure before any output is a device error, not a silent
/// software stream.
#[test]
fn faults_without_fallback_are_errors() {
    let e = env("strict", &[3]);
    e.set_faults(Faults {
        error_rate: 1.0,
        ..Faults::default()
    });
    let s = session(Format::Gzip, Backend::Device, false);
    let mut c = s.compressor().unwrap();
    let mut z = Vec::new();
    let err = c
        .compress_vec(&text(10_000, 13), &mut z, Flush::Finish)
        .unwrap_err();
    assert!(matches!(err, Error::Device(_)), "{err}");
    assert!(err.to_string().contains("injected fault"), "{err}");
    assert!(
        z.is_empty() || z.len() == 10,
        "at most the gzip header was written: {}",
        z.len()
    );
}

/// 8 threads × mixed sizes × all formats on a v2 and a v3 device, streams and one-shot.
#[test]
fn eight_threads_mixed_sizes_on_two_devices() {
    let e = env("eight", &[2, 3]);
    let before: Vec<u64> = e.emu.status().devices.iter().map(|d| d.totals.requests).collect();
    std::thread::scope(|sc| {
        for t in 0..8u32 {
            sc.spawn(move || {
                for i in 0..6u32 {
                    let format = [Format::Zlib, Format::Gzip, Format::Deflate][((t + i) % 3) as usize];
                    let s = session(format, Backend::Device, false);
                    let len = [0usize, 150, 5000, 70_000, 600_000, 2_100_000][((t * 7 + i) % 6) as usize];
                    let data = if i % 2 == 0 {
                        text(len, t * 100 + i)
                    } else {
                        random(len, t + i)
                    };
                    let what = format!("thread {t} job {i} {format} {len}");
                    let (z, _) = stream_compress(
                        &s,
                        &data,
                        3,
                        [Flush::Sync, Flush::None, Flush::Full][(i % 3) as usize],
                        32 * 1024,
                    );
                    assert_eq!(
                        Library::Zlib.decompress(format, &z, 1 << 24).unwrap(),
                        data,
                        "{what}"
                    );
                    assert_eq!(stream_decompress(&s, &z, 10_000, 8192), data, "{what}");
                    let (z1, r) = s.compress_report(&data).unwrap();
                    // An empty input is not a ZIP request: software, stream and one-shot.
                    let (kind, sw) = if len == 0 { ("software", 2) } else { ("device", 0) };
                    assert_eq!(r.engine.kind(), kind, "{what}");
                    assert_eq!(s.decompress(&z1).unwrap(), data, "{what}");
                    let c = s.counters();
                    assert_eq!((c.software_requests, c.errors), (sw, 0), "{what}");
                }
            });
        }
    });
    let after: Vec<u64> = e.emu.status().devices.iter().map(|d| d.totals.requests).collect();
    assert!(
        after[0] > before[0] && after[1] > before[1],
        "both devices ran requests: {before:?} -> {after:?}"
    );
}
