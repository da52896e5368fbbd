//! Fuzzes `struct wd_comp_req` through libwd_comp's calls: every field a caller controls
//! (direction, format, `last`, `data_fmt`, lengths up to the real buffer sizes, the
//! input bytes) over a sequence of stream, sync, sync2 and async requests on sessions
//! of every format. Checks that nothing panics or crashes, that outputs stay within the
//! given lengths, and that a compressed stream decompresses back.
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

unsafe extern "C" fn cb(_req: *mut WdCompReq, _p: *mut libc::c_void) -> *mut libc::c_void {
    std::ptr::null_mut()
}

fuzz_target!(|data: &[u8]| {
    INIT.call_once(|| {
        std::env::set_var("UADK_SYSFS_ROOT", "/nonexistent");
        std::env::set_var("WD_RS_QUIET", "1");
        // SAFETY: a valid name; NULL params.
        let r = unsafe { wd_comp::wd_comp_init2_(c"zlib".as_ptr() as *mut _, 0, 0, std::ptr::null_mut()) };
        assert_eq!(r, 0);
    });
    let mut d = data;
    let alg = (byte(&mut d) % 4) as u32; // 3 is refused

    // SAFETY: `WdCompSessSetup` is plain C data (integers, raw pointers, `Option` of fn
    // pointers, a bool); all-zero bytes are a valid value of every field.
    let mut setup: WdCompSessSetup = unsafe { std::mem::zeroed() };
    setup.alg_type = alg;
    setup.comp_lv = (byte(&mut d) % 17) as u32;
    setup.win_sz = (byte(&mut d) % 6) as u32;
    setup.op_type = (byte(&mut d) % 3) as u32;
    // SAFETY: a valid setup with a NULL sched_param.
    let h = unsafe { wd_comp::wd_comp_alloc_sess(&mut setup) };
    let mut out = vec![0u8; 1 << 16];
    // Source buffers stay alive until after `wd_comp_poll`: UADK's contract keeps an
    // async request's buffers valid until its callback has run.
    let mut held = Vec::new();
    for _ in 0..(byte(&mut d) % 8) {
        let kind = byte(&mut d) % 4;
        let n = byte(&mut d) as usize;
        let n = n << (byte(&mut d) % 8);
        let mut src = take(&mut d, n);
        src.push(0);
        // SAFETY: `WdCompReq` is plain C data (integers, raw pointers, an `Option` of a fn
        // pointer); all-zero bytes are a valid value of every field.
        let mut req: WdCompReq = unsafe { std::mem::zeroed() };
        req.op_type = (byte(&mut d) % 3) as u32;
        req.data_fmt = (byte(&mut d) % 3) as u32;
        req.last = (byte(&mut d) % 2) as u32;
        req.src = src.as_mut_ptr().cast();
        req.src_len = (src.len() - (byte(&mut d) % 2) as usize) as u32;
        req.dst = out.as_mut_ptr().cast();
        let room = byte(&mut d) as usize;
        let room = (room << (byte(&mut d) % 9)).min(out.len());
        req.dst_len = room as u32;
        if req.data_fmt == WD_SGL_BUF {
            req.data_fmt = WD_FLAT_BUF; // lists need real list memory; covered by the C tests
        }
        let (sl, dl) = (req.src_len, req.dst_len);
        // SAFETY: `req` is a live, initialised request; `src_len <= src.len()` and
        // `dst_len <= out.len()`, so both buffers are valid for the lengths given; `src`
        // is kept in `held` and `out` lives to the end, past the poll that completes an
        // async request; `cb` ignores its arguments, so the opaque `cb_param` is never
        // dereferenced.
        let ret = unsafe {
            match kind {
                0 => wd_comp::wd_do_comp_strm(h, &mut req),
                1 => wd_comp::wd_do_comp_sync(h, &mut req),
                2 => wd_comp::wd_do_comp_sync2(h, &mut req),
                _ => {
                    req.cb = Some(cb);
                    req.cb_param = 1 as *mut libc::c_void;
                    wd_comp::wd_do_comp_async(h, &mut req)
                }
            }
        };
        if ret == 0 {
            assert!(
                req.src_len <= sl && req.dst_len <= dl,
                "lengths grew: {sl}->{} {dl}->{}",
                req.src_len,
                req.dst_len
            );
        }
        held.push(src);
    }
    let mut count = 0u32;
    // SAFETY: `count` is a live, writable u32; the async requests' buffers (`held`, `out`)
    // are still alive while their callbacks run, and `cb` dereferences nothing.
    unsafe { wd_comp::wd_comp_poll(1024, &mut count) };
    drop(held);
    wd_comp::wd_comp_free_sess(h);
    // Round trip of the remaining bytes through a zlib session.
    // SAFETY: as for `setup` above: all-zero is a valid `WdCompSessSetup`.
    let mut s2: WdCompSessSetup = unsafe { std::mem::zeroed() };
    s2.alg_type = 1;
    // SAFETY: `s2` is a live, initialised setup with a NULL sched_param.
    let h2 = unsafe { wd_comp::wd_comp_alloc_sess(&mut s2) };
    if !d.is_empty() {
        let mut src = d.to_vec();
        let mut z = vec![0u8; src.len() * 2 + 64];
        // SAFETY: as above: all-zero is a valid `WdCompReq`.
        let mut req: WdCompReq = unsafe { std::mem::zeroed() };
        req.src = src.as_mut_ptr().cast();
        req.src_len = src.len() as u32;
        req.dst = z.as_mut_ptr().cast();
        req.dst_len = z.len() as u32;
        // SAFETY: `req.src` and `req.dst` point to `src` and `z`, which outlive the call
        // and hold exactly `src_len` and `dst_len` bytes.
        assert_eq!(unsafe { wd_comp::wd_do_comp_sync(h2, &mut req) }, 0);
        assert_eq!(req.status, 0);
        let zl = req.dst_len;
        let mut back = vec![0u8; src.len() + 1];
        // SAFETY: as above: all-zero is a valid `WdCompReq`.
        let mut r2: WdCompReq = unsafe { std::mem::zeroed() };
        r2.op_type = 1;
        r2.src = z.as_mut_ptr().cast();
        r2.src_len = zl;
        r2.dst = back.as_mut_ptr().cast();
        r2.dst_len = back.len() as u32;
        // SAFETY: `r2.src` is `z`, of which the library reported writing `zl` bytes (at
        // most its `dst_len`, `z.len()`); `r2.dst` is `back`, `back.len()` bytes; both
        // outlive the call.
        assert_eq!(unsafe { wd_comp::wd_do_comp_sync(h2, &mut r2) }, 0);
        assert_eq!(&back[..r2.dst_len as usize], &src[..]);
    }
    wd_comp::wd_comp_free_sess(h2);
});
