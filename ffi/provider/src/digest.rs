//! SHA-1, SHA-224/256/384/512, SM3 and MD5 contexts.
//!
//! A message is gathered in the context and finished in one uadk-crypto request (its chosen
//! software engine, or the SEC device above its threshold), which is what `openssl speed`,
//! certificate hashing, HMAC's inner and outer hashes and TLS transcripts look like.
//! Duplicating a context (`EVP_MD_CTX_copy`, used by HMAC for every message and by libssl
//! for transcript hashes) copies the gathered bytes.
//!
//! Long messages stream instead: once more than [`BUFFER_LIMIT`] bytes arrive (or, with
//! no device attached, when the first update alone is [`DIRECT_MIN`] bytes or more, which
//! saves the copy), the context continues on a duplicable engine of the library
//! uadk-crypto selects for the algorithm (`software::select::digest_provider`: RustCrypto
//! for SHA-224/256 and SM3, OpenSSL's default implementation, fetched explicitly, for the
//! others). uadk-crypto's own streaming `Hasher` cannot be duplicated, and a provider
//! digest must be.

use sha2::Digest as _;
use std::mem::MaybeUninit;
use uadk_crypto::software::select::{digest_provider, Provider};
use uadk_crypto::DigestAlg;

use zeroize::Zeroize;

use crate::algs::DigestSpec;
use crate::boundary::{done, err, Res};
use crate::ossl;
use crate::runtime::{self, COUNTERS};

/// Most bytes a context gathers for one uadk-crypto request without a device.
pub const BUFFER_LIMIT: usize = 64 * 1024;
/// Most bytes gathered when a SEC device is attached (larger requests suit it).
pub const BUFFER_LIMIT_DEVICE: usize = 1 << 20;
/// Without a device, a first update longer than the inline buffer streams at once (no
/// copy): uadk-crypto would run the same software engine for it.
pub const DIRECT_MIN: usize = INLINE + 1;

/// A streaming digest that can be duplicated.
trait StreamDigest: Send + Sync {
    fn update(&mut self, data: &[u8]) -> Res<()>;
    fn finish(&mut self, out: &mut [u8]) -> Res<()>;
    fn box_clone(&self) -> Box<dyn StreamDigest>;
}

struct Rc<D>(D);

impl<D: sha2::Digest + sha2::digest::FixedOutputReset + Clone + Send + Sync + 'static> StreamDigest
    for Rc<D>
{
    fn update(&mut self, data: &[u8]) -> Res<()> {
        sha2::Digest::update(&mut self.0, data);
        Ok(())
    }

    fn finish(&mut self, out: &mut [u8]) -> Res<()> {
        let d = sha2::Digest::finalize_reset(&mut self.0);
        out.copy_from_slice(&d);
        Ok(())
    }

    fn box_clone(&self) -> Box<dyn StreamDigest> {
        Box::new(Rc(self.0.clone()))
    }
}

struct Ossl(openssl::hash::Hasher);

fn lib_err(e: impl std::fmt::Display) -> crate::boundary::ProvError {
    crate::boundary::ProvError::new(
        ossl::PROV_R_CIPHER_OPERATION_FAILED,
        format!("uadk_provider: digest: {e}"),
    )
}

impl StreamDigest for Ossl {
    fn update(&mut self, data: &[u8]) -> Res<()> {
        self.0.update(data).map_err(lib_err)
    }

    fn finish(&mut self, out: &mut [u8]) -> Res<()> {
        let d = self.0.finish().map_err(lib_err)?;
        out.copy_from_slice(&d);
        Ok(())
    }

    fn box_clone(&self) -> Box<dyn StreamDigest> {
        Box::new(Ossl(self.0.clone()))
    }
}

fn stream_engine(spec: &DigestSpec, alg: DigestAlg) -> Res<Box<dyn StreamDigest>> {
    if digest_provider(alg) == Provider::RustCrypto {
        match alg {
            DigestAlg::Sha224 => return Ok(Box::new(Rc(sha2::Sha224::new()))),
            DigestAlg::Sha256 => return Ok(Box::new(Rc(sha2::Sha256::new()))),
            DigestAlg::Sm3 => return Ok(Box::new(Rc(sm3::Sm3::new()))),
            _ => {}
        }
    }
    let Some(md) = crate::fetch::default_digest(spec.default_name) else {
        return err(
            ossl::PROV_R_NOT_SUPPORTED,
            format!(
                "uadk_provider: streaming {} needs the default provider; activate it",
                spec.default_name
            ),
        );
    };
    Ok(Box::new(Ossl(openssl::hash::Hasher::new(md).map_err(lib_err)?)))
}

/// Bytes gathered inline before spilling to the heap (HMAC's padded key block, TLS
/// handshake messages, `speed`'s small messages stay here: no allocation per message).
pub const INLINE: usize = 256;

/// Up to [`INLINE`] gathered bytes. The space past them is never initialised: a context is
/// made and freed per message by `EVP_Digest`, and zeroing 256 bytes at each `newctx` was a
/// wide store that the next read of the length had to wait behind.
#[derive(Clone, Copy)]
struct Inline {
    len: usize,
    buf: [MaybeUninit<u8>; INLINE],
}

impl Inline {
    fn as_slice(&self) -> &[u8] {
        // SAFETY: `buf[..len]` was initialised by `push` (the only writer, which advances
        // `len` only over bytes it wrote); `MaybeUninit<u8>` has `u8`'s layout.
        unsafe { std::slice::from_raw_parts(self.buf.as_ptr().cast::<u8>(), self.len) }
    }

    /// Appends `data` if it fits; returns whether it did.
    fn push(&mut self, data: &[u8]) -> bool {
        let Some(dst) = self.buf.get_mut(self.len..self.len + data.len()) else {
            return false;
        };
        for (d, s) in dst.iter_mut().zip(data) {
            d.write(*s);
        }
        self.len += data.len();
        true
    }

    /// Zeroes the gathered bytes (the rest were never written) and empties the buffer.
    fn wipe(&mut self) {
        if self.len > 0 {
            // May have held key material (HMAC's padded key block).
            self.buf[..self.len].zeroize();
            self.len = 0;
        }
    }
}

/// A digest context.
pub struct DigestCtx {
    spec: &'static DigestSpec,
    /// Gathered bytes when they fit (`big` empty)...
    small: Inline,
    /// ...or here once they do not (wiped by `wipe` and on drop).
    big: Vec<u8>,
    /// Set once the message streams.
    stream: Option<Box<dyn StreamDigest>>,
}

impl Drop for DigestCtx {
    fn drop(&mut self) {
        // The gathered bytes may be key material (HMAC's padded key block).
        self.wipe();
    }
}

impl DigestCtx {
    /// A fresh context, on the heap as OpenSSL holds it (`EVP_Digest` makes and frees one
    /// per message: built in place, not on the stack and then copied).
    ///
    /// ```
    /// use uadk_crypto::DigestAlg;
    /// use uadk_provider::{algs::DIGESTS, digest::DigestCtx};
    /// let spec = DIGESTS.iter().find(|d| d.alg == DigestAlg::Sha256).unwrap();
    /// let mut ctx = DigestCtx::new_boxed(spec);
    /// ctx.update(b"abc").unwrap();
    /// let mut out = [0u8; 32];
    /// assert_eq!(ctx.final_(&mut out).unwrap(), 32);
    /// assert_eq!(out[..4], [0xba, 0x78, 0x16, 0xbf]);
    /// ```
    pub fn new_boxed(spec: &'static DigestSpec) -> Box<DigestCtx> {
        // `Box::new(DigestCtx { .. })` builds the 300-byte value on the stack and copies it
        // (the first read after that copy stalled on store forwarding); here only the few
        // small fields are written.
        let mut b = Box::<DigestCtx>::new_uninit();
        let p = b.as_mut_ptr();
        // SAFETY: `p` points to an allocation for one `DigestCtx`; every field is written
        // once through raw field pointers (no reference to uninitialised memory is made),
        // except `small.buf`, an array of `MaybeUninit` that needs no initialisation, so the
        // value is valid when `assume_init` runs.
        unsafe {
            std::ptr::addr_of_mut!((*p).spec).write(spec);
            std::ptr::addr_of_mut!((*p).small.len).write(0);
            std::ptr::addr_of_mut!((*p).big).write(Vec::new());
            std::ptr::addr_of_mut!((*p).stream).write(None);
            b.assume_init()
        }
    }

    /// A copy (DUPCTX).
    pub fn try_clone(&self) -> DigestCtx {
        DigestCtx {
            spec: self.spec,
            small: self.small,
            big: self.big.clone(),
            stream: self.stream.as_ref().map(|s| s.box_clone()),
        }
    }

    fn gathered(&self) -> &[u8] {
        if self.big.is_empty() {
            self.small.as_slice()
        } else {
            &self.big
        }
    }

    fn wipe(&mut self) {
        self.small.wipe();
        if self.big.capacity() > 0 {
            // Zeroes the whole capacity, then empties the vector (capacity kept).
            self.big.zeroize();
        }
    }

    /// `EVP_DigestInit`: starts a new message.
    pub fn init(&mut self) {
        self.wipe();
        self.stream = None;
    }

    /// `EVP_DigestUpdate`.
    pub fn update(&mut self, data: &[u8]) -> Res<()> {
        if data.is_empty() {
            return Ok(());
        }
        if let Some(s) = self.stream.as_mut() {
            return s.update(data);
        }
        let device = runtime::get().device.is_ok();
        let have = self.gathered().len();
        let limit = if device { BUFFER_LIMIT_DEVICE } else { BUFFER_LIMIT };
        if have + data.len() <= limit && (device || have > 0 || data.len() < DIRECT_MIN) {
            if !(self.big.is_empty() && self.small.push(data)) {
                if self.big.is_empty() {
                    self.big.extend_from_slice(self.small.as_slice());
                    self.small.wipe();
                }
                self.big.extend_from_slice(data);
            }
            return Ok(());
        }
        let mut s = stream_engine(self.spec, self.spec.alg)?;
        s.update(self.gathered())?;
        s.update(data)?;
        self.wipe();
        self.stream = Some(s);
        Ok(())
    }

    /// `EVP_DigestFinal`: writes the digest, returns its length.
    pub fn final_(&mut self, out: &mut [u8]) -> Res<usize> {
        let n = self.spec.size;
        if out.len() < n {
            return err(
                ossl::PROV_R_OUTPUT_BUFFER_TOO_SMALL,
                "uadk_provider: digest output buffer too small",
            );
        }
        let out = &mut out[..n];
        if let Some(mut s) = self.stream.take() {
            s.finish(out)?;
            runtime::count(&COUNTERS.digest_stream);
            return Ok(n);
        }
        let rt = runtime::get();
        let Some(session) = rt.digest_session(self.spec.alg) else {
            return err(ossl::PROV_R_NOT_SUPPORTED, "uadk_provider: no digest session");
        };
        let r = runtime::counted(&COUNTERS.digest_oneshot, || {
            done(session.digest(self.gathered(), out))
        });
        self.wipe();
        r?;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::algs::DIGESTS;

    fn reference(data: &[u8]) -> Vec<u8> {
        sha2::Sha256::digest(data).to_vec()
    }

    #[test]
    fn gathers_spills_streams_and_duplicates() {
        let spec = DIGESTS.iter().find(|d| d.alg == DigestAlg::Sha256).unwrap();
        let data: Vec<u8> = (0..200_000u32).map(|i| (i * 7) as u8).collect();
        // Pieces that stay inline, spill to the heap, then pass the buffer limit.
        let cuts = [0usize, 10, 200, 300, 5000, 70_000, 200_000];
        let mut ctx = *DigestCtx::new_boxed(spec);
        let mut out = [0u8; 32];
        for w in cuts.windows(2) {
            let mut dup = ctx.try_clone();
            ctx.update(&data[w[0]..w[1]]).unwrap();
            dup.update(&data[w[0]..w[1]]).unwrap();
            dup.final_(&mut out).unwrap();
            assert_eq!(out.to_vec(), reference(&data[..w[1]]), "dup at {}", w[0]);
        }
        assert_eq!(ctx.final_(&mut out).unwrap(), 32);
        assert_eq!(out.to_vec(), reference(&data));
        // Re-init starts a new message; final on an empty message is the empty digest.
        ctx.init();
        ctx.final_(&mut out).unwrap();
        assert_eq!(out.to_vec(), reference(b""));
        assert!(
            ctx.final_(&mut [0u8; 16]).is_err(),
            "a short output buffer is refused"
        );
    }
}
