//! The hashes file (`README` of valkey-io/valkey-hashes): a comment header, a blank line, then one
//! line per released tarball, `hash <filename> sha256 <hex> <url>`, appended in release order.
//!
//! [`decide`] says what to do with one release's line, keeping every other byte of the file.

use valkey_bot_core::Sha256Digest;

/// The line recorded for one release file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HashLine {
    /// `valkey-9.1.1.tar.gz`.
    pub filename: String,
    /// Its SHA-256.
    pub sha256: Sha256Digest,
    /// Where it is downloaded from.
    pub url: String,
}

impl HashLine {
    /// The line as written in the file, without its newline.
    pub fn render(&self) -> String {
        format!("hash {} sha256 {} {}", self.filename, self.sha256, self.url)
    }
}

/// An entry as found in the file.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Entry<'a> {
    /// 0-based line index.
    index: usize,
    filename: &'a str,
    digest: &'a str,
}

/// What to do with the hashes file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// The line is already there with this digest: nothing to write.
    UpToDate,
    /// Write these bytes (the line appended at the end).
    Append(Vec<u8>),
    /// Write these bytes (the old line replaced in place), at the operator's explicit request.
    Replace {
        /// The new file.
        content: Vec<u8>,
        /// The digest that was recorded before.
        old_digest: String,
    },
}

/// Why the file cannot be updated. Nothing is written in any of these cases.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// The file name is recorded with a different digest: a moved tag or tampering.
    DigestChanged {
        /// The recorded digests.
        recorded: Vec<String>,
    },
    /// Replacement was asked for, but the file name is recorded more than once: a person must clean up first.
    AmbiguousReplace {
        /// How many lines name the file.
        lines: usize,
    },
    /// The file is not UTF-8 text.
    NotText,
}

/// Decides how `line` enters `file`. `replace` is the operator's explicit request to replace a
/// different recorded digest for this file name.
pub fn decide(file: &[u8], line: &HashLine, replace: bool) -> Result<Decision, Refusal> {
    let text = std::str::from_utf8(file).map_err(|_| Refusal::NotText)?;
    let entries: Vec<Entry<'_>> = text
        .split('\n')
        .enumerate()
        .filter_map(|(index, l)| parse_entry(index, l))
        .filter(|e| e.filename == line.filename)
        .collect();
    let digest = line.sha256.to_string();
    if entries.is_empty() {
        let mut content = file.to_vec();
        if !content.is_empty() && !content.ends_with(b"\n") {
            content.push(b'\n');
        }
        content.extend_from_slice(line.render().as_bytes());
        content.push(b'\n');
        return Ok(Decision::Append(content));
    }
    if entries.iter().all(|e| e.digest == digest) {
        return Ok(Decision::UpToDate);
    }
    if !replace {
        return Err(Refusal::DigestChanged {
            recorded: entries.iter().map(|e| e.digest.to_owned()).collect(),
        });
    }
    let [entry] = entries.as_slice() else {
        return Err(Refusal::AmbiguousReplace {
            lines: entries.len(),
        });
    };
    let replaced: Vec<String> = text
        .split('\n')
        .enumerate()
        .map(|(index, l)| {
            if index == entry.index {
                line.render()
            } else {
                l.to_owned()
            }
        })
        .collect();
    Ok(Decision::Replace {
        content: replaced.join("\n").into_bytes(),
        old_digest: entry.digest.to_owned(),
    })
}

/// Parses `hash <filename> sha256 <digest> <url>`; anything else (comments, blank lines) is not an entry.
fn parse_entry(index: usize, line: &str) -> Option<Entry<'_>> {
    let mut words = line.split(' ');
    match (words.next(), words.next(), words.next(), words.next()) {
        (Some("hash"), Some(filename), Some("sha256"), Some(digest)) => Some(Entry {
            index,
            filename,
            digest,
        }),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const HEADER: &str = "# Valkey release hashes\n# hash <file> sha256 <digest> <url>\n\n";
    const ZERO: &str = "0000000000000000000000000000000000000000000000000000000000000000";

    fn line(version: &str, digest_byte: u8) -> HashLine {
        HashLine {
            filename: format!("valkey-{version}.tar.gz"),
            sha256: Sha256Digest::from_bytes([digest_byte; 32]),
            url: format!("https://github.com/valkey-io/valkey/archive/refs/tags/{version}.tar.gz"),
        }
    }

    fn file(lines: &[&HashLine]) -> String {
        let unstable = format!(
            "hash valkey-unstable.tar.gz sha256 {ZERO} https://github.com/valkey-io/valkey/archive/refs/heads/unstable.tar.gz\n"
        );
        let mut text = format!("{HEADER}{unstable}");
        for l in lines {
            text.push_str(&l.render());
            text.push('\n');
        }
        text
    }

    #[test]
    fn appends_at_the_end_keeping_every_other_byte() {
        let old = line("9.1.0", 1);
        let new = line("9.1.1", 2);
        let before = file(&[&old]);
        let Ok(Decision::Append(after)) = decide(before.as_bytes(), &new, false) else {
            panic!("expected an append")
        };
        assert_eq!(String::from_utf8(after).unwrap(), file(&[&old, &new]));
    }

    #[test]
    fn adds_the_missing_final_newline_first() {
        let old = line("9.1.0", 1);
        let new = line("9.1.1", 2);
        let before = file(&[&old]);
        let glued = before.trim_end_matches('\n');
        let Ok(Decision::Append(after)) = decide(glued.as_bytes(), &new, false) else {
            panic!("expected an append")
        };
        assert_eq!(String::from_utf8(after).unwrap(), file(&[&old, &new]));
    }

    #[test]
    fn the_same_digest_is_up_to_date() {
        let old = line("9.1.1", 2);
        assert_eq!(
            decide(file(&[&old]).as_bytes(), &line("9.1.1", 2), false),
            Ok(Decision::UpToDate)
        );
    }

    #[test]
    fn a_different_digest_is_refused_without_replace() {
        let recorded = line("9.1.1", 2);
        let refusal = decide(file(&[&recorded]).as_bytes(), &line("9.1.1", 3), false).unwrap_err();
        assert_eq!(
            refusal,
            Refusal::DigestChanged {
                recorded: vec![recorded.sha256.to_string()]
            }
        );
    }

    #[test]
    fn replace_rewrites_the_line_in_place() {
        let a = line("9.1.0", 1);
        let b = line("9.1.1", 2);
        let c = line("9.0.5", 4);
        let new_b = line("9.1.1", 3);
        let Ok(Decision::Replace {
            content,
            old_digest,
        }) = decide(file(&[&a, &b, &c]).as_bytes(), &new_b, true)
        else {
            panic!("expected a replacement")
        };
        assert_eq!(String::from_utf8(content).unwrap(), file(&[&a, &new_b, &c]));
        assert_eq!(old_digest, b.sha256.to_string());
    }

    #[test]
    fn replace_refuses_when_the_file_name_is_recorded_twice() {
        let first = line("8.1.3", 1);
        let second = line("8.1.3", 2);
        let refusal =
            decide(file(&[&first, &second]).as_bytes(), &line("8.1.3", 3), true).unwrap_err();
        assert_eq!(refusal, Refusal::AmbiguousReplace { lines: 2 });
    }

    #[test]
    fn the_unstable_placeholder_is_never_touched() {
        let new = line("9.1.1", 2);
        let before = file(&[]);
        let Ok(Decision::Append(after)) = decide(before.as_bytes(), &new, false) else {
            panic!("expected an append")
        };
        let after = String::from_utf8(after).unwrap();
        assert!(
            after.starts_with(&before),
            "the placeholder and header are kept"
        );
    }

    proptest! {
        #[test]
        fn appending_keeps_the_old_file_as_a_prefix(body in "[ -~\n]{0,200}", version in 0u8..50) {
            let new = line(&format!("9.{version}.0"), 7);
            prop_assume!(!body.contains(&new.filename));
            if let Ok(Decision::Append(after)) = decide(body.as_bytes(), &new, false) {
                let after = String::from_utf8(after).unwrap();
                prop_assert!(after.starts_with(&body));
                let expected_tail = format!("{}\n", new.render());
                prop_assert!(after.ends_with(&expected_tail));
                prop_assert_eq!(after.matches(&new.filename).count(), 1);
            } else {
                prop_assert!(false, "an absent file name is always appended");
            }
        }
    }
}
