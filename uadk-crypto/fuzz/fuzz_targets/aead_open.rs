//! The AEAD open path with attacker-chosen algorithm, key, nonce, AAD, ciphertext and tag:
//! never a panic, and whenever open succeeds the plaintext must seal back to exactly the
//! input (so nothing unauthenticated can come out); a sealed message with one flipped bit
//! must fail and leave only zeros behind.
#![no_main]

use libfuzzer_sys::fuzz_target;
use uadk_crypto::{AeadAlg, AeadSession};

fn take<'a>(data: &mut &'a [u8], n: usize) -> &'a [u8] {
    let n = n.min(data.len());
    let (a, b) = data.split_at(n);
    *data = b;
    a
}

fuzz_target!(|input: &[u8]| {
    let mut d = input;
    let head = take(&mut d, 6);
    if head.len() < 6 {
        return;
    }
    let algs: Vec<AeadAlg> = AeadAlg::all().collect();
    let alg = algs[head[0] as usize % algs.len()];
    let tag_len = 4 + head[1] as usize % 13;
    // Mostly valid key/nonce lengths, sometimes not.
    let key_len = if head[2] & 7 == 0 { head[2] as usize % 40 } else { alg.key_len() };
    let nonce_len = if head[3] & 7 == 0 { head[3] as usize % 20 } else { 7 + head[3] as usize % 7 };
    let aad_len = head[4] as usize % 40;
    let flip = head[5] as usize;
    let key = take(&mut d, key_len).to_vec();
    let nonce = take(&mut d, nonce_len).to_vec();
    let aad = take(&mut d, aad_len).to_vec();
    let Ok(s) = AeadSession::software(alg, &key, tag_len) else { return };

    // 1. Arbitrary bytes as ciphertext || tag.
    let mut out = vec![0xAAu8; d.len().saturating_sub(tag_len)];
    if d.len() >= tag_len {
        let (ct, tag) = d.split_at(d.len() - tag_len);
        match s.open(&nonce, &aad, ct, tag, &mut out) {
            Ok(_) => {
                let resealed = s.seal_to_vec(&nonce, &aad, &out).expect("seal after open");
                assert_eq!(resealed, d, "opened something that does not seal back");
            }
            Err(_) => assert!(out.iter().all(|&b| b == 0), "released bytes after a failed open"),
        }
    }

    // 2. A real message with one flipped bit.
    let Ok(mut sealed) = s.seal_to_vec(&nonce, &aad, d) else { return };
    let bit = flip % (sealed.len() * 8);
    sealed[bit / 8] ^= 1 << (bit % 8);
    let (ct, tag) = sealed.split_at(sealed.len() - tag_len);
    let mut buf = ct.to_vec();
    assert!(s.open_in_place(&nonce, &aad, &mut buf, tag).is_err(), "accepted a flipped bit");
    assert!(buf.iter().all(|&b| b == 0));
});
