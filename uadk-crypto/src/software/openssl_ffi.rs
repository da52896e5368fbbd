//! The only `unsafe` in the crate: exact-length and in-place `EVP_CipherUpdate`, and the
//! `MessageDigest` handle of an explicitly fetched digest.
//!
//! The `openssl` crate's safe `cipher_update` demands an output one block longer than the
//! input (it cannot know padding is off and no partial block is buffered), which would
//! force a bounce buffer and a copy per request; in-place is not offered at all. The callers
//! guarantee the conditions under which OpenSSL writes exactly `input.len()` bytes.

use foreign_types::ForeignTypeRef;
use openssl::cipher_ctx::CipherCtxRef;
use openssl::error::ErrorStack;

/// Largest length one `EVP_CipherUpdate` takes (its length is a C `int`).
pub(crate) const MAX_UPDATE: usize = 1 << 30;

/// Runs `EVP_CipherUpdate` from `input` into `output`.
///
/// Precondition (checked by the caller): padding is disabled, and for block modes no
/// partial block is buffered and `input.len()` is a multiple of the block size, so the
/// cipher writes exactly `input.len()` bytes; `input.len() <= MAX_UPDATE`.
pub(crate) fn update_exact(
    ctx: &mut CipherCtxRef,
    input: &[u8],
    output: &mut [u8],
) -> Result<(), ErrorStack> {
    assert!(output.len() == input.len() && input.len() <= MAX_UPDATE);
    let mut outlen: libc::c_int = 0;
    // SAFETY: `ctx` is a valid, initialised EVP_CIPHER_CTX (a live `CipherCtxRef`);
    // `input` is readable for `input.len()` bytes and `output` writable for the same
    // length, which is all OpenSSL writes under the caller's precondition; the length
    // fits a C int (asserted above); the buffers do not overlap (distinct borrows).
    let rc = unsafe {
        openssl_sys::EVP_CipherUpdate(
            ctx.as_ptr(),
            output.as_mut_ptr(),
            &mut outlen,
            input.as_ptr(),
            input.len() as libc::c_int,
        )
    };
    check(rc, outlen, input.len())
}

/// Runs `EVP_CipherUpdate` in place over `buf` (OpenSSL allows out == in exactly).
///
/// Same precondition as [`update_exact`].
pub(crate) fn update_in_place(ctx: &mut CipherCtxRef, buf: &mut [u8]) -> Result<(), ErrorStack> {
    assert!(buf.len() <= MAX_UPDATE);
    let mut outlen: libc::c_int = 0;
    let ptr = buf.as_mut_ptr();
    // SAFETY: `ctx` is a valid EVP_CIPHER_CTX; `ptr` is valid for reads and writes of
    // `buf.len()` bytes for the duration of the call (we hold the unique borrow); OpenSSL
    // documents in == out as supported; the length fits a C int (asserted above).
    let rc = unsafe {
        openssl_sys::EVP_CipherUpdate(
            ctx.as_ptr(),
            ptr,
            &mut outlen,
            ptr as *const u8,
            buf.len() as libc::c_int,
        )
    };
    check(rc, outlen, buf.len())
}

fn check(rc: libc::c_int, outlen: libc::c_int, want: usize) -> Result<(), ErrorStack> {
    if rc != 1 {
        return Err(ErrorStack::get());
    }
    // The precondition makes this exact; anything else is an OpenSSL contract change.
    assert_eq!(outlen as usize, want, "EVP_CipherUpdate wrote a different length");
    Ok(())
}

/// The `MessageDigest` handle of a fetched digest, for `openssl::hash::Hasher` (which
/// takes only that type; the `openssl` crate has no safe conversion from `MdRef`).
pub(crate) fn message_digest(md: &'static openssl::md::MdRef) -> openssl::hash::MessageDigest {
    // SAFETY: `md` is a valid EVP_MD fetched by `EVP_MD_fetch` and owned by a process-wide
    // static that is never dropped, so the pointer stays valid for every `Hasher` made
    // from it (`Hasher` only passes it to EVP_DigestInit_ex, which takes its own reference).
    unsafe { openssl::hash::MessageDigest::from_ptr(md.as_ptr()) }
}
