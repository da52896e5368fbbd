//! Soname `libwd_crypto.so.2`, version nodes from `libwd_crypto.map`, and `DT_NEEDED
//! libwd.so.2` through a link stub built from `../wd/libwd.map`.
fn main() {
    let dir = std::path::PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap());
    uadk_wd_common::buildtool::link_cdylib("libwd_crypto.so.2", &dir.join("libwd_crypto.map"));
    uadk_wd_common::buildtool::link_libwd_stub(&dir.join("../wd/libwd.map"));
}
