//! The SEC device model: decodes SEC BD type 2 and type 3 descriptors (reference §7.2/§7.3)
//! and performs the operations implemented so far.
//!
//! Implemented: cipher direction 3 ("copy") without authentication, flat addresses. Other
//! cipher directions and authentication arrive with the crypto engine; until then such BDs
//! complete with [`ERR_UNSUPPORTED`].
//!
//! The reference fixes only "`error_type` != 0 = failure"; the nonzero values below are this
//! emulator's model codes.

use uadk_core::qm::Sqe;

use crate::memory::ClientMem;

/// BD type not 2/3, or not accepted by this QM version.
pub const ERR_BD_TYPE: u8 = 0x01;
/// Length zero or above the per-BD maximum.
pub const ERR_LENGTH: u8 = 0x02;
/// Address type not flat, or destination not marked valid.
pub const ERR_ADDR_TYPE: u8 = 0x03;
/// Operation not modelled yet.
pub const ERR_UNSUPPORTED: u8 = 0x04;
/// The device could not access client memory (SMMU fault).
pub const ERR_ADDR_FAULT: u8 = 0x05;
/// Injected by fault injection.
pub const ERR_INJECTED: u8 = 0x3f;

const MAX_LEN: u32 = 0xFF_FE00;

/// What the engine needs to know about a decoded BD.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decoded {
    bd_type: u8,
    cipher_dir: u8,
    auth: u8,
    de: u8,
    src_addr_type: u8,
    dst_addr_type: u8,
    len: u32,
    src: u64,
    dst: u64,
}

/// Decodes the fields of a BD2 or BD3.
pub fn decode(s: &Sqe) -> Option<Decoded> {
    match s.u8(0) & 0xf {
        2 => {
            let b0 = s.u8(0);
            let b1 = s.u8(1);
            Some(Decoded {
                bd_type: 2,
                cipher_dir: (b0 >> 4) & 3,
                auth: (b0 >> 6) & 3,
                de: (b1 >> 1) & 3,
                src_addr_type: (b1 >> 7) & 1,
                dst_addr_type: (s.u8(2) >> 2) & 7,
                len: s.u32(20) & 0xff_ffff,
                src: s.u64(96),
                dst: s.u64(104),
            })
        }
        3 => {
            let p = s.u32(0);
            Some(Decoded {
                bd_type: 3,
                cipher_dir: (s.u16(4) & 3) as u8,
                auth: (s.u32(56) & 3) as u8,
                de: ((p >> 9) & 3) as u8,
                src_addr_type: ((p >> 11) & 7) as u8,
                dst_addr_type: ((p >> 14) & 7) as u8,
                len: s.u32(72) & 0xff_ffff,
                src: s.u64(16),
                dst: s.u64(76),
            })
        }
        _ => None,
    }
}

/// Result of executing one BD.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Outcome {
    /// `error_type` written back (0 = success).
    pub error: u8,
    /// Payload bytes processed.
    pub bytes: u64,
}

/// Executes one BD against client memory and writes `done_flag`/`error_type` back.
pub fn execute(
    qm_version: u32,
    s: &mut Sqe,
    mem: &mut ClientMem,
    iopf: (u64, u64),
    faults: &mut u64,
) -> Outcome {
    let out = run(qm_version, s, mem, iopf, faults);
    write_status(s, out.error);
    out
}

/// Writes `done_flag` (done bit set) and `error_type`.
pub fn write_status(s: &mut Sqe, error: u8) {
    s.set_u16(112, 1);
    s.set_u8(114, error);
}

fn run(qm_version: u32, s: &Sqe, mem: &mut ClientMem, iopf: (u64, u64), faults: &mut u64) -> Outcome {
    let fail = |error| Outcome { error, bytes: 0 };
    let Some(d) = decode(s) else {
        return fail(ERR_BD_TYPE);
    };
    if d.bd_type == 3 && qm_version < 3 {
        return fail(ERR_BD_TYPE);
    }
    if d.cipher_dir != 3 || d.auth != 0 {
        return fail(ERR_UNSUPPORTED);
    }
    if d.de != 1 || d.src_addr_type != 0 || d.dst_addr_type != 0 {
        return fail(ERR_ADDR_TYPE);
    }
    if d.len == 0 || d.len > MAX_LEN {
        return fail(ERR_LENGTH);
    }
    let (latency, churn) = iopf;
    *faults += mem.charge_faults(&[(d.src, d.len as u64), (d.dst, d.len as u64)], latency, churn);
    match mem.copy(d.src, d.dst, d.len as usize) {
        Ok(()) => Outcome {
            error: 0,
            bytes: d.len as u64,
        },
        Err(e) => {
            log::debug!("SEC copy fault: {}", e.0);
            fail(ERR_ADDR_FAULT)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use uadk_core::sec_copy::{build_copy, SecBd};

    #[test]
    fn copies_with_both_bd_types_and_rejects_malformed_ones() {
        let mut mem = ClientMem::new(std::process::id());
        let src: Vec<u8> = (0..200u8).collect();
        for bd in [SecBd::Bd2, SecBd::Bd3] {
            let mut dst = vec![0u8; 200];
            let mut s = build_copy(bd, src.as_ptr() as u64, dst.as_mut_ptr() as u64, 200).unwrap();
            let mut f = 0;
            let o = execute(3, &mut s, &mut mem, (0, 0), &mut f);
            assert_eq!(o, Outcome { error: 0, bytes: 200 });
            assert_eq!(s.u16(112) & 1, 1);
            assert_eq!(dst, src);
        }
        let mut dst = vec![0u8; 8];
        let good = build_copy(SecBd::Bd3, src.as_ptr() as u64, dst.as_mut_ptr() as u64, 8).unwrap();
        let mut f = 0;
        // BD3 on a v2 device
        let mut s = good;
        assert_eq!(execute(2, &mut s, &mut mem, (0, 0), &mut f).error, ERR_BD_TYPE);
        // unknown BD type
        let mut s = good;
        s.set_u32(0, 5);
        assert_eq!(execute(3, &mut s, &mut mem, (0, 0), &mut f).error, ERR_BD_TYPE);
        // encrypt direction: not modelled yet
        let mut s = good;
        s.set_u16(4, 1);
        assert_eq!(
            execute(3, &mut s, &mut mem, (0, 0), &mut f).error,
            ERR_UNSUPPORTED
        );
        // destination not valid
        let mut s = good;
        s.set_u32(0, 3);
        assert_eq!(execute(3, &mut s, &mut mem, (0, 0), &mut f).error, ERR_ADDR_TYPE);
        // zero length
        let mut s = good;
        s.set_u32(72, 0);
        assert_eq!(execute(3, &mut s, &mut mem, (0, 0), &mut f).error, ERR_LENGTH);
        // null source
        let mut s = good;
        s.set_u64(16, 0);
        assert_eq!(execute(3, &mut s, &mut mem, (0, 0), &mut f).error, ERR_ADDR_FAULT);
        assert_eq!(dst, vec![0u8; 8]);
    }
}
