//! GitHub access for one task: the runner asks a [`Connector`] for a [`Forge`] scoped to the
//! task's repository and permissions (a narrowed App token in production).

use std::sync::Arc;

use async_trait::async_trait;
use valkey_bot_core::RepoId;
use valkey_bot_core::config::TaskConfig;
use valkey_bot_core::github::{Dispatches, GitHubError, Issues, PullRequests, RepoRead, RepoWrite};
use valkey_bot_core::task::Target;

/// The GitHub operations available to the runner while it handles one task.
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
    /// Issues and comments.
    pub issues: Arc<dyn Issues>,
}

impl Forge {
    /// A forge whose every operation goes to `github`.
    pub fn single<G>(github: Arc<G>) -> Self
    where
        G: RepoRead + RepoWrite + PullRequests + Dispatches + Issues + 'static,
    {
        Self {
            read: github.clone(),
            write: github.clone(),
            pulls: github.clone(),
            dispatches: github.clone(),
            issues: github,
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

/// Hands out GitHub access per task.
#[async_trait]
pub trait Connector: Send + Sync {
    /// Access for `task`, whose target in this run is `target`.
    async fn connect(
        &self,
        task: &TaskConfig,
        target: Option<&Target>,
        access: Access,
    ) -> Result<Forge, GitHubError>;
    /// Issue access to `repo` for the run itself (the release tracking issue).
    async fn issues(&self, repo: &RepoId) -> Result<Arc<dyn Issues>, GitHubError>;
}

/// A connector that hands every task the same forge (tests, and the single-token fallback).
pub struct SharedForge(pub Forge);

#[async_trait]
impl Connector for SharedForge {
    async fn connect(
        &self,
        _task: &TaskConfig,
        _target: Option<&Target>,
        _access: Access,
    ) -> Result<Forge, GitHubError> {
        Ok(self.0.clone())
    }

    async fn issues(&self, _repo: &RepoId) -> Result<Arc<dyn Issues>, GitHubError> {
        Ok(Arc::clone(&self.0.issues))
    }
}
