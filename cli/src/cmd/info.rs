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

/// Runs `uadk info`.
pub fn run(a: Args) -> Result<()> {
    let probe = MachineProbe::read();
    if a.json {
        let devices = uadk_core::discovery::scan(&uadk_core::discovery::Roots::from_env());
        let out = json!({ "pool": pool_json(&probe), "devices": devices_json(&devices) });
        println!("{}", serde_json::to_string_pretty(&out)?);
    } else {
        print_pool(&probe);
        let devices = uadk_core::discovery::scan(&uadk_core::discovery::Roots::from_env());
        print_devices(&devices);
    }
    Ok(())
}
