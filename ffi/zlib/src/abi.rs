//! zlib.h's types, constants and message strings, and the panic boundary every exported
//! function goes through.
//!
//! The `z_stream` and `gz_header` layouts are zlib-rs's `#[repr(C)]` copies of zlib.h's
//! (checked against the C compiler's `sizeof`/`offsetof` in `tests/c_programs.rs`).

use std::ffi::{c_char, c_int, CStr};
use std::panic::{catch_unwind, AssertUnwindSafe};

pub use libz_rs_sys::{gz_header, z_stream};

/// The version this library implements (and reports from `zlibVersion`).
pub const ZLIB_VERSION: &CStr = c"1.2.13";

pub const Z_NO_FLUSH: c_int = 0;
pub const Z_PARTIAL_FLUSH: c_int = 1;
pub const Z_SYNC_FLUSH: c_int = 2;
pub const Z_FULL_FLUSH: c_int = 3;
pub const Z_FINISH: c_int = 4;
pub const Z_BLOCK: c_int = 5;
pub const Z_TREES: c_int = 6;

pub const Z_OK: c_int = 0;
pub const Z_STREAM_END: c_int = 1;
pub const Z_NEED_DICT: c_int = 2;
pub const Z_ERRNO: c_int = -1;
pub const Z_STREAM_ERROR: c_int = -2;
pub const Z_DATA_ERROR: c_int = -3;
pub const Z_MEM_ERROR: c_int = -4;
pub const Z_BUF_ERROR: c_int = -5;
pub const Z_VERSION_ERROR: c_int = -6;

pub const Z_DEFAULT_COMPRESSION: c_int = -1;
pub const Z_FILTERED: c_int = 1;
pub const Z_HUFFMAN_ONLY: c_int = 2;
pub const Z_FIXED: c_int = 4;
pub const Z_DEFAULT_STRATEGY: c_int = 0;
pub const Z_BINARY: c_int = 0;
pub const Z_TEXT: c_int = 1;
pub const Z_UNKNOWN: c_int = 2;
pub const Z_DEFLATED: c_int = 8;
pub const MAX_MEM_LEVEL: c_int = 9;

/// zlib's `z_errmsg` table, indexed by `Z_NEED_DICT - code` (zutil.c).
const MESSAGES: [&CStr; 10] = [
    c"need dictionary",
    c"stream end",
    c"",
    c"file error",
    c"stream error",
    c"data error",
    c"insufficient memory",
    c"buffer error",
    c"incompatible version",
    c"",
];

/// zlib's message for a return code (`zError`); the empty string for unknown codes.
pub fn message(code: c_int) -> &'static CStr {
    let i = (Z_NEED_DICT as i64) - i64::from(code);
    usize::try_from(i)
        .ok()
        .and_then(|i| MESSAGES.get(i).copied())
        .unwrap_or(c"")
}

/// A static message as the `char *` that `z_stream.msg` holds (zlib's msg pointers point to
/// static strings the caller must not free or write).
pub fn msg_ptr(s: &'static CStr) -> *mut c_char {
    s.as_ptr().cast_mut()
}

/// Runs an entry point's body; a panic becomes `on_panic` (zlib's error code for the entry
/// point), never an unwind into C. The panic message still goes to stderr (Rust's hook).
pub fn boundary<R>(on_panic: R, body: impl FnOnce() -> R) -> R {
    catch_unwind(AssertUnwindSafe(body)).unwrap_or(on_panic)
}

/// zlib's `*Init_` version check: the caller's `ZLIB_VERSION` must start with the same
/// major digit and its `sizeof(z_stream)` must be ours.
///
/// # Safety
/// `version` is null or a NUL-terminated string.
pub unsafe fn version_ok(version: *const c_char, stream_size: c_int) -> bool {
    if version.is_null() {
        return false;
    }
    // SAFETY: non-null and NUL-terminated (caller's contract); only the first byte is read.
    let first = unsafe { *version } as u8;
    first == ZLIB_VERSION.to_bytes()[0] && usize::try_from(stream_size) == Ok(std::mem::size_of::<z_stream>())
}

/// The allocator zlib installs when `zalloc` is null (`zcalloc`): our streams never call
/// it (engine memory comes from malloc, outside the caller's allocator), but programs may.
///
/// # Safety
/// None beyond C's: any counts are accepted; free the result with [`default_zfree`].
pub unsafe extern "C" fn default_zalloc(
    _opaque: *mut std::ffi::c_void,
    items: std::ffi::c_uint,
    size: std::ffi::c_uint,
) -> *mut std::ffi::c_void {
    // SAFETY: calloc accepts any counts and returns null on overflow or exhaustion.
    unsafe { libc::calloc(items as usize, size as usize) }
}

/// The matching `zcfree`.
///
/// # Safety
/// `ptr` is null or came from [`default_zalloc`] and is freed once.
pub unsafe extern "C" fn default_zfree(_opaque: *mut std::ffi::c_void, ptr: *mut std::ffi::c_void) {
    // SAFETY: `ptr` came from `default_zalloc` (calloc) or is null.
    unsafe { libc::free(ptr) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_follow_zlibs_table() {
        assert_eq!(message(Z_NEED_DICT), c"need dictionary");
        assert_eq!(message(Z_OK), c"");
        assert_eq!(message(Z_BUF_ERROR), c"buffer error");
        assert_eq!(message(Z_VERSION_ERROR), c"incompatible version");
        assert_eq!(message(42), c"");
        assert_eq!(message(-100), c"");
    }

    #[test]
    fn a_panic_becomes_the_error_code() {
        let prev = std::panic::take_hook();
        std::panic::set_hook(Box::new(|_| {}));
        let r = boundary(Z_STREAM_ERROR, || -> c_int { panic!("boom") });
        std::panic::set_hook(prev);
        assert_eq!(r, Z_STREAM_ERROR);
    }

    #[test]
    fn version_check_needs_the_major_digit_and_the_struct_size() {
        let size = std::mem::size_of::<z_stream>() as c_int;
        // SAFETY: literal NUL-terminated strings or null.
        unsafe {
            assert!(version_ok(c"1.2.11".as_ptr(), size));
            assert!(version_ok(c"1.3.1".as_ptr(), size));
            assert!(!version_ok(c"2.0".as_ptr(), size));
            assert!(!version_ok(std::ptr::null(), size));
            assert!(!version_ok(c"1.2.13".as_ptr(), size - 8));
        }
    }
}
