//! Per-engine counters (`uadk emu status`).

use std::sync::atomic::{AtomicU64, Ordering};

use serde::Serialize;

/// Live counters of one engine (one queue pair), published after each batch of
/// completions (so a client may see a completion a moment before the counters count it).
#[derive(Debug, Default)]
pub struct EngineCounters {
    /// Requests completed (with or without error).
    pub requests: AtomicU64,
    /// Payload bytes processed.
    pub bytes: AtomicU64,
    /// IO page faults charged by the fault model.
    pub faults_charged: AtomicU64,
    /// Errors injected by fault injection.
    pub errors_injected: AtomicU64,
    /// Nanoseconds spent executing operations (excluding idle, parking and injected delays).
    pub busy_ns: AtomicU64,
}

/// A snapshot of [`EngineCounters`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct CounterSnapshot {
    /// Requests completed.
    pub requests: u64,
    /// Payload bytes.
    pub bytes: u64,
    /// IO page faults charged.
    pub faults_charged: u64,
    /// Errors injected.
    pub errors_injected: u64,
    /// Busy nanoseconds.
    pub busy_ns: u64,
}

impl EngineCounters {
    /// Reads all counters.
    pub fn snapshot(&self) -> CounterSnapshot {
        CounterSnapshot {
            requests: self.requests.load(Ordering::Relaxed),
            bytes: self.bytes.load(Ordering::Relaxed),
            faults_charged: self.faults_charged.load(Ordering::Relaxed),
            errors_injected: self.errors_injected.load(Ordering::Relaxed),
            busy_ns: self.busy_ns.load(Ordering::Relaxed),
        }
    }
}

impl CounterSnapshot {
    /// Element-wise sum.
    pub fn add(&mut self, o: &CounterSnapshot) {
        self.requests += o.requests;
        self.bytes += o.bytes;
        self.faults_charged += o.faults_charged;
        self.errors_injected += o.errors_injected;
        self.busy_ns += o.busy_ns;
    }
}
