//! Field decoding of SEC BD type 2 (reference §7.2) and BD type 3 (§7.3) into one
//! format-independent view, [`Bd`]. Offsets and bit positions are named constants taken from
//! the reference tables; nothing here validates values (that is the engine's job).

use uadk_core::qm::Sqe;

/// BD type code of `struct hisi_sec_sqe` (QM v2).
pub const BD_TYPE2: u8 = 2;
/// BD type code of `struct hisi_sec_sqe3` (QM v3+).
pub const BD_TYPE3: u8 = 3;

/// Offset of `done_flag` (u16) in both formats.
pub const OFF_DONE_FLAG: usize = 112;
/// Offset of `error_type` (u8) in both formats.
pub const OFF_ERROR_TYPE: usize = 114;

// ---- BD2 (§7.2) -------------------------------------------------------------------------
/// BD2 byte 0 `type_auth_cipher`.
pub const BD2_TYPE_AUTH_CIPHER: usize = 0;
/// BD2 byte 1 `sds_sa_type`: 2:1 de, 6:3 scene, 7 src is SGL.
pub const BD2_SDS_SA_TYPE: usize = 1;
/// BD2 byte 2 `sdm_addr_type`: 4:2 dst addr type, 7:5 mac addr type.
pub const BD2_SDM_ADDR_TYPE: usize = 2;
/// BD2 byte 5 `ai_apd_cs`: 1:0 auth IV generation, 3:2 auth padding (long hash).
pub const BD2_AI_APD_CS: usize = 5;
/// BD2 byte 6 `rca_key_frm`: 2:1 cipher key type, 4:3 auth key type.
pub const BD2_RCA_KEY_FRM: usize = 6;
/// BD2 u32 `mac_key_alg`: 4:0 mac len (words), 10:5 auth key len (words), 16:11 auth alg.
pub const BD2_MAC_KEY_ALG: usize = 8;
/// BD2 u16 `icvw_kmode`: 5:0 icv len, 8:6 width, 11:9 key len code, 15:12 mode.
pub const BD2_ICVW_KMODE: usize = 12;
/// BD2 u8 `c_alg`: 3:0 cipher alg.
pub const BD2_C_ALG: usize = 14;
/// BD2 u32 `alen_ivllen`: 23:0 auth length.
pub const BD2_ALEN: usize = 16;
/// BD2 u32 `clen_ivhlen`: 23:0 cipher length.
pub const BD2_CLEN: usize = 20;
/// BD2 u16 `auth_src_offset`.
pub const BD2_AUTH_SRC_OFFSET: usize = 24;
/// BD2 u16 `cipher_src_offset`.
pub const BD2_CIPHER_SRC_OFFSET: usize = 26;
/// BD2 u64 `long_a_data_len`: total message length in bits, on the last long-hash BD.
pub const BD2_LONG_A_DATA_LEN: usize = 48;
/// BD2 u64 `a_ivin_addr`.
pub const BD2_A_IVIN_ADDR: usize = 56;
/// BD2 u64 `a_key_addr`.
pub const BD2_A_KEY_ADDR: usize = 64;
/// BD2 u64 `mac_addr`.
pub const BD2_MAC_ADDR: usize = 72;
/// BD2 u64 `c_ivin_addr`.
pub const BD2_C_IVIN_ADDR: usize = 80;
/// BD2 u64 `c_key_addr`.
pub const BD2_C_KEY_ADDR: usize = 88;
/// BD2 u64 `data_src_addr`.
pub const BD2_DATA_SRC_ADDR: usize = 96;
/// BD2 u64 `data_dst_addr`.
pub const BD2_DATA_DST_ADDR: usize = 104;

// ---- BD3 (§7.3) -------------------------------------------------------------------------
/// BD3 u32 `bd_param`: 3:0 type, 8:5 scene, 10:9 de, 13:11 src/16:14 dst/19:17 mac addr type.
pub const BD3_BD_PARAM: usize = 0;
/// BD3 u16 `c_icv_key`: 1:0 cipher dir, 3:2 ci_gen, 9:4 icv len, 12:10 width, 15:13 key len.
pub const BD3_C_ICV_KEY: usize = 4;
/// BD3 u8 `c_mode_alg`: 3:0 mode, 7:4 alg.
pub const BD3_C_MODE_ALG: usize = 6;
/// BD3 u64 `data_src_addr`.
pub const BD3_DATA_SRC_ADDR: usize = 16;
/// BD3 u64 `a_key_addr`.
pub const BD3_A_KEY_ADDR: usize = 24;
/// BD3 u64 auth IV address (first word of the 16-byte union).
pub const BD3_A_IVIN_ADDR: usize = 32;
/// BD3 u64 `c_key_addr`.
pub const BD3_C_KEY_ADDR: usize = 48;
/// BD3 u32 `auth_mac_key`: 1:0 auth, 3:2 ai_gen, 8:4 mac len, 14:9 auth key len, 20:15 auth
/// alg, 24:21 key sel, 26:25 ctr/sm4-xts mode, 27 SVA prefetch, 30:28 key wrap, 31 update key.
pub const BD3_AUTH_MAC_KEY: usize = 56;
/// BD3 u16 `auth_src_offset`.
pub const BD3_AUTH_SRC_OFFSET: usize = 64;
/// BD3 u16 `cipher_src_offset`.
pub const BD3_CIPHER_SRC_OFFSET: usize = 66;
/// BD3 u32 `a_len_key`: 23:0 auth length.
pub const BD3_A_LEN: usize = 68;
/// BD3 u32 `c_len_ivin`: 23:0 cipher length.
pub const BD3_C_LEN: usize = 72;
/// BD3 u64 `data_dst_addr`.
pub const BD3_DATA_DST_ADDR: usize = 76;
/// BD3 u64 `mac_addr`.
pub const BD3_MAC_ADDR: usize = 84;
/// BD3 u64 `c_ivin_addr` (first word of the stream/no-scene union).
pub const BD3_C_IVIN_ADDR: usize = 92;
/// BD3 u64 `long_a_data_len` of the stream scene (union + 8): total message length in bits
/// on the last long-hash BD. The reference gives the union's size (20 B) and its first
/// field; the layout `c_ivin_addr, long_a_data_len, auth_pad, 3 reserved` is inferred from
/// that size and UADK's stream-scene use.
pub const BD3_LONG_A_DATA_LEN: usize = 100;
/// BD3 u8 stream-scene `auth_pad` (union + 16), bits 1:0: 0 pad the final block, 1 no pad
/// (a non-final long-hash segment). Inferred as [`BD3_LONG_A_DATA_LEN`].
pub const BD3_AUTH_PAD: usize = 108;

const LEN_MASK: u32 = 0xff_ffff;

/// Cipher direction codes (both formats).
pub mod dir {
    /// No cipher operation.
    pub const NONE: u8 = 0;
    /// Encrypt.
    pub const ENCRYPT: u8 = 1;
    /// Decrypt.
    pub const DECRYPT: u8 = 2;
    /// Copy source to destination unchanged.
    pub const COPY: u8 = 3;
}

/// Auth type codes (both formats).
pub mod auth {
    /// No authentication.
    pub const NONE: u8 = 0;
    /// Compute the hash/HMAC and write it to `mac_addr`.
    pub const CALC: u8 = 1;
    /// Compute and compare with the MAC at `mac_addr` (result in `done_flag` icv bits).
    pub const VERIFY: u8 = 2;
}

/// A SEC BD, format-independent. Fields absent from one format read as 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Bd {
    /// 2 or 3.
    pub bd_type: u8,
    /// Cipher direction ([`dir`]).
    pub cipher_dir: u8,
    /// Auth type ([`auth`]).
    pub auth: u8,
    /// Destination-address-valid code (1 = valid).
    pub de: u8,
    /// Source address type (0 = flat buffer).
    pub src_addr_type: u8,
    /// Destination address type (0 = flat buffer).
    pub dst_addr_type: u8,
    /// MAC address type (0 = flat buffer).
    pub mac_addr_type: u8,
    /// Cipher algorithm code.
    pub c_alg: u8,
    /// Cipher mode code.
    pub c_mode: u8,
    /// Cipher key length code.
    pub c_key_len: u8,
    /// Cipher width (CBC_CS variant).
    pub c_width: u8,
    /// Auth algorithm code.
    pub a_alg: u8,
    /// MAC length in 4-byte words.
    pub mac_words: u8,
    /// Auth key length in 4-byte words.
    pub a_key_words: u8,
    /// Auth IV generation (0 = inner, i.e. the standard initial hash value).
    pub ai_gen: u8,
    /// Auth padding (0 = pad the final block; 1 = long-hash no-pad segment). BD2 byte 5
    /// bits 3:2; BD3 stream-scene byte 108 bits 1:0.
    pub auth_pad: u8,
    /// Total message length in bits for the last long-hash BD (`long_a_data_len`).
    pub long_a_bits: u64,
    /// BD2 cipher/auth key types, BD3 key select / key wrap: nonzero = on-chip key source.
    pub key_source: u8,
    /// BD3 bits 26:25 (CTR counter mode or SM4-XTS GB variant); 0 on BD2.
    pub ctr_xts_mode: u8,
    /// Auth length.
    pub a_len: u32,
    /// Cipher length.
    pub c_len: u32,
    /// Offset of the authenticated data in the source.
    pub auth_src_offset: u16,
    /// Offset of the ciphered data in the source (and destination).
    pub cipher_src_offset: u16,
    /// Source address.
    pub src: u64,
    /// Destination address.
    pub dst: u64,
    /// MAC address.
    pub mac: u64,
    /// Cipher key address.
    pub c_key: u64,
    /// Cipher IV address.
    pub c_iv: u64,
    /// Auth key address.
    pub a_key: u64,
    /// Auth IV address.
    pub a_iv: u64,
}

/// Decodes a BD2 or BD3; `None` for any other BD type.
pub fn decode(s: &Sqe) -> Option<Bd> {
    match s.u8(0) & 0xf {
        BD_TYPE2 => Some(decode_bd2(s)),
        BD_TYPE3 => Some(decode_bd3(s)),
        _ => None,
    }
}

fn bits(v: u32, lo: u32, width: u32) -> u8 {
    ((v >> lo) & ((1 << width) - 1)) as u8
}

fn decode_bd2(s: &Sqe) -> Bd {
    let tac = s.u8(BD2_TYPE_AUTH_CIPHER) as u32;
    let sds = s.u8(BD2_SDS_SA_TYPE) as u32;
    let sdm = s.u8(BD2_SDM_ADDR_TYPE) as u32;
    let mka = s.u32(BD2_MAC_KEY_ALG);
    let km = s.u16(BD2_ICVW_KMODE) as u32;
    let apd = s.u8(BD2_AI_APD_CS) as u32;
    Bd {
        bd_type: BD_TYPE2,
        cipher_dir: bits(tac, 4, 2),
        auth: bits(tac, 6, 2),
        de: bits(sds, 1, 2),
        src_addr_type: bits(sds, 7, 1),
        dst_addr_type: bits(sdm, 2, 3),
        mac_addr_type: bits(sdm, 5, 3),
        c_alg: s.u8(BD2_C_ALG) & 0xf,
        c_mode: bits(km, 12, 4),
        c_key_len: bits(km, 9, 3),
        c_width: bits(km, 6, 3),
        a_alg: bits(mka, 11, 6),
        mac_words: bits(mka, 0, 5),
        a_key_words: bits(mka, 5, 6),
        ai_gen: bits(apd, 0, 2),
        auth_pad: bits(apd, 2, 2),
        long_a_bits: s.u64(BD2_LONG_A_DATA_LEN),
        key_source: bits(s.u8(BD2_RCA_KEY_FRM) as u32, 1, 4),
        ctr_xts_mode: 0,
        a_len: s.u32(BD2_ALEN) & LEN_MASK,
        c_len: s.u32(BD2_CLEN) & LEN_MASK,
        auth_src_offset: s.u16(BD2_AUTH_SRC_OFFSET),
        cipher_src_offset: s.u16(BD2_CIPHER_SRC_OFFSET),
        src: s.u64(BD2_DATA_SRC_ADDR),
        dst: s.u64(BD2_DATA_DST_ADDR),
        mac: s.u64(BD2_MAC_ADDR),
        c_key: s.u64(BD2_C_KEY_ADDR),
        c_iv: s.u64(BD2_C_IVIN_ADDR),
        a_key: s.u64(BD2_A_KEY_ADDR),
        a_iv: s.u64(BD2_A_IVIN_ADDR),
    }
}

fn decode_bd3(s: &Sqe) -> Bd {
    let p = s.u32(BD3_BD_PARAM);
    let cik = s.u16(BD3_C_ICV_KEY) as u32;
    let cma = s.u8(BD3_C_MODE_ALG) as u32;
    let amk = s.u32(BD3_AUTH_MAC_KEY);
    Bd {
        bd_type: BD_TYPE3,
        cipher_dir: bits(cik, 0, 2),
        auth: bits(amk, 0, 2),
        de: bits(p, 9, 2),
        src_addr_type: bits(p, 11, 3),
        dst_addr_type: bits(p, 14, 3),
        mac_addr_type: bits(p, 17, 3),
        c_alg: bits(cma, 4, 4),
        c_mode: bits(cma, 0, 4),
        c_key_len: bits(cik, 13, 3),
        c_width: bits(cik, 10, 3),
        a_alg: bits(amk, 15, 6),
        mac_words: bits(amk, 4, 5),
        a_key_words: bits(amk, 9, 6),
        ai_gen: bits(amk, 2, 2),
        auth_pad: s.u8(BD3_AUTH_PAD) & 3,
        long_a_bits: s.u64(BD3_LONG_A_DATA_LEN),
        key_source: bits(amk, 21, 4) | bits(amk, 28, 3),
        ctr_xts_mode: bits(amk, 25, 2),
        a_len: s.u32(BD3_A_LEN) & LEN_MASK,
        c_len: s.u32(BD3_C_LEN) & LEN_MASK,
        auth_src_offset: s.u16(BD3_AUTH_SRC_OFFSET),
        cipher_src_offset: s.u16(BD3_CIPHER_SRC_OFFSET),
        src: s.u64(BD3_DATA_SRC_ADDR),
        dst: s.u64(BD3_DATA_DST_ADDR),
        mac: s.u64(BD3_MAC_ADDR),
        c_key: s.u64(BD3_C_KEY_ADDR),
        c_iv: s.u64(BD3_C_IVIN_ADDR),
        a_key: s.u64(BD3_A_KEY_ADDR),
        a_iv: s.u64(BD3_A_IVIN_ADDR),
    }
}
