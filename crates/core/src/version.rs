//! Release versions as the Valkey project spells them: `9.1.1`, `9.1.0-rc2` or `unstable`.
//!
//! The grammar is `^([0-9]+\.[0-9]+\.[0-9]+(-rc[0-9]+)?|unstable)$`. A version ends up in file
//! paths, branch names, commit messages and Markdown, so nothing outside that grammar is ever
//! accepted, and the error for a refused input quotes it escaped.

use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

/// Longest input the parser looks at; anything longer is refused without being parsed.
pub const MAX_VERSION_LEN: usize = 40;

/// A validated Valkey release version.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Version {
    text: String,
    kind: Kind,
}

#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
enum Kind {
    Unstable,
    Release {
        major: u32,
        minor: u32,
        patch: u32,
        rc: Option<u32>,
    },
}

/// Why a string is not a [`Version`]. Its `Display` quotes the input escaped, never raw.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "invalid version {quoted}: {reason} (expected MAJOR.MINOR.PATCH, MAJOR.MINOR.PATCH-rcN or `unstable`)"
)]
pub struct VersionError {
    quoted: String,
    reason: &'static str,
}

impl VersionError {
    fn new(input: &str, reason: &'static str) -> Self {
        let shown: String = input.chars().take(MAX_VERSION_LEN).collect();
        let ellipsis = if shown.len() < input.len() { "…" } else { "" };
        Self {
            quoted: format!("\"{}\"{ellipsis}", shown.escape_default()),
            reason,
        }
    }
}

impl Version {
    /// Parses `input` by the release grammar.
    pub fn parse(input: &str) -> Result<Self, VersionError> {
        if input.len() > MAX_VERSION_LEN {
            return Err(VersionError::new(input, "too long"));
        }
        if input == "unstable" {
            return Ok(Self {
                text: input.to_owned(),
                kind: Kind::Unstable,
            });
        }
        let (numbers, rc) = match input.split_once("-rc") {
            Some((numbers, rc)) => (numbers, Some(number(input, rc)?)),
            None => (input, None),
        };
        let mut parts = numbers.split('.');
        let (Some(major), Some(minor), Some(patch), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(VersionError::new(input, "not three dot-separated numbers"));
        };
        Ok(Self {
            text: input.to_owned(),
            kind: Kind::Release {
                major: number(input, major)?,
                minor: number(input, minor)?,
                patch: number(input, patch)?,
                rc,
            },
        })
    }

    /// The version exactly as written, e.g. `9.1.0-rc2`.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Whether this is the `unstable` pseudo-version.
    pub fn is_unstable(&self) -> bool {
        self.kind == Kind::Unstable
    }

    /// Whether this is a release candidate (`-rcN`).
    pub fn is_release_candidate(&self) -> bool {
        matches!(self.kind, Kind::Release { rc: Some(_), .. })
    }

    /// The minor line, `MAJOR.MINOR` (`9.1` for `9.1.0-rc2`), or `unstable`.
    pub fn minor_line(&self) -> String {
        match self.kind {
            Kind::Unstable => self.text.clone(),
            Kind::Release { major, minor, .. } => format!("{major}.{minor}"),
        }
    }

    /// The version without its release-candidate suffix (`9.1.0` for `9.1.0-rc2`).
    pub fn base(&self) -> Version {
        match self.kind {
            Kind::Release {
                major,
                minor,
                patch,
                rc: Some(_),
            } => Version {
                text: self
                    .text
                    .split_once("-rc")
                    .map_or_else(|| self.text.clone(), |(base, _)| base.to_owned()),
                kind: Kind::Release {
                    major,
                    minor,
                    patch,
                    rc: None,
                },
            },
            _ => self.clone(),
        }
    }

    /// `(major, minor, patch)`, or `None` for `unstable`.
    pub fn numbers(&self) -> Option<(u32, u32, u32)> {
        match self.kind {
            Kind::Unstable => None,
            Kind::Release {
                major,
                minor,
                patch,
                ..
            } => Some((major, minor, patch)),
        }
    }

    /// The release-candidate number, if this is one.
    pub fn rc(&self) -> Option<u32> {
        match self.kind {
            Kind::Release { rc, .. } => rc,
            Kind::Unstable => None,
        }
    }
}

/// Parses one all-digit component; the grammar allows any number of digits, we also refuse
/// numbers that do not fit a `u32` rather than wrapping them, and leading zeros (`09.1.1` would
/// name the same release as `9.1.1` in another spelling: another branch, another concurrency
/// group).
fn number(input: &str, digits: &str) -> Result<u32, VersionError> {
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(VersionError::new(input, "a component is not a number"));
    }
    if digits.len() > 1 && digits.starts_with('0') {
        return Err(VersionError::new(input, "a component has a leading zero"));
    }
    digits
        .parse()
        .map_err(|_| VersionError::new(input, "a component is too large"))
}

impl FromStr for Version {
    type Err = VersionError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl fmt::Debug for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Version({})", self.text)
    }
}

impl Ord for Version {
    /// Release order: `9.1.0-rc1 < 9.1.0-rc2 < 9.1.0 < 9.1.1`; `unstable` sorts after every release.
    fn cmp(&self, other: &Self) -> Ordering {
        match (self.kind, other.kind) {
            (Kind::Unstable, Kind::Unstable) => Ordering::Equal,
            (Kind::Unstable, _) => Ordering::Greater,
            (_, Kind::Unstable) => Ordering::Less,
            (
                Kind::Release {
                    major: a,
                    minor: b,
                    patch: c,
                    rc: d,
                },
                Kind::Release {
                    major: w,
                    minor: x,
                    patch: y,
                    rc: z,
                },
            ) => (a, b, c)
                .cmp(&(w, x, y))
                .then_with(|| match (d, z) {
                    (None, None) => Ordering::Equal,
                    (None, Some(_)) => Ordering::Greater,
                    (Some(_), None) => Ordering::Less,
                    (Some(d), Some(z)) => d.cmp(&z),
                })
                .then_with(|| self.text.cmp(&other.text)),
        }
    }
}

impl PartialOrd for Version {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl serde::Serialize for Version {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.text)
    }
}

impl<'de> serde::Deserialize<'de> for Version {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Version::parse(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn v(s: &str) -> Version {
        Version::parse(s).expect("valid version")
    }

    #[test]
    fn accepts_the_three_shapes() {
        let final_release = v("9.1.1");
        assert_eq!(final_release.minor_line(), "9.1");
        assert!(!final_release.is_release_candidate());
        assert_eq!(final_release.numbers(), Some((9, 1, 1)));

        let rc = v("9.1.0-rc2");
        assert_eq!(rc.minor_line(), "9.1");
        assert!(rc.is_release_candidate());
        assert_eq!(rc.rc(), Some(2));
        assert_eq!(rc.base(), v("9.1.0"));
        assert_eq!(rc.base().as_str(), "9.1.0");

        let unstable = v("unstable");
        assert!(unstable.is_unstable());
        assert_eq!(unstable.minor_line(), "unstable");
        assert_eq!(unstable.base(), unstable);
    }

    #[test]
    fn refuses_everything_else_with_an_escaped_quote() {
        for bad in [
            "",
            "9.1",
            "9.1.1.1",
            "v9.1.1",
            "9.1.1-rc",
            "9.1.1-beta1",
            "9.1.1 ",
            "9..1",
            "9.1.1-rc1-rc2",
            "Unstable",
            "../9.1.1",
            "9.1.1\n",
            "9.1.1;rm -rf /",
            "99999999999.1.1",
            "09.1.1",
            "9.01.1",
            "9.1.01",
            "9.1.0-rc02",
            "00.1.1",
        ] {
            assert!(Version::parse(bad).is_err(), "accepted {bad:?}");
        }
        let zero = Version::parse("9.01.1").unwrap_err().to_string();
        assert!(zero.contains("leading zero"), "{zero}");
        assert_eq!(v("0.0.0-rc0").numbers(), Some((0, 0, 0)));
        assert_eq!(v("10.0.10").numbers(), Some((10, 0, 10)));
        let message = Version::parse("9.1.1\n$(id)").unwrap_err().to_string();
        assert!(message.contains(r#""9.1.1\n$(id)""#), "{message}");
        assert!(!message.contains('\n'), "{message}");
        let long = Version::parse(&"1".repeat(1000)).unwrap_err().to_string();
        assert!(long.len() < 200, "{long}");
        assert!(long.contains("too long"));
    }

    #[test]
    fn orders_releases_and_candidates() {
        let mut versions: Vec<Version> = [
            "unstable",
            "9.1.1",
            "9.1.0",
            "9.1.0-rc2",
            "9.1.0-rc10",
            "8.1.4",
            "9.1.0-rc1",
        ]
        .into_iter()
        .map(v)
        .collect();
        versions.sort();
        let sorted: Vec<&str> = versions.iter().map(Version::as_str).collect();
        assert_eq!(
            sorted,
            [
                "8.1.4",
                "9.1.0-rc1",
                "9.1.0-rc2",
                "9.1.0-rc10",
                "9.1.0",
                "9.1.1",
                "unstable"
            ]
        );
    }

    proptest! {
        #[test]
        fn no_input_panics(input in ".{0,64}") {
            let _ = Version::parse(&input);
        }

        #[test]
        fn accepted_versions_use_only_the_grammar_alphabet(input in "[0-9.a-z\\-/ ;$\n]{0,20}") {
            if let Ok(version) = Version::parse(&input) {
                let text = version.as_str();
                let rest = text.replace("-rc", "");
                prop_assert!(
                    text == "unstable" || rest.bytes().all(|b| b.is_ascii_digit() || b == b'.'),
                    "accepted {text:?}"
                );
                let components = text.split(['.', '-']).map(|c| c.trim_start_matches("rc"));
                for component in components.filter(|c| *c != "unstable") {
                    prop_assert!(component == "0" || !component.starts_with('0'), "accepted {text:?}");
                }
                prop_assert_eq!(version.to_string(), input);
            }
        }

        #[test]
        fn well_formed_versions_round_trip(a in 0u32..100, b in 0u32..100, c in 0u32..100, rc in proptest::option::of(0u32..20)) {
            let text = match rc { Some(rc) => format!("{a}.{b}.{c}-rc{rc}"), None => format!("{a}.{b}.{c}") };
            let version = Version::parse(&text).expect("grammar accepts it");
            prop_assert_eq!(version.minor_line(), format!("{a}.{b}"));
            prop_assert_eq!(version.is_release_candidate(), rc.is_some());
        }
    }
}
