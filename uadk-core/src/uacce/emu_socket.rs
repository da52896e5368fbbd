//! Client side of the emulator socket (protocol in [`super::emu_proto`]).

use std::io;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::time::Duration;

use parking_lot::Mutex;

use super::emu_proto::{Op, Request, Response, REQ_LEN, RESP_LEN, VERSION};
use super::{RegionType, UacceFile};
use crate::error::{Error, Result};
use crate::sys;
use crate::sys::region::Region;

/// A connection to an emulated device node: one queue pair.
#[derive(Debug)]
pub struct EmuSocket {
    sock: Mutex<UnixStream>,
    raw_sock: i32,
    event: OwnedFd,
    shadow: usize,
    path: PathBuf,
}

impl EmuSocket {
    /// Connects to the node and performs the handshake.
    pub fn connect(path: &Path) -> Result<EmuSocket> {
        let sock = UnixStream::connect(path)
            .map_err(|e| Error::io(format!("connect to emulated device {}", path.display()), e))?;
        let raw_sock = sock.as_raw_fd();
        let (resp, mut fds) = exchange(
            &sock,
            Request {
                op: Op::Hello,
                arg: VERSION,
                payload: [0; 16],
            },
            path,
        )?;
        if resp.status != 0 {
            return Err(Error::io(
                format!("handshake with {}", path.display()),
                io::Error::from_raw_os_error(-resp.status),
            ));
        }
        let event = fds
            .pop()
            .ok_or_else(|| Error::Protocol(format!("{}: handshake carried no eventfd", path.display())))?;
        let mut pid = [0u8; 8];
        pid.copy_from_slice(&resp.payload[0..8]);
        // Let the emulator read/write our buffers with process_vm_* under Yama scope 1.
        sys::fdpass::allow_ptracer(u64::from_le_bytes(pid) as u32);
        Ok(EmuSocket {
            sock: Mutex::new(sock),
            raw_sock,
            event,
            shadow: resp.value as usize,
            path: path.to_path_buf(),
        })
    }

    fn call(&self, req: Request) -> Result<(Response, Vec<OwnedFd>)> {
        let sock = self.sock.lock();
        exchange(&sock, req, &self.path)
    }
}

fn exchange(sock: &UnixStream, req: Request, path: &Path) -> Result<(Response, Vec<OwnedFd>)> {
    let gone = |e: io::Error| Error::DeviceGone {
        detail: format!("emulator socket {}: {e}", path.display()),
    };
    sys::fdpass::send(sock.as_fd(), &req.encode(), &[]).map_err(gone)?;
    let mut buf = [0u8; RESP_LEN];
    let fds = sys::fdpass::recv_exact(sock.as_fd(), &mut buf)
        .map_err(gone)?
        .ok_or_else(|| Error::DeviceGone {
            detail: format!("emulator closed {}", path.display()),
        })?;
    let resp = Response::decode(&buf)
        .ok_or_else(|| Error::Protocol(format!("{}: bad response magic", path.display())))?;
    debug_assert_eq!(REQ_LEN, 32);
    Ok((resp, fds))
}

impl UacceFile for EmuSocket {
    fn map_region(&self, region: RegionType, len: usize) -> Result<Region> {
        let mut payload = [0u8; 16];
        payload[0..8].copy_from_slice(&(len as u64).to_le_bytes());
        let (resp, mut fds) = self.call(Request {
            op: Op::Mmap,
            arg: region.page_offset(),
            payload,
        })?;
        if resp.status != 0 {
            return Err(Error::io(
                format!(
                    "mmap {:?} region ({len} bytes) of {}",
                    region,
                    self.path.display()
                ),
                io::Error::from_raw_os_error(-resp.status),
            ));
        }
        let fd = fds.pop().ok_or_else(|| {
            Error::Protocol(format!("{}: mmap reply carried no memfd", self.path.display()))
        })?;
        let r = Region::map_shared(fd.as_fd(), len, 0)
            .map_err(|e| Error::io(format!("mmap emulated {:?} region", region), e))?;
        // The kernel marks uacce mappings VM_DONTCOPY; do the same for the memfds.
        r.exclude_from_fork()
            .map_err(|e| Error::io("madvise(MADV_DONTFORK) on emulated region", e))?;
        Ok(r)
    }

    fn ioctl(&self, cmd: u32, arg: Option<&mut [u8]>) -> io::Result<i32> {
        let size = super::ioctl::arg_size(cmd);
        let given = arg.as_ref().map_or(0, |a| a.len());
        if size != given || size > 16 {
            return Err(io::Error::from_raw_os_error(libc::EINVAL));
        }
        let mut payload = [0u8; 16];
        if let Some(a) = &arg {
            payload[..a.len()].copy_from_slice(a);
        }
        let (resp, _) = self
            .call(Request {
                op: Op::Ioctl,
                arg: cmd as u64,
                payload,
            })
            .map_err(|e| io::Error::new(io::ErrorKind::BrokenPipe, e.to_string()))?;
        if resp.status != 0 {
            return Err(io::Error::from_raw_os_error(-resp.status));
        }
        if let Some(a) = arg {
            let n = a.len();
            a.copy_from_slice(&resp.payload[..n]);
        }
        Ok(resp.value as i32)
    }

    fn wait_readable(&self, timeout: Duration) -> Result<bool> {
        let r = sys::poll::poll(&[self.event.as_raw_fd(), self.raw_sock], timeout)
            .map_err(|e| Error::io("poll emulator eventfd", e))?;
        if r[1].hangup || r[1].readable {
            return Err(Error::DeviceGone {
                detail: format!("emulator closed {}", self.path.display()),
            });
        }
        if r[0].readable {
            sys::memfd::eventfd_drain(self.event.as_fd());
            return Ok(true);
        }
        Ok(false)
    }

    fn check_alive(&self) -> Result<()> {
        let r = sys::poll::poll(&[self.raw_sock], Duration::ZERO)
            .map_err(|e| Error::io("poll emulator socket", e))?;
        if r[0].hangup || r[0].readable {
            return Err(Error::DeviceGone {
                detail: format!("emulator closed {}", self.path.display()),
            });
        }
        Ok(())
    }

    fn doorbell_shadow(&self) -> Option<usize> {
        Some(self.shadow)
    }

    fn describe(&self) -> String {
        format!("emulated {}", self.path.display())
    }
}
