//! [`GitHubClient`]: the six narrow traits of `valkey_bot_core::github` over the REST API, with
//! the token of one [`TokenScope`].
//!
//! Every call states whether it may be repeated after an ambiguous failure (a 5xx, a timeout, a
//! dropped connection) — see `retry.rs` for what "refused" and "ambiguous" mean.

use std::sync::Arc;

use async_trait::async_trait;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use http::Method;
use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio::sync::OnceCell;
use valkey_bot_core::RepoId;
use valkey_bot_core::github::{
    CommitId, CommitSummary, Dispatches, FileWrite, GitHubError, Identity, Issue, Issues,
    PullRequest, PullRequestRecord, PullRequestSpec, PullRequestStatus, PullRequests, RepoRead,
    RepoWrite, StartedRun, TreeFile, WorkflowJob, WorkflowRun, Workflows, dir_prefix,
};

use crate::api::{Api, decode};
use crate::auth::{Authority, TokenScope};
use crate::error::is_bad_credentials;
use crate::retry::Idempotency::{self, Idempotent, NotIdempotent};
use crate::transport::{Response, encode_path, encode_query};
use crate::wire;

/// How many blobs are uploaded at once by [`RepoWrite::create_commit`].
const PARALLEL_BLOBS: usize = 4;
/// Items per page for list calls.
const PER_PAGE: usize = 100;
/// At most this many pages are read when searching a list (10 000 items).
const MAX_PAGES: usize = 100;

/// At most this many pages of a workflow's runs are read (the newest 1 000 runs).
const WORKFLOW_RUN_PAGES: usize = 10;

/// The user id of `github-actions[bot]`, whose commits carry `41898282+github-actions[bot]@users.noreply.github.com`.
const GITHUB_ACTIONS_BOT_ID: u64 = 41898282;

/// The colour of the labels the bot creates (GitHub's neutral grey).
const LABEL_COLOR: &str = "ededed";

/// A GitHub client whose every request carries a token for one [`TokenScope`] (for an App: a
/// token narrowed to that scope, refreshed before it expires).
#[derive(Debug, Clone)]
pub struct GitHubClient {
    authority: Arc<Authority>,
    scope: TokenScope,
    in_actions: bool,
    identity: Arc<OnceCell<Identity>>,
}

impl GitHubClient {
    pub(crate) fn new(
        authority: Arc<Authority>,
        scope: TokenScope,
        in_actions: bool,
        identity: Arc<OnceCell<Identity>>,
    ) -> Self {
        Self {
            authority,
            scope,
            in_actions,
            identity,
        }
    }

    /// The scope this client's token was minted for.
    pub fn scope(&self) -> &TokenScope {
        &self.scope
    }

    /// Deletes `branch` of `repo` (`DELETE git/refs/heads/B`); an absent branch is no error.
    /// Not part of the bot's traits (a run never deletes a branch): `valkey-bot smoke` cleans
    /// up after itself with it.
    pub async fn delete_branch(&self, repo: &RepoId, branch: &str) -> Result<(), GitHubError> {
        let path = repo_path(repo, &format!("git/refs/heads/{}", encode_path(branch)));
        match self
            .send(Method::DELETE, &path, None::<&()>, Idempotent)
            .await
        {
            // GitHub answers 422 "Reference does not exist" for a branch already gone.
            Err(GitHubError::NotFound(_) | GitHubError::Rejected(_))
                if self.branch_head(repo, branch).await?.is_none() =>
            {
                Ok(())
            }
            other => other,
        }
    }

    fn api(&self) -> &Api {
        self.authority.api()
    }

    /// Sends a request with this scope's token. On a 401 from an App token (revoked, or expired
    /// early) the token is replaced and the request sent once more: a 401 proves nothing was done.
    async fn call<B: Serialize + ?Sized>(
        &self,
        method: Method,
        path: &str,
        body: Option<&B>,
        idempotency: Idempotency,
    ) -> Result<Response, GitHubError> {
        let token = self.authority.token_for(&self.scope).await?;
        match self
            .api()
            .call(method.clone(), path, token.as_ref(), body, idempotency)
            .await
        {
            Err(error) if self.authority.is_app() && is_bad_credentials(&error) => {
                self.authority.forget(&self.scope).await;
                let token = self.authority.token_for(&self.scope).await?;
                self.api()
                    .call(method, path, token.as_ref(), body, idempotency)
                    .await
            }
            other => other,
        }
    }

    async fn send<B: Serialize + ?Sized>(
        &self,
        method: Method,
        path: &str,
        body: Option<&B>,
        idempotency: Idempotency,
    ) -> Result<(), GitHubError> {
        self.call(method, path, body, idempotency).await.map(drop)
    }

    async fn json<B: Serialize + ?Sized, T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: Option<&B>,
        idempotency: Idempotency,
    ) -> Result<T, GitHubError> {
        let response = self.call(method.clone(), path, body, idempotency).await?;
        decode(&method, path, &response)
    }

    /// A GET (always safe to repeat).
    async fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T, GitHubError> {
        self.json(Method::GET, path, None::<&()>, Idempotent).await
    }

    /// A GET where 404 means "there is none".
    async fn get_optional<T: DeserializeOwned>(
        &self,
        path: &str,
    ) -> Result<Option<T>, GitHubError> {
        match self.get(path).await {
            Ok(value) => Ok(Some(value)),
            Err(GitHubError::NotFound(_)) => Ok(None),
            Err(error) => Err(error),
        }
    }

    async fn contents(
        &self,
        repo: &RepoId,
        reference: &str,
        path: &str,
    ) -> Result<Option<wire::Contents>, GitHubError> {
        let path = path.trim_matches('/');
        let route = if path.is_empty() {
            repo_path(repo, "contents")
        } else {
            repo_path(repo, &format!("contents/{}", encode_path(path)))
        };
        self.get_optional(&format!("{route}?ref={}", encode_query(reference)))
            .await
    }

    /// The identity of the App `slug`'s bot user (its public profile).
    async fn bot_identity(&self, slug: &str) -> Result<Identity, GitHubError> {
        let login = format!("{slug}[bot]");
        let bot: wire::User = self.get(&format!("/users/{}", encode_path(&login))).await?;
        Ok(Identity::noreply(bot.id, &login, None))
    }

    async fn upload_blob(&self, repo: &RepoId, content: &[u8]) -> Result<String, GitHubError> {
        let encoded = STANDARD.encode(content);
        let body = wire::NewBlob {
            content: &encoded,
            encoding: "base64",
        };
        // Safe to repeat: a blob's id is the hash of its bytes, so a second upload is the same object.
        let blob: wire::Sha = self
            .json(
                Method::POST,
                &repo_path(repo, "git/blobs"),
                Some(&body),
                Idempotent,
            )
            .await?;
        Ok(blob.sha)
    }

    /// The blob id of a file's new content, or `None` for a deletion.
    async fn blob_for(
        &self,
        repo: &RepoId,
        file: &FileWrite,
    ) -> Result<Option<String>, GitHubError> {
        match &file.content {
            Some(content) => self.upload_blob(repo, content).await.map(Some),
            None => Ok(None),
        }
    }

    /// A branch write's result, with a Conflict turned into success when `branch` already points
    /// at `commit` (the state asked for holds).
    async fn unless_already_at(
        &self,
        result: Result<(), GitHubError>,
        repo: &RepoId,
        branch: &str,
        commit: &str,
    ) -> Result<(), GitHubError> {
        match result {
            Err(GitHubError::Conflict(reason))
                if !self.already_at(repo, branch, commit).await? =>
            {
                Err(GitHubError::Conflict(reason))
            }
            Err(GitHubError::Conflict(_)) => Ok(()),
            other => other,
        }
    }

    /// Makes sure label `name` exists in `repo`, creating it when it does not: GitHub refuses to
    /// attach a missing label for a token that may not create labels, and drops the labels of a
    /// new issue silently, so the bot creates the labels it relies on itself. A token that may not
    /// create it gets an error naming the permission to grant.
    async fn ensure_label(&self, repo: &RepoId, name: &str) -> Result<(), GitHubError> {
        if self.label_exists(repo, name).await? {
            return Ok(());
        }
        let body = wire::NewLabel {
            name,
            color: LABEL_COLOR,
        };
        // Safe to repeat: a second creation is refused as `already_exists`, which is success.
        match self
            .send(
                Method::POST,
                &repo_path(repo, "labels"),
                Some(&body),
                Idempotent,
            )
            .await
        {
            Err(GitHubError::Rejected(text)) if text.contains("already_exists") => Ok(()),
            Err(GitHubError::Forbidden(text)) => Err(GitHubError::Forbidden(format!(
                "{text}; the label `{name}` does not exist in {repo} and this token may not create it: \
                 create the label in {repo} once, or grant the token `issues: write` on {repo} \
                 (for a task: `issues = \"write\"` in its `permissions` in tasks.toml)"
            ))),
            other => other,
        }
    }

    /// After a Conflict on a branch write: whether `branch` already is where we wanted it (an
    /// earlier attempt of ours, or someone else, put it there), which makes the write a success.
    async fn already_at(
        &self,
        repo: &RepoId,
        branch: &str,
        commit: &str,
    ) -> Result<bool, GitHubError> {
        Ok(self.branch_head(repo, branch).await?.as_deref() == Some(commit))
    }
}

/// A rule in force on a branch (`GET /repos/{o}/{r}/rules/branches/{branch}`), with whether this
/// client's token may bypass its ruleset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BranchRule {
    /// GitHub's rule type: `pull_request`, `required_signatures`, `non_fast_forward`, ...
    pub kind: String,
    /// The ruleset's id, when GitHub names it.
    pub ruleset_id: Option<u64>,
    /// The ruleset's name, and where it is defined (`owner/repo` or an organization).
    pub ruleset: String,
    /// Whether this token may bypass the ruleset (`current_user_can_bypass` is `always`, or
    /// `pull_requests_only` / `exempt`): `None` when GitHub does not say.
    pub may_bypass: Option<bool>,
}

impl GitHubClient {
    /// Every rule in force on `branch` of `repo`, each with whether this token may bypass it
    /// (its ruleset read once).
    pub async fn branch_rules(
        &self,
        repo: &RepoId,
        branch: &str,
    ) -> Result<Vec<BranchRule>, GitHubError> {
        let path = repo_path(repo, &format!("rules/branches/{}", encode_path(branch)));
        let rules: Vec<wire::BranchRule> = self.get(&path).await?;
        let mut found = Vec::new();
        for rule in rules {
            let ruleset = match rule.ruleset_id {
                Some(id) => {
                    self.get_optional::<wire::Ruleset>(&repo_path(repo, &format!("rulesets/{id}")))
                        .await?
                }
                None => None,
            };
            let source = rule.ruleset_source.unwrap_or_else(|| repo.to_string());
            found.push(BranchRule {
                kind: rule.kind,
                ruleset_id: rule.ruleset_id,
                ruleset: match &ruleset {
                    Some(r) if !r.name.is_empty() => format!("`{}` ({source})", r.name),
                    _ => source,
                },
                may_bypass: ruleset
                    .and_then(|r| r.current_user_can_bypass)
                    .map(|bypass| bypass != "never"),
            });
        }
        Ok(found)
    }

    /// Whether label `name` exists in `repo`.
    pub async fn label_exists(&self, repo: &RepoId, name: &str) -> Result<bool, GitHubError> {
        let path = repo_path(repo, &format!("labels/{}", encode_path(name)));
        Ok(self.get_optional::<wire::LabelName>(&path).await?.is_some())
    }
}

/// `/repos/{owner}/{name}/{rest}`.
fn repo_path(repo: &RepoId, rest: &str) -> String {
    format!(
        "/repos/{}/{}/{rest}",
        encode_path(repo.owner()),
        encode_path(repo.name())
    )
}

fn workflow_run(run: wire::WorkflowRun) -> WorkflowRun {
    WorkflowRun {
        id: run.id,
        html_url: run.html_url,
        status: run.status.unwrap_or_default(),
        conclusion: run.conclusion,
        display_title: run.display_title,
    }
}

fn decode_base64(text: &str) -> Result<Bytes, GitHubError> {
    let compact: String = text.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    STANDARD
        .decode(compact)
        .map(Bytes::from)
        .map_err(|error| GitHubError::Other(format!("file content is not base64: {error}")))
}

/// A pull request in any state; `None` for a merged one without its merge commit (GitHub always
/// sends it once merged).
fn pull_request_record(mut pull: wire::Pull) -> Option<PullRequestRecord> {
    let status = match (pull.state.as_str(), pull.merged_at.is_some()) {
        ("open", _) => PullRequestStatus::Open,
        (_, true) => PullRequestStatus::Merged(pull.merge_commit_sha.take()?),
        _ => PullRequestStatus::Closed,
    };
    Some(PullRequestRecord {
        author: pull
            .user
            .take()
            .and_then(|user| user.login)
            .unwrap_or_default(),
        base_branch: pull
            .base
            .take()
            .map(|base| base.reference)
            .unwrap_or_default(),
        status,
        pull: pull_request(pull),
    })
}

fn pull_request(pull: wire::Pull) -> PullRequest {
    PullRequest {
        number: pull.number,
        url: pull.html_url,
        title: pull.title,
        body: pull.body.unwrap_or_default(),
        head_branch: pull.head.reference,
        head_commit: pull.head.sha,
        labels: pull.labels.into_iter().map(|label| label.name).collect(),
    }
}

fn issue(issue: wire::IssueBody) -> Issue {
    Issue {
        number: issue.number,
        url: issue.html_url,
        title: issue.title,
        body: issue.body.unwrap_or_default(),
    }
}

#[async_trait]
impl RepoRead for GitHubClient {
    async fn branch_head(
        &self,
        repo: &RepoId,
        branch: &str,
    ) -> Result<Option<CommitId>, GitHubError> {
        let path = repo_path(repo, &format!("git/ref/heads/{}", encode_path(branch)));
        Ok(self
            .get_optional::<wire::GitRef>(&path)
            .await?
            .map(|reference| reference.object.sha))
    }

    /// `None` also when `path` is a directory.
    async fn read_file(
        &self,
        repo: &RepoId,
        reference: &str,
        path: &str,
    ) -> Result<Option<Bytes>, GitHubError> {
        let file = match self.contents(repo, reference, path).await? {
            None | Some(wire::Contents::Dir(_)) => return Ok(None),
            Some(wire::Contents::File(file)) => file,
        };
        if file.kind != "file" {
            return Err(GitHubError::Other(format!(
                "{repo}:{path} at {reference} is a {}, not a file",
                file.kind
            )));
        }
        match (file.encoding.as_deref(), file.content.as_deref()) {
            (Some("base64"), Some(content)) => decode_base64(content).map(Some),
            // Over 1 MB the contents API leaves the content out: read the blob instead.
            _ => {
                let blob: wire::Blob = self
                    .get(&repo_path(repo, &format!("git/blobs/{}", file.sha)))
                    .await?;
                if blob.encoding != "base64" {
                    return Err(GitHubError::Other(format!(
                        "blob {} came in encoding {:?}",
                        file.sha, blob.encoding
                    )));
                }
                decode_base64(&blob.content).map(Some)
            }
        }
    }

    /// One `GET git/trees/{commit}?recursive=1` (the contents API reports no modes). `None` also
    /// when `dir` is a file; an unknown commit is `NotFound`, and a listing GitHub truncated an
    /// error.
    async fn list_files(
        &self,
        repo: &RepoId,
        commit: &str,
        dir: &str,
    ) -> Result<Option<Vec<TreeFile>>, GitHubError> {
        let route = repo_path(
            repo,
            &format!("git/trees/{}?recursive=1", encode_path(commit)),
        );
        let tree: wire::Tree = self.get(&route).await?;
        if tree.truncated {
            return Err(GitHubError::Other(format!(
                "{repo}: the tree of {commit} is too large for one listing"
            )));
        }
        let dir = dir.trim_matches('/');
        let prefix = dir_prefix(dir);
        let exists = dir.is_empty()
            || tree
                .tree
                .iter()
                .any(|item| item.kind == "tree" && item.path == dir);
        Ok(exists.then(|| {
            let mut files: Vec<TreeFile> = tree
                .tree
                .into_iter()
                .filter(|item| item.kind == "blob" && item.path.starts_with(&prefix))
                .map(|item| TreeFile {
                    executable: item.mode == "100755",
                    path: item.path,
                    blob: item.sha,
                })
                .collect();
            files.sort_by(|a, b| a.path.cmp(&b.path));
            files
        }))
    }

    /// One `GET git/matching-refs/tags`: GitHub answers every ref under `refs/tags` at once (the
    /// endpoint is not paged).
    async fn list_tags(&self, repo: &RepoId) -> Result<Vec<String>, GitHubError> {
        let refs: Vec<wire::NamedRef> =
            self.get(&repo_path(repo, "git/matching-refs/tags")).await?;
        Ok(refs
            .into_iter()
            .filter_map(|r| r.name.strip_prefix("refs/tags/").map(str::to_owned))
            .collect())
    }
}

#[async_trait]
impl RepoWrite for GitHubClient {
    /// For an App its bot user, `<slug>[bot]` (`GET /app`, then `GET /users/<slug>[bot]` for
    /// the user id in its email); for a token the `GET /user` account, or `github-actions[bot]`
    /// inside Actions when `/user` is refused (the workflow token). Asked once per run.
    async fn own_identity(&self) -> Result<Identity, GitHubError> {
        self.identity
            .get_or_try_init(|| async {
                if self.authority.is_app() {
                    let jwt = self.authority.app_jwt()?;
                    let app: wire::App = self
                        .api()
                        .call_json(Method::GET, "/app", Some(&jwt), None::<&()>, Idempotent)
                        .await?;
                    return self.bot_identity(&app.slug).await;
                }
                if let Some(slug) = self.authority.anonymous_app_slug() {
                    return self.bot_identity(slug).await;
                }
                match self.get::<wire::User>("/user").await {
                    Ok(user) => Ok(Identity::noreply(
                        user.id,
                        &user.login,
                        user.name.as_deref(),
                    )),
                    Err(GitHubError::Forbidden(_)) if self.in_actions => Ok(Identity::noreply(
                        GITHUB_ACTIONS_BOT_ID,
                        "github-actions[bot]",
                        None,
                    )),
                    Err(error) => Err(error),
                }
            })
            .await
            .cloned()
    }

    async fn create_commit(
        &self,
        repo: &RepoId,
        parent: &str,
        files: &[FileWrite],
        message: &str,
    ) -> Result<CommitId, GitHubError> {
        // The parent's tree and the blobs do not depend on each other: read and upload at once.
        let parent_path = repo_path(repo, &format!("git/commits/{}", encode_path(parent)));
        let parent_commit = self.get::<wire::Commit>(&parent_path);
        let uploads = async {
            let mut blobs = Vec::with_capacity(files.len());
            for chunk in files.chunks(PARALLEL_BLOBS) {
                let uploads = chunk.iter().map(|file| self.blob_for(repo, file));
                blobs.extend(futures::future::try_join_all(uploads).await?);
            }
            Ok::<_, GitHubError>(blobs)
        };
        let (parent_commit, blobs) = futures::try_join!(parent_commit, uploads)?;
        let tree = wire::NewTree {
            base_tree: &parent_commit.tree.sha,
            tree: files
                .iter()
                .zip(blobs)
                .map(|(file, sha)| wire::TreeEntry {
                    path: file.path.trim_matches('/'),
                    mode: if file.executable { "100755" } else { "100644" },
                    kind: "blob",
                    sha,
                })
                .collect(),
        };
        // Safe to repeat: a tree's id is the hash of its entries.
        let tree: wire::Sha = self
            .json(
                Method::POST,
                &repo_path(repo, "git/trees"),
                Some(&tree),
                Idempotent,
            )
            .await?;
        let commit = wire::NewCommit {
            message,
            tree: &tree.sha,
            parents: [parent],
        };
        // Safe to repeat: a repeat can only leave a second, unreferenced commit object (its
        // timestamp may differ) that no branch points at; we use the one we were answered with.
        let commit: wire::Sha = self
            .json(
                Method::POST,
                &repo_path(repo, "git/commits"),
                Some(&commit),
                Idempotent,
            )
            .await?;
        Ok(commit.sha)
    }

    async fn move_branch(
        &self,
        repo: &RepoId,
        branch: &str,
        commit: &str,
        force: bool,
    ) -> Result<(), GitHubError> {
        let path = repo_path(repo, &format!("git/refs/heads/{}", encode_path(branch)));
        // Without force, repeating is safe: once the branch is at `commit`, moving it to `commit`
        // again is a fast-forward of nothing; if it moved on meanwhile, GitHub refuses the repeat
        // (and we check below whether it is where we wanted it). With force, a repeat after our
        // first attempt took effect could undo someone's push made in between: not repeated.
        let idempotency = if force { NotIdempotent } else { Idempotent };
        let body = wire::MoveRef { sha: commit, force };
        let result = self
            .send(Method::PATCH, &path, Some(&body), idempotency)
            .await;
        self.unless_already_at(result, repo, branch, commit).await
    }

    /// Creating a branch that already points at `commit` succeeds (the state asked for holds).
    async fn create_branch(
        &self,
        repo: &RepoId,
        branch: &str,
        commit: &str,
    ) -> Result<(), GitHubError> {
        let body = wire::NewRef {
            reference: format!("refs/heads/{branch}"),
            sha: commit,
        };
        // Safe to repeat: a repeat after the first took effect answers "Reference already
        // exists", and the branch is then checked to be at `commit`.
        let result = self
            .send(
                Method::POST,
                &repo_path(repo, "git/refs"),
                Some(&body),
                Idempotent,
            )
            .await;
        self.unless_already_at(result, repo, branch, commit).await
    }

    async fn commits_between(
        &self,
        repo: &RepoId,
        base: &str,
        head: &str,
    ) -> Result<Vec<CommitSummary>, GitHubError> {
        let route = repo_path(
            repo,
            &format!("compare/{}...{}", encode_path(base), encode_path(head)),
        );
        let mut commits = Vec::new();
        for page in 1..=MAX_PAGES {
            let comparison: wire::Comparison = self
                .get(&format!("{route}?per_page={PER_PAGE}&page={page}"))
                .await?;
            let got = comparison.commits.len();
            commits.extend(comparison.commits.into_iter().map(|commit| {
                let email = |person: Option<wire::GitPerson>| {
                    person.and_then(|p| p.email).unwrap_or_default()
                };
                CommitSummary {
                    id: commit.sha,
                    author_login: commit.author.and_then(|author| author.login),
                    subject: commit
                        .commit
                        .message
                        .lines()
                        .next()
                        .unwrap_or_default()
                        .to_owned(),
                    author_email: email(commit.commit.author),
                    committer_email: email(commit.commit.committer),
                    verified: commit.commit.verification.is_some_and(|v| v.verified),
                }
            }));
            if commits.len() >= comparison.total_commits || got < PER_PAGE {
                break;
            }
        }
        Ok(commits)
    }
}

#[async_trait]
impl PullRequests for GitHubClient {
    async fn find_open(
        &self,
        repo: &RepoId,
        head_branch: &str,
    ) -> Result<Option<PullRequest>, GitHubError> {
        let label = format!("{}:{head_branch}", repo.owner());
        let path = format!(
            "{}?state=open&head={}&per_page={PER_PAGE}",
            repo_path(repo, "pulls"),
            encode_query(&label)
        );
        let pulls: Vec<wire::Pull> = self.get(&path).await?;
        Ok(pulls
            .into_iter()
            .find(|pull| {
                pull.head.reference == head_branch
                    && pull.head.label.as_deref().is_none_or(|l| l == label)
            })
            .map(pull_request))
    }

    async fn find_latest(
        &self,
        repo: &RepoId,
        head_branch: &str,
    ) -> Result<Option<PullRequestRecord>, GitHubError> {
        let label = format!("{}:{head_branch}", repo.owner());
        let path = format!(
            "{}?state=all&head={}&per_page={PER_PAGE}",
            repo_path(repo, "pulls"),
            encode_query(&label)
        );
        // Newest first, as GitHub lists them.
        let pulls: Vec<wire::Pull> = self.get(&path).await?;
        let records: Vec<PullRequestRecord> = pulls
            .into_iter()
            .filter(|pull| {
                pull.head.reference == head_branch
                    && pull.head.label.as_deref().is_none_or(|l| l == label)
            })
            .filter_map(pull_request_record)
            .collect();
        let rank = |record: &PullRequestRecord| match record.status {
            PullRequestStatus::Open => 0,
            PullRequestStatus::Merged(_) => 1,
            PullRequestStatus::Closed => 2,
        };
        Ok(records.iter().min_by_key(|r| rank(r)).cloned())
    }

    async fn open(
        &self,
        repo: &RepoId,
        spec: &PullRequestSpec,
    ) -> Result<PullRequest, GitHubError> {
        let body = wire::NewPull {
            title: &spec.title,
            head: &spec.head_branch,
            base: &spec.base_branch,
            body: &spec.body,
        };
        // Not safe to repeat: a repeat after a 5xx that took effect would be refused as
        // "already exists" at best; the caller looks with `find_open` instead.
        let pull: wire::Pull = self
            .json(
                Method::POST,
                &repo_path(repo, "pulls"),
                Some(&body),
                NotIdempotent,
            )
            .await?;
        Ok(pull_request(pull))
    }

    async fn edit(
        &self,
        repo: &RepoId,
        number: u64,
        title: &str,
        body: &str,
    ) -> Result<PullRequest, GitHubError> {
        // Safe to repeat: it sets values, a second time to the same ones.
        let pull: wire::Pull = self
            .json(
                Method::PATCH,
                &repo_path(repo, &format!("pulls/{number}")),
                Some(&wire::EditPull { title, body }),
                Idempotent,
            )
            .await?;
        Ok(pull_request(pull))
    }

    async fn add_labels(
        &self,
        repo: &RepoId,
        number: u64,
        labels: &[String],
    ) -> Result<(), GitHubError> {
        for label in labels {
            self.ensure_label(repo, label).await?;
        }
        // Safe to repeat: adding a label that is already there changes nothing.
        self.send(
            Method::POST,
            &repo_path(repo, &format!("issues/{number}/labels")),
            Some(&wire::Labels { labels }),
            Idempotent,
        )
        .await
    }

    async fn remove_label(
        &self,
        repo: &RepoId,
        number: u64,
        label: &str,
    ) -> Result<(), GitHubError> {
        // Safe to repeat: the second time the label is gone, which GitHub answers with 404.
        let path = repo_path(
            repo,
            &format!("issues/{number}/labels/{}", encode_query(label)),
        );
        match self
            .send(Method::DELETE, &path, None::<&()>, Idempotent)
            .await
        {
            Err(GitHubError::NotFound(_)) => Ok(()),
            other => other,
        }
    }
}

#[async_trait]
impl Issues for GitHubClient {
    async fn find_issue(
        &self,
        repo: &RepoId,
        title: &str,
        label: &str,
    ) -> Result<Option<Issue>, GitHubError> {
        // Only the bot's own issue: `creator` narrows the listing, and the answer is checked too.
        let own = self.own_identity().await?.login;
        for page in 1..=MAX_PAGES {
            let path = format!(
                "{}?state=open&labels={}&creator={}&per_page={PER_PAGE}&page={page}",
                repo_path(repo, "issues"),
                encode_query(label),
                encode_query(&own)
            );
            let issues: Vec<wire::IssueBody> = self.get(&path).await?;
            let got = issues.len();
            if let Some(found) = issues.into_iter().find(|found| {
                found.pull_request.is_none()
                    && found.title == title
                    && found
                        .user
                        .as_ref()
                        .is_some_and(|user| user.login.as_deref() == Some(own.as_str()))
            }) {
                return Ok(Some(issue(found)));
            }
            if got < PER_PAGE {
                break;
            }
        }
        Ok(None)
    }

    async fn create_issue(
        &self,
        repo: &RepoId,
        title: &str,
        body: &str,
        label: &str,
    ) -> Result<Issue, GitHubError> {
        self.ensure_label(repo, label).await?;
        // Not safe to repeat: a repeat after a 5xx that took effect opens a duplicate issue.
        let created: wire::IssueBody = self
            .json(
                Method::POST,
                &repo_path(repo, "issues"),
                Some(&wire::NewIssue {
                    title,
                    body,
                    labels: [label],
                }),
                NotIdempotent,
            )
            .await?;
        if !created
            .labels
            .iter()
            .any(|l| l.name.eq_ignore_ascii_case(label))
        {
            // GitHub dropped it (no push access): add it now, or say why the issue is unlabelled,
            // since an issue without its label is never found again.
            let number = created.number;
            self.send(
                Method::POST,
                &repo_path(repo, &format!("issues/{number}/labels")),
                Some(&wire::Labels {
                    labels: &[label.to_owned()],
                }),
                Idempotent,
            )
            .await
            .map_err(|error| {
                GitHubError::Forbidden(format!(
                    "{repo}#{number} was opened but GitHub dropped its label `{label}` and it could not be added ({error}): \
                     grant the token `issues: write` and `contents: write` on {repo}, then add the label to #{number} by hand"
                ))
            })?;
        }
        Ok(issue(created))
    }

    async fn edit_issue(
        &self,
        repo: &RepoId,
        number: u64,
        body: &str,
    ) -> Result<Issue, GitHubError> {
        // Safe to repeat: it sets the body, a second time to the same text.
        let edited: wire::IssueBody = self
            .json(
                Method::PATCH,
                &repo_path(repo, &format!("issues/{number}")),
                Some(&wire::EditIssue { body }),
                Idempotent,
            )
            .await?;
        Ok(issue(edited))
    }

    async fn close_issue(&self, repo: &RepoId, number: u64) -> Result<(), GitHubError> {
        // Safe to repeat: it sets the state, a second time to the same value.
        let _: wire::IssueBody = self
            .json(
                Method::PATCH,
                &repo_path(repo, &format!("issues/{number}")),
                Some(&wire::CloseIssue { state: "closed" }),
                Idempotent,
            )
            .await?;
        Ok(())
    }

    async fn comment(&self, repo: &RepoId, number: u64, body: &str) -> Result<(), GitHubError> {
        // Not safe to repeat: a repeat after a 5xx that took effect posts the comment twice.
        self.send(
            Method::POST,
            &repo_path(repo, &format!("issues/{number}/comments")),
            Some(&wire::NewComment { body }),
            NotIdempotent,
        )
        .await
    }
}

#[async_trait]
impl Dispatches for GitHubClient {
    async fn dispatch(
        &self,
        repo: &RepoId,
        event_type: &str,
        payload: &serde_json::Value,
    ) -> Result<(), GitHubError> {
        // Not safe to repeat: a repeat after a 5xx that took effect starts the workflows twice.
        self.send(
            Method::POST,
            &repo_path(repo, "dispatches"),
            Some(&wire::Dispatch {
                event_type,
                client_payload: payload,
            }),
            NotIdempotent,
        )
        .await
    }
}

#[async_trait]
impl Workflows for GitHubClient {
    async fn dispatch_workflow(
        &self,
        repo: &RepoId,
        workflow: &str,
        reference: &str,
        inputs: &std::collections::BTreeMap<String, String>,
    ) -> Result<StartedRun, GitHubError> {
        // Not safe to repeat: a repeat after a 5xx that took effect starts a second run.
        let started: wire::WorkflowDispatched = self
            .json(
                Method::POST,
                &repo_path(
                    repo,
                    &format!("actions/workflows/{}/dispatches", encode_path(workflow)),
                ),
                Some(&wire::WorkflowDispatch {
                    reference,
                    inputs,
                    return_run_details: true,
                }),
                NotIdempotent,
            )
            .await?;
        Ok(StartedRun {
            id: started.workflow_run_id,
            html_url: started.html_url,
        })
    }

    async fn get_run(
        &self,
        repo: &RepoId,
        run_id: u64,
    ) -> Result<Option<WorkflowRun>, GitHubError> {
        let run: Option<wire::WorkflowRun> = self
            .get_optional(&repo_path(repo, &format!("actions/runs/{run_id}")))
            .await?;
        Ok(run.map(workflow_run))
    }

    async fn list_jobs(&self, repo: &RepoId, run_id: u64) -> Result<Vec<WorkflowJob>, GitHubError> {
        let mut jobs = Vec::new();
        for page in 1..=MAX_PAGES {
            let path = format!(
                "{}?per_page={PER_PAGE}&page={page}",
                repo_path(repo, &format!("actions/runs/{run_id}/jobs"))
            );
            let listed: wire::WorkflowJobs = self.get(&path).await?;
            let got = listed.jobs.len();
            jobs.extend(listed.jobs.into_iter().map(|job| WorkflowJob {
                name: job.name,
                status: job.status,
                conclusion: job.conclusion,
                html_url: job.html_url,
            }));
            if got < PER_PAGE || jobs.len() >= listed.total_count {
                break;
            }
        }
        Ok(jobs)
    }

    async fn list_runs(
        &self,
        repo: &RepoId,
        workflow: &str,
    ) -> Result<Vec<WorkflowRun>, GitHubError> {
        let mut runs = Vec::new();
        // The newest runs come first; the bot looks for recent ones, so a few pages suffice.
        for page in 1..=WORKFLOW_RUN_PAGES {
            let path = format!(
                "{}?event=workflow_dispatch&per_page={PER_PAGE}&page={page}",
                repo_path(
                    repo,
                    &format!("actions/workflows/{}/runs", encode_path(workflow))
                )
            );
            let listed: wire::WorkflowRuns = self.get(&path).await?;
            let got = listed.workflow_runs.len();
            runs.extend(listed.workflow_runs.into_iter().map(workflow_run));
            if got < PER_PAGE {
                break;
            }
        }
        Ok(runs)
    }
}
