//! The uacce file layer: one queue = one open device file.
//!
//! [`UacceFile`] is the small trait every layer above builds on. It has two implementations:
//!
//! - [`chardev::CharDev`]: the kernel character device `/dev/<name>` (open, `ioctl`,
//!   `mmap` at page offset = region type, `poll`);
//! - [`emu_socket::EmuSocket`]: a Unix socket served by `uadk-emu`, where the same ioctls are
//!   messages and the regions are memfds (protocol in [`emu_proto`]).
//!
//! Everything above — ring writes, doorbells, CQ polling — is one code path for both.
//! [`open_node`] picks the implementation from the file type of the device node.

pub mod chardev;
pub mod emu_proto;
pub mod emu_socket;
pub mod ioctl;

use std::fmt;
use std::io;
use std::path::Path;
use std::time::Duration;

use crate::error::{Error, Result};
use crate::sys::region::Region;
use ioctl::{QpCtx, QpInfo};

/// The mmap-able regions of a queue (`enum uacce_qfrt`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RegionType {
    /// Region 0: the device register window holding the doorbell.
    Mmio = 0,
    /// Region 1: "device user share" memory holding SQ, CQ and the status words.
    Dus = 1,
}

impl RegionType {
    /// The page offset at which this region is mapped.
    pub fn page_offset(self) -> u64 {
        self as u64
    }
}

/// One open queue file. Implementations must be usable from several threads.
pub trait UacceFile: Send + Sync + fmt::Debug {
    /// Maps `region` with exactly `len` bytes (the size sysfs advertised).
    fn map_region(&self, region: RegionType, len: usize) -> Result<Region>;

    /// Issues an uacce ioctl. `arg` must be exactly as long as the size encoded in `cmd`
    /// (or `None` for commands without argument); output structures are written back into it.
    /// Errors keep the OS error so callers can tell "not supported" (`ENOTTY`) apart.
    fn ioctl(&self, cmd: u32, arg: Option<&mut [u8]>) -> io::Result<i32>;

    /// Sleeps until the queue signals new completions (`POLLIN`) or `timeout` passes.
    /// Returns `Ok(true)` when signalled; `Err(DeviceGone)` if the device disappeared.
    fn wait_readable(&self, timeout: Duration) -> Result<bool>;

    /// Cheap liveness probe; `Err(DeviceGone)` once the device is known to be gone.
    fn check_alive(&self) -> Result<()>;

    /// MMIO offset of a software device's doorbell shadow block: the emulator's (see
    /// [`emu_proto`]) or the one the test kernel's `soft_qm` device publishes as its parent's
    /// `doorbell_shadow` attribute; `None` for real hardware, whose doorbell register needs
    /// no shadow.
    fn doorbell_shadow(&self) -> Option<usize>;

    /// Human-readable description for logs ("chardev /dev/hisi_zip-3").
    fn describe(&self) -> String;
}

/// Opens a device node: a Unix socket → emulator client, anything else → character device.
pub fn open_node(path: &Path) -> Result<Box<dyn UacceFile>> {
    use std::os::unix::fs::FileTypeExt;
    let meta = std::fs::metadata(path).map_err(|e| Error::io(format!("stat {}", path.display()), e))?;
    if meta.file_type().is_socket() {
        Ok(Box::new(emu_socket::EmuSocket::connect(path)?))
    } else {
        Ok(Box::new(chardev::CharDev::open(path)?))
    }
}

/// `UACCE_CMD_QM_SET_QP_CTX`: sets the queue type and returns the hardware queue number.
pub fn set_qp_ctx(file: &dyn UacceFile, qc_type: u16) -> Result<u16> {
    let mut b = QpCtx { id: 0, qc_type }.to_bytes();
    file.ioctl(ioctl::UACCE_CMD_QM_SET_QP_CTX, Some(&mut b))
        .map_err(|e| {
            Error::io(
                format!(
                    "UACCE_CMD_QM_SET_QP_CTX(qc_type {qc_type}) on {}",
                    file.describe()
                ),
                e,
            )
        })?;
    Ok(QpCtx::from_bytes(&b).id)
}

/// `UACCE_CMD_QM_SET_QP_INFO`: the queue geometry, or `None` on kernels that lack the
/// command (`ENOTTY`/`EINVAL`), where the caller falls back to depth 1024.
pub fn qp_info(file: &dyn UacceFile) -> Result<Option<QpInfo>> {
    let mut b = [0u8; QpInfo::SIZE];
    match file.ioctl(ioctl::UACCE_CMD_QM_SET_QP_INFO, Some(&mut b)) {
        Ok(_) => Ok(Some(QpInfo::from_bytes(&b))),
        Err(e) if matches!(e.raw_os_error(), Some(libc::ENOTTY) | Some(libc::EINVAL)) => Ok(None),
        Err(e) => Err(Error::io(
            format!("UACCE_CMD_QM_SET_QP_INFO on {}", file.describe()),
            e,
        )),
    }
}

/// `UACCE_CMD_START_Q`.
pub fn start_q(file: &dyn UacceFile) -> Result<()> {
    file.ioctl(ioctl::UACCE_CMD_START_Q, None)
        .map(|_| ())
        .map_err(|e| Error::io(format!("UACCE_CMD_START_Q on {}", file.describe()), e))
}

/// `UACCE_CMD_PUT_Q`: stops and releases the hardware queue (the file stays open).
pub fn put_q(file: &dyn UacceFile) -> Result<()> {
    file.ioctl(ioctl::UACCE_CMD_PUT_Q, None)
        .map(|_| ())
        .map_err(|e| Error::io(format!("UACCE_CMD_PUT_Q on {}", file.describe()), e))
}
