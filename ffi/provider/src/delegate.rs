//! Contexts handed to OpenSSL's default implementation (fetched explicitly with
//! `provider=default` from the default library context, so never back to us).
//!
//! Used where the default provider holds logic that must not be reimplemented casually:
//! TLS 1.x CBC records (`tls-version`: constant-time padding and MAC removal, Lucky 13) and
//! CCM in TLS 1.2 record mode. Every call is forwarded unchanged, parameters included.

use std::ffi::{c_int, c_uint, c_void, CString};
use std::ptr::{self, NonNull};

use crate::boundary::{err, Res};
use crate::io::Io;
use crate::ossl;
use crate::params::{In, Out};

/// An `EVP_CIPHER_CTX` of the default provider.
pub struct Delegate {
    ctx: NonNull<c_void>,
}

// SAFETY: an EVP_CIPHER_CTX may move between threads; OpenSSL requires only that one
// thread uses it at a time, which `&mut self` on every operation guarantees.
unsafe impl Send for Delegate {}
// SAFETY: the only `&self` operations (get_params, clone) are reads OpenSSL performs on
// contexts shared read-only, as EVP_CIPHER_CTX_copy and EVP_CIPHER_CTX_get_params allow.
unsafe impl Sync for Delegate {}

fn failed<T>(what: &str) -> Res<T> {
    // OpenSSL already queued its own reason; ours says which step failed.
    err(
        ossl::PROV_R_CIPHER_OPERATION_FAILED,
        format!("uadk_provider: the default provider's {what} failed"),
    )
}

fn c_len(n: usize) -> Res<c_int> {
    c_int::try_from(n).or_else(|_| {
        err(
            ossl::PROV_R_INVALID_INPUT_LENGTH,
            "uadk_provider: more than 2 GiB in one call",
        )
    })
}

impl Delegate {
    /// A default-provider context for `name`, initialised with what the caller set so far.
    pub fn new(name: &str, enc: bool, key: Option<&[u8]>, iv: Option<&[u8]>, pad: bool) -> Res<Delegate> {
        let cname = CString::new(name)
            .map_err(|_| crate::boundary::ProvError::new(ossl::PROV_R_NOT_SUPPORTED, "bad name"))?;
        let fetch = || {
            // SAFETY: fetch from the default library context (NULL) with a NUL-terminated
            // name and property query; the result is NULL or an EVP_CIPHER we own one
            // reference of.
            unsafe { ossl::EVP_CIPHER_fetch(ptr::null_mut(), cname.as_ptr(), c"provider=default".as_ptr()) }
        };
        let mut cipher = fetch();
        if cipher.is_null() && crate::fetch::ensure_default() {
            cipher = fetch();
        }
        if cipher.is_null() {
            return err(
                ossl::PROV_R_NOT_SUPPORTED,
                format!("uadk_provider: {name} from the default provider is needed for TLS record mode; activate the default provider"),
            );
        }
        // SAFETY: allocates a context (NULL on allocation failure, checked).
        let ctx = NonNull::new(unsafe { ossl::EVP_CIPHER_CTX_new() });
        let Some(ctx) = ctx else {
            // SAFETY: we own the reference from the fetch.
            unsafe { ossl::EVP_CIPHER_free(cipher) };
            return failed("EVP_CIPHER_CTX_new");
        };
        let me = Delegate { ctx };
        // SAFETY: `ctx` and `cipher` are valid; key/iv are NULL or readable buffers of the
        // lengths the cipher expects (the caller checked them against the spec); the
        // context takes its own reference to `cipher`, ours is released after.
        let ok = unsafe {
            let ok = ossl::EVP_CipherInit_ex2(
                me.ctx.as_ptr(),
                cipher,
                key.map_or(ptr::null(), |k| k.as_ptr()),
                iv.map_or(ptr::null(), |v| v.as_ptr()),
                enc as c_int,
                ptr::null(),
            );
            ossl::EVP_CIPHER_free(cipher);
            ok == 1 && ossl::EVP_CIPHER_CTX_set_padding(me.ctx.as_ptr(), pad as c_int) == 1
        };
        if !ok {
            return failed("EVP_CipherInit_ex2");
        }
        Ok(me)
    }

    /// Re-initialisation (direction, key, IV, params) forwarded.
    pub fn init(&mut self, enc: bool, key: Option<&[u8]>, iv: Option<&[u8]>, params: In) -> Res<()> {
        // SAFETY: valid context; key/iv NULL or readable (lengths checked by OpenSSL against
        // the context's cipher); params NULL or a valid array (boundary contract).
        let ok = unsafe {
            ossl::EVP_CipherInit_ex2(
                self.ctx.as_ptr(),
                ptr::null(),
                key.map_or(ptr::null(), |k| k.as_ptr()),
                iv.map_or(ptr::null(), |v| v.as_ptr()),
                enc as c_int,
                params.raw(),
            )
        };
        if ok == 1 {
            Ok(())
        } else {
            failed("init")
        }
    }

    /// `EVP_CipherUpdate` forwarded; returns the bytes written.
    pub fn update(&mut self, io: Io<'_>, _outsize: usize) -> Res<usize> {
        let inl = c_len(io.inl())?;
        let (inp, outp): (*const u8, *mut u8) = match io {
            Io::Split(i, o) => (i.as_ptr(), o.as_mut_ptr()),
            Io::InPlace(b, _) => (b.as_ptr(), b.as_mut_ptr()),
            Io::NoOut(i, _) => (i.map_or(ptr::null(), |i| i.as_ptr()), ptr::null_mut()),
        };
        let mut outl: c_int = 0;
        // SAFETY: valid context; the buffers are the caller's, valid for `inl` bytes in and
        // `outsize` bytes out (the same contract OpenSSL's EVP layer gave us and now gives
        // the default provider); in == out only exactly.
        let ok = unsafe { ossl::EVP_CipherUpdate(self.ctx.as_ptr(), outp, &mut outl, inp, inl) };
        if ok == 1 {
            Ok(outl.max(0) as usize)
        } else {
            failed("update")
        }
    }

    /// `EVP_CipherFinal_ex` forwarded.
    pub fn final_(&mut self, out: &mut [u8]) -> Res<usize> {
        let mut tmp = [0u8; 64];
        let mut outl: c_int = 0;
        // SAFETY: valid context; `tmp` holds more than one block, the most final writes.
        let ok = unsafe { ossl::EVP_CipherFinal_ex(self.ctx.as_ptr(), tmp.as_mut_ptr(), &mut outl) };
        if ok != 1 {
            return failed("final");
        }
        let n = outl.max(0) as usize;
        if out.len() < n {
            return err(
                ossl::PROV_R_OUTPUT_BUFFER_TOO_SMALL,
                "uadk_provider: output buffer too small",
            );
        }
        out[..n].copy_from_slice(&tmp[..n]);
        Ok(n)
    }

    /// `EVP_Cipher` forwarded; returns its result as a length.
    pub fn cipher(&mut self, io: Io<'_>, _outsize: usize) -> Res<usize> {
        let inl = c_uint::try_from(io.inl()).unwrap_or(c_uint::MAX);
        let (inp, outp): (*const u8, *mut u8) = match io {
            Io::Split(i, o) => (i.as_ptr(), o.as_mut_ptr()),
            Io::InPlace(b, _) => (b.as_ptr(), b.as_mut_ptr()),
            Io::NoOut(i, _) => (i.map_or(ptr::null(), |i| i.as_ptr()), ptr::null_mut()),
        };
        // SAFETY: as `update`.
        let r = unsafe { ossl::EVP_Cipher(self.ctx.as_ptr(), outp, inp, inl) };
        if r < 0 {
            failed("cipher")
        } else {
            Ok(r as usize)
        }
    }

    /// `EVP_CIPHER_CTX_get_params` forwarded.
    pub fn get_params(&self, out: &Out) -> Res<()> {
        // SAFETY: valid context; the array is the caller's valid array (boundary contract).
        if unsafe { ossl::EVP_CIPHER_CTX_get_params(self.ctx.as_ptr(), out.raw()) } == 1 {
            Ok(())
        } else {
            failed("get_ctx_params")
        }
    }

    /// `EVP_CIPHER_CTX_set_params` forwarded.
    pub fn set_params(&mut self, p: In) -> Res<()> {
        // SAFETY: as `get_params`.
        if unsafe { ossl::EVP_CIPHER_CTX_set_params(self.ctx.as_ptr(), p.raw()) } == 1 {
            Ok(())
        } else {
            failed("set_ctx_params")
        }
    }

    /// A copy (`EVP_CIPHER_CTX_copy`).
    pub fn try_clone(&self) -> Res<Delegate> {
        // SAFETY: allocates a context, checked.
        let Some(ctx) = NonNull::new(unsafe { ossl::EVP_CIPHER_CTX_new() }) else {
            return failed("EVP_CIPHER_CTX_new");
        };
        let d = Delegate { ctx };
        // SAFETY: both contexts valid; copy duplicates the provider context.
        if unsafe { ossl::EVP_CIPHER_CTX_copy(d.ctx.as_ptr(), self.ctx.as_ptr()) } == 1 {
            Ok(d)
        } else {
            failed("EVP_CIPHER_CTX_copy")
        }
    }
}

impl Drop for Delegate {
    fn drop(&mut self) {
        // SAFETY: we own the context; freeing cleanses it.
        unsafe { ossl::EVP_CIPHER_CTX_free(self.ctx.as_ptr()) }
    }
}
