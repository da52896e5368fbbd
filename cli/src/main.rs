//! `uadk`: what the machine offers, benchmarks against peers, and (as the front-ends land)
//! compression, crypto and the device emulator from the command line.

mod cmd;

use clap::{Parser, Subcommand};

/// uadk-rs command-line tool.
#[derive(Debug, Parser)]
#[command(name = "uadk", version, about, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Debug, Subcommand)]
enum Cmd {
    /// What this machine offers: hugepages, THP, lock limits, pinning, devices.
    Info(cmd::info::Args),
    /// Measure against peers in the same run (no subcommand: every available benchmark).
    Bench(cmd::bench::Args),
    /// Compress files to .gz (gzip-compatible; -1..-9, -c, -k, -f; stdin to stdout without FILE).
    Compress(cmd::compress::CompressArgs),
    /// Decompress .gz files (all members; gzip-compatible; -c, -k, -f).
    Decompress(cmd::compress::DecompressArgs),
    /// Print digests (HMAC with --key) of files, like sha256sum.
    Digest(cmd::crypto::DigestArgs),
    /// Encrypt or decrypt stdin to stdout (ciphers and AEAD).
    Cipher(cmd::crypto::CipherArgs),
    /// The uacce device emulator: start, stop, status, fault, reset (`--root DIR`).
    Emu(cmd::emu::Args),
}

fn main() {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("warn")).init();
    let cli = Cli::parse();
    let r = match cli.cmd {
        Cmd::Info(a) => cmd::info::run(a),
        Cmd::Bench(a) => cmd::bench::run(a),
        Cmd::Compress(a) => cmd::compress::compress(a),
        Cmd::Decompress(a) => cmd::compress::decompress(a),
        Cmd::Digest(a) => cmd::crypto::digest(a),
        Cmd::Cipher(a) => cmd::crypto::cipher(a),
        Cmd::Emu(a) => cmd::emu::run(a),
    };
    if let Err(e) = r {
        eprintln!("uadk: {e:#}");
        std::process::exit(1);
    }
}
