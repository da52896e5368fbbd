//! Digest and HMAC sessions: one-shot and streaming (update/finish over inputs of any
//! length), on a device or in software.

use parking_lot::Mutex;
use zeroize::Zeroizing;

use crate::alg::{Algorithm, DigestAlg};
use crate::backend::{Backend, Crypto, Plan, Ran, Reason, Route};
use crate::device::{DeviceDigest, DeviceError, HashPart};
use crate::engines::EnginePool;
use crate::error::{Error, Result};
use crate::hmac::HmacState;
use crate::software::{resume, select, DigestEngine};

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
        select::choose(algorithm)?;
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
            Some((name, dev)) => match self.crypto.off_device(self.algorithm(), data.len(), 0) {
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
        self.software_digest(data, out, reason)
    }

    /// Hashes in software for `reason` (counted).
    pub(crate) fn software_digest(&self, data: &[u8], out: &mut [u8], reason: Reason) -> Result<Route> {
        self.check_out(out)?;
        match &self.hmac {
            Some(h) => {
                let mut inner = h.start()?;
                inner.update(data)?;
                h.finish(inner.as_mut(), out)?;
            }
            None => {
                self.engines.with(
                    || select::digest(self.alg),
                    |e| e.update(data).and_then(|_| e.finish(out)),
                )?;
            }
        }
        let route = Route::software(reason);
        self.crypto.count(&route, data.len());
        Ok(route)
    }

    /// The context the session reports to.
    pub(crate) fn context(&self) -> &Crypto {
        &self.crypto
    }

    /// The device session's template for asynchronous requests.
    pub(crate) fn device_template(&self) -> Option<crate::device::Template> {
        self.device.as_ref().and_then(|(_, d)| d.lock().template())
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

    /// Starts a streaming digest (any number of `update`s, then `finish`).
    ///
    /// With a device session that supports long hashes (the SEC does), the stream runs on
    /// the device: input is gathered into requests of whole blocks (large `update`s go to
    /// the device straight from the caller's buffer) and the device's intermediate state
    /// is carried between them (first/middle/last requests); a stream shorter than one
    /// request ends as a one-shot digest under the small-packet policy. If the device fails
    /// mid-stream, the hash continues in software from the last state the device returned
    /// (SHA-1/SHA-2, counted as a fallback); for MD5 and SM3, or with fallback off, that is
    /// an [`Error::StreamLost`] instead of a silent restart. Without a device session the
    /// stream runs in software.
    ///
    /// # Errors
    /// [`Error::NoDevice`] under `Backend::Device` when the device has no long hash; a
    /// software library failure.
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
        let state_len = self.device.as_ref().map_or(0, |(_, d)| d.lock().state_len());
        if state_len > 0 {
            return Ok(Hasher {
                session: self,
                engine: None,
                bytes: 0,
                dev: Some(DevStream {
                    buf: Zeroizing::new(Vec::new()),
                    state: Zeroizing::new(vec![0u8; state_len]),
                    sent: 0,
                }),
                pooled: false,
                fallback: None,
                done: false,
            });
        }
        if self.crypto.backend() == Backend::Device {
            return Err(Error::NoDevice {
                alg: self.alg.name(),
                why: "the device takes one-shot digests only (no long hash)".into(),
            });
        }
        let (engine, pooled) = match &self.hmac {
            Some(h) => (h.start()?, false),
            None => (self.engines.take(|| select::digest(self.alg))?, true),
        };
        Ok(Hasher {
            session: self,
            engine: Some(engine),
            bytes: 0,
            dev: None,
            pooled,
            fallback: None,
            done: false,
        })
    }
}

/// Bytes a device stream gathers before it sends a request (a multiple of every block size).
const STREAM_CHUNK: usize = 64 * 1024;
/// Largest request a device stream sends straight from a caller's buffer.
const STREAM_MAX_REQUEST: usize = 8 * 1024 * 1024;

/// A long hash in progress on a device.
struct DevStream {
    /// Input not yet sent (at most [`STREAM_CHUNK`] bytes; the last request's data).
    buf: Zeroizing<Vec<u8>>,
    /// The state the device returned after the last request.
    state: Zeroizing<Vec<u8>>,
    /// Bytes the device has absorbed (whole blocks).
    sent: u64,
}

/// A streaming digest or HMAC (see [`DigestSession::hasher`]): on the device as a long
/// hash when the session has one, in software otherwise.
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
    dev: Option<DevStream>,
    /// The engine came from the session's pool (and may go back).
    pooled: bool,
    /// The device failed and the stream continued in software.
    fallback: Option<DeviceError>,
    done: bool,
}

impl std::fmt::Debug for Hasher<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hasher")
            .field("alg", &self.session.algorithm().name())
            .field("bytes", &self.bytes)
            .field("device", &self.dev.is_some())
            .finish_non_exhaustive()
    }
}

impl Hasher<'_> {
    /// Absorbs `data`.
    ///
    /// # Errors
    /// [`Error::Finished`] after `finish` (or after a lost stream), [`Error::StreamLost`]
    /// when the device failed mid-stream and software cannot continue, or a library failure.
    ///
    /// ```
    /// use uadk_crypto::{Crypto, DigestAlg, DigestSession};
    /// let s = DigestSession::new(&Crypto::auto(), DigestAlg::Sha224).unwrap();
    /// let mut h = s.hasher().unwrap();
    /// h.update(&[0u8; 100_000]).unwrap();
    /// ```
    pub fn update(&mut self, data: &[u8]) -> Result<()> {
        let alg = self.session.algorithm().name();
        if self.done {
            return Err(Error::Finished { alg });
        }
        self.bytes += data.len() as u64;
        let mut rest = data;
        if let Some(ds) = self.dev.as_mut() {
            if !ds.buf.is_empty() || rest.len() <= STREAM_CHUNK {
                let take = (STREAM_CHUNK - ds.buf.len()).min(rest.len());
                ds.buf.extend_from_slice(&rest[..take]);
                rest = &rest[take..];
                if rest.is_empty() {
                    // Keep even a full chunk: the last request must carry data.
                    return Ok(());
                }
                let seg = std::mem::take(&mut ds.buf);
                self.send(&seg)?;
                if let Some(ds) = self.dev.as_mut() {
                    ds.buf = seg;
                    ds.buf.clear();
                }
            }
            while self.dev.is_some() && rest.len() > STREAM_CHUNK {
                let block = self.block_len();
                let n = ((rest.len() - 1) / block * block).min(STREAM_MAX_REQUEST);
                self.send(&rest[..n])?;
                rest = &rest[n..];
            }
            if let Some(ds) = self.dev.as_mut() {
                ds.buf.extend_from_slice(rest);
                return Ok(());
            }
        }
        let e = self.engine.as_mut().ok_or(Error::Finished { alg })?;
        e.update(rest)
    }

    fn block_len(&self) -> usize {
        self.session
            .device
            .as_ref()
            .map_or(64, |(_, d)| d.lock().block_len())
    }

    /// Sends a non-final request of whole blocks; on a device failure continues in
    /// software from the state held (which then has absorbed `seg`) or loses the stream.
    fn send(&mut self, seg: &[u8]) -> Result<()> {
        let s = self.session;
        let (Some((_, dev)), Some(ds)) = (&s.device, self.dev.as_mut()) else {
            return Ok(());
        };
        let part = if ds.sent == 0 {
            HashPart::First
        } else {
            HashPart::Middle
        };
        match dev.lock().long_hash(part, seg, &mut ds.state, &mut []) {
            Ok(()) => {
                ds.sent += seg.len() as u64;
                Ok(())
            }
            Err(e) => {
                let mut engine = self.resume(e)?;
                engine.update(seg)?;
                self.engine = Some(engine);
                Ok(())
            }
        }
    }

    /// After the device failed: a software engine holding what the device had absorbed, or
    /// [`Error::StreamLost`] (the stream is then finished).
    fn resume(&mut self, e: DeviceError) -> Result<Box<dyn DigestEngine>> {
        let s = self.session;
        let ds = self.dev.take().expect("a device stream");
        let alg = s.algorithm().name();
        if !s.crypto.may_fall_back() || (ds.sent > 0 && !resume::can_resume(s.alg)) {
            self.done = true;
            s.crypto.count_device_error();
            return Err(Error::StreamLost {
                alg,
                absorbed: ds.sent,
                source: e,
            });
        }
        let mut engine = match (&s.hmac, ds.sent) {
            (Some(h), 0) => h.start()?,
            (None, 0) => select::digest(s.alg)?,
            // HMAC's inner hash also absorbed the key block.
            (Some(_), n) => resume::resume(s.alg, &ds.state, n + s.alg.block_len() as u64)?,
            (None, n) => resume::resume(s.alg, &ds.state, n)?,
        };
        engine.update(&ds.buf)?;
        self.fallback = Some(e);
        Ok(engine)
    }

    /// Writes the digest to `out` (exactly the digest length) and ends the stream.
    ///
    /// # Errors
    /// [`Error::OutputLength`], [`Error::Finished`], [`Error::StreamLost`], or a library
    /// failure.
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
        if self.done {
            return Err(Error::Finished {
                alg: s.algorithm().name(),
            });
        }
        if let Some(ds) = self.dev.as_mut() {
            if ds.sent == 0 {
                // Shorter than one request: a one-shot digest (small-packet policy applies).
                self.done = true;
                let buf = std::mem::take(&mut ds.buf);
                self.dev = None;
                return s.digest(&buf, out);
            }
            let Some((name, dev)) = &s.device else {
                unreachable!("a device stream has a device session")
            };
            let total = ds.sent + ds.buf.len() as u64;
            let r = dev
                .lock()
                .long_hash(HashPart::Last { total_len: total }, &ds.buf, &mut ds.state, out);
            match r {
                Ok(()) => {
                    self.done = true;
                    self.dev = None;
                    let route = Route {
                        ran: Ran::Device,
                        reason: Reason::DeviceOffers(name.clone()),
                    };
                    s.crypto.count(&route, self.bytes as usize);
                    return Ok(route);
                }
                Err(e) => {
                    let engine = self.resume(e)?;
                    self.engine = Some(engine);
                }
            }
        }
        let mut e = self.engine.take().ok_or(Error::Finished {
            alg: s.algorithm().name(),
        })?;
        self.done = true;
        match &s.hmac {
            Some(h) => h.finish(e.as_mut(), out)?,
            None => {
                e.finish(out)?;
                if self.pooled {
                    s.engines.put(e);
                }
            }
        }
        let reason = match (self.fallback.take(), &s.device) {
            (Some(e), _) => Reason::Fallback(e),
            (None, Some(_)) => Reason::Streaming,
            (None, None) => s.why_software.clone(),
        };
        let route = Route::software(reason);
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
        // An unfinished plain digest engine from the pool holds no secret; others are dropped.
        if let (Some(mut e), true) = (self.engine.take(), self.pooled) {
            let mut sink = [0u8; 64];
            if e.finish(&mut sink[..self.session.output_len()]).is_ok() {
                self.session.engines.put(e);
            }
        }
    }
}
