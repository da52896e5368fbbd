//! Unix-socket messages carrying file descriptors (`SCM_RIGHTS`) and peer credentials.
//!
//! The emulator hands its MMIO/DUS memfds and an eventfd to the driver this way.

use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};

/// Most descriptors one message may carry.
pub const MAX_FDS: usize = 4;

const CMSG_BUF: usize = 64;

/// Sends `data` and `fds` as one message on a connected stream socket.
pub fn send(sock: BorrowedFd<'_>, data: &[u8], fds: &[BorrowedFd<'_>]) -> io::Result<()> {
    if fds.len() > MAX_FDS {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "too many descriptors",
        ));
    }
    let mut iov = libc::iovec {
        iov_base: data.as_ptr() as *mut libc::c_void,
        iov_len: data.len(),
    };
    let mut cbuf = [0u64; CMSG_BUF / 8];
    // SAFETY: msghdr is plain old data; all-zero is a valid initial value.
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    if !fds.is_empty() {
        let raw: Vec<RawFd> = fds.iter().map(|f| f.as_raw_fd()).collect();
        let bytes = std::mem::size_of_val(raw.as_slice());
        // SAFETY: CMSG_SPACE is a pure size computation.
        let space = unsafe { libc::CMSG_SPACE(bytes as u32) } as usize;
        msg.msg_control = cbuf.as_mut_ptr() as *mut libc::c_void;
        msg.msg_controllen = space as _;
        // SAFETY: msg_control points to `cbuf`, which is larger than `space` (4 fds fit in 64
        // bytes), so the first header and its data lie inside it.
        unsafe {
            let c = libc::CMSG_FIRSTHDR(&msg);
            (*c).cmsg_level = libc::SOL_SOCKET;
            (*c).cmsg_type = libc::SCM_RIGHTS;
            (*c).cmsg_len = libc::CMSG_LEN(bytes as u32) as _;
            std::ptr::copy_nonoverlapping(raw.as_ptr() as *const u8, libc::CMSG_DATA(c), bytes);
        }
    }
    let mut sent = 0usize;
    while sent < data.len() {
        if sent > 0 {
            msg.msg_control = std::ptr::null_mut();
            msg.msg_controllen = 0;
            // SAFETY: `sent` < data.len(), so the pointer stays inside `data`.
            iov.iov_base = unsafe { data.as_ptr().add(sent) } as *mut libc::c_void;
            iov.iov_len = data.len() - sent;
        }
        msg.msg_iov = &mut iov;
        // SAFETY: msg references live buffers (iov -> data, control -> cbuf) for the call.
        let r = unsafe { libc::sendmsg(sock.as_raw_fd(), &msg, libc::MSG_NOSIGNAL) };
        if r < 0 {
            let e = io::Error::last_os_error();
            if e.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            return Err(e);
        }
        sent += r as usize;
    }
    Ok(())
}

/// Receives exactly `buf.len()` bytes, collecting any descriptors that arrive with them.
/// Returns `Ok(None)` on an orderly shutdown before the first byte.
pub fn recv_exact(sock: BorrowedFd<'_>, buf: &mut [u8]) -> io::Result<Option<Vec<OwnedFd>>> {
    let mut fds = Vec::new();
    let mut got = 0usize;
    while got < buf.len() {
        let mut cbuf = [0u64; CMSG_BUF / 8];
        let mut iov = libc::iovec {
            // SAFETY: got < buf.len(), pointer stays inside `buf`.
            iov_base: unsafe { buf.as_mut_ptr().add(got) } as *mut libc::c_void,
            iov_len: buf.len() - got,
        };
        // SAFETY: plain old data, zero is valid.
        let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
        msg.msg_iov = &mut iov;
        msg.msg_iovlen = 1;
        msg.msg_control = cbuf.as_mut_ptr() as *mut libc::c_void;
        msg.msg_controllen = CMSG_BUF as _;
        // SAFETY: msg references live local buffers for the duration of the call.
        let r = unsafe { libc::recvmsg(sock.as_raw_fd(), &mut msg, libc::MSG_CMSG_CLOEXEC) };
        if r < 0 {
            let e = io::Error::last_os_error();
            if e.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            return Err(e);
        }
        // SAFETY: the kernel filled msg_control/msg_controllen; CMSG_FIRSTHDR/NXTHDR walk
        // only within that buffer, and each SCM_RIGHTS payload holds cmsg_len-derived ints.
        unsafe {
            let mut c = libc::CMSG_FIRSTHDR(&msg);
            while !c.is_null() {
                if (*c).cmsg_level == libc::SOL_SOCKET && (*c).cmsg_type == libc::SCM_RIGHTS {
                    let data = libc::CMSG_DATA(c);
                    let n = ((*c).cmsg_len as usize - (data as usize - c as usize)) / 4;
                    for i in 0..n {
                        let fd = std::ptr::read_unaligned((data as *const RawFd).add(i));
                        fds.push(OwnedFd::from_raw_fd(fd));
                    }
                }
                c = libc::CMSG_NXTHDR(&msg, c);
            }
        }
        if r == 0 {
            if got == 0 {
                return Ok(None);
            }
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "peer closed mid-message",
            ));
        }
        got += r as usize;
    }
    Ok(Some(fds))
}

/// Credentials of the peer of a connected Unix socket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PeerCred {
    /// Process id of the peer (at connect time).
    pub pid: u32,
    /// User id of the peer.
    pub uid: u32,
}

/// Reads `SO_PEERCRED` of a connected Unix socket.
pub fn peer_cred(sock: BorrowedFd<'_>) -> io::Result<PeerCred> {
    let mut cred = libc::ucred {
        pid: 0,
        uid: 0,
        gid: 0,
    };
    let mut len = std::mem::size_of::<libc::ucred>() as libc::socklen_t;
    // SAFETY: getsockopt writes at most `len` bytes into the local `cred`.
    let r = unsafe {
        libc::getsockopt(
            sock.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_PEERCRED,
            &mut cred as *mut libc::ucred as *mut libc::c_void,
            &mut len,
        )
    };
    if r < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(PeerCred {
        pid: cred.pid as u32,
        uid: cred.uid,
    })
}

/// Allows process `pid` to `ptrace`-attach to us (Yama `ptrace_scope` = 1), which
/// `process_vm_readv/writev` by the emulator needs when it is not our ancestor.
/// Failure is harmless where Yama is absent, so the result is only informative.
pub fn allow_ptracer(pid: u32) -> bool {
    // SAFETY: prctl(PR_SET_PTRACER, pid) takes integer arguments only.
    unsafe { libc::prctl(libc::PR_SET_PTRACER, pid as libc::c_ulong, 0, 0, 0) == 0 }
}
