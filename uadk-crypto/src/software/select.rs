//! Which library runs which algorithm in software, chosen by measurement.
//!
//! `cargo run --release -p uadk-crypto --example providers` calls every candidate library
//! directly: one thread, 16 KiB messages, five interleaved rounds timed in thread CPU time,
//! best round kept. On this project's machine (AMD EPYC with AES-NI, VAES/VPCLMULQDQ on
//! 256-bit vectors, SHA-NI, no AVX-512; shared with other builds, so the ratios matter
//! more than the absolute figures), MB/s and ratio to OpenSSL 3.0.19 in the same run:
//!
//! | algorithm | OpenSSL 3.0 | aws-lc-rs | ring | RustCrypto | chosen |
//! |---|---|---|---|---|---|
//! | AES-128-GCM seal | 3754 | 4080 (1.09) | 7649 (2.04) | 1255 (0.33) | ring |
//! | AES-256-CBC enc | 853 | - | - | 752 (0.88) | OpenSSL |
//! | AES-128-CTR | 7667 | - | - | 7079 (0.92) | OpenSSL |
//! | AES-256-XTS | 5641 | none | none | 426 (0.08) | OpenSSL |
//! | SHA-256 | 1505 | 1563 (1.04) | - | 1563 (1.04) | RustCrypto (all SHA-NI; 1.04 in two runs) |
//! | SHA-512 | 715 | 509 (0.71) | - | 523 (0.73) | OpenSSL |
//! | SM3 | 258 | none | none | 314 (1.22) | RustCrypto |
//! | SM4-CBC enc | 107 | none | none | 83 (0.78) | OpenSSL |
//! | HMAC-SHA256 | 1051 (`Signer`) | 1524 (1.45) | - | - | our HMAC over OpenSSL SHA-256 (same speed as aws-lc-rs: keyed pads computed once) |
//!
//! aws-lc-rs only has an AVX-512 VAES GCM kernel, which this CPU cannot run, so it lands on
//! the same AES-NI code as OpenSSL; ring 0.17.14 carries BoringSSL's AVX2 VAES kernel.
//! Therefore: AES-128/256-GCM on ring; AES-192-GCM (not in ring), AES-CCM, AES
//! ECB/CBC/CTR, AES-128/256-XTS, SM4 ECB/CBC/CTR, SHA-1, SHA-384/512 and MD5 on OpenSSL;
//! SM3 and SHA-224/256 on RustCrypto; SM4-GCM, SM4-CCM, SM4-XTS and AES-192-XTS (none in OpenSSL 3.0) on
//! RustCrypto (`aes-gcm` generic over `sm4`, our CCM, `xts-mode`).

use std::fmt;

use super::{openssl, ring_gcm, rustcrypto, AeadEngine, CipherEngine, DigestEngine};
use crate::alg::{AeadAlg, AeadMode, BlockCipher, CipherAlg, DigestAlg};
use crate::device::Direction;
use crate::error::Result;

/// A software library.
///
/// ```
/// use uadk_crypto::{software::select, AeadAlg};
/// let p = select::aead_provider(AeadAlg::from_name("aes-128-gcm").unwrap());
/// assert_eq!(p.to_string(), "ring");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Provider {
    /// The system OpenSSL (libcrypto 3.0) via the `openssl` crate.
    OpenSsl,
    /// ring (BoringSSL's assembly).
    Ring,
    /// The RustCrypto crates (`sm3`, `sm4`, `xts-mode`, `aes-gcm`) and our CCM.
    RustCrypto,
}

impl fmt::Display for Provider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Provider::OpenSsl => "openssl",
            Provider::Ring => "ring",
            Provider::RustCrypto => "rustcrypto",
        })
    }
}

/// The provider that runs `alg`.
///
/// ```
/// use uadk_crypto::{software::select::{cipher_provider, Provider}, CipherAlg};
/// assert_eq!(cipher_provider(CipherAlg::from_name("aes-256-xts").unwrap()), Provider::OpenSsl);
/// assert_eq!(cipher_provider(CipherAlg::from_name("sm4-xts").unwrap()), Provider::RustCrypto);
/// ```
pub fn cipher_provider(alg: CipherAlg) -> Provider {
    if openssl::cipher_ref(alg).is_some() {
        Provider::OpenSsl
    } else {
        Provider::RustCrypto
    }
}

/// The provider that runs digest `alg` (and HMAC over it).
///
/// ```
/// use uadk_crypto::{software::select::{digest_provider, Provider}, DigestAlg};
/// assert_eq!(digest_provider(DigestAlg::Sha512), Provider::OpenSsl);
/// ```
pub fn digest_provider(alg: DigestAlg) -> Provider {
    match alg {
        // RustCrypto measured 1.11-1.22x OpenSSL (SM3) and 1.04x (SHA-256, SHA-NI both).
        DigestAlg::Sm3 | DigestAlg::Sha256 | DigestAlg::Sha224 => Provider::RustCrypto,
        _ => Provider::OpenSsl,
    }
}

/// The provider that runs AEAD `alg`.
///
/// ```
/// use uadk_crypto::{software::select::{aead_provider, Provider}, AeadAlg};
/// assert_eq!(aead_provider(AeadAlg::from_name("sm4-ccm").unwrap()), Provider::RustCrypto);
/// ```
pub fn aead_provider(alg: AeadAlg) -> Provider {
    match (alg.block, alg.mode) {
        (BlockCipher::Sm4, _) => Provider::RustCrypto,
        (_, AeadMode::Gcm) if ring_gcm::has(alg) => Provider::Ring,
        (_, AeadMode::Gcm) => Provider::OpenSsl,
        (_, AeadMode::Ccm) => Provider::OpenSsl,
    }
}

/// A keyed cipher engine (key length already validated).
pub(crate) fn cipher(alg: CipherAlg, key: &[u8], dir: Direction) -> Result<Box<dyn CipherEngine>> {
    match cipher_provider(alg) {
        Provider::OpenSsl => Ok(Box::new(openssl::OsslCipher::new(alg, key, dir)?)),
        _ => rustcrypto::xts(alg, key, dir),
    }
}

/// A fresh digest engine.
pub(crate) fn digest(alg: DigestAlg) -> Result<Box<dyn DigestEngine>> {
    match digest_provider(alg) {
        Provider::RustCrypto => Ok(match alg {
            DigestAlg::Sha256 => Box::new(rustcrypto::RcSha256::default()),
            DigestAlg::Sha224 => Box::new(rustcrypto::RcSha224::default()),
            _ => Box::new(rustcrypto::RcSm3::default()),
        }),
        _ => Ok(Box::new(openssl::OsslDigest::new(alg)?)),
    }
}

/// A keyed AEAD engine (key and tag lengths already validated).
pub(crate) fn aead(alg: AeadAlg, key: &[u8], tag_len: usize) -> Result<Box<dyn AeadEngine>> {
    match aead_provider(alg) {
        Provider::Ring => Ok(Box::new(ring_gcm::RingGcm::new(alg, key, tag_len)?)),
        Provider::OpenSsl => Ok(Box::new(openssl::OsslAead::new(alg, key, tag_len)?)),
        Provider::RustCrypto => rustcrypto::sm4_aead(alg, key, tag_len),
    }
}

/// Engines of a named provider, for the cross-checks in the tests.
#[cfg(test)]
pub(crate) mod forced {
    use super::*;

    pub(crate) fn rustcrypto_xts(
        alg: CipherAlg,
        key: &[u8],
        dir: Direction,
    ) -> Result<Box<dyn CipherEngine>> {
        rustcrypto::xts(alg, key, dir)
    }

    pub(crate) fn openssl_aead(alg: AeadAlg, key: &[u8], tag_len: usize) -> Result<Box<dyn AeadEngine>> {
        Ok(Box::new(openssl::OsslAead::new(alg, key, tag_len)?))
    }

    pub(crate) fn generic_ccm_aes128(key: &[u8], tag_len: usize) -> Box<dyn AeadEngine> {
        use aes_gcm::aead::KeyInit;
        Box::new(super::super::ccm::Ccm::new(
            aes::Aes128::new_from_slice(key).expect("16-byte key"),
            tag_len,
        ))
    }

    pub(crate) fn rustcrypto_sm3() -> Box<dyn DigestEngine> {
        Box::new(rustcrypto::RcSm3::default())
    }
}
