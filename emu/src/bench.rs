//! The queue round-trip benchmark behind `uadk bench queue`.
//!
//! Each thread owns one queue on a SEC device and submits batches of SEC "copy" descriptors
//! (64 bytes each, the smallest real operation), one doorbell per batch, keeping up to
//! [`WINDOW`] batches (at most depth − 1 requests) in flight as an asynchronous user would,
//! and polls completions; when nothing completes it spins briefly, then sleeps in `poll(2)`.
//! Reported per configuration:
//!
//! - `ops_per_s`: completed requests per second over all threads;
//! - `p50_ns` / `p99_ns`: request latency, from the start of its batch's submission to the
//!   poll that returned its completion (including time queued behind the batches ahead of it);
//! - `framework_ns`: the library's own cost per request — client time spent inside `submit`
//!   and inside the `poll` calls that returned completions (waiting for the device excluded);
//! - `engine_ns`: the device model's busy time per request (from the engine counters).

use std::time::{Duration, Instant};

use serde::Serialize;
use uadk_core::discovery::Device;
use uadk_core::qm::{QueueOptions, QueuePair};
use uadk_core::request::BusyPolicy;
use uadk_core::sec_copy::{build_copy, SecBd};

/// Batches kept in flight per queue.
pub const WINDOW: usize = 16;

/// Bytes copied per request.
pub const PAYLOAD: usize = 64;

/// One benchmark configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueueBenchConfig {
    /// Submitting threads (one queue each).
    pub threads: usize,
    /// Descriptors per doorbell.
    pub batch: usize,
    /// Measured run time (after a short warm-up).
    pub duration: Duration,
}

/// Results of one configuration.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct QueueBenchResult {
    /// Threads.
    pub threads: usize,
    /// Batch size.
    pub batch: usize,
    /// Requests completed in the measured window.
    pub requests: u64,
    /// Requests per second (all threads).
    pub ops_per_s: f64,
    /// Wall nanoseconds per request (all threads).
    pub ns_per_op: f64,
    /// Median request latency.
    pub p50_ns: f64,
    /// 99th percentile request latency.
    pub p99_ns: f64,
    /// Client-side library time per request.
    pub framework_ns: f64,
}

struct ThreadStats {
    requests: u64,
    framework_ns: u64,
    lat: Vec<u32>,
}

fn run_thread(
    dev: &Device,
    batch: usize,
    warmup: Duration,
    measure: Duration,
) -> uadk_core::Result<ThreadStats> {
    let bd = SecBd::for_version(dev.qm_version);
    let q = QueuePair::open(
        dev,
        QueueOptions {
            tag: bd.tag_field(),
            ..Default::default()
        },
    )?;
    let batch = batch.clamp(1, q.geometry().sq_depth as usize - 1);
    let src = vec![0x5au8; PAYLOAD * batch];
    let mut dst = vec![0u8; PAYLOAD * batch];
    let sqes = (0..batch)
        .map(|i| {
            build_copy(
                bd,
                src[i * PAYLOAD..].as_ptr() as u64,
                dst[i * PAYLOAD..].as_mut_ptr() as u64,
                PAYLOAD as u32,
            )
        })
        .collect::<uadk_core::Result<Vec<_>>>()?;
    // Keep up to WINDOW batches in flight so the device always has work queued, as an
    // async user would; each batch still gets exactly one doorbell.
    let window = (WINDOW).min((q.geometry().sq_depth as usize - 1) / batch).max(1);
    let mut sent_at: Vec<Instant> = vec![Instant::now(); window];
    let mut tokens = vec![0u64; batch];
    let mut done: Vec<u64> = Vec::with_capacity(batch);
    let mut st = ThreadStats {
        requests: 0,
        framework_ns: 0,
        lat: Vec::with_capacity(1 << 20),
    };
    let begin = Instant::now();
    let mut measure_from: Option<Instant> = None;
    let mut failure: Option<uadk_core::Error> = None;
    let mut next_batch = 0u64;
    let mut in_flight = 0usize;
    let mut idle = 0u32;
    let mut last_progress = Instant::now();
    loop {
        let now = Instant::now();
        if measure_from.is_none() && now - begin >= warmup {
            measure_from = Some(now);
        }
        let stop = measure_from.is_some_and(|m| now - m >= measure);
        if stop && in_flight == 0 {
            break;
        }
        if !stop && in_flight < window * batch {
            tokens.iter_mut().for_each(|t| *t = next_batch);
            let t0 = Instant::now();
            // SAFETY: src and dst live until every batch has completed (we drain before
            // returning, and the queue is dropped before the buffers).
            unsafe { q.submit(&sqes, &tokens, BusyPolicy::Fail) }?;
            let t1 = Instant::now();
            sent_at[(next_batch % window as u64) as usize] = t0;
            next_batch += 1;
            in_flight += batch;
            if measure_from.is_some() {
                st.framework_ns += (t1 - t0).as_nanos() as u64;
            }
            continue;
        }
        let p0 = Instant::now();
        let mut bad = 0u64;
        done.clear();
        let n = q.poll(batch, |c| {
            if c.result
                .as_ref()
                .map(|s| s.u8(114) != 0 || s.u16(112) & 1 == 0)
                .unwrap_or(true)
            {
                bad += 1;
            }
            done.push(c.token);
        })?;
        if n > 0 {
            let p1 = Instant::now();
            in_flight -= n;
            idle = 0;
            last_progress = p1;
            if let Some(m) = measure_from {
                let mut counted = 0u64;
                for t in &done {
                    let sent = sent_at[(*t % window as u64) as usize];
                    if sent >= m {
                        st.lat.push((p1 - sent).as_nanos().min(u32::MAX as u128) as u32);
                        counted += 1;
                    }
                }
                if counted > 0 {
                    st.framework_ns += (p1 - p0).as_nanos() as u64 * counted / n as u64;
                    st.requests += counted;
                }
            }
            if bad > 0 && failure.is_none() {
                failure = Some(uadk_core::Error::DeviceStatus(format!(
                    "{bad} copy requests failed"
                )));
            }
        } else if p0 - last_progress > Duration::from_secs(5) {
            return Err(uadk_core::Error::Timeout {
                waited: Duration::from_secs(5),
            });
        } else {
            // Spin briefly, then sleep until the device signals: a woken thread gets the
            // CPU back quickly even on a loaded machine, a spinning one does not.
            idle += 1;
            if idle < 256 {
                std::hint::spin_loop();
            } else {
                q.wait(Duration::from_millis(5))?;
            }
        }
    }
    if let Some(e) = failure {
        return Err(e);
    }
    if dst != src {
        return Err(uadk_core::Error::DeviceStatus("copied data differs".into()));
    }
    Ok(st)
}

fn percentile(sorted: &[u32], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[i] as f64
}

/// Runs one configuration against `dev` (a device offering `cipher`).
pub fn run(dev: &Device, cfg: QueueBenchConfig) -> uadk_core::Result<QueueBenchResult> {
    let threads = cfg.threads.max(1);
    let warmup = (cfg.duration / 5).min(Duration::from_millis(200));
    let t = Instant::now();
    let results: Vec<uadk_core::Result<ThreadStats>> = std::thread::scope(|s| {
        let hs: Vec<_> = (0..threads)
            .map(|_| s.spawn(|| run_thread(dev, cfg.batch, warmup, cfg.duration)))
            .collect();
        hs.into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err(uadk_core::Error::Protocol("benchmark thread panicked".into())))
            })
            .collect()
    });
    let _wall = t.elapsed();
    let mut requests = 0u64;
    let mut fw = 0u64;
    let mut lat = Vec::new();
    for r in results {
        let st = r?;
        requests += st.requests;
        fw += st.framework_ns;
        lat.extend(st.lat);
    }
    lat.sort_unstable();
    let secs = cfg.duration.as_secs_f64();
    let ops = requests as f64 / secs;
    Ok(QueueBenchResult {
        threads,
        batch: cfg.batch,
        requests,
        ops_per_s: ops,
        ns_per_op: if ops > 0.0 { 1e9 / ops } else { 0.0 },
        p50_ns: percentile(&lat, 0.5),
        p99_ns: percentile(&lat, 0.99),
        framework_ns: if requests > 0 {
            fw as f64 / requests as f64
        } else {
            0.0
        },
    })
}
