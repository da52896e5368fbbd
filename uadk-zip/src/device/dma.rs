//! Every `unsafe` of the device path: handing buffer addresses to a queue.
//!
//! The device reads and writes client memory by virtual address (SVA). The two entry points
//! make the addresses come from buffers whose lifetime covers the request:
//!
//! * [`sync`] borrows the buffers for the duration of one synchronous request;
//! * [`AsyncQueue`] owns the buffers of every request in flight (keyed by token) and owns its
//!   queue, which it drops — stopping the hardware queue — before the buffers.

use crate::error::{Error, Result};
use std::collections::HashMap;
use std::time::Duration;
use uadk_core::discovery::Device;
use uadk_core::qm::{QueueOptions, QueuePair, Sqe};
use uadk_core::request::{BusyPolicy, WaitPolicy};

/// Addresses handed to a descriptor builder: source, destination, stream context (0 when
/// absent).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Addrs {
    pub src: u64,
    pub dst: u64,
    pub ctx: u64,
}

fn addr(b: &[u8]) -> u64 {
    if b.is_empty() {
        0
    } else {
        b.as_ptr() as u64
    }
}

/// How long a synchronous request may take before its queue is declared wedged (a real
/// device needs milliseconds for 8 MiB; an unoptimised emulator on a loaded machine seconds).
pub(crate) const SYNC_TIMEOUT: Duration = Duration::from_secs(60);

/// Runs one synchronous request whose descriptor `build` makes from the addresses of `src`,
/// the first `cap` bytes of `dst` and `ctx` (the context buffer of a stateful request).
///
/// The device only *writes* into `dst` and `ctx`, which are owned buffers: if the request
/// times out (the device may still complete it later) they are leaked — replaced by fresh
/// empty ones — so a late write can never land in memory that was freed and reused. `src` is
/// only read.
pub(crate) fn sync(
    queue: &QueuePair,
    src: &[u8],
    dst: &mut dyn DmaOut,
    cap: usize,
    ctx: Option<&mut Box<[u8]>>,
    build: impl FnOnce(Addrs) -> Sqe,
) -> std::result::Result<Sqe, uadk_core::Error> {
    let out = dst.bytes_mut();
    assert!(cap <= out.len(), "output capacity beyond the buffer");
    let a = Addrs {
        src: addr(src),
        dst: out.as_mut_ptr() as u64,
        ctx: ctx.as_ref().map_or(0, |c| c.as_ptr() as u64),
    };
    let sqe = build(a);
    // SAFETY: every address in `sqe` comes from `src`, `dst` (first `cap` bytes) or `ctx`
    // (see `Addrs`), which are borrowed (`dst` and `ctx` exclusively) until this function
    // returns. submit_sync returns once the device wrote the descriptor back, or with an
    // error: before submission, after the device was gone, or on a timeout — and on a
    // timeout the buffers the device writes are leaked below, never freed.
    let r = unsafe { queue.submit_sync(&sqe, &WaitPolicy::with_timeout(SYNC_TIMEOUT)) };
    if let Err(uadk_core::Error::Timeout { .. }) = &r {
        dst.abandon();
        if let Some(c) = ctx {
            let len = c.len();
            std::mem::forget(std::mem::replace(c, vec![0u8; len].into_boxed_slice()));
        }
    }
    r
}

/// An output buffer the device writes by address.
pub(crate) trait DmaOut {
    /// The whole buffer.
    fn bytes_mut(&mut self) -> &mut [u8];
    /// Gives the memory up for good (leaked, never reused): the device may still write it.
    fn abandon(&mut self);
}

impl DmaOut for Vec<u8> {
    fn bytes_mut(&mut self) -> &mut [u8] {
        self
    }
    fn abandon(&mut self) {
        std::mem::forget(std::mem::take(self));
    }
}

/// Buffers of one asynchronous request, owned until its completion.
#[derive(Debug, Default)]
pub(crate) struct Bufs {
    /// Device input.
    pub src: Vec<u8>,
    /// Device output (its length is the capacity offered).
    pub dst: Vec<u8>,
    /// Stream context buffer (stateful requests).
    pub ctx: Option<Box<[u8]>>,
}

/// A queue this process opened for asynchronous requests, with the buffers of the requests in
/// flight on it.
pub(crate) struct AsyncQueue {
    // Field order matters: `queue` is dropped first (stopping the hardware queue), so the
    // device no longer touches the buffers in `inflight` when they are freed.
    queue: QueuePair,
    inflight: HashMap<u64, Bufs>,
    /// Output buffers of requests that failed while the device may still write them: freed
    /// only after the queue (dropped first) is stopped.
    graveyard: Vec<Vec<u8>>,
    next: u64,
    name: String,
}

impl AsyncQueue {
    /// Opens a queue of direction `qc_type` on `dev`.
    pub(crate) fn open(dev: &Device, qc_type: u16, tag: uadk_core::qm::TagField) -> Result<Self> {
        let queue = QueuePair::open(
            dev,
            QueueOptions {
                qc_type,
                tag,
                async_timeout: SYNC_TIMEOUT,
                ..Default::default()
            },
        )
        .map_err(|e| Error::Device(format!("{}: cannot open a queue: {e}", dev.name)))?;
        Ok(AsyncQueue {
            queue,
            inflight: HashMap::new(),
            graveyard: Vec::new(),
            next: 0,
            name: dev.name.clone(),
        })
    }

    /// The device's name.
    pub(crate) fn name(&self) -> &str {
        &self.name
    }

    /// Requests in flight.
    pub(crate) fn in_flight(&self) -> usize {
        self.inflight.len()
    }

    /// Whether the queue still runs (not stopped by a timeout, reset or device loss).
    pub(crate) fn healthy(&self) -> bool {
        !self.queue.is_stopped()
    }

    /// Free SQ slots.
    pub(crate) fn free_slots(&self) -> usize {
        self.queue.free_slots()
    }

    /// Submits one request built from the addresses of `bufs`; returns its token. On failure
    /// the buffers come back with the error.
    pub(crate) fn submit(
        &mut self,
        mut bufs: Bufs,
        build: impl FnOnce(Addrs) -> Sqe,
    ) -> std::result::Result<u64, (uadk_core::Error, Bufs)> {
        let a = Addrs {
            src: addr(&bufs.src),
            dst: bufs.dst.as_mut_ptr() as u64,
            ctx: bufs.ctx.as_mut().map_or(0, |c| c.as_mut_ptr() as u64),
        };
        let sqe = build(a);
        let token = self.next;
        // SAFETY: the addresses in `sqe` point into the heap blocks of `bufs`, which are
        // moved into `self.inflight` below (moving a Vec/Box does not move its heap block)
        // and stay there until `poll` hands back this token's completion; `self.queue` is
        // dropped before `self.inflight` (field order), which stops the hardware queue first.
        let r = unsafe {
            self.queue
                .submit(std::slice::from_ref(&sqe), &[token], BusyPolicy::Fail)
        };
        match r {
            Ok(()) => {
                self.next += 1;
                self.inflight.insert(token, bufs);
                Ok(token)
            }
            Err(e) => Err((e, bufs)),
        }
    }

    /// Hands every ready completion (token, written-back descriptor or error, buffers) to
    /// `sink`; waits up to `wait` for the first one when requests are in flight.
    pub(crate) fn poll(
        &mut self,
        wait: Duration,
        mut sink: impl FnMut(u64, std::result::Result<Sqe, uadk_core::Error>, Bufs),
    ) -> usize {
        let mut got = Vec::new();
        let r = if wait.is_zero() {
            self.queue.poll(usize::MAX, |c| got.push(c))
        } else {
            self.queue.poll_wait(usize::MAX, wait, |c| got.push(c))
        };
        if let Err(e) = r {
            // The queue failed as a whole: every request on it completes with that error.
            let msg = e.to_string();
            let all: Vec<(u64, Bufs)> = self.inflight.drain().collect();
            for (t, b) in all {
                let b = self.bury(b);
                sink(t, Err(uadk_core::Error::Protocol(msg.clone())), b);
            }
            return 0;
        }
        let n = got.len();
        for c in got {
            if let Some(b) = self.inflight.remove(&c.token) {
                let b = if c.result.is_err() { self.bury(b) } else { b };
                sink(c.token, c.result, b);
            }
        }
        n
    }
}

impl AsyncQueue {
    /// Keeps the buffers the device may still write (output, context) until the queue is
    /// gone; gives back the input, which the device only reads.
    fn bury(&mut self, b: Bufs) -> Bufs {
        self.graveyard.push(b.dst);
        if let Some(c) = b.ctx {
            self.graveyard.push(c.into_vec());
        }
        Bufs {
            src: b.src,
            dst: Vec::new(),
            ctx: None,
        }
    }
}

impl Drop for AsyncQueue {
    fn drop(&mut self) {
        // Give in-flight requests a bounded time to complete; the queue is then dropped
        // (stopped) before the buffers either way.
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        while !self.inflight.is_empty() && std::time::Instant::now() < deadline {
            let mut done = Vec::new();
            if self
                .queue
                .poll_wait(usize::MAX, Duration::from_millis(50), |c| done.push(c.token))
                .is_err()
            {
                break;
            }
            for t in done {
                self.inflight.remove(&t);
            }
        }
    }
}
