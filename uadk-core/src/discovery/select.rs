//! Choosing a device: nearest NUMA node to the caller first, then most free queues
//! (UADK's `wd_get_accel_dev`).

use std::path::Path;

use super::sysfs::Device;
use crate::sys;

/// Distance used when a node or the distance table is unknown.
pub const UNKNOWN_DISTANCE: u32 = 20;
/// Distance of a node to itself.
pub const LOCAL_DISTANCE: u32 = 10;

/// The NUMA distance matrix from `<sysfs>/devices/system/node/node<N>/distance`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NumaDistances {
    rows: Vec<Option<Vec<u32>>>,
}

impl NumaDistances {
    /// Reads the matrix (missing nodes or unparsable rows are treated as unknown).
    pub fn load(sysfs: &Path) -> NumaDistances {
        let mut rows: Vec<Option<Vec<u32>>> = Vec::new();
        let Ok(dir) = std::fs::read_dir(sysfs.join("devices/system/node")) else {
            return NumaDistances { rows };
        };
        for e in dir.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            let Some(n) = name.strip_prefix("node").and_then(|n| n.parse::<usize>().ok()) else {
                continue;
            };
            if n >= 4096 {
                continue;
            }
            let row = std::fs::read_to_string(e.path().join("distance"))
                .ok()
                .and_then(|s| s.split_whitespace().map(|t| t.parse().ok()).collect());
            if rows.len() <= n {
                rows.resize(n + 1, None);
            }
            rows[n] = row;
        }
        NumaDistances { rows }
    }

    /// Distance from node `a` to node `b`; `None` for either means unknown.
    pub fn distance(&self, a: Option<u32>, b: Option<u32>) -> u32 {
        match (a, b) {
            (Some(a), Some(b)) => self
                .rows
                .get(a as usize)
                .and_then(|r| r.as_ref())
                .and_then(|r| r.get(b as usize).copied())
                .unwrap_or(if a == b { LOCAL_DISTANCE } else { UNKNOWN_DISTANCE }),
            _ => UNKNOWN_DISTANCE,
        }
    }
}

/// Picks the device for `alg` nearest to the calling CPU's node (or to `node` if given),
/// skipping isolated devices and devices without free queues.
pub fn select<'a>(devices: &'a [Device], alg: &str, node: Option<u32>) -> Option<&'a Device> {
    let node = node.or_else(sys::cpu::current_node);
    let distances = NumaDistances::load(&super::Roots::from_env().sysfs);
    select_for_node(devices, alg, node, &distances)
}

/// [`select`] with an explicit node and distance table.
///
/// ```
/// use uadk_core::discovery::{select_for_node, Device, NumaDistances};
/// let dev = |name: &str, node, free| Device {
///     name: name.into(), api: "hisi_qm_v3".into(), qm_version: Some(3), flags: 1,
///     algorithms: vec!["zlib".into()], available_instances: free, mmio_size: 8192,
///     dus_size: 151552, isolated: false, node: Some(node), dev_path: name.into(),
/// };
/// let devs = [dev("hisi_zip-1", 1, 64), dev("hisi_zip-7", 0, 2), dev("hisi_zip-9", 0, 9)];
/// let d = select_for_node(&devs, "zlib", Some(0), &NumaDistances::default()).unwrap();
/// assert_eq!(d.name, "hisi_zip-9"); // same node first, then most free queues
/// ```
pub fn select_for_node<'a>(
    devices: &'a [Device],
    alg: &str,
    node: Option<u32>,
    distances: &NumaDistances,
) -> Option<&'a Device> {
    devices
        .iter()
        .filter(|d| !d.isolated && d.available_instances > 0 && d.supports(alg))
        .min_by_key(|d| {
            (
                distances.distance(node, d.node),
                std::cmp::Reverse(d.available_instances),
            )
        })
}
