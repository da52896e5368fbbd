//! Initialisation and polling of the cipher, digest and AEAD libraries, and the scheduler
//! exports (UADK exports `wd_sched_rr_*` from libwd_crypto too; both forward to libwd).
//!
//! ```
//! # use wd as _; // the doctest links the real libwd
//! use wd_crypto::*;
//! assert_eq!(unsafe { wd_digest_init2_(c"sha256".as_ptr() as *mut _, 0, 0, std::ptr::null_mut()) }, 0);
//! assert_eq!(unsafe { wd_digest_init2_(c"sha256".as_ptr() as *mut _, 0, 0, std::ptr::null_mut()) }, -17);
//! wd_digest_uninit2();
//! // An algorithm uadk-rs does not offer is refused.
//! assert_eq!(unsafe { wd_cipher_init2_(c"cbc(des)".as_ptr() as *mut _, 0, 0, std::ptr::null_mut()) }, -22);
//! ```

use crate::common::Done;
use libc::{c_char, c_int};
use std::ffi::CStr;
use uadk_wd_common::abi::*;
use uadk_wd_common::boundary::guard;
use uadk_wd_common::client;
use uadk_wd_common::setting::{Family, Library};

fn crypto_key(k: usize) -> (u8, u8) {
    (k as u8, 0)
}

/// The cipher library.
pub(crate) static CIPHER: Library<Done<WdCipherReq>> = Library::new(Family {
    name: "cipher",
    default_alg: "cipher",
    op_types: 2,
    env_var: "WD_CIPHER_CTX_NUM",
    env_default: "sync:2@0,async:2@0",
    env_keys: &["sync", "async"],
    key_to: crypto_key,
});

/// The digest library.
pub(crate) static DIGEST: Library<Done<WdDigestReq>> = Library::new(Family {
    name: "digest",
    default_alg: "digest",
    op_types: 1,
    env_var: "WD_DIGEST_CTX_NUM",
    env_default: "sync:2@0,async:2@0",
    env_keys: &["sync", "async"],
    key_to: crypto_key,
});

/// The AEAD library.
pub(crate) static AEAD: Library<Done<WdAeadReq>> = Library::new(Family {
    name: "aead",
    default_alg: "aead",
    op_types: 2,
    env_var: "WD_AEAD_CTX_NUM",
    env_default: "sync:2@0,async:2@0",
    env_keys: &["sync", "async"],
    key_to: crypto_key,
});

fn cipher_alg_ok(a: &str) -> bool {
    matches!(
        a,
        "cipher"
            | "ecb(aes)"
            | "cbc(aes)"
            | "ctr(aes)"
            | "xts(aes)"
            | "ecb(sm4)"
            | "cbc(sm4)"
            | "ctr(sm4)"
            | "xts(sm4)"
    )
}

fn digest_alg_ok(a: &str) -> bool {
    let inner = a
        .strip_prefix("hmac(")
        .and_then(|x| x.strip_suffix(')'))
        .unwrap_or(a);
    matches!(
        inner,
        "digest" | "sm3" | "md5" | "sha1" | "sha224" | "sha256" | "sha384" | "sha512"
    )
}

fn aead_alg_ok(a: &str) -> bool {
    matches!(a, "aead" | "gcm(aes)" | "ccm(aes)" | "gcm(sm4)" | "ccm(sm4)")
}

fn name(alg: *mut c_char) -> Option<String> {
    // SAFETY: non-NULL names are NUL-terminated per the callers' contract.
    (!alg.is_null()).then(|| unsafe { CStr::from_ptr(alg) }.to_string_lossy().into_owned())
}

macro_rules! family_api {
    (
        $lib:ident, $label:literal, $alg_ok:ident, $tramp:ident,
        $init:ident, $uninit:ident, $init2_:ident, $uninit2:ident, $env_init:ident, $env_uninit:ident,
        $ctx_num_init:ident, $ctx_num_uninit:ident, $get_env_param:ident, $poll_ctx:ident, $poll:ident
    ) => {
        #[doc = concat!("`", stringify!($init), "(config, sched)`: explicit contexts and scheduler.")]
        ///
        /// # Safety
        /// `config` and `sched` are NULL or valid (UADK 2.11 layouts) and stay valid until
        /// the matching uninit.
        pub unsafe extern "C" fn $init(config: *mut WdCtxConfig, sched: *mut WdSched) -> c_int {
            // SAFETY: forwarded under the same contract.
            guard(stringify!($init), -WD_EINVAL, || unsafe { $lib.init(config, sched) })
        }

        #[doc = concat!("`", stringify!($uninit), "()`.")]
        pub extern "C" fn $uninit() {
            guard(stringify!($uninit), (), || $lib.uninit())
        }

        #[doc = concat!("`", stringify!($init2_), "(alg, sched_type, task_type, ctx_params)` for ", $label, ".")]
        ///
        /// # Safety
        /// `alg` is NULL or a string; `ctx_params` NULL or valid.
        pub unsafe extern "C" fn $init2_(
            alg: *mut c_char,
            sched_type: u32,
            task_type: c_int,
            ctx_params: *mut WdCtxParams,
        ) -> c_int {
            guard(stringify!($init2_), -WD_EINVAL, || {
                let n = name(alg);
                let ok = n.as_deref().is_some_and($alg_ok);
                // SAFETY: ctx_params per the contract.
                unsafe { $lib.init2(n.as_deref(), ok, sched_type, task_type, ctx_params, $tramp) }
            })
        }

        #[doc = concat!("`", stringify!($uninit2), "()`: releases what init2 made.")]
        pub extern "C" fn $uninit2() {
            guard(stringify!($uninit2), (), || $lib.uninit())
        }

        #[doc = concat!("`", stringify!($env_init), "(sched)`: contexts from the environment variable.")]
        ///
        /// # Safety
        /// `sched` is NULL or a valid scheduler.
        pub unsafe extern "C" fn $env_init(sched: *mut WdSched) -> c_int {
            guard(stringify!($env_init), -WD_EINVAL, || $lib.env_init(sched, $tramp))
        }

        #[doc = concat!("`", stringify!($env_uninit), "()`.")]
        pub extern "C" fn $env_uninit() {
            guard(stringify!($env_uninit), (), || $lib.uninit())
        }

        #[doc = concat!("`", stringify!($ctx_num_init), "(node, type, num, mode)`.")]
        pub extern "C" fn $ctx_num_init(node: u32, type_: u32, num: u32, mode: u8) -> c_int {
            guard(stringify!($ctx_num_init), -WD_EINVAL, || {
                $lib.ctx_num_init(node, type_, num, mode, $tramp)
            })
        }

        #[doc = concat!("`", stringify!($ctx_num_uninit), "()`.")]
        pub extern "C" fn $ctx_num_uninit() {
            guard(stringify!($ctx_num_uninit), (), || $lib.uninit())
        }

        #[doc = concat!("`", stringify!($get_env_param), "(node, type, mode, num, is_enable)`.")]
        ///
        /// # Safety
        /// `num` and `is_enable` are NULL or writable.
        pub unsafe extern "C" fn $get_env_param(
            node: u32,
            type_: u32,
            mode: u32,
            num: *mut u32,
            is_enable: *mut u8,
        ) -> c_int {
            // SAFETY: forwarded under the same contract.
            guard(stringify!($get_env_param), -WD_EINVAL, || unsafe {
                $lib.get_env_param(node, type_, mode, num, is_enable)
            })
        }

        #[doc = concat!("`", stringify!($poll_ctx), "(idx, expt, count)`: calls the callbacks of up to `expt` ")]
        /// completed asynchronous requests of context `idx` (all waiting ones for
        /// `expt == 0`); `-WD_EAGAIN` when fewer were waiting.
        ///
        /// # Safety
        /// `count` is NULL or writable.
        pub unsafe extern "C" fn $poll_ctx(idx: u32, expt: u32, count: *mut u32) -> c_int {
            // SAFETY: count per the contract; completions carry the caller's pointers.
            guard(stringify!($poll_ctx), -WD_EINVAL, || unsafe { $lib.poll_ctx(idx, expt, count, Done::deliver) })
        }

        unsafe extern "C" fn $tramp(idx: u32, expt: u32, count: *mut u32) -> c_int {
            // SAFETY: called by the scheduler's poll policy with a valid count pointer.
            unsafe { $poll_ctx(idx, expt, count) }
        }

        #[doc = concat!("`", stringify!($poll), "(expt, count)`: the scheduler's poll policy.")]
        ///
        /// # Safety
        /// `count` is NULL or writable.
        pub unsafe extern "C" fn $poll(expt: u32, count: *mut u32) -> c_int {
            // SAFETY: forwarded under the same contract.
            guard(stringify!($poll), -WD_EINVAL, || unsafe { $lib.poll(expt, count) })
        }
    };
}

family_api!(
    CIPHER,
    "ciphers",
    cipher_alg_ok,
    cipher_tramp,
    wd_cipher_init,
    wd_cipher_uninit,
    wd_cipher_init2_,
    wd_cipher_uninit2,
    wd_cipher_env_init,
    wd_cipher_env_uninit,
    wd_cipher_ctx_num_init,
    wd_cipher_ctx_num_uninit,
    wd_cipher_get_env_param,
    wd_cipher_poll_ctx,
    wd_cipher_poll
);
family_api!(
    DIGEST,
    "digests",
    digest_alg_ok,
    digest_tramp,
    wd_digest_init,
    wd_digest_uninit,
    wd_digest_init2_,
    wd_digest_uninit2,
    wd_digest_env_init,
    wd_digest_env_uninit,
    wd_digest_ctx_num_init,
    wd_digest_ctx_num_uninit,
    wd_digest_get_env_param,
    wd_digest_poll_ctx,
    wd_digest_poll
);
family_api!(
    AEAD,
    "AEAD",
    aead_alg_ok,
    aead_tramp,
    wd_aead_init,
    wd_aead_uninit,
    wd_aead_init2_,
    wd_aead_uninit2,
    wd_aead_env_init,
    wd_aead_env_uninit,
    wd_aead_ctx_num_init,
    wd_aead_ctx_num_uninit,
    wd_aead_get_env_param,
    wd_aead_poll_ctx,
    wd_aead_poll
);

/// `wd_cipher_init2(alg, sched_type, task_type)`: the header's macro as a function.
///
/// # Safety
/// `alg` is NULL or a string.
pub unsafe extern "C" fn wd_cipher_init2(alg: *mut c_char, sched_type: u32, task_type: c_int) -> c_int {
    // SAFETY: forwarded under the same contract.
    unsafe { wd_cipher_init2_(alg, sched_type, task_type, std::ptr::null_mut()) }
}

/// `wd_digest_init2(alg, sched_type, task_type)`: the header's macro as a function.
///
/// # Safety
/// `alg` is NULL or a string.
pub unsafe extern "C" fn wd_digest_init2(alg: *mut c_char, sched_type: u32, task_type: c_int) -> c_int {
    // SAFETY: forwarded under the same contract.
    unsafe { wd_digest_init2_(alg, sched_type, task_type, std::ptr::null_mut()) }
}

/// `wd_sched_rr_alloc` (also exported by libwd_comp; one implementation in libwd).
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
