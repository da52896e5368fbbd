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
    shadow: Option<usize>,
}

/// The device number of a character device file, split into (major, minor) the way glibc's
/// `gnu_dev_major`/`gnu_dev_minor` do; `None` for anything else.
fn char_dev_numbers(file: &File) -> Option<(u64, u64)> {
    use std::os::unix::fs::{FileTypeExt, MetadataExt};
    let meta = file.metadata().ok()?;
    if !meta.file_type().is_char_device() {
        return None;
    }
    let d = meta.rdev();
    let major = ((d >> 8) & 0xfff) | ((d >> 32) & !0xfff);
    let minor = (d & 0xff) | ((d >> 12) & !0xff);
    Some((major, minor))
}

/// The doorbell shadow offset a *software* uacce device publishes in its parent device's
/// `doorbell_shadow` attribute (`/sys/dev/char/<major>:<minor>/device/doorbell_shadow`).
///
/// A software device (the test kernel's `soft_qm`) polls memory instead of trapping stores,
/// and SQ and CQ doorbells share one word, so an SQ doorbell overwritten by a CQ doorbell
/// before the device looked would be lost; like the emulator, such a device asks the driver
/// to also store each doorbell into a shadow block in MMIO. Hardware has no such attribute.
fn published_shadow(file: &File) -> Option<usize> {
    let (major, minor) = char_dev_numbers(file)?;
    let p = format!("/sys/dev/char/{major}:{minor}/device/doorbell_shadow");
    let v = std::fs::read_to_string(&p).ok()?;
    match v.trim().parse::<usize>() {
        Ok(off) => Some(off),
        Err(_) => {
            log::warn!("ignoring malformed {p}: `{}`", v.trim());
            None
        }
    }
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
        let shadow = published_shadow(&file);
        Ok(CharDev {
            file,
            path: path.to_path_buf(),
            shadow,
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
        self.shadow
    }

    fn describe(&self) -> String {
        format!("chardev {}", self.path.display())
    }
}
