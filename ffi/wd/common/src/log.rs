//! Error details of failing calls, on stderr when `WD_RS_LOG=1` (UADK sends the same kind
//! of messages to syslog, where they are usually invisible).
//!
//! ```
//! uadk_wd_common::wd_err!("bad {}", 1); // printed only with WD_RS_LOG=1
//! ```

use std::sync::OnceLock;

/// Whether `WD_RS_LOG=1` (read once).
pub fn enabled() -> bool {
    static ON: OnceLock<bool> = OnceLock::new();
    *ON.get_or_init(|| crate::env::flag("WD_RS_LOG"))
}

/// Logs one error line (`uadk-rs: ...`) when [`enabled`].
#[macro_export]
macro_rules! wd_err {
    ($($arg:tt)*) => {
        if $crate::log::enabled() {
            eprintln!("uadk-rs: {}", format!($($arg)*));
        }
    };
}
