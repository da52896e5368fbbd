//! Cipher-only BDs (cipher direction 1/2, no auth): AES and SM4 in ECB, CBC, CTR and XTS
//! (both formats) and CFB-128, OFB and CBC-CS1/2/3 (BD3 only: BD2 has no such mode codes);
//! DES and 3DES (two or three keys) in ECB and CBC (8-byte blocks and IV).
//!
//! Code tables (reference §7.3 "Code tables"): cipher alg DES 0, 3DES 1, AES 2, SM4 3; mode
//! ECB 0, CBC 1, CFB 2, OFB 3, CTR 4, CCM 5, GCM 6, XTS 7, CBC_CS 9; key length code AES-128 0,
//! AES-192 1, AES-256 2, SM4 0, DES 1, 3DES-3key 1, 3DES-2key 3. For XTS the code gives the
//! size of *one* of the two keys; the key buffer holds both (data key, then tweak key).
//! AES-XTS with 192-bit keys is rejected (the kernel driver falls back to software for it).

use cipher::generic_array::GenericArray;
use cipher::typenum::{U16, U8};
use cipher::{
    BlockCipher, BlockDecrypt, BlockDecryptMut, BlockEncrypt, BlockEncryptMut, BlockSizeUser, KeyInit,
    KeyIvInit, StreamCipher,
};
use zeroize::Zeroizing;

use super::bd::{self, Bd};
use super::{check_len, fault, Done, ERR_ADDR_TYPE, ERR_ALG, ERR_IV, ERR_KEY_LEN, ERR_LENGTH};
use super::{ERR_UNSUPPORTED, FLAG_CIPHER};
use crate::memory::ClientMem;

/// Cipher algorithm code DES.
pub const C_ALG_DES: u8 = 0x0;
/// Cipher algorithm code 3DES.
pub const C_ALG_3DES: u8 = 0x1;
/// Cipher algorithm code AES.
pub const C_ALG_AES: u8 = 0x2;
/// Cipher algorithm code SM4.
pub const C_ALG_SM4: u8 = 0x3;

/// Cipher mode code ECB.
pub const C_MODE_ECB: u8 = 0x0;
/// Cipher mode code CBC.
pub const C_MODE_CBC: u8 = 0x1;
/// Cipher mode code CFB (BD3 only).
pub const C_MODE_CFB: u8 = 0x2;
/// Cipher mode code OFB (BD3 only).
pub const C_MODE_OFB: u8 = 0x3;
/// Cipher mode code CTR.
pub const C_MODE_CTR: u8 = 0x4;
/// Cipher mode code CCM.
pub const C_MODE_CCM: u8 = 0x5;
/// Cipher mode code GCM.
pub const C_MODE_GCM: u8 = 0x6;
/// Cipher mode code XTS.
pub const C_MODE_XTS: u8 = 0x7;
/// Cipher mode code CBC with ciphertext stealing (BD3 only; width selects CS1/2/3).
pub const C_MODE_CBC_CS: u8 = 0x9;

/// CBC-CS width code: CS1 (NIST SP 800-38A addendum).
pub const CBC_CS1: u8 = 1;
/// CBC-CS width code: CS2.
pub const CBC_CS2: u8 = 2;
/// CBC-CS width code: CS3 (Kerberos, Linux `cts(cbc(..))`).
pub const CBC_CS3: u8 = 3;

/// Key length code: AES-128 (also SM4).
pub const CKEY_LEN_128BIT: u8 = 0x0;
/// Key length code: AES-192 (also DES, 3DES with three keys).
pub const CKEY_LEN_192BIT: u8 = 0x1;
/// Key length code: AES-256.
pub const CKEY_LEN_256BIT: u8 = 0x2;
/// Key length code: 3DES with two keys.
pub const CKEY_LEN_3DES_2KEY: u8 = 0x3;

/// AES/SM4 block and IV size.
pub const BLOCK: usize = 16;
/// DES/3DES block and IV size.
pub const DES_BLOCK: usize = 8;

/// True if the BD's mode code exists in its BD format (whatever the direction/auth).
pub fn is_known_mode(b: &Bd) -> bool {
    match b.c_mode {
        C_MODE_ECB | C_MODE_CBC | C_MODE_CTR | C_MODE_XTS | C_MODE_CCM | C_MODE_GCM => true,
        C_MODE_CFB | C_MODE_OFB | C_MODE_CBC_CS => b.bd_type == bd::BD_TYPE3,
        _ => false,
    }
}

/// The block cipher selected by the algorithm and key length code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Alg {
    Aes128,
    Aes192,
    Aes256,
    Sm4,
    Des,
    Tdes2,
    Tdes3,
}

impl Alg {
    pub(crate) fn key_len(self) -> usize {
        match self {
            Alg::Aes128 | Alg::Sm4 => 16,
            Alg::Aes192 => 24,
            Alg::Aes256 => 32,
            Alg::Des => 8,
            Alg::Tdes2 => 16,
            Alg::Tdes3 => 24,
        }
    }

    /// Block (and IV) size in bytes.
    pub(crate) fn block(self) -> usize {
        match self {
            Alg::Des | Alg::Tdes2 | Alg::Tdes3 => DES_BLOCK,
            _ => BLOCK,
        }
    }
}

/// Validates the cipher algorithm code and key length code (for `mode`).
pub(crate) fn select_alg(c_alg: u8, key_code: u8, mode: u8) -> Result<Alg, u8> {
    let alg = match (c_alg, key_code) {
        (C_ALG_AES, CKEY_LEN_128BIT) => Alg::Aes128,
        (C_ALG_AES, CKEY_LEN_192BIT) => Alg::Aes192,
        (C_ALG_AES, CKEY_LEN_256BIT) => Alg::Aes256,
        (C_ALG_AES, _) => return Err(ERR_KEY_LEN),
        (C_ALG_SM4, CKEY_LEN_128BIT) => Alg::Sm4,
        (C_ALG_SM4, _) => return Err(ERR_KEY_LEN),
        (C_ALG_DES, CKEY_LEN_192BIT) => Alg::Des,
        (C_ALG_3DES, CKEY_LEN_192BIT) => Alg::Tdes3,
        (C_ALG_3DES, CKEY_LEN_3DES_2KEY) => Alg::Tdes2,
        (C_ALG_DES | C_ALG_3DES, _) => return Err(ERR_KEY_LEN),
        _ => return Err(ERR_ALG),
    };
    if mode == C_MODE_XTS && alg == Alg::Aes192 {
        return Err(ERR_KEY_LEN);
    }
    Ok(alg)
}

/// Reads a key; the buffer is zeroed when dropped. Keys are never logged.
pub(crate) fn read_key(mem: &mut ClientMem, addr: u64, len: usize) -> Result<Zeroizing<Vec<u8>>, u8> {
    let mut k = Zeroizing::new(vec![0u8; len]);
    mem.read_at(addr, &mut k).map_err(|e| fault("key", e))?;
    Ok(k)
}

/// Reads a 16-byte IV; address 0 is [`ERR_IV`].
pub(crate) fn read_iv(mem: &mut ClientMem, addr: u64) -> Result<[u8; BLOCK], u8> {
    read_iv_n(mem, addr, BLOCK)
}

/// Reads an IV of `n` ≤ 16 bytes into the front of a 16-byte block.
fn read_iv_n(mem: &mut ClientMem, addr: u64, n: usize) -> Result<[u8; BLOCK], u8> {
    if addr == 0 {
        return Err(ERR_IV);
    }
    let mut iv = [0u8; BLOCK];
    mem.read_at(addr, &mut iv[..n]).map_err(|e| fault("IV", e))?;
    Ok(iv)
}

/// Executes a cipher-only BD.
pub fn run(b: &Bd, mem: &mut ClientMem) -> Result<Done, u8> {
    let mode = b.c_mode;
    match mode {
        C_MODE_ECB | C_MODE_CBC | C_MODE_CTR | C_MODE_XTS => {}
        // GCM/CCM need the auth part of the BD.
        C_MODE_CCM | C_MODE_GCM => return Err(ERR_ALG),
        C_MODE_CFB | C_MODE_OFB if b.bd_type == bd::BD_TYPE3 => {}
        C_MODE_CBC_CS if b.bd_type == bd::BD_TYPE3 => {
            if !(CBC_CS1..=CBC_CS3).contains(&b.c_width) {
                return Err(ERR_ALG);
            }
        }
        _ => return Err(ERR_ALG),
    }
    let alg = select_alg(b.c_alg, b.c_key_len, mode)?;
    let block = alg.block();
    if block == DES_BLOCK && !matches!(mode, C_MODE_ECB | C_MODE_CBC) {
        return Err(ERR_ALG);
    }
    if b.de != 1 || b.src_addr_type != 0 || b.dst_addr_type != 0 {
        return Err(ERR_ADDR_TYPE);
    }
    check_len(b.c_len)?;
    let len = b.c_len as usize;
    match mode {
        C_MODE_ECB | C_MODE_CBC if !len.is_multiple_of(block) => return Err(ERR_LENGTH),
        C_MODE_XTS | C_MODE_CBC_CS if len < BLOCK => return Err(ERR_LENGTH),
        _ => {}
    }
    if mode == C_MODE_XTS && b.ctr_xts_mode != 0 {
        // SM4-XTS GB/T 17964 variant (BD3 bits 26:25): not modelled.
        return Err(ERR_UNSUPPORTED);
    }
    let iv = if mode == C_MODE_ECB {
        [0u8; BLOCK]
    } else {
        read_iv_n(mem, b.c_iv, block)?
    };
    let key_len = alg.key_len() * if mode == C_MODE_XTS { 2 } else { 1 };
    let key = read_key(mem, b.c_key, key_len)?;
    let off = b.cipher_src_offset as u64;
    let mut data = Zeroizing::new(vec![0u8; len]);
    let src = b.src.checked_add(off).ok_or(super::ERR_ADDR_FAULT)?;
    let dst = b.dst.checked_add(off).ok_or(super::ERR_ADDR_FAULT)?;
    mem.read_at(src, &mut data)
        .map_err(|e| fault("cipher source", e))?;
    let enc = b.cipher_dir == bd::dir::ENCRYPT;
    match alg {
        Alg::Aes128 => transform::<aes::Aes128>(mode, b.c_width, enc, &key, &iv, &mut data),
        Alg::Aes192 => transform::<aes::Aes192>(mode, b.c_width, enc, &key, &iv, &mut data),
        Alg::Aes256 => transform::<aes::Aes256>(mode, b.c_width, enc, &key, &iv, &mut data),
        Alg::Sm4 => transform::<sm4::Sm4>(mode, b.c_width, enc, &key, &iv, &mut data),
        Alg::Des => transform64::<des::Des>(mode, enc, &key, &iv, &mut data),
        Alg::Tdes2 => transform64::<des::TdesEde2>(mode, enc, &key, &iv, &mut data),
        Alg::Tdes3 => transform64::<des::TdesEde3>(mode, enc, &key, &iv, &mut data),
    }?;
    mem.write_at(dst, &data)
        .map_err(|e| fault("cipher destination", e))?;
    Ok(Done {
        bytes: len as u64,
        icv: 0,
        flag: FLAG_CIPHER,
    })
}

/// Runs one mode over `data` in place. Lengths were validated by the caller; crate errors
/// (which would mean a key of the wrong size) map to [`ERR_KEY_LEN`] rather than a panic.
fn transform<C>(
    mode: u8,
    width: u8,
    enc: bool,
    key: &[u8],
    iv: &[u8; BLOCK],
    data: &mut [u8],
) -> Result<(), u8>
where
    C: BlockCipher + BlockEncrypt + BlockDecrypt + KeyInit + BlockSizeUser<BlockSize = U16>,
{
    match mode {
        C_MODE_ECB | C_MODE_CBC => ecb_cbc::<C>(mode, enc, key, iv, data)?,
        C_MODE_CTR => {
            let mut c = ctr::Ctr128BE::<C>::new_from_slices(key, iv).map_err(|_| ERR_KEY_LEN)?;
            c.try_apply_keystream(data).map_err(|_| ERR_LENGTH)?;
        }
        C_MODE_CBC_CS => {
            let c = C::new_from_slice(key).map_err(|_| ERR_KEY_LEN)?;
            cbc_cs(&c, width, enc, iv, data)?;
        }
        C_MODE_CFB => {
            if enc {
                cfb_mode::BufEncryptor::<C>::new_from_slices(key, iv)
                    .map_err(|_| ERR_KEY_LEN)?
                    .encrypt(data);
            } else {
                cfb_mode::BufDecryptor::<C>::new_from_slices(key, iv)
                    .map_err(|_| ERR_KEY_LEN)?
                    .decrypt(data);
            }
        }
        C_MODE_OFB => {
            let mut c = ofb::Ofb::<C>::new_from_slices(key, iv).map_err(|_| ERR_KEY_LEN)?;
            c.try_apply_keystream(data).map_err(|_| ERR_LENGTH)?;
        }
        C_MODE_XTS => {
            let half = key.len() / 2;
            let k1 = C::new_from_slice(&key[..half]).map_err(|_| ERR_KEY_LEN)?;
            let k2 = C::new_from_slice(&key[half..]).map_err(|_| ERR_KEY_LEN)?;
            let x = xts_mode::Xts128::new(k1, k2);
            if data.len() < BLOCK {
                return Err(ERR_LENGTH);
            }
            if enc {
                x.encrypt_sector(data, *iv)
            } else {
                x.decrypt_sector(data, *iv)
            }
        }
        _ => return Err(ERR_ALG),
    }
    Ok(())
}

/// ECB/CBC over a 64-bit block cipher (DES, 3DES); the IV is the first 8 bytes of `iv`.
fn transform64<C>(mode: u8, enc: bool, key: &[u8], iv: &[u8; BLOCK], data: &mut [u8]) -> Result<(), u8>
where
    C: BlockCipher + BlockEncrypt + BlockDecrypt + KeyInit + BlockSizeUser<BlockSize = U8>,
{
    let iv = &iv[..DES_BLOCK];
    match mode {
        C_MODE_ECB | C_MODE_CBC => ecb_cbc::<C>(mode, enc, key, iv, data)?,
        _ => return Err(ERR_ALG),
    }
    Ok(())
}

/// ECB or CBC over whole blocks of any block cipher; `iv` is one block (ignored by ECB).
/// Callers have checked that `data` is a multiple of the block size.
fn ecb_cbc<C>(mode: u8, enc: bool, key: &[u8], iv: &[u8], data: &mut [u8]) -> Result<(), u8>
where
    C: BlockCipher + BlockEncrypt + BlockDecrypt + KeyInit,
{
    let block = C::block_size();
    let blocks = data.chunks_exact_mut(block).map(GenericArray::from_mut_slice);
    match (mode, enc) {
        (C_MODE_ECB, _) => {
            let c = C::new_from_slice(key).map_err(|_| ERR_KEY_LEN)?;
            for blk in blocks {
                if enc {
                    c.encrypt_block(blk)
                } else {
                    c.decrypt_block(blk)
                }
            }
        }
        (_, true) => {
            let mut c = cbc::Encryptor::<C>::new_from_slices(key, iv).map_err(|_| ERR_KEY_LEN)?;
            blocks.for_each(|blk| c.encrypt_block_mut(blk));
        }
        (_, false) => {
            let mut c = cbc::Decryptor::<C>::new_from_slices(key, iv).map_err(|_| ERR_KEY_LEN)?;
            blocks.for_each(|blk| c.decrypt_block_mut(blk));
        }
    }
    Ok(())
}

/// CBC with ciphertext stealing (NIST SP 800-38A addendum), `data.len()` ≥ 16. CS1 keeps the
/// partial penultimate block in place, CS3 always swaps the last two blocks, CS2 swaps them
/// only when the last block is partial.
fn cbc_cs<C>(c: &C, width: u8, enc: bool, iv: &[u8; BLOCK], data: &mut [u8]) -> Result<(), u8>
where
    C: BlockEncrypt + BlockDecrypt + BlockSizeUser<BlockSize = U16>,
{
    let n = data.len();
    if n < BLOCK {
        return Err(ERR_LENGTH);
    }
    // d = bytes in the last (possibly partial) block; full = blocks before the last two.
    let d = if n.is_multiple_of(BLOCK) { BLOCK } else { n % BLOCK };
    let swap = width == CBC_CS3 || (width == CBC_CS2 && d != BLOCK);
    let m = n.div_ceil(BLOCK);
    if m == 1 {
        let mut b = [0u8; BLOCK];
        b.copy_from_slice(data);
        cbc_block(c, enc, iv, &mut b);
        data.copy_from_slice(&b);
        return Ok(());
    }
    let head = (m - 2) * BLOCK;
    let mut chain = *iv;
    // Plain CBC over the first m-2 blocks.
    for blk in data[..head].chunks_exact_mut(BLOCK) {
        let mut b = [0u8; BLOCK];
        b.copy_from_slice(blk);
        if enc {
            cbc_block(c, true, &chain, &mut b);
            chain = b;
        } else {
            let ct = b;
            cbc_block(c, false, &chain, &mut b);
            chain = ct;
        }
        blk.copy_from_slice(&b);
    }
    let tail = &mut data[head..];
    if enc {
        // Full CBC of P_{m-1} and the zero-padded P_m.
        let mut c1 = [0u8; BLOCK];
        c1.copy_from_slice(&tail[..BLOCK]);
        cbc_block(c, true, &chain, &mut c1);
        let mut c2 = [0u8; BLOCK];
        c2[..d].copy_from_slice(&tail[BLOCK..]);
        cbc_block(c, true, &c1, &mut c2);
        if swap {
            tail[..BLOCK].copy_from_slice(&c2);
            tail[BLOCK..].copy_from_slice(&c1[..d]);
        } else {
            tail[..d].copy_from_slice(&c1[..d]);
            tail[d..].copy_from_slice(&c2);
        }
    } else {
        let (mut c1_part, mut c2) = ([0u8; BLOCK], [0u8; BLOCK]);
        if swap {
            c2.copy_from_slice(&tail[..BLOCK]);
            c1_part[..d].copy_from_slice(&tail[BLOCK..]);
        } else {
            c1_part[..d].copy_from_slice(&tail[..d]);
            c2.copy_from_slice(&tail[d..]);
        }
        // Dec(C_m) = C_{m-1} XOR (P_m || 0): it supplies the stolen tail of C_{m-1}.
        let mut x = c2;
        c.decrypt_block(GenericArray::from_mut_slice(&mut x));
        let mut c1 = c1_part;
        c1[d..].copy_from_slice(&x[d..]);
        let mut pm = [0u8; BLOCK];
        for i in 0..d {
            pm[i] = x[i] ^ c1[i];
        }
        let mut p1 = c1;
        cbc_block(c, false, &chain, &mut p1);
        tail[..BLOCK].copy_from_slice(&p1);
        tail[BLOCK..].copy_from_slice(&pm[..d]);
    }
    Ok(())
}

/// One CBC step: encrypt `b ^ chain`, or decrypt `b` and xor `chain`.
fn cbc_block<C>(c: &C, enc: bool, chain: &[u8; BLOCK], b: &mut [u8; BLOCK])
where
    C: BlockEncrypt + BlockDecrypt + BlockSizeUser<BlockSize = U16>,
{
    if enc {
        b.iter_mut().zip(chain).for_each(|(x, k)| *x ^= k);
        c.encrypt_block(GenericArray::from_mut_slice(b));
    } else {
        c.decrypt_block(GenericArray::from_mut_slice(b));
        b.iter_mut().zip(chain).for_each(|(x, k)| *x ^= k);
    }
}
