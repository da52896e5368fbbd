//! File names as bytes: suffixes, names stored in gzip headers, and names printed in
//! `sha256sum` format. Nothing here goes through UTF-8, so names that are not UTF-8 keep
//! every byte and two different names never map to one output.

use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Path, PathBuf};

/// `path` with `suffix` appended (bytes).
///
/// ```ignore
/// assert_eq!(with_suffix(Path::new("a\xff"), OsStr::new(".gz")), "a\xff.gz");
/// ```
pub fn with_suffix(path: &Path, suffix: &OsStr) -> PathBuf {
    let mut v = path.as_os_str().as_bytes().to_vec();
    v.extend_from_slice(suffix.as_bytes());
    PathBuf::from(OsString::from_vec(v))
}

/// True when the file name (last component) of `path` ends with `suffix` and has more
/// before it.
pub fn has_suffix(path: &Path, suffix: &OsStr) -> bool {
    let name = path.file_name().map_or(&[][..], |n| n.as_bytes());
    let s = suffix.as_bytes();
    !s.is_empty() && name.len() > s.len() && name.ends_with(s)
}

/// The name `path` decompresses to: `suffix` removed, or `.tgz`/`.taz` turned into `.tar`
/// for gzip (as gzip does); `None` when no known suffix ends the name.
pub fn strip_suffix(path: &Path, suffixes: &[&OsStr], gzip: bool) -> Option<PathBuf> {
    let full = path.as_os_str().as_bytes();
    let name_len = path.file_name().map_or(0, |n| n.as_bytes().len());
    for s in suffixes {
        let s = s.as_bytes();
        if !s.is_empty() && name_len > s.len() && full.ends_with(s) {
            return Some(PathBuf::from(OsString::from_vec(
                full[..full.len() - s.len()].to_vec(),
            )));
        }
    }
    if gzip {
        for tar in [&b".tgz"[..], b".taz"] {
            if name_len > tar.len() && full.ends_with(tar) {
                let mut v = full[..full.len() - tar.len()].to_vec();
                v.extend_from_slice(b".tar");
                return Some(PathBuf::from(OsString::from_vec(v)));
            }
        }
    }
    None
}

/// The name stored in a gzip header, made safe to use as an output name: only the last
/// path component, and `None` for an empty name, `.` or `..`.
pub fn header_name(stored: &[u8]) -> Option<&OsStr> {
    let base = stored.rsplit(|&b| b == b'/').next().unwrap_or(stored);
    match base {
        b"" | b"." | b".." => None,
        b => Some(OsStr::from_bytes(b)),
    }
}

/// A file name in a checksum line as GNU coreutils 9 writes it: a name containing `\`,
/// newline or carriage return is written escaped (`\\`, `\n`, `\r`) and the line then
/// starts with a backslash. Returns the (possibly escaped) name bytes and whether it was.
pub fn checksum_name(name: &OsStr) -> (Vec<u8>, bool) {
    let b = name.as_bytes();
    if !b.iter().any(|c| matches!(c, b'\\' | b'\n' | b'\r')) {
        return (b.to_vec(), false);
    }
    let mut v = Vec::with_capacity(b.len() + 4);
    for &c in b {
        match c {
            b'\\' => v.extend_from_slice(b"\\\\"),
            b'\n' => v.extend_from_slice(b"\\n"),
            b'\r' => v.extend_from_slice(b"\\r"),
            c => v.push(c),
        }
    }
    (v, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(b: &[u8]) -> PathBuf {
        PathBuf::from(OsStr::from_bytes(b))
    }

    #[test]
    fn non_utf8_names_keep_every_byte() {
        let a = with_suffix(&p(b"x\xff"), OsStr::new(".gz"));
        let b = with_suffix(&p(b"x\xfe"), OsStr::new(".gz"));
        assert_ne!(a, b);
        assert_eq!(a.as_os_str().as_bytes(), b"x\xff.gz");
        let gz = [OsStr::new(".gz")];
        assert_eq!(strip_suffix(&a, &gz, true).unwrap(), p(b"x\xff"));
    }

    #[test]
    fn suffixes_are_matched_on_the_file_name() {
        let gz = [OsStr::new(".gz")];
        assert!(has_suffix(Path::new("d/a.gz"), OsStr::new(".gz")));
        assert!(!has_suffix(Path::new("d/.gz"), OsStr::new(".gz")));
        assert!(strip_suffix(Path::new("dir.gz/.gz"), &gz, true).is_none());
        assert_eq!(
            strip_suffix(Path::new("a.tgz"), &gz, true).unwrap(),
            Path::new("a.tar")
        );
        assert!(strip_suffix(Path::new("a.tgz"), &gz, false).is_none());
        assert!(strip_suffix(Path::new("a.txt"), &gz, true).is_none());
    }

    #[test]
    fn stored_names_lose_their_directories() {
        assert_eq!(header_name(b"/etc/passwd"), Some(OsStr::new("passwd")));
        assert_eq!(header_name(b"../x"), Some(OsStr::new("x")));
        assert_eq!(header_name(b".."), None);
        assert_eq!(header_name(b"a/"), None);
        assert_eq!(header_name(b""), None);
    }

    #[test]
    fn checksum_names_escape_like_coreutils() {
        assert_eq!(checksum_name(OsStr::new("plain")), (b"plain".to_vec(), false));
        assert_eq!(checksum_name(OsStr::new("a\nb")), (b"a\\nb".to_vec(), true));
        assert_eq!(checksum_name(OsStr::new("c\\d")), (b"c\\\\d".to_vec(), true));
        assert_eq!(checksum_name(OsStr::new("e\rf")), (b"e\\rf".to_vec(), true));
    }
}
