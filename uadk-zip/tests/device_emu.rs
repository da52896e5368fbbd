//! The ZIP device backend end to end against an in-process emulator (`uadk-emu`) with QM v2
//! and v3 ZIP devices: device output checked by the system zlib, software output
//! decompressed on the device, fallback on v2 raw deflate, injected faults, oversize input,
//! and streams on the device (the full stream suite is `tests/device_stream.rs`).
//!
//! Registration is process-wide, so the tests take a lock and register only the devices of
//! their own emulator (found by discovery under the emulator's roots, not env vars).

use uadk_emu::Faults;
use uadk_zip::software::Library;
use uadk_zip::{Backend, Config, Direction, Error, Flush, Format, Session};

mod common;
use common::Env;

fn env(tag: &str, versions: &[u32]) -> Env {
    common::env("dev", tag, versions)
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

fn text(len: usize) -> Vec<u8> {
    let words = [
        "device ",
        "queue ",
        "deflate ",
        "zlib ",
        "gzip ",
        "emulator ",
        "block\n",
    ];
    let mut x = 12345u32;
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

fn random(len: usize) -> Vec<u8> {
    let mut x = 0x9e37_79b9u32;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            (x >> 7) as u8
        })
        .collect()
}

const SIZES: [usize; 6] = [0, 1, 199, 200, 4096, 1 << 20];

fn formats(_version: u32) -> Vec<Format> {
    // v2 has no raw-deflate request type; zlib mode serves it (see the crate README).
    vec![Format::Zlib, Format::Gzip, Format::Deflate]
}

fn round_trips(version: u32) {
    let e = env(&format!("rt{version}"), &[version]);
    let name = e.emu.device_names()[0].clone();
    for format in formats(version) {
        let dev = session(format, Backend::Device, false);
        let sw = session(format, Backend::Software, false);
        for len in SIZES {
            for (kind, data) in [("text", text(len)), ("random", random(len))] {
                let what = format!("v{version} {format} {kind} {len}");
                // Device compress, software (system zlib) decompress.
                let (z, r) = dev.compress_report(&data).unwrap();
                if len == 0 {
                    // No ZIP request carries 0 input bytes: software under every backend.
                    assert_eq!(r.engine.kind(), "software", "{what}: {}", r.reason);
                    assert!(
                        r.reason
                            .starts_with("0-byte input: not expressible as a ZIP request"),
                        "{what}: {}",
                        r.reason
                    );
                } else {
                    assert_eq!(r.engine.kind(), "device", "{what}: {}", r.reason);
                    assert_eq!(r.engine.to_string(), format!("device:{name}"), "{what}");
                }
                assert!(!r.fell_back, "{what}");
                let back = Library::Zlib.decompress(format, &z, 1 << 24).unwrap();
                assert_eq!(back, data, "{what}: device output");
                // Software compress, device decompress.
                let zs = sw.compress(&data).unwrap();
                let (plain, r) = dev.decompress_report(&zs).unwrap();
                assert_eq!(r.engine.kind(), "device", "{what}: {}", r.reason);
                assert_eq!(plain, data, "{what}: device decompress");
                // And the device reads its own output, into an exact caller buffer.
                let mut exact = vec![0u8; data.len()];
                let n = dev
                    .decompress_into(&z, &mut exact)
                    .unwrap_or_else(|e| panic!("{what}: decompress_into: {e:?}"));
                assert_eq!(&exact[..n], &data[..], "{what}: decompress_into");
            }
        }
        let c = dev.counters();
        // The two empty inputs' compressions ran in software (not expressible); the rest on
        // the device.
        assert_eq!(c.software_requests, 2, "v{version} {format}");
        assert_eq!(c.fallbacks, 0);
        assert_eq!(c.device_requests, 3 * 2 * SIZES.len() as u64 - 2);
    }
}

#[test]
fn v2_device_round_trips_zlib_and_gzip_with_software() {
    round_trips(2);
}

#[test]
fn v3_device_round_trips_zlib_gzip_and_deflate_with_software() {
    round_trips(3);
}

/// v2 raw deflate through zlib mode: compression drops the device's adler32; decompression
/// synthesises the trailer zlib mode checks; bytes after the deflate end are an error
/// (device error or, with fallback, software's trailing-data error), never wrong output.
#[test]
fn raw_deflate_on_v2_runs_through_zlib_mode() {
    let e = env("v2deflate", &[2]);
    assert!(e.engines[0].offers(Format::Deflate, Direction::Compress));
    assert!(e.engines[0].offers(Format::Deflate, Direction::Decompress));
    let s = session(Format::Deflate, Backend::Device, false);
    for len in [1usize, 5000, 300_000, 9 << 20] {
        let data = text(len);
        let (z, r) = s.compress_report(&data).unwrap();
        assert_eq!(r.engine.kind(), "device", "{}", r.reason);
        assert_eq!(
            Library::Zlib.decompress(Format::Deflate, &z, 1 << 26).unwrap(),
            data,
            "{len}"
        );
        let zs = session(Format::Deflate, Backend::Software, false)
            .compress(&data)
            .unwrap();
        let (back, r) = s.decompress_report(&zs).unwrap();
        assert_eq!(r.engine.kind(), "device", "{}", r.reason);
        assert_eq!(back, data, "{len}");
    }
    let data = text(20_000);
    let zs = session(Format::Deflate, Backend::Software, false)
        .compress(&data)
        .unwrap();
    for garbage in [&b"\x00"[..], b"ab", b"WXYZ", b"more than four bytes"] {
        let mut bad = zs.clone();
        bad.extend_from_slice(garbage);
        let err = s.decompress(&bad).unwrap_err();
        assert!(
            matches!(err, Error::Device(_) | Error::TrailingData { .. }),
            "{garbage:?}: {err}"
        );
        let err = session(Format::Deflate, Backend::Device, true)
            .decompress(&bad)
            .unwrap_err();
        assert!(matches!(err, Error::TrailingData { .. }), "{garbage:?}: {err}");
    }
    // Ceph's shape: raw deflate compress and decompress through zlib mode, streamed.
    let mut c = s.compressor().unwrap();
    let mut z = Vec::new();
    c.compress_vec(&data[..7000], &mut z, Flush::Sync).unwrap();
    c.compress_vec(&data[7000..], &mut z, Flush::Finish).unwrap();
    assert_eq!(c.report().engine.kind(), "device");
    let mut d = s.decompressor().unwrap();
    let mut out = Vec::new();
    for piece in z.chunks(999) {
        d.decompress_vec(piece, &mut out).unwrap();
    }
    d.finish().unwrap();
    assert_eq!(d.report().engine.kind(), "device");
    assert_eq!(out, data);
    assert_eq!(s.counters().fallbacks, 0);
}

#[test]
fn injected_faults_fall_back_to_software_and_are_counted() {
    let e = env("faults", &[3]);
    e.set_faults(Faults {
        error_rate: 1.0,
        ..Faults::default()
    });
    let data = text(100_000);
    let s = session(Format::Gzip, Backend::Auto, true);
    let (z, r) = s.compress_report(&data).unwrap();
    assert!(r.fell_back);
    assert_eq!(r.engine.kind(), "software");
    assert!(r.reason.contains("injected fault"), "{}", r.reason);
    assert_eq!(Library::Zlib.decompress(Format::Gzip, &z, 1 << 24).unwrap(), data);
    let (back, r) = s.decompress_report(&z).unwrap();
    assert_eq!(back, data);
    assert!(r.fell_back, "{}", r.reason);
    assert!(r.reason.contains("injected fault"), "{}", r.reason);
    let c = s.counters();
    assert_eq!(
        (c.device_requests, c.software_requests, c.fallbacks, c.errors),
        (0, 2, 2, 0)
    );

    // Without fallback: a clear device error, counted.
    let strict = session(Format::Gzip, Backend::Device, false);
    let err = strict.compress(&data).unwrap_err();
    assert!(matches!(err, Error::Device(_)), "{err}");
    assert!(err.to_string().contains("injected fault"), "{err}");
    let err = strict.decompress(&z).unwrap_err();
    assert!(matches!(err, Error::Device(_)), "{err}");
    assert!(err.to_string().contains("injected fault"), "{err}");
    assert_eq!(strict.counters().errors, 2);

    // Healthy again: the device runs.
    e.set_faults(Faults::default());
    let (_, r) = s.compress_report(&data).unwrap();
    assert_eq!(r.engine.kind(), "device", "{}", r.reason);
}

/// A device that reports impossible byte counts (status OK, more consumed than given and
/// more produced than the buffer holds): every path rejects the completion, and with
/// fallback the work is redone in software with correct output.
#[test]
fn misreported_byte_counts_are_rejected_never_trusted() {
    let e = env("badcount", &[2, 3]);
    e.set_faults(Faults {
        bad_count_rate: 1.0,
        ..Faults::default()
    });
    let data = text(150_000);
    for format in [Format::Gzip, Format::Zlib] {
        let s = session(format, Backend::Auto, true);
        let (z, r) = s.compress_report(&data).unwrap();
        assert!(r.fell_back, "{}", r.reason);
        assert!(r.reason.contains("completion reports"), "{}", r.reason);
        assert_eq!(Library::Zlib.decompress(format, &z, 1 << 24).unwrap(), data);
        let (back, r) = s.decompress_report(&z).unwrap();
        assert!(r.fell_back, "{}", r.reason);
        assert_eq!(back, data);

        // Streams: the first device request fails before any output, so the stream
        // restarts in software and completes correctly.
        let mut c = s.compressor().unwrap();
        let mut z = Vec::new();
        c.compress_vec(&data[..60_000], &mut z, Flush::Sync).unwrap();
        c.compress_vec(&data[60_000..], &mut z, Flush::Finish).unwrap();
        assert_eq!(c.report().engine.kind(), "software", "{}", c.report().reason);
        assert_eq!(Library::Zlib.decompress(format, &z, 1 << 24).unwrap(), data);
        let mut d = s.decompressor().unwrap();
        let mut out = Vec::new();
        for piece in z.chunks(10_000) {
            d.decompress_vec(piece, &mut out).unwrap();
        }
        d.finish().unwrap();
        assert_eq!(out, data);

        // Without fallback: a device error naming the impossible counts.
        let strict = session(format, Backend::Device, false);
        let err = strict.compress(&data).unwrap_err();
        assert!(matches!(err, Error::Device(_)), "{err}");
        assert!(err.to_string().contains("completion reports"), "{err}");
        let err = strict.decompress(&z).unwrap_err();
        assert!(matches!(err, Error::Device(_)), "{err}");
    }
    let faulty: u64 = e
        .emu
        .status()
        .devices
        .iter()
        .map(|d| d.totals.errors_injected)
        .sum();
    assert!(faulty > 0, "the emulator misreported no request");
}

#[test]
fn corrupt_input_is_an_error_not_garbage() {
    let _e = env("corrupt", &[3]);
    let data = text(50_000);
    let mut z = session(Format::Zlib, Backend::Software, false)
        .compress(&data)
        .unwrap();
    let n = z.len();
    z[n - 1] ^= 1; // adler32
    let strict = session(Format::Zlib, Backend::Device, false);
    let err = strict.decompress(&z).unwrap_err();
    assert!(err.to_string().contains("checksum mismatch"), "{err}");
    // With fallback the software decoder gives the precise data error.
    let err = session(Format::Zlib, Backend::Device, true)
        .decompress(&z)
        .unwrap_err();
    assert!(matches!(err, Error::Checksum { .. }), "{err}");
    // Truncated.
    let z = session(Format::Gzip, Backend::Software, false)
        .compress(&data)
        .unwrap();
    let err = session(Format::Gzip, Backend::Auto, true)
        .decompress(&z[..z.len() / 2])
        .unwrap_err();
    // (the software decoders call a cut-off body corrupt or truncated, by library)
    assert!(
        matches!(err, Error::Truncated { .. } | Error::Corrupt { .. }),
        "{err}"
    );
}

#[test]
fn gzip_members_and_inputs_over_8_mib() {
    let _e = env("big", &[2, 3]);
    let s = session(Format::Gzip, Backend::Auto, true);
    // Two members, each decoded by its own device request.
    let mut two = s.compress(b"first member, ").unwrap();
    two.extend(s.compress(b"second member").unwrap());
    let (back, r) = s.decompress_report(&two).unwrap();
    assert_eq!(back, b"first member, second member");
    assert_eq!(r.engine.kind(), "device", "{}", r.reason);
    // Over the per-request limit: one stream of several device requests.
    let big = text(9 << 20);
    let (z, r) = s.compress_report(&big).unwrap();
    assert_eq!(r.engine.kind(), "device", "{}", r.reason);
    assert_eq!(Library::Zlib.decompress(Format::Gzip, &z, 1 << 26).unwrap(), big);
    let (back, r) = s.decompress_report(&z).unwrap();
    assert_eq!(r.engine.kind(), "device", "{}", r.reason);
    assert_eq!(back, big);
}

#[test]
fn streams_run_on_the_device() {
    let _e = env("stream", &[3]);
    let s = session(Format::Gzip, Backend::Device, false);
    let mut c = s.compressor().unwrap();
    let mut z = Vec::new();
    c.compress_vec(b"part one, ", &mut z, Flush::Sync).unwrap();
    c.compress_vec(b"part two", &mut z, Flush::Finish).unwrap();
    assert_eq!(c.report().engine.kind(), "device", "{}", c.report().reason);
    assert_eq!(
        Library::Zlib.decompress(Format::Gzip, &z, 1 << 20).unwrap(),
        b"part one, part two"
    );
    let mut d = s.decompressor().unwrap();
    let mut out = Vec::new();
    d.decompress_vec(&z, &mut out).unwrap();
    d.finish().unwrap();
    assert_eq!(out, b"part one, part two");
    assert_eq!(d.report().engine.kind(), "device", "{}", d.report().reason);
    let c = s.counters();
    assert_eq!((c.device_requests, c.software_requests), (2, 0));
}

/// Device path vs software, MB/s (`cargo test -p uadk-zip --test device_emu -- --ignored
/// --nocapture`).
#[test]
#[ignore]
fn throughput_device_vs_software() {
    let _e = env("speed", &[3]);
    let data = text(8 << 20);
    for (label, backend) in [("device", Backend::Device), ("software", Backend::Software)] {
        let mut s = session(Format::Gzip, backend, false);
        if backend == Backend::Software {
            s = Session::new(Config {
                format: Format::Gzip,
                backend,
                threads: 1,
                ..Config::default()
            })
            .unwrap();
        }
        let z = s.compress(&data).unwrap();
        let t = std::time::Instant::now();
        let mut n = 0;
        while t.elapsed().as_secs_f64() < 2.0 {
            s.compress(&data).unwrap();
            n += 1;
        }
        let c = n as f64 * data.len() as f64 / t.elapsed().as_secs_f64() / 1e6;
        let t = std::time::Instant::now();
        let mut n = 0;
        while t.elapsed().as_secs_f64() < 2.0 {
            s.decompress(&z).unwrap();
            n += 1;
        }
        let d = n as f64 * data.len() as f64 / t.elapsed().as_secs_f64() / 1e6;
        println!(
            "{label}: gzip L6 compress {c:.0} MB/s (ratio {:.3}), decompress {d:.0} MB/s",
            data.len() as f64 / z.len() as f64
        );
    }
}

#[test]
fn threads_share_the_device_queues() {
    let _e = env("threads", &[2, 3]);
    let s = session(Format::Zlib, Backend::Device, false);
    std::thread::scope(|sc| {
        for t in 0..4 {
            let s = &s;
            sc.spawn(move || {
                for i in 0..20 {
                    let data = text(1000 + 997 * (t * 20 + i));
                    let z = s.compress(&data).unwrap();
                    assert_eq!(s.decompress(&z).unwrap(), data);
                }
            });
        }
    });
    let c = s.counters();
    assert_eq!((c.device_requests, c.software_requests, c.errors), (160, 0, 0));
}
