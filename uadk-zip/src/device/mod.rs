//! The HiSilicon ZIP device backend over `uadk-core` queues.
//!
//! [`probe`] finds the ZIP devices discovery sees under some [`Roots`] and makes one
//! [`ZipDevice`] engine per device, in discovery's order of preference (the device
//! [`select_for_node`] picks for zlib first, then gzip, then raw deflate, then the rest).
//! [`register`] adds them to the process-wide list sessions resolve against.
//!
//! Sessions with `Backend::Auto` / `Backend::Device` call [`auto_register`] on creation: the
//! first call in a process scans `Roots::from_env()` (`UADK_SYSFS_ROOT`, `UADK_DEV_ROOT`,
//! else `/sys`, `/dev`) and registers what it finds; a forked child scans again (and each
//! engine opens its own queues in the child, since queues belong to their opener).
//!
//! The engine runs zlib and gzip (raw deflate on QM v3 devices that advertise `deflate`) as
//! **stateful device streams** ([`stream`]: 64 KiB context per stream, ctx words mirrored,
//! flush modes, inputs and outputs over the 8 MiB per-request limit cut into requests); a
//! stream that fits one request runs as one stateless SQE.
//!
//! ```
//! use uadk_core::discovery::Roots;
//! // No uacce ZIP device under an empty tree: nothing to register.
//! let dir = std::env::temp_dir().join("uadk-zip-doc-empty-roots");
//! assert!(uadk_zip::device::probe(&Roots::under(&dir)).is_empty());
//! ```

pub(crate) mod batch;
pub(crate) mod blocks;
mod dma;
mod engine;
pub mod sqe;
mod staging;
mod stream;

pub use engine::ZipDevice;

use crate::backend::{register_device, unregister_device, DeviceEngine};
use parking_lot::Mutex;
use std::sync::Arc;
use uadk_core::discovery::{scan, select_for_node, Device, NumaDistances, Roots};

fn is_zip(d: &Device) -> bool {
    d.name.starts_with("hisi_zip") || ["zlib", "gzip", "deflate"].iter().any(|a| d.supports(a))
}

/// The ZIP devices under `roots`, as engines, in discovery's order of preference (isolated
/// devices and devices without free queues are left out).
pub fn probe(roots: &Roots) -> Vec<Arc<ZipDevice>> {
    let found = scan(roots).devices;
    let mut zips: Vec<Device> = found
        .into_iter()
        .filter(|d| is_zip(d) && !d.isolated && d.available_instances > 0)
        .collect();
    let node = uadk_core::sys::cpu::current_node();
    let dist = NumaDistances::load(&roots.sysfs);
    let mut ordered = Vec::new();
    for alg in ["zlib", "gzip", "deflate"] {
        if let Some(d) = select_for_node(&zips, alg, node, &dist).cloned() {
            zips.retain(|z| z.name != d.name);
            ordered.push(d);
        }
    }
    zips.sort_by_key(|d| {
        (
            dist.distance(node, d.node),
            std::cmp::Reverse(d.available_instances),
        )
    });
    ordered.extend(zips);
    ordered.into_iter().map(|d| Arc::new(ZipDevice::new(d))).collect()
}

/// Probes `roots` and registers every ZIP device found; returns the engines registered
/// (unregister them with [`crate::unregister_device`]).
pub fn register(roots: &Roots) -> Vec<Arc<dyn DeviceEngine>> {
    probe(roots)
        .into_iter()
        .map(|z| {
            let e: Arc<dyn DeviceEngine> = z;
            register_device(e.clone());
            e
        })
        .collect()
}

struct Auto {
    pid: Option<u32>,
    engines: Vec<Arc<dyn DeviceEngine>>,
}

static AUTO: Mutex<Auto> = Mutex::new(Auto {
    pid: None,
    engines: Vec::new(),
});

/// Registers the ZIP devices found under `Roots::from_env()`, once per process (again in a
/// forked child). Called by session creation; cheap after the first call.
pub fn auto_register() {
    let pid = std::process::id();
    let mut a = AUTO.lock();
    if a.pid == Some(pid) {
        return;
    }
    for e in std::mem::take(&mut a.engines) {
        unregister_device(&e);
    }
    a.engines = register(&Roots::from_env());
    if !a.engines.is_empty() {
        log::info!(
            "uadk-zip: registered ZIP device(s) {}",
            a.engines.iter().map(|e| e.name()).collect::<Vec<_>>().join(", ")
        );
    }
    a.pid = Some(pid);
}
