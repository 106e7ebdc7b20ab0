//! GitHub access per task from a GitHub App (or a plain token): each task gets a client whose
//! token is narrowed to its own repository and the permissions `tasks.toml` gives it; a dry run
//! gets `contents: read` behind a client that refuses every write.

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;
use valkey_bot_core::RepoId;
use valkey_bot_core::config::{Access as Level, Permission, TaskConfig};
use valkey_bot_core::github::{
    CommitId, CommitSummary, Dispatches, FileWrite, GitHubError, Identity, Issue, Issues,
    PullRequest, PullRequestSpec, PullRequests, RepoRead, RepoWrite, TreeFile,
};
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

/// The token scope a task gets: its repository, and its permissions (read-only in a dry run).
pub fn scope_for(task: &TaskConfig, repo: RepoId, access: Access) -> TokenScope {
    let permissions: BTreeMap<Permission, Level> = match access {
        Access::ReadOnly => BTreeMap::from([(Permission::Contents, Level::Read)]),
        Access::ReadWrite => {
            let mut permissions = task.permissions.clone();
            permissions
                .entry(Permission::Contents)
                .or_insert(Level::Read);
            permissions
        }
    };
    TokenScope::new(repo, permissions)
}

#[async_trait]
impl Connector for AppConnector {
    async fn connect(
        &self,
        task: &TaskConfig,
        target: Option<&Target>,
        access: Access,
    ) -> Result<Forge, GitHubError> {
        let Some(target) = target else {
            return Ok(Forge::single(Arc::new(NoRepository)));
        };
        let client = self
            .github
            .client_for(scope_for(task, target.repo.clone(), access))
            .await?;
        Ok(match access {
            Access::ReadOnly => Forge::single(Arc::new(ReadOnly(client))),
            Access::ReadWrite => Forge::single(Arc::new(client)),
        })
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

/// What a task without a `repository` gets: no GitHub access at all.
struct NoRepository;

fn refused() -> GitHubError {
    GitHubError::Forbidden(
        "this task has no `repository` in tasks.toml, so it has no GitHub access".into(),
    )
}

#[async_trait]
impl RepoRead for NoRepository {
    async fn branch_head(&self, _: &RepoId, _: &str) -> Result<Option<CommitId>, GitHubError> {
        Err(refused())
    }
    async fn read_file(&self, _: &RepoId, _: &str, _: &str) -> Result<Option<Bytes>, GitHubError> {
        Err(refused())
    }
    async fn list_files(
        &self,
        _: &RepoId,
        _: &str,
        _: &str,
    ) -> Result<Option<Vec<TreeFile>>, GitHubError> {
        Err(refused())
    }
    async fn list_tags(&self, _: &RepoId) -> Result<Vec<String>, GitHubError> {
        Err(refused())
    }
}

#[async_trait]
impl RepoWrite for NoRepository {
    async fn own_identity(&self) -> Result<Identity, GitHubError> {
        Err(refused())
    }
    async fn create_commit(
        &self,
        _: &RepoId,
        _: &str,
        _: &[FileWrite],
        _: &str,
    ) -> Result<CommitId, GitHubError> {
        Err(refused())
    }
    async fn move_branch(&self, _: &RepoId, _: &str, _: &str, _: bool) -> Result<(), GitHubError> {
        Err(refused())
    }
    async fn create_branch(&self, _: &RepoId, _: &str, _: &str) -> Result<(), GitHubError> {
        Err(refused())
    }
    async fn commits_between(
        &self,
        _: &RepoId,
        _: &str,
        _: &str,
    ) -> Result<Vec<CommitSummary>, GitHubError> {
        Err(refused())
    }
}

#[async_trait]
impl PullRequests for NoRepository {
    async fn find_open(&self, _: &RepoId, _: &str) -> Result<Option<PullRequest>, GitHubError> {
        Err(refused())
    }
    async fn open(&self, _: &RepoId, _: &PullRequestSpec) -> Result<PullRequest, GitHubError> {
        Err(refused())
    }
    async fn edit(&self, _: &RepoId, _: u64, _: &str, _: &str) -> Result<PullRequest, GitHubError> {
        Err(refused())
    }
    async fn add_labels(&self, _: &RepoId, _: u64, _: &[String]) -> Result<(), GitHubError> {
        Err(refused())
    }
    async fn remove_label(&self, _: &RepoId, _: u64, _: &str) -> Result<(), GitHubError> {
        Err(refused())
    }
}

#[async_trait]
impl Issues for NoRepository {
    async fn find_issue(&self, _: &RepoId, _: &str, _: &str) -> Result<Option<Issue>, GitHubError> {
        Err(refused())
    }
    async fn create_issue(
        &self,
        _: &RepoId,
        _: &str,
        _: &str,
        _: &str,
    ) -> Result<Issue, GitHubError> {
        Err(refused())
    }
    async fn edit_issue(&self, _: &RepoId, _: u64, _: &str) -> Result<Issue, GitHubError> {
        Err(refused())
    }
    async fn comment(&self, _: &RepoId, _: u64, _: &str) -> Result<(), GitHubError> {
        Err(refused())
    }
}

#[async_trait]
impl Dispatches for NoRepository {
    async fn dispatch(
        &self,
        _: &RepoId,
        _: &str,
        _: &serde_json::Value,
    ) -> Result<(), GitHubError> {
        Err(refused())
    }
}
