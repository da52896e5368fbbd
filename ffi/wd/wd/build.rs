//! Soname `libwd.so.2`, version nodes from `libwd.map`, `.symver` directives.
fn main() {
    let dir = std::path::PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap());
    uadk_wd_common::buildtool::link_cdylib("libwd.so.2", &dir.join("libwd.map"));
}
