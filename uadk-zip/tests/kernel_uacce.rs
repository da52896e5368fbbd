//! uadk-zip's device path against a real uacce device: the software HiSilicon QM ZIP device
//! (`soft_qm`) of the test kernel built by `kernel/test.sh`, driven through uadk-core's
//! kernel character-device backend.
//!
//! The QEMU guest's runner sets `UADK_EXPECT_UACCE=1`; anywhere else these tests print why
//! they skip and pass. In the guest they check that zlib and gzip compress and decompress on
//! the device with output flate2 reads (and input flate2 wrote), that raw deflate (no QM v2
//! request type) is correct wherever it runs, and that with `soft_qm.pinned_only=1` — the
//! device refusing buffer pages that are not long-term pinned — results stay correct: a
//! refusal becomes a software result counted as a fallback (and an error naming status 0x35
//! without fallback), or, if the library stages through a pinned pool, the device accepts.

use std::io::Read;
use std::sync::Arc;

use parking_lot::{Mutex, MutexGuard};
use uadk_core::discovery::Roots;
use uadk_zip::{unregister_device, Backend, Config, DeviceEngine, Direction, Format, Session};

const PINNED_ONLY: &str = "/sys/module/soft_qm/parameters/pinned_only";

static LOCK: Mutex<()> = Mutex::new(());

fn in_guest() -> bool {
    if std::env::var_os("UADK_EXPECT_UACCE").is_some() {
        return true;
    }
    eprintln!(
        "SKIP: not in the kernel/test.sh guest (UADK_EXPECT_UACCE unset); these tests need the \
         software uacce device of the patched test kernel"
    );
    false
}

/// The kernel's ZIP devices, registered for the duration of a test.
struct Devices {
    engines: Vec<Arc<dyn DeviceEngine>>,
    _guard: MutexGuard<'static, ()>,
}

impl Drop for Devices {
    fn drop(&mut self) {
        for e in &self.engines {
            unregister_device(e);
        }
    }
}

fn devices() -> Devices {
    let guard = LOCK.lock();
    let engines = uadk_zip::device::register(&Roots::default());
    assert_eq!(engines.len(), 1, "one software ZIP device in /sys/class/uacce");
    assert!(
        engines[0].name().starts_with("hisi_zip-"),
        "{}",
        engines[0].name()
    );
    Devices {
        engines,
        _guard: guard,
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

fn text(len: usize) -> Vec<u8> {
    let words: [&[u8]; 7] = [
        b"kernel ",
        b"uacce ",
        b"queue ",
        b"deflate ",
        b"zlib ",
        b"gzip ",
        b"page\n",
    ];
    let mut x = 12345u32;
    let mut v = Vec::with_capacity(len + 16);
    while v.len() < len {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        v.extend_from_slice(words[(x % 7) as usize]);
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

/// Decodes with flate2 (zlib-rs), independent of uadk-zip's own software path.
fn flate2_decode(format: Format, z: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    match format {
        Format::Zlib => flate2::read::ZlibDecoder::new(z).read_to_end(&mut out),
        Format::Gzip => flate2::read::GzDecoder::new(z).read_to_end(&mut out),
        Format::Deflate => flate2::read::DeflateDecoder::new(z).read_to_end(&mut out),
    }
    .unwrap_or_else(|e| panic!("flate2 cannot read the {format} stream: {e}"));
    out
}

fn flate2_encode(format: Format, data: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let level = flate2::Compression::new(6);
    match format {
        Format::Zlib => {
            let mut e = flate2::write::ZlibEncoder::new(Vec::new(), level);
            e.write_all(data).unwrap();
            e.finish().unwrap()
        }
        Format::Gzip => {
            let mut e = flate2::write::GzEncoder::new(Vec::new(), level);
            e.write_all(data).unwrap();
            e.finish().unwrap()
        }
        Format::Deflate => {
            let mut e = flate2::write::DeflateEncoder::new(Vec::new(), level);
            e.write_all(data).unwrap();
            e.finish().unwrap()
        }
    }
}

struct PinnedOnly;

impl PinnedOnly {
    fn set() -> PinnedOnly {
        std::fs::write(PINNED_ONLY, "1").expect("write soft_qm.pinned_only");
        PinnedOnly
    }
}

impl Drop for PinnedOnly {
    fn drop(&mut self) {
        let _ = std::fs::write(PINNED_ONLY, "0");
    }
}

/// True if `e` is the device refusing a request type it does not execute (status 0x3e):
/// the kernel's software device runs stateless requests only, no stateful streams.
fn refused_as_unsupported(e: &uadk_zip::Error) -> bool {
    e.to_string().contains("status 0x3e")
}

#[test]
fn zlib_and_gzip_round_trip_on_the_kernel_device_and_flate2_reads_them() {
    if !in_guest() {
        return;
    }
    let d = devices();
    let name = d.engines[0].name();
    let mut stateful_refusals = 0;
    for format in [Format::Zlib, Format::Gzip] {
        let dev = session(format, Backend::Device, false);
        let auto = session(format, Backend::Auto, true);
        let mut device_requests = 0;
        for len in [1usize, 199, 200, 4096, 100_000, 1 << 20] {
            for (kind, data) in [("text", text(len)), ("random", random(len))] {
                let what = format!("{format} {kind} {len}");
                // Compression: one stateless SQE on the kernel device; flate2 reads it.
                let (z, r) = dev.compress_report(&data).unwrap();
                assert_eq!(r.engine.kind(), "device", "{what}: {}", r.reason);
                assert_eq!(r.engine.to_string(), format!("device:{name}"), "{what}");
                assert!(!r.fell_back, "{what}");
                assert_eq!(flate2_decode(format, &z), data, "{what}: device output");
                if kind == "text" && len >= 4096 {
                    assert!(z.len() < len / 2, "{what}: {} bytes", z.len());
                }
                device_requests += 1;
                // Decompression of flate2's output on the device (one stateless request). If
                // it were sent as a stateful stream the device would refuse it (0x3e): the
                // fallback must then still give the right bytes, and the count below fails.
                let zs = flate2_encode(format, &data);
                match dev.decompress_report(&zs) {
                    Ok((plain, r)) => {
                        assert_eq!(r.engine.kind(), "device", "{what}: {}", r.reason);
                        assert_eq!(plain, data, "{what}: device decompression of flate2 output");
                        device_requests += 1;
                    }
                    Err(e) if refused_as_unsupported(&e) => {
                        stateful_refusals += 1;
                        let (plain, r) = auto.decompress_report(&zs).unwrap();
                        assert!(r.fell_back, "{what}: {}", r.reason);
                        assert_eq!(plain, data, "{what}: fallback decompression");
                    }
                    Err(e) => panic!("{what}: device decompression: {e}"),
                }
            }
        }
        let c = dev.counters();
        assert_eq!(c.device_requests, device_requests, "{format}");
        assert_eq!((c.software_requests, c.fallbacks), (0, 0), "{format}");
    }
    // uadk-zip offers a whole one-shot input (≤ 8 MiB) as one stateless request first, which
    // this device executes: none may have needed the fallback.
    assert_eq!(
        stateful_refusals, 0,
        "decompressions were sent as stateful streams, which the kernel's software device does \
         not execute (status 0x3e)"
    );
}

#[test]
fn raw_deflate_runs_where_offered_and_is_correct() {
    if !in_guest() {
        return;
    }
    let d = devices();
    assert!(d.engines[0].offers(Format::Zlib, Direction::Compress));
    assert!(d.engines[0].offers(Format::Gzip, Direction::Decompress));
    let offered = d.engines[0].offers(Format::Deflate, Direction::Compress);
    let s = session(Format::Deflate, Backend::Auto, true);
    let data = text(50_000);
    let (z, r) = s.compress_report(&data).unwrap();
    // QM v2 has no raw-deflate request type: either the library serves deflate through the
    // zlib request type, or it runs in software.
    let want = if offered { "device" } else { "software" };
    assert_eq!(r.engine.kind(), want, "{}", r.reason);
    assert_eq!(flate2_decode(Format::Deflate, &z), data);
}

#[test]
fn pinned_only_refusal_falls_back_to_a_correct_software_result() {
    if !in_guest() {
        return;
    }
    let _devices = devices();
    let data = text(200_000);
    for format in [Format::Zlib, Format::Gzip] {
        // Before: the device takes the request (device backend, with fallback allowed).
        let s = session(format, Backend::Device, true);
        let (_, r) = s.compress_report(&data).unwrap();
        assert_eq!(r.engine.kind(), "device", "{format}: {}", r.reason);
        let zs = flate2_encode(format, &data);
        let before = s.counters();
        {
            let _p = PinnedOnly::set();
            // Now the device refuses any buffer page that is not long-term pinned. A library
            // that hands it ordinary heap memory gets the address-fault status and must redo
            // the request in software; one that stages through a pinned pool is accepted.
            // Either way the result must be right and the report must say what happened.
            let (z, r) = s.compress_report(&data).unwrap();
            assert_eq!(
                flate2_decode(format, &z),
                data,
                "{format}: output under pinned_only"
            );
            let refused = match (r.engine.kind(), r.fell_back) {
                ("software", true) => true,
                ("device", false) => false,
                other => panic!("{format}: inconsistent report {other:?}: {}", r.reason),
            };
            let (plain, r2) = s.decompress_report(&zs).unwrap();
            assert_eq!(plain, data, "{format}: decompression under pinned_only");
            let c = s.counters();
            let fallbacks = refused as u64 + r2.fell_back as u64;
            assert_eq!(c.fallbacks - before.fallbacks, fallbacks, "{format}");
            if refused {
                // Without fallback the refusal is an error that names the device's status.
                let strict = session(format, Backend::Device, false);
                let msg = strict.compress(&data).unwrap_err().to_string();
                assert!(msg.contains("0x35"), "{format}: {msg}");
                eprintln!("{format}: heap buffers refused under pinned_only, software fallback");
            } else {
                eprintln!("{format}: the library's buffers passed pinned_only (pinned staging)");
            }
        }
        // After: the device takes requests again.
        let (z, r) = s.compress_report(&data).unwrap();
        assert_eq!(r.engine.kind(), "device", "{format}: {}", r.reason);
        assert_eq!(flate2_decode(format, &z), data);
    }
}
