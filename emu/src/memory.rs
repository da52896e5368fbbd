//! Device access to client memory by virtual address — the SVA model.
//!
//! A client in the emulator's own process is accessed directly; a client in another process
//! through `process_vm_readv`/`process_vm_writev` with the pid from `SO_PEERCRED`. Before an
//! access, the [IO page fault model](crate::iopf) may charge latency.

use crate::iopf::IopfModel;

/// Why an access failed (the device reports it as an address fault).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemFault(pub String);

/// Chunk size of cross-process copies.
const CHUNK: usize = 1 << 20;

/// One client's address space as seen by one engine.
#[derive(Debug)]
pub struct ClientMem {
    pid: u32,
    local: bool,
    scratch: Vec<u8>,
    iopf: IopfModel,
}

impl ClientMem {
    /// Memory of process `pid` (direct access if it is this process).
    pub fn new(pid: u32) -> ClientMem {
        ClientMem {
            pid,
            local: pid == std::process::id(),
            scratch: Vec::new(),
            iopf: IopfModel::new(pid),
        }
    }

    /// True if the client is this process.
    pub fn is_local(&self) -> bool {
        self.local
    }

    /// Runs the page fault model over both ranges; returns faults charged.
    pub fn charge_faults(&mut self, ranges: &[(u64, u64)], latency_ns: u64, churn_every: u64) -> u64 {
        let mut n = 0;
        if latency_ns > 0 {
            for &(a, l) in ranges {
                n += self.iopf.touch(a, l, latency_ns);
            }
        }
        self.iopf.tick(churn_every);
        n
    }

    /// Copies `len` bytes from client address `src` to client address `dst`.
    pub fn copy(&mut self, src: u64, dst: u64, len: usize) -> Result<(), MemFault> {
        if src == 0 || dst == 0 {
            return Err(MemFault("null address".into()));
        }
        if src.checked_add(len as u64).is_none() || dst.checked_add(len as u64).is_none() {
            return Err(MemFault("address range wraps".into()));
        }
        if self.local {
            local_copy(src, dst, len);
            return Ok(());
        }
        let mut done = 0usize;
        while done < len {
            let n = (len - done).min(CHUNK);
            if self.scratch.len() < n {
                self.scratch.resize(n, 0);
            }
            remote_read(self.pid, src + done as u64, &mut self.scratch[..n])?;
            remote_write(self.pid, dst + done as u64, &self.scratch[..n])?;
            done += n;
        }
        Ok(())
    }
}

/// Reads and writes between client memory and the device's own buffers (used by the SEC
/// engine for keys, IVs, payloads and MACs). Always through `process_vm_readv/writev`, even
/// for a client in this process, so unmapped or read-only client addresses fail cleanly.
impl ClientMem {
    /// Reads `buf.len()` bytes at client address `addr` into `buf`.
    pub fn read_at(&mut self, addr: u64, buf: &mut [u8]) -> Result<(), MemFault> {
        check_range(addr, buf.len())?;
        // Also for a client in this process: the kernel validates the range (EFAULT), so a
        // bad address in a descriptor becomes an address fault instead of a crash.
        for (i, chunk) in buf.chunks_mut(CHUNK).enumerate() {
            remote_read(self.pid, addr + (i * CHUNK) as u64, chunk)?;
        }
        Ok(())
    }

    /// Writes `buf` to client address `addr`.
    pub fn write_at(&mut self, addr: u64, buf: &[u8]) -> Result<(), MemFault> {
        check_range(addr, buf.len())?;
        for (i, chunk) in buf.chunks(CHUNK).enumerate() {
            remote_write(self.pid, addr + (i * CHUNK) as u64, chunk)?;
        }
        Ok(())
    }
}

fn check_range(addr: u64, len: usize) -> Result<(), MemFault> {
    if addr == 0 {
        return Err(MemFault("null address".into()));
    }
    if addr.checked_add(len as u64).is_none() {
        return Err(MemFault("address range wraps".into()));
    }
    Ok(())
}

/// Same-process device access.
fn local_copy(src: u64, dst: u64, len: usize) {
    // SAFETY: this is the SVA contract the driver's `unsafe fn submit` states: the submitter
    // guarantees that both buffers are valid for `len` bytes until the completion is
    // returned, exactly as real hardware would DMA into them. `copy` (memmove) tolerates
    // overlapping ranges.
    unsafe { std::ptr::copy(src as *const u8, dst as *mut u8, len) }
}

fn remote_read(pid: u32, addr: u64, buf: &mut [u8]) -> Result<(), MemFault> {
    let local = libc::iovec {
        iov_base: buf.as_mut_ptr() as *mut libc::c_void,
        iov_len: buf.len(),
    };
    let remote = libc::iovec {
        iov_base: addr as *mut libc::c_void,
        iov_len: buf.len(),
    };
    // SAFETY: `local` describes our own live buffer; the remote iovec is only interpreted by
    // the kernel in the target's address space, which validates it (EFAULT).
    let r = unsafe { libc::process_vm_readv(pid as libc::pid_t, &local, 1, &remote, 1, 0) };
    if r != buf.len() as isize {
        return Err(MemFault(format!(
            "read of {} bytes at {addr:#x} in pid {pid}: {}",
            buf.len(),
            std::io::Error::last_os_error()
        )));
    }
    Ok(())
}

fn remote_write(pid: u32, addr: u64, buf: &[u8]) -> Result<(), MemFault> {
    let local = libc::iovec {
        iov_base: buf.as_ptr() as *mut libc::c_void,
        iov_len: buf.len(),
    };
    let remote = libc::iovec {
        iov_base: addr as *mut libc::c_void,
        iov_len: buf.len(),
    };
    // SAFETY: as in `remote_read`; our buffer is only read.
    let r = unsafe { libc::process_vm_writev(pid as libc::pid_t, &local, 1, &remote, 1, 0) };
    if r != buf.len() as isize {
        return Err(MemFault(format!(
            "write of {} bytes at {addr:#x} in pid {pid}: {}",
            buf.len(),
            std::io::Error::last_os_error()
        )));
    }
    Ok(())
}
