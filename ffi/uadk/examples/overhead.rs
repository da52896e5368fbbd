//! The cost of the C layer: the same requests through the Rust API and through the C entry
//! points (handle lookup, argument checks, panic guard, report), interleaved in one run, as
//! a ratio. Software paths only.
//!
//! ```sh
//! cargo run --release -p uadk-ffi --example overhead
//! ```

use std::hint::black_box;
use std::ptr::null_mut;
use std::time::{Duration, Instant};
use uadk::crypto::*;
use uadk::status::UADK_OK;
use uadk::zip::*;

/// Best-of-rounds time per call of `f`, each round `iters` calls.
fn time(iters: u32, mut f: impl FnMut()) -> Duration {
    let start = Instant::now();
    for _ in 0..iters {
        f();
    }
    start.elapsed() / iters
}

fn compare(name: &str, iters: u32, mut rust: impl FnMut(), mut c: impl FnMut()) {
    let (mut best_r, mut best_c) = (Duration::MAX, Duration::MAX);
    for _ in 0..7 {
        best_r = best_r.min(time(iters, &mut rust));
        best_c = best_c.min(time(iters, &mut c));
    }
    println!(
        "{name:<34} rust {:>10.0} ns   C {:>10.0} ns   C/rust {:.3}",
        best_r.as_nanos() as f64,
        best_c.as_nanos() as f64,
        best_c.as_nanos() as f64 / best_r.as_nanos() as f64
    );
}

fn text(len: usize) -> Vec<u8> {
    let words = ["queue ", "doorbell ", "deflate ", "chunk ", "pool\n", "zip "];
    let mut x = 12345u32;
    let mut v = Vec::with_capacity(len + 16);
    while v.len() < len {
        x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
        v.extend_from_slice(words[(x >> 16) as usize % words.len()].as_bytes());
    }
    v.truncate(len);
    v
}

fn main() {
    let src = text(64 << 10);
    // Each side writes its own buffers.
    let (mut dst, mut dst_c) = (vec![0u8; 128 << 10], vec![0u8; 128 << 10]);

    // zip one-shot, 64 KiB, levels 1 and 6.
    for level in [1u32, 6] {
        let rust = uadk_zip::Session::new(uadk_zip::Config {
            format: uadk_zip::Format::Zlib,
            level,
            backend: uadk_zip::Backend::Software,
            ..Default::default()
        })
        .unwrap();
        let mut cfg = std::mem::MaybeUninit::uninit();
        // SAFETY: valid out-pointers throughout.
        let s = unsafe {
            assert_eq!(uadk_zip_config_default(cfg.as_mut_ptr()), UADK_OK);
            let mut cfg = cfg.assume_init();
            cfg.format = UADK_FORMAT_ZLIB;
            cfg.level = level;
            cfg.backend = UADK_BACKEND_SOFTWARE;
            let mut s = uadk_zip_session::default();
            assert_eq!(uadk_zip_session_create(&cfg, &mut s), UADK_OK);
            s
        };
        let z = rust.compress(&src).unwrap();
        let (mut out, mut out_c) = (vec![0u8; src.len()], vec![0u8; src.len()]);
        let mut n = 0usize;
        compare(
            &format!("zlib compress 64 KiB level {level}"),
            100,
            || {
                black_box(rust.compress_into(&src, &mut dst).unwrap());
            },
            || {
                // SAFETY: valid buffers.
                let rc = unsafe {
                    uadk_zip_compress(
                        s,
                        src.as_ptr(),
                        src.len(),
                        dst_c.as_mut_ptr(),
                        dst_c.len(),
                        &mut n,
                        null_mut(),
                    )
                };
                assert_eq!(rc, UADK_OK);
            },
        );
        if level == 6 {
            compare(
                "zlib decompress 64 KiB",
                300,
                || {
                    black_box(rust.decompress_into(&z, &mut out).unwrap());
                },
                || {
                    // SAFETY: valid buffers.
                    let rc = unsafe {
                        uadk_zip_decompress(
                            s,
                            z.as_ptr(),
                            z.len(),
                            out_c.as_mut_ptr(),
                            out_c.len(),
                            &mut n,
                            null_mut(),
                        )
                    };
                    assert_eq!(rc, UADK_OK);
                },
            );
        }
        assert_eq!(uadk_zip_session_destroy(s), UADK_OK);
    }

    // crypto: small and 16 KiB requests, where a fixed per-call cost shows most.
    let ctx_rust = ::uadk_crypto::Crypto::new(::uadk_crypto::Backend::Software);
    let mut cfg = std::mem::MaybeUninit::uninit();
    // SAFETY: valid out-pointers.
    let ctx = unsafe {
        assert_eq!(uadk_crypto_config_default(cfg.as_mut_ptr()), UADK_OK);
        let mut cfg = cfg.assume_init();
        cfg.backend = UADK_BACKEND_SOFTWARE;
        let mut ctx = uadk_crypto::default();
        assert_eq!(uadk_crypto_create(&cfg, &mut ctx), UADK_OK);
        ctx
    };
    let sha_rust = ::uadk_crypto::DigestSession::new(&ctx_rust, ::uadk_crypto::DigestAlg::Sha256).unwrap();
    let mut sha = uadk_digest_session::default();
    // SAFETY: valid pointers.
    assert_eq!(
        unsafe { uadk_digest_session_create(ctx, c"sha256".as_ptr(), &mut sha) },
        UADK_OK
    );
    let gcm_rust = ::uadk_crypto::AeadSession::new(
        &ctx_rust,
        ::uadk_crypto::AeadAlg::from_name("aes-128-gcm").unwrap(),
        &[7; 16],
        16,
    )
    .unwrap();
    let mut gcm = uadk_aead_session::default();
    // SAFETY: valid pointers.
    assert_eq!(
        unsafe {
            uadk_aead_session_create(ctx, c"aes-128-gcm".as_ptr(), [7u8; 16].as_ptr(), 16, 16, &mut gcm)
        },
        UADK_OK
    );
    let (mut md, mut md_c) = ([0u8; 32], [0u8; 32]);
    let (mut tag, mut tag_c) = ([0u8; 16], [0u8; 16]);
    let nonce = [1u8; 12];
    let mut n = 0usize;
    for len in [64usize, 16 << 10] {
        let data = &src[..len];
        compare(
            &format!("sha256 {len} B"),
            20_000,
            || {
                black_box(sha_rust.digest(data, &mut md).unwrap());
            },
            || {
                // SAFETY: valid buffers.
                let rc = unsafe {
                    uadk_digest(sha, data.as_ptr(), len, md_c.as_mut_ptr(), 32, &mut n, null_mut())
                };
                assert_eq!(rc, UADK_OK);
            },
        );
        compare(
            &format!("aes-128-gcm seal {len} B"),
            20_000,
            || {
                black_box(
                    gcm_rust
                        .seal(&nonce, b"", data, &mut dst[..len], &mut tag)
                        .unwrap(),
                );
            },
            || {
                // SAFETY: valid, disjoint buffers.
                let rc = unsafe {
                    uadk_aead_seal(
                        gcm,
                        nonce.as_ptr(),
                        12,
                        null_mut::<u8>(),
                        0,
                        data.as_ptr(),
                        len,
                        dst_c.as_mut_ptr(),
                        len,
                        tag_c.as_mut_ptr(),
                        16,
                        null_mut(),
                    )
                };
                assert_eq!(rc, UADK_OK);
            },
        );
    }
    assert_eq!(uadk_digest_session_destroy(sha), UADK_OK);
    assert_eq!(uadk_aead_session_destroy(gcm), UADK_OK);
    assert_eq!(uadk_crypto_destroy(ctx), UADK_OK);
}
