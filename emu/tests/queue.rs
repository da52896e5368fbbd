//! Queue pairs end to end: `uadk-core`'s driver against `uadk-emu`'s device model.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use uadk_core::discovery::{scan, Device};
use uadk_core::qm::{QueueOptions, QueuePair};
use uadk_core::request::{BusyPolicy, WaitPolicy};
use uadk_core::sec_copy::{build_copy, check_done, SecBd};
use uadk_core::Error;
use uadk_emu::{DeviceKind, DeviceSpec, EmuConfig, Emulator, Faults};

fn tmp(tag: &str) -> PathBuf {
    let p = std::env::temp_dir().join(format!("uadk-emu-t-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&p);
    p
}

fn sec_cfg(version: u32, queues: u32) -> EmuConfig {
    let mut d = DeviceSpec::new(DeviceKind::Sec, version);
    d.queues = queues;
    EmuConfig {
        devices: vec![d],
        first_id: 3,
    }
}

fn device(emu: &Emulator, alg: &str) -> Device {
    scan(&emu.roots())
        .devices
        .into_iter()
        .find(|d| d.supports(alg))
        .expect("emulated device present")
}

fn open(dev: &Device) -> QueuePair {
    let bd = SecBd::for_version(dev.qm_version);
    QueuePair::open(
        dev,
        QueueOptions {
            tag: bd.tag_field(),
            ..Default::default()
        },
    )
    .unwrap()
}

/// One synchronous copy of `len` bytes, verified.
fn copy_sync(q: &QueuePair, len: usize, seed: u8, wait: &WaitPolicy) -> Result<(), Error> {
    let bd = SecBd::for_version(q.qm_version());
    let src: Vec<u8> = (0..len)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
        .collect();
    let mut dst = vec![0u8; len];
    let sqe = build_copy(bd, src.as_ptr() as u64, dst.as_mut_ptr() as u64, len as u32)?;
    // SAFETY: src and dst outlive the synchronous request; on timeout the test drops the
    // queue (stopping the engine) before the buffers.
    let done = unsafe { q.submit_sync(&sqe, wait) }?;
    check_done(&done)?;
    assert_eq!(dst, src, "copied data differs");
    Ok(())
}

#[test]
fn lifecycle_open_copy_close_and_available_instances() {
    let dir = tmp("life");
    let mut v2 = DeviceSpec::new(DeviceKind::Sec, 2);
    v2.qp_info = false; // an older kernel without SET_QP_INFO: depth falls back to 1024
    v2.queues = 4;
    let cfg = EmuConfig {
        devices: vec![DeviceSpec::new(DeviceKind::Sec, 3), v2],
        first_id: 7,
    };
    let emu = Emulator::start(&dir, &cfg).unwrap();
    assert_eq!(emu.device_names(), vec!["hisi_sec2-7", "hisi_sec2-8"]);
    let found = scan(&emu.roots());
    for dev in &found.devices {
        let before = dev.available_instances;
        let q1 = open(dev);
        let q2 = open(dev);
        assert_ne!(q1.sqn(), q2.sqn());
        assert_eq!(q1.geometry().sq_depth, 1024);
        assert_eq!(q1.geometry().sqe_size, 128);
        let now = scan(&emu.roots())
            .devices
            .into_iter()
            .find(|d| d.name == dev.name)
            .unwrap();
        assert_eq!(now.available_instances, before - 2);
        for len in [1, 64, 4096, 100_000] {
            copy_sync(&q1, len, 1, &WaitPolicy::default()).unwrap();
        }
        drop(q1);
        drop(q2);
        let t = Instant::now();
        loop {
            let now = scan(&emu.roots())
                .devices
                .into_iter()
                .find(|d| d.name == dev.name)
                .unwrap();
            if now.available_instances == before {
                break;
            }
            assert!(t.elapsed() < Duration::from_secs(5), "queues not released");
            std::thread::sleep(Duration::from_millis(5));
        }
    }
    let st = emu.status();
    assert_eq!(st.devices[0].totals.requests, 4);
    assert_eq!(st.devices[0].totals.bytes, 1 + 64 + 4096 + 100_000);
    // All queues taken → open fails with an error, not a hang.
    let v2dev = found.devices.iter().find(|d| d.name == "hisi_sec2-8").unwrap();
    let qs: Vec<_> = (0..4).map(|_| open(v2dev)).collect();
    assert!(QueuePair::open(v2dev, QueueOptions::default()).is_err());
    drop(qs);
}

#[test]
fn refuses_use_after_fork() {
    let dir = tmp("fork");
    let emu = Emulator::start(&dir, &sec_cfg(3, 4)).unwrap();
    let q = open(&device(&emu, "cipher"));
    copy_sync(&q, 64, 2, &WaitPolicy::default()).unwrap();
    // SAFETY: the child only checks the queue's fork guard (no locks, no allocation on the
    // error path) and leaves with _exit.
    let pid = unsafe { libc::fork() };
    if pid == 0 {
        let sqe = uadk_core::qm::Sqe::zeroed();
        // SAFETY: the descriptor names no buffers; it is refused before submission.
        let r = unsafe { q.submit_sync(&sqe, &WaitPolicy::default()) };
        let code = if matches!(r, Err(Error::ForkedChild { .. })) {
            0
        } else {
            1
        };
        // SAFETY: leave the forked child without running destructors of the parent's state.
        unsafe { libc::_exit(code) };
    }
    let mut status = 0;
    // SAFETY: waiting for our own child.
    unsafe { libc::waitpid(pid, &mut status, 0) };
    assert!(
        libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
        "child was not refused"
    );
    // The parent's queue is unaffected.
    copy_sync(&q, 64, 3, &WaitPolicy::default()).unwrap();
}

#[test]
fn rings_wrap_three_times_with_cq_phase_flips_sync_and_async() {
    let dir = tmp("wrap");
    let emu = Emulator::start(&dir, &sec_cfg(3, 4)).unwrap();
    let dev = device(&emu, "cipher");
    let q = open(&dev);
    let depth = q.geometry().sq_depth as usize;
    // Async: batches of 100 (a batch does not divide the depth, so batches straddle the
    // wrap) for 3.5 wraps; every request copies its own 8-byte value.
    let total = depth * 7 / 2;
    let src: Vec<u64> = (0..total as u64).map(|i| i * 0x9E37_79B9 + 1).collect();
    let mut dst = vec![0u64; total];
    let mut done = Vec::with_capacity(total);
    let mut next = 0usize;
    while done.len() < total {
        if next < total && q.free_slots() >= 100.min(total - next) {
            let n = 100.min(total - next);
            let sqes: Vec<_> = (next..next + n)
                .map(|i| {
                    build_copy(
                        SecBd::Bd3,
                        &src[i] as *const u64 as u64,
                        &mut dst[i] as *mut u64 as u64,
                        8,
                    )
                    .unwrap()
                })
                .collect();
            let tokens: Vec<u64> = (next as u64..(next + n) as u64).collect();
            // SAFETY: src and dst live until every completion has been polled below.
            unsafe { q.submit(&sqes, &tokens, BusyPolicy::Fail) }.unwrap();
            next += n;
        }
        q.poll_wait(256, Duration::from_secs(5), |c| {
            check_done(c.result.as_ref().unwrap()).unwrap();
            done.push(c.token);
        })
        .unwrap();
    }
    assert_eq!(
        done,
        (0..total as u64).collect::<Vec<_>>(),
        "completions out of order or lost"
    );
    assert_eq!(dst, src);
    // Sync: another 3 wraps one request at a time.
    for i in 0..(3 * depth + 10) {
        copy_sync(&q, 16, i as u8, &WaitPolicy::default()).unwrap();
    }
    assert_eq!(q.in_flight(), 0);
}

#[test]
fn full_sq_is_busy_or_waits_as_the_caller_chooses() {
    let dir = tmp("full");
    let emu = Emulator::start(&dir, &sec_cfg(3, 4)).unwrap();
    let name = emu.device_names()[0].clone();
    let dev = device(&emu, "cipher");
    let q = open(&dev);
    emu.set_faults(
        &name,
        Faults {
            stalled: true,
            ..Default::default()
        },
    )
    .unwrap();
    let src = vec![5u8; 32];
    let mut dst = vec![0u8; 32];
    let sqe = build_copy(SecBd::Bd3, src.as_ptr() as u64, dst.as_mut_ptr() as u64, 32).unwrap();
    let cap = q.geometry().sq_depth as usize - 1;
    let sqes = vec![sqe; cap];
    let tokens: Vec<u64> = (0..cap as u64).collect();
    // SAFETY: src/dst outlive all completions (polled below before they drop).
    unsafe { q.submit(&sqes, &tokens, BusyPolicy::Fail) }.unwrap();
    assert_eq!(q.free_slots(), 0);
    // SAFETY: as above.
    let r = unsafe { q.submit(&sqes[..1], &[9999], BusyPolicy::Fail) };
    assert!(matches!(r, Err(Error::Busy { free: 0, wanted: 1 })), "{r:?}");
    let t = Instant::now();
    // SAFETY: as above.
    let r = unsafe { q.submit(&sqes[..1], &[9999], BusyPolicy::Wait(Duration::from_millis(100))) };
    assert!(matches!(r, Err(Error::Busy { .. })), "{r:?}");
    assert!(t.elapsed() >= Duration::from_millis(100));
    // A batch larger than the queue can ever hold is an argument error, not Busy.
    let big = vec![sqe; cap + 1];
    let toks: Vec<u64> = (0..=cap as u64).collect();
    // SAFETY: rejected before submission.
    assert!(matches!(
        unsafe { q.submit(&big, &toks, BusyPolicy::Fail) },
        Err(Error::InvalidArgument(_))
    ));
    // Unstall: a waiting submit gets through once completions free slots.
    emu.set_faults(&name, Faults::default()).unwrap();
    // SAFETY: as above.
    unsafe { q.submit(&sqes[..1], &[9999], BusyPolicy::Wait(Duration::from_secs(5))) }.unwrap();
    let mut got = 0;
    let t = Instant::now();
    while got < cap + 1 {
        got += q
            .poll_wait(2048, Duration::from_secs(5), |c| assert!(c.result.is_ok()))
            .unwrap();
        assert!(t.elapsed() < Duration::from_secs(10));
    }
    assert_eq!(dst, src);
}

fn worker_threads(dev: &Device, threads: usize, shared_queues: usize, per_thread: usize) {
    let shared: Vec<Arc<QueuePair>> = (0..shared_queues).map(|_| Arc::new(open(dev))).collect();
    std::thread::scope(|s| {
        for t in 0..threads {
            let shared = &shared;
            s.spawn(move || {
                // Half the threads get their own queue, the rest share.
                let own = if t % 2 == 0 { Some(open(dev)) } else { None };
                let q: &QueuePair = match &own {
                    Some(q) => q,
                    None => &shared[t % shared.len()],
                };
                for i in 0..per_thread {
                    copy_sync(q, 1 + (i * 37) % 3000, (t * 13 + i) as u8, &WaitPolicy::default()).unwrap();
                }
            });
        }
    });
}

const CHILD_ENV: &str = "UADK_TEST_CHILD_ROOT";

/// The second process of `two_processes_and_eight_threads_share_one_device`. Run on its own
/// (no env var) it exercises the same workload against a private emulator.
#[test]
fn child_client_process() {
    match std::env::var_os(CHILD_ENV) {
        Some(root) => {
            let roots = uadk_core::discovery::Roots::under(std::path::Path::new(&root));
            let dev = scan(&roots)
                .devices
                .into_iter()
                .find(|d| d.supports("cipher"))
                .unwrap();
            worker_threads(&dev, 4, 2, 500);
        }
        None => {
            let dir = tmp("child-solo");
            let emu = Emulator::start(&dir, &sec_cfg(3, 16)).unwrap();
            worker_threads(&device(&emu, "cipher"), 4, 2, 200);
        }
    }
}

#[test]
fn two_processes_and_eight_threads_share_one_device() {
    let dir = tmp("multi");
    let emu = Emulator::start(&dir, &sec_cfg(2, 32)).unwrap();
    let dev = device(&emu, "cipher");
    let mut child = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "child_client_process",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_ENV, &dir)
        .spawn()
        .unwrap();
    worker_threads(&dev, 8, 2, 500);
    let st = child.wait().unwrap();
    assert!(st.success(), "child process failed: {st:?}");
    // 8 threads × 500 here + 4 × 500 in the child (remote memory via process_vm_*).
    let t = Instant::now();
    while emu.status().devices[0].totals.requests != 6000 {
        assert!(
            t.elapsed() < Duration::from_secs(5),
            "{:?}",
            emu.status().devices[0].totals
        );
        std::thread::sleep(Duration::from_millis(2));
    }
}

#[test]
fn killed_emulator_fails_every_pending_request_within_the_timeout() {
    use std::io::BufRead;
    let dir = tmp("kill");
    /// Kills the emulator process even if the test fails half-way.
    struct Reaper(std::process::Child);
    impl Drop for Reaper {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let mut child = Reaper(
        std::process::Command::new(env!("CARGO_BIN_EXE_uadk-emud"))
            .args(["--root", dir.to_str().unwrap(), "--device", "sec,api=v3,queues=8"])
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let mut line = String::new();
    std::io::BufReader::new(child.0.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert_eq!(line.trim(), "ready");
    let roots = uadk_core::discovery::Roots::under(&dir);
    let dev = scan(&roots).devices.into_iter().next().unwrap();
    let q = Arc::new(open(&dev));
    copy_sync(&q, 128, 1, &WaitPolicy::default()).unwrap();
    // Stall the device so requests stay pending, then kill the emulator.
    uadk_emu::daemon::set_faults(
        &dir,
        &dev.name,
        &Faults {
            stalled: true,
            ..Default::default()
        },
    )
    .unwrap();
    let src = [1u8; 64];
    let mut dst = vec![0u8; 64];
    let sqe = build_copy(SecBd::Bd3, src.as_ptr() as u64, dst.as_mut_ptr() as u64, 64).unwrap();
    let tokens: Vec<u64> = (0..10).collect();
    // SAFETY: the emulator is killed, and the queue dropped, before src/dst go away.
    unsafe { q.submit(&vec![sqe; 10], &tokens, BusyPolicy::Fail) }.unwrap();
    let timeout = Duration::from_secs(3);
    let syncq = q.clone();
    let sync = std::thread::spawn(move || {
        let t = Instant::now();
        let r = copy_sync(
            &syncq,
            64,
            9,
            &WaitPolicy {
                sleep: true,
                ..WaitPolicy::with_timeout(timeout)
            },
        );
        (r, t.elapsed())
    });
    std::thread::sleep(Duration::from_millis(100));
    child.0.kill().unwrap();
    child.0.wait().unwrap();
    let t = Instant::now();
    let mut failed = 0;
    while failed < 10 && t.elapsed() < timeout + Duration::from_secs(1) {
        q.poll_wait(64, Duration::from_millis(100), |c| {
            assert!(c.result.is_err());
            failed += 1;
        })
        .unwrap_or(0);
    }
    assert_eq!(failed, 10, "pending async requests did not all fail");
    assert!(t.elapsed() <= timeout + Duration::from_secs(1));
    let (r, elapsed) = sync.join().unwrap();
    assert!(
        matches!(r, Err(Error::DeviceGone { .. }) | Err(Error::Timeout { .. })),
        "{r:?}"
    );
    assert!(elapsed <= timeout + Duration::from_secs(1), "{elapsed:?}");
    // New requests on the dead queue fail at once.
    assert!(copy_sync(&q, 8, 1, &WaitPolicy::default()).is_err());
    drop(q);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn reset_fails_inflight_and_new_requests_then_a_fresh_queue_works() {
    let dir = tmp("reset");
    let emu = Emulator::start(&dir, &sec_cfg(3, 4)).unwrap();
    let name = emu.device_names()[0].clone();
    let dev = device(&emu, "cipher");
    let q = open(&dev);
    copy_sync(&q, 32, 1, &WaitPolicy::default()).unwrap();
    emu.set_faults(
        &name,
        Faults {
            stalled: true,
            ..Default::default()
        },
    )
    .unwrap();
    let src = [1u8; 64];
    let mut dst = vec![0u8; 64];
    let sqe = build_copy(SecBd::Bd3, src.as_ptr() as u64, dst.as_mut_ptr() as u64, 64).unwrap();
    // SAFETY: the queue is dropped before src/dst.
    unsafe { q.submit(&vec![sqe; 5], &[1, 2, 3, 4, 5], BusyPolicy::Fail) }.unwrap();
    emu.reset(&name).unwrap();
    let mut errs = Vec::new();
    let t = Instant::now();
    while errs.len() < 5 {
        q.poll_wait(8, Duration::from_millis(200), |c| {
            errs.push(c.result.unwrap_err())
        })
        .unwrap();
        assert!(
            t.elapsed() < Duration::from_secs(5),
            "in-flight requests not failed after reset"
        );
    }
    assert!(errs.iter().all(|e| matches!(e, Error::QueueStopped)));
    assert!(q.is_stopped());
    assert!(matches!(
        copy_sync(&q, 8, 1, &WaitPolicy::default()),
        Err(Error::QueueStopped)
    ));
    drop(q);
    emu.set_faults(&name, Faults::default()).unwrap();
    let fresh = open(&dev);
    copy_sync(&fresh, 4096, 7, &WaitPolicy::default()).unwrap();
}

#[test]
fn injected_errors_delays_stalls_and_page_faults() {
    let dir = tmp("faults");
    let emu = Emulator::start(&dir, &sec_cfg(3, 8)).unwrap();
    let name = emu.device_names()[0].clone();
    let dev = device(&emu, "cipher");
    // Error rate: about half the requests fail with a device status.
    emu.set_faults(
        &name,
        Faults {
            error_rate: 0.5,
            ..Default::default()
        },
    )
    .unwrap();
    let q = open(&dev);
    let mut fails = 0;
    for i in 0..400 {
        match copy_sync(&q, 16, i as u8, &WaitPolicy::default()) {
            Ok(()) => {}
            Err(Error::DeviceStatus(_)) => fails += 1,
            Err(e) => panic!("{e}"),
        }
    }
    assert!((120..280).contains(&fails), "{fails} of 400 failed at rate 0.5");
    let t = Instant::now();
    while emu.status().devices[0].totals.errors_injected != fails {
        assert!(
            t.elapsed() < Duration::from_secs(5),
            "errors_injected never matched {fails}"
        );
        std::thread::sleep(Duration::from_millis(2));
    }
    // Delayed completions.
    emu.set_faults(
        &name,
        Faults {
            delay_us: 20_000,
            ..Default::default()
        },
    )
    .unwrap();
    let t = Instant::now();
    copy_sync(
        &q,
        16,
        1,
        &WaitPolicy {
            sleep: true,
            spin: 10,
            ..Default::default()
        },
    )
    .unwrap();
    assert!(t.elapsed() >= Duration::from_millis(20));
    // IO page fault model: unpinned heap pages are charged once, then again after churn.
    emu.set_faults(
        &name,
        Faults {
            iopf_ns: 1000,
            ..Default::default()
        },
    )
    .unwrap();
    let before = emu.status().devices[0].totals.faults_charged;
    copy_sync(&q, 64 * 1024, 3, &WaitPolicy::default()).unwrap();
    // Counters are published right after each batch's completions.
    std::thread::sleep(Duration::from_millis(50));
    let first = emu.status().devices[0].totals.faults_charged - before;
    assert!(
        first >= 32,
        "64 KiB src + dst should fault at least 32 pages, got {first}"
    );
    // A stalled queue: the sync request times out and the queue is unusable.
    emu.set_faults(
        &name,
        Faults {
            stalled: true,
            ..Default::default()
        },
    )
    .unwrap();
    let r = copy_sync(&q, 16, 1, &WaitPolicy::with_timeout(Duration::from_millis(100)));
    assert!(matches!(r, Err(Error::Timeout { .. })), "{r:?}");
    assert!(q.is_stopped());
    drop(q);
}

#[test]
fn page_faults_churn_and_locked_buffers() {
    let dir = tmp("iopf");
    let emu = Emulator::start(&dir, &sec_cfg(3, 4)).unwrap();
    let name = emu.device_names()[0].clone();
    let dev = device(&emu, "cipher");
    let q = open(&dev);
    emu.set_faults(
        &name,
        Faults {
            iopf_ns: 500,
            churn_every: 2,
            ..Default::default()
        },
    )
    .unwrap();
    let faults = || {
        // Counters are published right after each batch's completions.
        std::thread::sleep(Duration::from_millis(20));
        emu.status().devices[0].totals.faults_charged
    };
    let src = vec![3u8; 8192];
    let mut dst = vec![0u8; 8192];
    let sqe = build_copy(SecBd::Bd3, src.as_ptr() as u64, dst.as_mut_ptr() as u64, 8192).unwrap();
    let run = |n: usize| {
        for _ in 0..n {
            // SAFETY: src/dst outlive the synchronous requests.
            check_done(&unsafe { q.submit_sync(&sqe, &WaitPolicy::default()) }.unwrap()).unwrap();
        }
    };
    let f0 = faults();
    run(1);
    let f1 = faults();
    assert!(f1 - f0 >= 4, "first touch of 2+2 pages");
    run(1); // second request: pages resident; churn after it
    let f2 = faults();
    assert_eq!(f2, f1, "resident pages charged again before churn");
    run(1); // after churn: charged again
    assert!(faults() - f2 >= 4, "churn did not make pages fault again");
    // Locked buffers are never charged (skip if mlock is not permitted here).
    let mut lsrc = vec![4u8; 8192];
    let mut ldst = vec![0u8; 8192];
    // SAFETY: locking live allocations; unlocked below.
    let ok = unsafe {
        libc::mlock(lsrc.as_mut_ptr() as *const libc::c_void, 8192) == 0
            && libc::mlock(ldst.as_mut_ptr() as *const libc::c_void, 8192) == 0
    };
    if ok {
        std::thread::sleep(uadk_emu::iopf::RELOAD_EVERY * 2);
        let sqe = build_copy(SecBd::Bd3, lsrc.as_ptr() as u64, ldst.as_mut_ptr() as u64, 8192).unwrap();
        let f = faults();
        for _ in 0..4 {
            // SAFETY: buffers outlive the synchronous requests.
            check_done(&unsafe { q.submit_sync(&sqe, &WaitPolicy::default()) }.unwrap()).unwrap();
        }
        assert_eq!(faults() - f, 0, "locked buffers were charged");
        // SAFETY: undo the mlocks.
        unsafe {
            libc::munlock(lsrc.as_ptr() as *const libc::c_void, 8192);
            libc::munlock(ldst.as_ptr() as *const libc::c_void, 8192);
        }
        assert_eq!(ldst, lsrc);
    }
}

#[test]
fn callbacks_and_scheduler_spread_requests() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use uadk_core::sched::{Mode, SchedulerBuilder};
    let dir = tmp("sched");
    let emu = Emulator::start(&dir, &sec_cfg(3, 16)).unwrap();
    let sched = SchedulerBuilder::new("cipher")
        .ctx(Mode::Sync, 0, 0, 3)
        .ctx(Mode::Async, 0, 0, 1)
        .queue_options(QueueOptions {
            tag: SecBd::Bd3.tag_field(),
            ..Default::default()
        })
        .roots(emu.roots())
        .build()
        .unwrap();
    let mut seen = std::collections::HashSet::new();
    for i in 0..6 {
        let q = sched.pick(0, Mode::Sync).unwrap();
        seen.insert(q.sqn());
        copy_sync(q, 100, i, &WaitPolicy::default()).unwrap();
    }
    assert_eq!(seen.len(), 3, "requests not spread over the sync queues");
    assert!(sched.pick(1, Mode::Sync).is_err());
    // Callback completion through the async queue, driven by the scheduler's poll.
    let hits = Arc::new(AtomicUsize::new(0));
    let src = vec![9u8; 256];
    let mut dst = vec![0u8; 256];
    let aq = sched.pick(0, Mode::Async).unwrap();
    let sqe = build_copy(SecBd::Bd3, src.as_ptr() as u64, dst.as_mut_ptr() as u64, 256).unwrap();
    let h = hits.clone();
    // SAFETY: src/dst outlive the callback (we poll until it ran).
    unsafe {
        aq.submit_with_callback(
            &sqe,
            Box::new(move |r| {
                check_done(&r.unwrap()).unwrap();
                h.fetch_add(1, Ordering::SeqCst);
            }),
            BusyPolicy::Fail,
        )
    }
    .unwrap();
    let t = Instant::now();
    while hits.load(Ordering::SeqCst) == 0 {
        sched.poll(0, 16, |_| {}).unwrap();
        assert!(t.elapsed() < Duration::from_secs(5));
    }
    assert_eq!(dst, src);
}

#[test]
fn env_var_sizes_the_contexts() {
    use uadk_core::sched::{Mode, SchedulerBuilder};
    let dir = tmp("env");
    let emu = Emulator::start(&dir, &sec_cfg(3, 16)).unwrap();
    // Only this test uses this family name, so setting it does not disturb other tests.
    std::env::set_var("WD_TESTCIPHER_CTX_NUM", "sync:2@0,async:3@0");
    let sched = SchedulerBuilder::new("cipher")
        .env("TESTCIPHER")
        .ctx(Mode::Sync, 0, 0, 1)
        .roots(emu.roots())
        .build()
        .unwrap();
    assert_eq!(sched.queues(0, Mode::Sync).count(), 2);
    assert_eq!(sched.queues(0, Mode::Async).count(), 3);
    std::env::set_var("WD_TESTCIPHER_CTX_NUM", "sync:two@0");
    let r = SchedulerBuilder::new("cipher")
        .env("TESTCIPHER")
        .roots(emu.roots())
        .build();
    assert!(matches!(r, Err(Error::Config(_))));
    let r = SchedulerBuilder::new("lz4")
        .ctx(Mode::Sync, 0, 0, 1)
        .roots(emu.roots())
        .build();
    assert!(matches!(r, Err(Error::NoDevice { .. })));
}

#[test]
fn zip_devices_advertise_by_version_and_refuse_a_v2_format_sqe_on_v3() {
    let dir = tmp("zip");
    let cfg = EmuConfig {
        devices: vec![
            DeviceSpec::new(DeviceKind::Zip, 2),
            DeviceSpec::new(DeviceKind::Zip, 3),
        ],
        first_id: 0,
    };
    let emu = Emulator::start(&dir, &cfg).unwrap();
    let found = scan(&emu.roots());
    assert_eq!(found.devices[0].algorithms, vec!["zlib", "gzip"]);
    assert_eq!(found.devices[1].algorithms, vec!["zlib", "gzip", "deflate"]);
    let q = QueuePair::open(
        &found.devices[1],
        QueueOptions {
            qc_type: 1,
            tag: uadk_core::qm::TagField::ZIP_V3,
            ..Default::default()
        },
    )
    .unwrap();
    let mut sqe = uadk_core::qm::Sqe::zeroed();
    // A zlib request in the v2 format (SQE type 0) on a v3 device: refused, not guessed at.
    sqe.set_u32(36, 0x2);
    // SAFETY: the descriptor names no buffers (addresses 0, lengths 0).
    let done = unsafe { q.submit_sync(&sqe, &WaitPolicy::default()) }.unwrap();
    assert_eq!(done.u32(12) & 0xff, uadk_emu::zip::STATUS_UNSUPPORTED as u32);
    // Bad qc_type is refused by SET_QP_CTX like the kernel does.
    assert!(QueuePair::open(
        &found.devices[1],
        QueueOptions {
            qc_type: 2,
            ..Default::default()
        }
    )
    .is_err());
}

#[test]
fn daemon_control_socket_status_faults_reset_and_stop() {
    let dir = tmp("daemon");
    let d2 = dir.clone();
    let h = std::thread::spawn(move || uadk_emu::daemon::run_foreground(&d2, &sec_cfg(3, 4), || {}));
    let t = Instant::now();
    let st = loop {
        if let Ok(s) = uadk_emu::daemon::status(&dir) {
            break s;
        }
        assert!(t.elapsed() < Duration::from_secs(10));
        std::thread::sleep(Duration::from_millis(10));
    };
    assert_eq!(st.devices.len(), 1);
    let name = st.devices[0].name.clone();
    // A second emulator on the same root is refused.
    assert!(matches!(
        uadk_emu::daemon::run_foreground(&dir, &sec_cfg(3, 4), || {}),
        Err(uadk_emu::EmuError::AlreadyRunning(_))
    ));
    uadk_emu::daemon::set_faults(
        &dir,
        &name,
        &Faults {
            delay_us: 5,
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(
        uadk_emu::daemon::status(&dir).unwrap().devices[0].faults.delay_us,
        5
    );
    assert!(uadk_emu::daemon::set_faults(&dir, "nope", &Faults::default()).is_err());
    uadk_emu::daemon::reset(&dir, &name).unwrap();
    uadk_emu::daemon::stop(&dir).unwrap();
    h.join().unwrap().unwrap();
    assert!(!dir.join("sys/class/uacce").exists());
    assert!(matches!(
        uadk_emu::daemon::status(&dir),
        Err(uadk_emu::EmuError::NotRunning(_))
    ));
}

#[test]
fn emulated_node_follows_the_kernel_state_machine() {
    use std::os::fd::AsFd;
    use std::os::unix::net::UnixStream;
    use uadk_core::sys::fdpass;
    use uadk_core::uacce::emu_proto::{Op, Request, Response, RESP_LEN, VERSION};
    use uadk_core::uacce::ioctl::{UACCE_CMD_PUT_Q, UACCE_CMD_QM_SET_QP_CTX, UACCE_CMD_START_Q};

    let dir = tmp("proto");
    let emu = Emulator::start(&dir, &sec_cfg(3, 4)).unwrap();
    let dev = device(&emu, "cipher");
    let s = UnixStream::connect(&dev.dev_path).unwrap();
    let call = |req: [u8; 32]| -> (Response, usize) {
        fdpass::send(s.as_fd(), &req, &[]).unwrap();
        let mut b = [0u8; RESP_LEN];
        let fds = fdpass::recv_exact(s.as_fd(), &mut b).unwrap().unwrap();
        (Response::decode(&b).unwrap(), fds.len())
    };
    let req = |op, arg, payload| Request { op, arg, payload }.encode();
    // Garbage is refused, and the connection survives it.
    assert_eq!(call([0xAB; 32]).0.status, -libc::EPROTO);
    // Nothing but Hello before Hello.
    assert_eq!(
        call(req(Op::Ioctl, UACCE_CMD_START_Q as u64, [0; 16])).0.status,
        -libc::EPROTO
    );
    assert_eq!(
        call(req(Op::Hello, VERSION + 1, [0; 16])).0.status,
        -libc::EPROTONOSUPPORT
    );
    let (r, fds) = call(req(Op::Hello, VERSION, [0; 16]));
    assert_eq!((r.status, fds), (0, 1), "hello returns the eventfd");
    assert_eq!(call(req(Op::Hello, VERSION, [0; 16])).0.status, -libc::EEXIST);
    // DUS must be mapped with its exact size, once.
    let mut len = [0u8; 16];
    len[..8].copy_from_slice(&4096u64.to_le_bytes());
    assert_eq!(call(req(Op::Mmap, 1, len)).0.status, -libc::EINVAL);
    len[..8].copy_from_slice(&(dev.dus_size as u64).to_le_bytes());
    assert_eq!(call(req(Op::Mmap, 1, len)), (Response::ok(0, [0; 16]), 1));
    assert_eq!(call(req(Op::Mmap, 1, len)).0.status, -libc::EEXIST);
    assert_eq!(call(req(Op::Mmap, 2, len)).0.status, -libc::EINVAL);
    // SET_QP_CTX: qc_type 0/1 only; the reply carries the queue number.
    let mut ctx = [0u8; 16];
    ctx[2] = 2;
    assert_eq!(
        call(req(Op::Ioctl, UACCE_CMD_QM_SET_QP_CTX as u64, ctx)).0.status,
        -libc::EINVAL
    );
    ctx[2] = 1;
    assert_eq!(
        call(req(Op::Ioctl, UACCE_CMD_QM_SET_QP_CTX as u64, ctx)).0.status,
        0
    );
    assert_eq!(call(req(Op::Ioctl, 0x1234, [0; 16])).0.status, -libc::EINVAL);
    assert_eq!(
        call(req(Op::Ioctl, UACCE_CMD_START_Q as u64, [0; 16])).0.status,
        0
    );
    assert_eq!(
        call(req(Op::Ioctl, UACCE_CMD_START_Q as u64, [0; 16])).0.status,
        -libc::EINVAL
    );
    assert_eq!(call(req(Op::Ioctl, UACCE_CMD_PUT_Q as u64, [0; 16])).0.status, 0);
    // After PUT_Q the queue is a zombie.
    assert_eq!(
        call(req(Op::Ioctl, UACCE_CMD_START_Q as u64, [0; 16])).0.status,
        -libc::ENXIO
    );
    assert_eq!(emu.status().devices[0].open_queues, 1);
    drop(s);
    let t = Instant::now();
    while emu.status().devices[0].open_queues != 0 {
        assert!(
            t.elapsed() < Duration::from_secs(5),
            "queue not released on close"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn shared_scheduler_is_built_once_per_process() {
    use uadk_core::sched::{shared, Mode, SchedulerBuilder};
    let dir = tmp("shared");
    let emu = Emulator::start(&dir, &sec_cfg(3, 8)).unwrap();
    let b = || {
        SchedulerBuilder::new("cipher")
            .ctx(Mode::Sync, 0, 0, 2)
            .queue_options(QueueOptions {
                tag: SecBd::Bd3.tag_field(),
                ..Default::default()
            })
            .roots(emu.roots())
    };
    let s1 = shared(b()).unwrap();
    let s2 = shared(b()).unwrap();
    assert!(Arc::ptr_eq(&s1, &s2));
    copy_sync(s1.pick(0, Mode::Sync).unwrap(), 512, 4, &WaitPolicy::default()).unwrap();
    assert_eq!(emu.status().devices[0].open_queues, 2);
}

#[test]
fn scheduler_fills_every_device_near_the_node_before_failing() {
    use uadk_core::sched::{Mode, SchedulerBuilder};
    let dir = tmp("spread");
    let mut a = DeviceSpec::new(DeviceKind::Sec, 3);
    a.queues = 2;
    let mut b = a.clone();
    b.queues = 3;
    let emu = Emulator::start(
        &dir,
        &EmuConfig {
            devices: vec![a, b],
            first_id: 10,
        },
    )
    .unwrap();
    let s = SchedulerBuilder::new("cipher")
        .ctx(Mode::Sync, 0, 0, 5)
        .queue_options(QueueOptions {
            tag: SecBd::Bd3.tag_field(),
            ..Default::default()
        })
        .roots(emu.roots())
        .build()
        .unwrap();
    let devices: std::collections::HashSet<_> = s
        .queues(0, Mode::Sync)
        .map(|q| q.device_name().to_string())
        .collect();
    assert_eq!(devices.len(), 2);
    for i in 0..10 {
        copy_sync(s.pick(0, Mode::Sync).unwrap(), 64, i, &WaitPolicy::default()).unwrap();
    }
    // One more queue than the devices have: an error, not a hang.
    let r = SchedulerBuilder::new("cipher")
        .ctx(Mode::Sync, 0, 0, 1)
        .roots(emu.roots())
        .build();
    assert!(r.is_err());
}
