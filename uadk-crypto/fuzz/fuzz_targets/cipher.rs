//! Cipher sessions with arbitrary algorithm, key, IV and data lengths, one-shot and
//! streamed with arbitrary splits: errors are fine, panics are not; whatever encrypts
//! decrypts back, and streams equal one-shots.
#![no_main]

use libfuzzer_sys::fuzz_target;
use uadk_crypto::{CipherAlg, CipherMode, CipherSession};

fuzz_target!(|input: &[u8]| {
    if input.len() < 4 {
        return;
    }
    let algs: Vec<CipherAlg> = CipherAlg::all().collect();
    let alg = algs[input[0] as usize % algs.len()];
    let key_len = if input[1] & 15 == 0 { input[1] as usize % 70 } else { alg.key_len() };
    let iv_len = if input[2] & 15 == 0 { input[2] as usize % 20 } else { alg.iv_len() };
    let split = input[3] as usize;
    let rest = &input[4..];
    if rest.len() < key_len + iv_len {
        return;
    }
    let (key, rest) = rest.split_at(key_len);
    let (iv, data) = rest.split_at(iv_len);
    let Ok(s) = CipherSession::software(alg, key) else { return };
    let mut ct = data.to_vec();
    if s.encrypt_in_place(iv, &mut ct).is_err() {
        return;
    }
    let mut pt = vec![0u8; ct.len()];
    s.decrypt(iv, &ct, &mut pt).expect("decrypt what encrypted");
    assert_eq!(pt, data);
    if alg.mode != CipherMode::Xts {
        let step = if alg.mode == CipherMode::Ctr { split.max(1) } else { 16 * (split % 8 + 1) };
        let mut st = s.encryptor(iv).expect("iv ok");
        let mut streamed = data.to_vec();
        for c in streamed.chunks_mut(step) {
            st.update_in_place(c).expect("stream");
        }
        assert_eq!(streamed, ct);
    }
});
