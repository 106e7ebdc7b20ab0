//! Carrying out a plan: the code that writes a task's plan to GitHub (labels and the tracking
//! issue, written by `notify`, are the only other writes). Direct commits ([`commit`]) are
//! compare-and-swap on the branch the plan was computed from; pull requests ([`pull_request`]) are
//! idempotent and never overwrite commits the bot did not make; everything written is read back
//! and compared with the plan ([`writes`]), and a direct commit that fails that comparison is
//! undone ([`rollback`]).

mod commit;
mod pull_request;
mod rollback;
mod workflow;
mod writes;

use valkey_bot_core::RepoId;
use valkey_bot_core::github::{CommitId, GitHubError};
use valkey_bot_core::plan::{Delivery, Effect, RepoChange};

use crate::forge::Forge;

pub(crate) use writes::Writes;
pub use writes::{Signoff, with_signoff};

/// What delivering one change or effect did.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Delivered {
    /// Commits were added to a branch.
    Committed {
        /// Repository.
        repo: String,
        /// Branch.
        branch: String,
        /// The new head.
        commit: CommitId,
        /// How many commits.
        commits: usize,
    },
    /// The change was already there.
    UpToDate {
        /// Repository.
        repo: String,
    },
    /// A pull request carries the change.
    PullRequest {
        /// Repository.
        repo: String,
        /// Its number.
        number: u64,
        /// Its address.
        url: String,
        /// Its head branch.
        branch: String,
        /// The branch it merges into.
        base: String,
        /// Whether it was created, updated or already right.
        state: PullRequestState,
    },
    /// An event was sent.
    Dispatched {
        /// Repository.
        repo: String,
        /// Event type.
        event_type: String,
    },
    /// A workflow run for the release: started, joined, or found already succeeded.
    Workflow {
        /// Repository.
        repo: String,
        /// The workflow file.
        workflow: String,
        /// The run's id.
        run_id: u64,
        /// The run's web address.
        url: String,
        /// Where it is.
        state: WorkflowState,
    },
}

/// Where a workflow run for the release is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum WorkflowState {
    /// Still going (if the task timed out: it keeps going on GitHub).
    Running {
        /// Whether this run started it (else it joined a run started earlier).
        dispatched: bool,
    },
    /// It succeeded.
    Succeeded {
        /// Whether this run started it.
        dispatched: bool,
    },
    /// A run for this release had already succeeded: nothing was started.
    AlreadySucceeded,
}

impl Delivered {
    /// Whether this changed anything on GitHub.
    pub fn changed(&self) -> bool {
        match self {
            Self::Committed { .. } | Self::Dispatched { .. } => true,
            Self::UpToDate { .. } => false,
            Self::PullRequest { state, .. } => *state != PullRequestState::Unchanged,
            Self::Workflow { state, .. } => matches!(
                state,
                WorkflowState::Running { dispatched: true }
                    | WorkflowState::Succeeded { dispatched: true }
            ),
        }
    }

    /// For a workflow run still going: its address.
    pub fn running_workflow(&self) -> Option<&str> {
        match self {
            Self::Workflow {
                url,
                state: WorkflowState::Running { .. },
                ..
            } => Some(url),
            _ => None,
        }
    }
}

/// What happened to a pull request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PullRequestState {
    /// Opened by this run.
    Created,
    /// Its branch, title or body changed.
    Updated,
    /// Already exactly as planned.
    Unchanged,
}

/// Why delivery failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DeliverError {
    /// The branch moved after the plan was computed: re-plan and try again.
    #[error("{repo}: branch `{branch}` moved while planning; the plan must be recomputed")]
    Moved {
        /// Repository.
        repo: String,
        /// Branch.
        branch: String,
    },
    /// The pull request branch holds commits the bot did not make.
    #[error(
        "{repo}: branch `{branch}` has commits the bot did not make ({commits}); refusing to overwrite them"
    )]
    ForeignCommits {
        /// Repository.
        repo: String,
        /// Branch.
        branch: String,
        /// The commits, `id (author)`.
        commits: String,
    },
    /// What was read back differs from the plan.
    #[error("{repo}: verification failed after writing commit {commit} to `{branch}`: {problem}")]
    Verification {
        /// Repository.
        repo: String,
        /// Branch.
        branch: String,
        /// The commit written.
        commit: CommitId,
        /// What differs.
        problem: String,
    },
    /// The pull request branch holds the change, but its pull request could not be found,
    /// opened or updated.
    #[error(
        "{repo}: branch `{branch}` holds the change (commit {commit}) but its pull request could not be opened or updated: {source}; a rerun opens it (to undo instead, delete the branch)"
    )]
    PullRequestPending {
        /// Repository.
        repo: String,
        /// The pull request branch.
        branch: String,
        /// Its head.
        commit: CommitId,
        /// The error.
        source: GitHubError,
    },
    /// The branch is under a ruleset (or protection) that refuses direct updates: re-planning
    /// cannot help, the repository's settings or the task's delivery must change.
    #[error(
        "{repo}: branch `{branch}` refuses direct commits: {rule} Either add the App to the bypass list of the branch's ruleset (Settings → Rules), or give this task `delivery.pull-request = {{ branch = \"...\", title = \"...\" }}` in tasks.toml"
    )]
    RuleViolation {
        /// Repository.
        repo: String,
        /// Branch.
        branch: String,
        /// GitHub's text for the rule, e.g. `Changes must be made through a pull request.`
        rule: String,
    },
    /// GitHub refused the credentials (401 / 403): they may not write this repository.
    #[error(
        "{repo}: {source}. The bot's credentials may not write {repo}: it needs a GitHub App installed there with `contents: write` (and `pull_requests: write` for a pull request), and a workflow's own GITHUB_TOKEN never has it, being confined to the repository its workflow runs in; run with the App (VALKEY_BOT_APP_ID and VALKEY_BOT_APP_PRIVATE_KEY, see docs/security.md)"
    )]
    NotPermitted {
        /// Repository.
        repo: String,
        /// The error.
        source: GitHubError,
    },
    /// The workflow could not be started or followed (unknown file, refused inputs).
    #[error("{repo}: workflow `{workflow}`: {problem}")]
    Workflow {
        /// Repository.
        repo: String,
        /// The workflow file.
        workflow: String,
        /// What is wrong, and what to do.
        problem: String,
        /// GitHub's error.
        source: GitHubError,
    },
    /// The run was accepted but did not appear, or stayed queued.
    #[error(
        "{repo}: workflow `{workflow}` was dispatched but its run {url} did not start within {waited} (no runner picked it up, or GitHub dropped it); check the repository's Actions tab, then rerun"
    )]
    WorkflowNeverStarted {
        /// Repository.
        repo: String,
        /// The workflow file.
        workflow: String,
        /// The run's address.
        url: String,
        /// How long the bot waited.
        waited: String,
    },
    /// The run completed without success.
    #[error(
        "{repo}: workflow `{workflow}` run {url} ended `{conclusion}`{}",
        failed_jobs(failing_jobs)
    )]
    WorkflowFailed {
        /// Repository.
        repo: String,
        /// The workflow file.
        workflow: String,
        /// The run's address.
        url: String,
        /// GitHub's conclusion (`failure`, `cancelled`, `timed_out`).
        conclusion: String,
        /// The jobs that failed, by name.
        failing_jobs: Vec<String>,
    },
    /// GitHub refused or failed.
    #[error("{repo}: {source}")]
    GitHub {
        /// Repository.
        repo: String,
        /// The error.
        source: GitHubError,
    },
}

impl DeliverError {
    /// A GitHub error of `repo`; a refusal of the credentials says what they lack.
    fn github(repo: &RepoId) -> impl Fn(GitHubError) -> Self + '_ {
        move |source| match source {
            GitHubError::Forbidden(_) => Self::NotPermitted {
                repo: repo.to_string(),
                source,
            },
            source => Self::GitHub {
                repo: repo.to_string(),
                source,
            },
        }
    }

    /// A branch write's error: a conflict means `branch` moved (plan again), anything else is
    /// GitHub's.
    fn moved_on_conflict(repo: &RepoId, branch: &str, error: GitHubError) -> Self {
        match error {
            GitHubError::Conflict(_) => Self::Moved {
                repo: repo.to_string(),
                branch: branch.to_owned(),
            },
            source => Self::github(repo)(source),
        }
    }
}

/// `; failing jobs: a, b` (nothing when no job failed).
fn failed_jobs(jobs: &[String]) -> String {
    if jobs.is_empty() {
        String::new()
    } else {
        format!("; failing jobs: {}", jobs.join(", "))
    }
}

/// Delivers one repository change.
pub async fn deliver_change(
    change: &RepoChange,
    forge: &Forge,
    signoff: Option<Signoff<'_>>,
) -> Result<Delivered, DeliverError> {
    let writes = Writes::of(change);
    if writes.is_empty() {
        return Ok(Delivered::UpToDate {
            repo: change.repo.to_string(),
        });
    }
    match &change.delivery {
        Delivery::Commit => commit::deliver(&writes, forge, signoff).await,
        Delivery::PullRequest(pr) => pull_request::deliver(&writes, pr, forge, signoff).await,
    }
}

/// Carries out one non-file effect, pushing what it did onto `delivered` as it happens (a
/// workflow run is pushed once known, so a task that times out still reports it).
pub async fn deliver_effect(
    effect: &Effect,
    forge: &Forge,
    delivered: &mut Vec<Delivered>,
) -> Result<(), DeliverError> {
    match effect {
        Effect::Dispatch {
            repo,
            event_type,
            payload,
        } => {
            forge
                .dispatches
                .dispatch(repo, event_type, payload)
                .await
                .map_err(DeliverError::github(repo))?;
            delivered.push(Delivered::Dispatched {
                repo: repo.to_string(),
                event_type: event_type.clone(),
            });
            Ok(())
        }
        Effect::RunWorkflow(dispatch) => workflow::run(dispatch, forge, delivered).await,
    }
}

/// The first 12 characters of a commit id, as people quote them.
fn short(id: &str) -> &str {
    id.get(..12).unwrap_or(id)
}
