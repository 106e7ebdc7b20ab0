//! [`ReadOnly`]: defence in depth behind the runner's dry run. Reads pass through; every write
//! answers [`GitHubError::ReadOnly`] without sending anything.

use async_trait::async_trait;
use bytes::Bytes;
use valkey_bot_core::RepoId;
use valkey_bot_core::github::{
    CommitId, CommitSummary, Dispatches, FileWrite, GitHubError, Identity, Issue, Issues,
    PullRequest, PullRequestRecord, PullRequestSpec, PullRequests, RepoRead, RepoWrite, StartedRun,
    TreeFile, WorkflowJob, WorkflowRun, Workflows,
};

/// Wraps a client so that it cannot write. The read-only operations of the write traits
/// (`own_identity`, `commits_between`, `find_open`, `find_latest`, `find_issue`) still pass through, so a dry run
/// can tell what it would do.
#[derive(Debug, Clone)]
pub struct ReadOnly<T>(pub T);

fn refused(what: String) -> GitHubError {
    GitHubError::ReadOnly(what)
}

#[async_trait]
impl<T: RepoRead> RepoRead for ReadOnly<T> {
    async fn branch_head(
        &self,
        repo: &RepoId,
        branch: &str,
    ) -> Result<Option<CommitId>, GitHubError> {
        self.0.branch_head(repo, branch).await
    }

    async fn read_file(
        &self,
        repo: &RepoId,
        reference: &str,
        path: &str,
    ) -> Result<Option<Bytes>, GitHubError> {
        self.0.read_file(repo, reference, path).await
    }

    async fn list_files(
        &self,
        repo: &RepoId,
        commit: &str,
        dir: &str,
    ) -> Result<Option<Vec<TreeFile>>, GitHubError> {
        self.0.list_files(repo, commit, dir).await
    }

    async fn list_tags(&self, repo: &RepoId) -> Result<Vec<String>, GitHubError> {
        self.0.list_tags(repo).await
    }
}

#[async_trait]
impl<T: RepoWrite> RepoWrite for ReadOnly<T> {
    async fn own_identity(&self) -> Result<Identity, GitHubError> {
        self.0.own_identity().await
    }

    async fn create_commit(
        &self,
        repo: &RepoId,
        parent: &str,
        files: &[FileWrite],
        _message: &str,
    ) -> Result<CommitId, GitHubError> {
        Err(refused(format!(
            "commit of {} file(s) on {parent} in {repo}",
            files.len()
        )))
    }

    async fn move_branch(
        &self,
        repo: &RepoId,
        branch: &str,
        commit: &str,
        _force: bool,
    ) -> Result<(), GitHubError> {
        Err(refused(format!("move {repo} branch {branch} to {commit}")))
    }

    async fn create_branch(
        &self,
        repo: &RepoId,
        branch: &str,
        commit: &str,
    ) -> Result<(), GitHubError> {
        Err(refused(format!(
            "create {repo} branch {branch} at {commit}"
        )))
    }

    async fn commits_between(
        &self,
        repo: &RepoId,
        base: &str,
        head: &str,
    ) -> Result<Vec<CommitSummary>, GitHubError> {
        self.0.commits_between(repo, base, head).await
    }
}

#[async_trait]
impl<T: PullRequests> PullRequests for ReadOnly<T> {
    async fn find_open(
        &self,
        repo: &RepoId,
        head_branch: &str,
    ) -> Result<Option<PullRequest>, GitHubError> {
        self.0.find_open(repo, head_branch).await
    }

    async fn find_latest(
        &self,
        repo: &RepoId,
        head_branch: &str,
    ) -> Result<Option<PullRequestRecord>, GitHubError> {
        self.0.find_latest(repo, head_branch).await
    }

    async fn open(
        &self,
        repo: &RepoId,
        spec: &PullRequestSpec,
    ) -> Result<PullRequest, GitHubError> {
        Err(refused(format!(
            "open a pull request from {} in {repo}",
            spec.head_branch
        )))
    }

    async fn edit(
        &self,
        repo: &RepoId,
        number: u64,
        _title: &str,
        _body: &str,
    ) -> Result<PullRequest, GitHubError> {
        Err(refused(format!("edit pull request {repo}#{number}")))
    }

    async fn add_labels(
        &self,
        repo: &RepoId,
        number: u64,
        labels: &[String],
    ) -> Result<(), GitHubError> {
        Err(refused(format!(
            "label {repo}#{number} with {}",
            labels.join(", ")
        )))
    }

    async fn remove_label(
        &self,
        repo: &RepoId,
        number: u64,
        label: &str,
    ) -> Result<(), GitHubError> {
        Err(refused(format!(
            "remove label {label} from {repo}#{number}"
        )))
    }
}

#[async_trait]
impl<T: Issues> Issues for ReadOnly<T> {
    async fn find_issue(
        &self,
        repo: &RepoId,
        title: &str,
        label: &str,
    ) -> Result<Option<Issue>, GitHubError> {
        self.0.find_issue(repo, title, label).await
    }

    async fn create_issue(
        &self,
        repo: &RepoId,
        title: &str,
        _body: &str,
        _label: &str,
    ) -> Result<Issue, GitHubError> {
        Err(refused(format!("open issue {title:?} in {repo}")))
    }

    async fn edit_issue(
        &self,
        repo: &RepoId,
        number: u64,
        _body: &str,
    ) -> Result<Issue, GitHubError> {
        Err(refused(format!("edit issue {repo}#{number}")))
    }

    async fn comment(&self, repo: &RepoId, number: u64, _body: &str) -> Result<(), GitHubError> {
        Err(refused(format!("comment on {repo}#{number}")))
    }

    async fn close_issue(&self, repo: &RepoId, number: u64) -> Result<(), GitHubError> {
        Err(refused(format!("close issue {repo}#{number}")))
    }
}

#[async_trait]
impl<T: Dispatches> Dispatches for ReadOnly<T> {
    async fn dispatch(
        &self,
        repo: &RepoId,
        event_type: &str,
        _payload: &serde_json::Value,
    ) -> Result<(), GitHubError> {
        Err(refused(format!("dispatch {event_type} to {repo}")))
    }
}

#[async_trait]
impl<T: Workflows> Workflows for ReadOnly<T> {
    async fn dispatch_workflow(
        &self,
        repo: &RepoId,
        workflow: &str,
        reference: &str,
        _inputs: &std::collections::BTreeMap<String, String>,
    ) -> Result<StartedRun, GitHubError> {
        Err(refused(format!(
            "start workflow {workflow} of {repo} on {reference}"
        )))
    }

    async fn get_run(
        &self,
        repo: &RepoId,
        run_id: u64,
    ) -> Result<Option<WorkflowRun>, GitHubError> {
        self.0.get_run(repo, run_id).await
    }

    async fn list_jobs(&self, repo: &RepoId, run_id: u64) -> Result<Vec<WorkflowJob>, GitHubError> {
        self.0.list_jobs(repo, run_id).await
    }

    async fn list_runs(
        &self,
        repo: &RepoId,
        workflow: &str,
    ) -> Result<Vec<WorkflowRun>, GitHubError> {
        self.0.list_runs(repo, workflow).await
    }
}
