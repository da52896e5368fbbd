//! The C boundary's safety net: typed errors, OpenSSL's error queue, and the panic guard
//! every `extern "C"` entry point runs inside.
//!
//! A provider function reports failure by returning 0 (or NULL) and pushing an error on
//! the calling thread's OpenSSL error queue; `openssl ... ` and libssl print or inspect it.
//! Errors are raised as library `PROV` (57) with OpenSSL's own reason codes, so the
//! application sees the same codes as from the default provider, plus a message that says
//! what to do. A panic never crosses the boundary: it is caught, reported as an internal
//! error, and the function returns its failure value.

use std::ffi::{c_int, CString};
use std::panic::{catch_unwind, AssertUnwindSafe};

use crate::ossl;

/// An error for the caller: an OpenSSL `PROV_R_*` reason and a message.
///
/// Boxed, so that a `Res<()>` is one register wide: every provider call returns through
/// several `?` levels, and a 32-byte result passed through memory at each level was a
/// measurable share of a small AES-GCM message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProvError(Box<ErrorDetail>);

/// What a [`ProvError`] holds (reached through `Deref`: `e.reason`, `e.message`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorDetail {
    /// The OpenSSL reason code (`PROV_R_*` from `proverr.h`).
    pub reason: c_int,
    /// What went wrong and what to do.
    pub message: String,
}

/// Result of provider internals.
pub type Res<T> = Result<T, ProvError>;

impl ProvError {
    /// An error with `reason` and `message`.
    ///
    /// ```
    /// let e = uadk_provider::boundary::ProvError::new(110, "tag mismatch");
    /// assert_eq!(e.reason, 110);
    /// ```
    #[cold]
    #[inline(never)]
    pub fn new(reason: c_int, message: impl Into<String>) -> ProvError {
        ProvError(Box::new(ErrorDetail {
            reason,
            message: message.into(),
        }))
    }
}

impl std::ops::Deref for ProvError {
    type Target = ErrorDetail;
    fn deref(&self) -> &ErrorDetail {
        &self.0
    }
}

impl std::ops::DerefMut for ProvError {
    fn deref_mut(&mut self) -> &mut ErrorDetail {
        &mut self.0
    }
}

impl std::fmt::Display for ProvError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} (reason {})", self.message, self.reason)
    }
}

impl From<uadk_crypto::Error> for ProvError {
    fn from(e: uadk_crypto::Error) -> Self {
        let reason = match &e {
            uadk_crypto::Error::AuthenticationFailed { .. } => ossl::PROV_R_INVALID_TAG,
            uadk_crypto::Error::KeyLength { .. } => ossl::PROV_R_INVALID_KEY_LENGTH,
            uadk_crypto::Error::NonceLength { .. } => ossl::PROV_R_INVALID_IV_LENGTH,
            uadk_crypto::Error::TagLength { .. } => ossl::PROV_R_INVALID_TAG_LENGTH,
            uadk_crypto::Error::DataLength { .. } => ossl::PROV_R_INVALID_INPUT_LENGTH,
            _ => ossl::PROV_R_CIPHER_OPERATION_FAILED,
        };
        ProvError::new(reason, format!("uadk_provider: {e}"))
    }
}

/// Pushes `e` on the calling thread's OpenSSL error queue.
pub fn raise(e: &ProvError) {
    // Interior NULs cannot occur in our messages; replace them rather than lose the error.
    let msg = CString::new(e.message.replace('\0', " ")).unwrap_or_default();
    // SAFETY: ERR_new/ERR_set_debug/ERR_set_error only touch the calling thread's error
    // queue; every pointer is a NUL-terminated string that outlives the calls, and the
    // format "%s" consumes exactly the one `char *` argument passed.
    unsafe {
        ossl::ERR_new();
        ossl::ERR_set_debug(c"uadk_provider".as_ptr(), 0, c"uadk_provider".as_ptr());
        ossl::ERR_set_error(ossl::ERR_LIB_PROV, e.reason, c"%s".as_ptr(), msg.as_ptr());
    }
}

/// Runs `f` for an entry point returning `int` (1 success, 0 failure): an `Err` is raised
/// on the error queue, a panic becomes an internal error. Inlined into each entry point,
/// so the compiler sees the whole call (the error paths stay out of line).
#[inline(always)]
pub fn int_call(f: impl FnOnce() -> Res<()>) -> c_int {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(Ok(())) => 1,
        Ok(Err(e)) => raise_int(e),
        Err(_) => raise_int(panic_error()),
    }
}

#[cold]
#[inline(never)]
fn raise_int(e: ProvError) -> c_int {
    raise(&e);
    0
}

/// Runs `f` for an entry point returning a value, `fail` on error or panic.
pub fn value_call<T>(fail: T, f: impl FnOnce() -> Res<T>) -> T {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(Ok(v)) => v,
        Ok(Err(e)) => {
            raise(&e);
            fail
        }
        Err(_) => {
            raise(&panic_error());
            fail
        }
    }
}

/// Runs `f` for an entry point without a result (free functions); a panic is swallowed.
pub fn void_call(f: impl FnOnce()) {
    if catch_unwind(AssertUnwindSafe(f)).is_err() {
        raise(&panic_error());
    }
}

fn panic_error() -> ProvError {
    ProvError::new(
        ossl::ERR_R_INTERNAL_ERROR,
        "uadk_provider: internal error (a panic was caught at the C boundary); please report it",
    )
}

/// A uadk-crypto request's outcome without its value (the `Route` a request returns is
/// dropped at once rather than moved along: reading it back from the stack after the call
/// stalled on store forwarding, 4% of a 64-byte XTS request).
#[inline]
pub fn done<T>(r: uadk_crypto::Result<T>) -> Res<()> {
    match r {
        Ok(_) => Ok(()),
        Err(e) => Err(e.into()),
    }
}

/// Shorthand for a `PROV_R_*` error.
#[cold]
pub fn err<T>(reason: c_int, message: impl Into<String>) -> Res<T> {
    Err(ProvError::new(reason, message))
}
