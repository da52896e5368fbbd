//! The emulated-device environment shared by the `device_*` test binaries: an in-process
//! emulator with one ZIP device per requested QM version, its engines registered with
//! uadk-zip, and everything undone on drop. One environment at a time per binary (the
//! device registry is process-wide).

// Each test binary uses its own part of this module.
#![allow(dead_code)]

use parking_lot::{Mutex, MutexGuard};
use std::path::PathBuf;
use std::sync::Arc;
use uadk_emu::{DeviceKind, DeviceSpec, EmuConfig, Emulator, Faults};
use uadk_zip::{unregister_device, DeviceEngine};

static LOCK: Mutex<()> = Mutex::new(());

/// A running emulator and the engines registered for its devices.
pub struct Env {
    pub engines: Vec<Arc<dyn DeviceEngine>>,
    pub emu: Emulator,
    pub dir: PathBuf,
    _guard: MutexGuard<'static, ()>,
}

impl Drop for Env {
    fn drop(&mut self) {
        for e in &self.engines {
            unregister_device(e);
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Starts an emulator with a ZIP device of each QM version in `versions` (2 or 3) in a
/// temporary directory named after `binary` and `tag`, and registers its engines.
pub fn env(binary: &str, tag: &str, versions: &[u32]) -> Env {
    let guard = LOCK.lock();
    let dir = std::env::temp_dir().join(format!("uadk-zip-{binary}-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let cfg = EmuConfig {
        devices: versions
            .iter()
            .map(|&v| DeviceSpec::new(DeviceKind::Zip, v))
            .collect(),
        first_id: 0,
    };
    let emu = Emulator::start(&dir, &cfg).unwrap();
    let engines = uadk_zip::device::register(&emu.roots());
    assert_eq!(engines.len(), versions.len());
    Env {
        engines,
        emu,
        dir,
        _guard: guard,
    }
}

impl Env {
    /// Applies `faults` to every device of this environment.
    pub fn set_faults(&self, faults: Faults) {
        for name in self.emu.device_names() {
            self.emu.set_faults(&name, faults).unwrap();
        }
    }
}

/// Word-salad text of `len` bytes, different for each `seed`.
pub fn text(len: usize, seed: u32) -> Vec<u8> {
    let words = [
        "batch ",
        "queue ",
        "sqe ",
        "poll ",
        "callback ",
        "device ",
        "job\n",
    ];
    let mut x = 777u32 ^ seed.wrapping_mul(2_654_435_761);
    let mut v = Vec::with_capacity(len + 16);
    while v.len() < len {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        v.extend_from_slice(words[(x % 7) as usize].as_bytes());
    }
    v.truncate(len);
    v
}
