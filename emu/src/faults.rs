//! Runtime fault state of a device, readable by engines with relaxed atomic loads.

use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};

use crate::config::Faults;

/// The live fault settings of one device (changed at run time by the control API).
#[derive(Debug, Default)]
pub struct FaultState {
    error_ppm: AtomicU32,
    delay_us: AtomicU64,
    stalled: AtomicBool,
    iopf_ns: AtomicU64,
    churn_every: AtomicU64,
    bad_count_ppm: AtomicU32,
    reset_epoch: AtomicU64,
}

impl FaultState {
    /// Applies a fault configuration.
    pub fn set(&self, f: &Faults) {
        self.error_ppm.store(ppm(f.error_rate), Ordering::Relaxed);
        self.delay_us.store(f.delay_us, Ordering::Relaxed);
        self.stalled.store(f.stalled, Ordering::Release);
        self.iopf_ns.store(f.iopf_ns, Ordering::Relaxed);
        self.churn_every.store(f.churn_every, Ordering::Relaxed);
        self.bad_count_ppm.store(ppm(f.bad_count_rate), Ordering::Relaxed);
    }

    /// The current configuration.
    pub fn get(&self) -> Faults {
        Faults {
            error_rate: self.error_ppm.load(Ordering::Relaxed) as f64 / 1_000_000.0,
            delay_us: self.delay_us.load(Ordering::Relaxed),
            stalled: self.stalled.load(Ordering::Acquire),
            iopf_ns: self.iopf_ns.load(Ordering::Relaxed),
            churn_every: self.churn_every.load(Ordering::Relaxed),
            bad_count_rate: self.bad_count_ppm.load(Ordering::Relaxed) as f64 / 1_000_000.0,
        }
    }

    /// Error probability in parts per million.
    pub fn error_ppm(&self) -> u32 {
        self.error_ppm.load(Ordering::Relaxed)
    }

    /// Probability of a ZIP completion with impossible byte counts, in parts per million.
    pub fn bad_count_ppm(&self) -> u32 {
        self.bad_count_ppm.load(Ordering::Relaxed)
    }

    /// Completion delay in microseconds.
    pub fn delay_us(&self) -> u64 {
        self.delay_us.load(Ordering::Relaxed)
    }

    /// Engines must not take requests.
    pub fn stalled(&self) -> bool {
        self.stalled.load(Ordering::Acquire)
    }

    /// Page-fault latency in nanoseconds (0 = model off).
    pub fn iopf_ns(&self) -> u64 {
        self.iopf_ns.load(Ordering::Relaxed)
    }

    /// Churn period in requests (0 = none).
    pub fn churn_every(&self) -> u64 {
        self.churn_every.load(Ordering::Relaxed)
    }

    /// Resets so far; engines compare with the epoch they started in.
    pub fn reset_epoch(&self) -> u64 {
        self.reset_epoch.load(Ordering::Acquire)
    }

    /// Triggers a device reset: every running queue gets its status words set and its
    /// in-flight requests are never completed. Queues opened afterwards work.
    pub fn trigger_reset(&self) {
        self.reset_epoch.fetch_add(1, Ordering::AcqRel);
    }
}

/// A rate in 0..=1 as parts per million.
fn ppm(rate: f64) -> u32 {
    (rate.clamp(0.0, 1.0) * 1_000_000.0) as u32
}

/// A small xorshift generator for deterministic-per-engine error injection.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// Seeds the generator (0 is replaced by a fixed odd constant).
    pub fn new(seed: u64) -> Rng {
        Rng(if seed == 0 { 0x9E37_79B9_7F4A_7C15 } else { seed })
    }

    /// Next value in 0..1_000_000.
    pub fn next_ppm(&mut self) -> u32 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        (x % 1_000_000) as u32
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_round_trip_and_rate_is_roughly_honoured() {
        let s = FaultState::default();
        let f = Faults {
            error_rate: 0.25,
            delay_us: 7,
            stalled: true,
            iopf_ns: 100,
            churn_every: 9,
            bad_count_rate: 0.5,
        };
        s.set(&f);
        assert_eq!(s.get(), f);
        let mut r = Rng::new(1);
        let hits = (0..100_000).filter(|_| r.next_ppm() < s.error_ppm()).count();
        assert!((20_000..30_000).contains(&hits), "{hits}");
        let e = s.reset_epoch();
        s.trigger_reset();
        assert_eq!(s.reset_epoch(), e + 1);
    }
}
