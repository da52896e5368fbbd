//! [`ZipDevice`]: the [`DeviceEngine`] of one HiSilicon ZIP device behind uadk-core queues.
//!
//! Streams run as stateful device streams ([`super::stream`]); a stream that fits one request
//! goes as one stateless SQE (compression: when finished within it; decompression: when its
//! first input decodes to the end). The shared queues — one per direction (`qc_type` 0 compress,
//! 1 decompress) — are opened lazily and belong to the opening process: after a `fork` the
//! child opens its own. Batches and parallel blocks open their own queues
//! ([`ZipDevice::async_queue`]).

use super::dma::{self, AsyncQueue, DmaOut};
use super::sqe::{self, Completion, SqeType, Status, MAX_SIZE, MIN_OUT};
use super::stream::{DevStreamCompress, DevStreamDecompress};
use crate::backend::{DeviceEngine, Direction, DmaSetup, RawCompress, RawDecompress};
use crate::error::{Error, Result};
use crate::format::Format;
use parking_lot::Mutex;
use std::sync::Arc;
use uadk_core::discovery::Device;
use uadk_core::qm::{QueueOptions, QueuePair};

/// Queues of one process.
struct Queues {
    pid: u32,
    comp: Option<Arc<QueuePair>>,
    decomp: Option<Arc<QueuePair>>,
    /// Idle compress queues for parallel blocks, kept between calls.
    blocks: Vec<AsyncQueue>,
}

/// One ZIP device (e.g. `hisi_zip-0`) as a [`DeviceEngine`].
pub struct ZipDevice {
    dev: Device,
    sqe: SqeType,
    queues: Mutex<Queues>,
}

impl std::fmt::Debug for ZipDevice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ZipDevice")
            .field("name", &self.dev.name)
            .field("api", &self.dev.api)
            .finish()
    }
}

impl ZipDevice {
    /// An engine for `dev` (no queue is opened until the first request).
    pub fn new(dev: Device) -> ZipDevice {
        ZipDevice {
            sqe: SqeType::for_version(dev.qm_version),
            dev,
            queues: Mutex::new(Queues {
                pid: std::process::id(),
                comp: None,
                decomp: None,
                blocks: Vec::new(),
            }),
        }
    }

    /// The device as discovery described it.
    pub fn device(&self) -> &Device {
        &self.dev
    }

    /// The queue for `dir` of the calling process, opened on first use.
    fn queue(&self, dir: Direction) -> Result<Arc<QueuePair>> {
        let mut q = self.queues.lock();
        let pid = std::process::id();
        if q.pid != pid {
            // Forked: the parent's queues fail in this process; open new ones.
            // (The parent's block queues are forgotten, not dropped: their buffers and
            // mappings belong to the parent's requests.)
            std::mem::forget(std::mem::take(&mut q.blocks));
            *q = Queues {
                pid,
                comp: None,
                decomp: None,
                blocks: Vec::new(),
            };
        }
        let slot = match dir {
            Direction::Compress => &mut q.comp,
            Direction::Decompress => &mut q.decomp,
        };
        if let Some(qp) = slot.as_ref().filter(|q| !q.is_stopped()) {
            return Ok(qp.clone());
        }
        // None yet, or stopped (timeout, reset): open a fresh one.
        let qp = QueuePair::open(
            &self.dev,
            QueueOptions {
                qc_type: match dir {
                    Direction::Compress => 0,
                    Direction::Decompress => 1,
                },
                tag: self.sqe.tag(),
                ..Default::default()
            },
        )
        .map_err(|e| Error::Device(format!("{}: cannot open a {dir} queue: {e}", self.dev.name)))?;
        let qp = Arc::new(qp);
        *slot = Some(qp.clone());
        Ok(qp)
    }

    /// A new queue of direction `dir` for asynchronous requests (batches, parallel blocks),
    /// owned by the caller.
    pub(crate) fn async_queue(&self, dir: Direction) -> Result<AsyncQueue> {
        let qc = match dir {
            Direction::Compress => 0,
            Direction::Decompress => 1,
        };
        AsyncQueue::open(&self.dev, qc, self.sqe.tag())
    }

    /// Takes `n` idle compress queues for parallel blocks (opening what is missing); give
    /// them back with [`put_block_queues`](Self::put_block_queues).
    pub(crate) fn take_block_queues(&self, n: usize) -> Vec<AsyncQueue> {
        let mut v = {
            let mut q = self.queues.lock();
            if q.pid != std::process::id() {
                std::mem::forget(std::mem::take(&mut q.blocks));
                q.pid = std::process::id();
                q.comp = None;
                q.decomp = None;
            }
            let k = q.blocks.len().saturating_sub(n);
            q.blocks.split_off(k)
        };
        while v.len() < n {
            match self.async_queue(Direction::Compress) {
                Ok(a) => v.push(a),
                Err(e) => {
                    log::warn!("parallel blocks: {e}");
                    break;
                }
            }
        }
        v
    }

    /// Returns idle block queues (a queue with requests still in flight is dropped instead).
    pub(crate) fn put_block_queues(&self, qs: Vec<AsyncQueue>) {
        let mut q = self.queues.lock();
        if q.pid == std::process::id() {
            q.blocks
                .extend(qs.into_iter().filter(|a| a.in_flight() == 0 && a.healthy()));
        }
    }

    /// The SQE format of this device (type 0 on QM v2, type 3 on v3).
    ///
    /// ```
    /// use uadk_zip::device::sqe::SqeType;
    /// assert_eq!(SqeType::for_version(Some(2)), SqeType::V2); // what sqe_type() reports on v2
    /// ```
    pub fn sqe_type(&self) -> SqeType {
        self.sqe
    }

    pub(crate) fn request(&self, dir: Direction, dma: &DmaSetup) -> Result<Request> {
        Ok(Request {
            queue: self.queue(dir)?,
            sqe: self.sqe,
            name: self.dev.name.clone(),
            dma: dma.clone(),
        })
    }
}

impl DeviceEngine for ZipDevice {
    fn name(&self) -> String {
        self.dev.name.clone()
    }

    fn offers(&self, format: Format, _direction: Direction) -> bool {
        match format {
            // v3: the raw-deflate request type. v2 has none: zlib mode serves raw deflate
            // (compress: the adler32 trailer is dropped; decompress: the trailer the device
            // checks is synthesised from the output, see `stream::DevStreamDecompress`).
            Format::Deflate if self.sqe == SqeType::V3 => self.dev.supports("deflate"),
            Format::Deflate => self.dev.supports("zlib"),
            Format::Zlib => self.dev.supports("zlib"),
            Format::Gzip => self.dev.supports("gzip"),
        }
    }

    fn queues(&self) -> usize {
        2
    }

    fn compressor(&self, level: u32) -> Result<Box<dyn RawCompress>> {
        self.compressor_for(level, &DmaSetup::default())
    }

    fn compressor_for(&self, _level: u32, dma: &DmaSetup) -> Result<Box<dyn RawCompress>> {
        Ok(Box::new(DevStreamCompress::new(
            self.request(Direction::Compress, dma)?,
        )))
    }

    fn decompressor(&self, format: Format) -> Result<Box<dyn RawDecompress>> {
        self.decompressor_for(format, &DmaSetup::default())
    }

    fn decompressor_for(&self, format: Format, dma: &DmaSetup) -> Result<Box<dyn RawDecompress>> {
        if !self.offers(format, Direction::Decompress) {
            return Err(Error::Device(format!(
                "{} ({}) does not offer {format}",
                self.dev.name, self.dev.api
            )));
        }
        Ok(Box::new(DevStreamDecompress::new(
            self.request(Direction::Decompress, dma)?,
            req_type_for(format, self.sqe),
            format == Format::Deflate && self.sqe == SqeType::V2,
        )))
    }

    fn as_any(&self) -> Option<&dyn std::any::Any> {
        Some(self)
    }
}

/// The request type for `format` on a device with SQE type `t`, and the trailer bytes the
/// device adds that are not part of that format (v2 raw deflate runs as zlib: 4).
pub(crate) fn req_type_for(format: Format, t: SqeType) -> u8 {
    match (format, t) {
        (Format::Deflate, SqeType::V2) => sqe::HW_ZLIB,
        (f, _) => req_type(f),
    }
}

/// Bytes of device trailer beyond `format`'s own (v2 raw deflate as zlib: the adler32).
pub(crate) fn extra_trailer(format: Format, t: SqeType) -> usize {
    match (format, t) {
        (Format::Deflate, SqeType::V2) => 4,
        _ => 0,
    }
}

pub(crate) fn req_type(format: Format) -> u8 {
    match format {
        Format::Deflate => sqe::HW_DEFLATE,
        Format::Zlib => sqe::HW_ZLIB,
        Format::Gzip => sqe::HW_GZIP,
    }
}

/// One queue and how to address it.
pub(crate) struct Request {
    pub queue: Arc<QueuePair>,
    pub sqe: SqeType,
    pub name: String,
    pub dma: DmaSetup,
}

impl Request {
    /// Runs one stateless request from `src` into a new buffer of `cap` bytes.
    /// `own` marks the engine's own copy of the input (not placed again).
    pub(crate) fn run(
        &self,
        req_type: u8,
        src: &[u8],
        own: bool,
        cap: usize,
    ) -> Result<(Completion, Vec<u8>)> {
        debug_assert!(src.len() <= MAX_SIZE && (MIN_OUT..=MAX_SIZE).contains(&cap));
        let staged = super::staging::stage(&self.dma, src, own)?;
        let src = staged.bytes();
        let mut out = super::staging::out_buf(&self.dma, cap);
        let t = self.sqe;
        let in_len = src.len() as u32;
        let done = dma::sync(&self.queue, src, &mut out, cap, None, |a| {
            sqe::build(t, req_type, a.src, in_len, a.dst, cap as u32)
        })
        .map_err(|e| Error::Device(format!("{}: queue: {e}", self.name)))?;
        let c = sqe::decode(&done);
        if c.produced as usize > cap || c.consumed as usize > src.len() {
            return Err(Error::Device(format!(
                "{}: completion reports {} in / {} out for a {}-byte input and {cap}-byte output",
                self.name,
                c.consumed,
                c.produced,
                src.len()
            )));
        }
        let out = out.bytes_mut()[..c.produced as usize].to_vec();
        Ok((c, out))
    }

    pub(crate) fn failed(&self, dir: Direction, st: Status) -> Error {
        Error::Device(format!("{}: {dir}: {}", self.name, st.describe()))
    }
}
