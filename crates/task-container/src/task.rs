//! The `container` task: reads the container repository at the head of its branch, decides the
//! release's changes with [`crate::plan`], and returns them as one pull request of (at most) two
//! commits. It never downloads anything: the archive URL and digest come from the checksums task.
//!
//! File modes: the contents API the task reads through does not report them, so a file is taken
//! to be executable when its name ends in `.sh` (true of every script in the repository:
//! `generate-stackbrew-library.sh`, `docker-entrypoint.sh`, `apply-templates.sh`).

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;
use serde::Deserialize;
use valkey_bot_core::github::CommitId;
use valkey_bot_core::outputs::SourceArchive;
use valkey_bot_core::plan::{FileEdit, PlannedCommit};
use valkey_bot_core::task::Settings;
use valkey_bot_core::{Plan, Task, TaskContext, TaskError, TaskFactory};

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

fn executable(path: &str) -> bool {
    path.ends_with(".sh")
}

/// Adds every file under `dir` (recursively) to `snapshot`.
async fn read_dir(
    ctx: &TaskContext<'_>,
    head: &CommitId,
    dir: &str,
    snapshot: &mut RepoSnapshot,
) -> Result<(), TaskError> {
    let target = ctx.target()?;
    let mut pending = vec![dir.to_owned()];
    while let Some(dir) = pending.pop() {
        let entries = ctx
            .repos
            .list_dir(&target.repo, head, &dir)
            .await?
            .ok_or_else(|| {
                TaskError::Invalid(format!("{}: directory `{dir}` does not exist", target.repo))
            })?;
        for entry in entries {
            let path = format!("{dir}/{}", entry.name);
            if entry.is_dir {
                pending.push(path);
            } else {
                let bytes = ctx.required_file(head, &path).await?;
                snapshot.insert(path.clone(), bytes.to_vec(), executable(&path));
            }
        }
    }
    Ok(())
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
        let versions = ctx.required_file(&head, versions_json::PATH).await?;
        let list = paths_to_read(&versions, &release).map_err(invalid)?;
        let mut snapshot = RepoSnapshot::new();
        for path in &list.files {
            let bytes = ctx.required_file(&head, path).await?;
            snapshot.insert(path.clone(), bytes.to_vec(), executable(path));
        }
        for dir in &list.directories {
            read_dir(ctx, &head, dir, &mut snapshot).await?;
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
                            executable: commit.executable.contains(path) || executable(path),
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
    for (variant, list) in [("debian", &tags.debian), ("alpine", &tags.alpine)] {
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
