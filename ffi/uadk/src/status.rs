//! Status codes: the integer every entry point returns, their fixed values, and
//! `uadk_strerror`.
//!
//! The values are part of the ABI. They never change meaning and are never reused: a code
//! that is retired stays listed in [`RETIRED`] and `uadk_strerror` keeps naming it.
//! `0` is success; every error is a positive number, grouped by hundreds:
//! 1..99 usage errors, 100s data errors, 200s crypto, 300s pool, 400s device, 500s system,
//! 900s internal.

use std::ffi::c_char;

/// The result of every libuadk call: `UADK_OK` (0) or one of the `UADK_E_*` codes.
/// `uadk_strerror` names a code; `uadk_last_error_message` gives the details of the last
/// failure on the calling thread.
pub type uadk_status = i32;

/// Success.
pub const UADK_OK: uadk_status = 0;
/// A required pointer argument is NULL (or a buffer pointer is NULL with a nonzero length).
pub const UADK_E_NULL_POINTER: uadk_status = 1;
/// An argument has a value outside its domain (an unknown enum value, a level out of range,
/// overlapping input and output buffers, ...).
pub const UADK_E_INVALID_ARGUMENT: uadk_status = 2;
/// A length is wrong for the operation (key, IV, nonce, tag or data length; a buffer that
/// must match another's length).
pub const UADK_E_BAD_LENGTH: uadk_status = 3;
/// The handle is zero, was destroyed already (stale, double destroy), was never issued
/// (forged), or is a handle of another type.
pub const UADK_E_INVALID_HANDLE: uadk_status = 4;
/// The call is not allowed in the handle's current state (wrong call order: a stream used
/// after it finished, a pool destroyed while chunks are out, waiting on an empty batch).
pub const UADK_E_BAD_STATE: uadk_status = 5;
/// The handle is being used by another thread right now; handles documented as "one thread
/// at a time" detect concurrent use instead of racing.
pub const UADK_E_BUSY: uadk_status = 6;
/// The handle belongs to the parent process: it was created before `fork()` and owns
/// threads or pinned memory that do not exist in this child. Create a new one in the child.
pub const UADK_E_FORKED: uadk_status = 7;
/// The output buffer is too small; the `*_len` out-parameter holds the size needed when it
/// is knowable, and nothing useful was written.
pub const UADK_E_OUTPUT_TOO_SMALL: uadk_status = 8;
/// The algorithm, format, flush mode or feature is not supported.
pub const UADK_E_UNSUPPORTED: uadk_status = 9;
/// Nothing is ready yet (a batch poll with no finished job); not a failure, try again later.
pub const UADK_E_AGAIN: uadk_status = 10;

/// The compressed input is corrupt (not a valid stream of the expected format).
pub const UADK_E_DATA_CORRUPT: uadk_status = 100;
/// The compressed input ended before the end of the stream (or was empty).
pub const UADK_E_DATA_TRUNCATED: uadk_status = 101;
/// Bytes follow the end of the compressed stream.
pub const UADK_E_TRAILING_DATA: uadk_status = 102;
/// A checksum in the stream (adler32, crc32, gzip ISIZE or header CRC) does not match.
pub const UADK_E_CHECKSUM: uadk_status = 103;
/// Decompression would produce more than the session's `max_output` (bomb guard).
pub const UADK_E_OUTPUT_LIMIT: uadk_status = 104;
/// A device failed in the middle of a stream that cannot be resumed in software; restart
/// the stream from its beginning.
pub const UADK_E_STREAM_LOST: uadk_status = 105;

/// AEAD authentication failed: the tag does not verify. No plaintext was released (the
/// output buffer is zeroed).
pub const UADK_E_AUTH_FAILED: uadk_status = 200;

/// The pool has no free chunk (after waiting, if a timeout was given).
pub const UADK_E_POOL_EXHAUSTED: uadk_status = 300;
/// The machine cannot provide the pool memory asked for (hugepages, THP, NUMA node,
/// pre-faulting, or the required pin level); the message says what to change.
pub const UADK_E_POOL_UNAVAILABLE: uadk_status = 301;
/// The pointer is not the start of a chunk currently allocated from this pool (double
/// free, a pointer from elsewhere, or a pointer into the middle of a chunk).
pub const UADK_E_NOT_ALLOCATED: uadk_status = 302;

/// The backend is `UADK_BACKEND_DEVICE` but no device offers the algorithm.
pub const UADK_E_NO_DEVICE: uadk_status = 400;
/// A device request failed and software fallback is off (or impossible).
pub const UADK_E_DEVICE: uadk_status = 401;

/// A system call failed (the message carries the OS error).
pub const UADK_E_IO: uadk_status = 500;

/// An internal failure of a library underneath (a bug: please report it with the input).
pub const UADK_E_INTERNAL: uadk_status = 900;
/// A Rust panic was caught at the C boundary (a bug). The handle involved, if any, is
/// poisoned: later calls on it return `UADK_E_BAD_STATE`.
pub const UADK_E_PANIC: uadk_status = 901;

/// Every code in use: value, name, and the NUL-terminated text `uadk_strerror` returns.
pub(crate) const CODES: &[(uadk_status, &str, &str)] = &[
    (UADK_OK, "UADK_OK", "success\0"),
    (
        UADK_E_NULL_POINTER,
        "UADK_E_NULL_POINTER",
        "a required pointer argument is NULL\0",
    ),
    (
        UADK_E_INVALID_ARGUMENT,
        "UADK_E_INVALID_ARGUMENT",
        "an argument has an invalid value\0",
    ),
    (
        UADK_E_BAD_LENGTH,
        "UADK_E_BAD_LENGTH",
        "a length is wrong for the operation\0",
    ),
    (
        UADK_E_INVALID_HANDLE,
        "UADK_E_INVALID_HANDLE",
        "the handle is zero, destroyed, forged or of another type\0",
    ),
    (
        UADK_E_BAD_STATE,
        "UADK_E_BAD_STATE",
        "the call is not allowed in the handle's current state\0",
    ),
    (
        UADK_E_BUSY,
        "UADK_E_BUSY",
        "the handle is in use by another thread\0",
    ),
    (
        UADK_E_FORKED,
        "UADK_E_FORKED",
        "the handle belongs to the parent process (created before fork)\0",
    ),
    (
        UADK_E_OUTPUT_TOO_SMALL,
        "UADK_E_OUTPUT_TOO_SMALL",
        "the output buffer is too small\0",
    ),
    (UADK_E_UNSUPPORTED, "UADK_E_UNSUPPORTED", "not supported\0"),
    (UADK_E_AGAIN, "UADK_E_AGAIN", "nothing is ready yet; try again\0"),
    (
        UADK_E_DATA_CORRUPT,
        "UADK_E_DATA_CORRUPT",
        "the compressed data is corrupt\0",
    ),
    (
        UADK_E_DATA_TRUNCATED,
        "UADK_E_DATA_TRUNCATED",
        "the compressed data is truncated\0",
    ),
    (
        UADK_E_TRAILING_DATA,
        "UADK_E_TRAILING_DATA",
        "data follows the end of the stream\0",
    ),
    (UADK_E_CHECKSUM, "UADK_E_CHECKSUM", "a checksum does not match\0"),
    (
        UADK_E_OUTPUT_LIMIT,
        "UADK_E_OUTPUT_LIMIT",
        "the output exceeds the configured limit\0",
    ),
    (
        UADK_E_STREAM_LOST,
        "UADK_E_STREAM_LOST",
        "a device failed mid-stream; restart the stream\0",
    ),
    (
        UADK_E_AUTH_FAILED,
        "UADK_E_AUTH_FAILED",
        "authentication failed; no plaintext was released\0",
    ),
    (
        UADK_E_POOL_EXHAUSTED,
        "UADK_E_POOL_EXHAUSTED",
        "the pool has no free chunk\0",
    ),
    (
        UADK_E_POOL_UNAVAILABLE,
        "UADK_E_POOL_UNAVAILABLE",
        "the machine cannot provide the pool memory asked for\0",
    ),
    (
        UADK_E_NOT_ALLOCATED,
        "UADK_E_NOT_ALLOCATED",
        "the pointer is not an allocated chunk of this pool\0",
    ),
    (
        UADK_E_NO_DEVICE,
        "UADK_E_NO_DEVICE",
        "no device offers the algorithm\0",
    ),
    (UADK_E_DEVICE, "UADK_E_DEVICE", "a device request failed\0"),
    (UADK_E_IO, "UADK_E_IO", "a system call failed\0"),
    (
        UADK_E_INTERNAL,
        "UADK_E_INTERNAL",
        "internal library failure (a bug)\0",
    ),
    (
        UADK_E_PANIC,
        "UADK_E_PANIC",
        "internal panic caught at the C boundary (a bug)\0",
    ),
];

/// Codes that were retired: never returned again, never reused (none yet).
#[cfg_attr(not(test), allow(dead_code))]
pub(crate) const RETIRED: &[(uadk_status, &str)] = &[];

/// A short, static, NUL-terminated description of `code`; never NULL. Unknown codes give
/// "unknown libuadk status code".
///
/// Thread-safe; the string is owned by the library and lives for the whole process.
#[no_mangle]
pub extern "C" fn uadk_strerror(code: uadk_status) -> *const c_char {
    const UNKNOWN: &str = "unknown libuadk status code\0";
    let text: &'static str = crate::boundary::call_infallible("uadk_strerror", UNKNOWN, || {
        CODES
            .iter()
            .find(|(c, _, _)| *c == code)
            .map_or(UNKNOWN, |(_, _, t)| t)
    });
    text.as_ptr().cast()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;
    use std::ffi::CStr;

    #[test]
    fn codes_are_unique_and_described_the_same_way_twice() {
        let mut seen = HashSet::new();
        for (code, name, text) in CODES {
            assert!(seen.insert(*code), "{name} reuses {code}");
            // SAFETY: uadk_strerror returns a static NUL-terminated string.
            let c = unsafe { CStr::from_ptr(uadk_strerror(*code)) };
            assert_eq!(c.to_bytes_with_nul(), text.as_bytes(), "{name}");
            assert_eq!(text.matches('\0').count(), 1, "{name}");
        }
        for (code, name) in RETIRED {
            assert!(seen.insert(*code), "retired {name} collides");
        }
        // SAFETY: as above.
        let unknown = unsafe { CStr::from_ptr(uadk_strerror(12345)) };
        assert_eq!(unknown.to_str().unwrap(), "unknown libuadk status code");
    }
}
