//! The slice of OpenSSL 3's provider ABI this provider uses: `core.h` structures,
//! `core_dispatch.h` function and operation ids, `core_names.h` parameter names, and the
//! libcrypto functions for `OSSL_PARAM` and the error queue.
//!
//! `openssl-sys` has `OSSL_PARAM` and a few helpers but none of the dispatch ids or names,
//! and `openssl_provider_forge` (bindgen'd headers) says it is in development and targets
//! 3.2+; this module is the ~150 lines that fill the gap. The values are ABI-stable since
//! OpenSSL 3.0 (checked against Debian's 3.0 headers by `tests/c_abi.rs`).

#![allow(non_camel_case_types)]

use std::ffi::{c_char, c_int, c_uint, c_void, CStr};

/// `OSSL_DISPATCH`: one function of a dispatch table.
#[repr(C)]
pub struct OSSL_DISPATCH {
    /// `OSSL_FUNC_*` id; 0 ends the table.
    pub function_id: c_int,
    /// The function, cast to `void (*)(void)`.
    pub function: Option<unsafe extern "C" fn()>,
}

/// `OSSL_ALGORITHM`: one algorithm of an operation.
#[repr(C)]
pub struct OSSL_ALGORITHM {
    /// Colon-separated names.
    pub algorithm_names: *const c_char,
    /// Property definition, e.g. `provider=uadk_provider`.
    pub property_definition: *const c_char,
    /// The algorithm's dispatch table.
    pub implementation: *const OSSL_DISPATCH,
    /// Description.
    pub algorithm_description: *const c_char,
}

// SAFETY: the tables hold pointers to immutable `'static` data only (string literals and
// static dispatch tables), so sharing them between threads is sound.
unsafe impl Sync for OSSL_ALGORITHM {}

/// `OSSL_PARAM`.
#[repr(C)]
pub struct OSSL_PARAM {
    /// Name; NULL ends an array.
    pub key: *const c_char,
    /// `OSSL_PARAM_*` type.
    pub data_type: c_uint,
    /// The value's buffer.
    pub data: *mut c_void,
    /// Its size.
    pub data_size: usize,
    /// Bytes the responder wrote or would write.
    pub return_size: usize,
}

// SAFETY: static OSSL_PARAM arrays (the gettable/settable descriptors) have NULL data and
// point to string literals only; they are never written.
unsafe impl Sync for OSSL_PARAM {}

/// Opaque core handle.
pub enum OSSL_CORE_HANDLE {}

pub const OSSL_PARAM_INTEGER: c_uint = 1;
pub const OSSL_PARAM_UNSIGNED_INTEGER: c_uint = 2;
pub const OSSL_PARAM_UTF8_STRING: c_uint = 4;
pub const OSSL_PARAM_OCTET_STRING: c_uint = 5;
pub const OSSL_PARAM_UTF8_PTR: c_uint = 6;
pub const OSSL_PARAM_OCTET_PTR: c_uint = 7;

/// An `OSSL_PARAM` descriptor for gettable/settable lists.
pub const fn param(key: &'static CStr, data_type: c_uint) -> OSSL_PARAM {
    OSSL_PARAM {
        key: key.as_ptr(),
        data_type,
        data: std::ptr::null_mut(),
        data_size: 0,
        return_size: usize::MAX,
    }
}

/// The terminator of an `OSSL_PARAM` array.
pub const PARAM_END: OSSL_PARAM = OSSL_PARAM {
    key: std::ptr::null(),
    data_type: 0,
    data: std::ptr::null_mut(),
    data_size: 0,
    return_size: 0,
};

// core_dispatch.h: upcalls offered by the core.
pub const OSSL_FUNC_CORE_GET_LIBCTX: c_int = 4;

// Provider functions.
pub const OSSL_FUNC_PROVIDER_TEARDOWN: c_int = 1024;
pub const OSSL_FUNC_PROVIDER_GETTABLE_PARAMS: c_int = 1025;
pub const OSSL_FUNC_PROVIDER_GET_PARAMS: c_int = 1026;
pub const OSSL_FUNC_PROVIDER_QUERY_OPERATION: c_int = 1027;

// Operations.
pub const OSSL_OP_DIGEST: c_int = 1;
pub const OSSL_OP_CIPHER: c_int = 2;

// Digest functions.
pub const OSSL_FUNC_DIGEST_NEWCTX: c_int = 1;
pub const OSSL_FUNC_DIGEST_INIT: c_int = 2;
pub const OSSL_FUNC_DIGEST_UPDATE: c_int = 3;
pub const OSSL_FUNC_DIGEST_FINAL: c_int = 4;
pub const OSSL_FUNC_DIGEST_FREECTX: c_int = 6;
pub const OSSL_FUNC_DIGEST_DUPCTX: c_int = 7;
pub const OSSL_FUNC_DIGEST_GET_PARAMS: c_int = 8;
pub const OSSL_FUNC_DIGEST_GETTABLE_PARAMS: c_int = 11;

// Cipher functions.
pub const OSSL_FUNC_CIPHER_NEWCTX: c_int = 1;
pub const OSSL_FUNC_CIPHER_ENCRYPT_INIT: c_int = 2;
pub const OSSL_FUNC_CIPHER_DECRYPT_INIT: c_int = 3;
pub const OSSL_FUNC_CIPHER_UPDATE: c_int = 4;
pub const OSSL_FUNC_CIPHER_FINAL: c_int = 5;
pub const OSSL_FUNC_CIPHER_CIPHER: c_int = 6;
pub const OSSL_FUNC_CIPHER_FREECTX: c_int = 7;
pub const OSSL_FUNC_CIPHER_DUPCTX: c_int = 8;
pub const OSSL_FUNC_CIPHER_GET_PARAMS: c_int = 9;
pub const OSSL_FUNC_CIPHER_GET_CTX_PARAMS: c_int = 10;
pub const OSSL_FUNC_CIPHER_SET_CTX_PARAMS: c_int = 11;
pub const OSSL_FUNC_CIPHER_GETTABLE_PARAMS: c_int = 12;
pub const OSSL_FUNC_CIPHER_GETTABLE_CTX_PARAMS: c_int = 13;
pub const OSSL_FUNC_CIPHER_SETTABLE_CTX_PARAMS: c_int = 14;

/// `core_names.h` parameter names.
pub mod names {
    use std::ffi::CStr;
    // Provider.
    pub const NAME: &CStr = c"name";
    pub const VERSION: &CStr = c"version";
    pub const BUILDINFO: &CStr = c"buildinfo";
    pub const STATUS: &CStr = c"status";
    // Algorithm.
    pub const MODE: &CStr = c"mode";
    pub const KEYLEN: &CStr = c"keylen";
    pub const IVLEN: &CStr = c"ivlen";
    pub const BLOCK_SIZE: &CStr = c"blocksize";
    pub const AEAD: &CStr = c"aead";
    pub const CUSTOM_IV: &CStr = c"custom-iv";
    pub const CTS: &CStr = c"cts";
    pub const TLS1_MULTIBLOCK: &CStr = c"tls-multi";
    pub const HAS_RAND_KEY: &CStr = c"has-randkey";
    // Cipher context.
    pub const PADDING: &CStr = c"padding";
    pub const NUM: &CStr = c"num";
    pub const IV: &CStr = c"iv";
    pub const UPDATED_IV: &CStr = c"updated-iv";
    pub const USE_BITS: &CStr = c"use-bits";
    pub const TLS_VERSION: &CStr = c"tls-version";
    pub const TLS_MAC: &CStr = c"tls-mac";
    pub const TLS_MAC_SIZE: &CStr = c"tls-mac-size";
    pub const AEAD_TAG: &CStr = c"tag";
    pub const AEAD_TAGLEN: &CStr = c"taglen";
    pub const AEAD_TLS1_AAD: &CStr = c"tlsaad";
    pub const AEAD_TLS1_AAD_PAD: &CStr = c"tlsaadpad";
    pub const AEAD_TLS1_IV_FIXED: &CStr = c"tlsivfixed";
    pub const AEAD_TLS1_GET_IV_GEN: &CStr = c"tlsivgen";
    pub const AEAD_TLS1_SET_IV_INV: &CStr = c"tlsivinv";
    pub const AEAD_IVLEN: &CStr = c"ivlen";
    // Digest.
    pub const DIGEST_SIZE: &CStr = c"size";
    pub const DIGEST_XOF: &CStr = c"xof";
    pub const DIGEST_ALGID_ABSENT: &CStr = c"algid-absent";
    // Ours: the device/software counters of this process, as one JSON line.
    pub const UADK_STATS: &CStr = c"uadk-stats";
}

// err.h / proverr.h values.
pub const ERR_LIB_PROV: c_int = 57;
pub const PROV_R_BAD_DECRYPT: c_int = 100;
pub const PROV_R_CIPHER_OPERATION_FAILED: c_int = 102;
pub const PROV_R_FAILED_TO_GET_PARAMETER: c_int = 103;
pub const PROV_R_FAILED_TO_SET_PARAMETER: c_int = 104;
pub const PROV_R_INVALID_KEY_LENGTH: c_int = 105;
pub const PROV_R_OUTPUT_BUFFER_TOO_SMALL: c_int = 106;
pub const PROV_R_WRONG_FINAL_BLOCK_LENGTH: c_int = 107;
pub const PROV_R_INVALID_IV_LENGTH: c_int = 109;
pub const PROV_R_INVALID_TAG: c_int = 110;
pub const PROV_R_NO_KEY_SET: c_int = 114;
pub const PROV_R_INVALID_DATA: c_int = 115;
pub const PROV_R_INVALID_TAG_LENGTH: c_int = 118;
pub const PROV_R_TAG_NOT_SET: c_int = 119;
pub const PROV_R_TOO_MANY_RECORDS: c_int = 126;
pub const PROV_R_NOT_SUPPORTED: c_int = 136;
pub const PROV_R_XTS_DUPLICATED_KEYS: c_int = 149;
pub const PROV_R_INVALID_INPUT_LENGTH: c_int = 230;
/// `ERR_R_INTERNAL_ERROR`: 259 with `ERR_RFLAG_FATAL | ERR_RFLAG_COMMON` (`3 << 18`).
pub const ERR_R_INTERNAL_ERROR: c_int = 259 | (3 << 18);

extern "C" {
    pub fn OSSL_PARAM_locate(p: *mut OSSL_PARAM, key: *const c_char) -> *mut OSSL_PARAM;
    pub fn OSSL_PARAM_locate_const(p: *const OSSL_PARAM, key: *const c_char) -> *const OSSL_PARAM;
    pub fn OSSL_PARAM_get_size_t(p: *const OSSL_PARAM, val: *mut usize) -> c_int;
    pub fn OSSL_PARAM_get_uint(p: *const OSSL_PARAM, val: *mut c_uint) -> c_int;
    pub fn OSSL_PARAM_set_size_t(p: *mut OSSL_PARAM, val: usize) -> c_int;
    pub fn OSSL_PARAM_set_uint(p: *mut OSSL_PARAM, val: c_uint) -> c_int;
    pub fn OSSL_PARAM_set_int(p: *mut OSSL_PARAM, val: c_int) -> c_int;
    pub fn OSSL_PARAM_set_octet_string(p: *mut OSSL_PARAM, val: *const c_void, len: usize) -> c_int;
    pub fn OSSL_PARAM_set_octet_ptr(p: *mut OSSL_PARAM, val: *mut c_void, used_len: usize) -> c_int;
    pub fn OSSL_PARAM_set_utf8_string(p: *mut OSSL_PARAM, val: *const c_char) -> c_int;
    pub fn OSSL_PARAM_set_utf8_ptr(p: *mut OSSL_PARAM, val: *const c_char) -> c_int;

    pub fn ERR_new();
    pub fn ERR_set_debug(file: *const c_char, line: c_int, func: *const c_char);
    pub fn ERR_set_error(lib: c_int, reason: c_int, fmt: *const c_char, ...);
}

// libcrypto's EVP cipher API, for contexts handed to the default provider
// (`crate::delegate`). Opaque pointers: EVP_CIPHER and EVP_CIPHER_CTX.
extern "C" {
    pub fn EVP_CIPHER_fetch(libctx: *mut c_void, name: *const c_char, props: *const c_char) -> *mut c_void;
    pub fn EVP_CIPHER_free(cipher: *mut c_void);
    pub fn EVP_CIPHER_CTX_new() -> *mut c_void;
    pub fn EVP_CIPHER_CTX_free(ctx: *mut c_void);
    pub fn EVP_CIPHER_CTX_copy(out: *mut c_void, input: *const c_void) -> c_int;
    pub fn EVP_CipherInit_ex2(
        ctx: *mut c_void,
        cipher: *const c_void,
        key: *const u8,
        iv: *const u8,
        enc: c_int,
        params: *const OSSL_PARAM,
    ) -> c_int;
    pub fn EVP_CipherUpdate(
        ctx: *mut c_void,
        out: *mut u8,
        outl: *mut c_int,
        input: *const u8,
        inl: c_int,
    ) -> c_int;
    pub fn EVP_CipherFinal_ex(ctx: *mut c_void, out: *mut u8, outl: *mut c_int) -> c_int;
    pub fn EVP_Cipher(ctx: *mut c_void, out: *mut u8, input: *const u8, inl: c_uint) -> c_int;
    pub fn EVP_CIPHER_CTX_set_padding(ctx: *mut c_void, pad: c_int) -> c_int;
    pub fn EVP_CIPHER_CTX_get_params(ctx: *mut c_void, params: *mut OSSL_PARAM) -> c_int;
    pub fn EVP_CIPHER_CTX_set_params(ctx: *mut c_void, params: *const OSSL_PARAM) -> c_int;
}
