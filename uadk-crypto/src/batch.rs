//! Asynchronous submission: submit many jobs, collect completions from a queue with
//! `poll`/`wait`, or have a callback run for each. Jobs own their buffers and are processed
//! in place, so a completion hands the same allocation back without a copy.
//!
//! Today the jobs run on a pool of worker threads over the sessions' software or device
//! paths; a device driver with its own completion queue can complete them directly
//! without changing this API.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};
use std::thread::JoinHandle;
use std::time::Duration;

use parking_lot::Mutex;

use crate::backend::Route;
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
