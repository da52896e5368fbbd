//! The `extern "C"` functions in the cipher and digest dispatch tables: the C boundary.
//!
//! Every function checks its pointers, turns them into slices (resolving in-place and
//! overlapping buffers, see [`Io`]), runs the safe implementation inside
//! [`crate::boundary`]'s panic guard, and reports errors on OpenSSL's error queue.
//!
//! Ownership and threads: a context (`newctx`/`dupctx`) is a `Box` owned by OpenSSL until
//! `freectx`; OpenSSL uses one context from one thread at a time, and different contexts
//! concurrently (the sessions they share are `Sync`). Algorithm-level functions
//! (`get_params`, the `gettable` tables) are stateless and thread-safe.

use std::ffi::{c_int, c_void};
use std::ptr;

use crate::algs::{Kind, CIPHERS, DIGESTS};
use crate::block::BlockCtx;
use crate::boundary::{err, int_call, value_call, void_call, Res};
use crate::ccm::CcmCtx;
use crate::digest::DigestCtx;
use crate::gcm::GcmCtx;
use crate::io::Io;
use crate::ossl::{self, names, param, OSSL_PARAM, PARAM_END};
use crate::params::{In, Out};

/// A cipher context behind OpenSSL's `void *`.
pub enum CipherCtx {
    /// ECB/CBC/CTR/XTS.
    Block(BlockCtx),
    /// GCM.
    Gcm(Box<GcmCtx>),
    /// CCM.
    Ccm(Box<CcmCtx>),
}

fn null_ctx<T>() -> Res<T> {
    err(ossl::ERR_R_INTERNAL_ERROR, "uadk_provider: NULL context")
}

/// # Safety
/// `vctx` is NULL or a pointer returned by our `newctx`/`dupctx` and not yet freed, used by
/// this thread only for the duration of the call (OpenSSL's contract).
unsafe fn cctx<'a>(vctx: *mut c_void) -> Res<&'a mut CipherCtx> {
    // SAFETY: per the function contract.
    match unsafe { vctx.cast::<CipherCtx>().as_mut() } {
        Some(c) => Ok(c),
        None => null_ctx(),
    }
}

/// # Safety
/// `p` is NULL or valid for reads of `len` bytes for `'a`.
unsafe fn opt_slice<'a>(p: *const u8, len: usize) -> Option<&'a [u8]> {
    if p.is_null() {
        None
    } else {
        // SAFETY: per the function contract.
        Some(unsafe { std::slice::from_raw_parts(p, len) })
    }
}

/// Builds the call's buffers.
///
/// # Safety
/// `inp` is NULL or readable for `inl` bytes; `out` is NULL or writable for `outsize`
/// bytes (OpenSSL's provider contract), both for `'a`.
unsafe fn make_io<'a>(
    out: *mut u8,
    outsize: usize,
    inp: *const u8,
    inl: usize,
    scratch: &'a mut Vec<u8>,
) -> Res<Io<'a>> {
    if out.is_null() {
        // SAFETY: per the function contract.
        return Ok(Io::NoOut(unsafe { opt_slice(inp, inl) }, inl));
    }
    if inp.is_null() {
        if inl != 0 {
            return err(
                ossl::PROV_R_INVALID_INPUT_LENGTH,
                "uadk_provider: NULL input with a length",
            );
        }
        // SAFETY: `out` is writable for `outsize` bytes.
        return Ok(Io::Split(&[], unsafe {
            std::slice::from_raw_parts_mut(out, outsize)
        }));
    }
    let (i0, o0) = (inp as usize, out as usize);
    if i0 == o0 {
        // SAFETY: in place: the region is readable for `inl` and writable for `outsize`
        // bytes; we make one mutable slice over the larger of the two and nothing else.
        return Ok(Io::InPlace(
            unsafe { std::slice::from_raw_parts_mut(out, inl.max(outsize)) },
            inl,
        ));
    }
    let overlap = i0 < o0 + outsize && o0 < i0 + inl;
    if overlap {
        // SAFETY: `inp` is readable for `inl` bytes; copied before any write.
        scratch.extend_from_slice(unsafe { std::slice::from_raw_parts(inp, inl) });
        // SAFETY: `out` is writable for `outsize` bytes; `scratch` is separate memory.
        return Ok(Io::Split(scratch, unsafe {
            std::slice::from_raw_parts_mut(out, outsize)
        }));
    }
    // SAFETY: disjoint regions, readable/writable for their lengths.
    Ok(Io::Split(
        unsafe { std::slice::from_raw_parts(inp, inl) },
        unsafe { std::slice::from_raw_parts_mut(out, outsize) },
    ))
}

/// Writes `v` to `*p` if `p` is not NULL.
///
/// # Safety
/// `p` is NULL or valid for a write.
unsafe fn put(p: *mut usize, v: usize) {
    if !p.is_null() {
        // SAFETY: per the function contract.
        unsafe { *p = v };
    }
}

pub(crate) unsafe extern "C" fn cipher_newctx<const I: usize>(_provctx: *mut c_void) -> *mut c_void {
    value_call(ptr::null_mut(), || {
        let spec = &CIPHERS[I];
        let ctx = match spec.kind {
            Kind::Block | Kind::Xts => CipherCtx::Block(BlockCtx::new(spec)?),
            Kind::Gcm => CipherCtx::Gcm(Box::new(GcmCtx::new(spec)?)),
            Kind::Ccm => CipherCtx::Ccm(Box::new(CcmCtx::new(spec)?)),
        };
        Ok(Box::into_raw(Box::new(ctx)).cast())
    })
}

pub(crate) unsafe extern "C" fn cipher_freectx(vctx: *mut c_void) {
    void_call(|| {
        if !vctx.is_null() {
            // SAFETY: `vctx` came from `Box::into_raw` in newctx/dupctx and OpenSSL frees it
            // once; key material is wiped by the contexts' `Zeroizing` fields.
            drop(unsafe { Box::from_raw(vctx.cast::<CipherCtx>()) });
        }
    })
}

pub(crate) unsafe extern "C" fn cipher_dupctx(vctx: *mut c_void) -> *mut c_void {
    value_call(ptr::null_mut(), || {
        // SAFETY: a live context (OpenSSL's contract).
        let c = unsafe { cctx(vctx) }?;
        let d = match c {
            CipherCtx::Block(b) => CipherCtx::Block(b.try_clone()?),
            CipherCtx::Gcm(g) => CipherCtx::Gcm(g.clone()),
            CipherCtx::Ccm(c) => CipherCtx::Ccm(Box::new(c.try_clone()?)),
        };
        Ok(Box::into_raw(Box::new(d)).cast())
    })
}

unsafe fn init(
    vctx: *mut c_void,
    enc: bool,
    key: *const u8,
    keylen: usize,
    iv: *const u8,
    ivlen: usize,
    params: *const OSSL_PARAM,
) -> c_int {
    int_call(|| {
        // SAFETY: OpenSSL passes a live context, key/iv NULL or readable for their lengths,
        // and a NULL or terminated parameter array.
        let (c, key, iv, params) = unsafe {
            (
                cctx(vctx)?,
                opt_slice(key, keylen),
                opt_slice(iv, ivlen),
                In::new(params),
            )
        };
        match c {
            CipherCtx::Block(b) => b.init(enc, key, iv, params),
            CipherCtx::Gcm(g) => g.init(enc, key, iv, params),
            CipherCtx::Ccm(m) => m.init(enc, key, iv, params),
        }
    })
}

pub(crate) unsafe extern "C" fn cipher_einit(
    vctx: *mut c_void,
    key: *const u8,
    keylen: usize,
    iv: *const u8,
    ivlen: usize,
    params: *const OSSL_PARAM,
) -> c_int {
    // SAFETY: forwarded under the same contract.
    unsafe { init(vctx, true, key, keylen, iv, ivlen, params) }
}

pub(crate) unsafe extern "C" fn cipher_dinit(
    vctx: *mut c_void,
    key: *const u8,
    keylen: usize,
    iv: *const u8,
    ivlen: usize,
    params: *const OSSL_PARAM,
) -> c_int {
    // SAFETY: forwarded under the same contract.
    unsafe { init(vctx, false, key, keylen, iv, ivlen, params) }
}

pub(crate) unsafe extern "C" fn cipher_update(
    vctx: *mut c_void,
    out: *mut u8,
    outl: *mut usize,
    outsize: usize,
    inp: *const u8,
    inl: usize,
) -> c_int {
    int_call(|| {
        let mut scratch = Vec::new();
        // SAFETY: OpenSSL's contract for update (live context, buffers as sized).
        let (c, io) = unsafe { (cctx(vctx)?, make_io(out, outsize, inp, inl, &mut scratch)?) };
        let n = match c {
            CipherCtx::Block(b) => b.update(io, outsize),
            CipherCtx::Gcm(g) => g.update(io, outsize),
            CipherCtx::Ccm(m) => m.update(io, outsize),
        };
        // SAFETY: `outl` is NULL or writable.
        unsafe { put(outl, *n.as_ref().unwrap_or(&0)) };
        n.map(|_| ())
    })
}

pub(crate) unsafe extern "C" fn cipher_final(
    vctx: *mut c_void,
    out: *mut u8,
    outl: *mut usize,
    outsize: usize,
) -> c_int {
    int_call(|| {
        // SAFETY: live context; `out` NULL or writable for `outsize` bytes.
        let (c, out) = unsafe {
            (
                cctx(vctx)?,
                if out.is_null() {
                    &mut [][..]
                } else {
                    std::slice::from_raw_parts_mut(out, outsize)
                },
            )
        };
        let n = match c {
            CipherCtx::Block(b) => b.final_(out),
            CipherCtx::Gcm(g) => g.final_(),
            CipherCtx::Ccm(m) => m.final_(out),
        };
        // SAFETY: `outl` is NULL or writable.
        unsafe { put(outl, *n.as_ref().unwrap_or(&0)) };
        n.map(|_| ())
    })
}

pub(crate) unsafe extern "C" fn cipher_cipher(
    vctx: *mut c_void,
    out: *mut u8,
    outl: *mut usize,
    outsize: usize,
    inp: *const u8,
    inl: usize,
) -> c_int {
    int_call(|| {
        let mut scratch = Vec::new();
        // SAFETY: as update; `inp == NULL` means final for the AEADs.
        let c = unsafe { cctx(vctx)? };
        let io = if inp.is_null() && inl == 0 {
            None
        } else {
            // SAFETY: as update.
            Some(unsafe { make_io(out, outsize, inp, inl, &mut scratch)? })
        };
        let n = match (c, io) {
            (CipherCtx::Block(b), Some(io)) => b.cipher(io, outsize),
            (CipherCtx::Block(_), None) => Ok(0),
            (CipherCtx::Gcm(g), io) => g.cipher(io, outsize),
            (CipherCtx::Ccm(m), io) => m.cipher(io, outsize),
        };
        // SAFETY: `outl` is NULL or writable.
        unsafe { put(outl, *n.as_ref().unwrap_or(&0)) };
        n.map(|_| ())
    })
}

pub(crate) unsafe extern "C" fn cipher_get_params<const I: usize>(params: *mut OSSL_PARAM) -> c_int {
    int_call(|| {
        let s = &CIPHERS[I];
        // SAFETY: NULL or a valid terminated array.
        let out = unsafe { Out::new(params) };
        for p in out.iter() {
            match p.name().to_bytes() {
                b"mode" => p.set_uint(s.mode)?,
                b"keylen" => p.set_size(s.keylen)?,
                b"ivlen" => p.set_size(s.ivlen)?,
                b"blocksize" => p.set_size(s.blocksize)?,
                b"aead" => p.set_int(s.aead() as c_int)?,
                b"custom-iv" => p.set_int(s.custom_iv() as c_int)?,
                b"cts" | b"tls-multi" | b"has-randkey" => p.set_int(0)?,
                _ => {}
            }
        }
        Ok(())
    })
}

pub(crate) unsafe extern "C" fn cipher_get_ctx_params(vctx: *mut c_void, params: *mut OSSL_PARAM) -> c_int {
    int_call(|| {
        // SAFETY: live context; NULL or valid array.
        let (c, out) = unsafe { (cctx(vctx)?, Out::new(params)) };
        match c {
            CipherCtx::Block(b) => b.get_params(&out),
            CipherCtx::Gcm(g) => g.get_params(&out),
            CipherCtx::Ccm(m) => m.get_params(&out),
        }
    })
}

pub(crate) unsafe extern "C" fn cipher_set_ctx_params(vctx: *mut c_void, params: *const OSSL_PARAM) -> c_int {
    int_call(|| {
        // SAFETY: live context; NULL or valid array.
        let (c, p) = unsafe { (cctx(vctx)?, In::new(params)) };
        match c {
            CipherCtx::Block(b) => b.set_params(p),
            CipherCtx::Gcm(g) => g.set_params(p),
            CipherCtx::Ccm(m) => m.set_params(p),
        }
    })
}

/// Algorithm parameters of every cipher.
pub(crate) static CIPHER_GETTABLE: [OSSL_PARAM; 10] = [
    param(names::MODE, ossl::OSSL_PARAM_UNSIGNED_INTEGER),
    param(names::KEYLEN, ossl::OSSL_PARAM_UNSIGNED_INTEGER),
    param(names::IVLEN, ossl::OSSL_PARAM_UNSIGNED_INTEGER),
    param(names::BLOCK_SIZE, ossl::OSSL_PARAM_UNSIGNED_INTEGER),
    param(names::AEAD, ossl::OSSL_PARAM_INTEGER),
    param(names::CUSTOM_IV, ossl::OSSL_PARAM_INTEGER),
    param(names::CTS, ossl::OSSL_PARAM_INTEGER),
    param(names::TLS1_MULTIBLOCK, ossl::OSSL_PARAM_INTEGER),
    param(names::HAS_RAND_KEY, ossl::OSSL_PARAM_INTEGER),
    PARAM_END,
];

static BLOCK_CTX_GETTABLE: [OSSL_PARAM; 8] = [
    param(names::KEYLEN, ossl::OSSL_PARAM_UNSIGNED_INTEGER),
    param(names::IVLEN, ossl::OSSL_PARAM_UNSIGNED_INTEGER),
    param(names::PADDING, ossl::OSSL_PARAM_UNSIGNED_INTEGER),
    param(names::NUM, ossl::OSSL_PARAM_UNSIGNED_INTEGER),
    param(names::IV, ossl::OSSL_PARAM_OCTET_STRING),
    param(names::UPDATED_IV, ossl::OSSL_PARAM_OCTET_STRING),
    param(names::TLS_MAC, ossl::OSSL_PARAM_OCTET_PTR),
    PARAM_END,
];

static BLOCK_CTX_SETTABLE: [OSSL_PARAM; 6] = [
    param(names::PADDING, ossl::OSSL_PARAM_UNSIGNED_INTEGER),
    param(names::NUM, ossl::OSSL_PARAM_UNSIGNED_INTEGER),
    param(names::USE_BITS, ossl::OSSL_PARAM_UNSIGNED_INTEGER),
    param(names::TLS_VERSION, ossl::OSSL_PARAM_UNSIGNED_INTEGER),
    param(names::TLS_MAC_SIZE, ossl::OSSL_PARAM_UNSIGNED_INTEGER),
    PARAM_END,
];

static XTS_CTX_SETTABLE: [OSSL_PARAM; 2] =
    [param(names::KEYLEN, ossl::OSSL_PARAM_UNSIGNED_INTEGER), PARAM_END];

static AEAD_CTX_GETTABLE: [OSSL_PARAM; 9] = [
    param(names::KEYLEN, ossl::OSSL_PARAM_UNSIGNED_INTEGER),
    param(names::IVLEN, ossl::OSSL_PARAM_UNSIGNED_INTEGER),
    param(names::AEAD_TAGLEN, ossl::OSSL_PARAM_UNSIGNED_INTEGER),
    param(names::IV, ossl::OSSL_PARAM_OCTET_STRING),
    param(names::UPDATED_IV, ossl::OSSL_PARAM_OCTET_STRING),
    param(names::AEAD_TAG, ossl::OSSL_PARAM_OCTET_STRING),
    param(names::AEAD_TLS1_AAD_PAD, ossl::OSSL_PARAM_UNSIGNED_INTEGER),
    param(names::AEAD_TLS1_GET_IV_GEN, ossl::OSSL_PARAM_OCTET_STRING),
    PARAM_END,
];

static AEAD_CTX_SETTABLE: [OSSL_PARAM; 6] = [
    param(names::AEAD_IVLEN, ossl::OSSL_PARAM_UNSIGNED_INTEGER),
    param(names::AEAD_TAG, ossl::OSSL_PARAM_OCTET_STRING),
    param(names::AEAD_TLS1_AAD, ossl::OSSL_PARAM_OCTET_STRING),
    param(names::AEAD_TLS1_IV_FIXED, ossl::OSSL_PARAM_OCTET_STRING),
    param(names::AEAD_TLS1_SET_IV_INV, ossl::OSSL_PARAM_OCTET_STRING),
    PARAM_END,
];

pub(crate) unsafe extern "C" fn cipher_gettable_params(_provctx: *mut c_void) -> *const OSSL_PARAM {
    CIPHER_GETTABLE.as_ptr()
}

pub(crate) unsafe extern "C" fn cipher_gettable_ctx_params<const I: usize>(
    _cctx: *mut c_void,
    _provctx: *mut c_void,
) -> *const OSSL_PARAM {
    match CIPHERS[I].kind {
        Kind::Gcm | Kind::Ccm => AEAD_CTX_GETTABLE.as_ptr(),
        Kind::Block | Kind::Xts => BLOCK_CTX_GETTABLE.as_ptr(),
    }
}

pub(crate) unsafe extern "C" fn cipher_settable_ctx_params<const I: usize>(
    _cctx: *mut c_void,
    _provctx: *mut c_void,
) -> *const OSSL_PARAM {
    match CIPHERS[I].kind {
        Kind::Gcm | Kind::Ccm => AEAD_CTX_SETTABLE.as_ptr(),
        Kind::Xts => XTS_CTX_SETTABLE.as_ptr(),
        Kind::Block => BLOCK_CTX_SETTABLE.as_ptr(),
    }
}

// ---- digests ----

/// # Safety
/// As [`cctx`], for digest contexts.
unsafe fn dctx<'a>(vctx: *mut c_void) -> Res<&'a mut DigestCtx> {
    // SAFETY: per the function contract.
    match unsafe { vctx.cast::<DigestCtx>().as_mut() } {
        Some(c) => Ok(c),
        None => null_ctx(),
    }
}

pub(crate) unsafe extern "C" fn digest_newctx<const I: usize>(_provctx: *mut c_void) -> *mut c_void {
    value_call(ptr::null_mut(), || {
        Ok(Box::into_raw(DigestCtx::new_boxed(&DIGESTS[I])).cast())
    })
}

pub(crate) unsafe extern "C" fn digest_freectx(vctx: *mut c_void) {
    void_call(|| {
        if !vctx.is_null() {
            // SAFETY: from `Box::into_raw` in newctx/dupctx, freed once by OpenSSL.
            drop(unsafe { Box::from_raw(vctx.cast::<DigestCtx>()) });
        }
    })
}

pub(crate) unsafe extern "C" fn digest_dupctx(vctx: *mut c_void) -> *mut c_void {
    value_call(ptr::null_mut(), || {
        // SAFETY: a live context.
        let d = unsafe { dctx(vctx)? }.try_clone();
        Ok(Box::into_raw(Box::new(d)).cast())
    })
}

pub(crate) unsafe extern "C" fn digest_init(vctx: *mut c_void, _params: *const OSSL_PARAM) -> c_int {
    int_call(|| {
        // SAFETY: a live context.
        unsafe { dctx(vctx)? }.init();
        Ok(())
    })
}

pub(crate) unsafe extern "C" fn digest_update(vctx: *mut c_void, inp: *const u8, inl: usize) -> c_int {
    int_call(|| {
        // SAFETY: a live context; `inp` NULL (only with 0 bytes) or readable for `inl`.
        let (d, data) = unsafe { (dctx(vctx)?, opt_slice(inp, inl)) };
        match data {
            Some(data) => d.update(data),
            None if inl == 0 => Ok(()),
            None => err(
                ossl::PROV_R_INVALID_INPUT_LENGTH,
                "uadk_provider: NULL input with a length",
            ),
        }
    })
}

pub(crate) unsafe extern "C" fn digest_final(
    vctx: *mut c_void,
    out: *mut u8,
    outl: *mut usize,
    outsize: usize,
) -> c_int {
    int_call(|| {
        if out.is_null() {
            return err(
                ossl::PROV_R_OUTPUT_BUFFER_TOO_SMALL,
                "uadk_provider: NULL digest output",
            );
        }
        // SAFETY: a live context; `out` writable for `outsize` bytes.
        let (d, out) = unsafe { (dctx(vctx)?, std::slice::from_raw_parts_mut(out, outsize)) };
        let n = d.final_(out)?;
        // SAFETY: `outl` NULL or writable.
        unsafe { put(outl, n) };
        Ok(())
    })
}

pub(crate) unsafe extern "C" fn digest_get_params<const I: usize>(params: *mut OSSL_PARAM) -> c_int {
    int_call(|| {
        let s = &DIGESTS[I];
        // SAFETY: NULL or a valid array.
        let out = unsafe { Out::new(params) };
        if let Some(p) = out.get(names::BLOCK_SIZE) {
            p.set_size(s.blocksize)?;
        }
        if let Some(p) = out.get(names::DIGEST_SIZE) {
            p.set_size(s.size)?;
        }
        if let Some(p) = out.get(names::DIGEST_XOF) {
            p.set_int(0)?;
        }
        if let Some(p) = out.get(names::DIGEST_ALGID_ABSENT) {
            p.set_int(s.algid_absent as c_int)?;
        }
        Ok(())
    })
}

static DIGEST_GETTABLE: [OSSL_PARAM; 5] = [
    param(names::BLOCK_SIZE, ossl::OSSL_PARAM_UNSIGNED_INTEGER),
    param(names::DIGEST_SIZE, ossl::OSSL_PARAM_UNSIGNED_INTEGER),
    param(names::DIGEST_XOF, ossl::OSSL_PARAM_INTEGER),
    param(names::DIGEST_ALGID_ABSENT, ossl::OSSL_PARAM_INTEGER),
    PARAM_END,
];

pub(crate) unsafe extern "C" fn digest_gettable_params(_provctx: *mut c_void) -> *const OSSL_PARAM {
    DIGEST_GETTABLE.as_ptr()
}
