//! Digest and HMAC sessions (SHA-1/2, SM3, MD5) and streams.

use super::uadk_crypto;
use crate::boundary::{apart, call, in_bytes, in_str, opt_out_ptr, out_bytes, out_ptr, Failure, Outcome};
use crate::registry::{self, exclusive, impl_handle};
use crate::report::uadk_report;
use crate::status::*;
use ::uadk_crypto::{Algorithm, DigestAlg, DigestSession, Hasher};
use std::ffi::c_char;
use std::sync::{Arc, Mutex};

/// A digest or HMAC session (the HMAC key set once). Thread-safe: any number of threads
/// may hash with it at once, and make streams from it.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct uadk_digest_session {
    /// Opaque id; 0 is no session.
    pub id: u64,
}
impl_handle!(uadk_digest_session, DigestSession, DigestSession);

self_cell::self_cell!(
    /// A hasher together with the session it borrows.
    pub struct OwnedHasher {
        owner: Arc<DigestSession>,
        #[not_covariant]
        dependent: Hasher,
    }
);

/// A streaming digest or HMAC: any number of updates of any length, then one final. On a
/// SEC device it runs as a long hash. One thread at a time (concurrent use is
/// `UADK_E_BUSY`); after the final, updates and finals are `UADK_E_BAD_STATE`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct uadk_digest_stream {
    /// Opaque id; 0 is no stream.
    pub id: u64,
}
impl_handle!(uadk_digest_stream, DigestStream, Mutex<OwnedHasher>);

/// Creates a digest session for `alg` (a NUL-terminated name: `sha1`, `sha224`, `sha256`,
/// `sha384`, `sha512`, `sm3`, `md5`) into `*out`. An HMAC name is `UADK_E_UNSUPPORTED`
/// here: use `uadk_hmac_session_create`.
///
/// Thread-safe. The caller owns the session and destroys it with
/// `uadk_digest_session_destroy`.
///
/// # Safety
/// `alg` a NUL-terminated string; `out` writable.
#[no_mangle]
pub unsafe extern "C" fn uadk_digest_session_create(
    ctx: uadk_crypto,
    alg: *const c_char,
    out: *mut uadk_digest_session,
) -> uadk_status {
    call("uadk_digest_session_create", || {
        // SAFETY: forwarded contracts.
        let (name, out) = unsafe { (in_str(alg, "alg")?, out_ptr(out, "out")?) };
        let alg = match Algorithm::from_name(name)? {
            Algorithm::Digest(d) => d,
            Algorithm::Hmac(_) => {
                return Err(Failure::new(
                    UADK_E_UNSUPPORTED,
                    format!("'{name}' is an HMAC: create it with uadk_hmac_session_create and a key"),
                ))
            }
            _ => DigestAlg::from_name(name)?,
        };
        let c = registry::get(ctx)?;
        let s = DigestSession::new(&c.crypto, alg)?;
        out.write(registry::insert(Arc::new(s))?);
        Ok(())
    })
}

/// Creates an HMAC session over digest `alg` (`sha256` or `hmac-sha256` alike) with the
/// `key_len`-byte key at `key` (any length, RFC 2104; copied and wiped when the session
/// goes) into `*out`.
///
/// Thread-safe. The caller owns the session and destroys it with
/// `uadk_digest_session_destroy`.
///
/// # Safety
/// `alg` a NUL-terminated string; `key` readable for `key_len` bytes (NULL only with 0);
/// `out` writable.
#[no_mangle]
pub unsafe extern "C" fn uadk_hmac_session_create(
    ctx: uadk_crypto,
    alg: *const c_char,
    key: *const u8,
    key_len: usize,
    out: *mut uadk_digest_session,
) -> uadk_status {
    call("uadk_hmac_session_create", || {
        // SAFETY: forwarded contracts.
        let (name, key, out) = unsafe {
            (
                in_str(alg, "alg")?,
                in_bytes(key, key_len, "key")?,
                out_ptr(out, "out")?,
            )
        };
        let alg = match Algorithm::from_name(name)? {
            Algorithm::Digest(d) | Algorithm::Hmac(d) => d,
            _ => DigestAlg::from_name(name)?,
        };
        let c = registry::get(ctx)?;
        let s = DigestSession::hmac(&c.crypto, alg, key)?;
        out.write(registry::insert(Arc::new(s))?);
        Ok(())
    })
}

/// `*size` receives the digest (or MAC) length in bytes.
///
/// Thread-safe.
///
/// # Safety
/// `size` must be NULL (an error) or writable.
#[no_mangle]
pub unsafe extern "C" fn uadk_digest_size(session: uadk_digest_session, size: *mut usize) -> uadk_status {
    call("uadk_digest_size", || {
        // SAFETY: forwarded contract.
        let size = unsafe { out_ptr(size, "size") }?;
        size.write(registry::get(session)?.output_len());
        Ok(())
    })
}

/// The checks of the calls that write a digest: `out` holds at least the digest length and
/// overlaps no input.
fn digest_out(
    s: &DigestSession,
    out: *mut u8,
    out_cap: usize,
    inputs: &[(*const u8, usize, &'static str)],
) -> Outcome<usize> {
    let n = s.output_len();
    if out_cap < n {
        return Err(Failure::new(
            UADK_E_OUTPUT_TOO_SMALL,
            format!("out holds {out_cap} bytes but the digest is {n} bytes"),
        ));
    }
    apart(out, n, inputs)?;
    Ok(n)
}

/// Hashes (or MACs) the `data_len` bytes at `data` into `out` (`out_cap` at least the
/// digest length: `UADK_E_OUTPUT_TOO_SMALL`); `*out_len` receives the digest length.
/// `report` (may be NULL) says what ran and why.
///
/// Thread-safe (the session may be shared).
///
/// # Safety
/// `data` readable for `data_len` bytes (NULL only with 0); `out` writable for `out_cap`
/// bytes, not overlapping `data`; `out_len` writable; `report` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn uadk_digest(
    session: uadk_digest_session,
    data: *const u8,
    data_len: usize,
    out: *mut u8,
    out_cap: usize,
    out_len: *mut usize,
    report: *mut uadk_report,
) -> uadk_status {
    call("uadk_digest", || {
        let s = registry::get(session)?;
        let n = digest_out(&s, out, out_cap, &[(data, data_len, "`data` and `out`")])?;
        // SAFETY: forwarded contracts; `out` and `data` do not overlap (checked above).
        let (data, out, out_len, report) = unsafe {
            (
                in_bytes(data, data_len, "data")?,
                out_bytes(out, n, "out")?,
                out_ptr(out_len, "out_len")?,
                opt_out_ptr(report, "report")?,
            )
        };
        let route = s.digest(data, out)?;
        out_len.write(n);
        if let Some(r) = report {
            r.write(uadk_report::from_route(&route, data.len(), n));
        }
        Ok(())
    })
}

/// Destroys the session (streams made from it keep working). A zero handle is a no-op; a
/// destroyed one is `UADK_E_INVALID_HANDLE`.
///
/// Thread-safe.
#[no_mangle]
pub extern "C" fn uadk_digest_session_destroy(session: uadk_digest_session) -> uadk_status {
    call("uadk_digest_session_destroy", || registry::destroy(session))
}

/// Starts a streaming digest or HMAC on `session` into `*out`.
///
/// Thread-safe. The caller owns the stream and destroys it with
/// `uadk_digest_stream_destroy`.
///
/// # Safety
/// `out` must be NULL (an error) or writable.
#[no_mangle]
pub unsafe extern "C" fn uadk_digest_stream_create(
    session: uadk_digest_session,
    out: *mut uadk_digest_stream,
) -> uadk_status {
    call("uadk_digest_stream_create", || {
        // SAFETY: forwarded contract.
        let out = unsafe { out_ptr(out, "out") }?;
        let s = registry::get(session)?;
        let h = OwnedHasher::try_new(s, |s| s.hasher())?;
        out.write(registry::insert(Arc::new(Mutex::new(h)))?);
        Ok(())
    })
}

/// Absorbs the `data_len` bytes at `data` (any length, 0 included). After the final:
/// `UADK_E_BAD_STATE`.
///
/// One thread at a time per stream.
///
/// # Safety
/// `data` readable for `data_len` bytes (NULL only with 0).
#[no_mangle]
pub unsafe extern "C" fn uadk_digest_stream_update(
    stream: uadk_digest_stream,
    data: *const u8,
    data_len: usize,
) -> uadk_status {
    call("uadk_digest_stream_update", || {
        // SAFETY: forwarded contract.
        let data = unsafe { in_bytes(data, data_len, "data") }?;
        let obj = registry::get(stream)?;
        let mut h = exclusive::<uadk_digest_stream, _>(&obj)?;
        h.with_dependent_mut(|_, h| h.update(data))?;
        Ok(())
    })
}

/// Writes the digest (or MAC) into `out` (`out_cap` at least the digest length) and ends
/// the stream; `*out_len` receives the digest length. `report` (may be NULL) says what
/// ran and why. A second final is `UADK_E_BAD_STATE`.
///
/// One thread at a time per stream.
///
/// # Safety
/// `out` writable for `out_cap` bytes; `out_len` writable; `report` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn uadk_digest_stream_final(
    stream: uadk_digest_stream,
    out: *mut u8,
    out_cap: usize,
    out_len: *mut usize,
    report: *mut uadk_report,
) -> uadk_status {
    call("uadk_digest_stream_final", || {
        let obj = registry::get(stream)?;
        let mut h = exclusive::<uadk_digest_stream, _>(&obj)?;
        let n = digest_out(h.borrow_owner(), out, out_cap, &[])?;
        // SAFETY: forwarded contracts.
        let (out, out_len, report) = unsafe {
            (
                out_bytes(out, n, "out")?,
                out_ptr(out_len, "out_len")?,
                opt_out_ptr(report, "report")?,
            )
        };
        let route = h.with_dependent_mut(|_, h| h.finish(out))?;
        out_len.write(n);
        if let Some(r) = report {
            r.write(uadk_report::from_route(&route, 0, n));
        }
        Ok(())
    })
}

/// Destroys the stream (finished or not). A zero handle is a no-op; a destroyed one is
/// `UADK_E_INVALID_HANDLE`.
///
/// Thread-safe.
#[no_mangle]
pub extern "C" fn uadk_digest_stream_destroy(stream: uadk_digest_stream) -> uadk_status {
    call("uadk_digest_stream_destroy", || registry::destroy(stream))
}
