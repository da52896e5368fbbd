//! Runs [`uadk_crypto::bench::run`] and prints JSON rows, for measuring without the CLI.
//!
//! `cargo run --release -p uadk-crypto --example bench -- ALG [SIZE] [THREADS] [MILLIS]`

use std::time::Duration;

use uadk_crypto::bench::{run, BenchSpec};
use uadk_crypto::Algorithm;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let alg = Algorithm::from_name(args.first().map_or("aes-128-gcm", String::as_str))?;
    let mut spec = BenchSpec::new(alg);
    if let Some(s) = args.get(1) {
        spec.size = s.parse()?;
    }
    if let Some(t) = args.get(2) {
        spec.threads = t.parse()?;
    }
    if let Some(ms) = args.get(3) {
        spec.duration = Duration::from_millis(ms.parse()?);
    }
    for row in run(&spec)? {
        println!("{}", serde_json::to_string(&row)?);
    }
    Ok(())
}
