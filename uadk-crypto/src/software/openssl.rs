//! OpenSSL (the system libcrypto through the `openssl` crate): AES ECB/CBC/CTR/XTS, SM4
//! ECB/CBC/CTR, SHA-1/2, MD5, SM3, AES-CCM, and AES-GCM with truncated tags.

use openssl::cipher::{Cipher, CipherRef};
use openssl::cipher_ctx::CipherCtx;
use openssl::hash::{Hasher, MessageDigest};
use zeroize::Zeroizing;

use super::openssl_ffi::{self, MAX_UPDATE};
use super::{AeadEngine, CipherEngine, DigestEngine};
use crate::alg::{AeadAlg, AeadMode, BlockCipher, CipherAlg, CipherMode, DigestAlg};
use crate::device::Direction;
use crate::error::{Error, Result};

/// The OpenSSL cipher for `alg`, if the system OpenSSL (3.0) has it.
pub(crate) fn cipher_ref(alg: CipherAlg) -> Option<&'static CipherRef> {
    use BlockCipher::*;
    use CipherMode::*;
    Some(match (alg.block, alg.mode) {
        (Aes128, Ecb) => Cipher::aes_128_ecb(),
        (Aes192, Ecb) => Cipher::aes_192_ecb(),
        (Aes256, Ecb) => Cipher::aes_256_ecb(),
        (Aes128, Cbc) => Cipher::aes_128_cbc(),
        (Aes192, Cbc) => Cipher::aes_192_cbc(),
        (Aes256, Cbc) => Cipher::aes_256_cbc(),
        (Aes128, Ctr) => Cipher::aes_128_ctr(),
        (Aes192, Ctr) => Cipher::aes_192_ctr(),
        (Aes256, Ctr) => Cipher::aes_256_ctr(),
        (Aes128, Xts) => Cipher::aes_128_xts(),
        (Aes256, Xts) => Cipher::aes_256_xts(),
        (Sm4, Ecb) => Cipher::sm4_ecb(),
        (Sm4, Cbc) => Cipher::sm4_cbc(),
        (Sm4, Ctr) => Cipher::sm4_ctr(),
        // OpenSSL 3.0 has no AES-192-XTS and no SM4-XTS (SM4-XTS arrived in 3.2).
        (Aes192, Xts) | (Sm4, Xts) => return None,
    })
}

/// The OpenSSL digest for `alg`.
pub(crate) fn message_digest(alg: DigestAlg) -> MessageDigest {
    match alg {
        DigestAlg::Sha1 => MessageDigest::sha1(),
        DigestAlg::Sha224 => MessageDigest::sha224(),
        DigestAlg::Sha256 => MessageDigest::sha256(),
        DigestAlg::Sha384 => MessageDigest::sha384(),
        DigestAlg::Sha512 => MessageDigest::sha512(),
        DigestAlg::Sm3 => MessageDigest::sm3(),
        DigestAlg::Md5 => MessageDigest::md5(),
    }
}

/// A keyed `EVP_CIPHER_CTX` for one direction, padding off.
pub(crate) struct OsslCipher {
    ctx: CipherCtx,
    alg: CipherAlg,
    dir: Direction,
}

impl OsslCipher {
    pub(crate) fn new(alg: CipherAlg, key: &[u8], dir: Direction) -> Result<OsslCipher> {
        let name = alg.name();
        let cipher = cipher_ref(alg).ok_or_else(|| Error::provider(name, "not in this OpenSSL build"))?;
        let mut ctx = CipherCtx::new().map_err(|e| Error::provider(name, e))?;
        match dir {
            Direction::Encrypt => ctx.encrypt_init(Some(cipher), Some(key), None),
            Direction::Decrypt => ctx.decrypt_init(Some(cipher), Some(key), None),
        }
        .map_err(|e| Error::provider(name, e))?;
        ctx.set_padding(false);
        Ok(OsslCipher { ctx, alg, dir })
    }
}

impl CipherEngine for OsslCipher {
    fn start(&mut self, iv: &[u8]) -> Result<()> {
        if iv.is_empty() {
            return Ok(());
        }
        match self.dir {
            Direction::Encrypt => self.ctx.encrypt_init(None, None, Some(iv)),
            Direction::Decrypt => self.ctx.decrypt_init(None, None, Some(iv)),
        }
        .map_err(|e| Error::provider(self.alg.name(), e))
    }

    fn update(&mut self, input: &[u8], output: &mut [u8]) -> Result<()> {
        // XTS takes a data unit in one call; callers keep units below 16 MiB.
        for (i, o) in input.chunks(MAX_UPDATE).zip(output.chunks_mut(MAX_UPDATE)) {
            openssl_ffi::update_exact(&mut self.ctx, i, o)
                .map_err(|e| Error::provider(self.alg.name(), e))?;
        }
        Ok(())
    }

    fn update_in_place(&mut self, buf: &mut [u8]) -> Result<()> {
        for b in buf.chunks_mut(MAX_UPDATE) {
            openssl_ffi::update_in_place(&mut self.ctx, b)
                .map_err(|e| Error::provider(self.alg.name(), e))?;
        }
        Ok(())
    }
}

/// An `EVP_MD_CTX`.
pub(crate) struct OsslDigest {
    hasher: Hasher,
    alg: DigestAlg,
}

impl OsslDigest {
    pub(crate) fn new(alg: DigestAlg) -> Result<OsslDigest> {
        let hasher = Hasher::new(message_digest(alg)).map_err(|e| Error::provider(alg.name(), e))?;
        Ok(OsslDigest { hasher, alg })
    }
}

impl DigestEngine for OsslDigest {
    fn update(&mut self, data: &[u8]) -> Result<()> {
        self.hasher
            .update(data)
            .map_err(|e| Error::provider(self.alg.name(), e))
    }

    fn finish(&mut self, out: &mut [u8]) -> Result<()> {
        let d = self
            .hasher
            .finish()
            .map_err(|e| Error::provider(self.alg.name(), e))?;
        out.copy_from_slice(&d);
        Ok(())
    }

    fn box_clone(&self) -> Result<Box<dyn DigestEngine>> {
        Ok(Box::new(OsslDigest {
            hasher: self.hasher.clone(),
            alg: self.alg,
        }))
    }
}

/// AES-GCM or AES-CCM through one `EVP_CIPHER_CTX` (the direction is set per request).
pub(crate) struct OsslAead {
    ctx: CipherCtx,
    alg: AeadAlg,
    key: Zeroizing<Vec<u8>>,
    tag_len: usize,
}

fn aead_cipher(alg: AeadAlg) -> Option<&'static CipherRef> {
    use AeadMode::*;
    use BlockCipher::*;
    Some(match (alg.block, alg.mode) {
        (Aes128, Gcm) => Cipher::aes_128_gcm(),
        (Aes192, Gcm) => Cipher::aes_192_gcm(),
        (Aes256, Gcm) => Cipher::aes_256_gcm(),
        (Aes128, Ccm) => Cipher::aes_128_ccm(),
        (Aes192, Ccm) => Cipher::aes_192_ccm(),
        (Aes256, Ccm) => Cipher::aes_256_ccm(),
        // Not in OpenSSL 3.0.
        (Sm4, _) => return None,
    })
}

impl OsslAead {
    pub(crate) fn new(alg: AeadAlg, key: &[u8], tag_len: usize) -> Result<OsslAead> {
        let mut me = OsslAead {
            ctx: CipherCtx::new().map_err(|e| Error::provider(alg.name(), e))?,
            alg,
            key: Zeroizing::new(key.to_vec()),
            tag_len,
        };
        me.rekey()?;
        Ok(me)
    }

    fn err(&self, e: impl std::fmt::Display) -> Error {
        Error::provider(self.alg.name(), e)
    }

    fn rekey(&mut self) -> Result<()> {
        let cipher = aead_cipher(self.alg).ok_or_else(|| self.err("not in this OpenSSL build"))?;
        self.ctx
            .encrypt_init(Some(cipher), Some(&self.key), None)
            .map_err(|e| self.err(e))
    }

    /// Sets direction and nonce; for CCM also the total length and the expected tag.
    ///
    /// CCM follows OpenSSL's documented sequence from the top each request (cipher,
    /// nonce length, tag, key and nonce, length): its context keeps per-message state
    /// that a nonce-only re-init does not clear. GCM re-inits with the nonce only.
    fn begin(&mut self, dir: Direction, nonce: &[u8], len: usize, tag: Option<&[u8]>) -> Result<()> {
        let cipher = aead_cipher(self.alg).ok_or_else(|| self.err("not in this OpenSSL build"))?;
        let ccm = self.alg.mode == AeadMode::Ccm;
        let r = (|| {
            let init =
                |ctx: &mut CipherCtx, c: Option<&CipherRef>, k: Option<&[u8]>, n: Option<&[u8]>| match dir {
                    Direction::Encrypt => ctx.encrypt_init(c, k, n),
                    Direction::Decrypt => ctx.decrypt_init(c, k, n),
                };
            if ccm {
                init(&mut self.ctx, Some(cipher), None, None)?;
                self.ctx.set_iv_length(nonce.len())?;
                match tag {
                    Some(t) => self.ctx.set_tag(t)?,
                    None => self.ctx.set_tag_length(self.tag_len)?,
                }
                init(&mut self.ctx, None, Some(&self.key), Some(nonce))?;
                self.ctx.set_data_len(len)?;
            } else {
                init(&mut self.ctx, None, None, Some(nonce))?;
                if let Some(t) = tag {
                    self.ctx.set_tag(t)?;
                }
            }
            Ok::<_, openssl::error::ErrorStack>(())
        })();
        r.map_err(|e| self.err(e))
    }

    fn aad(&mut self, aad: &[u8]) -> Result<()> {
        // CCM needs the AAD call even when empty only if it is non-empty; GCM likewise.
        if !aad.is_empty() {
            for a in aad.chunks(MAX_UPDATE) {
                self.ctx.cipher_update(a, None).map_err(|e| self.err(e))?;
            }
        }
        Ok(())
    }

    fn data(&mut self, input: Option<&[u8]>, buf: &mut [u8]) -> Result<bool> {
        if self.alg.mode == AeadMode::Ccm && buf.len() > MAX_UPDATE {
            return Err(Error::DataLength {
                alg: self.alg.name(),
                len: buf.len(),
                rule: "one CCM message must be at most 1 GiB",
            });
        }
        let mut ok = true;
        if buf.is_empty() {
            // CCM verifies its tag inside the data call, so make it even for no data.
            return Ok(openssl_ffi::update_exact(&mut self.ctx, &[], &mut []).is_ok());
        }
        match input {
            Some(input) => {
                for (i, o) in input.chunks(MAX_UPDATE).zip(buf.chunks_mut(MAX_UPDATE)) {
                    ok &= openssl_ffi::update_exact(&mut self.ctx, i, o).is_ok();
                }
            }
            None => {
                for b in buf.chunks_mut(MAX_UPDATE) {
                    ok &= openssl_ffi::update_in_place(&mut self.ctx, b).is_ok();
                }
            }
        }
        Ok(ok)
    }

    fn do_seal(
        &mut self,
        nonce: &[u8],
        aad: &[u8],
        input: Option<&[u8]>,
        buf: &mut [u8],
        tag: &mut [u8],
    ) -> Result<()> {
        self.begin(Direction::Encrypt, nonce, buf.len(), None)?;
        self.aad(aad)?;
        if !self.data(input, buf)? {
            return Err(self.err(openssl::error::ErrorStack::get()));
        }
        self.ctx.cipher_final(&mut []).map_err(|e| self.err(e))?;
        self.ctx.tag(tag).map_err(|e| self.err(e))
    }

    fn do_open(
        &mut self,
        nonce: &[u8],
        aad: &[u8],
        input: Option<&[u8]>,
        buf: &mut [u8],
        tag: &[u8],
    ) -> Result<bool> {
        self.begin(Direction::Decrypt, nonce, buf.len(), Some(tag))?;
        self.aad(aad)?;
        // A CCM tag mismatch fails in the update call, a GCM one in final.
        let ok = self.data(input, buf)?;
        // CCM's decrypt update is final (OpenSSL forbids a final call after it).
        let fin = self.alg.mode == AeadMode::Ccm || self.ctx.cipher_final(&mut []).is_ok();
        // Drop any error OpenSSL queued for the mismatch.
        let _ = openssl::error::ErrorStack::get();
        Ok(ok && fin)
    }
}

impl AeadEngine for OsslAead {
    fn seal(
        &mut self,
        nonce: &[u8],
        aad: &[u8],
        input: &[u8],
        output: &mut [u8],
        tag: &mut [u8],
    ) -> Result<()> {
        self.do_seal(nonce, aad, Some(input), output, tag)
    }

    fn seal_in_place(&mut self, nonce: &[u8], aad: &[u8], buf: &mut [u8], tag: &mut [u8]) -> Result<()> {
        self.do_seal(nonce, aad, None, buf, tag)
    }

    fn open(
        &mut self,
        nonce: &[u8],
        aad: &[u8],
        input: &[u8],
        output: &mut [u8],
        tag: &[u8],
    ) -> Result<bool> {
        self.do_open(nonce, aad, Some(input), output, tag)
    }

    fn open_in_place(&mut self, nonce: &[u8], aad: &[u8], buf: &mut [u8], tag: &[u8]) -> Result<bool> {
        self.do_open(nonce, aad, None, buf, tag)
    }
}
