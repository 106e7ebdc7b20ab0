//! The JSON bodies GitHub's REST API takes and gives, typed, with only the fields we use.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use valkey_bot_core::config::{Access, Permission};

/// `GET git/ref/heads/{b}`, `POST git/refs`.
#[derive(Debug, Deserialize)]
pub(crate) struct GitRef {
    pub object: GitObject,
}

/// One entry of `GET git/matching-refs/{prefix}`: only the full name is read.
#[derive(Debug, Deserialize)]
pub(crate) struct NamedRef {
    #[serde(rename = "ref")]
    pub name: String,
}

/// The object a ref points at.
#[derive(Debug, Deserialize)]
pub(crate) struct GitObject {
    pub sha: String,
}

/// `GET contents/{path}`: a file, or a directory's entries.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub(crate) enum Contents {
    /// A directory listing: `read_file` only needs to tell it from a file (files are listed
    /// through the trees API, which reports modes).
    Dir(
        #[expect(
            dead_code,
            reason = "the entries are never read, only the listing's shape"
        )]
        Vec<serde::de::IgnoredAny>,
    ),
    /// A single file (or symlink / submodule).
    File(ContentFile),
}

/// `GET git/trees/{sha}?recursive=1`.
#[derive(Debug, Deserialize)]
pub(crate) struct Tree {
    pub tree: Vec<TreeItem>,
    /// Whether GitHub left entries out (over 100,000 entries or 7 MB).
    #[serde(default)]
    pub truncated: bool,
}

/// One entry of a listed tree.
#[derive(Debug, Deserialize)]
pub(crate) struct TreeItem {
    pub path: String,
    pub mode: String,
    #[serde(rename = "type")]
    pub kind: String,
    /// The object id (a blob's for a file).
    #[serde(default)]
    pub sha: String,
}

/// A file with its content.
#[derive(Debug, Deserialize)]
pub(crate) struct ContentFile {
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub encoding: Option<String>,
    #[serde(default)]
    pub content: Option<String>,
    pub sha: String,
}

/// `GET git/blobs/{sha}` (files too large for the contents API).
#[derive(Debug, Deserialize)]
pub(crate) struct Blob {
    pub content: String,
    pub encoding: String,
}

/// `POST git/blobs`.
#[derive(Debug, Serialize)]
pub(crate) struct NewBlob<'a> {
    pub content: &'a str,
    pub encoding: &'static str,
}

/// Any answer that is just `{sha}`.
#[derive(Debug, Deserialize)]
pub(crate) struct Sha {
    pub sha: String,
}

/// `GET git/commits/{sha}`: we need its tree.
#[derive(Debug, Deserialize)]
pub(crate) struct Commit {
    pub tree: Sha,
}

/// `POST git/trees`.
#[derive(Debug, Serialize)]
pub(crate) struct NewTree<'a> {
    pub base_tree: &'a str,
    pub tree: Vec<TreeEntry<'a>>,
}

/// One tree entry; `sha: None` is sent as `null`, which deletes the path.
#[derive(Debug, Serialize)]
pub(crate) struct TreeEntry<'a> {
    pub path: &'a str,
    pub mode: &'static str,
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub sha: Option<String>,
}

/// `POST git/commits`: deliberately no author or committer, so GitHub signs the commit.
#[derive(Debug, Serialize)]
pub(crate) struct NewCommit<'a> {
    pub message: &'a str,
    pub tree: &'a str,
    pub parents: [&'a str; 1],
}

/// `PATCH git/refs/heads/{b}`.
#[derive(Debug, Serialize)]
pub(crate) struct MoveRef<'a> {
    pub sha: &'a str,
    pub force: bool,
}

/// `POST git/refs`.
#[derive(Debug, Serialize)]
pub(crate) struct NewRef<'a> {
    #[serde(rename = "ref")]
    pub reference: String,
    pub sha: &'a str,
}

/// `GET compare/{base}...{head}`.
#[derive(Debug, Deserialize)]
pub(crate) struct Comparison {
    #[serde(default)]
    pub total_commits: usize,
    #[serde(default)]
    pub commits: Vec<ComparedCommit>,
}

/// One commit of a comparison.
#[derive(Debug, Deserialize)]
pub(crate) struct ComparedCommit {
    pub sha: String,
    pub commit: ComparedCommitDetail,
    #[serde(default)]
    pub author: Option<Login>,
}

/// The git part of a compared commit.
#[derive(Debug, Deserialize)]
pub(crate) struct ComparedCommitDetail {
    pub message: String,
    #[serde(default)]
    pub author: Option<GitPerson>,
    #[serde(default)]
    pub committer: Option<GitPerson>,
    #[serde(default)]
    pub verification: Option<Verification>,
}

/// A commit's author or committer as git records it.
#[derive(Debug, Deserialize)]
pub(crate) struct GitPerson {
    #[serde(default)]
    pub email: Option<String>,
}

/// `commit.verification`: whether GitHub verified the commit's signature.
#[derive(Debug, Deserialize)]
pub(crate) struct Verification {
    #[serde(default)]
    pub verified: bool,
}

/// `{login}` of a user; GitHub sends `{}` for a commit whose e-mail belongs to no account (and
/// `null`, handled by the `Option` around it).
#[derive(Debug, Deserialize)]
pub(crate) struct Login {
    #[serde(default)]
    pub login: Option<String>,
}

/// `GET /user`, `GET /users/{login}`: an account.
#[derive(Debug, Deserialize)]
pub(crate) struct User {
    pub id: u64,
    pub login: String,
    #[serde(default)]
    pub name: Option<String>,
}

/// `GET /app`.
#[derive(Debug, Deserialize)]
pub(crate) struct App {
    pub slug: String,
}

/// `GET pulls`, `POST pulls`, `PATCH pulls/{n}`.
#[derive(Debug, Deserialize)]
pub(crate) struct Pull {
    pub number: u64,
    pub html_url: String,
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub body: Option<String>,
    pub head: PullHead,
    #[serde(default)]
    pub labels: Vec<LabelName>,
    /// `open` or `closed`.
    #[serde(default)]
    pub state: String,
    #[serde(default)]
    pub merged_at: Option<String>,
    #[serde(default)]
    pub merge_commit_sha: Option<String>,
    #[serde(default)]
    pub user: Option<Login>,
    #[serde(default)]
    pub base: Option<PullHead>,
}

/// A label, as far as its name.
#[derive(Debug, Deserialize)]
pub(crate) struct LabelName {
    pub name: String,
}

/// A pull request's head.
#[derive(Debug, Deserialize)]
pub(crate) struct PullHead {
    #[serde(rename = "ref")]
    pub reference: String,
    pub sha: String,
    #[serde(default)]
    pub label: Option<String>,
}

/// `POST pulls`.
#[derive(Debug, Serialize)]
pub(crate) struct NewPull<'a> {
    pub title: &'a str,
    pub head: &'a str,
    pub base: &'a str,
    pub body: &'a str,
}

/// `PATCH pulls/{n}`.
#[derive(Debug, Serialize)]
pub(crate) struct EditPull<'a> {
    pub title: &'a str,
    pub body: &'a str,
}

/// `POST issues/{n}/labels`.
#[derive(Debug, Serialize)]
pub(crate) struct Labels<'a> {
    pub labels: &'a [String],
}

/// `GET issues`, `POST issues`, `PATCH issues/{n}`.
#[derive(Debug, Deserialize)]
pub(crate) struct IssueBody {
    pub number: u64,
    pub html_url: String,
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub body: Option<String>,
    /// Present when the "issue" is a pull request.
    #[serde(default)]
    pub pull_request: Option<serde_json::Value>,
    #[serde(default)]
    pub labels: Vec<LabelName>,
    /// Who opened it.
    #[serde(default)]
    pub user: Option<Login>,
}

/// `POST labels`.
#[derive(Debug, Serialize)]
pub(crate) struct NewLabel<'a> {
    pub name: &'a str,
    pub color: &'a str,
}

/// `POST issues`.
#[derive(Debug, Serialize)]
pub(crate) struct NewIssue<'a> {
    pub title: &'a str,
    pub body: &'a str,
    pub labels: [&'a str; 1],
}

/// `PATCH issues/{n}`.
#[derive(Debug, Serialize)]
pub(crate) struct EditIssue<'a> {
    pub body: &'a str,
}

/// `PATCH issues/{n}` closing it.
#[derive(Debug, Serialize)]
pub(crate) struct CloseIssue {
    pub state: &'static str,
}

/// `POST issues/{n}/comments`.
#[derive(Debug, Serialize)]
pub(crate) struct NewComment<'a> {
    pub body: &'a str,
}

/// `POST dispatches`.
#[derive(Debug, Serialize)]
pub(crate) struct Dispatch<'a> {
    pub event_type: &'a str,
    pub client_payload: &'a serde_json::Value,
}

/// `POST actions/workflows/{w}/dispatches`.
#[derive(Debug, Serialize)]
pub(crate) struct WorkflowDispatch<'a> {
    #[serde(rename = "ref")]
    pub reference: &'a str,
    pub inputs: &'a BTreeMap<String, String>,
    pub return_run_details: bool,
}

/// The answer to a dispatch with `return_run_details`.
#[derive(Debug, Deserialize)]
pub(crate) struct WorkflowDispatched {
    pub workflow_run_id: u64,
    pub html_url: String,
}

/// `GET actions/runs/{id}`, and each run of a listing.
#[derive(Debug, Deserialize)]
pub(crate) struct WorkflowRun {
    pub id: u64,
    pub html_url: String,
    pub status: Option<String>,
    pub conclusion: Option<String>,
    pub display_title: String,
}

/// `GET actions/workflows/{w}/runs`.
#[derive(Debug, Deserialize)]
pub(crate) struct WorkflowRuns {
    pub workflow_runs: Vec<WorkflowRun>,
}

/// One job of `GET actions/runs/{id}/jobs`.
#[derive(Debug, Deserialize)]
pub(crate) struct WorkflowJob {
    pub name: String,
    pub status: String,
    pub conclusion: Option<String>,
    pub html_url: Option<String>,
}

/// `GET actions/runs/{id}/jobs`.
#[derive(Debug, Deserialize)]
pub(crate) struct WorkflowJobs {
    pub total_count: usize,
    pub jobs: Vec<WorkflowJob>,
}

/// `GET /repos/{o}/{r}/installation`.
#[derive(Debug, Deserialize)]
pub(crate) struct Installation {
    pub id: u64,
    /// What the installation grants, GitHub's names and levels.
    #[serde(default)]
    pub permissions: BTreeMap<String, String>,
}

/// One rule of `GET /repos/{o}/{r}/rules/branches/{branch}`.
#[derive(Debug, Deserialize)]
pub(crate) struct BranchRule {
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub ruleset_id: Option<u64>,
    #[serde(default)]
    pub ruleset_source: Option<String>,
}

/// `GET /repos/{o}/{r}/rulesets/{id}`, as far as bypassing goes.
#[derive(Debug, Deserialize)]
pub(crate) struct Ruleset {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub current_user_can_bypass: Option<String>,
}

/// `POST /app/installations/{id}/access_tokens`: the narrowing body octocrab's type lacks.
#[derive(Debug, Serialize)]
pub(crate) struct TokenRequest<'a> {
    pub repositories: Vec<&'a str>,
    pub permissions: &'a BTreeMap<Permission, Access>,
}

/// The minted token. Never printed: its Debug is written by hand.
#[derive(Deserialize)]
pub(crate) struct MintedToken {
    pub token: String,
    pub expires_at: String,
}

impl std::fmt::Debug for MintedToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MintedToken")
            .field("token", &"[REDACTED]")
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Decodes `value` as `T`, the way the client decodes that operation's answer.
    fn decodes<T: serde::de::DeserializeOwned>(value: &serde_json::Value) -> Result<(), String> {
        T::deserialize(value)
            .map(drop)
            .map_err(|error| error.to_string())
    }

    /// Every operation whose answer the client decodes, with the wire type it decodes it into.
    type Decoder = fn(&serde_json::Value) -> Result<(), String>;
    const DECODED: &[(&str, &str, Decoder)] = &[
        ("GET", "/app", decodes::<App>),
        ("GET", "/user", decodes::<User>),
        ("GET", "/users/{username}", decodes::<User>),
        (
            "GET",
            "/repos/{owner}/{repo}/installation",
            decodes::<Installation>,
        ),
        (
            "POST",
            "/app/installations/{installation_id}/access_tokens",
            decodes::<MintedToken>,
        ),
        (
            "GET",
            "/repos/{owner}/{repo}/git/ref/{ref}",
            decodes::<GitRef>,
        ),
        ("POST", "/repos/{owner}/{repo}/git/refs", decodes::<GitRef>),
        (
            "PATCH",
            "/repos/{owner}/{repo}/git/refs/{ref}",
            decodes::<GitRef>,
        ),
        (
            "GET",
            "/repos/{owner}/{repo}/contents/{path}",
            decodes::<Contents>,
        ),
        (
            "GET",
            "/repos/{owner}/{repo}/git/trees/{tree_sha}",
            decodes::<Tree>,
        ),
        ("POST", "/repos/{owner}/{repo}/git/trees", decodes::<Sha>),
        (
            "GET",
            "/repos/{owner}/{repo}/git/matching-refs/{ref}",
            decodes::<Vec<NamedRef>>,
        ),
        (
            "GET",
            "/repos/{owner}/{repo}/git/blobs/{file_sha}",
            decodes::<Blob>,
        ),
        ("POST", "/repos/{owner}/{repo}/git/blobs", decodes::<Sha>),
        (
            "GET",
            "/repos/{owner}/{repo}/git/commits/{commit_sha}",
            decodes::<Commit>,
        ),
        ("POST", "/repos/{owner}/{repo}/git/commits", decodes::<Sha>),
        (
            "GET",
            "/repos/{owner}/{repo}/compare/{basehead}",
            decodes::<Comparison>,
        ),
        ("GET", "/repos/{owner}/{repo}/pulls", decodes::<Vec<Pull>>),
        ("POST", "/repos/{owner}/{repo}/pulls", decodes::<Pull>),
        (
            "GET",
            "/repos/{owner}/{repo}/pulls/{pull_number}",
            decodes::<Pull>,
        ),
        (
            "PATCH",
            "/repos/{owner}/{repo}/pulls/{pull_number}",
            decodes::<Pull>,
        ),
        (
            "GET",
            "/repos/{owner}/{repo}/issues",
            decodes::<Vec<IssueBody>>,
        ),
        ("POST", "/repos/{owner}/{repo}/issues", decodes::<IssueBody>),
        (
            "PATCH",
            "/repos/{owner}/{repo}/issues/{issue_number}",
            decodes::<IssueBody>,
        ),
        (
            "POST",
            "/repos/{owner}/{repo}/actions/workflows/{workflow_id}/dispatches",
            decodes::<WorkflowDispatched>,
        ),
        (
            "GET",
            "/repos/{owner}/{repo}/actions/runs/{run_id}",
            decodes::<WorkflowRun>,
        ),
        (
            "GET",
            "/repos/{owner}/{repo}/actions/workflows/{workflow_id}/runs",
            decodes::<WorkflowRuns>,
        ),
        (
            "GET",
            "/repos/{owner}/{repo}/actions/runs/{run_id}/jobs",
            decodes::<WorkflowJobs>,
        ),
    ];

    /// GitHub's own examples (from the vendored description) decode through the wire types the
    /// client uses at run time.
    #[test]
    fn githubs_own_examples_decode() {
        let mut failures = Vec::new();
        for (method, template, decode) in DECODED {
            let examples = valkey_bot_sandbox::contract::examples(method, template).unwrap();
            let successes: Vec<_> = examples
                .iter()
                .filter(|example| (200..300).contains(&example.status))
                .collect();
            assert!(
                !successes.is_empty(),
                "{method} {template}: the description has no success example"
            );
            for example in successes {
                if let Err(error) = decode(&example.value) {
                    failures.push(format!(
                        "{} {} example {:?}: {error}",
                        example.operation, example.status, example.name
                    ));
                }
            }
        }
        assert!(failures.is_empty(), "{}", failures.join("\n"));
    }

    #[test]
    fn a_compared_commit_author_may_be_empty_or_null() {
        for author in ["{}", "null", r#"{"login":"someone"}"#] {
            let text = format!(r#"{{"sha":"a","commit":{{"message":"m"}},"author":{author}}}"#);
            let commit: ComparedCommit = serde_json::from_str(&text).unwrap();
            let login = commit.author.and_then(|a| a.login);
            assert_eq!(login.is_some(), author.contains("someone"), "{author}");
        }
    }

    #[test]
    fn deletions_send_a_null_sha() {
        let entry = TreeEntry {
            path: "a/b",
            mode: "100644",
            kind: "blob",
            sha: None,
        };
        assert_eq!(
            serde_json::to_string(&entry).unwrap(),
            r#"{"path":"a/b","mode":"100644","type":"blob","sha":null}"#
        );
    }

    #[test]
    fn commits_carry_no_author_or_committer() {
        let commit = NewCommit {
            message: "m",
            tree: "t",
            parents: ["p"],
        };
        assert_eq!(
            serde_json::to_string(&commit).unwrap(),
            r#"{"message":"m","tree":"t","parents":["p"]}"#
        );
    }

    #[test]
    fn token_requests_name_repositories_and_permissions() {
        let permissions = BTreeMap::from([
            (Permission::Contents, Access::Write),
            (Permission::PullRequests, Access::Read),
        ]);
        let request = TokenRequest {
            repositories: vec!["valkey-hashes"],
            permissions: &permissions,
        };
        assert_eq!(
            serde_json::to_string(&request).unwrap(),
            r#"{"repositories":["valkey-hashes"],"permissions":{"contents":"write","pull_requests":"read"}}"#
        );
    }
}
