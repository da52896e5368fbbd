//! The C entry points called from Rust: handle life cycles under concurrency, forged ids,
//! and the last-error machinery, beyond what the C programs can make happen on purpose.

use std::ptr::{null, null_mut};
use std::sync::{Arc, Barrier};
use uadk::status::*;
use uadk::zip::*;
use uadk::{uadk_get_counters, uadk_last_error_code, uadk_lib_counters};

fn session() -> uadk_zip_session {
    let mut cfg = std::mem::MaybeUninit::uninit();
    // SAFETY: a writable config.
    assert_eq!(unsafe { uadk_zip_config_default(cfg.as_mut_ptr()) }, UADK_OK);
    // SAFETY: written by the call above.
    let mut cfg = unsafe { cfg.assume_init() };
    cfg.backend = UADK_BACKEND_SOFTWARE;
    cfg.level = 9;
    let mut s = uadk_zip_session { id: 0 };
    // SAFETY: valid pointers.
    assert_eq!(unsafe { uadk_zip_session_create(&cfg, &mut s) }, UADK_OK);
    s
}

fn compress(s: uadk_zip_session, src: &[u8], dst: &mut [u8]) -> (uadk_status, usize) {
    let mut n = 0;
    // SAFETY: the slices are valid for their lengths and do not overlap.
    let rc = unsafe {
        uadk_zip_compress(
            s,
            src.as_ptr(),
            src.len(),
            dst.as_mut_ptr(),
            dst.len(),
            &mut n,
            null_mut(),
        )
    };
    (rc, n)
}

#[test]
fn a_session_destroyed_while_another_thread_uses_it_finishes_that_call() {
    let s = session();
    let src: Vec<u8> = (0..4u32 << 20)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8 % 7)
        .collect();
    let start = Arc::new(Barrier::new(2));
    let worker = {
        let (start, src) = (start.clone(), src.clone());
        std::thread::spawn(move || {
            let mut dst = vec![0u8; src.len() + 4096];
            start.wait();
            (0..4).map(|_| compress(s, &src, &mut dst).0).collect::<Vec<_>>()
        })
    };
    start.wait();
    assert_eq!(uadk_zip_session_destroy(s), UADK_OK);
    // Every call either ran to completion on the live object or saw a stale handle.
    for rc in worker.join().unwrap() {
        assert!(rc == UADK_OK || rc == UADK_E_INVALID_HANDLE, "{rc}");
    }
    let mut dst = vec![0u8; 64];
    assert_eq!(compress(s, b"x", &mut dst).0, UADK_E_INVALID_HANDLE);
    assert_eq!(uadk_last_error_code(), UADK_E_INVALID_HANDLE);
}

#[test]
fn forged_ids_and_churned_slots_are_rejected() {
    let mut x = 0x9e37_79b9_7f4a_7c15u64;
    let mut dst = [0u8; 64];
    for _ in 0..10_000 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let forged = uadk_zip_session { id: x };
        assert_eq!(compress(forged, b"abc", &mut dst).0, UADK_E_INVALID_HANDLE);
        assert_eq!(uadk_zip_session_destroy(forged), UADK_E_INVALID_HANDLE);
    }
    // Reused slots never bring an old id back to life.
    let mut old = Vec::new();
    for _ in 0..200 {
        let s = session();
        assert_eq!(uadk_zip_session_destroy(s), UADK_OK);
        old.push(s);
    }
    let live = session();
    for s in &old {
        assert_ne!(s.id, live.id);
        assert_eq!(compress(*s, b"abc", &mut dst).0, UADK_E_INVALID_HANDLE);
    }
    assert_eq!(compress(live, b"abc", &mut dst).0, UADK_OK);
    assert_eq!(uadk_zip_session_destroy(live), UADK_OK);
    let mut c = uadk_lib_counters::default();
    // SAFETY: a writable struct.
    assert_eq!(unsafe { uadk_get_counters(&mut c) }, UADK_OK);
    assert!(c.invalid_handles >= 20_000 && c.panics == 0);
}

#[test]
fn null_and_length_checks_come_before_any_work() {
    let s = session();
    let mut n = 0usize;
    // SAFETY: every pointer is NULL or valid; the calls must reject the NULL ones.
    unsafe {
        assert_eq!(
            uadk_zip_compress(s, null(), 1, null_mut(), 0, &mut n, null_mut()),
            UADK_E_NULL_POINTER
        );
        assert_eq!(
            uadk_zip_compress(s, null(), 0, null_mut(), 0, null_mut(), null_mut()),
            UADK_E_NULL_POINTER
        );
        assert_eq!(uadk_zip_session_create(null(), null_mut()), UADK_E_NULL_POINTER);
        let buf = [0u8; 16];
        assert_eq!(
            uadk_zip_compress(
                s,
                buf.as_ptr(),
                usize::MAX,
                buf.as_ptr().cast_mut(),
                8,
                &mut n,
                null_mut()
            ),
            UADK_E_BAD_LENGTH
        );
    }
    assert_eq!(uadk_zip_session_destroy(s), UADK_OK);
}
