//! How `uadk` ends: exit statuses, write errors and broken pipes.
//!
//! The rules, the same as gzip's and coreutils':
//!
//! * `0` success, `1` error, `2` warning only (gzip's convention: e.g. "trailing garbage
//!   ignored", "already exists; not overwritten").
//! * A closed pipe on standard output (`uadk digest ... | head -1`) ends the process quietly
//!   the way `sha256sum` ends: killed by `SIGPIPE` (a shell shows status 141). Temporary
//!   outputs are removed first.
//! * Any other write error on standard output is a one-line message and status 1.
//! * Standard error is for diagnostics only: if it cannot be written (`2>/dev/full`), the
//!   message is dropped and the command carries on, as gzip does.
//! * Nothing panics on output errors: the CLI's own code writes with [`outln!`] and returns
//!   the error; for code paths outside this work that still use `println!`, a panic hook
//!   turns std's "failed printing to stdout" panic into the same clean ending
//!   ([`install_print_panic_hook`]).

use std::io;

/// The worst thing that happened in a command that processes several files.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Status {
    /// Everything done.
    Ok,
    /// Done, with a warning (exit status 2).
    Warning,
    /// At least one item failed (exit status 1).
    Error,
}

impl Status {
    /// The process exit status.
    ///
    /// ```ignore
    /// assert_eq!(Status::Warning.code(), 2);
    /// ```
    pub fn code(self) -> i32 {
        match self {
            Status::Ok => 0,
            Status::Error => 1,
            Status::Warning => 2,
        }
    }
}

/// Standard output whose write errors say so ("write error on standard output: ...", same
/// `ErrorKind`, so a broken pipe is still recognised).
pub struct Stdout(io::StdoutLock<'static>);

/// Locks standard output for writing through [`Stdout`].
pub fn stdout() -> Stdout {
    Stdout(io::stdout().lock())
}

fn on_stdout(e: io::Error) -> io::Error {
    io::Error::new(e.kind(), format!("write error on standard output: {e}"))
}

impl io::Write for Stdout {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.write(buf).map_err(on_stdout)
    }
    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        self.0.write_all(buf).map_err(on_stdout)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.0.flush().map_err(on_stdout)
    }
}

/// Writes a formatted line to standard output and returns the `io::Result` (never panics).
#[macro_export]
macro_rules! outln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        writeln!($crate::exit::stdout(), $($arg)*)
    }};
}

/// Writes a diagnostic line to standard error, prefixed with `uadk: `; a failure to write it
/// is ignored (there is nowhere left to report it).
#[macro_export]
macro_rules! note {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr().lock(), "uadk: {}", format_args!($($arg)*));
    }};
}

/// Writes a line to standard error as it is (verbose and progress reports, like gzip's
/// `-v` lines); a failure to write it is ignored.
#[macro_export]
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr().lock(), $($arg)*);
    }};
}

/// True when `e` (or any error it wraps) is a broken pipe.
pub fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<io::Error>()
            .is_some_and(|io| io.kind() == io::ErrorKind::BrokenPipe)
            || c.downcast_ref::<uadk_zip::Error>().is_some_and(
                |z| matches!(z, uadk_zip::Error::Io(io) if io.kind() == io::ErrorKind::BrokenPipe),
            )
    })
}

/// Ends the process the way a program that never ignored `SIGPIPE` ends on a closed pipe:
/// temporary outputs removed, then killed by `SIGPIPE` (status 141 as a fallback).
pub fn die_of_sigpipe() -> ! {
    crate::tempout::remove_all();
    let _ = signal_hook::low_level::emulate_default_handler(signal_hook::consts::SIGPIPE);
    std::process::exit(128 + signal_hook::consts::SIGPIPE)
}

/// Ends the process after a failed command: quietly on a broken pipe, otherwise with the
/// error's message and status 1.
pub fn fail(e: &anyhow::Error) -> ! {
    if is_broken_pipe(e) {
        die_of_sigpipe();
    }
    crate::tempout::remove_all();
    note!("{e:#}");
    std::process::exit(1)
}

/// Installs a panic hook that ends the process cleanly when std's `print!` family fails
/// (`failed printing to stdout: ...`), so that no output error ends in status 101 with a
/// backtrace hint. Other panics keep the default report.
pub fn install_print_panic_hook() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let p = info.payload();
        let msg = p
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| p.downcast_ref::<&str>().copied())
            .unwrap_or("");
        if let Some(rest) = msg.strip_prefix("failed printing to ") {
            if rest.contains("Broken pipe") || rest.contains("os error 32") {
                die_of_sigpipe();
            }
            crate::tempout::remove_all();
            if rest.starts_with("stdout") {
                note!(
                    "write error on standard output: {}",
                    rest.trim_start_matches("stdout: ")
                );
                std::process::exit(1);
            }
            // Standard error is gone: nothing can be reported; end as if it were ignored.
            std::process::exit(1);
        }
        default(info);
    }));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn broken_pipe_is_found_through_context_and_library_errors() {
        let e = anyhow::Error::new(io::Error::from(io::ErrorKind::BrokenPipe)).context("writing");
        assert!(is_broken_pipe(&e));
        let z = anyhow::Error::new(uadk_zip::Error::Io(io::Error::from(io::ErrorKind::BrokenPipe)));
        assert!(is_broken_pipe(&z));
        let other = anyhow::Error::new(io::Error::from(io::ErrorKind::StorageFull));
        assert!(!is_broken_pipe(&other));
    }

    #[test]
    fn worst_status_wins_and_maps_to_gzip_codes() {
        assert_eq!(Status::Ok.max(Status::Warning), Status::Warning);
        assert_eq!(Status::Warning.max(Status::Error), Status::Error);
        assert_eq!(
            [Status::Ok, Status::Error, Status::Warning].map(Status::code),
            [0, 1, 2]
        );
    }
}
