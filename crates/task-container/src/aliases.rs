//! The `declare -A aliases=( ... )` block of `generate-stackbrew-library.sh`, which gives a minor
//! line its extra tags (`[9.1]='9 latest'`). Lines are `\t[MAJOR.MINOR]='word word'`, keys sorted
//! by version; the rest of the script is kept byte for byte.
//!
//! Rules when releasing version V of minor line K (as the maintainers apply them by hand):
//! - V is a release candidate: no change;
//! - K is already a key (a patch release): no change;
//! - K has the newest key's major and a newer minor: the newest key's value moves to K and the
//!   newest key is removed;
//! - K has a newer major than the newest key: the word `latest` is removed from the newest key's
//!   value and `[K]='MAJOR latest'` is added (also when the block is empty);
//! - K is older than the newest key (a backport line): no change.

use crate::ContainerError;
use crate::minor;
use valkey_bot_core::Version;

/// Repository path of the script holding the block.
pub const PATH: &str = "generate-stackbrew-library.sh";

const OPEN: &str = "declare -A aliases=(";
const CLOSE: &str = ")";

/// What releasing a version does to the script.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AliasUpdate {
    /// The new script bytes, or `None` when the block does not change.
    pub script: Option<Vec<u8>>,
    /// The aliases of the release's minor line after the update, e.g. `["9", "latest"]`.
    pub aliases: Vec<String>,
}

/// Applies the module's rules for releasing `version` to the script `bytes`.
pub fn update_aliases(bytes: &[u8], version: &Version) -> Result<AliasUpdate, ContainerError> {
    let mut script = AliasesScript::parse(bytes)?;
    let changed = script.apply(version);
    Ok(AliasUpdate {
        script: changed.then(|| script.to_bytes()),
        aliases: script.aliases_of(&version.minor_line()),
    })
}

/// The script split around its aliases block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AliasesScript {
    head: String,
    entries: Vec<Entry>,
    tail: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Entry {
    key: String,
    order: (u32, u32),
    words: Vec<String>,
}

impl AliasesScript {
    /// Parses the script; refuses a missing block or a line in it that is not `\t[K]='words'`.
    pub fn parse(bytes: &[u8]) -> Result<Self, ContainerError> {
        let text = std::str::from_utf8(bytes).map_err(|_| ContainerError::NotUtf8 {
            path: PATH.to_owned(),
        })?;
        let missing = || ContainerError::MissingAliasesBlock {
            path: PATH.to_owned(),
        };
        let mut offset = 0;
        let mut open_end = None;
        let mut entries = Vec::new();
        for (index, raw) in text.split_inclusive('\n').enumerate() {
            let line = raw.strip_suffix('\n').unwrap_or(raw);
            let start = offset;
            offset += raw.len();
            match open_end {
                None if line == OPEN && raw.ends_with('\n') => open_end = Some(offset),
                None => {}
                Some(_) if line == CLOSE => {
                    let head_end = open_end.ok_or_else(missing)?;
                    return Ok(Self {
                        head: text[..head_end].to_owned(),
                        entries,
                        tail: text[start..].to_owned(),
                    });
                }
                Some(_) => entries.push(parse_entry(line).ok_or_else(|| {
                    ContainerError::MalformedAlias {
                        path: PATH.to_owned(),
                        line_number: index + 1,
                        line: line.to_owned(),
                    }
                })?),
            }
        }
        Err(missing())
    }

    /// The aliases of `line` (e.g. `["9", "latest"]`), empty when it has none.
    pub fn aliases_of(&self, line: &str) -> Vec<String> {
        self.entries
            .iter()
            .find(|e| e.key == line)
            .map(|e| e.words.clone())
            .unwrap_or_default()
    }

    /// The keys in block order.
    pub fn keys(&self) -> Vec<&str> {
        self.entries.iter().map(|e| e.key.as_str()).collect()
    }

    /// Applies the module's rules for releasing `version`; returns whether the block changed.
    /// `unstable` never changes it.
    pub fn apply(&mut self, version: &Version) -> bool {
        let Some((major, minor)) = version.numbers().map(|(a, b, _)| (a, b)) else {
            return false;
        };
        let key = version.minor_line();
        if version.is_release_candidate() || self.entries.iter().any(|e| e.key == key) {
            return false;
        }
        let newest = self
            .entries
            .iter()
            .enumerate()
            .max_by_key(|(_, e)| e.order)
            .map(|(i, e)| (i, e.order));
        let words = match newest {
            Some((i, (newest_major, newest_minor)))
                if major == newest_major && minor > newest_minor =>
            {
                self.entries.remove(i).words
            }
            Some((_, (newest_major, _))) if major <= newest_major => return false,
            Some((i, _)) => {
                self.entries[i].words.retain(|w| w != "latest");
                vec![major.to_string(), "latest".to_owned()]
            }
            None => vec![major.to_string(), "latest".to_owned()],
        };
        self.entries.push(Entry {
            key,
            order: (major, minor),
            words,
        });
        self.entries.sort_by_key(|e| e.order);
        true
    }

    /// The whole script with the block written as `\t[K]='words'` lines.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = self.head.clone();
        for entry in &self.entries {
            out.push_str(&format!("\t[{}]='{}'\n", entry.key, entry.words.join(" ")));
        }
        out.push_str(&self.tail);
        out.into_bytes()
    }
}

/// Parses `\t[9.1]='9 latest'`; words are non-empty runs of `[A-Za-z0-9._-]`.
fn parse_entry(line: &str) -> Option<Entry> {
    let rest = line.strip_prefix("\t[")?;
    let (key, rest) = rest.split_once("]='")?;
    let value = rest.strip_suffix('\'')?;
    let order = minor::parse(key)?;
    let words: Vec<String> = if value.is_empty() {
        Vec::new()
    } else {
        value.split(' ').map(str::to_owned).collect()
    };
    let word_ok = |w: &String| {
        !w.is_empty()
            && w.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'_' || b == b'-')
    };
    words.iter().all(word_ok).then(|| Entry {
        key: key.to_owned(),
        order,
        words,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const SCRIPT: &str = "#!/usr/bin/env bash\nset -Eeuo pipefail\n\ndeclare -A aliases=(\n\t[8.1]='8'\n\t[9.0]='9 latest'\n)\n\nself=\"$(basename \"$BASH_SOURCE\")\"\n";

    fn v(s: &str) -> Version {
        Version::parse(s).unwrap()
    }

    fn block_after(version: &str) -> (bool, String) {
        let mut script = AliasesScript::parse(SCRIPT.as_bytes()).unwrap();
        let changed = script.apply(&v(version));
        let text = String::from_utf8(script.to_bytes()).unwrap();
        (changed, text)
    }

    fn with_block(lines: &str) -> String {
        SCRIPT.replace("\t[8.1]='8'\n\t[9.0]='9 latest'\n", lines)
    }

    #[test]
    fn update_returns_the_new_script_and_the_line_aliases() {
        let moved = update_aliases(SCRIPT.as_bytes(), &v("9.1.0")).unwrap();
        assert_eq!(
            moved.script,
            Some(with_block("\t[8.1]='8'\n\t[9.1]='9 latest'\n").into_bytes())
        );
        assert_eq!(moved.aliases, ["9", "latest"]);
        let patch = update_aliases(SCRIPT.as_bytes(), &v("8.1.5")).unwrap();
        assert_eq!((patch.script, patch.aliases), (None, vec!["8".to_owned()]));
        let candidate = update_aliases(SCRIPT.as_bytes(), &v("9.1.0-rc1")).unwrap();
        assert_eq!((candidate.script, candidate.aliases), (None, Vec::new()));
    }

    #[test]
    fn round_trips_the_script_unchanged() {
        let script = AliasesScript::parse(SCRIPT.as_bytes()).unwrap();
        assert_eq!(script.to_bytes(), SCRIPT.as_bytes());
        assert_eq!(script.keys(), ["8.1", "9.0"]);
        assert_eq!(script.aliases_of("9.0"), ["9", "latest"]);
        assert!(script.aliases_of("7.2").is_empty());
    }

    #[test]
    fn release_candidates_patches_backports_and_unstable_change_nothing() {
        for version in [
            "9.1.0-rc1",
            "10.0.0-rc2",
            "9.0.5",
            "8.1.9",
            "8.0.7",
            "7.2.3",
            "8.2.0",
            "unstable",
        ] {
            assert_eq!(
                block_after(version),
                (false, SCRIPT.to_owned()),
                "{version}"
            );
        }
    }

    #[test]
    fn a_newer_minor_of_the_newest_major_takes_its_aliases() {
        assert_eq!(
            block_after("9.1.0"),
            (true, with_block("\t[8.1]='8'\n\t[9.1]='9 latest'\n"))
        );
        assert_eq!(
            block_after("9.10.0"),
            (true, with_block("\t[8.1]='8'\n\t[9.10]='9 latest'\n"))
        );
    }

    #[test]
    fn a_newer_major_takes_latest_and_sorts_by_version() {
        assert_eq!(
            block_after("10.0.0"),
            (
                true,
                with_block("\t[8.1]='8'\n\t[9.0]='9'\n\t[10.0]='10 latest'\n")
            )
        );
    }

    #[test]
    fn an_empty_block_gets_the_first_line() {
        let empty = with_block("");
        let mut script = AliasesScript::parse(empty.as_bytes()).unwrap();
        assert!(script.apply(&v("9.0.0")));
        assert_eq!(
            script.to_bytes(),
            with_block("\t[9.0]='9 latest'\n").into_bytes()
        );
    }

    #[test]
    fn refuses_a_missing_block_or_a_malformed_line() {
        for broken in [
            SCRIPT.replace("declare -A aliases=(", "declare -A other=("),
            "#!/bin/bash\ndeclare -A aliases=(\n\t[8.1]='8'\n".to_owned(),
        ] {
            assert_eq!(
                AliasesScript::parse(broken.as_bytes()),
                Err(ContainerError::MissingAliasesBlock { path: PATH.into() })
            );
        }
        for (bad, number) in [
            (with_block("\t[8.1]='8'\n    [9.0]='9 latest'\n"), 6),
            (with_block("\t[8.1]=\"8\"\n"), 5),
            (with_block("\t[unstable]='u'\n"), 5),
            (with_block("\t[9.0]='9  latest'\n"), 5),
            (with_block("\t[9.0]='9 $(id)'\n"), 5),
            (SCRIPT.replace("\n)\n", "\n"), 7),
        ] {
            match AliasesScript::parse(bad.as_bytes()) {
                Err(ContainerError::MalformedAlias { line_number, .. }) => {
                    assert_eq!(line_number, number, "{bad}")
                }
                other => panic!("{bad}: {other:?}"),
            }
        }
    }

    proptest! {
        #[test]
        fn keeps_one_latest_and_sorted_keys(
            start in prop::collection::btree_set((1u32..12, 0u32..4), 0..4),
            releases in prop::collection::vec((1u32..12, 0u32..4, 0u32..3, any::<bool>()), 0..8),
        ) {
            let mut lines = String::new();
            let newest = start.iter().max().copied();
            for (major, minor) in &start {
                let words = if Some((*major, *minor)) == newest { format!("{major} latest") } else { String::new() };
                lines.push_str(&format!("\t[{major}.{minor}]='{words}'\n"));
            }
            let mut script = AliasesScript::parse(with_block(&lines).as_bytes()).unwrap();
            for (major, minor, patch, rc) in releases {
                let text = if rc { format!("{major}.{minor}.{patch}-rc1") } else { format!("{major}.{minor}.{patch}") };
                let before = script.clone();
                let changed = script.apply(&v(&text));
                prop_assert_eq!(changed, before != script);
                if rc { prop_assert!(!changed); }
                let reparsed = AliasesScript::parse(&script.to_bytes()).unwrap();
                prop_assert_eq!(&reparsed, &script);
                let orders: Vec<_> = script.entries.iter().map(|e| e.order).collect();
                let mut sorted = orders.clone();
                sorted.sort();
                sorted.dedup();
                prop_assert_eq!(&orders, &sorted);
                let holders: Vec<_> = script.entries.iter().filter(|e| e.words.iter().any(|w| w == "latest")).map(|e| e.order).collect();
                if !script.entries.is_empty() {
                    prop_assert_eq!(holders, vec![*sorted.last().unwrap()]);
                }
            }
        }
    }
}
