//! OpenSSL (the system libcrypto through the `openssl` crate): AES ECB/CBC/CTR/XTS, SM4
//! ECB/CBC/CTR, SHA-1/2, MD5, SM3, AES-CCM, and AES-GCM with truncated tags.
//!
//! Every cipher and digest is fetched explicitly from OpenSSL's `default` provider in the
//! default library context (`EVP_CIPHER_fetch`/`EVP_MD_fetch` with `provider=default`),
//! once per process, never implicitly (`EVP_aes_128_cbc()` and friends). An implicit fetch
//! obeys the configuration's default properties: under an `openssl.cnf` that prefers our
//! own OpenSSL provider (`default_properties = ?provider=uadk_provider`), it would select
//! that provider, which runs on these very engines, and recurse. The explicit query also
//! keeps an application's other providers out of the way. The fetched objects are the
//! implementations the implicit path finds in a default configuration.

use std::sync::OnceLock;

use openssl::cipher::{Cipher, CipherRef};
use openssl::cipher_ctx::CipherCtx;
use openssl::hash::{Hasher, MessageDigest};
use openssl::md::{Md, MdRef};
use openssl::provider::Provider;
use zeroize::Zeroizing;

use super::openssl_ffi::{self, MAX_UPDATE};
use super::{AeadEngine, CipherEngine, DigestEngine};
use crate::alg::{AeadAlg, AeadMode, BlockCipher, CipherAlg, CipherMode, DigestAlg};
use crate::device::Direction;
use crate::error::{Error, Result};

/// The property query of every fetch: OpenSSL's own implementations only.
const DEFAULT_PROVIDER: &str = "provider=default";

/// The `default` provider, loaded into the default library context by us when an
/// `openssl.cnf` activated other providers only (kept loaded for the process).
static LOADED_DEFAULT: OnceLock<Option<Provider>> = OnceLock::new();

/// Runs `fetch`; if it fails because no `default` provider is active, loads it once and
/// retries. `None` when OpenSSL does not have the algorithm.
fn fetch_default<T>(fetch: impl Fn() -> std::result::Result<T, openssl::error::ErrorStack>) -> Option<T> {
    if let Ok(t) = fetch() {
        return Some(t);
    }
    LOADED_DEFAULT.get_or_init(|| Provider::try_load(None, "default", true).ok());
    let r = fetch().ok();
    // Leave no stale error behind for the application (OpenSSL queues one per failed fetch).
    let _ = openssl::error::ErrorStack::get();
    r
}

/// The fetched cipher in `slot`, fetching it under `name` on first use.
fn fetched_cipher(slot: &'static OnceLock<Option<Cipher>>, name: &str) -> Option<&'static CipherRef> {
    slot.get_or_init(|| fetch_default(|| Cipher::fetch(None, name, Some(DEFAULT_PROVIDER))))
        .as_deref()
}

/// One cache slot per OpenSSL cipher we use, fetched on first use.
macro_rules! fetched {
    ($name:literal) => {{
        static SLOT: OnceLock<Option<Cipher>> = OnceLock::new();
        fetched_cipher(&SLOT, $name)
    }};
}

/// The OpenSSL cipher for `alg`, if the system OpenSSL (3.0) has it.
pub(crate) fn cipher_ref(alg: CipherAlg) -> Option<&'static CipherRef> {
    use BlockCipher::*;
    use CipherMode::*;
    match (alg.block, alg.mode) {
        (Aes128, Ecb) => fetched!("AES-128-ECB"),
        (Aes192, Ecb) => fetched!("AES-192-ECB"),
        (Aes256, Ecb) => fetched!("AES-256-ECB"),
        (Aes128, Cbc) => fetched!("AES-128-CBC"),
        (Aes192, Cbc) => fetched!("AES-192-CBC"),
        (Aes256, Cbc) => fetched!("AES-256-CBC"),
        (Aes128, Ctr) => fetched!("AES-128-CTR"),
        (Aes192, Ctr) => fetched!("AES-192-CTR"),
        (Aes256, Ctr) => fetched!("AES-256-CTR"),
        (Aes128, Xts) => fetched!("AES-128-XTS"),
        (Aes256, Xts) => fetched!("AES-256-XTS"),
        (Sm4, Ecb) => fetched!("SM4-ECB"),
        (Sm4, Cbc) => fetched!("SM4-CBC"),
        (Sm4, Ctr) => fetched!("SM4-CTR"),
        // OpenSSL 3.0 has no AES-192-XTS and no SM4-XTS (SM4-XTS arrived in 3.2).
        (Aes192, Xts) | (Sm4, Xts) => None,
    }
}

/// One fetched digest per algorithm, fetched on first use (`None`: not in this OpenSSL).
fn fetched_md(alg: DigestAlg) -> Option<&'static MdRef> {
    static SLOTS: [OnceLock<Option<Md>>; 7] = [const { OnceLock::new() }; 7];
    let (i, name) = match alg {
        DigestAlg::Sha1 => (0, "SHA1"),
        DigestAlg::Sha224 => (1, "SHA2-224"),
        DigestAlg::Sha256 => (2, "SHA2-256"),
        DigestAlg::Sha384 => (3, "SHA2-384"),
        DigestAlg::Sha512 => (4, "SHA2-512"),
        DigestAlg::Sm3 => (5, "SM3"),
        DigestAlg::Md5 => (6, "MD5"),
    };
    SLOTS[i]
        .get_or_init(|| fetch_default(|| Md::fetch(None, name, Some(DEFAULT_PROVIDER))))
        .as_deref()
}

/// The OpenSSL digest for `alg`, fetched from the default provider.
///
/// # Errors
/// The system OpenSSL lacks the digest (a build without SM3, or no `default` provider).
pub(crate) fn fetched_digest(alg: DigestAlg) -> Result<MessageDigest> {
    fetched_md(alg)
        .map(openssl_ffi::message_digest)
        .ok_or_else(|| Error::provider(alg.name(), "not in this OpenSSL's default provider"))
}

/// The OpenSSL digest for `alg`, for the benchmark's OpenSSL peer: the fetched one, or
/// OpenSSL's built-in table when the fetch failed (the peer then reports that failure
/// itself).
pub(crate) fn message_digest(alg: DigestAlg) -> MessageDigest {
    fetched_digest(alg).unwrap_or_else(|_| match alg {
        DigestAlg::Sha1 => MessageDigest::sha1(),
        DigestAlg::Sha224 => MessageDigest::sha224(),
        DigestAlg::Sha256 => MessageDigest::sha256(),
        DigestAlg::Sha384 => MessageDigest::sha384(),
        DigestAlg::Sha512 => MessageDigest::sha512(),
        DigestAlg::Sm3 => MessageDigest::sm3(),
        DigestAlg::Md5 => MessageDigest::md5(),
    })
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
        let hasher = Hasher::new(fetched_digest(alg)?).map_err(|e| Error::provider(alg.name(), e))?;
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

/// An [`OsslAead`] made on first use, for engines that compute only full 16-byte tags
/// (ring, aws-lc-rs): they seal a shorter tag by truncation but must open one through
/// OpenSSL. Keeps a copy of the key (wiped on drop) until then.
pub(crate) struct ShortTagOpener {
    alg: AeadAlg,
    key: Zeroizing<Vec<u8>>,
    tag_len: usize,
    ctx: Option<OsslAead>,
}

impl ShortTagOpener {
    pub(crate) fn new(alg: AeadAlg, key: &[u8], tag_len: usize) -> ShortTagOpener {
        ShortTagOpener {
            alg,
            key: Zeroizing::new(key.to_vec()),
            tag_len,
            ctx: None,
        }
    }

    /// The OpenSSL context, created on the first call.
    pub(crate) fn get(&mut self) -> Result<&mut OsslAead> {
        if self.ctx.is_none() {
            self.ctx = Some(OsslAead::new(self.alg, &self.key, self.tag_len)?);
        }
        Ok(self.ctx.as_mut().expect("set just above"))
    }
}

fn aead_cipher(alg: AeadAlg) -> Option<&'static CipherRef> {
    use AeadMode::*;
    use BlockCipher::*;
    match (alg.block, alg.mode) {
        (Aes128, Gcm) => fetched!("AES-128-GCM"),
        (Aes192, Gcm) => fetched!("AES-192-GCM"),
        (Aes256, Gcm) => fetched!("AES-256-GCM"),
        (Aes128, Ccm) => fetched!("AES-128-CCM"),
        (Aes192, Ccm) => fetched!("AES-192-CCM"),
        (Aes256, Ccm) => fetched!("AES-256-CCM"),
        // Not in OpenSSL 3.0.
        (Sm4, _) => None,
    }
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
