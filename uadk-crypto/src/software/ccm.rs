//! CCM (SP 800-38C) over any 128-bit block cipher, for SM4-CCM, which no maintained
//! library offers with run-time nonce and tag lengths. AES-CCM uses OpenSSL; the tests
//! check this code against OpenSSL's AES-CCM on random inputs and against SP 800-38C.

use sm4::cipher::consts::U16;
use sm4::cipher::generic_array::GenericArray;
use sm4::cipher::{BlockEncrypt, BlockSizeUser};

use super::AeadEngine;
use crate::error::Result;

type Block = GenericArray<u8, U16>;

/// CCM with a fixed tag length; the nonce length (7..=13) may change per request.
pub(crate) struct Ccm<C> {
    cipher: C,
    tag_len: usize,
}

impl<C: BlockEncrypt + BlockSizeUser<BlockSize = U16> + Send> Ccm<C> {
    pub(crate) fn new(cipher: C, tag_len: usize) -> Ccm<C> {
        Ccm { cipher, tag_len }
    }

    /// The counter block `ctr_j`.
    fn counter(nonce: &[u8], j: u64) -> Block {
        let q = 15 - nonce.len();
        let mut b = Block::default();
        b[0] = (q - 1) as u8;
        b[1..1 + nonce.len()].copy_from_slice(nonce);
        let jb = j.to_be_bytes();
        let take = q.min(8);
        b[16 - take..].copy_from_slice(&jb[8 - take..]);
        b
    }

    /// CBC-MAC over B0, the encoded AAD and the payload; returns the full block T.
    fn mac(&self, nonce: &[u8], aad: &[u8], payload: &[u8]) -> Block {
        let q = 15 - nonce.len();
        let mut y = Block::default();
        y[0] = (u8::from(!aad.is_empty()) << 6) | ((((self.tag_len - 2) / 2) as u8) << 3) | (q - 1) as u8;
        y[1..1 + nonce.len()].copy_from_slice(nonce);
        let pb = (payload.len() as u64).to_be_bytes();
        let take = q.min(8);
        y[16 - take..].copy_from_slice(&pb[8 - take..]);
        self.cipher.encrypt_block(&mut y);

        let absorb = |data: &[u8], y: &mut Block| {
            for chunk in data.chunks(16) {
                for (a, b) in y.iter_mut().zip(chunk) {
                    *a ^= b;
                }
                self.cipher.encrypt_block(y);
            }
        };
        if !aad.is_empty() {
            let a = aad.len() as u64;
            let mut head = Vec::with_capacity(aad.len() + 10);
            if a < (1 << 16) - (1 << 8) {
                head.extend_from_slice(&(a as u16).to_be_bytes());
            } else if a < (1 << 32) {
                head.extend_from_slice(&[0xff, 0xfe]);
                head.extend_from_slice(&(a as u32).to_be_bytes());
            } else {
                head.extend_from_slice(&[0xff, 0xff]);
                head.extend_from_slice(&a.to_be_bytes());
            }
            head.extend_from_slice(aad);
            absorb(&head, &mut y);
        }
        absorb(payload, &mut y);
        y
    }

    /// XORs the keystream from counter 1 onwards into `buf`.
    fn ctr(&self, nonce: &[u8], buf: &mut [u8]) {
        for (j, chunk) in buf.chunks_mut(16).enumerate() {
            let mut s = Self::counter(nonce, j as u64 + 1);
            self.cipher.encrypt_block(&mut s);
            for (a, b) in chunk.iter_mut().zip(s.iter()) {
                *a ^= b;
            }
        }
    }

    fn tag_from(&self, nonce: &[u8], t: &Block) -> Block {
        let mut s0 = Self::counter(nonce, 0);
        self.cipher.encrypt_block(&mut s0);
        for (a, b) in s0.iter_mut().zip(t.iter()) {
            *a ^= b;
        }
        s0
    }
}

/// Constant-time equality of two equal-length byte strings.
pub(crate) fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

impl<C: BlockEncrypt + BlockSizeUser<BlockSize = U16> + Send> AeadEngine for Ccm<C> {
    fn seal_in_place(&mut self, nonce: &[u8], aad: &[u8], buf: &mut [u8], tag: &mut [u8]) -> Result<()> {
        let t = self.mac(nonce, aad, buf);
        self.ctr(nonce, buf);
        tag.copy_from_slice(&self.tag_from(nonce, &t)[..self.tag_len]);
        Ok(())
    }

    fn open_in_place(&mut self, nonce: &[u8], aad: &[u8], buf: &mut [u8], tag: &[u8]) -> Result<bool> {
        self.ctr(nonce, buf);
        let t = self.mac(nonce, aad, buf);
        let expect = self.tag_from(nonce, &t);
        Ok(ct_eq(&expect[..self.tag_len], tag))
    }
}
