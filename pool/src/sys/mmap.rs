//! Anonymous memory mappings: creation, advice, pre-faulting, unmapping.

use std::io;
use std::ptr::NonNull;

/// `MADV_POPULATE_WRITE` (Linux 5.14+, include/uapi/asm-generic/mman-common.h): fault in
/// every page of a range writable, returning an error instead of raising SIGBUS when the
/// pages cannot be had (hugetlb pool empty on the bound node).
const MADV_POPULATE_WRITE: libc::c_int = 23;

/// An anonymous private mapping, unmapped on drop.
#[derive(Debug)]
pub(crate) struct Mapping {
    ptr: NonNull<u8>,
    len: usize,
}

// SAFETY: a Mapping is plain memory owned by this value; the pool hands out disjoint
// chunks of it and synchronises their ownership through its free list.
unsafe impl Send for Mapping {}
// SAFETY: see `Send`: shared access only reads the address and length.
unsafe impl Sync for Mapping {}

impl Mapping {
    /// Maps `len` bytes of private anonymous memory with the extra `flags`
    /// (e.g. `MAP_HUGETLB | MAP_HUGE_2MB`).
    pub(crate) fn anonymous(len: usize, flags: libc::c_int) -> io::Result<Self> {
        let ptr = raw_mmap(len, flags)?;
        Ok(Mapping { ptr, len })
    }

    /// Maps `len` bytes of anonymous memory whose start is aligned to `align` (a power of
    /// two multiple of the base page size), by over-mapping and trimming both ends.
    pub(crate) fn anonymous_aligned(len: usize, align: usize) -> io::Result<Self> {
        let span = len
            .checked_add(align)
            .ok_or_else(|| io::Error::from(io::ErrorKind::InvalidInput))?;
        let start = raw_mmap(span, 0)?.as_ptr() as usize;
        let aligned = (start + align - 1) & !(align - 1);
        let head = aligned - start;
        let tail = span - head - len;
        // SAFETY: [start, start+head) and [aligned+len, start+span) lie inside the mapping
        // just created and owned only here; unmapping them leaves exactly [aligned, +len),
        // which the returned Mapping owns. Zero-length pieces are skipped.
        unsafe {
            if head > 0 {
                libc::munmap(start as *mut libc::c_void, head);
            }
            if tail > 0 {
                libc::munmap((aligned + len) as *mut libc::c_void, tail);
            }
        }
        let ptr = NonNull::new(aligned as *mut u8)
            .ok_or_else(|| io::Error::other("aligned mapping address is NULL"))?;
        Ok(Mapping { ptr, len })
    }

    /// Start address.
    pub(crate) fn as_ptr(&self) -> *mut u8 {
        self.ptr.as_ptr()
    }

    /// Length in bytes.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// `madvise(2)` over the whole mapping.
    pub(crate) fn advise(&self, advice: libc::c_int) -> io::Result<()> {
        // SAFETY: the range is exactly this live mapping; advice values used here
        // (MADV_HUGEPAGE, MADV_POPULATE_WRITE) never discard data.
        let r = unsafe { libc::madvise(self.ptr.as_ptr().cast(), self.len, advice) };
        if r != 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }

    /// Faults in every page, writable. Uses `MADV_POPULATE_WRITE`, which reports a failure
    /// as an error; on kernels older than 5.14 (EINVAL) falls back to writing one byte per
    /// `page_size`, which is only safe where faults cannot fail (callers check free hugetlb
    /// pages first).
    pub(crate) fn prefault(&self, page_size: usize) -> io::Result<()> {
        match self.advise(MADV_POPULATE_WRITE) {
            Ok(()) => Ok(()),
            Err(e) if e.raw_os_error() == Some(libc::EINVAL) => {
                let base = self.ptr.as_ptr();
                let mut off = 0;
                while off < self.len {
                    // SAFETY: off < len, so base+off lies inside this mapping, which is
                    // readable and writable; a volatile read-modify-write of one byte keeps
                    // the content and forces a write fault.
                    unsafe {
                        let p = base.add(off);
                        p.write_volatile(p.read_volatile());
                    }
                    off += page_size;
                }
                Ok(())
            }
            Err(e) => Err(e),
        }
    }

    /// `mlock(2)` the whole mapping.
    pub(crate) fn lock(&self) -> io::Result<()> {
        // SAFETY: locks exactly this live mapping; no memory is read or written.
        if unsafe { libc::mlock(self.ptr.as_ptr().cast(), self.len) } != 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }

    /// `mincore(2)`: how many base pages of the mapping are resident.
    pub(crate) fn resident_pages(&self) -> io::Result<usize> {
        let page = base_page_size();
        let n = self.len.div_ceil(page);
        let mut vec = vec![0u8; n];
        // SAFETY: `vec` has one byte per base page of the range, as mincore requires; the
        // range is this live mapping.
        let r = unsafe { libc::mincore(self.ptr.as_ptr().cast(), self.len, vec.as_mut_ptr()) };
        if r != 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(vec.iter().filter(|b| **b & 1 != 0).count())
    }
}

impl Drop for Mapping {
    fn drop(&mut self) {
        // SAFETY: the mapping was created by mmap with exactly this address and length and
        // is unmapped once, here; no chunk handle outlives the pool that owns the mapping.
        let r = unsafe { libc::munmap(self.ptr.as_ptr().cast(), self.len) };
        if r != 0 {
            log::error!("munmap of pool memory failed: {}", io::Error::last_os_error());
        }
    }
}

fn raw_mmap(len: usize, flags: libc::c_int) -> io::Result<NonNull<u8>> {
    // SAFETY: a fresh anonymous mapping at an address of the kernel's choosing cannot
    // alias any existing Rust object; the result is checked for MAP_FAILED.
    let p = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            len,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | flags,
            -1,
            0,
        )
    };
    if p == libc::MAP_FAILED {
        return Err(io::Error::last_os_error());
    }
    NonNull::new(p.cast::<u8>()).ok_or_else(|| io::Error::other("mmap returned NULL"))
}

/// The base page size.
pub(crate) fn base_page_size() -> usize {
    // SAFETY: sysconf has no memory-safety preconditions.
    let v = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    if v > 0 {
        v as usize
    } else {
        4096
    }
}
