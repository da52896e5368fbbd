//! Initialisation, polling and the scheduler exports of `libwd_comp.so.2`.
//!
//! ```
//! # use wd as _; // the doctest links the real libwd
//! use wd_comp::*;
//! // QEMU's flow: init2 for zlib; a second init is -WD_EEXIST (QEMU tolerates it).
//! assert_eq!(unsafe { wd_comp_init2_(c"zlib".as_ptr() as *mut _, 0, 1, std::ptr::null_mut()) }, 0);
//! assert_eq!(unsafe { wd_comp_init2_(c"zlib".as_ptr() as *mut _, 0, 1, std::ptr::null_mut()) }, -17);
//! wd_comp_uninit2();
//! ```

use crate::ops::Done;
use libc::{c_char, c_int};
use std::ffi::CStr;
use uadk_wd_common::abi::*;
use uadk_wd_common::boundary::guard;
use uadk_wd_common::client;
use uadk_wd_common::setting::{Family, Library};

fn comp_key(k: usize) -> (u8, u8) {
    ((k / 2) as u8, (k % 2) as u8)
}

/// The library's state.
pub(crate) static LIB: Library<Done> = Library::new(Family {
    name: "compression",
    default_alg: "zlib",
    op_types: 2,
    env_var: "WD_COMP_CTX_NUM",
    env_default: "sync-comp:1@0,sync-decomp:1@0,async-comp:1@0,async-decomp:1@0",
    env_keys: &["sync-comp", "sync-decomp", "async-comp", "async-decomp"],
    key_to: comp_key,
});

/// Algorithms this library offers.
pub(crate) fn alg_offered(alg: &str) -> bool {
    matches!(alg, "zlib" | "gzip" | "deflate")
}

/// `wd_comp_init(config, sched)`: 0, `-WD_EEXIST` if initialised, `-WD_EINVAL` for a NULL
/// or empty configuration, a handle that is not a context, or a NULL scheduler.
///
/// # Safety
/// `config` and `sched` are NULL or valid (UADK 2.11 layouts); the scheduler and the
/// contexts must stay valid until `wd_comp_uninit`.
pub unsafe extern "C" fn wd_comp_init(config: *mut WdCtxConfig, sched: *mut WdSched) -> c_int {
    // SAFETY: forwarded under the same contract.
    guard("wd_comp_init", -WD_EINVAL, || unsafe { LIB.init(config, sched) })
}

/// `wd_comp_uninit()`.
pub extern "C" fn wd_comp_uninit() {
    guard("wd_comp_uninit", (), || LIB.uninit())
}

/// `wd_comp_init2_(alg, sched_type, task_type, ctx_params)`: contexts chosen by the library
/// ("zlib", "gzip" or "deflate"; see [`uadk_wd_common::setting`] for the task types).
///
/// # Safety
/// `alg` is NULL or a string; `ctx_params` NULL or a valid `struct wd_ctx_params`.
pub unsafe extern "C" fn wd_comp_init2_(
    alg: *mut c_char,
    sched_type: u32,
    task_type: c_int,
    ctx_params: *mut WdCtxParams,
) -> c_int {
    guard("wd_comp_init2_", -WD_EINVAL, || {
        let name = (!alg.is_null())
            // SAFETY: non-NULL, NUL-terminated per the contract.
            .then(|| unsafe { CStr::from_ptr(alg) }.to_string_lossy().into_owned());
        let ok = name.as_deref().is_some_and(alg_offered);
        // SAFETY: ctx_params per the contract.
        unsafe {
            LIB.init2(
                name.as_deref(),
                ok,
                sched_type,
                task_type,
                ctx_params,
                poll_trampoline,
            )
        }
    })
}

/// `wd_comp_init2(alg, sched_type, task_type)`: the header's macro as a function, for
/// binaries that reference it.
///
/// # Safety
/// `alg` is NULL or a string.
pub unsafe extern "C" fn wd_comp_init2(alg: *mut c_char, sched_type: u32, task_type: c_int) -> c_int {
    // SAFETY: forwarded under the same contract.
    unsafe { wd_comp_init2_(alg, sched_type, task_type, std::ptr::null_mut()) }
}

/// `wd_comp_uninit2()`: releases the contexts and scheduler init2 made.
pub extern "C" fn wd_comp_uninit2() {
    guard("wd_comp_uninit2", (), || LIB.uninit())
}

/// `wd_comp_env_init(sched)`: contexts from `WD_COMP_CTX_NUM` (default one sync and one
/// async context per direction on node 0); `sched` NULL for the round-robin scheduler.
///
/// # Safety
/// `sched` is NULL or a valid scheduler.
pub unsafe extern "C" fn wd_comp_env_init(sched: *mut WdSched) -> c_int {
    guard("wd_comp_env_init", -WD_EINVAL, || {
        LIB.env_init(sched, poll_trampoline)
    })
}

/// `wd_comp_env_uninit()`.
pub extern "C" fn wd_comp_env_uninit() {
    guard("wd_comp_env_uninit", (), || LIB.uninit())
}

/// `wd_comp_ctx_num_init(node, type, num, mode)`.
pub extern "C" fn wd_comp_ctx_num_init(node: u32, type_: u32, num: u32, mode: u8) -> c_int {
    guard("wd_comp_ctx_num_init", -WD_EINVAL, || {
        LIB.ctx_num_init(node, type_, num, mode, poll_trampoline)
    })
}

/// `wd_comp_ctx_num_uninit()`.
pub extern "C" fn wd_comp_ctx_num_uninit() {
    guard("wd_comp_ctx_num_uninit", (), || LIB.uninit())
}

/// `wd_comp_get_env_param(node, type, mode, num, is_enable)`.
///
/// # Safety
/// `num` and `is_enable` are NULL or writable.
pub unsafe extern "C" fn wd_comp_get_env_param(
    node: u32,
    type_: u32,
    mode: u32,
    num: *mut u32,
    is_enable: *mut u8,
) -> c_int {
    // SAFETY: forwarded under the same contract.
    guard("wd_comp_get_env_param", -WD_EINVAL, || unsafe {
        LIB.get_env_param(node, type_, mode, num, is_enable)
    })
}

unsafe extern "C" fn poll_trampoline(idx: u32, expt: u32, count: *mut u32) -> c_int {
    // SAFETY: called by the scheduler's poll policy with a valid count pointer.
    unsafe { wd_comp_poll_ctx(idx, expt, count) }
}

/// `wd_comp_poll_ctx(idx, expt, count)`: calls the callbacks of up to `expt` completed
/// asynchronous requests of context `idx`; `-WD_EAGAIN` when fewer were waiting,
/// `-WD_EINVAL` for `expt == 0`, a bad index, a sync context or NULL `count`.
///
/// # Safety
/// `count` is NULL or writable.
pub unsafe extern "C" fn wd_comp_poll_ctx(idx: u32, expt: u32, count: *mut u32) -> c_int {
    guard("wd_comp_poll_ctx", -WD_EINVAL, || {
        if expt == 0 {
            if !count.is_null() {
                // SAFETY: non-NULL and writable per the contract.
                unsafe { *count = 0 };
            }
            return -WD_EINVAL;
        }
        // SAFETY: count per the contract; completions carry the caller's own pointers.
        unsafe { LIB.poll_ctx(idx, expt, count, Done::deliver) }
    })
}

/// `wd_comp_poll(expt, count)`: the scheduler's poll policy over all async contexts.
///
/// # Safety
/// `count` is NULL or writable.
pub unsafe extern "C" fn wd_comp_poll(expt: u32, count: *mut u32) -> c_int {
    // SAFETY: forwarded under the same contract.
    guard("wd_comp_poll", -WD_EINVAL, || unsafe { LIB.poll(expt, count) })
}

/// `wd_sched_rr_alloc` (UADK exports it from libwd_comp): uadk-rs's one scheduler
/// implementation in libwd.so.2.
///
/// # Safety
/// `func` is NULL or a valid `user_poll_func`.
pub unsafe extern "C" fn wd_sched_rr_alloc(
    sched_type: u8,
    type_num: u8,
    numa_num: u16,
    func: Option<UserPollFn>,
) -> *mut WdSched {
    // SAFETY: forwarded under the same contract.
    unsafe { client::sched_rr_alloc(sched_type, type_num, numa_num, func) }
}

/// `wd_sched_rr_instance`.
///
/// # Safety
/// `sched` and `param` are NULL or valid.
pub unsafe extern "C" fn wd_sched_rr_instance(sched: *const WdSched, param: *mut SchedParams) -> c_int {
    // SAFETY: forwarded under the same contract.
    unsafe { client::sched_rr_instance(sched, param) }
}

/// `wd_sched_rr_release`.
///
/// # Safety
/// `sched` is NULL or a scheduler.
pub unsafe extern "C" fn wd_sched_rr_release(sched: *mut WdSched) {
    // SAFETY: forwarded under the same contract.
    unsafe { client::sched_rr_release(sched) }
}
