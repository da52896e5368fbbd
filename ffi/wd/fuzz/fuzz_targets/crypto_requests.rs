//! Fuzzes `struct wd_cipher_req`, `wd_digest_req` and `wd_aead_req` through
//! libwd_crypto: algorithms, modes, key lengths, IV lengths, lengths up to the real
//! buffer sizes, in-place and out-of-place, `has_next` sequences, AEAD layouts with and
//! without a mac buffer, tags that do not verify. Checks that nothing panics or crashes
//! and that a failed tag check releases no plaintext.
#![no_main]

use libfuzzer_sys::fuzz_target;
// libwd's implementation serves the calls the other two make into libwd.so.2.
use std::sync::Once;
use uadk_wd_common::abi::*;
use wd as _;

static INIT: Once = Once::new();

fn take(d: &mut &[u8], n: usize) -> Vec<u8> {
    let n = n.min(d.len());
    let (a, b) = d.split_at(n);
    *d = b;
    a.to_vec()
}

fn byte(d: &mut &[u8]) -> u8 {
    take(d, 1).first().copied().unwrap_or(0)
}

fuzz_target!(|data: &[u8]| {
    INIT.call_once(|| {
        std::env::set_var("UADK_SYSFS_ROOT", "/nonexistent");
        std::env::set_var("WD_RS_QUIET", "1");
        let n = std::ptr::null_mut();
        // SAFETY: valid names, NULL params.
        unsafe {
            assert_eq!(
                wd_crypto::wd_cipher_init2_(c"cipher".as_ptr() as *mut _, 0, 0, n),
                0
            );
            assert_eq!(
                wd_crypto::wd_digest_init2_(c"digest".as_ptr() as *mut _, 0, 0, n),
                0
            );
            assert_eq!(wd_crypto::wd_aead_init2_(c"aead".as_ptr() as *mut _, 0, 0, n), 0);
        }
    });
    let mut d = data;
    let mut buf = vec![0u8; 4096 + 64];
    let mut out = vec![0u8; 4096 + 64];
    let mut iv = vec![0u8; 32];
    let mut mac = [0u8; 32];
    match byte(&mut d) % 3 {
        0 => {
            // SAFETY: `WdCipherSessSetup` is plain C data (integers, raw pointers, `Option`
            // of fn pointers, a bool); all-zero bytes are a valid value of every field.
            let mut s: WdCipherSessSetup = unsafe { std::mem::zeroed() };
            s.alg = (byte(&mut d) % 5) as u32;
            s.mode = (byte(&mut d) % 13) as u32;
            // SAFETY: a valid setup.
            let h = unsafe { wd_crypto::wd_cipher_alloc_sess(&mut s) };
            let key = {
                let n = (byte(&mut d) % 70) as usize;
                take(&mut d, n)
            };
            // SAFETY: key valid for its length.
            unsafe { wd_crypto::wd_cipher_set_key(h, key.as_ptr(), key.len() as u32) };
            let src = take(&mut d, 4096);
            buf[..src.len()].copy_from_slice(&src);
            // SAFETY: `WdCipherReq` is plain C data (integers, raw pointers, an `Option` of a
            // fn pointer); all-zero bytes are a valid value of every field.
            let mut r: WdCipherReq = unsafe { std::mem::zeroed() };
            r.op_type = (byte(&mut d) % 3) as u32;
            r.src = buf.as_mut_ptr().cast();
            r.dst = if byte(&mut d) % 2 == 0 {
                buf.as_mut_ptr().cast()
            } else {
                out.as_mut_ptr().cast()
            };
            r.in_bytes = src.len() as u32;
            r.out_buf_bytes = (src.len() + (byte(&mut d) % 3) as usize).saturating_sub(1) as u32;
            r.iv = iv.as_mut_ptr().cast();
            r.iv_bytes = (byte(&mut d) % 33) as u32;
            // SAFETY: `src` and `dst` are `buf`/`out` (4160 bytes each) with `in_bytes` <= 4096
            // and `out_buf_bytes` <= 4097; `iv` is 32 bytes with `iv_bytes` <= 32; all
            // outlive the call.
            unsafe { wd_crypto::wd_do_cipher_sync(h, &mut r) };
            wd_crypto::wd_cipher_free_sess(h);
        }
        1 => {
            // SAFETY: as for the cipher setup: all-zero is a valid `WdDigestSessSetup`.
            let mut s: WdDigestSessSetup = unsafe { std::mem::zeroed() };
            s.alg = (byte(&mut d) % 14) as u32;
            s.mode = (byte(&mut d) % 3) as u32;
            // SAFETY: a valid setup.
            let h = unsafe { wd_crypto::wd_digest_alloc_sess(&mut s) };
            let key = {
                let n = (byte(&mut d) % 140) as usize;
                take(&mut d, n)
            };
            // SAFETY: key valid for its length.
            unsafe { wd_crypto::wd_digest_set_key(h, key.as_ptr(), key.len() as u32) };
            for _ in 0..(byte(&mut d) % 5) {
                let mut src = {
                    let n = (byte(&mut d) as usize) * 3;
                    take(&mut d, n)
                };
                // SAFETY: `WdDigestReq` is plain C data (integers, raw pointers, an `Option`
                // of a fn pointer); all-zero bytes are a valid value of every field.
                let mut r: WdDigestReq = unsafe { std::mem::zeroed() };
                r.in_ = src.as_mut_ptr().cast();
                r.in_bytes = src.len() as u32;
                r.out = out.as_mut_ptr().cast();
                r.out_bytes = (byte(&mut d) % 70) as u32;
                r.out_buf_bytes = 64;
                r.has_next = (byte(&mut d) % 5) as u16;
                // SAFETY: `in_` is `src`, `in_bytes` long; `out` has 4160 bytes, more than
                // `out_buf_bytes` (64) and `out_bytes` (< 70); `iv` is NULL with length 0;
                // all outlive the call.
                unsafe { wd_crypto::wd_do_digest_sync(h, &mut r) };
            }
            wd_crypto::wd_digest_free_sess(h);
        }
        _ => {
            // SAFETY: as for the cipher setup: all-zero is a valid `WdAeadSessSetup`.
            let mut s: WdAeadSessSetup = unsafe { std::mem::zeroed() };
            s.calg = (byte(&mut d) % 3) as u32;
            s.cmode = 8 + (byte(&mut d) % 4) as u32;
            // SAFETY: a valid setup.
            let h = unsafe { wd_crypto::wd_aead_alloc_sess(&mut s) };
            let key = {
                let n = (byte(&mut d) % 40) as usize;
                take(&mut d, n)
            };
            // SAFETY: key valid for its length.
            unsafe { wd_crypto::wd_aead_set_ckey(h, key.as_ptr(), key.len() as u16) };
            wd_crypto::wd_aead_set_authsize(h, (byte(&mut d) % 20) as u16);
            let ivb = take(&mut d, 16);
            iv[..ivb.len()].copy_from_slice(&ivb);
            let src = take(&mut d, 2048);
            buf[..src.len()].copy_from_slice(&src);
            let assoc = (byte(&mut d) as usize).min(src.len());
            // SAFETY: `WdAeadReq` is plain C data (integers, raw pointers, an `Option` of a
            // fn pointer); all-zero bytes are a valid value of every field.
            let mut r: WdAeadReq = unsafe { std::mem::zeroed() };
            r.op_type = (byte(&mut d) % 5) as u32;
            r.src = buf.as_mut_ptr().cast();
            r.dst = if byte(&mut d) % 2 == 0 {
                buf.as_mut_ptr().cast()
            } else {
                out.as_mut_ptr().cast()
            };
            r.mac = if byte(&mut d) % 2 == 0 {
                mac.as_mut_ptr().cast()
            } else {
                std::ptr::null_mut()
            };
            r.mac_bytes = (byte(&mut d) % 33) as u16;
            r.iv = iv.as_mut_ptr().cast();
            r.iv_bytes = (byte(&mut d) % 17) as u16;
            r.assoc_bytes = assoc as u16;
            r.in_bytes = (src.len() - assoc) as u32;
            r.out_bytes = (src.len() + 16) as u32; // buf and out have 64 spare bytes
            r.msg_state = (byte(&mut d) % 2) as u32;
            // SAFETY: buffers valid for the lengths given (tags fit in the spare bytes).
            let ret = unsafe { wd_crypto::wd_do_aead_sync(h, &mut r) };
            if ret == 0 && r.state == WD_VERIFY_ERR as u16 && r.dst == out.as_mut_ptr().cast() {
                let payload = &out[assoc..assoc + r.in_bytes as usize];
                assert!(payload.iter().all(|b| *b == 0), "unverified plaintext released");
            }
            wd_crypto::wd_aead_free_sess(h);
        }
    }
});
