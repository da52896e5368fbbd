//! `uadk bench zip`: deflate compression and decompression throughput (MB/s of uncompressed
//! data) and ratio, ours (`"impl":"uadk"`) against the system zlib and every software
//! library considered, all measured in the same run on the same input.
//!
//! Single-thread rows are timed in thread CPU time (stable on a shared machine); rows with
//! more than one thread (parallel compression) and their single-thread reference in wall time.
//!
//! Device rows (`"backend":"device"`: `--backend device`, or `auto` when a ZIP device is
//! registered, e.g. the emulator of `uadk bench --emu` or one started with `uadk emu start`
//! and found through `UADK_SYSFS_ROOT`/`UADK_DEV_ROOT`) are timed in wall time, since the
//! work happens on the device. On an emulator they also carry `engine_mb_per_s` (the device
//! model's busy time only) and `framework_share`: the part of the wall time that is not the
//! engine's (our front-end, the driver, `uadk-core`'s queues, doorbells, completion polling).
//! Each row is the fastest of at least two passes; single-thread rows of one level are run in
//! turns (round robin) so that ours and the peers see the same load on a shared machine.

use super::report::{print_table, Report};
use anyhow::{bail, Context, Result};
use serde_json::{json, Value};
use std::cell::RefCell;
use std::io::{Read, Write};
use std::path::PathBuf;
use std::time::Instant;
use uadk_core::discovery::Roots;
use uadk_zip::software::{Library, Mode};
use uadk_zip::{Backend, Config, Decoder, Direction, Encoder, Engine, Format, Session};

/// Arguments of `uadk bench zip`.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// Print the JSON report instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Backend of our rows: auto, device or software.
    #[arg(long, default_value = "auto")]
    pub backend: String,
    /// Threads for an extra parallel-compression measurement of ours (1 = none).
    #[arg(long, default_value_t = 1)]
    pub threads: usize,
    /// Compression level (default: 1 and 6).
    #[arg(long)]
    pub level: Option<u32>,
    /// Size of the generated input (a mix of text and random data) when no --input.
    #[arg(long, default_value_t = 32 << 20)]
    pub size: usize,
    /// Measure on this file instead of generated data.
    #[arg(long)]
    pub input: Option<PathBuf>,
    /// Container format.
    #[arg(long, default_value = "gzip")]
    pub format: String,
    /// Minimum measuring time per row, in seconds (at least two passes; the fastest counts).
    #[arg(long, default_value_t = 1.0)]
    pub min_secs: f64,
}

impl Args {
    /// Short settings for `uadk bench` with no subcommand (a few seconds).
    pub fn quick() -> Self {
        Args {
            json: false,
            backend: "auto".into(),
            threads: 1,
            level: None,
            size: 2 << 20,
            input: None,
            format: "gzip".into(),
            min_secs: 0.05,
        }
    }
}

/// Thread CPU time, the clock of single-thread rows.
mod cputime {
    /// Seconds of CPU time used by the calling thread.
    pub fn thread_secs() -> f64 {
        let mut ts = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: `ts` is a valid, writable timespec for the duration of the call and
        // CLOCK_THREAD_CPUTIME_ID is supported by Linux for the calling thread.
        let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
        if rc != 0 {
            return f64::NAN;
        }
        ts.tv_sec as f64 + ts.tv_nsec as f64 * 1e-9
    }

    /// Seconds of CPU time used by the whole process (all threads).
    pub fn process_secs() -> f64 {
        let mut ts = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: as in `thread_secs`; CLOCK_PROCESS_CPUTIME_ID is supported by Linux.
        let rc = unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut ts) };
        if rc != 0 {
            return f64::NAN;
        }
        ts.tv_sec as f64 + ts.tv_nsec as f64 * 1e-9
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Clock {
    ThreadCpu,
    Wall,
}

/// Runs `f` until `min_secs` of the clock passed (at least twice); returns (the fastest run's
/// seconds, last output). The fastest run is the least disturbed by other work on a shared
/// machine.
fn time<T>(clock: Clock, min_secs: f64, mut f: impl FnMut() -> Result<T>) -> Result<(f64, T)> {
    let now = || match clock {
        Clock::ThreadCpu => cputime::thread_secs(),
        Clock::Wall => Instant::now().duration_since(*EPOCH).as_secs_f64(),
    };
    let mut total = 0.0;
    let mut best = f64::INFINITY;
    let mut runs = 0u32;
    loop {
        let t0 = now();
        let out = f()?;
        let t = now() - t0;
        best = best.min(t);
        total += t;
        runs += 1;
        if (total >= min_secs && runs >= 2) || runs >= 1000 {
            return Ok((best, out));
        }
    }
}

type Runner<'a> = Box<dyn FnMut() -> Result<usize> + 'a>;

/// One measured operation; `run` returns its output length.
struct Case<'a> {
    op: &'static str,
    mode: &'static str,
    imp: &'static str,
    backend: &'static str,
    engine: Option<String>,
    run: Runner<'a>,
}

impl<'a> Case<'a> {
    fn new(
        op: &'static str,
        mode: &'static str,
        imp: &'static str,
        backend: &'static str,
        engine: Option<String>,
        run: Runner<'a>,
    ) -> Self {
        Case {
            op,
            mode,
            imp,
            backend,
            engine,
            run,
        }
    }
}

/// Runs the cases in turns until each has had `min_secs` of the clock and at least two
/// passes, so that ours and the peers see the same machine load; returns, per case, the
/// fastest pass in seconds and the last output length.
fn round_robin_cases(clock: Clock, min_secs: f64, cases: &mut [Case<'_>]) -> Result<Vec<(f64, usize)>> {
    let now = || match clock {
        Clock::ThreadCpu => cputime::thread_secs(),
        Clock::Wall => Instant::now().duration_since(*EPOCH).as_secs_f64(),
    };
    let k = cases.len();
    let (mut best, mut total, mut runs, mut len) = (
        vec![f64::INFINITY; k],
        vec![0.0; k],
        vec![0u32; k],
        vec![0usize; k],
    );
    loop {
        let mut pending = false;
        for (i, c) in cases.iter_mut().enumerate() {
            if (total[i] >= min_secs && runs[i] >= 2) || runs[i] >= 1000 {
                continue;
            }
            pending = true;
            let t0 = now();
            len[i] = (c.run)()?;
            let t = now() - t0;
            best[i] = best[i].min(t);
            total[i] += t;
            runs[i] += 1;
        }
        if !pending {
            return Ok(best.into_iter().zip(len).collect());
        }
    }
}

static EPOCH: std::sync::LazyLock<Instant> = std::sync::LazyLock::new(Instant::now);

/// A mix of text (about 3/4) and random data (1/4), in 64 KiB runs.
pub fn generated(size: usize) -> Vec<u8> {
    let words: [&[u8]; 12] = [
        b"the ",
        b"queue ",
        b"device ",
        b"of ",
        b"compression ",
        b"and ",
        b"a ",
        b"buffer ",
        b"accelerator ",
        b"is ",
        b"stream\n",
        b"to ",
    ];
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let mut v = Vec::with_capacity(size + 16);
    while v.len() < size {
        let end = (v.len() + 65536).min(size);
        if next() % 4 == 0 {
            while v.len() < end {
                v.extend_from_slice(&next().to_le_bytes());
            }
        } else {
            while v.len() < end {
                v.extend_from_slice(words[(next() % 12) as usize]);
            }
        }
    }
    v.truncate(size);
    v
}

struct Row<'a> {
    op: &'static str,
    mode: &'static str,
    level: u32,
    imp: &'a str,
    backend: &'a str,
    threads: usize,
    secs: f64,
    len: usize,
    ratio: f64,
    clock: Clock,
    engine: Option<String>,
}

impl Row<'_> {
    fn json(&self) -> Value {
        let mut v = json!({
            "op": self.op,
            "mode": self.mode,
            "level": self.level,
            "impl": self.imp,
            "backend": self.backend,
            "threads": self.threads,
            "mb_per_s": self.len as f64 / self.secs / 1e6,
            "ratio": self.ratio,
            "clock": if self.clock == Clock::Wall { "wall" } else { "thread_cpu" },
        });
        if let Some(e) = &self.engine {
            v["engine"] = json!(e);
        }
        v
    }
}

fn session(
    format: Format,
    level: u32,
    backend: Backend,
    threads: usize,
    library: Option<Library>,
) -> Result<Session> {
    Ok(Session::new(Config {
        format,
        level,
        backend,
        threads,
        library,
        max_output: u64::MAX,
        ..Config::default()
    })?)
}

fn stream_compress(s: &Session, data: &[u8]) -> Result<Vec<u8>> {
    let mut e = Encoder::new(s.compressor()?, Vec::with_capacity(data.len() / 2));
    for chunk in data.chunks(128 * 1024) {
        e.write_all(chunk)?;
    }
    Ok(e.finish()?)
}

/// Streams `z` through the `Read` adapter straight into `out` (reused between runs, so the
/// figure is the decoder's, not the page faults of a fresh buffer); returns the length.
fn stream_decompress(s: &Session, z: &[u8], out: &mut [u8]) -> Result<usize> {
    let mut d = Decoder::new(s.decompressor()?, z);
    let mut pos = 0;
    loop {
        let end = (pos + (1 << 20)).min(out.len());
        let n = d.read(&mut out[pos..end])?;
        if n == 0 {
            if pos == out.len() && d.read(&mut [0u8; 1])? != 0 {
                bail!("stream decompression produced more than expected");
            }
            return Ok(pos);
        }
        pos += n;
    }
}

/// Engine counters of the emulated device `name`: (requests, busy ns), from the in-process
/// emulator when given, else from an `uadk emu start` daemon serving `roots`; `None` on a
/// real device (or no emulator).
fn engine_counters(emu: Option<&uadk_emu::Emulator>, roots: &Roots, name: &str) -> Option<(u64, u64)> {
    let status = match emu {
        Some(e) => e.status(),
        None => {
            let root = roots.sysfs.parent()?;
            if !uadk_emu::daemon::control_path(root).exists() {
                return None;
            }
            uadk_emu::daemon::status(root).ok()?
        }
    };
    let d = status.devices.into_iter().find(|d| d.name == name)?;
    Some((d.totals.requests, d.totals.busy_ns))
}

/// One-shot compression and decompression on the ZIP device (wall time), with the engine's
/// share when the device is an emulator. `z` is the software stream decompressed by all.
#[allow(clippy::too_many_arguments)]
fn device_rows(
    format: Format,
    level: u32,
    data: &[u8],
    z: &[u8],
    obuf: &RefCell<Vec<u8>>,
    min_secs: f64,
    emu: Option<&uadk_emu::Emulator>,
    roots: &Roots,
) -> Result<Vec<Value>> {
    let n = data.len();
    let dev = session(format, level, Backend::Device, 1, None)?;
    let (zd, r) = dev.compress_report(data)?;
    let Engine::Device(name) = r.engine.clone() else {
        bail!("the device compression ran in software ({})", r.reason);
    };
    if Library::Zlib.decompress(format, &zd, n as u64 + 1)? != data {
        bail!("the device's level-{level} stream does not decompress to the input (zlib)");
    }
    let dratio = n as f64 / zd.len() as f64;
    let mut rows = Vec::new();
    type Op<'a> = Box<dyn FnMut() -> Result<usize> + 'a>;
    let ops: [(&str, Op<'_>); 2] = [
        ("compress", Box::new(|| Ok(dev.compress(data)?.len()))),
        (
            "decompress",
            Box::new(|| Ok(dev.decompress_into(z, &mut obuf.borrow_mut())?)),
        ),
    ];
    for (op, mut run) in ops {
        let len = run()?;
        if op == "decompress" && (len != n || *obuf.borrow() != data) {
            bail!("the device decompressed the level-{level} stream wrongly");
        }
        // The emulator publishes its counters just after posting completions: let the last
        // request's busy time land before each snapshot (outside the timed runs).
        let settle = || std::thread::sleep(std::time::Duration::from_millis(20));
        settle();
        let before = engine_counters(emu, roots, &name);
        let (mut best, mut total, mut runs) = (f64::INFINITY, 0.0, 0u32);
        while !(total >= min_secs && runs >= 2) && runs < 1000 {
            let t0 = Instant::now();
            run()?;
            let t = t0.elapsed().as_secs_f64();
            best = best.min(t);
            total += t;
            runs += 1;
        }
        settle();
        let after = engine_counters(emu, roots, &name);
        let mut row = Row {
            op,
            mode: "oneshot",
            level,
            imp: "uadk",
            backend: "device",
            threads: 1,
            secs: best,
            len: n,
            ratio: if op == "compress" {
                dratio
            } else {
                n as f64 / z.len() as f64
            },
            clock: Clock::Wall,
            engine: Some(r.engine.to_string()),
        }
        .json();
        if let (Some((r0, b0)), Some((r1, b1))) = (before, after) {
            let busy = b1.saturating_sub(b0) as f64 * 1e-9;
            if busy > 0.0 {
                row["engine_mb_per_s"] = json!(n as f64 * f64::from(runs) / busy / 1e6);
                row["framework_share"] = json!((1.0 - busy / total).max(0.0));
                row["requests_per_op"] = json!(r1.saturating_sub(r0) as f64 / f64::from(runs));
            }
        }
        rows.push(row);
    }
    Ok(rows)
}

/// Measures and returns the report (devices as registered or found from the environment).
pub fn measure(a: &Args) -> Result<Report> {
    measure_on(a, None)
}

/// Like [`measure`], taking the engine counters of device rows from `emu` (the in-process
/// emulator of `uadk bench --emu`, its ZIP devices already registered with uadk-zip).
pub fn measure_on(a: &Args, emu: Option<&uadk_emu::Emulator>) -> Result<Report> {
    let backend: Backend = a.backend.parse()?;
    let roots = emu.map_or_else(Roots::from_env, uadk_emu::Emulator::roots);
    let format: Format = a.format.parse()?;
    if a.threads == 0 {
        bail!("--threads must be at least 1");
    }
    let (data, source) = match &a.input {
        Some(p) => (
            std::fs::read(p).with_context(|| format!("reading {}", p.display()))?,
            p.display().to_string(),
        ),
        None => (
            generated(a.size),
            format!("generated text+random, {} bytes", a.size),
        ),
    };
    if data.is_empty() {
        bail!("the input is empty; give a non-empty --input or --size");
    }
    let n = data.len();
    let levels: Vec<u32> = match a.level {
        Some(l) if l <= 9 => vec![l],
        Some(l) => bail!("--level {l}: use 0..=9"),
        None => vec![1, 6],
    };
    let mut rep = Report::new("zip");
    rep.set("input", json!({"source": source, "bytes": n}));
    if let Err(why) = uadk_zip::software::isal_status() {
        // No isa-l rows then; ours runs the next fastest library and its rows say which.
        rep.set("isal", json!(format!("not available: {why}")));
    }
    rep.set("format", json!(format.name()));
    let mut rows: Vec<Value> = Vec::new();
    let mut parallel = Vec::new();
    let clk = Clock::ThreadCpu;
    let ms = a.min_secs;
    // Our single-thread rows run in software (`--backend device`: only the device rows).
    let sw_rows = backend != Backend::Device;
    for &level in &levels {
        let ours = session(format, level, Backend::Software, 1, None)?;
        let (z, r) = ours.compress_report(&data)?;
        if ours.decompress(&z)? != data {
            bail!("round trip mismatch at level {level}");
        }
        let ratio = n as f64 / z.len() as f64;
        let kind = r.engine.kind();
        let dkind = ours.decompress_report(&z)?.1.engine.kind();
        // One-shot decompression (ours and peers) writes into one reused caller buffer:
        // buffer-to-buffer speed, without the page faults of a fresh 100 MB allocation.
        let obuf = RefCell::new(vec![0u8; n]);
        // Every library that can run here (ISA-L only when libisal.so.2 is installed).
        let peers: Vec<(Library, Session)> = Library::ALL
            .iter()
            .filter(|&&l| l != Library::Zlib && l.available())
            .map(|&l| Ok((l, session(format, level, Backend::Software, 1, Some(l))?)))
            .collect::<Result<_>>()?;
        let mut cases: Vec<Case<'_>> = Vec::new();
        // Compression cases return the compressed length (for the ratio).
        cases.push(Case::new(
            "compress",
            "oneshot",
            "uadk",
            kind,
            Some(r.engine.to_string()),
            Box::new(|| Ok(ours.compress(&data)?.len())),
        ));
        if let Ok(c) = ours.compressor() {
            let eng = c.report().engine.to_string();
            cases.push(Case::new(
                "compress",
                "stream",
                "uadk",
                kind,
                Some(eng),
                Box::new(|| Ok(stream_compress(&ours, &data)?.len())),
            ));
        }
        cases.push(Case::new(
            "decompress",
            "oneshot",
            "uadk",
            dkind,
            None,
            Box::new(|| Ok(ours.decompress_into(&z, &mut obuf.borrow_mut())?)),
        ));
        let deng = ours.decompressor()?.report().engine.to_string();
        cases.push(Case::new(
            "decompress",
            "stream",
            "uadk",
            dkind,
            Some(deng),
            Box::new(|| stream_decompress(&ours, &z, &mut obuf.borrow_mut())),
        ));
        for lib in Library::ALL.into_iter().filter(|l| l.available()) {
            let s = peers.iter().find(|(l, _)| *l == lib).map(|(_, s)| s);
            for mode in [Mode::OneShot, Mode::Stream] {
                let m = if mode == Mode::OneShot {
                    "oneshot"
                } else {
                    "stream"
                };
                let (data, z, obuf) = (&data, &z, &obuf);
                if lib.supports(Direction::Compress, level, mode) {
                    let run: Runner<'_> = match (s, mode) {
                        (None, _) => Box::new(move || Ok(lib.compress(format, level, data)?.len())),
                        (Some(s), Mode::OneShot) => Box::new(move || Ok(s.compress(data)?.len())),
                        (Some(s), Mode::Stream) => Box::new(move || Ok(stream_compress(s, data)?.len())),
                    };
                    cases.push(Case::new("compress", m, lib.name(), "software", None, run));
                }
                if lib.supports(Direction::Decompress, level, mode) {
                    let run: Runner<'_> = match (s, mode) {
                        (_, Mode::OneShot) => {
                            Box::new(move || Ok(lib.decompress_into(format, z, &mut obuf.borrow_mut())?))
                        }
                        (Some(s), Mode::Stream) => {
                            Box::new(move || stream_decompress(s, z, &mut obuf.borrow_mut()))
                        }
                        (None, Mode::Stream) => continue,
                    };
                    cases.push(Case::new("decompress", m, lib.name(), "software", None, run));
                }
            }
        }
        if !sw_rows {
            cases.retain(|c| c.imp != "uadk");
        }
        // Every case once, checked: decompressors must restore the input exactly.
        for c in &mut cases {
            let len = (c.run)()?;
            if c.op == "decompress" && (len != n || *obuf.borrow() != data) {
                bail!(
                    "{} {} decompressed the level-{level} stream wrongly",
                    c.imp,
                    c.mode
                );
            }
        }
        let results = round_robin_cases(clk, ms, &mut cases)?;
        for (c, (secs, len)) in cases.iter().zip(results) {
            rows.push(
                Row {
                    op: c.op,
                    mode: c.mode,
                    level,
                    imp: c.imp,
                    backend: c.backend,
                    threads: 1,
                    secs,
                    len: n,
                    ratio: if c.op == "compress" {
                        n as f64 / len as f64
                    } else {
                        ratio
                    },
                    clock: clk,
                    engine: c.engine.clone(),
                }
                .json(),
            );
        }

        if backend != Backend::Software {
            match device_rows(format, level, &data, &z, &obuf, ms, emu, &roots) {
                Ok(d) => rows.extend(d),
                Err(e) if backend == Backend::Device => {
                    return Err(e.context(
                        "--backend device: start a device with `uadk emu start --root DIR` and set \
                         UADK_SYSFS_ROOT=DIR/sys UADK_DEV_ROOT=DIR/dev (or run `uadk bench --emu`), \
                         or use --backend software",
                    ))
                }
                Err(e) => rep.set("device", json!(format!("none ({e:#})"))),
            }
        }

        if a.threads > 1 {
            // Parallel rows: CPU cores in software; device queues with --backend device.
            let pb = if backend == Backend::Device {
                backend
            } else {
                Backend::Software
            };
            let single = session(format, level, pb, 1, None)?;
            let par = session(format, level, pb, a.threads, None)?;
            // Process CPU time per run beside the wall time: what the split costs in work,
            // whatever else the machine runs (2 threads on 2 idle cores give at most
            // 2 x single_cpu / parallel_cpu).
            let per_run = |f: &mut dyn FnMut() -> Result<()>| -> Result<f64> {
                let mut runs = 0u32;
                let c0 = cputime::process_secs();
                time(Clock::Wall, ms, || {
                    runs += 1;
                    f()
                })?;
                Ok((cputime::process_secs() - c0) / f64::from(runs.max(1)))
            };
            let (s1, z1) = time(Clock::Wall, ms, || Ok(single.compress(&data)?))?;
            let (sp, (zp, r)) = time(Clock::Wall, ms, || Ok(par.compress_report(&data)?))?;
            let c1 = per_run(&mut || single.compress(&data).map(drop).map_err(Into::into))?;
            let cp = per_run(&mut || par.compress(&data).map(drop).map_err(Into::into))?;
            if par.decompress(&zp)? != data {
                bail!("parallel round trip mismatch at level {level}");
            }
            rows.push(
                Row {
                    op: "compress",
                    mode: "oneshot",
                    level,
                    imp: "uadk",
                    backend: r.engine.kind(),
                    threads: 1,
                    secs: s1,
                    len: n,
                    ratio: n as f64 / z1.len() as f64,
                    clock: Clock::Wall,
                    engine: None,
                }
                .json(),
            );
            rows.push(
                Row {
                    op: "compress",
                    mode: "oneshot",
                    level,
                    imp: "uadk",
                    backend: r.engine.kind(),
                    threads: a.threads,
                    secs: sp,
                    len: n,
                    ratio: n as f64 / zp.len() as f64,
                    clock: Clock::Wall,
                    engine: Some(r.engine.to_string()),
                }
                .json(),
            );
            parallel.push(json!({"level": level, "threads": a.threads, "speedup": s1 / sp,
                "single_mb_per_s": n as f64 / s1 / 1e6, "parallel_mb_per_s": n as f64 / sp / 1e6,
                "single_cpu_s": c1, "parallel_cpu_s": cp,
                "speedup_bound_idle": a.threads as f64 * c1 / cp}));
            // Decompression of that indexed stream on N threads / device queues.
            let (drows, dpar) =
                parallel_decompress_rows(format, level, &data, &zp, pb, a.threads, ms, emu, &roots)?;
            rows.extend(drows);
            parallel.push(dpar);
        }
    }
    if !parallel.is_empty() {
        rep.set("parallel", json!(parallel));
    }
    rep.set(
        "note",
        json!("single-thread rows: thread CPU time; threads>1 rows and their 1-thread reference: wall time; one-shot decompress rows write into a reused caller buffer; ratios to zlib are from the same run"),
    );
    for r in rows {
        rep.push(r);
    }
    Ok(rep)
}

/// `--threads N` decompression rows: `z`, the parallel compressor's indexed stream of
/// `data`, decoded by ours on N threads (software: cores; `--backend device`: one request
/// per index group over every device queue) against ours on one thread (device: one device
/// stream) and libdeflate alone (one thread), wall time, each the fastest of its passes.
/// Software cases run in turns (round robin) so all see the same load; device cases run
/// one after the other and carry the emulator engines' busy time.
#[allow(clippy::too_many_arguments)]
fn parallel_decompress_rows(
    format: Format,
    level: u32,
    data: &[u8],
    z: &[u8],
    backend: Backend,
    threads: usize,
    ms: f64,
    emu: Option<&uadk_emu::Emulator>,
    roots: &Roots,
) -> Result<(Vec<Value>, Value)> {
    let n = data.len();
    let single = session(format, level, backend, 1, None)?;
    let par = session(format, level, backend, threads, None)?;
    let pieces = uadk_zip::index::locate(format, z).map_or(0, |l| l.index.entries.len());
    let (back, rp) = par.decompress_report(z)?;
    if back != data {
        bail!("parallel decompression mismatch at level {level}");
    }
    let r1 = single.decompress_report(z)?.1;
    let obuf = RefCell::new(vec![0u8; n]);
    let device = backend == Backend::Device;
    // Device decodes go through the Vec API (the indexed device path); software ones write
    // into one reused caller buffer, as the single-thread rows do.
    let run = |s: &Session| -> Result<usize> {
        if device {
            Ok(s.decompress(z)?.len())
        } else {
            Ok(s.decompress_into(z, &mut obuf.borrow_mut())?)
        }
    };
    let mut cases: Vec<Case<'_>> = vec![
        Case::new(
            "decompress",
            "oneshot",
            "uadk",
            r1.engine.kind(),
            Some(r1.engine.to_string()),
            Box::new(|| run(&single)),
        ),
        Case::new(
            "decompress",
            "oneshot",
            "uadk",
            rp.engine.kind(),
            Some(rp.engine.to_string()),
            Box::new(|| run(&par)),
        ),
        Case::new(
            "decompress",
            "oneshot",
            "libdeflate",
            "software",
            None,
            Box::new(|| Ok(Library::Libdeflate.decompress_into(format, z, &mut obuf.borrow_mut())?)),
        ),
    ];
    let mut busy = [None; 3];
    let results: Vec<(f64, usize)> = if device {
        // Engine busy time of every emulated device, summed.
        let engines = |e: &Engine| -> Vec<String> {
            match e {
                Engine::Device(names) => names.split('+').map(str::to_string).collect(),
                Engine::Software(_) => Vec::new(),
            }
        };
        let all: Vec<String> = {
            let mut v = engines(&r1.engine);
            v.extend(engines(&rp.engine));
            v.sort();
            v.dedup();
            v
        };
        let total_busy = || -> Option<u64> {
            all.iter()
                .map(|d| engine_counters(emu, roots, d).map(|c| c.1))
                .sum()
        };
        let mut v = Vec::new();
        for (i, c) in cases.iter_mut().enumerate() {
            let b0 = total_busy();
            let mut runs = 0u32;
            let (secs, len) = time(Clock::Wall, ms, || {
                runs += 1;
                (c.run)()
            })?;
            std::thread::sleep(std::time::Duration::from_millis(20));
            if let (Some(b0), Some(b1)) = (b0, total_busy()) {
                busy[i] = Some(b1.saturating_sub(b0) as f64 / 1e9 / f64::from(runs.max(1)));
            }
            v.push((secs, len));
        }
        v
    } else {
        round_robin_cases(Clock::Wall, ms, &mut cases)?
    };
    let thr = [1, threads, 1];
    let mut rows = Vec::new();
    for (i, (c, (secs, len))) in cases.iter().zip(&results).enumerate() {
        if *len != n {
            bail!("{} decompressed {len} of {n} bytes", c.imp);
        }
        let mut row = Row {
            op: c.op,
            mode: c.mode,
            level,
            imp: c.imp,
            backend: c.backend,
            threads: thr[i],
            secs: *secs,
            len: n,
            ratio: n as f64 / z.len() as f64,
            clock: Clock::Wall,
            engine: c.engine.clone(),
        }
        .json();
        if let Some(b) = busy[i] {
            row["engine_busy_s"] = json!(b);
        }
        rows.push(row);
    }
    let cpu_per_run = |f: &mut dyn FnMut() -> Result<usize>| -> Result<f64> {
        let mut runs = 0u32;
        let c0 = cputime::process_secs();
        time(Clock::Wall, ms, || {
            runs += 1;
            f()
        })?;
        Ok((cputime::process_secs() - c0) / f64::from(runs.max(1)))
    };
    // Foreign gzip (the system zlib's, no index): speculative parallel decoding against
    // ours on one thread, in turns.
    let mut foreign = Value::Null;
    if format == Format::Gzip && !device {
        let zf = Library::Zlib.compress(format, level, data)?;
        let spec = Session::new(Config {
            format,
            level,
            backend,
            threads,
            foreign_parallel: true,
            max_output: u64::MAX,
            ..Config::default()
        })?;
        let par = &spec;
        let (back, rf) = par.decompress_report(&zf)?;
        if back != data {
            bail!("foreign gzip decompression mismatch at level {level}");
        }
        let mut fcases: Vec<Case<'_>> = vec![
            Case::new(
                "decompress",
                "foreign",
                "uadk",
                "software",
                None,
                Box::new(|| Ok(single.decompress_into(&zf, &mut obuf.borrow_mut())?)),
            ),
            Case::new(
                "decompress",
                "foreign",
                "uadk",
                "software",
                Some(rf.reason.clone()),
                Box::new(|| Ok(par.decompress_into(&zf, &mut obuf.borrow_mut())?)),
            ),
        ];
        let fr = round_robin_cases(Clock::Wall, ms, &mut fcases)?;
        for (i, (c, (secs, _))) in fcases.iter().zip(&fr).enumerate() {
            rows.push(
                Row {
                    op: c.op,
                    mode: c.mode,
                    level,
                    imp: c.imp,
                    backend: c.backend,
                    threads: [1, threads][i],
                    secs: *secs,
                    len: n,
                    ratio: n as f64 / zf.len() as f64,
                    clock: Clock::Wall,
                    engine: None,
                }
                .json(),
            );
        }
        let fc1 = cpu_per_run(&mut || Ok(single.decompress_into(&zf, &mut obuf.borrow_mut())?))?;
        let fcp = cpu_per_run(&mut || Ok(par.decompress_into(&zf, &mut obuf.borrow_mut())?))?;
        foreign = json!({"speedup_vs_single": fr[0].0 / fr[1].0, "input_bytes": zf.len(),
            "single_cpu_s": fc1, "parallel_cpu_s": fcp, "speedup_bound_idle": threads as f64 * fc1 / fcp,
            "parallel": rf.reason.contains("speculatively"), "reason": rf.reason});
    }
    let (s1, sp, sl) = (results[0].0, results[1].0, results[2].0);
    // Process CPU time per run: what the split costs in work whatever else runs (N threads
    // on N idle cores give at most N x single_cpu / parallel_cpu).
    let (c1, cp) = if device {
        (f64::NAN, f64::NAN)
    } else {
        (
            cpu_per_run(&mut || run(&single))?,
            cpu_per_run(&mut || run(&par))?,
        )
    };
    let mut summary = json!({"op": "decompress", "level": level, "threads": threads,
        "index_pieces": pieces, "engine": rp.engine.to_string(), "reason": rp.reason,
        "speedup_vs_single": s1 / sp, "speedup_vs_libdeflate": sl / sp,
        "single_mb_per_s": n as f64 / s1 / 1e6, "parallel_mb_per_s": n as f64 / sp / 1e6,
        "libdeflate_mb_per_s": n as f64 / sl / 1e6, "foreign_gzip": foreign});
    if !device {
        summary["single_cpu_s"] = json!(c1);
        summary["parallel_cpu_s"] = json!(cp);
        summary["speedup_bound_idle"] = json!(threads as f64 * c1 / cp);
    }
    if let (Some(b1), Some(bp)) = (busy[0], busy[1]) {
        // Engine-parallel time: the busy time of all engines over the wall time.
        summary["engine_busy_single_s"] = json!(b1);
        summary["engine_busy_parallel_s"] = json!(bp);
        summary["engines_in_parallel"] = json!(bp / sp);
    }
    Ok((rows, summary))
}

/// Prints the report as a table with the speed ratio to zlib.
pub fn print_human(r: &Report) {
    let get = |v: &Value, k: &str| v.get(k).cloned().unwrap_or(Value::Null);
    let zlib = |op: &Value, level: &Value| {
        r.results()
            .iter()
            .find(|x| get(x, "impl") == json!("zlib") && get(x, "op") == *op && get(x, "level") == *level)
            .and_then(|x| x.get("mb_per_s").and_then(Value::as_f64))
    };
    let rows: Vec<Vec<String>> = r
        .results()
        .iter()
        .map(|x| {
            let mb = x.get("mb_per_s").and_then(Value::as_f64).unwrap_or(0.0);
            let vs = zlib(&get(x, "op"), &get(x, "level")).map_or("-".into(), |z| format!("{:.2}x", mb / z));
            let s = |k: &str| match get(x, k) {
                Value::String(s) => s,
                v => v.to_string(),
            };
            vec![
                s("op"),
                s("mode"),
                s("level"),
                s("impl"),
                s("backend"),
                s("threads"),
                format!("{mb:.1}"),
                format!("{:.3}", x.get("ratio").and_then(Value::as_f64).unwrap_or(0.0)),
                vs,
                s("clock"),
            ]
        })
        .collect();
    println!("zip: {}", r.to_json()["input"]);
    print_table(
        &[
            "op", "mode", "level", "impl", "backend", "threads", "MB/s", "ratio", "vs zlib", "clock",
        ],
        &rows,
    );
    if let Some(p) = r.to_json().get("parallel") {
        println!("  parallel: {p}");
    }
    for x in r.results() {
        if let Some(f) = x.get("framework_share").and_then(Value::as_f64) {
            println!(
                "  device {} L{}: {:.1} MB/s; engine alone {:.1} MB/s; framework {:.0}% of the wall time",
                get(x, "op").as_str().unwrap_or("?"),
                get(x, "level"),
                x.get("mb_per_s").and_then(Value::as_f64).unwrap_or(0.0),
                x.get("engine_mb_per_s").and_then(Value::as_f64).unwrap_or(0.0),
                f * 100.0
            );
        }
    }
    if let Some(d) = r.to_json().get("device") {
        println!("  device: {d}");
    }
    if let Some(i) = r.to_json().get("isal").and_then(Value::as_str) {
        println!("  isa-l: {i}");
    }
}

/// Runs `uadk bench zip`.
pub fn run(a: Args) -> Result<()> {
    let r = measure(&a)?;
    if a.json {
        println!("{}", serde_json::to_string_pretty(&r.to_json())?);
    } else {
        print_human(&r);
    }
    Ok(())
}
