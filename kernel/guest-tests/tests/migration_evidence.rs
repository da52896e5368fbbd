//! What long-term pinning buys, measured: device-path requests (zlib compression of 64 KiB
//! on the software uacce device) while another process keeps migrating the buffer pages
//! between the two NUMA nodes and forcing compaction (the `migrator` program), once with
//! buffers from a mempinfd-pinned pool and once with plain heap buffers; plus both without
//! the migrator as the baseline. Prints one `EVIDENCE` line per run (latency p50/p99/max and
//! how many buffer pages moved) and checks what must hold: every request succeeds with a
//! correct result, pinned pages never move, heap pages do.
//!
//! The figures come from a QEMU TCG guest and a software device, so they show the mechanism
//! (a device access waits for a page under migration; a pinned page is never under
//! migration), not hardware numbers.

use std::io::Read;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use uadk_core::request::WaitPolicy;
use uadk_kernel_guest::*;
use uadk_pool::{PageKind, PinLevel, PoolBuilder};

/// Time budget of one run: requests stop after this even if fewer than asked ran.
const BUDGET: Duration = Duration::from_secs(30);

/// `pid comm state` of every task, and of the kernel's soft_qm threads their kernel stack
/// where the kernel offers it: what was blocked when a request stalled.
fn task_states() -> String {
    let mut out = String::new();
    for e in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let p = e.path();
        if let Ok(stat) = std::fs::read_to_string(p.join("stat")) {
            let wchan = std::fs::read_to_string(p.join("wchan")).unwrap_or_default();
            let syscall = std::fs::read_to_string(p.join("syscall")).unwrap_or_default();
            let f: Vec<&str> = stat.split_whitespace().collect();
            if f.len() > 3 {
                out += &format!(
                    "task {} {} {} wchan {} syscall {}\n",
                    f[0],
                    f[1],
                    f[2],
                    wchan.trim(),
                    syscall.trim()
                );
            }
        }
    }
    out
}

struct Counts {
    iterations: u64,
    attempts: u64,
    moved: u64,
    compactions: u64,
    compact_ms: u64,
}

fn start_migrator(exe: &str, pages: &[usize]) -> Child {
    let mut c = Command::new(exe);
    c.arg(std::process::id().to_string());
    c.args(pages.iter().map(|p| format!("{p:x}")));
    c.stdin(Stdio::piped()).stdout(Stdio::piped());
    c.spawn().unwrap_or_else(|e| panic!("start {exe}: {e}"))
}

fn stop_migrator(mut child: Child) -> Counts {
    drop(child.stdin.take());
    let mut s = String::new();
    child.stdout.take().unwrap().read_to_string(&mut s).unwrap();
    let st = child.wait().unwrap();
    assert!(st.success(), "migrator: {st}");
    let get = |k: &str| -> u64 {
        s.split_whitespace()
            .find_map(|kv| kv.strip_prefix(k).and_then(|v| v.strip_prefix('=')))
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("migrator output `{s}` lacks {k}"))
    };
    Counts {
        iterations: get("iterations"),
        attempts: get("attempts"),
        moved: get("moved"),
        compactions: get("compactions"),
        compact_ms: get("compact_ms"),
    }
}

#[test]
fn pinned_buffers_do_not_move_under_the_device_and_heap_buffers_do() {
    if !in_guest() {
        return;
    }
    let migrator = std::env::var("UADK_MIGRATOR").expect("UADK_MIGRATOR names the migrator program");
    let requests: usize = std::env::var("UADK_EVIDENCE_REQUESTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(250);
    let dev = zip_device();
    let comp = open_queue(&dev, 0);
    let len = 64 << 10;
    let cap = len + len / 8 + 1024;
    let data = text(len, 77);
    let check = adler32(&data);

    let pool = PoolBuilder::new(128 << 10)
        .chunks(4)
        .pages(PageKind::Normal)
        .require_pin(PinLevel::LongTermPinned)
        .build()
        .expect("a long-term pinned pool (mempinfd)");
    let mut psrc = pool.try_alloc().unwrap();
    let mut pdst = pool.try_alloc().unwrap();
    psrc[..len].copy_from_slice(&data);
    let hsrc = data.clone();
    let mut hdst = vec![0u8; cap];

    let mut results = Vec::new();
    for (name, pinned, migrate) in [
        ("pinned pool, idle", true, false),
        ("heap, idle", false, false),
        ("pinned pool, migrating", true, true),
        ("heap, migrating", false, true),
    ] {
        let (src, dst): (*const u8, *mut u8) = if pinned {
            (psrc.as_ptr(), pdst.as_mut_ptr())
        } else {
            (hsrc.as_ptr(), hdst.as_mut_ptr())
        };
        let mut pages = pages_of(src, len);
        pages.extend(pages_of(dst, cap));
        let child = migrate.then(|| start_migrator(&migrator, &pages));
        if migrate {
            std::thread::sleep(Duration::from_millis(100));
        }
        let mut lat = Vec::with_capacity(requests);
        let began = Instant::now();
        let wait = WaitPolicy::with_timeout(Duration::from_secs(
            std::env::var("UADK_EVIDENCE_TIMEOUT_S")
                .ok()
                .and_then(|v| v.parse().ok())
                .unwrap_or(90),
        ));
        for i in 0..requests {
            if began.elapsed() > BUDGET {
                break;
            }
            let s = zlib_sqe(src, len, dst, cap);
            let t = Instant::now();
            // SAFETY: the chunks and vectors named live until the end of the test and are
            // not touched by Rust code while a request runs.
            let done = unsafe { comp.submit_sync(&s, &wait) }
                .unwrap_or_else(|e| panic!("{name}: request {i}: {e}\n{}", task_states()));
            lat.push(t.elapsed());
            assert_eq!(status(&done), ST_OK, "{name}: request {i}");
            let n = done.u32(OFF_PRODUCED) as usize;
            // SAFETY: the device wrote `n` <= cap bytes at `dst`, a live buffer of cap bytes.
            let out = unsafe { std::slice::from_raw_parts(dst, n) };
            assert_eq!(out[n - 4..], check.to_be_bytes(), "{name}: request {i}");
        }
        let counts = child.map(stop_migrator);
        lat.sort();
        let us = |d: Duration| d.as_micros();
        let (p50, p99, max) = (percentile(&lat, 50), percentile(&lat, 99), *lat.last().unwrap());
        let moves = match &counts {
            Some(c) => format!(
                "; buffer pages moved {} of {} move attempts ({} migrator rounds, {} compactions taking {} ms)",
                c.moved, c.attempts, c.iterations, c.compactions, c.compact_ms
            ),
            None => String::new(),
        };
        let line = format!(
            "EVIDENCE {name}: {} requests of {} KiB in {:.1} s, latency p50 {} us, p99 {} us, max {} us{moves}",
            lat.len(),
            len >> 10,
            began.elapsed().as_secs_f64(),
            us(p50),
            us(p99),
            us(max)
        );
        println!("{line}");
        // The guest runner prints this file after the run (the test harness captures stdout).
        if let Some(path) = std::env::var_os("UADK_EVIDENCE_OUT") {
            use std::io::Write;
            let mut f = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .expect("open UADK_EVIDENCE_OUT");
            writeln!(f, "{line}").expect("write UADK_EVIDENCE_OUT");
        }
        results.push((name, pinned, counts));
    }
    for (name, pinned, counts) in results {
        if let Some(c) = counts {
            assert!(c.attempts > 0, "{name}: the migrator made no attempts");
            if pinned {
                assert_eq!(c.moved, 0, "{name}: a pinned page moved");
            } else {
                assert!(
                    c.moved > 0,
                    "{name}: no heap page moved (migration not exercised)"
                );
            }
        }
    }
}
