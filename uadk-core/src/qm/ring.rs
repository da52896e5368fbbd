//! The SQ producer and CQ consumer on a queue's mapped regions — **where the doorbell is
//! rung**.
//!
//! [`Ring`] is lock-free and stateless apart from the mappings: callers own the cursor
//! state ([`SqCursor`], [`CqCursor`]) and serialise access to it ([`super::queue`] does so
//! with one lock for sending and one for receiving, like UADK's `sd_lock`/`rv_lock`).
//!
//! Protocol (reference §3.3–3.5):
//! - SQ slot `i` is at DUS + `i * sqe_size`; the CQ follows the SQ; the last two u32 of DUS
//!   are the stop-RX and stop-TX status words.
//! - After writing a batch of SQEs: full barrier, then **one** SQ doorbell carrying the new
//!   tail ([`Ring::ring_sq`]).
//! - A CQE at the CQ head is valid when its phase bit equals the expected phase, which starts
//!   at 1 and flips each time the head wraps ([`Ring::peek_cqe`], [`CqCursor::advance`]).
//! - After consuming CQEs: one CQ doorbell with the new head ([`Ring::ring_cq`]).

use std::sync::atomic::{fence, Ordering};

use super::cqe::{Cqe, OFF_W7};
use super::doorbell::{Doorbell, DoorbellFormat, CMD_CQ, CMD_SQ};
use super::layout::Geometry;
use super::sqe::Sqe;
use crate::error::{Error, Result};
use crate::sys::futex;
use crate::sys::region::Region;
use crate::uacce::emu_proto::{
    SHADOW_CLIENT_WAITING, SHADOW_CQ_DB, SHADOW_DB_SEQ, SHADOW_ENGINE_PARKED, SHADOW_LEN, SHADOW_SQ_DB,
};

/// Producer cursor of the SQ.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SqCursor {
    /// Next slot to write.
    pub tail: u16,
}

/// Consumer cursor of the CQ.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CqCursor {
    /// Next CQE to read.
    pub head: u16,
    /// Expected phase of the CQE at `head`.
    pub phase: bool,
}

impl Default for CqCursor {
    fn default() -> Self {
        CqCursor { head: 0, phase: true }
    }
}

impl CqCursor {
    /// Moves past one CQE, flipping the expected phase on wrap.
    #[inline]
    pub fn advance(&mut self, cq_depth: u16) {
        if self.head + 1 == cq_depth {
            self.head = 0;
            self.phase = !self.phase;
        } else {
            self.head += 1;
        }
    }
}

/// The mapped regions of one queue pair plus what is needed to address them.
#[derive(Debug)]
pub struct Ring {
    mmio: Region,
    dus: Region,
    geo: Geometry,
    db: DoorbellFormat,
    sqn: u16,
    shadow: Option<usize>,
    cq_priority: u16,
}

impl Ring {
    /// Builds a ring over mapped regions. Checks that the doorbell (and the emulator shadow
    /// block, if any) lie inside MMIO and that DUS matches the geometry.
    pub fn new(
        mmio: Region,
        dus: Region,
        geo: Geometry,
        db: DoorbellFormat,
        sqn: u16,
        shadow: Option<usize>,
        cq_interrupt: bool,
    ) -> Result<Ring> {
        if db.offset() + 8 > mmio.len() {
            return Err(Error::Protocol(format!(
                "MMIO region of {} bytes has no doorbell at {:#x}",
                mmio.len(),
                db.offset()
            )));
        }
        if let Some(s) = shadow {
            if s % 8 != 0 || s + SHADOW_LEN > mmio.len() {
                return Err(Error::Protocol(format!("doorbell shadow at {s:#x} outside MMIO")));
            }
        }
        if dus.len() != geo.dus_size {
            return Err(Error::Protocol(format!(
                "DUS mapping is {} bytes, geometry says {}",
                dus.len(),
                geo.dus_size
            )));
        }
        Ok(Ring {
            mmio,
            dus,
            geo,
            db,
            sqn,
            shadow,
            cq_priority: cq_interrupt as u16,
        })
    }

    /// The queue geometry.
    pub fn geometry(&self) -> &Geometry {
        &self.geo
    }

    /// The hardware queue number.
    pub fn sqn(&self) -> u16 {
        self.sqn
    }

    /// The doorbell format in use.
    pub fn doorbell_format(&self) -> DoorbellFormat {
        self.db
    }

    /// The DUS mapping (device side of fakes and diagnostics).
    pub fn dus(&self) -> &Region {
        &self.dus
    }

    /// The MMIO mapping.
    pub fn mmio(&self) -> &Region {
        &self.mmio
    }

    /// Stop-TX word set: the device accepts no new submissions.
    #[inline]
    pub fn tx_stopped(&self) -> bool {
        self.dus.read_u32_volatile(self.geo.stop_tx_offset()) == 1
    }

    /// Stop-RX word set: the device will post no more completions.
    #[inline]
    pub fn rx_stopped(&self) -> bool {
        self.dus.read_u32_volatile(self.geo.stop_rx_offset()) == 1
    }

    /// Copies a descriptor into SQ slot `slot` and stores `tag` at its tag field.
    #[inline]
    pub fn write_sqe(&self, slot: u16, sqe: &Sqe, tag: Option<(usize, usize, u64)>) {
        let off = self.geo.sqe_offset(slot);
        self.dus.write_bytes(off, &sqe.0[..self.geo.sqe_size]);
        if let Some((toff, width, value)) = tag {
            self.dus.write_bytes(off + toff, &value.to_le_bytes()[..width]);
        }
    }

    /// Copies SQ slot `slot` (written back by the device) into `out`.
    #[inline]
    pub fn read_sqe(&self, slot: u16, out: &mut Sqe) {
        let n = self.geo.sqe_size;
        self.dus.read_bytes(self.geo.sqe_offset(slot), &mut out.0[..n]);
    }

    /// Rings the SQ doorbell with the new tail after a full barrier: every SQE written
    /// before this call is visible to the device before it sees the doorbell.
    #[inline]
    pub fn ring_sq(&self, new_tail: u16) {
        let w = self.db.encode(Doorbell {
            sqn: self.sqn,
            cmd: CMD_SQ,
            index: new_tail,
            priority: 0,
        });
        fence(Ordering::SeqCst);
        self.mmio.write_u64_volatile(self.db.offset(), w);
        if let Some(s) = self.shadow {
            self.mmio.atomic_u64(s + SHADOW_SQ_DB).store(w, Ordering::SeqCst);
            let seq = self.mmio.atomic_u32(s + SHADOW_DB_SEQ);
            seq.fetch_add(1, Ordering::SeqCst);
            if self
                .mmio
                .atomic_u32(s + SHADOW_ENGINE_PARKED)
                .load(Ordering::SeqCst)
                != 0
            {
                futex::wake(seq, 1);
            }
        }
    }

    /// Rings the CQ doorbell with the new head (priority 1 re-arms the interrupt when the
    /// queue was opened for `poll()` waiting).
    #[inline]
    pub fn ring_cq(&self, new_head: u16) {
        let w = self.db.encode(Doorbell {
            sqn: self.sqn,
            cmd: CMD_CQ,
            index: new_head,
            priority: self.cq_priority,
        });
        fence(Ordering::SeqCst);
        self.mmio.write_u64_volatile(self.db.offset(), w);
        if let Some(s) = self.shadow {
            self.mmio.atomic_u64(s + SHADOW_CQ_DB).store(w, Ordering::Release);
        }
    }

    /// The CQE at the cursor if the device has posted it (phase matches), else `None`.
    /// Reads the phase word with acquire ordering before the rest of the entry.
    #[inline]
    pub fn peek_cqe(&self, c: &CqCursor) -> Option<Cqe> {
        let off = self.geo.cqe_offset(c.head);
        let w7 = self.dus.atomic_u16(off + OFF_W7).load(Ordering::Acquire);
        if (w7 & 1 != 0) != c.phase {
            return None;
        }
        let mut b = [0u8; 16];
        self.dus.read_bytes(off, &mut b);
        let mut cqe = Cqe::from_bytes(&b);
        cqe.w7 = w7;
        Some(cqe)
    }

    /// Announces (or withdraws) that the client is about to sleep in `poll()`, so an
    /// emulator engine signals its eventfd. A no-op on real hardware (the CQ doorbell's
    /// priority arms the interrupt there).
    #[inline]
    pub fn set_client_waiting(&self, waiting: bool) {
        if let Some(s) = self.shadow {
            self.mmio
                .atomic_u32(s + SHADOW_CLIENT_WAITING)
                .store(waiting as u32, Ordering::SeqCst);
            fence(Ordering::SeqCst);
        }
    }
}

#[cfg(test)]
pub(crate) mod fake {
    //! A deterministic in-memory device for ring tests: no thread, the test "runs" it.
    use super::*;
    use crate::uacce::emu_proto::SHADOW_SQ_DB;

    /// Geometry of the fake: 8-entry SQ/CQ of 128-byte SQEs.
    pub fn small_ring(depth: u16) -> Ring {
        let dus_size = crate::qm::layout::kernel_dus_size(128, depth, depth, 4096);
        let geo = Geometry::new(128, depth, depth, dus_size).unwrap();
        let mmio = Region::anonymous(0x2000).unwrap();
        let dus = Region::anonymous(dus_size).unwrap();
        Ring::new(mmio, dus, geo, DoorbellFormat::V2, 3, Some(0x1800), false).unwrap()
    }

    /// Device state of the fake.
    #[derive(Default)]
    pub struct FakeDevice {
        pub sq_head: u16,
        pub cq_tail: u16,
        pub phase_flips: u32,
        pub cq_phase_zero: bool,
    }

    impl FakeDevice {
        /// Completes everything up to the last SQ doorbell: marks byte 127 of each SQE with
        /// 0xAA (the "write-back") and posts a CQE.
        pub fn run(&mut self, ring: &Ring) -> usize {
            let w = ring
                .mmio()
                .atomic_u64(0x1800 + SHADOW_SQ_DB)
                .load(Ordering::Acquire);
            let d = ring.doorbell_format().decode(w);
            let depth = ring.geometry().sq_depth;
            let mut n = 0;
            while self.sq_head != d.index {
                let off = ring.geometry().sqe_offset(self.sq_head);
                ring.dus().write_bytes(off + 127, &[0xAA]);
                let phase = !self.cq_phase_zero;
                let cqe = Cqe {
                    cmd_id: 0,
                    sq_head: self.sq_head,
                    sq_num: d.sqn,
                    w7: phase as u16,
                };
                let coff = ring.geometry().cqe_offset(self.cq_tail);
                ring.dus().write_bytes(coff, &cqe.to_bytes()[..14]);
                ring.dus().atomic_u16(coff + 14).store(cqe.w7, Ordering::Release);
                self.cq_tail += 1;
                if self.cq_tail == ring.geometry().cq_depth {
                    self.cq_tail = 0;
                    self.cq_phase_zero = !self.cq_phase_zero;
                    self.phase_flips += 1;
                }
                self.sq_head = (self.sq_head + 1) % depth;
                n += 1;
            }
            n
        }
    }
}

#[cfg(test)]
mod tests {
    use super::fake::*;
    use super::*;

    #[test]
    fn doorbells_carry_tail_and_head() {
        let ring = small_ring(8);
        ring.ring_sq(5);
        let w = ring.mmio().atomic_u64(0x1000).load(Ordering::Relaxed);
        assert_eq!(
            ring.doorbell_format().decode(w),
            Doorbell {
                sqn: 3,
                cmd: CMD_SQ,
                index: 5,
                priority: 0
            }
        );
        assert_eq!(
            ring.mmio()
                .atomic_u32(0x1800 + SHADOW_DB_SEQ)
                .load(Ordering::Relaxed),
            1
        );
        ring.ring_cq(2);
        let w = ring.mmio().atomic_u64(0x1000).load(Ordering::Relaxed);
        assert_eq!(
            ring.doorbell_format().decode(w),
            Doorbell {
                sqn: 3,
                cmd: CMD_CQ,
                index: 2,
                priority: 0
            }
        );
        // The SQ shadow still holds the SQ doorbell the CQ doorbell overwrote.
        let s = ring.mmio().atomic_u64(0x1800).load(Ordering::Relaxed);
        assert_eq!(ring.doorbell_format().decode(s).index, 5);
    }

    #[test]
    fn empty_cq_has_no_valid_entry_until_phase_matches() {
        let ring = small_ring(8);
        let c = CqCursor::default();
        assert!(c.phase, "expected phase starts at 1");
        assert_eq!(ring.peek_cqe(&c), None);
    }

    #[test]
    fn three_full_wraps_flip_phase_each_time() {
        let depth = 8u16;
        let ring = small_ring(depth);
        let mut dev = FakeDevice::default();
        let mut sq = SqCursor::default();
        let mut cq = CqCursor::default();
        let mut seen = Vec::new();
        let mut phases = Vec::new();
        // 3 full wraps plus a bit, in batches of 3 (never more than depth - 1 in flight).
        for i in 0..((depth as u32) * 3 + 5) / 3 {
            let mut s = Sqe::zeroed();
            for k in 0..3u32 {
                s.set_u32(0, i * 3 + k);
                ring.write_sqe(sq.tail, &s, None);
                sq.tail = (sq.tail + 1) % depth;
            }
            ring.ring_sq(sq.tail);
            assert_eq!(dev.run(&ring), 3);
            while let Some(cqe) = ring.peek_cqe(&cq) {
                let mut out = Sqe::zeroed();
                ring.read_sqe(cqe.sq_head, &mut out);
                assert_eq!(out.u8(127), 0xAA);
                seen.push(out.u32(0));
                phases.push(cqe.phase());
                cq.advance(depth);
            }
            ring.ring_cq(cq.head);
        }
        assert_eq!(seen, (0..seen.len() as u32).collect::<Vec<_>>());
        assert!(seen.len() >= 3 * depth as usize);
        assert!(dev.phase_flips >= 3);
        // phases go 1 x8, 0 x8, 1 x8, ...
        for (i, p) in phases.iter().enumerate() {
            assert_eq!(*p, (i / depth as usize).is_multiple_of(2), "entry {i}");
        }
    }

    #[test]
    fn status_words_are_read_from_the_end_of_dus() {
        let ring = small_ring(8);
        assert!(!ring.tx_stopped() && !ring.rx_stopped());
        let g = *ring.geometry();
        ring.dus().write_u32_volatile(g.dus_size - 4, 1);
        assert!(ring.tx_stopped() && !ring.rx_stopped());
        ring.dus().write_u32_volatile(g.dus_size - 8, 1);
        assert!(ring.rx_stopped());
    }
}
