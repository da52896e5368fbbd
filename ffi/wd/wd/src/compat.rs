//! The rest of UADK's `libwd.map`: version and log queries, the constant-time compare,
//! the algorithm-library context list, and UADK's vendor-driver registry.
//!
//! uadk-rs drives devices itself (uadk-core queues, uadk-zip and uadk-crypto engines) and
//! never loads UADK vendor driver libraries, so the registry calls are exported for link
//! compatibility only: registration is refused with `-WD_EINVAL` and lookups find nothing.
//!
//! ```
//! use wd::compat::memcmp_consttime;
//! let (a, b) = (*b"abcd", *b"abce");
//! assert_eq!(unsafe { memcmp_consttime(a.as_ptr().cast(), a.as_ptr().cast(), 4) }, 0);
//! assert_ne!(unsafe { memcmp_consttime(a.as_ptr().cast(), b.as_ptr().cast(), 4) }, 0);
//! ```

use libc::{c_char, c_int, c_void};
use parking_lot::Mutex;
use std::ffi::CStr;
use uadk_wd_common::abi::*;
use uadk_wd_common::boundary::guard;

/// Prints the library version (uadk-rs and the UADK API level it implements).
pub extern "C" fn wd_get_version() {
    println!(
        "libwd.so.2 (uadk-rs {}): UADK 2.11 API, symbol version UADK_2.0",
        env!("CARGO_PKG_VERSION")
    );
}

/// True when `WD_RS_LOG=1` (uadk-rs logs to stderr, not through rsyslog).
pub extern "C" fn wd_need_debug() -> bool {
    uadk_wd_common::log::enabled()
}

/// True when `WD_RS_LOG=1`.
pub extern "C" fn wd_need_info() -> bool {
    uadk_wd_common::log::enabled()
}

/// Compares `n` bytes in time that depends only on `n`: 0 when equal, 1 otherwise (also
/// for NULL pointers with `n > 0`).
///
/// # Safety
/// `s1` and `s2` are readable for `n` bytes.
pub unsafe extern "C" fn memcmp_consttime(s1: *const c_void, s2: *const c_void, n: usize) -> c_int {
    guard("memcmp_consttime", 1, || {
        if n == 0 {
            return 0;
        }
        if s1.is_null() || s2.is_null() {
            return 1;
        }
        // SAFETY: readable for n bytes per the contract.
        let (a, b) = unsafe {
            (
                std::slice::from_raw_parts(s1 as *const u8, n),
                std::slice::from_raw_parts(s2 as *const u8, n),
            )
        };
        let diff = a.iter().zip(b).fold(0u8, |d, (x, y)| d | (x ^ y));
        // Keep the fold from being turned into an early-exit compare.
        (std::hint::black_box(diff) != 0) as c_int
    })
}

/// Writes the family of `alg_name` ("cipher", "digest", "aead", or the compression name)
/// into `alg_type` (at least 128 bytes): 0, or `-WD_EINVAL` for an unknown name or NULL.
///
/// # Safety
/// `alg_name` is NULL or a string; `alg_type` NULL or writable for 128 bytes.
pub unsafe extern "C" fn wd_get_alg_type(alg_name: *const c_char, alg_type: *mut c_char) -> c_int {
    guard("wd_get_alg_type", -WD_EINVAL, || {
        if alg_name.is_null() || alg_type.is_null() {
            return -WD_EINVAL;
        }
        // SAFETY: a NUL-terminated string per the contract.
        let name = unsafe { CStr::from_ptr(alg_name) }.to_string_lossy();
        let Some(f) = crate::accel::family(&name) else {
            return -WD_EINVAL;
        };
        // SAFETY: writable for 128 bytes per the contract (UADK's ALG_NAME_SIZE).
        let out = unsafe { std::slice::from_raw_parts_mut(alg_type, 128) };
        fill(out, f);
        0
    })
}

static CTX_LIST: Mutex<Vec<(HandleT, String)>> = Mutex::new(Vec::new());

/// Registers context `h_ctx` as usable for `alg_name` (for [`wd_find_ctx`]).
///
/// # Safety
/// `alg_name` is NULL or a string.
pub unsafe extern "C" fn wd_insert_ctx_list(h_ctx: HandleT, alg_name: *mut c_char) -> c_int {
    guard("wd_insert_ctx_list", -WD_EINVAL, || {
        if h_ctx == 0 || alg_name.is_null() {
            return -WD_EINVAL;
        }
        // SAFETY: a NUL-terminated string per the contract.
        let name = unsafe { CStr::from_ptr(alg_name) }.to_string_lossy().into_owned();
        CTX_LIST.lock().push((h_ctx, name));
        0
    })
}

/// Forgets context `h_ctx`.
pub extern "C" fn wd_remove_ctx_list(h_ctx: HandleT) {
    guard("wd_remove_ctx_list", (), || {
        CTX_LIST.lock().retain(|(h, _)| *h != h_ctx)
    })
}

/// A context registered for `alg_name` (on the caller's node first), or 0.
///
/// # Safety
/// `alg_name` is NULL or a string.
pub unsafe extern "C" fn wd_find_ctx(alg_name: *const c_char) -> HandleT {
    guard("wd_find_ctx", 0, || {
        if alg_name.is_null() {
            return 0;
        }
        // SAFETY: a NUL-terminated string per the contract.
        let name = unsafe { CStr::from_ptr(alg_name) }.to_string_lossy().into_owned();
        let node = crate::accel::current_node();
        let list = CTX_LIST.lock();
        let mut matching = list.iter().filter(|(_, a)| *a == name).map(|(h, _)| *h);
        let all: Vec<HandleT> = matching.by_ref().collect();
        all.iter()
            .copied()
            .find(|h| crate::ctx::wd_get_numa_id(*h) == node)
            .or_else(|| all.first().copied())
            .unwrap_or(0)
    })
}

/// Refused: uadk-rs does not load vendor drivers (`-WD_EINVAL`).
pub extern "C" fn wd_alg_driver_register(drv: *mut c_void) -> c_int {
    let _ = drv;
    -WD_EINVAL
}

/// No-op.
pub extern "C" fn wd_alg_driver_unregister(drv: *mut c_void) {
    let _ = drv;
}

/// NULL: no vendor drivers.
pub extern "C" fn wd_request_drv(alg_name: *const c_char, drv_type: c_int) -> *mut c_void {
    let _ = (alg_name, drv_type);
    std::ptr::null_mut()
}

/// False: no vendor drivers.
pub extern "C" fn wd_drv_alg_support(alg_name: *const c_char, param: *mut c_void) -> bool {
    let _ = (alg_name, param);
    false
}

/// No-op.
pub extern "C" fn wd_enable_drv(drv: *mut c_void) {
    let _ = drv;
}

/// No-op.
pub extern "C" fn wd_disable_drv(drv: *mut c_void) {
    let _ = drv;
}

/// NULL: no vendor drivers.
pub extern "C" fn wd_get_alg_head() -> *mut c_void {
    std::ptr::null_mut()
}

/// False: no vendor drivers.
pub extern "C" fn wd_alg_match_drv(drv: *mut c_void, alg_name: *const c_char) -> bool {
    let _ = (drv, alg_name);
    false
}

/// `-WD_EINVAL`: no vendor drivers.
pub extern "C" fn wd_get_drv_array(
    alg_type: *const c_char,
    task_type: c_int,
    drv_name: *const c_char,
    drv_array: *mut c_void,
    drv_count: *mut u32,
) -> c_int {
    let _ = (alg_type, task_type, drv_name, drv_array, drv_count);
    -WD_EINVAL
}

/// No-op.
pub extern "C" fn wd_put_drv_array(drv_array: *mut c_void, drv_count: u32) {
    let _ = (drv_array, drv_count);
}

/// No-op.
pub extern "C" fn wd_alg_drv_ref_inc(drv_array: *mut c_void, drv_count: u32) {
    let _ = (drv_array, drv_count);
}

/// No-op.
pub extern "C" fn wd_alg_drv_ref_dec(drv_array: *mut c_void, drv_count: u32) {
    let _ = (drv_array, drv_count);
}

/// `-WD_EINVAL`: no vendor drivers.
pub extern "C" fn wd_alg_driver_init(drv: *mut c_void, conf: *mut c_void) -> c_int {
    let _ = (drv, conf);
    -WD_EINVAL
}

/// No-op.
pub extern "C" fn wd_alg_driver_exit(drv: *mut c_void) {
    let _ = drv;
}

/// `-WD_EINVAL`: no vendor drivers.
pub extern "C" fn wd_alg_driver_send(drv: *mut c_void, ctx: HandleT, msg: *mut c_void) -> c_int {
    let _ = (drv, ctx, msg);
    -WD_EINVAL
}

/// `-WD_EINVAL`: no vendor drivers.
pub extern "C" fn wd_alg_driver_recv(drv: *mut c_void, ctx: HandleT, msg: *mut c_void) -> c_int {
    let _ = (drv, ctx, msg);
    -WD_EINVAL
}

/// `-WD_EINVAL`: usage is not reported by uadk-rs.
pub extern "C" fn wd_alg_get_dev_usage(
    dev_name: *const c_char,
    alg_type: *const c_char,
    op_type: u8,
) -> c_int {
    let _ = (dev_name, alg_type, op_type);
    -WD_EINVAL
}
