//! The block index parsers (`uadk_zip::index`) and the parallel decode that trusts nothing
//! they say.
//!
//! First byte even: the input goes as it is to the record, carrier, extra-field and stream
//! locators (no panic; whatever parses re-encodes to the same bytes) and to a two-thread
//! session of each format (no panic).
//!
//! First byte odd: a real indexed stream of three pieces is built once per format; the
//! fuzzer's bytes then rewrite its index (lengths, checksums, flags, entries dropped or
//! repeated) with a valid record CRC, so the index is well-formed but may lie. The one-shot
//! and streaming decoders must then return the original data or an error — never other
//! data.
#![no_main]
use libfuzzer_sys::fuzz_target;
use std::io::Read;
use std::sync::OnceLock;
use uadk_zip::index::{self, CheckKind, Entry, Index};
use uadk_zip::{Backend, Compressor, Config, Decoder, Flush, Format, Session};

const FORMATS: [Format; 3] = [Format::Gzip, Format::Zlib, Format::Deflate];

fn session(format: Format) -> Session {
    Session::new(Config {
        format,
        threads: 2,
        backend: Backend::Software,
        max_output: 1 << 22,
        ..Config::default()
    })
    .unwrap()
}

/// The original data and, per format, (header, deflate body, trailer, true index).
struct Sample {
    data: Vec<u8>,
    streams: Vec<(Vec<u8>, Vec<u8>, Vec<u8>, Index)>,
}

fn sample() -> &'static Sample {
    static S: OnceLock<Sample> = OnceLock::new();
    S.get_or_init(|| {
        let data: Vec<u8> = (0..60_000u32)
            .map(|i| b"index fuzz words "[(i % 17) as usize] ^ ((i / 4099) as u8 & 3))
            .collect();
        let pieces = [&data[..20_000], &data[20_000..41_000], &data[41_000..]];
        let mut streams = Vec::new();
        for format in FORMATS {
            let kind = CheckKind::for_format(format);
            let mut c = Compressor::software(Format::Deflate, 6).unwrap();
            let mut body = Vec::new();
            let mut entries = Vec::new();
            for (i, p) in pieces.iter().enumerate() {
                let before = body.len();
                let flush = if i == 2 { Flush::Finish } else { Flush::Full };
                c.compress_vec(p, &mut body, flush).unwrap();
                entries.push(Entry {
                    compressed: (body.len() - before) as u64,
                    uncompressed: p.len() as u64,
                    check: kind.of(p),
                    needs_window: false,
                });
            }
            let idx = Index {
                kind,
                last_final: true,
                entries,
            };
            let check = idx.combined_check();
            let (header, trailer) = match format {
                Format::Gzip => {
                    let mut t = check.to_le_bytes().to_vec();
                    t.extend_from_slice(&(data.len() as u32).to_le_bytes());
                    (vec![0x1f, 0x8b, 8, 4, 0, 0, 0, 0, 0, 3], t)
                }
                Format::Zlib => (vec![0x78, 0x9c], check.to_be_bytes().to_vec()),
                Format::Deflate => (Vec::new(), Vec::new()),
            };
            streams.push((header, body, trailer, idx));
        }
        Sample { data, streams }
    })
}

/// The stream of `format` with `idx` as its index.
fn assemble(format: Format, header: &[u8], body: &[u8], trailer: &[u8], idx: &Index) -> Vec<u8> {
    let rec = idx.encode();
    let mut z = header.to_vec();
    if format == Format::Gzip {
        let sub = index::gzip_subfield(&rec);
        z.extend_from_slice(&(sub.len() as u16).to_le_bytes());
        z.extend_from_slice(&sub);
    } else {
        z.extend_from_slice(&index::carrier(&rec));
    }
    z.extend_from_slice(body);
    z.extend_from_slice(trailer);
    z
}

/// The index rewritten by the fuzzer's bytes.
fn lie(idx: &Index, bytes: &[u8]) -> Index {
    let mut out = idx.clone();
    let mut it = bytes.chunks(4);
    while let Some(op) = it.next() {
        let arg = it
            .next()
            .map_or(0, |a| a.iter().fold(0u32, |v, &b| v << 8 | u32::from(b)));
        let n = out.entries.len();
        let i = op.get(1).map_or(0, |&b| b as usize % n.max(1));
        if i >= n {
            break;
        }
        match op[0] % 9 {
            5 if n > 1 => {
                out.entries.remove(i);
                continue;
            }
            6 if n < 8 => {
                let e = out.entries[i];
                out.entries.insert(i, e);
                continue;
            }
            4 => {
                out.last_final = !out.last_final;
                continue;
            }
            _ => {}
        }
        let e = &mut out.entries[i];
        match op[0] % 9 {
            0 => {
                e.compressed = e
                    .compressed
                    .wrapping_add(u64::from(arg % 64))
                    .wrapping_sub(32)
                    .max(1)
            }
            1 => e.uncompressed = e.uncompressed.wrapping_add(u64::from(arg % 64)).wrapping_sub(32),
            2 => e.check ^= arg,
            3 => e.needs_window = !e.needs_window,
            7 => e.compressed = u64::from(arg).max(1),
            8 => e.uncompressed = u64::from(arg),
            _ => {}
        }
    }
    out
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    if mode & 1 == 0 {
        if let Ok((idx, n)) = Index::decode(rest) {
            assert_eq!(idx.encode(), &rest[..n], "a parsed record re-encodes to itself");
        }
        if let Some((idx, n)) = index::parse_carrier(rest) {
            assert_eq!(index::carrier(&idx.encode()), &rest[..n]);
        }
        if let Some((idx, at)) = index::parse_carrier_at_end(rest) {
            assert_eq!(index::carrier(&idx.encode()), &rest[at..]);
        }
        let _ = index::find_in_extra(rest);
        for format in FORMATS {
            if let Some(loc) = index::locate(format, rest) {
                assert!(loc.data_start <= loc.body_end && loc.body_end <= rest.len());
            }
            let _ = index::locate_at_start(format, rest);
            let _ = session(format).decompress(rest);
        }
        return;
    }
    let s = sample();
    let format = FORMATS[(mode as usize >> 1) % 3];
    let (header, body, trailer, idx) = &s.streams[(mode as usize >> 1) % 3];
    let bad = lie(idx, rest);
    let z = assemble(format, header, body, trailer, &bad);
    let sess = session(format);
    match sess.decompress(&z) {
        Ok(out) => assert!(out == s.data, "{format}: a lying index gave other data"),
        Err(e) => assert!(
            format == Format::Deflate,
            "{format}: the stream is intact, only its index lies, yet: {e}"
        ),
    }
    let mut buf = vec![0u8; s.data.len()];
    if let Ok(n) = sess.decompress_into(&z, &mut buf) {
        assert!(
            buf[..n] == s.data[..],
            "{format}: decompress_into gave other data"
        );
    }
    let mut d = Decoder::new(sess.decompressor().unwrap(), &z[..]);
    let mut out = Vec::new();
    if d.read_to_end(&mut out).is_ok() {
        assert!(out == s.data, "{format}: the streaming decoder gave other data");
    }
});
