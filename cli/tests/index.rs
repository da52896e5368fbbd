//! `uadk compress` writes a block index into streams of several windows, every other reader
//! still sees a plain stream, and `uadk decompress` decodes its pieces on `--threads` threads
//! (the `-v` line says which path ran: "parallel (indexed, N pieces, T threads)" or
//! "sequential (why)"). A damaged or lying index never gives wrong output: the input is
//! decoded again without it, or (bytes already on standard output) the command fails.

mod common;

use common::*;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use uadk_zip::index::{locate, stream_tail, CheckKind, Index};
use uadk_zip::Format;

/// 8 MiB windows at `--threads 2`: this is three windows (8 + 8 + 1 MiB and a bit).
const LEN: usize = (17 << 20) + 12_345;

fn format_name(f: Format) -> &'static str {
    match f {
        Format::Gzip => "gzip",
        Format::Zlib => "zlib",
        Format::Deflate => "deflate",
    }
}

fn suffix(f: Format) -> &'static str {
    match f {
        Format::Gzip => ".gz",
        Format::Zlib => ".zz",
        Format::Deflate => ".deflate",
    }
}

fn with_suffix(p: &Path, f: Format) -> PathBuf {
    PathBuf::from(format!("{}{}", p.display(), suffix(f)))
}

/// `uadk compress -k -<level> --threads 2 --format <f> <file>`; returns the compressed bytes.
fn compress(file: &Path, f: Format, level: &str) -> Vec<u8> {
    let o = run(uadk()
        .args(["compress", "-k", "-f", "-v", level, "--threads", "2", "--format"])
        .arg(format_name(f))
        .arg(file));
    assert!(o.status.success(), "compress: {}", stderr(&o));
    assert!(stderr(&o).contains("indexed (3 pieces)"), "{}", stderr(&o));
    std::fs::read(with_suffix(file, f)).unwrap()
}

/// `uadk decompress -c -v --threads N --format f FILE`.
fn decompress_c(file: &Path, f: Format, threads: &str) -> Output {
    run(uadk()
        .args(["decompress", "-c", "-v", "--threads", threads, "--format"])
        .arg(format_name(f))
        .arg(file))
}

/// What system zlib (through uadk-zip's FFI to it) makes of `z`.
fn system_zlib(f: Format, z: &[u8]) -> Vec<u8> {
    uadk_zip::software::Library::Zlib
        .decompress(f, z, 1 << 30)
        .expect("system zlib reads the stream")
}

fn python_reads(f: Format, path: &Path, data: &[u8]) {
    if !have("python3") {
        eprintln!("python3 not installed: the Python reader is skipped");
        return;
    }
    let code = match f {
        Format::Gzip => "import gzip,sys; sys.stdout.buffer.write(gzip.open(sys.argv[1]).read())",
        Format::Zlib => {
            "import zlib,sys; sys.stdout.buffer.write(zlib.decompress(open(sys.argv[1],'rb').read()))"
        }
        Format::Deflate => {
            "import zlib,sys; sys.stdout.buffer.write(zlib.decompress(open(sys.argv[1],'rb').read(), -15))"
        }
    };
    let o = run(Command::new("python3").args(["-c", code]).arg(path));
    assert!(o.status.success(), "python3 {f:?}: {}", stderr(&o));
    assert!(o.stdout == data, "python3 reads {f:?} byte-identically");
}

#[test]
fn compress_indexes_large_files_and_decompress_uses_the_index() {
    let d = Scratch::new("index-main");
    let data = sample(LEN);
    let src = d.file("data", &data);
    for f in [Format::Gzip, Format::Zlib, Format::Deflate] {
        for level in ["-1", "-6"] {
            let what = format!("{f:?} {level}");
            let z = compress(&src, f, level);
            let zpath = with_suffix(&src, f);

            // The index: one independent piece per window, checks of the format's kind.
            let loc = locate(f, &z).unwrap_or_else(|| panic!("{what}: no index"));
            let idx = &loc.index;
            assert_eq!(idx.entries.len(), 3, "{what}");
            assert_eq!(idx.kind, CheckKind::for_format(f));
            assert!(idx.entries.iter().all(|e| !e.needs_window));
            assert_eq!(idx.entries[0].uncompressed, 8 << 20);
            assert_eq!(idx.total_uncompressed(), LEN as u64);
            assert_eq!(idx.combined_check(), idx.kind.of(&data), "{what}");

            // Invisible to everyone else.
            assert!(system_zlib(f, &z) == data, "{what}: system zlib");
            python_reads(f, &zpath, &data);
            if f == Format::Gzip {
                assert!(run(Command::new("gzip").arg("-t").arg(&zpath)).status.success());
                let o = run(Command::new("gzip").arg("-dc").arg(&zpath));
                assert!(o.status.success() && o.stdout == data, "{what}: gzip -dc");
                if have("pigz") {
                    let o = run(Command::new("pigz").arg("-dc").arg(&zpath));
                    assert!(o.status.success() && o.stdout == data, "{what}: pigz -dc");
                }
            }

            // Ours: in parallel from the index with 2 threads, sequentially with 1.
            let o = decompress_c(&zpath, f, "2");
            assert!(o.status.success(), "{what}: {}", stderr(&o));
            assert!(o.stdout == data, "{what}: parallel output");
            assert!(
                stderr(&o).contains("parallel (indexed, 3 pieces, 2 threads)"),
                "{what}: {}",
                stderr(&o)
            );
            let o = decompress_c(&zpath, f, "1");
            assert!(o.status.success() && o.stdout == data, "{what}: sequential");
            assert!(stderr(&o).contains("sequential (one thread)"), "{}", stderr(&o));
        }
    }

    // Into a file (temporary output, renamed), and -t: the same path.
    let zpath = with_suffix(&src, Format::Gzip);
    compress(&src, Format::Gzip, "-6");
    std::fs::remove_file(&src).unwrap();
    let o = run(uadk().args(["decompress", "-v", "--threads", "2"]).arg(&zpath));
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("parallel (indexed, 3 pieces, 2 threads)"),
        "{}",
        stderr(&o)
    );
    assert!(std::fs::read(&src).unwrap() == data);
    assert!(!zpath.exists(), "input removed after the output is complete");
    assert!(d.temps().is_empty());
    compress(&src, Format::Gzip, "-6");
    let o = run(uadk()
        .args(["decompress", "-t", "-v", "--threads", "2"])
        .arg(&zpath));
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("OK --") && stderr(&o).contains("parallel (indexed"));

    // stdin redirected from the file is seekable: the index is used; a pipe is not.
    let o = uadk()
        .args(["decompress", "-v", "--threads", "2"])
        .stdin(std::fs::File::open(&zpath).unwrap())
        .output()
        .unwrap();
    assert!(o.status.success() && o.stdout == data);
    assert!(stderr(&o).contains("stdin:") && stderr(&o).contains("parallel (indexed, 3 pieces"));
    let mut child = uadk()
        .args(["decompress", "-v", "--threads", "2"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let z = std::fs::read(&zpath).unwrap();
    let writer = std::thread::spawn(move || std::io::Write::write_all(&mut stdin, &z).unwrap());
    let o = child.wait_with_output().unwrap();
    writer.join().unwrap();
    assert!(o.status.success() && o.stdout == data);
    assert!(
        stderr(&o).contains("sequential (input not seekable)"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn small_files_and_gzip_files_decode_sequentially_as_before() {
    let d = Scratch::new("index-plain");
    // One window: no index, the stream ends with an empty final block as before.
    let small = sample(100_000);
    let s = d.file("small", &small);
    let o = run(uadk().args(["compress", "-k", "-v", "--threads", "2"]).arg(&s));
    assert!(
        stderr(&o).contains("no block index (one window)"),
        "{}",
        stderr(&o)
    );
    let z = std::fs::read(d.path("small.gz")).unwrap();
    assert!(locate(Format::Gzip, &z).is_none());
    let o = decompress_c(&d.path("small.gz"), Format::Gzip, "2");
    assert!(o.status.success() && o.stdout == small);
    assert!(
        stderr(&o).contains("sequential (no block index)"),
        "{}",
        stderr(&o)
    );

    // A large file made by gzip: sequential, byte-identical.
    let data = sample(LEN);
    let big = d.file("big", &data);
    let g = Command::new("gzip").arg("-c").arg(&big).output().unwrap();
    assert!(g.status.success());
    let gz = d.file("big.gz", &g.stdout);
    let o = decompress_c(&gz, Format::Gzip, "2");
    assert!(o.status.success() && o.stdout == data);
    assert!(
        stderr(&o).contains("sequential (no block index)"),
        "{}",
        stderr(&o)
    );
}

/// `z` (an indexed stream) with its index rewritten by `f`.
fn reindex(f: Format, z: &[u8], change: impl FnOnce(&mut Index)) -> Vec<u8> {
    let loc = locate(f, z).expect("indexed");
    let carrier_at = loc.data_start + loc.index.total_compressed() as usize;
    let mut idx = loc.index.clone();
    change(&mut idx);
    let mut out = z[..carrier_at].to_vec();
    out.extend(stream_tail(&idx));
    out.extend_from_slice(&z[loc.body_end..]);
    out
}

#[test]
fn damaged_or_lying_indexes_never_give_wrong_output() {
    let d = Scratch::new("index-bad");
    let data = sample(LEN);
    let src = d.file("data", &data);
    let z = compress(&src, Format::Gzip, "-1");
    let loc = locate(Format::Gzip, &z).unwrap();
    let carrier_at = loc.data_start + loc.index.total_compressed() as usize;

    // A damaged record (one payload bit of a carrier group: the stream stays valid): not an
    // index any more; sequential, right, and gzip agrees.
    let mut damaged = z.clone();
    damaged[carrier_at + 10] ^= 0x08;
    assert!(locate(Format::Gzip, &damaged).is_none());
    let p = d.file("damaged.gz", &damaged);
    let o = decompress_c(&p, Format::Gzip, "2");
    assert!(o.status.success() && o.stdout == data, "{}", stderr(&o));
    assert!(
        stderr(&o).contains("sequential (no block index)"),
        "{}",
        stderr(&o)
    );
    let o = run(Command::new("gzip").arg("-dc").arg(&p));
    assert!(o.status.success() && o.stdout == data);

    // A well-formed index that lies about the second piece's checksum.
    let lying = reindex(Format::Gzip, &z, |idx| idx.entries[1].check ^= 1);
    assert!(locate(Format::Gzip, &lying).is_some());
    let p = d.file("lying.gz", &lying);
    // Into a file and -t: the output starts over and the input is decoded sequentially.
    let o = run(uadk().args(["decompress", "-k", "-v", "--threads", "2"]).arg(&p));
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("decoded again without the block index"),
        "{}",
        stderr(&o)
    );
    assert!(std::fs::read(d.path("lying")).unwrap() == data);
    assert!(d.temps().is_empty());
    let o = run(uadk().args(["decompress", "-t", "--threads", "2"]).arg(&p));
    assert!(o.status.success(), "{}", stderr(&o));
    // To standard output, 8 MiB (the first piece, checked) went out before the lie was
    // found: the command fails and says what to do; what went out is the data's start.
    let o = decompress_c(&p, Format::Gzip, "2");
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("--threads 1"), "{}", stderr(&o));
    assert!(!o.stdout.is_empty() && data.starts_with(&o.stdout));
    let o = decompress_c(&p, Format::Gzip, "1");
    assert!(o.status.success() && o.stdout == data);
    // A lie about the first piece is found before any output: decoded again, even to stdout.
    let first = reindex(Format::Gzip, &z, |idx| idx.entries[0].check ^= 1);
    let p = d.file("first.gz", &first);
    let o = decompress_c(&p, Format::Gzip, "2");
    assert!(o.status.success() && o.stdout == data, "{}", stderr(&o));
    assert!(stderr(&o).contains("decoded again without the block index"));
    // A lie about where pieces end.
    let shifted = reindex(Format::Gzip, &z, |idx| {
        idx.entries[0].compressed -= 1;
        idx.entries[1].compressed += 1;
    });
    let p = d.file("shifted.gz", &shifted);
    let o = run(uadk().args(["decompress", "-c", "--threads", "2"]).arg(&p));
    assert!(o.status.success() && o.stdout == data, "{}", stderr(&o));

    // Damaged data under a true index: an error (as gzip says), no output, input kept.
    let mut bad = z.clone();
    bad[loc.data_start + (12 << 20) / 3] ^= 0x55;
    let p = d.file("bad.gz", &bad);
    let gz = run(Command::new("gzip").arg("-t").arg(&p));
    let o = run(uadk().args(["decompress", "--threads", "2"]).arg(&p));
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(!gz.status.success(), "gzip also rejects it");
    assert!(p.exists() && !d.path("bad").exists() && d.temps().is_empty());
}

#[test]
fn concatenated_and_trailing_data_follow_gzip_rules() {
    let d = Scratch::new("index-cat");
    let data = sample(LEN);
    let src = d.file("data", &data);
    let z = compress(&src, Format::Gzip, "-1");
    // Two indexed members: both, in order (sequentially: the index covers one member).
    let two = d.file("two.gz", &[&z[..], &z[..]].concat());
    let o = decompress_c(&two, Format::Gzip, "2");
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(o.stdout.len() == 2 * LEN && o.stdout[..LEN] == data[..] && o.stdout[LEN..] == data[..]);
    // Zeros after it: ignored silently; garbage: kept data and a warning (status 2).
    let zeros = d.file("zeros.gz", &[&z[..], &[0u8; 100]].concat());
    let o = decompress_c(&zeros, Format::Gzip, "2");
    assert!(o.status.success() && o.stdout == data);
    let junk = d.file("junk.gz", &[&z[..], b"junk"].concat());
    let o = decompress_c(&junk, Format::Gzip, "2");
    assert_eq!(o.status.code(), Some(2));
    assert!(o.stdout == data);
    assert!(stderr(&o).contains("trailing garbage ignored"), "{}", stderr(&o));
    // A cut file: an error, as gzip says.
    let cut = d.file("cut.gz", &z[..z.len() - 3]);
    let o = run(uadk().args(["decompress", "--threads", "2"]).arg(&cut));
    assert_eq!(o.status.code(), Some(1));
    assert!(!run(Command::new("gzip").arg("-t").arg(&cut)).status.success());
}
