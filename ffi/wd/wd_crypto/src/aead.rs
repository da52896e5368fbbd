//! AEAD sessions: AES and SM4 in GCM and CCM, one-shot (`msg_state == AEAD_MSG_BLOCK`).
//!
//! `src` holds `assoc_bytes` of associated data then `in_bytes` of payload; `dst` gets
//! the associated data and the payload's result and must have `out_bytes` of room for
//! them. The tag (`wd_aead_set_authsize`, default 16) is written to / read from `mac`
//! (`mac_bytes` of room); with `mac == NULL` it follows the payload (in `dst` when
//! encrypting, in `src` when decrypting), as UADK's older layout has it. GCM takes a
//! 12-byte IV; CCM a 16-byte counter block whose first byte is L' (nonce = bytes 1..15-L').
//! A tag that does not verify returns 0 with `state == WD_VERIFY_ERR` and the output
//! zeroed.
//!
//! ```
//! # use wd as _; // the doctest links the real libwd
//! use uadk_wd_common::abi::*;
//! use wd_crypto::*;
//! assert_eq!(unsafe { wd_aead_init2_(c"gcm(aes)".as_ptr() as *mut _, 0, 0, std::ptr::null_mut()) }, 0);
//! let mut setup: WdAeadSessSetup = unsafe { std::mem::zeroed() };
//! (setup.calg, setup.cmode) = (1, 10); // AES, GCM
//! let h = unsafe { wd_aead_alloc_sess(&mut setup) };
//! assert_eq!(unsafe { wd_aead_set_ckey(h, [1u8; 16].as_ptr(), 16) }, 0);
//! assert_eq!(wd_aead_get_authsize(h), 16);
//! let (mut src, mut dst, mut mac, mut iv) = (*b"AADpayload", [0u8; 10], [0u8; 16], [0u8; 12]);
//! let mut req: WdAeadReq = unsafe { std::mem::zeroed() };
//! req.src = src.as_mut_ptr().cast();
//! req.dst = dst.as_mut_ptr().cast();
//! req.mac = mac.as_mut_ptr().cast();
//! req.iv = iv.as_mut_ptr().cast();
//! (req.assoc_bytes, req.in_bytes, req.out_bytes, req.iv_bytes, req.mac_bytes) = (3, 7, 10, 12, 16);
//! assert_eq!(unsafe { wd_do_aead_sync(h, &mut req) }, 0);
//! assert_eq!((req.state, &dst[..3]), (0, &b"AAD"[..]));
//! wd_aead_free_sess(h);
//! wd_aead_uninit2();
//! ```

use crate::common::{crypto, failed, overlaps, record, Done};
use crate::init::AEAD;
use libc::c_int;
use parking_lot::Mutex;
use std::sync::{Arc, LazyLock};
use uadk_crypto::{AeadAlg, AeadMode, AeadSession, Route};
use uadk_wd_common::abi::*;
use uadk_wd_common::boundary::guard;
use uadk_wd_common::registry::Registry;
use uadk_wd_common::setting::Setting;
use uadk_wd_common::wd_err;
use zeroize::Zeroizing;

struct State {
    ckey: Option<Zeroizing<Vec<u8>>>,
    authsize: u16,
    sessions: [Option<Arc<AeadSession>>; 2],
}

/// An AEAD session.
pub struct AeadSess {
    setting: Arc<Setting<Done<WdAeadReq>>>,
    key: HandleT,
    aes: bool,
    mode: AeadMode,
    state: Mutex<State>,
    route: Mutex<String>,
}

impl Drop for AeadSess {
    fn drop(&mut self) {
        self.setting.free_key(self.key);
    }
}

static SESSIONS: LazyLock<Registry<AeadSess>> = LazyLock::new(|| Registry::new(0x61));

pub(crate) fn route_of(h: HandleT) -> Option<String> {
    SESSIONS.get(h).map(|s| s.route.lock().clone())
}

fn get(h: HandleT) -> Result<Arc<AeadSess>, c_int> {
    SESSIONS.get(h).ok_or_else(|| {
        wd_err!("{h:#x} is not a live AEAD session");
        failed(-WD_EINVAL)
    })
}

const MAX_TAG: u16 = 16;

/// An AEAD session for `setup` (`calg` SM4 or AES, `cmode` CCM or GCM; the digest
/// fields are not used); 0 for NULL, other combinations, or an uninitialised library.
///
/// # Safety
/// `setup` is NULL or readable; its `sched_param` NULL or what the scheduler expects.
pub unsafe extern "C" fn wd_aead_alloc_sess(setup: *mut WdAeadSessSetup) -> HandleT {
    guard("wd_aead_alloc_sess", 0, || {
        if setup.is_null() {
            return 0;
        }
        // SAFETY: non-NULL; the fields before mm_ops are read.
        let (calg, cmode, param) = unsafe { ((*setup).calg, (*setup).cmode, (*setup).sched_param) };
        let mode = match cmode {
            9 => AeadMode::Ccm,
            10 => AeadMode::Gcm,
            _ => {
                wd_err!("wd_aead_alloc_sess: cipher mode {cmode} is not offered (CCM, GCM)");
                return 0;
            }
        };
        if calg > 1 {
            return 0;
        }
        let Some(setting) = AEAD.current() else {
            wd_err!("wd_aead_alloc_sess: the library is not initialised");
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
        SESSIONS.insert(Arc::new(AeadSess {
            setting,
            key,
            aes: calg == 1,
            mode,
            state: Mutex::new(State {
                ckey: None,
                authsize: MAX_TAG,
                sessions: [None, None],
            }),
            route: Mutex::new(route),
        }))
    })
}

/// Frees a session (unknown handles are ignored).
pub extern "C" fn wd_aead_free_sess(h_sess: HandleT) {
    guard("wd_aead_free_sess", (), || {
        SESSIONS.remove(h_sess);
    })
}

fn alg(s: &AeadSess, key_len: usize) -> Option<AeadAlg> {
    let m = match s.mode {
        AeadMode::Gcm => "gcm",
        AeadMode::Ccm => "ccm",
    };
    let name = match (s.aes, key_len) {
        (true, 16 | 24 | 32) => format!("aes-{}-{m}", key_len * 8),
        (false, 16) => format!("sm4-{m}"),
        _ => return None,
    };
    AeadAlg::from_name(&name).ok()
}

/// Sets the cipher key (AES 16/24/32 bytes, SM4 16): 0 or `-WD_EINVAL`.
///
/// # Safety
/// `key` is NULL or readable for `key_len` bytes.
pub unsafe extern "C" fn wd_aead_set_ckey(h_sess: HandleT, key: *const u8, key_len: u16) -> c_int {
    guard("wd_aead_set_ckey", -WD_EINVAL, || {
        let s = match get(h_sess) {
            Ok(s) => s,
            Err(e) => return e,
        };
        if key.is_null() || alg(&s, key_len as usize).is_none() {
            wd_err!("wd_aead_set_ckey: {key_len}-byte keys do not fit this session's algorithm");
            return failed(-WD_EINVAL);
        }
        // SAFETY: readable for key_len bytes per the contract.
        let k = Zeroizing::new(unsafe { std::slice::from_raw_parts(key, key_len as usize) }.to_vec());
        let mut st = s.state.lock();
        st.ckey = Some(k);
        st.sessions = [None, None];
        0
    })
}

/// `-WD_EINVAL`: GCM and CCM take no authentication key (the authenc modes that do are
/// not offered).
///
/// # Safety
/// Any arguments.
pub unsafe extern "C" fn wd_aead_set_akey(h_sess: HandleT, key: *const u8, key_len: u16) -> c_int {
    let _ = (h_sess, key, key_len);
    failed(-WD_EINVAL)
}

fn authsize_ok(mode: AeadMode, n: u16) -> bool {
    match mode {
        AeadMode::Gcm => matches!(n, 4 | 8 | 12..=16),
        AeadMode::Ccm => (4..=16).contains(&n) && n.is_multiple_of(2),
    }
}

/// Sets the tag size (GCM 4, 8, 12..=16; CCM 4..=16 even): 0 or `-WD_EINVAL`.
pub extern "C" fn wd_aead_set_authsize(h_sess: HandleT, authsize: u16) -> c_int {
    guard("wd_aead_set_authsize", -WD_EINVAL, || {
        let s = match get(h_sess) {
            Ok(s) => s,
            Err(e) => return e,
        };
        if !authsize_ok(s.mode, authsize) {
            wd_err!("wd_aead_set_authsize: {authsize} is not a valid tag size for this mode");
            return failed(-WD_EINVAL);
        }
        let mut st = s.state.lock();
        st.authsize = authsize;
        st.sessions = [None, None];
        0
    })
}

/// The tag size, or `-WD_EINVAL`.
pub extern "C" fn wd_aead_get_authsize(h_sess: HandleT) -> c_int {
    guard("wd_aead_get_authsize", -WD_EINVAL, || match get(h_sess) {
        Ok(s) => s.state.lock().authsize as c_int,
        Err(e) => e,
    })
}

/// The largest tag size (16), or `-WD_EINVAL`.
pub extern "C" fn wd_aead_get_maxauthsize(h_sess: HandleT) -> c_int {
    guard("wd_aead_get_maxauthsize", -WD_EINVAL, || match get(h_sess) {
        Ok(_) => MAX_TAG as c_int,
        Err(e) => e,
    })
}

fn session(s: &AeadSess, device: bool) -> Result<(Arc<AeadSession>, usize), c_int> {
    let mut st = s.state.lock();
    let Some(k) = st.ckey.clone() else {
        wd_err!("AEAD request before wd_aead_set_ckey");
        return Err(failed(-WD_EINVAL));
    };
    let tag = st.authsize as usize;
    let slot = &mut st.sessions[device as usize];
    if slot.is_none() {
        let a = alg(s, k.len()).ok_or_else(|| failed(-WD_EINVAL))?;
        *slot = Some(Arc::new(AeadSession::new(&crypto(device), a, &k, tag).map_err(
            |e| {
                wd_err!("AEAD session: {e}");
                failed(-WD_EINVAL)
            },
        )?));
    }
    Ok((slot.clone().expect("set above"), tag))
}

/// Runs one request; returns the status (0 or `WD_VERIFY_ERR`).
///
/// # Safety
/// The request's buffers are valid for their lengths (UADK's contract).
unsafe fn run(s: &AeadSess, r: &WdAeadReq, device: bool) -> Result<u16, c_int> {
    let bad = |why: String| {
        wd_err!("AEAD request: {why}");
        Err(failed(-WD_EINVAL))
    };
    if r.op_type > 1 {
        return bad(format!(
            "op_type {} is not offered (encrypt-then-tag 0, decrypt 1)",
            r.op_type
        ));
    }
    if r.msg_state != 0 || r.data_fmt as u32 != WD_FLAT_BUF {
        return bad("only one-shot requests (AEAD_MSG_BLOCK) on flat buffers are offered".into());
    }
    let (session, tag_len) = session(s, device)?;
    if r.iv.is_null() {
        return bad("iv is NULL".into());
    }
    // SAFETY: the IV is readable for iv_bytes per the contract.
    let iv = unsafe { std::slice::from_raw_parts(r.iv as *const u8, r.iv_bytes as usize) };
    let nonce: &[u8] = match s.mode {
        AeadMode::Gcm if iv.len() == 12 => iv,
        AeadMode::Ccm if iv.len() == 16 && (1..=7).contains(&(iv[0] & 7)) => {
            &iv[1..15 - (iv[0] & 7) as usize]
        }
        _ => {
            return bad(format!(
                "iv_bytes {} (GCM: 12, CCM: a 16-byte counter block)",
                iv.len()
            ))
        }
    };
    let (assoc, n) = (r.assoc_bytes as usize, r.in_bytes as usize);
    let enc = r.op_type == 0;
    let mac_in_req = !r.mac.is_null();
    if mac_in_req && (r.mac_bytes as usize) < tag_len {
        return bad(format!(
            "mac_bytes {} is smaller than the tag size {tag_len}",
            r.mac_bytes
        ));
    }
    let trailing = if mac_in_req { 0 } else { tag_len };
    let src_len = assoc + n + if enc { 0 } else { trailing };
    let dst_len = assoc + n + if enc { trailing } else { 0 };
    if (r.out_bytes as usize) < dst_len {
        return bad(format!(
            "out_bytes {} is smaller than the {dst_len} bytes of output",
            r.out_bytes
        ));
    }
    if r.src.is_null() || r.dst.is_null() {
        return bad("src or dst is NULL".into());
    }
    let (src, dst) = (r.src as *mut u8, r.dst as *mut u8);
    // SAFETY: src readable for src_len bytes per the contract; copied when it overlaps dst
    // in any way other than exactly (in place).
    let copied: Option<Vec<u8>> = (!std::ptr::eq(src, dst) && overlaps(src, src_len, dst, dst_len))
        .then(|| unsafe { std::slice::from_raw_parts(src, src_len) }.to_vec());
    let in_place = std::ptr::eq(src, dst);
    let mut tag = [0u8; MAX_TAG as usize];
    let tag = &mut tag[..tag_len];
    if !enc {
        let t = if mac_in_req {
            r.mac as *const u8
        } else {
            // SAFETY: src holds the tag after the payload (checked length).
            unsafe { src.add(assoc + n) }
        };
        // SAFETY: readable for tag_len bytes (mac_bytes or src_len checked above).
        tag.copy_from_slice(unsafe { std::slice::from_raw_parts(t, tag_len) });
    }
    let result: Result<Route, uadk_crypto::Error> = if in_place {
        // SAFETY: one buffer of at least assoc + n bytes; the two slices are disjoint.
        let (aad, buf) = unsafe {
            (
                std::slice::from_raw_parts(src, assoc),
                std::slice::from_raw_parts_mut(dst.add(assoc), n),
            )
        };
        if enc {
            session.seal_in_place(nonce, aad, buf, tag)
        } else {
            session.open_in_place(nonce, aad, buf, tag)
        }
    } else {
        let input: &[u8] = match &copied {
            Some(v) => v,
            // SAFETY: src readable for src_len bytes and disjoint from dst.
            None => unsafe { std::slice::from_raw_parts(src, src_len) },
        };
        // SAFETY: dst writable for out_bytes >= dst_len bytes per the contract.
        let out = unsafe { std::slice::from_raw_parts_mut(dst, dst_len) };
        out[..assoc].copy_from_slice(&input[..assoc]);
        let (aad, data) = (&input[..assoc], &input[assoc..assoc + n]);
        if enc {
            session.seal(nonce, aad, data, &mut out[assoc..assoc + n], tag)
        } else {
            session.open(nonce, aad, data, tag, &mut out[assoc..assoc + n])
        }
    };
    match result {
        Ok(route) => {
            record(&route);
            *s.route.lock() = route.to_string();
            if enc {
                let t = if mac_in_req {
                    r.mac as *mut u8
                } else {
                    // SAFETY: dst has room for the tag after the payload (checked length).
                    unsafe { dst.add(assoc + n) }
                };
                // SAFETY: writable for tag_len bytes (checked above).
                unsafe { std::ptr::copy_nonoverlapping(tag.as_ptr(), t, tag_len) };
            }
            Ok(0)
        }
        Err(uadk_crypto::Error::AuthenticationFailed { .. }) => {
            wd_err!("AEAD request: the tag does not verify; the output is zeroed");
            failed(0);
            Ok(WD_VERIFY_ERR as u16)
        }
        Err(e) => {
            wd_err!("AEAD request: {e}");
            let code = if matches!(e, uadk_crypto::Error::Device { .. }) {
                -WD_EIO
            } else {
                -WD_EINVAL
            };
            Err(failed(code))
        }
    }
}

/// Encrypts and tags, or verifies and decrypts, one message: 0 with `state` 0 or
/// `WD_VERIFY_ERR` (tag mismatch, output zeroed); `-WD_EINVAL` for bad arguments,
/// `-WD_EIO` for a device failure without fallback.
///
/// # Safety
/// `req` is NULL or a valid request whose buffers are valid for their lengths.
pub unsafe extern "C" fn wd_do_aead_sync(h_sess: HandleT, req: *mut WdAeadReq) -> c_int {
    guard("wd_do_aead_sync", -WD_EINVAL, || {
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
            Ok(state) => {
                // SAFETY: non-NULL, writable per the contract.
                unsafe { (*req).state = state };
                0
            }
            Err(e) => e,
        }
    })
}

fn deliver(r: &mut WdAeadReq) {
    if let Some(cb) = r.cb {
        let p = r.cb_param;
        // SAFETY: the caller's callback with its own request (UADK's contract).
        unsafe { cb(r, p) };
    }
}

/// As [`wd_do_aead_sync`], run at submission and completed through
/// `req->cb(req, req->cb_param)` when polled; `-WD_EBUSY` when 1024 completions wait.
///
/// # Safety
/// As [`wd_do_aead_sync`]; the buffers stay valid until the callback.
pub unsafe extern "C" fn wd_do_aead_async(h_sess: HandleT, req: *mut WdAeadReq) -> c_int {
    guard("wd_do_aead_async", -WD_EINVAL, || {
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
            wd_err!("wd_do_aead_async: cb is NULL");
            return failed(-WD_EINVAL);
        }
        let (idx, device) = match s.setting.pick(s.key, CTX_MODE_ASYNC) {
            Ok((i, c)) => (i, c.device),
            Err(e) => return failed(e),
        };
        // SAFETY: buffers per the contract.
        match unsafe { run(&s, &r, device) } {
            Ok(state) => r.state = state,
            Err(e) => return e,
        }
        match s.setting.push_async(idx, Done::new(r, deliver)) {
            Ok(()) => 0,
            Err(e) => failed(e),
        }
    })
}
