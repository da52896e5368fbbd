//! Running the emulator as a background service under a root directory, and controlling
//! it: `DIR/emu.pid` holds the pid, `DIR/emu.ctl` is a control socket speaking one JSON
//! object per line (`{"cmd":"status"}`, `{"cmd":"stop"}`,
//! `{"cmd":"faults","device":NAME,"faults":{...}}`, `{"cmd":"reset","device":NAME}`).
//! This is what `uadk emu start|stop|status --root DIR` uses.

use std::io::{BufRead, BufReader, Write};
use std::os::fd::AsRawFd;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::config::{EmuConfig, Faults};
use crate::error::{EmuError, Result};
use crate::server::{EmuStatus, Emulator};

/// Path of the control socket under `root`.
pub fn control_path(root: &Path) -> PathBuf {
    root.join("emu.ctl")
}

/// Path of the pid file under `root`.
pub fn pid_path(root: &Path) -> PathBuf {
    root.join("emu.pid")
}

fn connect(root: &Path) -> Result<UnixStream> {
    UnixStream::connect(control_path(root)).map_err(|_| EmuError::NotRunning(root.to_path_buf()))
}

/// Sends one control request and returns the JSON reply.
pub fn request(root: &Path, req: &Value) -> Result<Value> {
    let mut s = connect(root)?;
    s.set_read_timeout(Some(Duration::from_secs(10)))
        .map_err(|e| EmuError::io("set control timeout", e))?;
    writeln!(s, "{req}").map_err(|e| EmuError::io("write control request", e))?;
    let mut line = String::new();
    BufReader::new(&s)
        .read_line(&mut line)
        .map_err(|e| EmuError::io("read control reply", e))?;
    let v: Value =
        serde_json::from_str(&line).map_err(|e| EmuError::Control(format!("bad reply `{line}`: {e}")))?;
    if let Some(err) = v.get("error").and_then(|e| e.as_str()) {
        return Err(EmuError::Control(err.to_string()));
    }
    Ok(v)
}

/// Status of the emulator serving `root`.
pub fn status(root: &Path) -> Result<EmuStatus> {
    let v = request(root, &json!({"cmd": "status"}))?;
    serde_json::from_value(v).map_err(|e| EmuError::Control(e.to_string()))
}

/// Asks the emulator serving `root` to stop, and waits (up to 10 s) until it is gone.
pub fn stop(root: &Path) -> Result<()> {
    request(root, &json!({"cmd": "stop"}))?;
    let t = Instant::now();
    while t.elapsed() < Duration::from_secs(10) {
        if UnixStream::connect(control_path(root)).is_err() {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Err(EmuError::Control("emulator did not stop within 10 s".into()))
}

/// Replaces the faults of one device of a running emulator.
pub fn set_faults(root: &Path, device: &str, faults: &Faults) -> Result<()> {
    request(
        root,
        &json!({"cmd": "faults", "device": device, "faults": faults}),
    )
    .map(|_| ())
}

/// Resets one device of a running emulator.
pub fn reset(root: &Path, device: &str) -> Result<()> {
    request(root, &json!({"cmd": "reset", "device": device})).map(|_| ())
}

static TERMINATE: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

extern "C" fn on_terminate(_sig: libc::c_int) {
    TERMINATE.store(true, std::sync::atomic::Ordering::SeqCst);
}

fn install_terminate_handlers() {
    for sig in [libc::SIGINT, libc::SIGTERM] {
        // SAFETY: the handler only stores to an atomic, which is async-signal-safe.
        unsafe {
            libc::signal(
                sig,
                on_terminate as extern "C" fn(libc::c_int) as libc::sighandler_t,
            );
        }
    }
}

/// Runs the emulator in this process until a `stop` request, SIGINT or SIGTERM arrives.
/// `ready` is called once the devices and the control socket are up.
pub fn run_foreground(root: &Path, cfg: &EmuConfig, ready: impl FnOnce()) -> Result<()> {
    if UnixStream::connect(control_path(root)).is_ok() {
        return Err(EmuError::AlreadyRunning(root.to_path_buf()));
    }
    let emu = Emulator::start(root, cfg)?;
    let ctl = control_path(root);
    let _ = std::fs::remove_file(&ctl);
    let listener =
        UnixListener::bind(&ctl).map_err(|e| EmuError::io(format!("bind {}", ctl.display()), e))?;
    std::fs::write(pid_path(root), format!("{}\n", std::process::id()))
        .map_err(|e| EmuError::io("write pid file", e))?;
    install_terminate_handlers();
    ready();
    loop {
        if TERMINATE.load(std::sync::atomic::Ordering::SeqCst) {
            break;
        }
        let r = uadk_core::sys::poll::poll(&[listener.as_raw_fd()], Duration::from_millis(200))
            .map_err(|e| EmuError::io("poll control socket", e))?;
        if !r[0].readable {
            continue;
        }
        let Ok((s, _)) = listener.accept() else {
            continue;
        };
        let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
        let mut line = String::new();
        if BufReader::new(&s).read_line(&mut line).is_err() {
            continue;
        }
        let (reply, quit) = match serde_json::from_str::<Value>(&line) {
            Err(e) => (json!({"error": format!("bad request: {e}")}), false),
            Ok(req) => handle(&emu, &req),
        };
        let _ = writeln!(&s, "{reply}");
        if quit {
            break;
        }
    }
    // Tear the devices down first: `stop()` returns once the control socket is gone, and
    // by then the tree must be gone too.
    emu.stop();
    drop(listener);
    let _ = std::fs::remove_file(&ctl);
    let _ = std::fs::remove_file(pid_path(root));
    Ok(())
}

fn handle(emu: &Emulator, req: &Value) -> (Value, bool) {
    let dev = req.get("device").and_then(|d| d.as_str()).unwrap_or("");
    let result = match req.get("cmd").and_then(|c| c.as_str()) {
        Some("status") => serde_json::to_value(emu.status()).map_err(|e| EmuError::Control(e.to_string())),
        Some("stop") => return (json!({"ok": true}), true),
        Some("faults") => match req
            .get("faults")
            .map(|f| serde_json::from_value::<Faults>(f.clone()))
        {
            Some(Ok(f)) => emu.set_faults(dev, f).map(|_| json!({"ok": true})),
            Some(Err(e)) => Err(EmuError::Config(format!("faults: {e}"))),
            None => Err(EmuError::Config("missing `faults`".into())),
        },
        Some("reset") => emu.reset(dev).map(|_| json!({"ok": true})),
        other => Err(EmuError::Control(format!("unknown command {other:?}"))),
    };
    match result {
        Ok(v) => (v, false),
        Err(e) => (json!({"error": e.to_string()}), false),
    }
}

/// Starts the emulator as a background process (double fork, new session, stdio to
/// `/dev/null`) and returns its pid once it answers on the control socket.
///
/// Call this before the calling process starts threads.
pub fn start_background(root: &Path, cfg: &EmuConfig) -> Result<u32> {
    if UnixStream::connect(control_path(root)).is_ok() {
        return Err(EmuError::AlreadyRunning(root.to_path_buf()));
    }
    std::fs::create_dir_all(root).map_err(|e| EmuError::io(format!("create {}", root.display()), e))?;
    let log_path = root.join("emu.log");
    // SAFETY: fork in a process that has not started threads (documented precondition);
    // the child only calls async-signal-safe functions until it execs nothing and runs the
    // emulator as a fresh single-threaded process.
    let pid = unsafe { libc::fork() };
    if pid < 0 {
        return Err(EmuError::io("fork", std::io::Error::last_os_error()));
    }
    if pid == 0 {
        // SAFETY: setsid and the second fork detach the daemon from the terminal/session.
        unsafe {
            libc::setsid();
            if libc::fork() != 0 {
                libc::_exit(0);
            }
        }
        redirect_stdio(&log_path);
        let code = match run_foreground(root, cfg, || {}) {
            Ok(()) => 0,
            Err(e) => {
                eprintln!("uadk emu: {e}");
                1
            }
        };
        // SAFETY: terminate the daemon without running the parent's atexit handlers.
        unsafe { libc::_exit(code) };
    }
    let mut st = 0;
    // SAFETY: reap the intermediate child (it exits right after the second fork).
    unsafe { libc::waitpid(pid, &mut st, 0) };
    let t = Instant::now();
    while t.elapsed() < Duration::from_secs(10) {
        if let Ok(s) = status(root) {
            return Ok(s.pid);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Err(EmuError::Control(format!(
        "emulator did not come up within 10 s (see {})",
        log_path.display()
    )))
}

fn redirect_stdio(log: &Path) {
    let Ok(null) = std::fs::File::open("/dev/null") else {
        return;
    };
    let out = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .ok();
    // SAFETY: dup2 onto the standard descriptors of this (daemon) process.
    unsafe {
        libc::dup2(null.as_raw_fd(), 0);
        if let Some(o) = &out {
            libc::dup2(o.as_raw_fd(), 1);
            libc::dup2(o.as_raw_fd(), 2);
        }
    }
}
