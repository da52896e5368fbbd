//! Memory handed to C callers that they release with `free()` (device lists, devices,
//! names, node masks): allocated with the C allocator.

use libc::c_char;

/// A zeroed `T` from `calloc`, or NULL.
pub(crate) fn calloc<T>() -> *mut T {
    // SAFETY: calloc has no preconditions; a NULL result is passed on to the caller.
    unsafe { libc::calloc(1, std::mem::size_of::<T>()) as *mut T }
}

/// A `malloc`'d NUL-terminated copy of `s` (interior NULs cut it short), or NULL.
pub(crate) fn strdup(s: &str) -> *mut c_char {
    let bytes = s.as_bytes();
    let n = bytes.iter().position(|b| *b == 0).unwrap_or(bytes.len());
    let p = calloc_bytes(n + 1) as *mut u8;
    if !p.is_null() {
        // SAFETY: `p` has n + 1 zeroed bytes; n bytes are copied, the last stays NUL.
        unsafe { std::ptr::copy_nonoverlapping(bytes.as_ptr(), p, n) };
    }
    p as *mut c_char
}

/// `n` zeroed bytes from `calloc`, or NULL.
pub(crate) fn calloc_bytes(n: usize) -> *mut libc::c_void {
    // SAFETY: calloc has no preconditions.
    unsafe { libc::calloc(1, n.max(1)) }
}
