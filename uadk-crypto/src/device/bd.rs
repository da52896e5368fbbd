//! SEC BD type 2 (`struct hisi_sec_sqe`, QM v2) and BD type 3 (`struct hisi_sec_sqe3`, QM v3+)
//! for ciphers, digests/HMAC and AEAD: the encoder and the status decoder.
//!
//! Offsets, bit positions and codes follow the reference's §7.2 (BD2), §7.3 (BD3) and the
//! §7.3 code tables; they are kept here as named constants, in the style of
//! `uadk_core::sec_copy` (which builds the "copy" BD over the same layouts).
//!
//! Data layout of one request (flat buffers, addresses are process virtual addresses):
//! - cipher: `c_len` bytes at `src + cipher_src_offset` → `dst + cipher_src_offset`; key at
//!   `c_key_addr` (XTS: both halves), 16-byte IV block at `c_ivin_addr`;
//! - digest/HMAC: `a_len` bytes at `src + auth_src_offset`; MAC (`mac_words` 4-byte words)
//!   written to `mac_addr`; HMAC key (`akey_words` words) at `a_key_addr`;
//! - AEAD: AAD (`a_len` bytes) at `src + auth_src_offset`, payload at `src +
//!   cipher_src_offset`, tag at `mac_addr`; GCM nonce = IV bytes 0..12, CCM IV byte 0 = L − 1.

use uadk_core::qm::Sqe;
use uadk_core::sec_copy::SecBd;

use crate::device::DeviceError;

/// Largest data length one BD carries (`MAX_INPUT_DATA_LEN`, 16 MiB − 512 B).
pub(crate) const MAX_LEN: usize = uadk_core::sec_copy::MAX_LEN as usize;

// ---- status words (both formats) ---------------------------------------------------------
/// `done_flag` (u16): bit 0 done, bits 3:1 ICV result.
pub(crate) const OFF_DONE_FLAG: usize = 112;
/// `error_type` (u8): nonzero = the request failed.
pub(crate) const OFF_ERROR_TYPE: usize = 114;
/// ICV result: the MAC/tag verified.
pub(crate) const ICV_PASS: u8 = 1;
/// ICV result: the MAC/tag did not verify.
pub(crate) const ICV_FAIL: u8 = 2;

// ---- BD2 (§7.2) ------------------------------------------------------------------------------
const BD2_TYPE: u8 = 2;
/// u8: 3:0 type, 5:4 cipher direction, 7:6 auth.
const BD2_TYPE_AUTH_CIPHER: usize = 0;
/// u8: 2:1 de, 6:3 scene.
const BD2_SDS_SA_TYPE: usize = 1;
/// u32: 4:0 mac len (words), 10:5 auth key len (words), 16:11 auth alg.
const BD2_MAC_KEY_ALG: usize = 8;
/// u16: 8:6 width, 11:9 key len code, 15:12 mode.
const BD2_ICVW_KMODE: usize = 12;
/// u8: 3:0 cipher alg.
const BD2_C_ALG: usize = 14;
const BD2_ALEN: usize = 16;
const BD2_CLEN: usize = 20;
const BD2_AUTH_SRC_OFFSET: usize = 24;
const BD2_CIPHER_SRC_OFFSET: usize = 26;
/// u8: 1:0 auth IV generation, 3:2 auth padding (long hash).
const BD2_AI_APD_CS: usize = 5;
/// u64: message length in bits on the last long-hash BD.
const BD2_LONG_A_DATA_LEN: usize = 48;
/// u64: auth IV (long-hash state) address.
const BD2_A_IVIN_ADDR: usize = 56;
const BD2_A_KEY_ADDR: usize = 64;
const BD2_MAC_ADDR: usize = 72;
const BD2_C_IVIN_ADDR: usize = 80;
const BD2_C_KEY_ADDR: usize = 88;
const BD2_DATA_SRC_ADDR: usize = 96;
const BD2_DATA_DST_ADDR: usize = 104;
/// BD2 scene code IPsec (the one UADK uses for single-BD requests).
const BD2_SCENE_IPSEC: u8 = 1;

// ---- BD3 (§7.3) ------------------------------------------------------------------------------
const BD3_TYPE: u32 = 3;
/// u32: 3:0 type, 8:5 scene, 10:9 de.
const BD3_BD_PARAM: usize = 0;
/// u16: 1:0 cipher direction, 12:10 width, 15:13 key len code.
const BD3_C_ICV_KEY: usize = 4;
/// u8: 3:0 mode, 7:4 alg.
const BD3_C_MODE_ALG: usize = 6;
const BD3_DATA_SRC_ADDR: usize = 16;
const BD3_A_KEY_ADDR: usize = 24;
/// u64: auth IV (long-hash state) address, first word of the 16-byte union.
const BD3_A_IVIN_ADDR: usize = 32;
const BD3_C_KEY_ADDR: usize = 48;
/// u32: 1:0 auth, 8:4 mac len (words), 14:9 auth key len (words), 20:15 auth alg.
const BD3_AUTH_MAC_KEY: usize = 56;
const BD3_AUTH_SRC_OFFSET: usize = 64;
const BD3_CIPHER_SRC_OFFSET: usize = 66;
const BD3_A_LEN: usize = 68;
const BD3_C_LEN: usize = 72;
const BD3_DATA_DST_ADDR: usize = 76;
const BD3_MAC_ADDR: usize = 84;
const BD3_C_IVIN_ADDR: usize = 92;
/// Stream scene (union at 92: `c_ivin_addr`, then these; the reference gives the union's
/// 20-byte size and first field, the rest follows UADK's stream-scene layout): u64 message
/// length in bits on the last long-hash BD ...
const BD3_LONG_A_DATA_LEN: usize = 100;
/// ... and u8 auth padding (bits 1:0).
const BD3_AUTH_PAD: usize = 108;
/// BD3 scene code "stream" (no IPsec/disk specifics).
const BD3_SCENE_STREAM: u32 = 7;

/// Destination address valid.
const DE_VALID: u8 = 1;

/// Cipher direction codes.
pub(crate) mod dir {
    /// No cipher operation.
    pub const NONE: u8 = 0;
    /// Encrypt.
    pub const ENCRYPT: u8 = 1;
    /// Decrypt.
    pub const DECRYPT: u8 = 2;
}

/// Auth type codes.
pub(crate) mod auth {
    /// Compute and write the MAC.
    pub const CALC: u8 = 1;
    /// Compute and compare with the MAC at `mac_addr`.
    pub const VERIFY: u8 = 2;
}

/// Auth IV generation codes (long hash).
pub(crate) mod ai_gen {
    /// The algorithm's initial value (first request).
    pub const INNER: u8 = 0;
    /// The state at the auth IV address (middle and last requests).
    pub const IVIN_ADDR: u8 = 1;
}

/// Auth padding codes (long hash).
pub(crate) mod auth_pad {
    /// Pad the final block (one-shot and last requests).
    pub const PAD: u8 = 0;
    /// No padding: a first or middle request of whole blocks.
    pub const NO_PAD: u8 = 1;
}

/// Cipher algorithm codes.
pub(crate) mod c_alg {
    /// AES.
    pub const AES: u8 = 2;
    /// SM4.
    pub const SM4: u8 = 3;
}

/// Cipher mode codes.
pub(crate) mod c_mode {
    /// ECB.
    pub const ECB: u8 = 0;
    /// CBC.
    pub const CBC: u8 = 1;
    /// CTR (128-bit big-endian counter).
    pub const CTR: u8 = 4;
    /// CCM.
    pub const CCM: u8 = 5;
    /// GCM.
    pub const GCM: u8 = 6;
    /// XTS.
    pub const XTS: u8 = 7;
}

/// Cipher key length codes (XTS: the size of one of the two keys).
pub(crate) mod key_code {
    /// AES-128 and SM4.
    pub const K128: u8 = 0;
    /// AES-192.
    pub const K192: u8 = 1;
    /// AES-256.
    pub const K256: u8 = 2;
}

/// Auth algorithm codes.
pub(crate) mod a_alg {
    /// SHA-1.
    pub const SHA1: u8 = 0x00;
    /// SHA-256.
    pub const SHA256: u8 = 0x01;
    /// MD5.
    pub const MD5: u8 = 0x02;
    /// SHA-224.
    pub const SHA224: u8 = 0x03;
    /// SHA-384.
    pub const SHA384: u8 = 0x04;
    /// SHA-512.
    pub const SHA512: u8 = 0x05;
    /// Added to a SHA/MD5 code for its HMAC.
    pub const HMAC_BASE: u8 = 0x10;
    /// SM3.
    pub const SM3: u8 = 0x25;
    /// HMAC-SM3.
    pub const HMAC_SM3: u8 = 0x26;
}

/// One SEC request, format-independent; [`encode`] lays it out as BD2 or BD3.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Req {
    pub dir: u8,
    pub auth: u8,
    pub c_alg: u8,
    pub c_mode: u8,
    pub key_code: u8,
    pub a_alg: u8,
    pub mac_words: u8,
    pub akey_words: u8,
    pub c_len: u32,
    pub a_len: u32,
    pub c_off: u16,
    pub a_off: u16,
    pub src: u64,
    pub dst: u64,
    pub mac: u64,
    pub c_key: u64,
    pub c_iv: u64,
    pub a_key: u64,
    pub ai_gen: u8,
    pub auth_pad: u8,
    pub a_iv: u64,
    pub long_a_bits: u64,
}

/// Lays `r` out as a BD of format `bd`.
pub(crate) fn encode(bd: SecBd, r: &Req) -> Sqe {
    let mut s = Sqe::zeroed();
    let de = if r.dir == dir::NONE { 0 } else { DE_VALID };
    match bd {
        SecBd::Bd2 => {
            s.set_u8(BD2_TYPE_AUTH_CIPHER, BD2_TYPE | (r.dir << 4) | (r.auth << 6));
            s.set_u8(BD2_SDS_SA_TYPE, (de << 1) | (BD2_SCENE_IPSEC << 3));
            s.set_u32(
                BD2_MAC_KEY_ALG,
                r.mac_words as u32 | ((r.akey_words as u32) << 5) | ((r.a_alg as u32) << 11),
            );
            s.set_u16(
                BD2_ICVW_KMODE,
                ((r.key_code as u16) << 9) | ((r.c_mode as u16) << 12),
            );
            s.set_u8(BD2_C_ALG, r.c_alg);
            s.set_u32(BD2_ALEN, r.a_len);
            s.set_u32(BD2_CLEN, r.c_len);
            s.set_u16(BD2_AUTH_SRC_OFFSET, r.a_off);
            s.set_u16(BD2_CIPHER_SRC_OFFSET, r.c_off);
            s.set_u64(BD2_A_KEY_ADDR, r.a_key);
            s.set_u64(BD2_MAC_ADDR, r.mac);
            s.set_u64(BD2_C_IVIN_ADDR, r.c_iv);
            s.set_u64(BD2_C_KEY_ADDR, r.c_key);
            s.set_u64(BD2_DATA_SRC_ADDR, r.src);
            s.set_u64(BD2_DATA_DST_ADDR, r.dst);
            s.set_u8(BD2_AI_APD_CS, (r.ai_gen & 3) | ((r.auth_pad & 3) << 2));
            s.set_u64(BD2_A_IVIN_ADDR, r.a_iv);
            s.set_u64(BD2_LONG_A_DATA_LEN, r.long_a_bits);
        }
        SecBd::Bd3 => {
            s.set_u32(
                BD3_BD_PARAM,
                BD3_TYPE | (BD3_SCENE_STREAM << 5) | ((de as u32) << 9),
            );
            s.set_u16(BD3_C_ICV_KEY, r.dir as u16 | ((r.key_code as u16) << 13));
            s.set_u8(BD3_C_MODE_ALG, r.c_mode | (r.c_alg << 4));
            s.set_u64(BD3_DATA_SRC_ADDR, r.src);
            s.set_u64(BD3_A_KEY_ADDR, r.a_key);
            s.set_u64(BD3_C_KEY_ADDR, r.c_key);
            s.set_u32(
                BD3_AUTH_MAC_KEY,
                r.auth as u32
                    | (((r.ai_gen & 3) as u32) << 2)
                    | ((r.mac_words as u32) << 4)
                    | ((r.akey_words as u32) << 9)
                    | ((r.a_alg as u32) << 15),
            );
            s.set_u16(BD3_AUTH_SRC_OFFSET, r.a_off);
            s.set_u16(BD3_CIPHER_SRC_OFFSET, r.c_off);
            s.set_u32(BD3_A_LEN, r.a_len);
            s.set_u32(BD3_C_LEN, r.c_len);
            s.set_u64(BD3_DATA_DST_ADDR, r.dst);
            s.set_u64(BD3_MAC_ADDR, r.mac);
            s.set_u64(BD3_C_IVIN_ADDR, r.c_iv);
            s.set_u64(BD3_A_IVIN_ADDR, r.a_iv);
            s.set_u64(BD3_LONG_A_DATA_LEN, r.long_a_bits);
            s.set_u8(BD3_AUTH_PAD, r.auth_pad & 3);
        }
    }
    s
}

/// What a completed BD says about authentication.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Icv {
    /// No verification was asked for (or none reported).
    None,
    /// The MAC/tag verified.
    Pass,
    /// The MAC/tag did not verify.
    Fail,
}

/// Decodes the written-back status: done bit, `error_type`, ICV result.
///
/// # Errors
/// [`DeviceError::Failed`] when the BD is not marked done, `error_type` is nonzero or the
/// ICV field holds an unknown value.
pub(crate) fn status(s: &Sqe) -> Result<Icv, DeviceError> {
    let done = s.u16(OFF_DONE_FLAG);
    let err = s.u8(OFF_ERROR_TYPE);
    if done & 1 == 0 {
        return Err(DeviceError::Failed(format!(
            "SEC BD not marked done (done_flag {done:#x})"
        )));
    }
    if err != 0 {
        return Err(DeviceError::Failed(format!(
            "SEC error_type {err:#x} (done_flag {done:#x})"
        )));
    }
    match ((done >> 1) & 7) as u8 {
        0 => Ok(Icv::None),
        ICV_PASS => Ok(Icv::Pass),
        ICV_FAIL => Ok(Icv::Fail),
        other => Err(DeviceError::Failed(format!("SEC unknown ICV result {other}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Req {
        Req {
            dir: dir::ENCRYPT,
            auth: auth::CALC,
            c_alg: c_alg::SM4,
            c_mode: c_mode::GCM,
            key_code: key_code::K256,
            a_alg: a_alg::HMAC_SM3,
            mac_words: 4,
            akey_words: 5,
            c_len: 0x12_3456,
            a_len: 0x65_4321,
            c_off: 0x1234,
            a_off: 0x4321,
            src: 0x1000,
            dst: 0x2000,
            mac: 0x3000,
            c_key: 0x4000,
            c_iv: 0x5000,
            a_key: 0x6000,
            ai_gen: ai_gen::IVIN_ADDR,
            auth_pad: auth_pad::NO_PAD,
            a_iv: 0x7000,
            long_a_bits: 0x8000,
        }
    }

    #[test]
    fn bd2_fields_land_where_the_reference_puts_them() {
        let s = encode(SecBd::Bd2, &sample());
        assert_eq!(s.u8(0), 2 | (1 << 4) | (1 << 6));
        assert_eq!(s.u8(1), (1 << 1) | (1 << 3));
        let mka = s.u32(8);
        assert_eq!((mka & 0x1f, (mka >> 5) & 0x3f, (mka >> 11) & 0x3f), (4, 5, 0x26));
        let km = s.u16(12);
        assert_eq!(((km >> 9) & 7, km >> 12), (2, 6));
        assert_eq!(s.u8(14), 3);
        assert_eq!((s.u32(16), s.u32(20)), (0x65_4321, 0x12_3456));
        assert_eq!((s.u16(24), s.u16(26)), (0x4321, 0x1234));
        assert_eq!(
            (s.u64(64), s.u64(72), s.u64(80), s.u64(88)),
            (0x6000, 0x3000, 0x5000, 0x4000)
        );
        assert_eq!((s.u64(96), s.u64(104)), (0x1000, 0x2000));
        assert_eq!((s.u8(5), s.u64(56), s.u64(48)), (1 | (1 << 2), 0x7000, 0x8000));
    }

    #[test]
    fn bd3_fields_land_where_the_reference_puts_them() {
        let s = encode(SecBd::Bd3, &sample());
        let p = s.u32(0);
        assert_eq!((p & 0xf, (p >> 5) & 0xf, (p >> 9) & 3), (3, 7, 1));
        let cik = s.u16(4);
        assert_eq!((cik & 3, cik >> 13), (1, 2));
        assert_eq!(s.u8(6), 6 | (3 << 4));
        let amk = s.u32(56);
        assert_eq!(
            (amk & 3, (amk >> 4) & 0x1f, (amk >> 9) & 0x3f, (amk >> 15) & 0x3f),
            (1, 4, 5, 0x26)
        );
        assert_eq!(
            (s.u16(64), s.u16(66), s.u32(68), s.u32(72)),
            (0x4321, 0x1234, 0x65_4321, 0x12_3456)
        );
        assert_eq!((s.u64(16), s.u64(24), s.u64(48)), (0x1000, 0x6000, 0x4000));
        assert_eq!((s.u64(76), s.u64(84), s.u64(92)), (0x2000, 0x3000, 0x5000));
        assert_eq!((amk >> 2) & 3, 1);
        assert_eq!((s.u64(32), s.u64(100), s.u8(108)), (0x7000, 0x8000, 1));
    }

    #[test]
    fn digest_only_bds_have_no_destination() {
        let r = Req {
            auth: auth::CALC,
            ..Default::default()
        };
        assert_eq!((encode(SecBd::Bd2, &r).u8(1) >> 1) & 3, 0);
        assert_eq!((encode(SecBd::Bd3, &r).u32(0) >> 9) & 3, 0);
    }

    #[test]
    fn status_decoding() {
        let mut s = Sqe::zeroed();
        assert!(status(&s).is_err());
        s.set_u16(OFF_DONE_FLAG, 1);
        assert_eq!(status(&s), Ok(Icv::None));
        s.set_u16(OFF_DONE_FLAG, 1 | (1 << 1));
        assert_eq!(status(&s), Ok(Icv::Pass));
        s.set_u16(OFF_DONE_FLAG, 1 | (2 << 1));
        assert_eq!(status(&s), Ok(Icv::Fail));
        s.set_u8(OFF_ERROR_TYPE, 0x3f);
        assert!(matches!(status(&s), Err(DeviceError::Failed(_))));
    }
}
