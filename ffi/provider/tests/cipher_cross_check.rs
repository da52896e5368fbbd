//! ECB/CBC/CTR/XTS, CCM and the digests through our provider against OpenSSL's default
//! provider: random keys, IVs, sizes 0..64 KiB+3 and chunkings, padding on and off, in
//! place and out, DUPCTX mid-stream; the same outputs, the same successes and failures.

// The helpers mirror EVP's own argument lists.
#![allow(clippy::too_many_arguments)]

mod common;

use common::{Env, Rng, SIZES};
use foreign_types::ForeignType;
use openssl::cipher::CipherRef;
use openssl::cipher_ctx::CipherCtx;
use openssl::hash::{Hasher, MessageDigest};

/// Runs a whole message; `None` when a step failed.
fn crypt(
    c: &CipherRef,
    enc: bool,
    key: &[u8],
    iv: Option<&[u8]>,
    pad: bool,
    data: &[u8],
    chunks: &[usize],
    in_place: bool,
) -> Option<(Vec<u8>, usize)> {
    let mut ctx = CipherCtx::new().unwrap();
    if enc {
        ctx.encrypt_init(Some(c), Some(key), iv).ok()?;
    } else {
        ctx.decrypt_init(Some(c), Some(key), iv).ok()?;
    }
    ctx.set_padding(pad);
    let mut out = Vec::new();
    let mut off = 0;
    for &n in chunks {
        let piece = &data[off..off + n];
        off += n;
        let w = if in_place {
            let mut buf = piece.to_vec();
            buf.resize(n + 32, 0);
            let w = ctx.cipher_update_inplace(&mut buf, n).ok()?;
            out.extend_from_slice(&buf[..w]);
            w
        } else {
            let mut o = vec![0u8; n + 32];
            let w = ctx.cipher_update(piece, Some(&mut o)).ok()?;
            out.extend_from_slice(&o[..w]);
            w
        };
        let _ = w;
    }
    let mut f = vec![0u8; 32];
    let w = ctx.cipher_final(&mut f).ok()?;
    out.extend_from_slice(&f[..w]);
    Some((out, ctx.num()))
}

fn block_alg(env: &Env, name: &str, keylen: usize, ivlen: usize, seed: u64) {
    let ours = env.cipher(name, true);
    let def = env.cipher(name, false);
    let mut rng = Rng::new(seed);
    let xts = name.contains("XTS");
    let padded = name.contains("ECB") || name.contains("CBC");
    let mut n = 0;
    for &size in SIZES {
        for round in 0..3 {
            let mut key = rng.bytes(keylen);
            if xts && key[..keylen / 2] == key[keylen / 2..] {
                key[0] ^= 1;
            }
            let iv = rng.bytes(ivlen);
            let iv = (ivlen > 0).then_some(&iv[..]);
            let pt = rng.bytes(size);
            let pad = padded && rng.below(2) == 0;
            // XTS: each update is a data unit, so both sides get the same units.
            let chunks = if round == 0 || xts {
                vec![size]
            } else {
                rng.chunks(size, 6)
            };
            let in_place = rng.below(2) == 0;
            for enc in [true, false] {
                let a = crypt(&ours, enc, &key, iv, pad, &pt, &chunks, in_place);
                let b = crypt(&def, enc, &key, iv, pad, &pt, &chunks, false);
                assert_eq!(
                    a.is_some(),
                    b.is_some(),
                    "{name} size {size} enc {enc} pad {pad} chunks {chunks:?}: success differs"
                );
                assert_eq!(
                    a, b,
                    "{name} size {size} enc {enc} pad {pad} chunks {chunks:?} in_place {in_place}"
                );
                n += 1;
            }
            if let Some((ct, _)) = crypt(&def, true, &key, iv, pad, &pt, &chunks, false) {
                let back = crypt(
                    &ours,
                    false,
                    &key,
                    iv,
                    pad,
                    &ct,
                    &rng.chunks(ct.len(), 4).clone(),
                    false,
                );
                if !xts {
                    assert_eq!(
                        back.map(|b| b.0),
                        Some(pt.clone()),
                        "{name} round trip size {size}"
                    );
                }
            }
        }
    }
    println!("{name}: {n} messages cross-checked");
}

#[test]
fn block_ciphers_match_default() {
    let env = Env::new();
    for (name, k, iv, seed) in [
        ("AES-128-ECB", 16, 0, 11),
        ("AES-192-ECB", 24, 0, 12),
        ("AES-256-ECB", 32, 0, 13),
        ("AES-128-CBC", 16, 16, 14),
        ("AES-192-CBC", 24, 16, 15),
        ("AES-256-CBC", 32, 16, 16),
        ("AES-128-CTR", 16, 16, 17),
        ("AES-192-CTR", 24, 16, 18),
        ("AES-256-CTR", 32, 16, 19),
        ("AES-128-XTS", 32, 16, 20),
        ("AES-256-XTS", 64, 16, 21),
        ("SM4-ECB", 16, 0, 22),
        ("SM4-CBC", 16, 16, 23),
        ("SM4-CTR", 16, 16, 24),
    ] {
        block_alg(&env, name, k, iv, seed);
    }
}

#[test]
fn ctr_counter_wraps_like_openssl() {
    let env = Env::new();
    let iv = [0xffu8; 16];
    let data = vec![7u8; 100];
    for name in ["AES-128-CTR", "SM4-CTR"] {
        let a = crypt(
            &env.cipher(name, true),
            true,
            &[3; 16],
            Some(&iv),
            false,
            &data,
            &[5, 40, 55],
            false,
        );
        let b = crypt(
            &env.cipher(name, false),
            true,
            &[3; 16],
            Some(&iv),
            false,
            &data,
            &[100],
            false,
        );
        assert_eq!(a, b, "{name}");
    }
}

#[test]
fn sm4_xts_matches_uadk_crypto() {
    use uadk_crypto::{CipherAlg, CipherSession};
    let env = Env::new();
    let s = CipherSession::software(
        CipherAlg::from_name("sm4-xts").unwrap(),
        &(0..32).collect::<Vec<u8>>(),
    )
    .unwrap();
    let key: Vec<u8> = (0..32).collect();
    for size in [16usize, 17, 31, 100, 4096] {
        let pt = vec![0x33u8; size];
        let mut want = vec![0u8; size];
        s.encrypt(&[5; 16], &pt, &mut want).unwrap();
        let got = crypt(
            &env.cipher("SM4-XTS", true),
            true,
            &key,
            Some(&[5; 16]),
            false,
            &pt,
            &[size],
            false,
        );
        assert_eq!(got.map(|g| g.0), Some(want.clone()));
        let back = crypt(
            &env.cipher("SM4-XTS", true),
            false,
            &key,
            Some(&[5; 16]),
            false,
            &want,
            &[size],
            true,
        );
        assert_eq!(back.map(|g| g.0), Some(pt));
    }
}

fn ccm(
    c: &CipherRef,
    enc: bool,
    key: &[u8],
    nonce: &[u8],
    taglen: usize,
    tag: Option<&[u8]>,
    aad: &[u8],
    data: &[u8],
    in_place: bool,
) -> Option<(Vec<u8>, Vec<u8>)> {
    let mut ctx = CipherCtx::new().unwrap();
    if enc {
        ctx.encrypt_init(Some(c), None, None).ok()?;
    } else {
        ctx.decrypt_init(Some(c), None, None).ok()?;
    }
    ctx.set_iv_length(nonce.len()).ok()?;
    match tag {
        Some(t) => ctx.set_tag(t).ok()?,
        None => ctx.set_tag_length(taglen).ok()?,
    }
    if enc {
        ctx.encrypt_init(None, Some(key), Some(nonce)).ok()?;
    } else {
        ctx.decrypt_init(None, Some(key), Some(nonce)).ok()?;
    }
    ctx.set_data_len(data.len()).ok()?;
    if !aad.is_empty() {
        ctx.cipher_update(aad, None).ok()?;
    }
    let mut out = data.to_vec();
    out.resize(data.len() + 16, 0);
    if in_place {
        ctx.cipher_update_inplace(&mut out, data.len()).ok()?;
    } else {
        ctx.cipher_update(data, Some(&mut out)).ok()?;
    }
    out.truncate(data.len());
    let mut t = vec![0u8; taglen];
    if enc {
        ctx.cipher_final(&mut [0u8; 16]).ok()?;
        ctx.tag(&mut t).ok()?;
    }
    Some((out, t))
}

#[test]
fn ccm_matches_default() {
    let env = Env::new();
    let mut rng = Rng::new(99);
    let mut n = 0;
    for (name, keylen, default_has) in [
        ("AES-128-CCM", 16, true),
        ("AES-192-CCM", 24, true),
        ("AES-256-CCM", 32, true),
        ("SM4-CCM", 16, false),
    ] {
        let ours = env.cipher(name, true);
        for &size in SIZES {
            let key = rng.bytes(keylen);
            let nonce_len = if size > 65535 {
                7 + rng.below(6)
            } else {
                7 + rng.below(7)
            };
            let nonce = rng.bytes(nonce_len);
            let taglen = [4, 6, 8, 10, 12, 14, 16][rng.below(7)];
            let aad_len = rng.below(40);
            let aad = rng.bytes(aad_len);
            let pt = rng.bytes(size);
            let (ct, tag) = ccm(
                &ours,
                true,
                &key,
                &nonce,
                taglen,
                None,
                &aad,
                &pt,
                rng.below(2) == 0,
            )
            .unwrap_or_else(|| panic!("{name} encrypt size {size}"));
            if default_has {
                let def = env.cipher(name, false);
                let r = ccm(&def, true, &key, &nonce, taglen, None, &aad, &pt, false).unwrap();
                assert_eq!((ct.clone(), tag.clone()), r, "{name} size {size}");
            } else {
                let s = uadk_crypto::AeadSession::software(
                    uadk_crypto::AeadAlg::from_name("sm4-ccm").unwrap(),
                    &key,
                    taglen,
                )
                .unwrap();
                let mut t = vec![0u8; taglen];
                let mut buf = pt.clone();
                s.seal_in_place(&nonce, &aad, &mut buf, &mut t).unwrap();
                assert_eq!((ct.clone(), tag.clone()), (buf, t));
            }
            let (back, _) = ccm(
                &ours,
                false,
                &key,
                &nonce,
                taglen,
                Some(&tag),
                &aad,
                &ct,
                rng.below(2) == 0,
            )
            .unwrap();
            assert_eq!(back, pt);
            let mut bad = tag.clone();
            bad[0] ^= 0x80;
            assert!(
                ccm(&ours, false, &key, &nonce, taglen, Some(&bad), &aad, &ct, true).is_none(),
                "{name}: bad tag accepted"
            );
            n += 1;
        }
    }
    println!("CCM: {n} messages cross-checked");
}

fn digest_of(md: MessageDigest, data: &[u8], chunks: &[usize], dup_at: usize) -> (Vec<u8>, Vec<u8>) {
    let mut h = Hasher::new(md).unwrap();
    let mut off = 0;
    let mut copy = None;
    for (i, &n) in chunks.iter().enumerate() {
        if i == dup_at {
            copy = Some(h.clone());
        }
        h.update(&data[off..off + n]).unwrap();
        off += n;
    }
    let mut c = copy.unwrap_or_else(|| h.clone());
    let done: usize = chunks[..dup_at.min(chunks.len())].iter().sum();
    c.update(&data[done..]).unwrap();
    (h.finish().unwrap().to_vec(), c.finish().unwrap().to_vec())
}

#[test]
fn digests_match_default_with_dup() {
    let env = Env::new();
    let mut rng = Rng::new(7);
    let mut n = 0;
    for name in [
        "SHA1", "SHA224", "SHA256", "SHA384", "SHA512", "SM3", "MD5", "SHA-256", "SHA2-512", "SSL3-MD5",
    ] {
        let (ours, def) = (env.md(name, true), env.md(name, false));
        // SAFETY: the fetched digests outlive every Hasher made from them in this loop.
        let (mo, md) = unsafe {
            (
                MessageDigest::from_ptr(ours.as_ptr()),
                MessageDigest::from_ptr(def.as_ptr()),
            )
        };
        for &size in SIZES.iter().chain(&[200_000usize, 1 << 20]) {
            let data = rng.bytes(size);
            let chunks = if rng.below(2) == 0 {
                vec![size]
            } else {
                rng.chunks(size, 6)
            };
            let dup = rng.below(chunks.len() + 1);
            let a = digest_of(mo, &data, &chunks, dup);
            let b = digest_of(md, &data, &chunks, dup);
            assert_eq!(a, b, "{name} size {size} chunks {chunks:?} dup {dup}");
            assert_eq!(a.0, a.1);
            n += 1;
        }
    }
    println!("digests: {n} messages cross-checked");
}
