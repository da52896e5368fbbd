//! Bad input gives a clear error on every decompression entry point: never a panic, never
//! unbounded memory, never silently wrong output.

use std::io::Read;
use uadk_zip::software::Library;
use uadk_zip::{Backend, Config, Decoder, Error, Format, Session};

fn text(n: usize) -> Vec<u8> {
    (0..n)
        .map(|i| b"lorem ipsum dolor sit amet "[i % 27] ^ (i / 1000) as u8)
        .collect()
}

/// Every way to decompress a whole buffer: one-shot (libdeflate), one-shot forced to each
/// streaming library, into a buffer, and the Read adapter.
fn all_ways(format: Format, input: &[u8], limit: u64) -> Vec<(String, Result<Vec<u8>, Error>)> {
    let mut v = Vec::new();
    for lib in [None, Some(Library::Isal), Some(Library::ZlibRs)] {
        if lib.is_some_and(|l| !l.available()) {
            continue; // ISA-L not installed (or UADK_NO_ISAL=1)
        }
        let s = Session::new(Config {
            format,
            backend: Backend::Software,
            library: lib,
            max_output: limit,
            ..Config::default()
        })
        .unwrap();
        v.push((format!("oneshot {lib:?}"), s.decompress(input)));
        let mut out = Vec::new();
        let r = Decoder::new(s.decompressor().unwrap(), input)
            .read_to_end(&mut out)
            .map(|_| out)
            .map_err(|e| match e.into_inner().map(|b| b.downcast::<Error>()) {
                Some(Ok(e)) => *e,
                Some(Err(other)) => Error::InvalidArgument(other.to_string()),
                None => Error::InvalidArgument("io error without payload".into()),
            });
        v.push((format!("reader {lib:?}"), r));
    }
    let s = Session::new(Config {
        format,
        max_output: limit,
        ..Config::default()
    })
    .unwrap();
    let mut buf = vec![0u8; 1 << 20];
    v.push((
        "into".into(),
        s.decompress_into(input, &mut buf).map(|n| buf[..n].to_vec()),
    ));
    v
}

fn assert_all_err(format: Format, input: &[u8], what: &str, ok: impl Fn(&Error) -> bool) {
    for (way, r) in all_ways(format, input, u64::MAX) {
        match r {
            Ok(v) => panic!(
                "{what}: {format} via {way} accepted bad input ({} bytes out)",
                v.len()
            ),
            Err(e) => assert!(ok(&e), "{what}: {format} via {way}: unexpected error {e}"),
        }
    }
}

#[test]
fn empty_input_is_an_error() {
    for f in [Format::Deflate, Format::Zlib, Format::Gzip] {
        assert_all_err(f, b"", "empty", |e| {
            matches!(e, Error::EmptyInput { .. } | Error::Truncated { .. })
        });
    }
}

#[test]
fn every_truncation_is_an_error() {
    let data = text(20_000);
    for f in [Format::Deflate, Format::Zlib, Format::Gzip] {
        let z = uadk_zip::compress(&data, f).unwrap();
        for cut in (1..z.len()).step_by(97).chain([z.len() - 1]) {
            assert_all_err(f, &z[..cut], "truncated", |e| {
                matches!(
                    e,
                    Error::Truncated { .. } | Error::Corrupt { .. } | Error::EmptyInput { .. }
                )
            });
        }
    }
}

#[test]
fn trailing_garbage_is_an_error() {
    let data = text(5000);
    for f in [Format::Deflate, Format::Zlib, Format::Gzip] {
        let mut z = uadk_zip::compress(&data, f).unwrap();
        z.extend_from_slice(b"GARBAGE!");
        assert_all_err(f, &z, "trailing", |e| matches!(e, Error::TrailingData { .. }));
        // A single trailing byte too.
        let mut z = uadk_zip::compress(&data, f).unwrap();
        z.push(0);
        assert_all_err(f, &z, "trailing byte", |e| {
            matches!(e, Error::TrailingData { .. })
        });
    }
}

#[test]
fn wrong_checksums_and_sizes_are_errors() {
    let data = text(30_000);
    for f in [Format::Zlib, Format::Gzip] {
        let z = uadk_zip::compress(&data, f).unwrap();
        let tl = if f == Format::Gzip { 8 } else { 4 };
        for i in z.len() - tl..z.len() {
            let mut bad = z.clone();
            bad[i] ^= 0x40;
            assert_all_err(f, &bad, "checksum", |e| matches!(e, Error::Checksum { .. }));
        }
    }
}

#[test]
fn corrupt_bodies_are_errors_or_caught_by_checksums() {
    let data = text(50_000);
    for f in [Format::Zlib, Format::Gzip] {
        let z = uadk_zip::compress(&data, f).unwrap();
        for i in (12..z.len() - 8).step_by(41) {
            let mut bad = z.clone();
            bad[i] ^= 0x5a;
            for (way, r) in all_ways(f, &bad, 1 << 22) {
                if let Ok(v) = r {
                    panic!("{f} via {way}: flipped byte {i} accepted ({} bytes)", v.len());
                }
            }
        }
    }
}

#[test]
fn bad_headers_are_errors() {
    assert_all_err(Format::Gzip, b"\x1f\x8c\x08\0\0\0\0\0\0\x03xxxx", "magic", |e| {
        matches!(e, Error::Corrupt { .. })
    });
    assert_all_err(Format::Zlib, b"\x78\x9dxxxx", "zlib fcheck", |e| {
        matches!(e, Error::Corrupt { .. })
    });
    assert_all_err(Format::Zlib, b"\x78\xbb\0\0\0\0xx", "zlib dict", |e| {
        matches!(e, Error::Corrupt { .. })
    });
    assert_all_err(Format::Deflate, b"\xff\xff\xff\xff", "reserved block type", |e| {
        matches!(e, Error::Corrupt { .. })
    });
}

#[test]
fn output_limit_stops_decompression_bombs() {
    let zeros = vec![0u8; 64 << 20];
    for f in [Format::Deflate, Format::Zlib, Format::Gzip] {
        let z = Library::Libdeflate.compress(f, 9, &zeros).unwrap();
        assert!(z.len() < 200_000, "{}", z.len());
        for (way, r) in all_ways(f, &z, 1 << 20) {
            match r {
                Err(Error::OutputLimit { limit }) => assert_eq!(limit, 1 << 20),
                // The caller's buffer (1 MiB) is smaller than the output.
                Err(Error::OutputTooSmall { .. }) if way == "into" => {}
                other => panic!("{f} via {way}: {:?}", other.map(|v| v.len())),
            }
        }
    }
}

#[test]
fn zlib_peer_rejects_the_same_bad_input() {
    let mut z = uadk_zip::compress(&text(1000), Format::Gzip).unwrap();
    z.extend_from_slice(b"xx");
    assert!(matches!(
        Library::Zlib.decompress(Format::Gzip, &z, u64::MAX),
        Err(Error::TrailingData { .. })
    ));
}

/// Inputs the fuzzers once crashed on (first byte: format and library selector, as in
/// fuzz/fuzz_targets/common.rs). Each must now give a result or an error, never a panic.
#[test]
fn fuzz_regressions_do_not_panic() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fuzz-regressions");
    let mut n = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let data = std::fs::read(entry.unwrap().path()).unwrap();
        for f in [Format::Deflate, Format::Zlib, Format::Gzip] {
            for input in [&data[..], &data[1..]] {
                for (way, r) in all_ways(f, input, 1 << 20) {
                    if let Ok(out) = r {
                        // Raw deflate has no checksum; see the README on decoder leniency.
                        match Library::Zlib.decompress(f, input, 1 << 20) {
                            Ok(z) => assert!(z == out, "{f} via {way} disagrees with zlib"),
                            Err(e) => assert!(f == Format::Deflate, "{f} via {way}: zlib says {e}"),
                        }
                    }
                }
            }
        }
        n += 1;
    }
    assert!(n > 0, "no regression inputs found");
}
