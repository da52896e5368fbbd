//! The calls `libwd_comp.so.2` and `libwd_crypto.so.2` make into `libwd.so.2`, where the
//! shared state lives: UADK's public context calls and uadk-rs's private interface
//! (version node `UADK_RS_PRIVATE_1.0`). The libraries link against `libwd.so.2`
//! (`DT_NEEDED`); their unit tests link the `uadk-wd` rlib instead.

use crate::abi::*;
use libc::{c_char, c_int};
use std::ffi::CString;

extern "C" {
    fn wd_rs_ctx_query(h_ctx: HandleT, out: *mut CtxInfo) -> c_int;
    fn wd_rs_note_backend(what: *const c_char, software: c_int, why: *const c_char);
    fn wd_rs_sched_rr_alloc(
        sched_type: u8,
        type_num: u8,
        numa_num: u16,
        func: Option<UserPollFn>,
    ) -> *mut WdSched;
    fn wd_rs_sched_rr_instance(sched: *const WdSched, param: *mut SchedParams) -> c_int;
    fn wd_rs_sched_rr_release(sched: *mut WdSched);
    fn wd_get_accel_dev(alg_name: *const c_char) -> *mut UacceDev;
    fn wd_request_ctx(dev: *mut UacceDev) -> HandleT;
    fn wd_release_ctx(h_ctx: HandleT);
}

/// What context `h` is, or `None` if it is not a live context.
pub fn ctx_info(h: HandleT) -> Option<CtxInfo> {
    let mut info = CtxInfo::default();
    // SAFETY: `info` is a valid, writable CtxInfo; libwd checks the handle.
    (unsafe { wd_rs_ctx_query(h, &mut info) } == 0).then_some(info)
}

/// Records (and announces once) that `what` runs in software because of `why`.
pub fn note_backend(what: &str, software: bool, why: &str) {
    let w = CString::new(what.replace('\0', " ")).unwrap_or_default();
    let y = CString::new(why.replace('\0', " ")).unwrap_or_default();
    // SAFETY: both are valid NUL-terminated strings that outlive the call.
    unsafe { wd_rs_note_backend(w.as_ptr(), software as c_int, y.as_ptr()) }
}

/// `wd_sched_rr_alloc`.
///
/// # Safety
/// `func` is NULL or a valid `user_poll_func`.
pub unsafe fn sched_rr_alloc(
    sched_type: u8,
    type_num: u8,
    numa_num: u16,
    func: Option<UserPollFn>,
) -> *mut WdSched {
    // SAFETY: forwarded as is; libwd validates the arguments.
    unsafe { wd_rs_sched_rr_alloc(sched_type, type_num, numa_num, func) }
}

/// `wd_sched_rr_instance`.
///
/// # Safety
/// `sched` and `param` are NULL or valid pointers.
pub unsafe fn sched_rr_instance(sched: *const WdSched, param: *mut SchedParams) -> c_int {
    // SAFETY: forwarded as is; libwd checks the scheduler against its registry.
    unsafe { wd_rs_sched_rr_instance(sched, param) }
}

/// `wd_sched_rr_release`.
///
/// # Safety
/// `sched` is NULL or a scheduler.
pub unsafe fn sched_rr_release(sched: *mut WdSched) {
    // SAFETY: forwarded as is; libwd ignores foreign pointers.
    unsafe { wd_rs_sched_rr_release(sched) }
}

/// The best accelerator for `alg` (a device, or the software accelerator) as a copy,
/// and whether it is the software one.
pub fn accel_dev(alg: &str) -> Option<(UacceDev, bool)> {
    let c = CString::new(alg).ok()?;
    // SAFETY: `c` is a valid string; the result is NULL or a malloc'd device.
    let p = unsafe { wd_get_accel_dev(c.as_ptr()) };
    if p.is_null() {
        return None;
    }
    // SAFETY: non-NULL, allocated and filled by libwd; freed right after the copy.
    let dev = unsafe { p.read() };
    // SAFETY: allocated with the C allocator by libwd.
    unsafe { libc::free(p.cast()) };
    let software = read(&dev.char_dev_path) == SOFT_DEV_PATH;
    Some((dev, software))
}

/// A context on `dev`, or 0.
pub fn request_ctx(dev: &mut UacceDev) -> HandleT {
    // SAFETY: `dev` is a valid, readable device description.
    unsafe { wd_request_ctx(dev) }
}

/// Releases a context.
pub fn release_ctx(h: HandleT) {
    // SAFETY: libwd ignores unknown handles.
    unsafe { wd_release_ctx(h) }
}
