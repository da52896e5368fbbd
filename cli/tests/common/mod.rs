//! Helpers shared by the CLI test matrix: the built binary, scratch directories, tools.

#![allow(dead_code)]

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Output};

/// The `uadk` binary under test.
pub fn uadk() -> Command {
    Command::new(env!("CARGO_BIN_EXE_uadk"))
}

/// A fresh directory under the system temp dir, removed on drop.
pub struct Scratch(pub PathBuf);

impl Scratch {
    pub fn new(tag: &str) -> Self {
        let p = std::env::temp_dir().join(format!("uadk-cli-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        Scratch(p)
    }
    pub fn path(&self, name: impl AsRef<OsStr>) -> PathBuf {
        self.0.join(name.as_ref())
    }
    pub fn file(&self, name: impl AsRef<OsStr>, data: &[u8]) -> PathBuf {
        let p = self.path(name);
        std::fs::write(&p, data).unwrap();
        p
    }
    /// Names in the directory (as bytes), sorted.
    pub fn names(&self) -> Vec<Vec<u8>> {
        let mut v: Vec<Vec<u8>> = std::fs::read_dir(&self.0)
            .unwrap()
            .map(|e| e.unwrap().file_name().as_bytes().to_vec())
            .collect();
        v.sort();
        v
    }
    /// Temporary outputs left in the directory.
    pub fn temps(&self) -> Vec<String> {
        self.names()
            .into_iter()
            .map(|n| String::from_utf8_lossy(&n).into_owned())
            .filter(|n| n.starts_with(".uadk-"))
            .collect()
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = Command::new("chmod").arg("-R").arg("u+rwx").arg(&self.0).status();
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Compressible text with random runs.
pub fn sample(n: usize) -> Vec<u8> {
    let mut x = 0x2545_F491_4F6C_DD1Du64;
    (0..n)
        .map(|i| {
            if (i / 4096) % 3 == 0 {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x as u8
            } else {
                b"compressible text for the cli matrix tests\n"[i % 43]
            }
        })
        .collect()
}

/// Runs and returns the output.
pub fn run(cmd: &mut Command) -> Output {
    cmd.output().expect("run command")
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Asserts success and returns the output.
pub fn ok(o: Output) -> Output {
    assert!(
        o.status.success(),
        "status {:?}\nstderr: {}",
        o.status,
        stderr(&o)
    );
    o
}

/// Asserts the gzip exit status `code` (0 ok, 1 error, 2 warning).
pub fn code(o: &Output, code: i32) {
    assert_eq!(o.status.code(), Some(code), "stderr: {}", stderr(o));
}

/// True when the status says the process ended by signal `sig` (killed, or exited 128+n).
pub fn by_signal(s: ExitStatus, sig: i32) -> bool {
    s.signal() == Some(sig) || s.code() == Some(128 + sig)
}

/// Whether a tool is installed.
pub fn have(tool: &str) -> bool {
    Command::new("sh")
        .arg("-c")
        .arg(format!("command -v {tool} >/dev/null"))
        .status()
        .is_ok_and(|s| s.success())
}

/// True when running as root (and so able to act as `nobody` with setpriv).
pub fn root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.trim_ascii() == b"0")
}

/// A command run as the unprivileged `nobody` user, or the reason why not.
pub fn as_nobody(program: impl AsRef<OsStr>) -> Result<Command, String> {
    if !root() {
        return Err("not root: cannot switch to nobody".into());
    }
    if !have("setpriv") {
        return Err("setpriv (util-linux) is not installed".into());
    }
    let mut c = Command::new("setpriv");
    c.args(["--reuid=nobody", "--regid=nogroup", "--clear-groups"])
        .arg(program);
    // Make sure nobody can reach the binary at all.
    let probe = Command::new("setpriv")
        .args(["--reuid=nobody", "--regid=nogroup", "--clear-groups"])
        .arg(env!("CARGO_BIN_EXE_uadk"))
        .arg("--version")
        .output();
    match probe {
        Ok(o) if o.status.success() => Ok(c),
        Ok(o) => Err(format!("nobody cannot run the binary: {}", stderr(&o))),
        Err(e) => Err(format!("setpriv failed: {e}")),
    }
}

/// Gives the scratch directory to everyone (for unprivileged cases).
pub fn open_dir(p: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// `n` random bytes (from /dev/urandom).
pub fn random_file(p: &Path, n: usize) {
    use std::io::Read;
    let mut f = std::fs::File::open("/dev/urandom").unwrap();
    let mut out = std::fs::File::create(p).unwrap();
    let mut buf = vec![0u8; 1 << 20];
    let mut left = n;
    while left > 0 {
        let k = left.min(buf.len());
        f.read_exact(&mut buf[..k]).unwrap();
        std::io::Write::write_all(&mut out, &buf[..k]).unwrap();
        left -= k;
    }
}
