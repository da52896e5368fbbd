//! Contexts: checked handles naming a device or the software accelerator.
//!
//! uadk-rs's engines own the hardware queues (uadk-zip and uadk-crypto open them per
//! stream or session and reopen them after `fork`), so a context does not hold a queue:
//! it records which device requests sent through it may use. The algorithm libraries
//! read that through [`wd_rs_ctx_query`].
//!
//! ```
//! use wd::{accel::wd_get_accel_dev, ctx::*};
//! let dev = unsafe { wd_get_accel_dev(c"zlib".as_ptr()) };
//! let h = unsafe { wd_request_ctx(dev) };
//! assert_ne!(h, 0);
//! assert_eq!(wd_ctx_start(h), 0);
//! assert_eq!(wd_is_sva(h), 1);
//! wd_release_ctx(h);
//! assert_eq!(wd_ctx_start(h), -22); // released: an error, not a crash
//! unsafe { libc::free(dev.cast()) };
//! ```

use crate::accel::{identify, Named};
use libc::{c_char, c_int, c_ulong, c_void};
use std::ffi::CString;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, LazyLock};
use uadk_wd_common::abi::*;
use uadk_wd_common::boundary::guard;
use uadk_wd_common::registry::Registry;
use uadk_wd_common::wd_err;

/// One context.
pub struct Ctx {
    software: bool,
    numa_id: c_int,
    qm_version: c_int,
    sva: bool,
    regions: [c_ulong; UACCE_QFRT_MAX],
    dev_name: CString,
    api: CString,
    algs: String,
    priv_: AtomicUsize,
    started: AtomicBool,
}

static CTXS: LazyLock<Registry<Ctx>> = LazyLock::new(|| Registry::new(0x43));
static SOFTWARE_LIVE: AtomicUsize = AtomicUsize::new(0);

/// Software contexts that can still be requested (of [`WD_CTX_CNT_NUM`]).
pub(crate) fn software_free() -> u32 {
    WD_CTX_CNT_NUM.saturating_sub(SOFTWARE_LIVE.load(Ordering::Relaxed) as u32)
}

fn get(h: HandleT) -> Option<Arc<Ctx>> {
    let c = CTXS.get(h);
    if c.is_none() {
        wd_err!("context handle {h:#x} is not a live context");
    }
    c
}

fn cstring(s: &str) -> CString {
    CString::new(s.replace('\0', " ")).unwrap_or_default()
}

/// A context on `dev` (from `wd_get_accel_list` / `wd_get_accel_dev`), or 0 when `dev`
/// is NULL, names no device discovery finds (or an isolated one), or the software
/// accelerator has no context left.
///
/// # Safety
/// `dev` is NULL or points to a readable `struct uacce_dev`.
pub unsafe extern "C" fn wd_request_ctx(dev: *mut UacceDev) -> HandleT {
    guard("wd_request_ctx", 0, || {
        // SAFETY: NULL is handled by identify; otherwise readable per the contract.
        let ctx = match unsafe { identify(dev) } {
            None => {
                wd_err!("wd_request_ctx: the device is NULL or no longer present");
                return 0;
            }
            Some(Named::Software) => {
                if SOFTWARE_LIVE.fetch_add(1, Ordering::AcqRel) >= WD_CTX_CNT_NUM as usize {
                    SOFTWARE_LIVE.fetch_sub(1, Ordering::AcqRel);
                    wd_err!("wd_request_ctx: all {WD_CTX_CNT_NUM} software contexts are in use");
                    return 0;
                }
                Ctx {
                    software: true,
                    numa_id: crate::accel::current_node(),
                    qm_version: 0,
                    sva: true,
                    regions: [0; UACCE_QFRT_MAX],
                    dev_name: cstring(SOFT_DEV_NAME),
                    api: cstring(SOFT_API),
                    algs: read(&crate::accel::software_uacce().algs),
                    priv_: AtomicUsize::new(0),
                    started: AtomicBool::new(false),
                }
            }
            Some(Named::Device(d)) => {
                if d.isolated {
                    wd_err!("wd_request_ctx: {} is isolated", d.name);
                    return 0;
                }
                Ctx {
                    software: false,
                    numa_id: d.node.map_or(0, |n| n as c_int),
                    qm_version: d.qm_version.unwrap_or(0) as c_int,
                    sva: d.sva(),
                    regions: [d.mmio_size as c_ulong, d.dus_size as c_ulong, 0],
                    dev_name: cstring(&d.name),
                    api: cstring(&d.api),
                    algs: d.algorithms.join("\n"),
                    priv_: AtomicUsize::new(0),
                    started: AtomicBool::new(false),
                }
            }
        };
        CTXS.insert(Arc::new(ctx))
    })
}

/// Releases a context; unknown handles are ignored.
pub extern "C" fn wd_release_ctx(h_ctx: HandleT) {
    guard("wd_release_ctx", (), || {
        if let Some(c) = CTXS.remove(h_ctx) {
            if c.software {
                SOFTWARE_LIVE.fetch_sub(1, Ordering::AcqRel);
            }
        }
    })
}

/// Starts a context: 0, or `-WD_EINVAL` for an unknown handle.
pub extern "C" fn wd_ctx_start(h_ctx: HandleT) -> c_int {
    guard("wd_ctx_start", -WD_EINVAL, || match get(h_ctx) {
        Some(c) => {
            c.started.store(true, Ordering::Release);
            0
        }
        None => -WD_EINVAL,
    })
}

/// Stops a context early (its handle stays valid until [`wd_release_ctx`]).
pub extern "C" fn wd_release_ctx_force(h_ctx: HandleT) -> c_int {
    guard("wd_release_ctx_force", -WD_EINVAL, || match get(h_ctx) {
        Some(c) => {
            c.started.store(false, Ordering::Release);
            0
        }
        None => -WD_EINVAL,
    })
}

/// Stores a caller pointer in the context.
pub extern "C" fn wd_ctx_set_priv(h_ctx: HandleT, priv_: *mut c_void) -> c_int {
    guard("wd_ctx_set_priv", -WD_EINVAL, || match get(h_ctx) {
        Some(c) => {
            c.priv_.store(priv_ as usize, Ordering::Release);
            0
        }
        None => -WD_EINVAL,
    })
}

/// The pointer stored with [`wd_ctx_set_priv`], or NULL.
pub extern "C" fn wd_ctx_get_priv(h_ctx: HandleT) -> *mut c_void {
    guard("wd_ctx_get_priv", std::ptr::null_mut(), || {
        get(h_ctx).map_or(std::ptr::null_mut(), |c| {
            c.priv_.load(Ordering::Acquire) as *mut c_void
        })
    })
}

/// The context's `api` string (owned by the context, valid until it is released), or NULL.
pub extern "C" fn wd_ctx_get_api(h_ctx: HandleT) -> *mut c_char {
    guard("wd_ctx_get_api", std::ptr::null_mut(), || {
        // The string lives inside the registry's Arc until wd_release_ctx.
        get(h_ctx).map_or(std::ptr::null_mut(), |c| c.api.as_ptr() as *mut c_char)
    })
}

/// The context's device name (owned by the context), or NULL.
pub extern "C" fn wd_ctx_get_dev_name(h_ctx: HandleT) -> *mut c_char {
    guard("wd_ctx_get_dev_name", std::ptr::null_mut(), || {
        get(h_ctx).map_or(std::ptr::null_mut(), |c| c.dev_name.as_ptr() as *mut c_char)
    })
}

/// Always NULL: uadk-rs's engines own the queue regions (see the module docs).
pub extern "C" fn wd_ctx_mmap_qfr(h_ctx: HandleT, qfrt: c_int) -> *mut c_void {
    let _ = qfrt;
    wd_err!("wd_ctx_mmap_qfr({h_ctx:#x}): queue regions belong to uadk-rs's engines");
    std::ptr::null_mut()
}

/// No-op (nothing is mapped).
pub extern "C" fn wd_ctx_unmap_qfr(h_ctx: HandleT, qfrt: c_int) {
    let _ = (h_ctx, qfrt);
}

/// 1 (requests complete within the calls that submit or poll them), or `-WD_EINVAL`.
pub extern "C" fn wd_ctx_wait(h_ctx: HandleT, ms: u16) -> c_int {
    let _ = ms;
    guard("wd_ctx_wait", -WD_EINVAL, || {
        if get(h_ctx).is_some() {
            1
        } else {
            -WD_EINVAL
        }
    })
}

/// 1 if the context's device uses shared virtual addressing (the software accelerator
/// does: any address works), 0 if not, `-WD_EINVAL` for an unknown handle.
pub extern "C" fn wd_is_sva(h_ctx: HandleT) -> c_int {
    guard("wd_is_sva", -WD_EINVAL, || {
        get(h_ctx).map_or(-WD_EINVAL, |c| c.sva as c_int)
    })
}

/// The context's NUMA node, or `-WD_EINVAL`.
pub extern "C" fn wd_get_numa_id(h_ctx: HandleT) -> c_int {
    guard("wd_get_numa_id", -WD_EINVAL, || {
        get(h_ctx).map_or(-WD_EINVAL, |c| c.numa_id)
    })
}

/// `-ENOTTY`: uadk-rs does not pass raw ioctls to queues it does not expose
/// (`-WD_EINVAL` for an unknown handle).
pub extern "C" fn wd_ctx_set_io_cmd(h_ctx: HandleT, cmd: c_ulong, arg: *mut c_void) -> c_int {
    let _ = (cmd, arg);
    guard("wd_ctx_set_io_cmd", -WD_EINVAL, || {
        if get(h_ctx).is_some() {
            -libc::ENOTTY
        } else {
            -WD_EINVAL
        }
    })
}

/// The size of region `qfrt` of the context's device (0 for software or bad input).
pub extern "C" fn wd_ctx_get_region_size(h_ctx: HandleT, qfrt: c_int) -> c_ulong {
    guard("wd_ctx_get_region_size", 0, || {
        let Some(c) = get(h_ctx) else { return 0 };
        usize::try_from(qfrt)
            .ok()
            .and_then(|i| c.regions.get(i).copied())
            .unwrap_or(0)
    })
}

/// Private interface (`UADK_RS_PRIVATE_1.0`): what a context is, for the algorithm
/// libraries. 0, or `-WD_EINVAL` for an unknown handle or NULL `out`.
///
/// # Safety
/// `out` is NULL or points to a writable [`CtxInfo`].
pub unsafe extern "C" fn wd_rs_ctx_query(h_ctx: HandleT, out: *mut CtxInfo) -> c_int {
    guard("wd_rs_ctx_query", -WD_EINVAL, || {
        let Some(c) = get(h_ctx) else { return -WD_EINVAL };
        if out.is_null() {
            return -WD_EINVAL;
        }
        let mut info = CtxInfo {
            kind: if c.software {
                CTX_KIND_SOFTWARE
            } else {
                CTX_KIND_DEVICE
            },
            numa_id: c.numa_id,
            qm_version: c.qm_version,
            ..CtxInfo::default()
        };
        fill(&mut info.dev_name, &c.dev_name.to_string_lossy());
        fill(&mut info.api, &c.api.to_string_lossy());
        fill(&mut info.algs, &c.algs);
        // SAFETY: `out` is non-NULL and writable per the contract.
        unsafe { out.write(info) };
        0
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_handles_are_errors() {
        for h in [0usize, 1, 0xdead_beef, usize::MAX] {
            assert_eq!(wd_ctx_start(h), -WD_EINVAL);
            assert!(wd_ctx_get_api(h).is_null());
            assert_eq!(wd_get_numa_id(h), -WD_EINVAL);
            // SAFETY: `out` may be NULL; the handle is checked against the registry first.
            assert_eq!(unsafe { wd_rs_ctx_query(h, std::ptr::null_mut()) }, -WD_EINVAL);
            wd_release_ctx(h);
        }
        // SAFETY: `dev` may be NULL (the function returns 0 for it).
        assert_eq!(unsafe { wd_request_ctx(std::ptr::null_mut()) }, 0);
    }

    #[test]
    fn software_context_roundtrip() {
        let mut dev = crate::accel::software_uacce();
        // SAFETY: `dev` is a live, initialised `UacceDev` that outlives the call.
        let h = unsafe { wd_request_ctx(&mut dev) };
        assert_ne!(h, 0);
        let mut info = CtxInfo::default();
        // SAFETY: `info` is a live, writable `CtxInfo`.
        assert_eq!(unsafe { wd_rs_ctx_query(h, &mut info) }, 0);
        assert_eq!(info.kind, CTX_KIND_SOFTWARE);
        assert_eq!(read(&info.api), SOFT_API);
        let mut x = 5u8;
        assert_eq!(wd_ctx_set_priv(h, (&mut x as *mut u8).cast()), 0);
        assert_eq!(wd_ctx_get_priv(h), (&mut x as *mut u8).cast());
        assert_eq!(wd_ctx_set_io_cmd(h, 0, std::ptr::null_mut()), -libc::ENOTTY);
        wd_release_ctx(h);
        // SAFETY: `info` is a live, writable `CtxInfo`; the released handle is looked up
        // in the registry, never dereferenced.
        assert_eq!(unsafe { wd_rs_ctx_query(h, &mut info) }, -WD_EINVAL);
    }
}
