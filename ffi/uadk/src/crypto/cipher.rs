//! Cipher sessions (AES, SM4 in ECB/CBC/CTR/XTS; no padding) and streams.

use super::uadk_crypto;
use crate::boundary::{call, in_bytes, in_str, io, opt_out_ptr, out_ptr, Failure, Io, Outcome};
use crate::registry::{self, exclusive, impl_handle};
use crate::report::uadk_report;
use crate::status::*;
use ::uadk_crypto::{CipherAlg, CipherSession, CipherStream, Route};
use std::ffi::c_char;
use std::sync::{Arc, Mutex};

/// A cipher session: algorithm and key, set once. Thread-safe: any number of threads may
/// encrypt and decrypt with it at once, and make streams from it.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct uadk_cipher_session {
    /// Opaque id; 0 is no session.
    pub id: u64,
}
impl_handle!(uadk_cipher_session, CipherSession, CipherSession);

self_cell::self_cell!(
    /// A stream together with the session it borrows.
    pub struct OwnedCipherStream {
        owner: Arc<CipherSession>,
        #[not_covariant]
        dependent: CipherStream,
    }
);

/// A cipher stream: successive updates continue the chain (CBC: last ciphertext block;
/// CTR: the counter, any split; XTS: each update is the next data unit). One thread at a
/// time (concurrent use is `UADK_E_BUSY`).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct uadk_cipher_stream {
    /// Opaque id; 0 is no stream.
    pub id: u64,
}
impl_handle!(uadk_cipher_stream, CipherStream, Mutex<OwnedCipherStream>);

/// Encryption or decryption (`uadk_cipher_stream_create`).
pub type uadk_cipher_dir = i32;
/// Encrypt.
pub const UADK_ENCRYPT: uadk_cipher_dir = 0;
/// Decrypt.
pub const UADK_DECRYPT: uadk_cipher_dir = 1;

/// Creates a cipher session for algorithm `alg` (a NUL-terminated name such as
/// `aes-128-cbc` or `sm4-xts`) with the `key_len`-byte key at `key` (XTS: both halves)
/// into `*out`. `UADK_E_UNSUPPORTED` for an unknown name, `UADK_E_BAD_LENGTH` for a wrong
/// key length, `UADK_E_INVALID_ARGUMENT` for XTS with equal halves.
///
/// Thread-safe. The key is copied (and wiped when the session goes). The caller owns the
/// session and destroys it with `uadk_cipher_session_destroy`.
///
/// # Safety
/// `alg` a NUL-terminated string; `key` readable for `key_len` bytes; `out` writable.
#[no_mangle]
pub unsafe extern "C" fn uadk_cipher_session_create(
    ctx: uadk_crypto,
    alg: *const c_char,
    key: *const u8,
    key_len: usize,
    out: *mut uadk_cipher_session,
) -> uadk_status {
    call("uadk_cipher_session_create", || {
        // SAFETY: forwarded contracts.
        let (name, key, out) = unsafe {
            (
                in_str(alg, "alg")?,
                in_bytes(key, key_len, "key")?,
                out_ptr(out, "out")?,
            )
        };
        let alg = CipherAlg::from_name(name)?;
        let c = registry::get(ctx)?;
        let s = CipherSession::new(&c.crypto, alg, key)?;
        out.write(registry::insert(Arc::new(s))?);
        Ok(())
    })
}

fn write_report(report: Option<crate::boundary::OutPtr<uadk_report>>, route: &Route, n: usize) {
    if let Some(r) = report {
        r.write(uadk_report::from_route(route, n, n));
    }
}

/// # Safety
/// As `uadk_cipher_encrypt`.
#[allow(clippy::too_many_arguments)]
unsafe fn one_shot(
    encrypt: bool,
    session: uadk_cipher_session,
    iv: *const u8,
    iv_len: usize,
    src: *const u8,
    src_len: usize,
    dst: *mut u8,
    dst_cap: usize,
    report: *mut uadk_report,
) -> Outcome {
    // SAFETY: forwarded contracts.
    let (io, iv, report) = unsafe {
        (
            io(src, src_len, dst, dst_cap, &[(iv, iv_len, "`iv` and `dst`")])?,
            in_bytes(iv, iv_len, "iv")?,
            opt_out_ptr(report, "report")?,
        )
    };
    let s = registry::get(session)?;
    let route = match (io, encrypt) {
        (Io::InPlace(b), true) => s.encrypt_in_place(iv, b)?,
        (Io::InPlace(b), false) => s.decrypt_in_place(iv, b)?,
        (Io::Out(i, o), true) => s.encrypt(iv, i, o)?,
        (Io::Out(i, o), false) => s.decrypt(iv, i, o)?,
    };
    write_report(report, &route, src_len);
    Ok(())
}

/// Encrypts `src_len` bytes at `src` into `dst` with the `iv_len`-byte IV at `iv` (ECB:
/// none, `iv` may be NULL with `iv_len` 0; XTS: the tweak). Writes exactly `src_len` bytes
/// (`dst_cap` must be at least that: `UADK_E_OUTPUT_TOO_SMALL`). `src == dst` encrypts in
/// place; other overlaps are `UADK_E_INVALID_ARGUMENT`. ECB/CBC need whole blocks, XTS at
/// least one block (`UADK_E_BAD_LENGTH`). `report` (may be NULL) says what ran and why.
///
/// Thread-safe (the session may be shared).
///
/// # Safety
/// `iv` readable for `iv_len` bytes, `src` readable for `src_len` bytes, `dst` writable for
/// `dst_cap` bytes (NULL only with length 0); `report` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn uadk_cipher_encrypt(
    session: uadk_cipher_session,
    iv: *const u8,
    iv_len: usize,
    src: *const u8,
    src_len: usize,
    dst: *mut u8,
    dst_cap: usize,
    report: *mut uadk_report,
) -> uadk_status {
    call("uadk_cipher_encrypt", || {
        // SAFETY: forwarded contracts.
        unsafe { one_shot(true, session, iv, iv_len, src, src_len, dst, dst_cap, report) }
    })
}

/// Decrypts, as `uadk_cipher_encrypt` encrypts.
///
/// Thread-safe (the session may be shared).
///
/// # Safety
/// As `uadk_cipher_encrypt`.
#[no_mangle]
pub unsafe extern "C" fn uadk_cipher_decrypt(
    session: uadk_cipher_session,
    iv: *const u8,
    iv_len: usize,
    src: *const u8,
    src_len: usize,
    dst: *mut u8,
    dst_cap: usize,
    report: *mut uadk_report,
) -> uadk_status {
    call("uadk_cipher_decrypt", || {
        // SAFETY: forwarded contracts.
        unsafe { one_shot(false, session, iv, iv_len, src, src_len, dst, dst_cap, report) }
    })
}

/// Destroys the session (streams made from it keep working). A zero handle is a no-op; a
/// destroyed one is `UADK_E_INVALID_HANDLE`.
///
/// Thread-safe.
#[no_mangle]
pub extern "C" fn uadk_cipher_session_destroy(session: uadk_cipher_session) -> uadk_status {
    call("uadk_cipher_session_destroy", || registry::destroy(session))
}

/// Starts a stream on `session` in direction `dir` (`UADK_ENCRYPT` / `UADK_DECRYPT`) at the
/// `iv_len`-byte IV at `iv` into `*out`.
///
/// Thread-safe. The caller owns the stream and destroys it with
/// `uadk_cipher_stream_destroy`.
///
/// # Safety
/// `iv` readable for `iv_len` bytes (NULL only with 0); `out` writable.
#[no_mangle]
pub unsafe extern "C" fn uadk_cipher_stream_create(
    session: uadk_cipher_session,
    dir: uadk_cipher_dir,
    iv: *const u8,
    iv_len: usize,
    out: *mut uadk_cipher_stream,
) -> uadk_status {
    call("uadk_cipher_stream_create", || {
        // SAFETY: forwarded contracts.
        let (iv, out) = unsafe { (in_bytes(iv, iv_len, "iv")?, out_ptr(out, "out")?) };
        let encrypt = match dir {
            UADK_ENCRYPT => true,
            UADK_DECRYPT => false,
            other => {
                return Err(Failure::invalid(format!(
                    "dir = {other}: use UADK_ENCRYPT or UADK_DECRYPT"
                )))
            }
        };
        let s = registry::get(session)?;
        let stream = OwnedCipherStream::try_new(s, |s| match encrypt {
            true => s.encryptor(iv),
            false => s.decryptor(iv),
        })?;
        out.write(registry::insert(Arc::new(Mutex::new(stream)))?);
        Ok(())
    })
}

/// Continues the stream over `src_len` bytes at `src` into `dst` (exactly `src_len` bytes
/// written; `src == dst` works in place). Lengths follow the mode (ECB/CBC: whole blocks;
/// XTS: one data unit per update). `report` (may be NULL) says what ran and why.
///
/// One thread at a time per stream.
///
/// # Safety
/// As `uadk_cipher_encrypt` (without the IV).
#[no_mangle]
pub unsafe extern "C" fn uadk_cipher_stream_update(
    stream: uadk_cipher_stream,
    src: *const u8,
    src_len: usize,
    dst: *mut u8,
    dst_cap: usize,
    report: *mut uadk_report,
) -> uadk_status {
    call("uadk_cipher_stream_update", || {
        // SAFETY: forwarded contracts.
        let (io, report) = unsafe {
            (
                io(src, src_len, dst, dst_cap, &[])?,
                opt_out_ptr(report, "report")?,
            )
        };
        let obj = registry::get(stream)?;
        let mut st = exclusive::<uadk_cipher_stream, _>(&obj)?;
        let route = st.with_dependent_mut(|_, c| match io {
            Io::InPlace(b) => c.update_in_place(b),
            Io::Out(i, o) => c.update(i, o),
        })?;
        write_report(report, &route, src_len);
        Ok(())
    })
}

/// Destroys the stream. A zero handle is a no-op; a destroyed one is
/// `UADK_E_INVALID_HANDLE`.
///
/// Thread-safe.
#[no_mangle]
pub extern "C" fn uadk_cipher_stream_destroy(stream: uadk_cipher_stream) -> uadk_status {
    call("uadk_cipher_stream_destroy", || registry::destroy(stream))
}
