//! Doorbell words (reference §3.2): one 64-bit store into the MMIO region.
//!
//! - v1 (`api` hisi_qm_v1): at MMIO + 0x340; sqn bits 15:0, cmd bits 31:16.
//! - v2+ (every other version, including unknown ones, as UADK does): at MMIO + 0x1000;
//!   sqn bits 9:0, cmd bits 15:12, random bits 31:16 (0).
//! - both: index bits 47:32 (new SQ tail or new CQ head), priority bits 63:48.

/// Doorbell offset in MMIO for QM v1.
pub const DB_OFFSET_V1: usize = 0x340;
/// Doorbell offset in MMIO for QM v2 and later.
pub const DB_OFFSET_V2: usize = 0x1000;

/// Doorbell command: new SQ tail.
pub const CMD_SQ: u8 = 0;
/// Doorbell command: new CQ head.
pub const CMD_CQ: u8 = 1;

/// Which doorbell layout a queue uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DoorbellFormat {
    /// `qm_db_v1`.
    V1,
    /// `qm_db_v2` / `hacc_db_v2`.
    V2,
}

/// A decoded doorbell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Doorbell {
    /// Hardware queue number.
    pub sqn: u16,
    /// [`CMD_SQ`] or [`CMD_CQ`].
    pub cmd: u8,
    /// New SQ tail or CQ head.
    pub index: u16,
    /// Priority (1 on a CQ doorbell re-arms the completion interrupt).
    pub priority: u16,
}

impl DoorbellFormat {
    /// The format for a QM version: v1 for 1, v2 for everything else.
    pub fn for_version(qm_version: Option<u32>) -> DoorbellFormat {
        if qm_version == Some(1) {
            DoorbellFormat::V1
        } else {
            DoorbellFormat::V2
        }
    }

    /// Byte offset of the doorbell register in the MMIO region.
    pub fn offset(self) -> usize {
        match self {
            DoorbellFormat::V1 => DB_OFFSET_V1,
            DoorbellFormat::V2 => DB_OFFSET_V2,
        }
    }

    /// Encodes a doorbell word.
    ///
    /// ```
    /// use uadk_core::qm::doorbell::{Doorbell, DoorbellFormat, CMD_CQ};
    /// let w = DoorbellFormat::V2.encode(Doorbell { sqn: 5, cmd: CMD_CQ, index: 7, priority: 1 });
    /// assert_eq!(w, 5 | (1 << 12) | (7 << 32) | (1 << 48));
    /// ```
    #[inline]
    pub fn encode(self, d: Doorbell) -> u64 {
        let tail = ((d.index as u64) << 32) | ((d.priority as u64) << 48);
        match self {
            DoorbellFormat::V1 => d.sqn as u64 | ((d.cmd as u64) << 16) | tail,
            DoorbellFormat::V2 => (d.sqn as u64 & 0x3ff) | (((d.cmd as u64) & 0xf) << 12) | tail,
        }
    }

    /// Decodes a doorbell word (the device side of [`encode`](Self::encode)).
    #[inline]
    pub fn decode(self, w: u64) -> Doorbell {
        let (sqn, cmd) = match self {
            DoorbellFormat::V1 => ((w & 0xffff) as u16, ((w >> 16) & 0xffff) as u8),
            DoorbellFormat::V2 => ((w & 0x3ff) as u16, ((w >> 12) & 0xf) as u8),
        };
        Doorbell {
            sqn,
            cmd,
            index: ((w >> 32) & 0xffff) as u16,
            priority: (w >> 48) as u16,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v1_and_v2_layouts() {
        let d = Doorbell {
            sqn: 0x3ff,
            cmd: CMD_SQ,
            index: 1023,
            priority: 0,
        };
        assert_eq!(DoorbellFormat::V2.encode(d), 0x3ff | (1023u64 << 32));
        assert_eq!(DoorbellFormat::V2.decode(DoorbellFormat::V2.encode(d)), d);
        let c = Doorbell {
            sqn: 0x1234,
            cmd: CMD_CQ,
            index: 9,
            priority: 1,
        };
        assert_eq!(
            DoorbellFormat::V1.encode(c),
            0x1234 | (1 << 16) | (9 << 32) | (1 << 48)
        );
        assert_eq!(DoorbellFormat::V1.decode(DoorbellFormat::V1.encode(c)), c);
        // v2 masks the queue number to 10 bits.
        assert_eq!(DoorbellFormat::V2.decode(DoorbellFormat::V2.encode(c)).sqn, 0x234);
        assert_eq!(DoorbellFormat::for_version(Some(1)).offset(), 0x340);
        assert_eq!(DoorbellFormat::for_version(Some(3)).offset(), 0x1000);
        assert_eq!(DoorbellFormat::for_version(None).offset(), 0x1000);
    }
}
