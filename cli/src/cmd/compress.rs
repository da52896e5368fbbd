//! `uadk compress` and `uadk decompress`: gzip-compatible file compression.
//!
//! Like gzip: `FILE` becomes `FILE.gz` (and back), the input is removed unless `-k`, an
//! existing output is never overwritten without `-f`, `-c` writes to stdout and keeps the
//! input, and with no FILE (or `-`) stdin goes to stdout. Our `.gz` files are read by
//! `gzip -d` and gzip's by us (including concatenated members). Large files are compressed
//! in parallel blocks (one standard stream); a progress bar shows on long work when stderr
//! is a terminal.

use anyhow::{anyhow, bail, Context, Result};
use indicatif::{ProgressBar, ProgressStyle};
use std::fs::{self, File};
use std::io::{self, BufReader, BufWriter, IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use uadk_zip::{Backend, Config, Decoder, Encoder, Format, GzipHeader, Session};

/// Inputs at most this large are compressed in one piece (parallel blocks when threads > 1);
/// larger ones are streamed, keeping memory bounded.
const WHOLE_FILE_MAX: u64 = 1 << 30;
/// Show a progress bar for inputs at least this large.
const PROGRESS_MIN: u64 = 32 << 20;
const IO_BUF: usize = 1 << 20;

/// Options shared by both commands.
#[derive(Debug, clap::Args)]
pub struct Common {
    /// Files to process; none or `-` means stdin to stdout.
    pub files: Vec<PathBuf>,
    /// Container format: gzip, zlib or deflate.
    #[arg(long, default_value = "gzip")]
    pub format: String,
    /// Backend: auto (device if one offers the format, else software), device or software.
    #[arg(long, default_value = "auto")]
    pub backend: String,
    /// Write to standard output and keep the input files.
    #[arg(short = 'c', long = "stdout")]
    pub stdout: bool,
    /// Keep (don't delete) the input files.
    #[arg(short = 'k', long)]
    pub keep: bool,
    /// Overwrite existing output files; allow compressed data on a terminal.
    #[arg(short = 'f', long)]
    pub force: bool,
    /// Suffix of compressed files (default .gz, .zz for zlib, .deflate for deflate).
    #[arg(short = 'S', long)]
    pub suffix: Option<String>,
    /// Print each file's ratio and which engine ran.
    #[arg(short = 'v', long)]
    pub verbose: bool,
}

/// Arguments of `uadk compress`.
#[derive(Debug, clap::Args)]
pub struct CompressArgs {
    #[command(flatten)]
    pub common: Common,
    /// Fastest compression.
    #[arg(short = '1', group = "lvl")]
    pub l1: bool,
    #[arg(short = '2', group = "lvl", hide = true)]
    pub l2: bool,
    #[arg(short = '3', group = "lvl", hide = true)]
    pub l3: bool,
    #[arg(short = '4', group = "lvl", hide = true)]
    pub l4: bool,
    #[arg(short = '5', group = "lvl", hide = true)]
    pub l5: bool,
    /// Default compression (same as no level flag).
    #[arg(short = '6', group = "lvl")]
    pub l6: bool,
    #[arg(short = '7', group = "lvl", hide = true)]
    pub l7: bool,
    #[arg(short = '8', group = "lvl", hide = true)]
    pub l8: bool,
    /// Best compression.
    #[arg(short = '9', group = "lvl")]
    pub l9: bool,
    /// Compression level 0..=9 (alternative to -1..-9).
    #[arg(long, group = "lvl", value_parser = clap::value_parser!(u32).range(0..=9))]
    pub level: Option<u32>,
    /// Threads for parallel compression of large files (default: all cores).
    #[arg(long)]
    pub threads: Option<usize>,
}

/// Arguments of `uadk decompress`.
#[derive(Debug, clap::Args)]
pub struct DecompressArgs {
    #[command(flatten)]
    pub common: Common,
    /// Refuse to produce more than this many bytes per stream (decompression-bomb guard).
    #[arg(long)]
    pub max_output: Option<u64>,
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

fn suffix(c: &Common, format: Format) -> String {
    c.suffix.clone().unwrap_or_else(|| {
        match format {
            Format::Gzip => ".gz",
            Format::Zlib => ".zz",
            Format::Deflate => ".deflate",
        }
        .to_string()
    })
}

fn is_stdio(files: &[PathBuf]) -> bool {
    files.is_empty() || (files.len() == 1 && files[0].as_os_str() == "-")
}

/// Counts bytes read into a progress bar.
struct Counting<R> {
    r: R,
    bar: Option<ProgressBar>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.r.read(buf)?;
        if let Some(b) = &self.bar {
            b.inc(n as u64);
        }
        Ok(n)
    }
}

fn progress(len: u64, what: &str) -> Option<ProgressBar> {
    if len < PROGRESS_MIN || !io::stderr().is_terminal() {
        return None;
    }
    let b = ProgressBar::new(len);
    if let Ok(style) =
        ProgressStyle::with_template("{msg} [{bar:40}] {bytes}/{total_bytes} {bytes_per_sec} {eta}")
    {
        b.set_style(style.progress_chars("=> "));
    }
    b.set_message(what.to_string());
    Some(b)
}

/// Creates `path` for writing, refusing to replace an existing file without `force`.
fn create_output(path: &Path, force: bool) -> Result<File> {
    if path.exists() && !force {
        bail!("{} already exists; use -f to overwrite it", path.display());
    }
    File::create(path).with_context(|| format!("cannot create {}", path.display()))
}

/// Gives `out` the permissions and modification time of `meta` (as gzip does).
fn copy_metadata(out: &File, meta: &fs::Metadata) {
    let _ = out.set_permissions(meta.permissions());
    if let Ok(t) = meta.modified() {
        let _ = out.set_modified(t);
    }
}

/// Runs `uadk compress`.
pub fn compress(a: CompressArgs) -> Result<()> {
    let c = &a.common;
    let format: Format = c.format.parse()?;
    let backend: Backend = c.backend.parse()?;
    let level = a.level();
    let threads = a
        .threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    if threads == 0 {
        bail!("--threads must be at least 1");
    }
    let config = |gzip_header: GzipHeader| Config {
        format,
        level,
        backend,
        threads,
        gzip_header,
        ..Config::default()
    };
    if is_stdio(&c.files) {
        let stdout = io::stdout();
        if stdout.is_terminal() && !c.force {
            bail!("compressed data not written to a terminal; redirect stdout or use -f");
        }
        let s = Session::new(config(GzipHeader::default()))?;
        let mut e = Encoder::new(s.compressor()?, BufWriter::with_capacity(IO_BUF, stdout.lock()));
        io::copy(&mut io::stdin().lock(), &mut e).context("compressing stdin")?;
        e.finish()?.flush()?;
        return Ok(());
    }
    let sfx = suffix(c, format);
    let mut failed = 0;
    for path in &c.files {
        if let Err(e) = compress_one(path, &sfx, c, &config) {
            eprintln!("uadk: {}: {e:#}", path.display());
            failed += 1;
        }
    }
    if failed > 0 {
        return Err(anyhow!("{failed} file(s) not compressed"));
    }
    Ok(())
}

fn compress_one(path: &Path, sfx: &str, c: &Common, config: &dyn Fn(GzipHeader) -> Config) -> Result<()> {
    if path.to_string_lossy().ends_with(sfx) {
        bail!("already has the {sfx} suffix; unchanged");
    }
    let meta = fs::metadata(path).context("cannot read")?;
    if !meta.is_file() {
        bail!("not a regular file; ignored");
    }
    let header = GzipHeader {
        name: path.file_name().map(|n| n.as_encoded_bytes().to_vec()),
        mtime: meta
            .modified()
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map_or(0, |d| u32::try_from(d.as_secs()).unwrap_or(0)),
        ..GzipHeader::default()
    };
    let session = Session::new(config(header))?;
    let out_path = PathBuf::from(format!("{}{sfx}", path.display()));
    let mut input = File::open(path).context("cannot open")?;
    let (out_file, mut sink): (Option<File>, Box<dyn Write>) = if c.stdout {
        (
            None,
            Box::new(BufWriter::with_capacity(IO_BUF, io::stdout().lock())),
        )
    } else {
        let f = create_output(&out_path, c.force)?;
        (
            Some(f.try_clone()?),
            Box::new(BufWriter::with_capacity(IO_BUF, f)),
        )
    };
    let len = meta.len();
    let bar = progress(len, &path.display().to_string());
    let result = (|| -> Result<(u64, String)> {
        if len >= session.config().parallel_threshold as u64 && len <= WHOLE_FILE_MAX {
            let mut data = Vec::with_capacity(len as usize);
            Counting {
                r: &mut input,
                bar: bar.clone(),
            }
            .read_to_end(&mut data)?;
            let (z, r) = session.compress_report(&data)?;
            sink.write_all(&z)?;
            sink.flush()?;
            Ok((z.len() as u64, format!("{} ({})", r.engine, r.reason)))
        } else {
            let comp = session.compressor()?;
            let engine = format!("{} ({})", comp.report().engine, comp.report().reason);
            let mut e = Encoder::new(comp, &mut sink);
            io::copy(
                &mut Counting {
                    r: BufReader::with_capacity(IO_BUF, &mut input),
                    bar: bar.clone(),
                },
                &mut e,
            )?;
            e.try_finish()?;
            let n = e.compressor().total_out();
            e.finish()?.flush()?;
            Ok((n, engine))
        }
    })();
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    drop(sink);
    match result {
        Ok((n, engine)) => {
            if let Some(f) = &out_file {
                f.sync_all().context("cannot flush the output to disk")?;
                copy_metadata(f, &meta);
            }
            if c.verbose {
                let saved = if len > 0 {
                    100.0 * (1.0 - n as f64 / len as f64)
                } else {
                    0.0
                };
                eprintln!("{}:\t{saved:.1}% -- {engine}", path.display());
            }
            if !c.keep && !c.stdout {
                fs::remove_file(path).context("compressed, but cannot remove the input")?;
            }
            Ok(())
        }
        Err(e) => {
            if out_file.is_some() {
                let _ = fs::remove_file(&out_path);
            }
            Err(e)
        }
    }
}

/// Runs `uadk decompress`.
pub fn decompress(a: DecompressArgs) -> Result<()> {
    let c = &a.common;
    let format: Format = c.format.parse()?;
    let backend: Backend = c.backend.parse()?;
    let session = Session::new(Config {
        format,
        backend,
        // Streaming keeps memory bounded, so the default is no limit on file output.
        max_output: a.max_output.unwrap_or(u64::MAX),
        ..Config::default()
    })?;
    if is_stdio(&c.files) {
        let stdin = io::stdin();
        if stdin.is_terminal() && !c.force {
            bail!("compressed data not read from a terminal; redirect stdin or use -f");
        }
        let mut d = Decoder::new(
            session.decompressor()?,
            BufReader::with_capacity(IO_BUF, stdin.lock()),
        );
        let mut out = BufWriter::with_capacity(IO_BUF, io::stdout().lock());
        io::copy(&mut d, &mut out).context("decompressing stdin")?;
        out.flush()?;
        return Ok(());
    }
    let sfx = suffix(c, format);
    let mut failed = 0;
    for path in &c.files {
        if let Err(e) = decompress_one(path, &sfx, c, &session) {
            eprintln!("uadk: {}: {e:#}", path.display());
            failed += 1;
        }
    }
    if failed > 0 {
        return Err(anyhow!("{failed} file(s) not decompressed"));
    }
    Ok(())
}

fn decompress_one(path: &Path, sfx: &str, c: &Common, session: &Session) -> Result<()> {
    let name = path.to_string_lossy();
    let out_path = if let Some(stem) = name.strip_suffix(sfx).filter(|s| !s.is_empty()) {
        PathBuf::from(stem)
    } else if let Some(stem) = name.strip_suffix(".tgz").filter(|_| sfx == ".gz") {
        PathBuf::from(format!("{stem}.tar"))
    } else if c.stdout {
        PathBuf::new()
    } else {
        bail!("unknown suffix (expected {sfx}); ignored");
    };
    let meta = fs::metadata(path).context("cannot read")?;
    if !meta.is_file() {
        bail!("not a regular file; ignored");
    }
    let input = File::open(path).context("cannot open")?;
    let (out_file, mut sink): (Option<File>, Box<dyn Write>) = if c.stdout {
        (
            None,
            Box::new(BufWriter::with_capacity(IO_BUF, io::stdout().lock())),
        )
    } else {
        let f = create_output(&out_path, c.force)?;
        (
            Some(f.try_clone()?),
            Box::new(BufWriter::with_capacity(IO_BUF, f)),
        )
    };
    let bar = progress(meta.len(), &path.display().to_string());
    let mut d = Decoder::new(
        session.decompressor()?,
        Counting {
            r: BufReader::with_capacity(IO_BUF, input),
            bar: bar.clone(),
        },
    );
    let result = io::copy(&mut d, &mut sink).and_then(|n| sink.flush().map(|()| n));
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    drop(sink);
    match result {
        Ok(n) => {
            if let Some(f) = &out_file {
                f.sync_all().context("cannot flush the output to disk")?;
                copy_metadata(f, &meta);
            }
            if c.verbose {
                let r = d.decompressor().report();
                eprintln!("{}:\t{n} bytes -- {} ({})", path.display(), r.engine, r.reason);
            }
            if !c.keep && !c.stdout {
                fs::remove_file(path).context("decompressed, but cannot remove the input")?;
            }
            Ok(())
        }
        Err(e) => {
            if out_file.is_some() {
                let _ = fs::remove_file(&out_path);
            }
            Err(anyhow!(e).context("input kept"))
        }
    }
}
