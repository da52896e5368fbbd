//! `uadk digest` and `uadk cipher` end to end: output matches coreutils and the openssl
//! command, AEAD round trips, and a failed tag check exits non-zero and writes nothing.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

fn uadk(args: &[&str], stdin: &[u8]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_uadk"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run uadk");
    // Feed stdin from a thread: the cipher streams, so it writes while it reads; it may also
    // stop reading early (an input over a limit), so a broken pipe here is not an error.
    let mut input = child.stdin.take().unwrap();
    let data = stdin.to_vec();
    let writer = std::thread::spawn(move || {
        let _ = input.write_all(&data);
    });
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    out
}

fn tool(cmd: &str, args: &[&str]) -> Option<String> {
    let out = Command::new(cmd).args(args).output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

fn temp_file(name: &str, data: &[u8]) -> PathBuf {
    let p = std::env::temp_dir().join(format!("uadk-crypto-cli-{}-{name}", std::process::id()));
    std::fs::write(&p, data).unwrap();
    p
}

fn sample() -> Vec<u8> {
    (0..100_000u32).map(|i| (i * 31 % 251) as u8).collect()
}

#[test]
fn digest_lines_match_coreutils() {
    let f = temp_file("digest", &sample());
    let path = f.to_str().unwrap();
    for (alg, sum) in [
        ("sha256", "sha256sum"),
        ("sha512", "sha512sum"),
        ("sha1", "sha1sum"),
        ("md5", "md5sum"),
    ] {
        let out = uadk(&["digest", "--alg", alg, path], b"");
        assert!(
            out.status.success(),
            "{alg}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let ours = String::from_utf8(out.stdout).unwrap();
        match tool(sum, &[path]) {
            Some(theirs) => assert_eq!(ours, theirs, "{alg}"),
            None => eprintln!("{sum} not installed; skipped"),
        }
    }
    // stdin is "-".
    let out = uadk(&["digest", "--alg", "sha256"], b"abc");
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad  -\n"
    );
    std::fs::remove_file(f).ok();
}

#[test]
fn sm3_and_hmac_match_openssl() {
    let f = temp_file("hmac", &sample());
    let path = f.to_str().unwrap();
    let Some(_) = tool("openssl", &["version"]) else {
        eprintln!("openssl command not installed; skipped");
        return;
    };
    let hexed = |s: String| s.trim().rsplit(' ').next().unwrap().to_string();
    let ours = uadk(&["digest", "--alg", "sm3", path], b"");
    let theirs = tool("openssl", &["dgst", "-sm3", path]).unwrap();
    assert_eq!(
        String::from_utf8(ours.stdout)
            .unwrap()
            .split_whitespace()
            .next()
            .unwrap(),
        hexed(theirs)
    );
    for alg in ["sha256", "sha384", "sm3"] {
        let ours = uadk(
            &["digest", "--alg", &format!("hmac-{alg}"), "--key", "6b6579", path],
            b"",
        );
        assert!(ours.status.success());
        let theirs = tool("openssl", &["dgst", &format!("-{alg}"), "-hmac", "key", path]).unwrap();
        assert_eq!(
            String::from_utf8(ours.stdout)
                .unwrap()
                .split_whitespace()
                .next()
                .unwrap(),
            hexed(theirs),
            "hmac-{alg}"
        );
    }
    std::fs::remove_file(f).ok();
}

#[test]
fn cipher_matches_openssl_enc() {
    let Some(_) = tool("openssl", &["version"]) else {
        eprintln!("openssl command not installed; skipped");
        return;
    };
    let data = &sample()[..4096];
    let f = temp_file("enc", data);
    let key = "000102030405060708090a0b0c0d0e0f";
    let iv = "f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff";
    for alg in ["aes-128-cbc", "aes-128-ctr", "sm4-cbc", "sm4-ctr"] {
        let ours = uadk(
            &["cipher", "--alg", alg, "--key", key, "--iv", iv, "--encrypt"],
            data,
        );
        assert!(
            ours.status.success(),
            "{alg}: {}",
            String::from_utf8_lossy(&ours.stderr)
        );
        let theirs = Command::new("openssl")
            .args([
                "enc",
                &format!("-{alg}"),
                "-K",
                key,
                "-iv",
                iv,
                "-nopad",
                "-in",
                f.to_str().unwrap(),
            ])
            .output()
            .unwrap();
        assert_eq!(ours.stdout, theirs.stdout, "{alg}");
        let back = uadk(
            &["cipher", "--alg", alg, "--key", key, "--iv", iv, "--decrypt"],
            &ours.stdout,
        );
        assert_eq!(back.stdout, data);
    }
    std::fs::remove_file(f).ok();
}

#[test]
fn aead_round_trip_and_failed_tag_writes_nothing() {
    let data = sample();
    for (alg, key, nonce) in [
        ("aes-256-gcm", "00".repeat(32), "00".repeat(12)),
        ("sm4-ccm", "11".repeat(16), "22".repeat(12)),
    ] {
        let base = [
            "cipher", "--alg", alg, "--key", &key, "--iv", &nonce, "--aad", "abcd",
        ];
        let enc = uadk(&[&base[..], &["--encrypt"]].concat(), &data);
        assert!(
            enc.status.success(),
            "{alg}: {}",
            String::from_utf8_lossy(&enc.stderr)
        );
        assert_eq!(enc.stdout.len(), data.len() + 16);
        let dec = uadk(&[&base[..], &["--decrypt"]].concat(), &enc.stdout);
        assert!(dec.status.success());
        assert_eq!(dec.stdout, data);
        // Tag given separately.
        let (ct, tag) = enc.stdout.split_at(data.len());
        let tag_hex: String = tag.iter().map(|b| format!("{b:02x}")).collect();
        let dec = uadk(&[&base[..], &["--decrypt", "--tag", &tag_hex]].concat(), ct);
        assert_eq!(dec.stdout, data);
        // One flipped bit: non-zero exit, empty stdout, a message on stderr.
        let mut bad = enc.stdout.clone();
        bad[10] ^= 1;
        let dec = uadk(&[&base[..], &["--decrypt"]].concat(), &bad);
        assert!(!dec.status.success());
        assert!(dec.stdout.is_empty(), "{alg} wrote {} bytes", dec.stdout.len());
        assert!(String::from_utf8_lossy(&dec.stderr).contains("authentication failed"));
    }
    // Shorter tags.
    let enc = uadk(
        &[
            "cipher",
            "--alg",
            "aes-128-ccm",
            "--key",
            &"33".repeat(16),
            "--iv",
            &"44".repeat(13),
            "--tag-len",
            "8",
            "--encrypt",
        ],
        b"hi",
    );
    assert_eq!(enc.stdout.len(), 2 + 8);
}

#[test]
fn bad_input_is_a_clear_error() {
    let cases: [(&[&str], &str); 5] = [
        (
            &["cipher", "--alg", "aes-128-cbc", "--key", "00", "--encrypt"],
            "must be 16 bytes",
        ),
        (
            &["cipher", "--alg", "rot13", "--key", "00", "--encrypt"],
            "uadk cipher --list",
        ),
        (
            &[
                "cipher",
                "--alg",
                "aes-128-xts",
                "--key",
                &"ab".repeat(32),
                "--iv",
                &"00".repeat(16),
                "--encrypt",
            ],
            "halves",
        ),
        (
            &[
                "cipher",
                "--alg",
                "aes-128-gcm",
                "--key",
                &"00".repeat(16),
                "--iv",
                "0011",
                "--encrypt",
            ],
            "nonce",
        ),
        (
            &["digest", "--alg", "sha256", "--backend", "device"],
            "no device offers",
        ),
    ];
    for (args, msg) in cases {
        let out = uadk(args, b"0123456789abcdef");
        assert!(!out.status.success(), "{args:?}");
        assert!(out.stdout.is_empty());
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(msg), "{args:?}: {err}");
    }
    let list = uadk(&["cipher", "--list"], b"");
    let names = String::from_utf8(list.stdout).unwrap();
    assert!(names.lines().any(|l| l == "sm4-xts") && names.lines().any(|l| l == "aes-128-gcm"));
    let list = uadk(&["digest", "--list"], b"");
    assert!(String::from_utf8(list.stdout)
        .unwrap()
        .lines()
        .any(|l| l == "hmac-sm3"));
}

#[test]
fn bench_crypto_json_has_uadk_and_openssl_rows() {
    let out = uadk(
        &[
            "bench", "crypto", "--json", "--alg", "sha256", "--size", "4096", "--secs", "0.05",
        ],
        b"",
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["bench"], "crypto");
    let rows = v["results"].as_array().unwrap();
    for imp in ["uadk", "openssl"] {
        let r = rows.iter().find(|r| r["impl"] == imp).expect(imp);
        assert_eq!(r["alg"], "sha256");
        assert_eq!(r["size"], 4096);
        assert!(r["mb_per_s"].as_f64().unwrap() > 0.0 && r["ops_per_s"].as_f64().unwrap() > 0.0);
        assert!(r["backend"].is_string() && r["threads"] == 1);
    }
}

/// `uadk emu start`, then `uadk digest --backend device` through the emulated SEC device:
/// same digest as software (streamed as a long hash), the route says the device ran, and
/// the engine counted both requests.
#[test]
fn digest_on_the_emulated_device_matches_software() {
    let root = std::env::temp_dir().join(format!("uadk-crypto-cli-emu-{}", std::process::id()));
    let root_s = root.to_str().unwrap();
    let start = uadk(&["emu", "start", "--root", root_s], b"");
    assert!(
        start.status.success(),
        "{}",
        String::from_utf8_lossy(&start.stderr)
    );
    let f = temp_file("emu-digest", &sample());
    let path = f.to_str().unwrap();
    let run = |backend: &str| {
        Command::new(env!("CARGO_BIN_EXE_uadk"))
            .args(["digest", "--alg", "sha256", "-v", "--backend", backend, path])
            .env("UADK_SYSFS_ROOT", root.join("sys"))
            .env("UADK_DEV_ROOT", root.join("dev"))
            .output()
            .unwrap()
    };
    let dev = run("device");
    let sw = run("software");
    let status = uadk(&["emu", "status", "--root", root_s], b"");
    let stop = uadk(&["emu", "stop", "--root", root_s], b"");
    std::fs::remove_file(&f).ok();
    assert!(stop.status.success());
    assert!(dev.status.success(), "{}", String::from_utf8_lossy(&dev.stderr));
    assert_eq!(dev.stdout, sw.stdout);
    assert!(
        String::from_utf8_lossy(&dev.stderr).contains("device (hisi_sec2"),
        "{}",
        String::from_utf8_lossy(&dev.stderr)
    );
    // A long hash: 99 968 bytes (whole blocks) in the first request, the last 32 in the
    // last one, the state carried between them.
    assert!(
        String::from_utf8_lossy(&status.stdout).contains("requests 2 bytes 100000"),
        "{}",
        String::from_utf8_lossy(&status.stdout)
    );
}

/// `uadk bench crypto --backend device` on an emulator started with `uadk emu start`:
/// device rows (one request at a time, and one thread keeping many in flight) with the
/// engine's time per request and the framework's share of the round trip; without a
/// device, `--backend device` is a clear error.
#[test]
fn bench_crypto_device_rows_on_the_emulator() {
    let root = std::env::temp_dir().join(format!("uadk-crypto-cli-bench-{}", std::process::id()));
    let root_s = root.to_str().unwrap();
    let start = uadk(&["emu", "start", "--root", root_s], b"");
    assert!(
        start.status.success(),
        "{}",
        String::from_utf8_lossy(&start.stderr)
    );
    let run = |sysfs: PathBuf, backend: &str| {
        Command::new(env!("CARGO_BIN_EXE_uadk"))
            .args([
                "bench",
                "crypto",
                "--json",
                "--backend",
                backend,
                "--alg",
                "sha256",
                "--alg",
                "sm4-cbc",
                "--size",
                "4096",
                "--secs",
                "0.05",
                "--depth",
                "16",
                "--queues",
                "2",
            ])
            .env("UADK_SYSFS_ROOT", sysfs)
            .env("UADK_DEV_ROOT", root.join("dev"))
            .output()
            .unwrap()
    };
    let out = run(root.join("sys"), "device");
    let none = run(root.join("no-such-dir"), "device");
    let auto = run(root.join("sys"), "auto");
    let stop = uadk(&["emu", "stop", "--root", root_s], b"");
    assert!(stop.status.success());
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(v["device"].as_str().unwrap().starts_with("hisi_sec2-"), "{v}");
    let rows = v["results"].as_array().unwrap();
    for alg in ["sha256", "sm4-cbc"] {
        let row = |imp: &str| {
            rows.iter()
                .find(|r| r["alg"] == alg && r["impl"] == imp)
                .unwrap_or_else(|| panic!("{alg} {imp}: {v}"))
        };
        let sync = row("uadk");
        assert_eq!(sync["backend"], "device", "{sync}");
        assert!(sync["mb_per_s"].as_f64().unwrap() > 0.0);
        let (rt, engine) = (
            sync["round_trip_ns"].as_f64().unwrap(),
            sync["engine_ns"].as_f64().unwrap(),
        );
        // Both are measured; their order is not asserted: on a loaded machine the emulator's
        // busy time includes time it was descheduled and can exceed the round trip.
        assert!(engine > 0.0 && rt > 0.0, "{sync}");
        let share = sync["framework_share"].as_f64().unwrap();
        assert!((0.0..1.0).contains(&share), "{sync}");
        let batch = row("uadk-batch");
        assert_eq!(batch["backend"], "device", "{batch}");
        assert!(batch["host_ns_per_op"].as_f64().unwrap() > 0.0, "{batch}");
        assert!(row("openssl")["mb_per_s"].as_f64().unwrap() > 0.0);
    }
    // auto: the software rows and, with a device found, the device rows too.
    assert!(auto.status.success(), "{}", String::from_utf8_lossy(&auto.stderr));
    let v: serde_json::Value = serde_json::from_slice(&auto.stdout).unwrap();
    let rows = v["results"].as_array().unwrap();
    for backend in ["software", "device"] {
        assert!(
            rows.iter()
                .any(|r| r["alg"] == "sha256" && r["impl"] == "uadk" && r["backend"] == backend),
            "{backend}: {v}"
        );
    }
    assert!(!none.status.success());
    let err = String::from_utf8_lossy(&none.stderr);
    assert!(
        err.contains("--backend device") && err.contains("uadk emu start"),
        "{err}"
    );
}

/// `uadk cipher` streams ECB/CBC/CTR: a multi-MiB input comes out as `openssl enc` makes it
/// (the pieces chain correctly), whether stdin is a pipe or a file; lengths that the mode
/// cannot take are refused before anything is written when stdin is a file; XTS takes one
/// data unit of at most 16 MiB and AEAD at most --max-size, both refused up front.
#[test]
fn streamed_ciphers_match_openssl_and_refuse_bad_lengths_before_writing() {
    let Some(_) = tool("openssl", &["version"]) else {
        eprintln!("openssl command not installed; skipped");
        return;
    };
    let key = "000102030405060708090a0b0c0d0e0f";
    let iv = "f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff";
    // 3 MiB + 48 bytes: several 1 MiB pieces and a short last one.
    let data: Vec<u8> = (0..(3 << 20) + 48).map(|i: u32| (i * 7 % 253) as u8).collect();
    let f = temp_file("stream", &data);
    for alg in ["aes-128-cbc", "aes-128-ctr", "aes-128-ecb", "sm4-ctr"] {
        let mut args = vec!["cipher", "--alg", alg, "--key", key, "--encrypt"];
        if !alg.ends_with("ecb") {
            args.extend(["--iv", iv]);
        }
        let piped = uadk(&args, &data);
        assert!(
            piped.status.success(),
            "{alg}: {}",
            String::from_utf8_lossy(&piped.stderr)
        );
        let from_file = Command::new(env!("CARGO_BIN_EXE_uadk"))
            .args(&args)
            .stdin(std::fs::File::open(&f).unwrap())
            .output()
            .unwrap();
        assert!(from_file.stdout == piped.stdout, "{alg}: file and pipe differ");
        let mut ossl = vec![format!("-{alg}"), "-K".into(), key.into(), "-nopad".into()];
        if !alg.ends_with("ecb") {
            ossl.extend(["-iv".into(), iv.into()]);
        }
        let theirs = Command::new("openssl")
            .arg("enc")
            .args(&ossl)
            .arg("-in")
            .arg(&f)
            .output()
            .unwrap();
        assert!(piped.stdout == theirs.stdout, "{alg}: differs from openssl enc");
    }
    // CBC on a file whose length is not whole blocks: refused, nothing written.
    let odd = temp_file("odd", &data[..1000]);
    let o = Command::new(env!("CARGO_BIN_EXE_uadk"))
        .args([
            "cipher",
            "--alg",
            "aes-128-cbc",
            "--key",
            key,
            "--iv",
            iv,
            "--encrypt",
        ])
        .stdin(std::fs::File::open(&odd).unwrap())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(o.stdout.is_empty());
    assert!(String::from_utf8_lossy(&o.stderr).contains("16-byte blocks"));
    // XTS over 16 MiB: refused before writing.
    let big = vec![1u8; (16 << 20) + 16];
    let xts_key = format!("{key}{}", "1f".repeat(16));
    let o = uadk(
        &[
            "cipher",
            "--alg",
            "aes-128-xts",
            "--key",
            &xts_key,
            "--iv",
            iv,
            "--encrypt",
        ],
        &big,
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(o.stdout.is_empty());
    assert!(String::from_utf8_lossy(&o.stderr).contains("XTS"));
    // AEAD over --max-size: refused before writing, and the message names the flag.
    let o = uadk(
        &[
            "cipher",
            "--alg",
            "aes-128-gcm",
            "--key",
            key,
            "--iv",
            "000102030405060708090a0b",
            "--encrypt",
            "--max-size",
            "1M",
        ],
        &data,
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(o.stdout.is_empty());
    assert!(String::from_utf8_lossy(&o.stderr).contains("--max-size"));
    std::fs::remove_file(f).ok();
    std::fs::remove_file(odd).ok();
}
