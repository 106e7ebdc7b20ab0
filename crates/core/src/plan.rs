//! Plans: what a task decided should change. Tasks return plans; only the runner acts on them, so
//! dry run, idempotency, verification and rollback are written once.

use bytes::Bytes;

use crate::github::{CommitId, FileWrite};
use crate::outputs::Outputs;
use crate::repo::RepoId;

/// Everything one task wants done.
#[derive(Debug, Default)]
pub struct Plan {
    /// File changes, one entry per repository and delivery.
    pub changes: Vec<RepoChange>,
    /// Other effects, such as events sent to other repositories.
    pub effects: Vec<Effect>,
    /// Values for the tasks that depend on this one.
    pub outputs: Outputs,
    /// What the task found, for people (`digest already recorded`).
    pub notes: Vec<String>,
    /// Things that must reach people even when the run succeeds (an operator-approved digest replacement).
    pub alerts: Vec<String>,
}

impl Plan {
    /// Whether carrying out the plan would change nothing.
    pub fn is_noop(&self) -> bool {
        self.changes.iter().all(RepoChange::is_noop) && self.effects.is_empty()
    }
}

/// Commits to make in one repository, and how to deliver them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepoChange {
    /// The repository.
    pub repo: RepoId,
    /// The branch the task read (and, for a direct commit, writes).
    pub base_branch: String,
    /// The commit of `base_branch` the plan was computed from: writes are compare-and-swap on it.
    pub base_commit: CommitId,
    /// The commits, in order. Each holds only files whose bytes change.
    pub commits: Vec<PlannedCommit>,
    /// Direct commit, or pull request.
    pub delivery: Delivery,
}

impl RepoChange {
    /// Whether no commit changes any file.
    pub fn is_noop(&self) -> bool {
        self.commits
            .iter()
            .all(|c| c.edits.iter().all(FileEdit::is_noop))
    }
}

/// One commit of a plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedCommit {
    /// The full message: subject, and optionally a blank line and a body.
    pub message: String,
    /// The files it changes.
    pub edits: Vec<FileEdit>,
}

/// A file's bytes before and after.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileEdit {
    /// Path inside the repository.
    pub path: String,
    /// The bytes the task read, or `None` if the file did not exist.
    pub before: Option<Bytes>,
    /// The bytes it should have, or `None` to delete it.
    pub after: Option<Bytes>,
    /// Whether the file is executable.
    pub executable: bool,
}

impl FileEdit {
    /// Whether the edit changes nothing.
    pub fn is_noop(&self) -> bool {
        self.before == self.after
    }

    /// The write that carries out this edit.
    pub fn to_write(&self) -> FileWrite {
        FileWrite {
            path: self.path.clone(),
            content: self.after.clone(),
            executable: self.executable,
        }
    }
}

/// How a repository change reaches its repository.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivery {
    /// Commit straight onto the base branch.
    Commit,
    /// Commit onto a branch of its own and open (or update) a pull request.
    PullRequest(PullRequestDelivery),
}

/// The pull request a change is delivered as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PullRequestDelivery {
    /// The head branch (`update-9.1.1`).
    pub branch: String,
    /// The title.
    pub title: String,
    /// The body (Markdown).
    pub body: String,
}

/// An effect other than a file change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    /// Send a `repository_dispatch` event.
    Dispatch {
        /// The receiving repository.
        repo: RepoId,
        /// The event type.
        event_type: String,
        /// The `client_payload`.
        payload: serde_json::Value,
    },
    /// Start a GitHub Actions workflow (`workflow_dispatch`) and wait for its run to succeed,
    /// unless a run with the same `marker` already succeeded.
    RunWorkflow(WorkflowDispatch),
}

/// A workflow to start and wait for ([`Effect::RunWorkflow`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkflowDispatch {
    /// The repository holding the workflow.
    pub repo: RepoId,
    /// The workflow's file name under `.github/workflows/` (`update-try-valkey.yml`).
    pub workflow: String,
    /// The branch or tag the workflow runs on.
    pub reference: String,
    /// Its inputs, rendered from the release; the marker input included.
    pub inputs: std::collections::BTreeMap<String, String>,
    /// What identifies a run of this workflow for this release: the value of the marker input,
    /// which the workflow shows as its run's title (`run-name`). A run with this title that
    /// succeeded means the work is done.
    pub marker: String,
    /// How long the run may take to appear and leave `queued`.
    pub start_timeout: std::time::Duration,
    /// How often the run is polled.
    pub poll_interval: std::time::Duration,
}
