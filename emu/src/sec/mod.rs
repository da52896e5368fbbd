//! The SEC device model: decodes SEC BD type 2 (QM v2) and BD type 3 (QM v3+) descriptors
//! (reference §7.2/§7.3) and executes them with software crypto underneath (RustCrypto),
//! independently of `uadk-crypto`, so the driver and the device check each other.
//!
//! # What executes
//!
//! | operation | BD fields honoured | algorithms |
//! |---|---|---|
//! | copy (cipher dir 3, no auth) | `de`, addr types, `c_len`, src, dst | — |
//! | cipher (dir 1/2, no auth) | `c_alg`, `c_mode`, `c_key_len`, `c_width` (CBC-CS), `c_len`, `cipher_src_offset`, `c_key_addr`, `c_ivin_addr`, src, dst, `de`, addr types, BD3 bits 26:25 | AES-128/192/256 and SM4 in ECB, CBC, CTR and (BD3 only) CFB-128, OFB and CBC-CS1/2/3 (width field); AES-128/256 and SM4 in XTS (with ciphertext stealing); DES and 3DES (2 or 3 keys) in ECB and CBC |
//! | digest (dir 0, auth 1 calc / 2 verify) | `a_alg`, mac len, auth key len, `a_len`, `auth_src_offset`, `a_key_addr`, `mac_addr`, src, addr types, auth IV generation / padding and `long_a_data_len` (long hash, see [`longhash`]), auth IV address (long-hash state; BD3 GMAC IV) | SHA-1, SHA-224/256/384/512, SHA-512/224, SHA-512/256, MD5, SM3 and their HMACs; AES-CMAC and AES-GMAC (BD3 only, see [`digest`]) |
//! | AEAD (dir 1/2 + auth, mode CCM/GCM) | see [`aead`] | AES-128/192/256 and SM4 in GCM and CCM |
//!
//! # Status write-back
//!
//! `done_flag` bit 0 is set on every completed BD; `error_type` is 0 on success and one of
//! the `ERR_*` model codes below otherwise. The reference fixes only "nonzero = failure", so
//! the nonzero values are this emulator's model codes. MAC verification that fails is *not*
//! an `error_type`: the BD completes with `error_type` 0 and the ICV result field
//! (`done_flag` bits 3:1) = [`ICV_FAIL`] (UADK's `SEC_HW_ICV_ERR`, which its parser checks
//! separately from `error_type`; a driver must check it too), [`ICV_PASS`] on a match. `done_flag` bits 10:7 carry the completion flag the kernel driver
//! checks: [`FLAG_CIPHER`] for cipher/copy BDs, [`FLAG_AEAD`] for AEAD, [`FLAG_DIGEST`] for
//! digest BDs (the last is a model value).
//!
//! # Modelled vs simplified
//!
//! - Only flat buffers (address type 0) for source, destination and MAC; SGL/PRP →
//!   [`ERR_ADDR_TYPE`]. The cipher destination must be marked valid (`de` = 1).
//! - The IV is read from client memory (16 bytes; DES/3DES 8); the device does not write an updated IV
//!   back (UADK computes the next IV in software, `update_iv`).
//! - Scene, SVA prefetch, tag, checksum and padding fields are ignored.
//! - Not executed (→ [`ERR_UNSUPPORTED`], a model gap, not a hardware rejection): the
//!   SM4-XTS GB variant, AES-XCBC, auth IV generation codes 2/3 and padding code 2/3
//!   (long hash with IV generation 0/1 and pad/no-pad runs, see [`longhash`]), on-chip key sources (HUK, key select, key wrap) and
//!   chained cipher + HMAC (IPsec authenc).
//! - BD3 bits 26:25 for CTR (counter mode): every value runs a 128-bit big-endian counter.
//! - Length checks: cipher/auth length 0 or above 16 MiB − 512 B → [`ERR_LENGTH`]; ECB/CBC
//!   need a multiple of the block size (16; DES/3DES 8), XTS and CBC-CS at least 16 bytes, CTR/CFB/OFB
//!   any length. DES/3DES run in ECB/CBC only (other modes → [`ERR_ALG`]) with an 8-byte IV.
//! - Keys read from client memory are zeroed after use and never logged.

use uadk_core::qm::Sqe;

use crate::memory::ClientMem;

pub mod aead;
pub mod bd;
pub mod cipher;
pub mod digest;
pub mod longhash;

pub use bd::{decode, Bd};

/// BD type not 2/3, or not accepted by this QM version (BD3 on a QM v2 device).
pub const ERR_BD_TYPE: u8 = 0x01;
/// Length zero, above the per-BD maximum, or not a valid length for the mode.
pub const ERR_LENGTH: u8 = 0x02;
/// Address type not flat, or destination not marked valid.
pub const ERR_ADDR_TYPE: u8 = 0x03;
/// Valid code, but the operation is not modelled by this emulator.
pub const ERR_UNSUPPORTED: u8 = 0x04;
/// The device could not access client memory (SMMU fault).
pub const ERR_ADDR_FAULT: u8 = 0x05;
/// Unknown or invalid cipher algorithm / mode / auth algorithm / direction code or
/// combination (e.g. a mode the BD format does not have, GCM without auth).
pub const ERR_ALG: u8 = 0x06;
/// Cipher key length code not valid for the algorithm and mode, or HMAC key length 0 or
/// above [`digest::MAX_AUTH_KEY_BYTES`].
pub const ERR_KEY_LEN: u8 = 0x07;
/// IV address missing for a mode that needs one (CBC, CTR, XTS, GCM, CCM).
pub const ERR_IV: u8 = 0x08;
/// MAC length 0 or above the algorithm's output size (or not allowed for the AEAD mode).
pub const ERR_MAC_LEN: u8 = 0x09;
/// Injected by fault injection.
pub const ERR_INJECTED: u8 = 0x3f;

/// Largest data length one BD carries (`MAX_INPUT_DATA_LEN`, 16 MiB − 512 B).
pub const MAX_LEN: u32 = 0xFF_FE00;

/// `done_flag` bit 0: task done.
pub const DONE: u16 = 0x1;
/// `done_flag` bits 3:1 value: MAC verified.
pub const ICV_PASS: u8 = 1;
/// `done_flag` bits 3:1 value: MAC mismatch (UADK `SEC_HW_ICV_ERR`).
pub const ICV_FAIL: u8 = 2;
const ICV_SHIFT: u16 = 1;
const FLAG_SHIFT: u16 = 7;
/// `done_flag` bits 10:7 after a digest BD (model value).
pub const FLAG_DIGEST: u8 = 1;
/// `done_flag` bits 10:7 after a cipher or copy BD (kernel `SEC_SQE_CFLAG`).
pub const FLAG_CIPHER: u8 = 2;
/// `done_flag` bits 10:7 after an AEAD BD (kernel `SEC_SQE_AEAD_FLAG`).
pub const FLAG_AEAD: u8 = 3;

/// Result of executing one BD.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Outcome {
    /// `error_type` written back (0 = success).
    pub error: u8,
    /// Payload bytes processed.
    pub bytes: u64,
}

/// What a successful operation reports besides the byte count.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Done {
    /// Payload bytes processed.
    pub bytes: u64,
    /// ICV result (0 when no MAC was verified).
    pub icv: u8,
    /// Completion flag (`done_flag` bits 10:7).
    pub flag: u8,
}

/// Executes one BD against client memory and writes `done_flag`/`error_type` back.
pub fn execute(
    qm_version: u32,
    s: &mut Sqe,
    mem: &mut ClientMem,
    iopf: (u64, u64),
    faults: &mut u64,
) -> Outcome {
    match run(qm_version, s, mem, iopf, faults) {
        Ok(d) => {
            write_done(s, 0, d.icv, d.flag);
            Outcome {
                error: 0,
                bytes: d.bytes,
            }
        }
        Err(error) => {
            write_status(s, error);
            Outcome { error, bytes: 0 }
        }
    }
}

/// Writes `done_flag` (done bit set) and `error_type`.
pub fn write_status(s: &mut Sqe, error: u8) {
    write_done(s, error, 0, 0);
}

fn write_done(s: &mut Sqe, error: u8, icv: u8, flag: u8) {
    let v = DONE | ((icv as u16 & 7) << ICV_SHIFT) | ((flag as u16 & 0xf) << FLAG_SHIFT);
    s.set_u16(bd::OFF_DONE_FLAG, v);
    s.set_u8(bd::OFF_ERROR_TYPE, error);
}

/// Maps a client memory failure to the device's address-fault status (details at debug
/// level only: addresses, never contents).
pub(crate) fn fault(what: &str, e: crate::memory::MemFault) -> u8 {
    log::debug!("SEC {what} access fault: {}", e.0);
    ERR_ADDR_FAULT
}

/// Checks a payload length against the per-BD limits.
pub(crate) fn check_len(len: u32) -> Result<(), u8> {
    if len == 0 || len > MAX_LEN {
        return Err(ERR_LENGTH);
    }
    Ok(())
}

fn run(
    qm_version: u32,
    s: &Sqe,
    mem: &mut ClientMem,
    iopf: (u64, u64),
    faults: &mut u64,
) -> Result<Done, u8> {
    let b = decode(s).ok_or(ERR_BD_TYPE)?;
    if b.bd_type == bd::BD_TYPE3 && qm_version < 3 {
        return Err(ERR_BD_TYPE);
    }
    let (latency, churn) = iopf;
    *faults += mem.charge_faults(
        &[(b.src, b.c_len.max(b.a_len) as u64), (b.dst, b.c_len as u64)],
        latency,
        churn,
    );
    match (b.cipher_dir, b.auth) {
        (bd::dir::COPY, bd::auth::NONE) => copy(&b, mem),
        (bd::dir::ENCRYPT | bd::dir::DECRYPT, bd::auth::NONE) => cipher::run(&b, mem),
        (bd::dir::NONE, bd::auth::CALC | bd::auth::VERIFY) => digest::run(&b, mem),
        (bd::dir::ENCRYPT | bd::dir::DECRYPT, bd::auth::CALC | bd::auth::VERIFY) => {
            if aead::is_aead_mode(b.c_mode) {
                aead::run(&b, mem)
            } else if cipher::is_known_mode(&b) {
                // Chained cipher + HMAC (IPsec authenc): valid on hardware, not modelled.
                Err(ERR_UNSUPPORTED)
            } else {
                Err(ERR_ALG)
            }
        }
        (bd::dir::COPY, _) => Err(ERR_UNSUPPORTED),
        // Nothing to do, or auth code 3 (reserved).
        _ => Err(ERR_ALG),
    }
}

fn copy(b: &Bd, mem: &mut ClientMem) -> Result<Done, u8> {
    if b.de != 1 || b.src_addr_type != 0 || b.dst_addr_type != 0 {
        return Err(ERR_ADDR_TYPE);
    }
    check_len(b.c_len)?;
    mem.copy(b.src, b.dst, b.c_len as usize)
        .map_err(|e| fault("copy", e))?;
    Ok(Done {
        bytes: b.c_len as u64,
        icv: 0,
        flag: FLAG_CIPHER,
    })
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
            assert_eq!((s.u16(112) >> 7) & 0xf, FLAG_CIPHER as u16);
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
        // copy with auth: not modelled
        let mut s = good;
        s.set_u32(56, 1);
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
        // nothing to do
        let mut s = good;
        s.set_u16(4, 0);
        assert_eq!(execute(3, &mut s, &mut mem, (0, 0), &mut f).error, ERR_ALG);
        assert_eq!(dst, vec![0u8; 8]);
    }

    #[test]
    fn random_descriptors_complete_with_a_status_and_never_panic() {
        let mut mem = ClientMem::new(std::process::id());
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        for i in 0..20_000u32 {
            let mut s = Sqe::zeroed();
            for w in 0..16 {
                s.set_u64(w * 8, next());
            }
            s.set_u8(0, (s.u8(0) & 0xf0) | if i % 2 == 0 { 2 } else { 3 });
            // Addresses 0 (the fault path); copy BDs are excluded because the local copy
            // path accesses memory directly.
            for off in [16, 24, 32, 48, 76, 84, 92] {
                if s.u8(0) & 0xf == 3 {
                    s.set_u64(off, 0);
                }
            }
            for off in [56, 64, 72, 80, 88, 96, 104] {
                if s.u8(0) & 0xf == 2 {
                    s.set_u64(off, 0);
                }
            }
            let d = decode(&s).unwrap();
            if d.cipher_dir == bd::dir::COPY {
                continue;
            }
            let mut f = 0;
            let o = execute(3, &mut s, &mut mem, (0, 0), &mut f);
            assert_ne!(o.error, 0, "a BD without buffers cannot succeed: {s:?}");
            assert_eq!(s.u16(bd::OFF_DONE_FLAG) & DONE, DONE);
        }
    }
}
