//! Indexed streams: our parallel compressor's output carries a block index that every other
//! reader ignores (system gzip, pigz, libdeflate-gunzip, Python's zlib and gzip, the system
//! zlib, libdeflate), and that our decompressor uses to decode the blocks in parallel —
//! checked per block and as a whole, falling back to sequential decoding whenever the index
//! is damaged, truncated, lying or points past the end.

use std::io::Write;
use std::process::{Command, Stdio};
use uadk_zip::index::{self, Index};
use uadk_zip::software::Library;
use uadk_zip::{Backend, Config, Format, Session};

const FORMATS: [Format; 3] = [Format::Gzip, Format::Zlib, Format::Deflate];

/// Text with some random runs, `len` bytes.
fn data(len: usize, seed: u32) -> Vec<u8> {
    let words = ["index ", "block ", "window ", "piece ", "inflate\n", "thread "];
    let mut x = 0x1234_5678u32 ^ seed.wrapping_mul(2_654_435_761);
    let mut v = Vec::with_capacity(len + 64);
    while v.len() < len {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        if x.is_multiple_of(97) {
            v.extend((0..300).map(|i| (x.rotate_left(i) >> 3) as u8));
        } else {
            v.extend_from_slice(words[(x % 6) as usize].as_bytes());
        }
    }
    v.truncate(len);
    v
}

fn session(format: Format, level: u32, threads: usize) -> Session {
    Session::new(Config {
        format,
        level,
        threads,
        backend: Backend::Software,
        parallel_threshold: 1 << 20,
        ..Config::default()
    })
    .unwrap()
}

/// Runs `cmd` with `input` on stdin; its stdout, or `None` when the tool is not installed.
fn pipe(cmd: &str, args: &[&str], input: &[u8]) -> Option<Vec<u8>> {
    let mut child = match Command::new(cmd)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
    {
        Ok(c) => c,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            eprintln!("skipping {cmd}: not installed");
            return None;
        }
        Err(e) => panic!("{cmd}: {e}"),
    };
    let mut stdin = child.stdin.take().unwrap();
    let input = input.to_vec();
    let writer = std::thread::spawn(move || stdin.write_all(&input));
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap().unwrap();
    assert!(
        out.status.success(),
        "{cmd} {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(out.stdout)
}

/// Python's reading of `z`: gzip.decompress / zlib.decompress(wbits).
fn python(format: Format, z: &[u8]) -> Option<Vec<u8>> {
    let code = match format {
        Format::Gzip => "import sys,gzip,zlib; d=sys.stdin.buffer.read(); a=gzip.decompress(d); o=zlib.decompressobj(31); b=o.decompress(d)+o.flush(); assert a==b and o.eof and not o.unused_data; sys.stdout.buffer.write(a)",
        Format::Zlib => "import sys,zlib; d=sys.stdin.buffer.read(); o=zlib.decompressobj(15); b=o.decompress(d)+o.flush(); assert o.eof and not o.unused_data and zlib.decompress(d)==b; sys.stdout.buffer.write(b)",
        Format::Deflate => "import sys,zlib; d=sys.stdin.buffer.read(); o=zlib.decompressobj(-15); b=o.decompress(d)+o.flush(); assert o.eof and not o.unused_data; sys.stdout.buffer.write(b)",
    };
    pipe("python3", &["-c", code], z)
}

/// Every format and level: the output is indexed, our parallel decode restores it (and says
/// so), and every other reader sees an ordinary stream with the same content.
#[test]
fn indexed_streams_round_trip_through_every_reader_at_every_level() {
    let input = data(5 << 20, 1);
    for format in FORMATS {
        for level in 0..=9 {
            let what = format!("{format} level {level}");
            let (z, r) = session(format, level, 3).compress_report(&input).unwrap();
            if level == 0 {
                // Stored blocks are not split: one stream, no index.
                assert!(index::locate(format, &z).is_none(), "{what}");
                assert!(session(format, 6, 2).decompress(&z).unwrap() == input, "{what}");
                continue;
            }
            assert!(r.reason.contains("parallel blocks"), "{what}: {}", r.reason);
            let idx = index::locate(format, &z)
                .unwrap_or_else(|| panic!("{what}: no index"))
                .index;
            assert!(idx.entries.len() >= 2, "{what}");
            assert_eq!(idx.total_uncompressed(), input.len() as u64, "{what}");
            // Ours, two threads: parallel.
            let (back, r) = session(format, 6, 2).decompress_report(&z).unwrap();
            assert!(back == input, "{what}");
            assert!(r.reason.contains("decoded in parallel"), "{what}: {}", r.reason);
            assert_eq!(r.threads, 2, "{what}: {}", r.reason);
            // Ours, one thread: the ordinary path.
            let (back, r) = session(format, 6, 1).decompress_report(&z).unwrap();
            assert!(back == input && !r.reason.contains("block index"), "{what}");
            // The system zlib and libdeflate (forced: the library alone).
            assert!(
                Library::Zlib.decompress(format, &z, 1 << 30).unwrap() == input,
                "{what}: zlib"
            );
            assert!(
                Library::Libdeflate.decompress(format, &z, 1 << 30).unwrap() == input,
                "{what}: libdeflate"
            );
            if level % 3 == 0 || level == 1 {
                if let Some(p) = python(format, &z) {
                    assert!(p == input, "{what}: python");
                }
            }
            if format == Format::Gzip {
                for (tool, args) in [
                    ("gzip", &["-dc"][..]),
                    ("pigz", &["-dc"][..]),
                    ("libdeflate-gunzip", &["-c"][..]),
                ] {
                    if let Some(out) = pipe(tool, args, &z) {
                        assert!(out == input, "{what}: {tool}");
                    }
                }
            }
        }
    }
}

/// Blocks that start from the previous block's window (zlib-rs blocks with a 32 KiB
/// dictionary) are marked so, and decode as one group, still through the index.
#[test]
fn blocks_that_need_a_window_decode_with_the_block_before() {
    let input = data(4 << 20, 7);
    for format in FORMATS {
        let s = Session::new(Config {
            format,
            level: 6,
            threads: 2,
            backend: Backend::Software,
            library: Some(Library::ZlibRs),
            ..Config::default()
        })
        .unwrap();
        let z = s.compress(&input).unwrap();
        let idx = index::locate(format, &z).unwrap().index;
        assert!(idx.entries.len() >= 2 && !idx.entries[0].needs_window);
        assert!(idx.entries[1..].iter().all(|e| e.needs_window), "{format}");
        let (back, r) = session(format, 6, 2).decompress_report(&z).unwrap();
        assert!(back == input, "{format}");
        assert!(r.reason.contains("1 piece group(s)"), "{format}: {}", r.reason);
        assert!(Library::Zlib.decompress(format, &z, 1 << 30).unwrap() == input);
    }
}

/// `gzip -t` and `gzip -l` accept the FEXTRA field; the index costs a few bytes per block.
#[test]
fn index_cost_is_a_few_bytes_per_block() {
    let input = data(8 << 20, 2);
    for format in FORMATS {
        let mut plain_cfg = Config {
            format,
            threads: 4,
            backend: Backend::Software,
            ..Config::default()
        };
        plain_cfg.index = false;
        let plain = Session::new(plain_cfg).unwrap().compress(&input).unwrap();
        let z = session(format, 6, 4).compress(&input).unwrap();
        let idx = index::locate(format, &z).unwrap().index;
        assert!(index::locate(format, &plain).is_none());
        let extra = z.len() - plain.len();
        let n = idx.entries.len();
        let per = match format {
            Format::Gzip => 4 + 2 + 6 + 12 * n,
            _ => (6 + 12 * n) * 8 + 40,
        };
        assert!(extra <= per, "{format}: {extra} bytes for {n} blocks");
        eprintln!(
            "{format}: index {extra} bytes for {n} blocks ({:.5}% of {} bytes)",
            100.0 * extra as f64 / plain.len() as f64,
            plain.len()
        );
    }
    if let Some(out) = pipe(
        "gzip",
        &["-t"],
        &session(Format::Gzip, 6, 4).compress(&input).unwrap(),
    ) {
        assert!(out.is_empty());
    }
}

/// Rewrites the index of an indexed one-shot stream (`z`) with `f` (the record's CRC is
/// recomputed, so the reader sees a well-formed but possibly lying index).
fn rewrite_index(format: Format, z: &[u8], f: impl FnOnce(&mut Index)) -> Vec<u8> {
    let loc = index::locate(format, z).unwrap();
    let mut idx = loc.index.clone();
    f(&mut idx);
    let rec = idx.encode();
    match format {
        Format::Gzip => {
            let xlen = u16::from_le_bytes([z[10], z[11]]) as usize;
            let sub = index::gzip_subfield(&rec);
            let mut out = z[..12].to_vec();
            out[10..12].copy_from_slice(&(sub.len() as u16).to_le_bytes());
            out.extend_from_slice(&sub);
            out.extend_from_slice(&z[12 + xlen..]);
            out
        }
        _ => {
            let hl = if format == Format::Zlib { 2 } else { 0 };
            let mut out = z[..hl].to_vec();
            out.extend_from_slice(&index::carrier(&rec));
            out.extend_from_slice(&z[loc.data_start..]);
            out
        }
    }
}

/// Damaged, truncated, lying and out-of-range indexes: never a wrong answer. Either the
/// index is not found (damaged record) or it is rejected by a length, a boundary or a
/// checksum, and the stream decodes sequentially to the right data.
#[test]
fn bad_indexes_fall_back_to_sequential_and_never_give_wrong_output() {
    let input = data(6 << 20, 3);
    for format in FORMATS {
        let z = session(format, 1, 4).compress(&input).unwrap();
        let n = index::locate(format, &z).unwrap().index.entries.len();
        assert!(n >= 4, "{format}: {n} blocks");
        type Lie = Box<dyn Fn(&mut Index)>;
        let lies: Vec<(&str, Lie)> = vec![
            ("shorter first block", Box::new(|i| i.entries[0].compressed -= 1)),
            ("longer first block", Box::new(|i| i.entries[0].compressed += 1)),
            (
                "moved boundary",
                Box::new(|i| {
                    i.entries[1].compressed += 7;
                    i.entries[2].compressed -= 7;
                }),
            ),
            ("more output", Box::new(|i| i.entries[1].uncompressed += 1)),
            ("less output", Box::new(|i| i.entries[2].uncompressed -= 1)),
            ("swapped sizes", Box::new(|i| i.entries.swap(0, 1))),
            ("wrong checksum", Box::new(|i| i.entries[1].check ^= 1)),
            (
                "two blocks merged as one without window",
                Box::new(|i| {
                    let b = i.entries.remove(1);
                    i.entries[0].compressed += b.compressed;
                    i.entries[0].uncompressed += b.uncompressed;
                }),
            ),
            (
                "past the end",
                Box::new(|i| i.entries.last_mut().unwrap().compressed += 1 << 20),
            ),
            (
                "missing last block",
                Box::new(|i| {
                    i.entries.pop();
                }),
            ),
            ("not final", Box::new(|i| i.last_final = false)),
            (
                "other checksum kind",
                Box::new(|i| {
                    i.kind = if i.kind == index::CheckKind::Crc32 {
                        index::CheckKind::Adler32
                    } else {
                        index::CheckKind::Crc32
                    }
                }),
            ),
        ];
        let s = session(format, 6, 2);
        for (what, lie) in &lies {
            let bad = rewrite_index(format, &z, lie);
            let mut buf = vec![0u8; input.len()];
            match (s.decompress_report(&bad), s.decompress_into(&bad, &mut buf)) {
                (Ok((back, r)), Ok(n)) => {
                    assert!(back == input, "{format} {what}: wrong output");
                    assert!(
                        !r.reason.contains("decoded in parallel"),
                        "{format} {what}: {}",
                        r.reason
                    );
                    assert!(
                        n == input.len() && buf == input,
                        "{format} {what}: wrong output into a slice"
                    );
                }
                // Raw deflate has only the index's CRC-32: an index that does not match
                // the data makes it an error.
                (Err(e), Err(_)) if format == Format::Deflate => {
                    assert!(matches!(e, uadk_zip::Error::Checksum { .. }), "{what}: {e}")
                }
                other => panic!("{format} {what}: {:?}", other.0.map(|(_, r)| r.reason)),
            }
        }
        // A merged pair marked as needing no window but truthfully decodable stays right
        // too: merging neighbours is valid, so the index still works.
        let merged = rewrite_index(format, &z, |i| {
            let b = i.entries.remove(1);
            let a = &mut i.entries[0];
            a.check = i.kind.combine(a.check, b.check, b.uncompressed);
            a.compressed += b.compressed;
            a.uncompressed += b.uncompressed;
        });
        let (back, r) = s.decompress_report(&merged).unwrap();
        assert!(
            back == input && r.reason.contains("decoded in parallel"),
            "{format}: {}",
            r.reason
        );
        // Damaged record bytes (the record's own CRC fails): not an index at all.
        let loc = index::locate(format, &z).unwrap();
        for at in [1usize, 3, 9] {
            let mut d = z.clone();
            match format {
                Format::Gzip => d[12 + 4 + at] ^= 0x40,
                // Flip a payload bit of carrier group `at`.
                _ => d[(if format == Format::Zlib { 2 } else { 0 }) + 5 * (4 + at)] ^= 0x08,
            }
            assert!(index::locate(format, &d).is_none(), "{format} byte {at}");
            assert!(s.decompress(&d).unwrap() == input, "{format} damaged record {at}");
            assert!(Library::Zlib.decompress(format, &d, 1 << 30).unwrap() == input);
        }
        // Truncated streams: at every block boundary and around it, an error, never data.
        let mut at = loc.data_start;
        for e in &loc.index.entries {
            at += e.compressed as usize;
            for cut in [at - 1, at, at + 1] {
                if cut >= z.len() {
                    continue;
                }
                assert!(s.decompress(&z[..cut]).is_err(), "{format} cut at {cut}");
            }
        }
        // A flipped bit inside a block: an error (sequential path decides), never data.
        let mut d = z.clone();
        let mid = loc.data_start + loc.index.entries[0].compressed as usize + 1000;
        d[mid] ^= 0x10;
        match s.decompress(&d) {
            Ok(v) => assert!(v == input, "{format}: corrupt block gave wrong data"),
            // Raw deflate: the index's CRC-32 catches what the format cannot.
            Err(e) => assert!(
                format != Format::Deflate
                    || matches!(
                        e,
                        uadk_zip::Error::Checksum { .. } | uadk_zip::Error::Corrupt { .. }
                    ),
                "{e}"
            ),
        }
        if format == Format::Deflate {
            assert!(
                s.decompress(&d).is_err(),
                "raw deflate with a flipped bit and an index"
            );
        }
    }
}

/// gzip members: duplicated indexed members, and indexed members between plain ones.
#[test]
fn members_indexed_and_plain_concatenate() {
    let a = data(3 << 20, 4);
    let b = data(200_000, 5);
    let indexed = session(Format::Gzip, 6, 2).compress(&a).unwrap();
    let plain = session(Format::Gzip, 6, 1).compress(&b).unwrap();
    assert!(index::locate(Format::Gzip, &plain).is_none());
    let s = session(Format::Gzip, 6, 2);
    let cases: Vec<(Vec<u8>, Vec<u8>, bool)> = vec![
        ([&indexed[..], &indexed].concat(), [&a[..], &a].concat(), true),
        (
            [&indexed[..], &plain, &indexed].concat(),
            [&a[..], &b, &a].concat(),
            true,
        ),
        ([&plain[..], &indexed].concat(), [&b[..], &a].concat(), false),
    ];
    for (i, (z, want, parallel)) in cases.into_iter().enumerate() {
        let (back, r) = s.decompress_report(&z).unwrap();
        assert!(back == want, "case {i}");
        assert_eq!(
            r.reason.contains("decoded in parallel"),
            parallel,
            "case {i}: {}",
            r.reason
        );
        assert!(Library::Zlib.decompress(Format::Gzip, &z, 1 << 30).unwrap() == want);
        if let Some(out) = pipe("gzip", &["-dc"], &z) {
            assert!(out == want, "case {i}: gzip");
        }
        let mut buf = vec![0u8; want.len()];
        assert_eq!(s.decompress_into(&z, &mut buf).unwrap(), want.len());
        assert!(buf == want);
        // Trailing garbage after indexed members is still an error.
        let mut t = z.clone();
        t.extend_from_slice(b"junk");
        assert!(s.decompress(&t).is_err(), "case {i}: trailing data");
    }
}

/// The output limit holds on the parallel path, and a too-small caller buffer reports the
/// exact size needed.
#[test]
fn limits_hold_on_the_parallel_path() {
    let input = data(3 << 20, 6);
    for format in FORMATS {
        let z = session(format, 1, 4).compress(&input).unwrap();
        let s = Session::new(Config {
            format,
            threads: 2,
            backend: Backend::Software,
            max_output: input.len() as u64 - 1,
            ..Config::default()
        })
        .unwrap();
        assert!(
            matches!(s.decompress(&z), Err(uadk_zip::Error::OutputLimit { .. })),
            "{format}"
        );
        let mut small = vec![0u8; 1000];
        match session(format, 6, 2).decompress_into(&z, &mut small) {
            Err(uadk_zip::Error::OutputTooSmall { needed: Some(n), .. }) => assert_eq!(n, input.len()),
            other => panic!("{format}: {other:?}"),
        }
    }
}

/// A reader that returns its data in pieces ending at the given offsets (then one byte at a
/// time around them), as a pipe or a socket might.
struct Cuts<'a> {
    data: &'a [u8],
    pos: usize,
    cuts: Vec<usize>,
}

impl std::io::Read for Cuts<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let next = self
            .cuts
            .iter()
            .copied()
            .find(|&c| c > self.pos)
            .unwrap_or(self.data.len())
            .min(self.data.len());
        let n = (next - self.pos).min(buf.len());
        buf[..n].copy_from_slice(&self.data[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

fn read_all(s: &Session, r: impl std::io::Read) -> std::io::Result<(Vec<u8>, String)> {
    use std::io::Read;
    let mut d = uadk_zip::Decoder::new(s.decompressor().unwrap(), r);
    let mut out = Vec::new();
    d.read_to_end(&mut out)?;
    Ok((out, d.decompressor().report().reason.clone()))
}

/// The streaming Decoder (what `uadk decompress` uses) decodes indexed members in parallel,
/// with reads split at every block boundary and next to it, members concatenated with plain
/// ones, and a corrupt block is an error.
#[test]
fn decoder_decodes_indexed_members_in_parallel_with_reads_split_at_every_boundary() {
    let input = data(5 << 20, 8);
    for format in FORMATS {
        let z = session(format, 1, 4).compress(&input).unwrap();
        let loc = index::locate(format, &z).unwrap();
        // gzip buffers its header, so any split works; a leading carrier (zlib, raw
        // deflate) is recognised when the read that reaches it holds it whole.
        let mut cuts = if format == Format::Gzip {
            vec![1, 2, 11, 12, 13, loc.data_start]
        } else {
            vec![loc.data_start]
        };
        let mut at = loc.data_start;
        for e in &loc.index.entries {
            at += e.compressed as usize;
            cuts.extend([at - 1, at, at + 1]);
        }
        let s = session(format, 6, 2);
        let (back, reason) = read_all(
            &s,
            Cuts {
                data: &z,
                pos: 0,
                cuts: cuts.clone(),
            },
        )
        .unwrap();
        assert!(back == input, "{format}");
        assert!(reason.contains("decoded in parallel"), "{format}: {reason}");
        // One thread: the ordinary streaming path, same output.
        let (back, reason) = read_all(&session(format, 6, 1), &z[..]).unwrap();
        assert!(back == input && !reason.contains("parallel"), "{format}");
        // A flipped bit in the second block: an error, whatever was handed out before.
        let mut d = z.clone();
        d[loc.data_start + loc.index.entries[0].compressed as usize + 500] ^= 0x20;
        assert!(read_all(&s, &d[..]).is_err(), "{format}: corrupt block");
        // Truncated inside a block and right at a boundary: an error.
        let b = loc.data_start + loc.index.entries[0].compressed as usize;
        assert!(
            read_all(&s, &z[..b]).is_err(),
            "{format}: truncated at a boundary"
        );
        assert!(
            read_all(&s, &z[..z.len() - 1]).is_err(),
            "{format}: truncated trailer"
        );
        // Trailing data after a zlib/deflate stream is an error; gzip needs a member.
        let mut t = z.clone();
        t.extend_from_slice(b"xyz");
        assert!(read_all(&s, &t[..]).is_err(), "{format}: trailing data");
    }
    // gzip: indexed, plain, indexed members through the Decoder.
    let plain = session(Format::Gzip, 6, 1).compress(b"plain member\n").unwrap();
    let z = session(Format::Gzip, 6, 2).compress(&input).unwrap();
    let all = [&z[..], &plain, &z].concat();
    let (back, _) = read_all(
        &session(Format::Gzip, 6, 2),
        Cuts {
            data: &all,
            pos: 0,
            cuts: vec![z.len(), z.len() + 3],
        },
    )
    .unwrap();
    assert!(back == [&input[..], b"plain member\n", &input].concat());
    // The output limit holds.
    let limited = Session::new(Config {
        threads: 2,
        backend: Backend::Software,
        max_output: input.len() as u64 - 1,
        ..Config::default()
    })
    .unwrap();
    assert!(read_all(&limited, &z[..]).is_err());
}

/// The streaming compressor with `stream_index`: its full-flush points become the index at
/// the end of the stream (carrier + empty final block), read by every other reader as a
/// plain stream and by ours in parallel; without full flushes there is nothing to index.
#[test]
fn streams_with_full_flushes_carry_an_index_at_the_end() {
    use std::io::Write as _;
    let input = data(7 << 20, 9);
    for format in FORMATS {
        for level in [1, 6] {
            let what = format!("{format} level {level}");
            let s = Session::new(Config {
                format,
                level,
                backend: Backend::Software,
                stream_index: true,
                ..Config::default()
            })
            .unwrap();
            let mut e = uadk_zip::Encoder::new(s.compressor().unwrap(), Vec::new());
            for (i, part) in input.chunks(700_000).enumerate() {
                e.write_all(part).unwrap();
                if i % 2 == 1 {
                    e.full_flush().unwrap();
                }
            }
            let z = e.finish().unwrap();
            let loc = index::locate(format, &z).unwrap_or_else(|| panic!("{what}: no index"));
            assert!(!loc.index.last_final && loc.index.entries.len() >= 4, "{what}");
            assert!(loc.index.entries[..loc.index.entries.len() - 1]
                .iter()
                .all(|e| e.uncompressed >= 1 << 20));
            assert_eq!(loc.index.total_uncompressed(), input.len() as u64);
            let (back, r) = session(format, 6, 2).decompress_report(&z).unwrap();
            assert!(back == input, "{what}");
            assert!(r.reason.contains("decoded in parallel"), "{what}: {}", r.reason);
            assert!(
                Library::Zlib.decompress(format, &z, 1 << 30).unwrap() == input,
                "{what}"
            );
            assert!(Library::Libdeflate.decompress(format, &z, 1 << 30).unwrap() == input);
            if let Some(p) = python(format, &z) {
                assert!(p == input, "{what}: python");
            }
            if format == Format::Gzip {
                for (tool, args) in [("gzip", &["-dc"][..]), ("libdeflate-gunzip", &["-c"][..])] {
                    if let Some(out) = pipe(tool, args, &z) {
                        assert!(out == input, "{what}: {tool}");
                    }
                }
            }
            // The streaming reader of the same stream: sequential (its index is at the end)
            // unless the caller finds the index in the file first.
            let (back, reason) = read_all(&session(format, 6, 2), &z[..]).unwrap();
            assert!(
                back == input && !reason.contains("block index"),
                "{what}: decoder"
            );
            let loc = index::locate_in_reader(format, &mut std::io::Cursor::new(&z))
                .unwrap()
                .unwrap();
            let d = session(format, 6, 2).decompressor().unwrap().with_index(loc);
            let mut dec = uadk_zip::Decoder::new(d, &z[..]);
            let mut back = Vec::new();
            std::io::Read::read_to_end(&mut dec, &mut back).unwrap();
            assert!(back == input, "{what}: decoder with the index");
            let reason = &dec.decompressor().report().reason;
            assert!(reason.contains("decoded in parallel"), "{what}: {reason}");
        }
        // No full flush, or an empty stream: one piece, no carrier, still a valid stream.
        for len in [0usize, 1000] {
            let mut c = uadk_zip::Compressor::software(format, 6)
                .unwrap()
                .with_block_index();
            let mut z = Vec::new();
            c.compress_vec(&input[..len], &mut z, uadk_zip::Flush::Finish)
                .unwrap();
            assert!(index::locate(format, &z).is_none());
            assert_eq!(
                Library::Zlib.decompress(format, &z, 1 << 20).unwrap(),
                &input[..len]
            );
            assert_eq!(session(format, 6, 2).decompress(&z).unwrap(), &input[..len]);
        }
    }
}

/// Found by the `index` fuzz target: an index claiming a piece of 700 MB made the streaming
/// decoder reserve that much before reading. It now reads what arrives and fails on the
/// truncation; the one-shot path decodes the stream sequentially.
#[test]
fn a_huge_claimed_piece_allocates_nothing_up_front() {
    let input = data(3 << 20, 10);
    for format in FORMATS {
        let z = session(format, 1, 4).compress(&input).unwrap();
        let bad = rewrite_index(format, &z, |i| i.entries[0].compressed = 724_249_586);
        let s = session(format, 6, 2);
        let err = read_all(&s, &bad[..]).unwrap_err();
        assert!(
            err.to_string().contains("truncated") || err.to_string().contains("corrupt"),
            "{format}: {err}"
        );
        match s.decompress(&bad) {
            Ok(v) => assert!(v == input, "{format}"),
            Err(e) => assert!(format == Format::Deflate, "{format}: {e}"),
        }
    }
}

/// Foreign gzip without an index (written by the system gzip, ≥ 8 MiB, one member): block
/// starts found in the data, decoded on every thread with markers for the unknown window,
/// checked by the CRC-32. Damage, several members and truncation: right data or an error.
#[test]
fn foreign_gzip_decodes_speculatively_in_parallel() {
    // Text and random bytes in turns: about 9 MiB of gzip.
    let text = data(8 << 20, 11);
    let mut x = 7u32;
    let mut input = Vec::with_capacity(16 << 20);
    for part in text.chunks(64 * 1024) {
        input.extend_from_slice(part);
        input.extend((0..64 * 1024).map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            (x >> 3) as u8
        }));
    }
    let Some(z) = pipe("gzip", &["-6", "-c"], &input) else {
        return;
    };
    assert!(z.len() >= 8 << 20, "{} bytes", z.len());
    assert!(index::locate(Format::Gzip, &z).is_none());
    let foreign = |threads| {
        let mut c = Config {
            threads,
            backend: Backend::Software,
            ..Config::default()
        };
        c.foreign_parallel = true;
        Session::new(c).unwrap()
    };
    for threads in [2, 3, 4] {
        let (back, r) = foreign(threads).decompress_report(&z).unwrap();
        assert!(back == input, "{threads} threads");
        assert!(r.reason.contains("speculatively"), "{threads}: {}", r.reason);
        let mut buf = vec![0u8; input.len()];
        assert_eq!(
            foreign(threads).decompress_into(&z, &mut buf).unwrap(),
            input.len()
        );
        assert!(buf == input);
    }
    let s = foreign(2);
    // A flipped bit anywhere in the second half: never other data.
    for at in [z.len() / 2 + 3, z.len() / 2 + 5000, z.len() - 100] {
        let mut d = z.clone();
        d[at] ^= 0x04;
        if let Ok(v) = s.decompress(&d) {
            assert!(v == input, "flip at {at}");
        }
    }
    // Two members: the first member's final block ends a chunk early: sequential.
    let two = [&z[..], &z].concat();
    let (back, r) = s.decompress_report(&two).unwrap();
    assert!(back == [&input[..], &input].concat());
    assert!(
        !r.reason.contains("decoded speculatively in parallel on"),
        "{}",
        r.reason
    );
    assert!(s.decompress(&z[..z.len() - 9]).is_err());
    // The default (off) and below 8 MiB: sequential.
    let (_, r) = session(Format::Gzip, 6, 2).decompress_report(&z).unwrap();
    assert!(!r.reason.contains("speculatively"));
    let small = pipe("gzip", &["-6", "-c"], &input[..4 << 20]).unwrap();
    let (back, r) = foreign(2).decompress_report(&small).unwrap();
    assert!(back == input[..4 << 20] && !r.reason.contains("speculatively"));
}
