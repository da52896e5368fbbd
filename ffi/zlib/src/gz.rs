//! The `gz*` file functions: zlib-rs's implementation (`libz-rs-sys`'s `gz` feature), whose
//! `gzFile` starts with zlib's `{have, next, pos}` so that zlib.h's `gzgetc` macro works.
//!
//! `gzprintf`/`gzvprintf` are variadic, which stable Rust cannot define: the exported
//! symbols are naked trampolines that jump to C (`csrc/gzprintf.c`) with every argument
//! register untouched; the C side formats with `vsnprintf` and calls back
//! [`write_formatted`] (gzwrite plus zlib's error codes).
//!
//! A `gzFile` belongs to one thread at a time (zlib's rule); the functions are otherwise
//! thread-safe.

use crate::abi::*;
use libz_rs_sys::{gzFile, z_off64_t, z_off_t};
use std::ffi::{c_char, c_int, c_uint, c_void};

/// Forwards each listed function to `libz_rs_sys` behind the panic boundary.
macro_rules! forward {
    ($( $(#[$doc:meta])* fn $name:ident($($arg:ident: $ty:ty),*) -> $ret:ty = $err:expr; )*) => {$(
        $(#[$doc])*
        ///
        /// # Safety
        /// zlib's contract for this function (a `gzFile` from `gzopen`/`gzdopen`, buffers
        /// valid for the lengths given).
        #[no_mangle]
        pub unsafe extern "C" fn $name($($arg: $ty),*) -> $ret {
            // SAFETY: the caller's contract is zlib's, which zlib-rs implements.
            boundary($err, || unsafe { libz_rs_sys::$name($($arg),*) })
        }
    )*};
}

/// Registers the gzprintf writer with the C side once.
fn register_writer() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    // SAFETY: the C function only stores the pointer (atomically).
    ONCE.call_once(|| unsafe { uadk_z_gzprintf_set_writer(write_formatted) });
}

macro_rules! opener {
    ($( $(#[$doc:meta])* fn $name:ident($($arg:ident: $ty:ty),*); )*) => {$(
        $(#[$doc])*
        ///
        /// # Safety
        /// `path`/`mode` NUL-terminated strings (zlib's contract).
        #[no_mangle]
        pub unsafe extern "C" fn $name($($arg: $ty),*) -> gzFile {
            register_writer();
            // SAFETY: the caller's contract is zlib's, which zlib-rs implements.
            boundary(std::ptr::null_mut(), || unsafe { libz_rs_sys::$name($($arg),*) })
        }
    )*};
}

opener! {
    /// `gzFile gzopen(const char *path, const char *mode)`.
    fn gzopen(path: *const c_char, mode: *const c_char);
    /// `gzFile gzopen64(const char *path, const char *mode)`.
    fn gzopen64(path: *const c_char, mode: *const c_char);
    /// `gzFile gzdopen(int fd, const char *mode)`.
    fn gzdopen(fd: c_int, mode: *const c_char);
}

forward! {
    /// `int gzbuffer(gzFile file, unsigned size)`.
    fn gzbuffer(file: gzFile, size: c_uint) -> c_int = -1;
    /// `int gzsetparams(gzFile file, int level, int strategy)`.
    fn gzsetparams(file: gzFile, level: c_int, strategy: c_int) -> c_int = Z_STREAM_ERROR;
    /// `int gzread(gzFile file, voidp buf, unsigned len)`.
    fn gzread(file: gzFile, buf: *mut c_void, len: c_uint) -> c_int = -1;
    /// `z_size_t gzfread(voidp buf, z_size_t size, z_size_t nitems, gzFile file)`.
    fn gzfread(buf: *mut c_void, size: usize, nitems: usize, file: gzFile) -> usize = 0;
    /// `int gzwrite(gzFile file, voidpc buf, unsigned len)`.
    fn gzwrite(file: gzFile, buf: *const c_void, len: c_uint) -> c_int = 0;
    /// `z_size_t gzfwrite(voidpc buf, z_size_t size, z_size_t nitems, gzFile file)`.
    fn gzfwrite(buf: *const c_void, size: usize, nitems: usize, file: gzFile) -> usize = 0;
    /// `int gzputs(gzFile file, const char *s)`.
    fn gzputs(file: gzFile, s: *const c_char) -> c_int = -1;
    /// `char *gzgets(gzFile file, char *buf, int len)`.
    fn gzgets(file: gzFile, buf: *mut c_char, len: c_int) -> *mut c_char = std::ptr::null_mut();
    /// `int gzputc(gzFile file, int c)`.
    fn gzputc(file: gzFile, c: c_int) -> c_int = -1;
    /// `int gzgetc(gzFile file)`.
    fn gzgetc(file: gzFile) -> c_int = -1;
    /// `int gzgetc_(gzFile file)`.
    fn gzgetc_(file: gzFile) -> c_int = -1;
    /// `int gzungetc(int c, gzFile file)`.
    fn gzungetc(c: c_int, file: gzFile) -> c_int = -1;
    /// `int gzflush(gzFile file, int flush)`.
    fn gzflush(file: gzFile, flush: c_int) -> c_int = Z_STREAM_ERROR;
    /// `z_off_t gzseek(gzFile file, z_off_t offset, int whence)`.
    fn gzseek(file: gzFile, offset: z_off_t, whence: c_int) -> z_off_t = -1;
    /// `z_off64_t gzseek64(gzFile file, z_off64_t offset, int whence)`.
    fn gzseek64(file: gzFile, offset: z_off64_t, whence: c_int) -> z_off64_t = -1;
    /// `int gzrewind(gzFile file)`.
    fn gzrewind(file: gzFile) -> c_int = -1;
    /// `z_off_t gztell(gzFile file)`.
    fn gztell(file: gzFile) -> z_off_t = -1;
    /// `z_off64_t gztell64(gzFile file)`.
    fn gztell64(file: gzFile) -> z_off64_t = -1;
    /// `z_off_t gzoffset(gzFile file)`.
    fn gzoffset(file: gzFile) -> z_off_t = -1;
    /// `z_off64_t gzoffset64(gzFile file)`.
    fn gzoffset64(file: gzFile) -> z_off64_t = -1;
    /// `int gzeof(gzFile file)`.
    fn gzeof(file: gzFile) -> c_int = 0;
    /// `int gzdirect(gzFile file)`.
    fn gzdirect(file: gzFile) -> c_int = 0;
    /// `int gzclose(gzFile file)`.
    fn gzclose(file: gzFile) -> c_int = Z_STREAM_ERROR;
    /// `int gzclose_r(gzFile file)`.
    fn gzclose_r(file: gzFile) -> c_int = Z_STREAM_ERROR;
    /// `int gzclose_w(gzFile file)`.
    fn gzclose_w(file: gzFile) -> c_int = Z_STREAM_ERROR;
    /// `const char *gzerror(gzFile file, int *errnum)`.
    fn gzerror(file: gzFile, errnum: *mut c_int) -> *const c_char = std::ptr::null();
}

/// `void gzclearerr(gzFile file)`.
///
/// # Safety
/// `file` from `gzopen`/`gzdopen` or null.
#[no_mangle]
pub unsafe extern "C" fn gzclearerr(file: gzFile) {
    // SAFETY: forwarded contract.
    boundary((), || unsafe { libz_rs_sys::gzclearerr(file) })
}

type Writer = unsafe extern "C" fn(*mut c_void, *const c_char, c_int) -> c_int;

extern "C" {
    fn uadk_z_gzprintf_set_writer(w: Writer);
    fn uadk_z_gzprintf();
    fn uadk_z_gzvprintf();
}

/// Writes `len` formatted bytes for the C side of `gzprintf`: the count written, or zlib's
/// error code (`Z_STREAM_ERROR` when the file is not open for writing).
unsafe extern "C" fn write_formatted(file: *mut c_void, buf: *const c_char, len: c_int) -> c_int {
    boundary(Z_STREAM_ERROR, || {
        let Ok(n) = c_uint::try_from(len) else {
            return Z_STREAM_ERROR;
        };
        // SAFETY: `file` is the caller's gzFile (checked non-null by the C side) and `buf`
        // holds `len` formatted bytes.
        let wrote = unsafe { libz_rs_sys::gzwrite(file.cast(), buf.cast(), n) };
        if wrote > 0 || n == 0 {
            return wrote;
        }
        let mut err = Z_OK;
        // SAFETY: as above; `err` is ours.
        unsafe { libz_rs_sys::gzerror(file.cast(), &mut err) };
        if err != Z_OK {
            err
        } else {
            Z_STREAM_ERROR
        }
    })
}

/// `int gzprintf(gzFile file, const char *format, ...)`: a jump to the C implementation.
///
/// # Safety
/// zlib's contract (a gzFile open for writing, a printf format matching the arguments).
#[unsafe(naked)]
#[no_mangle]
pub unsafe extern "C" fn gzprintf() {
    #[cfg(target_arch = "x86_64")]
    core::arch::naked_asm!("jmp {f}", f = sym uadk_z_gzprintf);
    #[cfg(target_arch = "aarch64")]
    core::arch::naked_asm!("b {f}", f = sym uadk_z_gzprintf);
}

/// `int gzvprintf(gzFile file, const char *format, va_list va)`: a jump to the C
/// implementation.
///
/// # Safety
/// As [`gzprintf`], with a `va_list` for the arguments.
#[unsafe(naked)]
#[no_mangle]
pub unsafe extern "C" fn gzvprintf() {
    #[cfg(target_arch = "x86_64")]
    core::arch::naked_asm!("jmp {f}", f = sym uadk_z_gzvprintf);
    #[cfg(target_arch = "aarch64")]
    core::arch::naked_asm!("b {f}", f = sym uadk_z_gzvprintf);
}

// zlib version nodes of the functions above (see `crate::symbols`).
symver!(gzclearerr);
symver!(gzvprintf);
symver!(gzopen64);
symver!(gzbuffer);
symver!(gzfread);
symver!(gzfwrite);
symver!(gzgetc_);
symver!(gzungetc);
symver!(gzseek64);
symver!(gztell64);
symver!(gzoffset);
symver!(gzoffset64);
symver!(gzdirect);
symver!(gzclose_r);
symver!(gzclose_w);
