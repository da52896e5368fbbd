//! Sets the shared library's soname, so programs linked with `-luadk` record `libuadk.so.0`
//! and keep working across compatible (0.x.y) upgrades.
//!
//! No version script: libuadk is a new ABI with no predecessor to match, rustc already
//! exports only the `#[no_mangle] extern "C"` functions of a cdylib, and the soname's major
//! number is what changes on an incompatible release (see README.md, "ABI and versioning").

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let target_os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    if target_os == "linux" {
        println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libuadk.so.0");
        // The library registers pthread_atfork handlers (the handle registry, uadk-core's
        // fork generation) and Rust thread-local destructors; a dlclose() that unmapped its
        // code would leave those pointing nowhere. NODELETE keeps it mapped once loaded.
        println!("cargo:rustc-cdylib-link-arg=-Wl,-z,nodelete");
    }
}
