//! Parallel blocks over device queues: a large one-shot input cut into blocks compressed
//! concurrently on every queue of every emulated ZIP device (v2, v3, both), joined into one
//! stream that the system zlib reads; faults make the whole call fall back, never a partial
//! stream.

use uadk_emu::Faults;
use uadk_zip::software::Library;
use uadk_zip::{Backend, Config, Format, Session};

mod common;
use common::{text, Env};

fn env(tag: &str, versions: &[u32]) -> Env {
    common::env("dpar", tag, versions)
}

fn session(format: Format, fallback: bool, threads: usize) -> Session {
    Session::new(Config {
        format,
        backend: Backend::Auto,
        fallback,
        threads,
        ..Config::default()
    })
    .unwrap()
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

fn parallel(versions: &[u32], formats: &[Format]) {
    let _e = env(&format!("par{}{}", versions.len(), versions[0]), versions);
    for &format in formats {
        let s = session(format, false, 4);
        for (len, kind) in [(3 << 20, "text"), (20 << 20, "text"), (2 << 20, "random")] {
            let data = if kind == "text" {
                text(len, 3)
            } else {
                random(len, 4)
            };
            let what = format!("v{versions:?} {format} {kind} {len}");
            let (z, r) = s.compress_report(&data).unwrap();
            assert_eq!(r.engine.kind(), "device", "{what}: {}", r.reason);
            assert!(r.reason.contains("parallel blocks"), "{what}: {}", r.reason);
            assert!(r.threads >= 2 * versions.len(), "{what}: {} queues", r.threads);
            if versions.len() == 2 && format != Format::Deflate {
                assert!(
                    r.engine.to_string().contains('+'),
                    "{what}: both devices: {}",
                    r.engine
                );
            }
            assert!(
                Library::Zlib.decompress(format, &z, 1 << 26).unwrap() == data,
                "{what}"
            );
            assert!(s.decompress(&z).unwrap() == data, "{what}: device decompress");
        }
        // One thread: one device stream, not blocks.
        let one = session(format, false, 1);
        let data = text(3 << 20, 5);
        let (z, r) = one.compress_report(&data).unwrap();
        assert!(!r.reason.contains("parallel"), "{}", r.reason);
        assert_eq!(r.threads, 1);
        assert!(Library::Zlib.decompress(format, &z, 1 << 26).unwrap() == data);
    }
}

#[test]
fn v2_parallel_blocks_zlib_gzip() {
    parallel(&[2], &[Format::Zlib, Format::Gzip]);
}

#[test]
fn v3_parallel_blocks_deflate_zlib() {
    parallel(&[3], &[Format::Deflate, Format::Zlib]);
}

#[test]
fn two_devices_parallel_blocks_gzip() {
    parallel(&[2, 3], &[Format::Gzip]);
}

/// Error statuses and misreported byte counts (status OK, impossible lengths) alike.
#[test]
fn parallel_blocks_with_faults_fall_back_whole() {
    let e = env("faults", &[3]);
    let faults = [
        Faults {
            error_rate: 0.3,
            ..Faults::default()
        },
        Faults {
            bad_count_rate: 0.3,
            ..Faults::default()
        },
    ];
    for f in faults {
        e.set_faults(f);
        let s = session(Format::Gzip, true, 4);
        for i in 0..4 {
            let data = text(4 << 20, 10 + i);
            let (z, r) = s.compress_report(&data).unwrap();
            assert!(
                Library::Zlib.decompress(Format::Gzip, &z, 1 << 26).unwrap() == data,
                "{f:?}: {}",
                r.reason
            );
        }
        assert_eq!(s.counters().errors, 0);
    }
}
