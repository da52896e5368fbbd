//! The crate's one error type.

use crate::device::DeviceError;

/// Every way a crypto request can fail.
///
/// Messages say what was wrong and what to do about it; none of these is ever
/// raised as a panic.
///
/// ```
/// use uadk_crypto::{CipherAlg, CipherSession, Error};
/// let alg = CipherAlg::from_name("aes-128-cbc").unwrap();
/// let err = CipherSession::software(alg, &[0u8; 5]).unwrap_err();
/// assert!(matches!(err, Error::KeyLength { got: 5, .. }));
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The algorithm name is not one this crate knows.
    #[error("unknown algorithm '{name}': run `uadk cipher --list` or `uadk digest --list` to see the supported names")]
    UnknownAlgorithm {
        /// The name as given.
        name: String,
    },
    /// The algorithm exists but not for the operation asked (e.g. a digest name given to `cipher`).
    #[error("'{name}' is not {expected}: run `uadk cipher --list` or `uadk digest --list` to see the supported names")]
    WrongKind {
        /// The name as given.
        name: String,
        /// What kind of algorithm was needed ("a cipher", "an AEAD", ...).
        expected: &'static str,
    },
    /// The key has the wrong length.
    #[error("{alg}: the key is {got} bytes but must be {expected} bytes")]
    KeyLength {
        /// Algorithm name.
        alg: &'static str,
        /// Length given.
        got: usize,
        /// Length(s) accepted, as text.
        expected: &'static str,
    },
    /// The IV (or XTS tweak) has the wrong length.
    #[error("{alg}: the IV is {got} bytes but must be {expected} bytes")]
    IvLength {
        /// Algorithm name.
        alg: &'static str,
        /// Length given.
        got: usize,
        /// Length accepted.
        expected: usize,
    },
    /// The AEAD nonce has the wrong length.
    #[error("{alg}: the nonce is {got} bytes but must be {expected} bytes")]
    NonceLength {
        /// Algorithm name.
        alg: &'static str,
        /// Length given.
        got: usize,
        /// Lengths accepted, as text.
        expected: &'static str,
    },
    /// The AEAD tag length is not allowed for this mode.
    #[error("{alg}: a {got}-byte tag is not allowed; use one of {allowed} bytes")]
    TagLength {
        /// Algorithm name.
        alg: &'static str,
        /// Length given.
        got: usize,
        /// Lengths accepted, as text.
        allowed: &'static str,
    },
    /// The two halves of an XTS key are equal, which breaks XTS security.
    #[error("{alg}: the two halves of the XTS key are equal; XTS needs two independent keys (IEEE 1619)")]
    XtsEqualKeyHalves {
        /// Algorithm name.
        alg: &'static str,
    },
    /// The data length is not allowed by the mode.
    #[error("{alg}: {len} bytes of data is not allowed: {rule}")]
    DataLength {
        /// Algorithm name.
        alg: &'static str,
        /// Length given.
        len: usize,
        /// The mode's rule, in words.
        rule: &'static str,
    },
    /// A CTR request would wrap the 128-bit counter block back to zero.
    #[error("{alg}: the data would wrap the 128-bit counter past 2^128-1; start from a smaller IV or split the message")]
    CounterOverflow {
        /// Algorithm name.
        alg: &'static str,
    },
    /// The output buffer does not match the input length.
    #[error("the output buffer is {got} bytes but must be {needed} bytes (the input length)")]
    OutputLength {
        /// Bytes needed.
        needed: usize,
        /// Bytes given.
        got: usize,
    },
    /// The AEAD tag did not verify; no plaintext was released.
    #[error("{alg}: authentication failed: the ciphertext, tag, AAD, nonce or key do not match; no plaintext was released")]
    AuthenticationFailed {
        /// Algorithm name.
        alg: &'static str,
    },
    /// `Backend::Device` was asked for but no device offers the algorithm.
    #[error("{alg}: no device offers this algorithm ({why}); use --backend auto or --backend software")]
    NoDevice {
        /// Algorithm name.
        alg: &'static str,
        /// Why no device could take it.
        why: String,
    },
    /// The device failed and software fallback is disabled or impossible.
    #[error("{alg}: the device failed ({source}); enable fallback or use --backend software")]
    Device {
        /// Algorithm name.
        alg: &'static str,
        /// What the device reported.
        #[source]
        source: DeviceError,
    },
    /// The device failed in the middle of a long hash and the stream cannot continue.
    #[error(
        "{alg}: the device failed after absorbing {absorbed} bytes of a streamed digest ({source}); the intermediate state cannot be continued in software for this algorithm or fallback is off: hash the message again (or use --backend software)"
    )]
    StreamLost {
        /// Algorithm name.
        alg: &'static str,
        /// Bytes the device had absorbed.
        absorbed: u64,
        /// What the device reported.
        #[source]
        source: DeviceError,
    },
    /// A streaming operation was used after it finished.
    #[error("{alg}: this stream already finished; start a new one")]
    Finished {
        /// Algorithm name.
        alg: &'static str,
    },
    /// A hex string could not be decoded.
    #[error("{what}: {reason}; give an even number of hex digits (0-9, a-f)")]
    Hex {
        /// Which argument.
        what: String,
        /// What was wrong.
        reason: String,
    },
    /// The software library reported an unexpected failure.
    #[error(
        "{alg}: the software library failed: {detail}; please report this with the command that caused it"
    )]
    Provider {
        /// Algorithm name.
        alg: &'static str,
        /// The library's message.
        detail: String,
    },
    /// A setting in the environment is invalid (`UADK_ENGINE_<ALG>` naming no provider, or
    /// one without the algorithm).
    #[error("{var}={value:?} is not usable: {what}; fix or unset {var}")]
    Config {
        /// The variable.
        var: String,
        /// Its value.
        value: String,
        /// What is wrong with it.
        what: String,
    },
    /// The batch queue is closed.
    #[error("the batch queue is shut down; create a new one")]
    QueueClosed,
}

/// Shorthand for results of this crate.
///
/// ```
/// fn parse(name: &str) -> uadk_crypto::Result<uadk_crypto::Algorithm> {
///     uadk_crypto::Algorithm::from_name(name)
/// }
/// assert!(parse("sm3").is_ok());
/// ```
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// Wraps a library error for `alg`.
    pub(crate) fn provider(alg: &'static str, detail: impl std::fmt::Display) -> Self {
        Error::Provider {
            alg,
            detail: detail.to_string(),
        }
    }
}
