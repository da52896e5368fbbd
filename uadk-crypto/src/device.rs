//! The seam a SEC device driver plugs into.
//!
//! [`sec::SecDriver`] implements [`SecDevice`] over `uadk-core` QM queues (one SEC BD per
//! request, see the reference's section 7); the framework routes requests to it and redoes
//! them in software when it fails. A device is registered with
//! [`crate::Crypto::add_device`]; until one is, every request runs in software and says so
//! ("no device offers `<alg>`").
//!
//! Contract, for every trait here:
//! - Requests are stateless: the framework passes the IV/tweak/counter block of each request
//!   and tracks chaining itself, so a failed request can be redone in software from the same
//!   state (a device does not need to report chained IVs).
//! - A device must either complete a request fully or return an error; it must never write
//!   unauthenticated plaintext to a caller-visible buffer it then leaves there: the framework
//!   zeroes the buffer anyway when [`DeviceAead::open_in_place`] reports a mismatch or fails.
//! - Errors are [`DeviceError`]s; the framework decides about fallback.

use std::any::Any;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

mod bd;
pub mod sec;

use crate::alg::{AeadAlg, Algorithm, CipherAlg, DigestAlg};

/// Why a device request failed.
///
/// ```
/// use uadk_crypto::DeviceError;
/// assert_eq!(DeviceError::QueueStopped.to_string(), "the queue was stopped");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DeviceError {
    /// The device reported an error for this request (BD `error_type` nonzero, ...).
    #[error("the device reported error {0}")]
    Failed(String),
    /// The queue was stopped (reset, `UACCE_CMD_PUT_Q`, ...).
    #[error("the queue was stopped")]
    QueueStopped,
    /// The device disappeared (hot unplug, driver unbound).
    #[error("the device vanished")]
    Vanished,
    /// The device cannot take this request shape (length, key size, ...).
    #[error("the device does not support this request: {0}")]
    Unsupported(String),
    /// Every queue is full; poll completions and submit again.
    #[error("every device queue is full; poll for completions and submit again")]
    Busy,
}

/// Cipher direction.
///
/// ```
/// assert_eq!(uadk_crypto::Direction::Decrypt.to_string(), "decrypt");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    /// Encrypt.
    Encrypt,
    /// Decrypt.
    Decrypt,
}

impl fmt::Display for Direction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Direction::Encrypt => "encrypt",
            Direction::Decrypt => "decrypt",
        })
    }
}

/// A SEC-style accelerator that offers some of the algorithms.
///
/// ```
/// use uadk_crypto::{Algorithm, SecDevice};
/// fn takes(dev: &dyn SecDevice, alg: Algorithm) -> bool { dev.offers(alg) }
/// ```
pub trait SecDevice: Send + Sync {
    /// A name for reports (`hisi_sec2-0`).
    fn name(&self) -> String;
    /// Whether the device can run `alg` (from the uacce `algorithms` attribute).
    fn offers(&self, alg: Algorithm) -> bool;
    /// Opens a cipher session with the key set once.
    ///
    /// # Errors
    /// Any [`DeviceError`]; the framework then runs the session in software.
    fn cipher(&self, alg: CipherAlg, key: &[u8]) -> Result<Box<dyn DeviceCipher>, DeviceError>;
    /// Opens a digest session; `hmac_key` set means HMAC.
    ///
    /// # Errors
    /// Any [`DeviceError`].
    fn digest(&self, alg: DigestAlg, hmac_key: Option<&[u8]>) -> Result<Box<dyn DeviceDigest>, DeviceError>;
    /// Opens an AEAD session with the key and tag length set once.
    ///
    /// # Errors
    /// Any [`DeviceError`].
    fn aead(&self, alg: AeadAlg, key: &[u8], tag_len: usize) -> Result<Box<dyn DeviceAead>, DeviceError>;
    /// Opens `queues` queues of this device for asynchronous requests from one thread
    /// (see [`DeviceQueues`]); devices without a completion-queue interface say
    /// [`DeviceError::Unsupported`] and batches then run their jobs synchronously.
    ///
    /// # Errors
    /// Any [`DeviceError`].
    fn open_queues(&self, queues: usize) -> Result<Box<dyn DeviceQueues>, DeviceError> {
        let _ = queues;
        Err(DeviceError::Unsupported(format!(
            "{} has no asynchronous interface",
            self.name()
        )))
    }
}

/// A device session's key material and codes, shared by its asynchronous requests (the
/// device that made it knows its concrete type).
pub type Template = Arc<dyn Any + Send + Sync>;

/// What an asynchronous device request does.
///
/// ```
/// assert_ne!(uadk_crypto::device::DeviceOp::Seal, uadk_crypto::device::DeviceOp::Open);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeviceOp {
    /// Cipher encrypt of `data` into `out`.
    Encrypt,
    /// Cipher decrypt of `data` into `out`.
    Decrypt,
    /// Digest or HMAC of `data` into `out` (the digest length).
    Digest,
    /// AEAD seal of `data` (AAD `aad`) into `out`, tag into `tag`.
    Seal,
    /// AEAD open of `data` into `out` against `tag`; the answer is in `verified`.
    Open,
}

/// One asynchronous device request. It owns every buffer the device reads (`iv`, `aad`,
/// `data`, `tag` for opens) or writes (`out`, `tag` for seals); a [`DeviceQueues`] keeps it
/// (boxed, so no buffer moves) until the device has answered or its queue was stopped.
///
/// On drop, every buffer it still holds is zeroed: a failed open never leaves plaintext
/// behind.
///
/// ```
/// use uadk_crypto::device::{DeviceOp, DeviceRequest};
/// let r = DeviceRequest::new(7, DeviceOp::Digest, std::sync::Arc::new(()), b"abc".to_vec());
/// assert_eq!((r.token, r.data.len()), (7, 3));
/// ```
pub struct DeviceRequest {
    /// The submitter's identifier, returned with the completion.
    pub token: u64,
    /// What to do.
    pub op: DeviceOp,
    /// The session template ([`DeviceCipher::template`] and friends).
    pub template: Template,
    /// IV, tweak or nonce (`iv_len` bytes used).
    pub iv: [u8; 16],
    /// Bytes of `iv` in use.
    pub iv_len: usize,
    /// AEAD additional data.
    pub aad: Vec<u8>,
    /// The input; the device never writes it, so a failed request can be redone from it.
    pub data: Vec<u8>,
    /// The output (cipher/AEAD payload or digest), sized by the device.
    pub out: Vec<u8>,
    /// AEAD tag: written by seals, read by opens.
    pub tag: [u8; 16],
    /// Bytes of `tag` in use.
    pub tag_len: usize,
    /// For opens: whether the tag verified.
    pub verified: Option<Verified>,
    /// Device-private space (e.g. AAD and payload laid out contiguously).
    pub scratch: Vec<u8>,
}

impl DeviceRequest {
    /// A request with empty IV, AAD, tag and output.
    ///
    /// ```
    /// use uadk_crypto::device::{DeviceOp, DeviceRequest};
    /// let r = DeviceRequest::new(1, DeviceOp::Encrypt, std::sync::Arc::new(()), vec![0; 16]);
    /// assert!(r.out.is_empty());
    /// ```
    pub fn new(token: u64, op: DeviceOp, template: Template, data: Vec<u8>) -> DeviceRequest {
        DeviceRequest {
            token,
            op,
            template,
            iv: [0; 16],
            iv_len: 0,
            aad: Vec::new(),
            data,
            out: Vec::new(),
            tag: [0; 16],
            tag_len: 0,
            verified: None,
            scratch: Vec::new(),
        }
    }
}

impl fmt::Debug for DeviceRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DeviceRequest")
            .field("token", &self.token)
            .field("op", &self.op)
            .field("len", &self.data.len())
            .finish_non_exhaustive()
    }
}

impl Drop for DeviceRequest {
    fn drop(&mut self) {
        for b in [&mut self.out, &mut self.data, &mut self.aad, &mut self.scratch] {
            wipe(b);
        }
        zeroize::Zeroize::zeroize(&mut self.iv);
        zeroize::Zeroize::zeroize(&mut self.tag);
    }
}

/// Zeroes a buffer with a vectorised `memset` (payloads can be megabytes; `zeroize`'s
/// byte-wise volatile stores cost about a cycle per byte), then hands it to `black_box`
/// so the compiler must assume the zeros are read and cannot drop the stores.
fn wipe(b: &mut [u8]) {
    b.fill(0);
    std::hint::black_box(&*b);
}

/// What [`DeviceQueues::poll`] hands back for each finished request.
pub type DeviceDone<'a> = dyn FnMut(Box<DeviceRequest>, Result<(), DeviceError>) + 'a;

/// Queues of one device driven by one thread: many requests in flight on each queue,
/// completions collected by polling. Dropping it stops its queues before the requests
/// still in flight (and their buffers) are released.
///
/// ```
/// use uadk_crypto::device::{DeviceQueues, DeviceRequest};
/// fn drain(q: &mut dyn DeviceQueues) -> usize {
///     let mut n = 0;
///     while q.in_flight() > 0 {
///         n += q.poll(&mut |_req: Box<DeviceRequest>, _r| {});
///     }
///     n
/// }
/// ```
pub trait DeviceQueues: Send {
    /// Whether `template` belongs to this device (otherwise `submit` rejects it).
    fn owns(&self, template: &Template) -> bool;
    /// Starts a request without waiting.
    ///
    /// # Errors
    /// The request comes back with the reason: [`DeviceError::Busy`] when every queue is
    /// full (poll, then submit again), [`DeviceError::Unsupported`] for a shape the device
    /// cannot take, or a queue failure; its `data` is untouched.
    #[allow(clippy::result_large_err)]
    fn submit(&mut self, req: Box<DeviceRequest>) -> Result<(), (Box<DeviceRequest>, DeviceError)>;
    /// Collects finished requests (never blocks); returns how many were handed to `done`.
    /// A request whose queue stopped comes back with an error once the queue is closed.
    fn poll(&mut self, done: &mut DeviceDone<'_>) -> usize;
    /// Sleeps until a completion may be waiting or `timeout` passes.
    fn wait(&mut self, timeout: Duration);
    /// Requests submitted and not yet handed back.
    fn in_flight(&self) -> usize;
    /// Requests that can be submitted now without [`DeviceError::Busy`].
    fn room(&self) -> usize;
}

/// One cipher session on a device.
///
/// ```
/// use uadk_crypto::{DeviceCipher, DeviceError, Direction};
/// fn run(d: &mut dyn DeviceCipher, buf: &mut [u8]) -> Result<(), DeviceError> {
///     d.crypt_in_place(Direction::Encrypt, &[0; 16], buf)
/// }
/// ```
pub trait DeviceCipher: Send {
    /// Runs one request out of place; `input.len() == output.len()`, lengths already
    /// validated for the mode.
    ///
    /// # Errors
    /// Any [`DeviceError`]; `output` is then ignored.
    fn crypt(
        &mut self,
        dir: Direction,
        iv: &[u8],
        input: &[u8],
        output: &mut [u8],
    ) -> Result<(), DeviceError>;
    /// Runs one request in place.
    ///
    /// # Errors
    /// Any [`DeviceError`]. On error `buf` must be unchanged (the framework redoes the
    /// request from it); a device that cannot promise this must work out of place.
    fn crypt_in_place(&mut self, dir: Direction, iv: &[u8], buf: &mut [u8]) -> Result<(), DeviceError>;
    /// The session's template for asynchronous requests ([`DeviceQueues`]), if any.
    fn template(&self) -> Option<Template> {
        None
    }
}

/// Which request of a long hash (a digest over several device requests) this is.
///
/// ```
/// let p = uadk_crypto::device::HashPart::Last { total_len: 100 };
/// assert!(matches!(p, uadk_crypto::device::HashPart::Last { .. }));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HashPart {
    /// The first request: starts from the algorithm's initial value (HMAC: the keyed one).
    First,
    /// A middle request: continues from the state the previous request returned.
    Middle,
    /// The last request: continues from the state, pads for a message of `total_len`
    /// bytes (the whole message, HMAC key block not included) and yields the digest.
    Last {
        /// Length of the whole message in bytes.
        total_len: u64,
    },
}

/// One-shot digest or HMAC on a device, and long hashes (first/middle/last requests with
/// the intermediate state carried by the caller between them).
///
/// ```
/// use uadk_crypto::{DeviceDigest, DeviceError};
/// fn run(d: &mut dyn DeviceDigest, out: &mut [u8; 32]) -> Result<(), DeviceError> {
///     d.digest(b"abc", out)
/// }
/// ```
pub trait DeviceDigest: Send {
    /// Hashes `data` in one request into `out` (`out.len()` is the digest length).
    ///
    /// # Errors
    /// Any [`DeviceError`].
    fn digest(&mut self, data: &[u8], out: &mut [u8]) -> Result<(), DeviceError>;
    /// Bytes of intermediate state between long-hash requests (0: no long hash).
    fn state_len(&self) -> usize {
        0
    }
    /// The algorithm's block size: non-final long-hash requests carry whole blocks.
    fn block_len(&self) -> usize {
        64
    }
    /// One long-hash request over `data` (whole blocks unless `part` is `Last`). `state`
    /// ([`DeviceDigest::state_len`] bytes) holds the state the previous request returned
    /// (ignored for `First`); on success `First`/`Middle` replace it with the new state and
    /// `Last` writes the digest to `out`. On error `state` is unchanged, so the stream can
    /// be resumed from it.
    ///
    /// # Errors
    /// Any [`DeviceError`]; [`DeviceError::Unsupported`] without long-hash support.
    fn long_hash(
        &mut self,
        part: HashPart,
        data: &[u8],
        state: &mut [u8],
        out: &mut [u8],
    ) -> Result<(), DeviceError> {
        let _ = (part, data, state, out);
        Err(DeviceError::Unsupported("long hash".into()))
    }
    /// The session's template for asynchronous requests ([`DeviceQueues`]), if any.
    fn template(&self) -> Option<Template> {
        None
    }
}

/// Outcome of a device AEAD open.
///
/// ```
/// assert_ne!(uadk_crypto::Verified::Yes, uadk_crypto::Verified::No);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verified {
    /// The tag verified; the buffer holds plaintext.
    Yes,
    /// The tag did not verify.
    No,
}

/// One AEAD session on a device.
///
/// ```
/// use uadk_crypto::{DeviceAead, DeviceError, Verified};
/// fn check(d: &mut dyn DeviceAead, buf: &mut [u8], tag: &[u8]) -> Result<bool, DeviceError> {
///     Ok(d.open_in_place(&[0; 12], b"", buf, tag)? == Verified::Yes)
/// }
/// ```
pub trait DeviceAead: Send {
    /// Encrypts `buf` in place and writes the tag.
    ///
    /// # Errors
    /// Any [`DeviceError`]; `buf` must then be unchanged.
    fn seal_in_place(
        &mut self,
        nonce: &[u8],
        aad: &[u8],
        buf: &mut [u8],
        tag: &mut [u8],
    ) -> Result<(), DeviceError>;
    /// Decrypts `buf` in place and checks `tag`.
    ///
    /// # Errors
    /// Any [`DeviceError`]; `buf` must then be unchanged.
    fn open_in_place(
        &mut self,
        nonce: &[u8],
        aad: &[u8],
        buf: &mut [u8],
        tag: &[u8],
    ) -> Result<Verified, DeviceError>;
    /// The session's template for asynchronous requests ([`DeviceQueues`]), if any.
    fn template(&self) -> Option<Template> {
        None
    }
}
