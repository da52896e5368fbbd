//! # uadk-examples
//!
//! Programs a new user copies from, one per file under `examples/examples/`:
//!
//! - `pool_basics.rs` — create a pinned buffer pool, see what guarantee it got, use chunks
//!   from several threads.
//!
//! Run one with `cargo run -p uadk-examples --example pool_basics`.
