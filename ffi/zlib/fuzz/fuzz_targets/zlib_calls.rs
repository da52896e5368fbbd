//! Drives libuadk_z's exported zlib functions in random call orders, input splits, output
//! sizes and flush modes, next to the system zlib (dlopen'ed by path), and checks:
//! * deflate (any parameters, flushes, mid-stream deflateParams/deflateCopy/deflatePrime/
//!   deflateReset): the system zlib decodes our output to the input, and invalid parameters
//!   get the same code from both;
//! * inflate of valid, damaged, truncated or padded streams under the same call sequence:
//!   the same return-code class from both (except on a damaged and cut-short stream, where
//!   one may report the damage while the other still waits for the rest of a block header),
//!   and on Z_STREAM_END the same output, end position (unused input) and check value.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::ffi::{c_char, c_int, c_uint};
use std::sync::OnceLock;
use uadk_z::abi::*;
use uadk_z::api;

type Init2 =
    unsafe extern "C" fn(*mut z_stream, c_int, c_int, c_int, c_int, c_int, *const c_char, c_int) -> c_int;
type IInit2 = unsafe extern "C" fn(*mut z_stream, c_int, *const c_char, c_int) -> c_int;
type Call = unsafe extern "C" fn(*mut z_stream, c_int) -> c_int;
type End = unsafe extern "C" fn(*mut z_stream) -> c_int;

struct Sys {
    _lib: libloading::Library,
    deflate_init2: Init2,
    deflate: Call,
    deflate_end: End,
    inflate_init2: IInit2,
    inflate: Call,
    inflate_end: End,
}

fn sys() -> &'static Sys {
    static S: OnceLock<Sys> = OnceLock::new();
    S.get_or_init(|| {
        let triple = format!("{}-linux-gnu", std::env::consts::ARCH);
        let path = [
            format!("/lib/{triple}/libz.so.1"),
            format!("/usr/lib/{triple}/libz.so.1"),
        ]
        .into_iter()
        .find(|p| std::path::Path::new(p).exists())
        .expect("system zlib");
        // SAFETY: the system zlib; symbols have zlib.h's prototypes.
        unsafe {
            let lib = libloading::Library::new(&path).unwrap();
            Sys {
                deflate_init2: *lib.get(b"deflateInit2_\0").unwrap(),
                deflate: *lib.get(b"deflate\0").unwrap(),
                deflate_end: *lib.get(b"deflateEnd\0").unwrap(),
                inflate_init2: *lib.get(b"inflateInit2_\0").unwrap(),
                inflate: *lib.get(b"inflate\0").unwrap(),
                inflate_end: *lib.get(b"inflateEnd\0").unwrap(),
                _lib: lib,
            }
        }
    })
}

const V: *const c_char = c"1.2.13".as_ptr();
fn size() -> c_int {
    std::mem::size_of::<z_stream>() as c_int
}
fn zeroed() -> z_stream {
    // SAFETY: all-zero is a valid uninitialised z_stream.
    unsafe { std::mem::zeroed() }
}

/// Reads fuzz bytes as small numbers.
struct R<'a>(&'a [u8]);
impl R<'_> {
    fn u8(&mut self) -> u8 {
        match self.0.split_first() {
            Some((&b, rest)) => {
                self.0 = rest;
                b
            }
            None => 0,
        }
    }
    fn pick<T: Copy>(&mut self, v: &[T]) -> T {
        v[self.u8() as usize % v.len()]
    }
    fn len(&mut self, max: usize) -> usize {
        let x = (self.u8() as usize) << 8 | self.u8() as usize;
        x % (max + 1)
    }
}

/// Inflates everything with the system zlib (one call, large buffer).
fn sys_inflate(wbits: c_int, z: &[u8], cap: usize) -> (c_int, Vec<u8>) {
    let s = sys();
    let mut st = zeroed();
    let mut out = vec![0u8; cap + 64];
    // SAFETY: zlib's contract.
    unsafe {
        assert_eq!((s.inflate_init2)(&mut st, wbits, V, size()), Z_OK);
        st.next_in = z.as_ptr();
        st.avail_in = z.len() as c_uint;
        st.next_out = out.as_mut_ptr();
        st.avail_out = out.len() as c_uint;
        let rc = (s.inflate)(&mut st, Z_FINISH);
        out.truncate(st.total_out as usize);
        (s.inflate_end)(&mut st);
        (rc, out)
    }
}

fn fuzz_deflate(r: &mut R, data: &[u8]) {
    let level = r.pick(&[-1, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    let wbits = r.pick(&[15, -15, 31, 9, -9, 25, 8, -8, 16, 0]);
    let mem = r.pick(&[8, 9, 1, 5, 0]);
    let strategy = r.pick(&[0, 0, 0, 1, 2, 3, 4, 5]);
    let mut ours = zeroed();
    let mut theirs = zeroed();
    // SAFETY: zlib's contract throughout; buffers outlive the calls.
    unsafe {
        let a = api::deflateInit2_(&mut ours, level, 8, wbits, mem, strategy, V, size());
        let b = (sys().deflate_init2)(&mut theirs, level, 8, wbits, mem, strategy, V, size());
        assert_eq!(a, b, "deflateInit2_({level}, {wbits}, {mem}, {strategy})");
        if a != Z_OK {
            return;
        }
        (sys().deflate_end)(&mut theirs);
        let mut out = Vec::new();
        let mut pos = 0usize;
        let mut copy: Option<Box<z_stream>> = None;
        let mut finished = false;
        for _ in 0..64 {
            let op = r.u8() % 16;
            if op == 13 && !finished {
                let lvl = r.pick(&[0, 1, 3, 6, 9]);
                let st = r.pick(&[0, 1, 2]);
                let mut buf = vec![0u8; 64 << 10];
                ours.next_out = buf.as_mut_ptr();
                ours.avail_out = buf.len() as c_uint;
                ours.avail_in = 0;
                let rc = api::deflateParams(&mut ours, lvl, st);
                assert!(rc == Z_OK || rc == Z_BUF_ERROR, "deflateParams {rc}");
                out.extend_from_slice(&buf[..buf.len() - ours.avail_out as usize]);
                continue;
            }
            if op == 14 && copy.is_none() && !finished {
                let mut c = Box::new(zeroed());
                assert_eq!(api::deflateCopy(&mut *c, &mut ours), Z_OK);
                copy = Some(c);
                continue;
            }
            let n = r.len(data.len() - pos);
            let flush = if pos + n == data.len() && r.u8() % 4 == 0 {
                Z_FINISH
            } else {
                r.pick(&[
                    Z_NO_FLUSH,
                    Z_NO_FLUSH,
                    Z_PARTIAL_FLUSH,
                    Z_SYNC_FLUSH,
                    Z_FULL_FLUSH,
                    Z_BLOCK,
                ])
            };
            let room = r.pick(&[7usize, 8, 100, 4096, 65536]);
            ours.next_in = data.as_ptr().add(pos);
            ours.avail_in = n as c_uint;
            let mut buf = vec![0u8; room];
            loop {
                ours.next_out = buf.as_mut_ptr();
                ours.avail_out = room as c_uint;
                let rc = api::deflate(&mut ours, flush);
                assert!(matches!(rc, Z_OK | Z_STREAM_END | Z_BUF_ERROR), "deflate {rc}");
                out.extend_from_slice(&buf[..room - ours.avail_out as usize]);
                if rc == Z_STREAM_END {
                    finished = true;
                    break;
                }
                if ours.avail_out != 0 || rc == Z_BUF_ERROR {
                    break;
                }
            }
            pos += n - ours.avail_in as usize;
            if finished {
                break;
            }
        }
        if !finished {
            ours.next_in = data.as_ptr().add(pos);
            ours.avail_in = (data.len() - pos) as c_uint;
            let mut buf = vec![0u8; 4096];
            loop {
                ours.next_out = buf.as_mut_ptr();
                ours.avail_out = 4096;
                let rc = api::deflate(&mut ours, Z_FINISH);
                out.extend_from_slice(&buf[..4096 - ours.avail_out as usize]);
                if rc == Z_STREAM_END {
                    break;
                }
                assert!(rc == Z_OK || rc == Z_BUF_ERROR, "finish {rc}");
            }
        }
        assert_eq!(api::deflateEnd(&mut ours), Z_OK);
        if let Some(mut c) = copy {
            api::deflateEnd(&mut *c);
        }
        let iw = if wbits == 0 {
            15
        } else if (8..=15).contains(&wbits) {
            15
        } else if wbits < 0 {
            -15
        } else {
            31
        };
        let (rc, back) = sys_inflate(iw, &out, data.len());
        assert_eq!(
            rc, Z_STREAM_END,
            "system zlib could not decode our stream ({level}/{wbits}/{mem}/{strategy})"
        );
        assert!(back == data, "decoded data differs");
    }
}

struct Outcome {
    rc_class: u8,
    out: Vec<u8>,
    total_in: u64,
    adler: u64,
}

fn run_inflate(ours: bool, wbits: c_int, z: &[u8], plan: &[(usize, usize, c_int)]) -> Outcome {
    let mut st = zeroed();
    let (init, call, end): (IInit2, Call, End) = if ours {
        (api::inflateInit2_, api::inflate, api::inflateEnd)
    } else {
        (sys().inflate_init2, sys().inflate, sys().inflate_end)
    };
    let mut out = Vec::new();
    let mut rc = Z_OK;
    // SAFETY: zlib's contract; buffers outlive the calls.
    unsafe {
        assert_eq!(init(&mut st, wbits, V, size()), Z_OK);
        let mut pos = 0usize;
        for &(take, room, flush) in plan.iter().cycle().take(20_000) {
            let piece = &z[pos..(pos + take).min(z.len())];
            let mut buf = vec![0u8; room];
            st.next_in = piece.as_ptr();
            st.avail_in = piece.len() as c_uint;
            st.next_out = buf.as_mut_ptr();
            st.avail_out = room as c_uint;
            rc = call(&mut st, flush);
            pos += piece.len() - st.avail_in as usize;
            out.extend_from_slice(&buf[..room - st.avail_out as usize]);
            if rc != Z_OK && rc != Z_BUF_ERROR {
                break;
            }
            if pos == z.len() && st.avail_out != 0 {
                break;
            }
        }
        let o = Outcome {
            rc_class: match rc {
                Z_STREAM_END => 1,
                Z_DATA_ERROR | Z_NEED_DICT => 2,
                Z_OK | Z_BUF_ERROR => 0,
                _ => 3,
            },
            out,
            total_in: st.total_in as u64,
            adler: st.adler as u64,
        };
        end(&mut st);
        o
    }
}

fn fuzz_inflate(r: &mut R, tail: &[u8]) {
    let wbits = r.pick(&[15, -15, 31, 47, 0, 9, -9]);
    let mode = r.u8() % 4;
    // A valid stream from the system zlib (from the fuzz bytes), then maybe damaged.
    let plain = &tail[..tail.len() / 2];
    let mut z = if mode == 0 {
        tail.to_vec()
    } else {
        let mut st = zeroed();
        let cw = match wbits {
            47 | 0 => 15,
            9 | -9 => wbits,
            w => w,
        };
        let mut out = vec![0u8; plain.len() * 2 + 128];
        // SAFETY: zlib's contract.
        unsafe {
            (sys().deflate_init2)(&mut st, r.pick(&[1, 6, 9]), 8, cw, 8, 0, V, size());
            st.next_in = plain.as_ptr();
            st.avail_in = plain.len() as c_uint;
            st.next_out = out.as_mut_ptr();
            st.avail_out = out.len() as c_uint;
            assert_eq!((sys().deflate)(&mut st, Z_FINISH), Z_STREAM_END);
            out.truncate(st.total_out as usize);
            (sys().deflate_end)(&mut st);
        }
        out
    };
    match mode {
        2 if !z.is_empty() => {
            let at = r.len(z.len() - 1);
            z[at] ^= r.u8() | 1;
        }
        3 => {
            let cut = r.len(z.len());
            z.truncate(cut);
            z.extend_from_slice(&tail[tail.len() / 2..]);
        }
        _ => {}
    }
    let plan: Vec<(usize, usize, c_int)> = (0..1 + r.u8() % 6)
        .map(|_| {
            (
                1 + r.len(70_000),
                1 + r.len(70_000),
                r.pick(&[Z_NO_FLUSH, Z_NO_FLUSH, Z_SYNC_FLUSH, Z_FINISH]),
            )
        })
        .collect();
    let a = run_inflate(true, wbits, &z, &plan);
    let b = run_inflate(false, wbits, &z, &plan);
    // One accepted difference, both ways: on a damaged stream that is also cut short, one
    // inflater reports the damage while the other still waits for the rest of a block
    // header (all input used): ISA-L checks a dynamic header once it has all of it, zlib
    // code by code. Neither ever accepts the stream.
    let waits = |o: &Outcome| o.rc_class == 0 && o.total_in as usize == z.len();
    let early_error = (a.rc_class == 2 && waits(&b)) || (b.rc_class == 2 && waits(&a));
    if !early_error {
        assert_eq!(
            a.rc_class, b.rc_class,
            "return-code class (wbits {wbits}, mode {mode}, plan {plan:?}, stream {z:02x?}; ours: {} in {} out, system: {} in {} out)",
            a.total_in, a.out.len(), b.total_in, b.out.len()
        );
    }
    if a.rc_class == 1 {
        assert!(a.out == b.out, "outputs differ");
        assert_eq!(a.total_in, b.total_in, "end of stream");
        assert_eq!(a.adler, b.adler, "check value");
    }
}

fuzz_target!(|input: &[u8]| {
    let mut r = R(input);
    let which = r.u8();
    let rest = r.0;
    let mut r = R(rest);
    let data = &rest[rest.len().min(24)..];
    if which % 2 == 0 {
        fuzz_deflate(&mut r, data);
    } else {
        fuzz_inflate(&mut r, data);
    }
});
