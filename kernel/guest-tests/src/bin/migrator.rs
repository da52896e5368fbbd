//! `migrator PID ADDR...`: keeps moving the given pages of process PID between NUMA nodes
//! (move_pages(2), MPOL_MF_MOVE; one round every [`PAUSE`]) and forcing compaction
//! (/proc/sys/vm/compact_memory, at most every [`COMPACT_EVERY`]) until its standard input closes, then
//! prints one line of counters (it also stops after [`MAX_RUN`]):
//! `iterations=N attempts=N moved=N compactions=N compact_ms=N`.
//!
//! `attempts` counts page move requests, `moved` the pages whose node actually changed. Used
//! by the migration evidence test of kernel/test.sh's guest.

use std::io::Write;
use std::time::{Duration, Instant};

use uadk_kernel_guest::move_pages;

/// Pause between rounds. Without one, a migrator hammering pages the device is copying can
/// starve it: every attempt, even one that fails on a pinned page, unmaps the page for a
/// moment (migration entries) and the device's access waits.
const PAUSE: Duration = Duration::from_millis(2);

/// The migrator stops by itself after this long, so that a device access it starves cannot
/// stall longer (see the migration evidence test).
const MAX_RUN: Duration = Duration::from_secs(35);

/// Least time between two full compactions (each walks all of memory; in a TCG guest one
/// takes a noticeable fraction of a second).
const COMPACT_EVERY: Duration = Duration::from_millis(250);

fn usage() -> ! {
    eprintln!("usage: migrator PID HEXADDR...   (runs until stdin closes)");
    std::process::exit(2)
}

fn stdin_closed() -> bool {
    let mut p = libc::pollfd {
        fd: 0,
        events: libc::POLLIN,
        revents: 0,
    };
    // SAFETY: poll(2) on one valid pollfd that lives across the call, without waiting.
    let r = unsafe { libc::poll(&mut p, 1, 0) };
    r != 0
}

fn compact() -> bool {
    std::fs::write("/proc/sys/vm/compact_memory", "1").is_ok()
}

fn main() {
    let mut args = std::env::args().skip(1);
    let pid: i32 = args
        .next()
        .and_then(|a| a.parse().ok())
        .unwrap_or_else(|| usage());
    let pages: Vec<usize> = args
        .map(|a| usize::from_str_radix(a.trim_start_matches("0x"), 16).unwrap_or_else(|_| usage()))
        .collect();
    if pages.is_empty() {
        usage();
    }
    let n = pages.len();
    let (mut before, mut after, mut st) = (vec![0i32; n], vec![0i32; n], vec![0i32; n]);
    let mut target = vec![0i32; n];
    let (mut iterations, mut attempts, mut moved, mut compactions) = (0u64, 0u64, 0u64, 0u64);
    let mut compact_time = Duration::ZERO;
    let mut last_compact = Instant::now();
    let began = Instant::now();
    while !stdin_closed() && began.elapsed() < MAX_RUN {
        if move_pages(pid, &pages, None, &mut before) < 0 {
            break; // the target process is gone
        }
        for i in 0..n {
            target[i] = if before[i] == 0 { 1 } else { 0 };
        }
        move_pages(pid, &pages, Some(&target), &mut st);
        move_pages(pid, &pages, None, &mut after);
        for i in 0..n {
            if before[i] >= 0 {
                attempts += 1;
                if after[i] >= 0 && after[i] != before[i] {
                    moved += 1;
                }
            }
        }
        iterations += 1;
        if last_compact.elapsed() >= COMPACT_EVERY {
            let t = Instant::now();
            if compact() {
                compactions += 1;
                compact_time += t.elapsed();
            }
            last_compact = Instant::now();
        }
        std::thread::sleep(PAUSE);
    }
    let mut out = std::io::stdout().lock();
    let _ = writeln!(
        out,
        "iterations={iterations} attempts={attempts} moved={moved} compactions={compactions} compact_ms={}",
        compact_time.as_millis()
    );
}
