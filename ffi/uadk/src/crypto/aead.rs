//! AEAD sessions (AES/SM4 GCM and CCM), one-shot seal and open.
//!
//! The Rust API has no streaming AEAD (a tag covers the whole message), so neither has
//! this one.

use super::uadk_crypto;
use crate::boundary::{apart, call, in_bytes, in_str, io, opt_out_ptr, out_bytes, out_ptr, Io};
use crate::registry::{self, impl_handle};
use crate::report::uadk_report;
use crate::status::uadk_status;
use ::uadk_crypto::{AeadAlg, AeadSession};
use std::ffi::c_char;
use std::sync::Arc;

/// An AEAD session: algorithm, key and tag length, set once. Thread-safe: any number of
/// threads may seal and open with it at once.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct uadk_aead_session {
    /// Opaque id; 0 is no session.
    pub id: u64,
}
impl_handle!(uadk_aead_session, AeadSession, AeadSession);

/// Creates an AEAD session for `alg` (`aes-128-gcm`, `aes-256-ccm`, `sm4-gcm`, ...) with
/// the `key_len`-byte key at `key` and tags of `tag_len` bytes (GCM 12..16, CCM 4..16 even)
/// into `*out`.
///
/// Thread-safe. The key is copied (and wiped when the session goes). The caller owns the
/// session and destroys it with `uadk_aead_session_destroy`.
///
/// # Safety
/// `alg` a NUL-terminated string; `key` readable for `key_len` bytes; `out` writable.
#[no_mangle]
pub unsafe extern "C" fn uadk_aead_session_create(
    ctx: uadk_crypto,
    alg: *const c_char,
    key: *const u8,
    key_len: usize,
    tag_len: usize,
    out: *mut uadk_aead_session,
) -> uadk_status {
    call("uadk_aead_session_create", || {
        // SAFETY: forwarded contracts.
        let (name, key, out) = unsafe {
            (
                in_str(alg, "alg")?,
                in_bytes(key, key_len, "key")?,
                out_ptr(out, "out")?,
            )
        };
        let alg = AeadAlg::from_name(name)?;
        let c = registry::get(ctx)?;
        let s = AeadSession::new(&c.crypto, alg, key, tag_len)?;
        out.write(registry::insert(Arc::new(s))?);
        Ok(())
    })
}

/// Encrypts `src_len` bytes at `src` into `dst` (exactly `src_len` bytes written;
/// `src == dst` works in place) and writes the `tag_len`-byte tag (the session's tag
/// length) to `tag`, authenticating the `aad_len` bytes at `aad` too. Nonce: GCM 12 bytes,
/// CCM 7..13. `report` (may be NULL) says what ran and why.
///
/// Thread-safe (the session may be shared).
///
/// # Safety
/// Every pointer readable (or, `dst` and `tag`, writable) for its length, NULL only with
/// length 0; `dst` and `tag` overlap nothing else except `dst == src`; `report` NULL or
/// writable.
#[no_mangle]
pub unsafe extern "C" fn uadk_aead_seal(
    session: uadk_aead_session,
    nonce: *const u8,
    nonce_len: usize,
    aad: *const u8,
    aad_len: usize,
    src: *const u8,
    src_len: usize,
    dst: *mut u8,
    dst_cap: usize,
    tag: *mut u8,
    tag_len: usize,
    report: *mut uadk_report,
) -> uadk_status {
    call("uadk_aead_seal", || {
        apart(
            tag,
            tag_len,
            &[
                (nonce, nonce_len, "`nonce` and `tag`"),
                (aad, aad_len, "`aad` and `tag`"),
                (src, src_len, "`src` and `tag`"),
            ],
        )?;
        let dst_apart = [
            (nonce, nonce_len, "`nonce` and `dst`"),
            (aad, aad_len, "`aad` and `dst`"),
            (tag.cast_const(), tag_len, "`tag` and `dst`"),
        ];
        // SAFETY: forwarded contracts; the writable buffers overlap nothing (`tag` checked
        // above, `dst` in `io`; in place, `src` is only reached through `dst`).
        let (io, nonce, aad, tag, report) = unsafe {
            (
                io(src, src_len, dst, dst_cap, &dst_apart)?,
                in_bytes(nonce, nonce_len, "nonce")?,
                in_bytes(aad, aad_len, "aad")?,
                out_bytes(tag, tag_len, "tag")?,
                opt_out_ptr(report, "report")?,
            )
        };
        let s = registry::get(session)?;
        let route = match io {
            Io::InPlace(buf) => s.seal_in_place(nonce, aad, buf, tag)?,
            Io::Out(i, o) => s.seal(nonce, aad, i, o, tag)?,
        };
        if let Some(r) = report {
            r.write(uadk_report::from_route(
                &route,
                src_len + aad.len(),
                src_len + tag.len(),
            ));
        }
        Ok(())
    })
}

/// Decrypts `src_len` bytes at `src` into `dst` (exactly `src_len` bytes; `src == dst` in
/// place) if the `tag_len`-byte `tag` verifies over them and the `aad_len` bytes at `aad`.
/// A tag that does not verify is `UADK_E_AUTH_FAILED` and `dst` is zeroed: no plaintext is
/// released. `report` (may be NULL) says what ran and why.
///
/// Thread-safe (the session may be shared).
///
/// # Safety
/// As `uadk_aead_seal`, with `tag` read-only.
#[no_mangle]
pub unsafe extern "C" fn uadk_aead_open(
    session: uadk_aead_session,
    nonce: *const u8,
    nonce_len: usize,
    aad: *const u8,
    aad_len: usize,
    src: *const u8,
    src_len: usize,
    tag: *const u8,
    tag_len: usize,
    dst: *mut u8,
    dst_cap: usize,
    report: *mut uadk_report,
) -> uadk_status {
    call("uadk_aead_open", || {
        let dst_apart = [
            (nonce, nonce_len, "`nonce` and `dst`"),
            (aad, aad_len, "`aad` and `dst`"),
            (tag, tag_len, "`tag` and `dst`"),
        ];
        // SAFETY: forwarded contracts; `dst` overlaps no input (checked in `io`; in place,
        // `src` is only reached through `dst`).
        let (io, nonce, aad, tag, report) = unsafe {
            (
                io(src, src_len, dst, dst_cap, &dst_apart)?,
                in_bytes(nonce, nonce_len, "nonce")?,
                in_bytes(aad, aad_len, "aad")?,
                in_bytes(tag, tag_len, "tag")?,
                opt_out_ptr(report, "report")?,
            )
        };
        let s = registry::get(session)?;
        let route = match io {
            Io::InPlace(buf) => s.open_in_place(nonce, aad, buf, tag)?,
            Io::Out(i, o) => s.open(nonce, aad, i, tag, o)?,
        };
        if let Some(r) = report {
            r.write(uadk_report::from_route(&route, src_len + aad.len(), src_len));
        }
        Ok(())
    })
}

/// Destroys the session. A zero handle is a no-op; a destroyed one is
/// `UADK_E_INVALID_HANDLE`.
///
/// Thread-safe.
#[no_mangle]
pub extern "C" fn uadk_aead_session_destroy(session: uadk_aead_session) -> uadk_status {
    call("uadk_aead_session_destroy", || registry::destroy(session))
}
