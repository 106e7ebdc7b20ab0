//! The `container` task: reads the container repository at the head of its branch, decides the
//! release's changes with [`crate::plan`], and returns them as one pull request of (at most) two
//! commits. It never downloads anything: the archive URL and digest come from the checksums task.
//!
//! File modes come from one listing of the repository's tree (the contents API reports none): a
//! copied file keeps its source's mode, an edited file keeps its own.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;
use futures::{StreamExt, TryStreamExt};
use serde::Deserialize;
use valkey_bot_core::github::{CommitId, dir_prefix};
use valkey_bot_core::outputs::SourceArchive;
use valkey_bot_core::plan::{FileEdit, PlannedCommit};
use valkey_bot_core::task::Settings;
use valkey_bot_core::{Plan, RepoId, Task, TaskContext, TaskError, TaskFactory};

use crate::plan::{Release, RepoSnapshot, paths_to_read, plan};
use crate::versions_json;

/// The task's `settings` in `tasks.toml` (none yet: every rule comes from the repository itself).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContainerSettings {}

/// Registers the task.
pub struct Factory;

impl TaskFactory for Factory {
    fn name(&self) -> &'static str {
        "container"
    }

    fn description(&self) -> &'static str {
        "updates versions.json, Dockerfiles and aliases of the container image repository"
    }

    fn build(&self, settings: Settings<'_>) -> Result<Arc<dyn Task>, toml::de::Error> {
        let _: ContainerSettings = settings.parse()?;
        Ok(Arc::new(Container))
    }
}

/// The task itself.
pub struct Container;

/// How many files the task reads at once.
const CONCURRENT_READS: usize = 8;

/// The bytes of each of `paths` at `head`, in order. The reads are independent: several run at
/// once, not one round trip after another (a bounded number, so that a large copy stays clear of
/// GitHub's secondary rate limits).
async fn read_all(
    ctx: &TaskContext<'_>,
    head: &CommitId,
    paths: Vec<String>,
) -> Result<Vec<Bytes>, TaskError> {
    futures::stream::iter(paths)
        .map(|path| async move { ctx.required_file(head, &path).await })
        .buffered(CONCURRENT_READS)
        .try_collect()
        .await
}

/// Every file under `dir` in `modes`, with its executable bit; an error if there is none.
fn files_under<'a>(
    modes: &'a BTreeMap<String, bool>,
    dir: &str,
    repo: &RepoId,
) -> Result<Vec<(&'a String, bool)>, TaskError> {
    let prefix = dir_prefix(dir);
    let files: Vec<(&String, bool)> = modes
        .iter()
        .filter(|(path, _)| path.starts_with(&prefix))
        .map(|(path, executable)| (path, *executable))
        .collect();
    if files.is_empty() {
        return Err(TaskError::Invalid(format!(
            "{repo}: directory `{dir}` does not exist"
        )));
    }
    Ok(files)
}

#[async_trait]
impl Task for Container {
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
        let (versions, listing) = futures::try_join!(versions, listing)?;
        let listing = listing.ok_or_else(|| {
            TaskError::Invalid(format!("{}: cannot list the files of {head}", target.repo))
        })?;
        let modes: BTreeMap<String, bool> = listing
            .into_iter()
            .map(|file| (file.path, file.executable))
            .collect();
        let list = paths_to_read(&versions, &release).map_err(invalid)?;
        let mut wanted: Vec<(&String, bool)> = list
            .files
            .iter()
            .map(|path| (path, modes.get(path).copied().unwrap_or(false)))
            .collect();
        for dir in &list.directories {
            wanted.extend(files_under(&modes, dir, &target.repo)?);
        }
        let paths: Vec<String> = wanted.iter().map(|(path, _)| (*path).clone()).collect();
        let contents = read_all(ctx, &head, paths).await?;
        let mut snapshot = RepoSnapshot::new();
        for ((path, executable), bytes) in wanted.into_iter().zip(contents) {
            snapshot.insert(path.clone(), bytes.to_vec(), executable);
        }
        let update = plan(&snapshot, &release).map_err(invalid)?;

        let mut result = Plan::default();
        result.outputs.insert(update.tags.clone());
        if update.commits.is_empty() {
            result.notes.push(format!(
                "the container repository already has {}",
                release.version
            ));
            return Ok(result);
        }
        let mut changed = BTreeSet::new();
        let commits = update
            .commits
            .iter()
            .map(|commit| PlannedCommit {
                message: commit.subject.clone(),
                edits: commit
                    .files
                    .iter()
                    .map(|(path, after)| {
                        changed.insert(path.clone());
                        let before = snapshot.get(path).map(|f| Bytes::from(f.bytes.clone()));
                        FileEdit {
                            path: path.clone(),
                            before,
                            after: Some(Bytes::from(after.clone())),
                            executable: commit.executable.contains(path)
                                || snapshot.get(path).is_some_and(|file| file.executable),
                        }
                    })
                    .collect(),
            })
            .collect();
        let body = pr_body(&release, &update.tags, &changed);
        result.changes.push(ctx.change(head, commits, body)?);
        Ok(result)
    }
}

fn pr_body(
    release: &Release,
    tags: &valkey_bot_core::outputs::ImageTags,
    changed: &BTreeSet<String>,
) -> String {
    let mut body = format!(
        "Updates the container images to Valkey {}.\n\n- Source: {}\n- SHA-256: `{}`\n\nImage tags:\n\n",
        release.version, release.url, release.sha256
    );
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
    for path in changed {
        let _ = writeln!(body, "- `{path}`");
    }
    body.push_str("\nOpened by valkey-bot; a rerun updates this pull request.\n");
    body
}
