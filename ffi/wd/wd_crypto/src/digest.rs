//! Digest sessions: SM3, MD5, SHA-1, SHA-224/256/384/512, plain or HMAC.
//!
//! A request with `has_next == WD_DIGEST_END` (or `WD_DIGEST_STREAM_END`) finishes a
//! message and writes `out_bytes` bytes of the digest (1 to the digest size: shorter
//! values truncate, as HMAC-96 uses); `WD_DIGEST_DOING` (or `WD_DIGEST_STREAM_DOING`)
//! feeds part of a long message. A session hashes one message at a time.
//!
//! ```
//! # use wd as _; // the doctest links the real libwd
//! use uadk_wd_common::abi::*;
//! use wd_crypto::*;
//! assert_eq!(unsafe { wd_digest_init2_(c"sha256".as_ptr() as *mut _, 0, 0, std::ptr::null_mut()) }, 0);
//! let mut setup: WdDigestSessSetup = unsafe { std::mem::zeroed() };
//! setup.alg = 3; // WD_DIGEST_SHA256
//! let h = unsafe { wd_digest_alloc_sess(&mut setup) };
//! let (mut data, mut out) = (*b"abc", [0u8; 32]);
//! let mut req: WdDigestReq = unsafe { std::mem::zeroed() };
//! req.in_ = data.as_mut_ptr().cast();
//! req.in_bytes = 3;
//! req.out = out.as_mut_ptr().cast();
//! (req.out_bytes, req.out_buf_bytes) = (32, 32);
//! assert_eq!(unsafe { wd_do_digest_sync(h, &mut req) }, 0);
//! assert_eq!(out[..4], [0xba, 0x78, 0x16, 0xbf]);
//! wd_digest_free_sess(h);
//! wd_digest_uninit2();
//! ```

use crate::common::{bytes, crypto, failed, record, Done};
use crate::init::DIGEST;
use libc::{c_int, c_void};
use parking_lot::Mutex;
use self_cell::self_cell;
use std::sync::{Arc, LazyLock};
use uadk_crypto::{DigestAlg, DigestSession, Hasher};
use uadk_wd_common::abi::*;
use uadk_wd_common::boundary::guard;
use uadk_wd_common::registry::Registry;
use uadk_wd_common::setting::Setting;
use uadk_wd_common::wd_err;
use zeroize::Zeroizing;

type HasherSlot<'a> = Option<Hasher<'a>>;

self_cell!(
    /// A digest session with the long hash in progress on it.
    struct Cell {
        owner: DigestSession,
        #[covariant]
        dependent: HasherSlot,
    }
);

struct State {
    hmac_key: Option<Zeroizing<Vec<u8>>>,
    cells: [Option<Cell>; 2],
    /// Which cell holds a message in progress.
    active: Option<usize>,
}

/// A digest session.
pub struct DigestSess {
    setting: Arc<Setting<Done<WdDigestReq>>>,
    key: HandleT,
    alg: DigestAlg,
    hmac: bool,
    state: Mutex<State>,
    route: Mutex<String>,
}

impl Drop for DigestSess {
    fn drop(&mut self) {
        self.setting.free_key(self.key);
    }
}

static SESSIONS: LazyLock<Registry<DigestSess>> = LazyLock::new(|| Registry::new(0x64));

pub(crate) fn route_of(h: HandleT) -> Option<String> {
    SESSIONS.get(h).map(|s| s.route.lock().clone())
}

fn get(h: HandleT) -> Result<Arc<DigestSess>, c_int> {
    SESSIONS.get(h).ok_or_else(|| {
        wd_err!("{h:#x} is not a live digest session");
        failed(-WD_EINVAL)
    })
}

fn alg_of(v: u32) -> Option<DigestAlg> {
    Some(match v {
        0 => DigestAlg::Sm3,
        1 => DigestAlg::Md5,
        2 => DigestAlg::Sha1,
        3 => DigestAlg::Sha256,
        4 => DigestAlg::Sha224,
        5 => DigestAlg::Sha384,
        6 => DigestAlg::Sha512,
        _ => return None,
    })
}

/// A digest session for `setup` (`alg` SM3, MD5, SHA-1/224/256/384/512; `mode` normal or
/// HMAC); 0 for NULL, other algorithms, or an uninitialised library.
///
/// # Safety
/// `setup` is NULL or readable; its `sched_param` NULL or what the scheduler expects.
pub unsafe extern "C" fn wd_digest_alloc_sess(setup: *mut WdDigestSessSetup) -> HandleT {
    guard("wd_digest_alloc_sess", 0, || {
        if setup.is_null() {
            return 0;
        }
        // SAFETY: non-NULL; the fields before mm_ops are read.
        let (alg, mode, param) = unsafe { ((*setup).alg, (*setup).mode, (*setup).sched_param) };
        let Some(alg) = alg_of(alg) else {
            wd_err!("wd_digest_alloc_sess: digest {alg} is not offered");
            return 0;
        };
        if mode > 1 {
            return 0;
        }
        let Some(setting) = DIGEST.current() else {
            wd_err!("wd_digest_alloc_sess: the library is not initialised");
            return 0;
        };
        // SAFETY: the caller's sched_param, per this function's contract.
        let Ok(key) = (unsafe { setting.new_key(param) }) else {
            return 0;
        };
        let route = format!(
            "{}: {}",
            if setting.any_device {
                "device-capable"
            } else {
                "software"
            },
            setting.why
        );
        SESSIONS.insert(Arc::new(DigestSess {
            setting,
            key,
            alg,
            hmac: mode == 1,
            state: Mutex::new(State {
                hmac_key: None,
                cells: [None, None],
                active: None,
            }),
            route: Mutex::new(route),
        }))
    })
}

/// Frees a session (unknown handles are ignored).
pub extern "C" fn wd_digest_free_sess(h_sess: HandleT) {
    guard("wd_digest_free_sess", (), || {
        SESSIONS.remove(h_sess);
    })
}

/// Sets the HMAC key (1..=128 bytes): 0, or `-WD_EINVAL` for a plain-digest session, a bad
/// session or key.
///
/// # Safety
/// `key` is NULL or readable for `key_len` bytes.
pub unsafe extern "C" fn wd_digest_set_key(h_sess: HandleT, key: *const u8, key_len: u32) -> c_int {
    guard("wd_digest_set_key", -WD_EINVAL, || {
        let s = match get(h_sess) {
            Ok(s) => s,
            Err(e) => return e,
        };
        if !s.hmac || key.is_null() || key_len == 0 || key_len > 128 {
            wd_err!("wd_digest_set_key: HMAC sessions take 1..=128-byte keys");
            return failed(-WD_EINVAL);
        }
        // SAFETY: readable for key_len bytes per the contract.
        let k = Zeroizing::new(unsafe { std::slice::from_raw_parts(key, key_len as usize) }.to_vec());
        let mut st = s.state.lock();
        st.hmac_key = Some(k);
        st.cells = [None, None];
        st.active = None;
        0
    })
}

fn build(s: &DigestSess, st: &mut State, device: bool) -> Result<(), c_int> {
    let i = device as usize;
    if st.cells[i].is_some() {
        return Ok(());
    }
    let c = crypto(device);
    let ds = match (&st.hmac_key, s.hmac) {
        (_, false) => DigestSession::new(&c, s.alg),
        (Some(k), true) => DigestSession::hmac(&c, s.alg, k),
        (None, true) => {
            wd_err!("HMAC request before wd_digest_set_key");
            return Err(failed(-WD_EINVAL));
        }
    }
    .map_err(|e| {
        wd_err!("digest session: {e}");
        failed(-WD_EINVAL)
    })?;
    st.cells[i] = Some(Cell::new(ds, |_| None));
    Ok(())
}

/// # Safety
/// The request's buffers are valid for their lengths (UADK's contract).
unsafe fn run(s: &DigestSess, r: &WdDigestReq, device: bool) -> Result<(), c_int> {
    if r.data_fmt as u32 != WD_FLAT_BUF || r.has_next > 3 {
        wd_err!(
            "digest request: data_fmt {} or has_next {}",
            r.data_fmt,
            r.has_next
        );
        return Err(failed(-WD_EINVAL));
    }
    // SAFETY: in is readable for in_bytes per the contract.
    let data = unsafe { bytes(r.in_, r.in_bytes as usize) }?;
    let last = r.has_next == 0 || r.has_next == 2;
    let full = s.alg.output_len();
    if last && (r.out.is_null() || r.out_bytes == 0 || r.out_bytes as usize > full) {
        wd_err!(
            "digest request: out is NULL or out_bytes {} not in 1..={full}",
            r.out_bytes
        );
        return Err(failed(-WD_EINVAL));
    }
    let mut st = s.state.lock();
    // A message continues on the engine it started on.
    let i = st.active.unwrap_or(device as usize);
    build(s, &mut st, i == 1)?;
    let cell = st.cells[i].as_mut().expect("built above");
    let mut digest = Zeroizing::new(vec![0u8; full]);
    let outcome = cell.with_dependent_mut(
        |owner, slot| -> Result<Option<uadk_crypto::Route>, uadk_crypto::Error> {
            match (slot.is_some(), last) {
                (false, true) => owner.digest(data, &mut digest).map(Some),
                (had, _) => {
                    if !had {
                        *slot = Some(owner.hasher()?);
                    }
                    let h = slot.as_mut().expect("set above");
                    h.update(data)?;
                    if last {
                        let r = h.finish(&mut digest);
                        *slot = None;
                        r.map(Some)
                    } else {
                        Ok(None)
                    }
                }
            }
        },
    );
    match outcome {
        Ok(Some(route)) => {
            st.active = None;
            record(&route);
            *s.route.lock() = route.to_string();
            // SAFETY: out is writable for out_bytes <= digest size bytes (checked above).
            unsafe { std::ptr::copy_nonoverlapping(digest.as_ptr(), r.out as *mut u8, r.out_bytes as usize) };
            Ok(())
        }
        Ok(None) => {
            st.active = Some(i);
            Ok(())
        }
        Err(e) => {
            wd_err!("digest request: {e}");
            cell.with_dependent_mut(|_, slot| *slot = None);
            st.active = None;
            let code = if matches!(
                e,
                uadk_crypto::Error::Device { .. } | uadk_crypto::Error::StreamLost { .. }
            ) {
                -WD_EIO
            } else {
                -WD_EINVAL
            };
            Err(failed(code))
        }
    }
}

/// Hashes `in_bytes` of `in`; on the last part of a message writes `out_bytes` bytes of
/// the digest. 0 with `state == 0`; `-WD_EINVAL` for bad arguments (or an HMAC session
/// without a key), `-WD_EIO` for a device failure without fallback.
///
/// # Safety
/// `req` is NULL or a valid request whose buffers are valid for their lengths.
pub unsafe extern "C" fn wd_do_digest_sync(h_sess: HandleT, req: *mut WdDigestReq) -> c_int {
    guard("wd_do_digest_sync", -WD_EINVAL, || {
        let s = match get(h_sess) {
            Ok(s) => s,
            Err(e) => return e,
        };
        if req.is_null() {
            return failed(-WD_EINVAL);
        }
        // SAFETY: non-NULL, readable per the contract.
        let r = unsafe { req.read() };
        let device = match s.setting.pick(s.key, CTX_MODE_SYNC) {
            Ok((_, c)) => c.device,
            Err(e) => return failed(e),
        };
        // SAFETY: buffers per the contract.
        match unsafe { run(&s, &r, device) } {
            Ok(()) => {
                // SAFETY: non-NULL, writable per the contract.
                unsafe { (*req).state = 0 };
                0
            }
            Err(e) => e,
        }
    })
}

fn deliver(r: &mut WdDigestReq) {
    if let Some(cb) = r.cb {
        // SAFETY: UADK calls a digest callback with the request pointer.
        unsafe { cb((r as *mut WdDigestReq).cast::<c_void>()) };
    }
}

/// As [`wd_do_digest_sync`], run at submission and completed through `req->cb(req)` when
/// polled (UADK passes the request, not `cb_param`); `-WD_EBUSY` when 1024 completions wait.
///
/// # Safety
/// As [`wd_do_digest_sync`]; the buffers stay valid until the callback.
pub unsafe extern "C" fn wd_do_digest_async(h_sess: HandleT, req: *mut WdDigestReq) -> c_int {
    guard("wd_do_digest_async", -WD_EINVAL, || {
        let s = match get(h_sess) {
            Ok(s) => s,
            Err(e) => return e,
        };
        if req.is_null() {
            return failed(-WD_EINVAL);
        }
        // SAFETY: non-NULL, readable per the contract.
        let mut r = unsafe { req.read() };
        if r.cb.is_none() {
            wd_err!("wd_do_digest_async: cb is NULL");
            return failed(-WD_EINVAL);
        }
        let (idx, device) = match s.setting.pick(s.key, CTX_MODE_ASYNC) {
            Ok((i, c)) => (i, c.device),
            Err(e) => return failed(e),
        };
        // SAFETY: buffers per the contract.
        if let Err(e) = unsafe { run(&s, &r, device) } {
            return e;
        }
        r.state = 0;
        match s.setting.push_async(idx, Done::new(r, deliver)) {
            Ok(()) => 0,
            Err(e) => failed(e),
        }
    })
}
