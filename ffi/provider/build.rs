//! Link flags for the provider module.
//!
//! `-z nodelete`: OpenSSL `dlclose`s a provider when it is unloaded, but this module
//! registers process-wide handlers (an `atexit` writer for the counters, `pthread_atfork`
//! child handlers in uadk-core and here) and Rust thread-local destructors; unmapping the
//! code under them would crash the process later. A NODELETE module stays mapped.
fn main() {
    println!("cargo:rustc-cdylib-link-arg=-Wl,-z,nodelete");
    println!("cargo:rerun-if-changed=build.rs");
}
