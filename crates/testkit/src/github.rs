//! A GitHub kept in memory: branches point at commits, each commit holds a full snapshot of its
//! files. Every write is recorded, so tests assert on the exact list of mutations.

use std::collections::BTreeMap;
use std::sync::Mutex;

use async_trait::async_trait;
use bytes::Bytes;
use sha2::{Digest, Sha256};
use valkey_bot_core::RepoId;
use valkey_bot_core::github::{
    CommitId, CommitSummary, Dispatches, FileWrite, GitHubError, Identity, Issue, Issues,
    PullRequest, PullRequestRecord, PullRequestSpec, PullRequestStatus, PullRequests, RepoRead,
    RepoWrite, StartedRun, TreeFile, WorkflowJob, WorkflowRun, Workflows, dir_prefix,
};

use crate::downloads::lock;

/// A write the fake GitHub received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Write {
    /// A commit was created.
    Commit {
        /// Repository.
        repo: String,
        /// Its message.
        message: String,
    },
    /// A branch was moved (`force` as asked).
    MoveBranch {
        /// Repository.
        repo: String,
        /// Branch.
        branch: String,
        /// Whether it was a forced move.
        force: bool,
    },
    /// A branch was created.
    CreateBranch {
        /// Repository.
        repo: String,
        /// Branch.
        branch: String,
    },
    /// A pull request was opened.
    OpenPullRequest {
        /// Repository.
        repo: String,
        /// Head branch.
        branch: String,
    },
    /// A pull request was edited.
    EditPullRequest {
        /// Repository.
        repo: String,
        /// Number.
        number: u64,
    },
    /// Labels were added.
    Label {
        /// Repository.
        repo: String,
        /// Number.
        number: u64,
    },
    /// A label was removed.
    Unlabel {
        /// Repository.
        repo: String,
        /// Number.
        number: u64,
    },
    /// An issue was opened.
    CreateIssue {
        /// Repository.
        repo: String,
        /// Title.
        title: String,
    },
    /// An issue body was replaced.
    EditIssue {
        /// Repository.
        repo: String,
        /// Number.
        number: u64,
    },
    /// An issue was closed.
    CloseIssue {
        /// Repository.
        repo: String,
        /// Number.
        number: u64,
    },
    /// A comment was added.
    Comment {
        /// Repository.
        repo: String,
        /// Number.
        number: u64,
    },
    /// A `repository_dispatch` was sent.
    Dispatch {
        /// Repository.
        repo: String,
        /// Event type.
        event_type: String,
    },
    /// A workflow was started (`workflow_dispatch`).
    DispatchWorkflow {
        /// Repository.
        repo: String,
        /// Workflow file.
        workflow: String,
    },
}

/// A workflow of the fake GitHub (see [`MemoryGitHub::seed_workflow`]). Its runs complete at
/// once (the fake does not model time; the sandbox does).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemoryWorkflow {
    /// Its inputs, with whether each is required.
    pub inputs: Vec<(String, bool)>,
    /// The input whose value is a run's title (`run-name: ${{ inputs.NAME }}`); without it (or
    /// without a value) the title is the workflow's file name.
    pub title_input: Option<String>,
    /// The conclusion of every run: `success`, `failure`, `cancelled`.
    pub conclusion: String,
    /// The jobs of every run, with their conclusion.
    pub jobs: Vec<(String, String)>,
}

/// A file in a commit: its bytes and whether its mode is `100755`.
#[derive(Clone)]
struct StoredFile {
    bytes: Bytes,
    executable: bool,
}

#[derive(Clone)]
struct Commit {
    parent: Option<CommitId>,
    files: BTreeMap<String, StoredFile>,
    subject: String,
    author: String,
    /// Made through the API (GitHub signed and committed it), not pushed (see [`MemoryGitHub::seed`]).
    signed: bool,
}

#[derive(Default)]
struct State {
    commits: BTreeMap<CommitId, Commit>,
    branches: BTreeMap<(RepoId, String), CommitId>,
    tags: BTreeMap<(RepoId, String), CommitId>,
    /// `repo@reference:path` of every `read_file`, in order.
    reads: Vec<String>,
    pulls: Vec<(RepoId, PullRequest)>,
    /// The base branch of each pull request, by repository and number.
    pull_bases: BTreeMap<(RepoId, u64), String>,
    /// Each issue with its label and the login that opened it.
    issues: Vec<(RepoId, Issue, String, String)>,
    /// Closed issues: no longer found.
    closed: Vec<(RepoId, u64)>,
    comments: Vec<(RepoId, u64, String)>,
    labels: Vec<(RepoId, u64, String)>,
    writes: Vec<Write>,
    workflows: BTreeMap<(RepoId, String), MemoryWorkflow>,
    /// Every run started: repository, workflow, run.
    runs: Vec<(RepoId, String, WorkflowRun)>,
    fail_next_move: Option<GitHubError>,
    /// Whether commits ignore the modes they are given (see [`MemoryGitHub::lose_modes`]).
    lose_modes: bool,
}

/// The user id in the noreply email of a [`MemoryGitHub`]'s own commits.
pub const MEMORY_USER_ID: u64 = 4242;

/// An in-memory GitHub implementing every narrow interface.
pub struct MemoryGitHub {
    login: String,
    state: Mutex<State>,
}

impl Default for MemoryGitHub {
    fn default() -> Self {
        Self::new("valkey-bot[bot]")
    }
}

impl MemoryGitHub {
    /// A GitHub where this client's commits are attributed to `login`.
    pub fn new(login: &str) -> Self {
        Self {
            login: login.to_owned(),
            state: Mutex::new(State::default()),
        }
    }

    /// Creates (or moves) `branch` to a new commit by `author` holding exactly `files`, none
    /// of them executable.
    pub fn seed(
        &self,
        repo: &RepoId,
        branch: &str,
        author: &str,
        files: &[(&str, &[u8])],
    ) -> CommitId {
        let files: Vec<(&str, &[u8], bool)> = files
            .iter()
            .map(|(path, bytes)| (*path, *bytes, false))
            .collect();
        self.seed_with_modes(repo, branch, author, &files)
    }

    /// Like [`MemoryGitHub::seed`], with each file's executable bit.
    pub fn seed_with_modes(
        &self,
        repo: &RepoId,
        branch: &str,
        author: &str,
        files: &[(&str, &[u8], bool)],
    ) -> CommitId {
        let mut state = lock(&self.state);
        let parent = state
            .branches
            .get(&(repo.clone(), branch.to_owned()))
            .cloned();
        let commit = Commit {
            parent,
            files: files
                .iter()
                .map(|(path, bytes, executable)| {
                    let file = StoredFile {
                        bytes: Bytes::copy_from_slice(bytes),
                        executable: *executable,
                    };
                    ((*path).to_owned(), file)
                })
                .collect(),
            subject: "seed".into(),
            author: author.to_owned(),
            signed: false,
        };
        let id = commit_id(&commit);
        state.commits.insert(id.clone(), commit);
        state
            .branches
            .insert((repo.clone(), branch.to_owned()), id.clone());
        id
    }

    /// Creates tag `tag` of `repo` at a new commit holding exactly `files` (a release tag).
    pub fn seed_tag(&self, repo: &RepoId, tag: &str, files: &[(&str, &[u8])]) -> CommitId {
        let mut state = lock(&self.state);
        let commit = Commit {
            parent: None,
            files: files
                .iter()
                .map(|(path, bytes)| {
                    let file = StoredFile {
                        bytes: Bytes::copy_from_slice(bytes),
                        executable: false,
                    };
                    ((*path).to_owned(), file)
                })
                .collect(),
            subject: format!("tag {tag}"),
            author: "seed".into(),
            signed: false,
        };
        let id = commit_id(&commit);
        state.commits.insert(id.clone(), commit);
        state
            .tags
            .insert((repo.clone(), tag.to_owned()), id.clone());
        id
    }

    /// Declares `workflow` (a file name) in `repo`, replacing any earlier declaration.
    pub fn seed_workflow(&self, repo: &RepoId, workflow: &str, declared: MemoryWorkflow) {
        lock(&self.state)
            .workflows
            .insert((repo.clone(), workflow.to_owned()), declared);
    }

    /// Every file read so far, as `repo@reference:path`, in order.
    pub fn reads(&self) -> Vec<String> {
        lock(&self.state).reads.clone()
    }

    /// The file at the head of `branch`.
    pub fn file(&self, repo: &RepoId, branch: &str, path: &str) -> Option<Bytes> {
        let state = lock(&self.state);
        let head = state.branches.get(&(repo.clone(), branch.to_owned()))?;
        let file = state.commits.get(head)?.files.get(path)?;
        Some(file.bytes.clone())
    }

    /// The subjects of the commits on `branch`, newest first.
    pub fn log(&self, repo: &RepoId, branch: &str) -> Vec<String> {
        let state = lock(&self.state);
        let mut next = state
            .branches
            .get(&(repo.clone(), branch.to_owned()))
            .cloned();
        let mut subjects = Vec::new();
        while let Some(commit) = next.and_then(|id| state.commits.get(&id)) {
            subjects.push(commit.subject.clone());
            next = commit.parent.clone();
        }
        subjects
    }

    /// Every write received, in order.
    pub fn writes(&self) -> Vec<Write> {
        lock(&self.state).writes.clone()
    }

    /// Open pull requests of `repo`.
    pub fn pull_requests(&self, repo: &RepoId) -> Vec<PullRequest> {
        lock(&self.state)
            .pulls
            .iter()
            .filter(|(r, _)| r == repo)
            .map(|(_, pr)| pr.clone())
            .collect()
    }

    /// Issues of `repo`, with their label.
    pub fn issues(&self, repo: &RepoId) -> Vec<Issue> {
        lock(&self.state)
            .issues
            .iter()
            .filter(|(r, ..)| r == repo)
            .map(|(_, issue, ..)| issue.clone())
            .collect()
    }

    /// Opens an issue as someone else (`author`), as a person with triage access could: a decoy
    /// of the release tracking issue, for example.
    pub fn plant_issue(
        &self,
        repo: &RepoId,
        title: &str,
        body: &str,
        label: &str,
        author: &str,
    ) -> Issue {
        let mut state = lock(&self.state);
        let number = (state.pulls.len() + state.issues.len() + 1) as u64;
        let issue = Issue {
            number,
            url: format!("https://github.com/{repo}/issues/{number}"),
            title: title.to_owned(),
            body: body.to_owned(),
        };
        state.issues.push((
            repo.clone(),
            issue.clone(),
            label.to_owned(),
            author.to_owned(),
        ));
        issue
    }

    /// Comments on issue or pull request `number` of `repo`.
    pub fn comments(&self, repo: &RepoId, number: u64) -> Vec<String> {
        lock(&self.state)
            .comments
            .iter()
            .filter(|(r, n, _)| r == repo && *n == number)
            .map(|(.., body)| body.clone())
            .collect()
    }

    /// Labels on issue or pull request `number` of `repo`.
    pub fn labels(&self, repo: &RepoId, number: u64) -> Vec<String> {
        lock(&self.state)
            .labels
            .iter()
            .filter(|(r, n, _)| r == repo && *n == number)
            .map(|(.., label)| label.clone())
            .collect()
    }

    /// From now on, commits store every file as not executable, whatever they are given: a
    /// GitHub that loses modes, so that the runner's verification of modes can be tested.
    pub fn lose_modes(&self) {
        lock(&self.state).lose_modes = true;
    }

    /// Makes the next branch move fail with `error` (e.g. a conflict).
    pub fn fail_next_move(&self, error: GitHubError) {
        lock(&self.state).fail_next_move = Some(error);
    }

    fn snapshot(&self, repo: &RepoId, reference: &str) -> Option<BTreeMap<String, StoredFile>> {
        let state = lock(&self.state);
        let id = state
            .branches
            .get(&(repo.clone(), reference.to_owned()))
            .or_else(|| state.tags.get(&(repo.clone(), reference.to_owned())))
            .cloned()
            .unwrap_or_else(|| reference.to_owned());
        state.commits.get(&id).map(|c| c.files.clone())
    }
}

fn commit_id(commit: &Commit) -> CommitId {
    let mut hasher = Sha256::new();
    hasher.update(commit.parent.as_deref().unwrap_or("root"));
    hasher.update(&commit.subject);
    for (path, file) in &commit.files {
        hasher.update(path);
        hasher.update(&file.bytes);
        hasher.update([u8::from(file.executable)]);
    }
    let digest = hasher.finalize();
    digest.iter().take(20).map(|b| format!("{b:02x}")).collect()
}

fn missing(what: String) -> GitHubError {
    GitHubError::NotFound(what)
}

#[async_trait]
impl RepoRead for MemoryGitHub {
    async fn branch_head(
        &self,
        repo: &RepoId,
        branch: &str,
    ) -> Result<Option<CommitId>, GitHubError> {
        Ok(lock(&self.state)
            .branches
            .get(&(repo.clone(), branch.to_owned()))
            .cloned())
    }

    async fn read_file(
        &self,
        repo: &RepoId,
        reference: &str,
        path: &str,
    ) -> Result<Option<Bytes>, GitHubError> {
        lock(&self.state)
            .reads
            .push(format!("{repo}@{reference}:{path}"));
        let files = self
            .snapshot(repo, reference)
            .ok_or_else(|| missing(format!("{repo}@{reference}")))?;
        Ok(files.get(path).map(|file| file.bytes.clone()))
    }

    async fn list_files(
        &self,
        repo: &RepoId,
        commit: &str,
        dir: &str,
    ) -> Result<Option<Vec<TreeFile>>, GitHubError> {
        let files = self
            .snapshot(repo, commit)
            .ok_or_else(|| missing(format!("{repo}@{commit}")))?;
        let prefix = dir_prefix(dir);
        let listed: Vec<TreeFile> = files
            .iter()
            .filter(|(path, _)| path.starts_with(&prefix))
            .map(|(path, file)| TreeFile {
                path: path.clone(),
                executable: file.executable,
                blob: Sha256::digest(&file.bytes)
                    .iter()
                    .map(|b| format!("{b:02x}"))
                    .collect(),
            })
            .collect();
        // A directory exists in git only while it holds a file.
        Ok((prefix.is_empty() || !listed.is_empty()).then_some(listed))
    }

    async fn list_tags(&self, repo: &RepoId) -> Result<Vec<String>, GitHubError> {
        Ok(lock(&self.state)
            .tags
            .keys()
            .filter(|(r, _)| r == repo)
            .map(|(_, tag)| tag.clone())
            .collect())
    }
}

#[async_trait]
impl RepoWrite for MemoryGitHub {
    async fn own_identity(&self) -> Result<Identity, GitHubError> {
        Ok(Identity::noreply(MEMORY_USER_ID, &self.login, None))
    }

    async fn create_commit(
        &self,
        repo: &RepoId,
        parent: &str,
        files: &[FileWrite],
        message: &str,
    ) -> Result<CommitId, GitHubError> {
        let mut state = lock(&self.state);
        let base = state
            .commits
            .get(parent)
            .ok_or_else(|| missing(format!("commit {parent}")))?;
        let mut snapshot = base.files.clone();
        let lose_modes = state.lose_modes;
        for write in files {
            match &write.content {
                Some(bytes) => snapshot.insert(
                    write.path.clone(),
                    StoredFile {
                        bytes: bytes.clone(),
                        executable: write.executable && !lose_modes,
                    },
                ),
                None => snapshot.remove(&write.path),
            };
        }
        let commit = Commit {
            parent: Some(parent.to_owned()),
            files: snapshot,
            subject: message.lines().next().unwrap_or_default().to_owned(),
            author: self.login.clone(),
            signed: true,
        };
        let id = commit_id(&commit);
        state.commits.insert(id.clone(), commit);
        state.writes.push(Write::Commit {
            repo: repo.to_string(),
            message: message.to_owned(),
        });
        Ok(id)
    }

    async fn move_branch(
        &self,
        repo: &RepoId,
        branch: &str,
        commit: &str,
        force: bool,
    ) -> Result<(), GitHubError> {
        let mut state = lock(&self.state);
        if let Some(error) = state.fail_next_move.take() {
            return Err(error);
        }
        let key = (repo.clone(), branch.to_owned());
        let current = state
            .branches
            .get(&key)
            .cloned()
            .ok_or_else(|| missing(format!("branch {branch}")))?;
        if !force && !descends(&state, commit, &current) {
            return Err(GitHubError::Conflict("Update is not a fast forward".into()));
        }
        state.branches.insert(key, commit.to_owned());
        state.writes.push(Write::MoveBranch {
            repo: repo.to_string(),
            branch: branch.to_owned(),
            force,
        });
        Ok(())
    }

    async fn create_branch(
        &self,
        repo: &RepoId,
        branch: &str,
        commit: &str,
    ) -> Result<(), GitHubError> {
        let mut state = lock(&self.state);
        let key = (repo.clone(), branch.to_owned());
        match state.branches.get(&key) {
            // The state asked for holds, as with GitHub's client.
            Some(current) if current == commit => return Ok(()),
            Some(_) => return Err(GitHubError::Conflict("Reference already exists".into())),
            None => {}
        }
        state.branches.insert(key, commit.to_owned());
        state.writes.push(Write::CreateBranch {
            repo: repo.to_string(),
            branch: branch.to_owned(),
        });
        Ok(())
    }

    async fn commits_between(
        &self,
        repo: &RepoId,
        base: &str,
        head: &str,
    ) -> Result<Vec<CommitSummary>, GitHubError> {
        let state = lock(&self.state);
        let resolve = |reference: &str| {
            state
                .branches
                .get(&(repo.clone(), reference.to_owned()))
                .cloned()
                .unwrap_or_else(|| reference.to_owned())
        };
        let base = resolve(base);
        let mut next = Some(resolve(head));
        let mut commits = Vec::new();
        while let Some(id) = next.filter(|id| *id != base && !descends(&state, &base, id)) {
            let Some(commit) = state.commits.get(&id) else {
                break;
            };
            // A commit made through this fake's API is GitHub's, signed; a seeded one was pushed
            // by its author with git, unsigned.
            let author_email = Identity::noreply(MEMORY_USER_ID, &commit.author, None).email;
            commits.push(CommitSummary {
                id: id.clone(),
                author_login: Some(commit.author.clone()),
                subject: commit.subject.clone(),
                committer_email: if commit.signed {
                    valkey_bot_core::github::GITHUB_COMMITTER_EMAIL.to_owned()
                } else {
                    author_email.clone()
                },
                author_email,
                verified: commit.signed,
            });
            next = commit.parent.clone();
        }
        commits.reverse();
        Ok(commits)
    }
}

/// The labels of pull request `number` of `repo`, in the order they were added.
fn labels_of(state: &State, repo: &RepoId, number: u64) -> Vec<String> {
    state
        .labels
        .iter()
        .filter(|(r, n, _)| r == repo && *n == number)
        .map(|(_, _, label)| label.clone())
        .collect()
}

/// Whether `descendant` is `ancestor` or has it in its history.
fn descends(state: &State, descendant: &str, ancestor: &str) -> bool {
    let mut next = Some(descendant.to_owned());
    while let Some(id) = next {
        if id == ancestor {
            return true;
        }
        next = state.commits.get(&id).and_then(|c| c.parent.clone());
    }
    false
}

#[async_trait]
impl PullRequests for MemoryGitHub {
    async fn find_open(
        &self,
        repo: &RepoId,
        head_branch: &str,
    ) -> Result<Option<PullRequest>, GitHubError> {
        let state = lock(&self.state);
        let head = state
            .branches
            .get(&(repo.clone(), head_branch.to_owned()))
            .cloned();
        Ok(state
            .pulls
            .iter()
            .find(|(r, pr)| r == repo && pr.head_branch == head_branch)
            .map(|(_, pr)| PullRequest {
                head_commit: head.clone().unwrap_or_default(),
                labels: labels_of(&state, repo, pr.number),
                ..pr.clone()
            }))
    }

    async fn find_latest(
        &self,
        repo: &RepoId,
        head_branch: &str,
    ) -> Result<Option<PullRequestRecord>, GitHubError> {
        // Pull requests here are never merged or closed: the open one is the latest.
        let Some(pull) = self.find_open(repo, head_branch).await? else {
            return Ok(None);
        };
        let base_branch = lock(&self.state)
            .pull_bases
            .get(&(repo.clone(), pull.number))
            .cloned()
            .unwrap_or_default();
        Ok(Some(PullRequestRecord {
            pull,
            author: self.login.clone(),
            base_branch,
            status: PullRequestStatus::Open,
        }))
    }

    async fn open(
        &self,
        repo: &RepoId,
        spec: &PullRequestSpec,
    ) -> Result<PullRequest, GitHubError> {
        let mut state = lock(&self.state);
        let head = state
            .branches
            .get(&(repo.clone(), spec.head_branch.clone()))
            .cloned()
            .ok_or_else(|| GitHubError::Rejected(format!("no branch {}", spec.head_branch)))?;
        if state
            .pulls
            .iter()
            .any(|(r, pr)| r == repo && pr.head_branch == spec.head_branch)
        {
            return Err(GitHubError::Conflict(format!(
                "A pull request already exists for {}.",
                spec.head_branch
            )));
        }
        let number = (state.pulls.len() + state.issues.len() + 1) as u64;
        let pr = PullRequest {
            number,
            url: format!("https://github.com/{repo}/pull/{number}"),
            title: spec.title.clone(),
            body: spec.body.clone(),
            head_branch: spec.head_branch.clone(),
            head_commit: head,
            labels: Vec::new(),
        };
        state.pulls.push((repo.clone(), pr.clone()));
        state
            .pull_bases
            .insert((repo.clone(), number), spec.base_branch.clone());
        state.writes.push(Write::OpenPullRequest {
            repo: repo.to_string(),
            branch: spec.head_branch.clone(),
        });
        Ok(pr)
    }

    async fn edit(
        &self,
        repo: &RepoId,
        number: u64,
        title: &str,
        body: &str,
    ) -> Result<PullRequest, GitHubError> {
        let mut state = lock(&self.state);
        let (_, pr) = state
            .pulls
            .iter_mut()
            .find(|(r, pr)| r == repo && pr.number == number)
            .ok_or_else(|| missing(format!("pull request {number}")))?;
        pr.title = title.to_owned();
        pr.body = body.to_owned();
        let pr = pr.clone();
        let pr = PullRequest {
            labels: labels_of(&state, repo, number),
            ..pr
        };
        state.writes.push(Write::EditPullRequest {
            repo: repo.to_string(),
            number,
        });
        Ok(pr)
    }

    async fn add_labels(
        &self,
        repo: &RepoId,
        number: u64,
        labels: &[String],
    ) -> Result<(), GitHubError> {
        let mut state = lock(&self.state);
        for label in labels {
            state.labels.push((repo.clone(), number, label.clone()));
        }
        state.writes.push(Write::Label {
            repo: repo.to_string(),
            number,
        });
        Ok(())
    }

    async fn remove_label(
        &self,
        repo: &RepoId,
        number: u64,
        label: &str,
    ) -> Result<(), GitHubError> {
        let mut state = lock(&self.state);
        let before = state.labels.len();
        state
            .labels
            .retain(|(r, n, l)| !(r == repo && *n == number && l == label));
        if state.labels.len() != before {
            state.writes.push(Write::Unlabel {
                repo: repo.to_string(),
                number,
            });
        }
        Ok(())
    }
}

#[async_trait]
impl Issues for MemoryGitHub {
    async fn find_issue(
        &self,
        repo: &RepoId,
        title: &str,
        label: &str,
    ) -> Result<Option<Issue>, GitHubError> {
        Ok(lock(&self.state)
            .issues
            .iter()
            .find(|(r, issue, l, author)| {
                r == repo && issue.title == title && l == label && *author == self.login
            })
            .map(|(_, issue, ..)| issue.clone()))
    }

    async fn create_issue(
        &self,
        repo: &RepoId,
        title: &str,
        body: &str,
        label: &str,
    ) -> Result<Issue, GitHubError> {
        let mut state = lock(&self.state);
        let number = (state.pulls.len() + state.issues.len() + 1) as u64;
        let issue = Issue {
            number,
            url: format!("https://github.com/{repo}/issues/{number}"),
            title: title.to_owned(),
            body: body.to_owned(),
        };
        state.issues.push((
            repo.clone(),
            issue.clone(),
            label.to_owned(),
            self.login.clone(),
        ));
        state.writes.push(Write::CreateIssue {
            repo: repo.to_string(),
            title: title.to_owned(),
        });
        Ok(issue)
    }

    async fn edit_issue(
        &self,
        repo: &RepoId,
        number: u64,
        body: &str,
    ) -> Result<Issue, GitHubError> {
        let mut state = lock(&self.state);
        let (_, issue, ..) = state
            .issues
            .iter_mut()
            .find(|(r, issue, ..)| r == repo && issue.number == number)
            .ok_or_else(|| missing(format!("issue {number}")))?;
        issue.body = body.to_owned();
        let issue = issue.clone();
        state.writes.push(Write::EditIssue {
            repo: repo.to_string(),
            number,
        });
        Ok(issue)
    }

    async fn close_issue(&self, repo: &RepoId, number: u64) -> Result<(), GitHubError> {
        let mut state = lock(&self.state);
        let before = state.issues.len();
        state
            .issues
            .retain(|(r, issue, ..)| !(r == repo && issue.number == number));
        if state.issues.len() == before && !state.closed.contains(&(repo.clone(), number)) {
            return Err(missing(format!("issue {number}")));
        }
        state.closed.push((repo.clone(), number));
        state.writes.push(Write::CloseIssue {
            repo: repo.to_string(),
            number,
        });
        Ok(())
    }

    async fn comment(&self, repo: &RepoId, number: u64, body: &str) -> Result<(), GitHubError> {
        let mut state = lock(&self.state);
        state.comments.push((repo.clone(), number, body.to_owned()));
        state.writes.push(Write::Comment {
            repo: repo.to_string(),
            number,
        });
        Ok(())
    }
}

#[async_trait]
impl Dispatches for MemoryGitHub {
    async fn dispatch(
        &self,
        repo: &RepoId,
        event_type: &str,
        _payload: &serde_json::Value,
    ) -> Result<(), GitHubError> {
        lock(&self.state).writes.push(Write::Dispatch {
            repo: repo.to_string(),
            event_type: event_type.to_owned(),
        });
        Ok(())
    }
}

#[async_trait]
impl Workflows for MemoryGitHub {
    async fn dispatch_workflow(
        &self,
        repo: &RepoId,
        workflow: &str,
        _reference: &str,
        inputs: &BTreeMap<String, String>,
    ) -> Result<StartedRun, GitHubError> {
        let mut state = lock(&self.state);
        let declared = state
            .workflows
            .get(&(repo.clone(), workflow.to_owned()))
            .cloned()
            .ok_or_else(|| GitHubError::NotFound(format!("workflow {workflow} of {repo}")))?;
        let unknown: Vec<&String> = inputs
            .keys()
            .filter(|name| !declared.inputs.iter().any(|(known, _)| known == *name))
            .collect();
        if !unknown.is_empty() {
            return Err(GitHubError::Rejected(format!(
                "Unexpected inputs provided: {unknown:?}"
            )));
        }
        if let Some((missing, _)) = declared
            .inputs
            .iter()
            .find(|(name, required)| *required && !inputs.contains_key(name))
        {
            return Err(GitHubError::Rejected(format!(
                "Required input '{missing}' not provided"
            )));
        }
        let id = state.runs.len() as u64 + 1;
        let html_url = format!("https://github.com/{repo}/actions/runs/{id}");
        let display_title = declared
            .title_input
            .as_ref()
            .and_then(|name| inputs.get(name))
            .filter(|title| !title.is_empty())
            .cloned()
            .unwrap_or_else(|| workflow.to_owned());
        state.runs.push((
            repo.clone(),
            workflow.to_owned(),
            WorkflowRun {
                id,
                html_url: html_url.clone(),
                status: "completed".into(),
                conclusion: Some(declared.conclusion.clone()),
                display_title,
            },
        ));
        state.writes.push(Write::DispatchWorkflow {
            repo: repo.to_string(),
            workflow: workflow.to_owned(),
        });
        Ok(StartedRun { id, html_url })
    }

    async fn get_run(
        &self,
        repo: &RepoId,
        run_id: u64,
    ) -> Result<Option<WorkflowRun>, GitHubError> {
        Ok(lock(&self.state)
            .runs
            .iter()
            .find(|(r, _, run)| r == repo && run.id == run_id)
            .map(|(_, _, run)| run.clone()))
    }

    async fn list_jobs(&self, repo: &RepoId, run_id: u64) -> Result<Vec<WorkflowJob>, GitHubError> {
        let state = lock(&self.state);
        let (_, workflow, _) = state
            .runs
            .iter()
            .find(|(r, _, run)| r == repo && run.id == run_id)
            .ok_or_else(|| GitHubError::NotFound(format!("run {run_id} of {repo}")))?;
        let declared = state
            .workflows
            .get(&(repo.clone(), workflow.clone()))
            .ok_or_else(|| GitHubError::NotFound(format!("workflow {workflow} of {repo}")))?;
        Ok(declared
            .jobs
            .iter()
            .map(|(name, conclusion)| WorkflowJob {
                name: name.clone(),
                status: "completed".into(),
                conclusion: Some(conclusion.clone()),
                html_url: None,
            })
            .collect())
    }

    async fn list_runs(
        &self,
        repo: &RepoId,
        workflow: &str,
    ) -> Result<Vec<WorkflowRun>, GitHubError> {
        let state = lock(&self.state);
        if !state
            .workflows
            .contains_key(&(repo.clone(), workflow.to_owned()))
        {
            return Err(GitHubError::NotFound(format!(
                "workflow {workflow} of {repo}"
            )));
        }
        Ok(state
            .runs
            .iter()
            .rev()
            .filter(|(r, w, _)| r == repo && w == workflow)
            .map(|(_, _, run)| run.clone())
            .collect())
    }
}
