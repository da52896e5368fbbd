//! The whole software path with ISA-L unavailable, as on a machine without `libisal2`:
//! `UADK_NO_ISAL=1` is set before anything loads ISA-L. One test function, so the variable
//! is set before any other thread of this binary runs.
//!
//! Checks: the reported choice (and why), every format, level and mode round-trips and is
//! read by the system zlib, forced ISA-L is a clear error, and the level-1 fallbacks keep
//! zlib -1's ratio.

use uadk_zip::software::{choose, isal_status, Library, Mode};
use uadk_zip::{Backend, Config, Decompressor, Direction, Error, Flush, Format, Session};

fn text(len: usize) -> Vec<u8> {
    let words = [
        &b"inflate "[..],
        b"the ",
        b"stream ",
        b"of ",
        b"blocks\n",
        b"window ",
    ];
    let mut x = 12345u32;
    let mut v = Vec::with_capacity(len + 16);
    while v.len() < len {
        x = x.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
        if x.is_multiple_of(97) {
            // A little noise, so the Huffman tables have work to do.
            v.extend_from_slice(&x.to_le_bytes());
        }
        v.extend_from_slice(words[(x >> 24) as usize % words.len()]);
    }
    v.truncate(len);
    v
}

fn session(format: Format, level: u32, threads: usize) -> Session {
    Session::new(Config {
        format,
        level,
        backend: Backend::Software,
        threads,
        parallel_threshold: 256 << 10,
        ..Config::default()
    })
    .unwrap()
}

#[test]
fn the_software_path_works_without_isal_and_says_so() {
    // SAFETY of the test's set-up: no other thread exists yet in this test binary.
    std::env::set_var("UADK_NO_ISAL", "1");

    let why = isal_status().unwrap_err();
    assert!(why.contains("UADK_NO_ISAL"), "{why}");
    assert!(!Library::Isal.available());

    // The table falls back and names the missing package.
    for level in 1..=3 {
        let (lib, why) = choose(Direction::Compress, level, Mode::OneShot);
        assert_eq!(lib, Library::Libdeflate);
        assert!(
            why.contains("ISA-L is not loaded") && why.contains("libisal2"),
            "{why}"
        );
        let (lib, why) = choose(Direction::Compress, level, Mode::Stream);
        assert_eq!(lib, Library::ZlibRs);
        assert!(why.contains("libisal2"), "{why}");
    }
    assert_eq!(choose(Direction::Decompress, 0, Mode::Stream).0, Library::ZlibRs);
    assert_eq!(
        choose(Direction::Decompress, 0, Mode::OneShot).0,
        Library::Libdeflate
    );

    // Forcing ISA-L is a clear error, not a crash or a silent substitute.
    let forced = Session::new(Config {
        library: Some(Library::Isal),
        level: 1,
        ..Config::default()
    });
    match forced {
        Err(e @ Error::Unavailable { .. }) => assert!(e.to_string().contains("UADK_NO_ISAL"), "{e}"),
        other => panic!("forced ISA-L without the library: {:?}", other.map(|_| ())),
    }
    assert!(matches!(
        Library::Isal.compress(Format::Gzip, 1, b"x"),
        Err(Error::Unavailable { .. })
    ));

    let data = text(1 << 20);
    for format in [Format::Deflate, Format::Zlib, Format::Gzip] {
        for level in 0..=9 {
            for threads in [1, 2] {
                let s = session(format, level, threads);
                let (z, r) = s.compress_report(&data).unwrap();
                assert_ne!(r.engine.to_string(), "software:isa-l");
                if (1..=3).contains(&level) {
                    assert!(r.reason.contains("ISA-L is not loaded"), "{}", r.reason);
                }
                assert_eq!(
                    Library::Zlib.decompress(format, &z, 1 << 30).unwrap(),
                    data,
                    "{format} L{level}"
                );
                let (back, dr) = s.decompress_report(&z).unwrap();
                assert_eq!(back, data);
                assert_ne!(dr.engine.to_string(), "software:isa-l");
            }
            // Streaming, with a sync flush in the middle.
            let s = session(format, level, 1);
            let mut c = s.compressor().unwrap();
            assert_ne!(c.report().engine.to_string(), "software:isa-l");
            let mut z = Vec::new();
            c.compress_vec(&data[..512 << 10], &mut z, Flush::Sync).unwrap();
            c.compress_vec(&data[512 << 10..], &mut z, Flush::Finish).unwrap();
            let mut d = s.decompressor().unwrap();
            assert_eq!(d.report().engine.to_string(), "software:zlib-rs");
            let mut back = Vec::new();
            for piece in z.chunks(7777) {
                d.decompress_vec(piece, &mut back).unwrap();
            }
            d.finish().unwrap();
            assert_eq!(back, data, "{format} L{level} stream");
        }
    }

    // Without a session, too.
    let z = uadk_zip::compress_level(&data, Format::Gzip, 1).unwrap();
    let mut d = Decompressor::software(Format::Gzip);
    let mut back = Vec::new();
    d.decompress_vec(&z, &mut back).unwrap();
    d.finish().unwrap();
    assert_eq!(back, data);

    // The level-1 fallbacks keep zlib -1's ratio (zlib-rs level 1 alone would not).
    let zlib1 = Library::Zlib.compress(Format::Deflate, 1, &data).unwrap().len() as f64;
    let one_shot = session(Format::Deflate, 1, 1).compress(&data).unwrap().len() as f64;
    let mut c = session(Format::Deflate, 1, 1).compressor().unwrap();
    let mut streamed = Vec::new();
    c.compress_vec(&data, &mut streamed, Flush::Finish).unwrap();
    assert!(
        one_shot <= zlib1 * 1.03,
        "one-shot L1 {one_shot} vs zlib -1 {zlib1}"
    );
    assert!(
        streamed.len() as f64 <= zlib1 * 1.03,
        "stream L1 {} vs zlib -1 {zlib1}",
        streamed.len()
    );
}
