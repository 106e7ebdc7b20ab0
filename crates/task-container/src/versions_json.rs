//! `versions.json`: the object keyed by minor line (`"9.0"`, `"unstable"`, `"9.1"`) that the
//! container repository's generator reads. Keys keep their file order; a new minor line is
//! appended after the existing keys, its `debian`/`alpine` objects copied from the newest numeric
//! line. The file is rewritten the way `jq .` writes it (see [`crate::jq`]), and only when a value
//! changes, so an unchanged file keeps its bytes whatever its layout.

use crate::ContainerError;
use crate::jq::to_jq_string;
use crate::minor;
use crate::release::Release;
use serde_json::{Map, Value};
use valkey_bot_core::Version;

/// Repository path of the file.
pub const PATH: &str = "versions.json";

/// The parsed `versions.json`, keys in file order.
#[derive(Debug, Clone, PartialEq)]
pub struct VersionsJson {
    lines: Map<String, Value>,
}

/// The values of one minor line that the Dockerfiles and tags derive from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineEntry {
    /// `version`, e.g. `9.0.3`.
    pub version: String,
    /// `url`, the source archive.
    pub url: String,
    /// `sha256` of the archive.
    pub sha256: String,
    /// `debian.version`, the Debian suite, e.g. `trixie`.
    pub debian_suite: String,
    /// `alpine.version`, e.g. `3.23`.
    pub alpine_version: String,
}

/// A base image whose version [`VersionsJson::set_base_images`] changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BaseImageChange {
    /// `debian` or `alpine`.
    pub image: &'static str,
    /// The version before, e.g. `bookworm`.
    pub old: String,
    /// The version after, e.g. `trixie`.
    pub new: String,
}

/// What [`VersionsJson::apply`] did to the release's minor line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Applied {
    /// The entry already had the release's version, URL and digest.
    Unchanged,
    /// An existing entry got the release's values.
    Updated,
    /// A new minor line was appended; its `debian`/`alpine` came from `copied_from`.
    Added {
        /// The existing minor line it was copied from (the newest numeric one).
        copied_from: String,
    },
}

impl VersionsJson {
    /// Parses the file; the top level must be an object.
    pub fn parse(bytes: &[u8]) -> Result<Self, ContainerError> {
        let value: Value =
            serde_json::from_slice(bytes).map_err(|e| malformed(format!("not JSON: {e}")))?;
        match value {
            Value::Object(lines) => Ok(Self { lines }),
            _ => Err(malformed("the top level is not an object".to_owned())),
        }
    }

    /// The minor-line keys in file order.
    pub fn lines(&self) -> Vec<&str> {
        self.lines.keys().map(String::as_str).collect()
    }

    /// The entry of `line`, or `None` when the file has no such key.
    pub fn entry(&self, line: &str) -> Result<Option<LineEntry>, ContainerError> {
        let Some(value) = self.lines.get(line) else {
            return Ok(None);
        };
        let field = |path: &[&str]| -> Result<String, ContainerError> {
            let mut v = value;
            for key in path {
                v = v.get(key).ok_or_else(|| missing(line, path))?;
            }
            v.as_str()
                .map(str::to_owned)
                .ok_or_else(|| missing(line, path))
        };
        Ok(Some(LineEntry {
            version: field(&["version"])?,
            url: field(&["url"])?,
            sha256: field(&["sha256"])?,
            debian_suite: field(&["debian", "version"])?,
            alpine_version: field(&["alpine", "version"])?,
        }))
    }

    /// The newest `MAJOR.MINOR` key (never `unstable`), the line a new minor line is copied from.
    pub fn newest_numeric_line(&self) -> Option<&str> {
        self.lines
            .keys()
            .filter_map(|k| minor::parse(k).map(|n| (n, k)))
            .max()
            .map(|(_, k)| k.as_str())
    }

    /// Puts the release into its minor line's entry (appending a new line when needed).
    ///
    /// Refuses to go back to an older version, and refuses the same version with another URL or
    /// digest (a moved tag needs an operator decision).
    pub fn apply(&mut self, release: &Release) -> Result<Applied, ContainerError> {
        let line = release.version.minor_line();
        match self.entry(&line)? {
            Some(current) => self.update(&line, &current, release),
            None => self.append(&line, release),
        }
    }

    fn update(
        &mut self,
        line: &str,
        current: &LineEntry,
        release: &Release,
    ) -> Result<Applied, ContainerError> {
        let version = release.version.as_str();
        if current.version == version {
            for (field, have, want) in [
                ("url", &current.url, &release.url),
                ("sha256", &current.sha256, &release.sha256),
            ] {
                if have != want {
                    return Err(ContainerError::ConflictingEntry {
                        path: PATH.to_owned(),
                        version: version.to_owned(),
                        field,
                        current: have.clone(),
                        release: want.clone(),
                    });
                }
            }
            return Ok(Applied::Unchanged);
        }
        let parsed = Version::parse(&current.version)
            .map_err(|e| malformed(format!("entry {line:?} has an invalid \"version\": {e}")))?;
        if parsed > release.version {
            return Err(ContainerError::Downgrade {
                path: PATH.to_owned(),
                line: line.to_owned(),
                current: current.version.clone(),
                release: version.to_owned(),
            });
        }
        if let Some(Value::Object(entry)) = self.lines.get_mut(line) {
            for (key, value) in release_fields(release) {
                entry.insert(key.to_owned(), Value::String(value));
            }
        }
        Ok(Applied::Updated)
    }

    fn append(&mut self, line: &str, release: &Release) -> Result<Applied, ContainerError> {
        let source = self
            .newest_numeric_line()
            .ok_or_else(|| ContainerError::NoLineToCopy {
                path: PATH.to_owned(),
                line: line.to_owned(),
            })?
            .to_owned();
        // Validates the source entry's shape before copying from it.
        self.entry(&source)?;
        let mut entry = Map::new();
        for (key, value) in release_fields(release) {
            entry.insert(key.to_owned(), Value::String(value));
        }
        for variant in ["debian", "alpine"] {
            if let Some(value) = self.lines.get(&source).and_then(|s| s.get(variant)) {
                entry.insert(variant.to_owned(), value.clone());
            }
        }
        self.lines.insert(line.to_owned(), Value::Object(entry));
        Ok(Applied::Added {
            copied_from: source,
        })
    }

    /// Sets `line`'s `debian.version` and `alpine.version` (as `versions.sh` refreshes them from
    /// official-images), returning what changed as (field, old, new).
    pub fn set_base_images(
        &mut self,
        line: &str,
        debian: &str,
        alpine: &str,
    ) -> Result<Vec<BaseImageChange>, ContainerError> {
        let current = self.entry(line)?.ok_or_else(|| {
            malformed(format!(
                "entry {line:?} vanished before the base-image refresh"
            ))
        })?;
        let mut changes = Vec::new();
        for (field, old, new) in [
            ("debian", current.debian_suite, debian),
            ("alpine", current.alpine_version, alpine),
        ] {
            if old == new {
                continue;
            }
            if let Some(Value::Object(base)) =
                self.lines.get_mut(line).and_then(|e| e.get_mut(field))
            {
                base.insert("version".to_owned(), Value::String(new.to_owned()));
            }
            changes.push(BaseImageChange {
                image: field,
                old,
                new: new.to_owned(),
            });
        }
        Ok(changes)
    }

    /// The file as `jq .` would print it.
    pub fn to_bytes(&self) -> Result<Vec<u8>, ContainerError> {
        to_jq_string(&Value::Object(self.lines.clone()))
            .map(String::into_bytes)
            .map_err(|n| malformed(format!("number {} cannot be reprinted as jq does", n.0)))
    }
}

fn release_fields(release: &Release) -> [(&'static str, String); 3] {
    [
        ("version", release.version.as_str().to_owned()),
        ("url", release.url.clone()),
        ("sha256", release.sha256.clone()),
    ]
}

fn missing(line: &str, path: &[&str]) -> ContainerError {
    malformed(format!(
        "entry {line:?} has no string \"{}\"",
        path.join("\".\"")
    ))
}

fn malformed(reason: String) -> ContainerError {
    ContainerError::MalformedVersionsJson {
        path: PATH.to_owned(),
        reason,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = "{\n  \"9.0\": {\n    \"version\": \"9.0.1\",\n    \"url\": \"https://u/9.0.1\",\n    \"sha256\": \"s1\",\n    \"debian\": {\n      \"version\": \"trixie\"\n    },\n    \"alpine\": {\n      \"version\": \"3.23\"\n    },\n    \"extra\": []\n  },\n  \"unstable\": {\n    \"version\": \"unstable\"\n  }\n}\n";

    fn release(version: &str, url: &str, sha256: &str) -> Release {
        Release {
            version: Version::parse(version).unwrap(),
            url: url.to_owned(),
            sha256: sha256.to_owned(),
        }
    }

    #[test]
    fn updates_in_place_keeping_other_fields_and_order() {
        let mut file = VersionsJson::parse(FILE.as_bytes()).unwrap();
        assert_eq!(file.to_bytes().unwrap(), FILE.as_bytes());
        let applied = file
            .apply(&release("9.0.2", "https://u/9.0.2", "s2"))
            .unwrap();
        assert_eq!(applied, Applied::Updated);
        let expected = FILE.replace("9.0.1", "9.0.2").replace("\"s1\"", "\"s2\"");
        assert_eq!(
            String::from_utf8(file.to_bytes().unwrap()).unwrap(),
            expected
        );
        let again = file
            .apply(&release("9.0.2", "https://u/9.0.2", "s2"))
            .unwrap();
        assert_eq!(again, Applied::Unchanged);
    }

    #[test]
    fn appends_a_new_line_after_unstable_copying_the_newest_numeric_line() {
        let mut file = VersionsJson::parse(FILE.as_bytes()).unwrap();
        let applied = file
            .apply(&release("9.1.0-rc1", "https://u/r", "s3"))
            .unwrap();
        assert_eq!(
            applied,
            Applied::Added {
                copied_from: "9.0".to_owned()
            }
        );
        assert_eq!(file.lines(), ["9.0", "unstable", "9.1"]);
        let text = String::from_utf8(file.to_bytes().unwrap()).unwrap();
        assert!(text.ends_with("  },\n  \"9.1\": {\n    \"version\": \"9.1.0-rc1\",\n    \"url\": \"https://u/r\",\n    \"sha256\": \"s3\",\n    \"debian\": {\n      \"version\": \"trixie\"\n    },\n    \"alpine\": {\n      \"version\": \"3.23\"\n    }\n  }\n}\n"), "{text}");
    }

    #[test]
    fn refuses_files_that_are_not_an_object_of_lines() {
        for bad in ["[]", "", "{\"9.0\": {\"version\": 9}}"] {
            let result = VersionsJson::parse(bad.as_bytes())
                .and_then(|mut f| f.apply(&release("9.0.2", "https://u", "s")));
            assert!(
                matches!(result, Err(ContainerError::MalformedVersionsJson { .. })),
                "{bad}: {result:?}"
            );
        }
        let mut only_unstable = VersionsJson::parse(b"{\"unstable\": {}}").unwrap();
        assert!(matches!(
            only_unstable.apply(&release("9.0.0", "https://u", "s")),
            Err(ContainerError::NoLineToCopy { .. })
        ));
    }
}
