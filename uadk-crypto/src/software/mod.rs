//! The software path: one file per provider library, and [`select`] which picks the
//! provider per algorithm from a rule table keyed by the running CPU's features (the
//! figures behind each rule are in `select.rs`; `UADK_ENGINE_<ALG>` overrides it).
//!
//! Every engine here is keyed once and reused for many requests; sessions keep a small
//! pool of them so that `&self` operations can run from many threads.

use crate::error::Result;

mod aws_lc;
mod ccm;
pub(crate) mod openssl;
mod openssl_ffi;
pub(crate) mod resume;
mod ring_digest;
mod ring_gcm;
mod rustcrypto;
pub mod select;
#[cfg(test)]
mod tests;

pub use select::{Choice, Provider};

/// A keyed cipher context bound to one direction.
pub(crate) trait CipherEngine: Send {
    /// Starts a new message at `iv` (empty for ECB); chaining restarts from here.
    fn start(&mut self, iv: &[u8]) -> Result<()>;
    /// Continues the message; `output.len() == input.len()`, lengths valid for the mode.
    fn update(&mut self, input: &[u8], output: &mut [u8]) -> Result<()>;
    /// Continues the message in place.
    fn update_in_place(&mut self, buf: &mut [u8]) -> Result<()>;
}

/// A running digest.
pub(crate) trait DigestEngine: Send + Sync {
    /// Absorbs data.
    fn update(&mut self, data: &[u8]) -> Result<()>;
    /// Writes the digest to `out` (exactly the digest length) and resets to the empty state.
    fn finish(&mut self, out: &mut [u8]) -> Result<()>;
    /// An independent copy of the current state.
    fn box_clone(&self) -> Result<Box<dyn DigestEngine>>;
}

/// A keyed AEAD with a fixed tag length.
pub(crate) trait AeadEngine: Send {
    /// Encrypts `input` into `output` (same length) and writes the tag. By default: copy,
    /// then [`AeadEngine::seal_in_place`].
    fn seal(
        &mut self,
        nonce: &[u8],
        aad: &[u8],
        input: &[u8],
        output: &mut [u8],
        tag: &mut [u8],
    ) -> Result<()> {
        output.copy_from_slice(input);
        self.seal_in_place(nonce, aad, output, tag)
    }
    /// Encrypts in place and writes the tag.
    fn seal_in_place(&mut self, nonce: &[u8], aad: &[u8], buf: &mut [u8], tag: &mut [u8]) -> Result<()>;
    /// Decrypts into `output` and verifies `tag`; `Ok(false)` on mismatch, with `output`
    /// in an unspecified state that the caller must wipe. By default: copy, then
    /// [`AeadEngine::open_in_place`].
    fn open(
        &mut self,
        nonce: &[u8],
        aad: &[u8],
        input: &[u8],
        output: &mut [u8],
        tag: &[u8],
    ) -> Result<bool> {
        output.copy_from_slice(input);
        self.open_in_place(nonce, aad, output, tag)
    }
    /// Decrypts in place; same contract as [`AeadEngine::open`].
    fn open_in_place(&mut self, nonce: &[u8], aad: &[u8], buf: &mut [u8], tag: &[u8]) -> Result<bool>;
}
