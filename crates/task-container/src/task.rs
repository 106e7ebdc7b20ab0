//! The `container` task: reads the container repository at the head of its branch, decides the
//! release's changes with [`crate::plan`], and returns them as one pull request of (at most) two
//! commits. It never downloads anything: the archive URL and digest come from the checksums task.
//!
//! File modes come from one listing of the repository's tree (the contents API reports none):
//! rendered files take the mode `apply-templates.sh` gives them (`docker-entrypoint.sh` keeps the
//! root copy's). Besides the container repository it reads two public repositories, through the
//! same API: bashbrew's helper functions at the pinned commit and official-images' manifests
//! (see [`ContainerSettings`]).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;
use futures::{StreamExt, TryStreamExt};
use serde::Deserialize;
use valkey_bot_core::audit::{Audit, AuditContext};
use valkey_bot_core::github::{RepoRead, dir_prefix};
use valkey_bot_core::outputs::SourceArchive;
use valkey_bot_core::task::FactoryOf;
use valkey_bot_core::{Plan, RepoId, Task, TaskContext, TaskError};

use crate::plan::{ContainerUpdate, Drift, External, NamedText, Planner, RepoSnapshot};
use crate::release::Release;
use crate::render::Variant;
use crate::versions_json;

/// The task's `settings` in `tasks.toml` (`[tasks.container.settings]`); every key has a
/// default matching valkey-container today, and `check-config` validates them all.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct ContainerSettings {
    /// The variants `apply-templates.sh` renders, in its order.
    #[serde(default = "Variant::defaults")]
    pub variants: Vec<Variant>,
    /// Where the base images' current versions are read.
    #[serde(default)]
    pub official_images: OfficialImages,
    /// Where bashbrew's helper functions are read.
    #[serde(default)]
    pub helper_functions: HelperFunctions,
}

/// docker-library/official-images: the manifests `versions.sh` reads the base images from.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct OfficialImages {
    /// The repository, `docker-library/official-images`.
    pub repository: String,
    /// The branch (or commit) read, `master`.
    pub reference: String,
    /// The Debian manifest's path, `library/debian`.
    pub debian: String,
    /// The Alpine manifest's path, `library/alpine`.
    pub alpine: String,
}

impl Default for OfficialImages {
    fn default() -> Self {
        Self {
            repository: "docker-library/official-images".to_owned(),
            reference: "master".to_owned(),
            debian: "library/debian".to_owned(),
            alpine: "library/alpine".to_owned(),
        }
    }
}

/// docker-library/bashbrew's `template-helper-functions.jq`, which `apply-templates.sh` fetches
/// at a pinned commit and the container repository does not commit.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct HelperFunctions {
    /// The repository, `docker-library/bashbrew`.
    pub repository: String,
    /// The pinned commit (40 hex digits).
    pub commit: String,
    /// The file's path, `scripts/template-helper-functions.jq`.
    pub path: String,
}

impl Default for HelperFunctions {
    fn default() -> Self {
        Self {
            repository: "docker-library/bashbrew".to_owned(),
            commit: "08c926140ad0af22de58c2a2656afda58082ba3e".to_owned(),
            path: "scripts/template-helper-functions.jq".to_owned(),
        }
    }
}

impl ContainerSettings {
    /// Why the settings cannot be used, if they cannot.
    fn check(&self) -> Result<(), String> {
        if self.variants.is_empty() {
            return Err("`variants` is empty".to_owned());
        }
        let mut names = BTreeSet::new();
        for variant in &self.variants {
            let name = &variant.name;
            if name.is_empty()
                || !name
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            {
                return Err(format!(
                    "variant name {name:?} is not a directory name of lowercase letters, digits and `-`"
                ));
            }
            if !names.insert(name.as_str()) {
                return Err(format!("variant {name:?} is listed twice"));
            }
            check_path("template", &variant.template)?;
        }
        let images = &self.official_images;
        RepoId::parse(&images.repository)
            .map_err(|e| format!("official-images.repository: {e}"))?;
        if images.reference.is_empty() {
            return Err("official-images.reference is empty".to_owned());
        }
        check_path("official-images.debian", &images.debian)?;
        check_path("official-images.alpine", &images.alpine)?;
        let helper = &self.helper_functions;
        RepoId::parse(&helper.repository)
            .map_err(|e| format!("helper-functions.repository: {e}"))?;
        if helper.commit.len() != 40 || !helper.commit.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(format!(
                "helper-functions.commit {:?} is not a 40-digit commit id (pin the commit `apply-templates.sh` pins)",
                helper.commit
            ));
        }
        check_path("helper-functions.path", &helper.path)
    }
}

/// A relative repository path without `..`, `.` or empty parts.
fn check_path(what: &str, path: &str) -> Result<(), String> {
    if path.is_empty() || path.split('/').any(|part| matches!(part, "" | "." | "..")) {
        return Err(format!(
            "{what} {path:?} is not a relative path inside a repository"
        ));
    }
    Ok(())
}

/// Registers the task.
pub static FACTORY: FactoryOf<ContainerSettings> = FactoryOf::new(
    "container",
    "renders versions.json, Dockerfiles and aliases of the container image repository",
    |settings: ContainerSettings| {
        settings.check().map_err(|problem| problem.to_string())?;
        Ok(Arc::new(Container { settings }))
    },
);

/// The task itself.
pub struct Container {
    pub(crate) settings: ContainerSettings,
}

/// How many files the task reads at once.
const CONCURRENT_READS: usize = 8;

/// The bytes of each of `paths` at `head`, in order. The reads are independent: several run at
/// once, not one round trip after another (a bounded number, so that a large copy stays clear of
/// GitHub's secondary rate limits).
pub(crate) async fn read_all(
    repos: &dyn RepoRead,
    repo: &RepoId,
    head: &str,
    paths: Vec<String>,
) -> Result<Vec<Bytes>, TaskError> {
    futures::stream::iter(paths)
        .map(|path| async move {
            repos.read_file(repo, head, &path).await?.ok_or_else(|| {
                TaskError::Invalid(format!("{repo}: `{path}` does not exist at {head}"))
            })
        })
        .buffered(CONCURRENT_READS)
        .try_collect()
        .await
}

impl Container {
    /// The external inputs: bashbrew's helper functions at the pinned commit and the base
    /// images' manifests, read through the GitHub API (public repositories; the task's token
    /// only needs to read them).
    async fn external(&self, ctx: &TaskContext<'_>) -> Result<External, TaskError> {
        let helper = &self.settings.helper_functions;
        let images = &self.settings.official_images;
        let read = |repository: &str, reference: &str, path: &str| {
            let repository = repository.to_owned();
            let (reference, path) = (reference.to_owned(), path.to_owned());
            async move {
                let repo = RepoId::parse(&repository)
                    .map_err(|e| TaskError::Invalid(format!("{repository}: {e}")))?;
                let name = format!("{repo}@{reference}:{path}");
                let bytes = ctx
                    .repos()?
                    .read_file(&repo, &reference, &path)
                    .await?
                    .ok_or_else(|| TaskError::Invalid(format!("{name}: does not exist")))?;
                let text = String::from_utf8(bytes.to_vec())
                    .map_err(|_| TaskError::Invalid(format!("{name}: not valid UTF-8")))?;
                Ok::<_, TaskError>(NamedText { name, text })
            }
        };
        let (helper, debian, alpine) = futures::try_join!(
            read(&helper.repository, &helper.commit, &helper.path),
            read(&images.repository, &images.reference, &images.debian),
            read(&images.repository, &images.reference, &images.alpine),
        )?;
        Ok(External {
            helper_functions: helper.text,
            debian_manifest: debian,
            alpine_manifest: alpine,
        })
    }
}

#[async_trait]
impl Task for Container {
    async fn audit(&self, ctx: &AuditContext<'_>) -> Result<Audit, TaskError> {
        self.audit_repository(ctx).await
    }

    async fn plan(&self, ctx: &TaskContext<'_>) -> Result<Plan, TaskError> {
        let archive = ctx.input::<SourceArchive>()?;
        let release = Release {
            version: ctx.request.version.clone(),
            url: archive.url.clone(),
            sha256: archive.sha256.to_string(),
        };
        // A version already listed with another URL or digest is a moved tag: a security matter.
        let invalid = |e: crate::ContainerError| match e {
            crate::ContainerError::ConflictingEntry { .. } => TaskError::Security(e.to_string()),
            e => TaskError::Invalid(e.to_string()),
        };
        let head = ctx.target_head().await?;
        let (target, _) = ctx.commit_target()?;
        // versions.json says what to read; the tree listing gives every file's mode.
        let listing = async {
            let files = ctx.repos()?.list_files(&target.repo, &head, "").await?;
            Ok::<_, TaskError>(files)
        };
        let versions = ctx.required_file(&head, versions_json::PATH);
        let (versions, listing, external) =
            futures::try_join!(versions, listing, self.external(ctx))?;
        let listing = listing.ok_or_else(|| {
            TaskError::Invalid(format!("{}: cannot list the files of {head}", target.repo))
        })?;
        let modes: BTreeMap<String, bool> = listing
            .into_iter()
            .map(|file| (file.path, file.executable))
            .collect();
        let planner =
            Planner::new(&versions, &release, &self.settings.variants).map_err(invalid)?;
        let list = planner.to_read();
        let mut wanted: Vec<(&String, bool)> = list
            .files
            .iter()
            .filter(|path| path.as_str() != versions_json::PATH)
            .map(|path| (path, modes.get(path).copied().unwrap_or(false)))
            .collect();
        for dir in &list.directories {
            let prefix = dir_prefix(dir);
            wanted.extend(
                modes
                    .iter()
                    .filter(|(path, _)| path.starts_with(&prefix))
                    .map(|(path, executable)| (path, *executable)),
            );
        }
        let paths: Vec<String> = wanted.iter().map(|(path, _)| (*path).clone()).collect();
        let contents = read_all(ctx.repos()?, &target.repo, &head, paths).await?;
        let mut snapshot = RepoSnapshot::new();
        snapshot.insert(
            versions_json::PATH,
            versions.to_vec(),
            modes.get(versions_json::PATH).copied().unwrap_or(false),
        );
        for ((path, executable), bytes) in wanted.into_iter().zip(contents) {
            snapshot.insert(path.clone(), bytes.to_vec(), executable);
        }
        let update = planner.plan(&snapshot, &external).map_err(invalid)?;

        let mut result = Plan::default();
        result.outputs.insert(update.tags.clone());
        if update.commits.is_empty() {
            result.notes.push(format!(
                "the container repository already has {}",
                release.version
            ));
            return Ok(result);
        }
        let body = pr_body(&release, &update);
        result.changes.push(ctx.change(head, update.commits, body)?);
        Ok(result)
    }
}

/// The pull request's description: the version fields, the base images (and any change), the
/// drift check, the image tags and the files.
fn pr_body(release: &Release, update: &ContainerUpdate) -> String {
    let line = release.version.minor_line();
    let mut body = format!(
        "Updates the container images to Valkey {version}, as `update.sh {line}` would.\n\n\
         `versions.json` line `{line}`:\n\n\
         - version: `{version}`\n- url: {url}\n- sha256: `{sha}`\n- debian.version: `{debian}`\n\
         - alpine.version: `{alpine}`\n\n",
        version = release.version,
        url = release.url,
        sha = release.sha256,
        debian = update.base_versions.0,
        alpine = update.base_versions.1,
    );
    if update.base_images.is_empty() {
        body.push_str("Base images: unchanged.\n\n");
    } else {
        body.push_str("Base images changed (official-images `latest`):\n\n");
        for change in &update.base_images {
            let _ = writeln!(
                body,
                "- {}: `{}` → `{}`",
                change.image, change.old, change.new
            );
        }
        body.push('\n');
    }
    match &update.drift {
        Drift::NewLine => body.push_str("Drift check: a new line, nothing committed to compare.\n\n"),
        Drift::None => body.push_str(
            "Drift check: re-rendering the line before the change reproduces the committed files.\n\n",
        ),
        Drift::Differs { files, lines } => {
            let _ = writeln!(
                body,
                "Drift check: **re-rendering the line before the change does not reproduce the committed files** ({files} file(s), {lines} line(s) differ): the templates changed since the line's last release, so this pull request also carries that change.\n"
            );
        }
        Drift::RenderFailed(error) => {
            let _ = writeln!(
                body,
                "Drift check: **the line's values before the change no longer render**: {error}\n"
            );
        }
    }
    body.push_str("Image tags:\n\n");
    let tags = &update.tags;
    for (variant, list) in [
        ("debian", &tags.debian),
        ("alpine", &tags.alpine),
        ("pkg", &tags.pkg),
    ] {
        if list.is_empty() {
            continue;
        }
        let _ = writeln!(
            body,
            "- {variant}: {}",
            list.iter()
                .map(|t| format!("`{t}`"))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    body.push_str("\nFiles:\n\n");
    let changed: BTreeSet<&str> = update
        .commits
        .iter()
        .flat_map(|commit| commit.edits.iter())
        .map(|edit| edit.path.as_str())
        .collect();
    for path in changed {
        let _ = writeln!(body, "- `{path}`");
    }
    body.push_str("\nOpened by valkey-bot; a rerun updates this pull request.\n");
    body
}
