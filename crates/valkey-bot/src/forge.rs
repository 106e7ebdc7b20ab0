//! GitHub access, each consumer with the narrowest handle it uses: the runner asks a
//! [`Connector`] for a [`Forge`] scoped to a task's repository and permissions (a narrowed App
//! token in production) to plan and deliver; the failed-run labels get the task's pull requests
//! alone; the tracking issue gets issues alone. A task without a `repository` gets nothing.

use std::sync::Arc;

use async_trait::async_trait;
use valkey_bot_core::RepoId;
use valkey_bot_core::config::TaskConfig;
use valkey_bot_core::github::{
    Dispatches, GitHubError, Issues, PullRequests, RepoRead, RepoWrite, Workflows,
};
use valkey_bot_core::task::Target;

use crate::settle::Settle;

/// What the runner uses while it plans and delivers one task: no issues (delivery writes none).
#[derive(Clone)]
pub struct Forge {
    /// Reads (also handed to the task).
    pub read: Arc<dyn RepoRead>,
    /// Commits and branch moves.
    pub write: Arc<dyn RepoWrite>,
    /// Pull requests.
    pub pulls: Arc<dyn PullRequests>,
    /// Events sent to other repositories.
    pub dispatches: Arc<dyn Dispatches>,
    /// Workflows started and their runs followed.
    pub workflows: Arc<dyn Workflows>,
    /// How reads of what was just written are repeated while GitHub lags.
    pub settle: Settle,
}

impl Forge {
    /// A forge whose every operation goes to `github`.
    pub fn single<G>(github: Arc<G>) -> Self
    where
        G: RepoRead + RepoWrite + PullRequests + Dispatches + Workflows + 'static,
    {
        Self {
            read: github.clone(),
            write: github.clone(),
            pulls: github.clone(),
            dispatches: github.clone(),
            workflows: github,
            settle: Settle::default(),
        }
    }
}

/// Whether the task's GitHub access may write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Dry run: reads only; the connector hands out clients that refuse writes.
    ReadOnly,
    /// Reads and the writes the task's permissions allow.
    ReadWrite,
}

/// Hands out GitHub access.
#[async_trait]
pub trait Connector: Send + Sync {
    /// Access for `task` to `target`, its repository in this run.
    async fn connect(
        &self,
        task: &TaskConfig,
        target: &Target,
        access: Access,
    ) -> Result<Forge, GitHubError>;
    /// The pull requests of `target` with `task`'s permissions (the failed-run label).
    async fn pulls(
        &self,
        task: &TaskConfig,
        target: &Target,
    ) -> Result<Arc<dyn PullRequests>, GitHubError>;
    /// Issue access to `repo` for the run itself (the release tracking issue).
    async fn issues(&self, repo: &RepoId) -> Result<Arc<dyn Issues>, GitHubError>;
}

/// A connector that hands everyone the same GitHub (tests, and the single-token fallback).
pub struct SharedGitHub<G>(pub Arc<G>);

#[async_trait]
impl<G> Connector for SharedGitHub<G>
where
    G: RepoRead + RepoWrite + PullRequests + Dispatches + Workflows + Issues + 'static,
{
    async fn connect(
        &self,
        _task: &TaskConfig,
        _target: &Target,
        _access: Access,
    ) -> Result<Forge, GitHubError> {
        Ok(Forge::single(Arc::clone(&self.0)))
    }

    async fn pulls(
        &self,
        _task: &TaskConfig,
        _target: &Target,
    ) -> Result<Arc<dyn PullRequests>, GitHubError> {
        Ok(Arc::clone(&self.0) as Arc<dyn PullRequests>)
    }

    async fn issues(&self, _repo: &RepoId) -> Result<Arc<dyn Issues>, GitHubError> {
        Ok(Arc::clone(&self.0) as Arc<dyn Issues>)
    }
}
