//! The exported functions and their symbol versions are exactly Debian's libz.so.1's, the
//! soname is libz.so.1, and nothing links libz (or libisal) at build time.

mod common;
use std::process::Command;

fn text(cmd: &str, args: &[&str]) -> String {
    let out = Command::new(cmd)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{cmd}: {e} (install binutils)"));
    assert!(out.status.success(), "{cmd} {args:?}");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// `name version` of every exported function, sorted.
fn exports(path: &str) -> Vec<String> {
    let mut v: Vec<String> = text("objdump", &["-T", path])
        .lines()
        .filter(|l| l.contains("DF .text") && l.contains(" g "))
        .map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            format!("{} {}", f[f.len() - 1], f[f.len() - 2])
        })
        .collect();
    v.sort();
    v
}

#[test]
fn exports_versions_and_soname_match_the_system_libz() {
    let ours = common::ours_path();
    let ours = ours.to_str().unwrap();
    let triple = format!("{}-linux-gnu", std::env::consts::ARCH);
    let sys = [
        format!("/lib/{triple}/libz.so.1"),
        format!("/usr/lib/{triple}/libz.so.1"),
    ]
    .into_iter()
    .find(|p| std::path::Path::new(p).exists())
    .expect("system zlib");
    let (a, b) = (exports(ours), exports(&sys));
    assert_eq!(a, b);
    assert_eq!(a.len(), 88);
    let dynamic = text("readelf", &["-d", ours]);
    assert!(dynamic.contains("Library soname: [libz.so.1]"), "{dynamic}");
    let needed: Vec<&str> = dynamic.lines().filter(|l| l.contains("(NEEDED)")).collect();
    assert!(
        !needed
            .iter()
            .any(|l| l.contains("libz.") || l.contains("libisal")),
        "{needed:?}"
    );
    let nodes = text("readelf", &["-V", ours]);
    for n in [
        "ZLIB_1.2.0",
        "ZLIB_1.2.0.2",
        "ZLIB_1.2.5.2",
        "ZLIB_1.2.9",
        "ZLIB_1.2.12",
    ] {
        assert!(
            nodes.contains(&format!("Name: {n}\n")) || nodes.contains(&format!("Name: {n} ")),
            "node {n}"
        );
    }
}
