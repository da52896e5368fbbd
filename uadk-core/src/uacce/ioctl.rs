//! uacce / hisi_qm ioctl commands and their argument structures (reference §2.4, §2.6).
//!
//! The numbers are computed with the asm-generic `_IOC` encoding (shared by x86-64 and
//! arm64) and checked at compile time against the values listed in the reference, so a typo
//! in a type letter, number or size cannot go unnoticed.

const IOC_NONE: u32 = 0;
const IOC_WRITE: u32 = 1;
const IOC_READ: u32 = 2;

const fn ioc(dir: u32, ty: u8, nr: u8, size: usize) -> u32 {
    (dir << 30) | ((size as u32) << 16) | ((ty as u32) << 8) | nr as u32
}

/// `UACCE_CMD_START_Q` = `_IO('W', 0)`: start the queue (INIT → STARTED).
pub const UACCE_CMD_START_Q: u32 = ioc(IOC_NONE, b'W', 0, 0);
/// `UACCE_CMD_PUT_Q` = `_IO('W', 1)`: stop and release the hardware queue now.
pub const UACCE_CMD_PUT_Q: u32 = ioc(IOC_NONE, b'W', 1, 0);
/// `UACCE_CMD_QM_SET_QP_CTX` = `_IOWR('H', 10, struct hisi_qp_ctx)`.
pub const UACCE_CMD_QM_SET_QP_CTX: u32 = ioc(IOC_READ | IOC_WRITE, b'H', 10, QpCtx::SIZE);
/// `UACCE_CMD_QM_SET_QP_INFO` = `_IOWR('H', 11, struct hisi_qp_info)`.
pub const UACCE_CMD_QM_SET_QP_INFO: u32 = ioc(IOC_READ | IOC_WRITE, b'H', 11, QpInfo::SIZE);

const _: () = assert!(UACCE_CMD_START_Q == 0x5700);
const _: () = assert!(UACCE_CMD_PUT_Q == 0x5701);
const _: () = assert!(UACCE_CMD_QM_SET_QP_CTX == 0xC004_480A);
const _: () = assert!(UACCE_CMD_QM_SET_QP_INFO == 0xC010_480B);

/// Size in bytes of the argument a command carries (bits 29:16 of the number).
pub const fn arg_size(cmd: u32) -> usize {
    ((cmd >> 16) & 0x3fff) as usize
}

/// `struct hisi_qp_ctx { __u16 id; __u16 qc_type; }`: in `qc_type`, out `id` (the sqn).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct QpCtx {
    /// Hardware queue number (output).
    pub id: u16,
    /// Queue type: ZIP 0 = compress, 1 = decompress; SEC 0; HPRE 0 = RSA/DH, 1 = ECC.
    pub qc_type: u16,
}

impl QpCtx {
    /// Size of the kernel structure.
    pub const SIZE: usize = 4;

    /// Little-endian kernel layout.
    pub fn to_bytes(self) -> [u8; 4] {
        let mut b = [0u8; 4];
        b[0..2].copy_from_slice(&self.id.to_le_bytes());
        b[2..4].copy_from_slice(&self.qc_type.to_le_bytes());
        b
    }

    /// Parses the kernel layout (`b` must hold at least 4 bytes, else zeros are assumed).
    pub fn from_bytes(b: &[u8]) -> QpCtx {
        let g = |i: usize| b.get(i).copied().unwrap_or(0);
        QpCtx {
            id: u16::from_le_bytes([g(0), g(1)]),
            qc_type: u16::from_le_bytes([g(2), g(3)]),
        }
    }
}

/// `struct hisi_qp_info { __u32 sqe_size; __u16 sq_depth; __u16 cq_depth; __u64 reserved; }`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct QpInfo {
    /// Bytes per submission queue entry.
    pub sqe_size: u32,
    /// Entries in the submission queue.
    pub sq_depth: u16,
    /// Entries in the completion queue.
    pub cq_depth: u16,
}

impl QpInfo {
    /// Size of the kernel structure.
    pub const SIZE: usize = 16;

    /// Little-endian kernel layout (reserved word zero).
    pub fn to_bytes(self) -> [u8; 16] {
        let mut b = [0u8; 16];
        b[0..4].copy_from_slice(&self.sqe_size.to_le_bytes());
        b[4..6].copy_from_slice(&self.sq_depth.to_le_bytes());
        b[6..8].copy_from_slice(&self.cq_depth.to_le_bytes());
        b
    }

    /// Parses the kernel layout (missing bytes read as zero).
    pub fn from_bytes(b: &[u8]) -> QpInfo {
        let g = |i: usize| b.get(i).copied().unwrap_or(0);
        QpInfo {
            sqe_size: u32::from_le_bytes([g(0), g(1), g(2), g(3)]),
            sq_depth: u16::from_le_bytes([g(4), g(5)]),
            cq_depth: u16::from_le_bytes([g(6), g(7)]),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn structs_round_trip_in_kernel_layout() {
        let c = QpCtx {
            id: 0x1234,
            qc_type: 1,
        };
        assert_eq!(c.to_bytes(), [0x34, 0x12, 1, 0]);
        assert_eq!(QpCtx::from_bytes(&c.to_bytes()), c);
        let i = QpInfo {
            sqe_size: 128,
            sq_depth: 1024,
            cq_depth: 512,
        };
        assert_eq!(&i.to_bytes()[..8], &[128, 0, 0, 0, 0, 4, 0, 2]);
        assert_eq!(QpInfo::from_bytes(&i.to_bytes()), i);
        assert_eq!(arg_size(UACCE_CMD_QM_SET_QP_INFO), 16);
        assert_eq!(arg_size(UACCE_CMD_START_Q), 0);
    }
}
