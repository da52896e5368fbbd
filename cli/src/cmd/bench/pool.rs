//! `uadk bench pool`: alloc+free pairs per second of our pool against libc malloc/free of
//! the same size and a mutex-protected free-list pool (the design of UADK's blockpool).

use super::report::{fmt_rate, print_table, Report};
use anyhow::{Context, Result};
use serde_json::json;
use std::hint::black_box;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};
use uadk_pool::{PageKind, Pool, PoolBuilder};

/// Arguments of `uadk bench pool`.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
    /// Thread counts to measure, comma-separated (default: 1 and the number of CPUs).
    #[arg(long, value_delimiter = ',')]
    pub threads: Vec<usize>,
    /// Chunk size in bytes.
    #[arg(long, default_value_t = 64 << 10)]
    pub chunk_size: usize,
    /// Pages backing our pool: auto, huge1g, huge2m, thp, normal.
    #[arg(long, default_value = "auto")]
    pub pages: PageKind,
    /// Seconds per measurement.
    #[arg(long, default_value_t = 1.0)]
    pub seconds: f64,
}

impl Args {
    /// Short settings for `uadk bench` with no subcommand.
    pub fn quick() -> Self {
        Args {
            json: false,
            threads: Vec::new(),
            chunk_size: 64 << 10,
            pages: PageKind::Auto,
            seconds: 0.5,
        }
    }
}

/// Pairs per inner loop between checks of the stop flag.
const BATCH: u64 = 512;

/// A peer under test: one alloc+free pair.
trait Subject: Sync {
    fn pair(&self);
}

struct Ours<'a>(&'a Pool);

impl Subject for Ours<'_> {
    #[inline]
    fn pair(&self) {
        let c = self.0.try_alloc().expect("bench pool sized for every thread");
        black_box(c.as_ptr());
    }
}

struct Malloc(usize);

impl Subject for Malloc {
    #[inline]
    fn pair(&self) {
        // SAFETY: malloc/free of a size > 0; the pointer is freed once and never
        // dereferenced. black_box keeps the compiler from eliding the pair.
        unsafe {
            let p = libc::malloc(black_box(self.0));
            assert!(!p.is_null(), "malloc failed");
            libc::free(black_box(p));
        }
    }
}

/// A free list of chunk offsets behind one mutex over one region: the design of UADK's
/// blockpool (which uses a spinlock).
struct MutexPool {
    free: Mutex<Vec<usize>>,
    region: Box<[u8]>,
}

impl MutexPool {
    fn new(chunk: usize, n: usize) -> Self {
        MutexPool {
            free: Mutex::new((0..n).map(|i| i * chunk).collect()),
            region: vec![0u8; chunk * n].into_boxed_slice(),
        }
    }
}

impl Subject for MutexPool {
    #[inline]
    fn pair(&self) {
        let off = self
            .free
            .lock()
            .unwrap()
            .pop()
            .expect("bench pool sized for every thread");
        black_box(self.region.as_ptr().wrapping_add(off));
        self.free.lock().unwrap().push(off);
    }
}

/// Runs `subject` on `threads` threads for `secs`; returns (pairs/s in all, ns per pair per
/// thread).
fn drive(subject: &dyn Subject, threads: usize, secs: f64) -> (f64, f64) {
    let stop = AtomicBool::new(false);
    let (total, elapsed) = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                let stop = &stop;
                s.spawn(move || {
                    let mut n = 0u64;
                    let t0 = Instant::now();
                    while !stop.load(Ordering::Relaxed) {
                        for _ in 0..BATCH {
                            subject.pair();
                        }
                        n += BATCH;
                    }
                    (n, t0.elapsed())
                })
            })
            .collect();
        std::thread::sleep(Duration::from_secs_f64(secs));
        stop.store(true, Ordering::Relaxed);
        let r: Vec<(u64, Duration)> = handles
            .into_iter()
            .map(|h| h.join().expect("bench thread"))
            .collect();
        let total: u64 = r.iter().map(|x| x.0).sum();
        let el = r.iter().map(|x| x.1.as_secs_f64()).fold(0.0, f64::max);
        (total, el)
    });
    let ops = total as f64 / elapsed;
    (ops, 1e9 * threads as f64 / ops)
}

/// Measures and returns the report.
pub fn measure(a: &Args) -> Result<Report> {
    let threads = if a.threads.is_empty() {
        let n = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
        if n > 1 {
            vec![1, n]
        } else {
            vec![1]
        }
    } else {
        a.threads.clone()
    };
    anyhow::ensure!(threads.iter().all(|t| *t > 0), "--threads must be positive");
    let max_t = *threads.iter().max().unwrap_or(&1);
    let chunks = (max_t * 64).max(256) as u32;
    let pool = PoolBuilder::new(a.chunk_size)
        .chunks(chunks)
        .pages(a.pages)
        .build()
        .context("creating the benchmark pool")?;
    let mutex_pool = MutexPool::new(a.chunk_size, chunks as usize);
    let malloc = Malloc(a.chunk_size);
    let ours = Ours(&pool);

    let mut report = Report::new("pool");
    for &t in &threads {
        let subjects: [(&str, &dyn Subject); 3] =
            [("uadk", &ours), ("malloc", &malloc), ("mutex-pool", &mutex_pool)];
        for (name, s) in subjects {
            drive(s, t, (a.seconds / 10.0).min(0.1)); // warm-up
            let (ops, ns) = drive(s, t, a.seconds);
            report.push(json!({
                "impl": name,
                "threads": t,
                "size": a.chunk_size,
                "ops_per_s": ops,
                "ns_per_op": ns,
            }));
        }
    }
    let info = pool.info();
    report.set(
        "pool",
        json!({
            "pin_level": info.pinning.level(),
            "pinning": info.pinning.to_string(),
            "backing": info.backing,
            "page_size": info.page_size,
            "node": info.placement.main_node(),
            "stats": pool.stats(),
        }),
    );
    Ok(report)
}

/// Prints the report as a table with ratios against the peers.
pub fn print_human(r: &Report) {
    let j = r.to_json();
    let p = &j["pool"];
    println!(
        "bench pool: alloc+free pairs, our pool on {} pages ({}), node {}",
        p["backing"].as_str().unwrap_or("?"),
        p["pinning"].as_str().unwrap_or("?"),
        p["node"]
    );
    let get = |imp: &str, t: u64| {
        r.results()
            .iter()
            .find(|x| x["impl"] == imp && x["threads"] == t)
            .and_then(|x| x["ops_per_s"].as_f64())
    };
    let mut rows = Vec::new();
    for x in r.results() {
        let t = x["threads"].as_u64().unwrap_or(1);
        let ops = x["ops_per_s"].as_f64().unwrap_or(0.0);
        let ours = get("uadk", t).unwrap_or(0.0);
        rows.push(vec![
            x["impl"].as_str().unwrap_or("?").to_string(),
            t.to_string(),
            x["size"].to_string(),
            fmt_rate(ops),
            format!("{:.1}", x["ns_per_op"].as_f64().unwrap_or(0.0)),
            if x["impl"] == "uadk" {
                "-".into()
            } else {
                format!("{:.1}x", ours / ops)
            },
        ]);
    }
    print_table(
        &["impl", "threads", "size", "pairs/s", "ns/pair", "uadk is"],
        &rows,
    );
}

/// Runs `uadk bench pool`.
pub fn run(a: Args) -> Result<()> {
    let r = measure(&a)?;
    if a.json {
        println!("{}", serde_json::to_string_pretty(&r.to_json())?);
    } else {
        print_human(&r);
    }
    Ok(())
}
