//! `uadk info [--json]`: what the machine offers.

use anyhow::Result;
use serde_json::json;
use uadk_pool::MachineProbe;

/// Arguments of `uadk info`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
}

/// The `"pool"` object of `uadk info --json`.
pub fn pool_json(p: &MachineProbe) -> serde_json::Value {
    json!({
        "hugepages": p.hugepages,
        "thp": p.thp,
        "memlock_limit_bytes": p.memlock_limit_bytes,
        "cap_ipc_lock": p.cap_ipc_lock,
        "mempinfd": p.mempinfd,
        "mempinfd_detail": match &p.mempinfd_number {
            Ok(n) => json!({"nr": n.nr, "source": n.source}),
            Err(why) => json!({"unavailable": why}),
        },
        "pin_devices": p.pin_devices,
        "numa_nodes": p.numa_nodes,
        "base_page_size": p.base_page_size,
    })
}

fn human_bytes(b: u64) -> String {
    const U: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = b as f64;
    let mut i = 0;
    while v >= 1024.0 && i + 1 < U.len() {
        v /= 1024.0;
        i += 1;
    }
    if i == 0 {
        format!("{b} B")
    } else {
        format!("{v:.1} {}", U[i])
    }
}

fn print_pool(p: &MachineProbe) {
    println!("Memory for buffer pools");
    println!("  NUMA nodes with memory: {:?}", p.numa_nodes);
    if p.hugepages.is_empty() {
        println!("  hugetlb pages: none supported");
    }
    for h in &p.hugepages {
        let node = h
            .node
            .map(|n| format!("node {n}"))
            .unwrap_or_else(|| "all nodes".into());
        println!(
            "  hugetlb {:>8}: {node}: {} reserved, {} free",
            human_bytes(h.size_kib * 1024),
            h.total,
            h.free
        );
    }
    if p.hugepages.iter().all(|h| h.free == 0) {
        println!("    (reserve some with `sysctl vm.nr_hugepages=64`; pools then use them)");
    }
    println!("  transparent huge pages: {}", p.thp);
    println!(
        "  RLIMIT_MEMLOCK: {}   CAP_IPC_LOCK: {}",
        p.memlock_limit_bytes
            .map(human_bytes)
            .unwrap_or_else(|| "unlimited".into()),
        if p.cap_ipc_lock { "yes" } else { "no" }
    );
    match &p.mempinfd_number {
        Ok(n) => println!("  mempinfd: available (syscall {} from {})", n.nr, n.source),
        Err(why) => println!("  mempinfd: unavailable: {why}"),
    }
    if p.pin_devices.is_empty() {
        println!("  pin devices: none");
    } else {
        for d in &p.pin_devices {
            println!("  pin device: {}", d.display());
        }
    }
}

/// The `"devices"` list of `uadk info --json`: every uacce device found (isolated ones
/// included, flagged).
pub fn devices_json(d: &uadk_core::discovery::Discovery) -> serde_json::Value {
    d.devices
        .iter()
        .map(|x| {
            json!({
                "name": x.name,
                "api": x.api,
                "algorithms": x.algorithms,
                "node": x.node,
                "sva": x.sva(),
                "available_instances": x.available_instances,
                "isolated": x.isolated,
            })
        })
        .collect()
}

fn print_devices(d: &uadk_core::discovery::Discovery) {
    println!("Accelerators (uacce)");
    if d.devices.is_empty() {
        println!("  none found (start an emulator: `uadk emu start --root DIR`, then set UADK_SYSFS_ROOT=DIR/sys UADK_DEV_ROOT=DIR/dev)");
    }
    for x in &d.devices {
        println!(
            "  {}: {} node {} free queues {}{}{}: {}",
            x.name,
            x.api,
            x.node.map(|n| n.to_string()).unwrap_or_else(|| "?".into()),
            x.available_instances,
            if x.sva() { ", SVA" } else { "" },
            if x.isolated { ", ISOLATED" } else { "" },
            x.algorithms.join(" ")
        );
    }
    for s in &d.skipped {
        println!("  skipped {}: {}", s.name, s.reason);
    }
}

/// One software-engine choice: what it is for, the engine, why, and the CPU features the
/// rule needed.
struct EngineRow {
    area: &'static str,
    what: String,
    engine: String,
    features: String,
    why: String,
}

/// The zip operations of the engine table, as (label, direction, level, mode).
const ZIP_OPS: [(&str, uadk_zip::Direction, u32, uadk_zip::software::Mode); 8] = {
    use uadk_zip::software::Mode::{OneShot, Stream};
    use uadk_zip::Direction::{Compress, Decompress};
    [
        ("compress one-shot L0", Compress, 0, OneShot),
        ("compress one-shot L1-3", Compress, 1, OneShot),
        ("compress one-shot L4-9", Compress, 6, OneShot),
        ("compress stream L0", Compress, 0, Stream),
        ("compress stream L1-3", Compress, 1, Stream),
        ("compress stream L4-9", Compress, 6, Stream),
        ("decompress one-shot", Decompress, 0, OneShot),
        ("decompress stream", Decompress, 0, Stream),
    ]
};

/// The software engine chosen for every crypto algorithm and zip operation on this CPU
/// (and with the optional libraries found), with the reason.
fn engine_rows() -> Vec<EngineRow> {
    let mut rows = Vec::new();
    for alg in uadk_crypto::Algorithm::all() {
        let row = match uadk_crypto::software::select::choose(alg) {
            Ok(c) => EngineRow {
                area: "crypto",
                what: alg.name().to_string(),
                engine: c.provider.to_string(),
                features: c
                    .features()
                    .iter()
                    .map(|f| f.name())
                    .collect::<Vec<_>>()
                    .join("+"),
                why: c.why(),
            },
            Err(e) => EngineRow {
                area: "crypto",
                what: alg.name().to_string(),
                engine: "error".into(),
                features: String::new(),
                why: e.to_string(),
            },
        };
        rows.push(row);
    }
    for (label, dir, level, mode) in ZIP_OPS {
        let (lib, why) = uadk_zip::software::choose(dir, level, mode);
        let mapped = uadk_zip::software::stream_level(level);
        let engine = if mode == uadk_zip::software::Mode::Stream
            && lib == uadk_zip::software::Library::ZlibRs
            && mapped != level
        {
            format!("{lib} (its level {mapped})")
        } else {
            lib.to_string()
        };
        rows.push(EngineRow {
            area: "zip",
            what: label.to_string(),
            engine,
            features: String::new(),
            why: why.to_string(),
        });
    }
    rows
}

/// The `"engines"` object of `uadk info --json`.
fn engines_json() -> serde_json::Value {
    let cpu = uadk_core::sys::cpu::CpuFeatures::detect();
    json!({
        "cpu": uadk_core::sys::cpu::model_name(),
        "cpu_features": cpu.iter().map(|f| f.name()).collect::<Vec<_>>(),
        "isal": match uadk_zip::software::isal_status() {
            Ok(()) => json!({"loaded": true}),
            Err(why) => json!({"loaded": false, "why": why}),
        },
        "choices": engine_rows().iter().map(|r| json!({
            "area": r.area, "what": r.what, "engine": r.engine,
            "cpu_features": r.features, "why": r.why,
        })).collect::<Vec<_>>(),
    })
}

fn print_engines() {
    let cpu = uadk_core::sys::cpu::CpuFeatures::detect();
    println!("Software engines (chosen for this CPU; force one with UADK_ENGINE_<ALG>=name)");
    println!("  CPU: {}", uadk_core::sys::cpu::model_name());
    println!("  features: {cpu}");
    match uadk_zip::software::isal_status() {
        Ok(()) => println!("  ISA-L: loaded (libisal.so.2)"),
        Err(why) => println!("  ISA-L: not available: {why}; zip falls back to the next fastest library"),
    }
    // Long reasons are printed once each, numbered.
    let mut notes: Vec<String> = Vec::new();
    for r in engine_rows() {
        let i = match notes.iter().position(|n| *n == r.why) {
            Some(i) => i,
            None => {
                notes.push(r.why.clone());
                notes.len() - 1
            }
        };
        let feats = if r.features.is_empty() {
            String::new()
        } else {
            format!(" [{}]", r.features)
        };
        println!("  {:<6} {:<24} {}{feats} ({})", r.area, r.what, r.engine, i + 1);
    }
    println!("  why:");
    for (i, n) in notes.iter().enumerate() {
        println!("  ({}) {n}", i + 1);
    }
}

/// Runs `uadk info`.
pub fn run(a: Args) -> Result<()> {
    let probe = MachineProbe::read();
    if a.json {
        let devices = uadk_core::discovery::scan(&uadk_core::discovery::Roots::from_env());
        let out = json!({
            "pool": pool_json(&probe),
            "devices": devices_json(&devices),
            "engines": engines_json(),
        });
        println!("{}", serde_json::to_string_pretty(&out)?);
    } else {
        print_pool(&probe);
        let devices = uadk_core::discovery::scan(&uadk_core::discovery::Roots::from_env());
        print_devices(&devices);
        print_engines();
    }
    Ok(())
}
