//! What the three crypto families share: the uadk-crypto contexts (device-capable and
//! software), the request counters, routes, and asynchronous completions.

use libc::{c_char, c_int};
use parking_lot::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use uadk_crypto::{Backend, Crypto, Ran, Reason, Route};
use uadk_wd_common::abi::*;
use uadk_wd_common::boundary::guard;
use uadk_wd_common::setting::fork_generation;
use uadk_wd_common::wd_err;

struct Contexts {
    generation: u64,
    device: Crypto,
    software: Crypto,
}

static CONTEXTS: Mutex<Option<Contexts>> = Mutex::new(None);

/// The uadk-crypto context for a device context (`Backend::Auto` with the SEC devices
/// discovery finds attached) or a software one. Rebuilt in a forked child.
pub(crate) fn crypto(device: bool) -> Crypto {
    let generation = fork_generation();
    let mut g = CONTEXTS.lock();
    if g.as_ref().is_none_or(|c| c.generation != generation) {
        let dev = Crypto::new(Backend::Auto);
        match uadk_crypto::device::sec::attach_from_env(&dev) {
            Ok(name) => wd_err!("crypto: SEC device {name} attached"),
            Err(e) => wd_err!("crypto: no SEC device attached ({e}); device contexts run in software"),
        }
        *g = Some(Contexts {
            generation,
            device: dev,
            software: Crypto::new(Backend::Software),
        });
    }
    let c = g.as_ref().expect("set above");
    if device {
        c.device.clone()
    } else {
        c.software.clone()
    }
}

static DEVICE: AtomicU64 = AtomicU64::new(0);
static SOFTWARE: AtomicU64 = AtomicU64::new(0);
static FALLBACKS: AtomicU64 = AtomicU64::new(0);
static ERRORS: AtomicU64 = AtomicU64::new(0);

/// Counts a completed request.
pub(crate) fn record(r: &Route) {
    match r.ran {
        Ran::Device => &DEVICE,
        Ran::Software => &SOFTWARE,
    }
    .fetch_add(1, Ordering::Relaxed);
    if matches!(r.reason, Reason::Fallback(_)) {
        FALLBACKS.fetch_add(1, Ordering::Relaxed);
    }
}

/// Counts a failed request and returns `ret`.
pub(crate) fn failed(ret: c_int) -> c_int {
    ERRORS.fetch_add(1, Ordering::Relaxed);
    ret
}

/// Copies the library's request counters into `out`: 0, or `-WD_EINVAL` for NULL.
///
/// # Safety
/// `out` is NULL or writable.
pub unsafe extern "C" fn wd_rs_crypto_counters(out: *mut WdRsCounters) -> c_int {
    guard("wd_rs_crypto_counters", -WD_EINVAL, || {
        if out.is_null() {
            return -WD_EINVAL;
        }
        let g = |a: &AtomicU64| a.load(Ordering::Relaxed);
        // SAFETY: non-NULL and writable per the contract.
        unsafe {
            out.write(WdRsCounters {
                device_requests: g(&DEVICE),
                software_requests: g(&SOFTWARE),
                fallbacks: g(&FALLBACKS),
                errors: g(&ERRORS),
            })
        };
        0
    })
}

/// Writes where a cipher, digest or AEAD session's last request ran and why
/// (NUL-terminated, truncated to `len`); returns the length written or `-WD_EINVAL`.
///
/// # Safety
/// `buf` is NULL or writable for `len` bytes.
pub unsafe extern "C" fn wd_rs_crypto_sess_route(h_sess: HandleT, buf: *mut c_char, len: usize) -> c_int {
    guard("wd_rs_crypto_sess_route", -WD_EINVAL, || {
        let r = crate::cipher::route_of(h_sess)
            .or_else(|| crate::digest::route_of(h_sess))
            .or_else(|| crate::aead::route_of(h_sess));
        let Some(r) = r else { return -WD_EINVAL };
        if buf.is_null() || len == 0 {
            return -WD_EINVAL;
        }
        // SAFETY: writable for len bytes per the contract.
        let out = unsafe { std::slice::from_raw_parts_mut(buf, len) };
        fill(out, &r);
        r.len().min(len - 1) as c_int
    })
}

/// A completed asynchronous request waiting for its poll, with the call that hands it
/// to the request's callback.
pub struct Done<R: Copy> {
    req: R,
    deliver: fn(&mut R),
}

// SAFETY: the request holds the caller's buffer and callback pointers; UADK's contract
// keeps them valid until the callback, and they are only handed back to that callback.
unsafe impl<R: Copy> Send for Done<R> {}

impl<R: Copy> Done<R> {
    pub(crate) fn new(req: R, deliver: fn(&mut R)) -> Self {
        Done { req, deliver }
    }

    /// Calls the callback with a copy of the completed request (valid during the call).
    pub(crate) fn deliver(self) {
        let mut r = self.req;
        (self.deliver)(&mut r);
    }
}

/// `len` bytes at `p` (empty for `len == 0`), or `-WD_EINVAL` for NULL with `len > 0`.
///
/// # Safety
/// `p` is valid for `len` bytes for the slice's use.
pub(crate) unsafe fn bytes<'a>(p: *const libc::c_void, len: usize) -> Result<&'a [u8], c_int> {
    if len == 0 {
        return Ok(&[]);
    }
    if p.is_null() {
        return Err(failed(-WD_EINVAL));
    }
    // SAFETY: valid for len bytes per the contract.
    Ok(unsafe { std::slice::from_raw_parts(p as *const u8, len) })
}

/// Whether `[a, a+n)` and `[b, b+m)` overlap.
pub(crate) fn overlaps(a: *const u8, n: usize, b: *const u8, m: usize) -> bool {
    let (a, b) = (a as usize, b as usize);
    n > 0 && m > 0 && a < b.saturating_add(m) && b < a.saturating_add(n)
}
