//! The sysfs-like tree: `DIR/sys/class/uacce/<name>/<attribute>` and `DIR/dev/<name>`.

use std::path::{Path, PathBuf};

use uadk_core::qm::layout::{kernel_dus_size, DEFAULT_DEPTH, SQE_SIZE_128};

use crate::config::DeviceSpec;
use crate::error::{EmuError, Result};

/// MMIO region size of emulated queues (two pages: doorbell page at 0x1000 + shadow words).
pub const MMIO_SIZE: usize = 0x2000;
/// Offset of the doorbell shadow block inside MMIO (see `uadk_core::uacce::emu_proto`).
pub const SHADOW_OFFSET: usize = 0x1800;

/// DUS region size of emulated queues: what the kernel allocates for 1024 × 128-byte SQEs.
pub fn dus_size() -> usize {
    kernel_dus_size(
        SQE_SIZE_128,
        DEFAULT_DEPTH,
        DEFAULT_DEPTH,
        uadk_core::sys::page_size(),
    )
}

/// Paths of one device in the tree.
#[derive(Debug, Clone)]
pub struct DeviceTree {
    /// `DIR/sys/class/uacce/<name>`.
    pub sysfs_dir: PathBuf,
    /// `DIR/dev/<name>` (a Unix socket).
    pub node: PathBuf,
}

fn write_atomic(path: &Path, content: &str) -> Result<()> {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, content).map_err(|e| EmuError::io(format!("write {}", tmp.display()), e))?;
    std::fs::rename(&tmp, path).map_err(|e| EmuError::io(format!("rename to {}", path.display()), e))
}

/// Creates the attribute directory of a device and returns its paths.
pub fn create_device(root: &Path, name: &str, spec: &DeviceSpec) -> Result<DeviceTree> {
    let dir = root.join("sys/class/uacce").join(name);
    std::fs::create_dir_all(dir.join("device"))
        .map_err(|e| EmuError::io(format!("create {}", dir.display()), e))?;
    let dev_dir = root.join("dev");
    std::fs::create_dir_all(&dev_dir)
        .map_err(|e| EmuError::io(format!("create {}", dev_dir.display()), e))?;
    let mut algs = spec.algorithms().join("\n");
    algs.push('\n');
    let attrs = [
        ("api", format!("hisi_qm_v{}\n", spec.qm_version)),
        ("flags", "1\n".to_string()),
        ("algorithms", algs),
        ("available_instances", format!("{}\n", spec.queues)),
        ("region_mmio_size", format!("{MMIO_SIZE}\n")),
        ("region_dus_size", format!("{}\n", dus_size())),
        ("isolate", "0\n".to_string()),
        (
            "device/numa_node",
            format!("{}\n", spec.node.map_or(-1, |n| n as i64)),
        ),
    ];
    for (attr, v) in attrs {
        write_atomic(&dir.join(attr), &v)?;
    }
    Ok(DeviceTree {
        sysfs_dir: dir,
        node: dev_dir.join(name),
    })
}

/// Rewrites `available_instances`.
pub fn set_available(tree: &DeviceTree, n: u32) {
    if let Err(e) = write_atomic(&tree.sysfs_dir.join("available_instances"), &format!("{n}\n")) {
        log::warn!("{e}");
    }
}

/// Rewrites `isolate`.
pub fn set_isolated(tree: &DeviceTree, isolated: bool) -> Result<()> {
    write_atomic(
        &tree.sysfs_dir.join("isolate"),
        if isolated { "1\n" } else { "0\n" },
    )
}

/// Removes a device's attributes and node.
pub fn remove_device(tree: &DeviceTree) {
    let _ = std::fs::remove_dir_all(&tree.sysfs_dir);
    let _ = std::fs::remove_file(&tree.node);
}
