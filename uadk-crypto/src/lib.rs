//! # uadk-crypto
//!
//! Ciphers, digests, HMAC and AEAD for uadk-rs, with the request model of UADK's
//! `libwd_crypto` (sessions with the key set once, sync and async requests, SEC-style
//! backends) and software fallback that is first-class rather than an afterthought.
//!
//! ## Algorithms
//! Names are the ones UADK and OpenSSL users type ([`Algorithm::from_name`], case-insensitive):
//! - ciphers ([`CipherSession`]): `aes-{128,192,256}-{ecb,cbc,ctr,xts}`, `sm4-{ecb,cbc,ctr,xts}`
//!   (no padding; XTS keys are both halves, the IV is the tweak);
//! - digests ([`DigestSession::new`]): `sha1`, `sha224`, `sha256`, `sha384`, `sha512`, `sm3`, `md5`;
//! - HMAC ([`DigestSession::hmac`]): `hmac-<digest>` for each of them;
//! - AEAD ([`AeadSession`]): `aes-{128,192,256}-{gcm,ccm}`, `sm4-gcm`, `sm4-ccm`.
//!
//! ## Model
//! A [`Crypto`] context holds the requested [`Backend`] (`Auto`, `Device`, `Software`), the
//! [`Policy`] (small-packet thresholds, fallback) and the counters ([`Stats`]). Sessions are
//! made from it with the key set once and are `Send + Sync`: one session serves any number
//! of threads (keyed software engines are pooled). Every operation returns a [`Route`] that
//! says which backend ran and why: "device (hisi_sec2-0 offers it)", or, in a context
//! without a registered device, "software (no device offers aes-128-gcm)" (and
//! `Backend::Device` is then a clear error). The SEC driver is registered with
//! [`device::sec::attach_from_env`] (see "The device seam").
//!
//! - One-shot, out of place or in place: [`CipherSession::encrypt`],
//!   [`CipherSession::encrypt_in_place`], [`AeadSession::seal`], [`AeadSession::open_in_place`], ...
//! - Streaming: [`CipherSession::encryptor`] chains the IV across calls (CBC: last
//!   ciphertext block; CTR: the counter, any split; XTS: each call is the next data unit);
//!   [`DigestSession::hasher`] takes inputs of any length (on a SEC device as a long hash:
//!   first/middle/last requests with the intermediate state carried between them; a device
//!   failing mid-stream is continued in software from that state for SHA-1/SHA-2, and is
//!   [`Error::StreamLost`] for MD5/SM3, never a silent restart).
//! - Async/batch: [`batch::DeviceBatch`] lets one thread keep several device queues busy
//!   (many requests in flight on each, completions by `poll`/`wait` or callback), runs jobs
//!   below the small-packet thresholds or unfit for the device in software, and redoes
//!   failed device requests in software (counted); [`batch::BatchQueue`] runs the same jobs
//!   on worker threads over the sessions' synchronous paths.
//!
//! ```
//! use uadk_crypto::{AeadAlg, AeadSession, Crypto, Ran};
//! let crypto = Crypto::auto();
//! let gcm = AeadSession::new(&crypto, AeadAlg::from_name("aes-256-gcm")?, &[7; 32], 16)?;
//! let mut buf = b"attack at dawn".to_vec();
//! let mut tag = [0u8; 16];
//! let route = gcm.seal_in_place(&[1; 12], b"hdr", &mut buf, &mut tag)?;
//! assert_eq!(route.ran, Ran::Software);
//! gcm.open_in_place(&[1; 12], b"hdr", &mut buf, &tag)?;
//! assert_eq!(buf, b"attack at dawn");
//! assert_eq!(crypto.stats().no_device, 2);
//! # Ok::<(), uadk_crypto::Error>(())
//! ```
//!
//! ## Safety rules kept
//! - Bad input (key, IV, nonce, tag lengths; XTS with equal key halves or under one block;
//!   ECB/CBC not in whole blocks; CTR counter wrap past 2^128 - 1; CCM messages too long for
//!   the nonce) is an [`Error`] with a message that says what to do, never a panic.
//! - AEAD decryption never releases plaintext whose tag did not verify: the output buffer
//!   (or the in-place buffer) is zeroed before [`Error::AuthenticationFailed`] returns, on
//!   every provider and on the device path.
//! - Keys are kept in `Zeroizing` buffers and wiped on drop; HMAC pads are wiped after use;
//!   OpenSSL contexts are cleansed by OpenSSL when freed; RustCrypto ciphers are built with
//!   their `zeroize` feature. (ring's key schedules are not wiped by ring.)
//! - The only `unsafe` is in four small modules, each block with a `SAFETY:` note:
//!   `software::openssl_ffi` (exact-length and in-place `EVP_CipherUpdate`, which the
//!   `openssl` crate does not offer without a spare block), `cputime` (the benchmark clock),
//!   `engines` (the session's hot engine, claimed by one request at a time through an
//!   atomic flag instead of a mutex) and [`device::sec`] (`submit_sync` for one request at a time, and the asynchronous
//!   `submit` of [`device::DeviceQueues`], whose requests own their buffers, boxed, until
//!   their completion is polled or their queue is dropped, which stops the hardware queue
//!   first).
//!
//! ## Software path
//! One library does not win everywhere, and the winner depends on the CPU, so
//! [`software::select`] picks per algorithm from a rule table keyed by the running CPU's
//! features (CPUID), with the measurements behind each rule in its docs: aws-lc-rs for
//! AES-GCM on CPUs with AVX-512 and VAES (AWS-LC's 512-bit kernel, 2.5-2.7x OpenSSL 3.0 on
//! an Intel Xeon), ring for AES-128/256-GCM on CPUs with 256-bit VAES only (BoringSSL's
//! AVX2 kernel, about 2x OpenSSL 3.0 on an AMD Zen 3), OpenSSL for AES ECB/CBC/CTR/XTS,
//! SM4 ECB/CBC/CTR, SHA-1, SHA-384/512, MD5, AES-CCM (and AES-192-GCM without AVX-512),
//! RustCrypto for SM3 (1.15-1.2x OpenSSL), SHA-224/256 with SHA-NI, and for what OpenSSL
//! 3.0 lacks (SM4-XTS, SM4-GCM, SM4-CCM, AES-192-XTS). `UADK_ENGINE_<ALG>=name` forces a
//! provider (a bad value is an [`Error::Config`] when a session is created); `uadk info`
//! prints the choice per algorithm with the CPU features behind it, and `uadk bench crypto`
//! measures every candidate beside ours. HMAC is RFC 2104 over the selected digest with
//! the keyed inner/outer states computed once per session.
//! The session layer costs within measurement noise of calling the provider directly at
//! 16 KiB (see `uadk bench crypto`, rows `"impl":"direct"`).
//!
//! Requests no SEC request can express (a 0-byte message for any digest, HMAC, cipher or
//! AEAD, AAD over 65535 bytes, more than 16776704 bytes in one request) complete in
//! software under every backend, `Device` included, and their route says why:
//! `software (0-byte message: not expressible as a SEC request)`
//! ([`backend::not_expressible`]).
//!
//! ## Small-packet policy
//! `Auto` keeps a request in software below a per-family threshold ([`Policy`]), even
//! when a device offers the algorithm: handing a request to the SEC costs the submitting
//! thread a fixed amount of work (build the BD, doorbell, poll and decode the completion)
//! that a small request cannot win back. Measured through the emulated SEC with one thread
//! keeping 64 requests in flight (`uadk bench crypto --backend device`, `host_ns_per_op`):
//! 0.6-0.9 µs per request up to 1 KiB, 1.2-2 µs at 4-16 KiB. Software, per request through a
//! session (`examples/bench`, one thread, thread CPU time, ns):
//!
//! | bytes | 64 | 128 | 256 | 512 | 1024 | 4096 |
//! |---|---|---|---|---|---|---|
//! | AES-128-CBC | 225 | 278 | 393 | 609 | 1045 | 3770 |
//! | AES-128-GCM seal | 117 | 121 | 134 | 164 | 226 | 608 |
//! | SHA-256 | 490 | 530 | 627 | 775 | 1108 | 3088 |
//! | SM3 | 487 | 691 | 1122 | 1948 | 3427 | 12377 |
//! | SM4-CBC | 789 | 1453 | 2581 | 4950 | 9723 | 38284 |
//!
//! The thresholds are where the two meet: SM4/SM3 64 B, SHA/MD5 digests and HMAC 512 B,
//! AES-CCM 512 B, AES ciphers 1 KiB (CBC encryption; CTR/XTS only near 16 KiB), AES-GCM
//! 16 KiB. UADK's OpenSSL adapters use 192 B (ciphers) / 512 B (digests), set for Kunpeng's
//! slower CPU crypto. Synchronous requests also wait for the device (an emulated round
//! trip is 100-300 µs on this shared host, so the emulator never beats software one request
//! at a time); real hardware answers in microseconds and pays for SMMU translation and
//! cache misses on device-written data, so re-measure there (the figures and what a real
//! device changes are in `MEASUREMENTS.md`). The session layer's own cost is 20-60 ns per
//! request (pool, routing, counters), about 1% for AES-GCM at 16 KiB.
//!
//! ## The device seam
//! A SEC driver implements [`SecDevice`] (what it offers, and sessions:
//! [`DeviceCipher`], [`DeviceDigest`], [`DeviceAead`]) and is registered with
//! [`Crypto::add_device`]. Requests are stateless for the device (the framework passes the
//! IV/counter/tweak of each request and tracks chaining itself), so a request that fails
//! on the device (error, stopped queue, vanished device) is redone in software from the
//! same state when [`Policy::fallback`] allows it, counted in [`Stats::fallbacks`]; a tag
//! mismatch reported by the device is an answer, not a failure, and is never retried.
//!
//! [`device::sec`] is the driver for HiSilicon SEC devices (hardware or the `uadk-emu`
//! emulator): [`device::sec::attach_from_env`] discovers the device once per process (from
//! `UADK_SYSFS_ROOT`/`UADK_DEV_ROOT`, again after `fork`) and registers it, so `Auto`
//! sends requests above the thresholds to it. It offers AES/SM4 ECB/CBC/CTR/XTS (not
//! AES-192-XTS), SHA-1/SHA-2/SM3/MD5 digests and HMAC, and AES/SM4-GCM/CCM, on BD2 (QM v2)
//! and BD3 (QM v3+).
#![deny(missing_docs)]

pub mod aead;
pub mod alg;
pub mod backend;
pub mod batch;
pub mod bench;
pub mod cipher;
mod cputime;
pub mod device;
pub mod digest;
mod engines;
pub mod error;
pub mod hex;
mod hmac;
pub mod software;

pub use aead::AeadSession;
pub use alg::{AeadAlg, AeadMode, Algorithm, BlockCipher, CipherAlg, CipherMode, DigestAlg};
pub use backend::{Backend, Crypto, Policy, Ran, Reason, Route, Stats};
pub use cipher::{CipherSession, CipherStream};
pub use device::{DeviceAead, DeviceCipher, DeviceDigest, DeviceError, Direction, SecDevice, Verified};
pub use digest::{DigestSession, Hasher};
pub use error::{Error, Result};
