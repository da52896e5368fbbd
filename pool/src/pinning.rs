//! The pinning chain: where a chunk is pinned, once, for the whole region.
//!
//! Strategies, strongest first, each tried only where the configuration allows it:
//! 1. **mempinfd** — the RFC's system call; only with a stated number
//!    ([`crate::probe::mempinfd_number`]), never probed. Long-term pin (`FOLL_LONGTERM`).
//! 2. **pin device** — `/dev/uacce_ctrl` or `/dev/mpin_user_pages` with `UACCE_CMD_PIN`.
//! 3. **mlock** — resident, never swapped; does not stop migration.
//! 4. none — `Resident` for hugetlb memory (never swapped anyway), else `Unpinned`.
//!
//! A long-term pin's success is checked against the kernel's accounting (`VmPin`), and
//! reported as `verified: false` when nothing shows that pages were pinned.

use crate::backing::Backing;
use crate::config::PoolBuilder;
use crate::level::{PinAttempt, PinVia, Pinning};
use crate::probe::{self, MachineProbe};
use crate::sys::{mmap::Mapping, pin};
use std::io;
use std::os::fd::OwnedFd;
use std::path::PathBuf;

/// A held long-term pin; unpinned exactly once, on drop (then the descriptor closes, which
/// would release anything left).
///
/// The pin belongs to the process that made it. A child created by `fork` inherits the pin
/// descriptor (the same open file, whose pins are keyed by address), so an unpin from the
/// child would release the *parent's* pages; a guard dropped in another process therefore
/// only closes its copy of the descriptor.
#[derive(Debug)]
pub(crate) struct PinGuard {
    fd: OwnedFd,
    unpin: libc::c_ulong,
    addr: usize,
    len: usize,
    owner: u32,
}

impl PinGuard {
    /// Whether dropping the guard here should unpin: only in the process that pinned.
    fn owned_here(&self) -> bool {
        self.owner == std::process::id()
    }
}

impl Drop for PinGuard {
    fn drop(&mut self) {
        if !self.owned_here() {
            log::debug!(
                "pool: pin made by pid {} left to it (dropped in a forked child)",
                self.owner
            );
            return;
        }
        if let Err(e) = pin::pin_ioctl(&self.fd, self.unpin, self.addr as *const u8, self.len) {
            log::warn!("pool: unpin failed ({e}); closing the pin descriptor releases the pages");
        }
    }
}

/// What the chain produced.
pub(crate) struct PinOutcome {
    pub(crate) pinning: Pinning,
    pub(crate) guard: Option<PinGuard>,
    pub(crate) attempts: Vec<PinAttempt>,
}

fn attempt(strategy: &'static str, failure: Option<String>) -> PinAttempt {
    PinAttempt { strategy, failure }
}

/// Runs the chain over `m`.
pub(crate) fn pin_region(
    cfg: &PoolBuilder,
    probe: &MachineProbe,
    m: &Mapping,
    backing: Backing,
) -> PinOutcome {
    let mut attempts = Vec::new();

    if cfg.try_mempinfd {
        match probe.mempinfd_number.clone() {
            Err(why) => attempts.push(attempt("mempinfd", Some(why))),
            Ok(num) => {
                let via = PinVia::Mempinfd {
                    nr: num.nr,
                    source: num.source.clone(),
                };
                match long_term_pin(
                    m,
                    || pin::mempinfd_open(num.nr),
                    pin::MEM_CMD_PIN,
                    pin::MEM_CMD_UNPIN,
                ) {
                    Ok((guard, verified)) => {
                        attempts.push(attempt("mempinfd", None));
                        return PinOutcome {
                            pinning: Pinning::LongTermPinned { via, verified },
                            guard: Some(guard),
                            attempts,
                        };
                    }
                    Err(e) => attempts.push(attempt("mempinfd", Some(explain_pin_error(&e, m.len(), probe)))),
                }
            }
        }
    } else {
        attempts.push(attempt("mempinfd", Some("disabled by configuration".into())));
    }

    if cfg.try_pin_device {
        if probe.pin_devices.is_empty() {
            attempts.push(attempt(
                "pin-device",
                Some(format!(
                    "no pin device present (looked for {})",
                    probe::PIN_DEVICES.join(", ")
                )),
            ));
        }
        for path in &probe.pin_devices {
            match long_term_pin(
                m,
                || pin::open_pin_device(path),
                pin::UACCE_CMD_PIN,
                pin::UACCE_CMD_UNPIN,
            ) {
                Ok((guard, verified)) => {
                    attempts.push(attempt("pin-device", None));
                    return PinOutcome {
                        pinning: Pinning::LongTermPinned {
                            via: PinVia::PinDevice {
                                path: PathBuf::from(path),
                            },
                            verified,
                        },
                        guard: Some(guard),
                        attempts,
                    };
                }
                Err(e) => attempts.push(attempt(
                    "pin-device",
                    Some(format!(
                        "{}: {}",
                        path.display(),
                        explain_pin_error(&e, m.len(), probe)
                    )),
                )),
            }
        }
    } else {
        attempts.push(attempt("pin-device", Some("disabled by configuration".into())));
    }

    if cfg.try_mlock {
        match m.lock() {
            Ok(()) => {
                attempts.push(attempt("mlock", None));
                return PinOutcome {
                    pinning: Pinning::Locked,
                    guard: None,
                    attempts,
                };
            }
            Err(e) => attempts.push(attempt("mlock", Some(explain_lock_error(&e, m.len(), probe)))),
        }
    } else {
        attempts.push(attempt("mlock", Some("disabled by configuration".into())));
    }

    PinOutcome {
        pinning: if backing.is_hugetlb() {
            Pinning::Resident
        } else {
            Pinning::Unpinned
        },
        guard: None,
        attempts,
    }
}

/// Opens a pin descriptor, pins the whole region, and checks `VmPin`.
fn long_term_pin(
    m: &Mapping,
    open: impl FnOnce() -> io::Result<OwnedFd>,
    pin_cmd: libc::c_ulong,
    unpin_cmd: libc::c_ulong,
) -> io::Result<(PinGuard, bool)> {
    let before = probe::vm_pin_bytes();
    let fd = open()?;
    pin::pin_ioctl(&fd, pin_cmd, m.as_ptr(), m.len())?;
    let guard = PinGuard {
        fd,
        unpin: unpin_cmd,
        addr: m.as_ptr() as usize,
        len: m.len(),
        owner: std::process::id(),
    };
    let verified = match (before, probe::vm_pin_bytes()) {
        (Some(b), Some(a)) => a >= b + m.len() as u64,
        _ => false,
    };
    Ok((guard, verified))
}

fn limit_text(probe: &MachineProbe) -> String {
    match probe.memlock_limit_bytes {
        None => "unlimited".into(),
        Some(b) => format!("{b} bytes"),
    }
}

fn explain_lock_error(e: &io::Error, len: usize, probe: &MachineProbe) -> String {
    match e.raw_os_error() {
        Some(libc::ENOMEM) | Some(libc::EPERM) | Some(libc::EAGAIN) => format!(
            "{e}: RLIMIT_MEMLOCK is {} and the pool needs {len} bytes, and the process {} \
             CAP_IPC_LOCK; raise the limit (`ulimit -l`, LimitMEMLOCK= in a systemd unit, \
             /etc/security/limits.conf) or grant CAP_IPC_LOCK",
            limit_text(probe),
            if probe.cap_ipc_lock { "has" } else { "lacks" }
        ),
        _ => e.to_string(),
    }
}

fn explain_pin_error(e: &io::Error, len: usize, probe: &MachineProbe) -> String {
    match e.raw_os_error() {
        Some(libc::ENOSYS) => format!("{e}: the kernel has no such system call"),
        Some(libc::ENOMEM) => explain_lock_error(e, len, probe),
        Some(libc::EACCES) => format!("{e}: no permission to open the pin device"),
        _ => e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn guard(owner: u32) -> PinGuard {
        let fd = OwnedFd::from(std::fs::File::open("/dev/null").unwrap());
        PinGuard {
            fd,
            unpin: 0,
            addr: 0,
            len: 0,
            owner,
        }
    }

    #[test]
    fn only_the_pinning_process_unpins() {
        let mine = guard(std::process::id());
        assert!(mine.owned_here());
        std::mem::forget(mine); // an unpin ioctl on /dev/null would only log a warning
        let inherited = guard(std::process::id().wrapping_add(1));
        assert!(!inherited.owned_here());
        drop(inherited); // closes the descriptor without an unpin ioctl
    }
}
