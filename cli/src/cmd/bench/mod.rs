//! `uadk bench`: our implementation against peers measured in the same run.
//!
//! With no subcommand this is the project's main job: every available benchmark on every
//! available backend, in one table, in about a minute.

pub mod crypto;
pub mod pool;
pub mod queue;
pub mod report;
pub mod zip;

use anyhow::Result;
use clap::Subcommand;
use report::Report;

/// Arguments of `uadk bench`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    which: Option<Which>,
    /// With no subcommand: print one JSON object `{"bench":"all","reports":[...]}`.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Subcommand)]
enum Which {
    /// Buffer pool alloc+free pairs/s against malloc and a mutex-protected pool.
    Pool(pool::Args),
    /// deflate/zlib/gzip MB/s and ratio against system zlib, ISA-L, libdeflate and zlib-rs.
    Zip(zip::Args),
    /// Ciphers, digests, HMAC and AEAD MB/s and ops/s against OpenSSL.
    Crypto(crypto::Args),
    /// Queue round trips through a uacce device or the emulator: req/s, latency, framework cost.
    Queue(queue::Args),
}

/// Runs `uadk bench`.
pub fn run(a: Args) -> Result<()> {
    match a.which {
        Some(Which::Pool(p)) => pool::run(p),
        Some(Which::Zip(z)) => zip::run(z),
        Some(Which::Crypto(c)) => crypto::run_cmd(c),
        Some(Which::Queue(q)) => queue::run(q),
        None => run_all(a.json),
    }
}

/// Every benchmark with short settings.
fn run_all(json: bool) -> Result<()> {
    let reports = vec![
        pool::measure(&pool::Args::quick())?,
        zip::measure(&zip::Args::quick())?,
        crypto::measure(&crypto::Args::quick())?,
        queue::measure(&queue::Args::quick())?,
    ];
    if json {
        let all: Vec<_> = reports.iter().map(Report::to_json).collect();
        println!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({"bench": "all", "reports": all}))?
        );
    } else {
        for r in &reports {
            match r.bench() {
                "pool" => pool::print_human(r),
                "zip" => zip::print_human(r),
                "crypto" => crypto::print_human(r),
                "queue" => queue::print_human(r),
                _ => println!("{}", serde_json::to_string_pretty(&r.to_json())?),
            }
        }
    }
    Ok(())
}
