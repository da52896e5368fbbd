//! Mapped memory regions (device MMIO / DUS windows, emulator shared memory) and the only
//! code that reads or writes them.
//!
//! A [`Region`] owns one `mmap` and unmaps it on drop. Accessors are bounds-checked; an out
//! of range offset is a bug in the caller's layout arithmetic (all offsets are derived from
//! validated geometry) and panics rather than touching foreign memory.

use std::io;
use std::os::fd::{AsRawFd, BorrowedFd};
use std::ptr::NonNull;
use std::sync::atomic::{AtomicU16, AtomicU32, AtomicU64};

/// One mapping of shared memory.
///
/// Only the process that mapped a region unmaps it. uacce mappings are `VM_DONTCOPY` and the
/// emulator's are `MADV_DONTFORK` ([`Region::exclude_from_fork`]), so in a forked child the
/// range is a hole that anything may have filled since (the dynamic loader maps libraries
/// into such holes: an nginx worker loads `libnss_systemd` there when it switches user). A
/// child that drops a region it inherited therefore leaves the range alone; unmapping it
/// would unmap whatever lives there now.
#[derive(Debug)]
pub struct Region {
    ptr: NonNull<u8>,
    len: usize,
    /// The pid that created the mapping, the only process that may unmap it.
    owner: u32,
}

// SAFETY: a Region is a plain shared mapping; every access goes through volatile, atomic or
// explicitly ordered copies, and the mapping lives until drop. Sharing between threads is the
// whole point (producer and consumer of a ring run on different threads).
unsafe impl Send for Region {}
// SAFETY: see above; &Region only allows bounds-checked accesses.
unsafe impl Sync for Region {}

impl Region {
    /// Maps `len` bytes of `fd` at byte `offset`, shared and read/write.
    ///
    /// This is how both the kernel character device (offset = region type × page size) and
    /// the emulator's memfds (offset 0) are mapped.
    pub fn map_shared(fd: BorrowedFd<'_>, len: usize, offset: i64) -> io::Result<Region> {
        if len == 0 {
            return Err(io::Error::new(io::ErrorKind::InvalidInput, "zero-length region"));
        }
        // SAFETY: we pass a null hint, a non-zero length and a valid descriptor; the kernel
        // validates the rest and reports failure as MAP_FAILED.
        let p = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED,
                fd.as_raw_fd(),
                offset as libc::off_t,
            )
        };
        if p == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        let ptr = NonNull::new(p as *mut u8).ok_or_else(|| io::Error::other("mmap returned null"))?;
        Ok(Region {
            ptr,
            len,
            owner: std::process::id(),
        })
    }

    /// Maps `len` bytes of fresh zeroed anonymous shared memory (used by in-memory fakes).
    pub fn anonymous(len: usize) -> io::Result<Region> {
        if len == 0 {
            return Err(io::Error::new(io::ErrorKind::InvalidInput, "zero-length region"));
        }
        // SAFETY: anonymous mapping with a null hint; failure is reported as MAP_FAILED.
        let p = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        if p == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        let ptr = NonNull::new(p as *mut u8).ok_or_else(|| io::Error::other("mmap returned null"))?;
        Ok(Region {
            ptr,
            len,
            owner: std::process::id(),
        })
    }

    /// Keeps the mapping out of child processes (`MADV_DONTFORK`), as the kernel does for
    /// uacce regions (`VM_DONTCOPY`): a forked child must open its own queues.
    pub fn exclude_from_fork(&self) -> io::Result<()> {
        // SAFETY: advises on exactly the range this Region owns; no memory is accessed.
        let r = unsafe {
            libc::madvise(
                self.ptr.as_ptr() as *mut libc::c_void,
                self.len,
                libc::MADV_DONTFORK,
            )
        };
        if r < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }

    /// Length of the mapping in bytes.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Always false: regions are never empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Address of the first byte (for diagnostics and address-range checks).
    pub fn addr(&self) -> usize {
        self.ptr.as_ptr() as usize
    }

    #[inline(always)]
    fn at(&self, off: usize, size: usize, align: usize) -> *mut u8 {
        let end = off.checked_add(size);
        assert!(
            matches!(end, Some(e) if e <= self.len) && off.is_multiple_of(align),
            "region access out of bounds or misaligned: off {off} size {size} len {}",
            self.len
        );
        // SAFETY: off + size <= len, so the pointer stays inside the mapping.
        unsafe { self.ptr.as_ptr().add(off) }
    }

    /// Volatile 64-bit store (a doorbell write: one single store, never split).
    #[inline]
    pub fn write_u64_volatile(&self, off: usize, v: u64) {
        let p = self.at(off, 8, 8) as *mut u64;
        // SAFETY: in bounds and 8-byte aligned (checked by `at`); the mapping is writable.
        unsafe { p.write_volatile(v.to_le()) }
    }

    /// Volatile 32-bit load (status words).
    #[inline]
    pub fn read_u32_volatile(&self, off: usize) -> u32 {
        let p = self.at(off, 4, 4) as *const u32;
        // SAFETY: in bounds and aligned (checked by `at`).
        u32::from_le(unsafe { p.read_volatile() })
    }

    /// Volatile 32-bit store.
    #[inline]
    pub fn write_u32_volatile(&self, off: usize, v: u32) {
        let p = self.at(off, 4, 4) as *mut u32;
        // SAFETY: in bounds and aligned (checked by `at`).
        unsafe { p.write_volatile(v.to_le()) }
    }

    /// The 16-bit word at `off` viewed as an atomic (CQE phase word).
    #[inline]
    pub fn atomic_u16(&self, off: usize) -> &AtomicU16 {
        let p = self.at(off, 2, 2) as *const AtomicU16;
        // SAFETY: in bounds, aligned, and the mapping outlives the returned borrow of self.
        unsafe { &*p }
    }

    /// The 32-bit word at `off` viewed as an atomic.
    #[inline]
    pub fn atomic_u32(&self, off: usize) -> &AtomicU32 {
        let p = self.at(off, 4, 4) as *const AtomicU32;
        // SAFETY: in bounds, aligned, and the mapping outlives the returned borrow of self.
        unsafe { &*p }
    }

    /// The 64-bit word at `off` viewed as an atomic.
    #[inline]
    pub fn atomic_u64(&self, off: usize) -> &AtomicU64 {
        let p = self.at(off, 8, 8) as *const AtomicU64;
        // SAFETY: in bounds, aligned, and the mapping outlives the returned borrow of self.
        unsafe { &*p }
    }

    /// Copies `src` into the region at `off`. Ordering with the other side is established by
    /// the caller's fences/atomics (e.g. the barrier before a doorbell).
    #[inline]
    pub fn write_bytes(&self, off: usize, src: &[u8]) {
        let p = self.at(off, src.len(), 1);
        // SAFETY: destination range is inside the mapping; source is a distinct Rust slice
        // (it cannot alias the mapping through safe code).
        unsafe { std::ptr::copy_nonoverlapping(src.as_ptr(), p, src.len()) }
    }

    /// Copies bytes at `off` out of the region into `dst`.
    #[inline]
    pub fn read_bytes(&self, off: usize, dst: &mut [u8]) {
        let p = self.at(off, dst.len(), 1);
        // SAFETY: source range is inside the mapping; `dst` is a distinct Rust slice.
        unsafe { std::ptr::copy_nonoverlapping(p as *const u8, dst.as_mut_ptr(), dst.len()) }
    }

    /// Fills `len` bytes at `off` with `byte`.
    pub fn fill(&self, off: usize, len: usize, byte: u8) {
        let p = self.at(off, len, 1);
        // SAFETY: the range is inside the mapping.
        unsafe { std::ptr::write_bytes(p, byte, len) }
    }
}

impl Drop for Region {
    fn drop(&mut self) {
        if std::process::id() != self.owner {
            // A forked child: the mapping is not ours (see the type's docs).
            return;
        }
        // SAFETY: ptr/len describe exactly the mapping created in the constructor, in this
        // process, and no borrow of it can outlive `self`.
        unsafe {
            libc::munmap(self.ptr.as_ptr() as *mut libc::c_void, self.len);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What an nginx worker hit: the parent's queue region is a hole in the forked child,
    /// the loader maps a library into it, and the child's first request drops the inherited
    /// queue. The library's pages must survive.
    #[test]
    fn a_forked_child_never_unmaps_what_now_fills_an_excluded_region() {
        const LEN: usize = 4 * 4096;
        let r = Region::anonymous(LEN).unwrap();
        r.exclude_from_fork().unwrap();
        r.write_u64_volatile(0, 7);
        let addr = r.addr();
        // SAFETY: the child calls only mmap, msync, getpid (in `drop`) and `_exit`.
        let pid = unsafe { libc::fork() };
        assert!(pid >= 0, "fork failed");
        if pid == 0 {
            // SAFETY: maps fresh anonymous memory only where nothing is mapped
            // (MAP_FIXED_NOREPLACE fails otherwise): the hole the excluded region left.
            let p = unsafe {
                libc::mmap(
                    addr as *mut libc::c_void,
                    LEN,
                    libc::PROT_READ | libc::PROT_WRITE,
                    libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_FIXED_NOREPLACE,
                    -1,
                    0,
                )
            };
            if p as usize != addr {
                // SAFETY: ends the child at once.
                unsafe { libc::_exit(2) };
            }
            // SAFETY: `p` is our fresh mapping of LEN bytes.
            unsafe { *(p as *mut u8) = 0x5a };
            drop(r);
            // msync fails with ENOMEM on an unmapped range, without a fault.
            // SAFETY: only asks the kernel about the range; reads it if still mapped.
            let ok = unsafe { libc::msync(p, LEN, libc::MS_ASYNC) == 0 && *(p as *const u8) == 0x5a };
            // SAFETY: ends the child without running the parent's destructors.
            unsafe { libc::_exit(if ok { 0 } else { 1 }) };
        }
        let mut status = 0;
        // SAFETY: waits for our own child; `status` is a valid out pointer.
        assert_eq!(unsafe { libc::waitpid(pid, &mut status, 0) }, pid);
        assert!(libc::WIFEXITED(status), "child status {status:#x}");
        match libc::WEXITSTATUS(status) {
            0 => {}
            1 => panic!("the child's drop unmapped what the loader put in the hole"),
            c => panic!("the excluded region was not a hole in the child (exit {c})"),
        }
        // The parent's mapping is untouched.
        assert_eq!(r.read_u32_volatile(0), 7);
    }

    #[test]
    fn anonymous_region_round_trips_words_and_bytes() {
        let r = Region::anonymous(4096).unwrap();
        r.write_u64_volatile(8, 0x1122_3344_5566_7788);
        assert_eq!(
            r.atomic_u64(8).load(std::sync::atomic::Ordering::Relaxed),
            0x1122_3344_5566_7788
        );
        r.write_u32_volatile(4092, 1);
        assert_eq!(r.read_u32_volatile(4092), 1);
        r.write_bytes(100, b"hello");
        let mut b = [0u8; 5];
        r.read_bytes(100, &mut b);
        assert_eq!(&b, b"hello");
    }

    #[test]
    #[should_panic(expected = "out of bounds")]
    fn out_of_bounds_access_is_caught() {
        let r = Region::anonymous(4096).unwrap();
        r.read_u32_volatile(4094);
    }
}
