//! The device side of [`crate::Batch`]: independent one-shot jobs as stateless SQEs, many in
//! flight per queue, spread over every ZIP device that offers the format (two queues per
//! device and direction, opened on first use), completed by polling from the submitting
//! thread (as UADK's `wd_comp_poll`).
//!
//! A job goes to the device when it fits one request (1 B..8 MiB of input; for
//! decompression a header the driver can skip and a body of at most 8 MiB). The device
//! writes the trailer itself (zlib adler32, gzip crc32 + isize), so a compress job's output
//! is the software header followed by exactly what the device wrote — no software checksum.
//! Everything else, and every job whose request fails, comes back as [`Outcome::Software`]
//! for the batch's worker threads: redone in software (counted as a fallback) or, when the
//! device answered "too small"/"more than one member", run through the session's own path.

use super::dma::{AsyncQueue, Bufs};
use super::engine::{extra_trailer, req_type_for};
use super::sqe::{self, Status, MAX_SIZE, MIN_OUT};
use super::ZipDevice;
use crate::backend::{Direction, Engine, Report};
use crate::batch::Completion;
use crate::error::{Error, Result};
use crate::format::{check_zlib_header, header, Format, GzipHeader};
use crate::session::Inner;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

/// Queues opened per device and direction.
pub const QUEUES_PER_DEVICE: usize = 2;

pub(crate) type Callback = Box<dyn FnOnce(Completion) + Send>;
type SqeResult = std::result::Result<uadk_core::qm::Sqe, uadk_core::Error>;

/// What became of a device job.
pub(crate) enum Outcome {
    /// Finished on the device (or failed without fallback).
    Done(Completion, Option<Callback>),
    /// To run on a worker thread: `fallback` = redo in software (reason given); otherwise
    /// through the session's normal path.
    Software {
        id: u64,
        direction: Direction,
        data: Vec<u8>,
        callback: Option<Callback>,
        fallback: Option<String>,
    },
}

struct DevJob {
    id: u64,
    direction: Direction,
    callback: Option<Callback>,
    /// Compress: header bytes in front of the device output. Decompress: header bytes
    /// skipped in the input.
    hdr: usize,
    /// Output capacity offered to the device.
    cap: usize,
    /// Device trailer bytes to drop (v2 raw deflate compressed as zlib).
    strip: usize,
}

struct Q {
    q: AsyncQueue,
    sqe: sqe::SqeType,
}

/// Device queues and the jobs in flight on them.
pub(crate) struct DeviceBatch {
    inner: Arc<Inner>,
    comp: Option<Vec<Q>>,
    decomp: Option<Vec<Q>>,
    jobs: HashMap<(Direction, usize, u64), DevJob>,
    outbox: Vec<Outcome>,
    /// Requests submitted to the device (tests, measurements).
    pub submitted: u64,
    /// Most requests in flight at once.
    pub peak_in_flight: usize,
}

/// The ZIP devices offering the session's format in `dir`: the resolved one first.
pub(crate) fn zips(inner: &Inner, dir: Direction) -> Vec<Arc<dyn crate::DeviceEngine>> {
    let resolved = match dir {
        Direction::Compress => &inner.comp,
        Direction::Decompress => &inner.decomp,
    };
    let Some(first) = &resolved.device else {
        return Vec::new();
    };
    if first
        .as_any()
        .and_then(|a| a.downcast_ref::<ZipDevice>())
        .is_none()
    {
        return Vec::new();
    }
    let mut all = vec![first.clone()];
    for d in crate::backend::devices() {
        if !Arc::ptr_eq(&d, first)
            && d.offers(inner.cfg.format, dir)
            && d.as_any().and_then(|a| a.downcast_ref::<ZipDevice>()).is_some()
        {
            all.push(d);
        }
    }
    all
}

impl DeviceBatch {
    /// A device batch for `inner`, or `None` when the session resolved no ZIP device.
    pub(crate) fn new(inner: Arc<Inner>) -> Option<DeviceBatch> {
        if zips(&inner, Direction::Compress).is_empty() && zips(&inner, Direction::Decompress).is_empty() {
            return None;
        }
        Some(DeviceBatch {
            inner,
            comp: None,
            decomp: None,
            jobs: HashMap::new(),
            outbox: Vec::new(),
            submitted: 0,
            peak_in_flight: 0,
        })
    }

    /// Jobs on the device now.
    pub(crate) fn in_flight(&self) -> usize {
        self.jobs.len()
    }

    /// Outcomes produced since the last call.
    pub(crate) fn take_outcomes(&mut self) -> Vec<Outcome> {
        std::mem::take(&mut self.outbox)
    }

    fn queues(&mut self, dir: Direction) -> &mut Vec<Q> {
        let inner = self.inner.clone();
        let slot = match dir {
            Direction::Compress => &mut self.comp,
            Direction::Decompress => &mut self.decomp,
        };
        slot.get_or_insert_with(|| {
            let mut v = Vec::new();
            for d in zips(&inner, dir) {
                let Some(z) = d.as_any().and_then(|a| a.downcast_ref::<ZipDevice>()) else {
                    continue;
                };
                for _ in 0..QUEUES_PER_DEVICE {
                    match z.async_queue(dir) {
                        Ok(q) => v.push(Q { q, sqe: z.sqe_type() }),
                        Err(e) => log::warn!("batch: {e}"),
                    }
                }
            }
            v
        })
    }

    /// Offers a job to the device; gives it back when the device cannot take it.
    pub(crate) fn submit(
        &mut self,
        id: u64,
        direction: Direction,
        data: Vec<u8>,
        callback: Option<Callback>,
    ) -> std::result::Result<(), (Vec<u8>, Option<Callback>)> {
        let format = self.inner.cfg.format;
        let (hdr, cap, prefix) = match direction {
            Direction::Compress => {
                if data.is_empty() || data.len() > MAX_SIZE {
                    return Err((data, callback));
                }
                let Ok(h) = header(format, self.inner.cfg.level, &self.inner.cfg.gzip_header) else {
                    return Err((data, callback));
                };
                let cap = (data.len() + data.len() / 8 + 1024).clamp(MIN_OUT, MAX_SIZE);
                (h.len(), cap, h)
            }
            Direction::Decompress => {
                let hdr = match format {
                    Format::Deflate => Some(0),
                    Format::Zlib => {
                        (data.len() > 2 && check_zlib_header([data[0], data[1]]).is_ok()).then_some(2)
                    }
                    Format::Gzip => match GzipHeader::parse(&data) {
                        Ok(Some((_, n))) => Some(n),
                        _ => None,
                    },
                };
                let Some(hdr) = hdr.filter(|&h| data.len() > h && data.len() - h <= MAX_SIZE) else {
                    return Err((data, callback));
                };
                let body = data.len() - hdr;
                let isize = match data.len() {
                    n if format == Format::Gzip && n >= 18 => {
                        u32::from_le_bytes([data[n - 4], data[n - 3], data[n - 2], data[n - 1]]) as usize
                    }
                    _ => 0,
                };
                let guess = body.saturating_mul(4).max(isize.saturating_add(64));
                let limit =
                    usize::try_from(self.inner.cfg.max_output.saturating_add(1)).unwrap_or(usize::MAX);
                (hdr, guess.min(limit).clamp(64 * 1024, MAX_SIZE), Vec::new())
            }
        };
        if self.queues(direction).is_empty() || self.inner.cfg.dma == crate::DmaPolicy::ZeroCopyOnly {
            // (A job's Vec is never a pool chunk: zero-copy-only batches run in software.)
            return Err((data, callback));
        }
        // The job's own buffer goes to the device as it is.
        self.inner
            .counters
            .dma(crate::backend::Placement::Direct, data.len());
        let mut dst = prefix;
        let job = DevJob {
            id,
            direction,
            callback,
            hdr,
            cap,
            strip: 0,
        };
        dst.resize(
            match direction {
                Direction::Compress => hdr + cap,
                Direction::Decompress => cap,
            },
            0,
        );
        let bufs = Bufs {
            src: data,
            dst,
            ctx: None,
        };
        match self.send(job, bufs) {
            Ok(()) => Ok(()),
            Err((job, bufs)) => Err((bufs.src, job.callback)),
        }
    }

    /// Submits on the least busy queue, polling for room when all are full.
    fn send(&mut self, mut job: DevJob, mut bufs: Bufs) -> std::result::Result<(), (DevJob, Bufs)> {
        let format = self.inner.cfg.format;
        let dir = job.direction;
        for round in 0..200 {
            let qs = self.queues(dir);
            let mut order: Vec<usize> = (0..qs.len()).collect();
            order.sort_by_key(|&i| qs[i].q.in_flight());
            let mut busy = true;
            for i in order {
                let q = &mut self.queues(dir)[i];
                if q.q.free_slots() == 0 {
                    continue;
                }
                let (t, hdr, cap) = (q.sqe, job.hdr, job.cap);
                let rt = req_type_for(format, t);
                if extra_trailer(format, t) > 0 && dir == Direction::Decompress {
                    // v2 raw deflate decompression needs the stream path (synthesised
                    // trailer); a stateless request cannot carry it.
                    continue;
                }
                job.strip = extra_trailer(format, t);
                let in_len = (bufs.src.len() - if dir == Direction::Decompress { hdr } else { 0 }) as u32;
                let r = q.q.submit(bufs, |a| match dir {
                    Direction::Compress => sqe::build(t, rt, a.src, in_len, a.dst + hdr as u64, cap as u32),
                    Direction::Decompress => sqe::build(t, rt, a.src + hdr as u64, in_len, a.dst, cap as u32),
                });
                match r {
                    Ok(token) => {
                        self.jobs.insert((dir, i, token), job);
                        self.submitted += 1;
                        self.peak_in_flight = self.peak_in_flight.max(self.jobs.len());
                        return Ok(());
                    }
                    Err((uadk_core::Error::Busy { .. }, b)) => bufs = b,
                    Err((e, b)) => {
                        log::debug!("batch submit failed: {e}");
                        busy = false;
                        bufs = b;
                    }
                }
            }
            if !busy || round == 199 {
                break;
            }
            self.poll(Duration::from_millis(1));
        }
        Err((job, bufs))
    }

    /// Reaps completions (waiting up to `wait` for the first), turning them into outcomes.
    pub(crate) fn poll(&mut self, wait: Duration) -> usize {
        let mut got: Vec<(Direction, usize, u64, SqeResult, Bufs)> = Vec::new();
        for dir in [Direction::Compress, Direction::Decompress] {
            let slot = match dir {
                Direction::Compress => &mut self.comp,
                Direction::Decompress => &mut self.decomp,
            };
            let Some(qs) = slot.as_mut() else { continue };
            let busy: Vec<usize> = (0..qs.len()).filter(|&i| qs[i].q.in_flight() > 0).collect();
            let n = busy.len().max(1) as u32;
            for i in busy {
                qs[i].q.poll(wait / n, |t, r, b| got.push((dir, i, t, r, b)));
            }
        }
        let n = got.len();
        for (dir, i, token, r, bufs) in got {
            let Some(job) = self.jobs.remove(&(dir, i, token)) else {
                continue;
            };
            let name = self.queues(dir)[i].q.name().to_string();
            self.complete(job, &name, r, bufs);
        }
        n
    }

    fn complete(&mut self, mut job: DevJob, name: &str, r: SqeResult, mut bufs: Bufs) {
        let cfg = &self.inner.cfg;
        let dir = job.direction;
        let fail = |msg: String| -> std::result::Result<(), String> { Err(msg) };
        let verdict: std::result::Result<(), String> = match &r {
            Err(e) => fail(format!("{name}: queue: {e}")),
            Ok(s) => {
                let c = sqe::decode(s);
                let in_len = bufs.src.len() - if dir == Direction::Decompress { job.hdr } else { 0 };
                if c.produced as usize > job.cap || c.consumed as usize > in_len {
                    fail(format!(
                        "{name}: completion reports {} in / {} out",
                        c.consumed, c.produced
                    ))
                } else {
                    match (dir, c.status) {
                        (Direction::Compress, Status::Ok | Status::NegativeCompression)
                            if c.produced as usize >= 2 + job.strip =>
                        {
                            bufs.dst.truncate(job.hdr + c.produced as usize - job.strip);
                            Ok(())
                        }
                        (Direction::Compress, Status::OutputTooSmall) => {
                            // Larger than one request: the session's stream path splits it.
                            return self.outbox.push(Outcome::Software {
                                id: job.id,
                                direction: dir,
                                data: bufs.src,
                                callback: job.callback,
                                fallback: None,
                            });
                        }
                        (Direction::Decompress, Status::DecompressEnd) if c.consumed as usize == in_len => {
                            bufs.dst.truncate(c.produced as usize);
                            Ok(())
                        }
                        (Direction::Decompress, Status::DecompressEnd) => {
                            // More members or trailing bytes: the session's path handles both.
                            return self.outbox.push(Outcome::Software {
                                id: job.id,
                                direction: dir,
                                data: bufs.src,
                                callback: job.callback,
                                fallback: None,
                            });
                        }
                        (Direction::Decompress, Status::OutputTooSmall) if job.cap < MAX_SIZE => {
                            // Retry with 4× the room.
                            job.cap = (job.cap * 4).min(MAX_SIZE);
                            bufs.dst = vec![0u8; job.cap];
                            if let Err((job, bufs)) = self.send(job, bufs) {
                                self.outbox.push(Outcome::Software {
                                    id: job.id,
                                    direction: dir,
                                    data: bufs.src,
                                    callback: job.callback,
                                    fallback: None,
                                });
                            }
                            return;
                        }
                        (Direction::Decompress, Status::OutputTooSmall) => {
                            return self.outbox.push(Outcome::Software {
                                id: job.id,
                                direction: dir,
                                data: bufs.src,
                                callback: job.callback,
                                fallback: None,
                            });
                        }
                        (_, st) => fail(format!("{name}: {dir}: {}", st.describe())),
                    }
                }
            }
        };
        match verdict {
            Ok(()) => {
                let out = bufs.dst;
                if dir == Direction::Decompress && out.len() as u64 > cfg.max_output {
                    self.inner.counters.error();
                    let c = Completion {
                        id: job.id,
                        direction: dir,
                        result: Err(Error::OutputLimit {
                            limit: cfg.max_output,
                        }),
                    };
                    return self.outbox.push(Outcome::Done(c, job.callback));
                }
                let (u, z) = match dir {
                    Direction::Compress => (bufs.src.len(), out.len()),
                    Direction::Decompress => (out.len(), bufs.src.len()),
                };
                let report = Report {
                    engine: Engine::Device(name.to_string()),
                    reason: format!(
                        "batch: device {name} offers {} {dir} (asynchronous request)",
                        cfg.format
                    ),
                    fell_back: false,
                    threads: 1,
                    uncompressed: u as u64,
                    compressed: z as u64,
                };
                self.inner.counters.record(&report);
                let c = Completion {
                    id: job.id,
                    direction: dir,
                    result: Ok((out, report)),
                };
                self.outbox.push(Outcome::Done(c, job.callback));
            }
            Err(msg) if cfg.fallback => self.outbox.push(Outcome::Software {
                id: job.id,
                direction: dir,
                data: bufs.src,
                callback: job.callback,
                fallback: Some(msg),
            }),
            Err(msg) => {
                self.inner.counters.error();
                let c = Completion {
                    id: job.id,
                    direction: dir,
                    result: Err(Error::Device(msg)),
                };
                self.outbox.push(Outcome::Done(c, job.callback));
            }
        }
    }
}

/// Runs a job on a worker: through the session, or (after a device failure) in software.
pub(crate) fn run_software(
    inner: &Inner,
    direction: Direction,
    data: &[u8],
    fallback: Option<String>,
) -> Result<(Vec<u8>, Report)> {
    let Some(why) = fallback else {
        let r = match direction {
            Direction::Compress => crate::oneshot::compress(inner, data),
            Direction::Decompress => crate::oneshot::decompress(inner, data),
        };
        match &r {
            Ok((_, rep)) => inner.counters.record(rep),
            Err(_) => inner.counters.error(),
        }
        return r;
    };
    let prefix = format!("device failed ({why}); redone in software; ");
    let r = match direction {
        Direction::Compress => crate::oneshot::compress_software(inner, data, prefix, true),
        Direction::Decompress => crate::oneshot::decompress_software(inner, data, prefix, true),
    };
    match &r {
        Ok((_, rep)) => inner.counters.record(rep),
        Err(_) => inner.counters.error(),
    }
    r
}
