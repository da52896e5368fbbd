//! Completion: draining the CQ, routing each completion to its owner (sync waiter, async
//! token, callback), ringing the CQ doorbell, and failing everything once the queue stops.

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use super::queue::*;
use super::sqe::Sqe;
use crate::error::{Error, Result};
use crate::request::Completion;

impl QueuePair {
    /// Drains up to `max` completions, handing each async one to `sink`, running callbacks
    /// and waking sync waiters. Returns how many completions were delivered to `sink` or
    /// callbacks. Never blocks: if another thread is polling, returns 0.
    ///
    /// When the queue has been stopped, every outstanding async request is delivered once
    /// with the stop error and the call returns that count.
    pub fn poll(&self, max: usize, mut sink: impl FnMut(Completion)) -> Result<usize> {
        self.check_owner()?;
        let mut n = 0;
        if self.has_overflow.load(Ordering::Acquire) {
            let mut q = self.overflow.lock();
            while n < max {
                match q.pop_front() {
                    Some(c) => {
                        sink(c);
                        n += 1;
                    }
                    None => break,
                }
            }
            if q.is_empty() {
                self.has_overflow.store(false, Ordering::Release);
            }
        }
        if n < max {
            n += self.poll_cq(max - n, &mut sink)?;
        }
        Ok(n)
    }

    /// Like [`poll`](Self::poll) but waits (spin, then `poll(2)` sleep) up to `timeout` for at
    /// least one completion while requests are in flight.
    pub fn poll_wait(
        &self,
        max: usize,
        timeout: Duration,
        mut sink: impl FnMut(Completion),
    ) -> Result<usize> {
        let start = Instant::now();
        let mut iter = 0u32;
        loop {
            let n = self.poll(max, &mut sink)?;
            if n > 0 || (self.in_flight() == 0 && !self.has_overflow.load(Ordering::Acquire)) {
                return Ok(n);
            }
            let elapsed = start.elapsed();
            if elapsed >= timeout {
                return Ok(0);
            }
            iter += 1;
            if iter < 2000 {
                std::hint::spin_loop();
            } else {
                self.wait((timeout - elapsed).min(Duration::from_millis(50)))?;
            }
        }
    }

    /// Sleeps in `poll(2)` on the queue file until the device signals a completion or
    /// `timeout` passes; returns at once if a completion is already waiting. Completions are
    /// not consumed: call [`poll`](Self::poll) afterwards. Sleeping instead of spinning frees
    /// the CPU, which matters on a loaded machine.
    pub fn wait(&self, timeout: Duration) -> Result<()> {
        self.check_owner()?;
        if self.is_stopped() {
            return Ok(());
        }
        self.ring.set_client_waiting(true);
        let pending = self.has_overflow.load(Ordering::Acquire)
            || self.ring.rx_stopped()
            || match self.cq.try_lock() {
                Some(c) => self.ring.peek_cqe(&c.cursor).is_some(),
                None => true,
            };
        let r = if pending {
            Ok(true)
        } else {
            self.file.wait_readable(timeout)
        };
        self.ring.set_client_waiting(false);
        if let Err(e) = r {
            self.stop(STOP_GONE);
            return Err(e);
        }
        Ok(())
    }

    pub(super) fn poll_cq(&self, max: usize, sink: &mut dyn FnMut(Completion)) -> Result<usize> {
        let Some(mut cq) = self.cq.try_lock() else {
            return Ok(0);
        };
        if self.is_stopped() {
            return Ok(self.fail_outstanding(sink));
        }
        if self.ring.rx_stopped() {
            self.stop(STOP_HW);
            return Ok(self.fail_outstanding(sink));
        }
        let depth = self.ring.geometry().sq_depth;
        let cq_depth = self.ring.geometry().cq_depth;
        let mut consumed = 0usize;
        let mut delivered = 0usize;
        while delivered < max {
            let Some(cqe) = self.ring.peek_cqe(&cq.cursor) else {
                break;
            };
            let slot = cqe.sq_head;
            if slot >= depth {
                drop(cq);
                self.stop(STOP_PROTOCOL);
                log::error!("{}: CQE names SQ slot {slot} of {depth}", self.name);
                return Err(Error::Protocol(format!(
                    "CQE names SQ slot {slot}, queue depth is {depth}"
                )));
            }
            cq.cursor.advance(cq_depth);
            consumed += 1;
            delivered += self.complete_slot(slot, sink);
        }
        if consumed > 0 {
            cq.empty_polls = 0;
            if self.ring.rx_stopped() {
                self.stop(STOP_HW);
                return Ok(delivered + self.fail_outstanding(sink));
            }
            self.ring.ring_cq(cq.cursor.head);
        } else if self.inflight.load(Ordering::Relaxed) > 0 {
            cq.empty_polls = cq.empty_polls.wrapping_add(1);
            if cq.empty_polls % 4096 == 0 {
                if let Err(e) = self.file.check_alive() {
                    log::warn!("{}: {e}", self.name);
                    self.stop(STOP_GONE);
                    return Ok(self.fail_outstanding(sink));
                }
                if self.oldest_async_age() > Some(self.async_timeout) {
                    log::warn!(
                        "{}: async request older than {:?}; queue considered wedged",
                        self.name,
                        self.async_timeout
                    );
                    self.stop(STOP_TIMEOUT);
                    return Ok(self.fail_outstanding(sink));
                }
            }
        }
        Ok(delivered)
    }

    pub(super) fn oldest_async_age(&self) -> Option<Duration> {
        let now = self.now_ns();
        self.slots
            .iter()
            .filter(|s| matches!(s.state.load(Ordering::Acquire), ASYNC | ASYNC_CB))
            .map(|s| now.saturating_sub(s.submitted_ns.load(Ordering::Relaxed)))
            .max()
            .map(Duration::from_nanos)
    }

    pub(super) fn complete_slot(&self, slot: u16, sink: &mut dyn FnMut(Completion)) -> usize {
        let s = &self.slots[slot as usize];
        match s.state.load(Ordering::Acquire) {
            SYNC => {
                s.state.store(SYNC_DONE, Ordering::Release);
                0
            }
            ABANDONED => {
                s.state.store(FREE, Ordering::Release);
                self.inflight.fetch_sub(1, Ordering::AcqRel);
                0
            }
            kind @ (ASYNC | ASYNC_CB) => {
                let mut out = Sqe::zeroed();
                self.ring.read_sqe(slot, &mut out);
                let expected = s.tag.load(Ordering::Relaxed);
                let token = s.token.load(Ordering::Relaxed);
                let cb = if kind == ASYNC_CB {
                    self.callbacks[slot as usize].lock().take()
                } else {
                    None
                };
                s.state.store(FREE, Ordering::Release);
                self.inflight.fetch_sub(1, Ordering::AcqRel);
                let result = self.check_tag(slot, expected, &out).map(|_| out);
                match cb {
                    Some(cb) => cb(result),
                    None => sink(Completion { token, result }),
                }
                1
            }
            other => {
                log::warn!("{}: spurious CQE for SQ slot {slot} in state {other}", self.name);
                0
            }
        }
    }

    /// Fails every outstanding async request (called with the CQ lock held, after `stop`).
    pub(super) fn fail_outstanding(&self, sink: &mut dyn FnMut(Completion)) -> usize {
        // Taking the SQ lock fences producers: any submit that raced with `stop` has
        // either finished (and is failed below) or will see the stop flag.
        let _sq = self.sq.lock();
        let mut n = 0;
        for (i, s) in self.slots.iter().enumerate() {
            let st = s.state.load(Ordering::Acquire);
            if st == ASYNC || st == ASYNC_CB {
                let token = s.token.load(Ordering::Relaxed);
                let cb = if st == ASYNC_CB {
                    self.callbacks[i].lock().take()
                } else {
                    None
                };
                s.state.store(FREE, Ordering::Release);
                self.inflight.fetch_sub(1, Ordering::AcqRel);
                match cb {
                    Some(cb) => cb(Err(self.stop_error())),
                    None => sink(Completion {
                        token,
                        result: Err(self.stop_error()),
                    }),
                }
                n += 1;
            }
        }
        n
    }
}
