//! Memory ceilings of `uadk compress`, `decompress` and `cipher` on a 1 GiB input.
//!
//! The ceiling is 200 MiB of maximum resident set size, whatever the input size: the
//! windowed compressor holds at most 64 MiB of input windows plus their outputs
//! (`windowed::BUDGET`), decompression and stream ciphers use fixed buffers of a few MiB, and
//! the binary with its libraries is about 15 MiB. The old figures were 1.03 GB for a
//! 1000 MB file, so the ceiling separates "bounded" from "whole file in memory" with a wide
//! margin on both sides. `--threads 4` is used so that more windows are in flight than on a
//! 2-core machine's default.
//!
//! Each case runs as its own child and is measured with `wait4`'s rusage for that child
//! alone (this file holds one test, so no other child of the harness runs meanwhile).

mod common;

use common::*;
use std::process::{Command, Stdio};

const CEILING_KIB: i64 = 200 << 10;

/// Runs `cmd` to completion and returns (success, max RSS in KiB) of that child.
fn max_rss(cmd: &mut Command) -> (bool, i64) {
    let child = cmd.spawn().expect("spawn");
    let pid = child.id() as libc::pid_t;
    let mut status = 0;
    // SAFETY: an all-zero rusage is a valid value of this plain C struct.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `pid` is our own child, not yet waited for (the Child handle is never waited
    // or dropped-with-wait: std does not reap on drop); the pointers are valid for the call.
    let r = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    assert_eq!(r, pid, "wait4: {}", std::io::Error::last_os_error());
    std::mem::forget(child);
    let ok = libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0;
    (ok, usage.ru_maxrss)
}

#[test]
fn one_gib_inputs_stay_under_the_ceiling() {
    let d = Scratch::new("memory");
    let big = d.path("big");
    std::fs::File::create(&big).unwrap().set_len(1 << 30).unwrap();

    let (ok, kib) = max_rss(uadk().args(["compress", "-1", "-k", "--threads", "4"]).arg(&big));
    eprintln!("compress 1 GiB: max RSS {} MiB", kib >> 10);
    assert!(ok, "compress failed");
    assert!(kib < CEILING_KIB, "compress: {kib} KiB");

    let (ok, kib) = max_rss(
        uadk()
            .args(["decompress", "-c", "--threads", "4"])
            .arg(d.path("big.gz"))
            .stdout(Stdio::null()),
    );
    eprintln!("decompress 1 GiB: max RSS {} MiB", kib >> 10);
    assert!(ok, "decompress failed");
    assert!(kib < CEILING_KIB, "decompress: {kib} KiB");

    let (ok, kib) = max_rss(
        uadk()
            .args([
                "cipher",
                "--alg",
                "aes-128-ctr",
                "--key",
                "000102030405060708090a0b0c0d0e0f",
                "--iv",
                "000102030405060708090a0b0c0d0e0f",
                "--encrypt",
            ])
            .stdin(std::fs::File::open(&big).unwrap())
            .stdout(Stdio::null()),
    );
    eprintln!("cipher aes-128-ctr 1 GiB: max RSS {} MiB", kib >> 10);
    assert!(ok, "cipher failed");
    assert!(kib < CEILING_KIB, "cipher: {kib} KiB");

    // Under an address-space limit far below the input size, compression still works (the
    // old code aborted with SIGABRT and left a 0-byte .gz).
    if have("prlimit") {
        let o = run(Command::new("prlimit")
            .arg("--as=1000000000")
            .arg(env!("CARGO_BIN_EXE_uadk"))
            .args(["compress", "-1", "-f", "-k", "--threads", "2"])
            .arg(&big));
        assert!(o.status.success(), "under RLIMIT_AS: {}", stderr(&o));
        // AEAD must hold the message: beyond --max-size it refuses before writing...
        let o = run(uadk()
            .args([
                "cipher",
                "--alg",
                "aes-128-gcm",
                "--key",
                "000102030405060708090a0b0c0d0e0f",
            ])
            .args([
                "--iv",
                "000102030405060708090a0b",
                "--encrypt",
                "--max-size",
                "64M",
            ])
            .stdin(std::fs::File::open(&big).unwrap()));
        assert_eq!(o.status.code(), Some(1));
        assert!(stderr(&o).contains("--max-size"), "{}", stderr(&o));
        assert!(o.stdout.is_empty());
        // ...and memory it cannot get is an error message, not an abort.
        let o = run(Command::new("prlimit")
            .arg("--as=400000000")
            .arg(env!("CARGO_BIN_EXE_uadk"))
            .args([
                "cipher",
                "--alg",
                "aes-128-gcm",
                "--key",
                "000102030405060708090a0b0c0d0e0f",
            ])
            .args([
                "--iv",
                "000102030405060708090a0b",
                "--encrypt",
                "--max-size",
                "2G",
            ])
            .stdin(std::fs::File::open(&big).unwrap())
            .stdout(Stdio::null()));
        assert_eq!(o.status.code(), Some(1), "{:?} {}", o.status, stderr(&o));
        assert!(stderr(&o).contains("out of memory"), "{}", stderr(&o));
    } else {
        eprintln!("prlimit (util-linux) not installed: the RLIMIT_AS cases are skipped");
    }
}
