//! Helpers for the guest-only tests of `kernel/test.sh`: finding the software uacce ZIP
//! device, building QM v2 ZIP descriptors by hand (reference §6.1), switching the device's
//! `pinned_only` parameter, and asking the kernel where a page lives.
//!
//! Everything here is meant for the QEMU guest, whose runner sets `UADK_EXPECT_UACCE=1`;
//! [`in_guest`] tells tests to skip (with a printed reason) anywhere else.

use std::time::Duration;

use uadk_core::discovery::{self, Device, Roots};
use uadk_core::qm::{QueueOptions, QueuePair, Sqe, TagField};
use uadk_core::request::WaitPolicy;

/// The runtime switch of the software device (`soft_qm.pinned_only`).
pub const PINNED_ONLY: &str = "/sys/module/soft_qm/parameters/pinned_only";

/// dw0: input bytes consumed.
pub const OFF_CONSUMED: usize = 0;
/// dw1: output bytes produced.
pub const OFF_PRODUCED: usize = 4;
/// dw3: status (7:0) and last-block bit (8).
pub const OFF_DW3: usize = 12;
/// Request type zlib.
pub const HW_ZLIB: u32 = 2;
/// Success.
pub const ST_OK: u32 = 0x00;
/// Decompression reached the end of the stream.
pub const ST_DECOMP_END: u32 = 0x13;
/// The device could not use a client buffer (here: a page not long-term pinned).
pub const ST_ADDR_FAULT: u32 = 0x35;

/// True in the `kernel/test.sh` guest; otherwise prints why the caller skips.
pub fn in_guest() -> bool {
    if std::env::var_os("UADK_EXPECT_UACCE").is_some() {
        return true;
    }
    eprintln!(
        "SKIP: not in the kernel/test.sh guest (UADK_EXPECT_UACCE unset); this needs the \
         software uacce device of the patched test kernel"
    );
    false
}

/// The software ZIP device as discovery sees it in the real `/sys/class/uacce`.
pub fn zip_device() -> Device {
    discovery::scan(&Roots::default())
        .devices
        .into_iter()
        .find(|d| d.name.starts_with("hisi_zip-"))
        .expect("a hisi_zip uacce device in /sys/class/uacce")
}

/// Opens a queue of direction `qc_type` (0 compress, 1 decompress) with the QM v2 ZIP tag.
pub fn open_queue(dev: &Device, qc_type: u16) -> QueuePair {
    QueuePair::open(
        dev,
        QueueOptions {
            qc_type,
            tag: TagField::ZIP_V2,
            ..Default::default()
        },
    )
    .unwrap_or_else(|e| panic!("open a queue on {}: {e}", dev.name))
}

/// A stateless flat-buffer zlib request (SQE type 0, 32 KiB window, flush).
pub fn zlib_sqe(src: *const u8, in_len: usize, dst: *mut u8, avail_out: usize) -> Sqe {
    let mut s = Sqe::zeroed();
    s.set_u32(16, in_len as u32);
    s.set_u32(28, 1 << 25);
    s.set_u32(36, HW_ZLIB | (4 << 12));
    s.set_u32(56, avail_out as u32);
    s.set_u64(72, src as u64);
    s.set_u64(80, dst as u64);
    s
}

/// dw3 bits 7:0.
pub fn status(s: &Sqe) -> u32 {
    s.u32(OFF_DW3) & 0xff
}

/// Runs one request synchronously.
///
/// # Safety
/// The buffers the descriptor names must be valid for the device to read (source) and write
/// (destination) until this returns.
pub unsafe fn run(q: &QueuePair, s: &Sqe) -> Sqe {
    // SAFETY: the caller keeps the named buffers alive across this synchronous call.
    unsafe { q.submit_sync(s, &WaitPolicy::with_timeout(Duration::from_secs(30))) }
        .unwrap_or_else(|e| panic!("request failed on the queue: {e}"))
}

/// Adler-32 of `data` (RFC 1950).
pub fn adler32(data: &[u8]) -> u32 {
    let (mut a, mut b) = (1u32, 0u32);
    for chunk in data.chunks(5552) {
        for &x in chunk {
            a += x as u32;
            b += a;
        }
        a %= 65521;
        b %= 65521;
    }
    (b << 16) | a
}

/// Compressible text of `len` bytes.
pub fn text(len: usize, seed: u32) -> Vec<u8> {
    let words: [&[u8]; 6] = [
        b"pinned ",
        b"page ",
        b"migrate ",
        b"compact ",
        b"queue ",
        b"node\n",
    ];
    let mut x = seed | 1;
    let mut v = Vec::with_capacity(len + 16);
    while v.len() < len {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        v.extend_from_slice(words[(x % 6) as usize]);
    }
    v.truncate(len);
    v
}

/// Sets `soft_qm.pinned_only` for its lifetime.
pub struct PinnedOnly;

impl PinnedOnly {
    /// Turns the parameter on.
    pub fn set() -> PinnedOnly {
        std::fs::write(PINNED_ONLY, "1").expect("write soft_qm.pinned_only (needs root)");
        PinnedOnly
    }
}

impl Drop for PinnedOnly {
    fn drop(&mut self) {
        let _ = std::fs::write(PINNED_ONLY, "0");
    }
}

/// `move_pages(2)` for `pid` (0 = this process): with `nodes` `None` only queries, writing
/// each page's node (or a negative errno) into `status`; otherwise asks to move page `i` to
/// `nodes[i]` (`MPOL_MF_MOVE`: pages mapped only by that process). Returns the syscall's
/// result (negative errno on failure of the call itself).
pub fn move_pages(pid: i32, pages: &[usize], nodes: Option<&[i32]>, status: &mut [i32]) -> i64 {
    assert_eq!(pages.len(), status.len());
    if let Some(n) = nodes {
        assert_eq!(n.len(), pages.len());
    }
    const MPOL_MF_MOVE: i32 = 1 << 1;
    // SAFETY: move_pages(2) by libc's constant; `pages`, `nodes` and `status` hold
    // `pages.len()` entries each and outlive the call; the kernel validates the addresses.
    let r = unsafe {
        libc::syscall(
            libc::SYS_move_pages,
            pid,
            pages.len() as libc::c_ulong,
            pages.as_ptr(),
            nodes.map_or(std::ptr::null(), |n| n.as_ptr()),
            status.as_mut_ptr(),
            MPOL_MF_MOVE,
        )
    };
    if r < 0 {
        -(std::io::Error::last_os_error()
            .raw_os_error()
            .unwrap_or(libc::EIO) as i64)
    } else {
        r
    }
}

/// The page-aligned addresses of every page of `[p, p + len)`.
pub fn pages_of(p: *const u8, len: usize) -> Vec<usize> {
    let page = uadk_core::sys::page_size();
    let start = p as usize & !(page - 1);
    let end = p as usize + len;
    (start..end).step_by(page).collect()
}

/// Percentile `q` (0..=100) of sorted samples.
pub fn percentile(sorted: &[Duration], q: usize) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() - 1) * q + 50) / 100;
    sorted[i.min(sorted.len() - 1)]
}
