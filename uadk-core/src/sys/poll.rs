//! `poll(2)` on a few descriptors.

use std::io;
use std::os::fd::RawFd;
use std::time::Duration;

/// Readiness of one descriptor after [`poll`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Ready {
    /// Data can be read (`POLLIN`).
    pub readable: bool,
    /// The peer hung up or the descriptor is in error (`POLLHUP`/`POLLERR`/`POLLNVAL`).
    pub hangup: bool,
}

/// Waits until one of `fds` is readable or hung up, or `timeout` passes.
/// Returns one [`Ready`] per descriptor (all false on timeout). `EINTR` counts as a timeout.
pub fn poll(fds: &[RawFd], timeout: Duration) -> io::Result<Vec<Ready>> {
    let mut pfds: Vec<libc::pollfd> = fds
        .iter()
        .map(|&fd| libc::pollfd {
            fd,
            events: libc::POLLIN,
            revents: 0,
        })
        .collect();
    let ms = timeout.as_millis().min(i32::MAX as u128) as i32;
    // SAFETY: `pfds` is a live, correctly sized array of pollfd for the whole call.
    let r = unsafe { libc::poll(pfds.as_mut_ptr(), pfds.len() as libc::nfds_t, ms) };
    if r < 0 {
        let e = io::Error::last_os_error();
        if e.kind() != io::ErrorKind::Interrupted {
            return Err(e);
        }
    }
    Ok(pfds
        .iter()
        .map(|p| Ready {
            readable: p.revents & libc::POLLIN != 0,
            hangup: p.revents & (libc::POLLHUP | libc::POLLERR | libc::POLLNVAL) != 0,
        })
        .collect())
}
