//! The ZIP device model end to end: real SQEs through `uadk-core` queues against an
//! in-process emulator with a `hisi_qm_v2` and a `hisi_qm_v3` ZIP device; outputs checked
//! with an independent codec (flate2 on zlib-rs, not the device's miniz_oxide).
//!
//! The SQE builders here are the device-side view of what a driver must write (§6.1):
//! dw4 input length, dw7 flags + SQE type, dw9 request type + window, dw14 output capacity,
//! dw18/dw20 addresses, dw22 stream context; the tag is filled by the queue.

use std::io::{Read, Write};
use std::path::PathBuf;

use uadk_core::discovery::{scan, Device};
use uadk_core::qm::{QueueOptions, QueuePair, Sqe, TagField};
use uadk_core::request::WaitPolicy;
use uadk_emu::zip::{self, sqe as f};
use uadk_emu::{DeviceKind, DeviceSpec, EmuConfig, Emulator};

const ZLIB_HEADER: [u8; 2] = [0x78, 0x9c];
const GZIP_HEADER: [u8; 10] = [0x1f, 0x8b, 0x08, 0, 0, 0, 0, 0, 0, 0x03];

struct Env {
    _emu: Emulator,
    dir: PathBuf,
    devs: Vec<Device>,
}

impl Drop for Env {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn env(tag: &str) -> Env {
    let dir = std::env::temp_dir().join(format!("uadk-emu-zipe-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let cfg = EmuConfig {
        devices: vec![
            DeviceSpec::new(DeviceKind::Zip, 2),
            DeviceSpec::new(DeviceKind::Zip, 3),
        ],
        first_id: 0,
    };
    let emu = Emulator::start(&dir, &cfg).unwrap();
    let devs = scan(&emu.roots()).devices;
    assert_eq!(devs.len(), 2);
    Env { _emu: emu, dir, devs }
}

impl Env {
    fn dev(&self, version: u32) -> &Device {
        self.devs.iter().find(|d| d.qm_version == Some(version)).unwrap()
    }

    fn queue(&self, version: u32, qc_type: u16) -> QueuePair {
        let tag = if version >= 3 {
            TagField::ZIP_V3
        } else {
            TagField::ZIP_V2
        };
        QueuePair::open(
            self.dev(version),
            QueueOptions {
                qc_type,
                tag,
                ..Default::default()
            },
        )
        .unwrap()
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Alg {
    Deflate,
    Zlib,
    Gzip,
}

impl Alg {
    fn code(self) -> u8 {
        match self {
            Alg::Deflate => f::HW_DEFLATE,
            Alg::Zlib => f::HW_ZLIB,
            Alg::Gzip => f::HW_GZIP,
        }
    }
    fn header(self) -> &'static [u8] {
        match self {
            Alg::Deflate => &[],
            Alg::Zlib => &ZLIB_HEADER,
            Alg::Gzip => &GZIP_HEADER,
        }
    }
    /// Header length the driver's own encoder output carries (flate2 gzip writes 10 bytes).
    fn skip(self) -> usize {
        self.header().len()
    }
}

/// The SQE type a driver must use on this QM version (§6.3).
fn sqe_type(version: u32) -> u32 {
    if version >= 3 {
        f::SQE_TYPE_3 as u32
    } else {
        f::SQE_TYPE_0 as u32
    }
}

#[allow(clippy::too_many_arguments)]
fn build(
    version: u32,
    alg: u8,
    src: u64,
    in_len: u32,
    dst: u64,
    avail: u32,
    dw7_flags: u32,
    window: u8,
) -> Sqe {
    let mut s = Sqe::zeroed();
    s.set_u32(f::OFF_INPUT_LENGTH, in_len);
    s.set_u32(
        f::OFF_DW7,
        dw7_flags | (sqe_type(version) << f::DW7_SQE_TYPE_SHIFT),
    );
    s.set_u32(f::OFF_DW9, alg as u32 | (window as u32) << 12);
    s.set_u32(f::OFF_DEST_AVAIL_OUT, avail);
    s.set_u64(f::OFF_SOURCE_ADDR, src);
    s.set_u64(f::OFF_DEST_ADDR, dst);
    s
}

fn submit(q: &QueuePair, s: &Sqe) -> Sqe {
    // SAFETY: every buffer a test SQE names lives until this synchronous call returns.
    unsafe { q.submit_sync(s, &WaitPolicy::default()) }.unwrap()
}

fn status(s: &Sqe) -> u8 {
    (s.u32(f::OFF_DW3) & f::DW3_STATUS_MASK) as u8
}

fn last(s: &Sqe) -> bool {
    s.u32(f::OFF_DW3) & f::DW3_LAST_BLOCK != 0
}

fn sample(len: usize, seed: u32) -> Vec<u8> {
    // Compressible text-like data with some noise.
    let mut x = seed.wrapping_mul(2_654_435_761).wrapping_add(1);
    (0..len)
        .map(|i| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            if x.is_multiple_of(7) {
                (x >> 8) as u8
            } else {
                b"the quick brown fox jumps over the lazy dog "[i % 44]
            }
        })
        .collect()
}

fn noise(len: usize, seed: u32) -> Vec<u8> {
    let mut x = seed | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            (x >> 3) as u8
        })
        .collect()
}

fn reference_decode(alg: Alg, data: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut out = Vec::new();
    match alg {
        Alg::Deflate => flate2::read::DeflateDecoder::new(data).read_to_end(&mut out),
        Alg::Zlib => flate2::read::ZlibDecoder::new(data).read_to_end(&mut out),
        Alg::Gzip => flate2::read::GzDecoder::new(data).read_to_end(&mut out),
    }?;
    Ok(out)
}

fn reference_encode(alg: Alg, data: &[u8]) -> Vec<u8> {
    let l = flate2::Compression::new(6);
    match alg {
        Alg::Deflate => {
            let mut e = flate2::write::DeflateEncoder::new(Vec::new(), l);
            e.write_all(data).unwrap();
            e.finish().unwrap()
        }
        Alg::Zlib => {
            let mut e = flate2::write::ZlibEncoder::new(Vec::new(), l);
            e.write_all(data).unwrap();
            e.finish().unwrap()
        }
        Alg::Gzip => {
            let mut e = flate2::write::GzEncoder::new(Vec::new(), l);
            e.write_all(data).unwrap();
            e.finish().unwrap()
        }
    }
}

/// Stateless compress as a driver does it: header by software, body + trailer by the device.
fn device_compress(q: &QueuePair, version: u32, alg: Alg, data: &[u8], cap: usize) -> (Sqe, Vec<u8>) {
    let mut out = vec![0u8; cap];
    let h = alg.header();
    out[..h.len()].copy_from_slice(h);
    let s = build(
        version,
        alg.code(),
        data.as_ptr() as u64,
        data.len() as u32,
        out[h.len()..].as_mut_ptr() as u64,
        (cap - h.len()) as u32,
        f::DW7_FLUSH,
        f::WS_32K,
    );
    let done = submit(q, &s);
    out.truncate(h.len() + done.u32(f::OFF_PRODUCED) as usize);
    (done, out)
}

/// Stateless decompress as a driver does it: the header is skipped by software.
fn device_decompress(q: &QueuePair, version: u32, alg: Alg, stream: &[u8], cap: usize) -> (Sqe, Vec<u8>) {
    let body = &stream[alg.skip()..];
    let mut out = vec![0u8; cap];
    let s = build(
        version,
        alg.code(),
        body.as_ptr() as u64,
        body.len() as u32,
        out.as_mut_ptr() as u64,
        cap as u32,
        f::DW7_FLUSH,
        f::WS_32K,
    );
    let done = submit(q, &s);
    out.truncate(done.u32(f::OFF_PRODUCED) as usize);
    (done, out)
}

fn algs(version: u32) -> Vec<Alg> {
    if version >= 3 {
        vec![Alg::Zlib, Alg::Gzip, Alg::Deflate]
    } else {
        vec![Alg::Zlib, Alg::Gzip]
    }
}

#[test]
fn stateless_round_trips_on_v2_and_v3() {
    let e = env("rt");
    for version in [2, 3] {
        let cq = e.queue(version, 0);
        let dq = e.queue(version, 1);
        for alg in algs(version) {
            for (i, len) in [1usize, 100, 4096, 65_537, 300_000].into_iter().enumerate() {
                let data = sample(len, i as u32 + 7);
                // Device compresses, flate2 decodes (header + trailer checked by flate2).
                let (done, stream) = device_compress(&cq, version, alg, &data, len + 1024);
                let st = status(&done);
                assert!(
                    st == zip::STATUS_OK || st == zip::STATUS_NEGACOMPRESS,
                    "v{version} {alg:?} {len}: status {st:#x}"
                );
                assert_eq!(
                    st == zip::STATUS_NEGACOMPRESS,
                    done.u32(f::OFF_PRODUCED) as usize > len
                );
                assert_eq!(done.u32(f::OFF_CONSUMED) as usize, len);
                assert!(last(&done));
                assert_eq!(
                    reference_decode(alg, &stream).unwrap(),
                    data,
                    "v{version} {alg:?} {len}"
                );
                match alg {
                    Alg::Zlib => {
                        let a = u32::from_be_bytes(stream[stream.len() - 4..].try_into().unwrap());
                        assert_eq!(done.u32(f::OFF_CHECKSUM), a);
                    }
                    Alg::Gzip => {
                        let t = &stream[stream.len() - 8..];
                        assert_eq!(
                            done.u32(f::OFF_CHECKSUM),
                            u32::from_le_bytes(t[..4].try_into().unwrap())
                        );
                        assert_eq!(done.u32(f::OFF_ISIZE), len as u32);
                    }
                    Alg::Deflate => {}
                }
                // flate2 compresses, the device decompresses.
                let enc = reference_encode(alg, &data);
                let (done, plain) = device_decompress(&dq, version, alg, &enc, len.max(200));
                assert_eq!(status(&done), zip::STATUS_DECOMP_END, "v{version} {alg:?} {len}");
                assert!(last(&done));
                assert_eq!(done.u32(f::OFF_CONSUMED) as usize, enc.len() - alg.skip());
                assert_eq!(plain, data);
                // Device → device.
                let (_, again) = device_decompress(&dq, version, alg, &stream, len.max(200));
                assert_eq!(again, data);
            }
        }
    }
}

#[test]
fn request_types_and_sqe_types_follow_the_version() {
    let e = env("ver");
    let data = sample(1000, 1);
    let mut out = vec![0u8; 4096];
    let dst = out.as_mut_ptr() as u64;
    for version in [2, 3] {
        let q = e.queue(version, 0);
        let mk = |alg: u8| {
            build(
                version,
                alg,
                data.as_ptr() as u64,
                1000,
                dst,
                4096,
                f::DW7_FLUSH,
                0,
            )
        };
        // raw deflate: v3 only
        let want = if version >= 3 {
            zip::STATUS_OK
        } else {
            zip::STATUS_ALG
        };
        assert_eq!(
            status(&submit(&q, &mk(f::HW_DEFLATE))),
            want,
            "deflate on v{version}"
        );
        // lz4 / lz77: valid v3 types the model does not execute; unknown on v2
        for t in [
            f::HW_LZ4,
            f::HW_LZ77_ONLY,
            f::HW_LZ77_ONLY_PRICE,
            f::HW_LZ77_ZSTD_PRICE,
            f::HW_LZ77_ZSTD,
        ] {
            let want = if version >= 3 {
                zip::STATUS_UNSUPPORTED
            } else {
                zip::STATUS_ALG
            };
            assert_eq!(status(&submit(&q, &mk(t))), want);
        }
        for t in [0u8, 0x5, 0x44, 0xff] {
            assert_eq!(status(&submit(&q, &mk(t))), zip::STATUS_ALG);
        }
        // wrong SQE type for the version
        let mut s = mk(f::HW_ZLIB);
        let dw7 = s.u32(f::OFF_DW7) & !(0xf << f::DW7_SQE_TYPE_SHIFT);
        let wrong = if version >= 3 { 0 } else { 3 };
        s.set_u32(f::OFF_DW7, dw7 | wrong << f::DW7_SQE_TYPE_SHIFT);
        let want = if version >= 3 {
            zip::STATUS_UNSUPPORTED
        } else {
            zip::STATUS_SQE_TYPE
        };
        assert_eq!(status(&submit(&q, &s)), want);
        s.set_u32(f::OFF_DW7, dw7 | 5 << f::DW7_SQE_TYPE_SHIFT);
        assert_eq!(status(&submit(&q, &s)), zip::STATUS_SQE_TYPE);
    }
}

#[test]
fn window_and_buffer_type_fields_are_checked() {
    let e = env("fields");
    let data = sample(1000, 2);
    let mut out = vec![0u8; 4096];
    for version in [2, 3] {
        let q = e.queue(version, 0);
        let dq = e.queue(version, 1);
        for w in 0..=15u8 {
            let s = build(
                version,
                f::HW_ZLIB,
                data.as_ptr() as u64,
                1000,
                out.as_mut_ptr() as u64,
                4096,
                f::DW7_FLUSH,
                w,
            );
            let want = if w <= f::WS_32K {
                zip::STATUS_OK
            } else {
                zip::STATUS_WINDOW
            };
            assert_eq!(status(&submit(&q, &s)), want, "window {w}");
            let s = build(
                version,
                f::HW_ZLIB,
                data.as_ptr() as u64,
                1000,
                out.as_mut_ptr() as u64,
                4096,
                f::DW7_FLUSH,
                w,
            );
            if w > f::WS_32K {
                assert_eq!(status(&submit(&dq, &s)), zip::STATUS_WINDOW);
            }
        }
        let mut s = build(
            version,
            f::HW_GZIP,
            data.as_ptr() as u64,
            1000,
            out.as_mut_ptr() as u64,
            4096,
            f::DW7_FLUSH,
            0,
        );
        let dw9 = s.u32(f::OFF_DW9);
        s.set_u32(f::OFF_DW9, dw9 | (f::BUF_SGL as u32) << 8);
        // `data` is no SGL: rejected as malformed or unreadable, never executed.
        let st = status(&submit(&q, &s));
        assert!(st == zip::STATUS_SGL || st == zip::STATUS_ADDR_FAULT, "{st:#x}");
        s.set_u32(f::OFF_DW9, dw9 | 2 << 8);
        assert_eq!(status(&submit(&q, &s)), zip::STATUS_BUF_TYPE);
    }
}

#[test]
fn length_limits() {
    let e = env("len");
    let big = vec![b'a'; zip::MAX_SIZE as usize + 1];
    let mut out = vec![0u8; zip::MAX_SIZE as usize + 1];
    let dst = out.as_mut_ptr() as u64;
    for version in [2, 3] {
        let q = e.queue(version, 0);
        let dq = e.queue(version, 1);
        let mk = |in_len: u32, avail: u32| {
            build(
                version,
                f::HW_ZLIB,
                big.as_ptr() as u64,
                in_len,
                dst,
                avail,
                f::DW7_FLUSH,
                0,
            )
        };
        for q in [&q, &dq] {
            assert_eq!(status(&submit(q, &mk(0, 4096))), zip::STATUS_LENGTH, "zero input");
            assert_eq!(
                status(&submit(q, &mk(zip::MAX_SIZE + 1, 4096))),
                zip::STATUS_LENGTH,
                "input > 8 MiB"
            );
            assert_eq!(
                status(&submit(q, &mk(100, zip::MAX_SIZE + 1))),
                zip::STATUS_LENGTH,
                "output > 8 MiB"
            );
            assert_eq!(
                status(&submit(q, &mk(100, zip::MIN_OUT - 1))),
                zip::STATUS_LENGTH,
                "output < 200 B"
            );
            assert_eq!(status(&submit(q, &mk(100, 0))), zip::STATUS_LENGTH, "no output");
        }
        // Exactly 8 MiB in, 200 B out: accepted (8 MiB of one byte compresses to a few KiB —
        // which does not fit 200 B: the status is "output too small", not a length error).
        let done = submit(&q, &mk(zip::MAX_SIZE, zip::MIN_OUT));
        assert_eq!(status(&done), zip::STATUS_OUT_TOO_SMALL);
        let done = submit(&q, &mk(zip::MAX_SIZE, 1 << 20));
        assert_eq!(status(&done), zip::STATUS_OK);
        assert_eq!(done.u32(f::OFF_CONSUMED), zip::MAX_SIZE);
    }
}

#[test]
fn output_too_small_and_negative_compression() {
    let e = env("small");
    let data = noise(5000, 3);
    for version in [2, 3] {
        let q = e.queue(version, 0);
        let dq = e.queue(version, 1);
        // Incompressible input into a buffer smaller than the input.
        let (done, out) = device_compress(&q, version, Alg::Zlib, &data, 4000);
        assert_eq!(status(&done), zip::STATUS_OUT_TOO_SMALL);
        assert_eq!(done.u32(f::OFF_PRODUCED), 0);
        assert_eq!(out, ZLIB_HEADER);
        // Enough room: success, flagged as negative compression.
        let (done, out) = device_compress(&q, version, Alg::Gzip, &data, 6000);
        assert_eq!(status(&done), zip::STATUS_NEGACOMPRESS);
        assert_eq!(reference_decode(Alg::Gzip, &out).unwrap(), data);
        // Decompress into a buffer smaller than the plain text.
        let enc = reference_encode(Alg::Zlib, &sample(10_000, 4));
        let (done, _) = device_decompress(&dq, version, Alg::Zlib, &enc, 9_999);
        assert_eq!(status(&done), zip::STATUS_OUT_TOO_SMALL);
        let (done, _) = device_decompress(&dq, version, Alg::Zlib, &enc, 10_000);
        assert_eq!(status(&done), zip::STATUS_DECOMP_END);
    }
}

#[test]
fn corrupt_truncated_and_bad_trailer_inputs() {
    let e = env("corrupt");
    let data = sample(20_000, 5);
    for version in [2, 3] {
        let dq = e.queue(version, 1);
        for alg in algs(version) {
            let enc = reference_encode(alg, &data);
            let h = alg.skip();
            // Body corrupted: an invalid block type (BTYPE 11) right at the start.
            let mut bad = enc.clone();
            bad[h] |= 0x06;
            let (done, _) = device_decompress(&dq, version, alg, &bad, 30_000);
            assert_eq!(status(&done), zip::STATUS_DATA, "{alg:?} corrupt");
            // Garbage.
            let mut junk = alg.header().to_vec();
            junk.extend(noise(3000, 9));
            let (done, _) = device_decompress(&dq, version, alg, &junk, 30_000);
            assert_ne!(status(&done), zip::STATUS_DECOMP_END, "{alg:?} junk");
            assert_ne!(status(&done), zip::STATUS_OK, "{alg:?} junk");
            // Truncated body.
            let (done, _) = device_decompress(&dq, version, alg, &enc[..enc.len() / 2], 30_000);
            assert_eq!(status(&done), zip::STATUS_DATA, "{alg:?} truncated");
            if alg == Alg::Deflate {
                continue;
            }
            // Trailer missing / partial.
            let tl = if alg == Alg::Zlib { 4 } else { 8 };
            let (done, _) = device_decompress(&dq, version, alg, &enc[..enc.len() - 1], 30_000);
            assert_eq!(status(&done), zip::STATUS_DATA, "{alg:?} partial trailer");
            // Checksum wrong.
            let mut bad = enc.clone();
            let n = bad.len();
            bad[n - tl] ^= 0x01;
            let (done, _) = device_decompress(&dq, version, alg, &bad, 30_000);
            assert_eq!(status(&done), zip::STATUS_CRC_ERR, "{alg:?} checksum");
            if alg == Alg::Gzip {
                let mut bad = enc.clone();
                bad[n - 1] ^= 0x80; // isize
                let (done, _) = device_decompress(&dq, version, alg, &bad, 30_000);
                assert_eq!(status(&done), zip::STATUS_CRC_ERR, "gzip isize");
            }
            // Bytes after the trailer are not consumed.
            let mut more = enc.clone();
            more.extend_from_slice(b"next member");
            let (done, out) = device_decompress(&dq, version, alg, &more, 30_000);
            assert_eq!(status(&done), zip::STATUS_DECOMP_END);
            assert_eq!(done.u32(f::OFF_CONSUMED) as usize, enc.len() - h);
            assert_eq!(out, data);
        }
    }
}

#[test]
fn unmapped_buffers_are_address_faults() {
    let e = env("fault");
    // SAFETY: plain anonymous PROT_NONE mapping, only ever handed to the device as an address.
    let hole = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            1 << 16,
            libc::PROT_NONE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
            -1,
            0,
        )
    };
    assert_ne!(hole, libc::MAP_FAILED);
    let data = sample(4000, 6);
    let mut out = vec![0u8; 8000];
    for version in [2, 3] {
        let q = e.queue(version, 0);
        let s = build(
            version,
            f::HW_ZLIB,
            hole as u64,
            4000,
            out.as_mut_ptr() as u64,
            8000,
            f::DW7_FLUSH,
            0,
        );
        assert_eq!(status(&submit(&q, &s)), zip::STATUS_ADDR_FAULT);
        let s = build(
            version,
            f::HW_ZLIB,
            data.as_ptr() as u64,
            4000,
            hole as u64,
            8000,
            f::DW7_FLUSH,
            0,
        );
        assert_eq!(status(&submit(&q, &s)), zip::STATUS_ADDR_FAULT);
        let s = build(
            version,
            f::HW_ZLIB,
            0,
            4000,
            out.as_mut_ptr() as u64,
            8000,
            f::DW7_FLUSH,
            0,
        );
        assert_eq!(status(&submit(&q, &s)), zip::STATUS_ADDR_FAULT);
        let s = build(
            version,
            f::HW_ZLIB,
            u64::MAX - 100,
            4000,
            out.as_mut_ptr() as u64,
            8000,
            f::DW7_FLUSH,
            0,
        );
        assert_eq!(status(&submit(&q, &s)), zip::STATUS_ADDR_FAULT);
        // The queue still works afterwards.
        let (done, stream) = device_compress(&q, version, Alg::Zlib, &data, 8000);
        assert_eq!(status(&done), zip::STATUS_OK);
        assert_eq!(reference_decode(Alg::Zlib, &stream).unwrap(), data);
    }
    // SAFETY: the mapping made above, no longer named by any request.
    unsafe { libc::munmap(hole, 1 << 16) };
}

/// A stateful stream as a driver drives it (§6.4): header on the first packet by software,
/// new-stream flag on the first SQE, running checksum/isize carried from each completion
/// into the next SQE, re-submission while the device reports no output space.
fn stream_compress(
    q: &QueuePair,
    version: u32,
    alg: Alg,
    ctx: u64,
    data: &[u8],
    chunk: usize,
    out_cap: usize,
) -> Vec<u8> {
    let mut stream = alg.header().to_vec();
    let mut out = vec![0u8; out_cap];
    let (mut check, mut isize) = (0u32, 0u32);
    let chunks: Vec<&[u8]> = data.chunks(chunk).collect();
    let mut first = true;
    for (i, c) in chunks.iter().enumerate() {
        let fin = i + 1 == chunks.len();
        let mut input: &[u8] = c;
        loop {
            let mut flags = f::DW7_STATEFUL;
            if first {
                flags |= f::DW7_NEW_STREAM;
            }
            if fin {
                flags |= f::DW7_FLUSH;
            }
            let mut s = build(
                version,
                alg.code(),
                input.as_ptr() as u64,
                input.len() as u32,
                out.as_mut_ptr() as u64,
                out_cap as u32,
                flags,
                f::WS_32K,
            );
            s.set_u64(f::OFF_STREAM_CTX_ADDR, ctx);
            s.set_u32(f::OFF_CHECKSUM, check);
            s.set_u32(f::OFF_ISIZE, isize);
            let done = submit(q, &s);
            assert_eq!(status(&done), zip::STATUS_OK);
            first = false;
            check = done.u32(f::OFF_CHECKSUM);
            isize = done.u32(f::OFF_ISIZE);
            assert_eq!(done.u32(f::OFF_CONSUMED) as usize, input.len());
            stream.extend_from_slice(&out[..done.u32(f::OFF_PRODUCED) as usize]);
            input = &[];
            let ctx_status = done.u32(f::OFF_CTX_DW0) & f::CTX_STATUS_MASK;
            if ctx_status == f::CTX_NO_SPACE_FINISH {
                continue; // drain the device's pending output
            }
            assert_eq!(ctx_status, 0);
            assert_eq!(last(&done), fin);
            break;
        }
    }
    stream
}

fn stream_decompress(
    q: &QueuePair,
    version: u32,
    alg: Alg,
    ctx: u64,
    enc: &[u8],
    chunk: usize,
    out_cap: usize,
) -> (Vec<u8>, u8) {
    let body = &enc[alg.skip()..];
    let mut plain = Vec::new();
    let mut out = vec![0u8; out_cap];
    let (mut check, mut isize) = (0u32, 0u32);
    let mut pos = 0;
    let mut first = true;
    for _ in 0..100_000 {
        let input = &body[pos..(pos + chunk).min(body.len())];
        let mut flags = f::DW7_STATEFUL;
        if first {
            flags |= f::DW7_NEW_STREAM;
        }
        let mut s = build(
            version,
            alg.code(),
            input.as_ptr() as u64,
            input.len() as u32,
            out.as_mut_ptr() as u64,
            out_cap as u32,
            flags,
            f::WS_32K,
        );
        s.set_u64(f::OFF_STREAM_CTX_ADDR, ctx);
        s.set_u32(f::OFF_CHECKSUM, check);
        s.set_u32(f::OFF_ISIZE, isize);
        let done = submit(q, &s);
        first = false;
        let st = status(&done);
        if st != zip::STATUS_OK && st != zip::STATUS_DECOMP_END {
            return (plain, st);
        }
        check = done.u32(f::OFF_CHECKSUM);
        isize = done.u32(f::OFF_ISIZE);
        pos += done.u32(f::OFF_CONSUMED) as usize;
        plain.extend_from_slice(&out[..done.u32(f::OFF_PRODUCED) as usize]);
        let window = (done.u32(f::OFF_CTX_DW2) & f::CTX_WINDOW_MASK) as usize;
        assert_eq!(window, plain.len().min(32 * 1024), "ctx_dw2 window length");
        if st == zip::STATUS_DECOMP_END {
            assert!(last(&done));
            assert_eq!(pos, body.len());
            return (plain, st);
        }
        if input.is_empty() && done.u32(f::OFF_PRODUCED) == 0 {
            return (plain, st); // the device waits for input the caller does not have
        }
    }
    panic!(
        "stream did not end: chunk {chunk} cap {out_cap} pos {pos} of {} plain {}",
        body.len(),
        plain.len()
    );
}

#[test]
fn stateful_streams_compress_and_decompress_in_pieces() {
    let e = env("stream");
    let ctx_buf = vec![0u8; 0x10000];
    let ctx = ctx_buf.as_ptr() as u64 + 64;
    let data = sample(200_000, 8);
    for version in [2, 3] {
        let cq = e.queue(version, 0);
        let dq = e.queue(version, 1);
        for alg in algs(version) {
            // Compress in 7 KiB packets into 236-byte outputs (the driver's bounce buffer size).
            let enc = stream_compress(&cq, version, alg, ctx, &data, 7 * 1024, 236);
            assert_eq!(reference_decode(alg, &enc).unwrap(), data, "v{version} {alg:?}");
            // Large packets, large output.
            let enc2 = stream_compress(&cq, version, alg, ctx, &data, 64 * 1024, 128 * 1024);
            assert_eq!(reference_decode(alg, &enc2).unwrap(), data);
            // Decompress flate2 output in small packets and small outputs (ctx status 0x2).
            let enc = reference_encode(alg, &data);
            for (chunk, cap) in [(1000, 200), (61, 4096), (1 << 20, 1 << 20)] {
                let (plain, st) = stream_decompress(&dq, version, alg, ctx, &enc, chunk, cap);
                assert_eq!(st, zip::STATUS_DECOMP_END, "v{version} {alg:?} {chunk}/{cap}");
                assert_eq!(plain, data);
            }
            // A stream cut in half: the device keeps waiting for input (status 0, no end).
            let (plain, st) = stream_decompress(&dq, version, alg, ctx, &enc[..enc.len() / 2], 4000, 8192);
            assert_eq!(st, zip::STATUS_OK);
            assert!(!plain.is_empty() && data.starts_with(&plain));
            if alg != Alg::Deflate {
                let mut bad = enc.clone();
                let n = bad.len();
                bad[n - 1] ^= 0x10; // last trailer byte (adler32 / isize)
                let (_, st) = stream_decompress(&dq, version, alg, ctx, &bad, 5000, 4096);
                assert_eq!(st, zip::STATUS_CRC_ERR);
            }
        }
        // A continued stream the device never saw, and one of the other direction.
        let data = sample(1000, 1);
        let mut out = vec![0u8; 4096];
        let mut s = build(
            version,
            f::HW_ZLIB,
            data.as_ptr() as u64,
            1000,
            out.as_mut_ptr() as u64,
            4096,
            f::DW7_STATEFUL,
            0,
        );
        s.set_u64(f::OFF_STREAM_CTX_ADDR, ctx + 8);
        assert_eq!(status(&submit(&cq, &s)), zip::STATUS_STREAM_CTX);
        // No context address at all.
        s.set_u64(f::OFF_STREAM_CTX_ADDR, 0);
        s.set_u32(f::OFF_DW7, s.u32(f::OFF_DW7) | f::DW7_NEW_STREAM);
        assert_eq!(status(&submit(&cq, &s)), zip::STATUS_ADDR_FAULT);
        // Input length 0 starts no stream.
        s.set_u64(f::OFF_STREAM_CTX_ADDR, ctx);
        s.set_u32(f::OFF_INPUT_LENGTH, 0);
        assert_eq!(status(&submit(&cq, &s)), zip::STATUS_LENGTH);
    }
}

#[test]
fn daemon_process_serves_zip_to_another_process() {
    use std::io::BufRead;
    /// Kills the emulator process even if the test fails half-way.
    struct Reaper(std::process::Child, PathBuf);
    impl Drop for Reaper {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
            let _ = std::fs::remove_dir_all(&self.1);
        }
    }
    let dir = std::env::temp_dir().join(format!("uadk-emu-zipe-daemon-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let mut child = Reaper(
        std::process::Command::new(env!("CARGO_BIN_EXE_uadk-emud"))
            .args([
                "--root",
                dir.to_str().unwrap(),
                "--device",
                "zip,api=v2,queues=4",
                "--device",
                "zip,api=v3,queues=4",
            ])
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap(),
        dir.clone(),
    );
    let mut line = String::new();
    std::io::BufReader::new(child.0.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert_eq!(line.trim(), "ready");
    let roots = uadk_core::discovery::Roots::under(&dir);
    let devs = scan(&roots).devices;
    let data = sample(100_000, 11);
    for dev in &devs {
        let version = dev.qm_version.unwrap();
        let tag = if version >= 3 {
            TagField::ZIP_V3
        } else {
            TagField::ZIP_V2
        };
        let open = |qc_type| {
            QueuePair::open(
                dev,
                QueueOptions {
                    qc_type,
                    tag,
                    ..Default::default()
                },
            )
            .unwrap()
        };
        let (cq, dq) = (open(0), open(1));
        // The emulator reaches this process's buffers with process_vm_readv/writev.
        let (done, stream) = device_compress(&cq, version, Alg::Gzip, &data, 200_000);
        assert_eq!(status(&done), zip::STATUS_OK);
        assert_eq!(reference_decode(Alg::Gzip, &stream).unwrap(), data);
        let (done, plain) = device_decompress(&dq, version, Alg::Gzip, &stream, 100_000);
        assert_eq!(status(&done), zip::STATUS_DECOMP_END);
        assert_eq!(plain, data);
        let ctx_buf = vec![0u8; 0x10000];
        let ctx = ctx_buf.as_ptr() as u64 + 64;
        let enc = stream_compress(&cq, version, Alg::Zlib, ctx, &data, 16 * 1024, 4096);
        assert_eq!(reference_decode(Alg::Zlib, &enc).unwrap(), data);
        let (plain, st) = stream_decompress(&dq, version, Alg::Zlib, ctx, &enc, 10_000, 8192);
        assert_eq!(st, zip::STATUS_DECOMP_END);
        assert_eq!(plain, data);
        // A bad address in another process is a fault status, and the daemon lives on.
        let mut out = vec![0u8; 1000];
        let s = build(
            version,
            f::HW_ZLIB,
            0x10,
            100,
            out.as_mut_ptr() as u64,
            1000,
            f::DW7_FLUSH,
            0,
        );
        assert_eq!(status(&submit(&cq, &s)), zip::STATUS_ADDR_FAULT);
        let (done, _) = device_compress(&cq, version, Alg::Zlib, &data, 200_000);
        assert_eq!(status(&done), zip::STATUS_OK);
    }
    assert_eq!(devs.len(), 2);
}

/// 64-byte aligned storage for hand-built hardware SGLs.
struct SglArena {
    buf: Vec<u8>,
    base: usize,
}

impl SglArena {
    fn new(sgls: usize) -> SglArena {
        let buf = vec![0u8; sgls * 64 * 16 + 64];
        let base = (64 - buf.as_ptr() as usize % 64) % 64;
        SglArena { buf, base }
    }

    /// Builds SGL `i` with `entries` (address, length) and `next` chain pointer.
    fn sgl(&mut self, i: usize, entries: &[(u64, u32)], next: u64) -> u64 {
        let off = self.base + i * 64 * 16;
        let h = &mut self.buf[off..off + 64 + entries.len() * 32];
        h.fill(0);
        h[0..8].copy_from_slice(&next.to_le_bytes());
        h[8..10].copy_from_slice(&(entries.len() as u16).to_le_bytes());
        h[10..12].copy_from_slice(&(entries.len() as u16).to_le_bytes());
        h[12..14].copy_from_slice(&(entries.len() as u16).to_le_bytes());
        for (k, &(a, l)) in entries.iter().enumerate() {
            let e = &mut h[64 + k * 32..64 + k * 32 + 32];
            e[0..8].copy_from_slice(&a.to_le_bytes());
            e[16..20].copy_from_slice(&l.to_le_bytes());
        }
        self.addr(i)
    }

    fn addr(&self, i: usize) -> u64 {
        self.buf.as_ptr() as u64 + (self.base + i * 64 * 16) as u64
    }
}

#[test]
fn hardware_sgl_buffers_with_offsets_and_chains() {
    let e = env("sgl");
    let data = sample(50_000, 12);
    // Input in three pieces over two chained SGLs, with 100 bytes of junk before the data
    // skipped through the dw7 SGL offset.
    let mut p0 = vec![0xeeu8; 100];
    p0.extend_from_slice(&data[..10_000]);
    let p1 = data[10_000..30_000].to_vec();
    let p2 = data[30_000..].to_vec();
    for version in [2, 3] {
        let cq = e.queue(version, 0);
        let dq = e.queue(version, 1);
        let mut arena = SglArena::new(4);
        let second = arena.addr(1);
        arena.sgl(
            0,
            &[
                (p0.as_ptr() as u64, p0.len() as u32),
                (p1.as_ptr() as u64, p1.len() as u32),
            ],
            second,
        );
        arena.sgl(1, &[(p2.as_ptr() as u64, p2.len() as u32)], 0);
        // Output over four small buffers (the first 10 bytes skipped via the dw8 offset,
        // where a driver would have put the gzip header).
        let mut outs: Vec<Vec<u8>> = (0..4).map(|_| vec![0u8; 8000]).collect();
        let entries: Vec<(u64, u32)> = outs.iter_mut().map(|o| (o.as_mut_ptr() as u64, 8000)).collect();
        let out_sgl = arena.sgl(2, &entries, 0);
        let mut s = build(
            version,
            f::HW_GZIP,
            arena.addr(0),
            data.len() as u32,
            out_sgl,
            32_000 - 10,
            f::DW7_FLUSH | 100,
            0,
        );
        s.set_u32(f::OFF_DW9, s.u32(f::OFF_DW9) | (f::BUF_SGL as u32) << 8);
        s.set_u32(f::OFF_DW8, 10);
        let done = submit(&cq, &s);
        assert_eq!(status(&done), zip::STATUS_OK);
        assert_eq!(done.u32(f::OFF_CONSUMED) as usize, data.len());
        let n = done.u32(f::OFF_PRODUCED) as usize;
        let joined: Vec<u8> = outs.concat();
        assert_eq!(joined[..10], [0u8; 10]);
        let mut stream = GZIP_HEADER.to_vec();
        stream.extend_from_slice(&joined[10..10 + n]);
        assert_eq!(reference_decode(Alg::Gzip, &stream).unwrap(), data);
        // Decompress it back from an SGL input (one entry) into an SGL output (two entries).
        let body = stream[10..].to_vec();
        let mut o1 = vec![0u8; 20_000];
        let mut o2 = vec![0u8; 40_000];
        arena.sgl(0, &[(body.as_ptr() as u64, body.len() as u32)], 0);
        arena.sgl(
            1,
            &[(o1.as_mut_ptr() as u64, 20_000), (o2.as_mut_ptr() as u64, 40_000)],
            0,
        );
        let mut s = build(
            version,
            f::HW_GZIP,
            arena.addr(0),
            body.len() as u32,
            arena.addr(1),
            60_000,
            f::DW7_FLUSH,
            0,
        );
        s.set_u32(f::OFF_DW9, s.u32(f::OFF_DW9) | (f::BUF_SGL as u32) << 8);
        let done = submit(&dq, &s);
        assert_eq!(status(&done), zip::STATUS_DECOMP_END);
        assert_eq!(done.u32(f::OFF_PRODUCED) as usize, data.len());
        let mut plain = o1.clone();
        plain.extend_from_slice(&o2[..30_000]);
        assert_eq!(plain, data);
        // Malformed SGLs.
        let out_sgl = arena.addr(1);
        let mk = |input: u64, in_len: u32| {
            let mut s = build(
                version,
                f::HW_GZIP,
                input,
                in_len,
                out_sgl,
                60_000,
                f::DW7_FLUSH,
                0,
            );
            s.set_u32(f::OFF_DW9, s.u32(f::OFF_DW9) | (f::BUF_SGL as u32) << 8);
            s
        };
        // Chain shorter than the request.
        assert_eq!(
            status(&submit(&dq, &mk(arena.addr(0), body.len() as u32 + 1))),
            zip::STATUS_SGL
        );
        // Misaligned SGL.
        assert_eq!(status(&submit(&dq, &mk(arena.addr(0) + 8, 100))), zip::STATUS_SGL);
        // A chain that loops on itself.
        let me = arena.addr(3);
        arena.sgl(3, &[(body.as_ptr() as u64, 0)], me);
        assert_eq!(status(&submit(&dq, &mk(me, 100))), zip::STATUS_SGL);
        // An entry pointing nowhere.
        arena.sgl(3, &[(0x10, 1000)], 0);
        assert_eq!(status(&submit(&dq, &mk(me, 100))), zip::STATUS_ADDR_FAULT);
        // An SGL with no entries.
        arena.sgl(3, &[], 0);
        assert_eq!(status(&submit(&dq, &mk(me, 100))), zip::STATUS_SGL);
    }
}
