//! Repository names (`owner/name`), validated before they reach a URL or a path.

use std::fmt;
use std::str::FromStr;

/// A GitHub repository, `owner/name`.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RepoId {
    owner: String,
    name: String,
}

/// Why a string is not an `owner/name` repository.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "invalid repository {quoted}: expected `owner/name` made of letters, digits, `-`, `_` and `.`"
)]
pub struct RepoIdError {
    quoted: String,
}

impl RepoId {
    /// Parses `owner/name`.
    pub fn parse(text: &str) -> Result<Self, RepoIdError> {
        let error = || RepoIdError {
            quoted: format!(
                "\"{}\"",
                text.chars().take(100).collect::<String>().escape_default()
            ),
        };
        let (owner, name) = text.split_once('/').ok_or_else(error)?;
        let owner_ok = valid_part(owner, |b| b.is_ascii_alphanumeric() || b == b'-');
        let name_ok = valid_part(name, |b| {
            b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.')
        }) && name != "."
            && name != "..";
        if !(owner_ok && name_ok) {
            return Err(error());
        }
        Ok(Self {
            owner: owner.to_owned(),
            name: name.to_owned(),
        })
    }

    /// The owner (user or organization).
    pub fn owner(&self) -> &str {
        &self.owner
    }

    /// The repository name without its owner.
    pub fn name(&self) -> &str {
        &self.name
    }
}

fn valid_part(part: &str, allowed: impl Fn(u8) -> bool) -> bool {
    (1..=100).contains(&part.len()) && part.bytes().all(allowed)
}

impl FromStr for RepoId {
    type Err = RepoIdError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl fmt::Display for RepoId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.owner, self.name)
    }
}

impl fmt::Debug for RepoId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RepoId({self})")
    }
}

impl serde::Serialize for RepoId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for RepoId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Self::parse(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_owner_and_name() {
        let repo = RepoId::parse("valkey-io/valkey-io.github.io").expect("valid");
        assert_eq!(
            (repo.owner(), repo.name()),
            ("valkey-io", "valkey-io.github.io")
        );
        assert_eq!(repo.to_string(), "valkey-io/valkey-io.github.io");
    }

    #[test]
    fn refuses_paths_and_urls() {
        for bad in [
            "valkey", "a/b/c", "../x", "a/..", "a/.", "a b/c", "a/b?c", "/b", "a/", "a_b/c",
        ] {
            assert!(RepoId::parse(bad).is_err(), "accepted {bad}");
        }
    }
}
