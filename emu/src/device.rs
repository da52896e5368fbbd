//! State shared by everything serving one emulated device.

use std::sync::Arc;

use parking_lot::Mutex;
use serde::{Deserialize, Serialize};

use crate::config::{DeviceSpec, Faults};
use crate::counters::{CounterSnapshot, EngineCounters};
use crate::faults::FaultState;
use crate::tree::{self, DeviceTree};

/// One emulated device.
#[derive(Debug)]
pub struct DeviceShared {
    /// `hisi_zip-N` / `hisi_sec2-N`.
    pub name: String,
    /// Its configuration.
    pub spec: DeviceSpec,
    /// Live faults.
    pub faults: FaultState,
    /// Its files.
    pub tree: DeviceTree,
    queues: Mutex<Vec<bool>>,
    engines: Mutex<Vec<(u16, Arc<EngineCounters>)>>,
    retired: Mutex<CounterSnapshot>,
}

/// Counters of one live engine.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EngineStatus {
    /// Hardware queue number.
    pub sqn: u16,
    /// Its counters.
    pub counters: CounterSnapshot,
}

/// Status of one device (`uadk emu status`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeviceStatus {
    /// Device name.
    pub name: String,
    /// `api`.
    pub api: String,
    /// `algorithms`.
    pub algorithms: Vec<String>,
    /// NUMA node.
    pub node: Option<u32>,
    /// Queue pairs in total.
    pub queues: u32,
    /// Queue pairs open.
    pub open_queues: u32,
    /// Active faults.
    pub faults: Faults,
    /// Sum over live and finished engines.
    pub totals: CounterSnapshot,
    /// Live engines.
    pub engines: Vec<EngineStatus>,
}

impl DeviceShared {
    /// A device with all queues free.
    pub fn new(name: String, spec: DeviceSpec, tree: DeviceTree) -> DeviceShared {
        let faults = FaultState::default();
        faults.set(&spec.faults);
        DeviceShared {
            name,
            queues: Mutex::new(vec![false; spec.queues as usize]),
            spec,
            faults,
            tree,
            engines: Mutex::new(Vec::new()),
            retired: Mutex::new(CounterSnapshot::default()),
        }
    }

    /// Takes the lowest free queue number, updating `available_instances`.
    pub fn acquire_queue(&self) -> Option<u16> {
        let mut q = self.queues.lock();
        let i = q.iter().position(|used| !used)?;
        q[i] = true;
        let free = q.iter().filter(|u| !**u).count() as u32;
        tree::set_available(&self.tree, free);
        Some(i as u16)
    }

    /// Returns a queue number.
    pub fn release_queue(&self, sqn: u16) {
        let mut q = self.queues.lock();
        if let Some(u) = q.get_mut(sqn as usize) {
            *u = false;
        }
        let free = q.iter().filter(|u| !**u).count() as u32;
        tree::set_available(&self.tree, free);
    }

    /// Registers a live engine's counters.
    pub fn add_engine(&self, sqn: u16, c: Arc<EngineCounters>) {
        self.engines.lock().push((sqn, c));
    }

    /// Moves an engine's counters into the device totals.
    pub fn retire_engine(&self, c: &Arc<EngineCounters>) {
        let mut e = self.engines.lock();
        if let Some(i) = e.iter().position(|(_, x)| Arc::ptr_eq(x, c)) {
            let (_, gone) = e.swap_remove(i);
            self.retired.lock().add(&gone.snapshot());
        }
    }

    /// A status snapshot.
    pub fn status(&self) -> DeviceStatus {
        let engines: Vec<EngineStatus> = self
            .engines
            .lock()
            .iter()
            .map(|(sqn, c)| EngineStatus {
                sqn: *sqn,
                counters: c.snapshot(),
            })
            .collect();
        let mut totals = *self.retired.lock();
        for e in &engines {
            totals.add(&e.counters);
        }
        DeviceStatus {
            name: self.name.clone(),
            api: format!("hisi_qm_v{}", self.spec.qm_version),
            algorithms: self.spec.algorithms().iter().map(|s| s.to_string()).collect(),
            node: self.spec.node,
            queues: self.spec.queues,
            open_queues: self.queues.lock().iter().filter(|u| **u).count() as u32,
            faults: self.faults.get(),
            totals,
            engines,
        }
    }
}
