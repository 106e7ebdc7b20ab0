//! Minor-line keys (`9.1`) as used in `versions.json` and the aliases block, ordered as versions.

/// Parses a `MAJOR.MINOR` key; `None` for anything else (such as `unstable`).
pub(crate) fn parse(key: &str) -> Option<(u32, u32)> {
    let (major, minor) = key.split_once('.')?;
    Some((number(major)?, number(minor)?))
}

fn number(digits: &str) -> Option<u32> {
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::parse;

    #[test]
    fn parses_only_major_dot_minor() {
        assert_eq!(parse("9.1"), Some((9, 1)));
        assert_eq!(parse("10.0"), Some((10, 0)));
        assert!(parse("9.10") > parse("9.9"));
        for bad in ["unstable", "9", "9.1.1", "+9.1", "9.", ".1", "9.x", ""] {
            assert_eq!(parse(bad), None, "{bad}");
        }
    }
}
