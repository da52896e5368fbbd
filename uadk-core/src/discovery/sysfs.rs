//! Parsing `<sysfs>/class/uacce/<name>/` (reference §2.2).

use std::path::{Path, PathBuf};

use crate::error::Error;
use crate::qm::layout::parse_qm_version;

/// Where to look for sysfs and device nodes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Roots {
    /// The sysfs root (contains `class/uacce`).
    pub sysfs: PathBuf,
    /// The directory holding device nodes.
    pub dev: PathBuf,
}

impl Default for Roots {
    fn default() -> Self {
        Roots {
            sysfs: PathBuf::from("/sys"),
            dev: PathBuf::from("/dev"),
        }
    }
}

impl Roots {
    /// Roots from `UADK_SYSFS_ROOT` / `UADK_DEV_ROOT`, defaulting to `/sys` and `/dev`.
    pub fn from_env() -> Roots {
        let get = |k: &str, d: &str| {
            std::env::var_os(k)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
                .unwrap_or_else(|| PathBuf::from(d))
        };
        Roots {
            sysfs: get("UADK_SYSFS_ROOT", "/sys"),
            dev: get("UADK_DEV_ROOT", "/dev"),
        }
    }

    /// Roots of an emulator tree created under `dir` (`dir/sys`, `dir/dev`).
    pub fn under(dir: &Path) -> Roots {
        Roots {
            sysfs: dir.join("sys"),
            dev: dir.join("dev"),
        }
    }
}

/// One uacce device as described by sysfs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Device {
    /// Directory name, e.g. `hisi_zip-3` (ids come from one global counter).
    pub name: String,
    /// `api`, e.g. `hisi_qm_v3`.
    pub api: String,
    /// QM version parsed from `api` (`None` if not a HiSilicon QM api).
    pub qm_version: Option<u32>,
    /// `flags` (bit 0 = SVA).
    pub flags: u32,
    /// `algorithms`, one per line.
    pub algorithms: Vec<String>,
    /// `available_instances`: free queues.
    pub available_instances: u32,
    /// `region_mmio_size` in bytes.
    pub mmio_size: usize,
    /// `region_dus_size` in bytes.
    pub dus_size: usize,
    /// `isolate` == 1 (absent attribute = not isolated).
    pub isolated: bool,
    /// `device/numa_node`; `None` when absent or negative (unknown).
    pub node: Option<u32>,
    /// The device node to open.
    pub dev_path: PathBuf,
}

impl Device {
    /// True if the device uses shared virtual addressing (`flags` bit 0).
    pub fn sva(&self) -> bool {
        self.flags & 1 != 0
    }

    /// True if `algorithms` contains exactly this line.
    pub fn supports(&self, alg: &str) -> bool {
        self.algorithms.iter().any(|a| a == alg)
    }
}

/// A device that was skipped, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    /// Directory name.
    pub name: String,
    /// Human-readable reason.
    pub reason: String,
}

/// The result of a scan.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Discovery {
    /// Every well-formed device, isolated ones included (see [`Device::isolated`];
    /// selection skips them).
    pub devices: Vec<Device>,
    /// Devices that could not be read, with the reason (also logged).
    pub skipped: Vec<Skipped>,
}

/// Scans `<roots.sysfs>/class/uacce`. Never fails: a missing class directory means no
/// devices; a malformed or unreadable device is skipped with a logged reason.
pub fn scan(roots: &Roots) -> Discovery {
    let class = roots.sysfs.join("class/uacce");
    let mut out = Discovery::default();
    let entries = match std::fs::read_dir(&class) {
        Ok(e) => e,
        Err(e) => {
            log::debug!("no uacce class at {}: {e}", class.display());
            return out;
        }
    };
    let mut names: Vec<String> = entries
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    for name in names {
        match read_device(&class.join(&name), &name, &roots.dev) {
            Ok(d) => out.devices.push(d),
            Err(e) => {
                log::warn!("skipping uacce device {name}: {e}");
                out.skipped.push(Skipped {
                    name,
                    reason: e.to_string(),
                });
            }
        }
    }
    out
}

fn read_attr(dir: &Path, attr: &str) -> Result<Option<String>, Error> {
    let p = dir.join(attr);
    match std::fs::read(&p) {
        Ok(b) => String::from_utf8(b)
            .map(|s| Some(s.trim().to_string()))
            .map_err(|_| Error::Malformed {
                path: p,
                reason: "not UTF-8".into(),
            }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(Error::io(format!("read {}", p.display()), e)),
    }
}

fn required(dir: &Path, attr: &str) -> Result<String, Error> {
    read_attr(dir, attr)?.ok_or_else(|| Error::Malformed {
        path: dir.join(attr),
        reason: "missing".into(),
    })
}

fn parse_num<T: std::str::FromStr>(dir: &Path, attr: &str, v: &str) -> Result<T, Error> {
    v.parse().map_err(|_| Error::Malformed {
        path: dir.join(attr),
        reason: format!("`{v}` is not a number"),
    })
}

fn read_device(dir: &Path, name: &str, dev_root: &Path) -> Result<Device, Error> {
    let api = required(dir, "api")?;
    if api.is_empty() {
        return Err(Error::Malformed {
            path: dir.join("api"),
            reason: "empty".into(),
        });
    }
    let flags: u32 = parse_num(dir, "flags", &required(dir, "flags")?)?;
    let algorithms: Vec<String> = required(dir, "algorithms")?
        .lines()
        .map(|l| l.trim().to_string())
        .filter(|l| !l.is_empty())
        .collect();
    let available_instances = parse_num(dir, "available_instances", &required(dir, "available_instances")?)?;
    let mmio_size: usize = parse_num(dir, "region_mmio_size", &required(dir, "region_mmio_size")?)?;
    let dus_size: usize = parse_num(dir, "region_dus_size", &required(dir, "region_dus_size")?)?;
    if mmio_size == 0 || dus_size == 0 {
        return Err(Error::Malformed {
            path: dir.to_path_buf(),
            reason: "zero-sized MMIO or DUS region".into(),
        });
    }
    let isolated = match read_attr(dir, "isolate")? {
        Some(v) => parse_num::<u32>(dir, "isolate", &v)? == 1,
        None => false,
    };
    let node = match read_attr(dir, "device/numa_node")? {
        Some(v) => {
            let n: i64 = parse_num(dir, "device/numa_node", &v)?;
            u32::try_from(n).ok()
        }
        None => None,
    };
    Ok(Device {
        name: name.to_string(),
        qm_version: parse_qm_version(&api),
        api,
        flags,
        algorithms,
        available_instances,
        mmio_size,
        dus_size,
        isolated,
        node,
        dev_path: dev_root.join(name),
    })
}
