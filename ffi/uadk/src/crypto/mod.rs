//! Crypto (`uadk-crypto`): a context (backend, small-packet policy, device, counters) and
//! sessions made from it with the key set once: ciphers, digests, HMAC and AEAD, one-shot
//! and (ciphers, digests, HMAC) streaming.
//!
//! Algorithm names are the ones UADK and OpenSSL users type, case-insensitive:
//! `aes-{128,192,256}-{ecb,cbc,ctr,xts}`, `sm4-{ecb,cbc,ctr,xts}`; `sha1`, `sha224`,
//! `sha256`, `sha384`, `sha512`, `sm3`, `md5` (and `hmac-<digest>`); `aes-{128,192,256}-{gcm,ccm}`,
//! `sm4-gcm`, `sm4-ccm`.

mod aead;
mod cipher;
mod digest;

pub use aead::*;
pub use cipher::*;
pub use digest::*;

use crate::boundary::{call, copy_out_str, flag, in_ref, out_ptr, Outcome};
use crate::registry::{self, impl_handle};
use crate::status::*;
use crate::zip::{backend, uadk_backend, UADK_BACKEND_AUTO, UADK_BACKEND_SOFTWARE};
use ::uadk_crypto::{Backend, Crypto, Policy};
use std::ffi::c_char;
use std::sync::Arc;

/// A crypto context: the backend asked for, the small-packet policy, the SEC device
/// attached (if any) and the counters. Thread-safe; sessions made from it share it and keep
/// it alive (destroying the context does not invalidate them).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct uadk_crypto {
    /// Opaque id; 0 is no context.
    pub id: u64,
}

/// The object behind a `uadk_crypto` handle.
pub struct CryptoObject {
    pub(crate) crypto: Crypto,
    /// "hisi_sec2-1 attached" or why no device is attached.
    device: String,
}
impl_handle!(uadk_crypto, Crypto, CryptoObject);

/// Settings of a crypto context. Fill with `uadk_crypto_config_default`, then change
/// fields. Flags are `uint8_t` (0 = false, anything else = true).
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct uadk_crypto_config {
    /// A `UADK_BACKEND_*` value (default auto).
    pub backend: uadk_backend,
    /// Attach the SEC device found under `UADK_SYSFS_ROOT`/`UADK_DEV_ROOT` (or `/sys`,
    /// `/dev`) unless the backend is software (default 1).
    pub attach_device: u8,
    /// Redo a failed device request in software (auto backend only; default 1).
    pub fallback: u8,
    /// Smallest AES ECB/CBC/CTR/XTS request sent to a device under auto (default 1024).
    pub cipher_min: usize,
    /// Smallest AES-CCM request (plaintext + AAD) sent to a device (default 512).
    pub aead_min: usize,
    /// Smallest AES-GCM request (plaintext + AAD) sent to a device (default 16384).
    pub gcm_min: usize,
    /// Smallest SHA-1/SHA-2/MD5 digest or HMAC request sent to a device (default 512).
    pub digest_min: usize,
    /// Smallest SM4 / SM3 request sent to a device (default 64).
    pub sm_min: usize,
}

/// A context's counters (`uadk_crypto_get_counters`).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct uadk_crypto_counters {
    /// Requests a device completed.
    pub device_requests: u64,
    /// Requests software completed (all reasons, fallbacks included).
    pub software_requests: u64,
    /// Software requests because no device offers the algorithm.
    pub no_device: u64,
    /// Software requests because of the small-packet policy.
    pub small_packets: u64,
    /// Device failures redone in software.
    pub fallbacks: u64,
    /// Device failures returned as errors.
    pub device_errors: u64,
    /// Bytes processed by a device.
    pub device_bytes: u64,
    /// Bytes processed in software.
    pub software_bytes: u64,
}

/// Fills `*cfg` with the defaults (see the fields).
///
/// Thread-safe.
///
/// # Safety
/// `cfg` must be NULL (an error) or writable.
#[no_mangle]
pub unsafe extern "C" fn uadk_crypto_config_default(cfg: *mut uadk_crypto_config) -> uadk_status {
    call("uadk_crypto_config_default", || {
        // SAFETY: forwarded contract.
        let cfg = unsafe { out_ptr(cfg, "cfg") }?;
        let p = Policy::default();
        cfg.write(uadk_crypto_config {
            backend: UADK_BACKEND_AUTO,
            attach_device: 1,
            fallback: u8::from(p.fallback),
            cipher_min: p.cipher_min,
            aead_min: p.aead_min,
            gcm_min: p.gcm_min,
            digest_min: p.digest_min,
            sm_min: p.sm_min,
        });
        Ok(())
    })
}

fn context(c: &uadk_crypto_config) -> Outcome<CryptoObject> {
    let b = match backend(c.backend)? {
        uadk_zip::Backend::Auto => Backend::Auto,
        uadk_zip::Backend::Device => Backend::Device,
        uadk_zip::Backend::Software => Backend::Software,
    };
    let crypto = Crypto::with_policy(
        b,
        Policy {
            cipher_min: c.cipher_min,
            aead_min: c.aead_min,
            gcm_min: c.gcm_min,
            digest_min: c.digest_min,
            sm_min: c.sm_min,
            fallback: flag(c.fallback),
        },
    );
    let device = if c.backend == UADK_BACKEND_SOFTWARE {
        "none: the backend is software".to_string()
    } else if !flag(c.attach_device) {
        "none: attach_device is 0".to_string()
    } else {
        match ::uadk_crypto::device::sec::attach_from_env(&crypto) {
            Ok(name) => format!("{name} attached"),
            Err(e) => format!("none: {e}"),
        }
    };
    Ok(CryptoObject { crypto, device })
}

/// Creates a context as `*cfg` says into `*out`, attaching the SEC device when configured
/// (a missing device is not an error here: sessions then run in software under auto, and
/// fail with `UADK_E_NO_DEVICE` under the device backend). `uadk_crypto_device` says
/// what was attached or why not.
///
/// Thread-safe. The caller owns the context and destroys it with `uadk_crypto_destroy`.
///
/// # Safety
/// `cfg` must be NULL or readable; `out` NULL or writable (NULL is an error).
#[no_mangle]
pub unsafe extern "C" fn uadk_crypto_create(
    cfg: *const uadk_crypto_config,
    out: *mut uadk_crypto,
) -> uadk_status {
    call("uadk_crypto_create", || {
        // SAFETY: forwarded contracts.
        let (cfg, out) = unsafe { (in_ref(cfg, "cfg")?, out_ptr(out, "out")?) };
        let obj = context(cfg)?;
        out.write(registry::insert(Arc::new(obj))?);
        Ok(())
    })
}

/// Copies which device the context attached (`hisi_sec2-1 attached`) or why none
/// (`none: ...`) into `buf` (`cap` bytes, NUL-terminated, cut to fit:
/// `UADK_E_OUTPUT_TOO_SMALL`). `*len` (if not NULL) receives the full length; `buf` may be
/// NULL when `cap` is 0.
///
/// Thread-safe.
///
/// # Safety
/// `buf` writable for `cap` bytes; `len` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn uadk_crypto_device(
    ctx: uadk_crypto,
    buf: *mut c_char,
    cap: usize,
    len: *mut usize,
) -> uadk_status {
    call("uadk_crypto_device", || {
        let c = registry::get(ctx)?;
        // SAFETY: forwarded contract.
        unsafe { copy_out_str(&c.device, buf, cap, len) }
    })
}

/// Fills `*out` with the context's counters.
///
/// Thread-safe.
///
/// # Safety
/// `out` must be NULL (an error) or writable.
#[no_mangle]
pub unsafe extern "C" fn uadk_crypto_get_counters(
    ctx: uadk_crypto,
    out: *mut uadk_crypto_counters,
) -> uadk_status {
    call("uadk_crypto_get_counters", || {
        // SAFETY: forwarded contract.
        let out = unsafe { out_ptr(out, "out") }?;
        let s = registry::get(ctx)?.crypto.stats();
        out.write(uadk_crypto_counters {
            device_requests: s.device_requests,
            software_requests: s.software_requests,
            no_device: s.no_device,
            small_packets: s.small_packets,
            fallbacks: s.fallbacks,
            device_errors: s.device_errors,
            device_bytes: s.device_bytes,
            software_bytes: s.software_bytes,
        });
        Ok(())
    })
}

/// Destroys the context (sessions made from it keep working). A zero handle is a no-op; a
/// destroyed one is `UADK_E_INVALID_HANDLE`.
///
/// Thread-safe.
#[no_mangle]
pub extern "C" fn uadk_crypto_destroy(ctx: uadk_crypto) -> uadk_status {
    call("uadk_crypto_destroy", || registry::destroy(ctx))
}
