//! Telling people, end to end against the sandbox: the tracking issue (created, updated on a
//! rerun, commented on failure), the step summary, the JSON report, the alert payload, Actions
//! annotations, and the rollback of a write that fails verification.
#![allow(clippy::unwrap_used)]

mod common;

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use bytes::Bytes;
use common::*;
use valkey_bot::commands::{Outputs, Status, finish, with_notifications};
use valkey_bot::forge::{Access, Connector, Forge};
use valkey_bot::notify::alert::Webhook;
use valkey_bot::notify::labels::FAILED_RUN_LABEL;
use valkey_bot::notify::tracking::CHECKED_PREFIX;
use valkey_bot::outcome::{Outcome, RunReport};
use valkey_bot::rehearse::Stage;
use valkey_bot_core::RepoId;
use valkey_bot_core::config::TaskConfig;
use valkey_bot_core::github::{
    CommitId, CommitSummary, FileWrite, GitHubError, Identity, Issues, PullRequests, RepoRead,
    RepoWrite, TreeFile,
};
use valkey_bot_core::task::Target;

const HASHES: &str = "valkey-io/valkey-hashes";
const AUTOMATION: &str = "valkey-io/valkey-automation-bot";

/// Runs `request` with notifications and reports to files, as `valkey-bot run` does in Actions.
struct Notified {
    report: RunReport,
    status: Status,
    summary: String,
    json: serde_json::Value,
}

async fn run_notified(
    stage: &Stage,
    request: &valkey_bot_core::ReleaseRequest,
    webhook: Option<&Webhook>,
) -> Notified {
    let runner = with_notifications(stage.runner(stage.config().unwrap()).unwrap(), false).await;
    notified(stage, runner, request, webhook).await
}

async fn notified(
    stage: &Stage,
    runner: valkey_bot::runner::Runner,
    request: &valkey_bot_core::ReleaseRequest,
    webhook: Option<&Webhook>,
) -> Notified {
    let summary_path = stage.root.join("summary.md");
    let report_path = stage.root.join("report.json");
    std::fs::remove_file(&summary_path).ok();
    let report = runner.run(&runner.order(request, false)).await.unwrap();
    let outputs = Outputs {
        report: Some(&report_path),
        step_summary: Some(&summary_path),
        actions_groups: true,
        alerts: webhook,
    };
    let status = finish(&report, &runner.server_url, &outputs).await.unwrap();
    Notified {
        report,
        status,
        summary: std::fs::read_to_string(&summary_path).unwrap(),
        json: serde_json::from_slice(&std::fs::read(&report_path).unwrap()).unwrap(),
    }
}

async fn tracking_issues(stage: &Stage) -> Vec<valkey_bot_sandbox::Issue> {
    let state = stage.sandbox.state().await;
    state
        .repo(AUTOMATION)
        .map(|r| r.issues.clone())
        .unwrap_or_default()
}

async fn comments(stage: &Stage) -> Vec<String> {
    let state = stage.sandbox.state().await;
    state
        .repo(AUTOMATION)
        .map(|r| r.comments.iter().map(|c| c.body.clone()).collect())
        .unwrap_or_default()
}

#[tokio::test]
async fn a_success_then_a_rerun_keep_one_tracking_issue_and_send_no_alert() {
    let stage = stage(&["9.1.0"]).await;
    let hook = receiver(200).await;
    let webhook = Webhook::new(hook.url.clone().into());
    let first = run_notified(&stage, &request("9.1.0", &["checksums"]), Some(&webhook)).await;
    assert_eq!(first.status, Status::Success);

    let issues = tracking_issues(&stage).await;
    assert_eq!(issues.len(), 1);
    assert_eq!(issues[0].title, "Release status for Valkey 9.1.0");
    assert_eq!(issues[0].labels, ["release-tracking"]);
    let body = issues[0].body.clone().unwrap();
    let head = git(&stage.root, HASHES, &["rev-parse", "main"]);
    assert!(body.contains("- [x] **checksums**: done — "), "{body}");
    assert!(body.contains("\nLast checked by valkey-bot: 20"), "{body}");
    assert!(
        body.contains(&format!(
            "([link]({}/{HASHES}/commit/{})",
            stage.sandbox.base_url(),
            head.trim()
        )),
        "{body}"
    );

    assert!(
        first.summary.starts_with(
            "## valkey-bot: Valkey 9.1.0 (prod)\n\n| task | outcome | duration | link | details |\n"
        ),
        "{}",
        first.summary
    );
    assert!(
        first.summary.contains("| checksums | ✅ done | "),
        "{}",
        first.summary
    );
    assert!(
        first.summary.contains(&format!(
            "[{}]({}/{HASHES}/commit/{})",
            head.trim(),
            stage.sandbox.base_url(),
            head.trim()
        )),
        "{}",
        first.summary
    );
    assert_eq!(first.json["tasks"][0]["outcome"], "done");
    assert_eq!(first.json["tasks"][0]["delivered"][0]["kind"], "committed");
    assert_eq!(first.json["request"]["version"], "9.1.0");

    let rerun = run_notified(&stage, &request("9.1.0", &["checksums"]), Some(&webhook)).await;
    assert_eq!(rerun.report.tasks[0].outcome, Outcome::UpToDate);
    let issues = tracking_issues(&stage).await;
    assert_eq!(issues.len(), 1, "the rerun updated the same issue");
    let rerun_body = issues[0].body.clone().unwrap();
    assert_eq!(
        without_checked_time(&rerun_body),
        without_checked_time(&body),
        "a rerun that changes nothing changes only the last-checked time"
    );
    assert!(comments(&stage).await.is_empty());
    assert!(
        hook.bodies.lock().unwrap().is_empty(),
        "nothing to alert about"
    );
    stage.shutdown().await;
}

#[tokio::test]
async fn a_tracking_issue_edit_that_failed_mid_run_is_made_at_the_end() {
    let stage = stage(&["9.1.0"]).await;
    // The edit after `checksums` finished is refused once (a 422 is not retried by the client).
    stage
        .sandbox
        .faults()
        .add(
            valkey_bot_sandbox::FaultRule::new(
                "PATCH",
                format!("/repos/{AUTOMATION}/issues/*"),
                valkey_bot_sandbox::FaultAction::status(422),
            )
            .times(1),
        )
        .unwrap();
    let run = run_notified(&stage, &request("9.1.0", &["checksums"]), None).await;
    assert_eq!(run.status, Status::Success);
    let edits: Vec<Option<u16>> = stage
        .sandbox
        .request_log()
        .iter()
        .filter(|e| e.method == "PATCH" && e.path.contains("/issues/"))
        .map(|e| e.status)
        .collect();
    assert_eq!(
        edits,
        [Some(422), Some(200)],
        "refused, then made at the end"
    );
    let body = tracking_issues(&stage).await[0].body.clone().unwrap();
    assert!(body.contains("- [x] **checksums**: done — "), "{body}");
    stage.shutdown().await;
}

/// A stage on which every task of `version` ran with notifications and succeeded, and the request.
async fn released(version: &str) -> (Stage, valkey_bot_core::ReleaseRequest) {
    let stage = stage(&[version]).await;
    let release = valkey_bot_core::ReleaseRequest::local(
        valkey_bot_core::Version::parse(version).unwrap(),
        valkey_bot_core::Environment::Prod,
    );
    let first = run_notified(&stage, &release, None).await;
    assert_eq!(first.status, Status::Success, "{}", first.summary);
    (stage, release)
}

#[tokio::test]
async fn a_rerun_of_a_whole_release_writes_only_the_tracking_issue_time_and_the_dispatch() {
    let (stage, release) = released("9.1.0").await;
    let before = stage.sandbox.state().await;
    let refs_before = all_refs(&stage);
    let requests_before = stage.sandbox.request_log().len();

    let rerun = run_notified(&stage, &release, None).await;
    assert_eq!(rerun.status, Status::Success, "{}", rerun.summary);
    for task in &rerun.report.tasks {
        if task.name != "bundle" {
            assert_eq!(task.outcome, Outcome::UpToDate, "{}", task.name);
        }
    }
    assert_eq!(all_refs(&stage), refs_before, "no commit, no branch moved");
    let after = stage.sandbox.state().await;
    for repo in [
        "valkey-io/valkey-container",
        "valkey-io/valkey-io.github.io",
    ] {
        assert_eq!(
            after.repo(repo).unwrap().issues,
            before.repo(repo).unwrap().issues,
            "{repo}: no pull request updated"
        );
    }
    let (issue_after, issue_before) = (
        &after.repo(AUTOMATION).unwrap().issues[0],
        &before.repo(AUTOMATION).unwrap().issues[0],
    );
    assert_eq!(
        without_checked_time(issue_after.body.as_deref().unwrap()),
        without_checked_time(issue_before.body.as_deref().unwrap()),
        "the tracking issue changed beyond its time"
    );
    let writes: Vec<String> = stage.sandbox.request_log()[requests_before..]
        .iter()
        .filter(|r| r.method != "GET" && !r.path.ends_with("/access_tokens"))
        .map(|r| format!("{} {}", r.method, r.path))
        .collect();
    assert_eq!(
        writes,
        [
            "POST /api/v3/repos/valkey-io/valkey-bundle/dispatches".to_owned(),
            format!(
                "PATCH /api/v3/repos/{AUTOMATION}/issues/{}",
                issue_after.number
            ),
        ],
        "the rerun wrote only the dispatch (an event, sent at least once) and the tracking time"
    );
    stage.shutdown().await;
}

#[tokio::test]
async fn a_task_skipped_on_a_rerun_keeps_the_line_of_the_run_that_did_its_work() {
    let (stage, release) = released("9.1.0").await;
    stage
        .sandbox
        .faults()
        .add(valkey_bot_sandbox::FaultRule::new(
            "GET",
            "/valkey-io/valkey/archive/**",
            valkey_bot_sandbox::FaultAction::status(409),
        ))
        .unwrap();
    let rerun = run_notified(&stage, &release, None).await;
    assert!(matches!(
        rerun
            .report
            .tasks
            .iter()
            .find(|t| t.name == "container")
            .unwrap()
            .outcome,
        Outcome::Skipped { .. }
    ));
    let body = tracking_issues(&stage).await[0].body.clone().unwrap();
    assert!(body.contains("- [ ] **checksums**: failed"), "{body}");
    assert!(body.contains("- [x] **container**: done"), "{body}");
    assert!(body.contains("- [x] **website**: done"), "{body}");
    stage.shutdown().await;
}

/// Refname → commit of every ref of every repository on the stage.
fn all_refs(stage: &Stage) -> Vec<String> {
    let mut refs = Vec::new();
    for repo in [
        HASHES,
        "valkey-io/valkey-container",
        "valkey-io/valkey-io.github.io",
    ] {
        for line in git(
            &stage.root,
            repo,
            &["for-each-ref", "--format=%(refname) %(objectname)"],
        )
        .lines()
        {
            refs.push(format!("{repo}: {line}"));
        }
    }
    refs
}

/// `body` without its "Last checked by valkey-bot" line.
fn without_checked_time(body: &str) -> String {
    let lines: Vec<&str> = body.lines().collect();
    assert_eq!(
        lines
            .iter()
            .filter(|line| line.starts_with(CHECKED_PREFIX))
            .count(),
        1,
        "{body}"
    );
    lines
        .into_iter()
        .filter(|line| !line.starts_with(CHECKED_PREFIX))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The labels of the one pull request in `repo`.
async fn pull_labels(stage: &Stage, repo: &str) -> Vec<String> {
    let pulls = pulls(stage, repo).await;
    assert_eq!(pulls.len(), 1, "{repo}: one pull request");
    pulls[0].labels.clone()
}

#[tokio::test]
async fn a_failed_run_labels_its_pull_requests_and_the_successful_rerun_unlabels_them() {
    let stage = stage(&["9.1.0"]).await;
    stage
        .sandbox
        .faults()
        .add(dispatches_refused().times(1))
        .unwrap();
    let whole = request(
        "9.1.0",
        &["checksums", "artifacts", "container", "website", "bundle"],
    );
    let failed = run_notified(&stage, &whole, None).await;
    assert_eq!(failed.status, Status::TaskFailed);
    assert_eq!(
        outcome(&failed.report, "container"),
        &Outcome::Done,
        "the pull request was opened"
    );
    assert_eq!(
        pull_labels(&stage, "valkey-io/valkey-container").await,
        [FAILED_RUN_LABEL]
    );

    let rerun = run_notified(&stage, &whole, None).await;
    assert_eq!(rerun.status, Status::Success);
    assert!(
        pull_labels(&stage, "valkey-io/valkey-container")
            .await
            .is_empty()
    );
    assert!(
        pull_labels(&stage, "valkey-io/valkey-io.github.io")
            .await
            .is_empty()
    );
    stage.shutdown().await;
}

#[tokio::test]
async fn a_security_failure_alerts_comments_with_the_rerun_and_annotates() {
    let stage = stage(&["9.1.0"]).await;
    forge_retag(&stage, "9.1.0");
    let hook = receiver(200).await;
    let webhook = Webhook::new(hook.url.clone().into());
    let run = run_notified(&stage, &request("9.1.0", &["checksums"]), Some(&webhook)).await;

    assert_eq!(run.status, Status::TaskFailed);

    let alerts = hook.bodies.lock().unwrap().clone();
    assert_eq!(alerts.len(), 1);
    let text = alerts[0]["text"].as_str().unwrap();
    assert!(
        text.starts_with(
            ":rotating_light: valkey-bot: a security check failed for Valkey 9.1.0 (prod)"
        ),
        "{text}"
    );
    assert!(text.contains("`checksums` SECURITY CHECK FAILED"), "{text}");

    assert!(
        run.summary.contains("| checksums | 🚨 failed |"),
        "{}",
        run.summary
    );
    assert!(
        run.summary.contains("<br>**Next:** Do not rerun blindly"),
        "{}",
        run.summary
    );
    assert_eq!(run.json["tasks"][0]["security"], true);

    let comments = comments(&stage).await;
    assert_eq!(comments.len(), 1, "one comment, for the failed task");
    assert!(
        comments[0].starts_with("### `checksums` failed\n"),
        "{}",
        comments[0]
    );
    assert!(
        comments[0].contains("This is a **security check**"),
        "{}",
        comments[0]
    );
    assert!(
        comments[0].contains("gh workflow run release.yml -f version=9.1.0 -f environment=prod -f tasks=checksums,bundle,container,packages,try-valkey,website -f dry_run=false"),
        "{}",
        comments[0]
    );
    let body = tracking_issues(&stage).await[0].body.clone().unwrap();
    assert!(body.contains("- [ ] **checksums**: failed"), "{body}");
    for text in [
        text,
        run.summary.as_str(),
        comments[0].as_str(),
        body.as_str(),
    ] {
        assert!(
            !text.contains("secret-token"),
            "the webhook address leaked: {text}"
        );
    }
    stage.shutdown().await;
}

#[tokio::test]
async fn an_alert_that_cannot_be_delivered_does_not_hide_the_failure() {
    let stage = stage(&["9.1.0"]).await;
    forge_retag(&stage, "9.1.0");
    let hook = receiver(500).await;
    let webhook = Webhook::new(hook.url.clone().into());
    let run = run_notified(&stage, &request("9.1.0", &["checksums"]), Some(&webhook)).await;
    assert_eq!(
        run.status,
        Status::TaskFailed,
        "the run's own failure, not the alert's"
    );
    assert_eq!(hook.bodies.lock().unwrap().len(), 1, "it was attempted");
    stage.shutdown().await;
}

/// Runs once, after the bot's first branch move (someone else pushing in between).
type AfterMove = Option<Box<dyn FnOnce() + Send>>;

/// Wraps the real GitHub access: reads of `README` at a commit the bot created come back corrupted
/// (so verification fails), and after the bot moves a branch, `after_move` runs once.
struct Corrupting {
    inner: Arc<dyn Connector>,
    after_move: Mutex<AfterMove>,
}

struct CorruptingRepo {
    read: Arc<dyn RepoRead>,
    write: Arc<dyn RepoWrite>,
    written: Mutex<Vec<String>>,
    after_move: Arc<Mutex<AfterMove>>,
}

#[async_trait]
impl RepoRead for CorruptingRepo {
    async fn branch_head(
        &self,
        repo: &RepoId,
        branch: &str,
    ) -> Result<Option<CommitId>, GitHubError> {
        self.read.branch_head(repo, branch).await
    }
    async fn read_file(
        &self,
        repo: &RepoId,
        reference: &str,
        path: &str,
    ) -> Result<Option<Bytes>, GitHubError> {
        let real = self.read.read_file(repo, reference, path).await?;
        if path == "README"
            && self
                .written
                .lock()
                .unwrap()
                .iter()
                .any(|id| id == reference)
        {
            return Ok(Some(Bytes::from_static(b"not what was written\n")));
        }
        Ok(real)
    }
    async fn list_files(
        &self,
        repo: &RepoId,
        commit: &str,
        dir: &str,
    ) -> Result<Option<Vec<TreeFile>>, GitHubError> {
        self.read.list_files(repo, commit, dir).await
    }
    async fn list_tags(&self, repo: &RepoId) -> Result<Vec<String>, GitHubError> {
        self.read.list_tags(repo).await
    }
}

#[async_trait]
impl RepoWrite for CorruptingRepo {
    async fn own_identity(&self) -> Result<Identity, GitHubError> {
        self.write.own_identity().await
    }
    async fn create_commit(
        &self,
        repo: &RepoId,
        parent: &str,
        files: &[FileWrite],
        message: &str,
    ) -> Result<CommitId, GitHubError> {
        let id = self
            .write
            .create_commit(repo, parent, files, message)
            .await?;
        if !message.starts_with("Revert") {
            self.written.lock().unwrap().push(id.clone());
        }
        Ok(id)
    }
    async fn move_branch(
        &self,
        repo: &RepoId,
        branch: &str,
        commit: &str,
        force: bool,
    ) -> Result<(), GitHubError> {
        self.write.move_branch(repo, branch, commit, force).await?;
        if let Some(hook) = self.after_move.lock().unwrap().take() {
            hook();
        }
        Ok(())
    }
    async fn create_branch(
        &self,
        repo: &RepoId,
        branch: &str,
        commit: &str,
    ) -> Result<(), GitHubError> {
        self.write.create_branch(repo, branch, commit).await
    }
    async fn commits_between(
        &self,
        repo: &RepoId,
        base: &str,
        head: &str,
    ) -> Result<Vec<CommitSummary>, GitHubError> {
        self.write.commits_between(repo, base, head).await
    }
}

#[async_trait]
impl Connector for Corrupting {
    async fn connect(
        &self,
        task: &TaskConfig,
        target: &Target,
        access: Access,
    ) -> Result<Forge, GitHubError> {
        let forge = self.inner.connect(task, target, access).await?;
        let repo = Arc::new(CorruptingRepo {
            read: Arc::clone(&forge.read),
            write: Arc::clone(&forge.write),
            written: Mutex::new(Vec::new()),
            after_move: Arc::new(Mutex::new(self.after_move.lock().unwrap().take())),
        });
        Ok(Forge {
            read: repo.clone(),
            write: repo,
            ..forge
        })
    }
    async fn pulls(
        &self,
        task: &TaskConfig,
        target: &Target,
    ) -> Result<Arc<dyn PullRequests>, GitHubError> {
        self.inner.pulls(task, target).await
    }
    async fn issues(&self, repo: &RepoId) -> Result<Arc<dyn Issues>, GitHubError> {
        self.inner.issues(repo).await
    }
}

async fn corrupting_run(stage: &Stage, after_move: AfterMove) -> RunReport {
    let runner = stage.runner(stage.config().unwrap()).unwrap();
    let runner = valkey_bot::runner::Runner {
        connector: Arc::new(Corrupting {
            inner: Arc::clone(&runner.connector),
            after_move: Mutex::new(after_move),
        }),
        ..runner
    };
    runner
        .run(&runner.order(&request("9.1.0", &["checksums"]), false))
        .await
        .unwrap()
}

#[tokio::test]
async fn a_write_that_fails_verification_is_rolled_back() {
    let stage = stage(&["9.1.0"]).await;
    let before = git(&stage.root, HASHES, &["rev-parse", "main"]);
    let report = corrupting_run(&stage, None).await;
    let (error, _) = failure(&report, "checksums");
    assert!(
        error.contains("verification failed after writing commit"),
        "{error}"
    );
    assert!(
        error.contains(&format!(
            "rolled back: `main` was moved back to {}",
            before.trim()
        )),
        "{error}"
    );
    assert_eq!(
        git(&stage.root, HASHES, &["rev-parse", "main"]),
        before,
        "the branch is restored"
    );
    match &report.tasks[0].outcome {
        Outcome::Failed { next_step, .. } => assert!(
            next_step.starts_with("Read what the rollback did"),
            "{next_step}"
        ),
        other => panic!("{other:?}"),
    }
    stage.shutdown().await;
}

#[tokio::test]
async fn a_write_that_fails_verification_after_the_branch_moved_gets_a_revert_pull_request() {
    let stage = stage(&["9.1.0"]).await;
    let root = stage.root.clone();
    let someone = Box::new(move || {
        commit_file(
            &root,
            HASHES,
            "main",
            "NOTES",
            "someone else's change\n",
            "Add notes",
        );
    });
    let report = corrupting_run(&stage, Some(someone)).await;
    let (error, _) = failure(&report, "checksums");
    assert!(
        error.contains("`main` moved since; revert pull request opened: "),
        "{error}"
    );
    let subjects = subjects(&stage.root, HASHES, "main");
    assert_eq!(
        subjects[..2],
        ["Add notes", "Update hash for 9.1.0"],
        "nothing was force-moved"
    );

    let state = stage.sandbox.state().await;
    let pulls: Vec<_> = state
        .repo(HASHES)
        .unwrap()
        .issues
        .iter()
        .filter(|i| i.pull.is_some())
        .collect();
    assert_eq!(pulls.len(), 1);
    assert_eq!(pulls[0].title, "Revert \"Update hash for 9.1.0\"");
    let branch = pulls[0].pull.as_ref().unwrap();
    let reverted = file(&stage.root, HASHES, &branch.head_ref, "README");
    assert!(
        !reverted.contains("valkey-9.1.0.tar.gz"),
        "the revert removes the bot's line: {reverted}"
    );
    assert_eq!(
        file(&stage.root, HASHES, &branch.head_ref, "NOTES"),
        "someone else's change\n",
        "and keeps theirs"
    );
    stage.shutdown().await;
}
