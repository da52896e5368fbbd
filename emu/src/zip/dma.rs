//! The ZIP engine's view of client memory: byte transfers by virtual address (SVA model).
//!
//! Backed by [`ClientMem::read_at`]/[`ClientMem::write_at`], which always go through
//! `process_vm_readv`/`process_vm_writev` (also for a client in the emulator's own
//! process): the kernel validates every range, so an unmapped, read-only or out-of-range
//! client buffer becomes an address fault status, never a crash of the emulator. Works for
//! in-process clients (tests) and other processes (the daemon) alike.

use crate::memory::{ClientMem, MemFault};

/// Client memory as the ZIP engine uses it (a trait so unit tests can substitute it).
pub trait DeviceMemory {
    /// Reads `buf.len()` bytes at client address `addr`.
    fn read(&mut self, addr: u64, buf: &mut [u8]) -> Result<(), MemFault>;
    /// Writes `buf` at client address `addr`.
    fn write(&mut self, addr: u64, buf: &[u8]) -> Result<(), MemFault>;
    /// Runs the IO page fault model over the ranges; returns faults charged.
    fn charge(&mut self, _ranges: &[(u64, u64)], _latency_ns: u64, _churn_every: u64) -> u64 {
        0
    }
}

impl DeviceMemory for ClientMem {
    fn read(&mut self, addr: u64, buf: &mut [u8]) -> Result<(), MemFault> {
        if buf.is_empty() {
            return Ok(());
        }
        self.read_at(addr, buf)
    }

    fn write(&mut self, addr: u64, buf: &[u8]) -> Result<(), MemFault> {
        if buf.is_empty() {
            return Ok(());
        }
        self.write_at(addr, buf)
    }

    fn charge(&mut self, ranges: &[(u64, u64)], latency_ns: u64, churn_every: u64) -> u64 {
        self.charge_faults(ranges, latency_ns, churn_every)
    }
}
