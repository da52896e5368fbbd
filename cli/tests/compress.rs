//! `uadk compress` / `uadk decompress`: gzip interop both ways with the real `gzip` binary,
//! and the -k / -f / -c / stdin behaviour.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn uadk() -> Command {
    Command::new(env!("CARGO_BIN_EXE_uadk"))
}

/// A fresh directory under the system temp dir, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> Self {
        let p = std::env::temp_dir().join(format!("uadk-compress-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }
    fn file(&self, name: &str, data: &[u8]) -> PathBuf {
        let p = self.0.join(name);
        std::fs::write(&p, data).unwrap();
        p
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn sample(n: usize) -> Vec<u8> {
    let mut x = 0x2545_F491_4F6C_DD1Du64;
    (0..n)
        .map(|i| {
            if (i / 4096) % 3 == 0 {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x as u8
            } else {
                b"compressible text for the gzip interop test\n"[i % 44]
            }
        })
        .collect()
}

fn ok(out: Output) -> Output {
    assert!(
        out.status.success(),
        "status {:?}\nstderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn run(cmd: &mut Command) -> Output {
    cmd.output().expect("run command")
}

fn gz_path(p: &Path) -> PathBuf {
    PathBuf::from(format!("{}.gz", p.display()))
}

#[test]
fn our_gz_is_read_by_gzip() {
    let d = TempDir::new("ours");
    let data = sample(3 << 20);
    for level in ["-1", "-6", "-9"] {
        let f = d.file(&format!("a{level}.bin"), &data);
        ok(run(uadk().args(["compress", level]).arg(&f)));
        assert!(!f.exists(), "input removed without -k");
        let g = gz_path(&f);
        ok(run(Command::new("gzip").arg("-t").arg(&g)));
        let out = ok(run(Command::new("gzip").arg("-dc").arg(&g)));
        assert!(out.stdout == data, "gzip -d output differs at {level}");
        // gzip -l / -N see the stored name.
        let listed = ok(run(Command::new("gzip").arg("-lN").arg(&g)));
        assert!(String::from_utf8_lossy(&listed.stdout).contains(&format!("a{level}.bin")));
    }
}

#[test]
fn gzips_gz_is_read_by_us_including_multi_member() {
    let d = TempDir::new("theirs");
    let data = sample(1 << 20);
    let f = d.file("b.txt", &data);
    ok(run(Command::new("gzip").arg("-k").arg(&f)));
    let g = gz_path(&f);
    // Append a second member.
    let second = ok(run(Command::new("gzip").arg("-c").arg(&f))).stdout;
    std::fs::OpenOptions::new()
        .append(true)
        .open(&g)
        .unwrap()
        .write_all(&second)
        .unwrap();
    std::fs::remove_file(&f).unwrap();
    ok(run(uadk().args(["decompress", "-k"]).arg(&g)));
    let back = std::fs::read(&f).unwrap();
    assert_eq!(back.len(), 2 * data.len());
    assert!(back[..data.len()] == data[..] && back[data.len()..] == data[..]);
    assert!(g.exists(), "-k keeps the input");
}

#[test]
fn no_overwrite_without_f_and_keep_with_k() {
    let d = TempDir::new("force");
    let f = d.file("c.txt", b"hello hello hello");
    d.file("c.txt.gz", b"precious");
    let out = run(uadk().arg("compress").arg(&f));
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("already exists"));
    assert_eq!(std::fs::read(d.0.join("c.txt.gz")).unwrap(), b"precious");
    assert!(f.exists(), "input kept when nothing was written");
    ok(run(uadk().args(["compress", "-f", "-k"]).arg(&f)));
    assert!(f.exists());
    let out = ok(run(Command::new("gzip").arg("-dc").arg(d.0.join("c.txt.gz"))));
    assert_eq!(out.stdout, b"hello hello hello");
}

#[test]
fn dash_c_writes_stdout_and_keeps_input() {
    let d = TempDir::new("stdout");
    let f = d.file("e.txt", &sample(100_000));
    let out = ok(run(uadk().args(["compress", "-c"]).arg(&f)));
    assert!(f.exists());
    assert!(!gz_path(&f).exists());
    let g = d.file("e.gz", &out.stdout);
    let back = ok(run(uadk().args(["decompress", "-c"]).arg(&g)));
    assert!(back.stdout == std::fs::read(&f).unwrap());
    assert!(g.exists());
}

#[test]
fn stdin_to_stdout_both_ways_and_formats() {
    let data = sample(500_000);
    for format in ["gzip", "zlib", "deflate"] {
        let mut c = uadk()
            .args(["compress", "--format", format])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdin = c.stdin.take().unwrap();
        let d2 = data.clone();
        let w = std::thread::spawn(move || stdin.write_all(&d2).unwrap());
        let z = ok(c.wait_with_output().unwrap()).stdout;
        w.join().unwrap();
        let mut d = uadk()
            .args(["decompress", "--format", format])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdin = d.stdin.take().unwrap();
        let w = std::thread::spawn(move || stdin.write_all(&z).unwrap());
        let back = ok(d.wait_with_output().unwrap()).stdout;
        w.join().unwrap();
        assert!(back == data, "{format}");
    }
}

#[test]
fn corrupt_input_fails_and_keeps_the_input() {
    let d = TempDir::new("corrupt");
    let f = d.file("g.txt", &sample(200_000));
    ok(run(uadk().args(["compress", "-k"]).arg(&f)));
    let g = gz_path(&f);
    let mut z = std::fs::read(&g).unwrap();
    let n = z.len();
    z[n - 6] ^= 0xff; // crc32 byte
    std::fs::write(&g, &z).unwrap();
    std::fs::remove_file(&f).unwrap();
    let out = run(uadk().arg("decompress").arg(&g));
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("mismatch"));
    assert!(g.exists(), "input kept on error");
    assert!(!f.exists(), "no partial output left behind");
    // Unknown suffix is refused.
    let h = d.file("h.txt", b"x");
    assert!(!run(uadk().arg("decompress").arg(&h)).status.success());
}

#[test]
fn bench_zip_json_rows_carry_the_required_fields() {
    let out = ok(run(uadk().args([
        "bench",
        "zip",
        "--json",
        "--backend",
        "software",
        "--level",
        "1",
        "--size",
        "65536",
        "--min-secs",
        "0",
        "--threads",
        "2",
    ])));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON report");
    assert_eq!(v["bench"], "zip");
    let rows = v["results"].as_array().unwrap();
    // ISA-L is loaded at run time: without libisal2 there is no isa-l row, and the report
    // says why.
    let isal = uadk_zip::software::isal_status().is_ok();
    for imp in ["uadk", "zlib", "isa-l", "libdeflate", "zlib-rs"] {
        let present = rows.iter().any(|r| r["impl"] == imp);
        assert_eq!(
            present,
            imp != "isa-l" || isal,
            "{imp} rows (ISA-L loaded: {isal})"
        );
    }
    assert_eq!(v["isal"].is_null(), isal, "{}", v["isal"]);
    for r in rows {
        for k in ["op", "level", "impl", "backend", "threads", "mb_per_s", "ratio"] {
            assert!(!r[k].is_null(), "row without {k}: {r}");
        }
        assert!(r["op"] == "compress" || r["op"] == "decompress");
        assert!(r["mb_per_s"].as_f64().unwrap() > 0.0);
    }
    assert!(rows.iter().any(|r| r["impl"] == "uadk" && r["threads"] == 2));
}

/// `--backend device` streams on an emulated ZIP device (QM v2 and v3): files (whole-file and
/// streamed), stdin/stdout, all formats the device offers; `gzip -d` reads the result, and the
/// verbose line names the device.
#[test]
fn backend_device_runs_on_the_emulator() {
    use uadk_emu::{DeviceKind, DeviceSpec, EmuConfig, Emulator};
    for version in [2u32, 3] {
        let d = TempDir::new(&format!("device{version}"));
        let emu_root = d.0.join("emu");
        let emu = Emulator::start(
            &emu_root,
            &EmuConfig {
                devices: vec![DeviceSpec::new(DeviceKind::Zip, version)],
                first_id: 0,
            },
        )
        .unwrap();
        let roots = emu.roots();
        let with_emu = |c: &mut Command| {
            c.env("UADK_SYSFS_ROOT", &roots.sysfs)
                .env("UADK_DEV_ROOT", &roots.dev);
        };
        // A small file (streamed) and a 3 MiB one (whole file, parallel blocks on the queues).
        for (name, len) in [("small.txt", 5000usize), ("big.bin", 3 << 20)] {
            let data = sample(len);
            let f = d.file(name, &data);
            let mut c = uadk();
            c.args(["compress", "--backend", "device", "-v", "-k"]).arg(&f);
            with_emu(&mut c);
            let out = ok(run(&mut c));
            let err = String::from_utf8_lossy(&out.stderr);
            assert!(err.contains("device:hisi_zip"), "v{version} {name}: {err}");
            let g = gz_path(&f);
            let back = ok(run(Command::new("gzip").arg("-dc").arg(&g)));
            assert!(
                back.stdout == data,
                "v{version} {name}: gzip -d reads the device output"
            );
            std::fs::remove_file(&f).unwrap();
            let mut c = uadk();
            c.args(["decompress", "--backend", "device", "-v"]).arg(&g);
            with_emu(&mut c);
            let out = ok(run(&mut c));
            assert!(
                std::fs::read(&f).unwrap() == data,
                "v{version} {name}: device decompress"
            );
            let err = String::from_utf8_lossy(&out.stderr);
            assert!(err.contains("device:hisi_zip"), "v{version} {name}: {err}");
        }
        // stdin → stdout, zlib, both directions on the device.
        let data = sample(300_000);
        let mut c = uadk();
        c.args(["compress", "--backend", "device", "--format", "zlib"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        with_emu(&mut c);
        let mut child = c.spawn().unwrap();
        let input = data.clone();
        let mut stdin = child.stdin.take().unwrap();
        let writer = std::thread::spawn(move || stdin.write_all(&input).unwrap());
        let z = ok(child.wait_with_output().unwrap()).stdout;
        writer.join().unwrap();
        assert_eq!(&z[..1], &[0x78]);
        let mut c = uadk();
        c.args(["decompress", "--backend", "device", "--format", "zlib"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        with_emu(&mut c);
        let mut child = c.spawn().unwrap();
        let mut stdin = child.stdin.take().unwrap();
        let writer = std::thread::spawn(move || stdin.write_all(&z).unwrap());
        let back = ok(child.wait_with_output().unwrap()).stdout;
        writer.join().unwrap();
        assert!(back == data, "v{version}: stdin/stdout round trip on the device");
        // Raw deflate: v3 has the request type, v2 runs it through zlib mode; both on the
        // device, both read back (by us on the device and by the system zlib via the library).
        let raw = sample(10_000);
        let f = d.file("raw.bin", &raw);
        let mut c = uadk();
        c.args([
            "compress",
            "--backend",
            "device",
            "--format",
            "deflate",
            "-v",
            "-k",
        ])
        .arg(&f);
        with_emu(&mut c);
        let out = ok(run(&mut c));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("device:hisi_zip"), "v{version} deflate: {err}");
        let z = std::fs::read(d.0.join("raw.bin.deflate")).unwrap();
        let back = uadk_zip::software::Library::Zlib
            .decompress(uadk_zip::Format::Deflate, &z, 1 << 20)
            .unwrap();
        assert!(back == raw, "v{version}: raw deflate from the device");
        std::fs::remove_file(&f).unwrap();
        let mut c = uadk();
        c.args(["decompress", "--backend", "device", "--format", "deflate", "-v"])
            .arg(d.0.join("raw.bin.deflate"));
        with_emu(&mut c);
        let out = ok(run(&mut c));
        assert!(String::from_utf8_lossy(&out.stderr).contains("device:hisi_zip"));
        assert!(
            std::fs::read(&f).unwrap() == raw,
            "v{version}: raw deflate on the device"
        );
        drop(emu);
    }
}
