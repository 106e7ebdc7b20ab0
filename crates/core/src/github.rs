//! The narrow GitHub interfaces. Tasks only ever see [`RepoRead`]; the runner alone writes, through
//! [`RepoWrite`], [`PullRequests`], [`Issues`], [`Dispatches`] and [`Workflows`]. Each trait holds just the few
//! operations its users call, so a fake is a few lines and tests stay small.

use async_trait::async_trait;
use bytes::Bytes;

use crate::repo::RepoId;

/// A git commit id (40 hexadecimal characters), as GitHub returns it.
pub type CommitId = String;

/// Why a GitHub operation failed, sorted by what the caller can do about it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GitHubError {
    /// The repository, branch, file or object does not exist.
    #[error("not found: {0}")]
    NotFound(String),
    /// The write lost a race: the branch moved, the ref exists, the blob is stale (409 / 422 not a fast forward).
    #[error("conflict: {0}")]
    Conflict(String),
    /// GitHub refused the request as invalid (422).
    #[error("rejected by GitHub: {0}")]
    Rejected(String),
    /// The credentials are missing, wrong, or do not cover this request (401 / 403).
    #[error("not permitted: {0}")]
    Forbidden(String),
    /// The request did not succeed after the retry policy gave up (5xx, rate limits, network).
    #[error("GitHub unavailable: {0}")]
    Unavailable(String),
    /// Writes are refused by this client (dry run).
    #[error("write refused in dry run: {0}")]
    ReadOnly(String),
    /// Anything else: an unexpected answer.
    #[error("unexpected GitHub answer: {0}")]
    Other(String),
}

/// One file of a tree listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TreeFile {
    /// Its path from the repository root.
    pub path: String,
    /// Whether its mode is `100755`.
    pub executable: bool,
    /// The id of its content (GitHub: the git blob id): equal for two files exactly when their
    /// bytes are, so whole trees compare without reading every file.
    pub blob: String,
}

/// The path prefix of the files under directory `dir`: `""` for the repository's root, else
/// `dir/` (slashes around `dir` are ignored).
pub fn dir_prefix(dir: &str) -> String {
    match dir.trim_matches('/') {
        "" => String::new(),
        dir => format!("{dir}/"),
    }
}

/// Reading repository contents: all a task needs from GitHub.
#[async_trait]
pub trait RepoRead: Send + Sync {
    /// The commit `branch` points at, or `None` if there is no such branch.
    async fn branch_head(
        &self,
        repo: &RepoId,
        branch: &str,
    ) -> Result<Option<CommitId>, GitHubError>;
    /// A file's bytes at `reference` (a commit id, branch or tag), or `None` if it does not exist.
    async fn read_file(
        &self,
        repo: &RepoId,
        reference: &str,
        path: &str,
    ) -> Result<Option<Bytes>, GitHubError>;
    /// Every file under directory `dir` at commit `commit` (recursively; `""` for the whole
    /// repository), sorted by path, with its mode; `None` if there is no such directory.
    async fn list_files(
        &self,
        repo: &RepoId,
        commit: &str,
        dir: &str,
    ) -> Result<Option<Vec<TreeFile>>, GitHubError>;
    /// The names of every tag of `repo` (`9.1.0`, without `refs/tags/`), in no particular order.
    async fn list_tags(&self, repo: &RepoId) -> Result<Vec<String>, GitHubError>;
}

/// One file's new state in a commit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileWrite {
    /// Path inside the repository.
    pub path: String,
    /// The new bytes, or `None` to delete the file.
    pub content: Option<Bytes>,
    /// Whether the file is executable (`100755`).
    pub executable: bool,
}

/// A commit on a branch, as listed by a comparison.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommitSummary {
    /// Its id.
    pub id: CommitId,
    /// The GitHub login of its author, if GitHub links one. Derived from the author's e-mail,
    /// which anyone can write: for display only, never for trust.
    pub author_login: Option<String>,
    /// The first line of its message.
    pub subject: String,
    /// Its author's e-mail, as the commit records it.
    pub author_email: String,
    /// Its committer's e-mail: [`GITHUB_COMMITTER_EMAIL`] when GitHub itself made the commit.
    pub committer_email: String,
    /// Whether GitHub verified its signature (`commit.verification.verified`).
    pub verified: bool,
}

/// The committer e-mail of the commits GitHub makes and signs itself (its `web-flow` user):
/// those created through the API with an App installation token, without author or committer.
pub const GITHUB_COMMITTER_EMAIL: &str = "noreply@github.com";

impl CommitSummary {
    /// Whether this commit provably came from `identity` through GitHub's API: GitHub verified
    /// its signature, GitHub committed it, and its author is `identity`'s e-mail. An author
    /// e-mail alone (or `author_login`, derived from it) proves nothing; unsigned or
    /// git-pushed commits never pass.
    pub fn is_made_by(&self, identity: &Identity) -> bool {
        self.verified
            && self.committer_email == GITHUB_COMMITTER_EMAIL
            && self.author_email == identity.email
    }

    /// Why [`CommitSummary::is_made_by`] does not hold, in a few words.
    pub fn distrust(&self, identity: &Identity) -> Option<&'static str> {
        if !self.verified {
            Some("its signature is not verified by GitHub")
        } else if self.committer_email != GITHUB_COMMITTER_EMAIL {
            Some("GitHub did not commit it")
        } else if self.author_email != identity.email {
            Some("another author")
        } else {
            None
        }
    }
}

/// The account commits made by a client are attributed to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// Its GitHub login (e.g. `valkey-bot[bot]`).
    pub login: String,
    /// The author name on its commits (an App's bot: the login).
    pub name: String,
    /// The author email on its commits (e.g. `41898282+github-actions[bot]@users.noreply.github.com`).
    pub email: String,
}

impl Identity {
    /// The identity GitHub gives an account's commits when it keeps its email private:
    /// `<id>+<login>@users.noreply.github.com` (every App bot's commits carry this).
    pub fn noreply(id: u64, login: &str, name: Option<&str>) -> Self {
        Self {
            login: login.to_owned(),
            name: name.unwrap_or(login).to_owned(),
            email: format!("{id}+{login}@users.noreply.github.com"),
        }
    }

    /// `Name <email>`, as a `Signed-off-by:` trailer names the author.
    pub fn signoff(&self) -> String {
        format!("{} <{}>", self.name, self.email)
    }
}

/// Writing git data: commits GitHub signs, and compare-and-swap branch moves.
#[async_trait]
pub trait RepoWrite: Send + Sync {
    /// Who commits made by this client are attributed to.
    async fn own_identity(&self) -> Result<Identity, GitHubError>;
    /// Creates (without moving any branch) a commit of `files` on top of `parent`. No author is
    /// given, so GitHub signs it.
    async fn create_commit(
        &self,
        repo: &RepoId,
        parent: &str,
        files: &[FileWrite],
        message: &str,
    ) -> Result<CommitId, GitHubError>;
    /// Moves `branch` to `commit`. Without `force`, only a fast-forward is accepted (a branch
    /// already at `commit` is one), otherwise [`GitHubError::Conflict`].
    async fn move_branch(
        &self,
        repo: &RepoId,
        branch: &str,
        commit: &str,
        force: bool,
    ) -> Result<(), GitHubError>;
    /// Creates `branch` at `commit`. A branch that already points at `commit` is no error (the
    /// state asked for holds); one at another commit is [`GitHubError::Conflict`].
    async fn create_branch(
        &self,
        repo: &RepoId,
        branch: &str,
        commit: &str,
    ) -> Result<(), GitHubError>;
    /// The commits on `head` that are not on `base`, oldest first.
    async fn commits_between(
        &self,
        repo: &RepoId,
        base: &str,
        head: &str,
    ) -> Result<Vec<CommitSummary>, GitHubError>;
}

/// A pull request, as far as the bot cares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PullRequest {
    /// Its number.
    pub number: u64,
    /// Its web address.
    pub url: String,
    /// Its title.
    pub title: String,
    /// Its body.
    pub body: String,
    /// The head branch.
    pub head_branch: String,
    /// The head commit.
    pub head_commit: CommitId,
    /// The names of its labels.
    pub labels: Vec<String>,
}

/// Where a pull request stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PullRequestStatus {
    /// Open.
    Open,
    /// Merged into its base by this commit.
    Merged(CommitId),
    /// Closed without being merged.
    Closed,
}

/// A pull request in any state, with who opened it (what shadow mode compares with).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PullRequestRecord {
    /// The pull request.
    pub pull: PullRequest,
    /// The login of the account that opened it (`github-actions[bot]`).
    pub author: String,
    /// The branch it merges (or merged) into.
    pub base_branch: String,
    /// Open, merged or closed.
    pub status: PullRequestStatus,
}

/// What a pull request should say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PullRequestSpec {
    /// The branch with the changes.
    pub head_branch: String,
    /// The branch to merge into.
    pub base_branch: String,
    /// The title.
    pub title: String,
    /// The body (Markdown).
    pub body: String,
}

/// Opening and updating pull requests.
#[async_trait]
pub trait PullRequests: Send + Sync {
    /// The open pull request whose head is `head_branch` in `repo` itself, if any.
    async fn find_open(
        &self,
        repo: &RepoId,
        head_branch: &str,
    ) -> Result<Option<PullRequest>, GitHubError>;
    /// The pull request whose head is `head_branch` in `repo` itself, in any state: the open
    /// one if there is one, else the newest merged one, else the newest closed one.
    async fn find_latest(
        &self,
        repo: &RepoId,
        head_branch: &str,
    ) -> Result<Option<PullRequestRecord>, GitHubError>;
    /// Opens a pull request; [`GitHubError::Conflict`] if one is already open for its head branch.
    async fn open(&self, repo: &RepoId, spec: &PullRequestSpec)
    -> Result<PullRequest, GitHubError>;
    /// Sets the title and body of pull request `number`.
    async fn edit(
        &self,
        repo: &RepoId,
        number: u64,
        title: &str,
        body: &str,
    ) -> Result<PullRequest, GitHubError>;
    /// Adds labels to pull request or issue `number`.
    async fn add_labels(
        &self,
        repo: &RepoId,
        number: u64,
        labels: &[String],
    ) -> Result<(), GitHubError>;
    /// Removes `label` from pull request or issue `number`; a label it does not carry is no error.
    async fn remove_label(
        &self,
        repo: &RepoId,
        number: u64,
        label: &str,
    ) -> Result<(), GitHubError>;
}

/// An issue, as far as the bot cares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issue {
    /// Its number.
    pub number: u64,
    /// Its web address.
    pub url: String,
    /// Its title.
    pub title: String,
    /// Its body.
    pub body: String,
}

/// Finding, writing and commenting on issues (the release tracking issue).
#[async_trait]
pub trait Issues: Send + Sync {
    /// The open issue with exactly this title and label that this client's own account opened,
    /// if any. Issues anyone else opened are ignored: someone with triage access can open an
    /// issue and label it, so title and label prove nothing.
    async fn find_issue(
        &self,
        repo: &RepoId,
        title: &str,
        label: &str,
    ) -> Result<Option<Issue>, GitHubError>;
    /// Opens an issue with a label.
    async fn create_issue(
        &self,
        repo: &RepoId,
        title: &str,
        body: &str,
        label: &str,
    ) -> Result<Issue, GitHubError>;
    /// Replaces an issue's body.
    async fn edit_issue(
        &self,
        repo: &RepoId,
        number: u64,
        body: &str,
    ) -> Result<Issue, GitHubError>;
    /// Adds a comment.
    async fn comment(&self, repo: &RepoId, number: u64, body: &str) -> Result<(), GitHubError>;
    /// Closes an issue (closing a closed one is no error); [`Issues::find_issue`] no longer
    /// finds it.
    async fn close_issue(&self, repo: &RepoId, number: u64) -> Result<(), GitHubError>;
}

/// Sending `repository_dispatch` events.
#[async_trait]
pub trait Dispatches: Send + Sync {
    /// Sends event `event_type` with `payload` to `repo`.
    async fn dispatch(
        &self,
        repo: &RepoId,
        event_type: &str,
        payload: &serde_json::Value,
    ) -> Result<(), GitHubError>;
}

/// A GitHub Actions workflow run, as far as the bot cares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkflowRun {
    /// Its id.
    pub id: u64,
    /// Its web address (`https://github.com/o/r/actions/runs/ID`).
    pub html_url: String,
    /// `queued`, `in_progress`, `completed` (or another of GitHub's statuses: `waiting`, `pending`, `requested`).
    pub status: String,
    /// Once completed: `success`, `failure`, `cancelled`, `timed_out`, ...
    pub conclusion: Option<String>,
    /// Its title (a workflow's `run-name`; the bot's marker when the workflow shows it).
    pub display_title: String,
}

impl WorkflowRun {
    /// Whether it has finished.
    pub fn is_completed(&self) -> bool {
        self.status == "completed"
    }

    /// Whether it finished successfully.
    pub fn succeeded(&self) -> bool {
        self.is_completed() && self.conclusion.as_deref() == Some("success")
    }
}

/// The run a dispatch started (`return_run_details`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StartedRun {
    /// The run's id.
    pub id: u64,
    /// Its web address.
    pub html_url: String,
}

/// One job of a workflow run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkflowJob {
    /// Its name (`build (jammy, x86_64)`).
    pub name: String,
    /// `queued`, `in_progress`, `completed`, ...
    pub status: String,
    /// Once completed: `success`, `failure`, `cancelled`, `skipped`, ...
    pub conclusion: Option<String>,
    /// Its web address, if GitHub gives one.
    pub html_url: Option<String>,
}

/// Starting GitHub Actions workflows and following their runs.
#[async_trait]
pub trait Workflows: Send + Sync {
    /// Starts `workflow` (its file name, `build.yml`) of `repo` on `reference` with `inputs`
    /// (`workflow_dispatch`, asking for the run's details). [`GitHubError::NotFound`] for an
    /// unknown workflow, [`GitHubError::Rejected`] for an unknown or missing input.
    async fn dispatch_workflow(
        &self,
        repo: &RepoId,
        workflow: &str,
        reference: &str,
        inputs: &std::collections::BTreeMap<String, String>,
    ) -> Result<StartedRun, GitHubError>;
    /// Run `run_id` of `repo`, or `None` if there is none (yet).
    async fn get_run(&self, repo: &RepoId, run_id: u64)
    -> Result<Option<WorkflowRun>, GitHubError>;
    /// The jobs of run `run_id` (of its latest attempt).
    async fn list_jobs(&self, repo: &RepoId, run_id: u64) -> Result<Vec<WorkflowJob>, GitHubError>;
    /// The runs of `workflow` started by `workflow_dispatch`, newest first.
    /// [`GitHubError::NotFound`] for an unknown workflow.
    async fn list_runs(
        &self,
        repo: &RepoId,
        workflow: &str,
    ) -> Result<Vec<WorkflowRun>, GitHubError>;
}
