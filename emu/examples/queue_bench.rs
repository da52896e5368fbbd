//! Quick queue benchmark against an in-process emulator:
//! `cargo run --release -p uadk-emu --example queue_bench [threads] [batch...]`.

use std::time::Duration;

fn main() {
    let args: Vec<usize> = std::env::args().skip(1).filter_map(|a| a.parse().ok()).collect();
    let threads = args.first().copied().unwrap_or(1);
    let batches: Vec<usize> = if args.len() > 1 {
        args[1..].to_vec()
    } else {
        vec![1, 16, 64]
    };
    let dir = std::env::temp_dir().join(format!("uadk-qbench-{}", std::process::id()));
    let emu = uadk_emu::Emulator::start(&dir, &uadk_emu::EmuConfig::default()).expect("emulator");
    let dev = uadk_core::discovery::scan(&emu.roots())
        .devices
        .into_iter()
        .find(|d| d.supports("cipher"))
        .expect("SEC device");
    for b in batches {
        let cfg = uadk_emu::bench::QueueBenchConfig {
            threads,
            batch: b,
            duration: Duration::from_secs(1),
        };
        match uadk_emu::bench::run(&dev, cfg) {
            Ok(r) => println!("{}", serde_json::to_string(&r).unwrap_or_default()),
            Err(e) => eprintln!("batch {b}: {e}"),
        }
    }
}
