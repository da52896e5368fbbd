//! Cross-checks between independent providers on pseudo-random inputs: the code paths
//! that have no standard vector of their own (generic XTS for AES-192/SM4, our CCM for
//! SM4, RustCrypto SM3) are checked against OpenSSL on the algorithms both implement.

use super::select::forced;
use super::{openssl, select};
use crate::alg::{AeadAlg, CipherAlg, DigestAlg};
use crate::device::Direction;

fn bytes(seed: u64, n: usize) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

#[test]
fn generic_xts_matches_openssl_xts() {
    for name in ["aes-128-xts", "aes-256-xts"] {
        let alg = CipherAlg::from_name(name).unwrap();
        for (i, len) in [16usize, 17, 31, 32, 100, 512, 4096 + 5].into_iter().enumerate() {
            let key = bytes(i as u64 + 1, alg.key_len());
            let tweak = bytes(i as u64 + 100, 16);
            let data = bytes(i as u64 + 200, len);
            for dir in [Direction::Encrypt, Direction::Decrypt] {
                let mut a = data.clone();
                let mut e = forced::rustcrypto_xts(alg, &key, dir).unwrap();
                e.start(&tweak).unwrap();
                e.update_in_place(&mut a).unwrap();
                let mut b = vec![0u8; len];
                let mut o = openssl::OsslCipher::new(alg, &key, dir).unwrap();
                use super::CipherEngine;
                o.start(&tweak).unwrap();
                o.update(&data, &mut b).unwrap();
                assert_eq!(a, b, "{name} {len} {dir}");
            }
        }
    }
}

#[test]
fn our_ccm_matches_openssl_ccm() {
    let alg = AeadAlg::from_name("aes-128-ccm").unwrap();
    let mut case = 0u64;
    for tag_len in [4usize, 6, 8, 10, 12, 14, 16] {
        for nonce_len in 7..=13usize {
            for (plen, alen) in [(0usize, 0usize), (1, 0), (16, 16), (33, 7), (300, 65300)] {
                case += 1;
                let key = bytes(case, 16);
                let nonce = bytes(case + 1000, nonce_len);
                let aad = bytes(case + 2000, alen);
                let pt = bytes(case + 3000, plen);
                let mut ours = forced::generic_ccm_aes128(&key, tag_len);
                let mut theirs = forced::openssl_aead(alg, &key, tag_len).unwrap();
                let (mut c1, mut t1) = (vec![0u8; plen], vec![0u8; tag_len]);
                let (mut c2, mut t2) = (vec![0u8; plen], vec![0u8; tag_len]);
                ours.seal(&nonce, &aad, &pt, &mut c1, &mut t1).unwrap();
                theirs.seal(&nonce, &aad, &pt, &mut c2, &mut t2).unwrap();
                assert_eq!((&c1, &t1), (&c2, &t2), "t{tag_len} n{nonce_len} p{plen} a{alen}");
                let mut back = vec![0u8; plen];
                assert!(ours.open(&nonce, &aad, &c2, &mut back, &t2).unwrap());
                assert_eq!(back, pt);
                t1[0] ^= 1;
                assert!(!ours.open(&nonce, &aad, &c2, &mut back, &t1).unwrap());
            }
        }
    }
}

#[test]
fn rustcrypto_sm3_matches_openssl_sm3() {
    for (i, len) in [0usize, 1, 55, 56, 64, 65, 1000, 100_000].into_iter().enumerate() {
        let data = bytes(i as u64 + 7, len);
        let mut a = forced::rustcrypto_sm3();
        let mut b = openssl::OsslDigest::new(DigestAlg::Sm3).unwrap();
        let (mut da, mut db) = ([0u8; 32], [0u8; 32]);
        use super::DigestEngine;
        a.update(&data).unwrap();
        a.finish(&mut da).unwrap();
        b.update(&data).unwrap();
        b.finish(&mut db).unwrap();
        assert_eq!(da, db, "{len}");
    }
}

#[test]
fn every_algorithm_has_an_engine() {
    for alg in CipherAlg::all() {
        let key = bytes(1, alg.key_len());
        select::cipher(alg, &key, Direction::Encrypt).unwrap();
    }
    for alg in DigestAlg::all() {
        select::digest(alg).unwrap();
    }
    for alg in AeadAlg::all() {
        select::aead(alg, &bytes(2, alg.key_len()), 16).unwrap();
    }
}
