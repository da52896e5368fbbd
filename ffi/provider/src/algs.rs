//! What the provider offers: one row per algorithm, with the names and algorithm
//! parameters OpenSSL's default provider registers for it (checked by `tests/c_abi.rs`
//! against the default provider of the OpenSSL at hand).

use std::ffi::{c_uint, CStr};

use uadk_crypto::DigestAlg;

/// Which context implementation an algorithm uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// ECB/CBC (block size 16, padding) or CTR (stream).
    Block,
    /// XTS: each update is one data unit.
    Xts,
    /// GCM.
    Gcm,
    /// CCM.
    Ccm,
}

/// One cipher the provider offers.
#[derive(Debug)]
pub struct CipherSpec {
    /// OpenSSL names, colon-separated (name, aliases, OID) as the default provider has them.
    pub names: &'static CStr,
    /// uadk-crypto's name.
    pub uadk: &'static str,
    /// The name to fetch from the default provider (delegation).
    pub default_name: &'static str,
    /// Context implementation.
    pub kind: Kind,
    /// `EVP_CIPH_*_MODE`.
    pub mode: c_uint,
    /// Key length in bytes.
    pub keylen: usize,
    /// Default IV length in bytes.
    pub ivlen: usize,
    /// Block size as OpenSSL reports it (1 for stream-like modes).
    pub blocksize: usize,
    /// SM4 rather than AES.
    pub sm4: bool,
}

impl CipherSpec {
    /// AEAD (GCM/CCM).
    pub fn aead(&self) -> bool {
        matches!(self.kind, Kind::Gcm | Kind::Ccm)
    }

    /// `EVP_CIPH_CUSTOM_IV` (GCM, CCM, XTS).
    pub fn custom_iv(&self) -> bool {
        self.kind != Kind::Block
    }
}

const ECB: c_uint = 1;
const CBC: c_uint = 2;
const CTR: c_uint = 5;
const GCM: c_uint = 6;
const CCM: c_uint = 7;
const XTS: c_uint = 0x10001;

macro_rules! spec {
    ($names:literal, $uadk:literal, $def:literal, $kind:ident, $mode:expr, $k:literal, $iv:literal, $bs:literal, $sm4:literal) => {
        CipherSpec {
            names: $names,
            uadk: $uadk,
            default_name: $def,
            kind: Kind::$kind,
            mode: $mode,
            keylen: $k,
            ivlen: $iv,
            blocksize: $bs,
            sm4: $sm4,
        }
    };
}

/// Number of ciphers.
pub const N_CIPHERS: usize = 23;

/// The ciphers, in the order of the dispatch tables in `provider.rs`.
pub static CIPHERS: [CipherSpec; N_CIPHERS] = [
    spec!(
        c"AES-128-GCM:id-aes128-GCM:2.16.840.1.101.3.4.1.6",
        "aes-128-gcm",
        "AES-128-GCM",
        Gcm,
        GCM,
        16,
        12,
        1,
        false
    ),
    spec!(
        c"AES-192-GCM:id-aes192-GCM:2.16.840.1.101.3.4.1.26",
        "aes-192-gcm",
        "AES-192-GCM",
        Gcm,
        GCM,
        24,
        12,
        1,
        false
    ),
    spec!(
        c"AES-256-GCM:id-aes256-GCM:2.16.840.1.101.3.4.1.46",
        "aes-256-gcm",
        "AES-256-GCM",
        Gcm,
        GCM,
        32,
        12,
        1,
        false
    ),
    spec!(
        c"AES-128-CCM:id-aes128-CCM:2.16.840.1.101.3.4.1.7",
        "aes-128-ccm",
        "AES-128-CCM",
        Ccm,
        CCM,
        16,
        12,
        1,
        false
    ),
    spec!(
        c"AES-192-CCM:id-aes192-CCM:2.16.840.1.101.3.4.1.27",
        "aes-192-ccm",
        "AES-192-CCM",
        Ccm,
        CCM,
        24,
        12,
        1,
        false
    ),
    spec!(
        c"AES-256-CCM:id-aes256-CCM:2.16.840.1.101.3.4.1.47",
        "aes-256-ccm",
        "AES-256-CCM",
        Ccm,
        CCM,
        32,
        12,
        1,
        false
    ),
    spec!(
        c"AES-128-ECB:2.16.840.1.101.3.4.1.1",
        "aes-128-ecb",
        "AES-128-ECB",
        Block,
        ECB,
        16,
        0,
        16,
        false
    ),
    spec!(
        c"AES-192-ECB:2.16.840.1.101.3.4.1.21",
        "aes-192-ecb",
        "AES-192-ECB",
        Block,
        ECB,
        24,
        0,
        16,
        false
    ),
    spec!(
        c"AES-256-ECB:2.16.840.1.101.3.4.1.41",
        "aes-256-ecb",
        "AES-256-ECB",
        Block,
        ECB,
        32,
        0,
        16,
        false
    ),
    spec!(
        c"AES-128-CBC:AES128:2.16.840.1.101.3.4.1.2",
        "aes-128-cbc",
        "AES-128-CBC",
        Block,
        CBC,
        16,
        16,
        16,
        false
    ),
    spec!(
        c"AES-192-CBC:AES192:2.16.840.1.101.3.4.1.22",
        "aes-192-cbc",
        "AES-192-CBC",
        Block,
        CBC,
        24,
        16,
        16,
        false
    ),
    spec!(
        c"AES-256-CBC:AES256:2.16.840.1.101.3.4.1.42",
        "aes-256-cbc",
        "AES-256-CBC",
        Block,
        CBC,
        32,
        16,
        16,
        false
    ),
    spec!(
        c"AES-128-CTR",
        "aes-128-ctr",
        "AES-128-CTR",
        Block,
        CTR,
        16,
        16,
        1,
        false
    ),
    spec!(
        c"AES-192-CTR",
        "aes-192-ctr",
        "AES-192-CTR",
        Block,
        CTR,
        24,
        16,
        1,
        false
    ),
    spec!(
        c"AES-256-CTR",
        "aes-256-ctr",
        "AES-256-CTR",
        Block,
        CTR,
        32,
        16,
        1,
        false
    ),
    spec!(
        c"AES-128-XTS:1.3.111.2.1619.0.1.1",
        "aes-128-xts",
        "AES-128-XTS",
        Xts,
        XTS,
        32,
        16,
        1,
        false
    ),
    spec!(
        c"AES-256-XTS:1.3.111.2.1619.0.1.2",
        "aes-256-xts",
        "AES-256-XTS",
        Xts,
        XTS,
        64,
        16,
        1,
        false
    ),
    spec!(
        c"SM4-ECB:1.2.156.10197.1.104.1",
        "sm4-ecb",
        "SM4-ECB",
        Block,
        ECB,
        16,
        0,
        16,
        true
    ),
    spec!(
        c"SM4-CBC:SM4:1.2.156.10197.1.104.2",
        "sm4-cbc",
        "SM4-CBC",
        Block,
        CBC,
        16,
        16,
        16,
        true
    ),
    spec!(
        c"SM4-CTR:1.2.156.10197.1.104.7",
        "sm4-ctr",
        "SM4-CTR",
        Block,
        CTR,
        16,
        16,
        1,
        true
    ),
    // Not in OpenSSL 3.0's default provider (3.2 added SM4-XTS); names and OIDs as 3.2+.
    spec!(
        c"SM4-XTS:1.2.156.10197.1.104.10",
        "sm4-xts",
        "SM4-XTS",
        Xts,
        XTS,
        32,
        16,
        1,
        true
    ),
    spec!(
        c"SM4-GCM:1.2.156.10197.1.104.8",
        "sm4-gcm",
        "SM4-GCM",
        Gcm,
        GCM,
        16,
        12,
        1,
        true
    ),
    spec!(
        c"SM4-CCM:1.2.156.10197.1.104.9",
        "sm4-ccm",
        "SM4-CCM",
        Ccm,
        CCM,
        16,
        12,
        1,
        true
    ),
];

/// One digest the provider offers.
#[derive(Debug)]
pub struct DigestSpec {
    /// OpenSSL names.
    pub names: &'static CStr,
    /// uadk-crypto's name.
    pub uadk: &'static str,
    /// uadk-crypto's algorithm.
    pub alg: DigestAlg,
    /// The name to fetch from the default provider.
    pub default_name: &'static str,
    /// Block size in bytes.
    pub blocksize: usize,
    /// Digest size in bytes.
    pub size: usize,
    /// `algid-absent` (the AlgorithmIdentifier has no NULL parameter).
    pub algid_absent: bool,
}

/// Number of digests.
pub const N_DIGESTS: usize = 7;

/// The digests.
pub static DIGESTS: [DigestSpec; N_DIGESTS] = [
    DigestSpec {
        names: c"SHA1:SHA-1:SSL3-SHA1:1.3.14.3.2.26",
        uadk: "sha1",
        alg: DigestAlg::Sha1,
        default_name: "SHA1",
        blocksize: 64,
        size: 20,
        algid_absent: true,
    },
    DigestSpec {
        names: c"SHA2-224:SHA-224:SHA224:2.16.840.1.101.3.4.2.4",
        uadk: "sha224",
        alg: DigestAlg::Sha224,
        default_name: "SHA2-224",
        blocksize: 64,
        size: 28,
        algid_absent: true,
    },
    DigestSpec {
        names: c"SHA2-256:SHA-256:SHA256:2.16.840.1.101.3.4.2.1",
        uadk: "sha256",
        alg: DigestAlg::Sha256,
        default_name: "SHA2-256",
        blocksize: 64,
        size: 32,
        algid_absent: true,
    },
    DigestSpec {
        names: c"SHA2-384:SHA-384:SHA384:2.16.840.1.101.3.4.2.2",
        uadk: "sha384",
        alg: DigestAlg::Sha384,
        default_name: "SHA2-384",
        blocksize: 128,
        size: 48,
        algid_absent: true,
    },
    DigestSpec {
        names: c"SHA2-512:SHA-512:SHA512:2.16.840.1.101.3.4.2.3",
        uadk: "sha512",
        alg: DigestAlg::Sha512,
        default_name: "SHA2-512",
        blocksize: 128,
        size: 64,
        algid_absent: true,
    },
    DigestSpec {
        names: c"SM3:1.2.156.10197.1.401",
        uadk: "sm3",
        alg: DigestAlg::Sm3,
        default_name: "SM3",
        blocksize: 64,
        size: 32,
        algid_absent: false,
    },
    DigestSpec {
        names: c"MD5:SSL3-MD5:1.2.840.113549.2.5",
        uadk: "md5",
        alg: DigestAlg::Md5,
        default_name: "MD5",
        blocksize: 64,
        size: 16,
        algid_absent: false,
    },
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_row_names_an_algorithm_uadk_crypto_has() {
        for c in &CIPHERS {
            let ok = if c.aead() {
                uadk_crypto::AeadAlg::from_name(c.uadk).is_ok()
            } else {
                uadk_crypto::CipherAlg::from_name(c.uadk).is_ok()
            };
            assert!(ok, "{}", c.uadk);
        }
        for d in &DIGESTS {
            assert_eq!(
                uadk_crypto::DigestAlg::from_name(d.uadk).unwrap().output_len(),
                d.size
            );
        }
    }
}
