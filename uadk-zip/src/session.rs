//! A session: one configuration (format, level, backend, limits) with its resolved engines
//! and request counters. Cheap to clone and share between threads.

use crate::backend::{
    resolve, Backend, CounterSnapshot, Counters, Direction, DmaPolicy, DmaSetup, Report, Resolved,
};
use crate::error::{Error, Result};
use crate::format::{Format, GzipHeader};
use crate::software::{self, Library, Mode};
use crate::stream::{Compressor, Decompressor};
use std::sync::Arc;

/// Settings of a [`Session`].
///
/// ```
/// use uadk_zip::{Backend, Config, Format};
/// let cfg = Config { format: Format::Zlib, level: 1, backend: Backend::Software, ..Config::default() };
/// assert_eq!(cfg.threads >= 1, true);
/// ```
#[derive(Clone, Debug)]
pub struct Config {
    /// Container format (default gzip).
    pub format: Format,
    /// Compression level 0..=9 (default 6).
    pub level: u32,
    /// Which kind of engine may run requests (default `Auto`).
    pub backend: Backend,
    /// gzip header fields written on compression (name, mtime, comment).
    pub gzip_header: GzipHeader,
    /// Most bytes one decompression may produce (guard against bombs; default 4 GiB).
    pub max_output: u64,
    /// Threads for parallel one-shot compression (default: available cores): ISA-L blocks at
    /// levels 1..=3, libdeflate blocks at 4..=9 (see [`crate::software::choose_parallel`]),
    /// device queues when a device runs the request.
    pub threads: usize,
    /// One-shot inputs at least this large are compressed in parallel blocks (default 1 MiB).
    pub parallel_threshold: usize,
    /// Redo a failed device request in software (default true).
    pub fallback: bool,
    /// Force one software library instead of the measured choice (for measurements).
    pub library: Option<Library>,
    /// How caller buffers reach a device (default [`DmaPolicy::Bounce`]: pool buffers go
    /// as they are, others through a pinned staging chunk).
    pub dma: DmaPolicy,
    /// A buffer pool whose chunks are sent to a device without a copy (zero copy).
    pub pool: Option<Arc<uadk_pool::Pool>>,
    /// Write a block index ([`crate::index`]) into streams made of parallel blocks, so that
    /// they decompress in parallel again (default true; readers without index support see
    /// a plain stream).
    pub index: bool,
    /// Make the streaming compressor ([`Compressor`], [`crate::Encoder`]) record its
    /// full-flush points and write them as a block index at the end of the stream
    /// (default false).
    pub stream_index: bool,
    /// Decode large gzip inputs without a block index (≥ 8 MiB, one member) on
    /// [`threads`](Config::threads) threads by finding block starts in the data
    /// (rapidgzip style, see the crate README); checked by the member's CRC-32 and ISIZE,
    /// sequential when anything does not fit. Default false: on 2 cores it measured
    /// 0.4–1.3x of one thread (README), so it is for machines with cores to spare.
    pub foreign_parallel: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            format: Format::Gzip,
            level: 6,
            backend: Backend::Auto,
            gzip_header: GzipHeader::default(),
            max_output: 4 << 30,
            threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
            parallel_threshold: 1 << 20,
            fallback: true,
            library: None,
            dma: DmaPolicy::default(),
            pool: None,
            index: true,
            stream_index: false,
            foreign_parallel: false,
        }
    }
}

pub(crate) struct Inner {
    pub cfg: Config,
    pub counters: Arc<Counters>,
    pub comp: Resolved,
    pub decomp: Resolved,
}

impl Inner {
    /// Buffer placement for device engines of this session.
    pub(crate) fn dma(&self) -> DmaSetup {
        DmaSetup {
            policy: self.cfg.dma,
            pool: self.cfg.pool.clone(),
            counters: Some(self.counters.clone()),
        }
    }
}

/// A compression session: configuration, resolved backend, counters.
///
/// ```
/// use uadk_zip::{Config, Format, Session};
/// let s = Session::new(Config { format: Format::Zlib, ..Config::default() }).unwrap();
/// let z = s.compress(b"some data").unwrap();
/// assert_eq!(s.decompress(&z).unwrap(), b"some data");
/// ```
#[derive(Clone)]
pub struct Session {
    pub(crate) inner: Arc<Inner>,
}

impl Session {
    /// Validates `cfg` and resolves the backend for both directions.
    ///
    /// With `Backend::Device` and no device offering the format in either direction this
    /// fails with [`Error::NoDevice`]; if only one direction is offered, requests in the
    /// other fail with that error.
    ///
    /// ```
    /// use uadk_zip::{Backend, Config, Error, Session};
    /// let err = Session::new(Config { backend: Backend::Device, ..Config::default() }).err().unwrap();
    /// assert!(matches!(err, Error::NoDevice { .. }));
    /// ```
    pub fn new(cfg: Config) -> Result<Self> {
        if cfg.level > 9 {
            return Err(Error::InvalidLevel(cfg.level));
        }
        if cfg.threads == 0 {
            return Err(Error::InvalidArgument("threads must be at least 1".into()));
        }
        if let Some(lib) = cfg.library {
            lib.check_available()?;
            if lib == Library::Zlib {
                return Err(Error::InvalidArgument(
                    "the system zlib is a peer only; call Library::Zlib.compress/decompress".into(),
                ));
            }
        }
        let comp = resolve(cfg.backend, cfg.format, Direction::Compress);
        let decomp = resolve(cfg.backend, cfg.format, Direction::Decompress);
        if comp.missing && decomp.missing {
            comp.usable()?;
        }
        Ok(Session {
            inner: Arc::new(Inner {
                cfg,
                counters: Arc::new(Counters::default()),
                comp,
                decomp,
            }),
        })
    }

    /// The configuration.
    ///
    /// ```
    /// let s = uadk_zip::Session::new(Default::default()).unwrap();
    /// assert_eq!(s.config().level, 6);
    /// ```
    pub fn config(&self) -> &Config {
        &self.inner.cfg
    }

    /// A copy of this session's counters.
    ///
    /// ```
    /// let s = uadk_zip::Session::new(Default::default()).unwrap();
    /// assert_eq!(s.counters().software_requests, 0);
    /// ```
    pub fn counters(&self) -> CounterSnapshot {
        self.inner.counters.snapshot()
    }

    /// Why requests in `direction` go where they go (e.g. "auto: no device offers gzip
    /// compress").
    ///
    /// ```
    /// use uadk_zip::{Direction, Session};
    /// let s = Session::new(Default::default()).unwrap();
    /// assert!(s.backend_reason(Direction::Decompress).contains("no device"));
    /// ```
    pub fn backend_reason(&self, direction: Direction) -> &str {
        match direction {
            Direction::Compress => &self.inner.comp.reason,
            Direction::Decompress => &self.inner.decomp.reason,
        }
    }

    /// Compresses `input` into a new buffer.
    ///
    /// ```
    /// let s = uadk_zip::Session::new(Default::default()).unwrap();
    /// assert_eq!(&s.compress(b"x").unwrap()[..2], &[0x1f, 0x8b]);
    /// ```
    pub fn compress(&self, input: &[u8]) -> Result<Vec<u8>> {
        self.compress_report(input).map(|(v, _)| v)
    }

    /// Compresses `input` and says which engine ran and why.
    ///
    /// ```
    /// let s = uadk_zip::Session::new(Default::default()).unwrap();
    /// let (_, r) = s.compress_report(&vec![0u8; 100]).unwrap();
    /// assert_eq!(r.uncompressed, 100);
    /// ```
    pub fn compress_report(&self, input: &[u8]) -> Result<(Vec<u8>, Report)> {
        let r = crate::oneshot::compress(&self.inner, input);
        self.count(&r);
        r
    }

    /// Compresses `input` into `out`, returning the compressed length; when `out` is too
    /// small, [`Error::OutputTooSmall`] carries the exact size needed.
    ///
    /// ```
    /// use uadk_zip::{Error, Session};
    /// let s = Session::new(Default::default()).unwrap();
    /// let mut small = [0u8; 4];
    /// match s.compress_into(b"hello hello", &mut small) {
    ///     Err(Error::OutputTooSmall { needed: Some(n), .. }) => assert!(n > 4),
    ///     other => panic!("{other:?}"),
    /// }
    /// ```
    pub fn compress_into(&self, input: &[u8], out: &mut [u8]) -> Result<usize> {
        let v = self.compress(input)?;
        if v.len() > out.len() {
            return Err(Error::OutputTooSmall {
                needed: Some(v.len()),
                available: out.len(),
            });
        }
        out[..v.len()].copy_from_slice(&v);
        Ok(v.len())
    }

    /// Decompresses a whole stream (all gzip members) into a new buffer.
    ///
    /// ```
    /// let s = uadk_zip::Session::new(Default::default()).unwrap();
    /// let z = s.compress(b"round trip").unwrap();
    /// assert_eq!(s.decompress(&z).unwrap(), b"round trip");
    /// ```
    pub fn decompress(&self, input: &[u8]) -> Result<Vec<u8>> {
        self.decompress_report(input).map(|(v, _)| v)
    }

    /// Decompresses and says which engine ran and why.
    ///
    /// ```
    /// let s = uadk_zip::Session::new(Default::default()).unwrap();
    /// let z = s.compress(b"abc").unwrap();
    /// let (_, r) = s.decompress_report(&z).unwrap();
    /// assert_eq!(r.compressed, z.len() as u64);
    /// ```
    pub fn decompress_report(&self, input: &[u8]) -> Result<(Vec<u8>, Report)> {
        let r = crate::oneshot::decompress(&self.inner, input);
        self.count(&r);
        r
    }

    /// Decompresses into `out`, returning the length; when `out` is too small,
    /// [`Error::OutputTooSmall`] carries the exact size needed (counted within the limit).
    ///
    /// ```
    /// use uadk_zip::{Error, Session};
    /// let s = Session::new(Default::default()).unwrap();
    /// let z = s.compress(&[9u8; 1000]).unwrap();
    /// let mut buf = vec![0u8; 10];
    /// assert!(matches!(s.decompress_into(&z, &mut buf),
    ///     Err(Error::OutputTooSmall { needed: Some(1000), .. })));
    /// ```
    pub fn decompress_into(&self, input: &[u8], out: &mut [u8]) -> Result<usize> {
        let r = crate::oneshot::decompress_into(&self.inner, input, out);
        match &r {
            Ok((_, rep)) => self.inner.counters.record(rep),
            Err(_) => self.inner.counters.error(),
        }
        r.map(|(n, _)| n)
    }

    /// A streaming compressor with this session's settings.
    ///
    /// ```
    /// use uadk_zip::{Flush, Session};
    /// let s = Session::new(Default::default()).unwrap();
    /// let mut c = s.compressor().unwrap();
    /// let mut out = Vec::new();
    /// c.compress_vec(b"stream", &mut out, Flush::Finish).unwrap();
    /// assert_eq!(s.decompress(&out).unwrap(), b"stream");
    /// ```
    pub fn compressor(&self) -> Result<Compressor> {
        self.inner.comp.usable()?;
        let cfg = &self.inner.cfg;
        let why = match cfg.library {
            Some(_) => "library forced by the configuration",
            None => software::choose(Direction::Compress, cfg.level, Mode::Stream).1,
        };
        let mut reason = self.inner.comp.reason.clone();
        if let Some(dev) = self.inner.comp.device.as_ref().filter(|d| !d.streams()) {
            reason = no_streams(dev.name(), cfg.backend, cfg.format)?;
        } else if let Some(dev) = &self.inner.comp.device {
            match dev.compressor_for(cfg.level, &self.inner.dma()) {
                Ok(raw) => {
                    return Compressor::new(
                        raw,
                        cfg.format,
                        cfg.level,
                        cfg.gzip_header.clone(),
                        self.inner.comp.reason.clone(),
                        cfg.fallback,
                        Some(self.inner.counters.clone()),
                    )
                }
                Err(e) if !cfg.fallback => return Err(Error::Device(e.to_string())),
                Err(e) => log::warn!("device stream unavailable ({e}); using software"),
            }
        }
        let raw = match cfg.library {
            Some(l) => software::raw_compressor(l, cfg.level)?,
            None => software::chosen_compressor(cfg.level)?.0,
        };
        let c = Compressor::new(
            raw,
            cfg.format,
            cfg.level,
            cfg.gzip_header.clone(),
            format!("{reason}; {why}"),
            cfg.fallback,
            Some(self.inner.counters.clone()),
        )?;
        Ok(if cfg.stream_index { c.with_block_index() } else { c })
    }

    /// A streaming decompressor with this session's format and output limit.
    ///
    /// ```
    /// let s = uadk_zip::Session::new(Default::default()).unwrap();
    /// let d = s.decompressor().unwrap();
    /// assert_eq!(d.total_out(), 0);
    /// ```
    pub fn decompressor(&self) -> Result<Decompressor> {
        self.inner.decomp.usable()?;
        let cfg = &self.inner.cfg;
        let (lib, why) = match cfg.library {
            Some(Library::Libdeflate) | None => software::choose(Direction::Decompress, 0, Mode::Stream),
            Some(l) => (l, "library forced by the configuration"),
        };
        let mut reason = self.inner.decomp.reason.clone();
        let mut device = self.inner.decomp.device.as_ref();
        if let Some(dev) = device.filter(|d| !d.streams()) {
            reason = no_streams(dev.name(), cfg.backend, cfg.format)?;
            device = None;
        }
        let d = Decompressor::new(
            cfg.format,
            lib,
            cfg.max_output,
            format!("{reason}; {why}"),
            Some(self.inner.counters.clone()),
        );
        // A Decoder decodes members with a block index on every thread (software only).
        let d = match (&device, cfg.library) {
            (None, None) => d.with_threads(cfg.threads),
            _ => d,
        };
        Ok(match device {
            Some(dev) => d
                .with_device(dev.clone(), cfg.fallback)
                .with_dma(self.inner.dma()),
            None => d,
        })
    }

    fn count<T>(&self, r: &Result<(T, Report)>) {
        match r {
            Ok((_, rep)) => self.inner.counters.record(rep),
            Err(_) => self.inner.counters.error(),
        }
    }
}

/// A device that takes one-shot requests only: the reason a stream runs in software, or an
/// error when only a device may run it.
fn no_streams(name: String, backend: Backend, format: Format) -> Result<String> {
    let why =
        format!("device {name} takes one-shot requests only: streaming on the device is not implemented");
    if backend == Backend::Device {
        return Err(Error::NoDevice { format, reason: why });
    }
    Ok(format!("auto: {why}"))
}
