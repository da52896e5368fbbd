//! Known-answer tests from the standards (tests/data/kat.txt, each line cross-checked by
//! tests/data/verify_kat.py against an independent implementation).

use uadk_crypto::{
    hex, AeadAlg, AeadSession, CipherAlg, CipherSession, Crypto, DigestAlg, DigestSession, Error,
};

const KAT: &str = include_str!("data/kat.txt");

fn field(s: &str) -> Vec<u8> {
    if s == "-" {
        Vec::new()
    } else {
        hex::decode("vector", s).unwrap()
    }
}

fn lines(kind: &str) -> Vec<Vec<String>> {
    KAT.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| l.split_whitespace().map(String::from).collect::<Vec<_>>())
        .filter(|f| f[0] == kind)
        .collect()
}

#[test]
fn cipher_vectors_one_shot_in_place_and_streamed() {
    let v = lines("cipher");
    assert!(v.len() >= 13);
    for f in v {
        let alg = CipherAlg::from_name(&f[1]).unwrap();
        let (key, iv, pt, ct) = (field(&f[2]), field(&f[3]), field(&f[4]), field(&f[5]));
        let s = CipherSession::new(&Crypto::auto(), alg, &key).unwrap();
        let mut out = vec![0u8; pt.len()];
        s.encrypt(&iv, &pt, &mut out).unwrap();
        assert_eq!(out, ct, "{} encrypt", f[1]);
        s.decrypt(&iv, &ct, &mut out).unwrap();
        assert_eq!(out, pt, "{} decrypt", f[1]);
        let mut buf = pt.clone();
        s.encrypt_in_place(&iv, &mut buf).unwrap();
        assert_eq!(buf, ct, "{} encrypt in place", f[1]);
        s.decrypt_in_place(&iv, &mut buf).unwrap();
        assert_eq!(buf, pt, "{} decrypt in place", f[1]);
        // Streams: one block at a time for the chaining modes (XTS units are whole).
        if alg.mode != uadk_crypto::CipherMode::Xts && pt.len() > 16 {
            let mut st = s.encryptor(&iv).unwrap();
            let mut out = vec![0u8; pt.len()];
            for (i, o) in pt.chunks(16).zip(out.chunks_mut(16)) {
                st.update(i, o).unwrap();
            }
            assert_eq!(out, ct, "{} streamed encrypt", f[1]);
            let mut st = s.decryptor(&iv).unwrap();
            for c in out.chunks_mut(16) {
                st.update_in_place(c).unwrap();
            }
            assert_eq!(out, pt, "{} streamed decrypt", f[1]);
        }
    }
}

#[test]
fn sm4_one_million_iterations_gbt_32907_example_2() {
    // GB/T 32907-2016 A.2: encrypting the plaintext 1,000,000 times with the same key.
    let key = field("0123456789abcdeffedcba9876543210");
    let s = CipherSession::software(CipherAlg::from_name("sm4-ecb").unwrap(), &key).unwrap();
    let mut block = key.clone();
    for _ in 0..1_000_000 {
        s.encrypt_in_place(&[], &mut block).unwrap();
    }
    assert_eq!(hex::encode(&block), "595298c7c6fd271f0402f804c33d3f66");
}

#[test]
fn digest_vectors_one_shot_and_streamed() {
    let v = lines("digest");
    assert!(v.len() >= 12);
    for f in v {
        let alg = DigestAlg::from_name(&f[1]).unwrap();
        let (msg, want) = (field(&f[3]), field(&f[4]));
        let s = DigestSession::new(&Crypto::auto(), alg).unwrap();
        assert_eq!(s.digest_to_vec(&msg).unwrap(), want, "{}", f[1]);
        let mut h = s.hasher().unwrap();
        for b in msg.chunks(3) {
            h.update(b).unwrap();
        }
        assert_eq!(h.finish_to_vec().unwrap(), want, "{} streamed", f[1]);
    }
}

#[test]
fn fips_180_million_a() {
    // FIPS 180-4 examples: one million 'a'; fed in uneven pieces to exercise long inputs.
    let s = DigestSession::new(&Crypto::auto(), DigestAlg::Sha256).unwrap();
    let mut h = s.hasher().unwrap();
    let chunk = vec![b'a'; 999];
    let mut left = 1_000_000;
    while left > 0 {
        let n = left.min(chunk.len());
        h.update(&chunk[..n]).unwrap();
        left -= n;
    }
    assert_eq!(
        hex::encode(&h.finish_to_vec().unwrap()),
        "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"
    );
}

#[test]
fn hmac_vectors() {
    let v = lines("hmac");
    assert!(v.len() >= 10);
    for f in v {
        let alg = DigestAlg::from_name(&f[1]).unwrap();
        let (key, msg, want) = (field(&f[2]), field(&f[3]), field(&f[4]));
        let s = DigestSession::hmac(&Crypto::auto(), alg, &key).unwrap();
        assert_eq!(s.digest_to_vec(&msg).unwrap(), want, "hmac-{}", f[1]);
        let mut h = s.hasher().unwrap();
        for b in msg.chunks(5) {
            h.update(b).unwrap();
        }
        assert_eq!(h.finish_to_vec().unwrap(), want, "hmac-{} streamed", f[1]);
    }
}

#[test]
fn aead_vectors_and_tamper() {
    let v = lines("aead");
    assert!(v.len() >= 11);
    for f in v {
        let alg = AeadAlg::from_name(&f[1]).unwrap();
        let (key, nonce, aad, pt, ct, tag) = (
            field(&f[2]),
            field(&f[3]),
            field(&f[4]),
            field(&f[5]),
            field(&f[6]),
            field(&f[7]),
        );
        let s = AeadSession::new(&Crypto::auto(), alg, &key, tag.len()).unwrap();
        let mut c = vec![0u8; pt.len()];
        let mut t = vec![0u8; tag.len()];
        s.seal(&nonce, &aad, &pt, &mut c, &mut t).unwrap();
        assert_eq!((&c, &t), (&ct, &tag), "{} seal", f[1]);
        let mut buf = pt.clone();
        s.seal_in_place(&nonce, &aad, &mut buf, &mut t).unwrap();
        assert_eq!((&buf, &t), (&ct, &tag), "{} seal in place", f[1]);
        let mut p = vec![0u8; ct.len()];
        s.open(&nonce, &aad, &ct, &tag, &mut p).unwrap();
        assert_eq!(p, pt, "{} open", f[1]);
        s.open_in_place(&nonce, &aad, &mut buf, &tag).unwrap();
        assert_eq!(buf, pt, "{} open in place", f[1]);

        // Any flipped bit in tag, ciphertext or AAD: an error and nothing released.
        let mut bad_tag = tag.clone();
        bad_tag[0] ^= 1;
        let mut p = vec![0x55u8; ct.len()];
        let e = s.open(&nonce, &aad, &ct, &bad_tag, &mut p).unwrap_err();
        assert!(matches!(e, Error::AuthenticationFailed { .. }), "{}", f[1]);
        assert!(p.iter().all(|&b| b == 0), "{} released plaintext", f[1]);
        if !ct.is_empty() {
            let mut buf = ct.clone();
            buf[ct.len() - 1] ^= 0x80;
            assert!(s.open_in_place(&nonce, &aad, &mut buf, &tag).is_err());
            assert!(
                buf.iter().all(|&b| b == 0),
                "{} released plaintext in place",
                f[1]
            );
        }
        let mut other_aad = aad.clone();
        other_aad.push(0);
        let mut p = vec![0u8; ct.len()];
        assert!(s.open(&nonce, &other_aad, &ct, &tag, &mut p).is_err());
    }
}
