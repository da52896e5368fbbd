//! Throughput measurement of this crate against OpenSSL, in the same run.
//!
//! Each algorithm is timed three ways, interleaved in ten rounds so that load from other
//! processes hits all of them alike (best round wins; one thread is timed in thread CPU
//! time, several in wall time):
//! - `"impl":"uadk"`: a session of this crate (routing, counters, pooled engines),
//! - `"impl":"openssl"`: the system OpenSSL through the `openssl` crate, keyed once, as an
//!   OpenSSL user would call it (absent where OpenSSL 3.0 lacks the algorithm),
//! - `"impl":"direct"`: the provider this crate selected, called without the session layer;
//!   `uadk` / `direct` is the framework's own cost,
//! - one row per other candidate provider of the engine table (`"impl"`: `ring`,
//!   `aws-lc-rs`, `rustcrypto`; for HMAC also `openssl-digest`, our HMAC over OpenSSL's
//!   digest), called the same way as `direct`, so a user can see whether the table's choice
//!   is the fastest on their CPU.
//!
//! Ciphers encrypt and AEADs seal in place (16-byte tag, empty AAD, 12-byte nonce), as
//! UADK users pass src == dst; digests and HMAC hash the buffer.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use openssl::cipher_ctx::CipherCtx;
use openssl::hash::Hasher;
use openssl::pkey::PKey;
use openssl::sign::Signer;

use crate::alg::{AeadAlg, AeadMode, Algorithm, BlockCipher, CipherMode};
use crate::backend::{Backend, Crypto};
use crate::device::Direction;
use crate::error::{Error, Result};
use crate::software::{openssl as ossl, select, Provider};
use crate::{AeadSession, CipherSession, DigestSession};

/// Seconds of CPU time used by the calling thread (the clock of single-thread rows;
/// NaN if unavailable).
///
/// ```
/// let t = uadk_crypto::bench::thread_cpu_secs();
/// assert!(t >= 0.0);
/// ```
pub fn thread_cpu_secs() -> f64 {
    crate::cputime::thread_secs()
}

/// What to measure.
///
/// ```
/// use uadk_crypto::bench::BenchSpec;
/// let spec = BenchSpec::new(uadk_crypto::Algorithm::from_name("sha256").unwrap());
/// assert_eq!(spec.size, 16384);
/// ```
#[derive(Debug, Clone)]
pub struct BenchSpec {
    /// The algorithm.
    pub alg: Algorithm,
    /// Message size in bytes.
    pub size: usize,
    /// Threads, each with its own buffers (sessions are shared).
    pub threads: usize,
    /// Backend for the `uadk` rows.
    pub backend: Backend,
    /// Total time per implementation, split over the rounds.
    pub duration: Duration,
}

impl BenchSpec {
    /// 16 KiB, one thread, `Backend::Auto`, one second per implementation.
    ///
    /// ```
    /// let s = uadk_crypto::bench::BenchSpec::new(uadk_crypto::Algorithm::from_name("sm3").unwrap());
    /// assert_eq!(s.threads, 1);
    /// ```
    pub fn new(alg: Algorithm) -> BenchSpec {
        BenchSpec {
            alg,
            size: 16384,
            threads: 1,
            backend: Backend::Auto,
            duration: Duration::from_secs(1),
        }
    }
}

/// One result row (the JSON shape of `uadk bench crypto --json`).
///
/// ```
/// let row = uadk_crypto::bench::BenchRow {
///     imp: "uadk".into(), backend: "software".into(), alg: "sha256".into(),
///     size: 16384, threads: 1, mb_per_s: 1.0, ops_per_s: 1.0, detail: String::new(),
///     host_ns_per_op: None,
/// };
/// assert!(serde_json::to_string(&row).unwrap().contains("\"impl\":\"uadk\""));
/// ```
#[derive(Debug, Clone, serde::Serialize)]
pub struct BenchRow {
    /// `uadk`, `openssl`, `direct`, or a candidate provider (`ring`, `aws-lc-rs`,
    /// `rustcrypto`, `openssl-digest`).
    #[serde(rename = "impl")]
    pub imp: String,
    /// The backend that ran (`software`, `device`; `openssl`/`direct` rows: `software`).
    pub backend: String,
    /// Algorithm name.
    pub alg: String,
    /// Message size in bytes.
    pub size: usize,
    /// Threads.
    pub threads: usize,
    /// Megabytes (10^6 bytes) per second over all threads.
    pub mb_per_s: f64,
    /// Requests per second over all threads.
    pub ops_per_s: f64,
    /// Route of the last request (`uadk`) or the provider (`direct`).
    pub detail: String,
    /// `uadk-batch` rows: the submitting thread's own time per request in nanoseconds:
    /// inside `submit` (BD build, doorbell; software jobs run there) and inside the
    /// `poll` calls that returned a completion (CQ polling, status decoding, routing);
    /// the time spent waiting for the device is not included.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub host_ns_per_op: Option<f64>,
}

/// Largest benchmark message.
const MAX_SIZE: usize = 1 << 30;
/// Most benchmark threads.
const MAX_THREADS: usize = 1024;

/// A per-thread operation: runs one request on its own buffers.
type Op = Box<dyn FnMut() -> Result<()> + Send>;
/// Makes one `Op` per thread.
type Maker = Arc<dyn Fn() -> Result<Op> + Send + Sync>;

/// Measures `spec.alg` with every implementation available for it.
///
/// # Errors
/// A size outside 1 B..=1 GiB or threads outside 1..=1024, a size the mode cannot take (XTS below 16 B or above
/// 16 MiB, ECB/CBC not a block multiple), or `Backend::Device` without a device.
///
/// ```
/// use std::time::Duration;
/// use uadk_crypto::{bench::{run, BenchSpec}, Algorithm};
/// let mut spec = BenchSpec::new(Algorithm::from_name("sha1").unwrap());
/// spec.duration = Duration::from_millis(30);
/// let rows = run(&spec).unwrap();
/// assert!(rows.iter().any(|r| r.imp == "openssl"));
/// ```
pub fn run(spec: &BenchSpec) -> Result<Vec<BenchRow>> {
    run_on(&Crypto::new(spec.backend), spec)
}

/// As [`run`], with the `uadk` rows on `crypto` (its backend and registered devices; the
/// spec's backend is not used). With a device registered and a backend other than
/// software, the `uadk` row is timed in wall time (the device's work is not this thread's
/// CPU time).
///
/// # Errors
/// As [`run`].
///
/// ```
/// use std::time::Duration;
/// use uadk_crypto::{bench::{run_on, BenchSpec}, Algorithm, Crypto};
/// let mut spec = BenchSpec::new(Algorithm::from_name("sm3").unwrap());
/// spec.duration = Duration::from_millis(30);
/// assert!(!run_on(&Crypto::auto(), &spec).unwrap().is_empty());
/// ```
pub fn run_on(crypto: &Crypto, spec: &BenchSpec) -> Result<Vec<BenchRow>> {
    check_spec(spec)?;
    let wall = crypto.backend() != Backend::Software && !crypto.devices().is_empty();
    let (uadk, detail) = uadk_maker(crypto, spec)?;
    let mut makers: Vec<(&str, Maker, String)> = vec![("uadk", uadk, detail)];
    if let Some(m) = openssl_maker(spec)? {
        makers.push(("openssl", m, "openssl 3".to_string()));
    }
    let (direct, provider) = direct_maker(spec)?;
    makers.push(("direct", direct, provider));
    for p in select::candidates(spec.alg) {
        let hmac = matches!(spec.alg, Algorithm::Hmac(_));
        // OpenSSL's cipher, digest and AEAD engines are the `openssl` row's EVP calls; for
        // HMAC the `openssl` row is OpenSSL's own HMAC, and ours over its digest is a
        // candidate of its own.
        let imp = match p {
            Provider::OpenSsl if hmac => "openssl-digest",
            Provider::OpenSsl => continue,
            other => other.name(),
        };
        makers.push((imp, candidate_maker(spec, p)?, format!("candidate {p}")));
    }

    const ROUNDS: u32 = 10;
    let slice = spec.duration / ROUNDS;
    let mut best = vec![0f64; makers.len()];
    for _ in 0..ROUNDS {
        for (i, (imp, maker, _)) in makers.iter().enumerate() {
            best[i] = best[i].max(time(maker, spec.threads, slice, wall && *imp == "uadk")?);
        }
    }
    let ran = if crypto.stats().device_requests > 0 {
        "device"
    } else {
        "software"
    };
    Ok(makers
        .into_iter()
        .zip(best)
        .map(|((imp, _, detail), ops)| BenchRow {
            imp: imp.to_string(),
            backend: if imp == "uadk" { ran } else { "software" }.to_string(),
            alg: spec.alg.name().to_string(),
            size: spec.size,
            threads: spec.threads,
            mb_per_s: ops * spec.size as f64 / 1e6,
            ops_per_s: ops,
            detail,
            host_ns_per_op: None,
        })
        .collect())
}

/// Asynchronous throughput through [`crate::batch::DeviceBatch`]: one thread keeps
/// `depth` requests in flight over `queues` queues per device (wall time; `"impl":
/// "uadk-batch"`). Buffers are recycled from completions, as a streaming user would.
///
/// # Errors
/// As [`run`]; a job that fails.
///
/// ```
/// use std::time::Duration;
/// use uadk_crypto::{bench::{run_batch, BenchSpec}, Algorithm, Crypto};
/// let mut spec = BenchSpec::new(Algorithm::from_name("aes-128-ctr").unwrap());
/// spec.duration = Duration::from_millis(20);
/// let row = run_batch(&Crypto::auto(), &spec, 8, 2).unwrap();
/// assert_eq!(row.imp, "uadk-batch");
/// ```
pub fn run_batch(crypto: &Crypto, spec: &BenchSpec, depth: usize, queues: usize) -> Result<BenchRow> {
    use crate::batch::{DeviceBatch, Job, Output};
    check_spec(spec)?;
    let size = spec.size;
    let mut b = DeviceBatch::new(crypto, queues)?;
    let key = |n: usize| key_for(n);
    enum Kind {
        C(Arc<CipherSession>, Vec<u8>),
        D(Arc<DigestSession>),
        A(Arc<AeadSession>),
    }
    let kind = match spec.alg {
        Algorithm::Cipher(a) => Kind::C(
            Arc::new(CipherSession::new(crypto, a, &key(a.key_len()))?),
            vec![0u8; a.iv_len()],
        ),
        Algorithm::Digest(d) => Kind::D(Arc::new(DigestSession::new(crypto, d)?)),
        Algorithm::Hmac(d) => Kind::D(Arc::new(DigestSession::hmac(crypto, d, &key(32))?)),
        Algorithm::Aead(a) => Kind::A(Arc::new(AeadSession::new(crypto, a, &key(a.key_len()), 16)?)),
    };
    let job = |data: Vec<u8>| match &kind {
        Kind::C(s, iv) => Job::Encrypt {
            session: s.clone(),
            iv: iv.clone(),
            data,
        },
        Kind::D(s) => Job::Digest {
            session: s.clone(),
            data,
        },
        Kind::A(s) => Job::Seal {
            session: s.clone(),
            nonce: vec![0u8; 12],
            aad: Vec::new(),
            data,
        },
    };
    let depth = depth.clamp(1, 4096);
    let mut spare: Vec<Vec<u8>> = Vec::new();
    let mut detail = String::new();
    let start = Instant::now();
    let mut host = Duration::ZERO;
    let mut done = 0u64;
    let mut submitted = 0u64;
    while start.elapsed() < spec.duration || b.in_flight() > 0 {
        while start.elapsed() < spec.duration && b.in_flight() < depth {
            let mut data = spare.pop().unwrap_or_default();
            data.resize(size, 1);
            let job = job(data);
            let t = Instant::now();
            b.submit(job)?;
            host += t.elapsed();
            submitted += 1;
            if b.in_flight() == 0 {
                break; // the job ran in software: no device queue to fill
            }
        }
        let t = Instant::now();
        let c = match b.poll() {
            Some(c) => {
                host += t.elapsed();
                c
            }
            None => match b.wait(Duration::from_secs(5)) {
                Some(c) => c,
                None if b.in_flight() == 0 => continue,
                None => return Err(Error::provider(spec.alg.name(), "a device request took over 5 s")),
            },
        };
        let (out, route) = c.result?;
        done += 1;
        if detail.is_empty() || route.ran == crate::Ran::Device {
            detail = route.to_string();
        }
        match out {
            Output::Data(v) | Output::Sealed { ciphertext: v, .. } => spare.push(v),
            Output::Digest(_) => {}
        }
        if start.elapsed() >= spec.duration && done == submitted {
            break;
        }
    }
    let secs = start.elapsed().as_secs_f64().max(1e-9);
    let ops = done as f64 / secs;
    Ok(BenchRow {
        imp: "uadk-batch".into(),
        backend: if crypto.stats().device_requests > 0 {
            "device"
        } else {
            "software"
        }
        .into(),
        alg: spec.alg.name().to_string(),
        size,
        threads: 1,
        mb_per_s: ops * size as f64 / 1e6,
        ops_per_s: ops,
        detail: format!("{depth} in flight, {queues} queues; {detail}"),
        host_ns_per_op: (done > 0).then(|| host.as_nanos() as f64 / done as f64),
    })
}

fn check_spec(spec: &BenchSpec) -> Result<()> {
    if spec.size == 0 || spec.threads == 0 || spec.size > MAX_SIZE || spec.threads > MAX_THREADS {
        return Err(Error::DataLength {
            alg: spec.alg.name(),
            len: spec.size,
            rule: "benchmarks take sizes from 1 B to 1 GiB and 1 to 1024 threads",
        });
    }
    Ok(())
}

/// Runs `threads` copies of the op for `slice`; returns requests per second. One thread
/// is timed in its own CPU time, several in wall time.
fn time(maker: &Maker, threads: usize, slice: Duration, wall_clock: bool) -> Result<f64> {
    let mut ops = Vec::with_capacity(threads);
    for _ in 0..threads {
        let mut op = maker()?;
        op()?; // warm up: first use keys engines, faults pages in
        ops.push(op);
    }
    if threads == 1 {
        let mut op = ops.pop().expect("one op");
        let (wall, cpu) = (Instant::now(), crate::cputime::thread_secs());
        let mut n = 0u64;
        while wall.elapsed() < slice {
            for _ in 0..8 {
                op()?;
            }
            n += 8;
        }
        let secs = crate::cputime::thread_secs() - cpu;
        let secs = if !wall_clock && secs.is_finite() && secs > 0.0 {
            secs
        } else {
            wall.elapsed().as_secs_f64()
        };
        return Ok(n as f64 / secs);
    }
    let stop = Arc::new(AtomicBool::new(false));
    let start = Instant::now();
    let counts: Vec<Result<u64>> = std::thread::scope(|sc| {
        let handles: Vec<_> = ops
            .into_iter()
            .map(|mut op| {
                let stop = Arc::clone(&stop);
                sc.spawn(move || -> Result<u64> {
                    let mut n = 0u64;
                    while !stop.load(Ordering::Relaxed) {
                        for _ in 0..8 {
                            op()?;
                        }
                        n += 8;
                    }
                    Ok(n)
                })
            })
            .collect();
        std::thread::sleep(slice);
        stop.store(true, Ordering::Relaxed);
        handles.into_iter().map(|h| h.join().unwrap_or(Ok(0))).collect()
    });
    let secs = start.elapsed().as_secs_f64();
    let mut total = 0;
    for c in counts {
        total += c?;
    }
    Ok(total as f64 / secs)
}

/// A benchmark buffer of `len` bytes (all 1) starting on a 64-byte boundary. Every
/// implementation gets one, so that where the allocator happened to put a buffer does not
/// favour one of them: AVX-512 kernels run a few percent slower when each 64-byte load
/// straddles two cache lines.
struct Aligned {
    v: Vec<u8>,
    off: usize,
    len: usize,
}

fn aligned(len: usize) -> Aligned {
    let v = vec![1u8; len + 64];
    let off = v.as_ptr().align_offset(64).min(64);
    Aligned { v, off, len }
}

impl std::ops::Deref for Aligned {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        &self.v[self.off..self.off + self.len]
    }
}

impl std::ops::DerefMut for Aligned {
    fn deref_mut(&mut self) -> &mut [u8] {
        &mut self.v[self.off..self.off + self.len]
    }
}

fn key_for(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 7 + 1) as u8).collect()
}

fn uadk_maker(crypto: &Crypto, spec: &BenchSpec) -> Result<(Maker, String)> {
    let size = spec.size;
    Ok(match spec.alg {
        Algorithm::Cipher(alg) => {
            let s = Arc::new(CipherSession::new(crypto, alg, &key_for(alg.key_len()))?);
            let iv = vec![0u8; alg.iv_len()];
            let mut probe = vec![0u8; size];
            let detail = s.encrypt(&iv, &vec![0u8; size], &mut probe)?.to_string();
            let m: Maker = Arc::new(move || {
                let s = Arc::clone(&s);
                let iv = iv.clone();
                let mut buf = aligned(size);
                Ok(Box::new(move || s.encrypt_in_place(&iv, &mut buf).map(drop)) as Op)
            });
            (m, detail)
        }
        Algorithm::Digest(_) | Algorithm::Hmac(_) => {
            let s = Arc::new(match spec.alg {
                Algorithm::Hmac(d) => DigestSession::hmac(crypto, d, &key_for(32))?,
                Algorithm::Digest(d) => DigestSession::new(crypto, d)?,
                _ => unreachable!("matched above"),
            });
            let detail = s.digest_to_vec(&vec![0u8; size]).map(drop).and_then(|_| {
                let mut out = vec![0u8; s.output_len()];
                s.digest(&[0u8; 1], &mut out).map(|r| r.to_string())
            })?;
            let m: Maker = Arc::new(move || {
                let s = Arc::clone(&s);
                let (input, mut out) = (aligned(size), vec![0u8; s.output_len()]);
                Ok(Box::new(move || s.digest(&input, &mut out).map(drop)) as Op)
            });
            (m, detail)
        }
        Algorithm::Aead(alg) => {
            let s = Arc::new(AeadSession::new(crypto, alg, &key_for(alg.key_len()), 16)?);
            let nonce = vec![0u8; 12];
            let mut probe = vec![0u8; size];
            let mut tag = [0u8; 16];
            let detail = s
                .seal(&nonce, &[], &vec![0u8; size], &mut probe, &mut tag)?
                .to_string();
            let m: Maker = Arc::new(move || {
                let s = Arc::clone(&s);
                let nonce = nonce.clone();
                let (mut buf, mut tag) = (aligned(size), [0u8; 16]);
                Ok(Box::new(move || s.seal_in_place(&nonce, &[], &mut buf, &mut tag).map(drop)) as Op)
            });
            (m, detail)
        }
    })
}

fn openssl_err(alg: &'static str) -> impl Fn(openssl::error::ErrorStack) -> Error {
    move |e| Error::provider(alg, e)
}

/// The OpenSSL peer, when OpenSSL 3.0 has the algorithm.
fn openssl_maker(spec: &BenchSpec) -> Result<Option<Maker>> {
    let size = spec.size;
    let name = spec.alg.name();
    Ok(Some(match spec.alg {
        Algorithm::Cipher(alg) => {
            let Some(cipher) = ossl::cipher_ref(alg) else {
                return Ok(None);
            };
            Arc::new(move || {
                let e = openssl_err(name);
                let mut ctx = CipherCtx::new().map_err(&e)?;
                ctx.encrypt_init(Some(cipher), Some(&key_for(alg.key_len())), None)
                    .map_err(&e)?;
                ctx.set_padding(false);
                let iv = vec![0u8; alg.iv_len()];
                // The safe in-place call wants one spare block for block modes.
                let mut buf = aligned(size + 16);
                Ok(Box::new(move || {
                    if !iv.is_empty() {
                        ctx.encrypt_init(None, None, Some(&iv)).map_err(&e)?;
                    }
                    ctx.cipher_update_inplace(&mut buf, size).map_err(&e)?;
                    Ok(())
                }) as Op)
            })
        }
        Algorithm::Digest(d) => Arc::new(move || {
            let e = openssl_err(name);
            let mut h = Hasher::new(ossl::message_digest(d)).map_err(&e)?;
            let input = aligned(size);
            Ok(Box::new(move || {
                h.update(&input).map_err(&e)?;
                h.finish().map_err(&e)?;
                Ok(())
            }) as Op)
        }),
        Algorithm::Hmac(d) => Arc::new(move || {
            let e = openssl_err(name);
            let key = PKey::hmac(&key_for(32)).map_err(&e)?;
            let input = aligned(size);
            let mut out = vec![0u8; 64];
            Ok(Box::new(move || {
                let mut s = Signer::new(ossl::message_digest(d), &key).map_err(&e)?;
                s.update(&input).map_err(&e)?;
                s.sign(&mut out).map_err(&e)?;
                Ok(())
            }) as Op)
        }),
        Algorithm::Aead(alg) => {
            let cipher = match (alg.block, alg.mode) {
                (BlockCipher::Sm4, _) => return Ok(None),
                (BlockCipher::Aes128, AeadMode::Gcm) => openssl::cipher::Cipher::aes_128_gcm(),
                (BlockCipher::Aes192, AeadMode::Gcm) => openssl::cipher::Cipher::aes_192_gcm(),
                (BlockCipher::Aes256, AeadMode::Gcm) => openssl::cipher::Cipher::aes_256_gcm(),
                (BlockCipher::Aes128, AeadMode::Ccm) => openssl::cipher::Cipher::aes_128_ccm(),
                (BlockCipher::Aes192, AeadMode::Ccm) => openssl::cipher::Cipher::aes_192_ccm(),
                (BlockCipher::Aes256, AeadMode::Ccm) => openssl::cipher::Cipher::aes_256_ccm(),
            };
            openssl_aead(alg, cipher, size)
        }
    }))
}

fn openssl_aead(alg: AeadAlg, cipher: &'static openssl::cipher::CipherRef, size: usize) -> Maker {
    let name = alg.name();
    Arc::new(move || {
        let e = openssl_err(name);
        let key = key_for(alg.key_len());
        let mut ctx = CipherCtx::new().map_err(&e)?;
        let ccm = alg.mode == AeadMode::Ccm;
        if !ccm {
            ctx.encrypt_init(Some(cipher), Some(&key), None).map_err(&e)?;
        }
        let nonce = [0u8; 12];
        let (mut buf, mut tag) = (aligned(size), [0u8; 16]);
        Ok(Box::new(move || {
            if ccm {
                ctx.encrypt_init(Some(cipher), None, None).map_err(&e)?;
                ctx.set_iv_length(12).map_err(&e)?;
                ctx.set_tag_length(16).map_err(&e)?;
                ctx.encrypt_init(None, Some(&key), Some(&nonce)).map_err(&e)?;
                ctx.set_data_len(size).map_err(&e)?;
            } else {
                ctx.encrypt_init(None, None, Some(&nonce)).map_err(&e)?;
            }
            ctx.cipher_update_inplace(&mut buf, size).map_err(&e)?;
            ctx.cipher_final(&mut []).map_err(&e)?;
            ctx.tag(&mut tag).map_err(&e)?;
            Ok(())
        }) as Op)
    })
}

/// Provider `p`'s engine for the algorithm, without the session layer (as `direct`).
fn candidate_maker(spec: &BenchSpec, p: Provider) -> Result<Maker> {
    let size = spec.size;
    Ok(match spec.alg {
        Algorithm::Cipher(alg) => Arc::new(move || {
            let mut e = select::cipher_with(p, alg, &key_for(alg.key_len()), Direction::Encrypt)?;
            let iv = vec![0u8; alg.iv_len()];
            let mut buf = aligned(size);
            Ok(Box::new(move || {
                e.start(&iv)?;
                e.update_in_place(&mut buf)
            }) as Op)
        }),
        Algorithm::Digest(d) => Arc::new(move || {
            let mut e = select::digest_with(p, d)?;
            let (input, mut out) = (aligned(size), vec![0u8; d.output_len()]);
            Ok(Box::new(move || {
                e.update(&input)?;
                e.finish(&mut out)
            }) as Op)
        }),
        Algorithm::Hmac(d) => Arc::new(move || {
            let st = crate::hmac::HmacState::with_provider(p, d, &key_for(32))?;
            let (input, mut out) = (aligned(size), vec![0u8; d.output_len()]);
            Ok(Box::new(move || {
                let mut inner = st.start()?;
                inner.update(&input)?;
                st.finish(inner.as_mut(), &mut out)
            }) as Op)
        }),
        Algorithm::Aead(alg) => Arc::new(move || {
            let mut e = select::aead_with(p, alg, &key_for(alg.key_len()), 16)?;
            let (mut buf, mut tag) = (aligned(size), [0u8; 16]);
            Ok(Box::new(move || e.seal_in_place(&[0u8; 12], &[], &mut buf, &mut tag)) as Op)
        }),
    })
}

/// The selected provider without the session layer: [`candidate_maker`] for the provider
/// a session would pick (for HMAC, the HMAC rule or override, not the digest's).
fn direct_maker(spec: &BenchSpec) -> Result<(Maker, String)> {
    // What a session would refuse, the bare engine must refuse too.
    if let Algorithm::Cipher(alg) = spec.alg {
        crate::cipher::check_key(alg, &key_for(alg.key_len()))?;
        let size = spec.size;
        if (alg.mode != CipherMode::Ctr && !size.is_multiple_of(16))
            || (alg.mode == CipherMode::Xts && size > crate::cipher::XTS_MAX_UNIT)
        {
            return Err(Error::DataLength {
                alg: alg.name(),
                len: size,
                rule: "benchmark sizes for this mode must be whole 16-byte blocks (XTS: at most 16 MiB)",
            });
        }
    }
    let p = select::provider(spec.alg);
    Ok((candidate_maker(spec, p)?, p.to_string()))
}
