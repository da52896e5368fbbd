//! `uadk`: what the machine offers, benchmarks against peers, gzip-compatible compression,
//! digests and ciphers, and the device emulator, from the command line.
//!
//! Exit statuses follow gzip and coreutils: 0 success, 1 error, 2 warning (compress and
//! decompress); a closed output pipe ends the process like `SIGPIPE` would
//! (see [`exit`]).

mod cmd;
mod exit;
mod inflate;
mod names;
mod progress;
mod signals;
mod size;
mod sys;
mod tempout;
mod windowed;

use clap::{Parser, Subcommand};
use exit::Status;

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
    /// Measure every software engine candidate on this CPU and report where the engine
    /// tables' choice is not the fastest (`--strict`: exit 1 then).
    Calibrate(cmd::calibrate::Args),
    /// Compress files to .gz like gzip (-1..-9, -c -d -f -k -l -n -N -q -r -t -v); outputs
    /// appear complete or not at all; stdin to stdout without FILE.
    Compress(cmd::compress::CompressArgs),
    /// Decompress .gz files like gzip -d (all members; -c -f -k -l -N -q -r -t -v).
    Decompress(cmd::compress::DecompressArgs),
    /// Print digests (HMAC with --key) of files, like sha256sum.
    Digest(cmd::crypto::DigestArgs),
    /// Encrypt or decrypt stdin to stdout (ciphers stream; AEAD up to --max-size).
    Cipher(cmd::crypto::CipherArgs),
    /// The uacce device emulator: start, stop, status, fault, reset (`--root DIR`).
    Emu(cmd::emu::Args),
}

fn main() {
    exit::install_print_panic_hook();
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("warn")).init();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // --help and --version go to stdout: a failure to write them is an error too.
            if let Err(w) = e.print() {
                if e.use_stderr() {
                    std::process::exit(e.exit_code());
                }
                exit::fail(&anyhow::Error::new(w).context("write error on standard output"));
            }
            std::process::exit(e.exit_code())
        }
    };
    let ok = |r: anyhow::Result<()>| r.map(|()| Status::Ok);
    let r = match cli.cmd {
        Cmd::Info(a) => ok(cmd::info::run(a)),
        Cmd::Bench(a) => ok(cmd::bench::run(a)),
        Cmd::Calibrate(a) => {
            cmd::calibrate::run(a).map(|right| if right { Status::Ok } else { Status::Error })
        }
        Cmd::Compress(a) => cmd::compress::compress(a),
        Cmd::Decompress(a) => cmd::compress::decompress(a),
        Cmd::Digest(a) => cmd::crypto::digest(a),
        Cmd::Cipher(a) => cmd::crypto::cipher(a),
        Cmd::Emu(a) => ok(cmd::emu::run(a)),
    };
    match r {
        Ok(status) => {
            // Anything still buffered on stdout must reach it, or the status says so.
            if let Err(e) = std::io::Write::flush(&mut exit::stdout()) {
                exit::fail(&anyhow::Error::new(e));
            }
            std::process::exit(status.code())
        }
        Err(e) => exit::fail(&e),
    }
}
