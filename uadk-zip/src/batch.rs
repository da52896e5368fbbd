//! Asynchronous batches: submit many independent one-shot jobs, collect completions from a
//! completion queue ([`Batch::poll`] / [`Batch::wait`]) or through a callback.
//!
//! In software the jobs run on a pool of worker threads, so one submitting thread keeps
//! every core busy; a device engine's queues are driven the same way (each worker owns one
//! queue's requests), which keeps the API unchanged when hardware arrives.

use crate::backend::{Direction, Report};
use crate::error::{Error, Result};
use crate::session::Session;
use std::sync::mpsc;
use std::thread::JoinHandle;

type Callback = Box<dyn FnOnce(Completion) + Send>;

struct Job {
    id: u64,
    direction: Direction,
    data: Vec<u8>,
    callback: Option<Callback>,
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
                    let result = match job.direction {
                        Direction::Compress => s.compress_report(&job.data),
                        Direction::Decompress => s.decompress_report(&job.data),
                    };
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
        })
    }

    fn push(&mut self, direction: Direction, data: Vec<u8>, callback: Option<Callback>) -> Result<u64> {
        let id = self.next_id;
        self.next_id += 1;
        let job = Job {
            id,
            direction,
            data,
            callback,
        };
        self.jobs
            .as_ref()
            .and_then(|j| j.send(job).ok())
            .ok_or_else(|| Error::InvalidArgument("the batch's workers have stopped".into()))?;
        Ok(id)
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

    /// Submits a job whose completion is handed to `callback` on a worker thread.
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
        let c = self.done.try_recv().ok()?;
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
        if self.in_flight == 0 {
            return None;
        }
        let c = self.done.recv().ok()?;
        self.in_flight -= 1;
        Some(c)
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
        self.jobs = None;
        for h in self.workers.drain(..) {
            let _ = h.join();
        }
    }
}
