//! The SEC device driver: a [`SecDevice`] over `uadk-core` queue pairs on a HiSilicon SEC
//! (`hisi_sec2`) uacce device, one BD per request (BD2 on QM v2, BD3 on QM v3+, encoded by
//! the private `device::bd` module).
//!
//! - [`SecDriver::open`] drives one discovered device; [`SecDriver::discover`] scans sysfs
//!   and picks the device for "cipher" (NUMA distance, then free queues).
//! - [`attach`] / [`attach_from_env`] register a driver with a [`Crypto`] context;
//!   `attach_from_env` reuses one driver per process (discovered lazily from
//!   `UADK_SYSFS_ROOT`/`UADK_DEV_ROOT`), discovered again in a forked child.
//! - Queues belong to the process that opened them: every queue records the fork generation
//!   it was opened in and is reopened in a child. A small pool of queues is opened lazily,
//!   each used by one request at a time, so a timed-out queue is dropped (stopping the
//!   hardware queue) before the request's buffers are released.
//! - Every device error status becomes a [`DeviceError`]; the framework then redoes the
//!   request in software (counted) or returns the error. On a tag mismatch nothing is
//!   written to the caller's buffer: the device decrypts into a session-owned scratch buffer
//!   that is copied out only when the tag verified.
//!
//! Offered: AES-128/192/256 and SM4 in ECB, CBC, CTR and XTS (not AES-192-XTS, which the
//! SEC rejects), SHA-1, SHA-224/256/384/512, SM3, MD5 and their HMACs (one-shot, 1 byte to
//! 16 MiB − 512 B), AES/SM4-GCM (12- or 16-byte tags) and AES/SM4-CCM (4-, 8-, 12- or
//! 16-byte tags). Other request shapes (empty messages, AAD over 64 KiB, tags that are not
//! whole words) are [`DeviceError::Unsupported`] and run in software.

use std::sync::{Arc, Mutex as StdMutex};
use std::time::Duration;

use parking_lot::Mutex;
use uadk_core::discovery::{self, Device, Roots};
use uadk_core::qm::{QueueOptions, QueuePair, Sqe};
use uadk_core::request::{BusyPolicy, WaitPolicy};
use uadk_core::sec_copy::SecBd;
use uadk_core::sys::fork;
use zeroize::Zeroizing;

use super::bd::{self, a_alg, auth, c_alg, c_mode, dir, key_code, Icv, Req, MAX_LEN};
use super::{DeviceAead, DeviceCipher, DeviceDigest, DeviceError, Direction, SecDevice, Verified};
use crate::alg::{AeadAlg, AeadMode, Algorithm, BlockCipher, CipherAlg, CipherMode, DigestAlg};
use crate::backend::{Backend, Crypto};
use crate::digest::DigestSession;

/// Queues a driver opens at most (each serves one request at a time).
const QUEUES: usize = 4;

fn map_err(e: uadk_core::Error) -> DeviceError {
    match e {
        uadk_core::Error::QueueStopped => DeviceError::QueueStopped,
        uadk_core::Error::DeviceGone { .. } => DeviceError::Vanished,
        other => DeviceError::Failed(other.to_string()),
    }
}

/// One lazily opened queue and the fork generation it was opened in.
type Slot = Mutex<Option<(u64, QueuePair)>>;

struct Shared {
    dev: Device,
    bd: SecBd,
    wait: WaitPolicy,
    slots: Vec<Slot>,
}

impl Shared {
    /// Submits one descriptor on a queue of this process and decodes its status.
    ///
    /// # Safety
    /// Every address in `sqe` must name memory that stays valid (and writable where the
    /// device writes) until this returns. A queue whose request timed out is dropped here,
    /// which stops the hardware queue, before returning.
    unsafe fn run(&self, sqe: &Sqe) -> Result<Icv, DeviceError> {
        let start = thread_slot(self.slots.len());
        let mut guard = (0..self.slots.len())
            .find_map(|i| self.slots[(start + i) % self.slots.len()].try_lock())
            .unwrap_or_else(|| self.slots[start].lock());
        let generation = fork::generation();
        let stale = match &*guard {
            Some((g, q)) => *g != generation || q.is_stopped(),
            None => true,
        };
        if stale {
            // In a forked child the old queue's drop skips PUT_Q (it is not ours).
            *guard = None;
            let q = QueuePair::open(
                &self.dev,
                QueueOptions {
                    qc_type: 0,
                    tag: self.bd.tag_field(),
                    ..Default::default()
                },
            )
            .map_err(map_err)?;
            *guard = Some((generation, q));
        }
        let Some((_, q)) = guard.as_ref() else {
            return Err(DeviceError::QueueStopped);
        };
        // SAFETY: forwarded from this function's contract: the caller keeps every buffer the
        // descriptor names alive until we return, and on a fatal queue error (timeout
        // included) the queue is dropped below, before we return.
        let r = unsafe { q.submit_sync(sqe, &self.wait) };
        match r {
            Ok(done) => bd::status(&done),
            Err(e) => {
                if e.is_fatal_for_queue() {
                    *guard = None;
                }
                Err(map_err(e))
            }
        }
    }
}

/// A per-thread starting slot, so threads spread over the queues.
fn thread_slot(n: usize) -> usize {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    std::thread::current().id().hash(&mut h);
    (h.finish() as usize) % n.max(1)
}

/// A SEC device driven through `uadk-core` queues.
#[derive(Clone)]
pub struct SecDriver {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for SecDriver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SecDriver")
            .field("device", &self.shared.dev.name)
            .field("bd", &self.shared.bd)
            .finish()
    }
}

impl SecDriver {
    /// Drives `dev` (BD2 on QM v2, BD3 on v3+); opens one queue now to check it works.
    ///
    /// # Errors
    /// The device lists none of cipher/digest/aead, or its queue cannot be opened.
    pub fn open(dev: &Device) -> Result<SecDriver, DeviceError> {
        if !["cipher", "digest", "aead"].iter().any(|a| dev.supports(a)) {
            return Err(DeviceError::Unsupported(format!(
                "{} lists none of cipher, digest, aead",
                dev.name
            )));
        }
        let driver = SecDriver {
            shared: Arc::new(Shared {
                dev: dev.clone(),
                bd: SecBd::for_version(dev.qm_version),
                wait: WaitPolicy {
                    busy: BusyPolicy::Wait(Duration::from_millis(100)),
                    ..WaitPolicy::default()
                },
                slots: (0..QUEUES).map(|_| Mutex::new(None)).collect(),
            }),
        };
        let q = QueuePair::open(
            dev,
            QueueOptions {
                qc_type: 0,
                tag: driver.shared.bd.tag_field(),
                ..Default::default()
            },
        )
        .map_err(map_err)?;
        *driver.shared.slots[0].lock() = Some((fork::generation(), q));
        Ok(driver)
    }

    /// Scans `roots` and drives the SEC device chosen for "cipher" (then "digest", "aead").
    ///
    /// # Errors
    /// No such device, or it cannot be opened.
    pub fn discover(roots: &Roots) -> Result<SecDriver, DeviceError> {
        let found = discovery::scan(roots);
        let dev = ["cipher", "digest", "aead"]
            .iter()
            .find_map(|a| discovery::select(&found.devices, a, None))
            .ok_or_else(|| {
                DeviceError::Unsupported(format!(
                    "no SEC device under {} (set UADK_SYSFS_ROOT/UADK_DEV_ROOT for an emulator)",
                    roots.sysfs.display()
                ))
            })?;
        SecDriver::open(dev)
    }

    /// The descriptor format in use.
    pub fn bd(&self) -> SecBd {
        self.shared.bd
    }

    /// The BD's cipher algorithm and key-length codes of a block cipher.
    fn block_codes(block: BlockCipher) -> (u8, u8) {
        match block {
            BlockCipher::Aes128 => (c_alg::AES, key_code::K128),
            BlockCipher::Aes192 => (c_alg::AES, key_code::K192),
            BlockCipher::Aes256 => (c_alg::AES, key_code::K256),
            BlockCipher::Sm4 => (c_alg::SM4, key_code::K128),
        }
    }

    fn cipher_codes(alg: CipherAlg) -> Option<(u8, u8, u8)> {
        let (a, k) = Self::block_codes(alg.block);
        let m = match alg.mode {
            CipherMode::Ecb => c_mode::ECB,
            CipherMode::Cbc => c_mode::CBC,
            CipherMode::Ctr => c_mode::CTR,
            // The SEC has no AES-192-XTS (the kernel driver falls back to software too).
            CipherMode::Xts if alg.block == BlockCipher::Aes192 => return None,
            CipherMode::Xts => c_mode::XTS,
        };
        Some((a, m, k))
    }

    fn aead_codes(alg: AeadAlg) -> (u8, u8, u8) {
        let (a, k) = Self::block_codes(alg.block);
        let m = match alg.mode {
            AeadMode::Gcm => c_mode::GCM,
            AeadMode::Ccm => c_mode::CCM,
        };
        (a, m, k)
    }

    fn digest_code(alg: DigestAlg, hmac: bool) -> u8 {
        let base = match alg {
            DigestAlg::Sha1 => a_alg::SHA1,
            DigestAlg::Sha224 => a_alg::SHA224,
            DigestAlg::Sha256 => a_alg::SHA256,
            DigestAlg::Sha384 => a_alg::SHA384,
            DigestAlg::Sha512 => a_alg::SHA512,
            DigestAlg::Md5 => a_alg::MD5,
            DigestAlg::Sm3 => return if hmac { a_alg::HMAC_SM3 } else { a_alg::SM3 },
        };
        if hmac {
            base + a_alg::HMAC_BASE
        } else {
            base
        }
    }
}

impl SecDevice for SecDriver {
    fn name(&self) -> String {
        self.shared.dev.name.clone()
    }

    fn offers(&self, alg: Algorithm) -> bool {
        let dev = &self.shared.dev;
        match alg {
            Algorithm::Cipher(c) => dev.supports("cipher") && SecDriver::cipher_codes(c).is_some(),
            Algorithm::Digest(_) | Algorithm::Hmac(_) => dev.supports("digest"),
            Algorithm::Aead(_) => dev.supports("aead"),
        }
    }

    fn cipher(&self, alg: CipherAlg, key: &[u8]) -> Result<Box<dyn DeviceCipher>, DeviceError> {
        let (a, m, k) = SecDriver::cipher_codes(alg)
            .ok_or_else(|| DeviceError::Unsupported(format!("{alg} on the SEC")))?;
        Ok(Box::new(SecCipher {
            shared: self.shared.clone(),
            c_alg: a,
            c_mode: m,
            key_code: k,
            key: Zeroizing::new(key.to_vec()),
            iv: [0; 16],
            scratch: Zeroizing::new(Vec::new()),
        }))
    }

    fn digest(&self, alg: DigestAlg, hmac_key: Option<&[u8]>) -> Result<Box<dyn DeviceDigest>, DeviceError> {
        let key = match hmac_key {
            None => None,
            Some(k) => {
                // RFC 2104: a key longer than the block is hashed first; shorter keys are
                // zero-padded to the block, so padding to whole words changes nothing.
                let mut key = if k.len() > alg.block_len() {
                    let sw = DigestSession::new(&Crypto::new(Backend::Software), alg)
                        .map_err(|e| DeviceError::Failed(e.to_string()))?;
                    Zeroizing::new(
                        sw.digest_to_vec(k)
                            .map_err(|e| DeviceError::Failed(e.to_string()))?,
                    )
                } else {
                    Zeroizing::new(k.to_vec())
                };
                let words = key.len().div_ceil(4).max(1);
                key.resize(words * 4, 0);
                Some(key)
            }
        };
        Ok(Box::new(SecDigest {
            shared: self.shared.clone(),
            a_alg: SecDriver::digest_code(alg, key.is_some()),
            out_len: alg.output_len(),
            key,
            mac: [0; 64],
        }))
    }

    fn aead(&self, alg: AeadAlg, key: &[u8], tag_len: usize) -> Result<Box<dyn DeviceAead>, DeviceError> {
        let ok = tag_len % 4 == 0
            && match alg.mode {
                AeadMode::Gcm => tag_len == 12 || tag_len == 16,
                AeadMode::Ccm => (4..=16).contains(&tag_len),
            };
        if !ok {
            return Err(DeviceError::Unsupported(format!(
                "{alg} with a {tag_len}-byte tag (the SEC takes whole-word tags: GCM 12 or 16, CCM 4, 8, 12 or 16)"
            )));
        }
        let (a, m, k) = SecDriver::aead_codes(alg);
        Ok(Box::new(SecAead {
            shared: self.shared.clone(),
            c_alg: a,
            c_mode: m,
            key_code: k,
            key: Zeroizing::new(key.to_vec()),
            tag_len,
            iv: [0; 16],
            tag: [0; 16],
            src: Zeroizing::new(Vec::new()),
            dst: Zeroizing::new(Vec::new()),
        }))
    }
}

fn check_len(len: usize) -> Result<u32, DeviceError> {
    if len == 0 || len > MAX_LEN {
        return Err(DeviceError::Unsupported(format!(
            "{len} bytes in one SEC request (1..={MAX_LEN})"
        )));
    }
    Ok(len as u32)
}

struct SecCipher {
    shared: Arc<Shared>,
    c_alg: u8,
    c_mode: u8,
    key_code: u8,
    key: Zeroizing<Vec<u8>>,
    iv: [u8; 16],
    scratch: Zeroizing<Vec<u8>>,
}

impl SecCipher {
    fn run(&mut self, d: Direction, iv: &[u8], input: &[u8], output: &mut [u8]) -> Result<(), DeviceError> {
        if input.is_empty() {
            return Ok(());
        }
        let c_len = check_len(input.len())?;
        if iv.len() > self.iv.len() || output.len() != input.len() {
            return Err(DeviceError::Unsupported(format!(
                "IV of {} bytes or output of {} for {} input bytes",
                iv.len(),
                output.len(),
                input.len()
            )));
        }
        self.iv = [0; 16];
        self.iv[..iv.len()].copy_from_slice(iv);
        let req = Req {
            dir: match d {
                Direction::Encrypt => dir::ENCRYPT,
                Direction::Decrypt => dir::DECRYPT,
            },
            c_alg: self.c_alg,
            c_mode: self.c_mode,
            key_code: self.key_code,
            c_len,
            src: input.as_ptr() as u64,
            dst: output.as_mut_ptr() as u64,
            c_key: self.key.as_ptr() as u64,
            c_iv: self.iv.as_ptr() as u64,
            ..Default::default()
        };
        let sqe = bd::encode(self.shared.bd, &req);
        // SAFETY: the BD names `input`, `output` (borrowed for this call), the session's key
        // and IV block (owned by `self`, borrowed mutably for this call); `run` returns only
        // after the device completed the request or its queue was dropped.
        unsafe { self.shared.run(&sqe) }.map(|_| ())
    }
}

impl DeviceCipher for SecCipher {
    fn crypt(&mut self, d: Direction, iv: &[u8], input: &[u8], output: &mut [u8]) -> Result<(), DeviceError> {
        self.run(d, iv, input, output)
    }

    fn crypt_in_place(&mut self, d: Direction, iv: &[u8], buf: &mut [u8]) -> Result<(), DeviceError> {
        // Out of place into a scratch buffer, so `buf` is unchanged when the device fails.
        let mut scratch = std::mem::take(&mut self.scratch);
        scratch.clear();
        scratch.resize(buf.len(), 0);
        let r = self.run(d, iv, buf, &mut scratch);
        if r.is_ok() {
            buf.copy_from_slice(&scratch);
        }
        self.scratch = scratch;
        r
    }
}

struct SecDigest {
    shared: Arc<Shared>,
    a_alg: u8,
    out_len: usize,
    key: Option<Zeroizing<Vec<u8>>>,
    mac: [u8; 64],
}

impl DeviceDigest for SecDigest {
    fn digest(&mut self, data: &[u8], out: &mut [u8]) -> Result<(), DeviceError> {
        let a_len = check_len(data.len())?;
        if out.len() != self.out_len {
            return Err(DeviceError::Unsupported(format!(
                "a {}-byte digest buffer for a {}-byte digest",
                out.len(),
                self.out_len
            )));
        }
        let (a_key, akey_words) = match &self.key {
            Some(k) => (k.as_ptr() as u64, (k.len() / 4) as u8),
            None => (0, 0),
        };
        let req = Req {
            auth: auth::CALC,
            a_alg: self.a_alg,
            mac_words: (self.out_len / 4) as u8,
            akey_words,
            a_len,
            src: data.as_ptr() as u64,
            mac: self.mac.as_mut_ptr() as u64,
            a_key,
            ..Default::default()
        };
        let sqe = bd::encode(self.shared.bd, &req);
        // SAFETY: the BD names `data` (borrowed for this call) and the session's MAC buffer
        // and HMAC key (owned by `self`, borrowed mutably for this call); `run` returns only
        // after the device completed the request or its queue was dropped.
        unsafe { self.shared.run(&sqe) }?;
        out.copy_from_slice(&self.mac[..self.out_len]);
        Ok(())
    }
}

struct SecAead {
    shared: Arc<Shared>,
    c_alg: u8,
    c_mode: u8,
    key_code: u8,
    key: Zeroizing<Vec<u8>>,
    tag_len: usize,
    iv: [u8; 16],
    tag: [u8; 16],
    src: Zeroizing<Vec<u8>>,
    dst: Zeroizing<Vec<u8>>,
}

impl SecAead {
    /// Runs one AEAD BD over `aad ‖ buf` into the scratch destination; the caller copies
    /// the payload out.
    fn run(&mut self, seal: bool, nonce: &[u8], aad: &[u8], buf: &[u8]) -> Result<Icv, DeviceError> {
        let c_len = check_len(buf.len())?;
        let c_off = u16::try_from(aad.len()).map_err(|_| {
            DeviceError::Unsupported(format!("{} bytes of AAD (the SEC takes up to 65535)", aad.len()))
        })?;
        check_len(aad.len() + buf.len())?;
        self.iv = [0; 16];
        if self.c_mode == c_mode::GCM {
            if nonce.len() != 12 {
                return Err(DeviceError::Unsupported(format!(
                    "a {}-byte GCM nonce",
                    nonce.len()
                )));
            }
            self.iv[..12].copy_from_slice(nonce);
        } else {
            if !(7..=13).contains(&nonce.len()) {
                return Err(DeviceError::Unsupported(format!(
                    "a {}-byte CCM nonce",
                    nonce.len()
                )));
            }
            // Linux crypto API CCM IV: byte 0 = L - 1 with L = 15 - nonce length.
            self.iv[0] = (14 - nonce.len()) as u8;
            self.iv[1..=nonce.len()].copy_from_slice(nonce);
        }
        self.src.clear();
        self.src.extend_from_slice(aad);
        self.src.extend_from_slice(buf);
        self.dst.clear();
        self.dst.resize(self.src.len(), 0);
        let req = Req {
            dir: if seal { dir::ENCRYPT } else { dir::DECRYPT },
            auth: if seal { auth::CALC } else { auth::VERIFY },
            c_alg: self.c_alg,
            c_mode: self.c_mode,
            key_code: self.key_code,
            mac_words: (self.tag_len / 4) as u8,
            c_len,
            a_len: aad.len() as u32,
            c_off,
            a_off: 0,
            src: self.src.as_ptr() as u64,
            dst: self.dst.as_mut_ptr() as u64,
            mac: self.tag.as_mut_ptr() as u64,
            c_key: self.key.as_ptr() as u64,
            c_iv: self.iv.as_ptr() as u64,
            ..Default::default()
        };
        let sqe = bd::encode(self.shared.bd, &req);
        // SAFETY: every buffer the BD names (source, destination, tag, key, IV) is owned by
        // `self`, borrowed mutably for this call and not resized until it returns; `run`
        // returns only after the device completed the request or its queue was dropped.
        unsafe { self.shared.run(&sqe) }
    }
}

impl DeviceAead for SecAead {
    fn seal_in_place(
        &mut self,
        nonce: &[u8],
        aad: &[u8],
        buf: &mut [u8],
        tag: &mut [u8],
    ) -> Result<(), DeviceError> {
        if tag.len() != self.tag_len {
            return Err(DeviceError::Unsupported(format!(
                "a {}-byte tag buffer",
                tag.len()
            )));
        }
        self.run(true, nonce, aad, buf)?;
        buf.copy_from_slice(&self.dst[aad.len()..]);
        tag.copy_from_slice(&self.tag[..self.tag_len]);
        Ok(())
    }

    fn open_in_place(
        &mut self,
        nonce: &[u8],
        aad: &[u8],
        buf: &mut [u8],
        tag: &[u8],
    ) -> Result<Verified, DeviceError> {
        if tag.len() != self.tag_len {
            return Err(DeviceError::Unsupported(format!("a {}-byte tag", tag.len())));
        }
        self.tag = [0; 16];
        self.tag[..self.tag_len].copy_from_slice(tag);
        let icv = self.run(false, nonce, aad, buf);
        match icv {
            Ok(Icv::Pass) => {
                buf.copy_from_slice(&self.dst[aad.len()..]);
                Ok(Verified::Yes)
            }
            Ok(Icv::Fail) => {
                // Never release unauthenticated plaintext, not even from the scratch buffer.
                zeroize::Zeroize::zeroize(&mut *self.dst);
                Ok(Verified::No)
            }
            Ok(Icv::None) => {
                zeroize::Zeroize::zeroize(&mut *self.dst);
                Err(DeviceError::Failed(
                    "SEC completed a tag verification without an ICV result".to_string(),
                ))
            }
            Err(e) => {
                zeroize::Zeroize::zeroize(&mut *self.dst);
                Err(e)
            }
        }
    }
}

/// Registers the SEC device found under `roots` with `crypto`; returns its name.
///
/// # Errors
/// No SEC device, or its queue cannot be opened (the context then stays software-only).
pub fn attach(crypto: &Crypto, roots: &Roots) -> Result<String, DeviceError> {
    let driver = SecDriver::discover(roots)?;
    let name = driver.name();
    crypto.add_device(Arc::new(driver));
    Ok(name)
}

/// The process's driver for the environment's roots and the fork generation it was found in.
static ENV_DRIVER: StdMutex<Option<(u64, SecDriver)>> = StdMutex::new(None);

/// Registers the process-wide SEC driver (discovered once per process from
/// `UADK_SYSFS_ROOT`/`UADK_DEV_ROOT`, discovered again after `fork`) with `crypto`, so
/// `Backend::Auto` sends requests above the small-packet thresholds to it.
///
/// # Errors
/// As [`attach`]; a failed discovery is retried on the next call.
pub fn attach_from_env(crypto: &Crypto) -> Result<String, DeviceError> {
    let generation = fork::generation();
    let mut g = ENV_DRIVER.lock().unwrap_or_else(|p| p.into_inner());
    let driver = match &*g {
        Some((gen, d)) if *gen == generation => d.clone(),
        _ => {
            let d = SecDriver::discover(&Roots::from_env())?;
            *g = Some((generation, d.clone()));
            d
        }
    };
    drop(g);
    let name = driver.name();
    crypto.add_device(Arc::new(driver));
    Ok(name)
}
