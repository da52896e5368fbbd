//! Where the time of `openssl speed -aead -evp aes-128-gcm` goes: the same message loop
//! through the provider (loaded from `target/<profile>/libuadk_provider.so`), through the
//! default provider, and uadk-crypto's `AeadSession` called directly (with no AAD like
//! `uadk bench crypto`, and with the 13-byte AAD `speed` passes), interleaved in one process
//! so the ratios are not skewed by load changes on a shared machine.
//!
//! ```sh
//! cargo build --release -p uadk-provider --examples
//! target/release/examples/aead_overhead [SIZE] [ROUNDS]
//! # for a profiler: only the provider's loop, N messages (or about 3 s for a non-number)
//! ONLY_OURS=N valgrind --tool=callgrind --toggle-collect='aead_overhead::speed_loop' \
//!     target/release/examples/aead_overhead 64
//! ```
//!
//! Prints ns per message (the minimum over the rounds) and the ratios.

use std::ffi::c_int;
use std::ptr;
use std::time::{Duration, Instant};

use foreign_types::ForeignTypeRef;
use openssl::cipher::Cipher;
use openssl::cipher_ctx::CipherCtx;
use openssl::lib_ctx::LibCtx;
use openssl::provider::Provider;
use openssl_sys as ffi;
use uadk_crypto::{AeadAlg, AeadSession, Crypto};

const EVP_CTRL_AEAD_SET_IVLEN: c_int = 0x9;

/// `openssl speed -aead`'s encryption loop (OpenSSL 3.0.x apps/speed.c), `n` messages.
fn speed_loop(ctx: &CipherCtx, key: &[u8], iv: &[u8; 12], buf: &mut [u8], n: usize) {
    let aad = [0xccu8; 13];
    let p = ctx.as_ptr();
    let mut outl: c_int = 0;
    for _ in 0..n {
        // SAFETY: a live context initialised with a GCM cipher; every buffer is valid for
        // the length passed, and `buf` is encrypted in place as `speed` does.
        unsafe {
            assert_eq!(
                ffi::EVP_CIPHER_CTX_ctrl(p, EVP_CTRL_AEAD_SET_IVLEN, 12, ptr::null_mut()),
                1
            );
            assert_eq!(
                ffi::EVP_CipherInit_ex(p, ptr::null(), ptr::null_mut(), key.as_ptr(), iv.as_ptr(), -1),
                1
            );
            assert_eq!(
                ffi::EVP_EncryptUpdate(p, ptr::null_mut(), &mut outl, aad.as_ptr(), 13),
                1
            );
            assert_eq!(
                ffi::EVP_EncryptUpdate(p, buf.as_mut_ptr(), &mut outl, buf.as_ptr(), buf.len() as c_int),
                1
            );
            assert_eq!(ffi::EVP_EncryptFinal_ex(p, buf.as_mut_ptr(), &mut outl), 1);
        }
    }
}

fn time(mut f: impl FnMut(usize), per_round: Duration) -> f64 {
    // Calibrate, then run for about `per_round`.
    let mut n = 16;
    loop {
        let t = Instant::now();
        f(n);
        let e = t.elapsed();
        if e >= per_round / 8 {
            let m = ((n as f64) * per_round.as_secs_f64() / e.as_secs_f64()) as usize;
            let t = Instant::now();
            f(m.max(1));
            return t.elapsed().as_secs_f64() * 1e9 / m.max(1) as f64;
        }
        n *= 2;
    }
}

fn main() {
    let mut args = std::env::args().skip(1);
    let size: usize = args.next().map_or(16384, |s| s.parse().expect("SIZE"));
    let rounds: usize = args.next().map_or(15, |s| s.parse().expect("ROUNDS"));
    let exe = std::env::current_exe().expect("exe");
    let dir = exe.parent().and_then(|p| p.parent()).expect("target dir");
    let lib = LibCtx::new().expect("libctx");
    Provider::set_default_search_path(Some(&lib), dir.to_str().expect("utf-8 path")).expect("search path");
    let _d = Provider::load(Some(&lib), "default").expect("default provider");
    let _o =
        Provider::load(Some(&lib), "libuadk_provider").expect("libuadk_provider.so beside the example's dir");
    let key = [7u8; 16];
    let iv = [9u8; 12];
    let mk = |prop: &str| {
        let c = Cipher::fetch(Some(&lib), "AES-128-GCM", Some(prop)).expect("fetch");
        let mut ctx = CipherCtx::new().expect("ctx");
        ctx.encrypt_init(Some(&c), Some(&key), Some(&iv)).expect("init");
        ctx
    };
    let ours = mk("provider=uadk_provider");
    let def = mk("provider=default");
    let s = AeadSession::new(
        &Crypto::auto(),
        AeadAlg::from_name("aes-128-gcm").unwrap(),
        &key,
        16,
    )
    .unwrap();
    // The buffer starts `BUF_OFFSET` bytes (default 0) past a 64-byte boundary: AVX-512
    // kernels are slower when their 64-byte loads straddle cache lines, and callers'
    // buffers sit where their allocator put them (`openssl speed`'s is malloc's, 16 bytes
    // past a boundary on glibc; `uadk bench crypto` aligns its buffers).
    let offset: usize = std::env::var("BUF_OFFSET")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let mut backing = vec![0u8; size + 128];
    let start = backing.as_ptr().align_offset(64) + offset % 64;
    let buf = &mut backing[start..start + size];
    let mut tag = [0u8; 16];
    let per = Duration::from_millis(150);
    if let Some(n) = std::env::var_os("ONLY_OURS") {
        // For a profiler: the provider's loop alone, N messages (or about three seconds).
        match n.to_str().and_then(|n| n.parse().ok()) {
            Some(n) => speed_loop(&ours, &key, &iv, buf, n),
            None => drop(time(
                |n| speed_loop(&ours, &key, &iv, buf, n),
                Duration::from_secs(3),
            )),
        }
        return;
    }
    println!(
        "size {size}, buffer {} bytes past a 64-byte boundary: ns per message (min over {rounds} rounds)",
        offset % 64
    );
    let mut best = [f64::MAX; 4];
    for _ in 0..rounds {
        let r = [
            time(|n| speed_loop(&ours, &key, &iv, buf, n), per),
            time(|n| speed_loop(&def, &key, &iv, buf, n), per),
            time(
                |n| {
                    for _ in 0..n {
                        s.seal_in_place(&iv, &[], buf, &mut tag).unwrap();
                    }
                },
                per,
            ),
            time(
                |n| {
                    for _ in 0..n {
                        s.seal_in_place(&iv, &[0xcc; 13], buf, &mut tag).unwrap();
                    }
                },
                per,
            ),
        ];
        for (b, v) in best.iter_mut().zip(r) {
            *b = b.min(v);
        }
    }
    let names = [
        "speed loop, uadk_provider",
        "speed loop, default",
        "direct, no AAD",
        "direct, 13-byte AAD",
    ];
    for (n, v) in names.iter().zip(best) {
        println!("{n:28} {v:8.1} ns  {:7.0} MB/s", size as f64 * 1e3 / v);
    }
    println!(
        "ours/direct(no AAD) {:.3}  ours/direct(AAD) {:.3}  ours/default {:.3}",
        best[2] / best[0],
        best[3] / best[0],
        best[1] / best[0]
    );
}
