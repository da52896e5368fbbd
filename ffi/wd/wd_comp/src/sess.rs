//! Sessions: checked handles with the format, level, the scheduler's key and the stream
//! in progress.
//!
//! ```
//! # use wd as _; // the doctest links the real libwd
//! use uadk_wd_common::abi::*;
//! use wd_comp::*;
//! assert_eq!(unsafe { wd_comp_init2_(c"gzip".as_ptr() as *mut _, 0, 0, std::ptr::null_mut()) }, 0);
//! let mut setup: WdCompSessSetup = unsafe { std::mem::zeroed() };
//! setup.alg_type = 2; // WD_GZIP
//! let h = unsafe { wd_comp_alloc_sess(&mut setup) };
//! assert_ne!(h, 0);
//! let mut buf = [0 as libc::c_char; 256];
//! assert!(unsafe { wd_rs_comp_sess_route(h, buf.as_mut_ptr(), buf.len()) } > 0);
//! wd_comp_free_sess(h);
//! assert_eq!(wd_comp_reset_sess(h), -22); // freed: an error, not a crash
//! wd_comp_uninit2();
//! ```

use crate::init::LIB;
use crate::ops::{Done, Stream};
use libc::{c_char, c_int};
use parking_lot::Mutex;
use std::sync::{Arc, LazyLock};
use uadk_wd_common::abi::*;
use uadk_wd_common::boundary::guard;
use uadk_wd_common::registry::Registry;
use uadk_wd_common::setting::Setting;
use uadk_wd_common::wd_err;
use uadk_zip::{Backend, Config, Format};

/// A compression session.
pub struct Sess {
    pub(crate) setting: Arc<Setting<Done>>,
    pub(crate) key: HandleT,
    pub(crate) format: Format,
    pub(crate) level: u32,
    engines: Mutex<[Option<uadk_zip::Session>; 2]>,
    pub(crate) stream: Mutex<Stream>,
    pub(crate) route: Mutex<String>,
}

impl Drop for Sess {
    fn drop(&mut self) {
        self.setting.free_key(self.key);
    }
}

impl Sess {
    /// The uadk-zip session for a device context (`Backend::Auto`) or a software one.
    pub(crate) fn engine(&self, device: bool) -> Result<uadk_zip::Session, c_int> {
        let mut e = self.engines.lock();
        let slot = &mut e[device as usize];
        if let Some(s) = slot {
            return Ok(s.clone());
        }
        let cfg = Config {
            format: self.format,
            level: self.level,
            backend: if device { Backend::Auto } else { Backend::Software },
            threads: 1,
            fallback: true,
            ..Config::default()
        };
        let s = uadk_zip::Session::new(cfg).map_err(|e| {
            wd_err!("compression session: {e}");
            -WD_EINVAL
        })?;
        *slot = Some(s.clone());
        Ok(s)
    }

    pub(crate) fn set_route(&self, r: String) {
        *self.route.lock() = r;
    }
}

pub(crate) static SESSIONS: LazyLock<Registry<Sess>> = LazyLock::new(|| Registry::new(0x5a));

/// The live session `h`, or `-WD_EINVAL`.
pub(crate) fn get(h: HandleT) -> Result<Arc<Sess>, c_int> {
    SESSIONS.get(h).ok_or_else(|| {
        wd_err!("{h:#x} is not a live compression session");
        -WD_EINVAL
    })
}

/// A session for `setup` (algorithm deflate, zlib or gzip; level 0 or 1..=15, mapped to
/// 1..=9; window 4K..32K, uadk-rs always compresses with a 32 KiB window, which every
/// inflater reads); 0 for NULL, bad values, an uninitialised library, or a scheduler that
/// refuses the session's `sched_param`.
///
/// # Safety
/// `setup` is NULL or points to a readable `struct wd_comp_sess_setup`; its
/// `sched_param` is NULL or what the library's scheduler expects.
pub unsafe extern "C" fn wd_comp_alloc_sess(setup: *mut WdCompSessSetup) -> HandleT {
    guard("wd_comp_alloc_sess", 0, || {
        if setup.is_null() {
            wd_err!("wd_comp_alloc_sess: setup is NULL");
            return 0;
        }
        // SAFETY: non-NULL; the fields before mm_ops are read (mm_ops/mm_type are not,
        // so binaries built against pre-2.10 headers, which lack them, work too).
        let (alg, lv, win, op, param) = unsafe {
            (
                (*setup).alg_type,
                (*setup).comp_lv,
                (*setup).win_sz,
                (*setup).op_type,
                (*setup).sched_param,
            )
        };
        let format = match alg {
            0 => Format::Deflate,
            1 => Format::Zlib,
            2 => Format::Gzip,
            _ => {
                wd_err!("wd_comp_alloc_sess: alg_type {alg} is not deflate (0), zlib (1) or gzip (2)");
                return 0;
            }
        };
        if op > 1 || lv > 15 || win > 4 {
            wd_err!("wd_comp_alloc_sess: op_type {op}, comp_lv {lv} or win_sz {win} out of range");
            return 0;
        }
        let Some(setting) = LIB.current() else {
            wd_err!(
                "wd_comp_alloc_sess: the library is not initialised (call wd_comp_init or wd_comp_init2)"
            );
            return 0;
        };
        // SAFETY: the caller's sched_param, per this function's contract.
        let key = match unsafe { setting.new_key(param) } {
            Ok(k) => k,
            Err(e) => {
                wd_err!("wd_comp_alloc_sess: the scheduler refused the session ({e})");
                return 0;
            }
        };
        let level = lv.clamp(1, 9);
        let route = format!(
            "{}: {}",
            if setting.any_device {
                "device-capable"
            } else {
                "software"
            },
            setting.why
        );
        SESSIONS.insert(Arc::new(Sess {
            setting,
            key,
            format,
            level,
            engines: Mutex::new([None, None]),
            stream: Mutex::new(Stream::Idle),
            route: Mutex::new(route),
        }))
    })
}

/// Frees a session (unknown handles are ignored).
pub extern "C" fn wd_comp_free_sess(h_sess: HandleT) {
    guard("wd_comp_free_sess", (), || {
        SESSIONS.remove(h_sess);
    })
}

/// Drops the stream in progress; the next stream request starts a new stream.
pub extern "C" fn wd_comp_reset_sess(h_sess: HandleT) -> c_int {
    guard("wd_comp_reset_sess", -WD_EINVAL, || match get(h_sess) {
        Ok(s) => {
            *s.stream.lock() = Stream::Idle;
            0
        }
        Err(e) => e,
    })
}

/// Writes where the session's last request ran and why (NUL-terminated, truncated to
/// `len`); returns the length written, or `-WD_EINVAL`.
///
/// # Safety
/// `buf` is NULL or writable for `len` bytes.
pub unsafe extern "C" fn wd_rs_comp_sess_route(h_sess: HandleT, buf: *mut c_char, len: usize) -> c_int {
    guard("wd_rs_comp_sess_route", -WD_EINVAL, || {
        let Ok(s) = get(h_sess) else { return -WD_EINVAL };
        if buf.is_null() || len == 0 {
            return -WD_EINVAL;
        }
        let r = s.route.lock().clone();
        // SAFETY: writable for len bytes per the contract.
        let out = unsafe { std::slice::from_raw_parts_mut(buf, len) };
        fill(out, &r);
        r.len().min(len - 1) as c_int
    })
}
