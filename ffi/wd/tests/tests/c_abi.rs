//! The C programs against the three libraries in software mode (no device: discovery
//! is pointed at an empty tree), the layout check, and the exported symbol tables.

use std::collections::BTreeSet;
use std::process::Command;
use uadk_wd_common::abi::*;
use uadk_wd_common::buildtool::parse_map;
use uadk_wd_tests::{summary, Env};

/// Discovery sees no device at all (the same on a machine that has one).
fn software_env() -> Vec<(&'static str, &'static str)> {
    vec![
        ("UADK_SYSFS_ROOT", "/nonexistent/uadk-wd-tests/sys"),
        ("UADK_DEV_ROOT", "/nonexistent/uadk-wd-tests/dev"),
    ]
}

fn passes(name: &str, args: &[&str], min_checks: u32) -> String {
    let out = Env::get().check(name, args, &software_env());
    let (checks, failures) = summary(&out).unwrap_or_else(|| panic!("{name}: no summary line in\n{out}"));
    assert_eq!(failures, 0, "{name}: {failures} failed checks");
    assert!(checks >= min_checks, "{name}: only {checks} checks ran");
    out
}

#[test]
fn layout_matches_the_rust_types() {
    let out = Env::get().check("layout", &[], &[]);
    let size = |t: &str| -> usize {
        out.lines()
            .find_map(|l| l.strip_prefix(&format!("size {t} ")))
            .unwrap_or_else(|| panic!("no size of {t}"))
            .trim()
            .parse()
            .unwrap()
    };
    use std::mem::size_of;
    assert_eq!(size("struct uacce_dev"), size_of::<UacceDev>());
    assert_eq!(size("struct wd_ctx"), size_of::<WdCtx>());
    assert_eq!(size("struct wd_ctx_config"), size_of::<WdCtxConfig>());
    assert_eq!(size("struct wd_sched"), size_of::<WdSched>());
    assert_eq!(size("struct sched_params"), size_of::<SchedParams>());
    assert_eq!(size("struct wd_mm_ops"), size_of::<WdMmOps>());
    assert_eq!(size("struct wd_comp_req"), size_of::<WdCompReq>());
    assert_eq!(size("struct wd_comp_sess_setup"), size_of::<WdCompSessSetup>());
    assert_eq!(size("struct wd_cipher_req"), size_of::<WdCipherReq>());
    assert_eq!(size("struct wd_digest_req"), size_of::<WdDigestReq>());
    assert_eq!(size("struct wd_aead_req"), size_of::<WdAeadReq>());
    assert_eq!(size("z_stream"), size_of::<ZStream>());
    assert_eq!(size("struct wd_mempool_stats"), size_of::<WdMempoolStats>());
    assert_eq!(size("struct wd_blockpool_stats"), size_of::<WdBlockpoolStats>());
    assert_eq!(size("struct wd_rs_counters"), size_of::<WdRsCounters>());
    assert!(out.contains("layout: ok"));
}

#[test]
fn ceph_pattern() {
    let out = passes("ceph_pattern", &[], 50);
    assert!(out.contains("route: software"), "{out}");
}

#[test]
fn ceph_pattern_with_tiny_output_buffers() {
    passes("ceph_pattern", &["--small-out"], 40);
}

#[test]
fn qemu_pattern() {
    passes("qemu_pattern", &[], 100);
}

#[test]
fn mempool_test() {
    passes("mempool_test", &[], 40);
}

/// libwd.so.2 loaded by `dlopen` (as a plugin's dependency), also with no optional
/// static TLS reserve: the library must not need static TLS (`DF_STATIC_TLS`, which
/// initial-exec thread-locals would bring; see `wd/src/thread_key.rs`).
#[test]
fn block_pool_after_dlopen() {
    let env = Env::get();
    let flags = Command::new("readelf")
        .arg("-d")
        .arg(env.lib("libwd"))
        .output()
        .expect("running readelf");
    let flags = String::from_utf8_lossy(&flags.stdout);
    assert!(
        !flags.contains("STATIC_TLS"),
        "libwd.so.2 needs static TLS:\n{flags}"
    );
    let exe = env.compile_linking("dlopen_pool", &["-ldl", "-lpthread"]);
    for tunables in ["", "glibc.rtld.optional_static_tls=0"] {
        let mut vars = software_env();
        vars.push(("GLIBC_TUNABLES", tunables));
        let out = env.run(&exe, &[], &vars);
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "dlopen_pool ({tunables}) failed:\n{stdout}");
        assert_eq!(summary(&stdout).map(|s| s.1), Some(0));
    }
}

#[test]
fn crypto_tool() {
    passes("crypto_tool", &[], 100);
}

#[test]
fn misuse() {
    passes("misuse", &[], 60);
}

#[test]
fn zlib_wrapper() {
    passes("zlibwrapper", &[], 40);
}

#[test]
fn fork_reinitialises() {
    passes("fork", &[], 5);
}

/// UADK's sample compressor: our gzip is read by system gzip, and system gzip's output by us.
#[test]
fn sample_compressor_round_trips_with_gzip() {
    let env = Env::get();
    let exe = env.compile("sample_comp");
    let data = uadk_wd_tests::mixed(300_000, 7);
    let senv = software_env();
    for alg in ["gzip", "zlib", "deflate"] {
        let out = env.run_with_input(&exe, &["--alg", alg, "--optype", "0"], &senv, Some(&data));
        assert!(out.status.success(), "sample_comp {alg} compress");
        if alg == "gzip" {
            let mut gz = Command::new("gzip")
                .arg("-dc")
                .stdin(std::process::Stdio::piped())
                .stdout(std::process::Stdio::piped())
                .spawn()
                .expect("gzip (Debian's essential gzip package)");
            use std::io::Write;
            let mut stdin = gz.stdin.take().unwrap();
            let z = out.stdout.clone();
            let t = std::thread::spawn(move || stdin.write_all(&z));
            let back = gz.wait_with_output().unwrap();
            t.join().unwrap().unwrap();
            assert!(back.status.success());
            assert_eq!(back.stdout, data, "gzip -dc of our gzip");
        }
        let back = env.run_with_input(&exe, &["--alg", alg, "--optype", "1"], &senv, Some(&out.stdout));
        assert!(back.status.success(), "sample_comp {alg} decompress");
        assert_eq!(back.stdout, data, "{alg} round trip");
    }
    // System gzip's output, decompressed by the sample.
    let tmp = env.bindir.join("sample-input.txt");
    std::fs::write(&tmp, &data).unwrap();
    let gz = Command::new("gzip")
        .arg("-c")
        .arg("-6")
        .arg(&tmp)
        .output()
        .unwrap();
    let back = env.run_with_input(&exe, &["--alg", "gzip", "--optype", "1"], &senv, Some(&gz.stdout));
    assert!(back.status.success());
    assert_eq!(back.stdout, data, "our decompression of gzip's output");
}

fn dyn_syms(lib: &std::path::Path) -> (BTreeSet<String>, BTreeSet<String>) {
    let out = Command::new("readelf")
        .args(["--dyn-syms", "-W"])
        .arg(lib)
        .output()
        .expect("readelf (binutils)");
    let text = String::from_utf8_lossy(&out.stdout);
    let mut defined = BTreeSet::new();
    let mut undefined = BTreeSet::new();
    for l in text.lines() {
        let f: Vec<&str> = l.split_whitespace().collect();
        if f.len() < 8 || !f[0].ends_with(':') {
            continue;
        }
        let (bind, ndx, name) = (f[4], f[6], f[7]);
        if bind != "GLOBAL" && bind != "WEAK" {
            continue;
        }
        if ndx == "UND" {
            undefined.insert(name.to_string());
        } else {
            defined.insert(name.to_string());
        }
    }
    (defined, undefined)
}

fn soname_and_needed(lib: &std::path::Path) -> (String, Vec<String>) {
    let out = Command::new("readelf")
        .args(["-d", "-W"])
        .arg(lib)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let between = |l: &str| {
        l.split('[')
            .nth(1)
            .and_then(|x| x.split(']').next())
            .unwrap_or("")
            .to_string()
    };
    let soname = text
        .lines()
        .find(|l| l.contains("(SONAME)"))
        .map(between)
        .unwrap_or_default();
    let needed = text
        .lines()
        .filter(|l| l.contains("(NEEDED)"))
        .map(between)
        .collect();
    (soname, needed)
}

/// Each library exports exactly its map's symbols, each at its node; the algorithm
/// libraries need libwd.so.2 and reach it through versioned references only.
#[test]
fn exports_match_the_version_maps() {
    let env = Env::get();
    for (lib, map, soname) in [
        ("libwd", "wd/libwd.map", "libwd.so.2"),
        ("libwd_comp", "wd_comp/libwd_comp.map", "libwd_comp.so.2"),
        ("libwd_crypto", "wd_crypto/libwd_crypto.map", "libwd_crypto.so.2"),
    ] {
        let path = env.lib(lib);
        let m = parse_map(&std::fs::read_to_string(env.root.join(map)).unwrap()).unwrap();
        let want: BTreeSet<String> = m
            .nodes
            .iter()
            .flat_map(|n| n.globals.iter().map(move |g| format!("{g}@@{}", n.name)))
            .collect();
        let (defined, undefined) = dyn_syms(&path);
        let defined: BTreeSet<String> = defined.into_iter().filter(|s| s.contains("@@")).collect();
        let node_defs: BTreeSet<String> = m.nodes.iter().map(|n| n.name.clone()).collect();
        let exported: BTreeSet<String> = defined
            .into_iter()
            .filter(|s| !node_defs.contains(s.split("@@").next().unwrap_or("")))
            .collect();
        assert_eq!(exported, want, "{lib}: exported symbols differ from {map}");
        let (so, needed) = soname_and_needed(&path);
        assert_eq!(so, soname);
        if lib != "libwd" {
            assert!(
                needed.iter().any(|n| n == "libwd.so.2"),
                "{lib} needs libwd.so.2: {needed:?}"
            );
            for u in undefined.iter().filter(|u| u.starts_with("wd_")) {
                assert!(
                    u.contains("@UADK_2.0") || u.contains("@UADK_RS_PRIVATE_1.0"),
                    "{lib}: unversioned reference {u}"
                );
            }
        }
        let globals_without_version: Vec<String> = {
            let out = Command::new("readelf")
                .args(["--dyn-syms", "-W"])
                .arg(&path)
                .output()
                .unwrap();
            String::from_utf8_lossy(&out.stdout)
                .lines()
                .filter_map(|l| {
                    let f: Vec<&str> = l.split_whitespace().collect();
                    (f.len() >= 8 && f[4] == "GLOBAL" && f[6] != "UND" && !f[7].contains('@'))
                        .then(|| f[7].to_string())
                })
                .collect()
        };
        assert!(
            globals_without_version.is_empty(),
            "{lib} exports unversioned symbols: {globals_without_version:?}"
        );
    }
}
