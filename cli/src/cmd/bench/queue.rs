//! `uadk bench queue`: round trips through a uacce queue with the smallest real operation
//! (a SEC "copy" descriptor of 64 bytes), at batch sizes 1, 16 and 64. With no SEC device
//! present, an emulator is started in-process (backend `emu`).

use std::time::Duration;

use super::report::{fmt_rate, print_table, Report};
use anyhow::{Context, Result};
use serde_json::json;
use uadk_core::discovery::{self, Roots};
use uadk_emu::bench::{self, QueueBenchConfig};

/// Arguments of `uadk bench queue`.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
    /// Descriptors per doorbell (default: 1, 16 and 64).
    #[arg(long)]
    pub batch: Option<usize>,
    /// Submitting threads, one queue each.
    #[arg(long, default_value_t = 1)]
    pub threads: usize,
    /// Seconds per measurement.
    #[arg(long, default_value_t = 1.0)]
    pub seconds: f64,
}

impl Args {
    /// Short settings for `uadk bench` with no subcommand.
    pub fn quick() -> Self {
        Args {
            json: false,
            batch: None,
            threads: 1,
            seconds: 0.5,
        }
    }
}

/// Runs the benchmark and builds the report.
pub fn measure(a: &Args) -> Result<Report> {
    anyhow::ensure!(a.threads > 0, "--threads must be positive");
    anyhow::ensure!(a.seconds > 0.0, "--seconds must be positive");
    let found = discovery::scan(&Roots::from_env());
    let real = discovery::select(&found.devices, "cipher", None).cloned();
    let dir = std::env::temp_dir().join(format!("uadk-bench-queue-{}", std::process::id()));
    let (emu, dev, backend) = match real {
        Some(d) => {
            use std::os::unix::fs::FileTypeExt;
            // An emulator started with `uadk emu start` serves its nodes as sockets.
            let emulated = std::fs::metadata(&d.dev_path)
                .map(|m| m.file_type().is_socket())
                .unwrap_or(false);
            (None, d, if emulated { "emu" } else { "device" })
        }
        None => {
            let emu = uadk_emu::Emulator::start(&dir, &uadk_emu::EmuConfig::default())
                .context("starting the in-process emulator")?;
            let d = discovery::scan(&emu.roots())
                .devices
                .into_iter()
                .find(|d| d.supports("cipher"))
                .context("the emulator offers no SEC device")?;
            (Some(emu), d, "emu")
        }
    };
    let batches = match a.batch {
        Some(b) => vec![b],
        None => vec![1, 16, 64],
    };
    let mut report = Report::new("queue");
    report.set("device", json!(dev.name));
    report.set("payload_bytes", json!(bench::PAYLOAD));
    for b in batches {
        anyhow::ensure!(b > 0, "--batch must be positive");
        let engine_totals = |e: &uadk_emu::Emulator| {
            e.status()
                .devices
                .into_iter()
                .find(|d| d.name == dev.name)
                .map(|d| d.totals)
        };
        let engine_before = emu.as_ref().and_then(engine_totals);
        let r = bench::run(
            &dev,
            QueueBenchConfig {
                threads: a.threads,
                batch: b,
                duration: Duration::from_secs_f64(a.seconds),
            },
        )
        .with_context(|| format!("queue benchmark at batch {b}"))?;
        let mut row = json!({
            "impl": "uadk",
            "backend": backend,
            "threads": r.threads,
            "batch": r.batch,
            "ops_per_s": r.ops_per_s,
            "ns_per_op": r.ns_per_op,
            "p50_ns": r.p50_ns,
            "p99_ns": r.p99_ns,
            "framework_ns": r.framework_ns,
        });
        if let (Some(after), Some(before)) = (emu.as_ref().and_then(engine_totals), engine_before) {
            let n = after.requests.saturating_sub(before.requests).max(1);
            row["engine_ns"] = json!(after.busy_ns.saturating_sub(before.busy_ns) as f64 / n as f64);
        }
        report.push(row);
    }
    drop(emu);
    let _ = std::fs::remove_dir_all(&dir);
    Ok(report)
}

/// Prints the report as a table.
pub fn print_human(r: &Report) {
    let j = r.to_json();
    println!(
        "bench queue: SEC copy of {} bytes per request on {}",
        j["payload_bytes"],
        j["device"].as_str().unwrap_or("?")
    );
    let rows: Vec<Vec<String>> = r
        .results()
        .iter()
        .map(|x| {
            let f = |k: &str| format!("{:.0}", x[k].as_f64().unwrap_or(0.0));
            vec![
                x["backend"].as_str().unwrap_or("?").to_string(),
                x["threads"].to_string(),
                x["batch"].to_string(),
                fmt_rate(x["ops_per_s"].as_f64().unwrap_or(0.0)),
                f("p50_ns"),
                f("p99_ns"),
                f("framework_ns"),
                x.get("engine_ns")
                    .map(|_| f("engine_ns"))
                    .unwrap_or_else(|| "-".into()),
            ]
        })
        .collect();
    print_table(
        &[
            "backend",
            "threads",
            "batch",
            "req/s",
            "p50 ns",
            "p99 ns",
            "framework ns",
            "engine ns",
        ],
        &rows,
    );
}

/// Runs `uadk bench queue`.
pub fn run(a: Args) -> Result<()> {
    let r = measure(&a)?;
    if a.json {
        println!("{}", serde_json::to_string_pretty(&r.to_json())?);
    } else {
        print_human(&r);
    }
    Ok(())
}
