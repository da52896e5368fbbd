//! Backend choice: what was asked for, what ran and why, the small-packet policy and the
//! counters that make all of it observable.

use std::fmt;
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Arc;

use parking_lot::RwLock;

use crate::alg::Algorithm;
use crate::device::{DeviceError, SecDevice};
use crate::error::{Error, Result};

/// The backend a caller asks for.
///
/// ```
/// use uadk_crypto::Backend;
/// assert_eq!("software".parse::<Backend>().unwrap(), Backend::Software);
/// assert!("gpu".parse::<Backend>().is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Backend {
    /// A device when one offers the algorithm and the request is large enough, else software.
    #[default]
    Auto,
    /// A device only; an error when none offers the algorithm.
    Device,
    /// Software only.
    Software,
}

impl FromStr for Backend {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "auto" => Ok(Backend::Auto),
            "device" => Ok(Backend::Device),
            "software" | "sw" => Ok(Backend::Software),
            other => Err(format!("unknown backend '{other}': use auto, device or software")),
        }
    }
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Backend::Auto => "auto",
            Backend::Device => "device",
            Backend::Software => "software",
        })
    }
}

/// Which backend ran a request.
///
/// ```
/// assert_eq!(uadk_crypto::Ran::Software.to_string(), "software");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Ran {
    /// A device.
    Device,
    /// Software (the provider chosen for the algorithm, see [`crate::software`]).
    Software,
}

impl fmt::Display for Ran {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Ran::Device => "device",
            Ran::Software => "software",
        })
    }
}

/// Why a request ran where it ran.
///
/// ```
/// use uadk_crypto::{Algorithm, Reason};
/// let r = Reason::NoDevice(Algorithm::from_name("sm4-cbc").unwrap());
/// assert_eq!(r.to_string(), "no device offers sm4-cbc");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reason {
    /// The caller asked for this backend.
    Requested,
    /// `Auto`, and no registered device offers the algorithm.
    NoDevice(Algorithm),
    /// `Auto`, and the request is below the small-packet threshold.
    SmallPacket {
        /// Request length in bytes.
        len: usize,
        /// The threshold it is below.
        threshold: usize,
    },
    /// `Auto`, a device offers the algorithm and the request is large enough.
    DeviceOffers(String),
    /// The device failed and the request was redone in software.
    Fallback(DeviceError),
    /// A CTR stream call that starts inside a counter block; devices take whole blocks.
    PartialBlock,
    /// A multi-call digest stream on a device without long-hash support.
    Streaming,
    /// The request has a shape no SEC request can carry (a 0-byte message, AAD over
    /// 65535 bytes, more than 16776704 bytes in one request): completed in software under
    /// every backend, `Device` included.
    NotExpressible(String),
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reason::Requested => f.write_str("requested"),
            Reason::NoDevice(alg) => write!(f, "no device offers {alg}"),
            Reason::SmallPacket { len, threshold } => {
                write!(f, "{len} B is below the {threshold} B small-packet threshold")
            }
            Reason::DeviceOffers(dev) => write!(f, "{dev} offers it"),
            Reason::Fallback(e) => write!(f, "device failed ({e}), redone in software"),
            Reason::PartialBlock => f.write_str("CTR call starts inside a counter block"),
            Reason::Streaming => f.write_str("the device has no long hash for streaming digests"),
            Reason::NotExpressible(what) => write!(f, "{what}: not expressible as a SEC request"),
        }
    }
}

/// Where one request ran and why; every operation returns one.
///
/// ```
/// use uadk_crypto::{Crypto, DigestSession, DigestAlg, Ran};
/// let s = DigestSession::new(&Crypto::auto(), DigestAlg::Sha256).unwrap();
/// let mut out = [0u8; 32];
/// let route = s.digest(b"abc", &mut out).unwrap();
/// assert_eq!(route.ran, Ran::Software);
/// assert_eq!(route.to_string(), "software (no device offers sha256)");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    /// What ran.
    pub ran: Ran,
    /// Why.
    pub reason: Reason,
}

impl fmt::Display for Route {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.ran, self.reason)
    }
}

impl Route {
    pub(crate) fn software(reason: Reason) -> Route {
        Route {
            ran: Ran::Software,
            reason,
        }
    }
}

/// The small-packet policy and fallback switch.
///
/// Below these sizes `Auto` keeps a request in software even when a device offers the
/// algorithm: handing a request to a device costs the submitting thread a fixed amount of
/// work (build the BD, ring the doorbell, poll and decode the completion, route the
/// result) that a small request cannot win back. Measured through the emulated SEC
/// (`uadk bench crypto --backend device`, `host_ns_per_op` of the `uadk-batch` rows): about
/// 0.6-0.9 µs per request up to 1 KiB, 1.2-2 µs at 4-16 KiB. Each threshold is the size
/// where the software path of that family, on this machine, takes about as long
/// (`uadk-crypto/MEASUREMENTS.md`, "Small-packet thresholds"): SM4 from 64 B (100 MB/s),
/// SHA/MD5 digests and HMAC from 512 B, AES ciphers and AES-CCM from 1 KiB / 512 B
/// (CBC encryption; CTR/XTS would break even only near 16 KiB), AES-GCM from 16 KiB. UADK's
/// OpenSSL adapters use 192 B for ciphers and 512 B for digests on Kunpeng, whose CPU
/// crypto is slower.
///
/// ```
/// let p = uadk_crypto::Policy::default();
/// assert_eq!((p.cipher_min, p.digest_min, p.sm_min, p.fallback), (1024, 512, 64, true));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    /// Smallest AES ECB/CBC/CTR/XTS request (bytes) that `Auto` sends to a device.
    pub cipher_min: usize,
    /// Smallest AES-CCM request (plaintext + AAD bytes).
    pub aead_min: usize,
    /// Smallest AES-GCM request (plaintext + AAD bytes); software GCM runs at 5-8 GB/s.
    pub gcm_min: usize,
    /// Smallest SHA-1/SHA-2/MD5 digest or HMAC request.
    pub digest_min: usize,
    /// Smallest SM4 (any mode) or SM3/HMAC-SM3 request; software SM4 runs near 100 MB/s.
    pub sm_min: usize,
    /// Redo a failed device request in software (never for `Backend::Device`).
    pub fallback: bool,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            cipher_min: 1024,
            aead_min: 512,
            gcm_min: 16384,
            digest_min: 512,
            sm_min: 64,
            fallback: true,
        }
    }
}

impl Policy {
    /// The threshold that applies to `alg`.
    ///
    /// ```
    /// use uadk_crypto::{Algorithm, Policy};
    /// let p = Policy::default();
    /// assert_eq!(p.threshold(Algorithm::from_name("sm4-cbc").unwrap()), 64);
    /// assert_eq!(p.threshold(Algorithm::from_name("aes-128-gcm").unwrap()), 16384);
    /// assert_eq!(p.threshold(Algorithm::from_name("hmac-sha256").unwrap()), 512);
    /// ```
    pub fn threshold(&self, alg: Algorithm) -> usize {
        use crate::alg::{AeadMode, BlockCipher, DigestAlg};
        match alg {
            Algorithm::Cipher(c) if c.block == BlockCipher::Sm4 => self.sm_min,
            Algorithm::Aead(a) if a.block == BlockCipher::Sm4 => self.sm_min,
            Algorithm::Digest(DigestAlg::Sm3) | Algorithm::Hmac(DigestAlg::Sm3) => self.sm_min,
            Algorithm::Cipher(_) => self.cipher_min,
            Algorithm::Aead(a) if a.mode == AeadMode::Gcm => self.gcm_min,
            Algorithm::Aead(_) => self.aead_min,
            Algorithm::Digest(_) | Algorithm::Hmac(_) => self.digest_min,
        }
    }
}

/// A snapshot of the counters of a [`Crypto`] context.
///
/// ```
/// let c = uadk_crypto::Crypto::auto();
/// assert_eq!(c.stats(), uadk_crypto::Stats::default());
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    /// Requests a device completed.
    pub device_requests: u64,
    /// Requests software completed (all reasons, fallbacks included).
    pub software_requests: u64,
    /// Software requests because no device offers the algorithm.
    pub no_device: u64,
    /// Software requests because of the small-packet policy.
    pub small_packets: u64,
    /// Device failures redone in software.
    pub fallbacks: u64,
    /// Device failures returned as errors (fallback off or `Backend::Device`).
    pub device_errors: u64,
    /// Bytes processed by a device.
    pub device_bytes: u64,
    /// Bytes processed in software.
    pub software_bytes: u64,
}

#[derive(Default)]
struct Counters {
    device_requests: AtomicU64,
    software_requests: AtomicU64,
    no_device: AtomicU64,
    small_packets: AtomicU64,
    fallbacks: AtomicU64,
    device_errors: AtomicU64,
    device_bytes: AtomicU64,
    software_bytes: AtomicU64,
}

struct Inner {
    backend: Backend,
    policy: Policy,
    devices: RwLock<Vec<Arc<dyn SecDevice>>>,
    counters: Counters,
}

/// A crypto context: the requested backend, the policy, registered devices and counters.
/// Sessions are created from it and share it; cloning is cheap.
///
/// ```
/// use uadk_crypto::{Backend, Crypto};
/// let c = Crypto::new(Backend::Auto);
/// assert_eq!(c.backend(), Backend::Auto);
/// ```
#[derive(Clone)]
pub struct Crypto {
    inner: Arc<Inner>,
}

impl fmt::Debug for Crypto {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Crypto")
            .field("backend", &self.inner.backend)
            .field("policy", &self.inner.policy)
            .field("devices", &self.inner.devices.read().len())
            .finish()
    }
}

/// Where a session or request goes.
pub(crate) enum Plan {
    Device(Arc<dyn SecDevice>),
    Software(Reason),
}

impl Crypto {
    /// A context with the default [`Policy`].
    ///
    /// ```
    /// let c = uadk_crypto::Crypto::new(uadk_crypto::Backend::Software);
    /// ```
    pub fn new(backend: Backend) -> Crypto {
        Crypto::with_policy(backend, Policy::default())
    }

    /// `Crypto::new(Backend::Auto)`.
    ///
    /// ```
    /// let c = uadk_crypto::Crypto::auto();
    /// ```
    pub fn auto() -> Crypto {
        Crypto::new(Backend::Auto)
    }

    /// A context with an explicit policy.
    ///
    /// ```
    /// use uadk_crypto::{Backend, Crypto, Policy};
    /// let c = Crypto::with_policy(Backend::Auto, Policy { fallback: false, ..Policy::default() });
    /// assert!(!c.policy().fallback);
    /// ```
    pub fn with_policy(backend: Backend, policy: Policy) -> Crypto {
        Crypto {
            inner: Arc::new(Inner {
                backend,
                policy,
                devices: RwLock::new(Vec::new()),
                counters: Counters::default(),
            }),
        }
    }

    /// The requested backend.
    ///
    /// ```
    /// use uadk_crypto::{Backend, Crypto};
    /// assert_eq!(Crypto::new(Backend::Device).backend(), Backend::Device);
    /// ```
    pub fn backend(&self) -> Backend {
        self.inner.backend
    }

    /// The policy.
    ///
    /// ```
    /// use uadk_crypto::{Crypto, Policy};
    /// assert_eq!(Crypto::auto().policy(), Policy::default());
    /// ```
    pub fn policy(&self) -> Policy {
        self.inner.policy
    }

    /// Registers a device; sessions created afterwards may use it.
    ///
    /// ```
    /// # use uadk_crypto::*;
    /// # fn f(dev: std::sync::Arc<dyn SecDevice>) {
    /// let c = Crypto::auto();
    /// c.add_device(dev);
    /// # }
    /// ```
    pub fn add_device(&self, dev: Arc<dyn SecDevice>) {
        self.inner.devices.write().push(dev);
    }

    /// The counters so far.
    ///
    /// ```
    /// use uadk_crypto::{Crypto, DigestAlg, DigestSession};
    /// let c = Crypto::auto();
    /// DigestSession::new(&c, DigestAlg::Md5).unwrap().digest_to_vec(b"x").unwrap();
    /// assert_eq!(c.stats().software_requests, 1);
    /// ```
    pub fn stats(&self) -> Stats {
        let c = &self.inner.counters;
        Stats {
            device_requests: c.device_requests.load(Relaxed),
            software_requests: c.software_requests.load(Relaxed),
            no_device: c.no_device.load(Relaxed),
            small_packets: c.small_packets.load(Relaxed),
            fallbacks: c.fallbacks.load(Relaxed),
            device_errors: c.device_errors.load(Relaxed),
            device_bytes: c.device_bytes.load(Relaxed),
            software_bytes: c.software_bytes.load(Relaxed),
        }
    }

    /// The registered devices.
    pub(crate) fn devices(&self) -> Vec<Arc<dyn SecDevice>> {
        self.inner.devices.read().clone()
    }

    /// Chooses where a session goes (no length known yet).
    pub(crate) fn plan_session(&self, alg: Algorithm) -> Result<Plan> {
        if self.inner.backend == Backend::Software {
            return Ok(Plan::Software(Reason::Requested));
        }
        let dev = self.inner.devices.read().iter().find(|d| d.offers(alg)).cloned();
        match (dev, self.inner.backend) {
            (Some(dev), _) => Ok(Plan::Device(dev)),
            (None, Backend::Device) => Err(Error::NoDevice {
                alg: alg.name(),
                why: if self.inner.devices.read().is_empty() {
                    "no SEC device is registered".to_string()
                } else {
                    "the registered devices do not list it".to_string()
                },
            }),
            (None, _) => Ok(Plan::Software(Reason::NoDevice(alg))),
        }
    }

    /// For a session that has a device: does this request of `len` bytes go to it?
    pub(crate) fn small_packet(&self, alg: Algorithm, len: usize) -> Option<Reason> {
        let threshold = self.inner.policy.threshold(alg);
        (self.inner.backend == Backend::Auto && len < threshold)
            .then_some(Reason::SmallPacket { len, threshold })
    }

    /// For a session that has a device: why a request of `len` message bytes and `aad`
    /// bytes of AAD stays in software, if it does. First what no SEC request can express,
    /// under every backend (see [`not_expressible`]); then, under `Auto`, the small-packet
    /// policy.
    pub(crate) fn off_device(&self, alg: Algorithm, len: usize, aad: usize) -> Option<Reason> {
        not_expressible(alg, len, aad).or_else(|| self.small_packet(alg, len + aad))
    }

    /// Whether a device failure may be redone in software.
    pub(crate) fn may_fall_back(&self) -> bool {
        self.inner.policy.fallback && self.inner.backend == Backend::Auto
    }

    /// Counts a completed request.
    pub(crate) fn count(&self, route: &Route, bytes: usize) {
        self.tally(route, bytes, |c, n| {
            c.fetch_add(n, Relaxed);
        });
    }

    /// Takes back a [`Crypto::count`] made before a request that then failed.
    pub(crate) fn uncount(&self, route: &Route, bytes: usize) {
        self.tally(route, bytes, |c, n| {
            c.fetch_sub(n, Relaxed);
        });
    }

    /// Applies `op` to the counters a request on `route` moves: requests and bytes of the
    /// path that ran, and for software the counter of its reason.
    fn tally(&self, route: &Route, bytes: usize, op: impl Fn(&AtomicU64, u64)) {
        let c = &self.inner.counters;
        let (requests, byte_count) = match route.ran {
            Ran::Device => (&c.device_requests, &c.device_bytes),
            Ran::Software => (&c.software_requests, &c.software_bytes),
        };
        op(requests, 1);
        op(byte_count, bytes as u64);
        if route.ran == Ran::Software {
            match route.reason {
                Reason::NoDevice(_) => op(&c.no_device, 1),
                Reason::SmallPacket { .. } => op(&c.small_packets, 1),
                Reason::Fallback(_) => op(&c.fallbacks, 1),
                _ => {}
            }
        }
    }

    /// Counts a device failure returned as an error.
    pub(crate) fn count_device_error(&self) {
        self.inner.counters.device_errors.fetch_add(1, Relaxed);
    }
}

/// Why a request of `len` message bytes and `aad` bytes of AAD cannot be one SEC request,
/// if it cannot: the BD's length fields carry 1..=16776704 bytes of message (a 0-byte
/// message has no encoding: every digest, HMAC, cipher and AEAD with an empty message,
/// empty AAD or not), and AEAD AAD up to 65535 bytes within the same total. These hold for
/// every SEC (BD2 and BD3), so such requests complete in software under every backend,
/// with this reason in their route.
///
/// ```
/// use uadk_crypto::{backend::not_expressible, Algorithm};
/// let sha1 = Algorithm::from_name("sha1").unwrap();
/// let r = not_expressible(sha1, 0, 0).unwrap();
/// assert_eq!(r.to_string(), "0-byte message: not expressible as a SEC request");
/// assert!(not_expressible(sha1, 1, 0).is_none());
/// ```
pub fn not_expressible(alg: Algorithm, len: usize, aad: usize) -> Option<Reason> {
    let max = uadk_core::sec_copy::MAX_LEN as usize;
    let what = if len == 0 {
        "0-byte message".to_string()
    } else if len > max {
        format!("{len}-byte message (one SEC request carries 1..={max})")
    } else if matches!(alg, Algorithm::Aead(_)) && aad > 65_535 {
        format!("{aad} bytes of AAD (the SEC takes up to 65535)")
    } else if len + aad > max {
        format!("{len}-byte message with {aad} bytes of AAD (one SEC request carries up to {max})")
    } else {
        return None;
    };
    Some(Reason::NotExpressible(what))
}
