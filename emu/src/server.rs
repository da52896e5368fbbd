//! [`Emulator`]: the in-process API — build the tree, serve device sockets, inject faults.

use std::os::fd::AsRawFd;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use parking_lot::Mutex;
use serde::{Deserialize, Serialize};
use uadk_core::discovery::Roots;

use crate::config::{EmuConfig, Faults};
use crate::device::{DeviceShared, DeviceStatus};
use crate::error::{EmuError, Result};
use crate::{session, tree};

/// A running emulator. Dropping it stops every engine, closes every connection (clients see
/// the device go away) and removes the tree.
///
/// ```
/// use uadk_emu::{Emulator, EmuConfig};
/// let dir = std::env::temp_dir().join(format!("uadk-emu-doc-{}", std::process::id()));
/// let emu = Emulator::start(&dir, &EmuConfig::default()).unwrap();
/// let found = uadk_core::discovery::scan(&emu.roots());
/// assert_eq!(found.devices.len(), 2);
/// drop(emu);
/// # let _ = std::fs::remove_dir_all(&dir);
/// ```
pub struct Emulator {
    root: PathBuf,
    devices: Vec<Arc<DeviceShared>>,
    stop: Arc<AtomicBool>,
    acceptors: Vec<JoinHandle<()>>,
    conns: Conns,
}

/// Status of the whole emulator.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EmuStatus {
    /// Root directory of the tree.
    pub root: PathBuf,
    /// Process id serving it.
    pub pid: u32,
    /// Every device.
    pub devices: Vec<DeviceStatus>,
}

impl std::fmt::Debug for Emulator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Emulator")
            .field("root", &self.root)
            .field("devices", &self.device_names())
            .finish()
    }
}

impl Emulator {
    /// Builds `root/sys/class/uacce/...` and `root/dev/...` and starts serving.
    pub fn start(root: &Path, cfg: &EmuConfig) -> Result<Emulator> {
        if cfg.devices.is_empty() {
            return Err(EmuError::Config("no devices configured".into()));
        }
        for d in &cfg.devices {
            d.faults.validate()?;
            if !(2..=3).contains(&d.qm_version) {
                return Err(EmuError::Config(format!(
                    "QM version {} not emulated (2 or 3)",
                    d.qm_version
                )));
            }
        }
        std::fs::create_dir_all(root).map_err(|e| EmuError::io(format!("create {}", root.display()), e))?;
        let stop = Arc::new(AtomicBool::new(false));
        let conns: Conns = Arc::new(Mutex::new(Vec::new()));
        let mut emu = Emulator {
            root: root.to_path_buf(),
            devices: Vec::new(),
            stop: stop.clone(),
            acceptors: Vec::new(),
            conns: conns.clone(),
        };
        for (i, spec) in cfg.devices.iter().enumerate() {
            let name = format!("{}-{}", spec.kind.driver_name(), cfg.first_id as usize + i);
            let t = tree::create_device(root, &name, spec)?;
            let _ = std::fs::remove_file(&t.node);
            let listener = UnixListener::bind(&t.node)
                .map_err(|e| EmuError::io(format!("bind device socket {}", t.node.display()), e))?;
            listener
                .set_nonblocking(true)
                .map_err(|e| EmuError::io("set socket non-blocking", e))?;
            let dev = Arc::new(DeviceShared::new(name.clone(), spec.clone(), t));
            emu.devices.push(dev.clone());
            let stop = stop.clone();
            let conns = conns.clone();
            let h = std::thread::Builder::new()
                .name(format!("{name}-accept"))
                .spawn(move || accept_loop(listener, dev, stop, conns))
                .map_err(|e| EmuError::io("spawn acceptor thread", e))?;
            emu.acceptors.push(h);
        }
        Ok(emu)
    }

    /// Roots to point `uadk-core` at (`root/sys`, `root/dev`).
    pub fn roots(&self) -> Roots {
        Roots::under(&self.root)
    }

    /// The tree's root directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Names of all devices, in creation order.
    pub fn device_names(&self) -> Vec<String> {
        self.devices.iter().map(|d| d.name.clone()).collect()
    }

    fn device(&self, name: &str) -> Result<&Arc<DeviceShared>> {
        self.devices
            .iter()
            .find(|d| d.name == name)
            .ok_or_else(|| EmuError::NoSuchDevice(name.to_string()))
    }

    /// Replaces a device's faults at run time.
    pub fn set_faults(&self, name: &str, faults: Faults) -> Result<()> {
        faults.validate()?;
        self.device(name)?.faults.set(&faults);
        Ok(())
    }

    /// Resets a device: running queues get their status words set and lose their in-flight
    /// requests; queues opened afterwards work.
    pub fn reset(&self, name: &str) -> Result<()> {
        self.device(name)?.faults.trigger_reset();
        Ok(())
    }

    /// Sets or clears the device's `isolate` attribute.
    pub fn set_isolated(&self, name: &str, isolated: bool) -> Result<()> {
        tree::set_isolated(&self.device(name)?.tree, isolated)
    }

    /// Counters and settings of every device.
    pub fn status(&self) -> EmuStatus {
        EmuStatus {
            root: self.root.clone(),
            pid: std::process::id(),
            devices: self.devices.iter().map(|d| d.status()).collect(),
        }
    }

    /// Stops serving and removes the tree (also done on drop).
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        if self.stop.swap(true, Ordering::AcqRel) {
            return;
        }
        for h in self.acceptors.drain(..) {
            let _ = h.join();
        }
        let conns: Vec<_> = std::mem::take(&mut *self.conns.lock());
        for (s, h) in conns {
            let _ = s.shutdown(std::net::Shutdown::Both);
            if let Some(h) = h {
                let _ = h.join();
            }
        }
        for d in &self.devices {
            tree::remove_device(&d.tree);
        }
        let _ = std::fs::remove_dir(self.root.join("sys/class/uacce"));
        let _ = std::fs::remove_dir(self.root.join("sys/class"));
        let _ = std::fs::remove_dir(self.root.join("sys"));
        let _ = std::fs::remove_dir(self.root.join("dev"));
        // The root itself only if nothing else (pid file, log) lives there.
        let _ = std::fs::remove_dir(&self.root);
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        self.shutdown();
    }
}

type Conns = Arc<Mutex<Vec<(UnixStream, Option<JoinHandle<()>>)>>>;

fn accept_loop(listener: UnixListener, dev: Arc<DeviceShared>, stop: Arc<AtomicBool>, conns: Conns) {
    while !stop.load(Ordering::Acquire) {
        match uadk_core::sys::poll::poll(&[listener.as_raw_fd()], Duration::from_millis(50)) {
            Ok(r) if r[0].readable => {}
            Ok(_) => {
                reap(&conns);
                continue;
            }
            Err(e) => {
                log::warn!("{}: poll on listener: {e}", dev.name);
                std::thread::sleep(Duration::from_millis(50));
                continue;
            }
        }
        let stream = match listener.accept() {
            Ok((s, _)) => s,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => continue,
            Err(e) => {
                log::warn!("{}: accept: {e}", dev.name);
                continue;
            }
        };
        if stream.set_nonblocking(false).is_err() {
            continue;
        }
        let Ok(twin) = stream.try_clone() else {
            continue;
        };
        let d = dev.clone();
        reap(&conns);
        let mut list = conns.lock();
        match std::thread::Builder::new()
            .name(format!("{}-conn", dev.name))
            .spawn(move || session::serve(stream, d))
        {
            Ok(h) => list.push((twin, Some(h))),
            Err(e) => log::warn!("{}: cannot spawn session thread: {e}", dev.name),
        }
    }
}

/// Joins finished connection threads so a long-running emulator does not accumulate them.
fn reap(conns: &Conns) {
    conns.lock().retain_mut(|(_, h)| match h {
        Some(j) if j.is_finished() => {
            if let Some(j) = h.take() {
                let _ = j.join();
            }
            false
        }
        _ => true,
    });
}
