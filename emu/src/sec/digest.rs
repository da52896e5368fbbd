//! Digest BDs (cipher direction 0, auth 1 = calculate / 2 = verify): hashes and HMACs.
//!
//! Auth alg codes (reference §7.3): SHA1 0, SHA256 1, MD5 2, SHA224 3, SHA384 4, SHA512 5,
//! SHA512/224 6, SHA512/256 7, HMAC-* 0x10–0x17 (same order), AES-XCBC 0x20, AES-CMAC 0x21,
//! AES-GMAC 0x22, SM3 0x25, HMAC-SM3 0x26. The MAC length (in words) may truncate the digest
//! (e.g. HMAC-SHA1-96) but not exceed it; the HMAC key length is in words too.
//!
//! AES-CMAC and AES-GMAC run on BD3 only (UADK offers the AES MACs on QM v3 hardware only;
//! on a BD2 the codes are [`ERR_ALG`]): key at `a_key_addr`, 16/24/32 bytes by the auth key
//! length; MAC 1–4 words (truncated). GMAC takes its 12-byte IV from the auth IV address
//! (BD3 offset 32; 0 → [`ERR_IV`]) and authenticates the data as GCM AAD. AES-XCBC
//! (MAC-96 / PRF-128) is not modelled ([`ERR_UNSUPPORTED`] on BD3).

use digest::core_api::BlockSizeUser;
use digest::{Digest, KeyInit, Mac};
use hmac::SimpleHmac;
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use super::bd::{self, Bd};
use super::cipher::read_key;
use super::{check_len, fault, Done, ERR_ADDR_FAULT, ERR_ADDR_TYPE, ERR_ALG, ERR_KEY_LEN};
use super::{ERR_IV, ERR_MAC_LEN, ERR_UNSUPPORTED, FLAG_DIGEST, ICV_FAIL, ICV_PASS};
use crate::memory::ClientMem;

/// Auth alg code SHA-1.
pub const A_ALG_SHA1: u8 = 0x00;
/// Auth alg code SHA-256.
pub const A_ALG_SHA256: u8 = 0x01;
/// Auth alg code MD5.
pub const A_ALG_MD5: u8 = 0x02;
/// Auth alg code SHA-224.
pub const A_ALG_SHA224: u8 = 0x03;
/// Auth alg code SHA-384.
pub const A_ALG_SHA384: u8 = 0x04;
/// Auth alg code SHA-512.
pub const A_ALG_SHA512: u8 = 0x05;
/// Auth alg code SHA-512/224.
pub const A_ALG_SHA512_224: u8 = 0x06;
/// Auth alg code SHA-512/256.
pub const A_ALG_SHA512_256: u8 = 0x07;
/// Auth alg code offset of the HMAC variants (HMAC-SHA1 0x10 … HMAC-SHA512/256 0x17).
pub const A_ALG_HMAC_BASE: u8 = 0x10;
/// Auth alg code AES-XCBC (not modelled).
pub const A_ALG_AES_XCBC: u8 = 0x20;
/// Auth alg code AES-CMAC (not modelled).
pub const A_ALG_AES_CMAC: u8 = 0x21;
/// Auth alg code AES-GMAC (not modelled).
pub const A_ALG_AES_GMAC: u8 = 0x22;
/// Auth alg code SM3.
pub const A_ALG_SM3: u8 = 0x25;
/// Auth alg code HMAC-SM3.
pub const A_ALG_HMAC_SM3: u8 = 0x26;

/// Largest HMAC key the device takes (kernel `SEC_MAX_AKEY_SIZE`).
pub const MAX_AUTH_KEY_BYTES: usize = 128;
const WORD: usize = 4;

/// A hash function the engine runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Hash {
    Sha1,
    Sha224,
    Sha256,
    Sha384,
    Sha512,
    Sha512_224,
    Sha512_256,
    Md5,
    Sm3,
}

impl Hash {
    /// Output size in bytes.
    pub(crate) fn size(self) -> usize {
        match self {
            Hash::Md5 => 16,
            Hash::Sha1 => 20,
            Hash::Sha224 | Hash::Sha512_224 => 28,
            Hash::Sha256 | Hash::Sha512_256 | Hash::Sm3 => 32,
            Hash::Sha384 => 48,
            Hash::Sha512 => 64,
        }
    }
}

/// Decodes an auth alg code into (hash, is HMAC).
pub(crate) fn select(a_alg: u8) -> Result<(Hash, bool), u8> {
    let plain = |c: u8| match c {
        A_ALG_SHA1 => Some(Hash::Sha1),
        A_ALG_SHA256 => Some(Hash::Sha256),
        A_ALG_MD5 => Some(Hash::Md5),
        A_ALG_SHA224 => Some(Hash::Sha224),
        A_ALG_SHA384 => Some(Hash::Sha384),
        A_ALG_SHA512 => Some(Hash::Sha512),
        A_ALG_SHA512_224 => Some(Hash::Sha512_224),
        A_ALG_SHA512_256 => Some(Hash::Sha512_256),
        _ => None,
    };
    match a_alg {
        A_ALG_SM3 => Ok((Hash::Sm3, false)),
        A_ALG_HMAC_SM3 => Ok((Hash::Sm3, true)),
        A_ALG_AES_XCBC | A_ALG_AES_CMAC | A_ALG_AES_GMAC => Err(ERR_ALG),
        c if c < A_ALG_HMAC_BASE => plain(c).map(|h| (h, false)).ok_or(ERR_ALG),
        c => plain(c - A_ALG_HMAC_BASE).map(|h| (h, true)).ok_or(ERR_ALG),
    }
}

/// Executes a digest BD.
pub fn run(b: &Bd, mem: &mut ClientMem) -> Result<Done, u8> {
    if matches!(b.a_alg, A_ALG_AES_XCBC | A_ALG_AES_CMAC | A_ALG_AES_GMAC) {
        return cipher_mac(b, mem);
    }
    let (hash, hmac) = select(b.a_alg)?;
    if b.key_source != 0 || b.ai_gen > 1 || b.auth_pad > 1 {
        // On-chip keys and the other auth IV generation / padding codes are not modelled.
        return Err(ERR_UNSUPPORTED);
    }
    if b.ai_gen != 0 || b.auth_pad != 0 {
        return long_hash(b, mem, hash, hmac);
    }
    let mac_len = b.mac_words as usize * WORD;
    if mac_len == 0 || mac_len > hash.size() {
        return Err(ERR_MAC_LEN);
    }
    let key_len = b.a_key_words as usize * WORD;
    if hmac && (key_len == 0 || key_len > MAX_AUTH_KEY_BYTES) {
        return Err(ERR_KEY_LEN);
    }
    if b.src_addr_type != 0 || b.mac_addr_type != 0 {
        return Err(ERR_ADDR_TYPE);
    }
    check_len(b.a_len)?;
    let key = if hmac {
        read_key(mem, b.a_key, key_len)?
    } else {
        Zeroizing::new(Vec::new())
    };
    let src = b
        .src
        .checked_add(b.auth_src_offset as u64)
        .ok_or(ERR_ADDR_FAULT)?;
    let mut data = vec![0u8; b.a_len as usize];
    mem.read_at(src, &mut data).map_err(|e| fault("auth source", e))?;
    let full = compute(hash, hmac.then_some(&key[..]), &data)?;
    finish(b, mem, &full[..mac_len])
}

/// One BD of a long hash (see [`super::longhash`]): first (IV generation 0, no pad),
/// middle (IV generation 1, no pad) or last (IV generation 1, pad).
fn long_hash(b: &Bd, mem: &mut ClientMem, hash: Hash, hmac: bool) -> Result<Done, u8> {
    let last = b.auth_pad == 0;
    let mac_len = b.mac_words as usize * WORD;
    if last {
        if mac_len == 0 || mac_len > hash.size() {
            return Err(ERR_MAC_LEN);
        }
    } else {
        if b.auth == bd::auth::VERIFY {
            // A no-pad segment has no MAC to compare.
            return Err(ERR_ALG);
        }
        if mac_len != hash.state_size() {
            return Err(ERR_MAC_LEN);
        }
    }
    // HMAC needs its key where the keyed states enter: first (K ^ ipad) and last (K ^ opad).
    let needs_key = hmac && (b.ai_gen == 0 || last);
    let key_len = b.a_key_words as usize * WORD;
    if needs_key && (key_len == 0 || key_len > MAX_AUTH_KEY_BYTES) {
        return Err(ERR_KEY_LEN);
    }
    if b.src_addr_type != 0 || b.mac_addr_type != 0 {
        return Err(ERR_ADDR_TYPE);
    }
    check_len(b.a_len)?;
    let bs = hash.block_size();
    if !last && !(b.a_len as usize).is_multiple_of(bs) {
        return Err(super::ERR_LENGTH);
    }
    let total_bytes = if last {
        let bits = b.long_a_bits;
        let bytes = bits / 8;
        if !bits.is_multiple_of(8)
            || bytes < b.a_len as u64
            || !(bytes - b.a_len as u64).is_multiple_of(bs as u64)
        {
            return Err(super::ERR_LENGTH);
        }
        bytes
    } else {
        0
    };
    // K padded to one block (a key longer than the block is hashed first, RFC 2104).
    let block_key = if needs_key {
        let key = read_key(mem, b.a_key, key_len)?;
        let mut k = Zeroizing::new(vec![0u8; bs]);
        if key.len() > bs {
            let h = compute(hash, None, &key)?;
            k[..h.len()].copy_from_slice(&h);
        } else {
            k[..key.len()].copy_from_slice(&key);
        }
        Some(k)
    } else {
        None
    };
    let keyed = |pad: u8| {
        let mut s = hash.initial();
        if let Some(k) = &block_key {
            let blk: Zeroizing<Vec<u8>> = Zeroizing::new(k.iter().map(|x| x ^ pad).collect());
            hash.compress(&mut s, &blk);
        }
        s
    };
    let mut state = if b.ai_gen == 0 {
        keyed(0x36)
    } else {
        if b.a_iv == 0 {
            return Err(ERR_IV);
        }
        let mut raw = Zeroizing::new(vec![0u8; hash.state_size()]);
        mem.read_at(b.a_iv, &mut raw).map_err(|e| fault("auth IV", e))?;
        hash.parse_state(&raw).ok_or(ERR_IV)?
    };
    let src = b
        .src
        .checked_add(b.auth_src_offset as u64)
        .ok_or(ERR_ADDR_FAULT)?;
    let mut data = Zeroizing::new(vec![0u8; b.a_len as usize]);
    mem.read_at(src, &mut data).map_err(|e| fault("auth source", e))?;
    if !last {
        hash.compress(&mut state, &data);
        let out = Zeroizing::new(hash.serialise(&state));
        mem.write_at(b.mac, &out).map_err(|e| fault("MAC", e))?;
        return Ok(Done {
            bytes: b.a_len as u64,
            icv: 0,
            flag: FLAG_DIGEST,
        });
    }
    // HMAC's inner hash also covers the K ^ ipad block.
    let extra = if hmac { bs as u128 } else { 0 };
    let inner = Zeroizing::new(hash.finish(state, &data, total_bytes as u128 + extra));
    let full = if hmac {
        let outer = keyed(0x5c);
        Zeroizing::new(hash.finish(outer, &inner, (bs + inner.len()) as u128))
    } else {
        inner
    };
    finish(b, mem, &full[..mac_len])
}

/// Hash or HMAC of `data` (full output size).
pub(crate) fn compute(hash: Hash, key: Option<&[u8]>, data: &[u8]) -> Result<Zeroizing<Vec<u8>>, u8> {
    match hash {
        Hash::Sha1 => one::<sha1::Sha1>(key, data),
        Hash::Sha224 => one::<sha2::Sha224>(key, data),
        Hash::Sha256 => one::<sha2::Sha256>(key, data),
        Hash::Sha384 => one::<sha2::Sha384>(key, data),
        Hash::Sha512 => one::<sha2::Sha512>(key, data),
        Hash::Sha512_224 => one::<sha2::Sha512_224>(key, data),
        Hash::Sha512_256 => one::<sha2::Sha512_256>(key, data),
        Hash::Md5 => one::<md5::Md5>(key, data),
        Hash::Sm3 => one::<sm3::Sm3>(key, data),
    }
}

fn one<D: Digest + BlockSizeUser>(key: Option<&[u8]>, data: &[u8]) -> Result<Zeroizing<Vec<u8>>, u8> {
    Ok(Zeroizing::new(match key {
        None => D::digest(data).to_vec(),
        Some(k) => {
            let mut m = <SimpleHmac<D> as KeyInit>::new_from_slice(k).map_err(|_| ERR_KEY_LEN)?;
            m.update(data);
            m.finalize().into_bytes().to_vec()
        }
    }))
}

/// AES-CMAC / AES-GMAC (BD3 only), AES-XCBC (not modelled).
fn cipher_mac(b: &Bd, mem: &mut ClientMem) -> Result<Done, u8> {
    if b.bd_type != bd::BD_TYPE3 {
        return Err(ERR_ALG);
    }
    if b.a_alg == A_ALG_AES_XCBC || b.ai_gen != 0 || b.key_source != 0 {
        return Err(ERR_UNSUPPORTED);
    }
    let key_len = b.a_key_words as usize * WORD;
    if !matches!(key_len, 16 | 24 | 32) {
        return Err(ERR_KEY_LEN);
    }
    let mac_len = b.mac_words as usize * WORD;
    if mac_len == 0 || mac_len > AES_MAC_BYTES {
        return Err(ERR_MAC_LEN);
    }
    if b.src_addr_type != 0 || b.mac_addr_type != 0 {
        return Err(ERR_ADDR_TYPE);
    }
    check_len(b.a_len)?;
    let iv = if b.a_alg == A_ALG_AES_GMAC {
        if b.a_iv == 0 {
            return Err(ERR_IV);
        }
        let mut iv = [0u8; GMAC_IV_BYTES];
        mem.read_at(b.a_iv, &mut iv).map_err(|e| fault("auth IV", e))?;
        iv
    } else {
        [0u8; GMAC_IV_BYTES]
    };
    let key = read_key(mem, b.a_key, key_len)?;
    let src = b
        .src
        .checked_add(b.auth_src_offset as u64)
        .ok_or(ERR_ADDR_FAULT)?;
    let mut data = vec![0u8; b.a_len as usize];
    mem.read_at(src, &mut data).map_err(|e| fault("auth source", e))?;
    let full: [u8; AES_MAC_BYTES] = match (b.a_alg, key_len) {
        (A_ALG_AES_CMAC, 16) => cmac_of::<aes::Aes128>(&key, &data)?,
        (A_ALG_AES_CMAC, 24) => cmac_of::<aes::Aes192>(&key, &data)?,
        (A_ALG_AES_CMAC, _) => cmac_of::<aes::Aes256>(&key, &data)?,
        (_, 16) => gmac_of::<aes::Aes128>(&key, &iv, &data)?,
        (_, 24) => gmac_of::<aes::Aes192>(&key, &iv, &data)?,
        (_, _) => gmac_of::<aes::Aes256>(&key, &iv, &data)?,
    };
    finish(b, mem, &full[..mac_len])
}

/// Writes (calculate) or compares (verify) the MAC.
fn finish(b: &Bd, mem: &mut ClientMem, mac: &[u8]) -> Result<Done, u8> {
    let icv = if b.auth == bd::auth::VERIFY {
        let mut expect = vec![0u8; mac.len()];
        mem.read_at(b.mac, &mut expect).map_err(|e| fault("MAC", e))?;
        if bool::from(expect.ct_eq(mac)) {
            ICV_PASS
        } else {
            ICV_FAIL
        }
    } else {
        mem.write_at(b.mac, mac).map_err(|e| fault("MAC", e))?;
        0
    };
    Ok(Done {
        bytes: b.a_len as u64,
        icv,
        flag: FLAG_DIGEST,
    })
}

/// AES MAC output size.
const AES_MAC_BYTES: usize = 16;
/// GMAC IV size.
const GMAC_IV_BYTES: usize = 12;

fn cmac_of<C>(key: &[u8], data: &[u8]) -> Result<[u8; AES_MAC_BYTES], u8>
where
    C: cipher::BlockCipher
        + cipher::BlockEncrypt
        + cipher::BlockSizeUser<BlockSize = cipher::consts::U16>
        + KeyInit
        + Clone,
    cmac::Cmac<C>: Mac + KeyInit,
{
    let mut m = <cmac::Cmac<C> as KeyInit>::new_from_slice(key).map_err(|_| ERR_KEY_LEN)?;
    Mac::update(&mut m, data);
    let mut out = [0u8; AES_MAC_BYTES];
    out.copy_from_slice(&m.finalize().into_bytes());
    Ok(out)
}

fn gmac_of<C>(key: &[u8], iv: &[u8; GMAC_IV_BYTES], data: &[u8]) -> Result<[u8; AES_MAC_BYTES], u8>
where
    C: cipher::BlockCipher
        + cipher::BlockEncrypt
        + cipher::BlockSizeUser<BlockSize = cipher::consts::U16>
        + KeyInit,
{
    use aes_gcm::aead::AeadInPlace;
    let g =
        <aes_gcm::AesGcm<C, cipher::consts::U12> as KeyInit>::new_from_slice(key).map_err(|_| ERR_KEY_LEN)?;
    let tag = g
        .encrypt_in_place_detached(aes_gcm::Nonce::from_slice(iv), data, &mut [])
        .map_err(|_| super::ERR_LENGTH)?;
    let mut out = [0u8; AES_MAC_BYTES];
    out.copy_from_slice(&tag);
    Ok(out)
}
