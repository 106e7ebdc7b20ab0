//! The entry point: from a snapshot of the container repository, the base images' manifests and
//! bashbrew's helper functions, the commits of the pull request and the image tags, exactly as
//! the repository's own `update.sh <line>` (= `versions.sh <line>` + `apply-templates.sh <line>`)
//! would leave the files.
//!
//! Two steps for the caller: [`Planner::new`] parses `versions.json` (once) and names, in
//! [`Planner::to_read`], the files and directories to read; the caller puts them into a
//! [`RepoSnapshot`], reads the [`External`] inputs and calls [`Planner::plan`].
//!
//! What [`Planner::plan`] does for the release's line:
//!
//! 1. sets `version`/`url`/`sha256` (a new line is appended, its base images copied from the
//!    newest numeric line first);
//! 2. refreshes `debian.version` / `alpine.version` from official-images' `latest` entries;
//! 3. removes every configured `<line>/<variant>/` and renders it afresh ([`crate::render`]);
//!    other lines are untouched;
//! 4. updates the aliases block of `generate-stackbrew-library.sh`.
//!
//! It also re-renders the line from the `versions.json` *before* the change: when that does not
//! reproduce the committed files, the templates changed since the line's last release and the
//! update reports the [`Drift`].

use crate::ContainerError;
use crate::aliases::{self, update_aliases};
use crate::official_images;
use crate::release::{Release, validate};
use crate::render::{RenderInputs, Variant, render_line, unrendered_variants, variants_of};
use crate::tags::{ImageTags, image_tags};
use crate::versions_json::{self, Applied, BaseImageChange, VersionsJson};
use bytes::Bytes;
use std::collections::BTreeMap;
use valkey_bot_core::plan::{FileEdit, PlannedCommit};

/// The included module the templates name `valkey-sbom`, at the repository's root.
pub const VALKEY_SBOM_PATH: &str = "valkey-sbom.jq";
/// The entrypoint `apply-templates.sh` copies into every variant directory.
pub const ENTRYPOINT_PATH: &str = "docker-entrypoint.sh";

/// What the caller must read before calling [`Planner::plan`].
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ReadList {
    /// Files to read (all must exist), e.g. `Dockerfile.template`, `valkey-sbom.jq`.
    pub files: Vec<String>,
    /// Directories whose every file (recursively) is read, with its executable bit; a
    /// directory that does not exist (a new line) is simply empty.
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

    fn text(&self, path: &str) -> Result<&str, ContainerError> {
        std::str::from_utf8(&self.require(path)?.bytes).map_err(|_| ContainerError::NotUtf8 {
            path: path.to_owned(),
        })
    }

    /// Files below `dir`, by full path.
    fn files_under<'a>(&'a self, dir: &str) -> impl Iterator<Item = (&'a str, &'a SnapshotFile)> {
        let prefix = format!("{dir}/");
        self.files
            .iter()
            .filter(move |(path, _)| path.starts_with(&prefix))
            .map(|(path, file)| (path.as_str(), file))
    }
}

/// A text read from outside the container repository, with the name errors use for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamedText {
    /// Where it came from, e.g. `docker-library/official-images:library/debian`.
    pub name: String,
    /// Its contents.
    pub text: String,
}

/// The inputs that do not live in the container repository.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct External {
    /// bashbrew's `scripts/template-helper-functions.jq` (included as
    /// `.template-helper-functions`).
    pub helper_functions: String,
    /// official-images' `library/debian` manifest.
    pub debian_manifest: NamedText,
    /// official-images' `library/alpine` manifest.
    pub alpine_manifest: NamedText,
}

/// How far re-rendering the line *before* the change is from its committed files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Drift {
    /// The line is new: nothing to compare.
    NewLine,
    /// The committed files are exactly what the templates render.
    None,
    /// The templates render something else than what is committed.
    Differs {
        /// Files that differ, are missing or are extra.
        files: usize,
        /// Lines present on one side only (counted as a multiset), over those files.
        lines: usize,
    },
    /// The old values no longer render (e.g. a Debian release the template dropped).
    RenderFailed(String),
}

/// The decided update: zero, one or two commits, the image tags, and what the PR body reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContainerUpdate {
    /// `Update versions.json and Dockerfiles for version V`, then `Update container aliases for
    /// version V`, each only when it changes something; empty on a rerun. Each edit carries the
    /// bytes the snapshot had (`before`) and the file's mode.
    pub commits: Vec<PlannedCommit>,
    /// The image tags of the release.
    pub tags: ImageTags,
    /// The line's base images that the refresh changed.
    pub base_images: Vec<BaseImageChange>,
    /// The line's `debian.version` and `alpine.version` after the update.
    pub base_versions: (String, String),
    /// The drift check's result.
    pub drift: Drift,
}

/// `versions.json` parsed once, and the release it is planned for.
#[derive(Debug, Clone)]
pub struct Planner {
    release: Release,
    line: String,
    versions: VersionsJson,
    newest: Option<String>,
    variants: Vec<Variant>,
}

impl Planner {
    /// Parses `versions.json` for `release`, rendering `variants`.
    pub fn new(
        versions_json: &[u8],
        release: &Release,
        variants: &[Variant],
    ) -> Result<Self, ContainerError> {
        validate(release)?;
        let versions = VersionsJson::parse(versions_json)?;
        let newest = versions.newest_numeric_line().map(str::to_owned);
        Ok(Self {
            release: release.clone(),
            line: release.version.minor_line(),
            versions,
            newest,
            variants: variants.to_vec(),
        })
    }

    /// What the caller reads into the snapshot.
    pub fn to_read(&self) -> ReadList {
        let mut files = vec![
            versions_json::PATH.to_owned(),
            aliases::PATH.to_owned(),
            VALKEY_SBOM_PATH.to_owned(),
            ENTRYPOINT_PATH.to_owned(),
        ];
        for variant in &self.variants {
            if !files.contains(&variant.template) {
                files.push(variant.template.clone());
            }
        }
        let mut directories = vec![self.line.clone()];
        directories.extend(self.newest.iter().filter(|n| **n != self.line).cloned());
        ReadList { files, directories }
    }

    /// Decides the commits and tags from `snapshot` (which holds what [`Self::to_read`] named).
    pub fn plan(
        mut self,
        snapshot: &RepoSnapshot,
        external: &External,
    ) -> Result<ContainerUpdate, ContainerError> {
        let line = self.line.clone();
        if let Some(newest) = &self.newest {
            let listing = snapshot.files_under(newest).map(|(path, _)| path);
            if let Some(directory) = unrendered_variants(listing, &self.variants, newest).pop() {
                return Err(ContainerError::UnrenderedVariant {
                    line: newest.clone(),
                    directory,
                    configured: self
                        .variants
                        .iter()
                        .map(|v| v.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", "),
                });
            }
        }
        let debian = official_images::debian_codename(
            &external.debian_manifest.name,
            &external.debian_manifest.text,
        )?;
        let alpine = official_images::alpine_version(
            &external.alpine_manifest.name,
            &external.alpine_manifest.text,
        )?;
        let old_versions = snapshot.require(versions_json::PATH)?.bytes.clone();
        let applied = self.versions.apply(&self.release)?;
        let base_images = self.versions.set_base_images(&line, &debian, &alpine)?;
        let new_versions = self.versions.to_bytes()?;

        let mut templates = BTreeMap::new();
        for variant in &self.variants {
            templates.insert(variant.template.as_str(), snapshot.text(&variant.template)?);
        }
        let entrypoint = snapshot.require(ENTRYPOINT_PATH)?;
        let mut inputs = RenderInputs {
            templates,
            valkey_sbom: snapshot.text(VALKEY_SBOM_PATH)?,
            helper_functions: &external.helper_functions,
            entrypoint: (&entrypoint.bytes, entrypoint.executable),
            versions_json: &new_versions,
        };
        let rendered = render_line(&inputs, &self.variants, &line)?;

        let mut files = Changes::default();
        if applied != Applied::Unchanged || !base_images.is_empty() {
            files.put_keeping_mode(snapshot, versions_json::PATH, new_versions.clone());
        }
        for variant in variants_of(&self.variants, &line) {
            for (path, _) in snapshot.files_under(&format!("{line}/{}", variant.name)) {
                if !rendered.contains_key(path) {
                    files.delete(snapshot, path);
                }
            }
        }
        for (path, (bytes, executable)) in &rendered {
            files.put(snapshot, path, bytes.clone(), *executable);
        }

        let drift = if matches!(applied, Applied::Added { .. }) {
            Drift::NewLine
        } else {
            inputs.versions_json = &old_versions;
            match render_line(&inputs, &self.variants, &line) {
                Ok(before) => drift(snapshot, &self.variants, &line, &before),
                Err(e) => Drift::RenderFailed(e.to_string()),
            }
        };

        let version = self.release.version.as_str();
        let alias_update = update_aliases(
            &snapshot.require(aliases::PATH)?.bytes,
            &self.release.version,
        )?;
        let mut alias_files = Changes::default();
        if let Some(script) = alias_update.script {
            alias_files.put_keeping_mode(snapshot, aliases::PATH, script);
        }
        let tags = image_tags(version, &line, &alias_update.aliases, &debian, &alpine);

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
        .filter(|(_, changes)| !changes.edits.is_empty())
        .map(|(message, changes)| PlannedCommit {
            message,
            edits: changes.edits.into_values().collect(),
        })
        .collect();
        Ok(ContainerUpdate {
            commits,
            tags,
            base_images,
            base_versions: (debian, alpine),
            drift,
        })
    }
}

/// Compares a rendering of `line` with the committed files of its rendered variant directories.
fn drift(
    snapshot: &RepoSnapshot,
    variants: &[Variant],
    line: &str,
    rendered: &BTreeMap<String, (Vec<u8>, bool)>,
) -> Drift {
    let differing = differing_files(snapshot, variants, line, rendered);
    if differing.is_empty() {
        Drift::None
    } else {
        Drift::Differs {
            files: differing.len(),
            lines: differing.iter().map(|(_, lines)| lines).sum(),
        }
    }
}

/// The files of `line`'s rendered variant directories whose committed bytes differ from
/// `rendered` (or that only one side has), each with the number of lines present on one side
/// only; in path order.
pub(crate) fn differing_files(
    snapshot: &RepoSnapshot,
    variants: &[Variant],
    line: &str,
    rendered: &BTreeMap<String, (Vec<u8>, bool)>,
) -> Vec<(String, usize)> {
    let mut committed: BTreeMap<&str, &[u8]> = BTreeMap::new();
    for variant in variants_of(variants, line) {
        for (path, file) in snapshot.files_under(&format!("{line}/{}", variant.name)) {
            committed.insert(path, &file.bytes);
        }
    }
    let mut paths: Vec<&str> = committed.keys().copied().collect();
    paths.extend(rendered.keys().map(String::as_str));
    paths.sort_unstable();
    paths.dedup();
    let mut differing = Vec::new();
    for path in paths {
        let old = committed.get(path).copied().unwrap_or_default();
        let new = rendered
            .get(path)
            .map(|(b, _)| b.as_slice())
            .unwrap_or_default();
        if old != new {
            differing.push((path.to_owned(), lines_on_one_side(old, new)));
        }
    }
    differing
}

/// How many lines of `a` and `b` have no counterpart on the other side (multiset difference).
fn lines_on_one_side(a: &[u8], b: &[u8]) -> usize {
    let mut counts: BTreeMap<&[u8], isize> = BTreeMap::new();
    for line in a.split(|&c| c == b'\n') {
        *counts.entry(line).or_default() += 1;
    }
    for line in b.split(|&c| c == b'\n') {
        *counts.entry(line).or_default() -= 1;
    }
    counts.values().map(|n| n.unsigned_abs()).sum()
}

/// The edits of one commit by path, keeping only files whose bytes differ from the snapshot.
#[derive(Default)]
struct Changes {
    edits: BTreeMap<String, FileEdit>,
}

impl Changes {
    /// Records `path`'s new bytes and mode; nothing when the snapshot has both already.
    fn put(&mut self, snapshot: &RepoSnapshot, path: &str, bytes: Vec<u8>, executable: bool) {
        let old = snapshot.get(path);
        if old.is_some_and(|old| old.bytes == bytes && old.executable == executable) {
            return;
        }
        self.edits.insert(
            path.to_owned(),
            FileEdit {
                path: path.to_owned(),
                before: old.map(|file| Bytes::from(file.bytes.clone())),
                after: Some(Bytes::from(bytes)),
                executable,
            },
        );
    }

    /// Records `path`'s new bytes, keeping the mode the snapshot has it with (an edited file).
    fn put_keeping_mode(&mut self, snapshot: &RepoSnapshot, path: &str, bytes: Vec<u8>) {
        let executable = snapshot.get(path).is_some_and(|file| file.executable);
        self.put(snapshot, path, bytes, executable);
    }

    /// Records the removal of `path` (a file of a variant directory the rendering does not make).
    fn delete(&mut self, snapshot: &RepoSnapshot, path: &str) {
        let old = snapshot.get(path);
        self.edits.insert(
            path.to_owned(),
            FileEdit {
                path: path.to_owned(),
                before: old.map(|file| Bytes::from(file.bytes.clone())),
                after: None,
                executable: old.is_some_and(|file| file.executable),
            },
        );
    }
}
