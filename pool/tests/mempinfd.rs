//! The long-term pinning path, against a kernel that has mempinfd.
//!
//! On ordinary kernels these tests check only that nothing claims a pin it does not have.
//! In the QEMU guest of `kernel/test.sh` (patched kernel, two NUMA nodes) the runner sets
//! `UADK_EXPECT_MEMPINFD=1`, and they check that the pool finds mempinfd through
//! `/sys/kernel/mempinfd/syscall_nr`, that its chunks do not migrate, that dropping the pool
//! unpins, and that with mempinfd disabled it reports its fallback honestly.

use uadk_pool::{MachineProbe, PageKind, PinLevel, PinVia, Pinning, PoolBuilder};

fn expect_mempinfd() -> bool {
    std::env::var_os("UADK_EXPECT_MEMPINFD").is_some()
}

fn vm_pin_kb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("VmPin:"))
        .map(|v| v.trim().trim_end_matches("kB").trim().parse().unwrap())
        .unwrap_or(0)
}

/// The node of the page at `p`.
fn node_of(p: *const u8) -> i32 {
    let pages = [p as *mut libc::c_void];
    let mut status = [-1i32];
    // SAFETY: move_pages(2) from libc's constant, with no target nodes: it only writes the
    // page's node into the one status slot; both arrays live across the call.
    unsafe {
        libc::syscall(
            libc::SYS_move_pages,
            0,
            1,
            pages.as_ptr(),
            std::ptr::null::<i32>(),
            status.as_mut_ptr(),
            0,
        );
    }
    status[0]
}

/// Asks the kernel to move the page at `p` to `node`; returns the node it is on afterwards.
fn move_page(p: *const u8, node: i32) -> i32 {
    let pages = [p as *mut libc::c_void];
    let nodes = [node];
    let mut status = [-1i32];
    // SAFETY: move_pages(2) from libc's constant; one page, one target node and one status
    // slot, all alive across the call; MPOL_MF_MOVE (2) moves only pages of this process.
    unsafe {
        libc::syscall(
            libc::SYS_move_pages,
            0,
            1,
            pages.as_ptr(),
            nodes.as_ptr(),
            status.as_mut_ptr(),
            2,
        );
    }
    node_of(p)
}

#[test]
fn pool_is_long_term_pinned_via_mempinfd_from_sysfs() {
    if !expect_mempinfd() {
        eprintln!("SKIP: not on a mempinfd kernel (kernel/test.sh runs this in QEMU)");
        return;
    }
    for kind in [PageKind::Normal, PageKind::Huge2M] {
        let before = vm_pin_kb();
        let pool = PoolBuilder::new(64 << 10)
            .chunks(32)
            .pages(kind)
            .require_pin(PinLevel::LongTermPinned)
            .build()
            .unwrap();
        match &pool.info().pinning {
            Pinning::LongTermPinned {
                via: PinVia::Mempinfd { source, nr },
                verified,
            } => {
                assert_eq!(source, uadk_pool::probe::MEMPINFD_SYSFS);
                assert_eq!(*nr, 500);
                assert!(verified, "VmPin must confirm the pin");
            }
            other => panic!("{kind}: expected a mempinfd pin, got {other}"),
        }
        assert_eq!(vm_pin_kb(), before + pool.info().region_bytes as u64 / 1024);
        // The chunks do not migrate.
        let c = pool.try_alloc().unwrap();
        let nodes = MachineProbe::read().numa_nodes;
        let here = node_of(c.as_ptr());
        let there = nodes
            .iter()
            .map(|n| *n as i32)
            .find(|n| *n != here)
            .expect("two nodes in the guest");
        assert_eq!(
            move_page(c.as_ptr(), there),
            here,
            "{kind}: a pinned chunk migrated"
        );
        drop(c);
        drop(pool);
        assert_eq!(vm_pin_kb(), before, "{kind}: dropping the pool unpins");
    }
}

#[test]
fn fallback_is_reported_when_mempinfd_is_off() {
    let pool = PoolBuilder::new(64 << 10)
        .chunks(8)
        .pages(PageKind::Normal)
        .mempinfd(false)
        .build()
        .unwrap();
    assert_ne!(
        pool.pin_level(),
        PinLevel::LongTermPinned,
        "{}",
        pool.info().pinning
    );
    assert_eq!(
        pool.info().pin_attempts[0].failure.as_deref(),
        Some("disabled by configuration")
    );
    // A page that is only locked still migrates: the difference the pin makes.
    if expect_mempinfd() {
        let c = pool.try_alloc().unwrap();
        let here = node_of(c.as_ptr());
        let there = if here == 0 { 1 } else { 0 };
        assert_eq!(move_page(c.as_ptr(), there), there, "a locked page moves");
    }
}
