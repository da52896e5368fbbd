//! # uadk-provider: `libuadk_provider.so`, an OpenSSL 3 provider on uadk-crypto
//!
//! Every OpenSSL 3 program (nginx, curl, Python, `openssl` itself) reaches uadk-crypto's
//! engines and the SEC device through this module: load it with `-provider-path DIR
//! -provider libuadk_provider` or from an `openssl.cnf` (see `openssl.cnf` beside this
//! crate), activate it beside the `default` provider and prefer it with
//! `default_properties = ?provider=uadk_provider`; whatever it lacks falls back to the
//! default provider.
//!
//! ## Model
//! - Ciphers: AES-128/192/256-GCM and -CCM, AES ECB/CBC/CTR/XTS, SM4 ECB/CBC/CTR/XTS,
//!   SM4-GCM and SM4-CCM. Digests: SHA-1, SHA-224/256/384/512, SM3, MD5 (HMAC, HKDF and
//!   the TLS PRF then run through OpenSSL's own MAC/KDF code over our digests). Names,
//!   aliases and OIDs are the default provider's ([`algs`]).
//! - Each request runs through a uadk-crypto session from one process-wide context
//!   ([`runtime`]): on the SEC device when one is attached and the request is above its
//!   threshold, otherwise on the software engine uadk-crypto measured fastest.
//! - EVP semantics are the default provider's, not only the fast case: multi-update
//!   messages, tags set late, short tags, in place, re-init with and without key, DUPCTX,
//!   padding, CTR `num`, TLS 1.2 record mode, and every parameter it answers. One-call
//!   engines serve one-call messages; the rest stream ([`gcm`], [`gcm_stream`], [`block`],
//!   [`ccm`], [`digest`]); TLS CBC records and TLS CCM records are handed to OpenSSL's
//!   default implementation, fetched explicitly ([`delegate`]).
//! - No recursion: everything this provider fetches from OpenSSL (and uadk-crypto's
//!   OpenSSL engines) is fetched with `provider=default`, so a configuration that prefers
//!   this provider can never route its own work back into it.
//! - The C boundary ([`entry`], [`provider`]) checks every pointer, catches every panic
//!   ([`boundary`]) and reports errors on OpenSSL's error queue with OpenSSL's reason codes.
//!   Nothing is logged per request. Fork: uadk-crypto re-opens device queues in a child;
//!   counters restart there.
//! - Counters: `openssl list -providers -verbose` shows name, version and status; the
//!   provider parameter `uadk-stats` and the file named by `UADK_PROVIDER_STATS` give the
//!   device/software split and which provider path ran ([`runtime`]).
//!
//! ```
//! // The entry point OpenSSL looks up in the module.
//! let f: unsafe extern "C" fn(_, _, _, _) -> _ = uadk_provider::provider::OSSL_provider_init;
//! let _ = f;
//! ```
#![deny(missing_docs)]

pub mod algs;
pub mod block;
pub mod boundary;
pub mod ccm;
pub mod counters;
pub mod delegate;
pub mod digest;
mod entry;
mod fetch;
pub mod gcm;
pub mod gcm_stream;
pub mod io;
#[allow(missing_docs)]
pub mod ossl;
pub mod params;
pub mod provider;
pub mod runtime;
