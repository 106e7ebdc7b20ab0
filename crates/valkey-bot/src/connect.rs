//! GitHub access per task from a GitHub App (or a plain token): each task gets a client whose
//! token is narrowed to its own repository and the permissions `tasks.toml` gives it; a dry run
//! gets their read half behind a client that refuses every write. A task without a
//! `repository` is never connected: it gets no GitHub access at all.

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;
use valkey_bot_core::RepoId;
use valkey_bot_core::config::{Access as Level, Permission, TaskConfig};
use valkey_bot_core::github::{GitHubError, Issues, PullRequests};
use valkey_bot_core::task::Target;
use valkey_bot_github::{GitHub, ReadOnly, TokenScope};

use crate::forge::{Access, Connector, Forge};

/// Mints one narrowed client per task.
pub struct AppConnector {
    github: GitHub,
}

impl AppConnector {
    /// Connects tasks through `github`.
    pub fn new(github: GitHub) -> Self {
        Self { github }
    }
}

/// The token scope a task gets: its repository, and exactly the permissions `tasks.toml` gives
/// it (`contents: read` for a task that gives none). Read-only (a dry run, shadow mode): the read
/// half of each of them, so a shadow run finds the old automation's pull requests and a dry run
/// of a workflow task the runs already made.
pub fn scope_for(task: &TaskConfig, repo: RepoId, access: Access) -> TokenScope {
    let mut permissions: BTreeMap<Permission, Level> = match access {
        Access::ReadOnly => task
            .permissions
            .keys()
            .map(|permission| (*permission, Level::Read))
            .collect(),
        Access::ReadWrite => task.permissions.clone(),
    };
    if permissions.is_empty() {
        permissions.insert(Permission::Contents, Level::Read);
    }
    TokenScope::new(repo, permissions)
}

#[async_trait]
impl Connector for AppConnector {
    async fn connect(
        &self,
        task: &TaskConfig,
        target: &Target,
        access: Access,
    ) -> Result<Forge, GitHubError> {
        let client = self
            .github
            .client_for(scope_for(task, target.repo.clone(), access))
            .await?;
        Ok(match access {
            Access::ReadOnly => Forge::single(Arc::new(ReadOnly(client))),
            Access::ReadWrite => Forge::single(Arc::new(client)),
        })
    }

    async fn pulls(
        &self,
        task: &TaskConfig,
        target: &Target,
    ) -> Result<Arc<dyn PullRequests>, GitHubError> {
        let client = self
            .github
            .client_for(scope_for(task, target.repo.clone(), Access::ReadWrite))
            .await?;
        Ok(Arc::new(client))
    }

    async fn issues(&self, repo: &RepoId) -> Result<Arc<dyn Issues>, GitHubError> {
        let permissions = BTreeMap::from([(Permission::Issues, Level::Write)]);
        let client = self
            .github
            .client_for(TokenScope::new(repo.clone(), permissions))
            .await?;
        Ok(Arc::new(client))
    }
}
