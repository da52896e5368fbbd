//! Which library runs which algorithm in software: a rule table keyed by the running CPU's
//! features, backed by measurements, with a per-algorithm override.
//!
//! ## How a provider is chosen
//!
//! 1. `UADK_ENGINE_<ALG>=<provider>` (the algorithm's name in upper case with `-` as `_`,
//!    e.g. `UADK_ENGINE_AES_128_GCM=ring`; HMAC also follows its digest's variable,
//!    `UADK_ENGINE_SHA256`, unless `UADK_ENGINE_HMAC_SHA256` is set) forces a provider.
//!    Providers: `openssl`, `ring`, `aws-lc-rs`, `rustcrypto`. A name that is not a
//!    provider, or a provider without that algorithm, is an error when a session is
//!    created ([`Error::Config`]): a forced choice that silently did not happen would make
//!    every measurement taken with it wrong.
//! 2. Otherwise the first rule of [`RULES`] that covers the algorithm and whose CPU
//!    features the running CPU has ([`CpuFeatures::detect`]).
//!
//! `uadk info` prints the resulting choice per algorithm with the features behind it, and
//! `uadk bench crypto` measures every candidate ([`candidates`]) beside ours so a user can
//! check the table on their machine; `uadk calibrate` reports where it is wrong.
//!
//! ## The measurements behind the rules
//!
//! `cargo run --release -p uadk-crypto --example providers` and `uadk bench crypto`: one
//! thread, 16 KiB messages, interleaved rounds timed in thread CPU time, best round kept;
//! MB/s and ratio to OpenSSL 3.0 in the same run. Two CPUs so far:
//!
//! | algorithm | CPU | OpenSSL 3.0 | aws-lc-rs | ring | RustCrypto | chosen |
//! |---|---|---|---|---|---|---|
//! | AES-128-GCM seal | Intel Xeon (AVX-512, 512-bit VAES) | 5887-6045 | 15345-16195 (2.62-2.75) | 10435-10748 (1.73-1.82) | 1538 (0.26) | aws-lc-rs |
//! | AES-128-GCM seal | AMD EPYC Zen 3 (256-bit VAES) | 3754 | 4080 (1.09) | 7649 (2.04) | 1255 (0.33) | ring |
//! | AES-256-CBC enc | Intel | 1199 | - | - | 1091 (0.91) | OpenSSL |
//! | AES-256-CBC enc | AMD | 853 | - | - | 752 (0.88) | OpenSSL |
//! | AES-128-CTR | Intel | 8795 | - | - | 7603 (0.86) | OpenSSL |
//! | AES-128-CTR | AMD | 7667 | - | - | 7079 (0.92) | OpenSSL |
//! | AES-256-XTS | Intel | 6572 | none | none | 675 (0.10) | OpenSSL |
//! | AES-256-XTS | AMD | 5641 | none | none | 426 (0.08) | OpenSSL |
//! | SHA-256 | Intel (SHA-NI) | 1606 | 1698 (1.06) | 1660 (1.01) | 1676 (1.04) | RustCrypto (all within noise) |
//! | SHA-256 | AMD (SHA-NI) | 1505 | 1563 (1.04) | - | 1563 (1.04) | RustCrypto |
//! | SHA-512 | Intel | 716-748 | 652-666 (0.87-0.93) | 660 (0.88) | 597-608 (0.80-0.85) | OpenSSL |
//! | SHA-512 | AMD | 715 | 509 (0.71) | - | 523 (0.73) | OpenSSL |
//! | SM3 | Intel | 335 | none | none | 385 (1.15) | RustCrypto |
//! | SM3 | AMD | 258 | none | none | 314 (1.22) | RustCrypto |
//! | SM4-CBC enc | Intel | 114 | none | none | 82 (0.72) | OpenSSL |
//! | SM4-CBC enc | AMD | 107 | none | none | 83 (0.78) | OpenSSL |
//! | AES-192-GCM seal | Intel | 5603 | 14998 (2.68) | none | - | aws-lc-rs |
//! | AES-256-GCM seal | Intel | 5036 | 13340 (2.65) | 8835 (1.75) | - | aws-lc-rs |
//! | SHA-1 | Intel (SHA-NI) | 1817 | 1816 (1.00) | 494 (0.27) | 1808 (0.99) | OpenSSL |
//! | SHA-384 | Intel | 707 | 642 (0.91) | 651 (0.92) | 585 (0.83) | OpenSSL |
//!
//! HMAC is RFC 2104 over the chosen digest engine with the keyed pads computed once (the
//! `openssl` row of `uadk bench crypto` is OpenSSL's own `EVP_DigestSign`, about 0.7x of
//! that). What OpenSSL 3.0 lacks (SM4-XTS, SM4-GCM, SM4-CCM, AES-192-XTS) runs on
//! RustCrypto (`xts-mode`, `aes-gcm` generic over `sm4`, our CCM).

use std::fmt;
use std::str::FromStr;

use uadk_core::sys::cpu::{CpuFeature, CpuFeatures};

use super::{aws_lc, openssl, ring_digest, ring_gcm, rustcrypto, AeadEngine, CipherEngine, DigestEngine};
use crate::alg::{AeadAlg, AeadMode, Algorithm, BlockCipher, CipherAlg, CipherMode, DigestAlg};
use crate::device::Direction;
use crate::error::{Error, Result};

/// A software library.
///
/// ```
/// use uadk_crypto::software::Provider;
/// assert_eq!("aws-lc-rs".parse::<Provider>().unwrap(), Provider::AwsLc);
/// assert_eq!(Provider::RustCrypto.to_string(), "rustcrypto");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Provider {
    /// The system OpenSSL (libcrypto 3.0) via the `openssl` crate.
    OpenSsl,
    /// ring (BoringSSL's assembly).
    Ring,
    /// aws-lc-rs (AWS-LC's assembly, with the AVX-512 VAES GCM kernel).
    AwsLc,
    /// The RustCrypto crates (`sha1`, `sha2`, `sm3`, `sm4`, `xts-mode`, `aes-gcm`) and our CCM.
    RustCrypto,
}

impl Provider {
    /// Every provider.
    pub const ALL: [Provider; 4] = [
        Provider::OpenSsl,
        Provider::Ring,
        Provider::AwsLc,
        Provider::RustCrypto,
    ];

    /// The name used in reports, bench rows and `UADK_ENGINE_<ALG>`.
    pub fn name(self) -> &'static str {
        match self {
            Provider::OpenSsl => "openssl",
            Provider::Ring => "ring",
            Provider::AwsLc => "aws-lc-rs",
            Provider::RustCrypto => "rustcrypto",
        }
    }
}

impl fmt::Display for Provider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Provider {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim().to_ascii_lowercase().replace('_', "-").as_str() {
            "openssl" => Ok(Provider::OpenSsl),
            "ring" => Ok(Provider::Ring),
            "aws-lc-rs" | "aws-lc" | "awslc" => Ok(Provider::AwsLc),
            "rustcrypto" | "rust-crypto" => Ok(Provider::RustCrypto),
            other => Err(format!(
                "unknown provider {other:?}: use openssl, ring, aws-lc-rs or rustcrypto"
            )),
        }
    }
}

/// The providers that have an engine for `alg` in this crate (HMAC: those of its digest).
///
/// ```
/// use uadk_crypto::{software::{select::candidates, Provider}, Algorithm};
/// let gcm = candidates(Algorithm::from_name("aes-128-gcm").unwrap());
/// assert_eq!(gcm, [Provider::OpenSsl, Provider::Ring, Provider::AwsLc]);
/// ```
pub fn candidates(alg: Algorithm) -> Vec<Provider> {
    Provider::ALL.into_iter().filter(|&p| offers(p, alg)).collect()
}

/// Whether `p` has an engine for `alg` here.
fn offers(p: Provider, alg: Algorithm) -> bool {
    match (p, alg) {
        (Provider::OpenSsl, Algorithm::Cipher(c)) => openssl::cipher_ref(c).is_some(),
        (Provider::RustCrypto, Algorithm::Cipher(c)) => {
            c.mode == CipherMode::Xts && openssl::cipher_ref(c).is_none()
        }
        (_, Algorithm::Cipher(_)) => false,
        (Provider::OpenSsl, Algorithm::Digest(_) | Algorithm::Hmac(_)) => true,
        (Provider::RustCrypto, Algorithm::Digest(d) | Algorithm::Hmac(d)) => d != DigestAlg::Md5,
        (Provider::AwsLc, Algorithm::Digest(d) | Algorithm::Hmac(d)) => aws_lc::has_digest(d),
        (Provider::Ring, Algorithm::Digest(d) | Algorithm::Hmac(d)) => {
            ring_digest::ring_digest_alg(d).is_some()
        }
        (Provider::OpenSsl, Algorithm::Aead(a)) => a.block != BlockCipher::Sm4,
        (Provider::RustCrypto, Algorithm::Aead(a)) => a.block == BlockCipher::Sm4,
        (Provider::Ring, Algorithm::Aead(a)) => a.mode == AeadMode::Gcm && ring_gcm::has(a),
        (Provider::AwsLc, Algorithm::Aead(a)) => aws_lc::has_aead(a),
    }
}

/// One rule of the engine table.
#[derive(Debug, Clone, Copy)]
pub struct Rule {
    /// The algorithms it covers, for people (`"aes-128/256-gcm"`).
    pub covers: &'static str,
    /// Whether it covers `alg` (HMAC is looked up as its digest).
    pub applies: fn(Algorithm) -> bool,
    /// CPU features the rule needs; empty for every CPU.
    pub needs: &'static [CpuFeature],
    /// The provider it picks.
    pub provider: Provider,
    /// The measurement behind it.
    pub evidence: &'static str,
}

const AVX512_VAES: &[CpuFeature] = &[
    CpuFeature::Avx512f,
    CpuFeature::Avx512vl,
    CpuFeature::Vaes,
    CpuFeature::Vpclmulqdq,
];
const AVX2_VAES: &[CpuFeature] = &[CpuFeature::Avx2, CpuFeature::Vaes, CpuFeature::Vpclmulqdq];

fn gcm(a: Algorithm) -> Option<AeadAlg> {
    match a {
        Algorithm::Aead(x) if x.mode == AeadMode::Gcm && x.block != BlockCipher::Sm4 => Some(x),
        _ => None,
    }
}

fn digest_of(a: Algorithm) -> Option<DigestAlg> {
    match a {
        Algorithm::Digest(d) | Algorithm::Hmac(d) => Some(d),
        _ => None,
    }
}

/// The engine table, first match wins (a rule is skipped when the CPU lacks a feature it
/// needs). The `evidence` of each rule is the measurement behind it (module docs).
pub const RULES: &[Rule] = &[
    Rule {
        covers: "aes-128/192/256-gcm",
        applies: |a| gcm(a).is_some(),
        needs: AVX512_VAES,
        provider: Provider::AwsLc,
        evidence: "AWS-LC's AVX-512 VAES GCM kernel. Intel Xeon, 16 KiB seal (x OpenSSL 3.0): AES-128 aws-lc-rs 15345-16195 MB/s (2.54-2.75x), ring 10435-10748 (1.73-1.82x); AES-192 aws-lc-rs 14998 (2.68x, ring has none); AES-256 aws-lc-rs 13340 (2.65x), ring 8835 (1.75x)",
    },
    Rule {
        covers: "aes-128/256-gcm",
        applies: |a| gcm(a).is_some_and(ring_gcm::has),
        needs: AVX2_VAES,
        provider: Provider::Ring,
        evidence: "BoringSSL's AVX2 VAES GCM kernel (ring 0.17.14). AMD EPYC Zen 3, 16 KiB seal: ring 7649 MB/s (2.04x OpenSSL 3.0), aws-lc-rs 4080 (1.09x; no AVX-512, so its AES-NI code)",
    },
    Rule {
        covers: "aes-128/256-gcm",
        applies: |a| gcm(a).is_some_and(ring_gcm::has),
        needs: &[],
        provider: Provider::Ring,
        evidence: "no VAES: ring, aws-lc-rs and OpenSSL all run an AES-NI + PCLMULQDQ kernel; not measured on such a CPU, ring kept from the measured CPUs",
    },
    Rule {
        covers: "sha224, sha256 (and their HMAC)",
        applies: |a| matches!(digest_of(a), Some(DigestAlg::Sha224 | DigestAlg::Sha256)),
        needs: &[CpuFeature::ShaNi],
        provider: Provider::RustCrypto,
        evidence: "SHA-NI in every candidate, all within 2% (run-to-run noise): Intel Xeon, 16 KiB: RustCrypto 1671-1676 MB/s, aws-lc-rs 1646-1698, ring 1660, OpenSSL 3.0 1606-1649; AMD Zen 3: RustCrypto 1563 (1.04x OpenSSL), aws-lc-rs 1563",
    },
    Rule {
        covers: "sha1, sha224, sha256, sha384, sha512, md5 (and their HMAC)",
        applies: |a| digest_of(a).is_some_and(|d| d != DigestAlg::Sm3),
        needs: &[],
        provider: Provider::OpenSsl,
        evidence: "SHA-512, 16 KiB: OpenSSL 716 MB/s, aws-lc-rs 666 (0.93x), RustCrypto 608 (0.85x) on Intel Xeon; 715 / 509 / 523 on AMD Zen 3. SHA-256 without SHA-NI: OpenSSL's AVX2 code (not measured here)",
    },
    Rule {
        covers: "sm3 (and HMAC-SM3)",
        applies: |a| digest_of(a) == Some(DigestAlg::Sm3),
        needs: &[],
        provider: Provider::RustCrypto,
        evidence: "16 KiB: RustCrypto 385 MB/s (1.15x OpenSSL 3.0) on Intel Xeon, 314 (1.22x) on AMD Zen 3",
    },
    Rule {
        covers: "aes/sm4 ecb, cbc, ctr; aes-128/256-xts; aes-192-gcm; aes-ccm",
        applies: |a| match a {
            Algorithm::Cipher(c) => openssl::cipher_ref(c).is_some(),
            Algorithm::Aead(x) => x.block != BlockCipher::Sm4,
            _ => false,
        },
        needs: &[],
        provider: Provider::OpenSsl,
        evidence: "16 KiB, Intel Xeon / AMD Zen 3 (x OpenSSL 3.0): RustCrypto AES-256-CBC 0.91 / 0.88, AES-128-CTR 0.86 / 0.92, AES-256-XTS 0.10 / 0.08, SM4-CBC 0.72 / 0.78; ring has no AES-192-GCM, CCM or these modes",
    },
    Rule {
        covers: "sm4-xts, aes-192-xts, sm4-gcm, sm4-ccm",
        applies: |_| true,
        needs: &[],
        provider: Provider::RustCrypto,
        evidence: "not in OpenSSL 3.0, ring or aws-lc-rs: RustCrypto is the only candidate",
    },
];

/// The provider picked for an algorithm, and why.
///
/// ```
/// use uadk_crypto::{software::select::choose, Algorithm};
/// let c = choose(Algorithm::from_name("sm3").unwrap()).unwrap();
/// println!("{c}");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Choice {
    /// The provider.
    pub provider: Provider,
    /// The rule that picked it (`None` when forced by the environment).
    pub rule: Option<usize>,
    /// The environment variable that forced it, if one did.
    pub forced_by: Option<String>,
}

impl Choice {
    /// Why, in one line: the variable that forced it, or the rule's features and evidence.
    pub fn why(&self) -> String {
        match (&self.forced_by, self.rule) {
            (Some(var), _) => format!("forced by {var}"),
            (None, Some(i)) => {
                let r = &RULES[i];
                let needs = if r.needs.is_empty() {
                    "any CPU".to_string()
                } else {
                    r.needs.iter().map(|f| f.name()).collect::<Vec<_>>().join("+")
                };
                format!("{needs}: {}", r.evidence)
            }
            (None, None) => "the only candidate".to_string(),
        }
    }

    /// The CPU features the rule needed (empty when forced or for any CPU).
    pub fn features(&self) -> &'static [CpuFeature] {
        match (&self.forced_by, self.rule) {
            (None, Some(i)) => RULES[i].needs,
            _ => &[],
        }
    }
}

impl fmt::Display for Choice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.provider, self.why())
    }
}

/// The table's pick for `alg` on a CPU with `cpu` (no environment override): what the
/// tests check against fake feature sets.
///
/// ```
/// use uadk_crypto::{software::{select::choose_for, Provider}, Algorithm};
/// let gcm = Algorithm::from_name("aes-128-gcm").unwrap();
/// let xeon = "aes pclmulqdq avx2 bmi2 avx512f avx512vl avx512bw vaes vpclmulqdq sha_ni".parse().unwrap();
/// let zen3 = "aes pclmulqdq avx2 bmi2 vaes vpclmulqdq sha_ni".parse().unwrap();
/// assert_eq!(choose_for(gcm, xeon).provider, Provider::AwsLc);
/// assert_eq!(choose_for(gcm, zen3).provider, Provider::Ring);
/// ```
pub fn choose_for(alg: Algorithm, cpu: CpuFeatures) -> Choice {
    let rule = RULES
        .iter()
        .position(|r| (r.applies)(alg) && cpu.has_all(r.needs) && offers(r.provider, alg));
    let provider = match rule {
        Some(i) => RULES[i].provider,
        None => candidates(alg)[0],
    };
    Choice {
        provider,
        rule,
        forced_by: None,
    }
}

/// The environment variable that forces `alg`'s provider (`UADK_ENGINE_AES_128_GCM`).
///
/// ```
/// use uadk_crypto::{software::select::env_var, Algorithm};
/// assert_eq!(env_var(Algorithm::from_name("hmac-sha256").unwrap()), "UADK_ENGINE_HMAC_SHA256");
/// ```
pub fn env_var(alg: Algorithm) -> String {
    format!(
        "UADK_ENGINE_{}",
        alg.name().to_ascii_uppercase().replace('-', "_")
    )
}

/// The provider for `alg` in this process: `UADK_ENGINE_<ALG>` when set (HMAC also looks at
/// its digest's variable), else the table for the running CPU.
///
/// # Errors
/// [`Error::Config`] when the variable names no provider, or one without `alg`.
///
/// ```
/// use uadk_crypto::{software::select::choose, Algorithm};
/// let c = choose(Algorithm::from_name("aes-256-xts").unwrap()).unwrap();
/// assert_eq!(c.provider.to_string(), "openssl");
/// ```
pub fn choose(alg: Algorithm) -> Result<Choice> {
    choose_in(alg, CpuFeatures::detect(), &|v| std::env::var_os(v))
}

/// [`choose`] with the CPU and the environment given.
fn choose_in(
    alg: Algorithm,
    cpu: CpuFeatures,
    env: &dyn Fn(&str) -> Option<std::ffi::OsString>,
) -> Result<Choice> {
    let mut vars = vec![env_var(alg)];
    if let Algorithm::Hmac(d) = alg {
        vars.push(env_var(Algorithm::Digest(d)));
    }
    for var in vars {
        let Some(value) = env(&var) else {
            continue;
        };
        let value = value.to_string_lossy();
        let bad = |what: String| Error::Config {
            var: var.clone(),
            value: value.to_string(),
            what,
        };
        let provider: Provider = value.parse().map_err(bad)?;
        if !offers(provider, alg) {
            let have: Vec<_> = candidates(alg).iter().map(|p| p.name()).collect();
            return Err(bad(format!(
                "{provider} has no {} here; use one of {}",
                alg.name(),
                have.join(", ")
            )));
        }
        return Ok(Choice {
            provider,
            rule: None,
            forced_by: Some(var),
        });
    }
    Ok(choose_for(alg, cpu))
}

/// [`choose`]'s provider, or the table's when the override is invalid (the error is
/// reported when a session is created).
pub(crate) fn provider(alg: Algorithm) -> Provider {
    choose(alg)
        .unwrap_or_else(|_| choose_for(alg, CpuFeatures::detect()))
        .provider
}

/// The provider that runs cipher `alg`.
///
/// ```
/// use uadk_crypto::{software::select::{cipher_provider, Provider}, CipherAlg};
/// assert_eq!(cipher_provider(CipherAlg::from_name("aes-256-xts").unwrap()), Provider::OpenSsl);
/// assert_eq!(cipher_provider(CipherAlg::from_name("sm4-xts").unwrap()), Provider::RustCrypto);
/// ```
pub fn cipher_provider(alg: CipherAlg) -> Provider {
    provider(Algorithm::Cipher(alg))
}

/// The provider that runs digest `alg`.
///
/// ```
/// use uadk_crypto::{software::select::{digest_provider, Provider}, DigestAlg};
/// assert_eq!(digest_provider(DigestAlg::Sha512), Provider::OpenSsl);
/// ```
pub fn digest_provider(alg: DigestAlg) -> Provider {
    provider(Algorithm::Digest(alg))
}

/// The provider that runs AEAD `alg`.
///
/// ```
/// use uadk_crypto::{software::select::{aead_provider, Provider}, AeadAlg};
/// assert_eq!(aead_provider(AeadAlg::from_name("sm4-ccm").unwrap()), Provider::RustCrypto);
/// ```
pub fn aead_provider(alg: AeadAlg) -> Provider {
    provider(Algorithm::Aead(alg))
}

/// A keyed cipher engine of the chosen provider (key length already validated).
pub(crate) fn cipher(alg: CipherAlg, key: &[u8], dir: Direction) -> Result<Box<dyn CipherEngine>> {
    cipher_with(cipher_provider(alg), alg, key, dir)
}

/// A keyed cipher engine of provider `p`.
pub(crate) fn cipher_with(
    p: Provider,
    alg: CipherAlg,
    key: &[u8],
    dir: Direction,
) -> Result<Box<dyn CipherEngine>> {
    match p {
        Provider::OpenSsl if openssl::cipher_ref(alg).is_some() => {
            Ok(Box::new(openssl::OsslCipher::new(alg, key, dir)?))
        }
        Provider::RustCrypto if alg.mode == CipherMode::Xts => rustcrypto::xts(alg, key, dir),
        _ => Err(Error::provider(
            alg.name(),
            format!("{p} has no engine for it here"),
        )),
    }
}

/// A fresh digest engine of the chosen provider.
pub(crate) fn digest(alg: DigestAlg) -> Result<Box<dyn DigestEngine>> {
    digest_with(digest_provider(alg), alg)
}

/// A fresh digest engine for HMAC over `alg` (follows `UADK_ENGINE_HMAC_<ALG>`).
pub(crate) fn hmac_digest(alg: DigestAlg) -> Result<Box<dyn DigestEngine>> {
    digest_with(provider(Algorithm::Hmac(alg)), alg)
}

/// A fresh digest engine of provider `p`.
pub(crate) fn digest_with(p: Provider, alg: DigestAlg) -> Result<Box<dyn DigestEngine>> {
    Ok(match (p, alg) {
        (Provider::OpenSsl, _) => Box::new(openssl::OsslDigest::new(alg)?),
        (Provider::AwsLc, _) => Box::new(aws_lc::AwsDigest::new(alg)?),
        (Provider::Ring, _) => Box::new(ring_digest::RingDigest::new(alg)?),
        (Provider::RustCrypto, DigestAlg::Sha1) => Box::new(rustcrypto::RcSha1::default()),
        (Provider::RustCrypto, DigestAlg::Sha224) => Box::new(rustcrypto::RcSha224::default()),
        (Provider::RustCrypto, DigestAlg::Sha256) => Box::new(rustcrypto::RcSha256::default()),
        (Provider::RustCrypto, DigestAlg::Sha384) => Box::new(rustcrypto::RcSha384::default()),
        (Provider::RustCrypto, DigestAlg::Sha512) => Box::new(rustcrypto::RcSha512::default()),
        (Provider::RustCrypto, DigestAlg::Sm3) => Box::new(rustcrypto::RcSm3::default()),
        (Provider::RustCrypto, DigestAlg::Md5) => {
            return Err(Error::provider(
                alg.name(),
                "rustcrypto has no engine for it here",
            ))
        }
    })
}

/// A keyed AEAD engine of the chosen provider (key and tag lengths already validated).
pub(crate) fn aead(alg: AeadAlg, key: &[u8], tag_len: usize) -> Result<Box<dyn AeadEngine>> {
    aead_with(aead_provider(alg), alg, key, tag_len)
}

/// A keyed AEAD engine of provider `p`.
pub(crate) fn aead_with(
    p: Provider,
    alg: AeadAlg,
    key: &[u8],
    tag_len: usize,
) -> Result<Box<dyn AeadEngine>> {
    match p {
        _ if !offers(p, Algorithm::Aead(alg)) => Err(Error::provider(
            alg.name(),
            format!("{p} has no engine for it here"),
        )),
        Provider::AwsLc => Ok(Box::new(aws_lc::AwsGcm::new(alg, key, tag_len)?)),
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

#[cfg(test)]
mod tests {
    use super::*;

    fn cpu(s: &str) -> CpuFeatures {
        s.parse().unwrap()
    }

    const XEON: &str = "aes pclmulqdq avx2 bmi2 avx512f avx512vl avx512bw vaes vpclmulqdq sha_ni";
    const ZEN3: &str = "aes pclmulqdq avx2 bmi2 vaes vpclmulqdq sha_ni";
    const OLD: &str = "aes pclmulqdq avx2 bmi2";

    fn pick(alg: &str, features: &str) -> Provider {
        choose_for(Algorithm::from_name(alg).unwrap(), cpu(features)).provider
    }

    #[test]
    fn fake_cpus_get_the_table_s_picks() {
        use Provider::*;
        let table = [
            // (algorithm, Xeon with AVX-512 + VAES, Zen 3 with 256-bit VAES, no VAES/SHA-NI)
            ("aes-128-gcm", AwsLc, Ring, Ring),
            ("aes-256-gcm", AwsLc, Ring, Ring),
            ("aes-192-gcm", AwsLc, OpenSsl, OpenSsl),
            ("aes-128-ccm", OpenSsl, OpenSsl, OpenSsl),
            ("sm4-gcm", RustCrypto, RustCrypto, RustCrypto),
            ("sha256", RustCrypto, RustCrypto, OpenSsl),
            ("hmac-sha256", RustCrypto, RustCrypto, OpenSsl),
            ("sha224", RustCrypto, RustCrypto, OpenSsl),
            ("sha512", OpenSsl, OpenSsl, OpenSsl),
            ("sha1", OpenSsl, OpenSsl, OpenSsl),
            ("md5", OpenSsl, OpenSsl, OpenSsl),
            ("sm3", RustCrypto, RustCrypto, RustCrypto),
            ("hmac-sm3", RustCrypto, RustCrypto, RustCrypto),
            ("aes-256-xts", OpenSsl, OpenSsl, OpenSsl),
            ("aes-192-xts", RustCrypto, RustCrypto, RustCrypto),
            ("sm4-xts", RustCrypto, RustCrypto, RustCrypto),
            ("sm4-cbc", OpenSsl, OpenSsl, OpenSsl),
            ("aes-128-ctr", OpenSsl, OpenSsl, OpenSsl),
        ];
        for (alg, xeon, zen3, old) in table {
            assert_eq!(pick(alg, XEON), xeon, "{alg} on the Xeon");
            assert_eq!(pick(alg, ZEN3), zen3, "{alg} on Zen 3");
            assert_eq!(pick(alg, OLD), old, "{alg} without VAES/SHA-NI");
        }
        // AVX-512 without VAES is not enough for AWS-LC's GCM kernel.
        assert_eq!(pick("aes-128-gcm", "aes pclmulqdq avx2 avx512f avx512vl"), Ring);
    }

    #[test]
    fn every_algorithm_has_a_rule_and_a_candidate_engine() {
        for alg in Algorithm::all() {
            for features in [XEON, ZEN3, OLD, ""] {
                let c = choose_for(alg, cpu(features));
                assert!(c.rule.is_some(), "{alg} has no rule");
                assert!(candidates(alg).contains(&c.provider), "{alg}: {c}");
                assert!(cpu(features).has_all(c.features()), "{alg}: {c}");
            }
        }
    }

    #[test]
    fn provider_names_round_trip_and_bad_ones_say_what_to_use() {
        for p in Provider::ALL {
            assert_eq!(p.name().parse::<Provider>(), Ok(p));
        }
        assert!("boringssl".parse::<Provider>().unwrap_err().contains("aws-lc-rs"));
        assert_eq!(
            env_var(Algorithm::from_name("aes-128-gcm").unwrap()),
            "UADK_ENGINE_AES_128_GCM"
        );
    }

    /// On the real CPU, every candidate engine gives the chosen engine's result (not timed).
    #[test]
    fn every_candidate_agrees_with_the_chosen_engine() {
        let msg: Vec<u8> = (0..5000u32).map(|i| (i * 31 + 7) as u8).collect();
        for alg in Algorithm::all() {
            let chosen = choose_for(alg, CpuFeatures::detect()).provider;
            let run = |p: Provider| -> Vec<u8> {
                match alg {
                    Algorithm::Cipher(c) => {
                        let mut key: Vec<u8> = (0..c.key_len()).map(|i| i as u8).collect();
                        if c.mode == CipherMode::Xts {
                            key[c.key_len() / 2] ^= 0xff;
                        }
                        let mut e = cipher_with(p, c, &key, Direction::Encrypt).unwrap();
                        e.start(&vec![3u8; c.iv_len()]).unwrap();
                        let mut buf = msg[..4096].to_vec();
                        e.update_in_place(&mut buf).unwrap();
                        buf
                    }
                    Algorithm::Digest(d) => {
                        let mut e = digest_with(p, d).unwrap();
                        e.update(&msg).unwrap();
                        let mut out = vec![0u8; d.output_len()];
                        e.finish(&mut out).unwrap();
                        out
                    }
                    Algorithm::Hmac(d) => {
                        let st = crate::hmac::HmacState::with_provider(p, d, b"key").unwrap();
                        let mut inner = st.start().unwrap();
                        inner.update(&msg).unwrap();
                        let mut out = vec![0u8; d.output_len()];
                        st.finish(inner.as_mut(), &mut out).unwrap();
                        out
                    }
                    Algorithm::Aead(a) => {
                        let key = vec![5u8; a.key_len()];
                        let mut e = aead_with(p, a, &key, 16).unwrap();
                        let mut buf = msg.clone();
                        let mut tag = [0u8; 16];
                        e.seal_in_place(&[1u8; 12], b"aad", &mut buf, &mut tag).unwrap();
                        buf.extend_from_slice(&tag);
                        buf
                    }
                }
            };
            let want = run(chosen);
            for p in candidates(alg) {
                assert_eq!(run(p), want, "{alg}: {p} differs from the chosen {chosen}");
            }
        }
    }

    #[test]
    fn an_engine_override_is_checked() {
        let with =
            |value: &'static str| move |var: &str| (var == "UADK_ENGINE_AES_192_CTR").then(|| value.into());
        let ctr = Algorithm::from_name("aes-192-ctr").unwrap();
        let here = CpuFeatures::detect();
        let e = choose_in(ctr, here, &with("ring")).unwrap_err();
        let msg = e.to_string();
        assert!(
            msg.contains("UADK_ENGINE_AES_192_CTR") && msg.contains("use one of openssl"),
            "{msg}"
        );
        assert!(choose_in(ctr, here, &with("chacha")).is_err());
        let c = choose_in(ctr, here, &with("openssl")).unwrap();
        assert_eq!(c.forced_by.as_deref(), Some("UADK_ENGINE_AES_192_CTR"));
        // HMAC follows its digest's variable unless its own is set.
        let sha = |var: &str| (var == "UADK_ENGINE_SHA256").then(|| "ring".into());
        let c = choose_in(Algorithm::from_name("hmac-sha256").unwrap(), here, &sha).unwrap();
        assert_eq!(c.provider, Provider::Ring);
    }
}
