//! # libwd_crypto.so.2 on uadk-rs (crate `uadk-wd-crypto`)
//!
//! UADK's symmetric crypto library with UADK's soname, symbol versions
//! (`UADK_CRYPTO_2.0`) and struct layouts (UADK 2.11), on uadk-crypto: a HiSilicon SEC
//! device when a request's context is on one (uadk-crypto's SEC driver, attached with
//! `device::sec::attach_from_env`; small requests stay in software by uadk-crypto's
//! measured policy, device failures are redone in software), software otherwise
//! (uadk-crypto's per-algorithm choice of ring, OpenSSL and RustCrypto).
//!
//! - [`cipher`]: AES and SM4 in ECB, CBC, CTR, XTS; the IV buffer is updated for chaining
//!   (CBC: last ciphertext block; CTR: the counter after the data).
//! - [`digest`]: SM3, MD5, SHA-1, SHA-224/256/384/512, plain and HMAC, one-shot and long
//!   hash (`has_next`).
//! - [`aead`]: AES/SM4 in GCM and CCM, one-shot; a tag that does not verify gives
//!   `state == WD_VERIFY_ERR` and a zeroed output.
//! - [`init`]: the three libraries' initialisation (UADK's four flows each, see
//!   [`uadk_wd_common::setting`]), polling and the scheduler exports.
//!
//! RSA, DH and ECC (also in UADK's libwd_crypto) are not offered: uadk-crypto has no
//! asymmetric algorithms. Where requests ran: `wd_rs_crypto_sess_route`,
//! `wd_rs_crypto_counters` (`wd_rs.h`).

#![deny(missing_docs)]

pub mod aead;
pub mod cipher;
mod common;
pub mod digest;
pub mod init;

pub use aead::*;
pub use cipher::*;
pub use common::{wd_rs_crypto_counters, wd_rs_crypto_sess_route};
pub use digest::*;
pub use init::*;

// Unit tests link the real libwd (an rlib) for the calls the cdylib makes into libwd.so.2.
#[cfg(test)]
use wd as _;

// The exported entry points, each bound to its version node (generated from libwd_crypto.map).
include!(concat!(env!("OUT_DIR"), "/symver.rs"));
