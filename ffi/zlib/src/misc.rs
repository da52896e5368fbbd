//! `zlibVersion`, `zlibCompileFlags`, `zError` and the checksum functions (zlib-rs's
//! SIMD adler32/crc32, which give zlib's values).
//!
//! All of these are thread-safe and keep no state.

use crate::abi::*;
use libz_rs_sys::{z_off64_t, z_off_t};
use std::ffi::{c_char, c_int, c_uchar, c_uint, c_ulong};

/// `const char *zlibVersion(void)`: `"1.2.13"`, the API this library implements.
#[no_mangle]
pub extern "C" fn zlibVersion() -> *const c_char {
    ZLIB_VERSION.as_ptr()
}

/// `uLong zlibCompileFlags(void)`: the type sizes in zlib's encoding (0xa9 on LP64, as
/// Debian's build) and no optional features.
#[no_mangle]
pub extern "C" fn zlibCompileFlags() -> c_ulong {
    let code = |size: usize| -> c_ulong {
        match size {
            2 => 0,
            4 => 1,
            8 => 2,
            _ => 3,
        }
    };
    code(std::mem::size_of::<c_uint>())
        | code(std::mem::size_of::<c_ulong>()) << 2
        | code(std::mem::size_of::<*const u8>()) << 4
        | code(std::mem::size_of::<z_off_t>()) << 6
}

/// `const char *zError(int err)`: zlib's message for a return code.
#[no_mangle]
pub extern "C" fn zError(err: c_int) -> *const c_char {
    message(err).as_ptr()
}

/// `uLong adler32(uLong adler, const Bytef *buf, uInt len)` (`buf` null: the initial value).
///
/// # Safety
/// `buf` null or readable for `len` bytes.
#[no_mangle]
pub unsafe extern "C" fn adler32(adler: c_ulong, buf: *const c_uchar, len: c_uint) -> c_ulong {
    // SAFETY: forwarded contract.
    boundary(0, || unsafe { libz_rs_sys::adler32(adler, buf, len) })
}

/// `uLong adler32_z(uLong adler, const Bytef *buf, z_size_t len)`.
///
/// # Safety
/// As [`adler32`].
#[no_mangle]
pub unsafe extern "C" fn adler32_z(adler: c_ulong, buf: *const c_uchar, len: usize) -> c_ulong {
    // SAFETY: forwarded contract.
    boundary(0, || unsafe { libz_rs_sys::adler32_z(adler, buf, len) })
}

/// `uLong crc32(uLong crc, const Bytef *buf, uInt len)` (`buf` null: 0).
///
/// # Safety
/// As [`adler32`].
#[no_mangle]
pub unsafe extern "C" fn crc32(crc: c_ulong, buf: *const c_uchar, len: c_uint) -> c_ulong {
    // SAFETY: forwarded contract.
    boundary(0, || unsafe { libz_rs_sys::crc32(crc, buf, len) })
}

/// `uLong crc32_z(uLong crc, const Bytef *buf, z_size_t len)`.
///
/// # Safety
/// As [`adler32`].
#[no_mangle]
pub unsafe extern "C" fn crc32_z(crc: c_ulong, buf: *const c_uchar, len: usize) -> c_ulong {
    // SAFETY: forwarded contract.
    boundary(0, || unsafe { libz_rs_sys::crc32_z(crc, buf, len) })
}

/// `uLong adler32_combine(uLong adler1, uLong adler2, z_off_t len2)`.
#[no_mangle]
pub extern "C" fn adler32_combine(a1: c_ulong, a2: c_ulong, len2: z_off_t) -> c_ulong {
    boundary(0, || libz_rs_sys::adler32_combine(a1, a2, len2))
}

/// `uLong adler32_combine64(uLong adler1, uLong adler2, z_off64_t len2)`.
#[no_mangle]
pub extern "C" fn adler32_combine64(a1: c_ulong, a2: c_ulong, len2: z_off64_t) -> c_ulong {
    boundary(0, || libz_rs_sys::adler32_combine64(a1, a2, len2))
}

/// `uLong crc32_combine(uLong crc1, uLong crc2, z_off_t len2)`.
#[no_mangle]
pub extern "C" fn crc32_combine(c1: c_ulong, c2: c_ulong, len2: z_off_t) -> c_ulong {
    boundary(0, || libz_rs_sys::crc32_combine(c1, c2, len2))
}

/// `uLong crc32_combine64(uLong crc1, uLong crc2, z_off64_t len2)`.
#[no_mangle]
pub extern "C" fn crc32_combine64(c1: c_ulong, c2: c_ulong, len2: z_off64_t) -> c_ulong {
    boundary(0, || libz_rs_sys::crc32_combine64(c1, c2, len2))
}

/// `uLong crc32_combine_gen(z_off_t len2)`.
#[no_mangle]
pub extern "C" fn crc32_combine_gen(len2: z_off_t) -> c_ulong {
    boundary(0, || libz_rs_sys::crc32_combine_gen(len2))
}

/// `uLong crc32_combine_gen64(z_off64_t len2)`.
#[no_mangle]
pub extern "C" fn crc32_combine_gen64(len2: z_off64_t) -> c_ulong {
    boundary(0, || libz_rs_sys::crc32_combine_gen64(len2))
}

/// `uLong crc32_combine_op(uLong crc1, uLong crc2, uLong op)`.
#[no_mangle]
pub extern "C" fn crc32_combine_op(c1: c_ulong, c2: c_ulong, op: c_ulong) -> c_ulong {
    boundary(0, || libz_rs_sys::crc32_combine_op(c1, c2, op))
}

/// `const z_crc_t *get_crc_table(void)`: the 256-entry CRC-32 table.
#[no_mangle]
pub extern "C" fn get_crc_table() -> *const u32 {
    libz_rs_sys::get_crc_table().cast()
}

// zlib version nodes of the functions above (see `crate::symbols`).
symver!(zlibCompileFlags);
symver!(adler32_z);
symver!(crc32_z);
symver!(adler32_combine);
symver!(adler32_combine64);
symver!(crc32_combine);
symver!(crc32_combine64);
symver!(crc32_combine_gen);
symver!(crc32_combine_gen64);
symver!(crc32_combine_op);
