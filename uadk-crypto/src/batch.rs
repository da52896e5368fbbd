//! Asynchronous submission: submit many jobs, collect completions from a queue with
//! `poll`/`wait`, or have a callback run for each. Jobs own their buffers and are processed
//! in place, so a completion hands the same allocation back without a copy.
//!
//! Two front-ends share [`Job`], [`Output`] and [`Completion`]:
//! - [`DeviceBatch`]: one thread submits and polls; jobs for a device go to its completion
//!   queues (many requests in flight on each of several queues), the others run in
//!   software at once, and a failed device request is redone in software (counted);
//! - [`BatchQueue`]: a pool of worker threads running each job on its session's synchronous
//!   path (software, or one device request at a time).

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use zeroize::Zeroize;

use crate::alg::Algorithm;
use crate::backend::{Backend, Crypto, Ran, Reason, Route};
use crate::device::{DeviceError, DeviceOp, DeviceQueues, DeviceRequest, Direction, Template, Verified};
use crate::error::{Error, Result};
use crate::{AeadSession, CipherSession, DigestSession};

/// One request, owning its data.
///
/// ```
/// use std::sync::Arc;
/// use uadk_crypto::{batch::Job, Crypto, DigestAlg, DigestSession};
/// let s = Arc::new(DigestSession::new(&Crypto::auto(), DigestAlg::Sha1).unwrap());
/// let job = Job::Digest { session: s, data: b"abc".to_vec() };
/// ```
#[derive(Debug)]
pub enum Job {
    /// Encrypt `data` in place from `iv`.
    Encrypt {
        /// The session.
        session: Arc<CipherSession>,
        /// IV or tweak (empty for ECB).
        iv: Vec<u8>,
        /// Plaintext, becomes ciphertext.
        data: Vec<u8>,
    },
    /// Decrypt `data` in place from `iv`.
    Decrypt {
        /// The session.
        session: Arc<CipherSession>,
        /// IV or tweak (empty for ECB).
        iv: Vec<u8>,
        /// Ciphertext, becomes plaintext.
        data: Vec<u8>,
    },
    /// Digest or HMAC of `data`.
    Digest {
        /// The session.
        session: Arc<DigestSession>,
        /// The message.
        data: Vec<u8>,
    },
    /// AEAD seal of `data` in place.
    Seal {
        /// The session.
        session: Arc<AeadSession>,
        /// Nonce.
        nonce: Vec<u8>,
        /// Additional authenticated data.
        aad: Vec<u8>,
        /// Plaintext, becomes ciphertext.
        data: Vec<u8>,
    },
    /// AEAD open of `data` in place; on a bad tag the data is wiped and dropped.
    Open {
        /// The session.
        session: Arc<AeadSession>,
        /// Nonce.
        nonce: Vec<u8>,
        /// Additional authenticated data.
        aad: Vec<u8>,
        /// Ciphertext, becomes plaintext.
        data: Vec<u8>,
        /// The tag to verify.
        tag: Vec<u8>,
    },
}

/// What a finished job gives back.
///
/// ```
/// use uadk_crypto::batch::Output;
/// let out = Output::Digest(vec![0; 32]);
/// assert!(matches!(out, Output::Digest(d) if d.len() == 32));
/// ```
#[derive(Debug)]
pub enum Output {
    /// Cipher output or opened plaintext (the job's own buffer).
    Data(Vec<u8>),
    /// A digest or MAC.
    Digest(Vec<u8>),
    /// Sealed ciphertext (the job's buffer) and its tag.
    Sealed {
        /// Ciphertext.
        ciphertext: Vec<u8>,
        /// Tag.
        tag: Vec<u8>,
    },
}

/// A finished job.
///
/// ```
/// use std::{sync::Arc, time::Duration};
/// use uadk_crypto::{batch::{BatchQueue, Job}, Crypto, DigestAlg, DigestSession};
/// let q = BatchQueue::new(1);
/// let s = Arc::new(DigestSession::new(&Crypto::auto(), DigestAlg::Sm3).unwrap());
/// let id = q.submit(Job::Digest { session: s, data: vec![] }).unwrap();
/// let c = q.wait(Duration::from_secs(5)).unwrap();
/// assert_eq!(c.id, id);
/// assert!(c.result.is_ok());
/// ```
#[derive(Debug)]
pub struct Completion {
    /// The id `submit` returned.
    pub id: u64,
    /// The output and where it ran, or the error.
    pub result: Result<(Output, Route)>,
}

type Callback = Box<dyn FnOnce(Completion) + Send>;

struct Work {
    id: u64,
    job: Job,
    callback: Option<Callback>,
}

fn run(job: Job) -> Result<(Output, Route)> {
    match job {
        Job::Encrypt {
            session,
            iv,
            mut data,
        } => {
            let r = session.encrypt_in_place(&iv, &mut data)?;
            Ok((Output::Data(data), r))
        }
        Job::Decrypt {
            session,
            iv,
            mut data,
        } => {
            let r = session.decrypt_in_place(&iv, &mut data)?;
            Ok((Output::Data(data), r))
        }
        Job::Digest { session, data } => {
            let mut out = vec![0u8; session.output_len()];
            let r = session.digest(&data, &mut out)?;
            Ok((Output::Digest(out), r))
        }
        Job::Seal {
            session,
            nonce,
            aad,
            mut data,
        } => {
            let mut tag = vec![0u8; session.tag_len()];
            let r = session.seal_in_place(&nonce, &aad, &mut data, &mut tag)?;
            Ok((
                Output::Sealed {
                    ciphertext: data,
                    tag,
                },
                r,
            ))
        }
        Job::Open {
            session,
            nonce,
            aad,
            mut data,
            tag,
        } => {
            let r = session.open_in_place(&nonce, &aad, &mut data, &tag)?;
            Ok((Output::Data(data), r))
        }
    }
}

/// A submission queue with worker threads and a completion queue.
///
/// ```
/// use std::{sync::Arc, time::Duration};
/// use uadk_crypto::{batch::{BatchQueue, Job, Output}, Crypto, DigestAlg, DigestSession};
/// let q = BatchQueue::new(2);
/// let s = Arc::new(DigestSession::new(&Crypto::auto(), DigestAlg::Sha256).unwrap());
/// for i in 0..10u8 {
///     q.submit(Job::Digest { session: s.clone(), data: vec![i; 100] }).unwrap();
/// }
/// let mut done = 0;
/// while done < 10 {
///     let c = q.wait(Duration::from_secs(5)).expect("completion");
///     assert!(matches!(c.result, Ok((Output::Digest(_), _))));
///     done += 1;
/// }
/// ```
pub struct BatchQueue {
    tx: Option<mpsc::Sender<Work>>,
    /// Keeps the completion channel open while no worker is alive.
    _done_tx: mpsc::Sender<Completion>,
    done_rx: Mutex<mpsc::Receiver<Completion>>,
    workers: Vec<JoinHandle<()>>,
    next_id: AtomicU64,
    in_flight: Arc<AtomicUsize>,
}

impl std::fmt::Debug for BatchQueue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BatchQueue")
            .field("workers", &self.workers.len())
            .field("in_flight", &self.in_flight())
            .finish()
    }
}

impl BatchQueue {
    /// A queue served by `workers` threads (at least one).
    ///
    /// ```
    /// let q = uadk_crypto::batch::BatchQueue::new(1);
    /// assert_eq!(q.in_flight(), 0);
    /// ```
    pub fn new(workers: usize) -> BatchQueue {
        let (tx, rx) = mpsc::channel::<Work>();
        let rx = Arc::new(Mutex::new(rx));
        let (done_tx, done_rx) = mpsc::channel();
        let in_flight = Arc::new(AtomicUsize::new(0));
        let workers = (0..workers.max(1))
            .map(|_| {
                let rx = Arc::clone(&rx);
                let done = done_tx.clone();
                let in_flight = Arc::clone(&in_flight);
                std::thread::spawn(move || loop {
                    let next = rx.lock().recv();
                    let Ok(w) = next else { break };
                    let c = Completion {
                        id: w.id,
                        result: run(w.job),
                    };
                    in_flight.fetch_sub(1, Ordering::AcqRel);
                    match w.callback {
                        Some(cb) => cb(c),
                        None => {
                            // The queue owner may be gone; nothing to deliver to then.
                            let _ = done.send(c);
                        }
                    }
                })
            })
            .collect();
        BatchQueue {
            tx: Some(tx),
            _done_tx: done_tx,
            done_rx: Mutex::new(done_rx),
            workers,
            next_id: AtomicU64::new(1),
            in_flight,
        }
    }

    fn push(&self, job: Job, callback: Option<Callback>) -> Result<u64> {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let tx = self.tx.as_ref().ok_or(Error::QueueClosed)?;
        self.in_flight.fetch_add(1, Ordering::AcqRel);
        tx.send(Work { id, job, callback }).map_err(|_| {
            self.in_flight.fetch_sub(1, Ordering::AcqRel);
            Error::QueueClosed
        })?;
        Ok(id)
    }

    /// Submits a job; its completion goes to the completion queue. Returns its id.
    ///
    /// # Errors
    /// [`Error::QueueClosed`] when the workers are gone.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use uadk_crypto::{batch::{BatchQueue, Job}, CipherAlg, CipherSession};
    /// let q = BatchQueue::new(1);
    /// let s = Arc::new(CipherSession::software(CipherAlg::from_name("aes-128-ctr").unwrap(), &[1; 16]).unwrap());
    /// let id = q.submit(Job::Encrypt { session: s, iv: vec![0; 16], data: vec![0; 64] }).unwrap();
    /// assert_eq!(q.wait(std::time::Duration::from_secs(5)).unwrap().id, id);
    /// ```
    pub fn submit(&self, job: Job) -> Result<u64> {
        self.push(job, None)
    }

    /// Submits a job whose completion is passed to `callback` on a worker thread.
    ///
    /// # Errors
    /// [`Error::QueueClosed`] when the workers are gone.
    ///
    /// ```
    /// use std::sync::{Arc, mpsc};
    /// use uadk_crypto::{batch::{BatchQueue, Job}, Crypto, DigestAlg, DigestSession};
    /// let q = BatchQueue::new(1);
    /// let s = Arc::new(DigestSession::new(&Crypto::auto(), DigestAlg::Sm3).unwrap());
    /// let (tx, rx) = mpsc::channel();
    /// q.submit_with(Job::Digest { session: s, data: b"abc".to_vec() }, move |c| tx.send(c.id).unwrap()).unwrap();
    /// assert!(rx.recv().is_ok());
    /// ```
    pub fn submit_with(&self, job: Job, callback: impl FnOnce(Completion) + Send + 'static) -> Result<u64> {
        self.push(job, Some(Box::new(callback)))
    }

    /// A finished job, if one is waiting (never blocks).
    ///
    /// ```
    /// assert!(uadk_crypto::batch::BatchQueue::new(1).poll().is_none());
    /// ```
    pub fn poll(&self) -> Option<Completion> {
        self.done_rx.lock().try_recv().ok()
    }

    /// Waits up to `timeout` for a finished job.
    ///
    /// ```
    /// let q = uadk_crypto::batch::BatchQueue::new(1);
    /// assert!(q.wait(std::time::Duration::from_millis(1)).is_none());
    /// ```
    pub fn wait(&self, timeout: Duration) -> Option<Completion> {
        self.done_rx.lock().recv_timeout(timeout).ok()
    }

    /// Jobs submitted and not yet finished.
    ///
    /// ```
    /// assert_eq!(uadk_crypto::batch::BatchQueue::new(1).in_flight(), 0);
    /// ```
    pub fn in_flight(&self) -> usize {
        self.in_flight.load(Ordering::Acquire)
    }
}

impl Drop for BatchQueue {
    fn drop(&mut self) {
        // Closing the channel lets each worker finish queued jobs and exit.
        self.tx = None;
        for w in self.workers.drain(..) {
            let _ = w.join();
        }
    }
}

/// Asynchronous jobs through device completion queues, driven by one thread.
///
/// [`DeviceBatch::submit`] sends a job to a device queue without waiting when its session
/// has a device session, the request is at or above the small-packet threshold and the
/// device takes its shape; the other jobs run in software right away (their completions
/// are queued the same way). [`DeviceBatch::poll`]/[`DeviceBatch::wait`] collect
/// completions; a job whose device request fails is redone in software from its untouched
/// input (counted as a fallback) when the context allows fallback, and is an error
/// otherwise. An AEAD open whose tag does not verify completes with
/// [`Error::AuthenticationFailed`] and no plaintext (the device's output is zeroed).
///
/// The batch opens its own queues (several per device, each with many requests in flight),
/// so one thread keeps them all busy: while it runs software jobs or prepares the next
/// request, the device works through the ones already submitted. Dropping the batch stops
/// its queues before the buffers of requests still in flight are freed.
///
/// ```
/// use std::{sync::Arc, time::Duration};
/// use uadk_crypto::{batch::{DeviceBatch, Job, Output}, Crypto, DigestAlg, DigestSession};
/// let crypto = Crypto::auto(); // no device registered: every job runs in software
/// let mut b = DeviceBatch::new(&crypto, 4).unwrap();
/// let s = Arc::new(DigestSession::new(&crypto, DigestAlg::Sha256).unwrap());
/// for i in 0..10u8 {
///     b.submit(Job::Digest { session: s.clone(), data: vec![i; 1000] }).unwrap();
/// }
/// let done = b.drain(Duration::from_secs(5));
/// assert_eq!(done.len(), 10);
/// assert!(done.iter().all(|c| matches!(c.result, Ok((Output::Digest(_), _)))));
/// ```
pub struct DeviceBatch {
    devices: Vec<(String, Box<dyn DeviceQueues>)>,
    shells: HashMap<u64, Shell>,
    ready: VecDeque<Completion>,
    callbacks: HashMap<u64, Callback>,
    next_id: u64,
}

impl std::fmt::Debug for DeviceBatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeviceBatch")
            .field("devices", &self.devices.iter().map(|d| &d.0).collect::<Vec<_>>())
            .field("in_flight", &self.in_flight())
            .finish()
    }
}

/// What a job needs besides its buffers (which travel in the device request).
enum Shell {
    Cipher(Arc<CipherSession>, Direction, Vec<u8>),
    Digest(Arc<DigestSession>),
    Aead(Arc<AeadSession>, bool, Vec<u8>),
}

impl DeviceBatch {
    /// Opens `queues_per_device` queues on every device registered with `crypto` that has an
    /// asynchronous interface (none: every job runs in software).
    ///
    /// # Errors
    /// [`Error::NoDevice`] under `Backend::Device` when no device queue could be opened.
    ///
    /// ```
    /// let b = uadk_crypto::batch::DeviceBatch::new(&uadk_crypto::Crypto::auto(), 2).unwrap();
    /// assert_eq!(b.device_queues(), 0);
    /// ```
    pub fn new(crypto: &Crypto, queues_per_device: usize) -> Result<DeviceBatch> {
        let mut devices = Vec::new();
        let mut why = "no SEC device is registered".to_string();
        if crypto.backend() != Backend::Software {
            for d in crypto.devices() {
                match d.open_queues(queues_per_device) {
                    Ok(q) => devices.push((d.name(), q)),
                    Err(e) => why = format!("{}: {e}", d.name()),
                }
            }
        }
        if devices.is_empty() && crypto.backend() == Backend::Device {
            return Err(Error::NoDevice { alg: "batch", why });
        }
        Ok(DeviceBatch {
            devices,
            shells: HashMap::new(),
            ready: VecDeque::new(),
            callbacks: HashMap::new(),
            next_id: 1,
        })
    }

    /// How many devices this batch has queues on.
    ///
    /// ```
    /// let b = uadk_crypto::batch::DeviceBatch::new(&uadk_crypto::Crypto::auto(), 2).unwrap();
    /// assert_eq!(b.device_queues(), 0);
    /// ```
    pub fn device_queues(&self) -> usize {
        self.devices.len()
    }

    /// Submits a job; returns its id. Device jobs are in flight when this returns (if every
    /// queue is full it first collects completions to make room); software jobs are done.
    ///
    /// # Errors
    /// None today (a job's own failure is reported in its completion); kept for queue
    /// failures a future device may report at submission.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use uadk_crypto::{batch::{DeviceBatch, Job}, CipherAlg, CipherSession, Crypto};
    /// let mut b = DeviceBatch::new(&Crypto::auto(), 1).unwrap();
    /// let s = Arc::new(CipherSession::software(CipherAlg::from_name("sm4-ctr").unwrap(), &[1; 16]).unwrap());
    /// let id = b.submit(Job::Encrypt { session: s, iv: vec![0; 16], data: vec![0; 64] }).unwrap();
    /// assert_eq!(b.poll().unwrap().id, id);
    /// ```
    pub fn submit(&mut self, job: Job) -> Result<u64> {
        let id = self.next_id;
        self.next_id += 1;
        self.start(id, job);
        Ok(id)
    }

    /// Submits a job whose completion is passed to `callback` (on the thread that polls, or
    /// right away for a job that runs in software).
    ///
    /// # Errors
    /// As [`DeviceBatch::submit`].
    ///
    /// ```
    /// use std::sync::{Arc, atomic::{AtomicUsize, Ordering}};
    /// use uadk_crypto::{batch::{DeviceBatch, Job}, Crypto, DigestAlg, DigestSession};
    /// let mut b = DeviceBatch::new(&Crypto::auto(), 1).unwrap();
    /// let s = Arc::new(DigestSession::new(&Crypto::auto(), DigestAlg::Sm3).unwrap());
    /// let n = Arc::new(AtomicUsize::new(0));
    /// let n2 = n.clone();
    /// b.submit_with(Job::Digest { session: s, data: b"abc".to_vec() }, move |c| {
    ///     assert!(c.result.is_ok());
    ///     n2.fetch_add(1, Ordering::Relaxed);
    /// }).unwrap();
    /// b.drain(std::time::Duration::from_secs(1));
    /// assert_eq!(n.load(Ordering::Relaxed), 1);
    /// ```
    pub fn submit_with(
        &mut self,
        job: Job,
        callback: impl FnOnce(Completion) + Send + 'static,
    ) -> Result<u64> {
        let id = self.next_id;
        self.next_id += 1;
        self.callbacks.insert(id, Box::new(callback));
        self.start(id, job);
        Ok(id)
    }

    /// A finished job, if one is ready (collects device completions; never blocks).
    ///
    /// ```
    /// let mut b = uadk_crypto::batch::DeviceBatch::new(&uadk_crypto::Crypto::auto(), 1).unwrap();
    /// assert!(b.poll().is_none());
    /// ```
    pub fn poll(&mut self) -> Option<Completion> {
        if self.ready.is_empty() {
            self.reap();
        }
        self.ready.pop_front()
    }

    /// Waits up to `timeout` for a finished job (`None` when nothing is in flight or the
    /// time is up).
    ///
    /// ```
    /// let mut b = uadk_crypto::batch::DeviceBatch::new(&uadk_crypto::Crypto::auto(), 1).unwrap();
    /// assert!(b.wait(std::time::Duration::from_millis(1)).is_none());
    /// ```
    pub fn wait(&mut self, timeout: Duration) -> Option<Completion> {
        let start = Instant::now();
        loop {
            if let Some(c) = self.poll() {
                return Some(c);
            }
            let left = timeout.saturating_sub(start.elapsed());
            if self.in_flight() == 0 || left.is_zero() {
                return None;
            }
            self.sleep(left.min(Duration::from_millis(2)));
        }
    }

    /// Waits for every job in flight (up to `timeout` without progress) and returns the
    /// completions not delivered to callbacks.
    ///
    /// ```
    /// let mut b = uadk_crypto::batch::DeviceBatch::new(&uadk_crypto::Crypto::auto(), 1).unwrap();
    /// assert!(b.drain(std::time::Duration::from_millis(1)).is_empty());
    /// ```
    pub fn drain(&mut self, timeout: Duration) -> Vec<Completion> {
        let mut out: Vec<Completion> = self.ready.drain(..).collect();
        while self.in_flight() > 0 {
            match self.wait(timeout) {
                Some(c) => out.push(c),
                None if self.in_flight() > 0 && self.ready.is_empty() => break,
                None => {}
            }
            out.extend(self.ready.drain(..));
        }
        out
    }

    /// Device requests submitted and not yet completed.
    ///
    /// ```
    /// let b = uadk_crypto::batch::DeviceBatch::new(&uadk_crypto::Crypto::auto(), 1).unwrap();
    /// assert_eq!(b.in_flight(), 0);
    /// ```
    pub fn in_flight(&self) -> usize {
        self.devices.iter().map(|(_, d)| d.in_flight()).sum()
    }

    fn sleep(&mut self, d: Duration) {
        if let Some((_, q)) = self.devices.iter_mut().max_by_key(|(_, q)| q.in_flight()) {
            q.wait(d);
        }
    }

    fn deliver(&mut self, c: Completion) {
        match self.callbacks.remove(&c.id) {
            Some(cb) => cb(c),
            None => self.ready.push_back(c),
        }
    }

    /// Collects device completions, redoing failed requests in software.
    fn reap(&mut self) {
        let mut finished = Vec::new();
        for (name, q) in self.devices.iter_mut() {
            q.poll(&mut |req, r| finished.push((name.clone(), req, r)));
        }
        for (name, req, r) in finished {
            let Some(shell) = self.shells.remove(&req.token) else {
                continue;
            };
            let c = Completion {
                id: req.token,
                result: finish(&name, shell, req, r),
            };
            self.deliver(c);
        }
    }

    fn start(&mut self, id: u64, job: Job) {
        let (shell, req) = match prepare(id, job) {
            Ok(x) => x,
            Err(Prepared::Done(result)) => return self.deliver(Completion { id, result }),
            Err(Prepared::Software(job)) => {
                return self.deliver(Completion { id, result: run(job) });
            }
        };
        let Some(k) = self.devices.iter().position(|(_, q)| q.owns(&req.template)) else {
            // The session's device is not one this batch has queues on: its own path.
            let job = unshell(shell, req);
            return self.deliver(Completion { id, result: run(job) });
        };
        let mut req = req;
        loop {
            if self.devices[k].1.room() == 0 {
                self.reap();
                if self.devices[k].1.room() == 0 {
                    self.devices[k].1.wait(Duration::from_millis(1));
                    continue;
                }
            }
            match self.devices[k].1.submit(req) {
                Ok(()) => {
                    self.shells.insert(id, shell);
                    return;
                }
                Err((back, DeviceError::Busy)) if self.devices[k].1.in_flight() > 0 => {
                    req = back;
                    self.reap();
                }
                Err((back, e)) => {
                    let name = self.devices[k].0.clone();
                    let c = Completion {
                        id,
                        result: finish(&name, shell, back, Err(e)),
                    };
                    return self.deliver(c);
                }
            }
        }
    }
}

impl Drop for DeviceBatch {
    fn drop(&mut self) {
        // Queues first (stopping the hardware), then the requests they held.
        self.devices.clear();
    }
}

/// Why a job does not go to a device queue.
enum Prepared {
    /// Finished already (bad input).
    Done(Result<(Output, Route)>),
    /// Runs on the session's own path (software, or a device without queues here).
    Software(Job),
}

fn template_for(crypto: &Crypto, alg: Algorithm, len: usize, t: Option<Template>) -> Option<Template> {
    if crypto.backend() == Backend::Software || crypto.small_packet(alg, len).is_some() {
        return None;
    }
    t
}

/// Turns a job into a device request, or says why it stays in software.
#[allow(clippy::result_large_err)]
fn prepare(id: u64, job: Job) -> std::result::Result<(Shell, Box<DeviceRequest>), Prepared> {
    match job {
        Job::Encrypt { session, iv, data } => cipher_request(id, session, iv, data, Direction::Encrypt),
        Job::Decrypt { session, iv, data } => cipher_request(id, session, iv, data, Direction::Decrypt),
        Job::Digest { session, data } => {
            let t = template_for(
                session.context(),
                session.algorithm(),
                data.len(),
                session.device_template(),
            );
            match t {
                Some(t) if !data.is_empty() => {
                    let req = DeviceRequest::new(id, DeviceOp::Digest, t, data);
                    Ok((Shell::Digest(session), Box::new(req)))
                }
                _ => Err(Prepared::Software(Job::Digest { session, data })),
            }
        }
        Job::Seal {
            session,
            nonce,
            aad,
            data,
        } => {
            if let Err(e) = session.validate(&nonce, session.tag_len(), data.len()) {
                return Err(Prepared::Done(Err(e)));
            }
            let t = template_for(
                session.context(),
                Algorithm::Aead(session.alg()),
                data.len() + aad.len(),
                session.device_template(),
            );
            let t = match t {
                Some(t) if nonce.len() <= 16 && !data.is_empty() => t,
                _ => {
                    return Err(Prepared::Software(Job::Seal {
                        session,
                        nonce,
                        aad,
                        data,
                    }))
                }
            };
            let mut req = DeviceRequest::new(id, DeviceOp::Seal, t, data);
            req.iv[..nonce.len()].copy_from_slice(&nonce);
            req.iv_len = nonce.len();
            req.aad = aad;
            Ok((Shell::Aead(session, true, nonce), Box::new(req)))
        }
        Job::Open {
            session,
            nonce,
            aad,
            mut data,
            tag,
        } => {
            if let Err(e) = session.validate(&nonce, tag.len(), data.len()) {
                data.zeroize();
                return Err(Prepared::Done(Err(e)));
            }
            let t = template_for(
                session.context(),
                Algorithm::Aead(session.alg()),
                data.len() + aad.len(),
                session.device_template(),
            );
            let t = match t {
                Some(t) if nonce.len() <= 16 && tag.len() <= 16 && !data.is_empty() => t,
                _ => {
                    return Err(Prepared::Software(Job::Open {
                        session,
                        nonce,
                        aad,
                        data,
                        tag,
                    }))
                }
            };
            let mut req = DeviceRequest::new(id, DeviceOp::Open, t, data);
            req.iv[..nonce.len()].copy_from_slice(&nonce);
            req.iv_len = nonce.len();
            req.aad = aad;
            req.tag[..tag.len()].copy_from_slice(&tag);
            req.tag_len = tag.len();
            Ok((Shell::Aead(session, false, nonce), Box::new(req)))
        }
    }
}

#[allow(clippy::result_large_err)]
fn cipher_request(
    id: u64,
    session: Arc<CipherSession>,
    iv: Vec<u8>,
    data: Vec<u8>,
    dir: Direction,
) -> std::result::Result<(Shell, Box<DeviceRequest>), Prepared> {
    if let Err(e) = session.validate(&iv, data.len()) {
        return Err(Prepared::Done(Err(e)));
    }
    let t = template_for(
        session.crypto(),
        Algorithm::Cipher(session.alg()),
        data.len(),
        session.device_template(),
    );
    let t = match t {
        Some(t) if iv.len() <= 16 && !data.is_empty() => t,
        _ => {
            return Err(Prepared::Software(match dir {
                Direction::Encrypt => Job::Encrypt { session, iv, data },
                Direction::Decrypt => Job::Decrypt { session, iv, data },
            }))
        }
    };
    let op = match dir {
        Direction::Encrypt => DeviceOp::Encrypt,
        Direction::Decrypt => DeviceOp::Decrypt,
    };
    let mut req = DeviceRequest::new(id, op, t, data);
    req.iv[..iv.len()].copy_from_slice(&iv);
    req.iv_len = iv.len();
    Ok((Shell::Cipher(session, dir, iv), Box::new(req)))
}

/// The job back from a request that never reached a device.
#[allow(clippy::boxed_local)] // the request arrives boxed from the device queue
fn unshell(shell: Shell, mut req: Box<DeviceRequest>) -> Job {
    let data = std::mem::take(&mut req.data);
    match shell {
        Shell::Cipher(session, Direction::Encrypt, iv) => Job::Encrypt { session, iv, data },
        Shell::Cipher(session, Direction::Decrypt, iv) => Job::Decrypt { session, iv, data },
        Shell::Digest(session) => Job::Digest { session, data },
        Shell::Aead(session, true, nonce) => Job::Seal {
            session,
            nonce,
            aad: std::mem::take(&mut req.aad),
            data,
        },
        Shell::Aead(session, false, nonce) => Job::Open {
            session,
            nonce,
            aad: std::mem::take(&mut req.aad),
            data,
            tag: req.tag[..req.tag_len].to_vec(),
        },
    }
}

/// The job's result from its device outcome: the device's output, or (on a device error)
/// the software result from the untouched input when fallback is allowed.
#[allow(clippy::boxed_local)] // the request arrives boxed from the device queue
fn finish(
    dev: &str,
    shell: Shell,
    mut req: Box<DeviceRequest>,
    r: std::result::Result<(), DeviceError>,
) -> Result<(Output, Route)> {
    let (crypto, alg) = match &shell {
        Shell::Cipher(s, ..) => (s.crypto().clone(), Algorithm::Cipher(s.alg())),
        Shell::Digest(s) => (s.context().clone(), s.algorithm()),
        Shell::Aead(s, ..) => (s.context().clone(), Algorithm::Aead(s.alg())),
    };
    let len = req.data.len() + req.aad.len();
    let e = match r {
        Ok(()) => {
            let route = Route {
                ran: Ran::Device,
                reason: Reason::DeviceOffers(dev.to_string()),
            };
            let out = std::mem::take(&mut req.out);
            let output = match shell {
                Shell::Cipher(..) => Output::Data(out),
                Shell::Digest(_) => Output::Digest(out),
                Shell::Aead(_, true, _) => Output::Sealed {
                    ciphertext: out,
                    tag: req.tag[..req.tag_len].to_vec(),
                },
                Shell::Aead(s, false, _) => match req.verified {
                    Some(Verified::Yes) => Output::Data(out),
                    // A mismatch is an answer, not a device failure: no software retry,
                    // and nothing of the (zeroed) output is released.
                    _ => return Err(Error::AuthenticationFailed { alg: s.alg().name() }),
                },
            };
            crypto.count(&route, len);
            return Ok((output, route));
        }
        Err(e) => e,
    };
    if !crypto.may_fall_back() {
        crypto.count_device_error();
        return Err(Error::Device {
            alg: alg.name(),
            source: e,
        });
    }
    let reason = Reason::Fallback(e);
    let mut data = std::mem::take(&mut req.data);
    match shell {
        Shell::Cipher(s, dir, iv) => {
            let route = s.software_in_place(dir, &iv, &mut data, reason)?;
            Ok((Output::Data(data), route))
        }
        Shell::Digest(s) => {
            let mut out = vec![0u8; s.output_len()];
            let route = s.software_digest(&data, &mut out, reason)?;
            Ok((Output::Digest(out), route))
        }
        Shell::Aead(s, true, nonce) => {
            let mut tag = vec![0u8; s.tag_len()];
            let route = s.software_seal(&nonce, &req.aad, &mut data, &mut tag, reason)?;
            Ok((
                Output::Sealed {
                    ciphertext: data,
                    tag,
                },
                route,
            ))
        }
        Shell::Aead(s, false, nonce) => {
            let route = s.software_open(&nonce, &req.aad, &mut data, &req.tag[..req.tag_len], reason)?;
            Ok((Output::Data(data), route))
        }
    }
}
