//! Device path through the in-process emulator vs software, one thread, sync requests.
//!
//! `cargo run --release -p uadk-crypto --example device_emu_bench [size-bytes] [seconds]`
//!
//! Prints one JSON line per algorithm: MB/s on the device path (BD3 on an emulated QM v3
//! SEC; the emulator computes in software on its own thread, so this measures the driver
//! and queue round trip plus the emulator's engine, not hardware) and in software.

use std::sync::Arc;
use std::time::{Duration, Instant};

use uadk_crypto::device::sec::SecDriver;
use uadk_crypto::{
    AeadAlg, AeadSession, Backend, CipherAlg, CipherSession, Crypto, DigestAlg, DigestSession, Ran,
};
use uadk_emu::{DeviceKind, DeviceSpec, EmuConfig, Emulator};

fn rate(secs: f64, mut f: impl FnMut() -> usize) -> f64 {
    let start = Instant::now();
    let mut bytes = 0usize;
    while start.elapsed() < Duration::from_secs_f64(secs) {
        bytes += f();
    }
    bytes as f64 / start.elapsed().as_secs_f64() / 1e6
}

/// One JSON line: MB/s and microseconds per request on each path.
fn report(alg: &str, size: usize, r: [f64; 2]) {
    let us = |mb_s: f64| size as f64 / mb_s;
    println!(
        r#"{{"alg":"{alg}","bytes":{size},"device_mb_s":{:.1},"device_us":{:.1},"software_mb_s":{:.1},"software_us":{:.2}}}"#,
        r[0],
        us(r[0]),
        r[1],
        us(r[1])
    );
}

fn main() {
    let mut args = std::env::args().skip(1);
    let size: usize = args.next().and_then(|s| s.parse().ok()).unwrap_or(16384);
    let secs: f64 = args.next().and_then(|s| s.parse().ok()).unwrap_or(0.5);
    let dir = std::env::temp_dir().join(format!("uadk-crypto-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let cfg = EmuConfig {
        devices: vec![DeviceSpec::new(DeviceKind::Sec, 3)],
        first_id: 0,
    };
    let emu = Emulator::start(&dir, &cfg).expect("emulator");
    let found = uadk_core::discovery::scan(&emu.roots());
    let drv = Arc::new(SecDriver::open(&found.devices[0]).expect("SEC device"));
    let dev = Crypto::new(Backend::Device);
    dev.add_device(drv);
    let sw = Crypto::new(Backend::Software);
    let data = vec![0x5au8; size];
    let mut out = vec![0u8; size];

    for name in ["aes-128-cbc", "aes-256-xts", "sm4-cbc", "sm4-ctr"] {
        let alg = CipherAlg::from_name(name).unwrap();
        let key: Vec<u8> = (0..alg.key_len() as u8).collect();
        let mut r = [0.0; 2];
        for (i, c) in [&dev, &sw].into_iter().enumerate() {
            let s = CipherSession::new(c, alg, &key).unwrap();
            assert_eq!(
                s.encrypt(&[1; 16], &data, &mut out).unwrap().ran == Ran::Device,
                i == 0
            );
            r[i] = rate(secs, || {
                s.encrypt(&[1; 16], &data, &mut out).unwrap();
                size
            });
        }
        report(name, size, r);
    }
    for alg in [DigestAlg::Sha256, DigestAlg::Sm3] {
        let mut r = [0.0; 2];
        for (i, c) in [&dev, &sw].into_iter().enumerate() {
            let s = DigestSession::new(c, alg).unwrap();
            let mut d = [0u8; 32];
            r[i] = rate(secs, || {
                s.digest(&data, &mut d).unwrap();
                size
            });
        }
        report(alg.name(), size, r);
    }
    for name in ["aes-128-gcm", "sm4-gcm", "aes-128-ccm"] {
        let alg = AeadAlg::from_name(name).unwrap();
        let key = vec![7u8; alg.key_len()];
        let mut r = [0.0; 2];
        for (i, c) in [&dev, &sw].into_iter().enumerate() {
            let s = AeadSession::new(c, alg, &key, 16).unwrap();
            let mut tag = [0u8; 16];
            r[i] = rate(secs, || {
                s.seal(&[3; 12], b"", &data, &mut out, &mut tag).unwrap();
                size
            });
        }
        report(name, size, r);
    }
    emu.stop();
    let _ = std::fs::remove_dir_all(&dir);
}
