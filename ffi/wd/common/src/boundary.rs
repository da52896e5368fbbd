//! The panic boundary: every exported function body runs inside [`guard`], so a panic
//! (a bug) never unwinds into C; the function returns the error value its C contract
//! documents instead.
//!
//! ```
//! let v = uadk_wd_common::boundary::guard("demo", -22, || -> i32 { panic!("bug") });
//! assert_eq!(v, -22);
//! ```

use std::panic::{catch_unwind, AssertUnwindSafe};

/// Runs `f`; if it panics, logs `what` and returns `on_panic`.
pub fn guard<R>(what: &'static str, on_panic: R, f: impl FnOnce() -> R) -> R {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(r) => r,
        Err(p) => {
            let msg = p
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| p.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".into());
            eprintln!("uadk-rs: internal error in {what}: {msg}; the call failed");
            on_panic
        }
    }
}
