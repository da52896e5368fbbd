//! The C programs in `tests/c/`, compiled with `cc -Wall -Wextra -Werror` against
//! `include/uadk.h` and the libuadk cargo built, linked dynamically and statically, run in
//! software mode (an empty device tree), with the in-process emulator as the device, and
//! under valgrind when it is installed.

mod common;

use common::*;
use uadk_emu::{EmuConfig, Emulator};

const OK_LINE: &str = "api_test: ok";

#[test]
fn api_test_dynamic_in_software_mode() {
    let dir = scratch("dyn-sw");
    let bin = compile(&dir, "api_test", &["api_test.c"], Link::Dynamic);
    let o = run(&bin, &dir.join("no-devices"), &[], &[]);
    assert_ok("dynamic, software", &o, OK_LINE);
    assert!(String::from_utf8_lossy(&o.stdout).contains("software mode"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn api_test_static_in_software_mode() {
    let dir = scratch("static-sw");
    let bin = compile(&dir, "api_test", &["api_test.c"], Link::Static);
    // Statically linked: no libuadk.so is needed at run time.
    let ldd = std::process::Command::new("ldd").arg(&bin).output();
    if let Ok(l) = ldd {
        assert!(!String::from_utf8_lossy(&l.stdout).contains("libuadk"));
    }
    let o = run(&bin, &dir.join("no-devices"), &[], &[]);
    assert_ok("static, software", &o, OK_LINE);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn api_test_with_the_emulator_as_the_device() {
    let dir = scratch("dyn-emu");
    let bin = compile(&dir, "api_test", &["api_test.c"], Link::Dynamic);
    // One ZIP (QM v3) and one SEC (QM v3) device, served to the C process over the
    // emulator's sockets (it reads the process's buffers by virtual address, the SVA model).
    let emu_root = dir.join("emu");
    let emu = Emulator::start(&emu_root, &EmuConfig::default()).expect("start the emulator");
    let o = run(&bin, &emu_root, &[("UADK_TEST_DEVICE", "1")], &[]);
    let status = emu.status();
    emu.stop();
    assert_ok("dynamic, emulated device", &o, OK_LINE);
    assert!(String::from_utf8_lossy(&o.stdout).contains("device mode"));
    let served: u64 = status.devices.iter().map(|d| d.totals.requests).sum();
    println!("emulator served {served} requests");
    assert!(served > 0, "the emulator served no request");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn api_test_under_valgrind() {
    if !have("valgrind") {
        println!("skipped: valgrind is not installed (apt-get install valgrind)");
        return;
    }
    let dir = scratch("valgrind");
    let bin = compile(&dir, "api_test", &["api_test.c"], Link::Dynamic);
    let o = run(
        &bin,
        &dir.join("no-devices"),
        &[("UADK_TEST_UNDER_VALGRIND", "1")],
        &[
            "valgrind",
            "--quiet",
            "--error-exitcode=99",
            "--leak-check=full",
            "--errors-for-leak-kinds=definite",
            "--trace-children=no",
            &format!(
                "--suppressions={}",
                crate_dir().join("tests/valgrind.supp").display()
            ),
        ],
    );
    assert_ok("dynamic, software, valgrind", &o, OK_LINE);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_readme_example_builds_and_runs() {
    let dir = scratch("example");
    let bin = compile(&dir, "compress", &["../../examples/compress.c"], Link::Dynamic);
    let o = run(&bin, &dir.join("no-devices"), &[], &[]);
    assert_ok("examples/compress.c", &o, "round trip ok");
    assert!(String::from_utf8_lossy(&o.stdout).contains("on software:"));
    let _ = std::fs::remove_dir_all(&dir);
}
