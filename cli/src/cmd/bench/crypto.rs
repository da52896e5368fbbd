//! `uadk bench crypto`: ciphers, digests, HMAC and AEAD in MB/s and ops/s, ours
//! (`"impl":"uadk"`) against OpenSSL (`"impl":"openssl"`) and every other candidate engine
//! of the software table (`"impl":"ring"`, `"aws-lc-rs"`, `"rustcrypto"`, and for HMAC
//! `"openssl-digest"`) in the same run, plus the selected provider without our session layer
//! (`"impl":"direct"`, the framework's cost). The table's `vs best other` column is ours
//! against the fastest of the others: below 1.0 the engine table is wrong for this CPU
//! (`UADK_ENGINE_<ALG>=name` overrides it).
//!
//! With `--backend device` (or `auto` when a SEC device is found) the `uadk` rows run on
//! the SEC device found under `UADK_SYSFS_ROOT`/`UADK_DEV_ROOT` (a real device, or an
//! emulator started with `uadk emu start`), one request at a time, and an extra
//! `"impl":"uadk-batch"` row measures one thread keeping `--depth` requests in flight over
//! `--queues` queues. Device rows carry `round_trip_ns` (wall time per synchronous request),
//! and, on an emulator, `engine_ns` (the device model's busy time per request) and
//! `framework_share` (the part of the round trip that is not the engine: our driver,
//! `uadk-core`'s queue, doorbells and completion polling); `uadk-batch` rows carry
//! `cpu_ns_per_op`, the submitting thread's CPU time per request.

use std::path::Path;
use std::time::Duration;

use anyhow::Result;
use serde_json::json;
use uadk_core::discovery::Roots;
use uadk_crypto::bench::{run_batch, run_on, BenchSpec};
use uadk_crypto::device::sec;
use uadk_crypto::{Algorithm, Backend, Crypto, SecDevice};

use super::report::{print_table, Report};

/// The algorithms with targets in issue 5, measured when no --alg is given.
const DEFAULT_ALGS: [&str; 9] = [
    "aes-128-gcm",
    "aes-256-cbc",
    "aes-128-ctr",
    "aes-256-xts",
    "sha256",
    "sha512",
    "hmac-sha256",
    "sm3",
    "sm4-cbc",
];

/// Arguments of `uadk bench crypto`.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// Print the JSON report instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Algorithm (default: the nine with targets); repeatable.
    #[arg(long)]
    pub alg: Vec<String>,
    /// Message size in bytes.
    #[arg(long, default_value_t = 16384)]
    pub size: usize,
    /// Threads (sessions shared, buffers per thread).
    #[arg(long, default_value_t = 1)]
    pub threads: usize,
    /// Backend of our rows: auto, device or software.
    #[arg(long, default_value = "auto")]
    pub backend: String,
    /// Seconds per implementation and algorithm (split over 10 interleaved rounds).
    #[arg(long, default_value_t = 1.0)]
    pub secs: f64,
    /// Device rows: requests one thread keeps in flight for the `uadk-batch` row.
    #[arg(long, default_value_t = 64)]
    pub depth: usize,
    /// Device rows: queues the `uadk-batch` row opens on the device.
    #[arg(long, default_value_t = 4)]
    pub queues: usize,
}

impl Args {
    /// Short settings for `uadk bench` with no subcommand (a few seconds).
    pub fn quick() -> Self {
        Args {
            json: false,
            alg: Vec::new(),
            size: 16384,
            threads: 1,
            backend: "auto".into(),
            secs: 0.15,
            depth: 64,
            queues: 4,
        }
    }
}

/// Measures and returns the report: `--backend` as given, a device (if any) from
/// `UADK_SYSFS_ROOT`/`UADK_DEV_ROOT` (default `/sys`, `/dev`).
pub fn measure(a: &Args) -> Result<Report> {
    let backend: Backend = a.backend.parse().map_err(anyhow::Error::msg)?;
    measure_on(a, backend, &Roots::from_env(), None)
}

/// The entry point for `uadk bench --emu` and other callers that own the device: measures
/// `a`'s algorithms on `backend` (`a.backend` is not used). `Backend::Software`: software
/// rows (`uadk`, `openssl`, `direct`). `Backend::Device`: the SEC device found under
/// `roots` is required; `uadk` rows run on it one request at a time and `uadk-batch` rows
/// keep `a.depth` requests in flight over `a.queues` queues. `Backend::Auto`: the software
/// rows, plus the device rows when a SEC device is found under `roots`. Pass the
/// in-process emulator serving `roots` as `emu` to get its engine time per request
/// (`engine_ns`, `framework_share`); an emulator started with `uadk emu start` is found
/// through its control socket next to `roots.sysfs`.
///
/// # Errors
/// `Backend::Device` without a SEC device under `roots`; a bad `--alg`, `--size` or
/// `--secs`; a failed measurement.
pub fn measure_on(
    a: &Args,
    backend: Backend,
    roots: &Roots,
    emu: Option<&uadk_emu::Emulator>,
) -> Result<Report> {
    let names: Vec<String> = if a.alg.is_empty() {
        DEFAULT_ALGS.iter().map(|s| s.to_string()).collect()
    } else {
        a.alg.clone()
    };
    let duration = Duration::try_from_secs_f64(a.secs.max(0.01))
        .map_err(|_| anyhow::anyhow!("--secs {} is not a usable duration", a.secs))?;
    let mut report = Report::new("crypto");
    // Software rows unless only the device was asked for; device rows unless only software
    // was (`auto` measures both when a device is found, `device` requires one).
    let software = backend != Backend::Device;
    let crypto = Crypto::new(Backend::Device);
    let mut device: Option<sec::SecDriver> = None;
    if backend != Backend::Software {
        match sec::SecDriver::discover(roots) {
            Ok(d) => {
                crypto.add_device(std::sync::Arc::new(d.clone()));
                report.set("device", json!(d.name()));
                device = Some(d);
            }
            Err(e) if backend == Backend::Device => anyhow::bail!(
                "--backend device: {e}; start one with `uadk emu start --root DIR` and set \
                 UADK_SYSFS_ROOT=DIR/sys UADK_DEV_ROOT=DIR/dev, or use --backend software"
            ),
            Err(e) => report.set("device", json!(format!("none ({e})"))),
        }
    }
    let daemon_root = roots.sysfs.parent().map(Path::to_path_buf);
    let engine = |name: &str| -> Option<(u64, u64)> {
        let status = match emu {
            Some(e) => e.status(),
            None => {
                let root = daemon_root.as_deref()?;
                if !uadk_emu::daemon::control_path(root).exists() {
                    return None;
                }
                uadk_emu::daemon::status(root).ok()?
            }
        };
        let d = status.devices.into_iter().find(|d| d.name == name)?;
        Some((d.totals.requests, d.totals.busy_ns))
    };
    for name in names {
        let alg = Algorithm::from_name(&name)?;
        let mut spec = BenchSpec::new(alg);
        spec.size = a.size;
        spec.threads = a.threads;
        spec.backend = backend;
        spec.duration = duration;
        if software {
            // No device registered: what `auto` does on a machine without one.
            for row in run_on(&Crypto::new(backend), &spec)? {
                report.push(serde_json::to_value(row)?);
            }
        }
        let Some(dev) = device.as_ref().filter(|d| d.offers(alg)).map(|d| d.name()) else {
            continue;
        };
        let before = engine(&dev);
        let rows = run_on(&crypto, &spec)?;
        let after = engine(&dev);
        for row in rows {
            // The peers were measured with the software rows already.
            if software && row.imp != "uadk" {
                continue;
            }
            let mut v = serde_json::to_value(&row)?;
            if row.imp == "uadk" && row.backend == "device" {
                add_device_cost(&mut v, row.ops_per_s, row.threads, before, after);
            }
            report.push(v);
        }
        let before = engine(&dev);
        let row = run_batch(&crypto, &spec, a.depth, a.queues)?;
        let after = engine(&dev);
        let mut v = serde_json::to_value(&row)?;
        if let (Some(b), Some(e)) = (before, after) {
            let n = e.0.saturating_sub(b.0).max(1);
            v["engine_ns"] = json!(e.1.saturating_sub(b.1) as f64 / n as f64);
        }
        report.push(v);
    }
    report.set("openssl", json!(openssl::version::version()));
    Ok(report)
}

/// Round trip per synchronous device request, the engine's share of it, and ours.
fn add_device_cost(
    v: &mut serde_json::Value,
    ops_per_s: f64,
    threads: usize,
    before: Option<(u64, u64)>,
    after: Option<(u64, u64)>,
) {
    if ops_per_s <= 0.0 {
        return;
    }
    let round_trip = 1e9 * threads as f64 / ops_per_s;
    v["round_trip_ns"] = json!(round_trip);
    if let (Some(b), Some(e)) = (before, after) {
        let n = e.0.saturating_sub(b.0);
        if n > 0 {
            let engine_ns = e.1.saturating_sub(b.1) as f64 / n as f64;
            v["engine_ns"] = json!(engine_ns);
            v["framework_share"] = json!(((round_trip - engine_ns) / round_trip).clamp(0.0, 1.0));
        }
    }
}

/// Prints the report as a table with ratios to OpenSSL and the framework's cost.
pub fn print_human(r: &Report) {
    let j = r.to_json();
    match j["device"].as_str() {
        Some(d) => println!("crypto: MB/s and ops/s vs OpenSSL in the same run; SEC device: {d}"),
        None => println!("crypto: MB/s and ops/s, software path vs OpenSSL in the same run"),
    }
    let rows = r.results();
    let get = |alg: &str, imp: &str, key: &str| {
        rows.iter()
            .find(|x| x["alg"] == alg && x["impl"] == imp)
            .and_then(|x| x[key].as_f64())
    };
    // The fastest other implementation of `alg` (OpenSSL and every candidate engine).
    let best = |alg: &str| {
        rows.iter()
            .filter(|x| {
                x["alg"] == alg
                    && !["uadk", "uadk-batch", "direct"].contains(&x["impl"].as_str().unwrap_or(""))
            })
            .filter_map(|x| Some((x["mb_per_s"].as_f64()?, x["impl"].as_str()?.to_string())))
            .max_by(|a, b| a.0.total_cmp(&b.0))
    };
    let mut table = Vec::new();
    // Ours first, then OpenSSL and every candidate engine of the table beside it.
    for row in rows.iter().filter(|x| x["impl"] != "direct") {
        let alg = row["alg"].as_str().unwrap_or("?");
        let imp = row["impl"].as_str().unwrap_or("?");
        let mb = row["mb_per_s"].as_f64().unwrap_or(0.0);
        let vs = get(alg, "openssl", "mb_per_s").map_or("-".to_string(), |o| format!("x{:.2}", mb / o));
        let cost = if imp == "uadk-batch" {
            // Batch rows: our thread's own time per request (what offloading costs the host).
            row["host_ns_per_op"]
                .as_f64()
                .map_or("-".to_string(), |c| format!("{:.1} µs host", c / 1000.0))
        } else if row["backend"] == "device" {
            // Device rows: the framework's share of a synchronous round trip.
            row["framework_share"]
                .as_f64()
                .map_or("-".to_string(), |s| format!("{:.0}% of rt", 100.0 * s))
        } else {
            get(alg, "direct", "mb_per_s")
                .map_or("-".to_string(), |d| format!("{:+.1}%", 100.0 * (1.0 - mb / d)))
        };
        let engine = row["engine_ns"]
            .as_f64()
            .map_or("-".to_string(), |e| format!("{:.1}", e / 1000.0));
        let vs_best = match (imp, best(alg)) {
            ("uadk", Some((b, name))) if row["backend"] == "software" => format!("x{:.2} {name}", mb / b),
            _ => "-".to_string(),
        };
        table.push(vec![
            alg.to_string(),
            imp.to_string(),
            row["backend"].as_str().unwrap_or("?").to_string(),
            row["size"].to_string(),
            row["threads"].to_string(),
            format!("{mb:.0}"),
            format!("{:.0}", row["ops_per_s"].as_f64().unwrap_or(0.0)),
            get(alg, "openssl", "mb_per_s").map_or("-".into(), |o| format!("{o:.0}")),
            vs,
            vs_best,
            engine,
            cost,
            row["detail"].as_str().unwrap_or("").to_string(),
        ]);
    }
    print_table(
        &[
            "alg",
            "impl",
            "backend",
            "size",
            "thr",
            "uadk MB/s",
            "ops/s",
            "openssl MB/s",
            "vs openssl",
            "vs best other",
            "engine µs",
            "overhead",
            "route",
        ],
        &table,
    );
}

/// Runs `uadk bench crypto`.
pub fn run_cmd(a: Args) -> Result<()> {
    let r = measure(&a)?;
    if a.json {
        println!("{}", serde_json::to_string_pretty(&r.to_json())?);
    } else {
        print_human(&r);
    }
    Ok(())
}
