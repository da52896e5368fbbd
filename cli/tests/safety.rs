//! The CLI test matrix of issue 15: `uadk compress/decompress/digest/cipher` never lose or
//! expose data — links at the output name, non-UTF-8 names, permissions while writing,
//! signals, output errors and broken pipes, gzip compatibility, progress — run against the
//! built binary and, where useful, compared with GNU gzip on the same inputs.

mod common;

use common::*;
use std::ffi::OsStr;
use std::io::Write;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn gz(p: &Path) -> std::path::PathBuf {
    let mut v = p.as_os_str().as_bytes().to_vec();
    v.extend_from_slice(b".gz");
    std::path::PathBuf::from(OsStr::from_bytes(&v))
}

fn gunzip(p: &Path) -> Vec<u8> {
    ok(run(Command::new("gzip").arg("-dc").arg(p))).stdout
}

// ---- 1. links at the output name, input == output ------------------------------------

#[test]
fn symlink_or_hard_link_from_output_to_input_is_refused_even_with_f() {
    let d = Scratch::new("link-self");
    let data = b"1\n2\n3\n".repeat(100);
    for hard in [false, true] {
        let c = d.file("c", &data);
        if hard {
            std::fs::hard_link(&c, d.path("c.gz")).unwrap();
        } else {
            std::os::unix::fs::symlink("c", d.path("c.gz")).unwrap();
        }
        let o = run(uadk().args(["compress", "-f"]).arg(&c));
        code(&o, 1);
        assert!(stderr(&o).contains("same file"), "{}", stderr(&o));
        assert_eq!(std::fs::read(&c).unwrap(), data, "input intact (hard={hard})");
        assert!(d.temps().is_empty());
        std::fs::remove_file(d.path("c.gz")).unwrap();
        std::fs::remove_file(&c).unwrap();
    }
    // The same for decompression: u -> u.gz, and u a hard link of u.gz.
    let z = ok(run(uadk().args(["compress", "-c"]).arg(d.file("plain", &data)))).stdout;
    for hard in [false, true] {
        let u = d.file("u.gz", &z);
        if hard {
            std::fs::hard_link(&u, d.path("u")).unwrap();
        } else {
            std::os::unix::fs::symlink("u.gz", d.path("u")).unwrap();
        }
        let o = run(uadk().args(["decompress", "-f"]).arg(&u));
        code(&o, 1);
        assert_eq!(
            std::fs::read(&u).unwrap(),
            z,
            "compressed input intact (hard={hard})"
        );
        std::fs::remove_file(d.path("u")).unwrap();
    }
}

#[test]
fn empty_suffix_is_refused_and_the_input_kept() {
    let d = Scratch::new("empty-suffix");
    let x = d.file("x", b"data data data");
    for cmd in ["compress", "decompress"] {
        let o = run(uadk().args([cmd, "-f", "-S", ""]).arg(&x));
        code(&o, 1);
        assert!(stderr(&o).contains("invalid suffix"));
        assert_eq!(std::fs::read(&x).unwrap(), b"data data data");
    }
}

#[test]
fn a_link_at_the_output_is_replaced_with_f_never_followed_like_gzip() {
    for tool in ["uadk", "gzip"] {
        let d = Scratch::new(&format!("link-other-{tool}"));
        let data = b"some content\n".repeat(50);
        let x = d.file("x", &data);
        let other = d.file("other", b"must survive");
        std::os::unix::fs::symlink(&other, d.path("x.gz")).unwrap();
        let mut c = if tool == "uadk" {
            let mut c = uadk();
            c.arg("compress");
            c
        } else {
            Command::new("gzip")
        };
        ok(run(c.arg("-f").arg(&x)));
        assert_eq!(std::fs::read(&other).unwrap(), b"must survive", "{tool}");
        let m = std::fs::symlink_metadata(d.path("x.gz")).unwrap();
        assert!(m.file_type().is_file(), "{tool}: the link itself was replaced");
        assert_eq!(gunzip(&d.path("x.gz")), data, "{tool}");
        assert!(d.temps().is_empty());
    }
}

#[test]
fn a_dangling_link_at_the_output_is_not_followed_without_f_like_gzip() {
    for tool in ["uadk", "gzip"] {
        let d = Scratch::new(&format!("dangling-{tool}"));
        let x = d.file("x", b"payload");
        std::os::unix::fs::symlink(d.path("target"), d.path("x.gz")).unwrap();
        let mut c = if tool == "uadk" {
            let mut c = uadk();
            c.arg("compress");
            c
        } else {
            Command::new("gzip")
        };
        let o = run(c.arg(&x).stdin(Stdio::null()));
        code(&o, 2);
        assert!(!d.path("target").exists(), "{tool}: link target created");
        assert_eq!(std::fs::read(&x).unwrap(), b"payload");
    }
}

#[test]
fn symlink_and_multiply_linked_inputs_need_f_like_gzip() {
    let d = Scratch::new("input-links");
    let c = d.file("c", b"linked input");
    std::os::unix::fs::symlink("c", d.path("l")).unwrap();
    let o = run(uadk().arg("compress").arg(d.path("l")));
    code(&o, 1);
    assert!(stderr(&o).contains("symbolic link"));
    std::fs::hard_link(&c, d.path("h")).unwrap();
    let o = run(uadk().arg("compress").arg(d.path("h")));
    code(&o, 2);
    assert!(stderr(&o).contains("other link"));
    assert!(!d.path("h.gz").exists());
    ok(run(uadk().args(["compress", "-f"]).arg(d.path("h"))));
    assert_eq!(gunzip(&d.path("h.gz")), b"linked input");
    assert_eq!(
        std::fs::read(&c).unwrap(),
        b"linked input",
        "the other name keeps its data"
    );
}

// ---- 2. non-UTF-8 names ---------------------------------------------------------------

#[test]
fn non_utf8_names_never_collide_and_round_trip() {
    let d = Scratch::new("names");
    let a = d.file(OsStr::from_bytes(b"n\xff"), b"first file");
    let b = d.file(OsStr::from_bytes(b"n\xfe"), b"second file");
    ok(run(uadk().args(["compress", "-f"]).arg(&a).arg(&b)));
    assert_eq!(gunzip(&gz(&a)), b"first file");
    assert_eq!(gunzip(&gz(&b)), b"second file");
    // The stored name keeps its bytes: -N restores it.
    std::fs::rename(gz(&a), d.path("renamed.gz")).unwrap();
    ok(run(uadk().args(["decompress", "-N"]).arg(d.path("renamed.gz"))));
    assert_eq!(std::fs::read(&a).unwrap(), b"first file");
    ok(run(uadk().arg("decompress").arg(gz(&b))));
    assert_eq!(std::fs::read(&b).unwrap(), b"second file");
    assert_eq!(d.names(), vec![b"n\xfe".to_vec(), b"n\xff".to_vec()]);
}

// ---- 3. permissions, owner, times -------------------------------------------------------

#[test]
fn outputs_get_the_inputs_mode_and_times_like_gzip() {
    let d = Scratch::new("attrs");
    for (mode, tool) in [
        (0o600u32, "uadk"),
        (0o640, "uadk"),
        (0o600, "gzip"),
        (0o640, "gzip"),
    ] {
        let f = d.file(format!("f-{mode:o}-{tool}"), &sample(10_000));
        std::fs::set_permissions(&f, std::fs::Permissions::from_mode(mode)).unwrap();
        ok(run(Command::new("touch")
            .args(["-m", "-d", "2001-02-03 04:05:06.789"])
            .arg(&f)));
        ok(run(Command::new("touch")
            .args(["-a", "-d", "2002-03-04 05:06:07.5"])
            .arg(&f)));
        let before = std::fs::metadata(&f).unwrap();
        let mut c = if tool == "uadk" {
            let mut c = uadk();
            c.arg("compress");
            c
        } else {
            Command::new("gzip")
        };
        ok(run(c.arg(&f)));
        let after = std::fs::metadata(gz(&f)).unwrap();
        assert_eq!(after.mode() & 0o7777, mode, "{tool}");
        assert_eq!(after.mtime(), before.mtime(), "{tool}");
        assert_eq!(after.mtime_nsec(), before.mtime_nsec(), "{tool}");
        assert_eq!(after.atime(), before.atime(), "{tool}");
        // And back.
        let mut c = if tool == "uadk" {
            let mut c = uadk();
            c.arg("decompress");
            c
        } else {
            let mut c = Command::new("gzip");
            c.arg("-d");
            c
        };
        ok(run(c.arg(gz(&f))));
        let back = std::fs::metadata(&f).unwrap();
        assert_eq!(back.mode() & 0o7777, mode, "{tool}");
        assert_eq!(back.mtime(), before.mtime(), "{tool}");
    }
}

#[test]
fn owner_and_group_are_kept_when_root() {
    if !root() {
        eprintln!("skipped: not root, owners cannot be given away");
        return;
    }
    let d = Scratch::new("owner");
    let f = d.file("owned", b"nobody's data");
    ok(run(Command::new("chown").arg("nobody:nogroup").arg(&f)));
    let before = std::fs::metadata(&f).unwrap();
    ok(run(uadk().arg("compress").arg(&f)));
    let after = std::fs::metadata(d.path("owned.gz")).unwrap();
    assert_eq!((after.uid(), after.gid()), (before.uid(), before.gid()));
}

/// Polls `dir` until a temporary output appears (the command is then stopped with
/// SIGSTOP), or the command ends. Returns the temporary name if seen.
fn catch_temp(child: &mut std::process::Child, d: &Scratch) -> Option<String> {
    let deadline = Instant::now() + Duration::from_secs(120);
    while Instant::now() < deadline {
        if let Some(t) = d.temps().into_iter().next() {
            let _ = Command::new("kill")
                .args(["-STOP", &child.id().to_string()])
                .status();
            return Some(t);
        }
        if child.try_wait().unwrap().is_some() {
            return None;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    None
}

fn signal(child: &std::process::Child, sig: &str) {
    ok(run(
        Command::new("kill").args([&format!("-{sig}"), &child.id().to_string()])
    ));
}

#[test]
fn while_writing_the_output_is_private_and_after_a_signal_nothing_remains() {
    let d = Scratch::new("signals");
    let src = d.path("big");
    random_file(&src, 48 << 20);
    std::fs::set_permissions(&src, std::fs::Permissions::from_mode(0o644)).unwrap();
    let src_data = std::fs::read(&src).unwrap();
    for (sig, n) in [("INT", 2), ("TERM", 15), ("HUP", 1)] {
        let mut child = uadk()
            .args(["compress", "--threads", "1"])
            .arg(&src)
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let temp =
            catch_temp(&mut child, &d).expect("the compression ended before its temporary output was seen");
        let m = std::fs::metadata(d.path(&temp)).unwrap();
        assert_eq!(m.mode() & 0o777, 0o600, "the temporary output is private");
        assert!(!d.path("big.gz").exists(), "no final name while writing");
        signal(&child, sig);
        signal(&child, "CONT");
        let st = child.wait().unwrap();
        assert!(by_signal(st, n), "SIG{sig}: {st:?}");
        assert!(d.temps().is_empty(), "SIG{sig}: temporary removed");
        assert!(!d.path("big.gz").exists(), "SIG{sig}: no partial final output");
        assert_eq!(std::fs::read(&src).unwrap(), src_data, "SIG{sig}: input intact");
    }
    // SIGKILL: only a temporary name may remain, never the final one.
    let mut child = uadk()
        .args(["compress", "--threads", "1"])
        .arg(&src)
        .spawn()
        .unwrap();
    catch_temp(&mut child, &d).expect("temporary output seen");
    signal(&child, "KILL");
    child.wait().unwrap();
    assert!(!d.path("big.gz").exists());
    assert_eq!(d.temps().len(), 1);
    assert!(src.exists());
}

#[test]
fn decompression_is_interrupted_cleanly_too() {
    let d = Scratch::new("signals-d");
    // 512 MiB of zeros: a small .gz whose output takes a while to write and flush.
    let zeros = d.path("zeros");
    std::fs::File::create(&zeros).unwrap().set_len(512 << 20).unwrap();
    ok(run(uadk().args(["compress", "-1"]).arg(&zeros)));
    let z = d.path("zeros.gz");
    let before = std::fs::read(&z).unwrap();
    let mut child = uadk().arg("decompress").arg(&z).spawn().unwrap();
    catch_temp(&mut child, &d).expect("the decompression ended before its temporary output was seen");
    signal(&child, "TERM");
    signal(&child, "CONT");
    let st = child.wait().unwrap();
    assert!(by_signal(st, 15), "{st:?}");
    assert!(d.temps().is_empty());
    assert!(!zeros.exists(), "no partial output under the final name");
    assert_eq!(std::fs::read(&z).unwrap(), before);
}

// ---- 6. output errors, broken pipes, no panics -------------------------------------------

/// Runs `args` with stdout on /dev/full and on a pipe closed before anything is written.
fn output_error_cases(args: &[&str], stdin: &[u8]) -> Vec<(String, std::process::ExitStatus, String)> {
    let mut v = Vec::new();
    let full = std::fs::OpenOptions::new().write(true).open("/dev/full").unwrap();
    let mut c = uadk();
    c.args(args)
        .stdin(Stdio::piped())
        .stdout(full)
        .stderr(Stdio::piped());
    let mut child = c.spawn().unwrap();
    let mut i = child.stdin.take().unwrap();
    let _ = i.write_all(stdin);
    drop(i);
    let o = child.wait_with_output().unwrap();
    v.push(("/dev/full".to_string(), o.status, stderr(&o)));
    // The pipe's read end is closed before the child starts, so even an output small enough
    // to fit the pipe buffer (a --help text) meets EPIPE, whatever the scheduling.
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let mut child = uadk()
        .args(args)
        .stdin(Stdio::piped())
        .stdout(writer)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut i = child.stdin.take().unwrap();
    let _ = i.write_all(stdin);
    drop(i);
    let o = child.wait_with_output().unwrap();
    v.push(("closed pipe".to_string(), o.status, stderr(&o)));
    v
}

#[test]
fn no_cli_path_panics_on_output_errors() {
    let d = Scratch::new("outerr");
    let f = d.file("f", &sample(3 << 20));
    let fs = f.to_str().unwrap().to_string();
    let z = ok(run(uadk().args(["compress", "-c"]).arg(&f))).stdout;
    let g = d.file("f.gz", &z);
    let gs = g.to_str().unwrap().to_string();
    let cases: Vec<(Vec<&str>, Vec<u8>)> = vec![
        (vec!["info"], vec![]),
        (vec!["info", "--json"], vec![]),
        (vec!["--help"], vec![]),
        (vec!["--version"], vec![]),
        (vec!["compress", "--help"], vec![]),
        (vec!["digest", "--list"], vec![]),
        (vec!["cipher", "--list"], vec![]),
        (vec!["digest", "--alg", "sha256", &fs, &fs, &fs], vec![]),
        (vec!["digest", "--alg", "sha256"], sample(1 << 20)),
        (vec!["compress", "-c", &fs], vec![]),
        (vec!["compress"], sample(3 << 20)),
        (vec!["decompress", "-c", &gs], vec![]),
        (vec!["decompress"], z.clone()),
        (vec!["compress", "-l", &gs], vec![]),
        (
            vec![
                "cipher",
                "--alg",
                "aes-128-ctr",
                "--key",
                "000102030405060708090a0b0c0d0e0f",
                "--iv",
                "000102030405060708090a0b0c0d0e0f",
                "--encrypt",
            ],
            sample(3 << 20),
        ),
        (
            vec![
                "cipher",
                "--alg",
                "aes-128-gcm",
                "--key",
                "000102030405060708090a0b0c0d0e0f",
                "--iv",
                "000102030405060708090a0b",
                "--encrypt",
            ],
            sample(1 << 20),
        ),
    ];
    for (args, input) in &cases {
        for (how, st, err) in output_error_cases(args, input) {
            let what = format!("uadk {} with stdout on {how}: {st:?} {err}", args.join(" "));
            assert_ne!(st.code(), Some(101), "{what}");
            assert!(!err.contains("panicked"), "{what}");
            assert!(!st.success(), "{what}: a write error must not look like success");
            if how == "closed pipe" {
                assert!(by_signal(st, 13), "{what}: a broken pipe ends like SIGPIPE");
                assert!(err.is_empty(), "{what}: quietly");
            } else {
                assert_eq!(st.code(), Some(1), "{what}");
                assert!(err.contains("write error") || err.contains("No space"), "{what}");
            }
        }
    }
    // Diagnostics to a full stderr are dropped, the work is done (as gzip does).
    let v = d.file("v", &sample(100_000));
    let full = std::fs::OpenOptions::new().write(true).open("/dev/full").unwrap();
    let o = uadk()
        .args(["compress", "-v", "-k"])
        .arg(&v)
        .stderr(full)
        .status()
        .unwrap();
    assert_eq!(o.code(), Some(0));
    assert_eq!(gunzip(&d.path("v.gz")), std::fs::read(&v).unwrap());
}

#[test]
fn digest_to_head_ends_quietly_like_sha256sum() {
    let d = Scratch::new("head");
    let f = d.file("f", b"x");
    let files: Vec<_> = std::iter::repeat_n(f.as_os_str(), 2000).collect();
    let mut child = uadk()
        .args(["digest", "--alg", "sha256"])
        .args(&files)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = [0u8; 10];
    std::io::Read::read_exact(child.stdout.as_mut().unwrap(), &mut first).unwrap();
    drop(child.stdout.take());
    let o = child.wait_with_output().unwrap();
    assert!(by_signal(o.status, 13), "{:?}", o.status);
    assert!(o.stderr.is_empty(), "{}", stderr(&o));
}

// ---- 7. compatibility -------------------------------------------------------------------

#[test]
fn trailing_garbage_and_zeros_follow_gzip() {
    let d = Scratch::new("trailing");
    let data = sample(100_000);
    let z = ok(run(uadk().args(["compress", "-c"]).arg(d.file("src", &data)))).stdout;
    for (tail, status, warns) in [
        (&b"garbage"[..], 2, true),
        (&[0u8; 300][..], 0, false),
        (&b"\0\0junk"[..], 2, true),
    ] {
        for tool in ["uadk", "gzip"] {
            let g = d.file("t.gz", &[&z[..], tail].concat());
            let mut c = if tool == "uadk" {
                let mut c = uadk();
                c.arg("decompress");
                c
            } else {
                let mut c = Command::new("gzip");
                c.arg("-d");
                c
            };
            let o = run(c.arg(&g));
            code(&o, status);
            assert_eq!(
                stderr(&o).contains("trailing garbage ignored"),
                warns,
                "{tool}: {}",
                stderr(&o)
            );
            assert_eq!(std::fs::read(d.path("t")).unwrap(), data, "{tool}");
            assert!(!g.exists(), "{tool}: input removed like gzip does");
            std::fs::remove_file(d.path("t")).unwrap();
        }
    }
    // -q keeps the status, drops the message; -t says the same.
    let g = d.file("q.gz", &[&z[..], b"xx"].concat());
    let o = run(uadk().args(["decompress", "-q", "-c"]).arg(&g));
    code(&o, 2);
    assert!(o.stderr.is_empty());
    code(&run(uadk().args(["compress", "-t"]).arg(&g)), 2);
}

#[test]
fn max_output_takes_sizes_and_its_error_names_the_flag() {
    let d = Scratch::new("maxout");
    let f = d.file("m", &vec![b'a'; 3 << 20]);
    ok(run(uadk().arg("compress").arg(&f)));
    let g = d.path("m.gz");
    let o = run(uadk().args(["decompress", "--max-output", "1M"]).arg(&g));
    code(&o, 1);
    assert!(stderr(&o).contains("--max-output"), "{}", stderr(&o));
    assert!(!stderr(&o).contains("Config::"), "{}", stderr(&o));
    assert!(g.exists() && !f.exists() && d.temps().is_empty());
    ok(run(uadk().args(["decompress", "--max-output", "4MiB"]).arg(&g)));
    assert_eq!(std::fs::read(&f).unwrap().len(), 3 << 20);
    let o = run(uadk().args(["decompress", "--max-output", "lots"]).arg(&g));
    assert!(stderr(&o).contains("--max-output"));
    assert!(!o.status.success());
}

#[test]
fn digest_names_are_escaped_like_sha256sum() {
    let d = Scratch::new("escape");
    let names: [&[u8]; 4] = [b"a\nb", b"c\\d", b"e\rf", b"plain \xff"];
    let paths: Vec<_> = names.iter().map(|n| d.file(OsStr::from_bytes(n), b"x")).collect();
    let ours = ok(run(uadk().args(["digest", "--alg", "sha256"]).args(&paths))).stdout;
    if !have("sha256sum") {
        eprintln!("sha256sum not installed; comparing with the expected form only");
        assert!(ours.starts_with(b"\\"));
        return;
    }
    let theirs = ok(run(Command::new("sha256sum").args(&paths))).stdout;
    assert_eq!(ours, theirs);
}

#[test]
fn gzip_flags_are_accepted_and_behave_like_gzip() {
    let d = Scratch::new("flags");
    let data = sample(200_000);
    let f = d.file("f", &data);
    // --fast / --best / -1..-9: gzip reads the result.
    for flag in [
        "--fast", "--best", "-1", "-2", "-3", "-4", "-5", "-6", "-7", "-8", "-9",
    ] {
        let z = ok(run(uadk().args(["compress", "-c", flag]).arg(&f))).stdout;
        let back = d.file("b.gz", &z);
        assert_eq!(gunzip(&back), data, "{flag}");
    }
    // compress -d == decompress; -k keeps; -n stores no name and no time.
    ok(run(uadk().args(["compress", "-n", "-k"]).arg(&f)));
    let g = d.path("f.gz");
    let hdr = std::fs::read(&g).unwrap();
    assert_eq!(hdr[3] & 0x08, 0, "-n: no FNAME");
    assert_eq!(&hdr[4..8], &[0, 0, 0, 0], "-n: no MTIME");
    std::fs::remove_file(&f).unwrap();
    ok(run(uadk().args(["compress", "-d"]).arg(&g)));
    assert_eq!(std::fs::read(&f).unwrap(), data);
    // -l prints what gzip -l prints.
    ok(run(uadk().arg("compress").arg(&f)));
    let ours = ok(run(uadk().args(["compress", "-l"]).arg(&g))).stdout;
    let theirs = ok(run(Command::new("gzip").arg("-l").arg(&g))).stdout;
    assert_eq!(String::from_utf8_lossy(&ours), String::from_utf8_lossy(&theirs));
    // -t: OK is silent; damage is an error.
    ok(run(uadk().args(["compress", "-t"]).arg(&g)));
    ok(run(uadk().args(["decompress", "-t", "-v"]).arg(&g)));
    let mut bad = std::fs::read(&g).unwrap();
    let n = bad.len();
    bad[n - 6] ^= 1;
    let b = d.file("bad.gz", &bad);
    code(&run(uadk().args(["decompress", "-t"]).arg(&b)), 1);
    std::fs::remove_file(&b).unwrap();
    // -N restores the stored name and time.
    std::fs::rename(&g, d.path("other.gz")).unwrap();
    ok(run(uadk().args(["decompress", "-N"]).arg(d.path("other.gz"))));
    assert_eq!(std::fs::read(&f).unwrap(), data);
    // -r walks directories; -q silences warnings.
    let sub = d.path("sub");
    std::fs::create_dir_all(sub.join("deeper")).unwrap();
    std::fs::write(sub.join("a"), b"aaa").unwrap();
    std::fs::write(sub.join("deeper/b"), b"bbb").unwrap();
    std::fs::write(sub.join("done.gz"), b"not touched").unwrap();
    ok(run(uadk().args(["compress", "-r"]).arg(&sub)));
    assert_eq!(gunzip(&sub.join("a.gz")), b"aaa");
    assert_eq!(gunzip(&sub.join("deeper/b.gz")), b"bbb");
    assert_eq!(std::fs::read(sub.join("done.gz")).unwrap(), b"not touched");
    std::fs::remove_file(sub.join("done.gz")).unwrap();
    ok(run(uadk().args(["decompress", "-r"]).arg(&sub)));
    assert_eq!(std::fs::read(sub.join("deeper/b")).unwrap(), b"bbb");
    let o = run(uadk().args(["compress", "-q"]).arg(&sub));
    code(&o, 2);
    assert!(o.stderr.is_empty(), "-q: {}", stderr(&o));
}

#[test]
fn help_lists_every_level_and_the_gzip_flags() {
    let help = String::from_utf8(ok(run(uadk().args(["compress", "--help"]))).stdout).unwrap();
    for flag in [
        "-1, --fast",
        "-2",
        "-3",
        "-4",
        "-5",
        "-6",
        "-7",
        "-8",
        "-9, --best",
        "--level",
        "-d, --decompress",
        "-t, --test",
        "-l, --list",
        "-q, --quiet",
        "-r, --recursive",
        "-n, --no-name",
        "-N, --name",
        "--threads",
        "--max-output",
    ] {
        assert!(help.contains(flag), "{flag} missing from:\n{help}");
    }
}

#[test]
fn threads_change_the_speed_not_the_bytes() {
    let d = Scratch::new("threads");
    let f = d.file("t", &sample(5 << 20));
    let one = ok(run(uadk().args(["compress", "-c", "--threads", "1"]).arg(&f))).stdout;
    let three = ok(run(uadk().args(["compress", "-c", "--threads", "3"]).arg(&f))).stdout;
    assert!(one == three, "the bytes differ with the thread count");
    assert!(gunzip(&d.file("t.gz", &one)) == std::fs::read(&f).unwrap());
    let o = run(uadk().args(["compress", "-c", "--threads", "0"]).arg(&f));
    assert!(!o.status.success() && stderr(&o).contains("--threads"));
    // Decompression takes the option too (the library's Config::threads).
    ok(run(uadk()
        .args(["decompress", "-c", "--threads", "2"])
        .arg(d.path("t.gz"))));
}

// ---- 8. progress ----------------------------------------------------------------------

/// A shell pipeline that feeds 6 x 100 kB over about 3 seconds into `uadk compress -c`.
fn slow_compress(out: &Path) -> String {
    format!(
        "for i in 1 2 3 4 5 6; do head -c 100000 /dev/urandom; sleep 0.5; done | {} compress -c > {}",
        env!("CARGO_BIN_EXE_uadk"),
        out.display()
    )
}

#[test]
fn no_progress_when_stderr_is_not_a_terminal() {
    let d = Scratch::new("progress-no");
    let o = ok(run(Command::new("sh")
        .arg("-c")
        .arg(slow_compress(&d.path("o.gz")))));
    assert!(o.stderr.is_empty(), "stderr: {:?}", stderr(&o));
    ok(run(Command::new("gzip").arg("-t").arg(d.path("o.gz"))));
}

#[test]
fn progress_on_a_terminal_after_two_seconds_but_not_with_q() {
    if !have("script") {
        eprintln!("skipped: script (util-linux) not installed, no pseudo-terminal to test with");
        return;
    }
    let d = Scratch::new("progress-tty");
    let tty = |extra: &str| -> String {
        let cmd = slow_compress(&d.path("o.gz")).replace(" compress -c", &format!(" compress -c {extra}"));
        let o = ok(run(Command::new("script")
            .args(["-qec", &cmd, "/dev/null"])
            .env("TERM", "xterm")
            .stdin(Stdio::null())));
        String::from_utf8_lossy(&o.stdout).into_owned()
    };
    let shown = tty("");
    assert!(shown.contains("stdin") && shown.contains("/s"), "{shown:?}");
    let quiet = tty("-q");
    assert!(!quiet.contains("/s"), "{quiet:?}");
}

// ---- unprivileged user -------------------------------------------------------------------

#[test]
fn unprivileged_user_cannot_read_a_private_file_mid_run_and_sticky_dirs_are_reported_truly() {
    let d = Scratch::new("nobody");
    open_dir(&d.0, 0o1777);
    let cat = match as_nobody("cat") {
        Ok(c) => c,
        Err(why) => {
            eprintln!("skipped: {why}");
            return;
        }
    };
    drop(cat);
    // A 0600 file compressed by root: the temporary output is 0600 from its creation.
    let secret = d.path("secret");
    random_file(&secret, 48 << 20);
    std::fs::set_permissions(&secret, std::fs::Permissions::from_mode(0o600)).unwrap();
    let mut child = uadk()
        .args(["compress", "-k", "--threads", "1"])
        .arg(&secret)
        .spawn()
        .unwrap();
    let temp = catch_temp(&mut child, &d).expect("temporary output seen");
    let o = run(as_nobody("cat").unwrap().arg(d.path(&temp)).stdout(Stdio::null()));
    assert!(!o.status.success(), "nobody read the output while it was written");
    signal(&child, "CONT");
    assert!(child.wait().unwrap().success());
    let o = run(as_nobody("cat")
        .unwrap()
        .arg(d.path("secret.gz"))
        .stdout(Stdio::null()));
    assert!(!o.status.success(), "nobody read the finished output");

    // Sticky directory: nobody compresses root's file; the .gz is written but root's input
    // cannot be removed. That is a warning (status 2), and the summary does not call the
    // file "not compressed".
    let roots = d.file("roots", b"root's words\n");
    std::fs::set_permissions(&roots, std::fs::Permissions::from_mode(0o644)).unwrap();
    let mine = d.path("mine");
    ok(run(as_nobody("sh")
        .unwrap()
        .arg("-c")
        .arg(format!("echo mine > {}", mine.display()))));
    let o = run(as_nobody(env!("CARGO_BIN_EXE_uadk"))
        .unwrap()
        .arg("compress")
        .arg(&roots)
        .arg(&mine));
    code(&o, 2);
    let err = stderr(&o);
    assert!(err.contains("cannot remove the input"), "{err}");
    assert!(!err.contains("not compressed"), "{err}");
    assert_eq!(gunzip(&d.path("roots.gz")), b"root's words\n");
    assert!(roots.exists());
    assert_eq!(gunzip(&d.path("mine.gz")), b"mine\n");
}
