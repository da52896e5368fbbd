//! NUMA system calls: binding a range to a node and asking where its pages are.

use std::io;

/// `MPOL_BIND` from include/uapi/linux/mempolicy.h.
const MPOL_BIND: libc::c_int = 2;

/// Binds `[addr, addr+len)` to `node` with `mbind(MPOL_BIND)`. Must run before the first
/// touch so that every page is allocated on the node.
pub(crate) fn bind(addr: *mut u8, len: usize, node: u32) -> io::Result<()> {
    let words = node as usize / 64 + 1;
    let mut mask = vec![0u64; words];
    mask[node as usize / 64] |= 1u64 << (node % 64);
    // The kernel reads `maxnode - 1` bits (get_nodes() decrements it), so pass one more
    // than the mask's bit count.
    let maxnode = (words * 64 + 1) as libc::c_ulong;
    // SAFETY: SYS_mbind is the mainline mbind(2) number from libc; `mask` holds `words`
    // u64s that live across the call; the range is a mapping the caller owns.
    let r = unsafe {
        libc::syscall(
            libc::SYS_mbind,
            addr as libc::c_ulong,
            len as libc::c_ulong,
            MPOL_BIND as libc::c_ulong,
            mask.as_ptr() as libc::c_ulong,
            maxnode,
            0 as libc::c_ulong,
        )
    };
    if r != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// The node of each page starting at `addr`, one entry per `stride` bytes, through
/// `move_pages(2)` with no target nodes (a query that moves nothing). Negative entries are
/// `-errno` for that page (e.g. `-ENOENT`: not present).
pub(crate) fn page_nodes(addr: *mut u8, len: usize, stride: usize) -> io::Result<Vec<i32>> {
    let count = len.div_ceil(stride);
    let pages: Vec<*mut libc::c_void> = (0..count)
        .map(|i| (addr as usize + i * stride) as *mut libc::c_void)
        .collect();
    let mut status = vec![0i32; count];
    // SAFETY: SYS_move_pages is the mainline move_pages(2) number from libc. With a NULL
    // `nodes` argument the kernel only writes each page's node into `status`, which has
    // `count` entries like `pages`; pid 0 means this process.
    let r = unsafe {
        libc::syscall(
            libc::SYS_move_pages,
            0 as libc::c_ulong,
            count as libc::c_ulong,
            pages.as_ptr(),
            std::ptr::null::<libc::c_int>(),
            status.as_mut_ptr(),
            0 as libc::c_ulong,
        )
    };
    if r < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(status)
}
