//! The entry point: from a snapshot of the container repository and a release, the commits of the
//! pull request and the image tags.
//!
//! Two steps for the caller: [`paths_to_read`] (given `versions.json`) names the files and
//! directories to read; the caller puts them into a [`RepoSnapshot`] and calls [`plan`].

use crate::ContainerError;
use crate::aliases::{self, update_aliases};
use crate::dockerfile;
use crate::tags::{ImageTags, image_tags};
use crate::unstable::refuse_unstable;
use crate::versions_json::{self, Applied, VersionsJson};
use std::collections::{BTreeMap, BTreeSet};
use valkey_bot_core::Version;

/// The image variants, each a directory under the minor line's directory.
pub const VARIANTS: [&str; 2] = ["debian", "alpine"];

/// A published release: its version, source archive URL and the archive's SHA-256.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Release {
    /// The version, e.g. `9.1.1`.
    pub version: Version,
    /// The archive URL, e.g. `https://github.com/valkey-io/valkey/archive/refs/tags/9.1.1.tar.gz`.
    pub url: String,
    /// 64 lowercase hex digits.
    pub sha256: String,
}

/// What the caller must read before calling [`plan`].
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ReadList {
    /// Files to read (all must exist), e.g. `versions.json`, `9.0/debian/Dockerfile`.
    pub files: Vec<String>,
    /// Directories whose every file (recursively) must be read, with its executable bit; only
    /// when the release starts a new minor line (the directories it is copied from).
    pub directories: Vec<String>,
}

/// One file of the repository as read by the caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnapshotFile {
    /// The file's bytes.
    pub bytes: Vec<u8>,
    /// Whether git has it as mode 100755.
    pub executable: bool,
}

/// The files of the container repository's `mainline` that the decision reads, by repo path.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RepoSnapshot {
    files: BTreeMap<String, SnapshotFile>,
}

impl RepoSnapshot {
    /// An empty snapshot.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds (or replaces) the file at `path` (e.g. `9.0/debian/docker-entrypoint.sh`).
    pub fn insert(&mut self, path: impl Into<String>, bytes: Vec<u8>, executable: bool) {
        self.files
            .insert(path.into(), SnapshotFile { bytes, executable });
    }

    /// The file at `path`, if read.
    pub fn get(&self, path: &str) -> Option<&SnapshotFile> {
        self.files.get(path)
    }

    fn require(&self, path: &str) -> Result<&SnapshotFile, ContainerError> {
        self.get(path).ok_or_else(|| ContainerError::MissingFile {
            path: path.to_owned(),
        })
    }

    /// Files below `dir`, as (path relative to `dir`, file).
    fn files_under<'a>(&'a self, dir: &str) -> impl Iterator<Item = (&'a str, &'a SnapshotFile)> {
        let prefix = format!("{dir}/");
        self.files
            .iter()
            .filter_map(move |(path, file)| Some((path.strip_prefix(&prefix)?, file)))
    }
}

/// One commit of the pull request: only files whose bytes change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedCommit {
    /// The subject line, e.g. `Update container aliases for version 9.1.0`.
    pub subject: String,
    /// New bytes by repo path.
    pub files: BTreeMap<String, Vec<u8>>,
    /// The paths in `files` to create with mode 100755 (copies of executable files, such as a new
    /// line's `docker-entrypoint.sh`); every other path keeps its mode or is created 100644.
    pub executable: BTreeSet<String>,
}

/// The decided update: zero, one or two commits, and the tags the release is published under.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContainerUpdate {
    /// `Update versions.json and Dockerfiles for version V`, then `Update container aliases for
    /// version V`, each only when it changes something; empty on a rerun.
    pub commits: Vec<PlannedCommit>,
    /// The image tags of the release.
    pub tags: ImageTags,
}

/// Names what the caller must read, given the current `versions.json`, for [`plan`].
pub fn paths_to_read(versions_json: &[u8], release: &Release) -> Result<ReadList, ContainerError> {
    validate(release)?;
    let versions = VersionsJson::parse(versions_json)?;
    let line = release.version.minor_line();
    let mut list = ReadList {
        files: vec![versions_json::PATH.to_owned(), aliases::PATH.to_owned()],
        directories: Vec::new(),
    };
    if versions.entry(&line)?.is_some() {
        list.files
            .extend(VARIANTS.map(|variant| dockerfile_path(&line, variant)));
    } else {
        let source =
            versions
                .newest_numeric_line()
                .ok_or_else(|| ContainerError::NoLineToCopy {
                    path: versions_json::PATH.to_owned(),
                    line: line.clone(),
                })?;
        list.directories
            .extend(VARIANTS.map(|variant| format!("{source}/{variant}")));
    }
    Ok(list)
}

/// Decides the commits and tags for `release` from `snapshot` (which holds what
/// [`paths_to_read`] named).
pub fn plan(snapshot: &RepoSnapshot, release: &Release) -> Result<ContainerUpdate, ContainerError> {
    validate(release)?;
    let version = release.version.as_str();
    let line = release.version.minor_line();

    let old_versions = &snapshot.require(versions_json::PATH)?.bytes;
    let mut versions = VersionsJson::parse(old_versions)?;
    let applied = versions.apply(release)?;
    let mut files = Changes::default();
    if applied != Applied::Unchanged {
        files.put(snapshot, versions_json::PATH, versions.to_bytes()?, false);
    }
    match &applied {
        Applied::Added { copied_from } => {
            for variant in VARIANTS {
                copy_variant(snapshot, release, copied_from, &line, variant, &mut files)?;
            }
        }
        Applied::Updated | Applied::Unchanged => {
            for variant in VARIANTS {
                let path = dockerfile_path(&line, variant);
                let old = &snapshot.require(&path)?.bytes;
                let new = dockerfile::substitute(&path, old, release)?;
                files.put(snapshot, &path, new, false);
            }
        }
    }

    let alias_update = update_aliases(&snapshot.require(aliases::PATH)?.bytes, &release.version)?;
    let mut alias_files = Changes::default();
    if let Some(script) = alias_update.script {
        alias_files.put(snapshot, aliases::PATH, script, false);
    }

    let entry = versions
        .entry(&line)?
        .ok_or_else(|| ContainerError::MalformedVersionsJson {
            path: versions_json::PATH.to_owned(),
            reason: format!("entry {line:?} vanished after the update"),
        })?;
    let tags = image_tags(
        version,
        &line,
        &alias_update.aliases,
        &entry.debian_suite,
        &entry.alpine_version,
    );

    let commits = [
        (
            format!("Update versions.json and Dockerfiles for version {version}"),
            files,
        ),
        (
            format!("Update container aliases for version {version}"),
            alias_files,
        ),
    ]
    .into_iter()
    .filter(|(_, changes)| !changes.files.is_empty())
    .map(|(subject, changes)| PlannedCommit {
        subject,
        files: changes.files,
        executable: changes.executable,
    })
    .collect();
    Ok(ContainerUpdate { commits, tags })
}

/// Copies `<from>/<variant>/` to `<to>/<variant>/`, substituting the release into the Dockerfile.
fn copy_variant(
    snapshot: &RepoSnapshot,
    release: &Release,
    from: &str,
    to: &str,
    variant: &str,
    changes: &mut Changes,
) -> Result<(), ContainerError> {
    let source_dir = format!("{from}/{variant}");
    snapshot.require(&dockerfile_path(from, variant))?;
    for (relative, file) in snapshot.files_under(&source_dir) {
        let target = format!("{to}/{variant}/{relative}");
        let bytes = if relative == dockerfile::FILE_NAME {
            dockerfile::substitute(&format!("{source_dir}/{relative}"), &file.bytes, release)?
        } else {
            file.bytes.clone()
        };
        changes.put(snapshot, &target, bytes, file.executable);
    }
    Ok(())
}

/// Files of one commit, keeping only those whose bytes differ from the snapshot.
#[derive(Default)]
struct Changes {
    files: BTreeMap<String, Vec<u8>>,
    executable: BTreeSet<String>,
}

impl Changes {
    fn put(&mut self, snapshot: &RepoSnapshot, path: &str, bytes: Vec<u8>, executable: bool) {
        if snapshot.get(path).is_some_and(|old| old.bytes == bytes) {
            return;
        }
        if executable {
            self.executable.insert(path.to_owned());
        }
        self.files.insert(path.to_owned(), bytes);
    }
}

fn dockerfile_path(line: &str, variant: &str) -> String {
    format!("{line}/{variant}/{}", dockerfile::FILE_NAME)
}

/// Refuses `unstable` and values that could not be written safely into the files.
fn validate(release: &Release) -> Result<(), ContainerError> {
    refuse_unstable(&release.version)?;
    let sha = &release.sha256;
    if sha.len() != 64 || !sha.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
        return Err(ContainerError::InvalidRelease {
            field: "sha256",
            value: sha.clone(),
            reason: "not 64 lowercase hex digits",
        });
    }
    let url = &release.url;
    let safe = |b: u8| b.is_ascii_graphic() && !matches!(b, b'"' | b'\'' | b'\\' | b'`' | b'$');
    // Plain HTTP only to loopback: the local GitHub sandbox of rehearsals and tests.
    let secure = url.starts_with("https://")
        || url.starts_with("http://127.0.0.1:")
        || url.starts_with("http://localhost:");
    if !secure || !url.bytes().all(safe) {
        return Err(ContainerError::InvalidRelease {
            field: "url",
            value: url.clone(),
            reason: "not an https URL of printable ASCII without quotes, backslashes, backticks or `$`",
        });
    }
    Ok(())
}
