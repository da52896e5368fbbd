//! The raw `ioctl(2)` call used by the kernel character device.

use std::io;
use std::os::fd::{AsRawFd, BorrowedFd};

/// Issues `ioctl(fd, cmd, arg)`.
///
/// With `Some(buf)`, a pointer to `buf` is passed (the kernel reads and/or writes at most the
/// size encoded in `cmd`, which callers guarantee equals `buf.len()`); with `None`, 0 is
/// passed (commands without an argument such as `START_Q`).
pub fn ioctl(fd: BorrowedFd<'_>, cmd: u32, buf: Option<&mut [u8]>) -> io::Result<i32> {
    if let Some(b) = &buf {
        let size = ((cmd >> 16) & 0x3fff) as usize;
        if size != b.len() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("ioctl {cmd:#x} needs a {size}-byte argument, got {}", b.len()),
            ));
        }
    }
    let arg: libc::c_ulong = match buf {
        Some(b) => b.as_mut_ptr() as libc::c_ulong,
        None => 0,
    };
    // SAFETY: the argument is either 0 or a pointer to a live buffer whose length equals the
    // size encoded in the command (checked above), so the kernel stays inside it.
    let r = unsafe { libc::ioctl(fd.as_raw_fd(), cmd as _, arg) };
    if r < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(r)
    }
}
