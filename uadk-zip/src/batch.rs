//! Asynchronous batches: submit many independent one-shot jobs, collect completions from a
//! completion queue ([`Batch::poll`] / [`Batch::wait`]) or through a callback.
//!
//! When the session resolved a ZIP device, jobs that fit one device request go to the
//! device **asynchronously** ([`crate::device::batch`]): the submitting thread writes SQEs
//! on every queue of every device offering the format (many in flight per queue) and
//! collects completions by polling — [`Batch::poll`], [`Batch::wait`], [`Batch::drain`] —
//! as UADK's `wd_comp_poll` does; callbacks of device jobs run in the polling thread. Jobs
//! the device cannot take (over 8 MiB, empty, an unparsable header, a format it does not
//! offer) and jobs whose request failed run on a pool of worker threads: a failed device job
//! is redone in software (counted as a fallback) when [`crate::Config::fallback`] is on, else
//! it completes with the device error. Without a device every job runs on the workers, so
//! one submitting thread keeps every core busy; their callbacks run on a worker thread.

use crate::backend::{Direction, Report};
use crate::device::batch::{run_software, DeviceBatch, Outcome};
use crate::error::{Error, Result};
use crate::session::Session;
use std::collections::VecDeque;
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::Duration;

type Callback = Box<dyn FnOnce(Completion) + Send>;

struct Job {
    id: u64,
    direction: Direction,
    data: Vec<u8>,
    callback: Option<Callback>,
    /// A device failure to redo in software (reason), or `None` for the session's path.
    fallback: Option<String>,
}

/// A finished job.
///
/// ```
/// use uadk_zip::{Batch, Direction, Session};
/// let s = Session::new(Default::default()).unwrap();
/// let mut b = Batch::new(&s, 2, 8).unwrap();
/// let id = b.submit(Direction::Compress, b"job".to_vec()).unwrap();
/// let c = b.wait().unwrap();
/// assert_eq!(c.id, id);
/// assert!(c.result.is_ok());
/// ```
pub struct Completion {
    /// The id [`Batch::submit`] returned.
    pub id: u64,
    /// What the job did.
    pub direction: Direction,
    /// The output and the report of what ran, or the error.
    pub result: Result<(Vec<u8>, Report)>,
}

/// A pool of in-flight jobs on one session.
///
/// ```
/// use uadk_zip::{Batch, Direction, Session};
/// let s = Session::new(Default::default()).unwrap();
/// let mut b = Batch::new(&s, 2, 16).unwrap();
/// for i in 0..10u8 { b.submit(Direction::Compress, vec![i; 1000]).unwrap(); }
/// let done = b.drain();
/// assert_eq!(done.len(), 10);
/// ```
pub struct Batch {
    jobs: Option<mpsc::SyncSender<Job>>,
    done: mpsc::Receiver<Completion>,
    workers: Vec<JoinHandle<()>>,
    in_flight: usize,
    next_id: u64,
    device: Option<DeviceBatch>,
    ready: VecDeque<Completion>,
    /// Device jobs with a callback, not yet called back.
    device_callbacks: usize,
}

impl Batch {
    /// Starts `workers` worker threads; at most `depth` submitted jobs wait in the queue
    /// (further submits block, bounding memory).
    ///
    /// ```
    /// let s = uadk_zip::Session::new(Default::default()).unwrap();
    /// assert!(uadk_zip::Batch::new(&s, 0, 4).is_err());
    /// ```
    pub fn new(session: &Session, workers: usize, depth: usize) -> Result<Self> {
        if workers == 0 || depth == 0 {
            return Err(Error::InvalidArgument(
                "a batch needs at least one worker and a queue depth of at least 1".into(),
            ));
        }
        let (jtx, jrx) = mpsc::sync_channel::<Job>(depth);
        let (dtx, drx) = mpsc::channel::<Completion>();
        let jrx = std::sync::Arc::new(parking_lot::Mutex::new(jrx));
        let mut handles = Vec::with_capacity(workers);
        for i in 0..workers {
            let jrx = jrx.clone();
            let dtx = dtx.clone();
            let s = session.clone();
            let h = std::thread::Builder::new()
                .name(format!("uadk-zip-batch-{i}"))
                .spawn(move || loop {
                    let job = { jrx.lock().recv() };
                    let Ok(job) = job else { break };
                    let result = run_software(&s.inner, job.direction, &job.data, job.fallback);
                    let c = Completion {
                        id: job.id,
                        direction: job.direction,
                        result,
                    };
                    match job.callback {
                        Some(cb) => cb(c),
                        None => {
                            let _ = dtx.send(c);
                        }
                    }
                })
                .map_err(Error::Io)?;
            handles.push(h);
        }
        Ok(Batch {
            jobs: Some(jtx),
            done: drx,
            workers: handles,
            in_flight: 0,
            next_id: 0,
            device: DeviceBatch::new(session.inner.clone()),
            ready: VecDeque::new(),
            device_callbacks: 0,
        })
    }

    fn push(&mut self, direction: Direction, data: Vec<u8>, callback: Option<Callback>) -> Result<u64> {
        let id = self.next_id;
        self.next_id += 1;
        let has_cb = callback.is_some();
        let (data, callback) = match self.device.as_mut() {
            Some(d) => match d.submit(id, direction, data, callback) {
                Ok(()) => {
                    if has_cb {
                        self.device_callbacks += 1;
                    }
                    self.settle();
                    return Ok(id);
                }
                Err(back) => back,
            },
            None => (data, callback),
        };
        self.settle();
        self.send_to_worker(Job {
            id,
            direction,
            data,
            callback,
            fallback: None,
        })?;
        Ok(id)
    }

    fn send_to_worker(&mut self, job: Job) -> Result<()> {
        self.jobs
            .as_ref()
            .and_then(|j| j.send(job).ok())
            .ok_or_else(|| Error::InvalidArgument("the batch's workers have stopped".into()))
    }

    /// Routes what the device batch finished: completions to the queue or their callback,
    /// jobs for software to the workers.
    fn settle(&mut self) {
        let Some(d) = self.device.as_mut() else { return };
        for o in d.take_outcomes() {
            match o {
                Outcome::Done(c, Some(cb)) => {
                    self.device_callbacks -= 1;
                    cb(c);
                }
                Outcome::Done(c, None) => self.ready.push_back(c),
                Outcome::Software {
                    id,
                    direction,
                    data,
                    callback,
                    fallback,
                } => {
                    if callback.is_some() {
                        self.device_callbacks -= 1;
                    }
                    let job = Job {
                        id,
                        direction,
                        data,
                        callback,
                        fallback,
                    };
                    if let Err(e) = self.send_to_worker(job) {
                        log::error!("batch: {e}");
                    }
                }
            }
        }
    }

    /// Polls the device queues (waiting up to `wait` for a first completion).
    fn poll_device(&mut self, wait: Duration) {
        if let Some(d) = self.device.as_mut() {
            if d.in_flight() > 0 {
                d.poll(wait);
                self.settle();
            }
        }
    }

    /// Requests on the device right now (0 without a device).
    ///
    /// ```
    /// let s = uadk_zip::Session::new(Default::default()).unwrap();
    /// assert_eq!(uadk_zip::Batch::new(&s, 1, 1).unwrap().device_in_flight(), 0);
    /// ```
    pub fn device_in_flight(&self) -> usize {
        self.device.as_ref().map_or(0, |d| d.in_flight())
    }

    /// Device requests submitted so far and the most that were in flight at once.
    ///
    /// ```
    /// let s = uadk_zip::Session::new(Default::default()).unwrap();
    /// assert_eq!(uadk_zip::Batch::new(&s, 1, 1).unwrap().device_stats(), (0, 0));
    /// ```
    pub fn device_stats(&self) -> (u64, usize) {
        self.device
            .as_ref()
            .map_or((0, 0), |d| (d.submitted, d.peak_in_flight))
    }

    /// Submits a job whose completion goes to the completion queue; returns its id.
    ///
    /// ```
    /// use uadk_zip::{Batch, Direction, Session};
    /// let s = Session::new(Default::default()).unwrap();
    /// let mut b = Batch::new(&s, 1, 1).unwrap();
    /// assert_eq!(b.submit(Direction::Compress, vec![]).unwrap(), 0);
    /// ```
    pub fn submit(&mut self, direction: Direction, data: Vec<u8>) -> Result<u64> {
        let id = self.push(direction, data, None)?;
        self.in_flight += 1;
        Ok(id)
    }

    /// Submits a job whose completion is handed to `callback`: on a worker thread for jobs
    /// run in software, in the thread calling [`poll`](Batch::poll) / [`wait`](Batch::wait) /
    /// [`drain`](Batch::drain) for device jobs.
    ///
    /// ```
    /// use std::sync::mpsc;
    /// use uadk_zip::{Batch, Direction, Session};
    /// let s = Session::new(Default::default()).unwrap();
    /// let mut b = Batch::new(&s, 1, 4).unwrap();
    /// let (tx, rx) = mpsc::channel();
    /// b.submit_with(Direction::Compress, b"cb".to_vec(), move |c| tx.send(c.result.is_ok()).unwrap()).unwrap();
    /// assert!(rx.recv().unwrap());
    /// ```
    pub fn submit_with<F>(&mut self, direction: Direction, data: Vec<u8>, callback: F) -> Result<u64>
    where
        F: FnOnce(Completion) + Send + 'static,
    {
        self.push(direction, data, Some(Box::new(callback)))
    }

    /// A completion if one is ready, without blocking.
    ///
    /// ```
    /// let s = uadk_zip::Session::new(Default::default()).unwrap();
    /// let mut b = uadk_zip::Batch::new(&s, 1, 1).unwrap();
    /// assert!(b.poll().is_none());
    /// ```
    pub fn poll(&mut self) -> Option<Completion> {
        if self.ready.is_empty() {
            self.poll_device(Duration::ZERO);
        }
        let c = match self.ready.pop_front() {
            Some(c) => c,
            None => self.done.try_recv().ok()?,
        };
        self.in_flight -= 1;
        Some(c)
    }

    /// The next completion, blocking; `None` when no queue-bound job is in flight.
    ///
    /// ```
    /// let s = uadk_zip::Session::new(Default::default()).unwrap();
    /// let mut b = uadk_zip::Batch::new(&s, 1, 1).unwrap();
    /// assert!(b.wait().is_none());
    /// ```
    pub fn wait(&mut self) -> Option<Completion> {
        loop {
            if self.in_flight == 0 {
                // Device callbacks still owed run here, then there is nothing to wait for.
                while self.device_callbacks > 0 && self.device_in_flight() > 0 {
                    self.poll_device(Duration::from_millis(5));
                }
                return None;
            }
            if let Some(c) = self.poll() {
                return Some(c);
            }
            if self.device_in_flight() > 0 {
                self.poll_device(Duration::from_millis(1));
            } else {
                match self.done.recv_timeout(Duration::from_millis(5)) {
                    Ok(c) => {
                        self.in_flight -= 1;
                        return Some(c);
                    }
                    Err(mpsc::RecvTimeoutError::Timeout) => {}
                    Err(mpsc::RecvTimeoutError::Disconnected) => return None,
                }
            }
        }
    }

    /// Waits for every queue-bound job and returns the completions in completion order.
    ///
    /// ```
    /// let s = uadk_zip::Session::new(Default::default()).unwrap();
    /// let mut b = uadk_zip::Batch::new(&s, 1, 1).unwrap();
    /// assert!(b.drain().is_empty());
    /// ```
    pub fn drain(&mut self) -> Vec<Completion> {
        let mut v = Vec::with_capacity(self.in_flight);
        while let Some(c) = self.wait() {
            v.push(c);
        }
        v
    }

    /// Jobs submitted with [`submit`](Batch::submit) and not yet collected.
    ///
    /// ```
    /// let s = uadk_zip::Session::new(Default::default()).unwrap();
    /// assert_eq!(uadk_zip::Batch::new(&s, 1, 1).unwrap().in_flight(), 0);
    /// ```
    pub fn in_flight(&self) -> usize {
        self.in_flight
    }
}

impl Drop for Batch {
    fn drop(&mut self) {
        // Device jobs still in flight complete first (bounded), so their callbacks run and
        // jobs needing software reach the workers before those stop.
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while self.device_in_flight() > 0 && std::time::Instant::now() < deadline {
            self.poll_device(Duration::from_millis(5));
        }
        self.jobs = None;
        for h in self.workers.drain(..) {
            let _ = h.join();
        }
    }
}
