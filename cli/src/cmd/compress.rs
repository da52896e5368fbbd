//! `uadk compress` and `uadk decompress`: gzip-compatible file compression that never loses
//! or exposes data.
//!
//! Like gzip 1.12: `FILE` becomes `FILE.gz` (and back), the input is removed unless `-k`,
//! an existing output is not replaced without `-f`, `-c` writes to stdout and keeps the
//! input, and with no FILE (or `-`) stdin goes to stdout. gzip's common flags work the same
//! way (`-d -t -l -q -r -n -N -S --fast --best -1..-9`), and so do its exit statuses
//! (0 ok, 1 error, 2 warning).
//!
//! What makes it safe (see [`crate::tempout`]):
//! * an output is written under a new temporary name in the target directory (created
//!   `O_EXCL`, mode 0600), given the input's mode, owner (when root) and times, flushed, and
//!   only then renamed to its final name; the final name is never opened for writing, so a
//!   link there is never followed (with `-f` the link itself is replaced, as gzip does);
//! * an input that is also the output (same device and inode: a hard link, a symbolic link,
//!   `-S ""`) is refused; symbolic-link and multiply-linked inputs need `-f`, as in gzip;
//! * names are bytes end to end (`OsStr`), so any file name works and none collide;
//! * SIGINT, SIGTERM and SIGHUP remove the temporary file ([`crate::signals`]); the input is
//!   only removed after the output is complete on disk;
//! * memory is bounded: compression runs in windows on `--threads` threads
//!   ([`crate::windowed`]) and ends a stream of several windows with a block index;
//!   decompression streams ([`crate::inflate`]), on `--threads` threads when a seekable
//!   input carries a block index that fits the memory budget, sequentially otherwise.

use crate::exit::Status;
use crate::inflate::{self, Inflated, Route, Trailing};
use crate::names;
use crate::progress::{self, Progress};
use crate::tempout::{self, Attributes, CommitError, TempOutput};
use crate::windowed::{self, Plan};
use crate::{note, outln, say};
use anyhow::{bail, Context, Result};
use std::ffi::{OsStr, OsString};
use std::fs::{self, File, Metadata, OpenOptions};
use std::io::{self, BufWriter, IsTerminal, Write};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};
use uadk_zip::{Backend, Config, Format, GzipHeader, Session};

const IO_BUF: usize = 1 << 20;

/// Options shared by both commands.
#[derive(Debug, clap::Args)]
pub struct Common {
    /// Files to process (any bytes but NUL); none or `-` means stdin to stdout.
    pub files: Vec<PathBuf>,
    /// Container format: gzip, zlib or deflate.
    #[arg(long, default_value = "gzip")]
    pub format: String,
    /// Backend: auto (device if one offers the format, else software), device or software.
    #[arg(long, default_value = "auto")]
    pub backend: String,
    /// Write to standard output and keep the input files.
    #[arg(short = 'c', long = "stdout", visible_alias = "to-stdout")]
    pub stdout: bool,
    /// Decompress (the same as `uadk decompress`).
    #[arg(short = 'd', long = "decompress", visible_alias = "uncompress")]
    pub decompress: bool,
    /// Keep (don't delete) the input files.
    #[arg(short = 'k', long)]
    pub keep: bool,
    /// Replace existing outputs (a link there is replaced, never followed); follow a
    /// symbolic-link input; process files with several hard links; compressed data to a
    /// terminal.
    #[arg(short = 'f', long)]
    pub force: bool,
    /// Suffix of compressed files (default .gz; .zz for zlib, .deflate for deflate).
    #[arg(short = 'S', long, value_parser = clap::value_parser!(OsString))]
    pub suffix: Option<OsString>,
    /// Print each file's name, ratio and which engine ran.
    #[arg(short = 'v', long)]
    pub verbose: bool,
    /// Suppress warnings (the exit status still says 2).
    #[arg(short = 'q', long)]
    pub quiet: bool,
    /// Process directories recursively (symbolic links to directories are not followed).
    #[arg(short = 'r', long)]
    pub recursive: bool,
    /// Compressing: don't store the file name and time stamp. Decompressing: don't restore
    /// them (the default).
    #[arg(short = 'n', long = "no-name", overrides_with = "name")]
    pub no_name: bool,
    /// Compressing: store the file name and time stamp (the default). Decompressing: restore
    /// the stored name and time stamp.
    #[arg(short = 'N', long = "name", overrides_with = "no_name")]
    pub name: bool,
    /// Test the compressed files' integrity (nothing is written).
    #[arg(short = 't', long)]
    pub test: bool,
    /// List compressed size, uncompressed size, ratio and name of each compressed file
    /// (the sizes are counted by decompressing, so they are right for any size and for
    /// several members).
    #[arg(short = 'l', long)]
    pub list: bool,
    /// Threads: compression runs up to this many windows at once (and indexes a stream of
    /// several windows); decompression decodes an indexed file's pieces on this many.
    /// Default: all cores.
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=1024))]
    pub threads: Option<u64>,
    /// Refuse to decompress more than SIZE bytes per file (a decompression-bomb guard):
    /// a number with an optional K, M, G, T suffix (powers of 1024; KB, MB... powers of
    /// 1000). Default: no limit.
    #[arg(long, value_name = "SIZE", value_parser = crate::size::parse_size)]
    pub max_output: Option<u64>,
}

/// What `--help` of both commands says after the options.
const AFTER_HELP: &str = "\
Outputs are written to a new private file (mode 0600) in the target directory and renamed to \
their name only when complete, flushed to disk and given the input's mode, owner (as root) \
and times; the input is removed after that. A link at the output name is never followed. \
SIGINT, SIGTERM and SIGHUP remove the unfinished output. Memory stays bounded for any size.

Exit status: 0 ok, 1 error, 2 warning (e.g. output exists, trailing garbage ignored).";

/// Arguments of `uadk compress`. Levels: -1 (--fast) to -9 (--best), or --level 0..=9;
/// the default is 6, as in gzip.
#[derive(Debug, clap::Args)]
#[command(after_help = AFTER_HELP)]
pub struct CompressArgs {
    #[command(flatten)]
    pub common: Common,
    /// Level 1: fastest (ISA-L).
    #[arg(short = '1', long = "fast", group = "lvl")]
    pub l1: bool,
    /// Level 2 (ISA-L).
    #[arg(short = '2', group = "lvl")]
    pub l2: bool,
    /// Level 3 (ISA-L).
    #[arg(short = '3', group = "lvl")]
    pub l3: bool,
    /// Level 4 (libdeflate).
    #[arg(short = '4', group = "lvl")]
    pub l4: bool,
    /// Level 5 (libdeflate).
    #[arg(short = '5', group = "lvl")]
    pub l5: bool,
    /// Level 6: the default (libdeflate).
    #[arg(short = '6', group = "lvl")]
    pub l6: bool,
    /// Level 7 (libdeflate).
    #[arg(short = '7', group = "lvl")]
    pub l7: bool,
    /// Level 8 (libdeflate).
    #[arg(short = '8', group = "lvl")]
    pub l8: bool,
    /// Level 9: best compression (libdeflate).
    #[arg(short = '9', long = "best", group = "lvl")]
    pub l9: bool,
    /// Compression level 0..=9 (0 stores without compressing).
    #[arg(long, group = "lvl", value_parser = clap::value_parser!(u32).range(0..=9))]
    pub level: Option<u32>,
}

/// Arguments of `uadk decompress`.
#[derive(Debug, clap::Args)]
#[command(after_help = AFTER_HELP)]
pub struct DecompressArgs {
    #[command(flatten)]
    pub common: Common,
}

impl CompressArgs {
    fn level(&self) -> u32 {
        let flags = [
            self.l1, self.l2, self.l3, self.l4, self.l5, self.l6, self.l7, self.l8, self.l9,
        ];
        match flags.iter().position(|&f| f) {
            Some(i) => i as u32 + 1,
            None => self.level.unwrap_or(6),
        }
    }
}

/// What a run does to each file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Compress,
    Decompress,
    Test,
    List,
}

/// Everything a run needs besides the file.
struct Ctx<'a> {
    c: &'a Common,
    mode: Mode,
    format: Format,
    backend: Backend,
    level: u32,
    threads: usize,
    suffix: OsString,
    progress: bool,
}

/// How one file went.
#[derive(Debug, Clone, Copy)]
struct Outcome {
    /// The output was produced (and the input handled as asked).
    done: bool,
    status: Status,
}

const DONE: Outcome = Outcome {
    done: true,
    status: Status::Ok,
};

/// Counts over all files.
#[derive(Default)]
struct Tally {
    files: usize,
    not_done: usize,
    status: Option<Status>,
    list: (u64, u64, usize),
}

impl Ctx<'_> {
    /// Prints a warning unless -q; the file's status becomes Warning either way.
    fn warn(&self, msg: std::fmt::Arguments<'_>) -> Outcome {
        if !self.c.quiet {
            note!("{msg}");
        }
        Outcome {
            done: false,
            status: Status::Warning,
        }
    }

    /// A decompression session on `threads` threads (more than one only for an input whose
    /// block index was vetted: [`inflate::route`]).
    fn decompress_session(&self, threads: usize) -> Result<Session> {
        Ok(Session::new(Config {
            format: self.format,
            backend: self.backend,
            threads,
            // Streaming keeps memory bounded, so files have no output limit by default.
            max_output: self.c.max_output.unwrap_or(u64::MAX),
            ..Config::default()
        })?)
    }

    fn compress_config(&self, header: GzipHeader) -> Config {
        Config {
            format: self.format,
            level: self.level,
            backend: self.backend,
            threads: self.threads,
            gzip_header: header,
            ..Config::default()
        }
    }
}

fn default_suffix(format: Format) -> &'static str {
    match format {
        Format::Gzip => ".gz",
        Format::Zlib => ".zz",
        Format::Deflate => ".deflate",
    }
}

/// Runs `uadk compress`.
pub fn compress(a: CompressArgs) -> Result<Status> {
    let level = a.level();
    let c = &a.common;
    let mode = if c.list {
        Mode::List
    } else if c.test {
        Mode::Test
    } else if c.decompress {
        Mode::Decompress
    } else {
        Mode::Compress
    };
    run(c, mode, level)
}

/// Runs `uadk decompress`.
pub fn decompress(a: DecompressArgs) -> Result<Status> {
    let c = &a.common;
    let mode = if c.list {
        Mode::List
    } else if c.test {
        Mode::Test
    } else {
        Mode::Decompress
    };
    run(c, mode, 6)
}

fn run(c: &Common, mode: Mode, level: u32) -> Result<Status> {
    let format: Format = c.format.parse()?;
    let backend: Backend = c.backend.parse()?;
    let threads = match c.threads {
        Some(t) => usize::try_from(t).unwrap_or(1),
        None => std::thread::available_parallelism().map_or(1, |n| n.get()),
    };
    let suffix = c.suffix.clone().unwrap_or_else(|| default_suffix(format).into());
    if suffix.is_empty() || suffix.as_encoded_bytes().contains(&b'/') {
        bail!(
            "invalid suffix '{}': give a non-empty suffix without '/' (e.g. -S .gz)",
            suffix.to_string_lossy()
        );
    }
    crate::signals::install().context("cannot install the signal handlers")?;
    let cx = Ctx {
        c,
        mode,
        format,
        backend,
        level,
        threads,
        suffix,
        progress: progress::allowed(c.quiet),
    };
    let files: Vec<PathBuf> = if c.files.is_empty() {
        vec![PathBuf::from("-")]
    } else {
        c.files.clone()
    };
    let mut tally = Tally::default();
    if mode == Mode::List {
        outln!(
            "{:>19} {:>19}  ratio uncompressed_name",
            "compressed",
            "uncompressed"
        )?;
    }
    for f in &files {
        visit(&cx, f, false, &mut tally)?;
    }
    if mode == Mode::List && tally.list.2 > 1 {
        let (ci, co, _) = tally.list;
        outln!("{:>19} {:>19} {} (totals)", ci, co, ratio(co, ci, 0))?;
    }
    if tally.not_done > 0 && tally.files > 1 {
        let what = match mode {
            Mode::Compress => "compressed",
            Mode::Decompress => "decompressed",
            Mode::Test => "tested OK",
            Mode::List => "listed",
        };
        note!("{} of {} file(s) not {what}", tally.not_done, tally.files);
    }
    Ok(tally.status.unwrap_or(Status::Ok))
}

/// Processes `path`: stdin for `-`, a directory's files with -r, else one file. Stops the
/// whole run (returns the error) only on a broken pipe.
fn visit(cx: &Ctx, path: &Path, recursed: bool, tally: &mut Tally) -> Result<()> {
    if path.as_os_str() == "-" {
        let r = stdio(cx);
        return record(path, r, tally);
    }
    match fs::symlink_metadata(path) {
        Ok(m) if m.is_dir() => {
            if !cx.c.recursive {
                let o = cx.warn(format_args!("{}: is a directory -- ignored", path.display()));
                return record(path, Ok(o), tally);
            }
            let mut entries: Vec<PathBuf> = match fs::read_dir(path) {
                Ok(rd) => rd.filter_map(|e| e.ok().map(|e| e.path())).collect(),
                Err(e) => {
                    let e = anyhow::Error::new(e).context("cannot read the directory");
                    return record(path, Err(e), tally);
                }
            };
            entries.sort();
            for e in entries {
                visit(cx, &e, true, tally)?;
            }
            Ok(())
        }
        _ => {
            let r = match cx.mode {
                Mode::Compress => compress_file(cx, path, recursed),
                _ => decompress_file(cx, path, recursed, tally),
            };
            record(path, r, tally)
        }
    }
}

fn record(path: &Path, r: Result<Outcome>, tally: &mut Tally) -> Result<()> {
    let o = match r {
        Ok(Outcome {
            done: false,
            status: Status::Ok,
        }) => return Ok(()), // silently skipped
        Ok(o) => o,
        Err(e) if crate::exit::is_broken_pipe(&e) => return Err(e),
        Err(e) => {
            let e = translate(e);
            let name = if path.as_os_str() == "-" {
                Path::new("stdin")
            } else {
                path
            };
            note!("{}: {e:#}", name.display());
            Outcome {
                done: false,
                status: Status::Error,
            }
        }
    };
    tally.files += 1;
    if !o.done {
        tally.not_done += 1;
    }
    tally.status = Some(tally.status.map_or(o.status, |s| s.max(o.status)));
    Ok(())
}

/// Library errors in the words of the command line.
fn translate(e: anyhow::Error) -> anyhow::Error {
    if let Some(uadk_zip::Error::OutputLimit { limit }) = e.downcast_ref::<uadk_zip::Error>() {
        return anyhow::anyhow!(
            "the output would exceed --max-output ({limit} bytes); raise --max-output if you trust this input (nothing was written, the input is kept)"
        );
    }
    e
}

/// Opens an input file, refusing (like gzip) symbolic links without -f and anything but
/// regular files. `Ok(None)` (with a warning printed) when the file is skipped.
fn open_input(cx: &Ctx, path: &Path) -> Result<Result<(File, Metadata), Outcome>> {
    let lmeta = fs::symlink_metadata(path).context("cannot read")?;
    if lmeta.file_type().is_symlink() && !cx.c.force {
        bail!("is a symbolic link; not followed (use -f to follow it)");
    }
    let flags = libc::O_NONBLOCK | if cx.c.force { 0 } else { libc::O_NOFOLLOW };
    let file = OpenOptions::new()
        .read(true)
        .custom_flags(flags)
        .open(path)
        .context("cannot open")?;
    let meta = file.metadata().context("cannot read")?;
    if !(meta.is_file() || cx.c.stdout && cx.c.force) {
        return Ok(Err(cx.warn(format_args!(
            "{}: is not a regular file -- ignored",
            path.display()
        ))));
    }
    let writes_file = !cx.c.stdout && matches!(cx.mode, Mode::Compress | Mode::Decompress);
    if writes_file && meta.nlink() > 1 && !cx.c.force {
        return Ok(Err(cx.warn(format_args!(
            "{}: has {} other link(s) -- unchanged (use -f to process it; the other names keep the old data)",
            path.display(),
            meta.nlink() - 1
        ))));
    }
    Ok(Ok((file, meta)))
}

/// Checks the output name before any work: refuses an output that is the input itself,
/// and (without -f) one that exists. `Ok(Some(outcome))` to skip with a warning.
fn check_output(cx: &Ctx, out: &Path, input: &Path, in_meta: &Metadata) -> Result<Option<Outcome>> {
    match fs::symlink_metadata(out) {
        Ok(lm) => {
            if let Ok(m) = fs::metadata(out) {
                if m.dev() == in_meta.dev() && m.ino() == in_meta.ino() {
                    bail!(
                        "{} and {} are the same file (a link); nothing done",
                        input.display(),
                        out.display()
                    );
                }
            }
            if lm.is_dir() {
                bail!("{} is a directory; nothing done", out.display());
            }
            if !cx.c.force {
                return Ok(Some(cx.warn(format_args!(
                    "{} already exists; not overwritten (use -f to replace it)",
                    out.display()
                ))));
            }
            Ok(None)
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(anyhow::Error::new(e).context(format!("cannot check {}", out.display()))),
    }
}

fn label(path: &Path) -> String {
    path.display().to_string()
}

fn compress_file(cx: &Ctx, path: &Path, recursed: bool) -> Result<Outcome> {
    if names::has_suffix(path, &cx.suffix) {
        if recursed {
            return Ok(Outcome {
                done: false,
                status: Status::Ok,
            });
        }
        return Ok(cx.warn(format_args!(
            "{}: already has the {} suffix -- unchanged",
            path.display(),
            cx.suffix.to_string_lossy()
        )));
    }
    let (mut input, meta) = match open_input(cx, path)? {
        Ok(x) => x,
        Err(skip) => return Ok(skip),
    };
    let header = if cx.c.no_name {
        GzipHeader::default()
    } else {
        GzipHeader {
            name: path.file_name().map(|n| n.as_encoded_bytes().to_vec()),
            mtime: u32::try_from(meta.mtime()).unwrap_or(0),
            ..GzipHeader::default()
        }
    };
    let cfg = cx.compress_config(header);
    let plan = Plan::new(cx.threads);
    let mut prog = Progress::new(cx.progress, Some(meta.len()), label(path));
    if cx.c.stdout {
        refuse_terminal_output(cx)?;
        let mut out = BufWriter::with_capacity(IO_BUF, crate::exit::stdout());
        let s = windowed::compress(&cfg, plan, &mut input, &mut out, &mut |n| prog.add(n))?;
        out.flush()?;
        prog.finish();
        if cx.c.verbose {
            say!(
                "{}:\t{} -- {} -- {}",
                path.display(),
                ratio(s.bytes_in, s.bytes_out, 0),
                s.engine,
                s.layout()
            );
        }
        return Ok(DONE);
    }
    let out_path = names::with_suffix(path, &cx.suffix);
    if let Some(skip) = check_output(cx, &out_path, path, &meta)? {
        return Ok(skip);
    }
    let dir = tempout::parent_dir(&out_path);
    let tmp = TempOutput::create_in(&dir)
        .with_context(|| format!("cannot create a temporary output in {}", dir.display()))?;
    let s = windowed::compress(&cfg, plan, &mut input, &mut tmp.file(), &mut |n| prog.add(n))?;
    prog.finish();
    if let Err(e) = tmp.commit(&out_path, &Attributes::of(&meta), cx.c.force) {
        return match e {
            CommitError::Exists(_) => Ok(cx.warn(format_args!("{e}"))),
            CommitError::Io(e) => Err(e.into()),
        };
    }
    if cx.c.verbose {
        say!(
            "{}:\t{} -- replaced with {} -- {} -- {}",
            path.display(),
            ratio(s.bytes_in, s.bytes_out, 0),
            out_path.display(),
            s.engine,
            s.layout()
        );
    }
    Ok(remove_input(cx, path, &out_path))
}

/// Removes the input after its output was published (unless -k). A failure (e.g. a
/// sticky directory) is a warning: the output exists and is complete.
fn remove_input(cx: &Ctx, path: &Path, out: &Path) -> Outcome {
    if cx.c.keep {
        return DONE;
    }
    match fs::remove_file(path) {
        Ok(()) => DONE,
        Err(e) => {
            if !cx.c.quiet {
                note!(
                    "{}: wrote {}, but cannot remove the input: {e}",
                    path.display(),
                    out.display()
                );
            }
            Outcome {
                done: true,
                status: Status::Warning,
            }
        }
    }
}

fn refuse_terminal_output(cx: &Ctx) -> Result<()> {
    if cx.mode == Mode::Compress && !cx.c.force && io::stdout().is_terminal() {
        bail!("compressed data not written to a terminal; redirect standard output or use -f");
    }
    Ok(())
}

/// `uadk compress`/`decompress` with stdin (`-` or no FILE) to stdout.
fn stdio(cx: &Ctx) -> Result<Outcome> {
    let mut prog = Progress::new(cx.progress, None, "stdin".into());
    let stdin = io::stdin();
    if cx.mode == Mode::Compress {
        refuse_terminal_output(cx)?;
        let cfg = cx.compress_config(GzipHeader::default());
        let mut out = BufWriter::with_capacity(IO_BUF, crate::exit::stdout());
        let s = windowed::compress(
            &cfg,
            Plan::new(cx.threads),
            &mut stdin.lock(),
            &mut out,
            &mut |n| prog.add(n),
        )
        .context("compressing stdin")?;
        out.flush()?;
        if cx.c.verbose {
            say!(
                "stdin:\t{} -- {} -- {}",
                ratio(s.bytes_in, s.bytes_out, 0),
                s.engine,
                s.layout()
            );
        }
        return Ok(DONE);
    }
    if stdin.is_terminal() && !cx.c.force {
        bail!("compressed data not read from a terminal; redirect standard input or use -f");
    }
    // Redirected from a regular file: seekable, so its block index can be used.
    if let Some(mut file) = inflate::seekable_stdin() {
        let route = inflate::route(cx.format, &mut file, cx.threads).context("cannot read stdin")?;
        let session = |threads| cx.decompress_session(threads);
        let r = match cx.mode {
            Mode::Decompress => {
                let w = BufWriter::with_capacity(IO_BUF, crate::exit::stdout());
                let mut out = inflate::StreamOut::new(w);
                let r =
                    inflate::inflate_seekable(&session, route, &mut file, &mut out, &mut |n| prog.add(n))?;
                out.flush()?;
                r
            }
            _ => {
                inflate::inflate_seekable(&session, route, &mut file, &mut io::sink(), &mut |n| prog.add(n))?
            }
        };
        prog.finish();
        return finish_inflated(cx, Path::new("stdin"), None, &r, None);
    }
    let session = cx.decompress_session(1)?;
    let route = Route::sequential("input not seekable");
    let mut input = stdin.lock();
    let r = match cx.mode {
        Mode::Decompress => {
            let mut out = BufWriter::with_capacity(IO_BUF, crate::exit::stdout());
            let r = inflate::inflate(&session, route, &mut input, &mut out, &mut |n| prog.add(n))?;
            out.flush()?;
            r
        }
        _ => inflate::inflate(&session, route, &mut input, &mut io::sink(), &mut |n| prog.add(n))?,
    };
    prog.finish();
    finish_inflated(cx, Path::new("stdin"), None, &r, None)
}

/// Prints what -v, -t and -l print for a decompressed input, and the trailing-garbage
/// warning; returns the file's outcome.
fn finish_inflated(
    cx: &Ctx,
    path: &Path,
    size: Option<u64>,
    r: &Inflated,
    shown: Option<&Path>,
) -> Result<Outcome> {
    if cx.mode == Mode::List {
        let name = shown.unwrap_or(path);
        let compressed = size.unwrap_or(r.bytes_in);
        // gzip counts the ratio without the header and trailer bytes.
        let overhead = match cx.format {
            Format::Gzip => {
                r.header
                    .as_ref()
                    .and_then(|h| h.encode(6).ok())
                    .map_or(10, |h| h.len())
                    + 8
            }
            Format::Zlib => 6,
            Format::Deflate => 0,
        } as u64;
        outln!(
            "{:>19} {:>19} {} {}",
            compressed,
            r.bytes_out,
            ratio(r.bytes_out, compressed, overhead),
            name.display()
        )?;
    } else if cx.c.verbose {
        match cx.mode {
            Mode::Test => say!("{}:\tOK -- {} -- {}", path.display(), r.engine, r.decode),
            _ => say!(
                "{}:\t{} -- {} bytes -- {} -- {}",
                path.display(),
                ratio(r.bytes_out, r.bytes_in, 0),
                r.bytes_out,
                r.engine,
                r.decode
            ),
        }
    }
    Ok(match r.trailing {
        Trailing::Garbage(at) => {
            let mut o = cx.warn(format_args!(
                "{}: decompression OK, trailing garbage ignored (from byte {at})",
                path.display()
            ));
            o.done = true;
            o
        }
        Trailing::None | Trailing::Zeros(_) => DONE,
    })
}

/// The names a compressed file may end with, the -S suffix first.
fn known_suffixes<'a>(cx: &'a Ctx<'_>) -> Vec<&'a OsStr> {
    let mut v: Vec<&OsStr> = vec![cx.suffix.as_os_str()];
    if cx.format == Format::Gzip {
        for s in [".gz", "-gz", ".z", "-z", "_z"] {
            v.push(OsStr::new(s));
        }
    } else {
        v.push(OsStr::new(default_suffix(cx.format)));
    }
    v
}

fn decompress_file(cx: &Ctx, path: &Path, recursed: bool, tally: &mut Tally) -> Result<Outcome> {
    let stem = names::strip_suffix(path, &known_suffixes(cx), cx.format == Format::Gzip);
    let writes_file = cx.mode == Mode::Decompress && !cx.c.stdout;
    if stem.is_none() && (writes_file || recursed) {
        if recursed {
            return Ok(Outcome {
                done: false,
                status: Status::Ok,
            });
        }
        return Ok(cx.warn(format_args!(
            "{}: unknown suffix (expected {}) -- ignored",
            path.display(),
            cx.suffix.to_string_lossy()
        )));
    }
    let (mut input, meta) = match open_input(cx, path)? {
        Ok(x) => x,
        Err(skip) => return Ok(skip),
    };
    let restore = cx.c.name && !cx.c.no_name;
    let stem = stem.unwrap_or_else(|| path.to_path_buf());
    if writes_file && !restore {
        if let Some(skip) = check_output(cx, &stem, path, &meta)? {
            return Ok(skip);
        }
    }
    // A regular file is seekable: its block index (if any, and fit) runs the decode on
    // every thread. Anything else (-c -f on a device or pipe) decodes sequentially.
    let route = if meta.is_file() {
        inflate::route(cx.format, &mut input, cx.threads).context("cannot read")?
    } else {
        Route::sequential("input not seekable")
    };
    let session = |threads| cx.decompress_session(threads);
    let mut prog = Progress::new(cx.progress, Some(meta.len()), label(path));
    let named = |r: &Inflated| -> PathBuf {
        match r
            .header
            .as_ref()
            .and_then(|h| h.name.as_deref())
            .and_then(names::header_name)
        {
            Some(n) if restore => tempout::parent_dir(path).join(n),
            _ => stem.clone(),
        }
    };
    match cx.mode {
        Mode::Test | Mode::List => {
            let r = inflate::inflate_seekable(&session, route, &mut input, &mut io::sink(), &mut |n| {
                prog.add(n)
            })?;
            prog.finish();
            let shown = named(&r);
            if cx.mode == Mode::List {
                tally.list.0 += meta.len();
                tally.list.1 += r.bytes_out;
                tally.list.2 += 1;
            }
            finish_inflated(cx, path, Some(meta.len()), &r, Some(&shown))
        }
        Mode::Decompress if cx.c.stdout => {
            let w = BufWriter::with_capacity(IO_BUF, crate::exit::stdout());
            let mut out = inflate::StreamOut::new(w);
            let r = inflate::inflate_seekable(&session, route, &mut input, &mut out, &mut |n| prog.add(n))?;
            out.flush()?;
            prog.finish();
            finish_inflated(cx, path, Some(meta.len()), &r, None)
        }
        _ => {
            let dir = tempout::parent_dir(&stem);
            let tmp = TempOutput::create_in(&dir)
                .with_context(|| format!("cannot create a temporary output in {}", dir.display()))?;
            let r = {
                let mut out = inflate::FileOut::new(tmp.file(), IO_BUF);
                let r =
                    inflate::inflate_seekable(&session, route, &mut input, &mut out, &mut |n| prog.add(n))
                        .context("input kept, no output written")?;
                out.flush()?;
                r
            };
            prog.finish();
            let out_path = named(&r);
            if restore {
                if let Some(skip) = check_output(cx, &out_path, path, &meta)? {
                    return Ok(skip);
                }
            }
            let mut attrs = Attributes::of(&meta);
            if let Some(h) = r.header.as_ref().filter(|h| restore && h.mtime != 0) {
                attrs.modified = Some(SystemTime::UNIX_EPOCH + Duration::from_secs(u64::from(h.mtime)));
            }
            if let Err(e) = tmp.commit(&out_path, &attrs, cx.c.force) {
                return match e {
                    CommitError::Exists(_) => Ok(cx.warn(format_args!("{e}"))),
                    CommitError::Io(e) => Err(e.into()),
                };
            }
            let o = finish_inflated(cx, path, Some(meta.len()), &r, None)?;
            let removed = remove_input(cx, path, &out_path);
            Ok(Outcome {
                done: true,
                status: o.status.max(removed.status),
            })
        }
    }
}

/// A ratio as gzip prints it: `(1 - compressed/uncompressed)` in percent, `%5.1f%%`.
fn ratio(uncompressed: u64, compressed: u64, overhead: u64) -> String {
    let r = if uncompressed == 0 {
        0.0
    } else {
        100.0 * (1.0 - compressed.saturating_sub(overhead) as f64 / uncompressed as f64)
    };
    format!("{r:5.1}%")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ratios_print_like_gzip() {
        assert_eq!(ratio(1000, 250, 0), " 75.0%");
        assert_eq!(ratio(0, 20, 0), "  0.0%");
        assert_eq!(ratio(10, 20, 0), "-100.0%");
    }
}
