//! Building and running C programs against the libuadk that cargo just built
//! (`target/<profile>/libuadk.so`, `libuadk.a`) and the committed header.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The crate's directory (`ffi/uadk`).
pub fn crate_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `target/<profile>`: the test binary lives in its `deps/`.
pub fn profile_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    exe.parent()
        .and_then(Path::parent)
        .expect("target/<profile>/deps/<test>")
        .to_path_buf()
}

/// A built artifact of this crate (`libuadk.so`, `libuadk.a`). `cargo test` rebuilds the
/// library's every crate type in `deps/` but copies them up to `target/<profile>/` only on
/// `cargo build`, so `deps/` holds the fresh one.
pub fn artifact(name: &str) -> PathBuf {
    let p = profile_dir();
    for cand in [p.join("deps").join(name), p.join(name)] {
        if cand.exists() {
            return cand;
        }
    }
    panic!(
        "{name} not found under {}: build the crate first (cargo test -p uadk-ffi builds it)",
        p.display()
    );
}

/// A fresh scratch directory for one test.
pub fn scratch(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("uadk-ffi-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// The system libraries a static link of libuadk.a needs, as
/// `cargo rustc -p uadk-ffi --lib -- --print native-static-libs` prints them (ffi/install.sh
/// computes them the same way for uadk.pc's `Libs.private`).
pub const STATIC_LIBS: &[&str] = &[
    "-lssl",
    "-lcrypto",
    "-ldl",
    "-lgcc_s",
    "-lutil",
    "-lrt",
    "-lpthread",
    "-lm",
    "-lc",
];

/// How to link a C program.
#[derive(Clone, Copy, Debug)]
pub enum Link {
    /// `-luadk` against a directory holding `libuadk.so` and `libuadk.so.0`, with an rpath.
    Dynamic,
    /// `libuadk.a` and its system libraries.
    Static,
}

/// Compiles `sources` (paths relative to `tests/c/`) into `dir/<out>` with
/// `-Wall -Wextra -Werror` against `include/uadk.h`; panics with the compiler's output on
/// failure.
pub fn compile(dir: &Path, out: &str, sources: &[&str], link: Link) -> PathBuf {
    let bin = dir.join(out);
    let mut cmd = Command::new(std::env::var("CC").unwrap_or_else(|_| "cc".into()));
    cmd.args(["-std=c11", "-O1", "-g", "-Wall", "-Wextra", "-Werror", "-pthread"])
        .arg("-I")
        .arg(crate_dir().join("include"));
    for s in sources {
        cmd.arg(crate_dir().join("tests/c").join(s));
    }
    cmd.arg("-o").arg(&bin);
    match link {
        Link::Dynamic => {
            let libdir = dir.join("lib");
            std::fs::create_dir_all(&libdir).unwrap();
            let so = artifact("libuadk.so");
            for name in ["libuadk.so", "libuadk.so.0"] {
                let l = libdir.join(name);
                let _ = std::fs::remove_file(&l);
                std::os::unix::fs::symlink(&so, &l).unwrap();
            }
            cmd.arg("-L").arg(&libdir).arg("-luadk");
            cmd.arg(format!("-Wl,-rpath,{}", libdir.display()));
        }
        Link::Static => {
            cmd.arg(artifact("libuadk.a")).args(STATIC_LIBS);
        }
    }
    let o = cmd.output().expect("run cc");
    assert!(
        o.status.success(),
        "compiling {sources:?} ({link:?}) failed:\n{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    bin
}

/// Runs `bin` with `env` (and `UADK_SYSFS_ROOT`/`UADK_DEV_ROOT` pointing at `roots`, so the
/// machine's own devices, if any, do not leak into the test); returns its output.
pub fn run(bin: &Path, roots: &Path, env: &[(&str, &str)], wrapper: &[&str]) -> Output {
    let mut cmd = match wrapper.split_first() {
        Some((w, rest)) => {
            let mut c = Command::new(w);
            c.args(rest).arg(bin);
            c
        }
        None => Command::new(bin),
    };
    cmd.env("UADK_SYSFS_ROOT", roots.join("sys"))
        .env("UADK_DEV_ROOT", roots.join("dev"));
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("run the C program")
}

/// Asserts that a C program exited 0 and printed `expect`; prints its output.
pub fn assert_ok(what: &str, o: &Output, expect: &str) {
    let out = String::from_utf8_lossy(&o.stdout);
    let err = String::from_utf8_lossy(&o.stderr);
    println!("{what}: {}", out.trim());
    assert!(
        o.status.success() && out.contains(expect),
        "{what} failed ({}):\nstdout:\n{out}\nstderr:\n{err}",
        o.status
    );
}

/// Whether `prog` runs (`prog --version`).
pub fn have(prog: &str) -> bool {
    Command::new(prog)
        .arg("--version")
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false)
}
