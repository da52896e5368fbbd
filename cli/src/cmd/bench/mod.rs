//! `uadk bench`: our implementation against peers measured in the same run.
//!
//! With no subcommand this is the project's main job: every available benchmark on every
//! available backend, in one table, in about a minute: software always, a device when one is
//! found (`UADK_SYSFS_ROOT`/`UADK_DEV_ROOT`, default `/sys`, `/dev`), and with `--emu` the
//! built-in emulator (one ZIP and one SEC device, QM v3) started in-process for the run.

pub mod crypto;
pub mod pool;
pub mod queue;
pub mod report;
pub mod zip;

use anyhow::{Context, Result};
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
    /// With no subcommand: start the built-in emulator for the run and add its device rows
    /// (zip and crypto on the emulated ZIP and SEC devices, queue round trips).
    #[arg(long)]
    emu: bool,
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
        None => run_all(a.json, a.emu),
    }
}

/// The in-process emulator of `uadk bench --emu`, its tree removed when dropped.
struct EmuRun {
    emu: Option<uadk_emu::Emulator>,
    dir: std::path::PathBuf,
}

impl EmuRun {
    /// Starts the default emulator (ZIP + SEC, QM v3) in a fresh temporary directory and
    /// points this process at it through the environment, read by device discovery (uadk-zip
    /// registers the ZIP device at its first session; the queue benchmark scans for SEC).
    fn start() -> Result<Self> {
        let dir = std::env::temp_dir().join(format!("uadk-bench-emu-{}", std::process::id()));
        let roots = uadk_core::discovery::Roots::under(&dir);
        // Set while this process has no other threads yet (the emulator starts below).
        std::env::set_var("UADK_SYSFS_ROOT", &roots.sysfs);
        std::env::set_var("UADK_DEV_ROOT", &roots.dev);
        let emu = uadk_emu::Emulator::start(&dir, &uadk_emu::EmuConfig::default()).with_context(|| {
            format!(
                "starting the emulator under {} (is the directory writable?)",
                dir.display()
            )
        })?;
        if uadk_zip::device::probe(&emu.roots()).is_empty() {
            anyhow::bail!("the emulator under {} serves no ZIP device", dir.display());
        }
        Ok(EmuRun { emu: Some(emu), dir })
    }

    fn emu(&self) -> Option<&uadk_emu::Emulator> {
        self.emu.as_ref()
    }
}

impl Drop for EmuRun {
    fn drop(&mut self) {
        for d in uadk_zip::devices() {
            uadk_zip::unregister_device(&d);
        }
        if let Some(e) = self.emu.take() {
            e.stop();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Every benchmark with short settings; with `emu`, also on the emulator's devices.
fn run_all(json: bool, emu: bool) -> Result<()> {
    let run = if emu { Some(EmuRun::start()?) } else { None };
    let em = run.as_ref().and_then(EmuRun::emu);
    // With the emulator, crypto's software rows are asked for explicitly (`auto` would now
    // pick the SEC device) and its device rows come from a second pass.
    let mut sw_crypto = crypto::Args::quick();
    if em.is_some() {
        sw_crypto.backend = "software".into();
    }
    let mut reports = vec![
        pool::measure(&pool::Args::quick())?,
        zip::measure_on(&zip::Args::quick(), em)?,
        crypto::measure(&sw_crypto)?,
    ];
    if let Some(e) = em {
        let mut c = crypto::Args::quick();
        c.backend = "device".into();
        reports.push(crypto::measure_on(
            &c,
            uadk_crypto::Backend::Device,
            &e.roots(),
            Some(e),
        )?);
    }
    reports.push(queue::measure(&queue::Args::quick())?);
    drop(run);
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
