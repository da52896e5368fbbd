//! Per-library comparison behind `src/software/select.rs`: each candidate library called
//! directly, single thread, 16 KiB messages, five interleaved rounds timed in thread CPU
//! time, best round kept.
//!
//! `cargo run --release -p uadk-crypto --example providers [millis-per-round]`

use std::hint::black_box;
use std::time::{Duration, Instant};

use aes_gcm::aead::{AeadInPlace, KeyInit};
use cbc::cipher::{BlockEncryptMut, KeyIvInit, StreamCipher};
use openssl::cipher::{Cipher, CipherRef};
use openssl::cipher_ctx::CipherCtx;
use openssl::hash::{Hasher, MessageDigest};

const SIZE: usize = 16384;

type Candidate = (&'static str, Box<dyn FnMut()>);

/// MB/s over `slice` of wall time, counted in this thread's CPU time.
fn rate(f: &mut dyn FnMut(), slice: Duration) -> f64 {
    let start = Instant::now();
    let cpu = uadk_crypto::bench::thread_cpu_secs();
    let mut n = 0u64;
    while start.elapsed() < slice {
        for _ in 0..16 {
            f();
        }
        n += 16;
    }
    n as f64 * SIZE as f64 / (uadk_crypto::bench::thread_cpu_secs() - cpu) / 1e6
}

fn compare(alg: &str, mut cands: Vec<Candidate>, slice: Duration) {
    let mut best = vec![0f64; cands.len()];
    for _ in 0..5 {
        for (i, (_, f)) in cands.iter_mut().enumerate() {
            best[i] = best[i].max(rate(f.as_mut(), slice));
        }
    }
    let base = cands
        .iter()
        .zip(&best)
        .find(|((n, _), _)| *n == "openssl")
        .map(|(_, b)| *b)
        .unwrap_or(1.0);
    let row: Vec<String> = cands
        .iter()
        .zip(&best)
        .map(|((n, _), b)| format!("{n} {b:.0} MB/s (x{:.2})", b / base))
        .collect();
    println!("{alg:<12} {}", row.join(", "));
}

fn ossl_cipher(c: &'static CipherRef, key: &[u8], iv: Option<&[u8]>) -> Box<dyn FnMut()> {
    let mut ctx = CipherCtx::new().unwrap();
    ctx.encrypt_init(Some(c), Some(key), None).unwrap();
    ctx.set_padding(false);
    let iv = iv.map(|v| v.to_vec());
    let (input, mut out) = (vec![1u8; SIZE], vec![0u8; SIZE + 16]);
    Box::new(move || {
        if let Some(iv) = &iv {
            ctx.encrypt_init(None, None, Some(iv)).unwrap();
        }
        ctx.cipher_update(&input, Some(&mut out)).unwrap();
        black_box(&out);
    })
}

fn ossl_digest(md: MessageDigest) -> Box<dyn FnMut()> {
    let mut h = Hasher::new(md).unwrap();
    let input = vec![1u8; SIZE];
    Box::new(move || {
        h.update(&input).unwrap();
        black_box(h.finish().unwrap());
    })
}

fn main() {
    let ms: u64 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(300);
    let slice = Duration::from_millis(ms);
    let k16 = [7u8; 16];
    let k32 = [7u8; 32];
    let k64: Vec<u8> = (0..64u8).collect();
    let iv = [0u8; 16];

    // AES-128-GCM seal
    let aws = {
        use aws_lc_rs::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_128_GCM};
        let key = LessSafeKey::new(UnboundKey::new(&AES_128_GCM, &k16).unwrap());
        let mut buf = vec![1u8; SIZE];
        Box::new(move || {
            let n = Nonce::assume_unique_for_key([0; 12]);
            let _ = black_box(key.seal_in_place_separate_tag(n, Aad::empty(), &mut buf).unwrap());
        }) as Box<dyn FnMut()>
    };
    let ossl_gcm = {
        let mut ctx = CipherCtx::new().unwrap();
        ctx.encrypt_init(Some(Cipher::aes_128_gcm()), Some(&k16), None)
            .unwrap();
        let (input, mut out, mut tag) = (vec![1u8; SIZE], vec![0u8; SIZE], [0u8; 16]);
        Box::new(move || {
            ctx.encrypt_init(None, None, Some(&[0u8; 12])).unwrap();
            ctx.cipher_update(&input, Some(&mut out)).unwrap();
            ctx.cipher_final(&mut []).unwrap();
            ctx.tag(&mut tag).unwrap();
        }) as Box<dyn FnMut()>
    };
    let rc_gcm = {
        let c = aes_gcm::Aes128Gcm::new_from_slice(&k16).unwrap();
        let mut buf = vec![1u8; SIZE];
        Box::new(move || {
            black_box(
                c.encrypt_in_place_detached(&[0u8; 12].into(), &[], &mut buf)
                    .unwrap(),
            );
        }) as Box<dyn FnMut()>
    };
    let ring_gcm = {
        use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_128_GCM};
        let key = LessSafeKey::new(UnboundKey::new(&AES_128_GCM, &k16).unwrap());
        let mut buf = vec![1u8; SIZE];
        Box::new(move || {
            let n = Nonce::assume_unique_for_key([0; 12]);
            let _ = black_box(key.seal_in_place_separate_tag(n, Aad::empty(), &mut buf).unwrap());
        }) as Box<dyn FnMut()>
    };
    compare(
        "aes-128-gcm",
        vec![
            ("openssl", ossl_gcm),
            ("aws-lc-rs", aws),
            ("ring", ring_gcm),
            ("rustcrypto", rc_gcm),
        ],
        slice,
    );

    // AES-256-CBC encrypt
    let rc_cbc = {
        let mut buf = vec![1u8; SIZE];
        Box::new(move || {
            let c = cbc::Encryptor::<aes::Aes256>::new(&k32.into(), &iv.into());
            c.encrypt_padded_mut::<cbc::cipher::block_padding::NoPadding>(&mut buf, SIZE)
                .unwrap();
            black_box(&buf);
        }) as Box<dyn FnMut()>
    };
    compare(
        "aes-256-cbc",
        vec![
            ("openssl", ossl_cipher(Cipher::aes_256_cbc(), &k32, Some(&iv))),
            ("rustcrypto", rc_cbc),
        ],
        slice,
    );

    // AES-128-CTR
    let rc_ctr = {
        let mut buf = vec![1u8; SIZE];
        Box::new(move || {
            let mut c = ctr::Ctr128BE::<aes::Aes128>::new(&k16.into(), &iv.into());
            c.apply_keystream(&mut buf);
            black_box(&buf);
        }) as Box<dyn FnMut()>
    };
    compare(
        "aes-128-ctr",
        vec![
            ("openssl", ossl_cipher(Cipher::aes_128_ctr(), &k16, Some(&iv))),
            ("rustcrypto", rc_ctr),
        ],
        slice,
    );

    // AES-256-XTS
    let rc_xts = {
        let x = xts_mode::Xts128::new(
            aes::Aes256::new_from_slice(&k64[..32]).unwrap(),
            aes::Aes256::new_from_slice(&k64[32..]).unwrap(),
        );
        let mut buf = vec![1u8; SIZE];
        Box::new(move || {
            x.encrypt_sector(&mut buf, [0; 16]);
            black_box(&buf);
        }) as Box<dyn FnMut()>
    };
    compare(
        "aes-256-xts",
        vec![
            ("openssl", ossl_cipher(Cipher::aes_256_xts(), &k64, Some(&iv))),
            ("rustcrypto", rc_xts),
        ],
        slice,
    );

    // SHA-256 / SHA-512
    for (name, md, aws_alg) in [
        ("sha256", MessageDigest::sha256(), &aws_lc_rs::digest::SHA256),
        ("sha512", MessageDigest::sha512(), &aws_lc_rs::digest::SHA512),
    ] {
        let aws = {
            let input = vec![1u8; SIZE];
            Box::new(move || {
                black_box(aws_lc_rs::digest::digest(aws_alg, &input));
            }) as Box<dyn FnMut()>
        };
        let rc = {
            let input = vec![1u8; SIZE];
            let is256 = name == "sha256";
            Box::new(move || {
                use sha2::Digest;
                if is256 {
                    black_box(sha2::Sha256::digest(&input));
                } else {
                    black_box(sha2::Sha512::digest(&input));
                }
            }) as Box<dyn FnMut()>
        };
        compare(
            name,
            vec![
                ("openssl", ossl_digest(md)),
                ("aws-lc-rs", aws),
                ("rustcrypto", rc),
            ],
            slice,
        );
    }

    // SM3
    let rc_sm3 = {
        let input = vec![1u8; SIZE];
        Box::new(move || {
            use sm3::Digest;
            black_box(sm3::Sm3::digest(&input));
        }) as Box<dyn FnMut()>
    };
    compare(
        "sm3",
        vec![
            ("openssl", ossl_digest(MessageDigest::sm3())),
            ("rustcrypto", rc_sm3),
        ],
        slice,
    );

    // SM4-CBC encrypt
    let rc_sm4 = {
        let mut buf = vec![1u8; SIZE];
        Box::new(move || {
            let c = cbc::Encryptor::<sm4::Sm4>::new(&k16.into(), &iv.into());
            c.encrypt_padded_mut::<cbc::cipher::block_padding::NoPadding>(&mut buf, SIZE)
                .unwrap();
            black_box(&buf);
        }) as Box<dyn FnMut()>
    };
    compare(
        "sm4-cbc",
        vec![
            ("openssl", ossl_cipher(Cipher::sm4_cbc(), &k16, Some(&iv))),
            ("rustcrypto", rc_sm4),
        ],
        slice,
    );

    // HMAC-SHA256
    let ossl_hmac = {
        let key = openssl::pkey::PKey::hmac(&k32).unwrap();
        let input = vec![1u8; SIZE];
        Box::new(move || {
            let mut s = openssl::sign::Signer::new(MessageDigest::sha256(), &key).unwrap();
            s.update(&input).unwrap();
            black_box(s.sign_to_vec().unwrap());
        }) as Box<dyn FnMut()>
    };
    let aws_hmac = {
        let key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, &k32);
        let input = vec![1u8; SIZE];
        Box::new(move || {
            black_box(aws_lc_rs::hmac::sign(&key, &input));
        }) as Box<dyn FnMut()>
    };
    compare(
        "hmac-sha256",
        vec![("openssl", ossl_hmac), ("aws-lc-rs", aws_hmac)],
        slice,
    );
}
