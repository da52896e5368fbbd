//! libuadk_z against the system zlib through the C entry points, both loaded in this one
//! process (dlopen by path), on the same data and call pattern; plus the one-shot calls
//! against uadk-zip's Rust API (the C layer's own cost).
//!
//! ```text
//! cargo bench -p uadk-zlib --bench zlib_abi                 # Silesia from /tmp/silesia or
//! UADK_Z_BENCH_CORPUS=/path/to/dir cargo bench -p uadk-zlib  # ../shared/corpus (unpacked)
//! ```
//!
//! Rows (MB/s of uncompressed data, fastest of several passes, and ours/system):
//! * nginx's gzip filter pattern: raw deflate (windowBits -15, memLevel 8), 16 KiB inputs
//!   with `Z_NO_FLUSH`, `Z_FINISH` on the last, output buffers cycling 4, 8, 16, 32 KiB;
//! * streaming inflate of system-zlib gzip streams: 16 KiB inputs, 4..32 KiB outputs;
//! * `compress2`/`uncompress` of 64 KiB pieces, against `uadk_zip::Session` (Rust API).

use std::ffi::{c_char, c_int, c_uint, c_ulong};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use uadk_z::abi::*;

type Init2 =
    unsafe extern "C" fn(*mut z_stream, c_int, c_int, c_int, c_int, c_int, *const c_char, c_int) -> c_int;
type IInit2 = unsafe extern "C" fn(*mut z_stream, c_int, *const c_char, c_int) -> c_int;
type Call = unsafe extern "C" fn(*mut z_stream, c_int) -> c_int;
type End = unsafe extern "C" fn(*mut z_stream) -> c_int;
type Compress2 = unsafe extern "C" fn(*mut u8, *mut c_ulong, *const u8, c_ulong, c_int) -> c_int;
type Uncompress = unsafe extern "C" fn(*mut u8, *mut c_ulong, *const u8, c_ulong) -> c_int;

struct Lib {
    name: &'static str,
    _lib: libloading::Library,
    deflate_init2: Init2,
    deflate: Call,
    deflate_end: End,
    inflate_init2: IInit2,
    inflate: Call,
    inflate_end: End,
    compress2: Compress2,
    uncompress: Uncompress,
}

fn load(name: &'static str, path: &Path) -> Lib {
    // SAFETY: a zlib-ABI library; each symbol has zlib.h's prototype.
    unsafe {
        let lib = libloading::Library::new(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        Lib {
            name,
            deflate_init2: *lib.get(b"deflateInit2_\0").unwrap(),
            deflate: *lib.get(b"deflate\0").unwrap(),
            deflate_end: *lib.get(b"deflateEnd\0").unwrap(),
            inflate_init2: *lib.get(b"inflateInit2_\0").unwrap(),
            inflate: *lib.get(b"inflate\0").unwrap(),
            inflate_end: *lib.get(b"inflateEnd\0").unwrap(),
            compress2: *lib.get(b"compress2\0").unwrap(),
            uncompress: *lib.get(b"uncompress\0").unwrap(),
            _lib: lib,
        }
    }
}

const V: *const c_char = c"1.2.13".as_ptr();
const OUTS: [usize; 4] = [4096, 8192, 16384, 32768];

fn zeroed() -> z_stream {
    // SAFETY: all-zero is a valid uninitialised z_stream.
    unsafe { std::mem::zeroed() }
}

/// nginx's pattern over one file; returns the compressed size.
fn deflate_nginx(lib: &Lib, level: c_int, data: &[u8], sink: &mut Vec<u8>) -> usize {
    let mut s = zeroed();
    let mut total = 0usize;
    let mut k = 0usize;
    // SAFETY: zlib's contract; buffers outlive the calls.
    unsafe {
        assert_eq!((lib.deflate_init2)(&mut s, level, 8, -15, 8, 0, V, size()), Z_OK);
        let chunks: Vec<&[u8]> = data.chunks(16384).collect();
        for (i, c) in chunks.iter().enumerate() {
            let flush = if i + 1 == chunks.len() {
                Z_FINISH
            } else {
                Z_NO_FLUSH
            };
            s.next_in = c.as_ptr();
            s.avail_in = c.len() as c_uint;
            loop {
                let room = OUTS[k % 4];
                k += 1;
                s.next_out = sink.as_mut_ptr();
                s.avail_out = room as c_uint;
                let rc = (lib.deflate)(&mut s, flush);
                total += room - s.avail_out as usize;
                if rc == Z_STREAM_END || (s.avail_out != 0 && flush == Z_NO_FLUSH) {
                    break;
                }
                assert!(rc == Z_OK || rc == Z_BUF_ERROR, "{} deflate {rc}", lib.name);
            }
        }
        (lib.deflate_end)(&mut s);
    }
    total
}

/// Streaming inflate: 16 KiB inputs, outputs cycling 4..32 KiB; returns the output size.
fn inflate_stream(lib: &Lib, z: &[u8], sink: &mut Vec<u8>) -> usize {
    let mut s = zeroed();
    let mut total = 0usize;
    let mut k = 0usize;
    // SAFETY: zlib's contract; buffers outlive the calls.
    unsafe {
        assert_eq!((lib.inflate_init2)(&mut s, 31, V, size()), Z_OK);
        let mut pos = 0usize;
        loop {
            let end = (pos + 16384).min(z.len());
            s.next_in = z.as_ptr().add(pos);
            s.avail_in = (end - pos) as c_uint;
            let rc = loop {
                let room = OUTS[k % 4];
                k += 1;
                s.next_out = sink.as_mut_ptr();
                s.avail_out = room as c_uint;
                let rc = (lib.inflate)(&mut s, Z_NO_FLUSH);
                total += room - s.avail_out as usize;
                if rc == Z_STREAM_END || s.avail_out != 0 {
                    break rc;
                }
            };
            pos = end - s.avail_in as usize;
            if rc == Z_STREAM_END {
                break;
            }
            assert!(rc == Z_OK || rc == Z_BUF_ERROR, "{} inflate {rc}", lib.name);
        }
        (lib.inflate_end)(&mut s);
    }
    total
}

fn size() -> c_int {
    std::mem::size_of::<z_stream>() as c_int
}

/// Fastest times of `fs`, run interleaved (`a b c a b c ...`) so that a noisy neighbour
/// hits every candidate alike.
fn best_of_interleaved<const N: usize>(passes: usize, fs: &mut [&mut dyn FnMut(); N]) -> [Duration; N] {
    let mut t = [Duration::MAX; N];
    for _ in 0..passes {
        for (i, f) in fs.iter_mut().enumerate() {
            let s = Instant::now();
            f();
            t[i] = t[i].min(s.elapsed());
        }
    }
    t
}

fn mbs(bytes: usize, d: Duration) -> f64 {
    bytes as f64 / d.as_secs_f64() / 1e6
}

fn corpus() -> Vec<(String, Vec<u8>)> {
    let dir = std::env::var("UADK_Z_BENCH_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|_| "/tmp/silesia".into());
    let mut files = Vec::new();
    if let Ok(rd) = std::fs::read_dir(&dir) {
        let mut names: Vec<PathBuf> = rd.filter_map(|e| e.ok().map(|e| e.path())).collect();
        names.sort();
        for p in names {
            if let Ok(mut d) = std::fs::read(&p) {
                d.truncate(4 << 20);
                files.push((p.file_name().unwrap().to_string_lossy().into_owned(), d));
            }
        }
    }
    if files.is_empty() {
        eprintln!(
            "no corpus in {} (unpack ../shared/corpus/silesia-gz there); using generated text",
            dir.display()
        );
        let words = [
            "the ",
            "device ",
            "queue ",
            "stream ",
            "<a href=\"/x\">",
            "zlib ",
            "\n",
        ];
        let mut x = 1u64;
        let mut t = String::new();
        while t.len() < 8 << 20 {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            t.push_str(words[(x >> 40) as usize % words.len()]);
        }
        files.push(("generated-text".into(), t.into_bytes()));
    }
    files
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let exe = std::env::current_exe().unwrap();
    let ours_path = exe.parent().unwrap().join("libuadk_z.so");
    let triple = format!("{}-linux-gnu", std::env::consts::ARCH);
    let sys_path = [
        format!("/lib/{triple}/libz.so.1"),
        format!("/usr/lib/{triple}/libz.so.1"),
    ]
    .into_iter()
    .find(|p| Path::new(p).exists())
    .expect("system zlib");
    let sys = load("zlib", Path::new(&sys_path));
    let ours = load("uadk_z", &ours_path);
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_string())
        })
        .unwrap_or_default();
    let files = corpus();
    let total: usize = files.iter().map(|f| f.1.len()).sum();
    println!(
        "CPU: {cpu}; corpus: {} file(s), {:.1} MB ({})",
        files.len(),
        total as f64 / 1e6,
        files.iter().map(|f| f.0.as_str()).collect::<Vec<_>>().join(", ")
    );
    let mut sink = vec![0u8; 1 << 20];
    let passes = 3;

    for level in [1, 6, 9] {
        let (mut s0, mut s1) = (0usize, 0usize);
        let mut sink2 = sink.clone();
        let mut f0 = || {
            s0 = files
                .iter()
                .map(|(_, d)| deflate_nginx(&sys, level, d, &mut sink))
                .sum()
        };
        let mut f1 = || {
            s1 = files
                .iter()
                .map(|(_, d)| deflate_nginx(&ours, level, d, &mut sink2))
                .sum()
        };
        let times = best_of_interleaved(passes, &mut [&mut f0, &mut f1]);
        let sizes = [s0, s1];
        println!(
            "deflate nginx pattern L{level}: zlib {:.1} MB/s, ours {:.1} MB/s, x{:.2}; size ours/zlib {:.3}",
            mbs(total, times[0]),
            mbs(total, times[1]),
            times[0].as_secs_f64() / times[1].as_secs_f64(),
            sizes[1] as f64 / sizes[0] as f64
        );
    }

    // Streaming inflate of system-zlib level-6 gzip streams.
    let gz: Vec<Vec<u8>> = files
        .iter()
        .map(|(_, d)| {
            let mut out = vec![0u8; d.len() + d.len() / 100 + 1024];
            let mut s = zeroed();
            // SAFETY: zlib's contract.
            unsafe {
                (sys.deflate_init2)(&mut s, 6, 8, 31, 8, 0, V, size());
                s.next_in = d.as_ptr();
                s.avail_in = d.len() as c_uint;
                s.next_out = out.as_mut_ptr();
                s.avail_out = out.len() as c_uint;
                assert_eq!((sys.deflate)(&mut s, Z_FINISH), Z_STREAM_END);
                out.truncate(s.total_out as usize);
                (sys.deflate_end)(&mut s);
            }
            out
        })
        .collect();
    let mut sink2 = sink.clone();
    let mut f0 = || {
        assert_eq!(
            gz.iter()
                .map(|z| inflate_stream(&sys, z, &mut sink))
                .sum::<usize>(),
            total
        )
    };
    let mut f1 = || {
        assert_eq!(
            gz.iter()
                .map(|z| inflate_stream(&ours, z, &mut sink2))
                .sum::<usize>(),
            total
        )
    };
    let times = best_of_interleaved(passes, &mut [&mut f0, &mut f1]);
    println!(
        "inflate stream (gzip, 16 KiB in, 4-32 KiB out): zlib {:.1} MB/s, ours {:.1} MB/s, x{:.2}",
        mbs(total, times[0]),
        mbs(total, times[1]),
        times[0].as_secs_f64() / times[1].as_secs_f64()
    );

    // One-shot 64 KiB pieces: C entry points against the Rust API (the same engines).
    let pieces: Vec<&[u8]> = files
        .iter()
        .flat_map(|(_, d)| d.chunks(65536))
        .filter(|p| p.len() == 65536)
        .collect();
    let pn = pieces.len() * 65536;
    let session = uadk_zip::Session::new(uadk_zip::Config {
        format: uadk_zip::Format::Zlib,
        level: 6,
        backend: uadk_zip::Backend::Software,
        threads: 1,
        ..uadk_zip::Config::default()
    })
    .unwrap();
    let mut out = vec![0u8; 70_000];
    let mut zs: Vec<Vec<u8>> = Vec::new();
    let _ = &mut out;
    // Our compressed pieces, for the uncompress rows.
    for p in &pieces {
        let mut n: c_ulong = out.len() as c_ulong;
        // SAFETY: buffers valid for the lengths passed.
        assert_eq!(
            unsafe { (ours.compress2)(out.as_mut_ptr(), &mut n, p.as_ptr(), 65536, 6) },
            Z_OK
        );
        zs.push(out[..n as usize].to_vec());
    }
    let zsize: usize = zs.iter().map(Vec::len).sum();
    for round in 0..2 {
        let mut o1 = vec![0u8; 70_000];
        let mut o2 = vec![0u8; 70_000];
        let mut o3 = vec![0u8; 70_000];
        let mut sys_c = || {
            for p in &pieces {
                let mut n: c_ulong = o1.len() as c_ulong;
                // SAFETY: buffers valid for the lengths passed.
                assert_eq!(
                    unsafe { (sys.compress2)(o1.as_mut_ptr(), &mut n, p.as_ptr(), 65536, 6) },
                    Z_OK
                );
            }
        };
        let mut our_c = || {
            for p in &pieces {
                let mut n: c_ulong = o2.len() as c_ulong;
                // SAFETY: buffers valid for the lengths passed.
                assert_eq!(
                    unsafe { (ours.compress2)(o2.as_mut_ptr(), &mut n, p.as_ptr(), 65536, 6) },
                    Z_OK
                );
            }
        };
        let mut rust_c = || {
            for p in &pieces {
                session.compress_into(p, &mut o3).unwrap();
            }
        };
        let t = best_of_interleaved(11, &mut [&mut sys_c, &mut our_c, &mut rust_c]);
        println!(
            "compress2 64 KiB L6 (round {round}): zlib {:.1}, ours {:.1}, Rust API {:.1} MB/s; ours/zlib x{:.2}, C layer vs Rust API {:+.1}%",
            mbs(pn, t[0]),
            mbs(pn, t[1]),
            mbs(pn, t[2]),
            t[0].as_secs_f64() / t[1].as_secs_f64(),
            (t[1].as_secs_f64() / t[2].as_secs_f64() - 1.0) * 100.0
        );
    }
    for round in 0..2 {
        let mut b1 = vec![0u8; 65536];
        let mut b2 = vec![0u8; 65536];
        let mut b3 = vec![0u8; 65536];
        let mut sys_u = || {
            for z in zs.iter().cycle().take(5 * zs.len()) {
                let mut n: c_ulong = 65536;
                // SAFETY: buffers valid for the lengths passed.
                assert_eq!(
                    unsafe { (sys.uncompress)(b1.as_mut_ptr(), &mut n, z.as_ptr(), z.len() as c_ulong) },
                    Z_OK
                );
            }
        };
        let mut our_u = || {
            for z in zs.iter().cycle().take(5 * zs.len()) {
                let mut n: c_ulong = 65536;
                // SAFETY: buffers valid for the lengths passed.
                assert_eq!(
                    unsafe { (ours.uncompress)(b2.as_mut_ptr(), &mut n, z.as_ptr(), z.len() as c_ulong) },
                    Z_OK
                );
            }
        };
        let mut rust_u = || {
            for z in zs.iter().cycle().take(5 * zs.len()) {
                session.decompress_into(z, &mut b3).unwrap();
            }
        };
        let t = best_of_interleaved(11, &mut [&mut sys_u, &mut our_u, &mut rust_u]);
        println!(
            "uncompress 64 KiB ({} MB of our zlib streams, 5 times, round {round}): zlib {:.1}, ours {:.1}, Rust API {:.1} MB/s; ours/zlib x{:.2}, C layer vs Rust API {:+.1}%",
            zsize / 1_000_000,
            mbs(5 * pn, t[0]),
            mbs(5 * pn, t[1]),
            mbs(5 * pn, t[2]),
            t[0].as_secs_f64() / t[1].as_secs_f64(),
            (t[1].as_secs_f64() / t[2].as_secs_f64() - 1.0) * 100.0
        );
    }
}
