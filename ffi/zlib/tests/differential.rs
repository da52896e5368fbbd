//! Our libuadk_z.so against the system zlib, loaded side by side, through the same C entry
//! points: same results call by call where zlib's semantics fix them (inflate outputs, end
//! of stream, unused input, checksums, error codes and messages), and for deflate, whose
//! bytes may differ, output that the system zlib decodes to the input after every flush.

mod common;
use common::*;
use std::ffi::{c_int, c_uint, c_ulong};

const FLUSHES: [c_int; 5] = [Z_NO_FLUSH, Z_PARTIAL_FLUSH, Z_SYNC_FLUSH, Z_FULL_FLUSH, Z_BLOCK];

fn pick(seed: &mut u64, n: usize) -> usize {
    *seed ^= *seed << 13;
    *seed ^= *seed >> 7;
    *seed ^= *seed << 17;
    (*seed % n as u64) as usize
}

fn decode_all(wbits: c_int, z: &[u8]) -> Inflated {
    inflate_with(system(), z, wbits, z.len().max(1), 1 << 20, Z_NO_FLUSH)
}

#[test]
fn deflate_output_decodes_with_zlib_for_every_level_window_and_flush_pattern() {
    let mut seed = 7u64;
    let mut cases = 0;
    for level in [-1, 0, 1, 2, 3, 4, 6, 9] {
        for wbits in [-15, 15, 31, -9, 9, 25] {
            for kind in 0..4u8 {
                let n = [0usize, 1, 1000, 70_000, 300_000][pick(&mut seed, 5)];
                let input = data(kind, n, seed);
                let ichunk = [1usize, 7, 4096, 16384, 1 << 20][pick(&mut seed, 5)].max(n / 2000);
                let ochunk = [1usize, 7, 4096, 32768][pick(&mut seed, 4)].max(n / 4000);
                let flushes: Vec<c_int> = (0..input.len() / ichunk + 1)
                    .map(|_| FLUSHES[pick(&mut seed, FLUSHES.len())])
                    .collect();
                let (z, _codes) = deflate_with(
                    ours(),
                    &input,
                    level,
                    wbits,
                    Z_DEFAULT_STRATEGY,
                    ichunk,
                    ochunk,
                    &flushes,
                );
                let back = decode_all(wbits, &z);
                assert_eq!(
                    back.rc, Z_STREAM_END,
                    "level {level} wbits {wbits} kind {kind} n {n}: {:?}",
                    back.msg
                );
                assert!(
                    back.out == input,
                    "level {level} wbits {wbits} kind {kind} n {n}: output differs"
                );
                assert_eq!(back.left, 0);
                cases += 1;
            }
        }
    }
    assert_eq!(cases, 8 * 6 * 4);
}

#[test]
fn deflate_strategies_and_memlevels_decode() {
    let input = data(3, 200_000, 3);
    for strategy in [Z_DEFAULT_STRATEGY, Z_FILTERED, Z_HUFFMAN_ONLY, 3, Z_FIXED] {
        let (z, _) = deflate_with(ours(), &input, 6, 15, strategy, 16384, 4096, &[]);
        assert_eq!(decode_all(15, &z).out, input, "strategy {strategy}");
    }
}

/// After every sync/full flush all input so far decodes from the output so far.
#[test]
fn sync_flush_points_are_decodable() {
    let input = data(0, 100_000, 11);
    for level in [1, 6] {
        let lib = ours();
        let mut s = new_stream();
        // SAFETY: zlib's contract; buffers outlive the calls.
        unsafe {
            assert_eq!(
                (lib.deflateInit2_)(&mut s, level, 8, -15, 8, 0, VERSION, size()),
                Z_OK
            );
            let mut out = vec![0u8; 200_000];
            let mut produced = 0usize;
            for (i, piece) in input.chunks(10_000).enumerate() {
                s.next_in = piece.as_ptr();
                s.avail_in = piece.len() as c_uint;
                s.next_out = out.as_mut_ptr().add(produced);
                s.avail_out = (out.len() - produced) as c_uint;
                let flush = if i % 2 == 0 { Z_SYNC_FLUSH } else { Z_FULL_FLUSH };
                assert_eq!((lib.deflate)(&mut s, flush), Z_OK);
                produced = s.total_out as usize;
                assert_eq!(&out[produced - 4..produced], &[0, 0, 0xff, 0xff], "sync marker");
                let part = inflate_with(system(), &out[..produced], -15, produced, 1 << 20, Z_SYNC_FLUSH);
                assert_eq!(
                    part.out,
                    &input[..(i + 1) * 10_000],
                    "level {level} after flush {i}"
                );
                // A repeated flush with no new input: zlib's Z_BUF_ERROR.
                s.avail_in = 0;
                assert_eq!((lib.deflate)(&mut s, flush), Z_BUF_ERROR);
            }
            (lib.deflateEnd)(&mut s);
        }
    }
}

/// Inflate: identical output, end-of-stream position, unused input, checksum and final code
/// as the system zlib, for streams from both libraries, under many input/output splits.
#[test]
fn inflate_matches_zlib_call_by_call() {
    let mut seed = 99u64;
    for wbits in [15, -15, 31, 47] {
        for kind in 0..4u8 {
            let input = data(kind, [0usize, 5, 33_000, 250_000][kind as usize], seed);
            let dw = if wbits == 47 { 31 } else { wbits };
            let (zsys, _) = deflate_with(system(), &input, 6, dw, 0, 1 << 20, 1 << 20, &[]);
            let (zour, _) = deflate_with(ours(), &input, 1, dw, 0, 1 << 20, 1 << 20, &[]);
            for z in [zsys, zour] {
                let mut with_tail = z.clone();
                with_tail.extend_from_slice(b"TRAILING GARBAGE");
                for (ichunk, ochunk) in [
                    (1usize, 1usize),
                    (3, 4096),
                    (4096, 1),
                    (z.len(), 4096),
                    (16384, 32768),
                    (z.len() + 16, 1 << 20),
                ] {
                    let ochunk = ochunk.max(input.len() / 5000);
                    for flush in [Z_NO_FLUSH, Z_SYNC_FLUSH] {
                        let a = inflate_with(ours(), &with_tail, wbits, ichunk, ochunk, flush);
                        let b = inflate_with(system(), &with_tail, wbits, ichunk, ochunk, flush);
                        let ctx = format!("wbits {wbits} kind {kind} split {ichunk}/{ochunk}");
                        assert_eq!(a.rc, b.rc, "{ctx}");
                        assert!(a.out == b.out, "{ctx}: outputs differ");
                        assert_eq!(a.total_in, b.total_in, "{ctx}");
                        assert_eq!(a.adler, b.adler, "{ctx}");
                        assert_eq!(a.msg, b.msg, "{ctx}");
                    }
                }
                seed += 1;
            }
        }
    }
}

/// Ceph's pattern: raw, one input, 4 KiB outputs, and one more call after Z_STREAM_END.
#[test]
fn inflate_after_stream_end_keeps_answering_stream_end() {
    let input = data(0, 8192, 5);
    let (z, _) = deflate_with(system(), &input, 5, -15, 0, 1 << 20, 1 << 20, &[]);
    for lib in [ours(), system()] {
        let mut s = new_stream();
        let mut out = vec![0u8; 4096];
        // SAFETY: zlib's contract.
        unsafe {
            (lib.inflateInit2_)(&mut s, -15, VERSION, size());
            s.next_in = z.as_ptr();
            s.avail_in = z.len() as c_uint;
            let mut codes = Vec::new();
            for _ in 0..4 {
                s.next_out = out.as_mut_ptr();
                s.avail_out = 4096;
                codes.push((lib.inflate)(&mut s, Z_NO_FLUSH));
            }
            assert_eq!(
                codes,
                [Z_OK, Z_STREAM_END, Z_STREAM_END, Z_STREAM_END],
                "{}",
                lib.name
            );
            (lib.inflateEnd)(&mut s);
        }
    }
}

/// nginx gunzip's rule: Z_BUF_ERROR when no progress is possible.
#[test]
fn inflate_buf_error_rules_match() {
    let input = data(0, 50_000, 8);
    let (z, _) = deflate_with(system(), &input, 6, 31, 0, 1 << 20, 1 << 20, &[]);
    for lib in [ours(), system()] {
        let mut s = new_stream();
        let mut out = vec![0u8; 1 << 20];
        // SAFETY: zlib's contract.
        unsafe {
            (lib.inflateInit2_)(&mut s, 31, VERSION, size());
            s.next_out = out.as_mut_ptr();
            s.avail_out = out.len() as c_uint;
            s.avail_in = 0;
            assert_eq!(
                (lib.inflate)(&mut s, Z_NO_FLUSH),
                Z_BUF_ERROR,
                "{}: no input",
                lib.name
            );
            s.next_in = z.as_ptr();
            s.avail_in = (z.len() / 2) as c_uint;
            assert_eq!(
                (lib.inflate)(&mut s, Z_FINISH),
                Z_BUF_ERROR,
                "{}: Z_FINISH short",
                lib.name
            );
            s.avail_out = 0;
            s.avail_in = (z.len() - z.len() / 2) as c_uint;
            // zlib may still consume input (block headers) without output space.
            let rc = (lib.inflate)(&mut s, Z_NO_FLUSH);
            assert!(
                rc == Z_OK || rc == Z_BUF_ERROR,
                "{}: no output space: {rc}",
                lib.name
            );
            s.avail_out = (out.len() - s.total_out as usize) as c_uint;
            assert_eq!((lib.inflate)(&mut s, Z_NO_FLUSH), Z_STREAM_END, "{}", lib.name);
            (lib.inflateEnd)(&mut s);
        }
    }
}

/// Bad input classes: zlib's code (and message, for header/trailer damage) every time.
#[test]
fn bad_input_gets_zlibs_codes() {
    let input = data(3, 40_000, 21);
    let mut seed = 5u64;
    for wbits in [15, 31, -15, 47] {
        let dw = if wbits == 47 { 15 } else { wbits };
        let (z, _) = deflate_with(system(), &input, 6, dw, 0, 1 << 20, 1 << 20, &[]);
        let mut variants: Vec<(String, Vec<u8>)> = vec![
            ("truncated".into(), z[..z.len() / 2].to_vec()),
            ("truncated-1".into(), z[..z.len() - 1].to_vec()),
            ("empty".into(), Vec::new()),
            ("garbage".into(), data(1, 300, 3)),
        ];
        if wbits > 0 {
            let mut bad_check = z.clone();
            let n = bad_check.len();
            bad_check[n - 5] ^= 0x40;
            variants.push(("bad trailer".into(), bad_check));
            let mut bad_head = z.clone();
            bad_head[1] ^= 0x01;
            variants.push(("bad header".into(), bad_head));
        }
        for i in 0..40 {
            let mut c = z.clone();
            let at = 2 + pick(&mut seed, c.len() - 2);
            c[at] ^= 1 << pick(&mut seed, 8);
            variants.push((format!("bit flip {i} at {at}"), c));
        }
        for (what, v) in variants {
            for (ichunk, ochunk) in [(v.len().max(1), 1 << 20), (64, 1000)] {
                let a = inflate_with(ours(), &v, wbits, ichunk, ochunk, Z_NO_FLUSH);
                let b = inflate_with(system(), &v, wbits, ichunk, ochunk, Z_NO_FLUSH);
                let ctx = format!("wbits {wbits} {what} split {ichunk}/{ochunk}");
                assert_eq!(
                    a.rc == Z_DATA_ERROR,
                    b.rc == Z_DATA_ERROR,
                    "{ctx}: {:?} vs {:?} ({:?}/{:?})",
                    a.rc,
                    b.rc,
                    a.msg,
                    b.msg
                );
                assert_eq!(a.rc == Z_STREAM_END, b.rc == Z_STREAM_END, "{ctx}");
                if a.rc == Z_STREAM_END || what.contains("trailer") || what.contains("header") {
                    assert_eq!(a.msg, b.msg, "{ctx}");
                    assert_eq!(a.out, b.out, "{ctx}");
                }
                if a.rc == Z_DATA_ERROR {
                    assert!(a.msg.is_some(), "{ctx}: msg set on Z_DATA_ERROR");
                }
            }
        }
    }
}

/// Null, never-initialised, ended and cross-direction streams; bad versions and sizes;
/// invalid parameters: the same codes as zlib, never a crash.
#[test]
fn bad_calls_get_zlibs_codes() {
    for lib in [ours(), system()] {
        let n = lib.name;
        // SAFETY: every pointer is null or a valid stream; that is what is being tested.
        unsafe {
            let null = std::ptr::null_mut();
            assert_eq!((lib.deflate)(null, Z_NO_FLUSH), Z_STREAM_ERROR, "{n}");
            assert_eq!((lib.inflate)(null, Z_NO_FLUSH), Z_STREAM_ERROR, "{n}");
            assert_eq!((lib.deflateEnd)(null), Z_STREAM_ERROR, "{n}");
            assert_eq!((lib.inflateEnd)(null), Z_STREAM_ERROR, "{n}");
            assert_eq!(
                (lib.deflateInit_)(null, 6, VERSION, size()),
                Z_STREAM_ERROR,
                "{n}"
            );
            let mut zeroed = new_stream();
            assert_eq!((lib.deflate)(&mut zeroed, Z_NO_FLUSH), Z_STREAM_ERROR, "{n}");
            assert_eq!((lib.inflate)(&mut zeroed, Z_NO_FLUSH), Z_STREAM_ERROR, "{n}");
            assert_eq!(
                (lib.inflateInit_)(&mut zeroed, c"2.0".as_ptr(), size()),
                Z_VERSION_ERROR,
                "{n}"
            );
            assert_eq!(
                (lib.inflateInit_)(&mut zeroed, VERSION, size() - 8),
                Z_VERSION_ERROR,
                "{n}"
            );
            assert_eq!(
                (lib.deflateInit_)(&mut zeroed, 6, std::ptr::null(), size()),
                Z_VERSION_ERROR,
                "{n}"
            );
            for (level, method, wbits, mem, strat) in [
                (10, 8, 15, 8, 0),
                (6, 9, 15, 8, 0),
                (6, 8, 16, 8, 0),
                (6, 8, 7, 8, 0),
                (6, 8, -8, 8, 0),
                (6, 8, 15, 0, 0),
                (6, 8, 15, 10, 0),
                (6, 8, 15, 8, 5),
                (6, 8, 15, 8, -1),
                (-2, 8, 15, 8, 0),
            ] {
                let mut s = new_stream();
                assert_eq!(
                    (lib.deflateInit2_)(&mut s, level, method, wbits, mem, strat, VERSION, size()),
                    Z_STREAM_ERROR,
                    "{n}: {level} {method} {wbits} {mem} {strat}"
                );
            }
            for wbits in [7, -7, -16, 16 + 7, 48 + 15, 100] {
                let mut s = new_stream();
                assert_eq!(
                    (lib.inflateInit2_)(&mut s, wbits, VERSION, size()),
                    Z_STREAM_ERROR,
                    "{n}: inflate wbits {wbits}"
                );
            }
            // Ended streams and the other direction.
            let mut d = new_stream();
            assert_eq!((lib.deflateInit_)(&mut d, 6, VERSION, size()), Z_OK);
            assert_eq!(
                (lib.inflate)(&mut d, Z_NO_FLUSH),
                Z_STREAM_ERROR,
                "{n}: inflate on a deflate stream"
            );
            assert_eq!((lib.deflate)(&mut d, 7), Z_STREAM_ERROR, "{n}: bad flush");
            assert_eq!((lib.deflate)(&mut d, -1), Z_STREAM_ERROR, "{n}: bad flush");
            let mut out = [0u8; 64];
            d.next_out = out.as_mut_ptr();
            d.avail_out = 0;
            assert_eq!(
                (lib.deflate)(&mut d, Z_FINISH),
                Z_BUF_ERROR,
                "{n}: no output space"
            );
            d.next_out = std::ptr::null_mut();
            d.avail_out = 64;
            assert_eq!(
                (lib.deflate)(&mut d, Z_FINISH),
                Z_STREAM_ERROR,
                "{n}: null next_out"
            );
            assert_eq!((lib.deflateEnd)(&mut d), Z_OK, "{n}");
            assert_eq!((lib.deflateEnd)(&mut d), Z_STREAM_ERROR, "{n}: double end");
            assert_eq!((lib.deflate)(&mut d, Z_FINISH), Z_STREAM_ERROR, "{n}: after end");
            let mut i = new_stream();
            assert_eq!((lib.inflateInit_)(&mut i, VERSION, size()), Z_OK);
            assert_eq!(
                (lib.deflate)(&mut i, Z_NO_FLUSH),
                Z_STREAM_ERROR,
                "{n}: deflate on an inflate stream"
            );
            // A stream moved by memcpy is not the stream that was initialised.
            let mut moved = Box::new(i);
            assert_eq!(
                (lib.inflate)(&mut *moved, Z_NO_FLUSH),
                Z_STREAM_ERROR,
                "{n}: moved stream"
            );
            assert_eq!((lib.inflateEnd)(&mut i), Z_OK);
            assert_eq!((lib.inflateEnd)(&mut i), Z_STREAM_ERROR, "{n}");
            // deflateEnd before the end of the data: Z_DATA_ERROR.
            let mut d = new_stream();
            (lib.deflateInit_)(&mut d, 6, VERSION, size());
            let src = [1u8; 100];
            d.next_in = src.as_ptr();
            d.avail_in = 100;
            d.next_out = out.as_mut_ptr();
            d.avail_out = 64;
            assert_eq!((lib.deflate)(&mut d, Z_NO_FLUSH), Z_OK);
            assert_eq!((lib.deflateEnd)(&mut d), Z_DATA_ERROR, "{n}: discarded data");
        }
    }
}

#[test]
fn one_shot_calls_match_zlib() {
    for n in [0usize, 1, 100, 65536, 1 << 20] {
        let input = data(3, n, n as u64);
        for level in [-1, 0, 1, 6, 9] {
            for lib in [ours(), system()] {
                // SAFETY: buffers valid for the lengths passed.
                unsafe {
                    let bound = (lib.compressBound)(n as c_ulong);
                    assert_eq!(bound, (system().compressBound)(n as c_ulong));
                    let mut z = vec![0u8; bound as usize];
                    let mut zl = bound;
                    assert_eq!(
                        (lib.compress2)(z.as_mut_ptr(), &mut zl, input.as_ptr(), n as c_ulong, level),
                        Z_OK,
                        "{} n {n} level {level}",
                        lib.name
                    );
                    z.truncate(zl as usize);
                    for other in [ours(), system()] {
                        let mut out = vec![0u8; n + 1];
                        let mut ol = out.len() as c_ulong;
                        let mut sl = z.len() as c_ulong;
                        assert_eq!(
                            (other.uncompress2)(out.as_mut_ptr(), &mut ol, z.as_ptr(), &mut sl),
                            Z_OK
                        );
                        assert_eq!(ol as usize, n);
                        assert_eq!(sl as usize, z.len());
                        assert!(out[..n] == input[..]);
                    }
                }
            }
        }
        if n >= 100 {
            // Short output, corrupt input, trailing bytes: zlib's codes and lengths.
            let (z, _) = deflate_with(system(), &input, 6, 15, 0, 1 << 20, 1 << 20, &[]);
            let mut z_tail = z.clone();
            z_tail.extend_from_slice(b"tail");
            let mut z_bad = z.clone();
            z_bad[z.len() / 2] ^= 0x55;
            for (what, src, cap) in [
                ("short", &z, n / 2),
                ("tail", &z_tail, n),
                ("bad", &z_bad, n),
                ("truncated", &z[..z.len() - 3].to_vec(), n),
            ] {
                let run = |lib: &Lib| {
                    let mut out = vec![0u8; cap.max(1)];
                    let mut ol = cap as c_ulong;
                    let mut sl = src.len() as c_ulong;
                    // SAFETY: buffers valid for the lengths passed.
                    let rc = unsafe { (lib.uncompress2)(out.as_mut_ptr(), &mut ol, src.as_ptr(), &mut sl) };
                    (rc, ol, sl)
                };
                assert_eq!(run(ours()), run(system()), "uncompress2 {what} n {n}");
            }
            let run = |lib: &Lib| {
                let mut out = vec![0u8; 10];
                let mut ol: c_ulong = 10;
                // SAFETY: buffers valid for the lengths passed.
                let rc =
                    unsafe { (lib.compress2)(out.as_mut_ptr(), &mut ol, input.as_ptr(), n as c_ulong, 6) };
                (rc, ol)
            };
            assert_eq!(run(ours()).0, run(system()).0, "compress2 into 10 bytes");
        }
    }
}

#[test]
fn checksums_and_tables_match() {
    let d = data(3, 100_000, 1);
    let (o, s) = (ours(), system());
    // SAFETY: valid buffers; null is allowed by zlib for the initial values.
    unsafe {
        for n in [0usize, 1, 31, 1000, 100_000] {
            assert_eq!(
                (o.crc32)(7, d.as_ptr(), n as c_uint),
                (s.crc32)(7, d.as_ptr(), n as c_uint)
            );
            assert_eq!(
                (o.adler32)(7, d.as_ptr(), n as c_uint),
                (s.adler32)(7, d.as_ptr(), n as c_uint)
            );
            assert_eq!((o.crc32_z)(1, d.as_ptr(), n), (s.crc32_z)(1, d.as_ptr(), n));
            assert_eq!((o.adler32_z)(1, d.as_ptr(), n), (s.adler32_z)(1, d.as_ptr(), n));
        }
        assert_eq!(
            (o.crc32)(0, std::ptr::null(), 0),
            (s.crc32)(0, std::ptr::null(), 0)
        );
        assert_eq!(
            (o.adler32)(0, std::ptr::null(), 0),
            (s.adler32)(0, std::ptr::null(), 0)
        );
        assert_eq!(
            (o.crc32_combine)(0x1234, 0x5678, 999),
            (s.crc32_combine)(0x1234, 0x5678, 999)
        );
        assert_eq!(
            (o.adler32_combine)(0x1234, 0x5678, 999),
            (s.adler32_combine)(0x1234, 0x5678, 999)
        );
        assert_eq!(
            std::slice::from_raw_parts((o.get_crc_table)(), 256),
            std::slice::from_raw_parts((s.get_crc_table)(), 256)
        );
        for code in -6..=2 {
            let a = std::ffi::CStr::from_ptr((o.zError)(code));
            let b = std::ffi::CStr::from_ptr((s.zError)(code));
            assert_eq!(a, b, "zError({code})");
        }
        assert_eq!((o.zlibCompileFlags)() & 0xff, (s.zlibCompileFlags)() & 0xff);
        assert_eq!(
            std::ffi::CStr::from_ptr((o.zlibVersion)()),
            std::ffi::CStr::from_ptr((s.zlibVersion)())
        );
    }
}

/// A single Z_FINISH call with deflateBound bytes of output completes, as zlib promises.
#[test]
fn deflate_bound_holds_for_single_finish_calls() {
    for kind in 0..4u8 {
        for n in [0usize, 10, 5000, 200_000] {
            let input = data(kind, n, 3);
            for (level, wbits, mem) in [
                (1, 15, 8),
                (6, 15, 8),
                (9, 31, 8),
                (6, -15, 9),
                (3, 9, 8),
                (6, 15, 1),
            ] {
                for lib in [ours(), system()] {
                    let mut s = new_stream();
                    // SAFETY: zlib's contract.
                    unsafe {
                        (lib.deflateInit2_)(&mut s, level, 8, wbits, mem, 0, VERSION, size());
                        let bound = (lib.deflateBound)(&mut s, n as c_ulong);
                        let mut out = vec![0u8; bound as usize];
                        s.next_in = input.as_ptr();
                        s.avail_in = n as c_uint;
                        s.next_out = out.as_mut_ptr();
                        s.avail_out = bound as c_uint;
                        assert_eq!(
                            (lib.deflate)(&mut s, Z_FINISH),
                            Z_STREAM_END,
                            "{} kind {kind} n {n} {level}/{wbits}/{mem}",
                            lib.name
                        );
                        (lib.deflateEnd)(&mut s);
                    }
                }
            }
        }
    }
}

#[test]
fn dictionaries_round_trip_both_ways() {
    let dict = b"device queue stream zlib data";
    let input = data(0, 30_000, 4);
    for (a, b) in [(ours(), system()), (system(), ours()), (ours(), ours())] {
        for wbits in [15, -15] {
            // SAFETY: zlib's contract.
            unsafe {
                let mut d = new_stream();
                (a.deflateInit2_)(&mut d, 6, 8, wbits, 8, 0, VERSION, size());
                assert_eq!(
                    (a.deflateSetDictionary)(&mut d, dict.as_ptr(), dict.len() as c_uint),
                    Z_OK
                );
                let dict_id = d.adler;
                let mut z = vec![0u8; 40_000];
                d.next_in = input.as_ptr();
                d.avail_in = input.len() as c_uint;
                d.next_out = z.as_mut_ptr();
                d.avail_out = z.len() as c_uint;
                assert_eq!((a.deflate)(&mut d, Z_FINISH), Z_STREAM_END);
                z.truncate(d.total_out as usize);
                (a.deflateEnd)(&mut d);
                let mut i = new_stream();
                (b.inflateInit2_)(&mut i, wbits, VERSION, size());
                let mut out = vec![0u8; 40_000];
                i.next_in = z.as_ptr();
                i.avail_in = z.len() as c_uint;
                i.next_out = out.as_mut_ptr();
                i.avail_out = out.len() as c_uint;
                if wbits > 0 {
                    assert_eq!(
                        (b.inflate)(&mut i, Z_NO_FLUSH),
                        Z_NEED_DICT,
                        "{} -> {}",
                        a.name,
                        b.name
                    );
                    assert_eq!(i.adler, dict_id);
                } else {
                    assert_eq!(
                        (b.inflateSetDictionary)(&mut i, dict.as_ptr(), dict.len() as c_uint),
                        Z_OK
                    );
                }
                if wbits > 0 {
                    assert_eq!(
                        (b.inflateSetDictionary)(&mut i, dict.as_ptr(), dict.len() as c_uint),
                        Z_OK
                    );
                }
                assert_eq!(
                    (b.inflate)(&mut i, Z_NO_FLUSH),
                    Z_STREAM_END,
                    "{} -> {}",
                    a.name,
                    b.name
                );
                assert!(out[..i.total_out as usize] == input[..]);
                (b.inflateEnd)(&mut i);
            }
        }
    }
}

#[test]
fn gzip_headers_round_trip_both_ways() {
    let input = data(0, 10_000, 6);
    for (a, b) in [(ours(), system()), (system(), ours())] {
        // SAFETY: zlib's contract; header strings outlive the calls.
        unsafe {
            let mut h: gz_header = std::mem::zeroed();
            h.text = 1;
            h.time = 12345;
            h.os = 3;
            h.name = c"file.txt".as_ptr().cast_mut().cast();
            h.comment = c"a comment".as_ptr().cast_mut().cast();
            h.hcrc = 1;
            let mut d = new_stream();
            (a.deflateInit2_)(&mut d, 6, 8, 31, 8, 0, VERSION, size());
            assert_eq!((a.deflateSetHeader)(&mut d, &mut h), Z_OK);
            let mut z = vec![0u8; 20_000];
            d.next_in = input.as_ptr();
            d.avail_in = input.len() as c_uint;
            d.next_out = z.as_mut_ptr();
            d.avail_out = z.len() as c_uint;
            assert_eq!((a.deflate)(&mut d, Z_FINISH), Z_STREAM_END);
            z.truncate(d.total_out as usize);
            (a.deflateEnd)(&mut d);
            let mut got: gz_header = std::mem::zeroed();
            let mut name = [0u8; 64];
            let mut comment = [0u8; 64];
            got.name = name.as_mut_ptr();
            got.name_max = 64;
            got.comment = comment.as_mut_ptr();
            got.comm_max = 64;
            let mut i = new_stream();
            (b.inflateInit2_)(&mut i, 47, VERSION, size());
            assert_eq!((b.inflateGetHeader)(&mut i, &mut got), Z_OK);
            let mut out = vec![0u8; 20_000];
            i.next_in = z.as_ptr();
            i.avail_in = z.len() as c_uint;
            i.next_out = out.as_mut_ptr();
            i.avail_out = out.len() as c_uint;
            assert_eq!((b.inflate)(&mut i, Z_NO_FLUSH), Z_STREAM_END);
            assert_eq!(got.done, 1);
            assert_eq!(got.time, 12345);
            assert_eq!(&name[..9], b"file.txt\0");
            assert_eq!(&comment[..10], b"a comment\0");
            assert!(out[..i.total_out as usize] == input[..]);
            (b.inflateEnd)(&mut i);
        }
    }
}

/// deflateParams, deflatePrime, deflateCopy and deflatePending mid-stream on a fast stream.
#[test]
fn mid_stream_deflate_calls_keep_a_valid_stream() {
    let input = data(3, 300_000, 12);
    let lib = ours();
    // SAFETY: zlib's contract.
    unsafe {
        let mut s = new_stream();
        (lib.deflateInit2_)(&mut s, 1, 8, 15, 8, 0, VERSION, size());
        let mut z = vec![0u8; 400_000];
        let zp = z.as_mut_ptr();
        let zlen = z.len();
        let feed = |s: &mut Stream, part: &[u8], flush: c_int| {
            s.next_in = part.as_ptr();
            s.avail_in = part.len() as c_uint;
            s.next_out = zp.add(s.total_out as usize);
            s.avail_out = (zlen - s.total_out as usize) as c_uint;
            (lib.deflate)(s, flush)
        };
        assert_eq!(feed(&mut s, &input[..100_000], Z_NO_FLUSH), Z_OK);
        s.next_out = zp.add(s.total_out as usize);
        s.avail_out = (zlen - s.total_out as usize) as c_uint;
        assert_eq!((lib.deflateParams)(&mut s, 9, Z_FILTERED), Z_OK);
        assert_eq!(feed(&mut s, &input[100_000..200_000], Z_NO_FLUSH), Z_OK);
        let (mut pending, mut bits) = (0 as c_uint, 0);
        assert_eq!((lib.deflatePending)(&mut s, &mut pending, &mut bits), Z_OK);
        let mut copy = new_stream();
        assert_eq!((lib.deflateCopy)(&mut copy, &mut s), Z_OK);
        assert_eq!((lib.deflateEnd)(&mut copy), Z_DATA_ERROR);
        assert_eq!((lib.deflateParams)(&mut s, 0, Z_DEFAULT_STRATEGY), Z_OK);
        assert_eq!(feed(&mut s, &input[200_000..], Z_FINISH), Z_STREAM_END);
        let n = s.total_out as usize;
        assert_eq!((lib.deflateEnd)(&mut s), Z_OK);
        let back = inflate_with(system(), &z[..n], 15, n, 1 << 20, Z_NO_FLUSH);
        assert_eq!(back.rc, Z_STREAM_END);
        assert!(back.out == input);
    }
}

/// inflateCopy in the middle of a fast (ISA-L) body: both copies finish identically.
#[test]
fn inflate_copy_mid_body() {
    let input = data(0, 200_000, 13);
    let (z, _) = deflate_with(system(), &input, 6, 31, 0, 1 << 20, 1 << 20, &[]);
    let lib = ours();
    // SAFETY: zlib's contract.
    unsafe {
        let mut s = new_stream();
        (lib.inflateInit2_)(&mut s, 31, VERSION, size());
        let mut out = vec![0u8; 300_000];
        s.next_in = z.as_ptr();
        s.avail_in = (z.len() / 2) as c_uint;
        s.next_out = out.as_mut_ptr();
        s.avail_out = out.len() as c_uint;
        assert_eq!((lib.inflate)(&mut s, Z_NO_FLUSH), Z_OK);
        let mut c = new_stream();
        assert_eq!((lib.inflateCopy)(&mut c, &mut s), Z_OK);
        let mut out2 = out.clone();
        for (st, buf) in [(&mut s, &mut out), (&mut c, &mut out2)] {
            let done = st.total_in as usize;
            st.next_in = z.as_ptr().add(done);
            st.avail_in = (z.len() - done) as c_uint;
            st.next_out = buf.as_mut_ptr().add(st.total_out as usize);
            st.avail_out = (buf.len() - st.total_out as usize) as c_uint;
            assert_eq!((lib.inflate)(st, Z_NO_FLUSH), Z_STREAM_END);
            assert!(buf[..input.len()] == input[..]);
            assert_eq!((lib.inflateEnd)(st), Z_OK);
        }
    }
}

/// Z_BLOCK inflate (zran's pattern) runs natively: data_type reports block boundaries.
#[test]
fn inflate_z_block_reports_block_boundaries_like_zlib() {
    let input = data(3, 100_000, 2);
    let (z, _) = deflate_with(system(), &input, 6, -15, 0, 10_000, 1 << 20, &[Z_FULL_FLUSH; 100]);
    let trace = |lib: &Lib| {
        let mut s = new_stream();
        let mut out = vec![0u8; 200_000];
        let mut v = Vec::new();
        // SAFETY: zlib's contract.
        unsafe {
            (lib.inflateInit2_)(&mut s, -15, VERSION, size());
            s.next_in = z.as_ptr();
            s.avail_in = z.len() as c_uint;
            s.next_out = out.as_mut_ptr();
            s.avail_out = out.len() as c_uint;
            loop {
                let rc = (lib.inflate)(&mut s, Z_BLOCK);
                v.push((rc, s.total_in, s.total_out, s.data_type));
                if rc != Z_OK {
                    break;
                }
            }
            (lib.inflateEnd)(&mut s);
        }
        v
    };
    assert_eq!(trace(ours()), trace(system()));
}

#[test]
fn gz_files_interoperate_and_gzprintf_formats() {
    let dir = std::env::temp_dir().join(format!("uadk-z-gz-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for (w, r) in [(ours(), system()), (system(), ours())] {
        let path = std::ffi::CString::new(dir.join(format!("{}.gz", w.name)).to_str().unwrap()).unwrap();
        // SAFETY: zlib's contract; strings are NUL-terminated.
        unsafe {
            let f = (w.gzopen)(path.as_ptr(), c"wb6".as_ptr());
            assert!(!f.is_null());
            let body = data(0, 50_000, 1);
            assert_eq!(
                (w.gzwrite)(f, body.as_ptr().cast(), body.len() as c_uint),
                body.len() as c_int
            );
            let n = (w.gzprintf)(
                f,
                c"%s=%d %.2f\n".as_ptr(),
                c"answer".as_ptr(),
                42 as c_int,
                2.5f64,
            );
            assert_eq!(n, 15, "{}", w.name);
            assert_eq!((w.gzclose)(f), Z_OK);
            let f = (r.gzopen)(path.as_ptr(), c"rb".as_ptr());
            let mut back = vec![0u8; 50_000];
            assert_eq!((r.gzread)(f, back.as_mut_ptr().cast(), 50_000), 50_000);
            assert!(back == body);
            let mut line = [0 as std::ffi::c_char; 64];
            assert!(!(r.gzgets)(f, line.as_mut_ptr(), 64).is_null());
            assert_eq!(std::ffi::CStr::from_ptr(line.as_ptr()), c"answer=42 2.50\n");
            assert_eq!((r.gzclose)(f), Z_OK);
        }
    }
    std::fs::remove_dir_all(&dir).ok();
}

/// zlib leaves `strm->adler` alone on raw streams, whatever the window (fuzz finding: the
/// zlib-rs path set it to 1).
#[test]
fn raw_inflate_leaves_adler_alone() {
    for wbits in [-9, -15] {
        let (z, _) = deflate_with(system(), b"", 6, wbits, 0, 1, 1 << 10, &[]);
        let a = inflate_with(ours(), &z, wbits, z.len(), 1 << 10, Z_NO_FLUSH);
        let b = inflate_with(system(), &z, wbits, z.len(), 1 << 10, Z_NO_FLUSH);
        assert_eq!((a.rc, a.adler), (b.rc, b.adler), "wbits {wbits}");
    }
}
