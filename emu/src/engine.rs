//! One engine per started queue: watches the doorbell, executes SQEs, posts CQEs.
//!
//! Idle policy: spin, then yield, then park on a futex in the shared MMIO memory (the
//! driver wakes it after a doorbell only when the engine announced it parked), so idle
//! queues do not burn a core.

use std::os::fd::{AsFd, OwnedFd};
use std::sync::atomic::{fence, AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use uadk_core::qm::cqe::OFF_W7;
use uadk_core::qm::doorbell::{DoorbellFormat, CMD_SQ};
use uadk_core::qm::layout::Geometry;
use uadk_core::qm::Sqe;
use uadk_core::sys::futex;
use uadk_core::sys::region::Region;
use uadk_core::uacce::emu_proto::{
    SHADOW_CLIENT_WAITING, SHADOW_CQ_DB, SHADOW_DB_SEQ, SHADOW_ENGINE_PARKED, SHADOW_SQ_DB,
};

use crate::config::DeviceKind;
use crate::counters::EngineCounters;
use crate::device::DeviceShared;
use crate::faults::Rng;
use crate::memory::ClientMem;
use crate::tree::SHADOW_OFFSET;
use crate::{sec, zip};

/// How long an engine busy-polls the doorbell after its last request.
const SPIN_FOR: Duration = Duration::from_micros(50);
/// Yields after spinning, before parking.
const YIELDS: u32 = 4;
const PARK_SLICE: Duration = Duration::from_millis(100);

/// Everything an engine thread owns.
pub struct Engine {
    /// MMIO memory (doorbell and shadow words).
    pub mmio: Arc<Region>,
    /// DUS memory (SQ, CQ, status words).
    pub dus: Arc<Region>,
    /// Queue geometry.
    pub geo: Geometry,
    /// Hardware queue number.
    pub sqn: u16,
    /// The client's eventfd for `poll()` wake-ups.
    pub event: OwnedFd,
    /// The client's memory.
    pub mem: ClientMem,
    /// The device this queue belongs to.
    pub device: Arc<DeviceShared>,
    /// This engine's counters.
    pub counters: Arc<EngineCounters>,
    /// Set by the session to end the engine (PUT_Q / close).
    pub stop: Arc<AtomicBool>,
    /// Reset epoch at queue start.
    pub epoch: u64,
    /// `qc_type` set by `SET_QP_CTX` (ZIP: 0 compress, 1 decompress; read by the ZIP engine).
    pub qc_type: u16,
}

struct Cursor {
    sq_head: u16,
    cq_tail: u16,
    phase: bool,
}

/// Wakes a parked engine (used after setting its stop flag).
pub fn kick(mmio: &Region) {
    let seq = mmio.atomic_u32(SHADOW_OFFSET + SHADOW_DB_SEQ);
    seq.fetch_add(1, Ordering::SeqCst);
    futex::wake(seq, i32::MAX);
}

impl Engine {
    /// Runs until the stop flag is set.
    pub fn run(mut self) {
        let fmt = DoorbellFormat::for_version(Some(self.device.spec.qm_version));
        let mut c = Cursor {
            sq_head: 0,
            cq_tail: 0,
            phase: true,
        };
        let mut rng = Rng::new(((self.sqn as u64) << 32) ^ self.mem_seed());
        let mut spins: u32 = 0;
        let mut yields: u32 = 0;
        let mut last_work = Instant::now();
        let mut dead = false;
        let mmio = self.mmio.clone();
        let sq_db = mmio.atomic_u64(SHADOW_OFFSET + SHADOW_SQ_DB);
        while !self.stop.load(Ordering::Acquire) {
            if !dead && self.device.faults.reset_epoch() != self.epoch {
                // Device reset: stop words set, in-flight requests are never completed.
                self.dus.write_u32_volatile(self.geo.stop_rx_offset(), 1);
                self.dus.write_u32_volatile(self.geo.stop_tx_offset(), 1);
                fence(Ordering::SeqCst);
                self.notify_client();
                dead = true;
            }
            let w = sq_db.load(Ordering::Acquire);
            let d = fmt.decode(w);
            let pending = !dead
                && !self.device.faults.stalled()
                && d.cmd == CMD_SQ
                && d.sqn == (self.sqn & if fmt == DoorbellFormat::V2 { 0x3ff } else { 0xffff })
                && d.index < self.geo.sq_depth
                && d.index != c.sq_head;
            if pending {
                self.process(&mut c, d.index, &mut rng);
                spins = 0;
                yields = 0;
                last_work = Instant::now();
                continue;
            }
            spins = spins.wrapping_add(1);
            if !spins.is_multiple_of(64) || last_work.elapsed() < SPIN_FOR {
                // Busy-poll the doorbell for SPIN_FOR (the clock is read every 64 turns).
                std::hint::spin_loop();
            } else if yields < YIELDS {
                yields += 1;
                std::thread::yield_now();
            } else {
                // Stay in the parked phase: a time-out wake-up with nothing to do parks again
                // at once; a doorbell makes the next iteration find work and restart spinning.
                self.park(sq_db.load(Ordering::Acquire));
            }
        }
    }

    fn mem_seed(&self) -> u64 {
        Instant::now().elapsed().as_nanos() as u64 ^ 0x5851_F42D_4C95_7F2D ^ (self.mem.is_local() as u64)
    }

    fn park(&self, seen: u64) {
        let parked = self.mmio.atomic_u32(SHADOW_OFFSET + SHADOW_ENGINE_PARKED);
        let seq = self.mmio.atomic_u32(SHADOW_OFFSET + SHADOW_DB_SEQ);
        parked.store(1, Ordering::SeqCst);
        let s = seq.load(Ordering::SeqCst);
        let now = self
            .mmio
            .atomic_u64(SHADOW_OFFSET + SHADOW_SQ_DB)
            .load(Ordering::SeqCst);
        if now == seen && !self.stop.load(Ordering::Acquire) {
            futex::wait(seq, s, PARK_SLICE);
        }
        parked.store(0, Ordering::SeqCst);
    }

    fn cq_head_seen(&self) -> u16 {
        let w = self
            .mmio
            .atomic_u64(SHADOW_OFFSET + SHADOW_CQ_DB)
            .load(Ordering::Acquire);
        ((w >> 32) & 0xffff) as u16
    }

    fn process(&mut self, c: &mut Cursor, tail: u16, rng: &mut Rng) {
        let faults = &self.device.faults;
        let delay = faults.delay_us();
        let err_ppm = faults.error_ppm();
        let bad_count_ppm = faults.bad_count_ppm();
        let iopf = (faults.iopf_ns(), faults.churn_every());
        let qm_version = self.device.spec.qm_version;
        let kind = self.device.spec.kind;
        let mut bytes = 0u64;
        let mut charged = 0u64;
        let mut injected = 0u64;
        let mut n = 0u64;
        let mut sqe = Sqe::zeroed();
        let start = Instant::now();
        let mut slept = Duration::ZERO;
        while c.sq_head != tail {
            if self.stop.load(Ordering::Acquire) || faults.reset_epoch() != self.epoch {
                break;
            }
            // Back-pressure: never overwrite a CQE the driver has not released.
            if self.outstanding_cqes(c) >= self.geo.cq_depth as usize - 1 {
                std::thread::yield_now();
                continue;
            }
            if delay > 0 {
                let t = Instant::now();
                std::thread::sleep(Duration::from_micros(delay));
                slept += t.elapsed();
            }
            let off = self.geo.sqe_offset(c.sq_head);
            let sz = self.geo.sqe_size;
            self.dus.read_bytes(off, &mut sqe.0[..sz]);
            let inject = err_ppm > 0 && rng.next_ppm() < err_ppm;
            match kind {
                DeviceKind::Sec => {
                    if inject {
                        sec::write_status(&mut sqe, sec::ERR_INJECTED);
                    } else {
                        bytes += sec::execute(qm_version, &mut sqe, &mut self.mem, iopf, &mut charged).bytes;
                    }
                }
                DeviceKind::Zip => {
                    if inject {
                        zip::write_status(&mut sqe, zip::STATUS_INJECTED);
                    } else if bad_count_ppm > 0 && rng.next_ppm() < bad_count_ppm {
                        zip::write_bad_counts(&mut sqe);
                        injected += 1;
                    } else {
                        bytes += zip::execute(
                            qm_version,
                            self.qc_type,
                            &mut sqe,
                            &mut self.mem,
                            iopf,
                            &mut charged,
                        )
                        .bytes;
                    }
                }
            }
            injected += inject as u64;
            self.dus.write_bytes(off, &sqe.0[..sz]);
            self.post_cqe(c);
            n += 1;
        }
        let busy = start.elapsed().saturating_sub(slept).as_nanos() as u64;
        fence(Ordering::SeqCst);
        self.notify_client();
        let k = &self.counters;
        k.requests.fetch_add(n, Ordering::Relaxed);
        k.bytes.fetch_add(bytes, Ordering::Relaxed);
        k.faults_charged.fetch_add(charged, Ordering::Relaxed);
        k.errors_injected.fetch_add(injected, Ordering::Relaxed);
        k.busy_ns.fetch_add(busy, Ordering::Relaxed);
    }

    fn outstanding_cqes(&self, c: &Cursor) -> usize {
        let d = self.geo.cq_depth as usize;
        // A client may write any index; out-of-range values only confuse its own queue.
        let head = self.cq_head_seen() as usize % d;
        (c.cq_tail as usize + d - head) % d
    }

    fn post_cqe(&self, c: &mut Cursor) {
        let off = self.geo.cqe_offset(c.cq_tail);
        let mut b = [0u8; 16];
        b[8..10].copy_from_slice(&c.sq_head.to_le_bytes());
        b[10..12].copy_from_slice(&self.sqn.to_le_bytes());
        self.dus.write_bytes(off, &b[..OFF_W7]);
        self.dus
            .atomic_u16(off + OFF_W7)
            .store(c.phase as u16, Ordering::Release);
        c.sq_head = (c.sq_head + 1) % self.geo.sq_depth;
        c.cq_tail += 1;
        if c.cq_tail == self.geo.cq_depth {
            c.cq_tail = 0;
            c.phase = !c.phase;
        }
    }

    fn notify_client(&self) {
        if self
            .mmio
            .atomic_u32(SHADOW_OFFSET + SHADOW_CLIENT_WAITING)
            .load(Ordering::SeqCst)
            != 0
        {
            uadk_core::sys::memfd::eventfd_signal(self.event.as_fd());
        }
    }
}
