//! The C programs with the in-process emulator as the device (ZIP on QM v2 and v3, SEC
//! on QM v3): UADK_SYSFS_ROOT / UADK_DEV_ROOT point the libraries at it, and the programs
//! require that requests ran on a device (EXPECT_DEVICE=1).

use uadk_emu::{DeviceKind, DeviceSpec, EmuConfig, Emulator};
use uadk_wd_tests::{summary, Env};

#[test]
fn programs_run_on_the_emulated_devices() {
    let env = Env::get();
    let dir = std::env::temp_dir().join(format!("uadk-wd-tests-emu-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let cfg = EmuConfig {
        devices: vec![
            DeviceSpec::new(DeviceKind::Zip, 2),
            DeviceSpec::new(DeviceKind::Zip, 3),
            DeviceSpec::new(DeviceKind::Sec, 3),
        ],
        first_id: 0,
    };
    let emu = Emulator::start(&dir, &cfg).expect("starting the emulator");
    let roots = emu.roots();
    let sys = roots.sysfs.to_string_lossy().into_owned();
    let dev = roots.dev.to_string_lossy().into_owned();
    let vars = [
        ("UADK_SYSFS_ROOT", sys.as_str()),
        ("UADK_DEV_ROOT", dev.as_str()),
        ("EXPECT_DEVICE", "1"),
    ];
    for (name, min) in [("ceph_pattern", 50), ("qemu_pattern", 100), ("crypto_tool", 100)] {
        let out = env.check(name, &[], &vars);
        let (checks, failures) = summary(&out).expect("summary line");
        assert_eq!(failures, 0, "{name} on the emulator");
        assert!(checks >= min, "{name}: {checks} checks");
        if name == "ceph_pattern" {
            assert!(out.contains("route: device:hisi_zip"), "{out}");
        }
    }
    // UADK's sample compressor lists the emulated device as its accelerator.
    let exe = env.compile("sample_comp");
    let data = uadk_wd_tests::mixed(200_000, 3);
    let z = env.run_with_input(&exe, &["--alg", "zlib"], &vars, Some(&data));
    assert!(z.status.success());
    assert!(
        String::from_utf8_lossy(&z.stderr).contains("hisi_zip"),
        "sample used a device"
    );
    let back = env.run_with_input(&exe, &["--alg", "zlib", "--optype", "1"], &vars, Some(&z.stdout));
    assert_eq!(back.stdout, data);
    drop(emu);
    let _ = std::fs::remove_dir_all(&dir);
}
