//! Digest and HMAC sessions: one-shot and streaming (update/finish over inputs of any
//! length), on a device or in software.

use parking_lot::Mutex;
use zeroize::Zeroizing;

use crate::alg::{Algorithm, DigestAlg};
use crate::backend::{Backend, Crypto, Plan, Ran, Reason, Route};
use crate::device::DeviceDigest;
use crate::engines::EnginePool;
use crate::error::{Error, Result};
use crate::hmac::HmacState;
use crate::software::{select, DigestEngine};

/// A digest (or, with a key, HMAC) session.
///
/// ```
/// use uadk_crypto::{Crypto, DigestAlg, DigestSession};
/// let s = DigestSession::new(&Crypto::auto(), DigestAlg::Sha256).unwrap();
/// let mut d = [0u8; 32];
/// s.digest(b"abc", &mut d).unwrap();
/// assert_eq!(d[..4], [0xba, 0x78, 0x16, 0xbf]);
/// ```
pub struct DigestSession {
    crypto: Crypto,
    alg: DigestAlg,
    hmac: Option<HmacState>,
    engines: EnginePool<Box<dyn DigestEngine>>,
    device: Option<(String, Mutex<Box<dyn DeviceDigest>>)>,
    why_software: Reason,
}

impl std::fmt::Debug for DigestSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DigestSession")
            .field("alg", &self.algorithm().name())
            .finish_non_exhaustive()
    }
}

impl DigestSession {
    /// A plain digest session.
    ///
    /// # Errors
    /// [`Error::NoDevice`]/[`Error::Device`] for `Backend::Device` without a working device.
    ///
    /// ```
    /// use uadk_crypto::{Crypto, DigestAlg, DigestSession};
    /// let s = DigestSession::new(&Crypto::auto(), DigestAlg::Sm3).unwrap();
    /// ```
    pub fn new(crypto: &Crypto, alg: DigestAlg) -> Result<DigestSession> {
        DigestSession::open(crypto, alg, None)
    }

    /// An HMAC session with `key` set once (any length, RFC 2104).
    ///
    /// # Errors
    /// As [`DigestSession::new`].
    ///
    /// ```
    /// use uadk_crypto::{Crypto, DigestAlg, DigestSession};
    /// let s = DigestSession::hmac(&Crypto::auto(), DigestAlg::Sha256, b"key").unwrap();
    /// let mut mac = [0u8; 32];
    /// s.digest(b"The quick brown fox jumps over the lazy dog", &mut mac).unwrap();
    /// assert_eq!(mac[..4], [0xf7, 0xbc, 0x83, 0xf4]);
    /// ```
    pub fn hmac(crypto: &Crypto, alg: DigestAlg, key: &[u8]) -> Result<DigestSession> {
        DigestSession::open(crypto, alg, Some(key))
    }

    fn open(crypto: &Crypto, alg: DigestAlg, key: Option<&[u8]>) -> Result<DigestSession> {
        let algorithm = match key {
            Some(_) => Algorithm::Hmac(alg),
            None => Algorithm::Digest(alg),
        };
        let (device, why_software) = match crypto.plan_session(algorithm)? {
            Plan::Software(reason) => (None, reason),
            Plan::Device(dev) => match dev.digest(alg, key) {
                Ok(d) => (Some((dev.name(), Mutex::new(d))), Reason::Requested),
                Err(e) if crypto.may_fall_back() => (None, Reason::Fallback(e)),
                Err(e) => {
                    crypto.count_device_error();
                    return Err(Error::Device {
                        alg: algorithm.name(),
                        source: e,
                    });
                }
            },
        };
        let hmac = key.map(|k| HmacState::new(alg, k)).transpose()?;
        Ok(DigestSession {
            crypto: crypto.clone(),
            alg,
            hmac,
            engines: EnginePool::new(),
            device,
            why_software,
        })
    }

    /// The digest under the session.
    ///
    /// ```
    /// use uadk_crypto::{Crypto, DigestAlg, DigestSession};
    /// assert_eq!(DigestSession::new(&Crypto::auto(), DigestAlg::Sm3).unwrap().alg(), DigestAlg::Sm3);
    /// ```
    pub fn alg(&self) -> DigestAlg {
        self.alg
    }

    /// `Digest(alg)` or `Hmac(alg)`.
    ///
    /// ```
    /// use uadk_crypto::{Algorithm, Crypto, DigestAlg, DigestSession};
    /// let s = DigestSession::hmac(&Crypto::auto(), DigestAlg::Md5, b"k").unwrap();
    /// assert_eq!(s.algorithm(), Algorithm::Hmac(DigestAlg::Md5));
    /// ```
    pub fn algorithm(&self) -> Algorithm {
        if self.hmac.is_some() {
            Algorithm::Hmac(self.alg)
        } else {
            Algorithm::Digest(self.alg)
        }
    }

    /// The output length in bytes.
    ///
    /// ```
    /// use uadk_crypto::{Crypto, DigestAlg, DigestSession};
    /// assert_eq!(DigestSession::new(&Crypto::auto(), DigestAlg::Sha1).unwrap().output_len(), 20);
    /// ```
    pub fn output_len(&self) -> usize {
        self.alg.output_len()
    }

    fn check_out(&self, out: &[u8]) -> Result<()> {
        if out.len() != self.alg.output_len() {
            return Err(Error::OutputLength {
                needed: self.alg.output_len(),
                got: out.len(),
            });
        }
        Ok(())
    }

    /// Hashes (or MACs) `data` into `out`, which must be exactly [`DigestSession::output_len`] bytes.
    ///
    /// # Errors
    /// [`Error::OutputLength`], or a device failure without fallback.
    ///
    /// ```
    /// use uadk_crypto::{Crypto, DigestAlg, DigestSession};
    /// let s = DigestSession::new(&Crypto::auto(), DigestAlg::Md5).unwrap();
    /// let mut d = [0u8; 16];
    /// s.digest(b"", &mut d).unwrap();
    /// assert_eq!(d[..2], [0xd4, 0x1d]);
    /// ```
    pub fn digest(&self, data: &[u8], out: &mut [u8]) -> Result<Route> {
        self.check_out(out)?;
        let reason = match &self.device {
            None => self.why_software.clone(),
            Some((name, dev)) => match self.crypto.small_packet(self.algorithm(), data.len()) {
                Some(reason) => reason,
                None => match dev.lock().digest(data, out) {
                    Ok(()) => {
                        let route = Route {
                            ran: Ran::Device,
                            reason: Reason::DeviceOffers(name.clone()),
                        };
                        self.crypto.count(&route, data.len());
                        return Ok(route);
                    }
                    Err(e) if self.crypto.may_fall_back() => Reason::Fallback(e),
                    Err(e) => {
                        self.crypto.count_device_error();
                        return Err(Error::Device {
                            alg: self.algorithm().name(),
                            source: e,
                        });
                    }
                },
            },
        };
        match &self.hmac {
            Some(h) => {
                let mut inner = h.start()?;
                inner.update(data)?;
                h.finish(inner.as_mut(), out)?;
            }
            None => {
                let mut e = self.engines.take(|| select::digest(self.alg))?;
                let r = e.update(data).and_then(|_| e.finish(out));
                self.engines.put(e);
                r?;
            }
        }
        let route = Route::software(reason);
        self.crypto.count(&route, data.len());
        Ok(route)
    }

    /// `digest` into a new vector.
    ///
    /// # Errors
    /// As [`DigestSession::digest`].
    ///
    /// ```
    /// use uadk_crypto::{Crypto, DigestAlg, DigestSession};
    /// let s = DigestSession::new(&Crypto::auto(), DigestAlg::Sha1).unwrap();
    /// assert_eq!(s.digest_to_vec(b"abc").unwrap().len(), 20);
    /// ```
    pub fn digest_to_vec(&self, data: &[u8]) -> Result<Vec<u8>> {
        let mut out = vec![0u8; self.output_len()];
        self.digest(data, &mut out)?;
        Ok(out)
    }

    /// Starts a streaming digest (any number of `update`s, then `finish`). Streams run in
    /// software (the route says so); with `Backend::Device` that is an error instead of a
    /// silent software run: use the one-shot [`digest`](Self::digest) for the device.
    ///
    /// # Errors
    /// [`Error::NoDevice`] under `Backend::Device`; a software library failure.
    ///
    /// ```
    /// use uadk_crypto::{Crypto, DigestAlg, DigestSession};
    /// let s = DigestSession::new(&Crypto::auto(), DigestAlg::Sha512).unwrap();
    /// let mut h = s.hasher().unwrap();
    /// h.update(b"ab").unwrap();
    /// h.update(b"c").unwrap();
    /// let mut a = [0u8; 64];
    /// h.finish(&mut a).unwrap();
    /// assert_eq!(a.to_vec(), s.digest_to_vec(b"abc").unwrap());
    /// ```
    pub fn hasher(&self) -> Result<Hasher<'_>> {
        if self.crypto.backend() == Backend::Device {
            return Err(Error::NoDevice {
                alg: self.alg.name(),
                why: "streaming digests run in software; the device takes one-shot digests".into(),
            });
        }
        let engine = match &self.hmac {
            Some(h) => h.start()?,
            None => self.engines.take(|| select::digest(self.alg))?,
        };
        Ok(Hasher {
            session: self,
            engine: Some(engine),
            bytes: 0,
        })
    }
}

/// A streaming digest or HMAC (see [`DigestSession::hasher`]); runs in software.
///
/// ```
/// use uadk_crypto::{Crypto, DigestAlg, DigestSession};
/// let s = DigestSession::new(&Crypto::auto(), DigestAlg::Sha256).unwrap();
/// let mut h = s.hasher().unwrap();
/// h.update(b"abc").unwrap();
/// assert_eq!(h.finish_to_vec().unwrap(), s.digest_to_vec(b"abc").unwrap());
/// ```
pub struct Hasher<'s> {
    session: &'s DigestSession,
    engine: Option<Box<dyn DigestEngine>>,
    bytes: u64,
}

impl std::fmt::Debug for Hasher<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hasher")
            .field("alg", &self.session.algorithm().name())
            .field("bytes", &self.bytes)
            .finish_non_exhaustive()
    }
}

impl Hasher<'_> {
    /// Absorbs `data`.
    ///
    /// # Errors
    /// [`Error::Finished`] after `finish`, or a library failure.
    ///
    /// ```
    /// use uadk_crypto::{Crypto, DigestAlg, DigestSession};
    /// let s = DigestSession::new(&Crypto::auto(), DigestAlg::Sha224).unwrap();
    /// let mut h = s.hasher().unwrap();
    /// h.update(&[0u8; 100_000]).unwrap();
    /// ```
    pub fn update(&mut self, data: &[u8]) -> Result<()> {
        let alg = self.session.algorithm().name();
        let e = self.engine.as_mut().ok_or(Error::Finished { alg })?;
        e.update(data)?;
        self.bytes += data.len() as u64;
        Ok(())
    }

    /// Writes the digest to `out` (exactly the digest length) and ends the stream.
    ///
    /// # Errors
    /// [`Error::OutputLength`], [`Error::Finished`], or a library failure.
    ///
    /// ```
    /// use uadk_crypto::{Crypto, DigestAlg, DigestSession};
    /// let s = DigestSession::hmac(&Crypto::auto(), DigestAlg::Sm3, b"k").unwrap();
    /// let mut h = s.hasher().unwrap();
    /// h.update(b"data").unwrap();
    /// let mut mac = [0u8; 32];
    /// println!("{}", h.finish(&mut mac).unwrap());
    /// ```
    pub fn finish(&mut self, out: &mut [u8]) -> Result<Route> {
        let s = self.session;
        s.check_out(out)?;
        let mut e = self.engine.take().ok_or(Error::Finished {
            alg: s.algorithm().name(),
        })?;
        match &s.hmac {
            Some(h) => h.finish(e.as_mut(), out)?,
            None => {
                e.finish(out)?;
                s.engines.put(e);
            }
        }
        let route = Route::software(match s.device {
            Some(_) => Reason::Streaming,
            None => s.why_software.clone(),
        });
        s.crypto.count(&route, self.bytes as usize);
        Ok(route)
    }

    /// `finish` into a new vector.
    ///
    /// # Errors
    /// As [`Hasher::finish`].
    ///
    /// ```
    /// use uadk_crypto::{Crypto, DigestAlg, DigestSession};
    /// let s = DigestSession::new(&Crypto::auto(), DigestAlg::Sha384).unwrap();
    /// let mut h = s.hasher().unwrap();
    /// assert_eq!(h.finish_to_vec().unwrap().len(), 48);
    /// ```
    pub fn finish_to_vec(&mut self) -> Result<Vec<u8>> {
        let mut out = Zeroizing::new(vec![0u8; self.session.output_len()]);
        self.finish(&mut out)?;
        Ok(out.to_vec())
    }
}

impl Drop for Hasher<'_> {
    fn drop(&mut self) {
        // An unfinished plain digest engine holds no secret; HMAC ones are dropped.
        if let (Some(mut e), None) = (self.engine.take(), &self.session.hmac) {
            let mut sink = [0u8; 64];
            if e.finish(&mut sink[..self.session.output_len()]).is_ok() {
                self.session.engines.put(e);
            }
        }
    }
}
