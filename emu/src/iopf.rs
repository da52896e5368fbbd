//! The IO page fault model.
//!
//! **This is a model, not a measurement.** With SVA, a device that touches a page the IOMMU
//! has no translation for raises an IO page fault that the kernel resolves before the DMA can
//! proceed. We charge a configurable latency the first time an engine touches a client page
//! that is neither hugetlb-backed nor `mlock`ed, and again after simulated *migration churn*
//! (every `churn_every` requests all unpinned pages count as untouched, as if compaction or
//! NUMA balancing had moved them). Hugetlb and locked pages are never charged: that is what a
//! pinned buffer pool buys.
//!
//! Whether a page is hugetlb or locked is read from the client's `/proc/<pid>/smaps`
//! (`VmFlags` contains `ht` or `lo`); the VMA list is cached and re-read when an address
//! falls outside every cached VMA, or when a page would be charged and the list is older than
//! [`RELOAD_EVERY`].

use std::collections::HashSet;
use std::time::{Duration, Instant};

const PAGE: u64 = 4096;
/// Minimum interval between re-reads of the client's smaps when a page would be charged.
pub const RELOAD_EVERY: Duration = Duration::from_millis(10);

#[derive(Debug, Clone, Copy)]
struct Vma {
    start: u64,
    end: u64,
    pinned: bool,
}

/// Page residency state of one client, as seen by one engine.
#[derive(Debug)]
pub struct IopfModel {
    pid: u32,
    vmas: Vec<Vma>,
    resident: HashSet<u64>,
    since_churn: u64,
    last_reload: Option<Instant>,
}

impl IopfModel {
    /// A model for client `pid` with nothing touched yet.
    pub fn new(pid: u32) -> IopfModel {
        IopfModel {
            pid,
            vmas: Vec::new(),
            resident: HashSet::new(),
            since_churn: 0,
            last_reload: None,
        }
    }

    fn reload(&mut self) {
        self.last_reload = Some(Instant::now());
        self.vmas =
            parse_smaps(&std::fs::read_to_string(format!("/proc/{}/smaps", self.pid)).unwrap_or_default());
    }

    fn pinned(&mut self, addr: u64) -> bool {
        if let Some(v) = self.vmas.iter().find(|v| v.start <= addr && addr < v.end) {
            // A page about to be charged gets a fresher look at its VMA (it may have been
            // locked since), at most every RELOAD_EVERY.
            let stale = match self.last_reload {
                Some(t) => t.elapsed() >= RELOAD_EVERY,
                None => true,
            };
            if v.pinned || !stale {
                return v.pinned;
            }
        }
        self.reload();
        self.vmas
            .iter()
            .find(|v| v.start <= addr && addr < v.end)
            .is_some_and(|v| v.pinned)
    }

    /// Charges `latency_ns` for each unpinned page of `[addr, addr+len)` not touched since the
    /// last churn; returns the number of faults charged.
    pub fn touch(&mut self, addr: u64, len: u64, latency_ns: u64) -> u64 {
        if latency_ns == 0 || len == 0 {
            return 0;
        }
        let first = addr / PAGE;
        let last = (addr.saturating_add(len - 1)) / PAGE;
        let mut faults = 0;
        for page in first..=last {
            if self.resident.contains(&page) {
                continue;
            }
            if !self.pinned(page * PAGE) {
                faults += 1;
            }
            // Pinned pages are recorded too, so they cost one smaps lookup only once.
            self.resident.insert(page);
        }
        if faults > 0 {
            stall(Duration::from_nanos(latency_ns.saturating_mul(faults)));
        }
        faults
    }

    /// Counts one request; every `churn_every` requests unpinned pages are forgotten.
    pub fn tick(&mut self, churn_every: u64) {
        if churn_every == 0 {
            return;
        }
        self.since_churn += 1;
        if self.since_churn >= churn_every {
            self.since_churn = 0;
            self.vmas.clear();
            let vmas = {
                self.reload();
                self.vmas.clone()
            };
            self.resident.retain(|p| {
                let a = p * PAGE;
                vmas.iter().any(|v| v.start <= a && a < v.end && v.pinned)
            });
        }
    }
}

/// Models the device waiting for the fault to be resolved.
fn stall(d: Duration) {
    if d >= Duration::from_micros(100) {
        std::thread::sleep(d);
    } else {
        let t = Instant::now();
        while t.elapsed() < d {
            std::hint::spin_loop();
        }
    }
}

fn parse_smaps(s: &str) -> Vec<Vma> {
    let mut out: Vec<Vma> = Vec::new();
    for line in s.lines() {
        if let Some(flags) = line.strip_prefix("VmFlags:") {
            if let Some(v) = out.last_mut() {
                v.pinned = flags.split_whitespace().any(|f| f == "ht" || f == "lo");
            }
            continue;
        }
        let Some(range) = line.split_whitespace().next() else {
            continue;
        };
        let Some((a, b)) = range.split_once('-') else {
            continue;
        };
        if let (Ok(start), Ok(end)) = (u64::from_str_radix(a, 16), u64::from_str_radix(b, 16)) {
            if line.contains(' ') && !line.ends_with(':') {
                out.push(Vma {
                    start,
                    end,
                    pinned: false,
                });
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn smaps_flags_mark_pinned_vmas() {
        let s = "7f0000000000-7f0000200000 rw-p 00000000 00:0f 123 /anon_hugepage (deleted)\n\
                 Size: 2048 kB\nVmFlags: rd wr sh mr mw me ms de ht sd\n\
                 7f1000000000-7f1000001000 rw-p 00000000 00:00 0\nVmFlags: rd wr mr mw me lo ac sd\n\
                 7f2000000000-7f2000004000 rw-p 00000000 00:00 0\nRss: 4 kB\nVmFlags: rd wr mr mw me ac sd\n";
        let v = parse_smaps(s);
        assert_eq!(v.len(), 3);
        assert!(v[0].pinned && v[1].pinned && !v[2].pinned);
        assert_eq!((v[2].start, v[2].end), (0x7f20_0000_0000, 0x7f20_0000_4000));
    }

    #[test]
    fn unpinned_pages_fault_once_until_churn_and_locked_pages_never() {
        let mut m = IopfModel::new(std::process::id());
        let heap = vec![1u8; 3 * 4096];
        let addr = heap.as_ptr() as u64;
        let first = m.touch(addr, 3 * 4096, 1);
        assert!((3..=4).contains(&first), "{first}");
        assert_eq!(m.touch(addr, 3 * 4096, 1), 0);
        m.tick(1);
        assert_eq!(m.touch(addr, 3 * 4096, 1), first);

        // A locked page is not charged (skip if mlock is not permitted here).
        let locked = vec![2u8; 4096 * 2];
        let la = (locked.as_ptr() as u64).div_ceil(4096) * 4096;
        // SAFETY: mlock on a page inside a live allocation; unlocked below.
        let ok = unsafe { libc::mlock(la as *const libc::c_void, 1) } == 0;
        if ok {
            let mut m2 = IopfModel::new(std::process::id());
            assert_eq!(m2.touch(la, 1, 1), 0);
            // SAFETY: undoes the mlock above on the same range.
            unsafe { libc::munlock(la as *const libc::c_void, 1) };
        }
    }
}
