//! AEAD BDs: cipher direction 1/2 with auth 1 (encrypt + compute tag) / 2 (decrypt + verify
//! tag) and cipher mode GCM or CCM.
//!
//! Model (the reference gives the fields, not the AEAD data layout; this follows UADK's use
//! of them):
//!
//! - AAD: `a_len` bytes at `src + auth_src_offset` (may be 0). It is authenticated, not
//!   copied to the destination.
//! - Payload: `c_len` bytes (≥ 1) at `src + cipher_src_offset`, result written to
//!   `dst + cipher_src_offset`. On decryption the plaintext is written only if the tag
//!   verifies; otherwise the BD completes with `error_type` 0 and ICV result
//!   [`ICV_FAIL`] and the destination is untouched.
//! - Tag: `mac len` words at `mac_addr` (written on encrypt, read on decrypt).
//! - GCM: AES-128/192/256 or SM4, 12-byte nonce = the first 12 bytes of the 16-byte block at
//!   `c_ivin_addr` (J0 = nonce ‖ 0³¹ ‖ 1 is formed by the device; the last 4 bytes are
//!   ignored); tag 12 or 16 bytes (mac len is in words; shorter → [`ERR_MAC_LEN`]).
//! - CCM (RFC 3610 / SP 800-38C): AES-128/192/256 or SM4. The 16-byte block at `c_ivin_addr` is
//!   in the Linux crypto API CCM IV format: byte 0 = L − 1 with L the length-field size
//!   (2..=8), bytes 1..16−L the nonce (7..=13 bytes), the rest ignored. The device forms B0
//!   and the counter blocks itself; `a_ivin_addr` is ignored. Tag 4, 8, 12 or 16 bytes.
//!   Byte 0 outside 1..=7 → [`ERR_IV`]; a payload that does not fit in L bytes →
//!   [`ERR_LENGTH`].
//! - SM4-GCM and SM4-CCM: as for AES, with SM4 as the block cipher (RFC 8998).

use aes_gcm::aead::consts::{U12, U13, U14, U15, U16};
use aes_gcm::aead::AeadInPlace;
use aes_gcm::{AesGcm, KeyInit, Nonce, Tag, TagSize};
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use super::bd::{self, Bd};
use super::cipher::{read_iv, read_key, select_alg, Alg, BLOCK, C_MODE_CCM, C_MODE_GCM};
use super::{check_len, fault, Done, ERR_ADDR_FAULT, ERR_ADDR_TYPE, ERR_ALG, ERR_IV, ERR_KEY_LEN};
use super::{ERR_LENGTH, ERR_MAC_LEN, ERR_UNSUPPORTED, FLAG_AEAD, ICV_FAIL, ICV_PASS, MAX_LEN};
use crate::memory::ClientMem;

/// GCM nonce size taken from the IV block.
pub const GCM_NONCE: usize = 12;
/// Smallest GCM tag modelled.
pub const GCM_MIN_TAG: usize = 12;
/// Smallest CCM tag the BD can express (one word).
pub const CCM_MIN_TAG: usize = 4;
/// CCM length-field size limits (L), giving nonces of 13..=7 bytes.
pub const CCM_MIN_L: usize = 2;
/// See [`CCM_MIN_L`].
pub const CCM_MAX_L: usize = 8;
/// Largest AEAD tag.
pub const MAX_TAG: usize = 16;

/// True for the cipher modes that make a cipher+auth BD an AEAD BD.
pub fn is_aead_mode(mode: u8) -> bool {
    mode == C_MODE_GCM || mode == C_MODE_CCM
}

/// Executes an AEAD BD.
pub fn run(b: &Bd, mem: &mut ClientMem) -> Result<Done, u8> {
    let alg = select_alg(b.c_alg, b.c_key_len, b.c_mode)?;
    if alg.block() != BLOCK {
        // GCM/CCM are defined for 128-bit block ciphers only.
        return Err(ERR_ALG);
    }
    if b.key_source != 0 {
        return Err(ERR_UNSUPPORTED);
    }
    let tag_len = b.mac_words as usize * 4;
    let ccm = b.c_mode == C_MODE_CCM;
    let min_tag = if ccm { CCM_MIN_TAG } else { GCM_MIN_TAG };
    if !(min_tag..=MAX_TAG).contains(&tag_len) {
        return Err(ERR_MAC_LEN);
    }
    if b.de != 1 || b.src_addr_type != 0 || b.dst_addr_type != 0 || b.mac_addr_type != 0 {
        return Err(ERR_ADDR_TYPE);
    }
    check_len(b.c_len)?;
    if b.a_len > MAX_LEN {
        return Err(ERR_LENGTH);
    }
    let iv = read_iv(mem, b.c_iv)?;
    if ccm {
        let l = iv[0] as usize + 1;
        if !(CCM_MIN_L..=CCM_MAX_L).contains(&l) {
            return Err(ERR_IV);
        }
        if l < 8 && (b.c_len as u64) >> (8 * l) != 0 {
            return Err(ERR_LENGTH);
        }
    }
    let key = read_key(mem, b.c_key, alg.key_len())?;
    let mut aad = vec![0u8; b.a_len as usize];
    if !aad.is_empty() {
        let a = b
            .src
            .checked_add(b.auth_src_offset as u64)
            .ok_or(ERR_ADDR_FAULT)?;
        mem.read_at(a, &mut aad).map_err(|e| fault("AAD", e))?;
    }
    let src = b
        .src
        .checked_add(b.cipher_src_offset as u64)
        .ok_or(ERR_ADDR_FAULT)?;
    let dst = b
        .dst
        .checked_add(b.cipher_src_offset as u64)
        .ok_or(ERR_ADDR_FAULT)?;
    let mut data = Zeroizing::new(vec![0u8; b.c_len as usize]);
    mem.read_at(src, &mut data)
        .map_err(|e| fault("cipher source", e))?;
    let mut tag = [0u8; MAX_TAG];
    let enc = b.cipher_dir == bd::dir::ENCRYPT;
    if !enc {
        mem.read_at(b.mac, &mut tag[..tag_len])
            .map_err(|e| fault("MAC", e))?;
    }
    let ok = if ccm {
        match alg {
            Alg::Aes128 => ccm_op::<aes::Aes128>(&key, &iv, &aad, &mut data, &mut tag, tag_len, enc),
            Alg::Aes192 => ccm_op::<aes::Aes192>(&key, &iv, &aad, &mut data, &mut tag, tag_len, enc),
            Alg::Aes256 => ccm_op::<aes::Aes256>(&key, &iv, &aad, &mut data, &mut tag, tag_len, enc),
            Alg::Sm4 => ccm_op::<sm4::Sm4>(&key, &iv, &aad, &mut data, &mut tag, tag_len, enc),
            Alg::Des | Alg::Tdes2 | Alg::Tdes3 => return Err(ERR_ALG),
        }?
    } else {
        let nonce = &iv[..GCM_NONCE];
        match alg {
            Alg::Aes128 => gcm_any_tag::<aes::Aes128>(&key, nonce, &aad, &mut data, &mut tag, tag_len, enc),
            Alg::Aes192 => gcm_any_tag::<aes::Aes192>(&key, nonce, &aad, &mut data, &mut tag, tag_len, enc),
            Alg::Aes256 => gcm_any_tag::<aes::Aes256>(&key, nonce, &aad, &mut data, &mut tag, tag_len, enc),
            Alg::Sm4 => gcm_any_tag::<sm4::Sm4>(&key, nonce, &aad, &mut data, &mut tag, tag_len, enc),
            Alg::Des | Alg::Tdes2 | Alg::Tdes3 => return Err(ERR_ALG),
        }?
    };
    let icv = if enc {
        mem.write_at(b.mac, &tag[..tag_len])
            .map_err(|e| fault("MAC", e))?;
        0
    } else if ok {
        ICV_PASS
    } else {
        ICV_FAIL
    };
    if ok {
        mem.write_at(dst, &data)
            .map_err(|e| fault("cipher destination", e))?;
    }
    Ok(Done {
        bytes: b.c_len as u64,
        icv,
        flag: FLAG_AEAD,
    })
}

#[allow(clippy::too_many_arguments)]
fn gcm_any_tag<A>(
    key: &[u8],
    nonce: &[u8],
    aad: &[u8],
    data: &mut [u8],
    tag: &mut [u8; MAX_TAG],
    tag_len: usize,
    enc: bool,
) -> Result<bool, u8>
where
    A: cipher::BlockCipher + cipher::BlockEncrypt + cipher::BlockSizeUser<BlockSize = U16> + KeyInit,
{
    match tag_len {
        12 => gcm::<A, U12>(key, nonce, aad, data, tag, enc),
        13 => gcm::<A, U13>(key, nonce, aad, data, tag, enc),
        14 => gcm::<A, U14>(key, nonce, aad, data, tag, enc),
        15 => gcm::<A, U15>(key, nonce, aad, data, tag, enc),
        16 => gcm::<A, U16>(key, nonce, aad, data, tag, enc),
        _ => Err(ERR_MAC_LEN),
    }
}

/// One GCM operation; on decryption returns whether the tag verified (data is then
/// plaintext only if it did).
fn gcm<A, T>(
    key: &[u8],
    nonce: &[u8],
    aad: &[u8],
    data: &mut [u8],
    tag: &mut [u8; MAX_TAG],
    enc: bool,
) -> Result<bool, u8>
where
    A: cipher::BlockCipher + cipher::BlockEncrypt + cipher::BlockSizeUser<BlockSize = U16> + KeyInit,
    T: TagSize,
{
    let c = AesGcm::<A, U12, T>::new_from_slice(key).map_err(|_| ERR_KEY_LEN)?;
    let n = Nonce::<U12>::from_slice(nonce);
    let t_len = T::to_usize();
    if enc {
        let t = c
            .encrypt_in_place_detached(n, aad, data)
            .map_err(|_| ERR_LENGTH)?;
        tag[..t_len].copy_from_slice(&t);
        Ok(true)
    } else {
        let expect = Tag::<T>::clone_from_slice(&tag[..t_len]);
        match c.decrypt_in_place_detached(n, aad, data, &expect) {
            Ok(()) => Ok(true),
            Err(_) => {
                // The crate compares in constant time; wipe whatever it left in the buffer.
                data.iter_mut().for_each(|b| *b = 0);
                Ok(false)
            }
        }
    }
}

/// One CCM operation (RFC 3610) over the block cipher `C`: CBC-MAC over B0, the encoded AAD
/// and the plaintext, CTR encryption with counter blocks A1…, tag = MAC ⊕ E(A0). `iv` holds
/// L − 1 and the nonce (validated by the caller). On decryption returns whether the tag
/// verified; the buffer holds plaintext only if it did.
#[allow(clippy::too_many_arguments)]
fn ccm_op<C>(
    key: &[u8],
    iv: &[u8; 16],
    aad: &[u8],
    data: &mut [u8],
    tag: &mut [u8; MAX_TAG],
    tag_len: usize,
    enc: bool,
) -> Result<bool, u8>
where
    C: cipher::BlockEncrypt + cipher::BlockSizeUser<BlockSize = U16> + KeyInit,
{
    use cipher::generic_array::GenericArray;
    let c = C::new_from_slice(key).map_err(|_| ERR_KEY_LEN)?;
    let l = iv[0] as usize + 1;
    let nonce = &iv[1..16 - l];
    let e = |blk: &mut [u8; 16]| c.encrypt_block(GenericArray::from_mut_slice(blk));
    let ctr_block = |i: u64| {
        let mut a = [0u8; 16];
        a[0] = (l - 1) as u8;
        a[1..16 - l].copy_from_slice(nonce);
        let be = i.to_be_bytes();
        a[16 - l..].copy_from_slice(&be[8 - l..]);
        a
    };
    let ctr = |buf: &mut [u8]| {
        for (i, chunk) in buf.chunks_mut(16).enumerate() {
            let mut s = ctr_block(i as u64 + 1);
            e(&mut s);
            chunk.iter_mut().zip(s.iter()).for_each(|(d, k)| *d ^= k);
        }
    };
    if !enc {
        ctr(data);
    }
    // CBC-MAC.
    let mut x = [0u8; 16];
    let mut absorb = |bytes: &[u8]| {
        for chunk in bytes.chunks(16) {
            chunk.iter().enumerate().for_each(|(i, v)| x[i] ^= v);
            e(&mut x);
        }
    };
    let mut b0 = [0u8; 16];
    b0[0] = (((!aad.is_empty()) as u8) << 6) | ((((tag_len - 2) / 2) as u8) << 3) | (l - 1) as u8;
    b0[1..16 - l].copy_from_slice(nonce);
    let mlen = (data.len() as u64).to_be_bytes();
    b0[16 - l..].copy_from_slice(&mlen[8 - l..]);
    absorb(&b0);
    if !aad.is_empty() {
        let mut a = Vec::with_capacity(aad.len() + 6);
        if aad.len() < 0xff00 {
            a.extend_from_slice(&(aad.len() as u16).to_be_bytes());
        } else {
            a.extend_from_slice(&[0xff, 0xfe]);
            a.extend_from_slice(&(aad.len() as u32).to_be_bytes());
        }
        a.extend_from_slice(aad);
        absorb(&a);
    }
    absorb(data);
    let mut s0 = ctr_block(0);
    e(&mut s0);
    let mut t = [0u8; MAX_TAG];
    for i in 0..tag_len {
        t[i] = x[i] ^ s0[i];
    }
    if enc {
        ctr(data);
        tag[..tag_len].copy_from_slice(&t[..tag_len]);
        Ok(true)
    } else if bool::from(t[..tag_len].ct_eq(&tag[..tag_len])) {
        Ok(true)
    } else {
        data.iter_mut().for_each(|b| *b = 0);
        Ok(false)
    }
}
