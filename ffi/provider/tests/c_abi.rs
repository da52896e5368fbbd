//! Builds `tests/c/abi_check.c` with `cc` against the system OpenSSL and runs it on the
//! provider module built with the tests: algorithm parameters, context parameter names and
//! EVP flags equal the default provider's, TLS 1.2 GCM records interoperate both ways, and
//! the provider's own parameters answer. Also checks the constants of `ossl.rs` against
//! the C headers.

mod common;

use std::process::Command;

fn cc(src: &str, out: &std::path::Path) {
    let status = Command::new("cc")
        .args(["-O1", "-Wall", "-Werror", "-o"])
        .arg(out)
        .arg(src)
        .arg("-lcrypto")
        .status()
        .expect("run cc (build-essential) with libssl-dev installed");
    assert!(status.success(), "cc failed on {src}");
}

#[test]
fn c_program_sees_default_provider_semantics() {
    let dir = std::env::temp_dir().join(format!("uadk-provider-cabi-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let exe = dir.join("abi_check");
    cc(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/c/abi_check.c"), &exe);
    let out = Command::new(&exe).arg(common::module_dir()).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    println!("{stdout}{stderr}");
    assert!(out.status.success(), "abi_check failed:\n{stdout}\n{stderr}");
    assert!(stdout.contains(", 0 failures"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn ossl_constants_match_the_headers() {
    use uadk_provider::ossl::*;
    let dir = std::env::temp_dir().join(format!("uadk-provider-consts-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let src = dir.join("consts.c");
    std::fs::write(
        &src,
        r#"#include <stdio.h>
#include <openssl/core_dispatch.h>
#include <openssl/core.h>
#include <openssl/err.h>
#include <openssl/proverr.h>
int main(void) {
  printf("%d %d %d %d %d %d %d %d %d %d\n", OSSL_FUNC_PROVIDER_TEARDOWN, OSSL_FUNC_PROVIDER_QUERY_OPERATION,
    OSSL_OP_DIGEST, OSSL_OP_CIPHER, OSSL_FUNC_CIPHER_SETTABLE_CTX_PARAMS, OSSL_FUNC_DIGEST_GETTABLE_PARAMS,
    OSSL_PARAM_OCTET_PTR, ERR_LIB_PROV, ERR_R_INTERNAL_ERROR, PROV_R_XTS_DUPLICATED_KEYS);
  return 0;
}
"#,
    )
    .unwrap();
    let exe = dir.join("consts");
    cc(src.to_str().unwrap(), &exe);
    let out = Command::new(&exe).output().unwrap();
    let want = format!(
        "{} {} {} {} {} {} {} {} {} {}\n",
        OSSL_FUNC_PROVIDER_TEARDOWN,
        OSSL_FUNC_PROVIDER_QUERY_OPERATION,
        OSSL_OP_DIGEST,
        OSSL_OP_CIPHER,
        OSSL_FUNC_CIPHER_SETTABLE_CTX_PARAMS,
        OSSL_FUNC_DIGEST_GETTABLE_PARAMS,
        OSSL_PARAM_OCTET_PTR,
        ERR_LIB_PROV,
        ERR_R_INTERNAL_ERROR,
        PROV_R_XTS_DUPLICATED_KEYS
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout), want);
    let _ = std::fs::remove_dir_all(&dir);
}
