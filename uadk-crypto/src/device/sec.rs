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
//! - [`SecDevice::open_queues`] gives one thread several queues of its own with many
//!   requests in flight on each ([`DeviceQueues`], used by [`crate::batch::DeviceBatch`]).
//! - Every device error status becomes a [`DeviceError`]; the framework then redoes the
//!   request in software (counted) or returns the error. On a tag mismatch nothing is
//!   written to the caller's buffer: the device decrypts into a session-owned scratch buffer
//!   that is copied out only when the tag verified.
//!
//! Offered: AES-128/192/256 and SM4 in ECB, CBC, CTR and XTS (not AES-192-XTS, which the
//! SEC rejects), SHA-1, SHA-224/256/384/512, SM3, MD5 and their HMACs (one-shot, 1 byte to
//! 16 MiB − 512 B, and long hashes of any length over first/middle/last requests that carry
//! the intermediate state, [`DeviceDigest::long_hash`]), AES/SM4-GCM (12- or 16-byte tags) and AES/SM4-CCM (4-, 8-, 12- or
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

use super::bd::{self, a_alg, ai_gen, auth, auth_pad, c_alg, c_mode, dir, key_code, Icv, Req, MAX_LEN};
use super::{
    DeviceAead, DeviceCipher, DeviceDigest, DeviceDone, DeviceError, DeviceOp, DeviceQueues, DeviceRequest,
    Direction, HashPart, SecDevice, Template, Verified,
};
use crate::alg::{AeadAlg, AeadMode, Algorithm, BlockCipher, CipherAlg, CipherMode, DigestAlg};
use crate::backend::{Backend, Crypto};
use crate::digest::DigestSession;

/// Queues a driver opens at most (each serves one request at a time).
const QUEUES: usize = 4;

fn map_err(e: uadk_core::Error) -> DeviceError {
    match e {
        uadk_core::Error::QueueStopped => DeviceError::QueueStopped,
        uadk_core::Error::DeviceGone { .. } => DeviceError::Vanished,
        uadk_core::Error::Busy { .. } => DeviceError::Busy,
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
            tpl: Arc::new(CipherTpl {
                shared: self.shared.clone(),
                c_alg: a,
                c_mode: m,
                key_code: k,
                key: Zeroizing::new(key.to_vec()),
            }),
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
            tpl: Arc::new(DigestTpl {
                shared: self.shared.clone(),
                a_alg: SecDriver::digest_code(alg, key.is_some()),
                out_len: alg.output_len(),
                state_len: state_len(alg),
                block_len: alg.block_len(),
                key,
            }),
            mac: Zeroizing::new([0; 64]),
            ivin: Zeroizing::new([0; 64]),
        }))
    }

    fn aead(&self, alg: AeadAlg, key: &[u8], tag_len: usize) -> Result<Box<dyn DeviceAead>, DeviceError> {
        let ok = tag_len.is_multiple_of(4)
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
            tpl: Arc::new(AeadTpl {
                shared: self.shared.clone(),
                c_alg: a,
                c_mode: m,
                key_code: k,
                key: Zeroizing::new(key.to_vec()),
                tag_len,
            }),
            iv: [0; 16],
            tag: [0; 16],
            src: Zeroizing::new(Vec::new()),
            dst: Zeroizing::new(Vec::new()),
        }))
    }

    fn open_queues(&self, queues: usize) -> Result<Box<dyn DeviceQueues>, DeviceError> {
        Ok(Box::new(SecQueues::open(self.shared.clone(), queues)?))
    }
}

/// Bytes of long-hash state the SEC carries between requests (the chaining value; SHA-224
/// and SHA-384 carry the full SHA-256/SHA-512 state, as UADK's `g_digest_mac_full_len`).
fn state_len(alg: DigestAlg) -> usize {
    match alg {
        DigestAlg::Md5 => 16,
        DigestAlg::Sha1 => 20,
        DigestAlg::Sha224 | DigestAlg::Sha256 | DigestAlg::Sm3 => 32,
        DigestAlg::Sha384 | DigestAlg::Sha512 => 64,
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

/// A cipher session's codes and key, shared by its synchronous and asynchronous requests.
struct CipherTpl {
    shared: Arc<Shared>,
    c_alg: u8,
    c_mode: u8,
    key_code: u8,
    key: Zeroizing<Vec<u8>>,
}

impl CipherTpl {
    fn req(&self, d: Direction, iv: u64, src: u64, dst: u64, c_len: u32) -> Req {
        Req {
            dir: match d {
                Direction::Encrypt => dir::ENCRYPT,
                Direction::Decrypt => dir::DECRYPT,
            },
            c_alg: self.c_alg,
            c_mode: self.c_mode,
            key_code: self.key_code,
            c_len,
            src,
            dst,
            c_key: self.key.as_ptr() as u64,
            c_iv: iv,
            ..Default::default()
        }
    }
}

struct SecCipher {
    tpl: Arc<CipherTpl>,
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
        let req = self.tpl.req(
            d,
            self.iv.as_ptr() as u64,
            input.as_ptr() as u64,
            output.as_mut_ptr() as u64,
            c_len,
        );
        let sqe = bd::encode(self.tpl.shared.bd, &req);
        // SAFETY: the BD names `input`, `output` (borrowed for this call), the session's key
        // (kept alive by `self.tpl`) and IV block (owned by `self`, borrowed mutably for this
        // call); `run` returns only after the device completed the request or its queue was
        // dropped.
        unsafe { self.tpl.shared.run(&sqe) }.map(|_| ())
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

    fn template(&self) -> Option<Template> {
        Some(self.tpl.clone())
    }
}

/// A digest session's codes and HMAC key (whole words), shared by its requests.
struct DigestTpl {
    shared: Arc<Shared>,
    a_alg: u8,
    out_len: usize,
    state_len: usize,
    block_len: usize,
    key: Option<Zeroizing<Vec<u8>>>,
}

impl DigestTpl {
    fn req(&self, src: u64, a_len: u32, mac: u64, mac_len: usize) -> Req {
        let (a_key, akey_words) = match &self.key {
            Some(k) => (k.as_ptr() as u64, (k.len() / 4) as u8),
            None => (0, 0),
        };
        Req {
            auth: auth::CALC,
            a_alg: self.a_alg,
            mac_words: (mac_len / 4) as u8,
            akey_words,
            a_len,
            src,
            mac,
            a_key,
            ..Default::default()
        }
    }
}

struct SecDigest {
    tpl: Arc<DigestTpl>,
    /// Where the device writes the MAC (or a long hash's next state).
    mac: Zeroizing<[u8; 64]>,
    /// Where the device reads a long hash's previous state (separate from `mac`, so a
    /// failed request leaves the caller's state intact).
    ivin: Zeroizing<[u8; 64]>,
}

impl DeviceDigest for SecDigest {
    fn digest(&mut self, data: &[u8], out: &mut [u8]) -> Result<(), DeviceError> {
        let a_len = check_len(data.len())?;
        let t = &self.tpl;
        if out.len() != t.out_len {
            return Err(DeviceError::Unsupported(format!(
                "a {}-byte digest buffer for a {}-byte digest",
                out.len(),
                t.out_len
            )));
        }
        let req = t.req(
            data.as_ptr() as u64,
            a_len,
            self.mac.as_mut_ptr() as u64,
            t.out_len,
        );
        let sqe = bd::encode(t.shared.bd, &req);
        // SAFETY: the BD names `data` (borrowed for this call), the session's MAC buffer
        // (owned by `self`, borrowed mutably for this call) and HMAC key (kept alive by
        // `self.tpl`); `run` returns only after the device completed the request or its
        // queue was dropped.
        unsafe { t.shared.run(&sqe) }?;
        out.copy_from_slice(&self.mac[..t.out_len]);
        Ok(())
    }

    fn state_len(&self) -> usize {
        self.tpl.state_len
    }

    fn block_len(&self) -> usize {
        self.tpl.block_len
    }

    fn long_hash(
        &mut self,
        part: HashPart,
        data: &[u8],
        state: &mut [u8],
        out: &mut [u8],
    ) -> Result<(), DeviceError> {
        let t = self.tpl.clone();
        let a_len = check_len(data.len())?;
        if state.len() != t.state_len {
            return Err(DeviceError::Unsupported(format!(
                "a {}-byte long-hash state (this digest carries {})",
                state.len(),
                t.state_len
            )));
        }
        let (gen, pad, bits, mac_len) = match part {
            HashPart::First | HashPart::Middle => {
                if !data.len().is_multiple_of(t.block_len) {
                    return Err(DeviceError::Unsupported(format!(
                        "a {}-byte long-hash segment (not the last one: whole {}-byte blocks)",
                        data.len(),
                        t.block_len
                    )));
                }
                let gen = if part == HashPart::First {
                    ai_gen::INNER
                } else {
                    ai_gen::IVIN_ADDR
                };
                (gen, auth_pad::NO_PAD, 0, t.state_len)
            }
            HashPart::Last { total_len } => {
                if out.len() != t.out_len {
                    return Err(DeviceError::Unsupported(format!(
                        "a {}-byte digest buffer for a {}-byte digest",
                        out.len(),
                        t.out_len
                    )));
                }
                let bits = total_len
                    .checked_mul(8)
                    .filter(|_| total_len >= data.len() as u64)
                    .ok_or_else(|| DeviceError::Unsupported(format!("a {total_len}-byte long hash")))?;
                (ai_gen::IVIN_ADDR, auth_pad::PAD, bits, t.out_len)
            }
        };
        self.ivin[..t.state_len].copy_from_slice(state);
        let mut req = t.req(data.as_ptr() as u64, a_len, self.mac.as_mut_ptr() as u64, mac_len);
        req.ai_gen = gen;
        req.auth_pad = pad;
        req.long_a_bits = bits;
        if gen == ai_gen::IVIN_ADDR {
            req.a_iv = self.ivin.as_ptr() as u64;
        }
        let sqe = bd::encode(t.shared.bd, &req);
        // SAFETY: the BD names `data` (borrowed for this call), the session's MAC and state
        // buffers (owned by `self`, borrowed mutably for this call) and HMAC key (kept alive
        // by `t`); `run` returns only after the device completed the request or its queue
        // was dropped.
        unsafe { t.shared.run(&sqe) }?;
        match part {
            HashPart::Last { .. } => out.copy_from_slice(&self.mac[..t.out_len]),
            _ => state.copy_from_slice(&self.mac[..t.state_len]),
        }
        Ok(())
    }

    fn template(&self) -> Option<Template> {
        Some(self.tpl.clone())
    }
}

/// An AEAD session's codes, key and tag length, shared by its requests.
struct AeadTpl {
    shared: Arc<Shared>,
    c_alg: u8,
    c_mode: u8,
    key_code: u8,
    key: Zeroizing<Vec<u8>>,
    tag_len: usize,
}

impl AeadTpl {
    /// Lays the nonce out as the SEC's IV block (GCM: nonce ‖ 0; CCM: L − 1 ‖ nonce ‖ 0).
    fn format_iv(&self, nonce: &[u8], iv: &mut [u8; 16]) -> Result<(), DeviceError> {
        let mut out = [0u8; 16];
        if self.c_mode == c_mode::GCM {
            if nonce.len() != 12 {
                return Err(DeviceError::Unsupported(format!(
                    "a {}-byte GCM nonce",
                    nonce.len()
                )));
            }
            out[..12].copy_from_slice(nonce);
        } else {
            if !(7..=13).contains(&nonce.len()) {
                return Err(DeviceError::Unsupported(format!(
                    "a {}-byte CCM nonce",
                    nonce.len()
                )));
            }
            // Linux crypto API CCM IV: byte 0 = L - 1 with L = 15 - nonce length.
            out[0] = (14 - nonce.len()) as u8;
            out[1..=nonce.len()].copy_from_slice(nonce);
        }
        *iv = out;
        Ok(())
    }

    /// Checks the lengths of `aad ‖ payload` and returns (`c_len`, `c_off`).
    fn lens(aad: usize, len: usize) -> Result<(u32, u16), DeviceError> {
        let c_len = check_len(len)?;
        let c_off = u16::try_from(aad).map_err(|_| {
            DeviceError::Unsupported(format!("{aad} bytes of AAD (the SEC takes up to 65535)"))
        })?;
        check_len(aad + len)?;
        Ok((c_len, c_off))
    }

    #[allow(clippy::too_many_arguments)]
    fn req(
        &self,
        seal: bool,
        iv: u64,
        src: u64,
        dst: u64,
        aad: usize,
        c_len: u32,
        c_off: u16,
        tag: u64,
    ) -> Req {
        Req {
            dir: if seal { dir::ENCRYPT } else { dir::DECRYPT },
            auth: if seal { auth::CALC } else { auth::VERIFY },
            c_alg: self.c_alg,
            c_mode: self.c_mode,
            key_code: self.key_code,
            mac_words: (self.tag_len / 4) as u8,
            c_len,
            a_len: aad as u32,
            c_off,
            a_off: 0,
            src,
            dst,
            mac: tag,
            c_key: self.key.as_ptr() as u64,
            c_iv: iv,
            ..Default::default()
        }
    }
}

struct SecAead {
    tpl: Arc<AeadTpl>,
    iv: [u8; 16],
    tag: [u8; 16],
    src: Zeroizing<Vec<u8>>,
    dst: Zeroizing<Vec<u8>>,
}

impl SecAead {
    /// Runs one AEAD BD over `aad ‖ buf` into the scratch destination; the caller copies
    /// the payload out.
    fn run(&mut self, seal: bool, nonce: &[u8], aad: &[u8], buf: &[u8]) -> Result<Icv, DeviceError> {
        let t = self.tpl.clone();
        let (c_len, c_off) = AeadTpl::lens(aad.len(), buf.len())?;
        t.format_iv(nonce, &mut self.iv)?;
        self.src.clear();
        self.src.extend_from_slice(aad);
        self.src.extend_from_slice(buf);
        self.dst.clear();
        self.dst.resize(self.src.len(), 0);
        let req = t.req(
            seal,
            self.iv.as_ptr() as u64,
            self.src.as_ptr() as u64,
            self.dst.as_mut_ptr() as u64,
            aad.len(),
            c_len,
            c_off,
            self.tag.as_mut_ptr() as u64,
        );
        let sqe = bd::encode(t.shared.bd, &req);
        // SAFETY: every buffer the BD names (source, destination, tag, IV) is owned by
        // `self`, borrowed mutably for this call and not resized until it returns; the key
        // is kept alive by `t`; `run` returns only after the device completed the request
        // or its queue was dropped.
        unsafe { t.shared.run(&sqe) }
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
        let tag_len = self.tpl.tag_len;
        if tag.len() != tag_len {
            return Err(DeviceError::Unsupported(format!(
                "a {}-byte tag buffer",
                tag.len()
            )));
        }
        self.run(true, nonce, aad, buf)?;
        buf.copy_from_slice(&self.dst[aad.len()..]);
        tag.copy_from_slice(&self.tag[..tag_len]);
        Ok(())
    }

    fn open_in_place(
        &mut self,
        nonce: &[u8],
        aad: &[u8],
        buf: &mut [u8],
        tag: &[u8],
    ) -> Result<Verified, DeviceError> {
        let tag_len = self.tpl.tag_len;
        if tag.len() != tag_len {
            return Err(DeviceError::Unsupported(format!("a {}-byte tag", tag.len())));
        }
        self.tag = [0; 16];
        self.tag[..tag_len].copy_from_slice(tag);
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

    fn template(&self) -> Option<Template> {
        Some(self.tpl.clone())
    }
}

/// A request on the device, and the queue it is on.
struct InFlight {
    queue: usize,
    req: Box<DeviceRequest>,
}

/// Several queues of one SEC device driven by one thread: [`DeviceQueues`] over
/// `uadk-core`'s asynchronous submit (tokens) and CQ polling. Requests are boxed and kept in
/// a slab indexed by their token until the device answered; a queue that stops is dropped
/// (which stops the hardware queue) before its requests are handed back as failed.
struct SecQueues {
    shared: Arc<Shared>,
    queues: Vec<Option<QueuePair>>,
    per_queue: Vec<usize>,
    slab: Vec<Option<InFlight>>,
    free: Vec<usize>,
    count: usize,
    next: usize,
    /// Requests of a queue closed during `submit`, handed back by the next `poll`.
    failed: Vec<(Box<DeviceRequest>, DeviceError)>,
}

impl SecQueues {
    fn open(shared: Arc<Shared>, n: usize) -> Result<SecQueues, DeviceError> {
        let n = n.clamp(1, 64);
        let mut queues = Vec::with_capacity(n);
        for _ in 0..n {
            match SecQueues::open_one(&shared) {
                Ok(q) => queues.push(Some(q)),
                // Fewer queues than asked for is fine; none is an error.
                Err(e) if queues.is_empty() => return Err(e),
                Err(_) => break,
            }
        }
        let n = queues.len();
        Ok(SecQueues {
            shared,
            queues,
            per_queue: vec![0; n],
            slab: Vec::new(),
            free: Vec::new(),
            count: 0,
            next: 0,
            failed: Vec::new(),
        })
    }

    fn open_one(shared: &Shared) -> Result<QueuePair, DeviceError> {
        QueuePair::open(
            &shared.dev,
            QueueOptions {
                qc_type: 0,
                tag: shared.bd.tag_field(),
                ..Default::default()
            },
        )
        .map_err(map_err)
    }

    /// Drops queue `i` (stopping the hardware queue), then fails the requests still on it.
    fn close(&mut self, i: usize, why: &DeviceError) {
        self.queues[i] = None;
        for k in 0..self.slab.len() {
            if self.slab[k].as_ref().is_some_and(|f| f.queue == i) {
                if let Some(f) = self.take(k) {
                    self.failed.push((f.req, why.clone()));
                }
            }
        }
    }

    fn take(&mut self, token: usize) -> Option<InFlight> {
        let f = self.slab.get_mut(token)?.take()?;
        self.free.push(token);
        self.count -= 1;
        self.per_queue[f.queue] -= 1;
        Some(f)
    }

    /// Builds the BD of `req`, sizing its output; every address points into `req`'s own
    /// heap buffers, which do not move while it is in flight.
    fn encode(&self, req: &mut DeviceRequest) -> Result<uadk_core::qm::Sqe, DeviceError> {
        let tpl = req.template.clone();
        let foreign = || DeviceError::Unsupported("a session of another device".into());
        let r = match req.op {
            DeviceOp::Encrypt | DeviceOp::Decrypt => {
                let t = tpl.downcast_ref::<CipherTpl>().ok_or_else(foreign)?;
                let c_len = check_len(req.data.len())?;
                req.out = vec![0; req.data.len()];
                let d = if req.op == DeviceOp::Encrypt {
                    Direction::Encrypt
                } else {
                    Direction::Decrypt
                };
                (
                    Arc::ptr_eq(&t.shared, &self.shared),
                    t.req(
                        d,
                        req.iv.as_ptr() as u64,
                        req.data.as_ptr() as u64,
                        req.out.as_mut_ptr() as u64,
                        c_len,
                    ),
                )
            }
            DeviceOp::Digest => {
                let t = tpl.downcast_ref::<DigestTpl>().ok_or_else(foreign)?;
                let a_len = check_len(req.data.len())?;
                req.out = vec![0; t.out_len];
                (
                    Arc::ptr_eq(&t.shared, &self.shared),
                    t.req(
                        req.data.as_ptr() as u64,
                        a_len,
                        req.out.as_mut_ptr() as u64,
                        t.out_len,
                    ),
                )
            }
            DeviceOp::Seal | DeviceOp::Open => {
                let t = tpl.downcast_ref::<AeadTpl>().ok_or_else(foreign)?;
                if req.op == DeviceOp::Open && req.tag_len != t.tag_len {
                    return Err(DeviceError::Unsupported(format!("a {}-byte tag", req.tag_len)));
                }
                req.tag_len = t.tag_len;
                let (c_len, c_off) = AeadTpl::lens(req.aad.len(), req.data.len())?;
                let nonce = req.iv;
                t.format_iv(&nonce[..req.iv_len.min(16)], &mut req.iv)?;
                let src = if req.aad.is_empty() {
                    req.data.as_ptr() as u64
                } else {
                    req.scratch.clear();
                    req.scratch.reserve_exact(req.aad.len() + req.data.len());
                    req.scratch.extend_from_slice(&req.aad);
                    req.scratch.extend_from_slice(&req.data);
                    req.scratch.as_ptr() as u64
                };
                req.out = vec![0; req.aad.len() + req.data.len()];
                (
                    Arc::ptr_eq(&t.shared, &self.shared),
                    t.req(
                        req.op == DeviceOp::Seal,
                        req.iv.as_ptr() as u64,
                        src,
                        req.out.as_mut_ptr() as u64,
                        req.aad.len(),
                        c_len,
                        c_off,
                        req.tag.as_mut_ptr() as u64,
                    ),
                )
            }
        };
        match r {
            (true, r) => Ok(bd::encode(self.shared.bd, &r)),
            (false, _) => Err(foreign()),
        }
    }

    /// Decodes a written-back BD into the request's outcome.
    fn complete(
        req: &mut DeviceRequest,
        done: uadk_core::Result<uadk_core::qm::Sqe>,
    ) -> Result<(), DeviceError> {
        let icv = done.map_err(map_err).and_then(|s| bd::status(&s));
        let aad = req.aad.len();
        match (req.op, icv) {
            (_, Err(e)) => Err(e),
            (DeviceOp::Open, Ok(Icv::Pass)) => {
                req.out.drain(..aad);
                req.verified = Some(Verified::Yes);
                Ok(())
            }
            (DeviceOp::Open, Ok(Icv::Fail)) => {
                zeroize::Zeroize::zeroize(&mut req.out);
                req.out.clear();
                req.verified = Some(Verified::No);
                Ok(())
            }
            (DeviceOp::Open, Ok(Icv::None)) => Err(DeviceError::Failed(
                "SEC completed a tag verification without an ICV result".to_string(),
            )),
            (DeviceOp::Seal, Ok(_)) => {
                req.out.drain(..aad);
                Ok(())
            }
            (_, Ok(_)) => Ok(()),
        }
    }
}

impl DeviceQueues for SecQueues {
    fn owns(&self, template: &Template) -> bool {
        let ours = |s: &Arc<Shared>| Arc::ptr_eq(s, &self.shared);
        template
            .downcast_ref::<CipherTpl>()
            .is_some_and(|t| ours(&t.shared))
            || template
                .downcast_ref::<DigestTpl>()
                .is_some_and(|t| ours(&t.shared))
            || template
                .downcast_ref::<AeadTpl>()
                .is_some_and(|t| ours(&t.shared))
    }

    fn submit(&mut self, mut req: Box<DeviceRequest>) -> Result<(), (Box<DeviceRequest>, DeviceError)> {
        let sqe = match self.encode(&mut req) {
            Ok(s) => s,
            Err(e) => return Err((req, e)),
        };
        // The queue with the most free slots, reopening queues that were closed.
        let n = self.queues.len();
        let mut best: Option<(usize, usize)> = None;
        let mut open_err = None;
        for k in 0..n {
            let i = (self.next + k) % n;
            if self.queues[i].is_none() && self.per_queue[i] == 0 {
                match SecQueues::open_one(&self.shared) {
                    Ok(q) => self.queues[i] = Some(q),
                    Err(e) => {
                        open_err = Some(e);
                        continue;
                    }
                }
            }
            let Some(q) = &self.queues[i] else { continue };
            let free = q.free_slots();
            if free > 0 && best.is_none_or(|(_, f)| free > f) {
                best = Some((i, free));
            }
        }
        self.next = (self.next + 1) % n.max(1);
        let Some((i, _)) = best else {
            return Err((req, open_err.unwrap_or(DeviceError::Busy)));
        };
        let token = self.free.pop().unwrap_or_else(|| {
            self.slab.push(None);
            self.slab.len() - 1
        });
        self.slab[token] = Some(InFlight { queue: i, req });
        self.count += 1;
        self.per_queue[i] += 1;
        let Some(q) = &self.queues[i] else {
            unreachable!("queue {i} was chosen because it is open")
        };
        // SAFETY: every address in the BD points into the boxed request now owned by the
        // slab (its arrays and its vectors' heap buffers, none resized while it is there).
        // The request leaves the slab only when its completion was polled, or after its
        // queue was dropped (`close`, `Drop`), which stops the hardware queue first.
        let r = unsafe { q.submit(std::slice::from_ref(&sqe), &[token as u64], BusyPolicy::Fail) };
        match r {
            Ok(()) => Ok(()),
            Err(e) => {
                let fatal = e.is_fatal_for_queue();
                let e = map_err(e);
                let f = self.take(token).expect("the request was just stored");
                if fatal {
                    self.close(i, &e);
                }
                Err((f.req, e))
            }
        }
    }

    fn poll(&mut self, done: &mut DeviceDone<'_>) -> usize {
        let mut n = 0;
        let mut got = Vec::new();
        for i in 0..self.queues.len() {
            if self.per_queue[i] == 0 {
                continue;
            }
            let Some(q) = &self.queues[i] else { continue };
            let r = q.poll(usize::MAX, |c| got.push(c));
            let dead = match r {
                Err(e) => Some(map_err(e)),
                Ok(_) if q.is_stopped() => Some(DeviceError::QueueStopped),
                Ok(_) => None,
            };
            let mut finished = Vec::with_capacity(got.len());
            for c in got.drain(..) {
                if let Some(f) = self.take(c.token as usize) {
                    finished.push((f.req, c.result));
                }
            }
            if let Some(e) = dead {
                // Stop the hardware queue before any of its buffers is handed back.
                self.close(i, &e);
            }
            for (mut req, result) in finished {
                let r = SecQueues::complete(&mut req, result);
                done(req, r);
                n += 1;
            }
        }
        for (req, e) in std::mem::take(&mut self.failed) {
            done(req, Err(e));
            n += 1;
        }
        n
    }

    fn wait(&mut self, timeout: Duration) {
        if !self.failed.is_empty() {
            return;
        }
        let busiest = (0..self.queues.len())
            .filter(|&i| self.queues[i].is_some())
            .max_by_key(|&i| self.per_queue[i]);
        if let Some(q) = busiest.and_then(|i| self.queues[i].as_ref()) {
            let _ = q.wait(timeout);
        }
    }

    fn in_flight(&self) -> usize {
        self.count + self.failed.len()
    }

    fn room(&self) -> usize {
        self.queues
            .iter()
            .zip(&self.per_queue)
            .map(|(q, &n)| match q {
                Some(q) => q.free_slots(),
                None if n == 0 => 1,
                None => 0,
            })
            .sum()
    }
}

impl Drop for SecQueues {
    fn drop(&mut self) {
        // Stop every hardware queue before the requests (and their buffers) are freed.
        for q in self.queues.iter_mut() {
            *q = None;
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
