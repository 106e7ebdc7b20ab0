//! End-to-end helpers: a stage (seeded repositories + sandbox with App auth), git plumbing to
//! change repositories behind the bot's back, and shortcuts to run releases.
#![allow(dead_code, clippy::unwrap_used)]

use std::path::Path;
use std::process::Command;
use std::sync::{Arc, Mutex};

use valkey_bot::outcome::{Outcome, RunReport};
use valkey_bot::rehearse::Stage;
use valkey_bot_core::{Environment, ReleaseRequest, Version};

/// Runs git in `repo` under the stage's root and returns its stdout; panics on failure.
pub fn git(root: &Path, repo: &str, args: &[&str]) -> String {
    String::from_utf8(git_bytes(root, repo, args, &[])).unwrap()
}

fn git_with_env(root: &Path, repo: &str, args: &[&str], env: &[(&str, &str)]) -> String {
    String::from_utf8(git_bytes(root, repo, args, env)).unwrap()
}

/// Runs git in `repo` and returns its raw stdout.
pub fn git_bytes(root: &Path, repo: &str, args: &[&str], env: &[(&str, &str)]) -> Vec<u8> {
    let output = Command::new("git")
        .args(args)
        .current_dir(root.join(repo))
        .env("GIT_AUTHOR_NAME", "Someone Else")
        .env("GIT_AUTHOR_EMAIL", "someone@example.com")
        .env("GIT_COMMITTER_NAME", "Someone Else")
        .env("GIT_COMMITTER_EMAIL", "someone@example.com")
        .envs(env.iter().copied())
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    output.stdout
}

/// The bytes of `path` at the tip of `branch`.
pub fn file(root: &Path, repo: &str, branch: &str, path: &str) -> String {
    git(root, repo, &["show", &format!("{branch}:{path}")])
}

/// Commit subjects on `branch`, newest first.
pub fn subjects(root: &Path, repo: &str, branch: &str) -> Vec<String> {
    git(root, repo, &["log", "--format=%s", branch])
        .lines()
        .map(str::to_owned)
        .collect()
}

/// Commits `content` as `path` on `branch` without touching any work tree (plumbing only).
pub fn commit_file(
    root: &Path,
    repo: &str,
    branch: &str,
    path: &str,
    content: &str,
    message: &str,
) {
    let index = root.join(format!("index-{}", repo.replace('/', "-")));
    let index = index.to_str().unwrap();
    let env = [("GIT_INDEX_FILE", index)];
    git_with_env(root, repo, &["read-tree", branch], &env);
    let blob_file = root.join("blob.tmp");
    std::fs::write(&blob_file, content).unwrap();
    let blob = git(
        root,
        repo,
        &["hash-object", "-w", blob_file.to_str().unwrap()],
    );
    git_with_env(
        root,
        repo,
        &[
            "update-index",
            "--add",
            "--cacheinfo",
            &format!("100644,{},{path}", blob.trim()),
        ],
        &env,
    );
    let tree = git_with_env(root, repo, &["write-tree"], &env);
    let parent = git(root, repo, &["rev-parse", branch]);
    let commit = git(
        root,
        repo,
        &[
            "commit-tree",
            tree.trim(),
            "-p",
            parent.trim(),
            "-m",
            message,
        ],
    );
    git(
        root,
        repo,
        &[
            "update-ref",
            &format!("refs/heads/{branch}"),
            commit.trim(),
            parent.trim(),
        ],
    );
    std::fs::remove_file(index).ok();
}

/// Starts a stage seeded for `versions`.
pub async fn stage(versions: &[&str]) -> Stage {
    let versions: Vec<Version> = versions
        .iter()
        .map(|v| Version::parse(v).unwrap())
        .collect();
    let stage = Stage::start(&versions, None).await.unwrap();
    stage.sandbox.check_contract();
    stage
}

/// Fails naming every exchange so far that is not as GitHub's own description says (operation,
/// status, JSON pointer): [`run`] calls it after each run. A run that sent no API request at all
/// (a task that only downloads) has nothing to check; one that sent some must have had them
/// checked.
pub fn assert_github_contract(stage: &Stage) {
    let sent_api_requests = stage
        .sandbox
        .request_log()
        .iter()
        .any(|request| request.path.starts_with("/api/"));
    if !sent_api_requests && stage.sandbox.contract_exchanges_checked() == 0 {
        return;
    }
    if let Some(report) = stage.sandbox.contract_report() {
        panic!("{report}");
    }
}

/// A production request for `version`, limited to `tasks`.
pub fn request(version: &str, tasks: &[&str]) -> ReleaseRequest {
    let mut request = ReleaseRequest::local(Version::parse(version).unwrap(), Environment::Prod);
    request.tasks = Some(tasks.iter().map(|t| (*t).to_owned()).collect());
    request
}

/// Runs `request` on the stage with the shipped configuration.
pub async fn run(stage: &Stage, request: &ReleaseRequest) -> RunReport {
    let runner = stage.runner(stage.config().unwrap()).unwrap();
    let report = runner.run(&runner.order(request, false)).await.unwrap();
    assert_github_contract(stage);
    report
}

/// The outcome of `task` in `report`.
pub fn outcome<'a>(report: &'a RunReport, task: &str) -> &'a Outcome {
    &report
        .tasks
        .iter()
        .find(|t| t.name == task)
        .unwrap()
        .outcome
}

/// The error of a failed task, and whether it was a security failure.
pub fn failure(report: &RunReport, task: &str) -> (String, bool) {
    match outcome(report, task) {
        Outcome::Failed {
            error, security, ..
        } => (error.clone(), *security),
        other => panic!("{task} did not fail: {other:?}"),
    }
}

/// The hash line for `version` as the bot writes it, from the archive the stage serves.
pub fn hash_line_prefix(version: &str) -> String {
    format!("hash valkey-{version}.tar.gz sha256 ")
}

/// Records a different digest for `version`'s archive in the hashes file, as if its tag had
/// been moved after the first release; returns the forged file.
pub fn forge_retag(stage: &Stage, version: &str) -> String {
    let readme = file(&stage.root, "valkey-io/valkey-hashes", "main", "README");
    let forged = format!(
        "{readme}hash valkey-{version}.tar.gz sha256 {} {}/valkey-io/valkey/archive/refs/tags/{version}.tar.gz\n",
        "ab".repeat(32),
        stage.sandbox.base_url()
    );
    commit_file(
        &stage.root,
        "valkey-io/valkey-hashes",
        "main",
        "README",
        &forged,
        &format!("Update hash for {version}"),
    );
    forged
}

/// Everything written through a `tracing` subscriber that writes here.
#[derive(Clone, Default)]
pub struct Captured(pub Arc<Mutex<Vec<u8>>>);

impl Captured {
    /// What was written, as text.
    pub fn text(&self) -> String {
        String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
    }
}

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// A webhook receiver on loopback that records every JSON body and answers `status`.
pub struct Receiver {
    /// Where to post.
    pub url: String,
    /// Every JSON body received.
    pub bodies: Arc<Mutex<Vec<serde_json::Value>>>,
}

/// Starts a [`Receiver`] that answers every post with `status`.
pub async fn receiver(status: u16) -> Receiver {
    let bodies = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::clone(&bodies);
    let app = axum::Router::new().route(
        "/hook/secret-token",
        axum::routing::post(move |axum::Json(body): axum::Json<serde_json::Value>| {
            let seen = Arc::clone(&seen);
            async move {
                seen.lock().unwrap().push(body);
                axum::http::StatusCode::from_u16(status).unwrap()
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!(
        "http://{}/hook/secret-token",
        listener.local_addr().unwrap()
    );
    tokio::spawn(async move { axum::serve(listener, app).await });
    Receiver { url, bodies }
}

/// The pull requests of `repo`, as the sandbox holds them.
pub async fn pulls(stage: &Stage, repo: &str) -> Vec<valkey_bot_sandbox::Issue> {
    let state = stage.sandbox.state().await;
    state
        .repo(repo)
        .map(|r| {
            r.issues
                .iter()
                .filter(|i| i.pull.is_some())
                .cloned()
                .collect()
        })
        .unwrap_or_default()
}

/// A fault rule refusing every repository dispatch with 422: the bundle task fails, the rest of
/// the release succeeds.
pub fn dispatches_refused() -> valkey_bot_sandbox::FaultRule {
    valkey_bot_sandbox::FaultRule::new(
        "POST",
        "/repos/*/*/dispatches",
        valkey_bot_sandbox::FaultAction::status(422),
    )
}
