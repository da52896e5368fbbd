//! The memory itself: hugetlb backing, the hugepage error, residency and locking, NUMA
//! placement, and the pin level under a lowered RLIMIT_MEMLOCK.

use std::os::unix::process::CommandExt;
use std::process::Command;
use uadk_pool::{Backing, MachineProbe, PageKind, PinLevel, Pinning, PoolBuilder, PoolError};

/// The smaps block of the mapping that starts at `start`.
fn smaps_of(start: usize) -> String {
    let s = std::fs::read_to_string("/proc/self/smaps").unwrap();
    let head = format!("{start:x}-");
    let mut out = String::new();
    let mut inside = false;
    for line in s.lines() {
        let is_header = line
            .split_whitespace()
            .next()
            .is_some_and(|w| w.contains('-') && !w.ends_with(':'));
        if is_header {
            inside = line.starts_with(&head);
        }
        if inside {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

fn smaps_kb(block: &str, field: &str) -> u64 {
    block
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or_else(|| panic!("no {field} in\n{block}"))
}

#[test]
fn hugetlb_2m_backing() {
    let probe = MachineProbe::read();
    let free = probe.free_hugepages(2048, None);
    if free < 2 {
        eprintln!("SKIP hugetlb_2m_backing: {free} free 2 MiB hugepages (reserve with `echo 64 > /proc/sys/vm/nr_hugepages`)");
        return;
    }
    let pool = PoolBuilder::new(1 << 20)
        .chunks(4)
        .pages(PageKind::Huge2M)
        .build()
        .unwrap();
    assert_eq!(pool.info().backing, Backing::Hugetlb2M);
    assert_eq!(pool.info().page_size, 2 << 20);
    let sm = smaps_of(pool.region().start);
    assert_eq!(smaps_kb(&sm, "KernelPageSize"), 2048, "{sm}");
    assert!(pool.pin_level() >= PinLevel::Resident);
    let mut c = pool.try_alloc().unwrap();
    c.fill(0xa5);
    assert!(c.iter().all(|b| *b == 0xa5));
}

#[test]
fn required_hugepages_missing_is_a_helpful_error() {
    let probe = MachineProbe::read();
    // Ask for more 2 MiB pages than the machine could ever give: more than are reserved
    // (system-wide or summed over the nodes, whichever is larger) plus the overcommit
    // allowance. Counting only the free ones would race with the other tests of this binary,
    // which hold and release hugepages meanwhile.
    let total = |per_node: bool| -> u64 {
        probe
            .hugepages
            .iter()
            .filter(|h| h.size_kib == 2048 && h.node.is_some() == per_node)
            .map(|h| h.total)
            .sum()
    };
    let overcommit: u64 = std::fs::read_to_string("/proc/sys/vm/nr_overcommit_hugepages")
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(0);
    let ceiling = total(true).max(total(false)) + overcommit;
    let free = probe.free_hugepages(2048, None);
    let chunks = ((ceiling + 1) * 2) as u32 + 2; // 1 MiB chunks: (ceiling+1) pages and more
    let e = PoolBuilder::new(1 << 20)
        .chunks(chunks)
        .pages(PageKind::Huge2M)
        .build()
        .unwrap_err();
    match &e {
        PoolError::HugepagesUnavailable { needed, .. } => assert!(*needed > free),
        other => panic!("expected HugepagesUnavailable, got {other:?}"),
    }
    let msg = e.to_string();
    assert!(msg.contains("nr_hugepages") && msg.contains("fallback"), "{msg}");
    // With fallback allowed the same request succeeds on weaker pages.
    let pool = PoolBuilder::new(1 << 20)
        .chunks(chunks.min(16))
        .pages(PageKind::Huge2M)
        .fallback(true)
        .build()
        .unwrap();
    assert!(!pool.info().passed_over.is_empty() || pool.info().backing == Backing::Hugetlb2M);
}

#[test]
fn pages_are_resident_and_locked_after_creation() {
    let pool = PoolBuilder::new(64 << 10)
        .chunks(16)
        .pages(PageKind::Normal)
        .build()
        .unwrap();
    let pages = pool.info().region_bytes / MachineProbe::read().base_page_size;
    assert_eq!(pool.resident_pages().unwrap(), pages, "every page pre-faulted");
    let sm = smaps_of(pool.region().start);
    assert_eq!(
        smaps_kb(&sm, "Rss") * 1024,
        pool.info().region_bytes as u64,
        "{sm}"
    );
    match &pool.info().pinning {
        Pinning::LongTermPinned { verified, .. } => {
            // A kernel with mempinfd (the QEMU guest of kernel/test.sh): pinned and confirmed.
            assert!(verified, "VmPin did not confirm the pin");
            assert_eq!(pool.stats().bytes_pinned, pool.info().region_bytes);
        }
        Pinning::Locked => {
            assert_eq!(
                smaps_kb(&sm, "Locked") * 1024,
                pool.info().region_bytes as u64,
                "{sm}"
            );
            assert_eq!(pool.stats().bytes_pinned, pool.info().region_bytes);
        }
        other => {
            // mlock was refused (small RLIMIT_MEMLOCK, no CAP_IPC_LOCK): the pool says why.
            let why = &pool
                .info()
                .pin_attempts
                .iter()
                .find(|a| a.strategy == "mlock")
                .unwrap()
                .failure;
            eprintln!("SKIP lock check: pool is {other}: {why:?}");
            assert!(why.as_ref().unwrap().contains("RLIMIT_MEMLOCK"));
        }
    }
}

#[test]
fn numa_placement_is_reported() {
    let probe = MachineProbe::read();
    let node = probe.numa_nodes[0];
    let pool = PoolBuilder::new(64 << 10)
        .chunks(8)
        .node(Some(node))
        .build()
        .unwrap();
    let pl = &pool.info().placement;
    assert_eq!(pl.on_requested_node, Some(true), "{pl:?}");
    assert_eq!(pl.main_node(), Some(node));
    assert!(pl.sampled > 0);
    assert_eq!(pool.stats().placement_node, Some(node));
    let e = PoolBuilder::new(4096).node(Some(4000)).build().unwrap_err();
    assert!(matches!(e, PoolError::NodeUnavailable { node: 4000, .. }), "{e}");
}

#[test]
fn mempinfd_is_never_probed() {
    if std::env::var_os("UADK_MEMPINFD_NR").is_some()
        || std::path::Path::new(uadk_pool::probe::MEMPINFD_SYSFS).exists()
    {
        eprintln!("SKIP mempinfd_is_never_probed: this machine states a mempinfd number");
        return;
    }
    let pool = PoolBuilder::new(4096).chunks(1).build().unwrap();
    let a = &pool.info().pin_attempts[0];
    assert_eq!(a.strategy, "mempinfd");
    assert!(a.failure.as_ref().unwrap().contains("no mempinfd"), "{a:?}");
    assert!(!matches!(pool.info().pinning, Pinning::LongTermPinned { .. }));
}

/// Runs in a child whose RLIMIT_MEMLOCK is 64 KiB and that has no CAP_IPC_LOCK.
#[test]
fn lowered_memlock_limit_downgrades_or_fails() {
    if std::env::var_os("UADK_POOL_TEST_CHILD").is_some() {
        // The child: 1 MiB of normal pages cannot be locked under a 64 KiB limit.
        let pool = PoolBuilder::new(64 << 10)
            .chunks(16)
            .pages(PageKind::Normal)
            .build()
            .unwrap();
        assert_eq!(pool.info().pinning, Pinning::Unpinned);
        let why = pool
            .info()
            .pin_attempts
            .iter()
            .find(|a| a.strategy == "mlock")
            .unwrap();
        let why = why.failure.as_ref().unwrap();
        assert!(
            why.contains("RLIMIT_MEMLOCK is 65536 bytes") && why.contains("lacks CAP_IPC_LOCK"),
            "{why}"
        );
        let e = PoolBuilder::new(64 << 10)
            .chunks(16)
            .pages(PageKind::Normal)
            .require_pin(PinLevel::Locked)
            .build()
            .unwrap_err();
        let msg = e.to_string();
        assert!(matches!(
            e,
            PoolError::PinBelowRequired {
                got: PinLevel::Unpinned,
                required: PinLevel::Locked,
                ..
            }
        ));
        assert!(msg.contains("RLIMIT_MEMLOCK is 65536 bytes"), "{msg}");
        println!("CHILD-OK");
        return;
    }
    let exe = std::env::current_exe().unwrap();
    let mut cmd = Command::new(exe);
    cmd.args([
        "--exact",
        "lowered_memlock_limit_downgrades_or_fails",
        "--nocapture",
        "--test-threads=1",
    ])
    .env("UADK_POOL_TEST_CHILD", "1");
    // SAFETY: between fork and exec the closure only calls setrlimit and prctl, both
    // async-signal-safe, touching no memory shared with other threads.
    unsafe {
        cmd.pre_exec(|| {
            let lim = libc::rlimit {
                rlim_cur: 64 << 10,
                rlim_max: 64 << 10,
            };
            if libc::setrlimit(libc::RLIMIT_MEMLOCK, &lim) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            // Drop CAP_IPC_LOCK (14) from the bounding set so that even root's exec does
            // not get it back; fails harmlessly (EPERM) when we are not privileged.
            libc::prctl(libc::PR_CAPBSET_DROP, 14, 0, 0, 0);
            Ok(())
        });
    }
    let out = cmd.output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success() && text.contains("CHILD-OK"),
        "child failed:\n{text}"
    );
}
