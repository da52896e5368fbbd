//! ISA-L loaded at run time: `dlopen("libisal.so.2")` once per process, four entry points
//! resolved, or a reason why not (library absent, symbol missing, or disabled with
//! `UADK_NO_ISAL=1`). Nothing in the workspace links `-lisal`, so a machine without ISA-L
//! builds, tests and runs; the engine table ([`crate::software::choose`]) then falls back to
//! the next fastest library and says so.
//!
//! Why run-time loading rather than building ISA-L from source inside cargo: ISA-L's fast
//! kernels are NASM assembly, and a fresh machine has no `nasm` (nor autoconf/libtool, which
//! `isal-sys`'s from-source build also runs); a C-only build has none of the SIMD kernels
//! that make ISA-L the level-1 winner. The figures are in the crate README ("ISA-L at run
//! time").
//!
//! The struct layouts and constants come from `isal-sys`'s bindings (ISA-L 2.31 headers; the
//! Debian 12 library is 2.30, same soname and the same `isal_zstream`/`inflate_state` ABI).
//! `isal-sys` is built with neither its `shared` nor its `static` feature, so it emits no
//! link directive: only its types are used.
//!
//! All `unsafe` of loading lives here; the calls themselves are in [`super::isal`].

use isal_sys::igzip_lib::{inflate_state, isal_zstream};
use std::sync::OnceLock;

/// The file loaded (the soname of ISA-L 2.x).
pub const SONAME: &str = "libisal.so.2";
/// The Debian/Ubuntu package that installs [`SONAME`].
pub const PACKAGE: &str = "libisal2";
/// Set to `1` to run as if ISA-L were absent (tests of the fallback path; measurements).
pub const DISABLE_ENV: &str = "UADK_NO_ISAL";

type DeflateInit = unsafe extern "C" fn(*mut isal_zstream);
type Deflate = unsafe extern "C" fn(*mut isal_zstream) -> libc::c_int;
type InflateInit = unsafe extern "C" fn(*mut inflate_state);
type Inflate = unsafe extern "C" fn(*mut inflate_state) -> libc::c_int;

/// The resolved entry points; the library stays loaded for the life of the process.
pub(crate) struct Isal {
    _lib: libloading::Library,
    pub deflate_init: DeflateInit,
    pub deflate: Deflate,
    pub inflate_init: InflateInit,
    pub inflate: Inflate,
}

static LOADED: OnceLock<Result<Isal, String>> = OnceLock::new();

/// The loaded library, or why it is not available (a sentence for users).
pub(crate) fn get() -> Result<&'static Isal, &'static str> {
    LOADED.get_or_init(load).as_ref().map_err(String::as_str)
}

/// Whether ISA-L can be used in this process.
///
/// ```
/// // true on a machine with libisal2 installed and UADK_NO_ISAL unset
/// println!("ISA-L: {:?}", uadk_zip::software::isal_status());
/// ```
pub fn available() -> bool {
    get().is_ok()
}

fn disabled_by_env() -> bool {
    std::env::var_os(DISABLE_ENV).is_some_and(|v| !v.is_empty() && v != "0")
}

fn load() -> Result<Isal, String> {
    if disabled_by_env() {
        return Err(format!("ISA-L disabled by {DISABLE_ENV}=1"));
    }
    // SAFETY: loading runs the library's initialisers. libisal has no constructors with
    // side effects beyond its own function-pointer dispatch tables (set up lazily on first
    // call), and it is a plain C library with no thread-affine state.
    let lib = unsafe { libloading::Library::new(SONAME) }.map_err(|e| {
        format!("{SONAME} not found ({e}); install the Debian/Ubuntu package {PACKAGE} for ISA-L")
    })?;
    Ok(Isal {
        deflate_init: symbol(&lib, b"isal_deflate_init\0")?,
        deflate: symbol(&lib, b"isal_deflate\0")?,
        inflate_init: symbol(&lib, b"isal_inflate_init\0")?,
        inflate: symbol(&lib, b"isal_inflate\0")?,
        _lib: lib,
    })
}

/// The address of C function `name` (NUL-terminated) as a `T`. Callers pass as `T` the
/// function's C prototype from ISA-L 2.x's `igzip_lib.h` (the four aliases above).
fn symbol<T: Copy>(lib: &libloading::Library, name: &[u8]) -> Result<T, String> {
    // SAFETY: `T` is the prototype of the C function `name` (see the callers in `load`);
    // the pointer is copied out of the `Symbol` and stays valid because the `Library` it
    // came from is stored beside it in `Isal`, which lives in a static for the process.
    unsafe { lib.get::<T>(name) }.map(|s| *s).map_err(|e| {
        let name = String::from_utf8_lossy(&name[..name.len().saturating_sub(1)]);
        format!("{SONAME} has no {name} ({e}); reinstall {PACKAGE}")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_is_a_library_or_a_reason_that_names_the_package() {
        match get() {
            Ok(_) => assert!(!disabled_by_env()),
            Err(why) => assert!(
                why.contains(DISABLE_ENV) || (why.contains(SONAME) && why.contains(PACKAGE)),
                "{why}"
            ),
        }
    }
}
