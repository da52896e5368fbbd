//! Thin, safe wrappers around the system calls the driver needs.
//!
//! All `unsafe` code of `uadk-core` lives in this module tree, each file doing one job:
//!
//! | file | job |
//! |---|---|
//! | [`region`] | `mmap`/`munmap` of device regions and the volatile/atomic accessors on them |
//! | [`ioctl`] | the raw `ioctl(2)` call with an in/out argument buffer |
//! | [`fdpass`] | `sendmsg`/`recvmsg` with `SCM_RIGHTS` (emulator socket) and `SO_PEERCRED` |
//! | [`futex`] | process-shared futex wait/wake on a word in shared memory |
//! | [`poll`] | `poll(2)` on a set of descriptors |
//! | [`memfd`] | anonymous shared memory files (used by the emulator for its regions) |
//! | [`fork`] | a fork generation counter maintained by a `pthread_atfork` child handler |
//! | [`cpu`] | the NUMA node of the calling CPU; CPU features (CPUID) and model name |
//!
//! These helpers are public because the emulator (`uadk-emu`) serves the same interface and
//! reuses them; they carry no uacce policy.

pub mod cpu;
pub mod fdpass;
pub mod fork;
pub mod futex;
pub mod ioctl;
pub mod memfd;
pub mod poll;
pub mod region;

/// The system page size (`sysconf(_SC_PAGESIZE)`), 4096 if it cannot be read.
pub fn page_size() -> usize {
    // SAFETY: sysconf has no memory-safety preconditions.
    let v = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    if v > 0 {
        v as usize
    } else {
        4096
    }
}
