//! The kernel character-device path against things that are not uacce devices: every
//! failure is an error naming the step, never a panic.

use std::io::Write;

use uadk_core::discovery::Device;
use uadk_core::qm::{QueueOptions, QueuePair};
use uadk_core::uacce::{self, RegionType};
use uadk_core::Error;

fn fake_node(tag: &str, len: usize) -> std::path::PathBuf {
    let p = std::env::temp_dir().join(format!("uadk-chardev-{tag}-{}", std::process::id()));
    let mut f = std::fs::File::create(&p).unwrap();
    f.write_all(&vec![0u8; len]).unwrap();
    p
}

#[test]
fn regular_file_maps_but_refuses_the_qm_ioctls() {
    let page = uadk_core::sys::page_size();
    let p = fake_node("regular", 4 * page);
    let f = uacce::open_node(&p).unwrap();
    assert!(f.describe().contains("chardev"));
    assert_eq!(f.doorbell_shadow(), None);
    // Region 1 (DUS) is at page offset 1, like the kernel's.
    let dus = f.map_region(RegionType::Dus, page).unwrap();
    assert_eq!(dus.len(), page);
    // Not a uacce device: SET_QP_CTX fails with ENOTTY, SET_QP_INFO reads as "unsupported".
    match uacce::set_qp_ctx(f.as_ref(), 0) {
        Err(Error::Io { source, .. }) => assert_eq!(source.raw_os_error(), Some(libc::ENOTTY)),
        other => panic!("{other:?}"),
    }
    assert_eq!(uacce::qp_info(f.as_ref()).unwrap(), None);
    std::fs::remove_file(&p).unwrap();
}

#[test]
fn queue_open_on_a_non_device_fails_cleanly() {
    let page = uadk_core::sys::page_size();
    let p = fake_node("queue", 64 * page);
    let dev = Device {
        name: "hisi_sec2-99".into(),
        api: "hisi_qm_v3".into(),
        qm_version: Some(3),
        flags: 1,
        algorithms: vec!["cipher".into()],
        available_instances: 1,
        mmio_size: 2 * page,
        dus_size: 37 * page,
        isolated: false,
        node: None,
        dev_path: p.clone(),
    };
    let r = QueuePair::open(&dev, QueueOptions::default());
    assert!(matches!(r, Err(Error::Io { .. })), "{r:?}");
    // A device whose api is not a QM api is refused before anything is mapped.
    let other = Device {
        api: "foo_v1".into(),
        qm_version: None,
        ..dev.clone()
    };
    assert!(matches!(
        QueuePair::open(&other, QueueOptions::default()),
        Err(Error::Unsupported(_))
    ));
    // A missing node is an Io error naming the path.
    let gone = Device {
        dev_path: "/nonexistent/hisi_sec2-99".into(),
        ..dev
    };
    let e = QueuePair::open(&gone, QueueOptions::default()).unwrap_err();
    assert!(e.to_string().contains("/nonexistent/hisi_sec2-99"), "{e}");
    std::fs::remove_file(&p).unwrap();
}
