//! The SEC "copy" operation: the smallest real request a SEC queue performs.
//!
//! A SEC BD with cipher direction 3 ("copy") moves `len` bytes from the source to the
//! destination address without transforming them (reference §7.2/§7.3). It exercises the
//! whole path — descriptor, doorbell, device memory access, write-back, CQE — which makes
//! it the operation of choice for queue benchmarks and device health checks. Full cipher,
//! digest and AEAD descriptors are built by `uadk-crypto`.

use crate::error::{Error, Result};
use crate::qm::{Sqe, TagField};

/// Largest data length one SEC BD carries (`MAX_INPUT_DATA_LEN`, 16 MiB − 512 B).
pub const MAX_LEN: u32 = 0xFF_FE00;

/// SEC descriptor generation, chosen from the QM version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecBd {
    /// BD type 2 (`struct hisi_sec_sqe`, QM v2).
    Bd2,
    /// BD type 3 (`struct hisi_sec_sqe3`, QM v3+).
    Bd3,
}

impl SecBd {
    /// BD3 for QM v3 and later, BD2 otherwise.
    pub fn for_version(qm_version: Option<u32>) -> SecBd {
        match qm_version {
            Some(v) if v >= 3 => SecBd::Bd3,
            _ => SecBd::Bd2,
        }
    }

    /// Where this BD keeps its tag.
    pub fn tag_field(self) -> TagField {
        match self {
            SecBd::Bd2 => TagField::SEC_BD2,
            SecBd::Bd3 => TagField::SEC_BD3,
        }
    }
}

/// Builds a copy descriptor moving `len` bytes from address `src` to address `dst`.
///
/// ```
/// use uadk_core::sec_copy::{build_copy, SecBd};
/// let src = [1u8; 64];
/// let mut dst = [0u8; 64];
/// let sqe = build_copy(SecBd::Bd3, src.as_ptr() as u64, dst.as_mut_ptr() as u64, 64).unwrap();
/// assert_eq!(sqe.u8(4) & 3, 3); // cipher direction "copy"
/// ```
pub fn build_copy(bd: SecBd, src: u64, dst: u64, len: u32) -> Result<Sqe> {
    if len == 0 || len > MAX_LEN {
        return Err(Error::InvalidArgument(format!(
            "SEC copy length {len} outside 1..={MAX_LEN}"
        )));
    }
    let mut s = Sqe::zeroed();
    match bd {
        SecBd::Bd2 => {
            s.set_u8(0, 2 | (3 << 4)); // BD type 2, cipher direction copy, no auth
            s.set_u8(1, 1 << 1); // de = 1: destination address valid
            s.set_u32(20, len); // clen_ivhlen: cipher length
            s.set_u64(96, src);
            s.set_u64(104, dst);
        }
        SecBd::Bd3 => {
            s.set_u32(0, 3 | (1 << 9)); // BD type 3, de = 1
            s.set_u16(4, 3); // cipher direction copy
            s.set_u32(72, len); // c_len_ivin: cipher length
            s.set_u64(16, src);
            s.set_u64(76, dst);
        }
    }
    Ok(s)
}

/// Checks the written-back status of a SEC descriptor: done bit set and `error_type` 0.
pub fn check_done(sqe: &Sqe) -> Result<()> {
    let done = sqe.u16(112);
    let err = sqe.u8(114);
    if done & 1 == 0 {
        return Err(Error::DeviceStatus(format!(
            "SEC BD not marked done (done_flag {done:#x})"
        )));
    }
    if err != 0 {
        return Err(Error::DeviceStatus(format!(
            "SEC error_type {err:#x}, done_flag {done:#x}"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copy_descriptors_follow_the_bd_layouts() {
        let s = build_copy(SecBd::Bd2, 0x1000, 0x2000, 300).unwrap();
        assert_eq!(s.u8(0), 0x32);
        assert_eq!(s.u8(1), 0x02);
        assert_eq!(s.u32(20) & 0xff_ffff, 300);
        assert_eq!((s.u64(96), s.u64(104)), (0x1000, 0x2000));
        let s = build_copy(SecBd::Bd3, 0x1000, 0x2000, 300).unwrap();
        assert_eq!(s.u32(0) & 0xf, 3);
        assert_eq!((s.u32(0) >> 9) & 3, 1);
        assert_eq!(s.u32(72), 300);
        assert_eq!((s.u64(16), s.u64(76)), (0x1000, 0x2000));
        assert!(build_copy(SecBd::Bd3, 0, 0, 0).is_err());
        assert!(build_copy(SecBd::Bd3, 0, 0, MAX_LEN + 1).is_err());
        assert_eq!(SecBd::for_version(Some(2)), SecBd::Bd2);
        assert_eq!(SecBd::for_version(Some(5)).tag_field(), TagField::SEC_BD3);
    }

    #[test]
    fn status_check() {
        let mut s = Sqe::zeroed();
        assert!(check_done(&s).is_err());
        s.set_u16(112, 1);
        assert!(check_done(&s).is_ok());
        s.set_u8(114, 4);
        assert!(matches!(check_done(&s), Err(Error::DeviceStatus(_))));
    }
}
