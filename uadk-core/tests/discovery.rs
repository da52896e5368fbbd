//! Discovery against generated sysfs trees, including malformed and missing attributes.

use std::path::{Path, PathBuf};

use uadk_core::discovery::{scan, select_for_node, NumaDistances, Roots};

struct Tree(PathBuf);

impl Tree {
    fn new(tag: &str) -> Tree {
        let p = std::env::temp_dir().join(format!("uadk-disc-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(p.join("sys/class/uacce")).unwrap();
        Tree(p)
    }

    fn roots(&self) -> Roots {
        Roots::under(&self.0)
    }

    fn dev(&self, name: &str, attrs: &[(&str, &str)]) {
        let d = self.0.join("sys/class/uacce").join(name);
        std::fs::create_dir_all(d.join("device")).unwrap();
        for (k, v) in attrs {
            std::fs::write(d.join(k), v).unwrap();
        }
    }
}

impl Drop for Tree {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn good(api: &str, algs: &str, free: &str) -> Vec<(&'static str, String)> {
    vec![
        ("api", format!("{api}\n")),
        ("flags", "1\n".into()),
        ("algorithms", algs.to_string()),
        ("available_instances", format!("{free}\n")),
        ("region_mmio_size", "8192\n".into()),
        ("region_dus_size", "151552\n".into()),
    ]
}

fn put(t: &Tree, name: &str, attrs: Vec<(&'static str, String)>, extra: &[(&str, &str)]) {
    let mut all: Vec<(&str, &str)> = attrs.iter().map(|(k, v)| (*k, v.as_str())).collect();
    all.extend_from_slice(extra);
    t.dev(name, &all);
}

#[test]
fn well_formed_devices_are_parsed_with_optional_attributes_absent_or_present() {
    let t = Tree::new("good");
    put(
        &t,
        "hisi_zip-5",
        good("hisi_qm_v3", "zlib\ngzip\ndeflate\n", "60"),
        &[("device/numa_node", "1\n"), ("isolate", "0\n")],
    );
    // No isolate, no numa_node: optional.
    put(
        &t,
        "hisi_sec2-2",
        good("hisi_qm_v2", "cipher\ndigest\naead\n", "7"),
        &[],
    );
    // Negative node = unknown.
    put(
        &t,
        "hisi_zip-9",
        good("hisi_qm_v2_noiommu", "zlib\ngzip\n", "3"),
        &[("device/numa_node", "-1\n")],
    );
    let found = scan(&t.roots());
    assert!(found.skipped.is_empty(), "{:?}", found.skipped);
    assert_eq!(found.devices.len(), 3);
    let zip5 = found.devices.iter().find(|d| d.name == "hisi_zip-5").unwrap();
    assert_eq!(zip5.qm_version, Some(3));
    assert_eq!(zip5.node, Some(1));
    assert_eq!(zip5.algorithms, vec!["zlib", "gzip", "deflate"]);
    assert_eq!(
        (zip5.mmio_size, zip5.dus_size, zip5.available_instances),
        (8192, 151_552, 60)
    );
    assert!(zip5.sva() && !zip5.isolated);
    assert_eq!(zip5.dev_path, t.0.join("dev/hisi_zip-5"));
    let sec = found.devices.iter().find(|d| d.name == "hisi_sec2-2").unwrap();
    assert_eq!((sec.node, sec.isolated, sec.qm_version), (None, false, Some(2)));
    let zip9 = found.devices.iter().find(|d| d.name == "hisi_zip-9").unwrap();
    assert_eq!((zip9.node, zip9.qm_version), (None, Some(2)));
}

#[test]
fn malformed_devices_are_skipped_with_a_reason_and_others_still_found() {
    let t = Tree::new("bad");
    put(&t, "hisi_zip-0", good("hisi_qm_v3", "zlib\n", "4"), &[]);
    put(&t, "hisi_zip-1", good("hisi_qm_v3", "zlib\n", "many"), &[]);
    let mut no_dus = good("hisi_qm_v3", "zlib\n", "4");
    no_dus.retain(|(k, _)| *k != "region_dus_size");
    put(&t, "hisi_zip-2", no_dus, &[]);
    put(
        &t,
        "hisi_zip-3",
        good("hisi_qm_v3", "zlib\n", "4"),
        &[("device/numa_node", "north\n")],
    );
    put(
        &t,
        "hisi_zip-4",
        good("hisi_qm_v3", "zlib\n", "4"),
        &[("isolate", "yes\n")],
    );
    put(&t, "hisi_zip-6", good("", "zlib\n", "4"), &[]);
    t.dev(
        "hisi_zip-7",
        &[
            ("api", "hisi_qm_v3\n"),
            ("flags", "1\n"),
            ("algorithms", "zlib\n"),
            ("available_instances", "1\n"),
            ("region_mmio_size", "0\n"),
            ("region_dus_size", "151552\n"),
        ],
    );
    // Not UTF-8.
    let d8 = t.0.join("sys/class/uacce/hisi_zip-8");
    put(&t, "hisi_zip-8", good("hisi_qm_v3", "zlib\n", "4"), &[]);
    std::fs::write(d8.join("algorithms"), [0xff, 0xfe, b'\n']).unwrap();
    let found = scan(&t.roots());
    let names: Vec<_> = found.devices.iter().map(|d| d.name.as_str()).collect();
    assert_eq!(names, vec!["hisi_zip-0"]);
    let skipped: Vec<_> = found.skipped.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(
        skipped,
        vec![
            "hisi_zip-1",
            "hisi_zip-2",
            "hisi_zip-3",
            "hisi_zip-4",
            "hisi_zip-6",
            "hisi_zip-7",
            "hisi_zip-8"
        ]
    );
    assert!(
        found.skipped[0].reason.contains("available_instances"),
        "{}",
        found.skipped[0].reason
    );
    assert!(
        found.skipped[1].reason.contains("missing"),
        "{}",
        found.skipped[1].reason
    );
}

#[test]
fn missing_class_directory_means_no_devices() {
    let roots = Roots::under(Path::new("/nonexistent/uadk/root"));
    let found = scan(&roots);
    assert!(found.devices.is_empty() && found.skipped.is_empty());
}

#[test]
fn selection_prefers_near_nodes_then_free_queues_and_skips_isolated() {
    let t = Tree::new("select");
    put(
        &t,
        "hisi_zip-11",
        good("hisi_qm_v3", "zlib\n", "50"),
        &[("device/numa_node", "1\n")],
    );
    put(
        &t,
        "hisi_zip-3",
        good("hisi_qm_v3", "zlib\n", "5"),
        &[("device/numa_node", "0\n")],
    );
    put(
        &t,
        "hisi_zip-4",
        good("hisi_qm_v3", "zlib\n", "9"),
        &[("device/numa_node", "0\n")],
    );
    put(
        &t,
        "hisi_zip-8",
        good("hisi_qm_v3", "zlib\n", "64"),
        &[("device/numa_node", "0\n"), ("isolate", "1\n")],
    );
    put(
        &t,
        "hisi_zip-12",
        good("hisi_qm_v3", "zlib\n", "0"),
        &[("device/numa_node", "0\n")],
    );
    put(
        &t,
        "hisi_sec2-1",
        good("hisi_qm_v3", "cipher\n", "64"),
        &[("device/numa_node", "0\n")],
    );
    // A distance table where node 1 is close to node 2 but node 0 is far.
    for (n, row) in [(0, "10 30 40"), (1, "30 10 12"), (2, "40 12 10")] {
        let p = t.0.join(format!("sys/devices/system/node/node{n}"));
        std::fs::create_dir_all(&p).unwrap();
        std::fs::write(p.join("distance"), format!("{row}\n")).unwrap();
    }
    let found = scan(&t.roots());
    assert_eq!(found.devices.len(), 6);
    assert!(
        found
            .devices
            .iter()
            .find(|d| d.name == "hisi_zip-8")
            .unwrap()
            .isolated
    );
    let dist = NumaDistances::load(&t.roots().sysfs);
    assert_eq!(dist.distance(Some(1), Some(2)), 12);
    let pick = |node| select_for_node(&found.devices, "zlib", node, &dist).map(|d| d.name.clone());
    assert_eq!(pick(Some(0)).as_deref(), Some("hisi_zip-4"));
    assert_eq!(pick(Some(2)).as_deref(), Some("hisi_zip-11"));
    // Unknown caller node: all equally far, most free queues wins (isolated skipped).
    assert_eq!(pick(None).as_deref(), Some("hisi_zip-11"));
    assert_eq!(select_for_node(&found.devices, "lz4", Some(0), &dist), None);
}
