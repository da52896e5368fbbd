//! What the machine offers the pool: hugepages per node, THP mode, lock limits, pinning.
//!
//! Nothing here calls an unknown system call: mempinfd counts as available only when its
//! number is stated by `UADK_MEMPINFD_NR` or by the kernel at
//! `/sys/kernel/mempinfd/syscall_nr`.

use serde::Serialize;
use std::fs;
use std::path::{Path, PathBuf};

/// Env var that states mempinfd's syscall number (for kernels that don't publish it).
pub const MEMPINFD_NR_ENV: &str = "UADK_MEMPINFD_NR";
/// Where a kernel carrying our mempinfd patch publishes the syscall number.
pub const MEMPINFD_SYSFS: &str = "/sys/kernel/mempinfd/syscall_nr";
/// Pin devices the pool looks for, in order. Both take `UACCE_CMD_PIN`/`UNPIN`.
pub const PIN_DEVICES: &[&str] = &["/dev/uacce_ctrl", "/dev/mpin_user_pages"];
/// `__NR_mount_setattr` on x86-64 and arm64: the RFC's number for mempinfd, taken since 5.12.
pub const MOUNT_SETATTR_NR: i64 = 442;

/// Hugetlb pages of one size on one node (or system-wide when `node` is `None`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HugepageInfo {
    /// Page size in KiB (2048, 1048576).
    pub size_kib: u64,
    /// NUMA node, or `None` for the system-wide count on machines without node directories.
    pub node: Option<u32>,
    /// Pages reserved.
    pub total: u64,
    /// Pages free.
    pub free: u64,
}

/// Where mempinfd's syscall number comes from, if anywhere.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MempinfdNumber {
    /// The number.
    pub nr: i64,
    /// `UADK_MEMPINFD_NR` or the sysfs path.
    pub source: String,
}

/// A snapshot of what the machine offers.
///
/// ```
/// let p = uadk_pool::MachineProbe::read();
/// // Every machine has at least one NUMA node, even without NUMA support in sysfs.
/// assert!(!p.numa_nodes.is_empty());
/// ```
#[derive(Debug, Clone, Serialize)]
pub struct MachineProbe {
    /// Hugetlb pages per size and node.
    pub hugepages: Vec<HugepageInfo>,
    /// THP mode: `always`, `madvise`, `never`, or `unsupported`.
    pub thp: String,
    /// `RLIMIT_MEMLOCK` in bytes; `None` = unlimited.
    pub memlock_limit_bytes: Option<u64>,
    /// Whether the process has `CAP_IPC_LOCK` (which lifts the limit).
    pub cap_ipc_lock: bool,
    /// Whether mempinfd can be used: its number is stated (see [`MempinfdNumber`]).
    pub mempinfd: bool,
    /// The stated number, or why there is none.
    pub mempinfd_number: Result<MempinfdNumber, String>,
    /// Pin devices present.
    pub pin_devices: Vec<PathBuf>,
    /// NUMA nodes with memory.
    pub numa_nodes: Vec<u32>,
    /// Base page size in bytes.
    pub base_page_size: usize,
}

impl MachineProbe {
    /// Reads the probe from `/sys` and `/proc`.
    pub fn read() -> Self {
        let mempinfd_number = mempinfd_number();
        MachineProbe {
            hugepages: hugepages(Path::new("/sys")),
            thp: thp_mode(),
            memlock_limit_bytes: crate::sys::limits::memlock_limit(),
            cap_ipc_lock: has_cap_ipc_lock(),
            mempinfd: mempinfd_number.is_ok(),
            mempinfd_number,
            pin_devices: PIN_DEVICES
                .iter()
                .map(PathBuf::from)
                .filter(|p| p.exists())
                .collect(),
            numa_nodes: numa_nodes(),
            base_page_size: crate::sys::mmap::base_page_size(),
        }
    }

    /// Free hugetlb pages of `size_kib` on `node` (system-wide when `node` is `None` or when
    /// the machine has no per-node counts).
    pub fn free_hugepages(&self, size_kib: u64, node: Option<u32>) -> u64 {
        let per_node: Vec<&HugepageInfo> = self
            .hugepages
            .iter()
            .filter(|h| h.size_kib == size_kib && h.node.is_some())
            .collect();
        if per_node.is_empty() {
            return self
                .hugepages
                .iter()
                .filter(|h| h.size_kib == size_kib && h.node.is_none())
                .map(|h| h.free)
                .sum();
        }
        per_node
            .iter()
            .filter(|h| node.is_none() || h.node == node)
            .map(|h| h.free)
            .sum()
    }
}

/// The mempinfd number, from `UADK_MEMPINFD_NR` first, then the kernel's sysfs file.
/// 442 is refused: it is `mount_setattr` on mainline kernels.
pub fn mempinfd_number() -> Result<MempinfdNumber, String> {
    let (text, source) = match std::env::var(MEMPINFD_NR_ENV) {
        Ok(v) => (v, MEMPINFD_NR_ENV.to_string()),
        Err(_) => match fs::read_to_string(MEMPINFD_SYSFS) {
            Ok(v) => (v, MEMPINFD_SYSFS.to_string()),
            Err(_) => {
                return Err(format!(
                    "the kernel does not publish {MEMPINFD_SYSFS} and {MEMPINFD_NR_ENV} is unset: \
                     this kernel has no mempinfd (it was never merged upstream)"
                ))
            }
        },
    };
    let nr: i64 = text
        .trim()
        .parse()
        .map_err(|_| format!("{source} holds {:?}, not a syscall number", text.trim()))?;
    if nr < 0 {
        return Err(format!("{source} holds a negative syscall number {nr}"));
    }
    if nr == MOUNT_SETATTR_NR && source == MEMPINFD_NR_ENV {
        return Err(format!(
            "{MEMPINFD_NR_ENV}=442 refused: 442 is mount_setattr on mainline kernels (the RFC's \
             number was never merged); use the number your patched kernel publishes in {MEMPINFD_SYSFS}"
        ));
    }
    Ok(MempinfdNumber { nr, source })
}

fn read_u64(p: &Path) -> Option<u64> {
    fs::read_to_string(p).ok()?.trim().parse().ok()
}

/// Parses `hugepages-2048kB` into 2048.
fn size_from_dir_name(name: &str) -> Option<u64> {
    name.strip_prefix("hugepages-")?.strip_suffix("kB")?.parse().ok()
}

fn hugepage_sizes_in(dir: &Path, node: Option<u32>, out: &mut Vec<HugepageInfo>) {
    let Ok(rd) = fs::read_dir(dir) else { return };
    for e in rd.flatten() {
        let name = e.file_name();
        let Some(size_kib) = name.to_str().and_then(size_from_dir_name) else {
            continue;
        };
        let p = e.path();
        let total = read_u64(&p.join("nr_hugepages")).unwrap_or(0);
        let free = read_u64(&p.join("free_hugepages")).unwrap_or(0);
        out.push(HugepageInfo {
            size_kib,
            node,
            total,
            free,
        });
    }
}

/// Hugepages per node from `<sys>/devices/system/node/node*/hugepages`, or system-wide from
/// `<sys>/kernel/mm/hugepages` when there are no node directories.
pub(crate) fn hugepages(sys: &Path) -> Vec<HugepageInfo> {
    let mut out = Vec::new();
    for node in nodes_in(&sys.join("devices/system/node")) {
        hugepage_sizes_in(
            &sys.join(format!("devices/system/node/node{node}/hugepages")),
            Some(node),
            &mut out,
        );
    }
    if out.is_empty() {
        hugepage_sizes_in(&sys.join("kernel/mm/hugepages"), None, &mut out);
    }
    out.sort_by_key(|h| (h.size_kib, h.node));
    out
}

fn nodes_in(dir: &Path) -> Vec<u32> {
    let mut v: Vec<u32> = fs::read_dir(dir)
        .map(|rd| {
            rd.flatten()
                .filter_map(|e| e.file_name().to_str()?.strip_prefix("node")?.parse().ok())
                .collect()
        })
        .unwrap_or_default();
    v.sort_unstable();
    v
}

/// NUMA nodes that have memory (node 0 on machines without NUMA sysfs).
pub(crate) fn numa_nodes() -> Vec<u32> {
    if let Ok(s) = fs::read_to_string("/sys/devices/system/node/has_memory") {
        let v = parse_node_list(s.trim());
        if !v.is_empty() {
            return v;
        }
    }
    let v = nodes_in(Path::new("/sys/devices/system/node"));
    if v.is_empty() {
        vec![0]
    } else {
        v
    }
}

/// Parses a kernel node list such as `0-2,4`.
pub(crate) fn parse_node_list(s: &str) -> Vec<u32> {
    let mut out = Vec::new();
    for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        match part.split_once('-') {
            Some((a, b)) => {
                if let (Ok(a), Ok(b)) = (a.parse::<u32>(), b.parse::<u32>()) {
                    if b >= a && b - a < 4096 {
                        out.extend(a..=b);
                    }
                }
            }
            None => {
                if let Ok(n) = part.parse() {
                    out.push(n);
                }
            }
        }
    }
    out
}

/// The THP mode: the bracketed word of `/sys/kernel/mm/transparent_hugepage/enabled`.
pub(crate) fn thp_mode() -> String {
    match fs::read_to_string("/sys/kernel/mm/transparent_hugepage/enabled") {
        Ok(s) => s
            .split_whitespace()
            .find_map(|w| w.strip_prefix('[')?.strip_suffix(']'))
            .unwrap_or("unknown")
            .to_string(),
        Err(_) => "unsupported".to_string(),
    }
}

/// Whether `CAP_IPC_LOCK` (bit 14) is in the effective capability set.
pub(crate) fn has_cap_ipc_lock() -> bool {
    proc_status_field("CapEff")
        .and_then(|v| u64::from_str_radix(v.trim(), 16).ok())
        .is_some_and(|caps| caps & (1 << 14) != 0)
}

/// A field of `/proc/self/status`, e.g. `VmPin` → `"0 kB"`.
pub(crate) fn proc_status_field(name: &str) -> Option<String> {
    let s = fs::read_to_string("/proc/self/status").ok()?;
    s.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        (k == name).then(|| v.trim().to_string())
    })
}

/// `VmPin` of this process in bytes: pages charged as pinned (`mm->pinned_vm`).
pub(crate) fn vm_pin_bytes() -> Option<u64> {
    let v = proc_status_field("VmPin")?;
    Some(v.trim_end_matches("kB").trim().parse::<u64>().ok()? * 1024)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn node_lists_parse() {
        assert_eq!(parse_node_list("0"), vec![0]);
        assert_eq!(parse_node_list("0-2,4"), vec![0, 1, 2, 4]);
        assert_eq!(parse_node_list(""), Vec::<u32>::new());
        assert_eq!(parse_node_list("3-1,x,5"), vec![5]);
    }

    #[test]
    fn hugepage_dir_names_parse() {
        assert_eq!(size_from_dir_name("hugepages-2048kB"), Some(2048));
        assert_eq!(size_from_dir_name("hugepages-1048576kB"), Some(1_048_576));
        assert_eq!(size_from_dir_name("hugepages-x"), None);
    }

    #[test]
    fn hugepages_read_from_a_generated_tree() {
        let d = std::env::temp_dir().join(format!("uadk-pool-probe-{}", std::process::id()));
        let h = d.join("devices/system/node/node1/hugepages/hugepages-2048kB");
        fs::create_dir_all(&h).unwrap();
        fs::write(h.join("nr_hugepages"), "8\n").unwrap();
        fs::write(h.join("free_hugepages"), "5\n").unwrap();
        let got = hugepages(&d);
        fs::remove_dir_all(&d).unwrap();
        assert_eq!(
            got,
            vec![HugepageInfo {
                size_kib: 2048,
                node: Some(1),
                total: 8,
                free: 5
            }]
        );
    }

    #[test]
    fn mempinfd_442_from_env_is_refused() {
        // Only this test touches the variable in this binary.
        std::env::set_var(MEMPINFD_NR_ENV, "442");
        let r = mempinfd_number();
        std::env::remove_var(MEMPINFD_NR_ENV);
        let e = r.unwrap_err();
        assert!(e.contains("mount_setattr"), "{e}");
    }
}
