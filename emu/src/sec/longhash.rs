//! Long-hash ("multi-BD") digests: the chaining state the SEC carries between the BDs of
//! one message, and the raw compression functions that advance it.
//!
//! A long hash is a sequence of digest BDs (UADK's `has_next` requests):
//! - **first**: auth IV generation 0 (the algorithm's initial value; for HMAC the state after
//!   the `K ^ ipad` block), no padding: `a_len` is a whole number of blocks and the device
//!   writes the *intermediate state* (not a digest) to `mac_addr`;
//! - **middle**: auth IV generation 1 (the state is read from the auth IV address), no
//!   padding, whole blocks, state written to `mac_addr`;
//! - **last**: auth IV generation 1, padding on: the device absorbs the final `a_len` bytes,
//!   pads with `long_a_data_len` (the message length in bits, without HMAC's key block) and
//!   writes the digest (HMAC: the outer hash over the inner one) to `mac_addr`.
//!
//! The state is the hash's chaining value serialised as its digest would be: big-endian
//! words for SHA-1/SHA-2/SM3 (SHA-224 and SHA-384 carry the full 32/64-byte state of
//! SHA-256/SHA-512), little-endian words for MD5. The MAC length of a no-pad BD must be the
//! state size ([`Hash::state_size`]); UADK sizes intermediate outputs the same way
//! (`g_digest_mac_full_len`).
//!
//! The compression functions of SHA-1 and SHA-2 come from RustCrypto; MD5 and SM3 are
//! implemented here (RFC 1321 §3.4, GB/T 32905-2016 §5.3), checked against the one-shot
//! crates in the tests.

use sha2::digest::generic_array::GenericArray;

use super::digest::Hash;

/// A hash's chaining value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum State {
    /// SHA-1 (5 words), SHA-224/256 (8 words), SM3 (8 words), MD5 (4 words).
    W32(Vec<u32>),
    /// SHA-384/512 and the SHA-512/t variants (8 double words).
    W64([u64; 8]),
}

impl Hash {
    /// Block size in bytes.
    pub(crate) fn block_size(self) -> usize {
        match self {
            Hash::Sha384 | Hash::Sha512 | Hash::Sha512_224 | Hash::Sha512_256 => 128,
            _ => 64,
        }
    }

    /// Size of the serialised chaining state in bytes.
    pub(crate) fn state_size(self) -> usize {
        match self {
            Hash::Md5 => 16,
            Hash::Sha1 => 20,
            Hash::Sha224 | Hash::Sha256 | Hash::Sm3 => 32,
            Hash::Sha384 | Hash::Sha512 | Hash::Sha512_224 | Hash::Sha512_256 => 64,
        }
    }

    /// The initial chaining value.
    pub(crate) fn initial(self) -> State {
        match self {
            Hash::Md5 => State::W32(vec![0x6745_2301, 0xefcd_ab89, 0x98ba_dcfe, 0x1032_5476]),
            Hash::Sha1 => State::W32(vec![
                0x6745_2301,
                0xefcd_ab89,
                0x98ba_dcfe,
                0x1032_5476,
                0xc3d2_e1f0,
            ]),
            Hash::Sha224 => State::W32(vec![
                0xc105_9ed8,
                0x367c_d507,
                0x3070_dd17,
                0xf70e_5939,
                0xffc0_0b31,
                0x6858_1511,
                0x64f9_8fa7,
                0xbefa_4fa4,
            ]),
            Hash::Sha256 => State::W32(vec![
                0x6a09_e667,
                0xbb67_ae85,
                0x3c6e_f372,
                0xa54f_f53a,
                0x510e_527f,
                0x9b05_688c,
                0x1f83_d9ab,
                0x5be0_cd19,
            ]),
            Hash::Sm3 => State::W32(vec![
                0x7380_166f,
                0x4914_b2b9,
                0x1724_42d7,
                0xda8a_0600,
                0xa96f_30bc,
                0x1631_38aa,
                0xe38d_ee4d,
                0xb0fb_0e4e,
            ]),
            Hash::Sha384 => State::W64([
                0xcbbb_9d5d_c105_9ed8,
                0x629a_292a_367c_d507,
                0x9159_015a_3070_dd17,
                0x152f_ecd8_f70e_5939,
                0x6733_2667_ffc0_0b31,
                0x8eb4_4a87_6858_1511,
                0xdb0c_2e0d_64f9_8fa7,
                0x47b5_481d_befa_4fa4,
            ]),
            Hash::Sha512 => State::W64([
                0x6a09_e667_f3bc_c908,
                0xbb67_ae85_84ca_a73b,
                0x3c6e_f372_fe94_f82b,
                0xa54f_f53a_5f1d_36f1,
                0x510e_527f_ade6_82d1,
                0x9b05_688c_2b3e_6c1f,
                0x1f83_d9ab_fb41_bd6b,
                0x5be0_cd19_137e_2179,
            ]),
            Hash::Sha512_224 => State::W64([
                0x8c3d_37c8_1954_4da2,
                0x73e1_9966_89dc_d4d6,
                0x1dfa_b7ae_32ff_9c82,
                0x679d_d514_582f_9fcf,
                0x0f6d_2b69_7bd4_4da8,
                0x77e3_6f73_04c4_8942,
                0x3f9d_85a8_6a1d_36c8,
                0x1112_e6ad_91d6_92a1,
            ]),
            Hash::Sha512_256 => State::W64([
                0x2231_2194_fc2b_f72c,
                0x9f55_5fa3_c84c_64c2,
                0x2393_b86b_6f53_b151,
                0x9638_7719_5940_eabd,
                0x9628_3ee2_a88e_ffe3,
                0xbe5e_1e25_5386_3992,
                0x2b01_99fc_2c85_b8aa,
                0x0eb7_2ddc_81c5_2ca2,
            ]),
        }
    }

    /// Parses a serialised state (exactly [`Hash::state_size`] bytes).
    pub(crate) fn parse_state(self, b: &[u8]) -> Option<State> {
        if b.len() != self.state_size() {
            return None;
        }
        Some(match self.initial() {
            State::W32(_) if self == Hash::Md5 => State::W32(
                b.chunks_exact(4)
                    .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                    .collect(),
            ),
            State::W32(_) => State::W32(
                b.chunks_exact(4)
                    .map(|c| u32::from_be_bytes([c[0], c[1], c[2], c[3]]))
                    .collect(),
            ),
            State::W64(_) => {
                let mut w = [0u64; 8];
                for (x, c) in w.iter_mut().zip(b.chunks_exact(8)) {
                    let mut a = [0u8; 8];
                    a.copy_from_slice(c);
                    *x = u64::from_be_bytes(a);
                }
                State::W64(w)
            }
        })
    }

    /// Serialises a state ([`Hash::state_size`] bytes; a digest is a prefix of it).
    pub(crate) fn serialise(self, s: &State) -> Vec<u8> {
        match s {
            State::W32(w) if self == Hash::Md5 => w.iter().flat_map(|x| x.to_le_bytes()).collect(),
            State::W32(w) => w.iter().flat_map(|x| x.to_be_bytes()).collect(),
            State::W64(w) => w.iter().flat_map(|x| x.to_be_bytes()).collect(),
        }
    }

    /// Absorbs whole blocks (`data.len()` a multiple of [`Hash::block_size`]).
    pub(crate) fn compress(self, s: &mut State, data: &[u8]) {
        let bs = self.block_size();
        debug_assert_eq!(data.len() % bs, 0);
        match s {
            State::W32(w) => {
                for block in data.chunks_exact(bs) {
                    match self {
                        Hash::Md5 => md5_block(w, block),
                        Hash::Sm3 => sm3_block(w, block),
                        Hash::Sha1 => {
                            let mut st = [0u32; 5];
                            st.copy_from_slice(w);
                            sha1::compress(&mut st, &[*GenericArray::from_slice(block)]);
                            w.copy_from_slice(&st);
                        }
                        _ => {
                            let mut st = [0u32; 8];
                            st.copy_from_slice(w);
                            sha2::compress256(&mut st, &[*GenericArray::from_slice(block)]);
                            w.copy_from_slice(&st);
                        }
                    }
                }
            }
            State::W64(w) => {
                for block in data.chunks_exact(bs) {
                    sha2::compress512(w, &[*GenericArray::from_slice(block)]);
                }
            }
        }
    }

    /// Absorbs the tail (fewer or more than a block) and the padding for a message of
    /// `total_bytes`, returning the digest (output size).
    pub(crate) fn finish(self, mut s: State, tail: &[u8], total_bytes: u128) -> Vec<u8> {
        let bs = self.block_size();
        let whole = tail.len() / bs * bs;
        self.compress(&mut s, &tail[..whole]);
        let len_bytes = if bs == 128 { 16 } else { 8 };
        let mut last = tail[whole..].to_vec();
        last.push(0x80);
        while last.len() % bs != bs - len_bytes {
            last.push(0);
        }
        let bits = total_bytes.wrapping_mul(8);
        match (self, len_bytes) {
            (Hash::Md5, _) => last.extend_from_slice(&(bits as u64).to_le_bytes()),
            (_, 8) => last.extend_from_slice(&(bits as u64).to_be_bytes()),
            _ => last.extend_from_slice(&bits.to_be_bytes()),
        }
        self.compress(&mut s, &last);
        let mut out = self.serialise(&s);
        out.truncate(self.size());
        out
    }
}

fn md5_block(h: &mut [u32], block: &[u8]) {
    const S: [u32; 64] = [
        7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 5, 9, 14, 20, 5, 9, 14, 20, 5, 9, 14, 20,
        5, 9, 14, 20, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 6, 10, 15, 21, 6, 10, 15,
        21, 6, 10, 15, 21, 6, 10, 15, 21,
    ];
    let m: Vec<u32> = block
        .chunks_exact(4)
        .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect();
    let (mut a, mut b, mut c, mut d) = (h[0], h[1], h[2], h[3]);
    for (i, &shift) in S.iter().enumerate() {
        // K[i] = floor(abs(sin(i + 1)) * 2^32) (RFC 1321 §3.4).
        let k = ((i as f64 + 1.0).sin().abs() * 4_294_967_296.0) as u32;
        let (f, g) = match i / 16 {
            0 => ((b & c) | (!b & d), i),
            1 => ((d & b) | (!d & c), (5 * i + 1) % 16),
            2 => (b ^ c ^ d, (3 * i + 5) % 16),
            _ => (c ^ (b | !d), (7 * i) % 16),
        };
        let t = d;
        d = c;
        c = b;
        b = b.wrapping_add(
            a.wrapping_add(f)
                .wrapping_add(k)
                .wrapping_add(m[g])
                .rotate_left(shift),
        );
        a = t;
    }
    h[0] = h[0].wrapping_add(a);
    h[1] = h[1].wrapping_add(b);
    h[2] = h[2].wrapping_add(c);
    h[3] = h[3].wrapping_add(d);
}

fn sm3_block(v: &mut [u32], block: &[u8]) {
    let p0 = |x: u32| x ^ x.rotate_left(9) ^ x.rotate_left(17);
    let p1 = |x: u32| x ^ x.rotate_left(15) ^ x.rotate_left(23);
    let mut w = [0u32; 68];
    for (i, c) in block.chunks_exact(4).enumerate() {
        w[i] = u32::from_be_bytes([c[0], c[1], c[2], c[3]]);
    }
    for j in 16..68 {
        w[j] = p1(w[j - 16] ^ w[j - 9] ^ w[j - 3].rotate_left(15)) ^ w[j - 13].rotate_left(7) ^ w[j - 6];
    }
    let (mut a, mut b, mut c, mut d) = (v[0], v[1], v[2], v[3]);
    let (mut e, mut f, mut g, mut h) = (v[4], v[5], v[6], v[7]);
    for j in 0..64 {
        let t: u32 = if j < 16 { 0x79cc_4519 } else { 0x7a87_9d8a };
        let ss1 = a
            .rotate_left(12)
            .wrapping_add(e)
            .wrapping_add(t.rotate_left((j % 32) as u32))
            .rotate_left(7);
        let ss2 = ss1 ^ a.rotate_left(12);
        let (ff, gg) = if j < 16 {
            (a ^ b ^ c, e ^ f ^ g)
        } else {
            ((a & b) | (a & c) | (b & c), (e & f) | (!e & g))
        };
        let tt1 = ff.wrapping_add(d).wrapping_add(ss2).wrapping_add(w[j] ^ w[j + 4]);
        let tt2 = gg.wrapping_add(h).wrapping_add(ss1).wrapping_add(w[j]);
        d = c;
        c = b.rotate_left(9);
        b = a;
        a = tt1;
        h = g;
        g = f.rotate_left(19);
        f = e;
        e = p0(tt2);
    }
    for (x, y) in v.iter_mut().zip([a, b, c, d, e, f, g, h]) {
        *x ^= y;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sec::digest::compute;

    const ALL: [Hash; 9] = [
        Hash::Md5,
        Hash::Sha1,
        Hash::Sha224,
        Hash::Sha256,
        Hash::Sha384,
        Hash::Sha512,
        Hash::Sha512_224,
        Hash::Sha512_256,
        Hash::Sm3,
    ];

    #[test]
    fn split_hashes_equal_one_shot_hashes() {
        let msg: Vec<u8> = (0..1000u32).map(|i| (i * 7 + 3) as u8).collect();
        for h in ALL {
            let bs = h.block_size();
            for len in [0, 1, 55, 56, 63, 64, 111, 112, 127, 128, 129, 300, 1000] {
                for split in [0, bs, 2 * bs] {
                    if split > len {
                        continue;
                    }
                    let mut s = h.initial();
                    h.compress(&mut s, &msg[..split]);
                    // Round trip through the serialised form, as between two BDs.
                    let s = h.parse_state(&h.serialise(&s)).unwrap();
                    let got = h.finish(s, &msg[split..len], len as u128);
                    let want = compute(h, None, &msg[..len]).unwrap();
                    assert_eq!(got, want.to_vec(), "{h:?} len {len} split {split}");
                }
            }
        }
    }

    /// A BD2 digest request (offsets from the reference's §7.2 table).
    #[allow(clippy::too_many_arguments)]
    fn bd2(
        a_alg: u8,
        auth: u8,
        mac_words: u32,
        src: &[u8],
        mac: u64,
        ivin: u64,
        gen: u8,
        pad: u8,
        bits: u64,
    ) -> uadk_core::qm::Sqe {
        let mut s = uadk_core::qm::Sqe::zeroed();
        s.set_u8(0, 2 | (auth << 6));
        s.set_u8(5, gen | (pad << 2));
        s.set_u32(8, mac_words | ((a_alg as u32) << 11));
        s.set_u32(16, src.len() as u32);
        s.set_u64(48, bits);
        s.set_u64(56, ivin);
        s.set_u64(72, mac);
        s.set_u64(96, src.as_ptr() as u64);
        s
    }

    #[test]
    fn long_hash_bds_chain_and_malformed_ones_are_rejected() {
        use crate::memory::ClientMem;
        use crate::sec::{execute, ERR_ALG, ERR_IV, ERR_LENGTH, ERR_MAC_LEN, ERR_UNSUPPORTED};
        let mut mem = ClientMem::new(std::process::id());
        let msg: Vec<u8> = (0..300u32).map(|i| (i * 7) as u8).collect();
        let mut state = [0u8; 32];
        let mut next = [0u8; 32];
        let mut mac = [0u8; 32];
        let sp = state.as_mut_ptr() as u64;
        let np = next.as_mut_ptr() as u64;
        let mp = mac.as_mut_ptr() as u64;
        let run = |mem: &mut ClientMem, mut s: uadk_core::qm::Sqe| {
            let mut f = 0;
            execute(3, &mut s, mem, (0, 0), &mut f).error
        };
        // SHA-256 (code 1): first (IV generation 0, no pad), middle, last (pad, 300 * 8 bits).
        assert_eq!(run(&mut mem, bd2(1, 1, 8, &msg[..128], sp, 0, 0, 1, 0)), 0);
        assert_eq!(run(&mut mem, bd2(1, 1, 8, &msg[128..192], np, sp, 1, 1, 0)), 0);
        assert_eq!(run(&mut mem, bd2(1, 1, 8, &msg[192..], mp, np, 1, 0, 300 * 8)), 0);
        assert_eq!(mac.to_vec(), compute(Hash::Sha256, None, &msg).unwrap().to_vec());
        // Non-final segments are whole blocks.
        assert_eq!(
            run(&mut mem, bd2(1, 1, 8, &msg[..100], sp, 0, 0, 1, 0)),
            ERR_LENGTH
        );
        // A no-pad segment writes the whole state (SHA-256: 8 words).
        assert_eq!(
            run(&mut mem, bd2(1, 1, 7, &msg[..64], sp, 0, 0, 1, 0)),
            ERR_MAC_LEN
        );
        // Chaining from the auth IV address needs one.
        assert_eq!(run(&mut mem, bd2(1, 1, 8, &msg[..64], sp, 0, 1, 1, 0)), ERR_IV);
        // The total length must cover the last segment and leave whole blocks before it.
        assert_eq!(
            run(&mut mem, bd2(1, 1, 8, &msg[192..], mp, np, 1, 0, 100 * 8)),
            ERR_LENGTH
        );
        assert_eq!(
            run(&mut mem, bd2(1, 1, 8, &msg[192..], mp, np, 1, 0, 301 * 8)),
            ERR_LENGTH
        );
        assert_eq!(
            run(&mut mem, bd2(1, 1, 8, &msg[192..], mp, np, 1, 0, 300 * 8 + 1)),
            ERR_LENGTH
        );
        // No MAC to verify on a no-pad segment; other generation codes are not modelled.
        assert_eq!(run(&mut mem, bd2(1, 2, 8, &msg[..64], sp, 0, 0, 1, 0)), ERR_ALG);
        assert_eq!(
            run(&mut mem, bd2(1, 1, 8, &msg[..64], sp, sp, 2, 1, 0)),
            ERR_UNSUPPORTED
        );
        // HMAC without a key where the keyed state enters (first request).
        assert_eq!(
            run(&mut mem, bd2(0x11, 1, 8, &msg[..64], sp, 0, 0, 1, 0)),
            super::super::ERR_KEY_LEN
        );
    }
}
