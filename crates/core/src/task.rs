//! The `Task` trait every task crate implements, what a task is given to decide with, and how a
//! task crate registers itself.

use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;

use crate::audit::{Audit, AuditContext};
use crate::download::{DownloadError, Downloads};
use crate::github::{CommitId, GitHubError, RepoRead};
use crate::outputs::{Output, Outputs};
use crate::plan::{Delivery, PlannedCommit, PullRequestDelivery, RepoChange};
use crate::repo::RepoId;
use crate::request::ReleaseRequest;
use crate::template::Template;

/// A post-release chore. It reads the world and returns a [`crate::Plan`]; it never writes.
#[async_trait]
pub trait Task: Send + Sync + 'static {
    /// Decides what should change for this release.
    async fn plan(&self, ctx: &TaskContext<'_>) -> Result<crate::Plan, TaskError>;

    /// Checks, for every released version, that the task's repository still holds what the
    /// task would write (`valkey-bot audit`). Reads only. The default declares no checks.
    async fn audit(&self, _ctx: &AuditContext<'_>) -> Result<Audit, TaskError> {
        Ok(Audit::default())
    }
}

/// Why a task could not produce a plan.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TaskError {
    /// A safety check failed: a digest differs from the recorded or the build's one, a tag moved.
    /// Always raises an alert, never retried.
    #[error("security check failed: {0}")]
    Security(String),
    /// Something this task needs from its inputs, its settings or the repository is missing or wrong.
    #[error("{0}")]
    Invalid(String),
    /// Reading GitHub failed.
    #[error(transparent)]
    GitHub(#[from] GitHubError),
    /// A download failed.
    #[error(transparent)]
    Download(#[from] DownloadError),
}

impl From<crate::request::MissingBuildDigest> for TaskError {
    /// Without the build's digest a download cannot be verified by two parties: a security failure.
    fn from(missing: crate::request::MissingBuildDigest) -> Self {
        Self::Security(missing.to_string())
    }
}

impl TaskError {
    /// Whether people must be alerted even if a rerun might pass.
    pub fn is_security(&self) -> bool {
        matches!(self, Self::Security(_))
    }
}

/// Where a task writes, from its `tasks.toml` entry (with the run's environment applied).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// The repository; the task's token is narrowed to it.
    pub repo: RepoId,
    /// Where file changes land; `None` for a task that changes no file there (one that only sends
    /// events, like `bundle`).
    pub commits: Option<CommitTarget>,
}

impl Target {
    /// A target whose file changes reach `branch` of `repo` by `delivery`.
    pub fn with_commits(repo: RepoId, branch: impl Into<String>, delivery: DeliverySpec) -> Self {
        Self {
            repo,
            commits: Some(CommitTarget {
                branch: branch.into(),
                delivery,
            }),
        }
    }
}

/// The branch a task's file changes are based on, and how they reach it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommitTarget {
    /// The branch to read and to commit to (or to merge into).
    pub branch: String,
    /// How changes are delivered.
    pub delivery: DeliverySpec,
}

/// A delivery as configured, before the version is filled in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeliverySpec {
    /// Direct commits on the branch.
    Commit,
    /// A pull request from a branch of its own.
    PullRequest {
        /// Head branch name template (`update-{version}`).
        branch: Template,
        /// Title template (`Update to version {version}`).
        title: Template,
    },
}

/// Everything a task is given to decide with.
pub struct TaskContext<'a> {
    /// The validated request.
    pub request: &'a ReleaseRequest,
    /// Where this task writes, if it writes.
    pub target: Option<&'a Target>,
    /// Outputs of the tasks this one needs.
    pub inputs: &'a Outputs,
    /// Read access to repositories; `None` for a task with no `repository` in tasks.toml, which
    /// gets no GitHub access at all.
    pub repos: Option<&'a dyn RepoRead>,
    /// The shared downloader.
    pub downloads: &'a dyn Downloads,
    /// The web address of the GitHub server (`https://github.com`), without a trailing slash.
    pub server_url: &'a str,
    /// The run's date, UTC, `YYYY-MM-DD`.
    pub run_date: &'a str,
}

impl<'a> TaskContext<'a> {
    /// The output of type `T` from a needed task, or an error naming what is missing.
    pub fn input<T: Output>(&self) -> Result<&T, TaskError> {
        self.inputs.get::<T>().ok_or_else(|| {
            TaskError::Invalid(format!(
                "missing input `{}`: add the task that produces it to `needs`",
                T::NAME
            ))
        })
    }

    /// Read access to repositories, or an error if `tasks.toml` gives this task no `repository`
    /// (and so no GitHub access).
    pub fn repos(&self) -> Result<&'a dyn RepoRead, TaskError> {
        self.repos.ok_or_else(|| {
            TaskError::Invalid(
                "this task reads GitHub: it needs a `repository` in tasks.toml".into(),
            )
        })
    }

    /// This task's target, or an error if `tasks.toml` gives it no `repository`.
    pub fn target(&self) -> Result<&Target, TaskError> {
        self.target.ok_or_else(|| {
            TaskError::Invalid("this task needs a `repository` in tasks.toml".into())
        })
    }

    /// This task's target and the branch its file changes go to, or an error if `tasks.toml`
    /// gives it no `repository`, `branch` and `delivery`.
    pub fn commit_target(&self) -> Result<(&Target, &CommitTarget), TaskError> {
        let target = self.target()?;
        let commits = target.commits.as_ref().ok_or_else(|| {
            TaskError::Invalid(format!(
                "this task changes files in {}: it needs a `branch` and a `delivery` in tasks.toml",
                target.repo
            ))
        })?;
        Ok((target, commits))
    }

    /// Reads the head of the target branch, failing if the branch does not exist.
    pub async fn target_head(&self) -> Result<CommitId, TaskError> {
        let (target, commits) = self.commit_target()?;
        self.repos()?
            .branch_head(&target.repo, &commits.branch)
            .await?
            .ok_or_else(|| {
                TaskError::Invalid(format!(
                    "branch `{}` does not exist in {}",
                    commits.branch, target.repo
                ))
            })
    }

    /// The file at `path` of the target repository at `head` (read from the target branch),
    /// failing if it does not exist.
    pub async fn required_file(&self, head: &CommitId, path: &str) -> Result<Bytes, TaskError> {
        let (target, commits) = self.commit_target()?;
        self.repos()?
            .read_file(&target.repo, head, path)
            .await?
            .ok_or_else(|| {
                TaskError::Invalid(format!(
                    "{}: `{path}` does not exist on `{}`",
                    target.repo, commits.branch
                ))
            })
    }

    /// A change of the target repository computed from `base_commit`, delivered as configured.
    /// `pr_body` is used when the delivery is a pull request.
    pub fn change(
        &self,
        base_commit: CommitId,
        commits: Vec<PlannedCommit>,
        pr_body: String,
    ) -> Result<RepoChange, TaskError> {
        let (target, commits_to) = self.commit_target()?;
        let version = &self.request.version;
        let delivery = match &commits_to.delivery {
            DeliverySpec::Commit => Delivery::Commit,
            DeliverySpec::PullRequest { branch, title } => {
                Delivery::PullRequest(PullRequestDelivery {
                    branch: branch.render(version),
                    title: title.render(version),
                    body: pr_body,
                })
            }
        };
        Ok(RepoChange {
            repo: target.repo.clone(),
            base_branch: commits_to.branch.clone(),
            base_commit,
            commits,
            delivery,
        })
    }
}

/// A task's own `settings` table from `tasks.toml`, deserialized with exact error positions.
pub struct Settings<'a> {
    value: Option<toml::de::ValueDeserializer<'a>>,
}

impl<'a> Settings<'a> {
    /// Wraps the settings table, or `None` when the task has none.
    pub fn new(value: Option<toml::de::ValueDeserializer<'a>>) -> Self {
        Self { value }
    }

    /// Deserializes the settings; a missing table reads as an empty one. Use
    /// `#[serde(deny_unknown_fields)]` on `T`.
    pub fn parse<T: serde::Deserialize<'a>>(self) -> Result<T, toml::de::Error> {
        match self.value {
            Some(value) => T::deserialize(value),
            None => T::deserialize(toml::de::ValueDeserializer::parse("{}")?),
        }
    }
}

/// The [`TaskFactory`] of a task crate, made of its parts: a name, a description, and how to make
/// the task from its parsed settings `S` (an error there, such as two settings that contradict
/// each other, is reported at the settings table like a parse error). A crate declares
///
/// ```
/// # use std::sync::Arc;
/// # use valkey_bot_core::{Plan, Task, TaskContext, TaskError};
/// # use valkey_bot_core::task::FactoryOf;
/// #[derive(serde::Deserialize)]
/// struct EchoSettings {}
/// struct Echo;
/// #[async_trait::async_trait]
/// impl Task for Echo {
///     async fn plan(&self, _ctx: &TaskContext<'_>) -> Result<Plan, TaskError> {
///         Ok(Plan::default())
///     }
/// }
/// /// Registers the task.
/// pub static FACTORY: FactoryOf<EchoSettings> =
///     FactoryOf::new("echo", "does nothing", |_settings| Ok(Arc::new(Echo)));
/// ```
pub struct FactoryOf<S> {
    name: &'static str,
    description: &'static str,
    build: fn(S) -> Result<Arc<dyn Task>, String>,
    changes_files: bool,
}

impl<S> FactoryOf<S> {
    /// A factory for a task that changes files in its `repository`.
    pub const fn new(
        name: &'static str,
        description: &'static str,
        build: fn(S) -> Result<Arc<dyn Task>, String>,
    ) -> Self {
        Self {
            name,
            description,
            build,
            changes_files: true,
        }
    }

    /// The same factory for a task that only sends its `repository` events (no `branch`, no
    /// `delivery`): see [`TaskFactory::changes_files`].
    pub const fn sends_events_only(self) -> Self {
        Self {
            changes_files: false,
            ..self
        }
    }
}

impl<S: serde::de::DeserializeOwned> TaskFactory for FactoryOf<S> {
    fn name(&self) -> &'static str {
        self.name
    }

    fn description(&self) -> &'static str {
        self.description
    }

    fn build(&self, settings: Settings<'_>) -> Result<Arc<dyn Task>, toml::de::Error> {
        let settings = settings.parse()?;
        (self.build)(settings).map_err(|problem| {
            <toml::de::Error as serde::de::Error>::custom(format!("settings: {problem}"))
        })
    }

    fn changes_files(&self) -> bool {
        self.changes_files
    }
}

/// A task crate's entry point: its name and how to build it from its settings.
pub trait TaskFactory: Send + Sync {
    /// The name used in `tasks.toml` and events (`checksums`).
    fn name(&self) -> &'static str;
    /// One line saying what the task does.
    fn description(&self) -> &'static str;
    /// Builds the task from its `settings` table.
    fn build(&self, settings: Settings<'_>) -> Result<Arc<dyn Task>, toml::de::Error>;
    /// Whether the task changes files in its `repository`, and so needs a `branch` and a
    /// `delivery` there; `false` for a task that only sends it events. Checked when
    /// `tasks.toml` loads, in both directions.
    fn changes_files(&self) -> bool {
        true
    }
}
