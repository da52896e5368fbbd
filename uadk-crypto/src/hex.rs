//! Hex text for keys, IVs, AAD and tags on the command line, and for printing digests.

use crate::error::{Error, Result};

/// Decodes hex (upper or lower case; an optional `0x` prefix; `:` or whitespace between
/// bytes is ignored). `what` names the argument in the error.
///
/// # Errors
/// [`Error::Hex`] for an odd number of digits or a non-hex character.
///
/// ```
/// assert_eq!(uadk_crypto::hex::decode("key", "0x0aFF").unwrap(), vec![0x0a, 0xff]);
/// assert!(uadk_crypto::hex::decode("key", "abc").is_err());
/// ```
pub fn decode(what: &str, text: &str) -> Result<Vec<u8>> {
    let t = text.trim();
    let t = t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")).unwrap_or(t);
    let digits: Vec<u8> = t
        .bytes()
        .filter(|b| !b.is_ascii_whitespace() && *b != b':')
        .collect();
    if !digits.len().is_multiple_of(2) {
        return Err(Error::Hex {
            what: what.to_string(),
            reason: format!("{} hex digits is an odd number", digits.len()),
        });
    }
    let val = |b: u8| -> Result<u8> {
        match b {
            b'0'..=b'9' => Ok(b - b'0'),
            b'a'..=b'f' => Ok(b - b'a' + 10),
            b'A'..=b'F' => Ok(b - b'A' + 10),
            _ => Err(Error::Hex {
                what: what.to_string(),
                reason: format!("'{}' is not a hex digit", char::from(b).escape_default()),
            }),
        }
    };
    digits
        .chunks(2)
        .map(|p| Ok(val(p[0])? << 4 | val(p[1])?))
        .collect()
}

/// Encodes bytes as lower-case hex.
///
/// ```
/// assert_eq!(uadk_crypto::hex::encode(&[0xde, 0xad]), "dead");
/// ```
pub fn encode(bytes: &[u8]) -> String {
    const D: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(char::from(D[usize::from(b >> 4)]));
        s.push(char::from(D[usize::from(b & 15)]));
    }
    s
}
