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

use std::fmt;

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
}

/// One-shot digest or HMAC on a device (SEC long-hash streaming is a later extension).
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
}
