//! Continuing a hash from an intermediate state: what a device's long hash hands back
//! between requests (the chaining value, serialised big-endian as the digest would be), so
//! a stream whose device fails mid-way finishes in software instead of starting over.
//!
//! Available for SHA-1 and SHA-2, whose compression functions RustCrypto exports; MD5 and
//! SM3 streams cannot be resumed (their crates keep the compression function private) and
//! fail loudly instead.

use sha2::digest::generic_array::GenericArray;
use zeroize::Zeroize;

use super::DigestEngine;
use crate::alg::DigestAlg;
use crate::error::{Error, Result};

/// A hash continued from a chaining value.
#[derive(Clone)]
struct Resumed {
    alg: DigestAlg,
    s32: [u32; 8],
    s64: [u64; 8],
    /// Bytes absorbed so far (whole blocks plus `buf`).
    total: u128,
    buf: Vec<u8>,
}

impl Drop for Resumed {
    fn drop(&mut self) {
        self.s32.zeroize();
        self.s64.zeroize();
        self.buf.zeroize();
    }
}

/// Whether a stream of `alg` can be continued from a device's intermediate state.
pub(crate) fn can_resume(alg: DigestAlg) -> bool {
    !matches!(alg, DigestAlg::Md5 | DigestAlg::Sm3)
}

/// An engine continuing from `state` (the serialised chaining value) after `absorbed`
/// bytes (a whole number of blocks; for HMAC's inner hash the key block included).
pub(crate) fn resume(alg: DigestAlg, state: &[u8], absorbed: u64) -> Result<Box<dyn DigestEngine>> {
    let name = alg.name();
    let words = match alg {
        DigestAlg::Sha1 => 5,
        DigestAlg::Sha224 | DigestAlg::Sha256 => 8,
        DigestAlg::Sha384 | DigestAlg::Sha512 => 8,
        DigestAlg::Md5 | DigestAlg::Sm3 => {
            return Err(Error::provider(
                name,
                "this digest cannot be resumed from a device state",
            ))
        }
    };
    let mut r = Resumed {
        alg,
        s32: [0; 8],
        s64: [0; 8],
        total: absorbed as u128,
        buf: Vec::with_capacity(128),
    };
    if !absorbed.is_multiple_of(alg.block_len() as u64) {
        return Err(Error::provider(name, "a device state after a partial block"));
    }
    if matches!(alg, DigestAlg::Sha384 | DigestAlg::Sha512) {
        if state.len() != 64 {
            return Err(Error::provider(name, "a device state of the wrong size"));
        }
        for (w, c) in r.s64.iter_mut().zip(state.chunks_exact(8)) {
            *w = u64::from_be_bytes(c.try_into().expect("8 bytes"));
        }
    } else {
        if state.len() != words * 4 {
            return Err(Error::provider(name, "a device state of the wrong size"));
        }
        for (w, c) in r.s32.iter_mut().zip(state.chunks_exact(4)) {
            *w = u32::from_be_bytes(c.try_into().expect("4 bytes"));
        }
    }
    Ok(Box::new(r))
}

impl Resumed {
    fn compress(&mut self, blocks: &[u8]) {
        match self.alg {
            DigestAlg::Sha1 => {
                let mut s = [0u32; 5];
                s.copy_from_slice(&self.s32[..5]);
                for b in blocks.chunks_exact(64) {
                    sha1::compress(&mut s, &[*GenericArray::from_slice(b)]);
                }
                self.s32[..5].copy_from_slice(&s);
            }
            DigestAlg::Sha384 | DigestAlg::Sha512 => {
                for b in blocks.chunks_exact(128) {
                    sha2::compress512(&mut self.s64, &[*GenericArray::from_slice(b)]);
                }
            }
            _ => {
                for b in blocks.chunks_exact(64) {
                    sha2::compress256(&mut self.s32, &[*GenericArray::from_slice(b)]);
                }
            }
        }
    }
}

impl DigestEngine for Resumed {
    fn update(&mut self, mut data: &[u8]) -> Result<()> {
        let bs = self.alg.block_len();
        self.total += data.len() as u128;
        if !self.buf.is_empty() {
            let take = (bs - self.buf.len()).min(data.len());
            self.buf.extend_from_slice(&data[..take]);
            data = &data[take..];
            if self.buf.len() < bs {
                return Ok(());
            }
            let block = std::mem::take(&mut self.buf);
            self.compress(&block);
            self.buf = block;
            self.buf.clear();
        }
        let whole = data.len() / bs * bs;
        self.compress(&data[..whole]);
        self.buf.extend_from_slice(&data[whole..]);
        Ok(())
    }

    fn finish(&mut self, out: &mut [u8]) -> Result<()> {
        let n = self.alg.output_len();
        if out.len() != n {
            return Err(Error::OutputLength {
                needed: n,
                got: out.len(),
            });
        }
        let bs = self.alg.block_len();
        let len_bytes = if bs == 128 { 16 } else { 8 };
        let bits = self.total * 8;
        let mut last = std::mem::take(&mut self.buf);
        last.push(0x80);
        while last.len() % bs != bs - len_bytes {
            last.push(0);
        }
        if len_bytes == 16 {
            last.extend_from_slice(&bits.to_be_bytes());
        } else {
            last.extend_from_slice(&(bits as u64).to_be_bytes());
        }
        self.compress(&last);
        last.zeroize();
        let full: Vec<u8> = match self.alg {
            DigestAlg::Sha384 | DigestAlg::Sha512 => self.s64.iter().flat_map(|w| w.to_be_bytes()).collect(),
            _ => self.s32.iter().flat_map(|w| w.to_be_bytes()).collect(),
        };
        out.copy_from_slice(&full[..n]);
        Ok(())
    }

    fn box_clone(&self) -> Result<Box<dyn DigestEngine>> {
        Ok(Box::new(self.clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Crypto, DigestSession};

    #[test]
    fn resumed_hashes_equal_one_shot_hashes() {
        let msg: Vec<u8> = (0..3000u32).map(|i| (i * 13 + 1) as u8).collect();
        for alg in [
            DigestAlg::Sha1,
            DigestAlg::Sha224,
            DigestAlg::Sha256,
            DigestAlg::Sha384,
            DigestAlg::Sha512,
        ] {
            let s = DigestSession::new(&Crypto::new(crate::Backend::Software), alg).unwrap();
            let bs = alg.block_len();
            // The state after `k` blocks, computed independently by resuming from the IV
            // state of a fresh hash (the digest of nothing is not a state, so use k = 0 via
            // the IV from FIPS 180-4 through a resumed engine over whole blocks).
            for len in [0, 1, bs - 9, bs, bs + 1, 1000, 3000] {
                let want = s.digest_to_vec(&msg[..len]).unwrap();
                let iv = initial(alg);
                let mut e = resume(alg, &iv, 0).unwrap();
                e.update(&msg[..len.min(bs * 2)]).unwrap();
                e.update(&msg[len.min(bs * 2)..len]).unwrap();
                let mut got = vec![0u8; alg.output_len()];
                e.finish(&mut got).unwrap();
                assert_eq!(got, want, "{alg:?} {len}");
            }
        }
        assert!(resume(DigestAlg::Sm3, &[0; 32], 0).is_err());
        assert!(resume(DigestAlg::Sha256, &[0; 31], 0).is_err());
        assert!(resume(DigestAlg::Sha256, &[0; 32], 3).is_err());
    }

    /// FIPS 180-4 §5.3 initial hash values, serialised.
    fn initial(alg: DigestAlg) -> Vec<u8> {
        let w32: &[u32] = match alg {
            DigestAlg::Sha1 => &[0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476, 0xc3d2e1f0],
            DigestAlg::Sha224 => &[
                0xc1059ed8, 0x367cd507, 0x3070dd17, 0xf70e5939, 0xffc00b31, 0x68581511, 0x64f98fa7,
                0xbefa4fa4,
            ],
            DigestAlg::Sha256 => &[
                0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab,
                0x5be0cd19,
            ],
            _ => &[],
        };
        let w64: &[u64] = match alg {
            DigestAlg::Sha384 => &[
                0xcbbb9d5dc1059ed8,
                0x629a292a367cd507,
                0x9159015a3070dd17,
                0x152fecd8f70e5939,
                0x67332667ffc00b31,
                0x8eb44a8768581511,
                0xdb0c2e0d64f98fa7,
                0x47b5481dbefa4fa4,
            ],
            DigestAlg::Sha512 => &[
                0x6a09e667f3bcc908,
                0xbb67ae8584caa73b,
                0x3c6ef372fe94f82b,
                0xa54ff53a5f1d36f1,
                0x510e527fade682d1,
                0x9b05688c2b3e6c1f,
                0x1f83d9abfb41bd6b,
                0x5be0cd19137e2179,
            ],
            _ => &[],
        };
        w32.iter()
            .flat_map(|w| w.to_be_bytes())
            .chain(w64.iter().flat_map(|w| w.to_be_bytes()))
            .collect()
    }
}
