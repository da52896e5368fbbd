//! `uadk bench zip` on a device: the device rows through an emulator found from the
//! environment (`--backend device`), with the engine's share of the wall time, and the clear
//! error without a device.

use std::process::{Command, Output};

fn uadk() -> Command {
    Command::new(env!("CARGO_BIN_EXE_uadk"))
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

const QUICK: [&str; 10] = [
    "bench",
    "zip",
    "--json",
    "--level",
    "1",
    "--size",
    "300000",
    "--min-secs",
    "0",
    "--backend",
];

/// On an emulator started with `uadk emu start` (its counters found through its control
/// socket): device compress and decompress rows in wall time, with the engine's speed and the
/// framework's share of the wall time.
#[test]
fn bench_zip_backend_device_rows_on_the_emulator() {
    let root = std::env::temp_dir().join(format!("uadk-bench-zip-dev-{}", std::process::id()));
    let root_s = root.to_str().unwrap();
    ok(uadk().args(["emu", "start", "--root", root_s]).output().unwrap());
    let out = uadk()
        .args(QUICK)
        .arg("device")
        .env("UADK_SYSFS_ROOT", root.join("sys"))
        .env("UADK_DEV_ROOT", root.join("dev"))
        .output()
        .unwrap();
    ok(uadk().args(["emu", "stop", "--root", root_s]).output().unwrap());
    let out = ok(out);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON report");
    let rows = v["results"].as_array().unwrap();
    for op in ["compress", "decompress"] {
        let r = rows
            .iter()
            .find(|r| r["op"] == op && r["backend"] == "device")
            .unwrap_or_else(|| panic!("no device {op} row in {v}"));
        assert_eq!((&r["impl"], &r["clock"]), (&"uadk".into(), &"wall".into()), "{r}");
        assert!(
            r["engine"].as_str().unwrap().starts_with("device:hisi_zip"),
            "{r}"
        );
        assert!(r["mb_per_s"].as_f64().unwrap() > 0.0, "{r}");
        assert!(r["engine_mb_per_s"].as_f64().unwrap() > 0.0, "{r}");
        let share = r["framework_share"].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&share), "{r}");
        assert!(r["ratio"].as_f64().unwrap() > 1.0, "{r}");
    }
    // With --backend device our software rows are left out; the peers stay.
    assert!(!rows
        .iter()
        .any(|r| r["impl"] == "uadk" && r["backend"] == "software"));
    assert!(rows.iter().any(|r| r["impl"] == "zlib"));
}

#[test]
fn bench_zip_backend_device_without_a_device_says_how_to_get_one() {
    let empty = std::env::temp_dir().join(format!("uadk-bench-zip-none-{}", std::process::id()));
    std::fs::create_dir_all(empty.join("sys")).unwrap();
    std::fs::create_dir_all(empty.join("dev")).unwrap();
    let out = uadk()
        .args(QUICK)
        .arg("device")
        .env("UADK_SYSFS_ROOT", empty.join("sys"))
        .env("UADK_DEV_ROOT", empty.join("dev"))
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("uadk emu start"), "{err}");
    let _ = std::fs::remove_dir_all(&empty);
}
