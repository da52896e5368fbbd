//! `uadk emu start|stop|status|fault|reset --root DIR`: the uacce device emulator.
//!
//! `start` builds `DIR/sys/class/uacce/...` and `DIR/dev/...` and serves them in the
//! background (or in the foreground with `--foreground`); programs then see the devices with
//! `UADK_SYSFS_ROOT=DIR/sys UADK_DEV_ROOT=DIR/dev`.

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Subcommand;
use uadk_emu::{daemon, DeviceSpec, EmuConfig, Faults};

/// Arguments of `uadk emu`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    what: What,
}

/// Fault settings shared by `start` and `fault`.
#[derive(Debug, Clone, clap::Args)]
pub struct FaultArgs {
    /// Fraction (0..=1) of requests completed with an error status.
    #[arg(long, default_value_t = 0.0)]
    error_rate: f64,
    /// Extra latency before each completion, in microseconds.
    #[arg(long, default_value_t = 0)]
    delay_us: u64,
    /// Stall the engines (requests stay pending).
    #[arg(long)]
    stalled: bool,
    /// IO page fault model: ns charged on first touch of an unpinned page (0 = off).
    #[arg(long, default_value_t = 0)]
    iopf_ns: u64,
    /// IO page fault model: forget unpinned pages every N requests (0 = never).
    #[arg(long, default_value_t = 0)]
    churn_every: u64,
    /// Fraction (0..=1) of ZIP requests completed with status OK but impossible byte counts
    /// (a misreporting device; the driver must reject them).
    #[arg(long, default_value_t = 0.0)]
    bad_count_rate: f64,
}

impl FaultArgs {
    fn faults(&self) -> Faults {
        Faults {
            error_rate: self.error_rate,
            delay_us: self.delay_us,
            stalled: self.stalled,
            iopf_ns: self.iopf_ns,
            churn_every: self.churn_every,
            bad_count_rate: self.bad_count_rate,
        }
    }
}

#[derive(Debug, Subcommand)]
enum What {
    /// Create the device tree under DIR and serve it.
    Start {
        /// Root directory of the emulated sysfs/dev tree.
        #[arg(long)]
        root: PathBuf,
        /// Device as `zip|sec[,api=v2|v3][,queues=N][,node=N][,qp_info=0|1]`; repeatable
        /// (default: one zip and one sec device, QM v3, node 0).
        #[arg(long = "device")]
        devices: Vec<String>,
        /// First device id of the global counter.
        #[arg(long, default_value_t = 0)]
        first_id: u32,
        /// Stay in the foreground until `uadk emu stop`.
        #[arg(long)]
        foreground: bool,
        #[command(flatten)]
        faults: FaultArgs,
    },
    /// Stop the emulator serving DIR and remove its tree.
    Stop {
        /// Root directory given to `start`.
        #[arg(long)]
        root: PathBuf,
    },
    /// Devices, faults and per-engine counters.
    Status {
        /// Root directory given to `start`.
        #[arg(long)]
        root: PathBuf,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Change a device's faults at run time.
    Fault {
        /// Root directory given to `start`.
        #[arg(long)]
        root: PathBuf,
        /// Device name (see `status`).
        #[arg(long)]
        device: String,
        #[command(flatten)]
        faults: FaultArgs,
    },
    /// Reset a device: running queues stop, in-flight requests never complete.
    Reset {
        /// Root directory given to `start`.
        #[arg(long)]
        root: PathBuf,
        /// Device name (see `status`).
        #[arg(long)]
        device: String,
    },
}

/// Runs `uadk emu`.
pub fn run(a: Args) -> Result<()> {
    match a.what {
        What::Start {
            root,
            devices,
            first_id,
            foreground,
            faults,
        } => {
            let mut cfg = EmuConfig {
                first_id,
                ..EmuConfig::default()
            };
            if !devices.is_empty() {
                cfg.devices = devices
                    .iter()
                    .map(|d| DeviceSpec::parse(d))
                    .collect::<uadk_emu::Result<_>>()?;
            }
            let f = faults.faults();
            f.validate()?;
            for d in &mut cfg.devices {
                d.faults = f;
            }
            let env = format!(
                "UADK_SYSFS_ROOT={} UADK_DEV_ROOT={}",
                root.join("sys").display(),
                root.join("dev").display()
            );
            if foreground {
                daemon::run_foreground(&root, &cfg, || println!("emulator running; use: {env}"))?;
            } else {
                let pid = daemon::start_background(&root, &cfg)?;
                println!("emulator started (pid {pid}); use: {env}");
            }
            Ok(())
        }
        What::Stop { root } => {
            daemon::stop(&root)?;
            println!("emulator under {} stopped", root.display());
            Ok(())
        }
        What::Status { root, json } => {
            let s = daemon::status(&root)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&s)?);
            } else {
                println!("emulator pid {} serving {}", s.pid, s.root.display());
                for d in &s.devices {
                    println!(
                        "  {} ({}) node {} queues {}/{} open, algorithms: {}",
                        d.name,
                        d.api,
                        d.node.map(|n| n.to_string()).unwrap_or_else(|| "-".into()),
                        d.open_queues,
                        d.queues,
                        d.algorithms.join(" ")
                    );
                    let f = &d.faults;
                    println!(
                        "    faults: error_rate {} delay_us {} stalled {} iopf_ns {} churn_every {} bad_count_rate {}",
                        f.error_rate, f.delay_us, f.stalled, f.iopf_ns, f.churn_every, f.bad_count_rate
                    );
                    let t = &d.totals;
                    println!(
                        "    total: requests {} bytes {} faults_charged {} errors_injected {}",
                        t.requests, t.bytes, t.faults_charged, t.errors_injected
                    );
                    for e in &d.engines {
                        let c = &e.counters;
                        println!(
                            "    engine q{}: requests {} bytes {} faults_charged {} errors_injected {}",
                            e.sqn, c.requests, c.bytes, c.faults_charged, c.errors_injected
                        );
                    }
                }
            }
            Ok(())
        }
        What::Fault { root, device, faults } => {
            daemon::set_faults(&root, &device, &faults.faults())
                .with_context(|| format!("setting faults of {device}"))?;
            println!("faults of {device} updated");
            Ok(())
        }
        What::Reset { root, device } => {
            daemon::reset(&root, &device)?;
            println!("{device} reset");
            Ok(())
        }
    }
}
