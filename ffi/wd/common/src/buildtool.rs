//! Build-script helpers for the three cdylibs (used as a build-dependency).
//!
//! A cargo cdylib is linked by rust-lld with rustc's own anonymous version script first;
//! a second script that defines only *named* nodes adds the version definitions, and a
//! `.symver` directive binds each exported symbol to its node. [`link_cdylib`] does both
//! from one `.map` file (the single source of truth for what each library exports and at
//! which version) and sets the soname.
//!
//! `libwd_comp.so.2` and `libwd_crypto.so.2` call into `libwd.so.2` (where the shared
//! state lives) and must record `DT_NEEDED libwd.so.2` with versioned references, as UADK's
//! libraries do. Cargo cannot hand one package's cdylib to another's link, so
//! [`link_libwd_stub`] compiles a stub `libwd.so` (same soname, same version nodes, empty
//! bodies) from `libwd.map` with the system C compiler and links against it; at run time
//! the dynamic loader finds the real `libwd.so.2`.
//!
//! ```
//! let m = uadk_wd_common::buildtool::parse_map("A_1 { global: f; g; local: _*; };\nB_1 { global: h; } A_1;").unwrap();
//! assert_eq!(m.nodes[0].globals, ["f", "g"]);
//! assert_eq!(m.nodes[1].parent.as_deref(), Some("A_1"));
//! ```

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// One version node of a map file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Node {
    /// Node name, e.g. `UADK_2.0`.
    pub name: String,
    /// Symbols exported at this version.
    pub globals: Vec<String>,
    /// The node it inherits from.
    pub parent: Option<String>,
}

/// A parsed version script with named nodes only.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VersionMap {
    /// The nodes in file order.
    pub nodes: Vec<Node>,
}

/// Parses a version script made of named nodes (`NAME { global: a; b; local: ...; } PARENT;`).
pub fn parse_map(text: &str) -> Result<VersionMap, String> {
    let mut clean = String::new();
    let mut rest = text;
    while let Some(i) = rest.find("/*") {
        clean.push_str(&rest[..i]);
        let j = rest[i..].find("*/").ok_or("unterminated comment")?;
        rest = &rest[i + j + 2..];
    }
    clean.push_str(rest);
    let clean: String = clean
        .lines()
        .map(|l| l.split('#').next().unwrap_or(""))
        .collect::<Vec<_>>()
        .join("\n");
    let spaced = clean
        .replace('{', " { ")
        .replace('}', " } ")
        .replace(';', " ; ")
        .replace(':', " : ");
    let toks: Vec<&str> = spaced.split_whitespace().collect();
    let mut nodes = Vec::new();
    let mut i = 0;
    while i < toks.len() {
        let name = toks[i].to_string();
        if toks.get(i + 1) != Some(&"{") {
            return Err(format!("expected '{{' after {name}"));
        }
        i += 2;
        let mut globals = Vec::new();
        let mut local = false;
        while i < toks.len() && toks[i] != "}" {
            match (toks[i], toks.get(i + 1)) {
                ("global", Some(&":")) => {
                    local = false;
                    i += 2;
                }
                ("local", Some(&":")) => {
                    local = true;
                    i += 2;
                }
                (";", _) => i += 1,
                (sym, _) => {
                    if !local {
                        globals.push(sym.to_string());
                    }
                    i += 1;
                }
            }
        }
        i += 1;
        let mut parent = None;
        if i < toks.len() && toks[i] != ";" {
            parent = Some(toks[i].to_string());
            i += 1;
        }
        if toks.get(i) != Some(&";") {
            return Err(format!("expected ';' after node {name}"));
        }
        i += 1;
        nodes.push(Node {
            name,
            globals,
            parent,
        });
    }
    Ok(VersionMap { nodes })
}

fn out_dir() -> PathBuf {
    PathBuf::from(std::env::var("OUT_DIR").expect("OUT_DIR is set by cargo"))
}

fn read_map(map: &Path) -> VersionMap {
    println!("cargo:rerun-if-changed={}", map.display());
    let text = std::fs::read_to_string(map).unwrap_or_else(|e| panic!("reading {}: {e}", map.display()));
    parse_map(&text).unwrap_or_else(|e| panic!("{}: {e}", map.display()))
}

/// Sets the soname and version script of the crate's cdylib and writes
/// `$OUT_DIR/symver.rs` for the crate to `include!` at its root.
///
/// For every symbol `S` of node `N` the file holds a small `global_asm!` entry point
/// `__wdrs_v_S` that jumps to the Rust function `crate::S` (re-exported at the crate root,
/// *without* `#[no_mangle]`) and a `.symver __wdrs_v_S, S@@N` directive. The directive
/// sits next to the symbol it names, which LLVM requires whatever the codegen-unit split;
/// the `__wdrs_v_*` names themselves are hidden by the map's `local: _*;`. A symbol of
/// the map without a function of that name at the crate root fails to compile, so the
/// map and the code cannot drift apart.
pub fn link_cdylib(soname: &str, map: &Path) {
    let parsed = read_map(map);
    println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,{soname}");
    println!(
        "cargo:rustc-cdylib-link-arg=-Wl,--version-script={}",
        map.display()
    );
    let jump = match std::env::var("CARGO_CFG_TARGET_ARCH").as_deref() {
        Ok("aarch64") => "b",
        _ => "jmp",
    };
    let mut rs =
        String::from("// Generated by uadk_wd_common::buildtool::link_cdylib from the version map.\n");
    for node in &parsed.nodes {
        for g in &node.globals {
            let t = format!("__wdrs_v_{g}");
            let _ = writeln!(
                rs,
                "::core::arch::global_asm!(\".pushsection .text.{t},\\\"ax\\\",%progbits\", \".globl {t}\", \
                 \".type {t}, %function\", \".p2align 4\", \"{t}:\", \"{jump} {{f}}\", \".size {t}, . - {t}\", \
                 \".symver {t}, {g}@@{}\", \".popsection\", f = sym crate::{g});",
                node.name
            );
        }
    }
    std::fs::write(out_dir().join("symver.rs"), rs).expect("writing symver.rs");
}

/// Compiles a link stub of `libwd.so.2` from `wd_map` and links the crate's cdylib
/// against it, so the cdylib records `DT_NEEDED libwd.so.2` and versioned references.
pub fn link_libwd_stub(wd_map: &Path) {
    let parsed = read_map(wd_map);
    let dir = out_dir().join("libwd-stub");
    std::fs::create_dir_all(&dir).expect("creating the stub directory");
    let mut c = String::from("/* Link stub of libwd.so.2: never loaded at run time. */\n");
    let mut map = String::new();
    for node in &parsed.nodes {
        let _ = write!(map, "{} {{ global: ", node.name);
        for g in &node.globals {
            let _ = writeln!(c, "void {g}(void) {{}}");
            let _ = write!(map, "{g}; ");
        }
        match (&node.parent, node.name.as_str()) {
            (Some(p), _) => {
                let _ = writeln!(map, "}} {p};");
            }
            (None, _) => {
                let _ = writeln!(map, "local: *; }};");
            }
        }
    }
    std::fs::write(dir.join("stub.c"), c).expect("writing stub.c");
    std::fs::write(dir.join("stub.map"), map).expect("writing stub.map");
    let cc = std::env::var("CC").unwrap_or_else(|_| "cc".into());
    let lib = dir.join("libwd.so");
    let status = std::process::Command::new(&cc)
        .args(["-shared", "-fPIC", "-o"])
        .arg(&lib)
        .arg("-Wl,-soname,libwd.so.2")
        .arg(format!("-Wl,--version-script={}", dir.join("stub.map").display()))
        .arg(dir.join("stub.c"))
        .status()
        .unwrap_or_else(|e| panic!("running {cc} to build the libwd.so.2 link stub: {e} (install a C compiler, e.g. build-essential)"));
    assert!(status.success(), "{cc} failed to build the libwd.so.2 link stub");
    println!("cargo:rustc-cdylib-link-arg={}", lib.display());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_malformed_maps() {
        assert!(parse_map("A { global: f; }").is_err());
        assert!(parse_map("A global: f; };").is_err());
        assert!(parse_map("/* open").is_err());
    }

    #[test]
    fn comments_and_locals_are_ignored() {
        let m = parse_map("# c\nA_1 { global: f; /* x */ local: *; };").unwrap();
        assert_eq!(m.nodes.len(), 1);
        assert_eq!(m.nodes[0].globals, ["f"]);
        assert_eq!(m.nodes[0].parent, None);
    }
}
