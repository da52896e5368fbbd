//! Benchmarks (ignored by default; run in release, twice, on an idle machine):
//!
//! ```sh
//! cargo test --release -p uadk-wd-tests --test bench -- --ignored --nocapture --test-threads 1
//! ```
//!
//! - The ABI layer's cost: 64 KiB zlib level-1 requests through `wd_do_comp_sync` in C
//!   (libwd_comp.so.2, software) against the same work through uadk-zip's Rust API
//!   (`Session::compress_into` / `decompress_into`, same configuration), alternating in
//!   one run; best of several rounds each, in thread CPU time. Target: under 3%.
//! - UADK's block pool on uadk-pool against malloc/free of the same size (mempool_test
//!   --perf), in one process. Target: at least 3x.

use uadk_wd_tests::{text, Env};
use uadk_zip::{Backend, Config, Format, Session};

const LEN: usize = 64 * 1024;

/// This thread's CPU time in seconds (as the C side measures: robust on a loaded machine).
fn cpu_now() -> f64 {
    let mut t = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `t` is a valid timespec for the call to fill.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut t) };
    t.tv_sec as f64 + t.tv_nsec as f64 / 1e9
}

fn rust_best(f: &mut dyn FnMut(), seconds: f64) -> f64 {
    let mut best = f64::MAX;
    for _ in 0..3 {
        let t0 = cpu_now();
        let mut n = 0u64;
        while cpu_now() - t0 < seconds / 3.0 {
            f();
            n += 1;
        }
        best = best.min((cpu_now() - t0) / n as f64);
    }
    best * 1e9
}

#[test]
#[ignore = "benchmark: run with --release --ignored"]
fn abi_cost_at_64k() {
    let env = Env::get();
    let exe = env.compile("bench_comp");
    let s = Session::new(Config {
        format: Format::Zlib,
        level: 1,
        backend: Backend::Software,
        threads: 1,
        ..Config::default()
    })
    .unwrap();
    let src = text(LEN, 1);
    let mut z = vec![0u8; 2 * LEN];
    let zn = s.compress_into(&src, &mut z).unwrap();
    let mut back = vec![0u8; 2 * LEN];
    let (mut c_best, mut d_best, mut rc_best, mut rd_best) = (f64::MAX, f64::MAX, f64::MAX, f64::MAX);
    for _ in 0..3 {
        let out = env.run(
            &exe,
            &["1.5"],
            &[("UADK_SYSFS_ROOT", "/nonexistent"), ("WD_RS_QUIET", "1")],
        );
        let line = String::from_utf8_lossy(&out.stdout).into_owned();
        let l = line
            .lines()
            .find(|l| l.starts_with("bench:"))
            .expect("bench line");
        let f: Vec<f64> = l.split_whitespace().filter_map(|w| w.parse().ok()).collect();
        c_best = c_best.min(f[0]);
        d_best = d_best.min(f[1]);
        rc_best = rc_best.min(rust_best(
            &mut || {
                std::hint::black_box(s.compress_into(&src, &mut z).unwrap());
            },
            1.5,
        ));
        rd_best = rd_best.min(rust_best(
            &mut || {
                std::hint::black_box(s.decompress_into(&z[..zn], &mut back).unwrap());
            },
            1.5,
        ));
    }
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find(|l| l.starts_with("model name"))
                .map(str::to_string)
        })
        .unwrap_or_default();
    println!("{cpu}");
    println!(
        "64 KiB zlib L1 compress:   C via libwd_comp {c_best:.0} ns, Rust uadk-zip {rc_best:.0} ns, C/Rust {:.3}",
        c_best / rc_best
    );
    println!(
        "64 KiB zlib   decompress:  C via libwd_comp {d_best:.0} ns, Rust uadk-zip {rd_best:.0} ns, C/Rust {:.3}",
        d_best / rd_best
    );
}

#[test]
#[ignore = "benchmark: run with --release --ignored"]
fn blockpool_against_malloc() {
    let env = Env::get();
    let exe = env.compile("mempool_test");
    for size in ["4096", "65536"] {
        let out = env.run(&exe, &["--perf", "3", "--blk-size", size], &[]);
        assert!(out.status.success());
        let s = String::from_utf8_lossy(&out.stdout);
        let line = s.lines().find(|l| l.starts_with("perf:")).expect("perf line");
        println!("{line}");
    }
}
