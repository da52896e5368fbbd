//! `uadk-emud --root DIR [--device SPEC]...`: the emulator in the foreground, until
//! `uadk emu stop --root DIR` (or a signal). Device specs as in
//! `uadk_emu::DeviceSpec::parse`, e.g. `--device sec,api=v3,queues=16`.

use std::path::PathBuf;

fn main() {
    let mut root: Option<PathBuf> = None;
    let mut devices = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--root" => root = args.next().map(PathBuf::from),
            "--device" => match args.next().map(|s| uadk_emu::DeviceSpec::parse(&s)) {
                Some(Ok(d)) => devices.push(d),
                Some(Err(e)) => fail(&e.to_string()),
                None => fail("--device needs a value"),
            },
            _ => fail(&format!("unknown argument `{a}`")),
        }
    }
    let Some(root) = root else {
        fail("usage: uadk-emud --root DIR [--device SPEC]...");
    };
    let mut cfg = uadk_emu::EmuConfig::default();
    if !devices.is_empty() {
        cfg.devices = devices;
    }
    if let Err(e) = uadk_emu::daemon::run_foreground(&root, &cfg, || println!("ready")) {
        fail(&e.to_string());
    }
}

fn fail(msg: &str) -> ! {
    eprintln!("uadk-emud: {msg}");
    std::process::exit(2)
}
