//! Round trips over sizes 0 B..16 MiB and data kinds, through every entry point.

use proptest::prelude::*;
use std::io::{Read, Write};
use uadk_zip::software::Library;
use uadk_zip::{Backend, Config, Decoder, Decompressor, Encoder, Flush, Format, GzipHeader, Session};

#[derive(Clone, Copy, Debug)]
enum Kind {
    Random,
    Text,
    Zeros,
    Mixed,
}

fn make(kind: Kind, len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let words: [&[u8]; 8] = [
        b"the ",
        b"quick ",
        b"accelerator ",
        b"queue ",
        b"deflate\n",
        b"of ",
        b"zip ",
        b"a ",
    ];
    let mut v = Vec::with_capacity(len);
    while v.len() < len {
        match kind {
            Kind::Random => v.extend_from_slice(&next().to_le_bytes()),
            Kind::Text => v.extend_from_slice(words[(next() % 8) as usize]),
            Kind::Zeros => v.push(0),
            Kind::Mixed => {
                let r = next();
                let run = (r % 4096) as usize + 1;
                match r % 3 {
                    0 => v.extend((0..run).map(|_| next() as u8)),
                    1 => v.resize(v.len() + run, b'z'),
                    _ => {
                        for _ in 0..run / 8 + 1 {
                            v.extend_from_slice(words[(next() % 8) as usize]);
                        }
                    }
                }
            }
        }
    }
    v.truncate(len);
    v
}

fn kind() -> impl Strategy<Value = Kind> {
    prop_oneof![
        Just(Kind::Random),
        Just(Kind::Text),
        Just(Kind::Zeros),
        Just(Kind::Mixed)
    ]
}

fn format() -> impl Strategy<Value = Format> {
    prop_oneof![Just(Format::Deflate), Just(Format::Zlib), Just(Format::Gzip)]
}

fn size() -> impl Strategy<Value = usize> {
    prop_oneof![
        3 => 0usize..4096,
        2 => 4096usize..300_000,
        1 => 300_000usize..(3 << 20),
        1 => Just(16 << 20),
    ]
}

fn session(format: Format, level: u32, threads: usize) -> Session {
    Session::new(Config {
        format,
        level,
        threads,
        backend: Backend::Software,
        ..Config::default()
    })
    .unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn oneshot_round_trip(k in kind(), n in size(), f in format(), level in 0u32..=9, threads in 1usize..=3, seed in any::<u64>()) {
        let data = make(k, n, seed);
        let s = session(f, level, threads);
        let z = s.compress(&data).unwrap();
        prop_assert!(s.decompress(&z).unwrap() == data);
        // The system zlib reads what we wrote.
        prop_assert!(Library::Zlib.decompress(f, &z, u64::MAX).unwrap() == data);
    }

    #[test]
    fn streaming_round_trip_with_flushes(k in kind(), n in 0usize..400_000, f in format(), level in 0u32..=9,
                                         chunk in 1usize..70_000, seed in any::<u64>(), out_chunk in 1usize..50_000) {
        let data = make(k, n, seed);
        let s = session(f, level, 1);
        let mut c = s.compressor().unwrap();
        let mut z = Vec::new();
        for (i, piece) in data.chunks(chunk).enumerate() {
            let flush = match i % 4 { 0 => Flush::None, 1 => Flush::Sync, 2 => Flush::Full, _ => Flush::None };
            c.compress_vec(piece, &mut z, flush).unwrap();
        }
        c.compress_vec(&[], &mut z, Flush::Finish).unwrap();
        prop_assert!(Library::Zlib.decompress(f, &z, u64::MAX).unwrap() == data);
        // Decompress with small output windows and input pieces.
        let mut d = s.decompressor().unwrap();
        let mut out = Vec::new();
        let mut buf = vec![0u8; out_chunk];
        for piece in z.chunks(chunk) {
            let mut rest = piece;
            loop {
                let p = d.decompress(rest, &mut buf).unwrap();
                out.extend_from_slice(&buf[..p.produced]);
                rest = &rest[p.consumed..];
                if rest.is_empty() && p.produced < buf.len() { break; }
            }
        }
        loop {
            let p = d.decompress(&[], &mut buf).unwrap();
            if p.produced == 0 { break; }
            out.extend_from_slice(&buf[..p.produced]);
        }
        d.finish().unwrap();
        prop_assert!(out == data);
    }

    #[test]
    fn io_adapters_round_trip(k in kind(), n in 0usize..300_000, f in format(), level in 1u32..=9, seed in any::<u64>()) {
        let data = make(k, n, seed);
        let s = session(f, level, 1);
        let mut e = Encoder::new(s.compressor().unwrap(), Vec::new());
        for piece in data.chunks(10_000) {
            e.write_all(piece).unwrap();
        }
        e.flush().unwrap();
        let z = e.finish().unwrap();
        let mut back = Vec::new();
        Decoder::new(s.decompressor().unwrap(), &z[..]).read_to_end(&mut back).unwrap();
        prop_assert!(back == data);
    }
}

#[test]
fn every_library_round_trips_and_interoperates_with_zlib() {
    let data = make(Kind::Mixed, 1 << 20, 7);
    for f in [Format::Deflate, Format::Zlib, Format::Gzip] {
        for lib in Library::ALL.into_iter().filter(|l| l.available()) {
            for level in [1, 6, 9] {
                let Ok(z) = lib.compress(f, level, &data) else {
                    assert!(lib == Library::Isal && level > 3, "{lib} L{level}");
                    continue;
                };
                for reader in Library::ALL.into_iter().filter(|l| l.available()) {
                    let back = reader.decompress(f, &z, u64::MAX).unwrap();
                    assert!(back == data, "{lib} L{level} {f} read by {reader}");
                }
            }
        }
    }
}

#[test]
fn gzip_header_fields_are_written_and_multi_member_input_is_read() {
    let h = GzipHeader {
        name: Some(b"report.txt".to_vec()),
        mtime: 1_700_000_000,
        ..GzipHeader::default()
    };
    let s = Session::new(Config {
        gzip_header: h.clone(),
        ..Config::default()
    })
    .unwrap();
    let mut z = s.compress(b"first member, ").unwrap();
    assert_eq!(&z[3..8], &[8, 0x00, 0xf1, 0x53, 0x65]);
    z.extend(Library::Zlib.compress(Format::Gzip, 9, b"second member").unwrap());
    z.extend(s.compress(b"").unwrap());
    assert_eq!(s.decompress(&z).unwrap(), b"first member, second member");
    let mut d = Decompressor::software(Format::Gzip);
    d.decompress_vec(&z, &mut Vec::new()).unwrap();
    d.finish().unwrap();
    assert_eq!(d.members(), 3);
    assert_eq!(d.gzip_header().unwrap().name, h.name);
    assert_eq!(d.gzip_header().unwrap().mtime, h.mtime);
}

#[test]
fn into_buffer_calls_report_sizes() {
    let s = session(Format::Gzip, 6, 1);
    let data = make(Kind::Text, 100_000, 3);
    let z = s.compress(&data).unwrap();
    let mut buf = vec![0u8; z.len()];
    assert_eq!(s.compress_into(&data, &mut buf).unwrap(), z.len());
    let mut out = vec![0u8; data.len()];
    assert_eq!(s.decompress_into(&z, &mut out).unwrap(), data.len());
    assert!(out == data);
    let mut short = vec![0u8; data.len() - 1];
    match s.decompress_into(&z, &mut short) {
        Err(uadk_zip::Error::OutputTooSmall { needed, available }) => {
            assert_eq!((needed, available), (Some(data.len()), data.len() - 1));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn reports_and_counters_say_what_ran() {
    let s = session(Format::Zlib, 1, 2);
    let (_, r) = s.compress_report(&make(Kind::Text, 1000, 1)).unwrap();
    let l1 = uadk_zip::software::choose(
        uadk_zip::Direction::Compress,
        1,
        uadk_zip::software::Mode::OneShot,
    )
    .0;
    assert_eq!(r.engine.to_string(), format!("software:{l1}"));
    assert!(r.reason.contains("software backend requested"), "{}", r.reason);
    let (_, r) = s.compress_report(&make(Kind::Text, 4 << 20, 1)).unwrap();
    assert_eq!(r.threads, 2);
    assert!(r.reason.contains("parallel"), "{}", r.reason);
    let auto = Session::new(Config::default()).unwrap();
    let (z, r) = auto.compress_report(b"x").unwrap();
    assert!(r.reason.contains("no device offers gzip"), "{}", r.reason);
    let _ = auto.decompress(&z).unwrap();
    assert!(auto.decompress(b"garbage").is_err());
    let c = auto.counters();
    assert_eq!((c.software_requests, c.device_requests, c.errors), (2, 0, 1));
}
