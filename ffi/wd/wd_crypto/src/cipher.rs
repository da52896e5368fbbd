//! Cipher sessions: AES and SM4 in ECB, CBC, CTR and XTS.
//!
//! The key length picks the variant (AES 16/24/32 bytes, XTS both halves: 32/48/64; SM4
//! 16, SM4-XTS 32). Requests are flat buffers, in place (`src == dst`) or out of place;
//! `iv_bytes` must be at least 16 for CBC, CTR and XTS (the first 16 are used). After a
//! CBC or CTR request the IV buffer holds the chaining value for the next request, so a
//! message can be processed in pieces.
//!
//! ```
//! # use wd as _; // the doctest links the real libwd
//! use uadk_wd_common::abi::*;
//! use wd_crypto::*;
//! assert_eq!(unsafe { wd_cipher_init2_(c"cbc(aes)".as_ptr() as *mut _, 0, 0, std::ptr::null_mut()) }, 0);
//! let mut setup: WdCipherSessSetup = unsafe { std::mem::zeroed() };
//! setup.alg = 1; // WD_CIPHER_AES
//! setup.mode = 1; // WD_CIPHER_CBC
//! let h = unsafe { wd_cipher_alloc_sess(&mut setup) };
//! assert_eq!(unsafe { wd_cipher_set_key(h, [7u8; 16].as_ptr(), 16) }, 0);
//! let (mut buf, mut iv) = ([1u8; 32], [0u8; 16]);
//! let mut req: WdCipherReq = unsafe { std::mem::zeroed() };
//! req.src = buf.as_mut_ptr().cast();
//! req.dst = buf.as_mut_ptr().cast();
//! req.iv = iv.as_mut_ptr().cast();
//! (req.in_bytes, req.iv_bytes, req.out_buf_bytes) = (32, 16, 32);
//! assert_eq!(unsafe { wd_do_cipher_sync(h, &mut req) }, 0);
//! assert_eq!((req.state, req.out_bytes), (0, 32));
//! assert_eq!(iv, buf[16..]); // CBC: the IV is now the last ciphertext block
//! wd_cipher_free_sess(h);
//! wd_cipher_uninit2();
//! ```

use crate::common::{bytes, crypto, failed, overlaps, record, Done};
use crate::init::CIPHER;
use libc::c_int;
use parking_lot::Mutex;
use std::sync::{Arc, LazyLock};
use uadk_crypto::{CipherAlg, CipherMode, CipherSession, Direction};
use uadk_wd_common::abi::*;
use uadk_wd_common::boundary::guard;
use uadk_wd_common::registry::Registry;
use uadk_wd_common::setting::Setting;
use uadk_wd_common::wd_err;
use zeroize::Zeroizing;

struct Keyed {
    alg: CipherAlg,
    key: Zeroizing<Vec<u8>>,
    sessions: [Option<Arc<CipherSession>>; 2],
}

/// A cipher session.
pub struct CipherSess {
    setting: Arc<Setting<Done<WdCipherReq>>>,
    key: HandleT,
    aes: bool,
    mode: CipherMode,
    keyed: Mutex<Option<Keyed>>,
    route: Mutex<String>,
}

impl Drop for CipherSess {
    fn drop(&mut self) {
        self.setting.free_key(self.key);
    }
}

static SESSIONS: LazyLock<Registry<CipherSess>> = LazyLock::new(|| Registry::new(0x63));

pub(crate) fn route_of(h: HandleT) -> Option<String> {
    SESSIONS.get(h).map(|s| s.route.lock().clone())
}

fn get(h: HandleT) -> Result<Arc<CipherSess>, c_int> {
    SESSIONS.get(h).ok_or_else(|| {
        wd_err!("{h:#x} is not a live cipher session");
        failed(-WD_EINVAL)
    })
}

/// A cipher session for `setup` (`alg` SM4 or AES, `mode` ECB, CBC, CTR or XTS); 0 for
/// NULL, other algorithms or modes, or an uninitialised library.
///
/// # Safety
/// `setup` is NULL or readable; its `sched_param` NULL or what the scheduler expects.
pub unsafe extern "C" fn wd_cipher_alloc_sess(setup: *mut WdCipherSessSetup) -> HandleT {
    guard("wd_cipher_alloc_sess", 0, || {
        if setup.is_null() {
            return 0;
        }
        // SAFETY: non-NULL; the fields before mm_ops are read.
        let (alg, mode, param) = unsafe { ((*setup).alg, (*setup).mode, (*setup).sched_param) };
        let mode = match mode {
            0 => CipherMode::Ecb,
            1 => CipherMode::Cbc,
            2 => CipherMode::Ctr,
            3 => CipherMode::Xts,
            _ => {
                wd_err!("wd_cipher_alloc_sess: mode {mode} is not offered (ECB, CBC, CTR, XTS)");
                return 0;
            }
        };
        if alg > 1 {
            wd_err!("wd_cipher_alloc_sess: algorithm {alg} is not offered (SM4, AES)");
            return 0;
        }
        let Some(setting) = CIPHER.current() else {
            wd_err!("wd_cipher_alloc_sess: the library is not initialised");
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
        SESSIONS.insert(Arc::new(CipherSess {
            setting,
            key,
            aes: alg == 1,
            mode,
            keyed: Mutex::new(None),
            route: Mutex::new(route),
        }))
    })
}

/// Frees a session (unknown handles are ignored).
pub extern "C" fn wd_cipher_free_sess(h_sess: HandleT) {
    guard("wd_cipher_free_sess", (), || {
        SESSIONS.remove(h_sess);
    })
}

fn alg_for(aes: bool, mode: CipherMode, key_len: usize) -> Option<CipherAlg> {
    let m = match mode {
        CipherMode::Ecb => "ecb",
        CipherMode::Cbc => "cbc",
        CipherMode::Ctr => "ctr",
        CipherMode::Xts => "xts",
    };
    let half = if mode == CipherMode::Xts {
        key_len / 2
    } else {
        key_len
    };
    let name = match (aes, half) {
        (true, 16 | 24 | 32) if mode != CipherMode::Xts || key_len.is_multiple_of(2) => {
            format!("aes-{}-{m}", half * 8)
        }
        (false, 16) if mode != CipherMode::Xts || key_len == 32 => format!("sm4-{m}"),
        _ => return None,
    };
    CipherAlg::from_name(&name).ok()
}

/// Sets the key: 0, or `-WD_EINVAL` for a bad session, NULL key or a length the
/// algorithm does not take (or XTS halves that are equal).
///
/// # Safety
/// `key` is NULL or readable for `key_len` bytes.
pub unsafe extern "C" fn wd_cipher_set_key(h_sess: HandleT, key: *const u8, key_len: u32) -> c_int {
    guard("wd_cipher_set_key", -WD_EINVAL, || {
        let s = match get(h_sess) {
            Ok(s) => s,
            Err(e) => return e,
        };
        if key.is_null() {
            return failed(-WD_EINVAL);
        }
        let Some(alg) = alg_for(s.aes, s.mode, key_len as usize) else {
            wd_err!("wd_cipher_set_key: {key_len}-byte keys do not fit this session's algorithm");
            return failed(-WD_EINVAL);
        };
        // SAFETY: readable for key_len bytes per the contract.
        let k = Zeroizing::new(unsafe { std::slice::from_raw_parts(key, key_len as usize) }.to_vec());
        if let Err(e) = CipherSession::software(alg, &k) {
            wd_err!("wd_cipher_set_key: {e}");
            return failed(-WD_EINVAL);
        }
        *s.keyed.lock() = Some(Keyed {
            alg,
            key: k,
            sessions: [None, None],
        });
        0
    })
}

fn session(s: &CipherSess, device: bool) -> Result<(Arc<CipherSession>, CipherAlg), c_int> {
    let mut g = s.keyed.lock();
    let Some(k) = g.as_mut() else {
        wd_err!("cipher request before wd_cipher_set_key");
        return Err(failed(-WD_EINVAL));
    };
    if k.sessions[device as usize].is_none() {
        let cs = CipherSession::new(&crypto(device), k.alg, &k.key).map_err(|e| {
            wd_err!("cipher session: {e}");
            failed(-WD_EINVAL)
        })?;
        k.sessions[device as usize] = Some(Arc::new(cs));
    }
    Ok((k.sessions[device as usize].clone().expect("set above"), k.alg))
}

/// Adds `blocks` to a 128-bit big-endian counter.
fn ctr_add(iv: &mut [u8; 16], blocks: u128) {
    let v = u128::from_be_bytes(*iv).wrapping_add(blocks);
    *iv = v.to_be_bytes();
}

/// Runs one request; returns the route.
///
/// # Safety
/// The request's buffers are valid for their lengths (UADK's contract).
unsafe fn run(s: &CipherSess, r: &WdCipherReq, device: bool) -> Result<(), c_int> {
    if r.data_fmt as u32 != WD_FLAT_BUF {
        wd_err!("cipher request: only flat buffers are offered");
        return Err(failed(-WD_EINVAL));
    }
    if r.op_type > 1 || r.in_bytes == 0 || r.src.is_null() || r.dst.is_null() || r.out_buf_bytes < r.in_bytes
    {
        wd_err!(
            "cipher request: op_type {}, in_bytes {}, out_buf_bytes {} or a NULL buffer",
            r.op_type,
            r.in_bytes,
            r.out_buf_bytes
        );
        return Err(failed(-WD_EINVAL));
    }
    let (cs, alg) = session(s, device)?;
    let needs_iv = alg.mode != CipherMode::Ecb;
    let mut iv = [0u8; 16];
    if needs_iv {
        if r.iv.is_null() || r.iv_bytes < 16 {
            wd_err!("cipher request: iv_bytes {} (16 needed)", r.iv_bytes);
            return Err(failed(-WD_EINVAL));
        }
        // SAFETY: the IV is readable for iv_bytes >= 16 bytes per the contract.
        iv.copy_from_slice(unsafe { bytes(r.iv, 16) }?);
    }
    let dir = if r.op_type == 0 {
        Direction::Encrypt
    } else {
        Direction::Decrypt
    };
    let n = r.in_bytes as usize;
    let src = r.src as *const u8;
    let dst = r.dst as *mut u8;
    // CBC decryption chains on the last ciphertext block, which in place is overwritten.
    let mut next_iv = [0u8; 16];
    if alg.mode == CipherMode::Cbc && dir == Direction::Decrypt && n >= 16 {
        // SAFETY: src is readable for n bytes.
        next_iv.copy_from_slice(unsafe { std::slice::from_raw_parts(src.add(n - 16), 16) });
    }
    let ivs: &[u8] = if needs_iv { &iv } else { &[] };
    let result = if std::ptr::eq(src, dst) {
        // SAFETY: one buffer, readable and writable for n bytes per the contract.
        let buf = unsafe { std::slice::from_raw_parts_mut(dst, n) };
        match dir {
            Direction::Encrypt => cs.encrypt_in_place(ivs, buf),
            Direction::Decrypt => cs.decrypt_in_place(ivs, buf),
        }
    } else if overlaps(src, n, dst, n) {
        // SAFETY: src readable for n bytes; copied before dst is written.
        let input = unsafe { std::slice::from_raw_parts(src, n) }.to_vec();
        // SAFETY: dst writable for n <= out_buf_bytes bytes.
        let out = unsafe { std::slice::from_raw_parts_mut(dst, n) };
        cs.crypt(dir, ivs, &input, out)
    } else {
        // SAFETY: disjoint buffers, readable / writable for n bytes per the contract.
        let (input, out) = unsafe {
            (
                std::slice::from_raw_parts(src, n),
                std::slice::from_raw_parts_mut(dst, n),
            )
        };
        cs.crypt(dir, ivs, input, out)
    };
    let route = result.map_err(|e| {
        wd_err!("cipher request: {e}");
        let code = if matches!(e, uadk_crypto::Error::Device { .. }) {
            -WD_EIO
        } else {
            -WD_EINVAL
        };
        failed(code)
    })?;
    record(&route);
    *s.route.lock() = route.to_string();
    match alg.mode {
        CipherMode::Cbc if n >= 16 => {
            if dir == Direction::Encrypt {
                // SAFETY: dst holds n bytes of output.
                next_iv.copy_from_slice(unsafe { std::slice::from_raw_parts(dst.add(n - 16), 16) });
            }
            // SAFETY: the IV is writable for iv_bytes >= 16 bytes per the contract.
            unsafe { std::ptr::copy_nonoverlapping(next_iv.as_ptr(), r.iv as *mut u8, 16) };
        }
        CipherMode::Ctr => {
            ctr_add(&mut iv, (n as u128).div_ceil(16));
            // SAFETY: as above.
            unsafe { std::ptr::copy_nonoverlapping(iv.as_ptr(), r.iv as *mut u8, 16) };
        }
        _ => {}
    }
    Ok(())
}

/// Encrypts or decrypts `in_bytes` of `src` into `dst`: 0 with `state == 0` and
/// `out_bytes == in_bytes`; `-WD_EINVAL` for bad arguments (NULL, lengths the mode does
/// not take, no key), `-WD_EIO` for a device failure without fallback.
///
/// # Safety
/// `req` is NULL or a valid request whose buffers are valid for their lengths.
pub unsafe extern "C" fn wd_do_cipher_sync(h_sess: HandleT, req: *mut WdCipherReq) -> c_int {
    guard("wd_do_cipher_sync", -WD_EINVAL, || {
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
                unsafe {
                    (*req).out_bytes = r.in_bytes;
                    (*req).state = 0;
                }
                0
            }
            Err(e) => e,
        }
    })
}

fn deliver(r: &mut WdCipherReq) {
    if let Some(cb) = r.cb {
        let p = r.cb_param;
        // SAFETY: the caller's callback with its own request (UADK's contract).
        unsafe { cb(r, p) };
    }
}

/// As [`wd_do_cipher_sync`], run at submission and completed through
/// `req->cb(req, req->cb_param)` when polled; `-WD_EBUSY` when 1024 completions wait.
///
/// # Safety
/// As [`wd_do_cipher_sync`]; the buffers stay valid until the callback.
pub unsafe extern "C" fn wd_do_cipher_async(h_sess: HandleT, req: *mut WdCipherReq) -> c_int {
    guard("wd_do_cipher_async", -WD_EINVAL, || {
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
            wd_err!("wd_do_cipher_async: cb is NULL");
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
        r.out_bytes = r.in_bytes;
        r.state = 0;
        match s.setting.push_async(idx, Done::new(r, deliver)) {
            Ok(()) => 0,
            Err(e) => failed(e),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_lengths_pick_variants() {
        assert_eq!(alg_for(true, CipherMode::Cbc, 24).unwrap().name(), "aes-192-cbc");
        assert_eq!(alg_for(true, CipherMode::Xts, 64).unwrap().name(), "aes-256-xts");
        assert_eq!(alg_for(false, CipherMode::Xts, 32).unwrap().name(), "sm4-xts");
        assert!(alg_for(false, CipherMode::Cbc, 32).is_none());
        assert!(alg_for(true, CipherMode::Ecb, 20).is_none());
    }

    #[test]
    fn counter_carries() {
        let mut iv = [0xffu8; 16];
        iv[0] = 0;
        ctr_add(&mut iv, 1);
        assert_eq!(iv[0], 1);
        assert!(iv[1..].iter().all(|b| *b == 0));
    }

    #[test]
    fn unknown_sessions_fail() {
        let key = [0u8; 16];
        assert_eq!(
            // SAFETY: `key` is readable for the 16 bytes given and outlives the call.
            unsafe { wd_cipher_set_key(42, key.as_ptr(), 16) },
            -WD_EINVAL
        );
        // SAFETY: a NULL `req` is allowed (the function returns -WD_EINVAL for it).
        assert_eq!(unsafe { wd_do_cipher_sync(42, std::ptr::null_mut()) }, -WD_EINVAL);
    }
}
