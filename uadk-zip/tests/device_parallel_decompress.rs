//! Indexed streams over the emulated device: every group of the block index becomes one
//! independent request, spread over every queue of every ZIP device (v2, v3, both); the
//! device checks each group's checksum, the combined checksum is checked against the
//! trailer; faults are redone in software or fail loudly, never a wrong answer.

use uadk_emu::Faults;
use uadk_zip::software::Library;
use uadk_zip::{index, Backend, Config, Format, Session};

mod common;
use common::{text, Env};

fn env(tag: &str, versions: &[u32]) -> Env {
    common::env("dpdec", tag, versions)
}

fn session(format: Format, fallback: bool, threads: usize, backend: Backend) -> Session {
    Session::new(Config {
        format,
        backend,
        fallback,
        threads,
        ..Config::default()
    })
    .unwrap()
}

fn round_trip(versions: &[u32], formats: &[Format]) {
    let _e = env(&format!("rt{}{}", versions.len(), versions[0]), versions);
    for &format in formats {
        let data = text(12 << 20, 21);
        // Indexed by the device's own parallel blocks, and by the software compressor.
        let dev = session(format, false, 4, Backend::Auto);
        let (z_dev, r) = dev.compress_report(&data).unwrap();
        assert!(r.reason.contains("with a block index"), "{format}: {}", r.reason);
        let z_sw = session(format, false, 4, Backend::Software)
            .compress(&data)
            .unwrap();
        for (what, z) in [("device-written", &z_dev), ("software-written", &z_sw)] {
            let idx = index::locate(format, z).unwrap().index;
            let what = format!("v{versions:?} {format} {what} ({} pieces)", idx.entries.len());
            let (back, r) = dev.decompress_report(z).unwrap();
            assert!(back == data, "{what}");
            assert_eq!(r.engine.kind(), "device", "{what}: {}", r.reason);
            assert!(r.reason.contains("block index"), "{what}: {}", r.reason);
            assert!(
                Library::Zlib.decompress(format, z, 1 << 30).unwrap() == data,
                "{what}: zlib"
            );
        }
        // Device-written pieces fit one request each: all on the device, several at once.
        let (_, r) = dev.decompress_report(&z_dev).unwrap();
        assert!(!r.fell_back, "{}", r.reason);
        assert!(r.threads >= 2, "{}: {} in flight", r.reason, r.threads);
    }
}

#[test]
fn v3_indexed_decode_on_device_queues_every_format() {
    round_trip(&[3], &[Format::Gzip, Format::Zlib, Format::Deflate]);
}

#[test]
fn v2_indexed_decode_on_device_queues() {
    round_trip(&[2], &[Format::Gzip, Format::Zlib]);
}

#[test]
fn two_devices_indexed_decode() {
    let _e = env("two", &[2, 3]);
    let data = text(16 << 20, 22);
    let s = session(Format::Gzip, false, 4, Backend::Auto);
    let z = s.compress(&data).unwrap();
    let (back, r) = s.decompress_report(&z).unwrap();
    assert!(back == data);
    assert!(
        r.engine.to_string().contains('+'),
        "both devices: {} ({})",
        r.engine,
        r.reason
    );
}

/// A lying index over the device whose combined checksum still matches the trailer (the
/// change to the first piece's CRC is cancelled in the second's: CRC-32 is linear): the
/// device rejects the groups' checksums, and the ordinary device path decodes the stream.
#[test]
fn lying_index_on_the_device_is_rejected() {
    let _e = env("lie", &[3]);
    let data = text(6 << 20, 23);
    let k = index::CheckKind::Crc32;
    for fallback in [false, true] {
        let s = session(Format::Gzip, fallback, 4, Backend::Auto);
        let z = s.compress(&data).unwrap();
        let loc = index::locate(Format::Gzip, &z).unwrap();
        let mut idx = loc.index.clone();
        let (d, len1) = (0x0400_0000u32, idx.entries[1].uncompressed);
        idx.entries[0].check ^= d;
        idx.entries[1].check ^= k.combine(d, 0, len1) ^ k.combine(0, 0, len1);
        assert_eq!(idx.combined_check(), loc.index.combined_check());
        let sub = index::gzip_subfield(&idx.encode());
        let xlen = u16::from_le_bytes([z[10], z[11]]) as usize;
        let mut bad = z[..12].to_vec();
        bad[10..12].copy_from_slice(&(sub.len() as u16).to_le_bytes());
        bad.extend(sub);
        bad.extend_from_slice(&z[12 + xlen..]);
        assert_eq!(index::locate(Format::Gzip, &bad).unwrap().index, idx);
        let (back, r) = s.decompress_report(&bad).unwrap();
        assert!(back == data, "fallback {fallback}");
        assert!(!r.reason.contains("block index"), "{}", r.reason);
        // The software parallel path rejects it too (per-piece checksums).
        let sw = session(Format::Gzip, false, 2, Backend::Software);
        let (back, r) = sw.decompress_report(&bad).unwrap();
        assert!(back == data && r.reason.contains("not used"), "{}", r.reason);
    }
}

/// Error statuses and impossible byte counts: with fallback every group is redone in
/// software and the output is right; without it the call fails or is right, never wrong.
#[test]
fn faults_during_indexed_device_decode() {
    let e = env("faults", &[3]);
    let data = text(10 << 20, 24);
    let z = session(Format::Gzip, false, 4, Backend::Auto)
        .compress(&data)
        .unwrap();
    for f in [
        Faults {
            error_rate: 0.3,
            ..Faults::default()
        },
        Faults {
            bad_count_rate: 0.3,
            ..Faults::default()
        },
    ] {
        e.set_faults(f);
        for _ in 0..3 {
            let s = session(Format::Gzip, true, 4, Backend::Auto);
            let (back, r) = s.decompress_report(&z).unwrap();
            assert!(back == data, "{f:?}: {}", r.reason);
            let strict = session(Format::Gzip, false, 4, Backend::Auto);
            if let Ok(back) = strict.decompress(&z) {
                assert!(back == data, "{f:?}: wrong output without fallback");
            }
        }
    }
    e.set_faults(Faults::default());
}
