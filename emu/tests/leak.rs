//! No descriptor or mapping leaks over 10 000 queue open/close cycles. Alone in its own test
//! binary so that no other test opens files while it counts `/proc/self/fd` and maps.

use std::time::{Duration, Instant};

use uadk_core::discovery::scan;
use uadk_core::qm::{QueueOptions, QueuePair};
use uadk_core::request::WaitPolicy;
use uadk_core::sec_copy::{build_copy, check_done, SecBd};
use uadk_emu::{DeviceKind, DeviceSpec, EmuConfig, Emulator};

fn count_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").unwrap().count()
}

fn count_maps() -> usize {
    std::fs::read_to_string("/proc/self/maps")
        .unwrap()
        .lines()
        .count()
}

#[test]
fn no_fd_or_mapping_leak_after_10000_open_close_cycles() {
    let dir = std::env::temp_dir().join(format!("uadk-emu-t-leak-{}", std::process::id()));
    let mut spec = DeviceSpec::new(DeviceKind::Sec, 3);
    spec.queues = 8;
    let emu = Emulator::start(
        &dir,
        &EmuConfig {
            devices: vec![spec],
            first_id: 0,
        },
    )
    .unwrap();
    let dev = scan(&emu.roots()).devices.remove(0);
    let open = |d| {
        QueuePair::open(
            d,
            QueueOptions {
                tag: SecBd::Bd3.tag_field(),
                ..Default::default()
            },
        )
        .unwrap()
    };
    for _ in 0..200 {
        drop(open(&dev));
    }
    let settle = |fds: usize, maps: usize| {
        let t = Instant::now();
        loop {
            let (f, m) = (count_fds(), count_maps());
            if (f <= fds && m <= maps + 8) || t.elapsed() > Duration::from_secs(10) {
                return (f, m);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    };
    std::thread::sleep(Duration::from_millis(200));
    let (fds0, maps0) = (count_fds(), count_maps());
    for i in 0..10_000 {
        let q = open(&dev);
        if i % 1000 == 0 {
            let src = vec![i as u8; 64];
            let mut dst = vec![0u8; 64];
            let sqe = build_copy(SecBd::Bd3, src.as_ptr() as u64, dst.as_mut_ptr() as u64, 64).unwrap();
            // SAFETY: src/dst outlive the synchronous request.
            check_done(&unsafe { q.submit_sync(&sqe, &WaitPolicy::default()) }.unwrap()).unwrap();
            assert_eq!(dst, src);
        }
        drop(q);
    }
    let (fds1, maps1) = settle(fds0, maps0);
    assert_eq!(fds1, fds0, "file descriptors leaked");
    // A per-cycle leak would add at least 10 000 lines (each cycle maps 2 regions on each
    // side); a handful may appear once when the allocator adds an arena for a new thread.
    assert!(maps1 <= maps0 + 8, "mappings leaked: {maps0} -> {maps1}");
}
