//! Long-term pinning system calls: `mempinfd` and pin devices (`/dev/uacce_ctrl`).
//!
//! Both take the same 16-byte argument (`struct mem_pin_address` / `struct
//! uacce_pin_address`: `u64 addr, u64 size`).

use std::fs::OpenOptions;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

/// `MEM_CMD_PIN` = `_IOW('M', 0, struct mem_pin_address)` (mempinfd RFC v3 uapi).
pub(crate) const MEM_CMD_PIN: libc::c_ulong = 0x4010_4D00;
/// `MEM_CMD_UNPIN` = `_IOW('M', 1, struct mem_pin_address)`.
pub(crate) const MEM_CMD_UNPIN: libc::c_ulong = 0x4010_4D01;
/// `UACCE_CMD_PIN` = `_IOW('W', 2, struct uacce_pin_address)` (uacce_ctrl RFC uapi).
pub(crate) const UACCE_CMD_PIN: libc::c_ulong = 0x4010_5702;
/// `UACCE_CMD_UNPIN` = `_IOW('W', 3, struct uacce_pin_address)`.
pub(crate) const UACCE_CMD_UNPIN: libc::c_ulong = 0x4010_5703;

/// The name the mempinfd anonymous inode carries in `/proc/self/fd`.
const MEMPINFD_LINK: &str = "anon_inode:[mempinfd]";

#[repr(C)]
struct PinAddress {
    addr: u64,
    size: u64,
}

/// Calls the `mempinfd` system call with the number `nr`, which the caller has from an
/// explicit statement (env or the kernel's sysfs file), never from a guess; then checks that
/// the returned descriptor really is a mempinfd instance and closes it otherwise.
pub(crate) fn mempinfd_open(nr: i64) -> io::Result<OwnedFd> {
    // SAFETY: `nr` was stated to be mempinfd, which takes no arguments and returns a new
    // descriptor (or -1 and errno). Nothing in this process's memory is passed.
    let fd = unsafe { libc::syscall(nr as libc::c_long) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    let fd = i32::try_from(fd).map_err(|_| io::Error::other("mempinfd returned a non-fd value"))?;
    // SAFETY: the kernel just returned `fd` as a new descriptor owned by nobody else.
    let owned = unsafe { OwnedFd::from_raw_fd(fd) };
    let link = std::fs::read_link(format!("/proc/self/fd/{fd}"))?;
    if link.as_os_str() != MEMPINFD_LINK {
        return Err(io::Error::other(format!(
            "syscall {nr} returned a descriptor for {} instead of {MEMPINFD_LINK}: it is not \
             mempinfd; fix UADK_MEMPINFD_NR",
            link.display()
        )));
    }
    Ok(owned)
}

/// Opens a pin device read-write, close-on-exec.
pub(crate) fn open_pin_device(path: &Path) -> io::Result<OwnedFd> {
    let f = OpenOptions::new()
        .read(true)
        .write(true)
        .custom_flags(libc::O_CLOEXEC)
        .open(path)?;
    Ok(f.into())
}

/// Issues a pin or unpin ioctl for `[addr, addr+size)`.
pub(crate) fn pin_ioctl(fd: &OwnedFd, cmd: libc::c_ulong, addr: *const u8, size: usize) -> io::Result<()> {
    let arg = PinAddress {
        addr: addr as u64,
        size: size as u64,
    };
    // SAFETY: `cmd` is one of the four pin/unpin commands above, all `_IOW` with a 16-byte
    // argument, and `arg` is exactly that struct, alive across the call. The kernel only
    // reads it.
    let r = unsafe { libc::ioctl(fd.as_raw_fd(), cmd as _, &arg as *const PinAddress) };
    if r != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}
