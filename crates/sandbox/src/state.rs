//! Pull requests, issues, comments, labels and dispatches, persisted in `ROOT/_sandbox/state.json`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use tokio::sync::Mutex;

use crate::error::{ApiError, SandboxError};

/// Everything the sandbox remembers beyond the git repositories themselves.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SandboxState {
    /// Per repository (`owner/name`), its issues, pull requests, comments and dispatches.
    #[serde(default)]
    pub repos: BTreeMap<String, RepoState>,
    /// Commits created through the API without an author: GitHub signs those, so they show as verified.
    #[serde(default)]
    pub verified_commits: BTreeSet<String>,
    /// The id the next comment gets.
    #[serde(default)]
    pub next_comment_id: u64,
    /// How many workflow runs were started (run ids follow it).
    #[serde(default)]
    pub workflow_runs_started: u64,
}

/// One repository's issues (pull requests included: they share numbering), comments and dispatches.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RepoState {
    /// The number the next issue or pull request gets (starts at 1).
    #[serde(default)]
    pub next_number: u64,
    /// Issues and pull requests, in creation order.
    #[serde(default)]
    pub issues: Vec<Issue>,
    /// Comments on issues and pull requests, in creation order.
    #[serde(default)]
    pub comments: Vec<Comment>,
    /// `repository_dispatch` events received, in order.
    #[serde(default)]
    pub dispatches: Vec<Dispatch>,
    /// The labels defined in the repository, in creation order.
    #[serde(default)]
    pub labels: Vec<Label>,
    /// Workflow runs started by `workflow_dispatch`, in order.
    #[serde(default)]
    pub workflow_runs: Vec<WorkflowRunRecord>,
}

/// A workflow run the sandbox started: what its answers are computed from (its status follows
/// from the time since `created_unix_ms` and its outcome, see `workflows.rs`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WorkflowRunRecord {
    /// Its id.
    pub id: u64,
    /// Its number among its workflow's runs (from 1).
    pub run_number: u64,
    /// The workflow's file path (`.github/workflows/build.yml`).
    pub path: String,
    /// The workflow's name.
    pub workflow_name: String,
    /// The branch or tag it runs on.
    pub head_branch: String,
    /// The commit it runs on.
    pub head_sha: String,
    /// Its title.
    pub display_title: String,
    /// The inputs it was given.
    pub inputs: serde_json::Map<String, Value>,
    /// Its jobs' names.
    pub jobs: Vec<String>,
    /// Who started it.
    pub actor: String,
    /// When it was created, RFC 3339 UTC.
    pub created_at: String,
    /// When it was created, in milliseconds since the Unix epoch.
    pub created_unix_ms: u64,
    /// How it ends.
    pub outcome: crate::workflows::Outcome,
}

/// A label defined in a repository.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Label {
    /// Its name (GitHub matches names without regard to case).
    pub name: String,
    /// Its colour, six hexadecimal digits without `#`.
    pub color: String,
    /// Its description, if any.
    pub description: Option<String>,
}

/// An issue, or a pull request when `pull` is set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Issue {
    /// The number, shared between issues and pull requests of a repository.
    pub number: u64,
    /// The title.
    pub title: String,
    /// The body, if any.
    pub body: Option<String>,
    /// `open` or `closed`.
    pub state: String,
    /// The login of the creator (`sandbox-user` or `<slug>[bot]`).
    pub user: String,
    /// Label names, in the order they were added.
    pub labels: Vec<String>,
    /// Pull request details; `None` for a plain issue.
    pub pull: Option<PullRequest>,
    /// Creation time, RFC 3339 UTC.
    pub created_at: String,
    /// Last update time, RFC 3339 UTC.
    pub updated_at: String,
    /// When it was closed, if it is closed.
    pub closed_at: Option<String>,
}

/// The pull-request half of an [`Issue`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PullRequest {
    /// The owner of the head branch's repository (always the base repository's owner here).
    pub head_owner: String,
    /// The head branch.
    pub head_ref: String,
    /// The base branch.
    pub base_ref: String,
    /// The head commit when the pull request was last seen; used if the branch is deleted.
    pub head_sha: String,
    /// The commit that merged it into its base, for a merged (and so closed) pull request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub merge_commit: Option<String>,
}

/// A comment on an issue or pull request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Comment {
    /// Unique id across the sandbox.
    pub id: u64,
    /// The issue or pull request it is on.
    pub issue_number: u64,
    /// The text.
    pub body: String,
    /// The author's login.
    pub user: String,
    /// Creation time, RFC 3339 UTC.
    pub created_at: String,
}

/// A `repository_dispatch` event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Dispatch {
    /// `event_type` as sent.
    pub event_type: String,
    /// `client_payload` as sent (`null` when absent).
    pub client_payload: Value,
    /// The login of the sender.
    pub sender: String,
    /// When it arrived, RFC 3339 UTC.
    pub received_at: String,
}

impl SandboxState {
    /// The state of repository `full_name` (`owner/name`), if anything was ever recorded for it.
    pub fn repo(&self, full_name: &str) -> Option<&RepoState> {
        self.repos.get(full_name)
    }
}

impl RepoState {
    /// The pull requests, in creation order.
    pub fn pulls(&self) -> impl DoubleEndedIterator<Item = &Issue> {
        self.issues.iter().filter(|issue| issue.pull.is_some())
    }

    /// The issue or pull request numbered `number`.
    pub fn issue(&self, number: u64) -> Option<&Issue> {
        self.issues.iter().find(|issue| issue.number == number)
    }

    /// The label named `name` (compared without regard to case).
    pub fn label(&self, name: &str) -> Option<&Label> {
        self.labels
            .iter()
            .find(|label| label.name.eq_ignore_ascii_case(name))
    }

    /// The comments on `number`, in order.
    pub fn comments_on(&self, number: u64) -> impl Iterator<Item = &Comment> {
        self.comments
            .iter()
            .filter(move |comment| comment.issue_number == number)
    }
}

/// The state behind a lock, written to disk after every change.
#[derive(Debug)]
pub(crate) struct Store {
    path: PathBuf,
    data: Mutex<SandboxState>,
}

impl Store {
    /// Loads `path` if it exists, else starts empty.
    pub(crate) fn load(path: PathBuf) -> Result<Self, SandboxError> {
        let data = match std::fs::read(&path) {
            Ok(bytes) => {
                serde_json::from_slice(&bytes).map_err(|source| SandboxError::StateFormat {
                    path: path.clone(),
                    source,
                })?
            }
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => SandboxState::default(),
            Err(source) => return Err(SandboxError::Io { path, source }),
        };
        Ok(Self {
            path,
            data: Mutex::new(data),
        })
    }

    /// A copy of the whole state.
    pub(crate) async fn snapshot(&self) -> SandboxState {
        self.data.lock().await.clone()
    }

    /// Applies `change` and, if it succeeds, writes the state file before answering.
    pub(crate) async fn update<R>(
        &self,
        change: impl FnOnce(&mut SandboxState) -> Result<R, ApiError>,
    ) -> Result<R, ApiError> {
        let mut data = self.data.lock().await;
        let mut next = data.clone();
        let result = change(&mut next)?;
        if next != *data {
            self.persist(&next).await?;
            *data = next;
        }
        Ok(result)
    }

    async fn persist(&self, state: &SandboxState) -> Result<(), ApiError> {
        let bytes = serde_json::to_vec_pretty(state).map_err(ApiError::internal)?;
        let temp = self.path.with_extension("json.tmp");
        tokio::fs::write(&temp, &bytes)
            .await
            .map_err(|error| ApiError::internal(format!("writing {}: {error}", temp.display())))?;
        tokio::fs::rename(&temp, &self.path).await.map_err(|error| {
            ApiError::internal(format!("writing {}: {error}", self.path.display()))
        })
    }
}

/// Now as RFC 3339 UTC with seconds (`2026-01-02T03:04:05Z`), as GitHub writes times.
pub(crate) fn now_rfc3339() -> String {
    humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string()
}
