//! The 16-byte completion queue entry (reference §3.4).
//!
//! | off | field |
//! |---|---|
//! | 0 | dw0 (reserved) |
//! | 4 | cmd_id |
//! | 8 | sq_head: the SQ slot that completed |
//! | 10 | sq_num |
//! | 14 | w7: bit 0 = phase |

/// Byte offset of `sq_head`.
pub const OFF_SQ_HEAD: usize = 8;
/// Byte offset of `sq_num`.
pub const OFF_SQ_NUM: usize = 10;
/// Byte offset of `w7` (phase in bit 0).
pub const OFF_W7: usize = 14;

/// A parsed completion entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Cqe {
    /// `cmd_id`.
    pub cmd_id: u16,
    /// Index of the SQ slot whose descriptor finished (written back in place).
    pub sq_head: u16,
    /// Queue number.
    pub sq_num: u16,
    /// `w7`; bit 0 is the phase.
    pub w7: u16,
}

impl Cqe {
    /// Phase bit.
    pub fn phase(&self) -> bool {
        self.w7 & 1 != 0
    }

    /// Parses the little-endian layout.
    pub fn from_bytes(b: &[u8; 16]) -> Cqe {
        let u = |o: usize| u16::from_le_bytes([b[o], b[o + 1]]);
        Cqe {
            cmd_id: u(4),
            sq_head: u(OFF_SQ_HEAD),
            sq_num: u(OFF_SQ_NUM),
            w7: u(OFF_W7),
        }
    }

    /// The little-endian layout (device side / fakes).
    pub fn to_bytes(&self) -> [u8; 16] {
        let mut b = [0u8; 16];
        b[4..6].copy_from_slice(&self.cmd_id.to_le_bytes());
        b[OFF_SQ_HEAD..OFF_SQ_HEAD + 2].copy_from_slice(&self.sq_head.to_le_bytes());
        b[OFF_SQ_NUM..OFF_SQ_NUM + 2].copy_from_slice(&self.sq_num.to_le_bytes());
        b[OFF_W7..OFF_W7 + 2].copy_from_slice(&self.w7.to_le_bytes());
        b
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_phase() {
        let c = Cqe {
            cmd_id: 0,
            sq_head: 1023,
            sq_num: 7,
            w7: 1,
        };
        let b = c.to_bytes();
        assert_eq!(&b[8..16], &[0xff, 0x03, 7, 0, 0, 0, 1, 0]);
        assert_eq!(Cqe::from_bytes(&b), c);
        assert!(c.phase());
        assert!(!Cqe { w7: 2, ..c }.phase());
    }
}
