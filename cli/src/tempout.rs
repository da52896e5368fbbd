//! Safe output files: written under a temporary name, published by rename.
//!
//! An output (`f.gz` from `f`, or `f` from `f.gz`) is never opened under its final name.
//! [`TempOutput::create_in`] makes a new file in the target directory with
//! `O_CREAT | O_EXCL` and mode 0600 (a link or an existing file at that name cannot be
//! followed or reused; nobody else can read the data while it is written), under a short
//! random name `.uadk-XXXXXXXXXX.tmp`. When the data is complete,
//! [`TempOutput::commit`] gives the file the input's owner (when permitted), permission bits
//! and times, flushes it to disk (`fsync`), renames it over the final name (without
//! replacing an existing entry unless `-f`: `renameat2(RENAME_NOREPLACE)`, or `link` +
//! `unlink` where the filesystem lacks it) and flushes the directory. Only then may the
//! caller remove the input.
//!
//! So the final name either does not exist or holds a complete output. Until the commit the
//! temporary file is listed in a process-wide registry: [`remove_all`] (called on SIGINT,
//! SIGTERM, SIGHUP, a broken pipe and any fatal exit) and `Drop` (errors, panics) delete it.
//! After SIGKILL only the temporary name can remain.
//!
//! Why `fsync`: the input is deleted right after the rename, so without it a crash could
//! leave neither file with the data (gzip only does this with `--synchronous`; here it is
//! always done, because deleting the input is the default).

use std::ffi::{OsStr, OsString};
use std::fs::{File, Metadata, OpenOptions};
use std::hash::{BuildHasher, Hasher};
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};
use std::time::SystemTime;

/// Temporary outputs of this process that are not committed yet.
static PENDING: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

fn pending() -> MutexGuard<'static, Vec<PathBuf>> {
    PENDING.lock().unwrap_or_else(|p| p.into_inner())
}

/// Removes every temporary output not yet committed (for signal handlers and fatal exits).
/// Holds the registry lock until the process ends, so nothing new is created or committed
/// after it.
pub fn remove_all() {
    let mut list = pending();
    for p in list.drain(..) {
        let _ = std::fs::remove_file(&p);
    }
    // Keep the lock: a commit racing with the exit must not publish a name afterwards.
    std::mem::forget(list);
}

/// Times and permissions to give an output before it is published.
#[derive(Debug, Clone, Copy)]
pub struct Attributes {
    /// Permission bits (only `rwxrwxrwx` are copied, as gzip does).
    pub mode: u32,
    /// Owner and group to set (set where permitted; errors are ignored, as in gzip).
    pub owner: Option<(u32, u32)>,
    /// Access time.
    pub accessed: Option<SystemTime>,
    /// Modification time.
    pub modified: Option<SystemTime>,
}

impl Attributes {
    /// The attributes of `meta` (an input file).
    pub fn of(meta: &Metadata) -> Attributes {
        Attributes {
            mode: meta.mode() & 0o777,
            owner: Some((meta.uid(), meta.gid())),
            accessed: meta.accessed().ok(),
            modified: meta.modified().ok(),
        }
    }
}

/// Why a commit did not publish the output.
#[derive(Debug, thiserror::Error)]
pub enum CommitError {
    /// The final name exists and replacing was not allowed.
    #[error("{} already exists; not overwritten (use -f to replace it)", .0.display())]
    Exists(PathBuf),
    /// Any other failure (the message says which step).
    #[error("{0}")]
    Io(#[from] io::Error),
}

/// A new output file under a temporary name (see the module docs).
#[derive(Debug)]
pub struct TempOutput {
    file: File,
    path: PathBuf,
    dir: PathBuf,
    committed: bool,
}

/// A short random name, different for every call.
fn random_name() -> OsString {
    static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u32(std::process::id());
    h.write_u64(COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed));
    if let Ok(d) = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH) {
        h.write_u128(d.as_nanos());
    }
    let mut v = h.finish();
    const ALPHABET: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz234567";
    let mut name = b".uadk-".to_vec();
    for _ in 0..10 {
        name.push(ALPHABET[(v & 31) as usize]);
        v >>= 5;
    }
    name.extend_from_slice(b".tmp");
    OsStr::from_bytes(&name).to_owned()
}

/// The directory an output named `final_path` goes in (`.` for a bare name).
pub fn parent_dir(final_path: &Path) -> PathBuf {
    match final_path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

impl TempOutput {
    /// Creates a new, empty temporary file (mode 0600) in `dir`.
    ///
    /// # Errors
    /// The directory is not writable, or no free name was found.
    pub fn create_in(dir: &Path) -> io::Result<TempOutput> {
        let mut last = None;
        for _ in 0..64 {
            let path = dir.join(random_name());
            // Register under the lock so that a signal cannot come between the creation
            // and the registration.
            let mut list = pending();
            match OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .custom_flags(libc::O_NOFOLLOW)
                .open(&path)
            {
                Ok(file) => {
                    list.push(path.clone());
                    return Ok(TempOutput {
                        file,
                        path,
                        dir: dir.to_path_buf(),
                        committed: false,
                    });
                }
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => last = Some(e),
                Err(e) => return Err(e),
            }
        }
        Err(last.unwrap_or_else(|| io::Error::other("no free temporary name")))
    }

    /// The open file, for writing.
    pub fn file(&self) -> &File {
        &self.file
    }

    /// The temporary name.
    #[cfg(test)]
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Gives the file `attrs` (group, permission bits, then owner — the order gzip uses,
    /// so a failed `chown` never leaves wider permissions), flushes it to disk, renames it
    /// to `final_path` (replacing an existing entry only if `replace`; a symbolic link there
    /// is replaced itself, never followed) and flushes the directory.
    ///
    /// # Errors
    /// [`CommitError::Exists`] when `final_path` exists and `replace` is false; I/O errors
    /// of `fsync` or `rename`. On error the temporary file is removed when `self` drops.
    pub fn commit(mut self, final_path: &Path, attrs: &Attributes, replace: bool) -> Result<(), CommitError> {
        if let Some((uid, gid)) = attrs.owner {
            let _ = std::os::unix::fs::fchown(&self.file, None, Some(gid));
            self.file
                .set_permissions(std::os::unix::fs::PermissionsExt::from_mode(attrs.mode))?;
            let _ = std::os::unix::fs::fchown(&self.file, Some(uid), None);
        } else {
            self.file
                .set_permissions(std::os::unix::fs::PermissionsExt::from_mode(attrs.mode))?;
        }
        let mut times = std::fs::FileTimes::new();
        if let Some(a) = attrs.accessed {
            times = times.set_accessed(a);
        }
        if let Some(m) = attrs.modified {
            times = times.set_modified(m);
        }
        self.file.set_times(times)?;
        self.file
            .sync_all()
            .map_err(|e| io::Error::new(e.kind(), format!("cannot flush the output to disk: {e}")))?;
        {
            let mut list = pending();
            let r = if replace {
                std::fs::rename(&self.path, final_path)
            } else {
                crate::sys::rename_noreplace(&self.path, final_path)
            };
            match r {
                Ok(()) => {
                    list.retain(|p| p != &self.path);
                    self.committed = true;
                }
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                    return Err(CommitError::Exists(final_path.to_path_buf()))
                }
                Err(e) => {
                    return Err(CommitError::Io(io::Error::new(
                        e.kind(),
                        format!("cannot rename the output to {}: {e}", final_path.display()),
                    )))
                }
            }
        }
        // The new directory entry must be on disk before the caller deletes the input.
        File::open(&self.dir).and_then(|d| d.sync_all()).map_err(|e| {
            io::Error::new(
                e.kind(),
                format!("cannot flush directory {}: {e}", self.dir.display()),
            )
        })?;
        Ok(())
    }
}

impl Drop for TempOutput {
    fn drop(&mut self) {
        if !self.committed {
            let mut list = pending();
            let _ = std::fs::remove_file(&self.path);
            list.retain(|p| p != &self.path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn scratch(tag: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("uadk-tempout-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn temp_is_private_then_published_with_the_given_mode() {
        let d = scratch("mode");
        let t = TempOutput::create_in(&d).unwrap();
        let tmp = t.path().to_path_buf();
        assert_eq!(std::fs::metadata(&tmp).unwrap().mode() & 0o777, 0o600);
        assert!(pending().contains(&tmp));
        t.file().write_all(b"data").unwrap();
        let attrs = Attributes {
            mode: 0o640,
            owner: None,
            accessed: None,
            modified: Some(SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_000_000)),
        };
        t.commit(&d.join("out"), &attrs, false).unwrap();
        let m = std::fs::metadata(d.join("out")).unwrap();
        assert_eq!(m.mode() & 0o777, 0o640);
        assert_eq!(m.mtime(), 1_000_000);
        assert!(!tmp.exists());
        assert!(!pending().contains(&tmp));
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn commit_without_replace_keeps_an_existing_entry_and_drop_removes_the_temp() {
        let d = scratch("exists");
        std::fs::write(d.join("out"), b"precious").unwrap();
        let t = TempOutput::create_in(&d).unwrap();
        let tmp = t.path().to_path_buf();
        let attrs = Attributes {
            mode: 0o600,
            owner: None,
            accessed: None,
            modified: None,
        };
        assert!(matches!(
            t.commit(&d.join("out"), &attrs, false),
            Err(CommitError::Exists(_))
        ));
        assert_eq!(std::fs::read(d.join("out")).unwrap(), b"precious");
        assert!(!tmp.exists(), "temporary removed after a refused commit");
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn replace_swaps_a_symlink_itself_not_its_target() {
        let d = scratch("link");
        std::fs::write(d.join("target"), b"other file").unwrap();
        std::os::unix::fs::symlink(d.join("target"), d.join("out")).unwrap();
        let t = TempOutput::create_in(&d).unwrap();
        t.file().write_all(b"new").unwrap();
        let attrs = Attributes {
            mode: 0o644,
            owner: None,
            accessed: None,
            modified: None,
        };
        t.commit(&d.join("out"), &attrs, true).unwrap();
        assert_eq!(std::fs::read(d.join("target")).unwrap(), b"other file");
        assert!(!std::fs::symlink_metadata(d.join("out"))
            .unwrap()
            .file_type()
            .is_symlink());
        assert_eq!(std::fs::read(d.join("out")).unwrap(), b"new");
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn random_names_are_short_and_distinct() {
        let a = random_name();
        let b = random_name();
        assert_ne!(a, b);
        assert_eq!(a.len(), ".uadk-".len() + 10 + ".tmp".len());
    }
}
