//! Idle queues must not burn a core: engines spin, yield, then park. Alone in its own test
//! binary so that the process CPU time measures only these engines.

use std::time::Duration;

use uadk_core::discovery::scan;
use uadk_core::qm::{QueueOptions, QueuePair};
use uadk_core::request::WaitPolicy;
use uadk_core::sec_copy::{build_copy, check_done, SecBd};
use uadk_emu::{DeviceKind, DeviceSpec, EmuConfig, Emulator};

fn cpu_time() -> Duration {
    // SAFETY: getrusage fills the zero-initialised local struct.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: valid pointer to a local rusage.
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut ru) };
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    tv(ru.ru_utime) + tv(ru.ru_stime)
}

#[test]
fn eight_idle_queues_use_almost_no_cpu_and_wake_on_the_next_doorbell() {
    let dir = std::env::temp_dir().join(format!("uadk-emu-t-idle-{}", std::process::id()));
    let spec = DeviceSpec::new(DeviceKind::Sec, 3);
    let emu = Emulator::start(
        &dir,
        &EmuConfig {
            devices: vec![spec],
            first_id: 0,
        },
    )
    .unwrap();
    let dev = scan(&emu.roots()).devices.remove(0);
    let qs: Vec<_> = (0..8)
        .map(|_| {
            QueuePair::open(
                &dev,
                QueueOptions {
                    tag: SecBd::Bd3.tag_field(),
                    ..Default::default()
                },
            )
            .unwrap()
        })
        .collect();
    let src = [7u8; 256];
    let mut dst = [0u8; 256];
    let sqe = build_copy(SecBd::Bd3, src.as_ptr() as u64, dst.as_mut_ptr() as u64, 256).unwrap();
    for q in &qs {
        // SAFETY: src/dst outlive the synchronous request.
        check_done(&unsafe { q.submit_sync(&sqe, &WaitPolicy::default()) }.unwrap()).unwrap();
    }
    // Let every engine reach its parked state, then measure a quiet second.
    std::thread::sleep(Duration::from_millis(500));
    let before = cpu_time();
    std::thread::sleep(Duration::from_secs(1));
    let used = cpu_time() - before;
    assert!(
        used < Duration::from_millis(100),
        "8 idle engines used {used:?} of CPU in 1 s"
    );
    // Parked engines still answer the next doorbell.
    for q in &qs {
        dst = [0u8; 256];
        // SAFETY: as above.
        check_done(
            &unsafe { q.submit_sync(&sqe, &WaitPolicy::with_timeout(Duration::from_secs(2))) }.unwrap(),
        )
        .unwrap();
        assert_eq!(dst, src);
    }
}
