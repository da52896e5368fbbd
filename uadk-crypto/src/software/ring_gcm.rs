//! ring: AES-128-GCM and AES-256-GCM. ring 0.17.14 carries BoringSSL's VAES + VPCLMULQDQ
//! AVX2 GCM kernel, the only one among the candidates that a CPU with VAES but without
//! AVX-512 (AMD Zen 3) can run; aws-lc-rs ships only the AVX-512 variant and there falls
//! back to the same AES-NI code as OpenSSL 3.0 (see `select.rs` for the figures).
//!
//! ring works in place and always computes 16-byte tags: out-of-place requests copy
//! first, shorter tags are sealed by truncation and opened through OpenSSL
//! ([`ShortTagOpener`]).

use ring::aead::{Aad, LessSafeKey, Nonce, Tag, UnboundKey, AES_128_GCM, AES_256_GCM};

use super::openssl::ShortTagOpener;
use super::AeadEngine;
use crate::alg::{AeadAlg, BlockCipher};
use crate::error::{Error, Result};

pub(crate) struct RingGcm {
    key: LessSafeKey,
    alg: AeadAlg,
    short_tag: ShortTagOpener,
}

/// Whether ring has `alg` (AES-192 is missing from ring).
pub(crate) fn has(alg: AeadAlg) -> bool {
    matches!(alg.block, BlockCipher::Aes128 | BlockCipher::Aes256)
}

impl RingGcm {
    pub(crate) fn new(alg: AeadAlg, key: &[u8], tag_len: usize) -> Result<RingGcm> {
        let algorithm = match alg.block {
            BlockCipher::Aes128 => &AES_128_GCM,
            BlockCipher::Aes256 => &AES_256_GCM,
            _ => return Err(Error::provider(alg.name(), "ring has no such GCM")),
        };
        let unbound = UnboundKey::new(algorithm, key).map_err(|e| Error::provider(alg.name(), e))?;
        Ok(RingGcm {
            key: LessSafeKey::new(unbound),
            alg,
            short_tag: ShortTagOpener::new(alg, key, tag_len),
        })
    }

    fn nonce(&self, nonce: &[u8]) -> Result<Nonce> {
        Nonce::try_assume_unique_for_key(nonce).map_err(|e| Error::provider(self.alg.name(), e))
    }
}

impl AeadEngine for RingGcm {
    fn seal_in_place(&mut self, nonce: &[u8], aad: &[u8], buf: &mut [u8], tag: &mut [u8]) -> Result<()> {
        let full = self
            .key
            .seal_in_place_separate_tag(self.nonce(nonce)?, Aad::from(aad), buf)
            .map_err(|e| Error::provider(self.alg.name(), e))?;
        tag.copy_from_slice(&full.as_ref()[..tag.len()]);
        Ok(())
    }

    fn open_in_place(&mut self, nonce: &[u8], aad: &[u8], buf: &mut [u8], tag: &[u8]) -> Result<bool> {
        if tag.len() != 16 {
            return self.short_tag.get()?.open_in_place(nonce, aad, buf, tag);
        }
        let n = self.nonce(nonce)?;
        let tag: [u8; 16] = tag.try_into().expect("length checked above");
        Ok(self
            .key
            .open_in_place_separate_tag(n, Aad::from(aad), Tag::from(tag), buf, 0..)
            .is_ok())
    }
}
