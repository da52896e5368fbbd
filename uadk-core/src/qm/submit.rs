//! Submission: writing descriptors into free SQ slots, tagging them, ringing the SQ doorbell
//! once per batch, and the synchronous wait for a written-back descriptor.

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use super::queue::*;
use super::sqe::Sqe;
use crate::error::{Error, Result};
use crate::request::{BusyPolicy, Callback, WaitPolicy};

impl QueuePair {
    /// Submits a batch of descriptors for asynchronous completion, one token each, with a
    /// single SQ doorbell. All or nothing: if the SQ cannot take the whole batch, nothing is
    /// submitted and `busy` decides between [`Error::Busy`] and waiting.
    ///
    /// # Safety
    /// The device reads and writes the memory the descriptors point to, by virtual address
    /// (SVA). Every buffer named in `descs` must stay valid and unaliased by Rust references
    /// until its completion has been returned by [`poll`](Self::poll) (or the queue is
    /// dropped, which stops the hardware queue).
    pub unsafe fn submit(&self, descs: &[Sqe], tokens: &[u64], busy: BusyPolicy) -> Result<()> {
        if descs.len() != tokens.len() {
            return Err(Error::InvalidArgument(format!(
                "{} descriptors but {} tokens",
                descs.len(),
                tokens.len()
            )));
        }
        self.submit_inner(descs, Some(tokens), ASYNC, busy).map(|_| ())
    }

    /// Submits one descriptor whose completion runs `callback` on the polling thread.
    ///
    /// # Safety
    /// As for [`submit`](Self::submit): the buffers the descriptor names must stay valid
    /// until the callback ran.
    pub unsafe fn submit_with_callback(
        &self,
        desc: &Sqe,
        callback: Callback,
        busy: BusyPolicy,
    ) -> Result<()> {
        let mut pending = Some(callback);
        self.submit_prepared(std::slice::from_ref(desc), None, ASYNC_CB, busy, &mut pending)?;
        Ok(())
    }

    /// Submits one descriptor and waits for the device to write it back.
    ///
    /// # Safety
    /// The buffers the descriptor names must stay valid until this returns; after a
    /// [`Error::Timeout`] the queue is marked unusable and must be dropped (which stops the
    /// hardware queue) before those buffers are released.
    pub unsafe fn submit_sync(&self, desc: &Sqe, wait: &WaitPolicy) -> Result<Sqe> {
        let slot = self.submit_inner(std::slice::from_ref(desc), None, SYNC, wait.busy)?;
        self.wait_sync(slot, wait)
    }

    pub(super) fn submit_inner(
        &self,
        descs: &[Sqe],
        tokens: Option<&[u64]>,
        kind: u8,
        busy: BusyPolicy,
    ) -> Result<u16> {
        let mut none = None;
        self.submit_prepared(descs, tokens, kind, busy, &mut none)
    }

    pub(super) fn submit_prepared(
        &self,
        descs: &[Sqe],
        tokens: Option<&[u64]>,
        kind: u8,
        busy: BusyPolicy,
        callback: &mut Option<Callback>,
    ) -> Result<u16> {
        self.check_owner()?;
        let n = descs.len();
        let depth = self.ring.geometry().sq_depth;
        if n == 0 {
            return Ok(0);
        }
        if n >= depth as usize {
            return Err(Error::InvalidArgument(format!(
                "batch of {n} exceeds the queue's capacity of {}",
                depth - 1
            )));
        }
        let deadline = match busy {
            BusyPolicy::Wait(d) => Some(Instant::now() + d),
            BusyPolicy::Fail => None,
        };
        loop {
            if self.is_stopped() {
                return Err(self.stop_error());
            }
            let free;
            {
                let mut sq = self.sq.lock();
                free = (depth as usize - 1).saturating_sub(self.inflight.load(Ordering::Acquire));
                let tail = sq.cursor.tail;
                let room = n <= free
                    && (0..n).all(|i| {
                        let s = (tail as usize + i) % depth as usize;
                        self.slots[s].state.load(Ordering::Acquire) == FREE
                    });
                if room {
                    if self.ring.tx_stopped() {
                        drop(sq);
                        self.stop(STOP_HW);
                        return Err(Error::QueueStopped);
                    }
                    if self.is_stopped() {
                        return Err(self.stop_error());
                    }
                    let now = if kind == SYNC { 0 } else { self.now_ns() };
                    let loc = self.tag.location();
                    for (i, d) in descs.iter().enumerate() {
                        let s = ((tail as usize + i) % depth as usize) as u16;
                        let tag = self.tag.mask(sq.next_tag);
                        sq.next_tag = sq.next_tag.wrapping_add(1);
                        self.ring.write_sqe(s, d, loc.map(|(o, w)| (o, w, tag)));
                        let slot = &self.slots[s as usize];
                        slot.tag.store(tag, Ordering::Relaxed);
                        slot.token.store(tokens.map_or(0, |t| t[i]), Ordering::Relaxed);
                        slot.submitted_ns.store(now, Ordering::Relaxed);
                        if kind == ASYNC_CB {
                            *self.callbacks[s as usize].lock() = callback.take();
                        }
                        slot.state.store(kind, Ordering::Release);
                    }
                    self.inflight.fetch_add(n, Ordering::AcqRel);
                    let new_tail = ((tail as usize + n) % depth as usize) as u16;
                    self.ring.ring_sq(new_tail);
                    sq.cursor.tail = new_tail;
                    return Ok(tail);
                }
            }
            match deadline {
                Some(d) if Instant::now() < d => {
                    self.reap_to_overflow()?;
                    std::thread::yield_now();
                }
                _ => return Err(Error::Busy { free, wanted: n }),
            }
        }
    }

    pub(super) fn reap_to_overflow(&self) -> Result<usize> {
        let mut got = Vec::new();
        let r = self.poll_cq(usize::MAX, &mut |c| got.push(c));
        if !got.is_empty() {
            self.overflow.lock().extend(got);
            self.has_overflow.store(true, Ordering::Release);
        }
        r
    }

    pub(super) fn wait_sync(&self, slot: u16, wait: &WaitPolicy) -> Result<Sqe> {
        let start = Instant::now();
        let s = &self.slots[slot as usize];
        let mut iter: u32 = 0;
        loop {
            if s.state.load(Ordering::Acquire) == SYNC_DONE {
                return self.finish_sync(slot);
            }
            if self.is_stopped() {
                return Err(self.stop_error());
            }
            let got = self.reap_to_overflow()?;
            if got > 0 {
                continue;
            }
            iter = iter.wrapping_add(1);
            if iter < wait.spin {
                std::hint::spin_loop();
                continue;
            }
            let elapsed = start.elapsed();
            if elapsed >= wait.timeout {
                if s.state.load(Ordering::Acquire) == SYNC_DONE {
                    return self.finish_sync(slot);
                }
                s.state.store(ABANDONED, Ordering::Release);
                self.stop(STOP_TIMEOUT);
                return Err(Error::Timeout { waited: elapsed });
            }
            if iter.is_multiple_of(1024) {
                if let Err(e) = self.file.check_alive() {
                    self.stop(STOP_GONE);
                    return Err(e);
                }
            }
            if wait.sleep {
                self.ring.set_client_waiting(true);
                let ready = s.state.load(Ordering::Acquire) == SYNC_DONE || self.reap_to_overflow()? > 0;
                if !ready {
                    let slice = (wait.timeout - elapsed).min(Duration::from_millis(100));
                    let r = self.file.wait_readable(slice);
                    self.ring.set_client_waiting(false);
                    if let Err(e) = r {
                        self.stop(STOP_GONE);
                        return Err(e);
                    }
                } else {
                    self.ring.set_client_waiting(false);
                }
            } else {
                std::thread::yield_now();
            }
        }
    }

    pub(super) fn finish_sync(&self, slot: u16) -> Result<Sqe> {
        let mut out = Sqe::zeroed();
        self.ring.read_sqe(slot, &mut out);
        let s = &self.slots[slot as usize];
        let expected = s.tag.load(Ordering::Relaxed);
        s.state.store(FREE, Ordering::Release);
        self.inflight.fetch_sub(1, Ordering::AcqRel);
        self.check_tag(slot, expected, &out)?;
        Ok(out)
    }

    pub(super) fn check_tag(&self, slot: u16, expected: u64, out: &Sqe) -> Result<()> {
        if self.tag.location().is_some() {
            let got = self.tag.read(out);
            if got != expected {
                return Err(Error::TagMismatch { slot, expected, got });
            }
        }
        Ok(())
    }
}
