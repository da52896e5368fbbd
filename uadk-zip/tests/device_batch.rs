//! Asynchronous batches on emulated ZIP devices (QM v2 and v3): many SQEs in flight on every
//! queue of two devices from one submitting thread, completions by poll/wait and by callback,
//! software for jobs the device cannot take, per-job fallback on injected faults.

use std::collections::HashMap;
use uadk_emu::Faults;
use uadk_zip::software::Library;
use uadk_zip::{Backend, Batch, Config, Direction, Error, Format, Session};

mod common;
use common::{text, Env};

fn env(tag: &str, versions: &[u32]) -> Env {
    common::env("dbatch", tag, versions)
}

fn session(format: Format, fallback: bool) -> Session {
    Session::new(Config {
        format,
        backend: Backend::Auto,
        fallback,
        ..Config::default()
    })
    .unwrap()
}

const SIZES: [usize; 8] = [0, 1, 150, 4096, 20_000, 100_000, 700_000, 9 << 20];

fn many_in_flight(versions: &[u32], format: Format) {
    let e = env(&format!("many{}{format}", versions.len()), versions);
    let s = session(format, true);
    let mut b = Batch::new(&s, 2, 64).unwrap();
    let mut inputs = HashMap::new();
    for i in 0..240u32 {
        let len = if i % 60 == 59 {
            SIZES[7]
        } else {
            SIZES[(i % 7) as usize]
        };
        let data = text(len, i);
        let id = b.submit(Direction::Compress, data.clone()).unwrap();
        inputs.insert(id, data);
    }
    let (_, peak) = b.device_stats();
    assert!(peak >= 16, "many SQEs in flight at once, peak {peak}");
    let mut compressed = HashMap::new();
    let mut on_device = 0;
    let mut devices = std::collections::HashSet::new();
    for c in b.drain() {
        let (z, r) = c.result.unwrap();
        let data = &inputs[&c.id];
        assert_eq!(
            Library::Zlib.decompress(format, &z, 1 << 26).unwrap(),
            *data,
            "job {}",
            c.id
        );
        if r.engine.kind() == "device" {
            on_device += 1;
            devices.insert(r.engine.to_string());
        } else {
            // Empty and > 8 MiB inputs are not one device request.
            assert!(
                data.is_empty() || data.len() > 8 << 20 || r.engine.kind() == "device",
                "{}",
                r.reason
            );
        }
        compressed.insert(c.id, z);
    }
    assert_eq!(compressed.len(), 240);
    assert!(on_device >= 200, "{on_device} jobs on the device");
    if versions.len() == 2 && format != Format::Deflate {
        for n in ["hisi_zip-0", "hisi_zip-1"] {
            assert!(
                devices.iter().any(|d| d == &format!("device:{n}")),
                "jobs spread over both devices: {devices:?}"
            );
        }
    }
    // Decompress everything back, half with callbacks.
    let (tx, rx) = std::sync::mpsc::channel();
    let mut queued = 0;
    for (id, z) in &compressed {
        if id % 2 == 0 {
            let tx = tx.clone();
            let want = inputs[id].clone();
            b.submit_with(Direction::Decompress, z.clone(), move |c| {
                let ok = c.result.map(|(v, _)| v == want).unwrap_or(false);
                tx.send(ok).unwrap();
            })
            .unwrap();
        } else {
            let nid = b.submit(Direction::Decompress, z.clone()).unwrap();
            inputs.insert(nid, inputs[id].clone());
            queued += 1;
        }
    }
    drop(tx);
    let done = b.drain();
    assert_eq!(done.len(), queued);
    for c in done {
        let (v, _) = c.result.unwrap();
        assert!(v == inputs[&c.id], "decompress job {}", c.id);
    }
    let oks: Vec<bool> = rx.iter().collect();
    assert_eq!(oks.len(), 120);
    assert!(oks.iter().all(|&ok| ok), "every callback got the right output");
    let c = s.counters();
    assert_eq!((c.errors, c.fallbacks), (0, 0));
    assert!(c.device_requests >= 400, "{c:?}");
    drop(b);
    drop(e);
}

#[test]
fn v2_batch_many_in_flight_zlib() {
    many_in_flight(&[2], Format::Zlib);
}

/// v2 raw deflate: compress jobs run as zlib minus the adler32; decompress jobs need the
/// synthesised trailer of the stream path (the session's path on a worker).
#[test]
fn v2_batch_many_in_flight_deflate() {
    many_in_flight(&[2], Format::Deflate);
}

#[test]
fn v3_batch_many_in_flight_deflate() {
    many_in_flight(&[3], Format::Deflate);
}

#[test]
fn two_devices_batch_many_in_flight_gzip() {
    many_in_flight(&[2, 3], Format::Gzip);
}

#[test]
fn batch_faults_fall_back_per_job_or_fail_without_fallback() {
    let e = env("faults", &[3]);
    e.set_faults(Faults {
        error_rate: 1.0,
        ..Faults::default()
    });
    let s = session(Format::Gzip, true);
    let mut b = Batch::new(&s, 2, 16).unwrap();
    let mut inputs = HashMap::new();
    for i in 0..40u32 {
        let data = text(1000 + 5000 * i as usize, i);
        inputs.insert(b.submit(Direction::Compress, data.clone()).unwrap(), data);
    }
    for c in b.drain() {
        let (z, r) = c.result.unwrap();
        assert!(r.fell_back, "{}", r.reason);
        assert!(r.reason.contains("injected fault"), "{}", r.reason);
        assert_eq!(
            Library::Zlib.decompress(Format::Gzip, &z, 1 << 24).unwrap(),
            inputs[&c.id]
        );
    }
    let c = s.counters();
    assert_eq!((c.fallbacks, c.software_requests, c.errors), (40, 40, 0));
    drop(b);
    let strict = session(Format::Gzip, false);
    let mut b = Batch::new(&strict, 1, 4).unwrap();
    for i in 0..5u32 {
        b.submit(Direction::Compress, text(3000, i)).unwrap();
    }
    for c in b.drain() {
        let err = c.result.unwrap_err();
        assert!(matches!(err, Error::Device(_)), "{err}");
        assert!(err.to_string().contains("injected fault"), "{err}");
    }
    assert_eq!(strict.counters().errors, 5);
}

/// A device that completes with status OK but impossible byte counts: every job is
/// redone in software (correct output), or fails loudly without fallback.
#[test]
fn batch_rejects_misreported_byte_counts() {
    let e = env("badcount", &[2]);
    e.set_faults(Faults {
        bad_count_rate: 1.0,
        ..Faults::default()
    });
    let s = session(Format::Zlib, true);
    let mut b = Batch::new(&s, 2, 8).unwrap();
    let mut inputs = HashMap::new();
    for i in 0..12u32 {
        let data = text(2000 + 7000 * i as usize, i);
        inputs.insert(b.submit(Direction::Compress, data.clone()).unwrap(), data);
    }
    for c in b.drain() {
        let (z, r) = c.result.unwrap();
        assert!(r.fell_back, "{}", r.reason);
        assert!(r.reason.contains("completion reports"), "{}", r.reason);
        assert_eq!(
            Library::Zlib.decompress(Format::Zlib, &z, 1 << 24).unwrap(),
            inputs[&c.id]
        );
    }
    drop(b);
    let strict = session(Format::Zlib, false);
    let mut b = Batch::new(&strict, 1, 4).unwrap();
    b.submit(Direction::Compress, text(5000, 99)).unwrap();
    for c in b.drain() {
        let err = c.result.unwrap_err();
        assert!(matches!(err, Error::Device(_)), "{err}");
        assert!(err.to_string().contains("completion reports"), "{err}");
    }
}

#[test]
fn batch_decompress_multi_member_and_corrupt_jobs() {
    let _e = env("members", &[2]);
    let s = session(Format::Gzip, true);
    let mut two = s.compress(b"first member, ").unwrap();
    two.extend(s.compress(b"second member").unwrap());
    let mut bad = s.compress(&text(10_000, 1)).unwrap();
    let n = bad.len();
    bad[n - 5] ^= 0x40; // crc32
    let mut b = Batch::new(&s, 1, 4).unwrap();
    let a = b.submit(Direction::Decompress, two).unwrap();
    let c = b.submit(Direction::Decompress, bad).unwrap();
    let mut seen = 0;
    for done in b.drain() {
        if done.id == a {
            assert_eq!(done.result.unwrap().0, b"first member, second member");
        } else {
            assert_eq!(done.id, c);
            let err = done.result.unwrap_err();
            assert!(
                matches!(err, Error::Checksum { .. } | Error::Corrupt { .. }),
                "{err}"
            );
        }
        seen += 1;
    }
    assert_eq!(seen, 2);
}
