//! uadk-core's kernel character-device backend against a real uacce device: the software
//! HiSilicon QM ZIP device (`soft_qm`) of the test kernel built by `kernel/test.sh`.
//!
//! The QEMU guest's runner sets `UADK_EXPECT_UACCE=1`; anywhere else these tests print why
//! they skip and pass. In the guest they check discovery from the real `/sys/class/uacce`,
//! the open / mmap / ioctl lifecycle and its errors, compression and decompression through
//! the SQ and CQ, ring wrap (more requests than the queue depth), `poll(2)` sleeping and
//! waking, concurrent submitters on one queue, the device's error statuses, and that with
//! `soft_qm.pinned_only=1` an ordinary (even mlocked) heap buffer is refused.

use std::collections::HashMap;
use std::os::unix::fs::FileTypeExt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use uadk_core::discovery::{self, Device, Roots};
use uadk_core::qm::layout::kernel_dus_size;
use uadk_core::qm::{QueueOptions, QueuePair, Sqe, TagField};
use uadk_core::request::{BusyPolicy, WaitPolicy};
use uadk_core::uacce::{self, ioctl, RegionType};

const PINNED_ONLY: &str = "/sys/module/soft_qm/parameters/pinned_only";

// struct hisi_zip_sqe offsets and codes (reference §6.1, §6.4).
const OFF_CONSUMED: usize = 0;
const OFF_PRODUCED: usize = 4;
const OFF_DW3: usize = 12;
const OFF_IN_LEN: usize = 16;
const OFF_DW7: usize = 28;
const OFF_DW9: usize = 36;
const OFF_TAG: usize = 52;
const OFF_AVAIL_OUT: usize = 56;
const OFF_SRC: usize = 72;
const OFF_DST: usize = 80;
const OFF_ISIZE: usize = 120;
const OFF_CHECKSUM: usize = 124;
const HW_ZLIB: u32 = 2;
const HW_GZIP: u32 = 3;
const ST_OK: u32 = 0x00;
const ST_NEGACOMPRESS: u32 = 0x0d;
const ST_OUT_TOO_SMALL: u32 = 0x0e;
const ST_CRC_ERR: u32 = 0x10;
const ST_DECOMP_END: u32 = 0x13;
const ST_SQE_TYPE: u32 = 0x30;
const ST_ALG: u32 = 0x31;
const ST_BUF_TYPE: u32 = 0x32;
const ST_WINDOW: u32 = 0x33;
const ST_LENGTH: u32 = 0x34;
const ST_ADDR_FAULT: u32 = 0x35;
const ST_DATA: u32 = 0x36;
const ST_UNSUPPORTED: u32 = 0x3e;

fn in_guest() -> bool {
    if std::env::var_os("UADK_EXPECT_UACCE").is_some() {
        return true;
    }
    eprintln!(
        "SKIP: not in the kernel/test.sh guest (UADK_EXPECT_UACCE unset); these tests need the \
         software uacce device of the patched test kernel"
    );
    false
}

/// The software ZIP device, found by discovery in the real sysfs.
fn device() -> Device {
    let d = discovery::scan(&Roots::default());
    assert!(d.skipped.is_empty(), "skipped devices: {:?}", d.skipped);
    d.devices
        .into_iter()
        .find(|d| d.name.starts_with("hisi_zip-"))
        .expect("a hisi_zip uacce device in /sys/class/uacce")
}

fn opts(qc_type: u16) -> QueueOptions {
    QueueOptions {
        qc_type,
        tag: TagField::ZIP_V2,
        ..Default::default()
    }
}

fn text(len: usize, seed: u32) -> Vec<u8> {
    let words: [&[u8]; 6] = [
        b"queue ",
        b"doorbell ",
        b"phase ",
        b"zlib ",
        b"pinned ",
        b"page\n",
    ];
    let mut x = seed | 1;
    let mut v = Vec::with_capacity(len + 16);
    while v.len() < len {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        v.extend_from_slice(words[(x % 6) as usize]);
    }
    v.truncate(len);
    v
}

fn adler32(data: &[u8]) -> u32 {
    let (mut a, mut b) = (1u32, 0u32);
    for chunk in data.chunks(5552) {
        for &x in chunk {
            a += x as u32;
            b += a;
        }
        a %= 65521;
        b %= 65521;
    }
    (b << 16) | a
}

fn crc32(data: &[u8]) -> u32 {
    let mut c = !0u32;
    for &x in data {
        c ^= x as u32;
        for _ in 0..8 {
            c = if c & 1 != 0 {
                (c >> 1) ^ 0xEDB8_8320
            } else {
                c >> 1
            };
        }
    }
    !c
}

fn sqe(req: u32, src: &[u8], dst: &mut [u8]) -> Sqe {
    let mut s = Sqe::zeroed();
    s.set_u32(OFF_IN_LEN, src.len() as u32);
    s.set_u32(OFF_DW7, 1 << 25);
    s.set_u32(OFF_DW9, req | (4 << 12));
    s.set_u32(OFF_AVAIL_OUT, dst.len() as u32);
    s.set_u64(OFF_SRC, src.as_ptr() as u64);
    s.set_u64(OFF_DST, dst.as_mut_ptr() as u64);
    s
}

fn status(s: &Sqe) -> u32 {
    s.u32(OFF_DW3) & 0xff
}

fn run(q: &QueuePair, s: &Sqe) -> Sqe {
    // SAFETY: every descriptor in these tests names buffers owned by the caller that live
    // until this synchronous call has returned.
    unsafe { q.submit_sync(s, &WaitPolicy::with_timeout(Duration::from_secs(20))) }
        .unwrap_or_else(|e| panic!("request failed on the queue: {e}"))
}

/// Compresses `data` on `comp` (zlib or gzip request) and returns the device output.
fn device_compress(comp: &QueuePair, req: u32, data: &[u8]) -> Vec<u8> {
    let mut out = vec![0u8; data.len() + data.len() / 8 + 1024];
    let done = run(comp, &sqe(req, data, &mut out));
    assert!(
        matches!(status(&done), ST_OK | ST_NEGACOMPRESS),
        "compress status {:#x}",
        status(&done)
    );
    assert_eq!(done.u32(OFF_CONSUMED) as usize, data.len());
    assert_eq!(done.u32(OFF_DW3) & 0x100, 0x100, "last-block bit");
    out.truncate(done.u32(OFF_PRODUCED) as usize);
    out
}

fn sysfs_available() -> u32 {
    let d = device();
    let p = format!("/sys/class/uacce/{}/available_instances", d.name);
    std::fs::read_to_string(p).unwrap().trim().parse().unwrap()
}

#[test]
fn discovery_reads_the_software_device_from_sysfs() {
    if !in_guest() {
        return;
    }
    let d = device();
    assert_eq!(d.api, "hisi_qm_v2");
    assert_eq!(d.qm_version, Some(2));
    assert_eq!(d.flags, 0, "no SVA: the software device needs no IOMMU");
    assert!(!d.sva());
    assert!(d.supports("zlib") && d.supports("gzip"), "{:?}", d.algorithms);
    assert!(!d.supports("deflate"), "QM v2 does not offer raw deflate");
    let page = uadk_core::sys::page_size();
    assert_eq!(d.mmio_size, 2 * page);
    assert_eq!(d.dus_size, kernel_dus_size(128, 1024, 1024, page));
    assert!(!d.isolated);
    assert!(d.available_instances > 0);
    assert_eq!(d.dev_path, std::path::Path::new("/dev").join(&d.name));
    let meta = std::fs::metadata(&d.dev_path).unwrap();
    assert!(meta.file_type().is_char_device(), "{}", d.dev_path.display());
    // The isolate attribute is served (the driver implements the hook) and reads 0.
    let iso = std::fs::read_to_string(format!("/sys/class/uacce/{}/isolate", d.name)).unwrap();
    assert_eq!(iso.trim(), "0");
    // Selection picks it for zlib and gzip.
    let all = discovery::scan(&Roots::default()).devices;
    assert_eq!(
        discovery::select(&all, "zlib", None).map(|x| &x.name),
        Some(&d.name)
    );
    assert_eq!(
        discovery::select(&all, "gzip", None).map(|x| &x.name),
        Some(&d.name)
    );
}

#[test]
fn ioctls_and_mmaps_behave_like_the_kernel_abi() {
    if !in_guest() {
        return;
    }
    let d = device();
    let f = uacce::open_node(&d.dev_path).unwrap();
    assert!(f.describe().contains("chardev"), "{}", f.describe());
    // The software device publishes its doorbell shadow; the backend picks it up.
    assert_eq!(f.doorbell_shadow(), Some(0x1800));
    // DUS must be mapped with exactly its size; a second mapping of a region is EEXIST.
    let wrong = f.map_region(RegionType::Dus, d.dus_size - uadk_core::sys::page_size());
    assert!(wrong.is_err(), "a short DUS mapping must fail");
    let dus = f.map_region(RegionType::Dus, d.dus_size).unwrap();
    assert_eq!(dus.len(), d.dus_size);
    match f.map_region(RegionType::Dus, d.dus_size) {
        Err(uadk_core::Error::Io { source, .. }) => {
            assert_eq!(source.raw_os_error(), Some(libc::EEXIST))
        }
        other => panic!("second DUS mapping: {other:?}"),
    }
    let mmio = f.map_region(RegionType::Mmio, d.mmio_size).unwrap();
    assert_eq!(mmio.len(), d.mmio_size);
    // START_Q before SET_QP_CTX is refused (the queue type is unknown).
    let e = f.ioctl(ioctl::UACCE_CMD_START_Q, None).unwrap_err();
    assert_eq!(e.raw_os_error(), Some(libc::EINVAL));
    // qc_type other than 0/1 is EINVAL, as in mainline hisi_qm.
    let mut b = ioctl::QpCtx { id: 0, qc_type: 2 }.to_bytes();
    let e = f
        .ioctl(ioctl::UACCE_CMD_QM_SET_QP_CTX, Some(&mut b[..]))
        .unwrap_err();
    assert_eq!(e.raw_os_error(), Some(libc::EINVAL));
    let sqn = uacce::set_qp_ctx(f.as_ref(), 1).unwrap();
    assert!(sqn < 1024);
    let info = uacce::qp_info(f.as_ref())
        .unwrap()
        .expect("SET_QP_INFO is implemented");
    assert_eq!((info.sqe_size, info.sq_depth, info.cq_depth), (128, 1024, 1024));
    // An unknown driver ioctl is refused.
    let mut junk = [0u8; 16];
    let unknown = 0xC010_4820u32; // _IOWR('H', 0x20, 16 bytes): not a QM command
    assert!(f.ioctl(unknown, Some(&mut junk[..])).is_err());
    uacce::start_q(f.as_ref()).unwrap();
    // Starting twice is EINVAL (uacce: only INIT -> STARTED).
    let e = f.ioctl(ioctl::UACCE_CMD_START_Q, None).unwrap_err();
    assert_eq!(e.raw_os_error(), Some(libc::EINVAL));
    // SET_QP_CTX on a started queue is refused.
    let mut b = ioctl::QpCtx { id: 0, qc_type: 0 }.to_bytes();
    let e = f
        .ioctl(ioctl::UACCE_CMD_QM_SET_QP_CTX, Some(&mut b[..]))
        .unwrap_err();
    assert_eq!(e.raw_os_error(), Some(libc::EBUSY));
    uacce::put_q(f.as_ref()).unwrap();
    // The stop/status words start clear.
    assert_eq!(dus.read_u32_volatile(d.dus_size - 4), 0);
    assert_eq!(dus.read_u32_volatile(d.dus_size - 8), 0);
}

#[test]
fn queues_are_counted_in_available_instances() {
    if !in_guest() {
        return;
    }
    let d = device();
    let before = sysfs_available();
    let q1 = QueuePair::open(&d, opts(0)).unwrap();
    let q2 = QueuePair::open(&d, opts(1)).unwrap();
    assert_eq!(sysfs_available(), before - 2);
    assert_ne!(q1.sqn(), q2.sqn(), "each open is its own hardware queue");
    let g = q1.geometry();
    assert_eq!(
        (g.sqe_size, g.sq_depth, g.cq_depth, g.dus_size),
        (128, 1024, 1024, d.dus_size)
    );
    assert_eq!(q1.qm_version(), Some(2));
    drop(q1);
    drop(q2);
    assert_eq!(sysfs_available(), before);
}

#[test]
fn zlib_and_gzip_round_trip_through_the_device() {
    if !in_guest() {
        return;
    }
    let d = device();
    let comp = QueuePair::open(&d, opts(0)).unwrap();
    let decomp = QueuePair::open(&d, opts(1)).unwrap();
    for (req, name) in [(HW_ZLIB, "zlib"), (HW_GZIP, "gzip")] {
        for len in [1usize, 199, 4096, 100_000, 1 << 20] {
            let data = text(len, len as u32);
            let z = device_compress(&comp, req, &data);
            // The device writes the deflate body and the trailer; headers are the driver's.
            if req == HW_ZLIB {
                assert_eq!(z[z.len() - 4..], adler32(&data).to_be_bytes(), "{name} {len}");
            } else {
                assert_eq!(
                    z[z.len() - 8..z.len() - 4],
                    crc32(&data).to_le_bytes(),
                    "{name} {len}"
                );
                assert_eq!(z[z.len() - 4..], (len as u32).to_le_bytes(), "{name} {len}");
            }
            if len > 4096 {
                assert!(
                    z.len() < len / 2,
                    "{name} {len}: text compresses ({} bytes)",
                    z.len()
                );
            }
            let mut back = vec![0u8; len.max(200)];
            let done = run(&decomp, &sqe(req, &z, &mut back));
            assert_eq!(status(&done), ST_DECOMP_END, "{name} {len}");
            assert_eq!(done.u32(OFF_CONSUMED) as usize, z.len());
            assert_eq!(done.u32(OFF_PRODUCED) as usize, len);
            let check = if req == HW_ZLIB {
                adler32(&data)
            } else {
                crc32(&data)
            };
            assert_eq!(done.u32(OFF_CHECKSUM), check);
            assert_eq!(done.u32(OFF_ISIZE) as usize, len);
            assert_eq!(&back[..len], &data[..], "{name} {len}");
        }
    }
}

#[test]
fn error_statuses_are_the_hardware_codes() {
    if !in_guest() {
        return;
    }
    let d = device();
    let comp = QueuePair::open(&d, opts(0)).unwrap();
    let decomp = QueuePair::open(&d, opts(1)).unwrap();
    let data = text(5000, 7);
    let mut out = vec![0u8; 8192];
    let check = |q: &QueuePair, s: Sqe, want: u32, what: &str| {
        let done = run(q, &s);
        assert_eq!(status(&done), want, "{what}");
        if !matches!(want, ST_OK | ST_NEGACOMPRESS | ST_DECOMP_END) {
            assert_eq!((done.u32(OFF_CONSUMED), done.u32(OFF_PRODUCED)), (0, 0), "{what}");
            assert_eq!(done.u32(OFF_DW3) & 0x100, 0, "{what}: no last-block bit");
        }
        // The tag the queue wrote is left alone (the completion matched it, too).
        assert_ne!(done.u32(OFF_TAG), 0, "{what}");
    };
    let mut s = sqe(HW_ZLIB, &data, &mut out);
    s.set_u32(OFF_DW7, (1 << 25) | (3 << 28));
    check(&comp, s, ST_SQE_TYPE, "SQE type 3 on QM v2");
    check(&comp, sqe(1, &data, &mut out), ST_ALG, "raw deflate on QM v2");
    check(&comp, sqe(0x43, &data, &mut out), ST_ALG, "lz77_zstd");
    let mut s = sqe(HW_ZLIB, &data, &mut out);
    s.set_u32(OFF_DW9, HW_ZLIB | (1 << 8) | (4 << 12));
    check(&comp, s, ST_UNSUPPORTED, "hardware SGL");
    s.set_u32(OFF_DW9, HW_ZLIB | (7 << 8) | (4 << 12));
    check(&comp, s, ST_BUF_TYPE, "buffer type 7");
    s.set_u32(OFF_DW9, HW_ZLIB | (9 << 12));
    check(&comp, s, ST_WINDOW, "window code 9");
    let mut s = sqe(HW_ZLIB, &data, &mut out);
    s.set_u32(OFF_DW7, 1 << 26);
    check(&comp, s, ST_UNSUPPORTED, "stateful request");
    check(&comp, sqe(HW_ZLIB, &[], &mut out), ST_LENGTH, "empty input");
    check(
        &comp,
        sqe(HW_ZLIB, &data, &mut out[..199]),
        ST_LENGTH,
        "output under 200 B",
    );
    let mut s = sqe(HW_ZLIB, &data, &mut out);
    s.set_u32(OFF_IN_LEN, (8 << 20) + 1);
    check(&comp, s, ST_LENGTH, "input over 8 MiB");
    let mut s = sqe(HW_ZLIB, &data, &mut out);
    s.set_u64(OFF_SRC, 0x10);
    check(&comp, s, ST_ADDR_FAULT, "unmapped source");
    let mut s = sqe(HW_ZLIB, &data, &mut out);
    s.set_u64(OFF_DST, 0xffff_8000_0000_0000);
    check(&comp, s, ST_ADDR_FAULT, "kernel address as destination");
    // A read-only destination faults on the write (zeros compress to a few bytes, so the
    // output fits and the write is what fails).
    static RO: [u8; 4096] = [0; 4096];
    let zeros = vec![0u8; 5000];
    let mut s = sqe(HW_ZLIB, &zeros, &mut out);
    s.set_u64(OFF_DST, RO.as_ptr() as u64);
    s.set_u32(OFF_AVAIL_OUT, RO.len() as u32);
    check(&comp, s, ST_ADDR_FAULT, "read-only destination");
    assert!(RO.iter().all(|&b| b == 0));
    // Random data does not fit an output of its own size: output too small.
    let noise: Vec<u8> = (0..4000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    check(
        &comp,
        sqe(HW_ZLIB, &noise, &mut out[..300]),
        ST_OUT_TOO_SMALL,
        "small output",
    );
    // Decompression errors: corrupt data, truncated data, bad trailer, small output.
    let z = device_compress(&comp, HW_ZLIB, &data);
    let mut bad = z.clone();
    let n = bad.len();
    bad[n - 1] ^= 0xff;
    check(
        &decomp,
        sqe(HW_ZLIB, &bad, &mut out),
        ST_CRC_ERR,
        "adler32 mismatch",
    );
    check(&decomp, sqe(HW_ZLIB, &z[..n - 6], &mut out), ST_DATA, "truncated");
    // A first block of the reserved type 3 (BFINAL 1, BTYPE 11) is invalid data.
    let mut junk = noise.clone();
    junk[0] = 0x07;
    check(
        &decomp,
        sqe(HW_ZLIB, &junk, &mut out),
        ST_DATA,
        "reserved block type",
    );
    check(
        &decomp,
        sqe(HW_ZLIB, &z, &mut out[..1000]),
        ST_OUT_TOO_SMALL,
        "small output",
    );
    // And the queue still works afterwards.
    check(
        &decomp,
        sqe(HW_ZLIB, &z, &mut out),
        ST_DECOMP_END,
        "good request after errors",
    );
}

#[test]
fn ring_wraps_with_more_requests_than_the_depth() {
    if !in_guest() {
        return;
    }
    let d = device();
    let q = QueuePair::open(&d, opts(0)).unwrap();
    let depth = q.geometry().sq_depth as usize;
    let total = 2 * depth + 300;
    let batch = 100;
    let inputs: Vec<Vec<u8>> = (0..total).map(|i| text(200 + i % 300, i as u32)).collect();
    let mut outputs: Vec<Vec<u8>> = (0..total).map(|_| vec![0u8; 1024]).collect();
    let mut done: HashMap<u64, Sqe> = HashMap::new();
    let start = Instant::now();
    let mut next = 0;
    while done.len() < total {
        if next < total && q.free_slots() >= batch.min(total - next) {
            let end = (next + batch).min(total);
            let descs: Vec<Sqe> = (next..end)
                .map(|i| {
                    let (src, dst) = (&inputs[i], &mut outputs[i]);
                    sqe(HW_ZLIB, src, dst)
                })
                .collect();
            let tokens: Vec<u64> = (next as u64..end as u64).collect();
            // SAFETY: `inputs` and `outputs` are neither moved nor touched until every
            // completion has been collected below.
            unsafe { q.submit(&descs, &tokens, BusyPolicy::Fail) }.unwrap();
            next = end;
        }
        q.poll_wait(usize::MAX, Duration::from_secs(20), |c| {
            let s = c.result.expect("completion");
            assert!(done.insert(c.token, s).is_none(), "token {} twice", c.token);
        })
        .unwrap();
        assert!(start.elapsed() < Duration::from_secs(300), "ring wrap stalled");
    }
    assert_eq!(q.in_flight(), 0);
    for (i, input) in inputs.iter().enumerate() {
        let s = &done[&(i as u64)];
        assert_eq!(status(s), ST_OK, "request {i}");
        let n = s.u32(OFF_PRODUCED) as usize;
        assert_eq!(outputs[i][n - 4..n], adler32(input).to_be_bytes(), "request {i}");
    }
    eprintln!(
        "ring wrap: {total} requests through a {depth}-deep queue in {:?}",
        start.elapsed()
    );
}

#[test]
fn sync_requests_wrap_the_ring_of_queue_zero() {
    if !in_guest() {
        return;
    }
    // One request at a time on a fresh queue (the first queue gets number 0) until the SQ
    // tail wraps to 0: that doorbell is the all-zero word (queue 0, SQ, index 0), which a
    // device must not mistake for "no doorbell".
    let d = device();
    let q = QueuePair::open(&d, opts(0)).unwrap();
    let depth = q.geometry().sq_depth as usize;
    let data = text(600, 1);
    let mut out = vec![0u8; 1024];
    let want = adler32(&data).to_be_bytes();
    for i in 0..depth + 10 {
        let done = run(&q, &sqe(HW_ZLIB, &data, &mut out));
        assert_eq!(status(&done), ST_OK, "request {i}");
        let n = done.u32(OFF_PRODUCED) as usize;
        assert_eq!(out[n - 4..n], want, "request {i}");
    }
    eprintln!("queue {}: {} sync requests across the wrap", q.sqn(), depth + 10);
}

#[test]
fn poll_sleeps_until_a_completion_and_wakes_for_it() {
    if !in_guest() {
        return;
    }
    let d = device();
    let q = QueuePair::open(
        &d,
        QueueOptions {
            interrupt: true,
            ..opts(0)
        },
    )
    .unwrap();
    // Nothing in flight: poll(2) sleeps the whole timeout.
    let t = Instant::now();
    q.wait(Duration::from_millis(300)).unwrap();
    assert!(
        t.elapsed() >= Duration::from_millis(250),
        "woke after {:?}",
        t.elapsed()
    );
    // One request in flight: poll(2) returns once the device posted its CQE.
    let data = text(1 << 20, 3);
    let mut out = vec![0u8; 1 << 20];
    let s = sqe(HW_ZLIB, &data, &mut out);
    // SAFETY: `data` and `out` outlive the completion collected below.
    unsafe { q.submit(&[s], &[42], BusyPolicy::Fail) }.unwrap();
    let t = Instant::now();
    let mut got = None;
    while got.is_none() && t.elapsed() < Duration::from_secs(30) {
        q.wait(Duration::from_secs(30)).unwrap();
        q.poll(1, |c| got = Some(c)).unwrap();
    }
    let c = got.expect("a completion within 30 s");
    assert_eq!(c.token, 42);
    assert_eq!(status(&c.result.unwrap()), ST_OK);
    assert!(t.elapsed() < Duration::from_secs(30));
    // Consumed: poll(2) sleeps again.
    let t = Instant::now();
    q.wait(Duration::from_millis(300)).unwrap();
    assert!(
        t.elapsed() >= Duration::from_millis(250),
        "woke after {:?}",
        t.elapsed()
    );
}

#[test]
fn concurrent_submitters_share_one_queue() {
    if !in_guest() {
        return;
    }
    let d = device();
    let q = Arc::new(QueuePair::open(&d, opts(0)).unwrap());
    let threads: Vec<_> = (0..4u32)
        .map(|t| {
            let q = q.clone();
            std::thread::spawn(move || {
                for i in 0..150u32 {
                    let data = text(300 + (i as usize * 7) % 500, t * 1000 + i);
                    let z = device_compress(&q, HW_GZIP, &data);
                    assert_eq!(z[z.len() - 8..z.len() - 4], crc32(&data).to_le_bytes());
                }
            })
        })
        .collect();
    for t in threads {
        t.join().expect("submitter thread");
    }
    assert_eq!(q.in_flight(), 0);
}

struct PinnedOnly;

impl PinnedOnly {
    fn set() -> PinnedOnly {
        std::fs::write(PINNED_ONLY, "1").expect("write soft_qm.pinned_only");
        PinnedOnly
    }
}

impl Drop for PinnedOnly {
    fn drop(&mut self) {
        let _ = std::fs::write(PINNED_ONLY, "0");
    }
}

#[test]
fn pinned_only_refuses_heap_buffers_even_mlocked() {
    if !in_guest() {
        return;
    }
    let d = device();
    let q = QueuePair::open(&d, opts(0)).unwrap();
    let data = text(20_000, 11);
    let mut out = vec![0u8; 32_768];
    assert_eq!(status(&run(&q, &sqe(HW_ZLIB, &data, &mut out))), ST_OK);
    let _p = PinnedOnly::set();
    assert_eq!(std::fs::read_to_string(PINNED_ONLY).unwrap().trim(), "Y");
    let done = run(&q, &sqe(HW_ZLIB, &data, &mut out));
    assert_eq!(status(&done), ST_ADDR_FAULT, "heap buffer under pinned_only");
    assert_eq!(done.u32(OFF_PRODUCED), 0);
    // mlock keeps pages resident but does not pin them: still refused.
    // SAFETY: mlock(2) on the live, owned buffers; munlock below.
    let locked = unsafe {
        libc::mlock(data.as_ptr().cast(), data.len()) == 0 && libc::mlock(out.as_ptr().cast(), out.len()) == 0
    };
    assert!(locked, "mlock: {}", std::io::Error::last_os_error());
    let done = run(&q, &sqe(HW_ZLIB, &data, &mut out));
    assert_eq!(
        status(&done),
        ST_ADDR_FAULT,
        "mlocked heap buffer under pinned_only"
    );
    // SAFETY: undoes the mlock above on the same live ranges.
    unsafe {
        libc::munlock(data.as_ptr().cast(), data.len());
        libc::munlock(out.as_ptr().cast(), out.len());
    }
}
