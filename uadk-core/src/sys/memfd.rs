//! Anonymous shared-memory files (`memfd_create`), sized with `ftruncate`.

use std::ffi::CString;
use std::io;
use std::os::fd::{FromRawFd, OwnedFd};

/// Creates a close-on-exec memfd named `name` of `len` zero bytes.
pub fn create(name: &str, len: usize) -> io::Result<OwnedFd> {
    let cname =
        CString::new(name).map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "NUL in memfd name"))?;
    // SAFETY: `cname` is a valid NUL-terminated string for the duration of the call.
    let fd = unsafe { libc::memfd_create(cname.as_ptr(), libc::MFD_CLOEXEC) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `fd` was just returned by memfd_create and is owned by nobody else.
    let owned = unsafe { OwnedFd::from_raw_fd(fd) };
    // SAFETY: `fd` is a valid descriptor owned by `owned`.
    if unsafe { libc::ftruncate(fd, len as libc::off_t) } < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(owned)
}

/// Creates a close-on-exec, non-blocking eventfd with counter 0.
pub fn eventfd() -> io::Result<OwnedFd> {
    // SAFETY: eventfd has no pointer arguments.
    let fd = unsafe { libc::eventfd(0, libc::EFD_CLOEXEC | libc::EFD_NONBLOCK) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: fresh descriptor owned by nobody else.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Adds 1 to an eventfd counter (wakes pollers). Errors (e.g. counter overflow) are ignored:
/// the counter is already non-zero then, so pollers are awake anyway.
pub fn eventfd_signal(fd: std::os::fd::BorrowedFd<'_>) {
    let one: u64 = 1;
    // SAFETY: writes 8 bytes from a local u64 to a valid descriptor.
    unsafe {
        libc::write(
            std::os::fd::AsRawFd::as_raw_fd(&fd),
            &one as *const u64 as *const libc::c_void,
            8,
        );
    }
}

/// Resets an eventfd counter to 0 (non-blocking read; "nothing to read" is fine).
pub fn eventfd_drain(fd: std::os::fd::BorrowedFd<'_>) {
    let mut v: u64 = 0;
    // SAFETY: reads at most 8 bytes into a local u64 from a valid descriptor.
    unsafe {
        libc::read(
            std::os::fd::AsRawFd::as_raw_fd(&fd),
            &mut v as *mut u64 as *mut libc::c_void,
            8,
        );
    }
}
