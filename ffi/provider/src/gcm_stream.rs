//! GCM that streams: any number of AAD and data updates, any IV length, any tag length.
//!
//! uadk-crypto's AEAD engines (ring, the SEC device) take a whole message at once, which is
//! what TLS and `openssl speed` give. A generic EVP caller may feed a message in pieces, set
//! the tag late, or use a 1-byte or 60-byte IV; this module serves those cases with a block
//! cipher (RustCrypto `aes`/`sm4`, AES-NI where available) in CTR mode with GCM's 32-bit
//! counter (`ctr::Ctr32BE`) and GHASH (`ghash`, PCLMULQDQ where available), per SP 800-38D.
//!
//! It can also continue a message that was sealed in one call: from the full 16-byte tag
//! the GHASH state is recovered (`S = tag ^ E(J0)`, `Y = S * H^-1 ^ lengths`), so a second
//! data update after a one-shot seal still yields the right tag ([`StreamGcm::resume`]).

use aes::cipher::{BlockEncrypt, InnerIvInit, KeyInit, StreamCipher, StreamCipherSeek};
use ghash::universal_hash::UniversalHash;
use ghash::GHash;
use zeroize::Zeroizing;

/// A block cipher key schedule (AES-128/192/256 or SM4).
#[derive(Clone)]
pub enum BlockKey {
    /// AES-128.
    Aes128(aes::Aes128),
    /// AES-192.
    Aes192(aes::Aes192),
    /// AES-256.
    Aes256(aes::Aes256),
    /// SM4.
    Sm4(sm4::Sm4),
}

impl BlockKey {
    /// A key schedule for `key` (16, 24 or 32 bytes; `sm4` selects SM4, 16 bytes).
    ///
    /// ```
    /// use uadk_provider::gcm_stream::BlockKey;
    /// assert!(BlockKey::new(false, &[0; 24]).is_some());
    /// assert!(BlockKey::new(true, &[0; 24]).is_none());
    /// ```
    pub fn new(sm4: bool, key: &[u8]) -> Option<BlockKey> {
        Some(match (sm4, key.len()) {
            (true, 16) => BlockKey::Sm4(sm4::Sm4::new_from_slice(key).ok()?),
            (false, 16) => BlockKey::Aes128(aes::Aes128::new_from_slice(key).ok()?),
            (false, 24) => BlockKey::Aes192(aes::Aes192::new_from_slice(key).ok()?),
            (false, 32) => BlockKey::Aes256(aes::Aes256::new_from_slice(key).ok()?),
            _ => return None,
        })
    }

    /// Encrypts one block.
    pub fn encrypt_block(&self, block: &mut [u8; 16]) {
        let b = aes::Block::from_mut_slice(block);
        match self {
            BlockKey::Aes128(c) => c.encrypt_block(b),
            BlockKey::Aes192(c) => c.encrypt_block(b),
            BlockKey::Aes256(c) => c.encrypt_block(b),
            BlockKey::Sm4(c) => c.encrypt_block(b),
        }
    }

    fn ctr(&self, counter: &[u8; 16]) -> Ctr {
        let iv = aes::Block::from_slice(counter);
        match self {
            BlockKey::Aes128(c) => Ctr::Aes128(ctr::Ctr32BE::from_core(ctr::CtrCore::inner_iv_init(
                c.clone(),
                iv,
            ))),
            BlockKey::Aes192(c) => Ctr::Aes192(ctr::Ctr32BE::from_core(ctr::CtrCore::inner_iv_init(
                c.clone(),
                iv,
            ))),
            BlockKey::Aes256(c) => Ctr::Aes256(ctr::Ctr32BE::from_core(ctr::CtrCore::inner_iv_init(
                c.clone(),
                iv,
            ))),
            BlockKey::Sm4(c) => Ctr::Sm4(ctr::Ctr32BE::from_core(ctr::CtrCore::inner_iv_init(
                c.clone(),
                iv,
            ))),
        }
    }
}

#[derive(Clone)]
enum Ctr {
    Aes128(ctr::Ctr32BE<aes::Aes128>),
    Aes192(ctr::Ctr32BE<aes::Aes192>),
    Aes256(ctr::Ctr32BE<aes::Aes256>),
    Sm4(ctr::Ctr32BE<sm4::Sm4>),
}

impl Ctr {
    fn apply(&mut self, buf: &mut [u8]) {
        match self {
            Ctr::Aes128(c) => c.apply_keystream(buf),
            Ctr::Aes192(c) => c.apply_keystream(buf),
            Ctr::Aes256(c) => c.apply_keystream(buf),
            Ctr::Sm4(c) => c.apply_keystream(buf),
        }
    }

    fn apply_b2b(&mut self, input: &[u8], out: &mut [u8]) {
        // Lengths are equal by construction (callers pass matching slices).
        let r = match self {
            Ctr::Aes128(c) => c.apply_keystream_b2b(input, out),
            Ctr::Aes192(c) => c.apply_keystream_b2b(input, out),
            Ctr::Aes256(c) => c.apply_keystream_b2b(input, out),
            Ctr::Sm4(c) => c.apply_keystream_b2b(input, out),
        };
        debug_assert!(r.is_ok());
    }

    fn seek(&mut self, pos: u64) {
        match self {
            Ctr::Aes128(c) => c.seek(pos),
            Ctr::Aes192(c) => c.seek(pos),
            Ctr::Aes256(c) => c.seek(pos),
            Ctr::Sm4(c) => c.seek(pos),
        }
    }
}

/// GF(2^128) in GCM's bit order, through the `ghash` crate: `a * b`.
fn gf_mul(a: &[u8; 16], b: &[u8; 16]) -> [u8; 16] {
    let mut g = GHash::new_with_init_block(ghash::Key::from_slice(b), u128::from_le_bytes(*a));
    g.update(&[ghash::Block::default()]);
    g.finalize().into()
}

/// `h^-1 = h^(2^128 - 2)`.
fn gf_inv(h: &[u8; 16]) -> [u8; 16] {
    let mut one = [0u8; 16];
    one[0] = 0x80;
    let mut r = one;
    for _ in 0..127 {
        r = gf_mul(&gf_mul(&r, &r), h);
    }
    gf_mul(&r, &r)
}

fn xor16(a: &mut [u8; 16], b: &[u8; 16]) {
    for (x, y) in a.iter_mut().zip(b) {
        *x ^= y;
    }
}

fn len_block(aad_len: u64, ct_len: u64) -> [u8; 16] {
    let mut l = [0u8; 16];
    l[..8].copy_from_slice(&(aad_len * 8).to_be_bytes());
    l[8..].copy_from_slice(&(ct_len * 8).to_be_bytes());
    l
}

/// One GCM message in progress.
#[derive(Clone)]
pub struct StreamGcm {
    ctr: Ctr,
    ghash: GHash,
    /// Bytes waiting for a whole GHASH block (AAD until data starts, then ciphertext).
    pending: [u8; 16],
    pending_len: usize,
    aad_len: u64,
    ct_len: u64,
    data_started: bool,
    ej0: Zeroizing<[u8; 16]>,
}

/// The message's key-dependent constants.
fn setup(key: &BlockKey, iv: &[u8]) -> ([u8; 16], [u8; 16]) {
    let mut h = [0u8; 16];
    key.encrypt_block(&mut h);
    let j0 = if iv.len() == 12 {
        let mut j = [0u8; 16];
        j[..12].copy_from_slice(iv);
        j[15] = 1;
        j
    } else {
        let mut g = GHash::new(ghash::Key::from_slice(&h));
        g.update_padded(iv);
        g.update(&[ghash::Block::from(len_block(0, iv.len() as u64))]);
        g.finalize().into()
    };
    (h, j0)
}

impl StreamGcm {
    /// Starts a message under `key` with `iv` (any length >= 1).
    ///
    /// ```
    /// use uadk_provider::gcm_stream::{BlockKey, StreamGcm};
    /// let k = BlockKey::new(false, &[0; 16]).unwrap();
    /// let tag = StreamGcm::new(&k, &[0; 12]).finish();
    /// // The first test case of the GCM specification (empty message).
    /// assert_eq!(tag[..4], [0x58, 0xe2, 0xfc, 0xce]);
    /// ```
    pub fn new(key: &BlockKey, iv: &[u8]) -> StreamGcm {
        let (h, j0) = setup(key, iv);
        let mut ej0 = Zeroizing::new(j0);
        key.encrypt_block(&mut ej0);
        let mut ctr = key.ctr(&j0);
        // The first counter block (J0) masks the tag; data starts at inc32(J0).
        ctr.seek(16);
        StreamGcm {
            ctr,
            ghash: GHash::new(ghash::Key::from_slice(&h)),
            pending: [0; 16],
            pending_len: 0,
            aad_len: 0,
            ct_len: 0,
            data_started: false,
            ej0,
        }
    }

    /// Continues a message whose first `ct_len` bytes (after `aad_len` bytes of AAD) were
    /// sealed in one call with full tag `tag`; `tail` is the last `ct_len % 16` bytes of
    /// that ciphertext.
    ///
    /// ```
    /// use uadk_provider::gcm_stream::{BlockKey, StreamGcm};
    /// let k = BlockKey::new(false, &[7; 16]).unwrap();
    /// let mut whole = StreamGcm::new(&k, &[1; 12]);
    /// let (mut a, mut b) = ([5u8; 20], [6u8; 9]);
    /// whole.aad(b"hdr");
    /// whole.encrypt(&mut a);
    /// let mut first = whole.clone();
    /// let tag1 = first.finish();
    /// whole.encrypt(&mut b);
    /// let mut resumed = StreamGcm::resume(&k, &[1; 12], 3, 20, &a[16..], &tag1);
    /// let mut b2 = [6u8; 9];
    /// resumed.encrypt(&mut b2);
    /// assert_eq!(b, b2);
    /// assert_eq!(whole.finish(), resumed.finish());
    /// ```
    pub fn resume(
        key: &BlockKey,
        iv: &[u8],
        aad_len: u64,
        ct_len: u64,
        tail: &[u8],
        tag: &[u8; 16],
    ) -> StreamGcm {
        let (h, _) = setup(key, iv);
        let mut me = StreamGcm::new(key, iv);
        let h_inv = gf_inv(&h);
        // S = tag ^ E(J0) = (Y ^ L) * H.
        let mut s = *tag;
        xor16(&mut s, &me.ej0);
        let mut y = gf_mul(&s, &h_inv);
        xor16(&mut y, &len_block(aad_len, ct_len));
        let mut pending = [0u8; 16];
        if !tail.is_empty() {
            // Y included the zero-padded partial block: Y = (Y' ^ pad(tail)) * H.
            pending[..tail.len()].copy_from_slice(tail);
            y = gf_mul(&y, &h_inv);
            xor16(&mut y, &pending);
        }
        me.ghash = GHash::new_with_init_block(ghash::Key::from_slice(&h), u128::from_le_bytes(y));
        me.pending = pending;
        me.pending_len = tail.len();
        me.aad_len = aad_len;
        me.ct_len = ct_len;
        me.data_started = true;
        me.ctr.seek(16 + ct_len);
        me
    }

    /// Whether data has started (AAD is then closed).
    pub fn data_started(&self) -> bool {
        self.data_started
    }

    fn absorb(&mut self, mut data: &[u8]) {
        if self.pending_len > 0 {
            let take = (16 - self.pending_len).min(data.len());
            self.pending[self.pending_len..self.pending_len + take].copy_from_slice(&data[..take]);
            self.pending_len += take;
            data = &data[take..];
            if self.pending_len < 16 {
                return;
            }
            self.ghash.update(&[ghash::Block::from(self.pending)]);
            self.pending_len = 0;
        }
        let whole = data.len() / 16 * 16;
        // Whole blocks only, so `update_padded` pads nothing.
        self.ghash.update_padded(&data[..whole]);
        let rest = &data[whole..];
        self.pending[..rest.len()].copy_from_slice(rest);
        self.pending_len = rest.len();
    }

    fn close_aad(&mut self) {
        if !self.data_started {
            self.flush_pending();
            self.data_started = true;
        }
    }

    fn flush_pending(&mut self) {
        if self.pending_len > 0 {
            let n = self.pending_len;
            self.ghash.update_padded(&self.pending[..n]);
            self.pending_len = 0;
        }
    }

    /// Absorbs AAD; `false` (and nothing absorbed) once data has started.
    pub fn aad(&mut self, aad: &[u8]) -> bool {
        if self.data_started {
            return false;
        }
        self.aad_len += aad.len() as u64;
        self.absorb(aad);
        true
    }

    /// Encrypts `buf` in place.
    pub fn encrypt(&mut self, buf: &mut [u8]) {
        self.close_aad();
        self.ctr.apply(buf);
        self.ct_len += buf.len() as u64;
        self.absorb(buf);
    }

    /// Decrypts `buf` in place.
    pub fn decrypt(&mut self, buf: &mut [u8]) {
        self.close_aad();
        self.ct_len += buf.len() as u64;
        self.absorb(buf);
        self.ctr.apply(buf);
    }

    /// Encrypts or decrypts `input` into `out` (same length).
    pub fn crypt_b2b(&mut self, encrypt: bool, input: &[u8], out: &mut [u8]) {
        self.close_aad();
        self.ct_len += input.len() as u64;
        if encrypt {
            self.ctr.apply_b2b(input, out);
            self.absorb(out);
        } else {
            self.absorb(input);
            self.ctr.apply_b2b(input, out);
        }
    }

    /// The full 16-byte tag of the message so far.
    pub fn finish(&mut self) -> [u8; 16] {
        self.close_aad();
        self.flush_pending();
        let mut g = self.ghash.clone();
        g.update(&[ghash::Block::from(len_block(self.aad_len, self.ct_len))]);
        let mut t: [u8; 16] = g.finalize().into();
        xor16(&mut t, &self.ej0);
        t
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn openssl_gcm(key: &[u8], iv: &[u8], aad: &[u8], pt: &[u8]) -> (Vec<u8>, Vec<u8>) {
        use openssl::cipher::Cipher;
        use openssl::cipher_ctx::CipherCtx;
        let c = match key.len() {
            16 => Cipher::aes_128_gcm(),
            24 => Cipher::aes_192_gcm(),
            _ => Cipher::aes_256_gcm(),
        };
        let mut ctx = CipherCtx::new().unwrap();
        ctx.encrypt_init(Some(c), None, None).unwrap();
        ctx.set_iv_length(iv.len()).unwrap();
        ctx.encrypt_init(None, Some(key), Some(iv)).unwrap();
        ctx.cipher_update(aad, None).unwrap();
        let mut out = vec![0u8; pt.len() + 16];
        let n = ctx.cipher_update(pt, Some(&mut out)).unwrap();
        out.truncate(n);
        ctx.cipher_final_vec(&mut Vec::new()).unwrap();
        let mut tag = vec![0u8; 16];
        ctx.tag(&mut tag).unwrap();
        (out, tag)
    }

    #[test]
    fn gf_inverse_is_an_inverse() {
        let h = [
            0x66, 0xe9, 0x4b, 0xd4, 0xef, 0x8a, 0x2c, 0x3b, 0x88, 0x4c, 0xfa, 0x59, 0xca, 0x34, 0x2b, 0x2e,
        ];
        let mut one = [0u8; 16];
        one[0] = 0x80;
        assert_eq!(gf_mul(&h, &one), h);
        assert_eq!(gf_mul(&h, &gf_inv(&h)), one);
    }

    #[test]
    fn matches_openssl_for_odd_splits_and_iv_lengths() {
        let mut seed = 0x1234_5678_u64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for round in 0..60 {
            let klen = [16, 24, 32][round % 3];
            let key: Vec<u8> = (0..klen).map(|_| next() as u8).collect();
            let ivlen = [12, 1, 16, 60, 13][round % 5];
            let iv: Vec<u8> = (0..ivlen).map(|_| next() as u8).collect();
            let aad: Vec<u8> = (0..(next() % 40) as usize).map(|_| next() as u8).collect();
            let pt: Vec<u8> = (0..(next() % 300) as usize).map(|_| next() as u8).collect();
            let (ct, tag) = openssl_gcm(&key, &iv, &aad, &pt);
            let k = BlockKey::new(false, &key).unwrap();
            let mut s = StreamGcm::new(&k, &iv);
            let cut = (next() as usize) % (aad.len() + 1);
            s.aad(&aad[..cut]);
            s.aad(&aad[cut..]);
            let mut buf = pt.clone();
            let mut i = 0;
            while i < buf.len() {
                let n = ((next() % 37) as usize + 1).min(buf.len() - i);
                s.encrypt(&mut buf[i..i + n]);
                i += n;
            }
            assert_eq!(buf, ct);
            assert_eq!(s.finish().to_vec(), tag);
            let mut d = StreamGcm::new(&k, &iv);
            d.aad(&aad);
            let mut out = vec![0u8; ct.len()];
            d.crypt_b2b(false, &ct, &mut out);
            assert_eq!(out, pt);
            assert_eq!(d.finish().to_vec(), tag);
        }
    }

    #[test]
    fn resume_after_a_one_shot_prefix() {
        for (alen, first, second) in [
            (0usize, 16usize, 5usize),
            (13, 33, 100),
            (5, 1, 1),
            (16, 48, 0),
            (7, 15, 17),
        ] {
            let k = BlockKey::new(false, &[3; 32]).unwrap();
            let aad = vec![9u8; alen];
            let pt: Vec<u8> = (0..first + second).map(|i| i as u8).collect();
            let (ct, tag) = openssl_gcm(&[3; 32], &[4; 12], &aad, &pt);
            let (ct1, tag1) = openssl_gcm(&[3; 32], &[4; 12], &aad, &pt[..first]);
            let tail = &ct1[first / 16 * 16..];
            let mut r = StreamGcm::resume(
                &k,
                &[4; 12],
                alen as u64,
                first as u64,
                tail,
                &tag1.try_into().unwrap(),
            );
            let mut rest = pt[first..].to_vec();
            r.encrypt(&mut rest);
            assert_eq!(rest, ct[first..]);
            assert_eq!(r.finish().to_vec(), tag);
        }
    }

    #[test]
    fn sm4_gcm_matches_uadk_crypto() {
        use uadk_crypto::{AeadAlg, AeadSession};
        let s = AeadSession::software(AeadAlg::from_name("sm4-gcm").unwrap(), &[5; 16], 16).unwrap();
        let mut buf = vec![1u8; 77];
        let mut tag = [0u8; 16];
        s.seal_in_place(&[2; 12], b"aad", &mut buf, &mut tag).unwrap();
        let k = BlockKey::new(true, &[5; 16]).unwrap();
        let mut g = StreamGcm::new(&k, &[2; 12]);
        g.aad(b"aad");
        let mut mine = vec![1u8; 77];
        g.encrypt(&mut mine);
        assert_eq!(mine, buf);
        assert_eq!(g.finish(), tag);
    }
}
