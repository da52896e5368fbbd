//! Registration from the environment and after `fork`: queues belong to the process that
//! opened them, so a forked child must get its own (its own test binary, so no other test
//! thread runs while the process forks or reads the environment).

use uadk_crypto::device::sec;
use uadk_crypto::{CipherAlg, CipherSession, Crypto, DigestAlg, DigestSession, Ran};
use uadk_emu::{DeviceKind, DeviceSpec, EmuConfig, Emulator};

fn encrypt_on_device(crypto: &Crypto) -> bool {
    let alg = CipherAlg::from_name("aes-128-cbc").unwrap();
    let s = CipherSession::new(crypto, alg, &[9; 16]).unwrap();
    let sw = CipherSession::software(alg, &[9; 16]).unwrap();
    let pt = vec![3u8; 8192];
    let (mut a, mut b) = (vec![0u8; 8192], vec![0u8; 8192]);
    let route = s.encrypt(&[1; 16], &pt, &mut a).unwrap();
    sw.encrypt(&[1; 16], &pt, &mut b).unwrap();
    route.ran == Ran::Device && a == b
}

#[test]
fn attach_from_env_once_per_process_and_again_after_fork() {
    let dir = std::env::temp_dir().join(format!("uadk-crypto-fork-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let cfg = EmuConfig {
        devices: vec![DeviceSpec::new(DeviceKind::Sec, 3)],
        first_id: 0,
    };
    let emu = Emulator::start(&dir, &cfg).unwrap();
    let roots = emu.roots();
    std::env::set_var("UADK_SYSFS_ROOT", &roots.sysfs);
    std::env::set_var("UADK_DEV_ROOT", &roots.dev);

    let c1 = Crypto::auto();
    let n1 = sec::attach_from_env(&c1).unwrap();
    let c2 = Crypto::auto();
    let n2 = sec::attach_from_env(&c2).unwrap();
    assert_eq!(n1, n2);
    assert!(encrypt_on_device(&c1) && encrypt_on_device(&c2));
    let d = DigestSession::new(&c2, DigestAlg::Sm3).unwrap();
    assert_eq!(d.digest(&[1; 1000], &mut [0; 32]).unwrap().ran, Ran::Device);

    // SAFETY: the child only runs Rust code of this test (no locks held by other threads of
    // this test binary are needed: the emulator's threads serve the child over its socket)
    // and leaves with `_exit`.
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0, "fork failed");
    if pid == 0 {
        // Child: the context made before the fork reopens its queue; a new one re-discovers.
        let c3 = Crypto::auto();
        let ok = encrypt_on_device(&c1) && sec::attach_from_env(&c3).is_ok() && encrypt_on_device(&c3);
        // SAFETY: ends the child without running the parent's atexit handlers or destructors.
        unsafe { libc::_exit(if ok { 0 } else { 1 }) };
    }
    let mut status = 0;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        // SAFETY: waits for our own child; `status` is a valid out pointer.
        let r = unsafe { libc::waitpid(pid, &mut status, libc::WNOHANG) };
        if r == pid {
            break;
        }
        if std::time::Instant::now() > deadline {
            // SAFETY: kills and reaps the child this test started.
            unsafe {
                libc::kill(pid, libc::SIGKILL);
                libc::waitpid(pid, &mut status, 0);
            }
            panic!("forked child hung");
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    assert!(
        libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
        "child status {status:#x}"
    );
    // The parent's queues still work.
    assert!(encrypt_on_device(&c1));
    assert_eq!(c1.stats().software_requests, 0);
    emu.stop();
    let _ = std::fs::remove_dir_all(&dir);
}
