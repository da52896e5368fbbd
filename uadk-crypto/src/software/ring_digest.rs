//! ring's SHA-1/SHA-2 digests (BoringSSL's code, like aws-lc-rs; no SHA-224), as a
//! candidate of the engine table.

use super::DigestEngine;
use crate::alg::DigestAlg;
use crate::error::{Error, Result};

/// A SHA-1/SHA-2 digest through ring.
pub(crate) struct RingDigest {
    ctx: ring::digest::Context,
}

impl RingDigest {
    pub(crate) fn new(alg: DigestAlg) -> Result<RingDigest> {
        let a = ring_digest_alg(alg).ok_or_else(|| Error::provider(alg.name(), "ring has no such digest"))?;
        Ok(RingDigest {
            ctx: ring::digest::Context::new(a),
        })
    }
}

/// ring's digest for `alg` (SHA-1, SHA-256, SHA-384, SHA-512).
pub(crate) fn ring_digest_alg(alg: DigestAlg) -> Option<&'static ring::digest::Algorithm> {
    Some(match alg {
        DigestAlg::Sha1 => &ring::digest::SHA1_FOR_LEGACY_USE_ONLY,
        DigestAlg::Sha256 => &ring::digest::SHA256,
        DigestAlg::Sha384 => &ring::digest::SHA384,
        DigestAlg::Sha512 => &ring::digest::SHA512,
        _ => return None,
    })
}

impl DigestEngine for RingDigest {
    fn update(&mut self, data: &[u8]) -> Result<()> {
        self.ctx.update(data);
        Ok(())
    }

    fn finish(&mut self, out: &mut [u8]) -> Result<()> {
        let fresh = ring::digest::Context::new(self.ctx.algorithm());
        let d = std::mem::replace(&mut self.ctx, fresh).finish();
        out.copy_from_slice(d.as_ref());
        Ok(())
    }

    fn box_clone(&self) -> Result<Box<dyn DigestEngine>> {
        Ok(Box::new(RingDigest {
            ctx: self.ctx.clone(),
        }))
    }
}
