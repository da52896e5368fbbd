//! Environment variables, read as UADK reads them (`secure_getenv`: ignored in setuid
//! programs), and the syntax of `WD_<ALG>_CTX_NUM`.
//!
//! `WD_COMP_CTX_NUM` is a comma list of `<sync-comp|sync-decomp|async-comp|async-decomp>:<num>@<node>`;
//! the crypto variables use `<sync|async>:<num>@<node>`.
//!
//! ```
//! use uadk_wd_common::env::parse_ctx_num;
//! let keys = ["sync-comp", "sync-decomp", "async-comp", "async-decomp"];
//! let v = parse_ctx_num("sync-comp:2@0,async-decomp:1@0", &keys).unwrap();
//! assert_eq!((v[1].key, v[1].num), (3, 1));
//! assert!(parse_ctx_num("sync-comp:x@0", &keys).is_err());
//! ```

use std::ffi::{CStr, CString};

extern "C" {
    // glibc: getenv that returns NULL in secure-execution mode (setuid/setgid programs).
    fn secure_getenv(name: *const libc::c_char) -> *mut libc::c_char;
}

/// The value of `name`, unless unset, empty, or the process runs in secure-execution mode.
pub fn get(name: &str) -> Option<String> {
    let c = CString::new(name).ok()?;
    // SAFETY: `c` is a valid NUL-terminated string; glibc returns NULL or a pointer into
    // the environment, valid until the environment is modified; it is copied at once.
    let p = unsafe { secure_getenv(c.as_ptr()) };
    if p.is_null() {
        return None;
    }
    // SAFETY: non-NULL results of secure_getenv are NUL-terminated strings.
    let s = unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned();
    (!s.is_empty()).then_some(s)
}

/// True when `name` is set to `1` (or `yes`/`true`/`on`).
pub fn flag(name: &str) -> bool {
    matches!(
        get(name).as_deref().map(str::trim),
        Some("1" | "yes" | "true" | "on" | "YES" | "TRUE" | "ON")
    )
}

/// One `<key>:<num>@<node>` entry; `key` is the index into the accepted keys.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CtxNumEntry {
    /// Index of the key.
    pub key: usize,
    /// Number of contexts.
    pub num: u32,
    /// NUMA node.
    pub node: u32,
}

/// Parses a `WD_<ALG>_CTX_NUM` value; an error names the bad entry and the accepted keys.
pub fn parse_ctx_num(s: &str, keys: &[&str]) -> Result<Vec<CtxNumEntry>, String> {
    let mut out = Vec::new();
    for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let bad = || format!("bad entry {part:?}: expected <{}>:<num>@<node>", keys.join("|"));
        let (k, rest) = part.split_once(':').ok_or_else(bad)?;
        let (n, node) = rest.split_once('@').ok_or_else(bad)?;
        let key = keys.iter().position(|x| *x == k.trim()).ok_or_else(bad)?;
        let num: u32 = n.trim().parse().map_err(|_| bad())?;
        let node: u32 = node.trim().parse().map_err(|_| bad())?;
        if num > 1024 || node > 1024 {
            return Err(format!("{part:?}: at most 1024 contexts and node 1024"));
        }
        out.push(CtxNumEntry { key, num, node });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_rejects() {
        let keys = ["sync", "async"];
        assert_eq!(
            parse_ctx_num(" sync:1@0 , async:3@2,", &keys).unwrap(),
            vec![
                CtxNumEntry {
                    key: 0,
                    num: 1,
                    node: 0
                },
                CtxNumEntry {
                    key: 1,
                    num: 3,
                    node: 2
                }
            ]
        );
        for bad in [
            "sync:1",
            "sync@1",
            "other:1@0",
            "sync:-1@0",
            "sync:1@x",
            "sync:5000@0",
        ] {
            assert!(parse_ctx_num(bad, &keys).is_err(), "{bad}");
        }
        assert!(parse_ctx_num("", &keys).unwrap().is_empty());
    }

    #[test]
    fn unset_variable_is_none() {
        assert_eq!(get("WD_RS_TEST_CERTAINLY_UNSET_VARIABLE"), None);
        assert!(!flag("WD_RS_TEST_CERTAINLY_UNSET_VARIABLE"));
    }
}
