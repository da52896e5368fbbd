//! The C boundary: the panic guard every entry point runs in, the thread's last error, the
//! mapping of Rust errors to status codes, and every conversion of a C pointer into a Rust
//! reference or slice. All of the crate's pointer `unsafe` lives here.

use crate::status::*;
use std::borrow::Cow;
use std::cell::RefCell;
use std::ffi::{c_char, CStr};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

/// Why a call failed: its status code and a message that says what to do.
#[derive(Debug)]
pub(crate) struct Failure {
    pub(crate) code: uadk_status,
    pub(crate) message: Cow<'static, str>,
}

/// What the body of an entry point returns.
pub(crate) type Outcome<T = ()> = Result<T, Failure>;

impl Failure {
    pub(crate) fn new(code: uadk_status, message: impl Into<Cow<'static, str>>) -> Failure {
        Failure {
            code,
            message: message.into(),
        }
    }

    pub(crate) fn null(what: &'static str) -> Failure {
        Failure::new(
            UADK_E_NULL_POINTER,
            format!("`{what}` is NULL; pass a valid pointer"),
        )
    }

    pub(crate) fn invalid(message: impl Into<Cow<'static, str>>) -> Failure {
        Failure::new(UADK_E_INVALID_ARGUMENT, message)
    }
}

impl From<uadk_zip::Error> for Failure {
    fn from(e: uadk_zip::Error) -> Failure {
        use uadk_zip::Error as E;
        let code = match &e {
            E::OutputTooSmall { .. } => UADK_E_OUTPUT_TOO_SMALL,
            E::InvalidLevel(_) | E::InvalidHeader(_) | E::InvalidArgument(_) => UADK_E_INVALID_ARGUMENT,
            E::Corrupt { .. } => UADK_E_DATA_CORRUPT,
            E::Truncated { .. } | E::EmptyInput { .. } => UADK_E_DATA_TRUNCATED,
            E::TrailingData { .. } => UADK_E_TRAILING_DATA,
            E::Checksum { .. } => UADK_E_CHECKSUM,
            E::OutputLimit { .. } => UADK_E_OUTPUT_LIMIT,
            E::NoDevice { .. } => UADK_E_NO_DEVICE,
            E::StreamLost(_) => UADK_E_STREAM_LOST,
            E::Device(_) => UADK_E_DEVICE,
            E::Finished => UADK_E_BAD_STATE,
            E::Io(_) => UADK_E_IO,
            _ => UADK_E_INTERNAL,
        };
        Failure::new(code, e.to_string())
    }
}

impl From<::uadk_crypto::Error> for Failure {
    fn from(e: ::uadk_crypto::Error) -> Failure {
        use ::uadk_crypto::Error as E;
        let code = match &e {
            E::UnknownAlgorithm { .. } | E::WrongKind { .. } => UADK_E_UNSUPPORTED,
            E::KeyLength { .. }
            | E::IvLength { .. }
            | E::NonceLength { .. }
            | E::TagLength { .. }
            | E::DataLength { .. }
            | E::OutputLength { .. } => UADK_E_BAD_LENGTH,
            E::XtsEqualKeyHalves { .. } | E::CounterOverflow { .. } | E::Hex { .. } => {
                UADK_E_INVALID_ARGUMENT
            }
            E::AuthenticationFailed { .. } => UADK_E_AUTH_FAILED,
            E::NoDevice { .. } => UADK_E_NO_DEVICE,
            E::Device { .. } => UADK_E_DEVICE,
            E::StreamLost { .. } => UADK_E_STREAM_LOST,
            E::Finished { .. } | E::QueueClosed => UADK_E_BAD_STATE,
            _ => UADK_E_INTERNAL,
        };
        Failure::new(code, e.to_string())
    }
}

impl From<::uadk_pool::PoolError> for Failure {
    fn from(e: ::uadk_pool::PoolError) -> Failure {
        use ::uadk_pool::PoolError as E;
        let code = match &e {
            E::InvalidConfig(_) => UADK_E_INVALID_ARGUMENT,
            E::Sys { .. } => UADK_E_IO,
            E::Timeout(_) => UADK_E_POOL_EXHAUSTED,
            _ => UADK_E_POOL_UNAVAILABLE,
        };
        Failure::new(code, e.to_string())
    }
}

thread_local! {
    /// The last failure on this thread: code and "function: message".
    static LAST: RefCell<(uadk_status, String)> = const { RefCell::new((UADK_OK, String::new())) };
}

/// Failures returned (all threads), for `uadk_get_counters`.
pub(crate) static FAILURES: AtomicU64 = AtomicU64::new(0);
/// Panics caught at the boundary (all threads).
pub(crate) static PANICS: AtomicU64 = AtomicU64::new(0);
/// Calls that named a zero, stale, forged or wrong-type handle.
pub(crate) static BAD_HANDLES: AtomicU64 = AtomicU64::new(0);

fn record(function: &'static str, f: &Failure) {
    FAILURES.fetch_add(1, Relaxed);
    if f.code == UADK_E_INVALID_HANDLE {
        BAD_HANDLES.fetch_add(1, Relaxed);
    }
    // `try_with`: during thread teardown the slot may be gone; the code still returns.
    let _ = LAST.try_with(|l| {
        if let Ok(mut l) = l.try_borrow_mut() {
            l.0 = f.code;
            l.1.clear();
            l.1.push_str(function);
            l.1.push_str(": ");
            l.1.push_str(&f.message);
        }
    });
}

fn panic_text(payload: &(dyn std::any::Any + Send)) -> &str {
    payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("(no message)")
}

/// Runs the body of entry point `function`: a panic becomes `UADK_E_PANIC`, a failure its
/// code; both are recorded as the thread's last error.
pub(crate) fn call(function: &'static str, body: impl FnOnce() -> Outcome) -> uadk_status {
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(())) => UADK_OK,
        Ok(Err(f)) => {
            record(function, &f);
            f.code
        }
        Err(payload) => {
            PANICS.fetch_add(1, Relaxed);
            let f = Failure::new(
                UADK_E_PANIC,
                format!(
                    "internal error (panic: {}); this is a bug in libuadk, please report it with the call that caused it",
                    panic_text(&*payload)
                ),
            );
            record(function, &f);
            f.code
        }
    }
}

/// Runs a body that cannot fail but must not unwind into C; a panic gives `fallback`.
pub(crate) fn call_infallible<T>(function: &'static str, fallback: T, body: impl FnOnce() -> T) -> T {
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(v) => v,
        Err(payload) => {
            PANICS.fetch_add(1, Relaxed);
            let f = Failure::new(
                UADK_E_PANIC,
                format!("internal error (panic: {})", panic_text(&*payload)),
            );
            record(function, &f);
            fallback
        }
    }
}

/// The code of the last failure on this thread (`UADK_OK` when none).
pub(crate) fn last_code() -> uadk_status {
    LAST.try_with(|l| l.try_borrow().map_or(UADK_OK, |l| l.0))
        .unwrap_or(UADK_OK)
}

/// Runs `f` on the last message of this thread.
pub(crate) fn with_last_message<R>(f: impl FnOnce(&str) -> R) -> R {
    let mut f = Some(f);
    let r = LAST.try_with(|l| match l.try_borrow() {
        Ok(l) => (f.take().expect("called once"))(&l.1),
        Err(_) => (f.take().expect("called once"))(""),
    });
    match r {
        Ok(v) => v,
        Err(_) => (f.take().expect("not called yet"))(""),
    }
}

// ---- C pointers → Rust references. Everything below is the crate's pointer `unsafe`. ----

fn too_long(what: &'static str, len: usize) -> Failure {
    Failure::new(
        UADK_E_BAD_LENGTH,
        format!("`{what}` length {len} is larger than any object can be"),
    )
}

/// The `len` bytes at `ptr` as a slice; `ptr` may be NULL only when `len` is 0.
///
/// # Safety
/// When `len > 0` and `ptr` is not NULL, `ptr` must point to `len` readable bytes that stay
/// valid and are not written by anyone else for `'a` (the duration of the call).
pub(crate) unsafe fn in_bytes<'a>(ptr: *const u8, len: usize, what: &'static str) -> Outcome<&'a [u8]> {
    if len == 0 {
        return Ok(&[]);
    }
    if ptr.is_null() {
        return Err(Failure::null(what));
    }
    if len > isize::MAX as usize {
        return Err(too_long(what, len));
    }
    // SAFETY: non-NULL, at most isize::MAX bytes, and the caller guarantees `len` readable
    // bytes that nobody writes during the call. u8 has no alignment or validity invariant.
    Ok(unsafe { std::slice::from_raw_parts(ptr, len) })
}

/// The `len` bytes at `ptr` as a writable slice; `ptr` may be NULL only when `len` is 0.
///
/// # Safety
/// When `len > 0` and `ptr` is not NULL, `ptr` must point to `len` writable bytes that no
/// one else accesses for `'a`, and that no other slice made for the same call overlaps
/// (the entry points check overlap with [`disjoint`] first).
pub(crate) unsafe fn out_bytes<'a>(ptr: *mut u8, len: usize, what: &'static str) -> Outcome<&'a mut [u8]> {
    if len == 0 {
        return Ok(&mut []);
    }
    if ptr.is_null() {
        return Err(Failure::null(what));
    }
    if len > isize::MAX as usize {
        return Err(too_long(what, len));
    }
    // SAFETY: non-NULL, bounded, exclusively the caller's for the call (contract above).
    Ok(unsafe { std::slice::from_raw_parts_mut(ptr, len) })
}

/// Fails unless the byte ranges `[a, a+alen)` and `[b, b+blen)` are disjoint (empty ranges
/// overlap nothing); a length no object can have is `UADK_E_BAD_LENGTH`. Pure address
/// arithmetic: nothing is dereferenced.
pub(crate) fn disjoint(a: *const u8, alen: usize, b: *const u8, blen: usize, what: &'static str) -> Outcome {
    for len in [alen, blen] {
        if len > isize::MAX as usize {
            return Err(too_long("buffer", len));
        }
    }
    if alen == 0 || blen == 0 {
        return Ok(());
    }
    let (a, b) = (a as usize, b as usize);
    let overlap = a < b.saturating_add(blen) && b < a.saturating_add(alen);
    if overlap {
        return Err(Failure::invalid(format!(
            "{what} overlap; use separate buffers (or exactly the same buffer where the call allows in-place work)"
        )));
    }
    Ok(())
}

/// Fails unless `dst` (`n` bytes) overlaps none of `inputs` (pointer, length, and the
/// message for an overlap, such as "`iv` and `dst`").
pub(crate) fn apart(dst: *const u8, n: usize, inputs: &[(*const u8, usize, &'static str)]) -> Outcome {
    for (p, len, what) in inputs {
        disjoint(*p, *len, dst, n, what)?;
    }
    Ok(())
}

/// Checks and converts a separate input and output buffer (`src` readable for `src_len`
/// bytes, `dst` writable for `dst_cap`); any overlap is an error.
///
/// # Safety
/// `src` readable for `src_len` bytes, `dst` writable for `dst_cap` bytes (NULL only with
/// length 0), neither accessed by anyone else for `'a`.
pub(crate) unsafe fn src_dst<'a>(
    src: *const u8,
    src_len: usize,
    dst: *mut u8,
    dst_cap: usize,
) -> Outcome<(&'a [u8], &'a mut [u8])> {
    disjoint(src, src_len, dst, dst_cap, "`src` and `dst`")?;
    // SAFETY: forwarded contracts; the buffers do not overlap (checked above).
    unsafe { Ok((in_bytes(src, src_len, "src")?, out_bytes(dst, dst_cap, "dst")?)) }
}

/// Where a one-shot or stream update reads and writes.
pub(crate) enum Io<'a> {
    InPlace(&'a mut [u8]),
    Out(&'a [u8], &'a mut [u8]),
}

/// Checks and converts `src`/`dst` for a length-preserving operation: `src == dst` is in
/// place, any other overlap is an error; `dst_cap` must be at least `src_len` (only
/// `src_len` bytes are written). `dst` must also be [`apart`] from `others` (the call's
/// other inputs).
///
/// # Safety
/// `src` readable for `src_len` bytes, `dst` writable for `dst_cap` bytes (NULL only with
/// length 0).
pub(crate) unsafe fn io<'a>(
    src: *const u8,
    src_len: usize,
    dst: *mut u8,
    dst_cap: usize,
    others: &[(*const u8, usize, &'static str)],
) -> Outcome<Io<'a>> {
    if dst_cap < src_len {
        return Err(Failure::new(
            UADK_E_OUTPUT_TOO_SMALL,
            format!("dst holds {dst_cap} bytes but the output is {src_len} bytes (the input length)"),
        ));
    }
    apart(dst, src_len, others)?;
    if src_len > 0 && std::ptr::eq(src, dst) {
        // SAFETY: forwarded contract; one exclusive slice over the shared buffer.
        return Ok(Io::InPlace(unsafe { out_bytes(dst, src_len, "dst") }?));
    }
    disjoint(
        src,
        src_len,
        dst,
        src_len,
        "`src` and `dst` (other than exactly equal, for in-place work)",
    )?;
    // SAFETY: forwarded contracts; the buffers do not overlap (checked above).
    unsafe {
        Ok(Io::Out(
            in_bytes(src, src_len, "src")?,
            out_bytes(dst, src_len, "dst")?,
        ))
    }
}

/// A shared reference to the C struct at `ptr`.
///
/// # Safety
/// When not NULL, `ptr` must point to a readable `T` for `'a`. `T` must be a `#[repr(C)]`
/// type for which every bit pattern is valid (integers and handle ids only).
pub(crate) unsafe fn in_ref<'a, T>(ptr: *const T, what: &'static str) -> Outcome<&'a T> {
    if ptr.is_null() {
        return Err(Failure::null(what));
    }
    if !ptr.is_aligned() {
        return Err(Failure::invalid(format!("`{what}` is not suitably aligned")));
    }
    // SAFETY: non-NULL and aligned; readable for the call and valid for any bit pattern by
    // the caller's contract.
    Ok(unsafe { &*ptr })
}

/// A place to write one `T` (an out-parameter).
///
/// # Safety
/// When not NULL, `ptr` must point to writable, aligned memory for one `T`, not accessed
/// by anyone else during the call.
pub(crate) unsafe fn out_ptr<T>(ptr: *mut T, what: &'static str) -> Outcome<OutPtr<T>> {
    if ptr.is_null() {
        return Err(Failure::null(what));
    }
    if !ptr.is_aligned() {
        return Err(Failure::invalid(format!("`{what}` is not suitably aligned")));
    }
    Ok(OutPtr(ptr))
}

/// An optional out-parameter: `None` when `ptr` is NULL.
///
/// # Safety
/// As [`out_ptr`] when not NULL.
pub(crate) unsafe fn opt_out_ptr<T>(ptr: *mut T, what: &'static str) -> Outcome<Option<OutPtr<T>>> {
    if ptr.is_null() {
        return Ok(None);
    }
    // SAFETY: forwarded contract.
    unsafe { out_ptr(ptr, what) }.map(Some)
}

/// A checked, writable out-parameter.
pub(crate) struct OutPtr<T>(*mut T);

impl<T> OutPtr<T> {
    /// Writes `v` (without reading or dropping the old contents, which may be uninitialised).
    pub(crate) fn write(&self, v: T) {
        // SAFETY: checked non-NULL and aligned in `out_ptr`; writable for the call by the
        // caller's contract. `write` neither reads nor drops the previous value.
        unsafe { self.0.write(v) }
    }
}

/// Most bytes of a C string argument (algorithm names are far shorter).
const MAX_NAME: usize = 256;

/// A NUL-terminated C string argument, as UTF-8.
///
/// # Safety
/// When not NULL, `ptr` must point to a NUL-terminated string readable for `'a`.
pub(crate) unsafe fn in_str<'a>(ptr: *const c_char, what: &'static str) -> Outcome<&'a str> {
    if ptr.is_null() {
        return Err(Failure::null(what));
    }
    // SAFETY: non-NULL and NUL-terminated by the caller's contract.
    let c = unsafe { CStr::from_ptr(ptr) };
    let b = c.to_bytes();
    if b.len() > MAX_NAME {
        return Err(Failure::invalid(format!(
            "`{what}` is longer than {MAX_NAME} bytes"
        )));
    }
    std::str::from_utf8(b).map_err(|_| Failure::invalid(format!("`{what}` is not UTF-8 text")))
}

/// Copies `s` into the caller's buffer `buf` of `cap` bytes, NUL-terminated, truncating at
/// `cap - 1` bytes; `*len` (if not NULL) receives `s.len()` (the full length, excluding the
/// NUL). `buf` may be NULL when `cap` is 0 (a size query). Returns `UADK_E_OUTPUT_TOO_SMALL`
/// when `s` was truncated (the truncated text is still written).
///
/// # Safety
/// When `cap > 0`, `buf` must be writable for `cap` bytes; `len`, when not NULL, must be
/// writable.
pub(crate) unsafe fn copy_out_str(s: &str, buf: *mut c_char, cap: usize, len: *mut usize) -> Outcome {
    // SAFETY: forwarded contracts.
    let len = unsafe { opt_out_ptr(len, "len") }?;
    // SAFETY: forwarded contract.
    let out = unsafe { out_bytes(buf.cast::<u8>(), cap, "buf") }?;
    if let Some(l) = len {
        l.write(s.len());
    }
    if out.is_empty() {
        return if s.is_empty() {
            Ok(())
        } else {
            Err(Failure::new(
                UADK_E_OUTPUT_TOO_SMALL,
                format!("a {}-byte buffer is needed (plus 1 for the NUL)", s.len()),
            ))
        };
    }
    let n = s.len().min(out.len() - 1);
    out[..n].copy_from_slice(&s.as_bytes()[..n]);
    out[n] = 0;
    if n < s.len() {
        return Err(Failure::new(
            UADK_E_OUTPUT_TOO_SMALL,
            format!(
                "the text was truncated: {} bytes plus the NUL are needed",
                s.len()
            ),
        ));
    }
    Ok(())
}

/// Writes `s` into a fixed `char` array of a C struct, NUL-terminated; returns whether it was
/// truncated. A truncation never splits a UTF-8 character.
pub(crate) fn fill_chars(dst: &mut [c_char], s: &str) -> bool {
    if dst.is_empty() {
        return !s.is_empty();
    }
    let mut n = s.len().min(dst.len() - 1);
    while !s.is_char_boundary(n) {
        n -= 1;
    }
    for (d, b) in dst.iter_mut().zip(&s.as_bytes()[..n]) {
        *d = *b as c_char;
    }
    dst[n] = 0;
    n < s.len()
}

/// Converts a C flag byte.
pub(crate) fn flag(v: u8) -> bool {
    v != 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn disjoint_ranges() {
        let buf = [0u8; 64];
        let p = buf.as_ptr();
        assert!(disjoint(p, 10, p.wrapping_add(10), 10, "x").is_ok());
        assert!(disjoint(p, 11, p.wrapping_add(10), 10, "x").is_err());
        assert!(disjoint(p, 0, p, 10, "x").is_ok());
        assert!(disjoint(p.wrapping_add(5), 1, p, 10, "x").is_err());
    }

    #[test]
    fn fill_chars_truncates_on_char_boundaries() {
        let mut a = [1 as c_char; 4];
        assert!(fill_chars(&mut a, "aé€"));
        assert_eq!(
            a[..4].iter().map(|&c| c as u8).collect::<Vec<_>>(),
            b"a\xc3\xa9\0"
        );
        let mut b = [1 as c_char; 8];
        assert!(!fill_chars(&mut b, "abc"));
        assert_eq!(b[3], 0);
    }

    #[test]
    fn panics_become_a_status_and_a_message() {
        let code = call("test_fn", || panic!("boom"));
        assert_eq!(code, UADK_E_PANIC);
        assert_eq!(last_code(), UADK_E_PANIC);
        with_last_message(|m| assert!(m.starts_with("test_fn: internal error (panic: boom)"), "{m}"));
    }
}
