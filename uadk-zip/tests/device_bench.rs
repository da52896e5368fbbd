//! Measurements of the device path through the in-process emulator (not timed tests: run
//! `cargo test --release -p uadk-zip --test device_bench -- --ignored --nocapture`).
//!
//! For every path: MB/s of uncompressed data (wall clock, one submitting thread), the
//! emulator's engine time (sum of `busy_ns` over its engines), and the framework share =
//! 1 − engine time / wall time for the paths that keep one engine busy at a time (sync
//! one-shot, streams); for the concurrent paths (parallel blocks, batch) the engines'
//! utilisation = engine time / (wall × engines used).

use parking_lot::Mutex;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};
use uadk_emu::{DeviceKind, DeviceSpec, EmuConfig, Emulator, Faults};
use uadk_pool::PoolBuilder;
use uadk_zip::{
    unregister_device, Backend, Batch, Config, DeviceEngine, Direction, DmaPolicy, Flush, Format, Session,
};

static LOCK: Mutex<()> = Mutex::new(());

struct Env {
    engines: Vec<Arc<dyn DeviceEngine>>,
    emu: Emulator,
    dir: PathBuf,
}

impl Drop for Env {
    fn drop(&mut self) {
        for e in &self.engines {
            unregister_device(e);
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn env(versions: &[u32]) -> Env {
    let dir = std::env::temp_dir().join(format!("uadk-zip-dbench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let cfg = EmuConfig {
        devices: versions
            .iter()
            .map(|&v| DeviceSpec::new(DeviceKind::Zip, v))
            .collect(),
        first_id: 0,
    };
    let emu = Emulator::start(&dir, &cfg).unwrap();
    let engines = uadk_zip::device::register(&emu.roots());
    Env { engines, emu, dir }
}

impl Env {
    fn busy_ns(&self) -> u64 {
        self.emu.status().devices.iter().map(|d| d.totals.busy_ns).sum()
    }
    fn set_faults(&self, f: Faults) {
        for n in self.emu.device_names() {
            self.emu.set_faults(&n, f).unwrap();
        }
    }
}

fn text(len: usize) -> Vec<u8> {
    let words = [
        "device ",
        "queue ",
        "deflate ",
        "zlib ",
        "gzip ",
        "emulator ",
        "block\n",
        "0x1f8b ",
    ];
    let mut x = 12345u32;
    let mut v = Vec::with_capacity(len + 16);
    while v.len() < len {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        v.extend_from_slice(words[(x % 8) as usize].as_bytes());
    }
    v.truncate(len);
    v
}

fn session(threads: usize, dma: DmaPolicy, pool: Option<Arc<uadk_pool::Pool>>) -> Session {
    Session::new(Config {
        format: Format::Gzip,
        backend: Backend::Device,
        fallback: false,
        threads,
        dma,
        pool,
        ..Config::default()
    })
    .unwrap()
}

/// Runs `f` (which processes `bytes` bytes) for at least `secs`; prints MB/s and engine share.
fn measure(e: &Env, label: &str, bytes: usize, engines: usize, secs: f64, mut f: impl FnMut()) {
    f(); // warm up (queues, buffers)
    let b0 = e.busy_ns();
    let t = Instant::now();
    let mut n = 0;
    while t.elapsed().as_secs_f64() < secs || n < 2 {
        f();
        n += 1;
    }
    let wall = t.elapsed().as_secs_f64();
    std::thread::sleep(Duration::from_millis(20)); // the engines count just after completing
    let busy = (e.busy_ns() - b0) as f64 / 1e9;
    let mbs = n as f64 * bytes as f64 / wall / 1e6;
    let engine_mbs = n as f64 * bytes as f64 / busy.max(1e-9) / 1e6;
    if engines == 1 {
        println!(
            "{label:<58} {mbs:>8.1} MB/s  engine-only {engine_mbs:>7.1} MB/s  framework share {:>5.1}%",
            100.0 * (1.0 - busy / wall).max(0.0)
        );
    } else {
        println!(
            "{label:<58} {mbs:>8.1} MB/s  engine-only {engine_mbs:>7.1} MB/s  engine utilisation {:>5.1}% of {engines}",
            100.0 * busy / (wall * engines as f64)
        );
    }
}

#[test]
#[ignore]
fn device_path_throughput() {
    let _g = LOCK.lock();
    let e = env(&[3, 2]);
    let secs = 1.5;
    let data = text(8 << 20);
    let s1 = session(1, DmaPolicy::Bounce, None);
    let z = s1.compress(&data).unwrap();
    println!(
        "gzip, generated text, ratio {:.3}; shared 2-vCPU machine",
        data.len() as f64 / z.len() as f64
    );
    measure(
        &e,
        "one-shot compress 8 MiB (1 stateless SQE)",
        data.len(),
        1,
        secs,
        || {
            s1.compress(&data).unwrap();
        },
    );
    measure(
        &e,
        "one-shot decompress 8 MiB (stream requests)",
        data.len(),
        1,
        secs,
        || {
            s1.decompress(&z).unwrap();
        },
    );
    let big = text(32 << 20);
    measure(
        &e,
        "one-shot compress 32 MiB, 1 thread (one device stream)",
        big.len(),
        1,
        secs,
        || {
            s1.compress(&big).unwrap();
        },
    );
    let s4 = session(4, DmaPolicy::Bounce, None);
    let (_, r) = s4.compress_report(&big).unwrap();
    measure(
        &e,
        &format!("one-shot compress 32 MiB, parallel blocks ({} queues)", r.threads),
        big.len(),
        r.threads,
        secs,
        || {
            s4.compress(&big).unwrap();
        },
    );
    for piece in [16 << 10, 128 << 10, 1 << 20] {
        for flush in [Flush::None, Flush::Sync] {
            measure(
                &e,
                &format!("stream compress 8 MiB in {} KiB writes, {flush:?}", piece >> 10),
                data.len(),
                1,
                secs,
                || {
                    let mut c = s1.compressor().unwrap();
                    let mut out = Vec::with_capacity(4 << 20);
                    for p in data.chunks(piece) {
                        c.compress_vec(p, &mut out, flush).unwrap();
                    }
                    c.compress_vec(&[], &mut out, Flush::Finish).unwrap();
                },
            );
        }
    }
    measure(
        &e,
        "stream decompress 8 MiB in 128 KiB reads",
        data.len(),
        1,
        secs,
        || {
            let mut d = s1.decompressor().unwrap();
            let mut out = Vec::with_capacity(9 << 20);
            for p in z.chunks(128 << 10) {
                d.decompress_vec(p, &mut out).unwrap();
            }
            d.finish().unwrap();
        },
    );
    // Batch: jobs of 256 KiB, N in flight from one thread, 2 devices × 2 queues.
    let job = text(256 << 10);
    for n in [1usize, 4, 16, 64] {
        let mut b = Batch::new(&s1, 1, 64).unwrap();
        measure(
            &e,
            &format!("batch compress 256 KiB jobs, {n} in flight"),
            job.len() * n,
            4,
            secs,
            || {
                for _ in 0..n {
                    b.submit(Direction::Compress, job.clone()).unwrap();
                }
                for c in b.drain() {
                    c.result.unwrap();
                }
            },
        );
    }
    // Input placement, with the emulator's IO page fault model off and on (5 µs per fault on
    // a page that is neither hugetlb nor locked; unpinned pages forgotten before every
    // request, i.e. fresh or migrated memory each time).
    let pool = Arc::new(PoolBuilder::new(4 << 20).chunks(4).build().unwrap());
    let small = text(2 << 20);
    let mut chunk = pool.try_alloc_owned().unwrap();
    chunk[..small.len()].copy_from_slice(&small);
    println!("pool: {}", pool.info().pinning);
    for iopf in [0u64, 5_000] {
        e.set_faults(Faults {
            iopf_ns: iopf,
            churn_every: if iopf > 0 { 1 } else { 0 },
            ..Faults::default()
        });
        for (label, policy, from_pool) in [
            ("zero copy (pool chunk)", DmaPolicy::Bounce, true),
            (
                "bounce (heap input copied to a pinned chunk)",
                DmaPolicy::Bounce,
                false,
            ),
            ("direct (heap input as it is)", DmaPolicy::Direct, false),
        ] {
            let s = session(1, policy, Some(pool.clone()));
            let input: &[u8] = if from_pool { &chunk[..small.len()] } else { &small };
            measure(
                &e,
                &format!("compress 2 MiB, {label}, iopf {iopf} ns"),
                small.len(),
                1,
                secs,
                || {
                    s.compress(input).unwrap();
                },
            );
            let c = s.counters();
            println!(
                "    bytes: zero copy {} / bounced {} / direct {}",
                c.dma_zero_copy_bytes, c.dma_bounced_bytes, c.dma_direct_bytes
            );
        }
    }
    e.set_faults(Faults::default());
    // The bounce copy itself: 2 MiB into a pinned chunk.
    let mut dst = pool.try_alloc_owned().unwrap();
    let t = Instant::now();
    let mut n = 0u32;
    while t.elapsed().as_secs_f64() < 0.5 {
        dst[..small.len()].copy_from_slice(std::hint::black_box(&small));
        n += 1;
    }
    let per = t.elapsed().as_secs_f64() / n as f64;
    println!(
        "bounce copy of 2 MiB: {:.3} ms ({:.0} MB/s)",
        per * 1e3,
        small.len() as f64 / per / 1e6
    );
    let sw = Session::new(Config {
        format: Format::Gzip,
        backend: Backend::Software,
        threads: 1,
        ..Config::default()
    })
    .unwrap();
    let t = Instant::now();
    let mut n = 0;
    while t.elapsed().as_secs_f64() < secs {
        sw.compress(&data).unwrap();
        n += 1;
    }
    println!(
        "software one-shot compress 8 MiB (for scale)                {:>8.1} MB/s",
        n as f64 * data.len() as f64 / t.elapsed().as_secs_f64() / 1e6
    );
}
