//! HMAC (RFC 2104) over any software digest engine, with the keyed inner and outer
//! states computed once per session (the key is set once, as in UADK sessions).

use zeroize::Zeroizing;

use crate::alg::DigestAlg;
use crate::error::Result;
use crate::software::{select, DigestEngine};

/// The two keyed states; cloned for each message.
pub(crate) struct HmacState {
    alg: DigestAlg,
    inner: Box<dyn DigestEngine>,
    outer: Box<dyn DigestEngine>,
}

impl HmacState {
    /// Absorbs `K ^ ipad` and `K ^ opad` (a key longer than a block is hashed first), over
    /// the digest engine the table (or `UADK_ENGINE_HMAC_<ALG>`) chose.
    pub(crate) fn new(alg: DigestAlg, key: &[u8]) -> Result<HmacState> {
        Self::build(alg, key, &|| select::hmac_digest(alg))
    }

    /// As [`HmacState::new`], over provider `p`'s digest (bench candidates).
    pub(crate) fn with_provider(p: select::Provider, alg: DigestAlg, key: &[u8]) -> Result<HmacState> {
        Self::build(alg, key, &|| select::digest_with(p, alg))
    }

    fn build(
        alg: DigestAlg,
        key: &[u8],
        engine: &dyn Fn() -> Result<Box<dyn DigestEngine>>,
    ) -> Result<HmacState> {
        let block = alg.block_len();
        let mut k = Zeroizing::new(vec![0u8; block]);
        if key.len() > block {
            let mut h = engine()?;
            h.update(key)?;
            h.finish(&mut k[..alg.output_len()])?;
        } else {
            k[..key.len()].copy_from_slice(key);
        }
        let mut pad = Zeroizing::new(vec![0u8; block]);
        let mut keyed = |byte: u8| -> Result<Box<dyn DigestEngine>> {
            for (p, k) in pad.iter_mut().zip(k.iter()) {
                *p = k ^ byte;
            }
            let mut h = engine()?;
            h.update(&pad)?;
            Ok(h)
        };
        let inner = keyed(0x36)?;
        let outer = keyed(0x5c)?;
        Ok(HmacState { alg, inner, outer })
    }

    /// A running inner hash for a new message.
    pub(crate) fn start(&self) -> Result<Box<dyn DigestEngine>> {
        self.inner.box_clone()
    }

    /// Finishes a message whose inner hash is `inner`.
    pub(crate) fn finish(&self, inner: &mut dyn DigestEngine, out: &mut [u8]) -> Result<()> {
        let mut ih = Zeroizing::new([0u8; 64]);
        let n = self.alg.output_len();
        inner.finish(&mut ih[..n])?;
        let mut o = self.outer.box_clone()?;
        o.update(&ih[..n])?;
        o.finish(out)
    }
}
