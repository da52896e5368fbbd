//! Where work runs: the software-mode flag, its reason, and the one-line notice.
//!
//! The algorithm libraries call [`wd_rs_note_backend`] when an initialisation or session
//! resolves to software; the first time per algorithm family the process prints one line
//! on stderr (unless `WD_RS_QUIET=1`). Applications query [`wd_rs_software_mode`] and
//! [`wd_rs_software_reason`] (declared in `wd_rs.h`).
//!
//! ```
//! use wd::status::*;
//! unsafe { wd_rs_note_backend(c"doc".as_ptr(), 1, c"no device in this doctest".as_ptr()) };
//! assert_eq!(wd_rs_software_mode(), 1);
//! assert!(!wd_rs_software_reason().is_null());
//! ```

use libc::{c_char, c_int};
use parking_lot::Mutex;
use std::collections::HashSet;
use std::ffi::{CStr, CString};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::OnceLock;
use uadk_wd_common::boundary::guard;

static SOFTWARE: AtomicBool = AtomicBool::new(false);
static REASON: OnceLock<CString> = OnceLock::new();
static SAID: Mutex<Option<HashSet<String>>> = Mutex::new(None);

/// Records a backend decision for algorithm family `what`; with `software != 0`, sets the
/// software-mode flag and announces it once per family.
///
/// # Safety
/// `what` and `why` are NULL or NUL-terminated strings.
pub unsafe extern "C" fn wd_rs_note_backend(what: *const c_char, software: c_int, why: *const c_char) {
    guard("wd_rs_note_backend", (), || {
        if software == 0 {
            return;
        }
        let s = |p: *const c_char| {
            if p.is_null() {
                String::new()
            } else {
                // SAFETY: the caller passes NUL-terminated strings.
                unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned()
            }
        };
        let (what, why) = (s(what), s(why));
        SOFTWARE.store(true, Ordering::Release);
        let line = format!("{what} runs in software: {why}");
        let _ = REASON.set(CString::new(line.replace('\0', " ")).unwrap_or_default());
        let first = SAID.lock().get_or_insert_with(HashSet::new).insert(what);
        if first && !uadk_wd_common::env::flag("WD_RS_QUIET") {
            eprintln!("uadk-rs: {line} (wd_rs_software_mode() reports it; WD_RS_QUIET=1 silences this line)");
        }
    })
}

/// 1 once any algorithm family of this process was set up in software, else 0.
pub extern "C" fn wd_rs_software_mode() -> c_int {
    SOFTWARE.load(Ordering::Acquire) as c_int
}

/// The first software decision's reason, or NULL; valid for the life of the process.
pub extern "C" fn wd_rs_software_reason() -> *const c_char {
    REASON.get().map_or(std::ptr::null(), |c| c.as_ptr())
}
