//! [`ZipDevice`]: the [`DeviceEngine`] of one HiSilicon ZIP device behind uadk-core queues.
//!
//! Stateless requests only (one whole stream per SQE, ≤ 8 MiB in and out). Queues — one per
//! direction (`qc_type` 0 compress, 1 decompress) — are opened lazily and belong to the
//! opening process: after a `fork` the child opens its own.

use super::sqe::{self, Completion, SqeType, Status, MAX_SIZE, MIN_OUT};
use crate::backend::{DeviceEngine, Direction, Engine, RawCompress, RawDecompress, Step};
use crate::error::{Error, Result};
use crate::format::Format;
use crate::stream::Flush;
use parking_lot::Mutex;
use std::sync::Arc;
use uadk_core::discovery::Device;
use uadk_core::qm::{QueueOptions, QueuePair};
use uadk_core::request::WaitPolicy;

/// The empty raw-deflate stream (a final fixed-Huffman block with only end-of-block): the
/// device takes no zero-length stateless input, so the driver writes this itself.
const EMPTY_DEFLATE: [u8; 2] = [0x03, 0x00];

/// Queues of one process.
struct Queues {
    pid: u32,
    comp: Option<Arc<QueuePair>>,
    decomp: Option<Arc<QueuePair>>,
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
            *q = Queues {
                pid,
                comp: None,
                decomp: None,
            };
        }
        let slot = match dir {
            Direction::Compress => &mut q.comp,
            Direction::Decompress => &mut q.decomp,
        };
        if let Some(qp) = slot {
            return Ok(qp.clone());
        }
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

    fn request(&self, dir: Direction) -> Result<Request> {
        Ok(Request {
            queue: self.queue(dir)?,
            sqe: self.sqe,
            name: self.dev.name.clone(),
        })
    }
}

impl DeviceEngine for ZipDevice {
    fn name(&self) -> String {
        self.dev.name.clone()
    }

    fn offers(&self, format: Format, _direction: Direction) -> bool {
        match format {
            Format::Deflate => self.sqe == SqeType::V3 && self.dev.supports("deflate"),
            Format::Zlib => self.dev.supports("zlib"),
            Format::Gzip => self.dev.supports("gzip"),
        }
    }

    fn queues(&self) -> usize {
        2
    }

    fn compressor(&self, _level: u32) -> Result<Box<dyn RawCompress>> {
        Ok(Box::new(DevCompress {
            req: self.request(Direction::Compress)?,
            buffered: Vec::new(),
            pending: Vec::new(),
            pos: 0,
            finished: false,
        }))
    }

    fn decompressor(&self, format: Format) -> Result<Box<dyn RawDecompress>> {
        if !self.offers(format, Direction::Decompress) {
            return Err(Error::Device(format!(
                "{} ({}) does not offer {format}",
                self.dev.name, self.dev.api
            )));
        }
        Ok(Box::new(DevDecompress {
            req: self.request(Direction::Decompress)?,
            req_type: req_type(format),
            pending: Vec::new(),
            pos: 0,
            finished: false,
        }))
    }

    fn streams(&self) -> bool {
        false
    }
}

fn req_type(format: Format) -> u8 {
    match format {
        Format::Deflate => sqe::HW_DEFLATE,
        Format::Zlib => sqe::HW_ZLIB,
        Format::Gzip => sqe::HW_GZIP,
    }
}

/// One queue and how to address it.
struct Request {
    queue: Arc<QueuePair>,
    sqe: SqeType,
    name: String,
}

impl Request {
    /// Runs one stateless request from `src` into a new buffer of `cap` bytes.
    fn run(&self, req_type: u8, src: &[u8], cap: usize) -> Result<(Completion, Vec<u8>)> {
        debug_assert!(src.len() <= MAX_SIZE && (MIN_OUT..=MAX_SIZE).contains(&cap));
        let mut out = vec![0u8; cap];
        let s = sqe::build(
            self.sqe,
            req_type,
            src.as_ptr() as u64,
            src.len() as u32,
            out.as_mut_ptr() as u64,
            cap as u32,
        );
        // SAFETY: the device reads `src` (src.len() bytes) and writes at most `cap` bytes
        // of `out` by virtual address; both are borrowed/owned here and outlive this
        // synchronous request, which has completed (or failed) when submit_sync returns.
        let done = unsafe { self.queue.submit_sync(&s, &WaitPolicy::default()) }
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
        out.truncate(c.produced as usize);
        Ok((c, out))
    }

    fn failed(&self, dir: Direction, st: Status) -> Error {
        Error::Device(format!("{}: {dir}: {}", self.name, st.describe()))
    }
}

fn over_limit(n: usize) -> Error {
    Error::Device(format!(
        "input over 8 MiB ({n} bytes; the device takes at most {MAX_SIZE} bytes per request)"
    ))
}

/// Copies pending output into `output`; returns the bytes copied.
fn drain(pending: &[u8], pos: &mut usize, output: &mut [u8]) -> usize {
    let n = (pending.len() - *pos).min(output.len());
    output[..n].copy_from_slice(&pending[*pos..*pos + n]);
    *pos += n;
    n
}

/// Whole-buffer compression: input is gathered until `Finish`, then one SQE.
struct DevCompress {
    req: Request,
    buffered: Vec<u8>,
    pending: Vec<u8>,
    pos: usize,
    finished: bool,
}

impl DevCompress {
    fn run(&self, data: &[u8]) -> Result<Vec<u8>> {
        if data.is_empty() {
            return Ok(EMPTY_DEFLATE.to_vec());
        }
        if data.len() > MAX_SIZE {
            return Err(over_limit(data.len()));
        }
        // v3 writes raw deflate; v2 only zlib/gzip: ask for zlib and drop the adler32.
        let (req_type, trailer) = match self.req.sqe {
            SqeType::V3 => (sqe::HW_DEFLATE, 0),
            SqeType::V2 => (sqe::HW_ZLIB, 4),
        };
        let cap = (data.len() + data.len() / 8 + 1024).clamp(MIN_OUT, MAX_SIZE);
        let (c, mut out) = self.req.run(req_type, data, cap)?;
        match c.status {
            Status::Ok | Status::NegativeCompression if out.len() >= trailer + 2 => {
                out.truncate(out.len() - trailer);
                Ok(out)
            }
            Status::Ok | Status::NegativeCompression => Err(Error::Device(format!(
                "{}: compress: {} bytes produced, too short for a stream",
                self.req.name,
                out.len()
            ))),
            Status::OutputTooSmall => Err(Error::Device(format!(
                "{}: compress: output over {cap} bytes (incompressible input near the 8 MiB limit)",
                self.req.name
            ))),
            st => Err(self.req.failed(Direction::Compress, st)),
        }
    }
}

impl RawCompress for DevCompress {
    fn step(&mut self, input: &[u8], output: &mut [u8], flush: Flush) -> Result<Step> {
        if !self.finished {
            match flush {
                Flush::None => {
                    if self.buffered.len() + input.len() > MAX_SIZE {
                        return Err(over_limit(self.buffered.len() + input.len()));
                    }
                    self.buffered.extend_from_slice(input);
                    return Ok(Step {
                        consumed: input.len(),
                        produced: 0,
                        done: true,
                    });
                }
                Flush::Sync | Flush::Full => {
                    return Err(Error::Device(
                        "streaming on the device is not implemented (sync/full flush)".into(),
                    ))
                }
                Flush::Finish => {
                    self.pending = if self.buffered.is_empty() {
                        self.run(input)?
                    } else {
                        let mut all = std::mem::take(&mut self.buffered);
                        all.extend_from_slice(input);
                        self.run(&all)?
                    };
                    self.pos = 0;
                    self.finished = true;
                    let produced = drain(&self.pending, &mut self.pos, output);
                    return Ok(Step {
                        consumed: input.len(),
                        produced,
                        done: self.pos == self.pending.len(),
                    });
                }
            }
        }
        if flush != Flush::Finish || !input.is_empty() {
            return Err(Error::Finished);
        }
        let produced = drain(&self.pending, &mut self.pos, output);
        Ok(Step {
            consumed: 0,
            produced,
            done: self.pos == self.pending.len(),
        })
    }

    fn engine(&self) -> Engine {
        Engine::Device(self.req.name.clone())
    }
}

/// Whole-stream decompression: the body and trailer must be in the first call's input.
struct DevDecompress {
    req: Request,
    req_type: u8,
    pending: Vec<u8>,
    pos: usize,
    finished: bool,
}

impl RawDecompress for DevDecompress {
    fn step(&mut self, input: &[u8], output: &mut [u8]) -> Result<Step> {
        if !self.finished {
            if input.is_empty() {
                return Ok(Step::default());
            }
            let src = &input[..input.len().min(MAX_SIZE)];
            // Output size guess: 8× the input, or a gzip ISIZE at the end of the input
            // (exact for a single member); a too-small guess is retried larger.
            let isize = match input.len() {
                n if self.req_type == sqe::HW_GZIP && n >= 8 => {
                    u32::from_le_bytes([input[n - 4], input[n - 3], input[n - 2], input[n - 1]]) as usize
                }
                _ => 0,
            };
            let guess = src.len().saturating_mul(8).max(isize.saturating_add(256));
            let mut cap = guess.clamp(64 * 1024, MAX_SIZE);
            let (c, out) = loop {
                let (c, out) = self.req.run(self.req_type, src, cap)?;
                match c.status {
                    Status::DecompressEnd => break (c, out),
                    Status::Ok if c.last_block => break (c, out),
                    Status::OutputTooSmall if cap < MAX_SIZE => cap = (cap * 4).min(MAX_SIZE),
                    Status::OutputTooSmall => {
                        return Err(Error::Device(format!(
                            "{}: decompress: output over 8 MiB (the device's per-request limit)",
                            self.req.name
                        )))
                    }
                    Status::Failed(0x36) if input.len() > MAX_SIZE => return Err(over_limit(input.len())),
                    st => return Err(self.req.failed(Direction::Decompress, st)),
                }
            };
            self.pending = out;
            self.pos = 0;
            self.finished = true;
            let produced = drain(&self.pending, &mut self.pos, output);
            return Ok(Step {
                consumed: c.consumed as usize,
                produced,
                done: self.pos == self.pending.len(),
            });
        }
        let produced = drain(&self.pending, &mut self.pos, output);
        Ok(Step {
            consumed: 0,
            produced,
            done: self.pos == self.pending.len(),
        })
    }

    fn engine(&self) -> Engine {
        Engine::Device(self.req.name.clone())
    }
}
