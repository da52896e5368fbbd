//! How requests wait and complete: the policies and result types of the queue API.
//!
//! - **Sync**: [`QueuePair::submit_sync`](crate::qm::QueuePair::submit_sync) submits one
//!   descriptor and waits for it under a [`WaitPolicy`]: spin, then yield, then optionally
//!   sleep in `poll(2)` on the queue's file; after `timeout` it returns
//!   [`Error::Timeout`](crate::Error::Timeout).
//! - **Async**: [`QueuePair::submit`](crate::qm::QueuePair::submit) submits a batch with one
//!   `u64` token per descriptor; [`QueuePair::poll`](crate::qm::QueuePair::poll) drains
//!   completions and hands each one as a [`Completion`] to the caller's closure (a completion
//!   queue drained by `poll`). Alternatively
//!   [`QueuePair::submit_with_callback`](crate::qm::QueuePair::submit_with_callback) attaches a
//!   [`Callback`] that `poll` invokes.
//! - **SQ full**: the caller picks a [`BusyPolicy`]: fail at once with
//!   [`Error::Busy`](crate::Error::Busy), or wait (polling completions meanwhile) up to a bound.

use std::time::Duration;

use crate::error::Result;
use crate::qm::Sqe;

/// What to do when the SQ has no room for a batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BusyPolicy {
    /// Return [`Error::Busy`](crate::Error::Busy) immediately.
    Fail,
    /// Poll completions and retry until there is room or the duration passes (then `Busy`).
    /// Completions reaped meanwhile are kept for the next [`poll`](crate::qm::QueuePair::poll).
    Wait(Duration),
}

/// How a synchronous request waits for its completion.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WaitPolicy {
    /// Upper bound on the wait; exceeding it is [`Error::Timeout`](crate::Error::Timeout).
    pub timeout: Duration,
    /// Busy-poll iterations before yielding the CPU between checks.
    pub spin: u32,
    /// After spinning, sleep in `poll(2)` on the queue file (true) or yield the CPU between
    /// checks (false).
    pub sleep: bool,
    /// What to do when the SQ is full.
    pub busy: BusyPolicy,
}

impl Default for WaitPolicy {
    /// 5 s timeout, 2 000 spins, then sleep in `poll(2)` until the device signals; fail when
    /// busy. (Sleeping rather than yielding keeps latency low on a loaded machine: a woken
    /// thread gets a CPU back quickly, a yielding one does not.)
    fn default() -> Self {
        WaitPolicy {
            timeout: Duration::from_secs(5),
            spin: 2000,
            sleep: true,
            busy: BusyPolicy::Fail,
        }
    }
}

impl WaitPolicy {
    /// The default policy with another timeout.
    pub fn with_timeout(timeout: Duration) -> Self {
        WaitPolicy {
            timeout,
            ..Default::default()
        }
    }
}

/// A finished asynchronous request.
#[derive(Debug)]
pub struct Completion {
    /// The token given at submission.
    pub token: u64,
    /// The descriptor as written back by the device, or why the request failed (queue
    /// stopped, device gone, timeout, tag mismatch).
    pub result: Result<Sqe>,
}

/// A per-request completion callback, invoked by the thread that polls, while it holds the
/// queue's receive lock: it may submit new requests, but must not wait synchronously on the
/// same queue (nobody else could poll its completion until it returns).
pub type Callback = Box<dyn FnOnce(Result<Sqe>) + Send + 'static>;
