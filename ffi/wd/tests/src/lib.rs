//! Test support for the UADK C ABI libraries (`libwd.so.2`, `libwd_comp.so.2`,
//! `libwd_crypto.so.2`): builds the three cdylibs with cargo (same profile as the test),
//! lays them out under their sonames in `target/<profile>/uadk-wd-lib/`, compiles the C
//! programs of `ffi/wd/tests/c/` against `ffi/wd/include/` with `cc`, and runs them.
//!
//! The C programs are written only against UADK's documented API (UADK is not in
//! Debian and its sources are not reachable from CI): Ceph's and QEMU's call patterns,
//! a compressor in the style of UADK's sample, a mempool test and a crypto tool in the
//! style of UADK's test programs, misuse, the zlib wrapper, fork, and the C side of the
//! ABI-cost benchmark.
//!
//! ```no_run
//! let env = uadk_wd_tests::Env::get();
//! let exe = env.compile("misuse");
//! let out = env.run(&exe, &[], &[]);
//! assert!(out.status.success());
//! ```

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

/// Built libraries and compiled programs.
pub struct Env {
    /// `ffi/wd`.
    pub root: PathBuf,
    /// The libraries under their sonames.
    pub libdir: PathBuf,
    /// Where compiled programs go.
    pub bindir: PathBuf,
    /// The cargo profile directory (`target/debug` or `target/release`).
    pub profile_dir: PathBuf,
}

const LIBS: [&str; 3] = ["libwd", "libwd_comp", "libwd_crypto"];

impl Env {
    /// Builds the libraries once per test process and prepares the directories.
    pub fn get() -> &'static Env {
        static ENV: OnceLock<Env> = OnceLock::new();
        ENV.get_or_init(Env::build)
    }

    fn build() -> Env {
        let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
        let exe = std::env::current_exe().expect("test executable path");
        // target/<profile>/deps/<test> -> target/<profile>
        let profile_dir = exe
            .parent()
            .and_then(Path::parent)
            .expect("target/<profile>")
            .to_path_buf();
        let release = profile_dir.file_name().is_some_and(|n| n == "release");
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let mut cmd = Command::new(cargo);
        cmd.args([
            "build",
            "-p",
            "uadk-wd",
            "-p",
            "uadk-wd-comp",
            "-p",
            "uadk-wd-crypto",
        ]);
        if release {
            cmd.arg("--release");
        }
        let status = cmd
            .status()
            .expect("running cargo build for the UADK ABI libraries");
        assert!(status.success(), "cargo build of the UADK ABI libraries failed");
        let libdir = profile_dir.join("uadk-wd-lib");
        let bindir = profile_dir.join("uadk-wd-bin");
        std::fs::create_dir_all(&libdir).unwrap();
        std::fs::create_dir_all(&bindir).unwrap();
        for lib in LIBS {
            let built = profile_dir.join(format!("{lib}.so"));
            assert!(built.exists(), "{} was not built", built.display());
            for name in [format!("{lib}.so"), format!("{lib}.so.2")] {
                let link = libdir.join(name);
                let _ = std::fs::remove_file(&link);
                std::os::unix::fs::symlink(&built, &link).unwrap();
            }
        }
        Env {
            root,
            libdir,
            bindir,
            profile_dir,
        }
    }

    /// Compiles `tests/c/<name>.c` (with `-Wall -Werror`) against the headers and the
    /// three libraries, system zlib and OpenSSL; returns the executable.
    pub fn compile(&self, name: &str) -> PathBuf {
        self.compile_linking(
            name,
            &["-lwd_comp", "-lwd_crypto", "-lwd", "-lz", "-lcrypto", "-lpthread"],
        )
    }

    /// [`Env::compile`] with these libraries instead (e.g. `-ldl` only, for a program that
    /// loads ours with `dlopen`).
    pub fn compile_linking(&self, name: &str, libs: &[&str]) -> PathBuf {
        // One compilation per program and process (tests run in parallel threads; a
        // program must not be rewritten while another test executes it).
        static DONE: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());
        let mut done = DONE.lock().unwrap_or_else(|p| p.into_inner());
        let out = self.bindir.join(name);
        if done.iter().any(|n| n == name) {
            return out;
        }
        let src = self.root.join("tests/c").join(format!("{name}.c"));
        let tmp = self.bindir.join(format!(".{name}.{}", std::process::id()));
        let include = self.root.join("include");
        let output = Command::new(std::env::var("CC").unwrap_or_else(|_| "cc".into()))
            .args([
                "-O2",
                "-g",
                "-Wall",
                "-Wextra",
                "-Wno-unused-parameter",
                "-Werror",
                "-std=gnu11",
            ])
            .arg(format!("-I{}", include.display()))
            .arg(format!("-I{}", include.join("uadk").display()))
            .arg(&src)
            .arg("-o")
            .arg(&tmp)
            .arg(format!("-L{}", self.libdir.display()))
            .args(libs)
            .output()
            .expect("running cc");
        assert!(
            output.status.success(),
            "compiling {}:\n{}",
            src.display(),
            String::from_utf8_lossy(&output.stderr)
        );
        std::fs::rename(&tmp, &out).unwrap();
        done.push(name.to_string());
        out
    }

    /// Runs `exe` with the libraries on `LD_LIBRARY_PATH`, the given arguments and
    /// environment, optional standard input; prints its output.
    pub fn run_with_input(
        &self,
        exe: &Path,
        args: &[&str],
        env: &[(&str, &str)],
        input: Option<&[u8]>,
    ) -> Output {
        use std::io::Write;
        let mut cmd = Command::new(exe);
        cmd.args(args)
            .env("LD_LIBRARY_PATH", &self.libdir)
            .env_remove("WD_RS_QUIET")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("spawning a C program");
        let mut stdin = child.stdin.take().unwrap();
        let data = input.map(<[u8]>::to_vec);
        let feeder = std::thread::spawn(move || {
            if let Some(d) = data {
                let _ = stdin.write_all(&d);
            }
        });
        let out = child.wait_with_output().expect("waiting for a C program");
        feeder.join().unwrap();
        if out.stdout.len() < 4096 {
            print!("{}", String::from_utf8_lossy(&out.stdout));
        }
        eprint!("{}", String::from_utf8_lossy(&out.stderr));
        out
    }

    /// [`Env::run_with_input`] without input.
    pub fn run(&self, exe: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
        self.run_with_input(exe, args, env, None)
    }

    /// Compiles and runs `name`; asserts it exits 0 and returns its standard output.
    pub fn check(&self, name: &str, args: &[&str], env: &[(&str, &str)]) -> String {
        let exe = self.compile(name);
        let out = self.run(&exe, args, env);
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(
            out.status.success(),
            "{name} {args:?} failed ({}):\n{stdout}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        stdout
    }

    /// The path of a built library (`libwd`, `libwd_comp`, `libwd_crypto`).
    pub fn lib(&self, name: &str) -> PathBuf {
        self.profile_dir.join(format!("{name}.so"))
    }
}

/// The "N checks, M failures" summary of a program's output.
pub fn summary(stdout: &str) -> Option<(u32, u32)> {
    let line = stdout.lines().find(|l| l.contains(" checks, "))?;
    let (_, rest) = line.split_once(": ")?;
    let mut it = rest
        .split(|c: char| !c.is_ascii_digit())
        .filter(|s| !s.is_empty());
    Some((it.next()?.parse().ok()?, it.next()?.parse().ok()?))
}

/// The test data of `check.h`'s `fill_data` (kind 0: text-like), for the Rust side of the
/// benchmark.
pub fn text(n: usize, seed: u32) -> Vec<u8> {
    const WORDS: [&str; 7] = ["uadk ", "queue ", "zlib ", "ceph ", "qemu ", "page ", "block\n"];
    let mut x = seed.wrapping_mul(2_654_435_761).wrapping_add(12345);
    let mut v = Vec::with_capacity(n);
    while v.len() < n {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        for b in WORDS[(x % 7) as usize].bytes() {
            if v.len() < n {
                v.push(b);
            }
        }
    }
    v
}

/// Text and random bytes in alternating 1 KiB runs: compresses about 2:1 (UADK's sample
/// sizes its decompression output at 4x the input).
pub fn mixed(n: usize, seed: u32) -> Vec<u8> {
    let t = text(n, seed);
    let mut x = seed | 1;
    t.iter()
        .enumerate()
        .map(|(i, b)| {
            if (i / 1024) % 2 == 1 {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                x as u8
            } else {
                *b
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn summary_parses() {
        assert_eq!(
            super::summary("x\nmisuse: 12 checks, 0 failures\n"),
            Some((12, 0))
        );
        assert_eq!(super::summary("nothing"), None);
    }

    #[test]
    fn text_is_deterministic() {
        assert_eq!(super::text(100, 1), super::text(100, 1));
        assert_eq!(super::text(100, 1).len(), 100);
    }
}
