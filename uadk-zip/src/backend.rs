//! Backend choice (`Auto` / `Device` / `Software`), the observable result of that choice,
//! per-session counters, and the seam a hardware engine plugs into.
//!
//! Every engine — software library or device queue — speaks *raw deflate* through two small
//! traits, [`RawCompress`] and [`RawDecompress`]; framing and checksums stay in
//! [`crate::format`]. A device engine registers itself with [`register_device`]; sessions
//! with `Backend::Auto` or `Backend::Device` then use it when it [offers](DeviceEngine::offers)
//! the format.

use crate::error::{Error, Result};
use crate::format::Format;
use crate::software::Library;
use crate::stream::Flush;
use parking_lot::RwLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// Which kind of engine a session may use.
///
/// ```
/// use uadk_zip::Backend;
/// assert_eq!("software".parse::<Backend>().unwrap(), Backend::Software);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Backend {
    /// A device if one offers the algorithm, else software.
    #[default]
    Auto,
    /// A device only; an error if none offers the algorithm.
    Device,
    /// Software only.
    Software,
}

impl std::str::FromStr for Backend {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s.to_ascii_lowercase().as_str() {
            "auto" => Ok(Backend::Auto),
            "device" | "hw" => Ok(Backend::Device),
            "software" | "sw" => Ok(Backend::Software),
            _ => Err(Error::InvalidArgument(format!(
                "unknown backend {s:?}: use auto, device or software"
            ))),
        }
    }
}

/// How caller buffers reach a device (SVA: the device reads them by virtual address).
///
/// ```
/// use uadk_zip::DmaPolicy;
/// assert_eq!(DmaPolicy::default(), DmaPolicy::Bounce);
/// assert_eq!("zero-copy-only".parse::<DmaPolicy>().unwrap(), DmaPolicy::ZeroCopyOnly);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum DmaPolicy {
    /// Every buffer goes to the device as it is (no copy; pages the device has not touched
    /// yet may cost an IO page fault each).
    Direct,
    /// Buffers inside a chunk of the session's pool ([`DmaSetup::pool`]) go as they are;
    /// others are copied through a pinned pool chunk first (the default: a copy costs less
    /// than the IO page faults of fresh memory; see the crate README's measurements).
    #[default]
    Bounce,
    /// Only pool buffers reach the device; other requests run in software (with a reason).
    ZeroCopyOnly,
}

impl std::str::FromStr for DmaPolicy {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s.to_ascii_lowercase().replace('_', "-").as_str() {
            "direct" => Ok(DmaPolicy::Direct),
            "bounce" => Ok(DmaPolicy::Bounce),
            "zero-copy-only" | "zerocopyonly" | "zero-copy" => Ok(DmaPolicy::ZeroCopyOnly),
            _ => Err(Error::InvalidArgument(format!(
                "unknown DMA policy {s:?}: use direct, bounce or zero-copy-only"
            ))),
        }
    }
}

/// What a device engine needs to place a session's buffers: the policy, the session's pool
/// (buffers inside its chunks are zero copy), and the counters to record copies in.
///
/// ```
/// let d = uadk_zip::DmaSetup::default();
/// assert!(d.pool.is_none());
/// ```
#[derive(Clone, Debug, Default)]
pub struct DmaSetup {
    /// The policy.
    pub policy: DmaPolicy,
    /// The session's buffer pool, if it has one.
    pub pool: Option<Arc<uadk_pool::Pool>>,
    /// Where zero-copy / bounced / direct bytes are counted.
    pub counters: Option<Arc<Counters>>,
}

/// Compression or decompression.
///
/// ```
/// assert_eq!(uadk_zip::Direction::Compress.to_string(), "compress");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Direction {
    /// Compression.
    Compress,
    /// Decompression.
    Decompress,
}

impl std::fmt::Display for Direction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Direction::Compress => "compress",
            Direction::Decompress => "decompress",
        })
    }
}

/// The engine that actually ran a request.
///
/// ```
/// use uadk_zip::{Engine, software::Library};
/// assert_eq!(Engine::Software(Library::Isal).to_string(), "software:isa-l");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Engine {
    /// A software library.
    Software(Library),
    /// A device engine, by its name.
    Device(String),
}

impl Engine {
    /// `"device"` or `"software"`, as used in reports and bench rows.
    ///
    /// ```
    /// use uadk_zip::{Engine, software::Library};
    /// assert_eq!(Engine::Software(Library::ZlibRs).kind(), "software");
    /// ```
    pub fn kind(&self) -> &'static str {
        match self {
            Engine::Software(_) => "software",
            Engine::Device(_) => "device",
        }
    }
}

impl std::fmt::Display for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Engine::Software(l) => write!(f, "software:{}", l.name()),
            Engine::Device(d) => write!(f, "device:{d}"),
        }
    }
}

/// What ran one request and why.
///
/// ```
/// use uadk_zip::{Config, Session};
/// let s = Session::new(Config::default()).unwrap();
/// let (_, report) = s.compress_report(b"hello").unwrap();
/// assert_eq!(report.engine.kind(), "software");
/// assert!(report.reason.contains("no device offers gzip"));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Report {
    /// Engine that produced the result.
    pub engine: Engine,
    /// Why that engine: the backend resolution and, for software, the library choice.
    pub reason: String,
    /// True when a device failed and the request was redone in software.
    pub fell_back: bool,
    /// Threads used (more than 1 for parallel compression).
    pub threads: usize,
    /// Uncompressed bytes.
    pub uncompressed: u64,
    /// Compressed bytes.
    pub compressed: u64,
}

/// Per-session request counters; cheap to update from many threads.
#[derive(Debug, Default)]
pub struct Counters {
    device: AtomicU64,
    software: AtomicU64,
    fallbacks: AtomicU64,
    errors: AtomicU64,
    bytes_in: AtomicU64,
    bytes_out: AtomicU64,
    dma_zero_copy: AtomicU64,
    dma_bounced: AtomicU64,
    dma_direct: AtomicU64,
}

/// How one device input buffer was placed (for [`Counters`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Placement {
    /// Inside a pool chunk: sent as it is.
    ZeroCopy,
    /// Copied through a staging buffer.
    Bounced,
    /// Not in a pool, sent as it is (`DmaPolicy::Direct`).
    Direct,
}

/// A copy of the counters at one moment.
///
/// ```
/// use uadk_zip::{Config, Session};
/// let s = Session::new(Config::default()).unwrap();
/// s.compress(b"abc").unwrap();
/// let c = s.counters();
/// assert_eq!((c.software_requests, c.device_requests, c.fallbacks), (1, 0, 0));
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CounterSnapshot {
    /// Requests completed on a device.
    pub device_requests: u64,
    /// Requests completed in software (fallbacks included).
    pub software_requests: u64,
    /// Device failures redone in software.
    pub fallbacks: u64,
    /// Requests that returned an error.
    pub errors: u64,
    /// Uncompressed bytes of completed requests.
    pub bytes_uncompressed: u64,
    /// Compressed bytes of completed requests.
    pub bytes_compressed: u64,
    /// Device input bytes sent without a copy because they lie in a pool chunk.
    pub dma_zero_copy_bytes: u64,
    /// Device input bytes copied through a staging buffer first.
    pub dma_bounced_bytes: u64,
    /// Device input bytes sent as they are from memory outside any pool.
    pub dma_direct_bytes: u64,
}

impl Counters {
    pub(crate) fn record(&self, r: &Report) {
        match r.engine {
            Engine::Device(_) => &self.device,
            Engine::Software(_) => &self.software,
        }
        .fetch_add(1, Ordering::Relaxed);
        if r.fell_back {
            self.fallbacks.fetch_add(1, Ordering::Relaxed);
        }
        self.bytes_in.fetch_add(r.uncompressed, Ordering::Relaxed);
        self.bytes_out.fetch_add(r.compressed, Ordering::Relaxed);
    }

    pub(crate) fn error(&self) {
        self.errors.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn dma(&self, how: Placement, bytes: usize) {
        match how {
            Placement::ZeroCopy => &self.dma_zero_copy,
            Placement::Bounced => &self.dma_bounced,
            Placement::Direct => &self.dma_direct,
        }
        .fetch_add(bytes as u64, Ordering::Relaxed);
    }

    /// Reads all counters.
    ///
    /// ```
    /// let c = uadk_zip::Counters::default();
    /// assert_eq!(c.snapshot().errors, 0);
    /// ```
    pub fn snapshot(&self) -> CounterSnapshot {
        let g = |a: &AtomicU64| a.load(Ordering::Relaxed);
        CounterSnapshot {
            device_requests: g(&self.device),
            software_requests: g(&self.software),
            fallbacks: g(&self.fallbacks),
            errors: g(&self.errors),
            bytes_uncompressed: g(&self.bytes_in),
            bytes_compressed: g(&self.bytes_out),
            dma_zero_copy_bytes: g(&self.dma_zero_copy),
            dma_bounced_bytes: g(&self.dma_bounced),
            dma_direct_bytes: g(&self.dma_direct),
        }
    }
}

/// Progress of one call of a raw engine.
///
/// ```
/// let s = uadk_zip::Step { consumed: 3, produced: 5, done: true };
/// assert!(s.done);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Step {
    /// Input bytes consumed.
    pub consumed: usize,
    /// Output bytes written.
    pub produced: usize,
    /// Compression: the requested flush is complete (for `Finish`, the final block is
    /// written). Decompression: the final deflate block has been decoded.
    pub done: bool,
}

/// A raw-deflate compressor: the contract between the front-end and any engine.
///
/// Semantics follow zlib's `deflate()`: call with the same flush until `done`; input not
/// consumed must be passed again. After `Finish` is done the engine is spent.
pub trait RawCompress: Send {
    /// Compresses from `input` into `output` with `flush`.
    fn step(&mut self, input: &[u8], output: &mut [u8], flush: Flush) -> Result<Step>;
    /// The engine, for reports.
    fn engine(&self) -> Engine;
}

/// A decompressor of a stream's body and trailer (semantics of zlib's `inflate()`).
///
/// It is created for one format: for zlib and gzip it verifies the trailer (adler32, or
/// crc32 and ISIZE) after the final block itself, as the hardware does.
pub trait RawDecompress: Send {
    /// Decompresses from `input` into `output`; `done` once the final block is decoded and
    /// the trailer verified, and `consumed` then stops right after the trailer.
    fn step(&mut self, input: &[u8], output: &mut [u8]) -> Result<Step>;
    /// The engine, for reports.
    fn engine(&self) -> Engine;
}

/// What a hardware engine (e.g. a HiSilicon ZIP device behind uadk-core queues) implements.
///
/// ```
/// use uadk_zip::{DeviceEngine, Direction, Format, RawCompress, RawDecompress, Result};
/// struct NoQueues;
/// impl DeviceEngine for NoQueues {
///     fn name(&self) -> String { "none".into() }
///     fn offers(&self, _: Format, _: Direction) -> bool { false }
///     fn queues(&self) -> usize { 0 }
///     fn compressor(&self, _level: u32) -> Result<Box<dyn RawCompress>> {
///         Err(uadk_zip::Error::Device("no queue".into()))
///     }
///     fn decompressor(&self, _format: Format) -> Result<Box<dyn RawDecompress>> {
///         Err(uadk_zip::Error::Device("no queue".into()))
///     }
/// }
/// assert!(!NoQueues.offers(Format::Gzip, Direction::Compress));
/// ```
pub trait DeviceEngine: Send + Sync {
    /// Name shown in reports (e.g. `hisi_zip-0`).
    fn name(&self) -> String;
    /// Whether the device offers `format` in `direction` (v2 silicon: zlib/gzip only).
    fn offers(&self, format: Format, direction: Direction) -> bool;
    /// Number of hardware queues (parallel compression spreads blocks over them).
    fn queues(&self) -> usize;
    /// A raw-deflate compressor on one queue.
    fn compressor(&self, level: u32) -> Result<Box<dyn RawCompress>>;
    /// A decompressor on one queue for the body and trailer of a `format` stream (the
    /// front-end has already consumed the header).
    fn decompressor(&self, format: Format) -> Result<Box<dyn RawDecompress>>;
    /// Whether the engine runs streams ([`crate::Compressor`] / [`crate::Decompressor`] with
    /// flushes and partial input). When false, only one-shot requests go to the device and
    /// sessions stream in software (`Backend::Device` streams are refused).
    fn streams(&self) -> bool {
        true
    }
    /// The concrete engine, for front-end paths that drive a known device type directly
    /// (asynchronous batches, parallel blocks over device queues). `None` by default.
    ///
    /// ```
    /// # use uadk_zip::{DeviceEngine, Direction, Format, RawCompress, RawDecompress, Result};
    /// # struct Nothing;
    /// # impl DeviceEngine for Nothing {
    /// #     fn name(&self) -> String { "nothing".into() }
    /// #     fn offers(&self, _: Format, _: Direction) -> bool { false }
    /// #     fn queues(&self) -> usize { 0 }
    /// #     fn compressor(&self, _: u32) -> Result<Box<dyn RawCompress>> { unreachable!() }
    /// #     fn decompressor(&self, _: Format) -> Result<Box<dyn RawDecompress>> { unreachable!() }
    /// # }
    /// assert!(Nothing.as_any().is_none());
    /// ```
    fn as_any(&self) -> Option<&dyn std::any::Any> {
        None
    }
    /// [`compressor`](Self::compressor) with the session's buffer placement; engines that
    /// do not place buffers ignore it.
    ///
    /// ```
    /// # use uadk_zip::{DeviceEngine, Direction, Format, RawCompress, RawDecompress, Result};
    /// # struct Nothing;
    /// # impl DeviceEngine for Nothing {
    /// #     fn name(&self) -> String { "nothing".into() }
    /// #     fn offers(&self, _: Format, _: Direction) -> bool { false }
    /// #     fn queues(&self) -> usize { 0 }
    /// #     fn compressor(&self, _: u32) -> Result<Box<dyn RawCompress>> { Err(uadk_zip::Error::Device("none".into())) }
    /// #     fn decompressor(&self, _: Format) -> Result<Box<dyn RawDecompress>> { unreachable!() }
    /// # }
    /// assert!(Nothing.compressor_for(6, &Default::default()).is_err());
    /// ```
    fn compressor_for(&self, level: u32, dma: &DmaSetup) -> Result<Box<dyn RawCompress>> {
        let _ = dma;
        self.compressor(level)
    }
    /// [`decompressor`](Self::decompressor) with the session's buffer placement.
    ///
    /// ```
    /// # use uadk_zip::{DeviceEngine, Direction, Format, RawCompress, RawDecompress, Result};
    /// # struct Nothing;
    /// # impl DeviceEngine for Nothing {
    /// #     fn name(&self) -> String { "nothing".into() }
    /// #     fn offers(&self, _: Format, _: Direction) -> bool { false }
    /// #     fn queues(&self) -> usize { 0 }
    /// #     fn compressor(&self, _: u32) -> Result<Box<dyn RawCompress>> { unreachable!() }
    /// #     fn decompressor(&self, _: Format) -> Result<Box<dyn RawDecompress>> { Err(uadk_zip::Error::Device("none".into())) }
    /// # }
    /// assert!(Nothing.decompressor_for(Format::Gzip, &Default::default()).is_err());
    /// ```
    fn decompressor_for(&self, format: Format, dma: &DmaSetup) -> Result<Box<dyn RawDecompress>> {
        let _ = dma;
        self.decompressor(format)
    }
}

static DEVICES: RwLock<Vec<Arc<dyn DeviceEngine>>> = RwLock::new(Vec::new());

/// Makes a device engine available to sessions created afterwards.
///
/// ```
/// // uadk_zip::device::register calls this once per probed ZIP device.
/// assert!(uadk_zip::devices().is_empty());
/// ```
pub fn register_device(engine: Arc<dyn DeviceEngine>) {
    DEVICES.write().push(engine);
}

/// Removes a registered engine (by identity); true if it was registered.
///
/// ```
/// # use std::sync::Arc;
/// # use uadk_zip::{DeviceEngine, Direction, Format, RawCompress, RawDecompress, Result};
/// # struct Nothing;
/// # impl DeviceEngine for Nothing {
/// #     fn name(&self) -> String { "nothing".into() }
/// #     fn offers(&self, _: Format, _: Direction) -> bool { false }
/// #     fn queues(&self) -> usize { 0 }
/// #     fn compressor(&self, _: u32) -> Result<Box<dyn RawCompress>> { unreachable!() }
/// #     fn decompressor(&self, _: Format) -> Result<Box<dyn RawDecompress>> { unreachable!() }
/// # }
/// let e: Arc<dyn DeviceEngine> = Arc::new(Nothing);
/// uadk_zip::register_device(e.clone());
/// assert!(uadk_zip::unregister_device(&e));
/// assert!(!uadk_zip::unregister_device(&e));
/// ```
pub fn unregister_device(engine: &Arc<dyn DeviceEngine>) -> bool {
    let mut all = DEVICES.write();
    let before = all.len();
    all.retain(|d| !Arc::ptr_eq(d, engine));
    all.len() != before
}

/// The registered device engines.
///
/// ```
/// println!("{} device engine(s)", uadk_zip::devices().len());
/// ```
pub fn devices() -> Vec<Arc<dyn DeviceEngine>> {
    DEVICES.read().clone()
}

/// The outcome of resolving a [`Backend`] for one format and direction.
#[derive(Clone)]
pub(crate) struct Resolved {
    pub device: Option<Arc<dyn DeviceEngine>>,
    pub reason: String,
    /// `Backend::Device` was asked for and no device offers this direction.
    pub missing: bool,
    pub format: Format,
}

impl Resolved {
    /// Fails with [`Error::NoDevice`] when the device requested for this direction is absent.
    pub(crate) fn usable(&self) -> Result<()> {
        if self.missing {
            return Err(Error::NoDevice {
                format: self.format,
                reason: self.reason.clone(),
            });
        }
        Ok(())
    }
}

pub(crate) fn resolve(backend: Backend, format: Format, dir: Direction) -> Resolved {
    let r = |device, reason: String, missing| Resolved {
        device,
        reason,
        missing,
        format,
    };
    if backend == Backend::Software {
        return r(None, "software backend requested".into(), false);
    }
    crate::device::auto_register();
    let all = devices();
    let found = all.iter().find(|d| d.offers(format, dir)).cloned();
    match (found, backend) {
        (Some(d), _) => {
            let why = format!("device {} offers {format} {dir}", d.name());
            r(Some(d), why, false)
        }
        (None, Backend::Device) => {
            let why = if all.is_empty() {
                "no device backend is available (discovery found no uacce ZIP device under UADK_SYSFS_ROOT/UADK_DEV_ROOT or /sys, /dev, and none was registered)".into()
            } else {
                format!("none of {} registered device(s) offers {format} {dir}", all.len())
            };
            r(None, why, true)
        }
        (None, _) => r(None, format!("auto: no device offers {format} {dir}"), false),
    }
}
