//! aws-lc-rs (AWS-LC, a BoringSSL descendant): AES-128/192/256-GCM, and the SHA-1/SHA-2
//! digests as candidates.
//!
//! AWS-LC carries the AVX-512 VAES + VPCLMULQDQ GCM kernel (512-bit vectors): on CPUs with
//! AVX-512F/VL and VAES it is the fastest GCM measured (Intel Xeon, 16 KiB: 2.66x OpenSSL
//! 3.0, ring 1.79x). Without AVX-512 it runs the same AES-NI code as OpenSSL (AMD Zen 3:
//! 1.09x, ring 2.04x), so [`super::select`] takes it only where the CPU has those features.
//!
//! Like ring it works in place and computes 16-byte tags: out-of-place requests copy first,
//! shorter tags are sealed by truncation and opened through OpenSSL ([`ShortTagOpener`]).

use aws_lc_rs::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_128_GCM, AES_192_GCM, AES_256_GCM};
use aws_lc_rs::digest;

use super::openssl::ShortTagOpener;
use super::{AeadEngine, DigestEngine};
use crate::alg::{AeadAlg, AeadMode, BlockCipher, DigestAlg};
use crate::error::{Error, Result};

/// Whether aws-lc-rs has AEAD `alg` (AES-GCM at every key size).
pub(crate) fn has_aead(alg: AeadAlg) -> bool {
    alg.mode == AeadMode::Gcm && alg.block != BlockCipher::Sm4
}

/// Whether aws-lc-rs has digest `alg` (SHA-1 and SHA-2; no MD5 or SM3).
pub(crate) fn has_digest(alg: DigestAlg) -> bool {
    digest_alg(alg).is_some()
}

fn digest_alg(alg: DigestAlg) -> Option<&'static digest::Algorithm> {
    Some(match alg {
        DigestAlg::Sha1 => &digest::SHA1_FOR_LEGACY_USE_ONLY,
        DigestAlg::Sha224 => &digest::SHA224,
        DigestAlg::Sha256 => &digest::SHA256,
        DigestAlg::Sha384 => &digest::SHA384,
        DigestAlg::Sha512 => &digest::SHA512,
        DigestAlg::Md5 | DigestAlg::Sm3 => return None,
    })
}

/// AES-GCM through aws-lc-rs.
pub(crate) struct AwsGcm {
    key: LessSafeKey,
    alg: AeadAlg,
    short_tag: ShortTagOpener,
}

impl AwsGcm {
    pub(crate) fn new(alg: AeadAlg, key: &[u8], tag_len: usize) -> Result<AwsGcm> {
        let algorithm = match (alg.block, alg.mode) {
            (BlockCipher::Aes128, AeadMode::Gcm) => &AES_128_GCM,
            (BlockCipher::Aes192, AeadMode::Gcm) => &AES_192_GCM,
            (BlockCipher::Aes256, AeadMode::Gcm) => &AES_256_GCM,
            _ => return Err(Error::provider(alg.name(), "aws-lc-rs has no such AEAD here")),
        };
        let unbound = UnboundKey::new(algorithm, key).map_err(|e| Error::provider(alg.name(), e))?;
        Ok(AwsGcm {
            key: LessSafeKey::new(unbound),
            alg,
            short_tag: ShortTagOpener::new(alg, key, tag_len),
        })
    }

    fn nonce(&self, nonce: &[u8]) -> Result<Nonce> {
        Nonce::try_assume_unique_for_key(nonce).map_err(|e| Error::provider(self.alg.name(), e))
    }
}

impl AeadEngine for AwsGcm {
    fn seal_in_place(&mut self, nonce: &[u8], aad: &[u8], buf: &mut [u8], tag: &mut [u8]) -> Result<()> {
        let full = self
            .key
            .seal_in_place_separate_tag(self.nonce(nonce)?, Aad::from(aad), buf)
            .map_err(|e| Error::provider(self.alg.name(), e))?;
        tag.copy_from_slice(&full.as_ref()[..tag.len()]);
        Ok(())
    }

    fn open(
        &mut self,
        nonce: &[u8],
        aad: &[u8],
        input: &[u8],
        output: &mut [u8],
        tag: &[u8],
    ) -> Result<bool> {
        if tag.len() != 16 {
            return self.short_tag.get()?.open(nonce, aad, input, output, tag);
        }
        let n = self.nonce(nonce)?;
        Ok(self
            .key
            .open_separate_gather(n, Aad::from(aad), input, tag, output)
            .is_ok())
    }

    fn open_in_place(&mut self, nonce: &[u8], aad: &[u8], buf: &mut [u8], tag: &[u8]) -> Result<bool> {
        if tag.len() != 16 {
            return self.short_tag.get()?.open_in_place(nonce, aad, buf, tag);
        }
        let n = self.nonce(nonce)?;
        Ok(self
            .key
            .open_in_place_separate_tag(n, Aad::from(aad), tag, buf)
            .is_ok())
    }
}

/// A SHA-1/SHA-2 digest through aws-lc-rs.
pub(crate) struct AwsDigest {
    ctx: digest::Context,
}

impl AwsDigest {
    pub(crate) fn new(alg: DigestAlg) -> Result<AwsDigest> {
        let a = digest_alg(alg).ok_or_else(|| Error::provider(alg.name(), "aws-lc-rs has no such digest"))?;
        Ok(AwsDigest {
            ctx: digest::Context::new(a),
        })
    }
}

impl DigestEngine for AwsDigest {
    fn update(&mut self, data: &[u8]) -> Result<()> {
        self.ctx.update(data);
        Ok(())
    }

    fn finish(&mut self, out: &mut [u8]) -> Result<()> {
        let fresh = digest::Context::new(self.ctx.algorithm());
        let d = std::mem::replace(&mut self.ctx, fresh).finish();
        out.copy_from_slice(d.as_ref());
        Ok(())
    }

    fn box_clone(&self) -> Result<Box<dyn DigestEngine>> {
        Ok(Box::new(AwsDigest {
            ctx: self.ctx.clone(),
        }))
    }
}
