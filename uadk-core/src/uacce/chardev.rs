//! The kernel uacce character device (`/dev/<driver>-<id>`).

use std::fs::{File, OpenOptions};
use std::io;
use std::os::fd::AsFd;
use std::os::fd::AsRawFd;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::{RegionType, UacceFile};
use crate::error::{Error, Result};
use crate::sys;
use crate::sys::region::Region;

/// An open kernel uacce device file (one hardware queue pair).
#[derive(Debug)]
pub struct CharDev {
    file: File,
    path: PathBuf,
}

impl CharDev {
    /// Opens the node `O_RDWR | O_CLOEXEC` (std adds `O_CLOEXEC` itself).
    pub fn open(path: &Path) -> Result<CharDev> {
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .custom_flags(libc::O_CLOEXEC)
            .open(path)
            .map_err(|e| Error::io(format!("open {}", path.display()), e))?;
        Ok(CharDev {
            file,
            path: path.to_path_buf(),
        })
    }
}

impl UacceFile for CharDev {
    fn map_region(&self, region: RegionType, len: usize) -> Result<Region> {
        let offset = (region.page_offset() as usize * sys::page_size()) as i64;
        Region::map_shared(self.file.as_fd(), len, offset).map_err(|e| {
            Error::io(
                format!(
                    "mmap {:?} region ({len} bytes) of {}",
                    region,
                    self.path.display()
                ),
                e,
            )
        })
    }

    fn ioctl(&self, cmd: u32, arg: Option<&mut [u8]>) -> io::Result<i32> {
        sys::ioctl::ioctl(self.file.as_fd(), cmd, arg)
    }

    fn wait_readable(&self, timeout: Duration) -> Result<bool> {
        let r = sys::poll::poll(&[self.file.as_raw_fd()], timeout)
            .map_err(|e| Error::io(format!("poll {}", self.path.display()), e))?;
        if r[0].hangup {
            return Err(Error::DeviceGone {
                detail: format!("poll reported an error on {}", self.path.display()),
            });
        }
        Ok(r[0].readable)
    }

    fn check_alive(&self) -> Result<()> {
        // The kernel reports resets through the status words and removal by unmapping the
        // regions; there is nothing cheaper to ask here.
        Ok(())
    }

    fn doorbell_shadow(&self) -> Option<usize> {
        None
    }

    fn describe(&self) -> String {
        format!("chardev {}", self.path.display())
    }
}
