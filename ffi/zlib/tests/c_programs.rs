//! C programs compiled with `cc` against the system `zlib.h` and `-lz`, then run three ways:
//! on the system libz, under `LD_PRELOAD=libuadk_z.so`, and with libuadk_z.so installed as
//! `libz.so.1` (a directory with the symlink, on `LD_LIBRARY_PATH`). Our counters prove
//! which library served the calls. Python's zlib and gzip modules run under the preload too.

mod common;
use std::path::{Path, PathBuf};
use std::process::Command;

fn work_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("uadk-z-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn compile(src: &str, dir: &Path) -> PathBuf {
    let exe = dir.join("zlib_client");
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join(src);
    let out = Command::new("cc")
        .args(["-O1", "-Wall", "-Werror", "-D_FILE_OFFSET_BITS=64", "-o"])
        .arg(&exe)
        .arg(&src)
        .arg("-lz")
        .output()
        .expect("cc runs (build-essential and zlib1g-dev installed)");
    assert!(
        out.status.success(),
        "cc failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    exe
}

/// Runs `cmd` with our counters enabled; returns stdout and the counters JSON (if any).
fn run(mut cmd: Command, stats: &Path) -> (String, Option<String>) {
    let out = cmd.env("UADK_Z_STATS", stats).output().unwrap();
    assert!(
        out.status.success(),
        "{:?} failed: {}{}",
        cmd,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let dir = stats.parent().unwrap();
    let prefix = stats.file_name().unwrap().to_string_lossy().into_owned();
    let json = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .find(|e| e.file_name().to_string_lossy().starts_with(&format!("{prefix}.")))
        .map(|e| std::fs::read_to_string(e.path()).unwrap());
    (String::from_utf8_lossy(&out.stdout).into_owned(), json)
}

fn counter(json: &str, name: &str) -> u64 {
    let at = json
        .find(&format!("\"{name}\":"))
        .unwrap_or_else(|| panic!("{name} in {json}"));
    json[at + name.len() + 3..]
        .split(|c: char| !c.is_ascii_digit())
        .next()
        .unwrap()
        .parse()
        .unwrap()
}

#[test]
fn c_client_runs_on_system_zlib_preloaded_and_as_libz_so_1() {
    let dir = work_dir("c");
    let exe = compile("tests/c/zlib_client.c", &dir);
    let ours = common::ours_path();

    let (plain, none) = run(Command::new(&exe), &dir.join("s0"));
    assert!(plain.contains("ok 1.2.13"), "{plain}");
    assert!(none.is_none(), "the system libz wrote our counters");
    // The layout line must match our z_stream (sizeof and offsets of total_in, msg, zalloc,
    // data_type, adler; sizeof gz_header).
    let layout = plain.lines().next().unwrap();
    let s = std::mem::size_of::<common::z_stream>();
    assert!(layout.starts_with(&format!("layout {s} ")), "{layout}");
    assert!(
        layout.ends_with(&format!(" {}", std::mem::size_of::<common::gz_header>())),
        "{layout}"
    );

    let mut pre = Command::new(&exe);
    pre.env("LD_PRELOAD", &ours);
    let (out, json) = run(pre, &dir.join("s1"));
    assert_eq!(out, plain);
    let json = json.expect("counters from the preloaded library");
    assert!(counter(&json, "deflate_streams") >= 30, "{json}");
    assert!(counter(&json, "inflate_streams") >= 30, "{json}");
    assert!(
        counter(&json, "deflate_fast_software") + counter(&json, "deflate_fast_device") > 0,
        "{json}"
    );
    inflate_ran_on_the_fast_engine_if_loaded(&json, 1);
    assert_eq!(counter(&json, "panics"), 0);

    // Installed as libz.so.1: the dynamic loader must find every version node the program
    // needs (VERNEED) in our library.
    let libdir = dir.join("lib");
    std::fs::create_dir_all(&libdir).unwrap();
    let link = libdir.join("libz.so.1");
    let _ = std::fs::remove_file(&link);
    std::os::unix::fs::symlink(&ours, &link).unwrap();
    let mut inst = Command::new(&exe);
    inst.env("LD_LIBRARY_PATH", &libdir);
    let (out, json) = run(inst, &dir.join("s2"));
    assert_eq!(out, plain);
    assert!(
        json.is_some(),
        "our library did not serve the program via LD_LIBRARY_PATH"
    );
    let ldd = Command::new("ldd")
        .arg(&exe)
        .env("LD_LIBRARY_PATH", &libdir)
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&ldd.stdout).contains(libdir.to_str().unwrap()));
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn python_zlib_and_gzip_under_the_preload() {
    let dir = work_dir("py");
    let script = r#"
import gzip, io, os, random, zlib
random.seed(3)
data = b"".join(random.choice([b"alpha ", b"beta ", b"gamma\n", os.urandom(5)]) for _ in range(100000))
for lvl in (-1, 1, 6, 9):
    for wb in (15, -15, 31):
        c = zlib.compressobj(lvl, zlib.DEFLATED, wb)
        z = b"".join(c.compress(data[i:i + 16384]) for i in range(0, len(data), 16384)) + c.flush()
        d = zlib.decompressobj(wb)
        out, buf = b"", z + b"tail"
        while buf and not d.eof:
            out += d.decompress(buf, 4096)
            buf = d.unconsumed_tail
        assert out == data and d.eof and d.unused_data == b"tail", (lvl, wb)
assert zlib.decompress(zlib.compress(data, 9)) == data
g = gzip.compress(data) + gzip.compress(b"second member")
assert gzip.decompress(g) == data + b"second member"
with gzip.GzipFile(fileobj=io.BytesIO(g)) as f:
    assert f.read(12345) == data[:12345]
    assert f.read() == data[12345:] + b"second member"
try:
    zlib.decompress(b"x\x9c garbage")
    raise SystemExit("no error")
except zlib.error as e:
    assert "Error -3" in str(e), e
print("python ok", zlib.ZLIB_RUNTIME_VERSION)
"#;
    let mut cmd = Command::new("python3");
    cmd.args(["-c", script]).env("LD_PRELOAD", common::ours_path());
    let (out, json) = run(cmd, &dir.join("py"));
    assert!(out.contains("python ok 1.2.13"), "{out}");
    let json = json.expect("counters from the preloaded library");
    assert!(counter(&json, "deflate_streams") >= 12, "{json}");
    inflate_ran_on_the_fast_engine_if_loaded(&json, 12);
    std::fs::remove_dir_all(&dir).ok();
}

/// With ISA-L loaded, at least `min` inflate streams ran on it; without it (a fresh
/// machine), they ran on zlib-rs and the route names the missing library and its package.
fn inflate_ran_on_the_fast_engine_if_loaded(json: &str, min: u64) {
    if uadk_zip::software::isal_status().is_ok() {
        assert!(counter(json, "inflate_fast") >= min, "{json}");
    } else {
        assert_eq!(counter(json, "inflate_fast"), 0, "{json}");
        assert!(counter(json, "inflate_zlib_rs") >= min, "{json}");
        assert!(
            json.contains("inflate software:zlib-rs (ISA-L unavailable") && json.contains("libisal2"),
            "the route says why: {json}"
        );
    }
}
