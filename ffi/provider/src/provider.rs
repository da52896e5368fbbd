//! `OSSL_provider_init`, the provider's own functions and the algorithm tables.

use std::ffi::{c_int, c_void, CStr};
use std::ptr;
use std::sync::OnceLock;

use crate::algs::{CIPHERS, DIGESTS, N_CIPHERS, N_DIGESTS};
use crate::boundary::{int_call, void_call};
use crate::entry::*;
use crate::ossl::{
    self, names, param, OSSL_ALGORITHM, OSSL_CORE_HANDLE, OSSL_DISPATCH, OSSL_PARAM, PARAM_END,
};
use crate::params::Out;
use crate::runtime;

/// The property every algorithm carries; select ours with `?provider=uadk_provider`.
pub const PROPERTIES: &CStr = c"provider=uadk_provider";

/// A dispatch entry: `$f` cast to `void (*)(void)` as OpenSSL's tables require.
macro_rules! func {
    ($id:expr, $f:expr, $ty:ty) => {
        OSSL_DISPATCH {
            function_id: $id,
            // SAFETY: OpenSSL calls the entry through the exact signature `$ty` that the
            // id `$id` prescribes in core_dispatch.h; only the pointer's type is erased.
            function: Some(unsafe { std::mem::transmute::<$ty, unsafe extern "C" fn()>($f as $ty) }),
        }
    };
}

const END: OSSL_DISPATCH = OSSL_DISPATCH {
    function_id: 0,
    function: None,
};

type NewCtx = unsafe extern "C" fn(*mut c_void) -> *mut c_void;
type FreeCtx = unsafe extern "C" fn(*mut c_void);
type CipherInit =
    unsafe extern "C" fn(*mut c_void, *const u8, usize, *const u8, usize, *const OSSL_PARAM) -> c_int;
type CipherUpdate = unsafe extern "C" fn(*mut c_void, *mut u8, *mut usize, usize, *const u8, usize) -> c_int;
type CipherFinal = unsafe extern "C" fn(*mut c_void, *mut u8, *mut usize, usize) -> c_int;
type GetParams = unsafe extern "C" fn(*mut OSSL_PARAM) -> c_int;
type CtxGetParams = unsafe extern "C" fn(*mut c_void, *mut OSSL_PARAM) -> c_int;
type CtxSetParams = unsafe extern "C" fn(*mut c_void, *const OSSL_PARAM) -> c_int;
type Gettable = unsafe extern "C" fn(*mut c_void) -> *const OSSL_PARAM;
type CtxGettable = unsafe extern "C" fn(*mut c_void, *mut c_void) -> *const OSSL_PARAM;
type DigestInit = unsafe extern "C" fn(*mut c_void, *const OSSL_PARAM) -> c_int;
type DigestUpdate = unsafe extern "C" fn(*mut c_void, *const u8, usize) -> c_int;

const fn cipher_dispatch<const I: usize>() -> [OSSL_DISPATCH; 15] {
    use crate::ossl::*;
    [
        func!(OSSL_FUNC_CIPHER_NEWCTX, cipher_newctx::<I>, NewCtx),
        func!(OSSL_FUNC_CIPHER_ENCRYPT_INIT, cipher_einit, CipherInit),
        func!(OSSL_FUNC_CIPHER_DECRYPT_INIT, cipher_dinit, CipherInit),
        func!(OSSL_FUNC_CIPHER_UPDATE, cipher_update, CipherUpdate),
        func!(OSSL_FUNC_CIPHER_FINAL, cipher_final, CipherFinal),
        func!(OSSL_FUNC_CIPHER_CIPHER, cipher_cipher, CipherUpdate),
        func!(OSSL_FUNC_CIPHER_FREECTX, cipher_freectx, FreeCtx),
        func!(OSSL_FUNC_CIPHER_DUPCTX, cipher_dupctx, NewCtx),
        func!(OSSL_FUNC_CIPHER_GET_PARAMS, cipher_get_params::<I>, GetParams),
        func!(
            OSSL_FUNC_CIPHER_GET_CTX_PARAMS,
            cipher_get_ctx_params,
            CtxGetParams
        ),
        func!(
            OSSL_FUNC_CIPHER_SET_CTX_PARAMS,
            cipher_set_ctx_params,
            CtxSetParams
        ),
        func!(OSSL_FUNC_CIPHER_GETTABLE_PARAMS, cipher_gettable_params, Gettable),
        func!(
            OSSL_FUNC_CIPHER_GETTABLE_CTX_PARAMS,
            cipher_gettable_ctx_params::<I>,
            CtxGettable
        ),
        func!(
            OSSL_FUNC_CIPHER_SETTABLE_CTX_PARAMS,
            cipher_settable_ctx_params::<I>,
            CtxGettable
        ),
        END,
    ]
}

const fn digest_dispatch<const I: usize>() -> [OSSL_DISPATCH; 9] {
    use crate::ossl::*;
    [
        func!(OSSL_FUNC_DIGEST_NEWCTX, digest_newctx::<I>, NewCtx),
        func!(OSSL_FUNC_DIGEST_INIT, digest_init, DigestInit),
        func!(OSSL_FUNC_DIGEST_UPDATE, digest_update, DigestUpdate),
        func!(OSSL_FUNC_DIGEST_FINAL, digest_final, CipherFinal),
        func!(OSSL_FUNC_DIGEST_FREECTX, digest_freectx, FreeCtx),
        func!(OSSL_FUNC_DIGEST_DUPCTX, digest_dupctx, NewCtx),
        func!(OSSL_FUNC_DIGEST_GET_PARAMS, digest_get_params::<I>, GetParams),
        func!(OSSL_FUNC_DIGEST_GETTABLE_PARAMS, digest_gettable_params, Gettable),
        END,
    ]
}

const ALG_END: OSSL_ALGORITHM = OSSL_ALGORITHM {
    algorithm_names: ptr::null(),
    property_definition: ptr::null(),
    implementation: ptr::null(),
    algorithm_description: ptr::null(),
};

macro_rules! algorithms {
    ($specs:ident, $dispatch:ident, $n:literal; $($i:literal)*) => {
        [$(
            OSSL_ALGORITHM {
                algorithm_names: $specs[$i].names.as_ptr(),
                property_definition: PROPERTIES.as_ptr(),
                implementation: {
                    static D: [OSSL_DISPATCH; $n] = $dispatch::<$i>();
                    D.as_ptr()
                },
                algorithm_description: c"uadk-crypto: device above its threshold, else the fastest software engine".as_ptr(),
            },
        )* ALG_END]
    };
}

/// The cipher table (`query_operation(OSSL_OP_CIPHER)`).
pub static CIPHER_ALGORITHMS: [OSSL_ALGORITHM; N_CIPHERS + 1] = algorithms!(
    CIPHERS, cipher_dispatch, 15;
    0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22
);

/// The digest table (`query_operation(OSSL_OP_DIGEST)`).
pub static DIGEST_ALGORITHMS: [OSSL_ALGORITHM; N_DIGESTS + 1] =
    algorithms!(DIGESTS, digest_dispatch, 9; 0 1 2 3 4 5 6);

unsafe extern "C" fn query_operation(
    _provctx: *mut c_void,
    op: c_int,
    no_cache: *mut c_int,
) -> *const OSSL_ALGORITHM {
    if !no_cache.is_null() {
        // SAFETY: OpenSSL passes a writable int.
        unsafe { *no_cache = 0 };
    }
    match op {
        ossl::OSSL_OP_CIPHER => CIPHER_ALGORITHMS.as_ptr(),
        ossl::OSSL_OP_DIGEST => DIGEST_ALGORITHMS.as_ptr(),
        _ => ptr::null(),
    }
}

static PROVIDER_GETTABLE: [OSSL_PARAM; 6] = [
    param(names::NAME, ossl::OSSL_PARAM_UTF8_PTR),
    param(names::VERSION, ossl::OSSL_PARAM_UTF8_PTR),
    param(names::BUILDINFO, ossl::OSSL_PARAM_UTF8_PTR),
    param(names::STATUS, ossl::OSSL_PARAM_INTEGER),
    param(names::UADK_STATS, ossl::OSSL_PARAM_UTF8_STRING),
    PARAM_END,
];

unsafe extern "C" fn gettable_params(_provctx: *mut c_void) -> *const OSSL_PARAM {
    PROVIDER_GETTABLE.as_ptr()
}

/// The version string (`CARGO_PKG_VERSION`, NUL-terminated).
pub const VERSION: &CStr =
    match CStr::from_bytes_with_nul(concat!(env!("CARGO_PKG_VERSION"), "\0").as_bytes()) {
        Ok(v) => v,
        Err(_) => c"unknown",
    };

unsafe extern "C" fn get_params(_provctx: *mut c_void, params: *mut OSSL_PARAM) -> c_int {
    int_call(|| {
        // SAFETY: NULL or a valid terminated array.
        let out = unsafe { Out::new(params) };
        if let Some(p) = out.get(names::NAME) {
            p.set_utf8(c"uadk_provider")?;
        }
        if let Some(p) = out.get(names::VERSION) {
            p.set_utf8(VERSION)?;
        }
        if let Some(p) = out.get(names::BUILDINFO) {
            p.set_utf8(
                c"uadk-rs uadk_provider (uadk-crypto: SEC device via uacce when attached, else software)",
            )?;
        }
        if let Some(p) = out.get(names::STATUS) {
            p.set_int(1)?;
        }
        if let Some(p) = out.get(names::UADK_STATS) {
            // Made on first use; reading the counters is a use.
            static STATS: OnceLock<()> = OnceLock::new();
            STATS.get_or_init(|| ());
            let json = std::ffi::CString::new(runtime::get().stats_json()).unwrap_or_default();
            p.set_utf8(&json)?;
        }
        Ok(())
    })
}

unsafe extern "C" fn teardown(_provctx: *mut c_void) {
    void_call(|| {
        if let Some(rt) = runtime::existing() {
            rt.maybe_write(true);
        }
    })
}

type Teardown = unsafe extern "C" fn(*mut c_void);
type ProvGetParams = unsafe extern "C" fn(*mut c_void, *mut OSSL_PARAM) -> c_int;
type Query = unsafe extern "C" fn(*mut c_void, c_int, *mut c_int) -> *const OSSL_ALGORITHM;

static PROVIDER_DISPATCH: [OSSL_DISPATCH; 5] = {
    use crate::ossl::*;
    [
        func!(OSSL_FUNC_PROVIDER_TEARDOWN, teardown, Teardown),
        func!(OSSL_FUNC_PROVIDER_GETTABLE_PARAMS, gettable_params, Gettable),
        func!(OSSL_FUNC_PROVIDER_GET_PARAMS, get_params, ProvGetParams),
        func!(OSSL_FUNC_PROVIDER_QUERY_OPERATION, query_operation, Query),
        END,
    ]
};

/// The provider's entry point, called by OpenSSL when it loads the module.
///
/// Does no crypto and touches no libcrypto state: it may run inside OpenSSL's
/// configuration loading. The uadk-crypto context is made on first use.
///
/// # Safety
/// Called by OpenSSL with valid `out` and `provctx` pointers (NULL is refused).
#[no_mangle]
pub unsafe extern "C" fn OSSL_provider_init(
    _handle: *const OSSL_CORE_HANDLE,
    _core_in: *const OSSL_DISPATCH,
    out: *mut *const OSSL_DISPATCH,
    provctx: *mut *mut c_void,
) -> c_int {
    int_call(|| {
        if out.is_null() || provctx.is_null() {
            return crate::boundary::err(ossl::ERR_R_INTERNAL_ERROR, "uadk_provider: NULL output pointers");
        }
        // SAFETY: both checked non-NULL; OpenSSL passes writable pointers. The provider
        // context is unused (all state is process-wide), so any non-NULL value would do.
        unsafe {
            *out = PROVIDER_DISPATCH.as_ptr();
            *provctx = PROVIDER_DISPATCH.as_ptr() as *mut c_void;
        }
        Ok(())
    })
}
