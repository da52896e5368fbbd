//! AEAD sessions (AES-GCM, AES-CCM, SM4-GCM, SM4-CCM). Decryption never releases
//! plaintext whose tag did not verify: the output is wiped before the error returns.

use parking_lot::Mutex;
use zeroize::{Zeroize, Zeroizing};

use crate::alg::{AeadAlg, AeadMode, Algorithm};
use crate::backend::{Crypto, Plan, Ran, Reason, Route};
use crate::device::{DeviceAead, Verified};
use crate::engines::EnginePool;
use crate::error::{Error, Result};
use crate::software::{select, AeadEngine};

/// An AEAD key and tag length set once.
///
/// ```
/// use uadk_crypto::{AeadAlg, AeadSession, Crypto};
/// let s = AeadSession::new(&Crypto::auto(), AeadAlg::from_name("aes-128-gcm").unwrap(), &[1; 16], 16).unwrap();
/// let nonce = [0u8; 12];
/// let sealed = s.seal_to_vec(&nonce, b"header", b"hello").unwrap();
/// assert_eq!(s.open_to_vec(&nonce, b"header", &sealed).unwrap(), b"hello");
/// assert!(s.open_to_vec(&nonce, b"other", &sealed).is_err());
/// ```
pub struct AeadSession {
    crypto: Crypto,
    alg: AeadAlg,
    tag_len: usize,
    key: Zeroizing<Vec<u8>>,
    engines: EnginePool<Box<dyn AeadEngine>>,
    device: Option<(String, Mutex<Box<dyn DeviceAead>>)>,
    why_software: Reason,
}

impl std::fmt::Debug for AeadSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AeadSession")
            .field("alg", &self.alg.name())
            .field("tag_len", &self.tag_len)
            .finish_non_exhaustive()
    }
}

enum Io<'a> {
    Out(&'a [u8], &'a mut [u8]),
    InPlace(&'a mut [u8]),
}

impl Io<'_> {
    fn len(&self) -> usize {
        match self {
            Io::Out(i, _) => i.len(),
            Io::InPlace(b) => b.len(),
        }
    }

    fn wipe(&mut self) {
        match self {
            Io::Out(_, o) => o.zeroize(),
            Io::InPlace(b) => b.zeroize(),
        }
    }
}

impl AeadSession {
    /// Opens a session; `tag_len` is fixed for the session (GCM 12..=16, CCM 4..=16 even).
    ///
    /// # Errors
    /// [`Error::KeyLength`], [`Error::TagLength`], or no working device for `Backend::Device`.
    ///
    /// ```
    /// use uadk_crypto::{AeadAlg, AeadSession, Crypto, Error};
    /// let alg = AeadAlg::from_name("aes-128-ccm").unwrap();
    /// assert!(matches!(AeadSession::new(&Crypto::auto(), alg, &[0; 16], 5), Err(Error::TagLength { .. })));
    /// ```
    pub fn new(crypto: &Crypto, alg: AeadAlg, key: &[u8], tag_len: usize) -> Result<AeadSession> {
        if key.len() != alg.key_len() {
            return Err(Error::KeyLength {
                alg: alg.name(),
                got: key.len(),
                expected: match alg.key_len() {
                    16 => "16",
                    24 => "24",
                    _ => "32",
                },
            });
        }
        if !alg.tag_len_ok(tag_len) {
            return Err(Error::TagLength {
                alg: alg.name(),
                got: tag_len,
                allowed: alg.tag_lens_text(),
            });
        }
        let algorithm = Algorithm::Aead(alg);
        select::choose(algorithm)?;
        let (device, why_software) = match crypto.plan_session(algorithm)? {
            Plan::Software(reason) => (None, reason),
            Plan::Device(dev) => match dev.aead(alg, key, tag_len) {
                Ok(d) => (Some((dev.name(), Mutex::new(d))), Reason::Requested),
                Err(e) if crypto.may_fall_back() => (None, Reason::Fallback(e)),
                Err(e) => {
                    crypto.count_device_error();
                    return Err(Error::Device {
                        alg: alg.name(),
                        source: e,
                    });
                }
            },
        };
        let s = AeadSession {
            crypto: crypto.clone(),
            alg,
            tag_len,
            key: Zeroizing::new(key.to_vec()),
            engines: EnginePool::new(),
            device,
            why_software,
        };
        let e = s.engine()?;
        s.engines.put(e);
        Ok(s)
    }

    /// A software-only session.
    ///
    /// # Errors
    /// As [`AeadSession::new`].
    ///
    /// ```
    /// use uadk_crypto::{AeadAlg, AeadSession};
    /// let s = AeadSession::software(AeadAlg::from_name("sm4-gcm").unwrap(), &[2; 16], 16).unwrap();
    /// ```
    pub fn software(alg: AeadAlg, key: &[u8], tag_len: usize) -> Result<AeadSession> {
        AeadSession::new(&Crypto::new(crate::Backend::Software), alg, key, tag_len)
    }

    /// The algorithm.
    ///
    /// ```
    /// use uadk_crypto::{AeadAlg, AeadSession};
    /// let alg = AeadAlg::from_name("aes-128-gcm").unwrap();
    /// assert_eq!(AeadSession::software(alg, &[1; 16], 16).unwrap().alg(), alg);
    /// ```
    pub fn alg(&self) -> AeadAlg {
        self.alg
    }

    /// The tag length in bytes.
    ///
    /// ```
    /// use uadk_crypto::{AeadAlg, AeadSession};
    /// let s = AeadSession::software(AeadAlg::from_name("sm4-ccm").unwrap(), &[1; 16], 8).unwrap();
    /// assert_eq!(s.tag_len(), 8);
    /// ```
    pub fn tag_len(&self) -> usize {
        self.tag_len
    }

    fn engine(&self) -> Result<Box<dyn AeadEngine>> {
        self.engines
            .take(|| select::aead(self.alg, &self.key, self.tag_len))
    }

    fn check(&self, nonce: &[u8], tag: &[u8], len: usize) -> Result<()> {
        let alg = self.alg.name();
        if !self.alg.nonce_len_ok(nonce.len()) {
            return Err(Error::NonceLength {
                alg,
                got: nonce.len(),
                expected: self.alg.nonce_lens_text(),
            });
        }
        if tag.len() != self.tag_len {
            return Err(Error::TagLength {
                alg,
                got: tag.len(),
                allowed: "the session's tag length",
            });
        }
        match self.alg.mode {
            AeadMode::Ccm => {
                let q = 15 - nonce.len();
                if q < 8 && (len as u64) >> (8 * q) != 0 {
                    return Err(Error::DataLength {
                        alg,
                        len,
                        rule: match q {
                            2 => "with a 13-byte nonce CCM carries at most 65535 bytes; use a shorter nonce",
                            3 => "with a 12-byte nonce CCM carries at most 16 MiB - 1; use a shorter nonce",
                            _ => "the message is too long for this CCM nonce length; use a shorter nonce",
                        },
                    });
                }
            }
            AeadMode::Gcm => {
                if len as u64 > (1u64 << 36) - 32 {
                    return Err(Error::DataLength {
                        alg,
                        len,
                        rule: "one GCM message is at most 2^36 - 32 bytes (SP 800-38D)",
                    });
                }
            }
        }
        Ok(())
    }

    fn device_seal(
        &self,
        nonce: &[u8],
        aad: &[u8],
        io: &mut Io<'_>,
        tag: &mut [u8],
    ) -> Result<Option<Route>> {
        let Some((name, dev)) = &self.device else {
            return Ok(None);
        };
        if let Some(reason) = self
            .crypto
            .off_device(Algorithm::Aead(self.alg), io.len(), aad.len())
        {
            return Ok(Some(Route::software(reason)));
        }
        let r = {
            let mut d = dev.lock();
            match io {
                Io::Out(i, o) => {
                    o.copy_from_slice(i);
                    d.seal_in_place(nonce, aad, o, tag)
                }
                Io::InPlace(b) => d.seal_in_place(nonce, aad, b, tag),
            }
        };
        match r {
            Ok(()) => Ok(Some(Route {
                ran: Ran::Device,
                reason: Reason::DeviceOffers(name.clone()),
            })),
            Err(e) if self.crypto.may_fall_back() => Ok(Some(Route::software(Reason::Fallback(e)))),
            Err(e) => {
                self.crypto.count_device_error();
                Err(Error::Device {
                    alg: self.alg.name(),
                    source: e,
                })
            }
        }
    }

    /// The context the session reports to.
    pub(crate) fn context(&self) -> &Crypto {
        &self.crypto
    }

    /// The device session's template for asynchronous requests.
    pub(crate) fn device_template(&self) -> Option<crate::device::Template> {
        self.device.as_ref().and_then(|(_, d)| d.lock().template())
    }

    /// Checks nonce, tag and length as every seal/open does.
    pub(crate) fn validate(&self, nonce: &[u8], tag_len: usize, len: usize) -> Result<()> {
        self.check(nonce, &vec![0u8; tag_len], len)
    }

    /// Seals in software for `reason` (counted).
    pub(crate) fn software_seal(
        &self,
        nonce: &[u8],
        aad: &[u8],
        buf: &mut [u8],
        tag: &mut [u8],
        reason: Reason,
    ) -> Result<Route> {
        self.check(nonce, tag, buf.len())?;
        let mut e = self.engine()?;
        let r = e.seal_in_place(nonce, aad, buf, tag);
        self.engines.put(e);
        r?;
        let route = Route::software(reason);
        self.crypto.count(&route, buf.len() + aad.len());
        Ok(route)
    }

    /// Opens in software for `reason` (counted); on any failure `buf` is zeroed.
    pub(crate) fn software_open(
        &self,
        nonce: &[u8],
        aad: &[u8],
        buf: &mut [u8],
        tag: &[u8],
        reason: Reason,
    ) -> Result<Route> {
        let r = self.check(nonce, tag, buf.len()).and_then(|_| {
            let mut e = self.engine()?;
            let ok = e.open_in_place(nonce, aad, buf, tag);
            self.engines.put(e);
            ok
        });
        match r {
            Ok(true) => {
                let route = Route::software(reason);
                self.crypto.count(&route, buf.len() + aad.len());
                Ok(route)
            }
            Ok(false) => {
                buf.zeroize();
                Err(Error::AuthenticationFailed { alg: self.alg.name() })
            }
            Err(e) => {
                buf.zeroize();
                Err(e)
            }
        }
    }

    fn seal_io(&self, nonce: &[u8], aad: &[u8], mut io: Io<'_>, tag: &mut [u8]) -> Result<Route> {
        self.check(nonce, tag, io.len())?;
        let bytes = io.len() + aad.len();
        match self.device_seal(nonce, aad, &mut io, tag)? {
            Some(r) if r.ran == Ran::Device => {
                self.crypto.count(&r, bytes);
                Ok(r)
            }
            other => {
                let route = Route::software(other.map_or_else(|| self.why_software.clone(), |r| r.reason));
                // Counted before the engine runs (and undone if it fails): an atomic add
                // right after the engine wrote its output waits for the store buffer to
                // drain, 1-2% of AES-GCM at 16 KiB.
                self.crypto.count(&route, bytes);
                let r = self.engines.with(
                    || select::aead(self.alg, &self.key, self.tag_len),
                    |e| match &mut io {
                        Io::Out(i, o) => e.seal(nonce, aad, i, o, tag),
                        Io::InPlace(b) => e.seal_in_place(nonce, aad, b, tag),
                    },
                );
                if let Err(e) = r {
                    self.crypto.uncount(&route, bytes);
                    return Err(e);
                }
                Ok(route)
            }
        }
    }

    /// Encrypts `plaintext` into `ciphertext` (same length) and writes the tag.
    ///
    /// # Errors
    /// Wrong nonce or tag buffer length, a message too long for the mode, output length.
    ///
    /// ```
    /// use uadk_crypto::{AeadAlg, AeadSession};
    /// let s = AeadSession::software(AeadAlg::from_name("aes-256-gcm").unwrap(), &[1; 32], 16).unwrap();
    /// let (mut ct, mut tag) = ([0u8; 3], [0u8; 16]);
    /// s.seal(&[0; 12], b"", b"abc", &mut ct, &mut tag).unwrap();
    /// ```
    pub fn seal(
        &self,
        nonce: &[u8],
        aad: &[u8],
        plaintext: &[u8],
        ciphertext: &mut [u8],
        tag: &mut [u8],
    ) -> Result<Route> {
        if plaintext.len() != ciphertext.len() {
            return Err(Error::OutputLength {
                needed: plaintext.len(),
                got: ciphertext.len(),
            });
        }
        self.seal_io(nonce, aad, Io::Out(plaintext, ciphertext), tag)
    }

    /// Encrypts `buf` in place and writes the tag.
    ///
    /// # Errors
    /// As [`AeadSession::seal`].
    ///
    /// ```
    /// use uadk_crypto::{AeadAlg, AeadSession};
    /// let s = AeadSession::software(AeadAlg::from_name("sm4-ccm").unwrap(), &[1; 16], 8).unwrap();
    /// let (mut buf, mut tag) = (*b"data", [0u8; 8]);
    /// s.seal_in_place(&[0; 12], b"", &mut buf, &mut tag).unwrap();
    /// ```
    pub fn seal_in_place(&self, nonce: &[u8], aad: &[u8], buf: &mut [u8], tag: &mut [u8]) -> Result<Route> {
        self.seal_io(nonce, aad, Io::InPlace(buf), tag)
    }

    /// Seals into a new vector: ciphertext followed by the tag.
    ///
    /// # Errors
    /// As [`AeadSession::seal`].
    ///
    /// ```
    /// use uadk_crypto::{AeadAlg, AeadSession};
    /// let s = AeadSession::software(AeadAlg::from_name("aes-128-ccm").unwrap(), &[1; 16], 16).unwrap();
    /// assert_eq!(s.seal_to_vec(&[0; 13], b"", b"abc").unwrap().len(), 3 + 16);
    /// ```
    pub fn seal_to_vec(&self, nonce: &[u8], aad: &[u8], plaintext: &[u8]) -> Result<Vec<u8>> {
        let n = plaintext.len();
        let mut out = vec![0u8; n + self.tag_len];
        let (ct, tag) = out.split_at_mut(n);
        self.seal(nonce, aad, plaintext, ct, tag)?;
        Ok(out)
    }

    fn open_io(&self, nonce: &[u8], aad: &[u8], mut io: Io<'_>, tag: &[u8]) -> Result<Route> {
        // Every failed open leaves zeros behind, bad lengths included, so callers never
        // have to reason about which error touched the buffer.
        if let Err(e) = self.check(nonce, tag, io.len()) {
            io.wipe();
            return Err(e);
        }
        let r = self.open_inner(nonce, aad, &mut io, tag);
        match r {
            Ok(Some(route)) => {
                self.crypto.count(&route, io.len() + aad.len());
                Ok(route)
            }
            Ok(None) => {
                io.wipe();
                Err(Error::AuthenticationFailed { alg: self.alg.name() })
            }
            Err(e) => {
                io.wipe();
                Err(e)
            }
        }
    }

    /// `Some(route)` when the tag verified, `None` when it did not.
    fn open_inner(&self, nonce: &[u8], aad: &[u8], io: &mut Io<'_>, tag: &[u8]) -> Result<Option<Route>> {
        let mut reason = self.why_software.clone();
        if let Some((name, dev)) = &self.device {
            match self
                .crypto
                .off_device(Algorithm::Aead(self.alg), io.len(), aad.len())
            {
                Some(small) => reason = small,
                None => {
                    let r = {
                        let mut d = dev.lock();
                        match io {
                            Io::Out(i, o) => {
                                o.copy_from_slice(i);
                                d.open_in_place(nonce, aad, o, tag)
                            }
                            Io::InPlace(b) => d.open_in_place(nonce, aad, b, tag),
                        }
                    };
                    let route = Route {
                        ran: Ran::Device,
                        reason: Reason::DeviceOffers(name.clone()),
                    };
                    match r {
                        Ok(Verified::Yes) => return Ok(Some(route)),
                        // A mismatch is an answer, not a failure: no software retry.
                        Ok(Verified::No) => return Ok(None),
                        Err(e) if self.crypto.may_fall_back() => {
                            if let Io::Out(_, o) = io {
                                o.zeroize();
                            }
                            reason = Reason::Fallback(e);
                        }
                        Err(e) => {
                            self.crypto.count_device_error();
                            return Err(Error::Device {
                                alg: self.alg.name(),
                                source: e,
                            });
                        }
                    }
                }
            }
        }
        let mut e = self.engine()?;
        let ok = match io {
            Io::Out(i, o) => e.open(nonce, aad, i, o, tag),
            Io::InPlace(b) => e.open_in_place(nonce, aad, b, tag),
        };
        self.engines.put(e);
        Ok(ok?.then(|| Route::software(reason)))
    }

    /// Decrypts `ciphertext` into `plaintext` if `tag` verifies.
    ///
    /// # Errors
    /// [`Error::AuthenticationFailed`] when the tag does not verify. Also wrong nonce or
    /// tag length, output length. After any error `plaintext` is all zeros.
    ///
    /// ```
    /// use uadk_crypto::{AeadAlg, AeadSession, Error};
    /// let s = AeadSession::software(AeadAlg::from_name("aes-128-gcm").unwrap(), &[1; 16], 16).unwrap();
    /// let mut pt = [0xffu8; 4];
    /// let err = s.open(&[0; 12], b"", &[1, 2, 3, 4], &[0; 16], &mut pt).unwrap_err();
    /// assert!(matches!(err, Error::AuthenticationFailed { .. }));
    /// assert_eq!(pt, [0; 4]);
    /// ```
    pub fn open(
        &self,
        nonce: &[u8],
        aad: &[u8],
        ciphertext: &[u8],
        tag: &[u8],
        plaintext: &mut [u8],
    ) -> Result<Route> {
        if plaintext.len() != ciphertext.len() {
            plaintext.zeroize();
            return Err(Error::OutputLength {
                needed: ciphertext.len(),
                got: plaintext.len(),
            });
        }
        self.open_io(nonce, aad, Io::Out(ciphertext, plaintext), tag)
    }

    /// Decrypts `buf` in place if `tag` verifies; on failure `buf` is all zeros.
    ///
    /// # Errors
    /// As [`AeadSession::open`].
    ///
    /// ```
    /// use uadk_crypto::{AeadAlg, AeadSession};
    /// let s = AeadSession::software(AeadAlg::from_name("sm4-gcm").unwrap(), &[1; 16], 16).unwrap();
    /// let (mut buf, mut tag) = (*b"data", [0u8; 16]);
    /// s.seal_in_place(&[3; 12], b"", &mut buf, &mut tag).unwrap();
    /// s.open_in_place(&[3; 12], b"", &mut buf, &tag).unwrap();
    /// assert_eq!(&buf, b"data");
    /// ```
    pub fn open_in_place(&self, nonce: &[u8], aad: &[u8], buf: &mut [u8], tag: &[u8]) -> Result<Route> {
        self.open_io(nonce, aad, Io::InPlace(buf), tag)
    }

    /// Opens `sealed` = ciphertext followed by the tag, into a new vector.
    ///
    /// # Errors
    /// As [`AeadSession::open`]; [`Error::DataLength`] when `sealed` is shorter than a tag.
    ///
    /// ```
    /// use uadk_crypto::{AeadAlg, AeadSession};
    /// let s = AeadSession::software(AeadAlg::from_name("aes-192-gcm").unwrap(), &[1; 24], 12).unwrap();
    /// let sealed = s.seal_to_vec(&[0; 12], b"a", b"msg").unwrap();
    /// assert_eq!(s.open_to_vec(&[0; 12], b"a", &sealed).unwrap(), b"msg");
    /// ```
    pub fn open_to_vec(&self, nonce: &[u8], aad: &[u8], sealed: &[u8]) -> Result<Vec<u8>> {
        let n = sealed.len().checked_sub(self.tag_len).ok_or(Error::DataLength {
            alg: self.alg.name(),
            len: sealed.len(),
            rule: "the input is shorter than the tag",
        })?;
        let (ct, tag) = sealed.split_at(n);
        let mut out = vec![0u8; n];
        self.open(nonce, aad, ct, tag, &mut out)?;
        Ok(out)
    }
}
