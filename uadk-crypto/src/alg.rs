//! Algorithm names and their fixed parameters, as UADK and OpenSSL users know them
//! (`aes-128-cbc`, `sm4-xts`, `sha256`, `hmac-sm3`, `aes-256-gcm`, ...).

use std::fmt;

use crate::error::{Error, Result};

/// The block cipher under a mode.
///
/// ```
/// use uadk_crypto::{BlockCipher, CipherAlg};
/// assert_eq!(CipherAlg::from_name("sm4-ctr").unwrap().block, BlockCipher::Sm4);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BlockCipher {
    /// AES with a 128-bit key.
    Aes128,
    /// AES with a 192-bit key.
    Aes192,
    /// AES with a 256-bit key.
    Aes256,
    /// SM4 (GB/T 32907), 128-bit key.
    Sm4,
}

impl BlockCipher {
    /// Key length of the block cipher in bytes.
    ///
    /// ```
    /// assert_eq!(uadk_crypto::BlockCipher::Aes192.key_len(), 24);
    /// ```
    pub const fn key_len(self) -> usize {
        match self {
            BlockCipher::Aes128 | BlockCipher::Sm4 => 16,
            BlockCipher::Aes192 => 24,
            BlockCipher::Aes256 => 32,
        }
    }
}

/// A block-cipher mode without authentication.
///
/// ```
/// use uadk_crypto::{CipherAlg, CipherMode};
/// assert_eq!(CipherAlg::from_name("aes-128-xts").unwrap().mode, CipherMode::Xts);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CipherMode {
    /// Electronic codebook: data must be a whole number of blocks.
    Ecb,
    /// Cipher block chaining: data must be a whole number of blocks (no padding).
    Cbc,
    /// Counter mode, full 128-bit big-endian counter block.
    Ctr,
    /// XTS (IEEE 1619 / SP 800-38E): one data unit per request, the IV is the tweak.
    Xts,
}

/// A cipher algorithm: a block cipher in a mode.
///
/// ```
/// use uadk_crypto::CipherAlg;
/// let alg = CipherAlg::from_name("AES-256-XTS").unwrap();
/// assert_eq!(alg.name(), "aes-256-xts");
/// assert_eq!(alg.key_len(), 64);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CipherAlg {
    /// The block cipher.
    pub block: BlockCipher,
    /// The mode.
    pub mode: CipherMode,
}

/// A message digest.
///
/// ```
/// use uadk_crypto::DigestAlg;
/// assert_eq!(DigestAlg::from_name("sha256").unwrap().output_len(), 32);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DigestAlg {
    /// SHA-1 (FIPS 180-4).
    Sha1,
    /// SHA-224.
    Sha224,
    /// SHA-256.
    Sha256,
    /// SHA-384.
    Sha384,
    /// SHA-512.
    Sha512,
    /// SM3 (GB/T 32905).
    Sm3,
    /// MD5 (RFC 1321).
    Md5,
}

/// An AEAD algorithm.
///
/// ```
/// use uadk_crypto::AeadAlg;
/// let alg = AeadAlg::from_name("sm4-ccm").unwrap();
/// assert_eq!(alg.key_len(), 16);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct AeadAlg {
    /// The block cipher.
    pub block: BlockCipher,
    /// The mode.
    pub mode: AeadMode,
}

/// An AEAD mode.
///
/// ```
/// use uadk_crypto::{AeadAlg, AeadMode};
/// assert_eq!(AeadAlg::from_name("sm4-gcm").unwrap().mode, AeadMode::Gcm);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AeadMode {
    /// Galois/counter mode (SP 800-38D), 12-byte nonce.
    Gcm,
    /// Counter with CBC-MAC (SP 800-38C), 7..=13-byte nonce.
    Ccm,
}

/// Any algorithm of this crate, for routing, counters and reports.
///
/// ```
/// use uadk_crypto::Algorithm;
/// assert_eq!(Algorithm::from_name("hmac-sm3").unwrap().to_string(), "hmac-sm3");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Algorithm {
    /// A plain cipher.
    Cipher(CipherAlg),
    /// A digest.
    Digest(DigestAlg),
    /// HMAC over a digest.
    Hmac(DigestAlg),
    /// An AEAD.
    Aead(AeadAlg),
}

use BlockCipher::*;
use CipherMode::*;

const fn c(block: BlockCipher, mode: CipherMode, name: &'static str) -> (CipherAlg, &'static str) {
    (CipherAlg { block, mode }, name)
}

/// Every cipher with its name.
const CIPHERS: [(CipherAlg, &str); 16] = [
    c(Aes128, Ecb, "aes-128-ecb"),
    c(Aes192, Ecb, "aes-192-ecb"),
    c(Aes256, Ecb, "aes-256-ecb"),
    c(Aes128, Cbc, "aes-128-cbc"),
    c(Aes192, Cbc, "aes-192-cbc"),
    c(Aes256, Cbc, "aes-256-cbc"),
    c(Aes128, Ctr, "aes-128-ctr"),
    c(Aes192, Ctr, "aes-192-ctr"),
    c(Aes256, Ctr, "aes-256-ctr"),
    c(Aes128, Xts, "aes-128-xts"),
    c(Aes192, Xts, "aes-192-xts"),
    c(Aes256, Xts, "aes-256-xts"),
    c(Sm4, Ecb, "sm4-ecb"),
    c(Sm4, Cbc, "sm4-cbc"),
    c(Sm4, Ctr, "sm4-ctr"),
    c(Sm4, Xts, "sm4-xts"),
];

const DIGESTS: [(DigestAlg, &str, &str); 7] = [
    (DigestAlg::Sha1, "sha1", "hmac-sha1"),
    (DigestAlg::Sha224, "sha224", "hmac-sha224"),
    (DigestAlg::Sha256, "sha256", "hmac-sha256"),
    (DigestAlg::Sha384, "sha384", "hmac-sha384"),
    (DigestAlg::Sha512, "sha512", "hmac-sha512"),
    (DigestAlg::Sm3, "sm3", "hmac-sm3"),
    (DigestAlg::Md5, "md5", "hmac-md5"),
];

const fn a(block: BlockCipher, mode: AeadMode, name: &'static str) -> (AeadAlg, &'static str) {
    (AeadAlg { block, mode }, name)
}

const AEADS: [(AeadAlg, &str); 8] = [
    a(Aes128, AeadMode::Gcm, "aes-128-gcm"),
    a(Aes192, AeadMode::Gcm, "aes-192-gcm"),
    a(Aes256, AeadMode::Gcm, "aes-256-gcm"),
    a(Sm4, AeadMode::Gcm, "sm4-gcm"),
    a(Aes128, AeadMode::Ccm, "aes-128-ccm"),
    a(Aes192, AeadMode::Ccm, "aes-192-ccm"),
    a(Aes256, AeadMode::Ccm, "aes-256-ccm"),
    a(Sm4, AeadMode::Ccm, "sm4-ccm"),
];

impl CipherAlg {
    /// Every supported cipher, in listing order.
    ///
    /// ```
    /// assert_eq!(uadk_crypto::CipherAlg::all().count(), 16);
    /// ```
    pub fn all() -> impl Iterator<Item = CipherAlg> {
        CIPHERS.iter().map(|(alg, _)| *alg)
    }

    /// Looks a cipher up by its name (case-insensitive).
    ///
    /// # Errors
    /// [`Error::UnknownAlgorithm`] or [`Error::WrongKind`] for a name that is not a cipher.
    ///
    /// ```
    /// assert!(uadk_crypto::CipherAlg::from_name("sm4-ctr").is_ok());
    /// assert!(uadk_crypto::CipherAlg::from_name("sha256").is_err());
    /// ```
    pub fn from_name(name: &str) -> Result<CipherAlg> {
        match Algorithm::from_name(name)? {
            Algorithm::Cipher(alg) => Ok(alg),
            _ => Err(Error::WrongKind {
                name: name.to_string(),
                expected: "a cipher",
            }),
        }
    }

    /// The canonical lower-case name.
    ///
    /// ```
    /// use uadk_crypto::{BlockCipher, CipherAlg, CipherMode};
    /// let alg = CipherAlg { block: BlockCipher::Sm4, mode: CipherMode::Cbc };
    /// assert_eq!(alg.name(), "sm4-cbc");
    /// ```
    pub fn name(self) -> &'static str {
        CIPHERS
            .iter()
            .find(|(alg, _)| *alg == self)
            .map_or("?", |(_, n)| n)
    }

    /// Key length in bytes (XTS: both halves).
    ///
    /// ```
    /// assert_eq!(uadk_crypto::CipherAlg::from_name("sm4-xts").unwrap().key_len(), 32);
    /// ```
    pub const fn key_len(self) -> usize {
        match self.mode {
            Xts => 2 * self.block.key_len(),
            _ => self.block.key_len(),
        }
    }

    /// IV (or XTS tweak) length in bytes; 0 for ECB.
    ///
    /// ```
    /// assert_eq!(uadk_crypto::CipherAlg::from_name("aes-128-ecb").unwrap().iv_len(), 0);
    /// ```
    pub const fn iv_len(self) -> usize {
        match self.mode {
            Ecb => 0,
            _ => 16,
        }
    }
}

impl DigestAlg {
    /// Every supported digest, in listing order.
    ///
    /// ```
    /// assert_eq!(uadk_crypto::DigestAlg::all().count(), 7);
    /// ```
    pub fn all() -> impl Iterator<Item = DigestAlg> {
        DIGESTS.iter().map(|(alg, _, _)| *alg)
    }

    /// Looks a digest up by name (`sha256`); HMAC names are rejected here.
    ///
    /// # Errors
    /// [`Error::UnknownAlgorithm`] or [`Error::WrongKind`].
    ///
    /// ```
    /// assert!(uadk_crypto::DigestAlg::from_name("SM3").is_ok());
    /// ```
    pub fn from_name(name: &str) -> Result<DigestAlg> {
        match Algorithm::from_name(name)? {
            Algorithm::Digest(alg) => Ok(alg),
            _ => Err(Error::WrongKind {
                name: name.to_string(),
                expected: "a digest",
            }),
        }
    }

    /// The canonical name (`sha256`).
    ///
    /// ```
    /// assert_eq!(uadk_crypto::DigestAlg::Md5.name(), "md5");
    /// ```
    pub fn name(self) -> &'static str {
        DIGESTS
            .iter()
            .find(|(alg, _, _)| *alg == self)
            .map_or("?", |(_, n, _)| n)
    }

    /// The HMAC name (`hmac-sha256`).
    ///
    /// ```
    /// assert_eq!(uadk_crypto::DigestAlg::Sm3.hmac_name(), "hmac-sm3");
    /// ```
    pub fn hmac_name(self) -> &'static str {
        DIGESTS
            .iter()
            .find(|(alg, _, _)| *alg == self)
            .map_or("?", |(_, _, n)| n)
    }

    /// Digest length in bytes.
    ///
    /// ```
    /// assert_eq!(uadk_crypto::DigestAlg::Sha384.output_len(), 48);
    /// ```
    pub const fn output_len(self) -> usize {
        match self {
            DigestAlg::Md5 => 16,
            DigestAlg::Sha1 => 20,
            DigestAlg::Sha224 => 28,
            DigestAlg::Sha256 | DigestAlg::Sm3 => 32,
            DigestAlg::Sha384 => 48,
            DigestAlg::Sha512 => 64,
        }
    }

    /// Internal block length in bytes (the HMAC pad length).
    ///
    /// ```
    /// assert_eq!(uadk_crypto::DigestAlg::Sha512.block_len(), 128);
    /// ```
    pub const fn block_len(self) -> usize {
        match self {
            DigestAlg::Sha384 | DigestAlg::Sha512 => 128,
            _ => 64,
        }
    }
}

impl AeadAlg {
    /// Every supported AEAD, in listing order.
    ///
    /// ```
    /// assert_eq!(uadk_crypto::AeadAlg::all().count(), 8);
    /// ```
    pub fn all() -> impl Iterator<Item = AeadAlg> {
        AEADS.iter().map(|(alg, _)| *alg)
    }

    /// Looks an AEAD up by name (`aes-128-gcm`).
    ///
    /// # Errors
    /// [`Error::UnknownAlgorithm`] or [`Error::WrongKind`].
    ///
    /// ```
    /// assert!(uadk_crypto::AeadAlg::from_name("sm4-gcm").is_ok());
    /// ```
    pub fn from_name(name: &str) -> Result<AeadAlg> {
        match Algorithm::from_name(name)? {
            Algorithm::Aead(alg) => Ok(alg),
            _ => Err(Error::WrongKind {
                name: name.to_string(),
                expected: "an AEAD",
            }),
        }
    }

    /// The canonical name.
    ///
    /// ```
    /// use uadk_crypto::{AeadAlg, AeadMode, BlockCipher};
    /// assert_eq!(AeadAlg { block: BlockCipher::Aes256, mode: AeadMode::Gcm }.name(), "aes-256-gcm");
    /// ```
    pub fn name(self) -> &'static str {
        AEADS.iter().find(|(alg, _)| *alg == self).map_or("?", |(_, n)| n)
    }

    /// Key length in bytes.
    ///
    /// ```
    /// assert_eq!(uadk_crypto::AeadAlg::from_name("aes-256-ccm").unwrap().key_len(), 32);
    /// ```
    pub const fn key_len(self) -> usize {
        self.block.key_len()
    }

    /// The default (and longest) tag length: 16 bytes.
    ///
    /// ```
    /// assert_eq!(uadk_crypto::AeadAlg::from_name("aes-128-gcm").unwrap().default_tag_len(), 16);
    /// ```
    pub const fn default_tag_len(self) -> usize {
        16
    }

    /// Whether `len` is an allowed tag length: GCM 12..=16 (SP 800-38D, the lengths
    /// every provider here verifies), CCM 4, 6, ..., 16 (SP 800-38C).
    ///
    /// ```
    /// let ccm = uadk_crypto::AeadAlg::from_name("aes-128-ccm").unwrap();
    /// assert!(ccm.tag_len_ok(8) && !ccm.tag_len_ok(7));
    /// ```
    pub const fn tag_len_ok(self, len: usize) -> bool {
        match self.mode {
            AeadMode::Gcm => len >= 12 && len <= 16,
            AeadMode::Ccm => len >= 4 && len <= 16 && len.is_multiple_of(2),
        }
    }

    /// The allowed tag lengths as text, for messages.
    pub(crate) const fn tag_lens_text(self) -> &'static str {
        match self.mode {
            AeadMode::Gcm => "12, 13, 14, 15 or 16",
            AeadMode::Ccm => "4, 6, 8, 10, 12, 14 or 16",
        }
    }

    /// Whether `len` is an allowed nonce length: GCM 12, CCM 7..=13.
    ///
    /// ```
    /// let gcm = uadk_crypto::AeadAlg::from_name("sm4-gcm").unwrap();
    /// assert!(gcm.nonce_len_ok(12) && !gcm.nonce_len_ok(16));
    /// ```
    pub const fn nonce_len_ok(self, len: usize) -> bool {
        match self.mode {
            AeadMode::Gcm => len == 12,
            AeadMode::Ccm => len >= 7 && len <= 13,
        }
    }

    /// The allowed nonce lengths as text, for messages.
    pub(crate) const fn nonce_lens_text(self) -> &'static str {
        match self.mode {
            AeadMode::Gcm => "12",
            AeadMode::Ccm => "7 to 13",
        }
    }
}

impl Algorithm {
    /// Looks any algorithm up by name, case-insensitively; `hmac-<digest>` names HMAC.
    ///
    /// # Errors
    /// [`Error::UnknownAlgorithm`] when no algorithm has that name.
    ///
    /// ```
    /// use uadk_crypto::{Algorithm, DigestAlg};
    /// assert_eq!(Algorithm::from_name("HMAC-SHA256").unwrap(), Algorithm::Hmac(DigestAlg::Sha256));
    /// assert!(Algorithm::from_name("rot13").is_err());
    /// ```
    pub fn from_name(name: &str) -> Result<Algorithm> {
        let lower = name.trim().to_ascii_lowercase();
        if let Some((alg, _)) = CIPHERS.iter().find(|(_, n)| *n == lower) {
            return Ok(Algorithm::Cipher(*alg));
        }
        if let Some((alg, _, _)) = DIGESTS.iter().find(|(_, n, _)| *n == lower) {
            return Ok(Algorithm::Digest(*alg));
        }
        if let Some((alg, _, _)) = DIGESTS.iter().find(|(_, _, n)| *n == lower) {
            return Ok(Algorithm::Hmac(*alg));
        }
        if let Some((alg, _)) = AEADS.iter().find(|(_, n)| *n == lower) {
            return Ok(Algorithm::Aead(*alg));
        }
        Err(Error::UnknownAlgorithm {
            name: name.to_string(),
        })
    }

    /// The canonical name.
    ///
    /// ```
    /// assert_eq!(uadk_crypto::Algorithm::from_name("Sm4-Gcm").unwrap().name(), "sm4-gcm");
    /// ```
    pub fn name(self) -> &'static str {
        match self {
            Algorithm::Cipher(a) => a.name(),
            Algorithm::Digest(a) => a.name(),
            Algorithm::Hmac(a) => a.hmac_name(),
            Algorithm::Aead(a) => a.name(),
        }
    }

    /// Every algorithm: ciphers, AEADs, digests, HMACs.
    ///
    /// ```
    /// assert_eq!(uadk_crypto::Algorithm::all().count(), 16 + 8 + 7 + 7);
    /// ```
    pub fn all() -> impl Iterator<Item = Algorithm> {
        CipherAlg::all()
            .map(Algorithm::Cipher)
            .chain(AeadAlg::all().map(Algorithm::Aead))
            .chain(DigestAlg::all().map(Algorithm::Digest))
            .chain(DigestAlg::all().map(Algorithm::Hmac))
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl fmt::Display for CipherAlg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl fmt::Display for DigestAlg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl fmt::Display for AeadAlg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_name_round_trips() {
        for alg in Algorithm::all() {
            assert_eq!(Algorithm::from_name(alg.name()).unwrap(), alg);
            assert_eq!(Algorithm::from_name(&alg.name().to_uppercase()).unwrap(), alg);
        }
    }

    #[test]
    fn wrong_kind_is_an_error() {
        assert!(matches!(
            CipherAlg::from_name("sha256"),
            Err(Error::WrongKind { .. })
        ));
        assert!(matches!(
            DigestAlg::from_name("hmac-sha256"),
            Err(Error::WrongKind { .. })
        ));
        assert!(matches!(
            AeadAlg::from_name("nope"),
            Err(Error::UnknownAlgorithm { .. })
        ));
    }
}
