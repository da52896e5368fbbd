//! # uadk-ffi
//!
//! The C ABI of uadk-rs. This crate will build the shared library, C header and
//! pkg-config file that Nginx and Ceph link against, including a zlib-compatible library
//! that Nginx can load unmodified.
