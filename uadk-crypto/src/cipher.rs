//! Cipher sessions (AES and SM4 in ECB, CBC, CTR, XTS): one-shot and streaming, in place
//! and out of place, on a device or in software.

use parking_lot::Mutex;
use zeroize::Zeroizing;

use crate::alg::{Algorithm, CipherAlg, CipherMode};
use crate::backend::{Crypto, Plan, Ran, Reason, Route};
use crate::device::{DeviceCipher, Direction};
use crate::engines::EnginePool;
use crate::error::{Error, Result};
use crate::software::{select, CipherEngine};

/// Largest XTS data unit: 2^20 blocks (IEEE 1619-2018, 5.1).
///
/// ```
/// assert_eq!(uadk_crypto::cipher::XTS_MAX_UNIT, 16 << 20);
/// ```
pub const XTS_MAX_UNIT: usize = 1 << 24;

/// A cipher key set once, for any number of requests from any number of threads.
///
/// ```
/// use uadk_crypto::{CipherAlg, CipherSession, Crypto};
/// let alg = CipherAlg::from_name("aes-128-cbc").unwrap();
/// let s = CipherSession::new(&Crypto::auto(), alg, &[7u8; 16]).unwrap();
/// let iv = [1u8; 16];
/// let mut ct = [0u8; 32];
/// let route = s.encrypt(&iv, &[42u8; 32], &mut ct).unwrap();
/// println!("ran on {route}");
/// let mut pt = ct;
/// s.decrypt_in_place(&iv, &mut pt).unwrap();
/// assert_eq!(pt, [42u8; 32]);
/// ```
pub struct CipherSession {
    crypto: Crypto,
    alg: CipherAlg,
    key: Zeroizing<Vec<u8>>,
    enc: EnginePool<Box<dyn CipherEngine>>,
    dec: EnginePool<Box<dyn CipherEngine>>,
    device: Option<(String, Mutex<Box<dyn DeviceCipher>>)>,
    /// Why software runs when there is no device session.
    why_software: Reason,
}

impl std::fmt::Debug for CipherSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CipherSession")
            .field("alg", &self.alg.name())
            .field("device", &self.device.as_ref().map(|d| &d.0))
            .finish_non_exhaustive()
    }
}

/// Data of one request: out of place or in place.
enum Buf<'a> {
    Out(&'a [u8], &'a mut [u8]),
    InPlace(&'a mut [u8]),
}

impl Buf<'_> {
    fn len(&self) -> usize {
        match self {
            Buf::Out(i, _) => i.len(),
            Buf::InPlace(b) => b.len(),
        }
    }

    fn last_input_block(&self) -> Option<[u8; 16]> {
        let data: &[u8] = match self {
            Buf::Out(i, _) => i,
            Buf::InPlace(b) => b,
        };
        data.len()
            .checked_sub(16)
            .map(|s| data[s..].try_into().expect("16 bytes"))
    }

    fn last_output_block(&self) -> Option<[u8; 16]> {
        let data: &[u8] = match self {
            Buf::Out(_, o) => o,
            Buf::InPlace(b) => b,
        };
        data.len()
            .checked_sub(16)
            .map(|s| data[s..].try_into().expect("16 bytes"))
    }

    fn run_sw(&mut self, e: &mut dyn CipherEngine) -> Result<()> {
        match self {
            Buf::Out(i, o) => e.update(i, o),
            Buf::InPlace(b) => e.update_in_place(b),
        }
    }
}

/// Checks a key for `alg`.
pub(crate) fn check_key(alg: CipherAlg, key: &[u8]) -> Result<()> {
    if key.len() != alg.key_len() {
        return Err(Error::KeyLength {
            alg: alg.name(),
            got: key.len(),
            expected: match alg.key_len() {
                16 => "16",
                24 => "24",
                32 => "32",
                48 => "48",
                _ => "64",
            },
        });
    }
    if alg.mode == CipherMode::Xts {
        let (a, b) = key.split_at(key.len() / 2);
        if a == b {
            return Err(Error::XtsEqualKeyHalves { alg: alg.name() });
        }
    }
    Ok(())
}

/// Checks the data length of one request (for CTR, `offset` bytes already done from `iv`).
fn check_len(alg: CipherAlg, iv: &[u8], offset: u128, len: usize) -> Result<()> {
    let name = alg.name();
    match alg.mode {
        CipherMode::Ecb | CipherMode::Cbc if !len.is_multiple_of(16) => Err(Error::DataLength {
            alg: name,
            len,
            rule: "ECB and CBC take whole 16-byte blocks (there is no padding)",
        }),
        CipherMode::Xts if len < 16 => Err(Error::DataLength {
            alg: name,
            len,
            rule: "an XTS data unit needs at least one 16-byte block",
        }),
        CipherMode::Xts if len > XTS_MAX_UNIT => Err(Error::DataLength {
            alg: name,
            len,
            rule: "an XTS data unit is at most 16 MiB (2^20 blocks, IEEE 1619)",
        }),
        CipherMode::Ctr => {
            let start = u128::from_be_bytes(iv.try_into().expect("IV length checked"));
            let end = offset + len as u128;
            let blocks = end.div_ceil(16);
            // The last block used is start + blocks - 1; it must not pass 2^128 - 1.
            if blocks > 0 && start.checked_add(blocks - 1).is_none() {
                Err(Error::CounterOverflow { alg: name })
            } else {
                Ok(())
            }
        }
        _ => Ok(()),
    }
}

fn check_iv(alg: CipherAlg, iv: &[u8]) -> Result<()> {
    if iv.len() != alg.iv_len() {
        return Err(Error::IvLength {
            alg: alg.name(),
            got: iv.len(),
            expected: alg.iv_len(),
        });
    }
    Ok(())
}

impl CipherSession {
    /// Opens a session with `key` set once; the context decides device or software.
    ///
    /// # Errors
    /// [`Error::KeyLength`], [`Error::XtsEqualKeyHalves`], or [`Error::NoDevice`] /
    /// [`Error::Device`] for `Backend::Device` without a working device.
    ///
    /// ```
    /// use uadk_crypto::{Backend, CipherAlg, CipherSession, Crypto, Error};
    /// let alg = CipherAlg::from_name("sm4-cbc").unwrap();
    /// // No device is registered, so asking for one is an error ...
    /// let err = CipherSession::new(&Crypto::new(Backend::Device), alg, &[1; 16]).unwrap_err();
    /// assert!(matches!(err, Error::NoDevice { .. }));
    /// // ... and Auto runs in software.
    /// assert!(CipherSession::new(&Crypto::auto(), alg, &[1; 16]).is_ok());
    /// ```
    pub fn new(crypto: &Crypto, alg: CipherAlg, key: &[u8]) -> Result<CipherSession> {
        check_key(alg, key)?;
        let algorithm = Algorithm::Cipher(alg);
        select::choose(algorithm)?;
        let (device, why_software) = match crypto.plan_session(algorithm)? {
            Plan::Software(reason) => (None, reason),
            Plan::Device(dev) => match dev.cipher(alg, key) {
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
        let s = CipherSession {
            crypto: crypto.clone(),
            alg,
            key: Zeroizing::new(key.to_vec()),
            enc: EnginePool::new(),
            dec: EnginePool::new(),
            device,
            why_software,
        };
        // Key the first software engine now so key problems surface here, not later.
        let e = s.engine(Direction::Encrypt)?;
        s.put_engine(Direction::Encrypt, e);
        Ok(s)
    }

    /// A software-only session (shorthand for `Crypto::new(Backend::Software)`).
    ///
    /// # Errors
    /// As [`CipherSession::new`].
    ///
    /// ```
    /// use uadk_crypto::{CipherAlg, CipherSession};
    /// let s = CipherSession::software(CipherAlg::from_name("aes-256-ctr").unwrap(), &[3; 32]).unwrap();
    /// ```
    pub fn software(alg: CipherAlg, key: &[u8]) -> Result<CipherSession> {
        CipherSession::new(&Crypto::new(crate::Backend::Software), alg, key)
    }

    /// The algorithm.
    ///
    /// ```
    /// use uadk_crypto::{CipherAlg, CipherSession};
    /// let alg = CipherAlg::from_name("sm4-ecb").unwrap();
    /// assert_eq!(CipherSession::software(alg, &[1; 16]).unwrap().alg(), alg);
    /// ```
    pub fn alg(&self) -> CipherAlg {
        self.alg
    }

    /// The context the session reports to.
    ///
    /// ```
    /// use uadk_crypto::{Backend, CipherAlg, CipherSession};
    /// let s = CipherSession::software(CipherAlg::from_name("sm4-ecb").unwrap(), &[1; 16]).unwrap();
    /// assert_eq!(s.crypto().backend(), Backend::Software);
    /// ```
    pub fn crypto(&self) -> &Crypto {
        &self.crypto
    }

    fn engine(&self, dir: Direction) -> Result<Box<dyn CipherEngine>> {
        let pool = match dir {
            Direction::Encrypt => &self.enc,
            Direction::Decrypt => &self.dec,
        };
        pool.take(|| select::cipher(self.alg, &self.key, dir))
    }

    fn put_engine(&self, dir: Direction, e: Box<dyn CipherEngine>) {
        match dir {
            Direction::Encrypt => self.enc.put(e),
            Direction::Decrypt => self.dec.put(e),
        }
    }

    /// Encrypts `input` into `output` (same length) as one message starting at `iv`.
    ///
    /// # Errors
    /// Wrong IV length, a length the mode forbids, CTR counter overflow, an output of
    /// another length, or a device failure without fallback.
    ///
    /// ```
    /// use uadk_crypto::{CipherAlg, CipherSession};
    /// let s = CipherSession::software(CipherAlg::from_name("aes-128-ctr").unwrap(), &[0; 16]).unwrap();
    /// let mut out = [0u8; 5];
    /// s.encrypt(&[0; 16], b"hello", &mut out).unwrap();
    /// ```
    pub fn encrypt(&self, iv: &[u8], input: &[u8], output: &mut [u8]) -> Result<Route> {
        self.one_shot(Direction::Encrypt, iv, Buf::Out(input, output))
    }

    /// Decrypts `input` into `output` (same length).
    ///
    /// # Errors
    /// As [`CipherSession::encrypt`].
    ///
    /// ```
    /// use uadk_crypto::{CipherAlg, CipherSession};
    /// let s = CipherSession::software(CipherAlg::from_name("sm4-ecb").unwrap(), &[9; 16]).unwrap();
    /// let mut out = [0u8; 16];
    /// s.decrypt(&[], &[1; 16], &mut out).unwrap();
    /// ```
    pub fn decrypt(&self, iv: &[u8], input: &[u8], output: &mut [u8]) -> Result<Route> {
        self.one_shot(Direction::Decrypt, iv, Buf::Out(input, output))
    }

    /// Encrypts `buf` in place.
    ///
    /// # Errors
    /// As [`CipherSession::encrypt`].
    ///
    /// ```
    /// use uadk_crypto::{CipherAlg, CipherSession};
    /// let s = CipherSession::software(CipherAlg::from_name("aes-256-xts").unwrap(), &[[1u8; 32], [2u8; 32]].concat()).unwrap();
    /// let mut sector = [0u8; 512];
    /// s.encrypt_in_place(&[0; 16], &mut sector).unwrap();
    /// ```
    pub fn encrypt_in_place(&self, iv: &[u8], buf: &mut [u8]) -> Result<Route> {
        self.one_shot(Direction::Encrypt, iv, Buf::InPlace(buf))
    }

    /// Decrypts `buf` in place.
    ///
    /// # Errors
    /// As [`CipherSession::encrypt`].
    ///
    /// ```
    /// use uadk_crypto::{CipherAlg, CipherSession};
    /// let s = CipherSession::software(CipherAlg::from_name("sm4-ctr").unwrap(), &[1; 16]).unwrap();
    /// let mut buf = *b"secret";
    /// s.encrypt_in_place(&[0; 16], &mut buf).unwrap();
    /// s.decrypt_in_place(&[0; 16], &mut buf).unwrap();
    /// assert_eq!(&buf, b"secret");
    /// ```
    pub fn decrypt_in_place(&self, iv: &[u8], buf: &mut [u8]) -> Result<Route> {
        self.one_shot(Direction::Decrypt, iv, Buf::InPlace(buf))
    }

    /// Same as [`CipherSession::encrypt`]/[`CipherSession::decrypt`] with the direction as a value.
    ///
    /// # Errors
    /// As [`CipherSession::encrypt`].
    ///
    /// ```
    /// use uadk_crypto::{CipherAlg, CipherSession, Direction};
    /// let s = CipherSession::software(CipherAlg::from_name("aes-192-ecb").unwrap(), &[1; 24]).unwrap();
    /// let mut out = [0u8; 16];
    /// s.crypt(Direction::Encrypt, &[], &[0; 16], &mut out).unwrap();
    /// ```
    pub fn crypt(&self, dir: Direction, iv: &[u8], input: &[u8], output: &mut [u8]) -> Result<Route> {
        self.one_shot(dir, iv, Buf::Out(input, output))
    }

    fn one_shot(&self, dir: Direction, iv: &[u8], mut buf: Buf<'_>) -> Result<Route> {
        check_iv(self.alg, iv)?;
        if let Buf::Out(i, o) = &buf {
            if i.len() != o.len() {
                return Err(Error::OutputLength {
                    needed: i.len(),
                    got: o.len(),
                });
            }
        }
        let len = buf.len();
        check_len(self.alg, iv, 0, len)?;
        let route = match self.try_device(dir, iv, &mut buf)? {
            Attempt::Done(r) => r,
            Attempt::Software(reason) => {
                let pool = match dir {
                    Direction::Encrypt => &self.enc,
                    Direction::Decrypt => &self.dec,
                };
                pool.with(
                    || select::cipher(self.alg, &self.key, dir),
                    |e| e.start(iv).and_then(|_| buf.run_sw(e.as_mut())),
                )?;
                Route::software(reason)
            }
        };
        self.crypto.count(&route, len);
        Ok(route)
    }

    /// The device session's template for asynchronous requests.
    pub(crate) fn device_template(&self) -> Option<crate::device::Template> {
        self.device.as_ref().and_then(|(_, d)| d.lock().template())
    }

    /// Checks IV and length as every one-shot request does.
    pub(crate) fn validate(&self, iv: &[u8], len: usize) -> Result<()> {
        check_iv(self.alg, iv)?;
        check_len(self.alg, iv, 0, len)
    }

    /// Runs one message in place in software for `reason` (counted).
    pub(crate) fn software_in_place(
        &self,
        dir: Direction,
        iv: &[u8],
        buf: &mut [u8],
        reason: Reason,
    ) -> Result<Route> {
        self.validate(iv, buf.len())?;
        let mut e = self.engine(dir)?;
        let r = e
            .start(iv)
            .and_then(|_| Buf::InPlace(&mut *buf).run_sw(e.as_mut()));
        self.put_engine(dir, e);
        r?;
        let route = Route::software(reason);
        self.crypto.count(&route, buf.len());
        Ok(route)
    }

    /// Runs the request on the device if the policy sends it there.
    fn try_device(&self, dir: Direction, iv: &[u8], buf: &mut Buf<'_>) -> Result<Attempt> {
        let Some((name, dev)) = &self.device else {
            return Ok(Attempt::Software(self.why_software.clone()));
        };
        let algorithm = Algorithm::Cipher(self.alg);
        if let Some(reason) = self.crypto.off_device(algorithm, buf.len(), 0) {
            return Ok(Attempt::Software(reason));
        }
        let r = {
            let mut d = dev.lock();
            match buf {
                Buf::Out(i, o) => d.crypt(dir, iv, i, o),
                Buf::InPlace(b) => d.crypt_in_place(dir, iv, b),
            }
        };
        match r {
            Ok(()) => Ok(Attempt::Done(Route {
                ran: Ran::Device,
                reason: Reason::DeviceOffers(name.clone()),
            })),
            Err(e) if self.crypto.may_fall_back() => Ok(Attempt::Software(Reason::Fallback(e))),
            Err(e) => {
                self.crypto.count_device_error();
                Err(Error::Device {
                    alg: self.alg.name(),
                    source: e,
                })
            }
        }
    }

    /// Starts an encryption stream at `iv`: successive `update`s continue the chain
    /// (CBC: last ciphertext block; CTR: the counter, any split; XTS: each update is the
    /// next data unit, tweak + 1 as a little-endian 128-bit number, as dm-crypt's plain64).
    ///
    /// # Errors
    /// Wrong IV length.
    ///
    /// ```
    /// use uadk_crypto::{CipherAlg, CipherSession};
    /// let s = CipherSession::software(CipherAlg::from_name("aes-128-ctr").unwrap(), &[5; 16]).unwrap();
    /// let msg = [9u8; 100];
    /// let mut whole = [0u8; 100];
    /// s.encrypt(&[0; 16], &msg, &mut whole).unwrap();
    /// let mut parts = [0u8; 100];
    /// let mut st = s.encryptor(&[0; 16]).unwrap();
    /// st.update(&msg[..33], &mut parts[..33]).unwrap();
    /// st.update(&msg[33..], &mut parts[33..]).unwrap();
    /// assert_eq!(whole, parts);
    /// ```
    pub fn encryptor(&self, iv: &[u8]) -> Result<CipherStream<'_>> {
        CipherStream::new(self, Direction::Encrypt, iv)
    }

    /// Starts a decryption stream at `iv` (see [`CipherSession::encryptor`]).
    ///
    /// # Errors
    /// Wrong IV length.
    ///
    /// ```
    /// use uadk_crypto::{CipherAlg, CipherSession};
    /// let s = CipherSession::software(CipherAlg::from_name("sm4-cbc").unwrap(), &[5; 16]).unwrap();
    /// let mut st = s.decryptor(&[0; 16]).unwrap();
    /// let mut buf = [0u8; 32];
    /// st.update_in_place(&mut buf).unwrap();
    /// ```
    pub fn decryptor(&self, iv: &[u8]) -> Result<CipherStream<'_>> {
        CipherStream::new(self, Direction::Decrypt, iv)
    }
}

enum Attempt {
    Done(Route),
    Software(Reason),
}

/// The chaining state a stream carries between calls, kept by the framework so a request
/// can move between device and software without losing its place.
#[derive(Clone, Copy)]
enum Chain {
    Ecb,
    Cbc([u8; 16]),
    Ctr { iv: [u8; 16], offset: u128 },
    Xts { tweak: u128 },
}

/// A streaming encryption or decryption (see [`CipherSession::encryptor`]).
///
/// ```
/// use uadk_crypto::{CipherAlg, CipherSession};
/// let s = CipherSession::software(CipherAlg::from_name("aes-256-cbc").unwrap(), &[1; 32]).unwrap();
/// let mut st = s.encryptor(&[0; 16]).unwrap();
/// let mut out = [0u8; 16];
/// st.update(&[0; 16], &mut out).unwrap();
/// ```
pub struct CipherStream<'s> {
    session: &'s CipherSession,
    dir: Direction,
    chain: Chain,
    /// The software engine, positioned at `chain` when `synced`.
    engine: Option<Box<dyn CipherEngine>>,
    synced: bool,
}

impl std::fmt::Debug for CipherStream<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CipherStream")
            .field("alg", &self.session.alg.name())
            .field("dir", &self.dir)
            .finish_non_exhaustive()
    }
}

impl<'s> CipherStream<'s> {
    fn new(session: &'s CipherSession, dir: Direction, iv: &[u8]) -> Result<CipherStream<'s>> {
        check_iv(session.alg, iv)?;
        let iv16 = || -> [u8; 16] { iv.try_into().expect("IV length checked") };
        let chain = match session.alg.mode {
            CipherMode::Ecb => Chain::Ecb,
            CipherMode::Cbc => Chain::Cbc(iv16()),
            CipherMode::Ctr => Chain::Ctr {
                iv: iv16(),
                offset: 0,
            },
            CipherMode::Xts => Chain::Xts {
                tweak: u128::from_le_bytes(iv16()),
            },
        };
        Ok(CipherStream {
            session,
            dir,
            chain,
            engine: None,
            synced: false,
        })
    }

    /// Continues the stream from `input` into `output` (same length).
    ///
    /// # Errors
    /// A length the mode forbids (ECB/CBC: whole blocks; XTS: 16 B to 16 MiB per unit),
    /// CTR counter overflow, or a device failure without fallback.
    ///
    /// ```
    /// use uadk_crypto::{CipherAlg, CipherSession, Error};
    /// let s = CipherSession::software(CipherAlg::from_name("aes-128-cbc").unwrap(), &[1; 16]).unwrap();
    /// let mut st = s.encryptor(&[0; 16]).unwrap();
    /// let mut out = [0u8; 15];
    /// assert!(matches!(st.update(&[0; 15], &mut out), Err(Error::DataLength { .. })));
    /// ```
    pub fn update(&mut self, input: &[u8], output: &mut [u8]) -> Result<Route> {
        if input.len() != output.len() {
            return Err(Error::OutputLength {
                needed: input.len(),
                got: output.len(),
            });
        }
        self.step(Buf::Out(input, output))
    }

    /// Continues the stream in place.
    ///
    /// # Errors
    /// As [`CipherStream::update`].
    ///
    /// ```
    /// use uadk_crypto::{CipherAlg, CipherSession};
    /// let s = CipherSession::software(CipherAlg::from_name("sm4-ctr").unwrap(), &[1; 16]).unwrap();
    /// let mut st = s.encryptor(&[0; 16]).unwrap();
    /// let mut buf = [0u8; 7];
    /// st.update_in_place(&mut buf).unwrap();
    /// ```
    pub fn update_in_place(&mut self, buf: &mut [u8]) -> Result<Route> {
        self.step(Buf::InPlace(buf))
    }

    /// The IV (CBC/CTR: counter block; XTS: tweak) the next request starts from.
    fn request_iv(&self) -> ([u8; 16], usize) {
        match self.chain {
            Chain::Ecb => ([0; 16], 0),
            Chain::Cbc(iv) => (iv, 0),
            Chain::Ctr { iv, offset } => {
                let start = u128::from_be_bytes(iv);
                let block = start.wrapping_add(offset / 16);
                (block.to_be_bytes(), (offset % 16) as usize)
            }
            Chain::Xts { tweak } => (tweak.to_le_bytes(), 0),
        }
    }

    fn step(&mut self, mut buf: Buf<'_>) -> Result<Route> {
        let s = self.session;
        let len = buf.len();
        match self.chain {
            Chain::Ctr { iv, offset } => check_len(s.alg, &iv, offset, len)?,
            _ => check_len(s.alg, &[0; 16], 0, len)?,
        }
        let (iv, skip) = self.request_iv();
        let iv_len = s.alg.iv_len();
        let cbc_dec_next = buf.last_input_block();
        let attempt = if skip != 0 && s.device.is_some() {
            Attempt::Software(Reason::PartialBlock)
        } else {
            s.try_device(self.dir, &iv[..iv_len], &mut buf)?
        };
        let route = match attempt {
            Attempt::Done(r) => {
                self.synced = false;
                r
            }
            Attempt::Software(reason) => {
                self.software(&mut buf, &iv[..iv_len], skip)?;
                Route::software(reason)
            }
        };
        self.chain = match self.chain {
            Chain::Ecb => Chain::Ecb,
            Chain::Cbc(prev) => Chain::Cbc(
                match self.dir {
                    Direction::Encrypt => buf.last_output_block(),
                    Direction::Decrypt => cbc_dec_next,
                }
                .unwrap_or(prev),
            ),
            Chain::Ctr { iv, offset } => Chain::Ctr {
                iv,
                offset: offset + len as u128,
            },
            Chain::Xts { tweak } => Chain::Xts {
                tweak: tweak.wrapping_add(1),
            },
        };
        s.crypto.count(&route, len);
        Ok(route)
    }

    fn software(&mut self, buf: &mut Buf<'_>, iv: &[u8], skip: usize) -> Result<()> {
        let s = self.session;
        let mut e = match self.engine.take() {
            Some(e) => e,
            None => s.engine(self.dir)?,
        };
        let xts = matches!(self.chain, Chain::Xts { .. });
        let r = (|| {
            if !self.synced || xts {
                e.start(iv)?;
                if skip != 0 {
                    // Resume inside a CTR block: burn the used part of its keystream.
                    let mut scratch = [0u8; 16];
                    e.update_in_place(&mut scratch[..skip])?;
                }
            }
            buf.run_sw(e.as_mut())
        })();
        self.synced = r.is_ok();
        self.engine = Some(e);
        r
    }
}

impl Drop for CipherStream<'_> {
    fn drop(&mut self) {
        if let Some(e) = self.engine.take() {
            self.session.put_engine(self.dir, e);
        }
    }
}
