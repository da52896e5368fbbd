//! Byte sizes on the command line: `1048576`, `64K`, `1M`, `2G`, `1MiB`, `1MB`.
//!
//! As in coreutils: a bare suffix or `…iB` is a power of 1024 (`K`, `M`, `G`, `T`, `P`,
//! `E`), `…B` a power of 1000 (`KB`, `MB`, …). Case is ignored for the letter.

/// Parses a size; the error message names what was expected, so clap can prefix the flag.
///
/// ```ignore
/// assert_eq!(parse_size("1M"), Ok(1 << 20));
/// assert_eq!(parse_size("1MB"), Ok(1_000_000));
/// ```
pub fn parse_size(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let digits = t.bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 {
        return Err(format!(
            "'{s}' is not a size: use a number of bytes with an optional K, M, G, T suffix (e.g. 512M)"
        ));
    }
    let (num, unit) = t.split_at(digits);
    let n: u64 = num
        .parse()
        .map_err(|_| format!("'{s}' is too large (at most {} bytes)", u64::MAX))?;
    let unit = unit.trim();
    let mult: u64 = if unit.is_empty() {
        1
    } else {
        let (letter, rest) = unit.split_at(1);
        let power = match letter.to_ascii_uppercase().as_str() {
            "B" if rest.is_empty() => 0,
            "K" => 1,
            "M" => 2,
            "G" => 3,
            "T" => 4,
            "P" => 5,
            "E" => 6,
            _ => {
                return Err(format!(
                    "'{s}': unknown unit '{unit}' (use K, M, G, T, P, E, KB, KiB, ...)"
                ))
            }
        };
        let base: u64 = match rest {
            "" | "iB" | "ib" => 1024,
            "B" | "b" => 1000,
            _ => {
                return Err(format!(
                    "'{s}': unknown unit '{unit}' (use K, M, G, T, P, E, KB, KiB, ...)"
                ))
            }
        };
        base.pow(power)
    };
    n.checked_mul(mult)
        .ok_or_else(|| format!("'{s}' is too large (at most {} bytes)", u64::MAX))
}

#[cfg(test)]
mod tests {
    use super::parse_size;

    #[test]
    fn suffixes_follow_coreutils() {
        assert_eq!(parse_size("0"), Ok(0));
        assert_eq!(parse_size("4096"), Ok(4096));
        assert_eq!(parse_size("64k"), Ok(64 << 10));
        assert_eq!(parse_size("1M"), Ok(1 << 20));
        assert_eq!(parse_size("1MiB"), Ok(1 << 20));
        assert_eq!(parse_size("1MB"), Ok(1_000_000));
        assert_eq!(parse_size("2G"), Ok(2 << 30));
        assert_eq!(parse_size("3 T"), Ok(3 << 40));
        assert_eq!(parse_size("10B"), Ok(10));
        assert_eq!(parse_size("15E"), Ok(15 << 60));
    }

    #[test]
    fn bad_sizes_are_errors_that_say_what_to_write() {
        for bad in ["", "M", "-1", "1X", "1Mx", "1.5G"] {
            let e = parse_size(bad).unwrap_err();
            assert!(e.contains("size") || e.contains("unit"), "{bad}: {e}");
        }
        assert!(parse_size("16E").unwrap_err().contains("too large"));
        assert!(parse_size("99999999999999999999")
            .unwrap_err()
            .contains("too large"));
    }
}
