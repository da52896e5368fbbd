//! `uadk bench crypto`: ciphers, digests, HMAC and AEAD in MB/s and ops/s, ours
//! (`"impl":"uadk"`) against OpenSSL (`"impl":"openssl"`) in the same run, plus the
//! selected provider without our session layer (`"impl":"direct"`, the framework's cost).

use std::time::Duration;

use anyhow::Result;
use serde_json::json;
use uadk_crypto::bench::{run, BenchSpec};
use uadk_crypto::{Algorithm, Backend};

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
        }
    }
}

/// Measures and returns the report.
pub fn measure(a: &Args) -> Result<Report> {
    let backend: Backend = a.backend.parse().map_err(anyhow::Error::msg)?;
    let names: Vec<String> = if a.alg.is_empty() {
        DEFAULT_ALGS.iter().map(|s| s.to_string()).collect()
    } else {
        a.alg.clone()
    };
    let mut report = Report::new("crypto");
    for name in names {
        let mut spec = BenchSpec::new(Algorithm::from_name(&name)?);
        spec.size = a.size;
        spec.threads = a.threads;
        spec.backend = backend;
        spec.duration = Duration::try_from_secs_f64(a.secs.max(0.01))
            .map_err(|_| anyhow::anyhow!("--secs {} is not a usable duration", a.secs))?;
        for row in run(&spec)? {
            report.push(serde_json::to_value(row)?);
        }
    }
    report.set("openssl", json!(openssl::version::version()));
    Ok(report)
}

/// Prints the report as a table with ratios to OpenSSL and the framework's cost.
pub fn print_human(r: &Report) {
    println!("crypto: MB/s and ops/s, software path vs OpenSSL in the same run");
    let rows = r.results();
    let get = |alg: &str, imp: &str, key: &str| {
        rows.iter()
            .find(|x| x["alg"] == alg && x["impl"] == imp)
            .and_then(|x| x[key].as_f64())
    };
    let mut table = Vec::new();
    for row in rows.iter().filter(|x| x["impl"] == "uadk") {
        let alg = row["alg"].as_str().unwrap_or("?");
        let mb = row["mb_per_s"].as_f64().unwrap_or(0.0);
        let vs = get(alg, "openssl", "mb_per_s").map_or("-".to_string(), |o| format!("x{:.2}", mb / o));
        let cost = get(alg, "direct", "mb_per_s")
            .map_or("-".to_string(), |d| format!("{:+.1}%", 100.0 * (1.0 - mb / d)));
        table.push(vec![
            alg.to_string(),
            row["size"].to_string(),
            row["threads"].to_string(),
            format!("{mb:.0}"),
            format!("{:.0}", row["ops_per_s"].as_f64().unwrap_or(0.0)),
            get(alg, "openssl", "mb_per_s").map_or("-".into(), |o| format!("{o:.0}")),
            vs,
            cost,
            row["detail"].as_str().unwrap_or("").to_string(),
        ]);
    }
    print_table(
        &[
            "alg",
            "size",
            "thr",
            "uadk MB/s",
            "ops/s",
            "openssl MB/s",
            "vs openssl",
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
