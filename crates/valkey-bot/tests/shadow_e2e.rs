//! Shadow mode end to end against the sandbox: the bot plans beside the old automation, writes
//! nothing, and says whether the old automation's commit and pull requests are what it would
//! have written (exit 0), or how they differ (exit 1).
#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use std::collections::BTreeMap;
use valkey_bot::commands::{Outputs, Status, finish, with_notifications};
use valkey_bot::outcome::{Outcome, RunReport};
use valkey_bot::rehearse::Stage;
use valkey_bot::rehearse::takeover::{commit_as, hand_to_old_automation, merge, shadow_config};
use valkey_bot::shadow::Verdict;
use valkey_bot_core::config::{Access, Permission};
use valkey_bot_core::github::{PullRequestStatus, PullRequests as _};
use valkey_bot_core::{Environment, ReleaseRequest, RepoId, Version};
use valkey_bot_github::TokenScope;

const CONTAINER: &str = "valkey-io/valkey-container";
const WEBSITE: &str = "valkey-io/valkey-io.github.io";
const TRACKING: &str = "valkey-io/valkey-automation-bot";

fn all(version: &str) -> ReleaseRequest {
    ReleaseRequest::local(Version::parse(version).unwrap(), Environment::Prod)
}

/// A stage where the old automation did the release of `version`: the bot's own changes,
/// handed over to the old automation's accounts.
async fn released_by_old_automation(version: &str) -> (Stage, RunReport) {
    let stage = stage(&[version]).await;
    let written = run(&stage, &all(version)).await;
    assert!(!written.failed(), "{:?}", written.tasks);
    hand_to_old_automation(&stage, &stage.config().unwrap(), &written)
        .await
        .unwrap();
    (stage, written)
}

/// Runs `request` with every task in shadow mode, with the tracking issue, and checks that it
/// wrote nothing to any repository a task targets: only GETs (and the token minting) reach them.
async fn shadow_run(stage: &Stage, request: &ReleaseRequest) -> (RunReport, Status) {
    let before = stage.sandbox.request_log().len();
    let runner = stage.runner(shadow_config(stage).unwrap()).unwrap();
    let order = runner.order(request, false);
    let runner = with_notifications(runner, order.dry_run()).await;
    let report = runner.run(&order).await.unwrap();
    assert_github_contract(stage);
    let writes: Vec<String> = stage.sandbox.request_log()[before..]
        .iter()
        .filter(|r| r.method != "GET")
        .filter(|r| !r.path.ends_with("/access_tokens"))
        .filter(|r| !r.path.contains(TRACKING))
        .map(|r| format!("{} {}", r.method, r.path))
        .collect();
    assert!(writes.is_empty(), "a shadow run wrote: {writes:?}");
    let status = finish(&report, &runner.server_url, &Outputs::default())
        .await
        .unwrap();
    (report, status)
}

fn shadow(report: &RunReport, task: &str) -> (Verdict, String, String) {
    let task = report.tasks.iter().find(|t| t.name == task).unwrap();
    match &task.outcome {
        Outcome::Shadow { verdict, detail } => (
            *verdict,
            detail.clone(),
            task.diff.clone().unwrap_or_default(),
        ),
        other => panic!("{}: not a shadow outcome: {other:?}", task.name),
    }
}

#[tokio::test]
async fn shadow_agrees_with_the_old_automations_identical_changes_open_or_merged() {
    let (stage, written) = released_by_old_automation("9.1.0").await;
    let (report, status) = shadow_run(&stage, &all("9.1.0")).await;
    for task in [
        "checksums",
        "container",
        "website",
        "artifacts",
        "bundle",
        "docs",
    ] {
        let (verdict, detail, diff) = shadow(&report, task);
        assert_eq!(verdict, Verdict::Same, "{task}: {detail}\n{diff}");
        assert!(diff.is_empty(), "{task}: {diff}");
    }
    let (_, checksums, _) = shadow(&report, "checksums");
    assert!(
        checksums.starts_with("same as the existing change: valkey-io/valkey-hashes@main (commit ")
            && checksums.ends_with(") already holds everything the task would write"),
        "{checksums}"
    );
    let (_, container, _) = shadow(&report, "container");
    assert!(
        container.contains("same as the existing change, pull request #1 from `update-9.1.0`")
            && container.contains("(open, head "),
        "{container}"
    );
    assert_eq!(status, Status::Success);
    assert!(!report.shadow_disagrees());

    // The maintainers merge the old automation's pull requests: still the same change.
    for (repo, task) in [(CONTAINER, "container"), (WEBSITE, "website")] {
        let number = written
            .tasks
            .iter()
            .find(|t| t.name == task)
            .and_then(|t| {
                t.delivered.iter().find_map(|d| match d {
                    valkey_bot::deliver::Delivered::PullRequest { number, .. } => Some(*number),
                    _ => None,
                })
            })
            .unwrap();
        let merged = merge(&stage, repo, number).await.unwrap();
        // GitHub's answer for it: merged, by that commit, opened by the old automation.
        let repo_id = RepoId::parse(repo).unwrap();
        let client = stage
            .app()
            .unwrap()
            .client_for(TokenScope::new(
                repo_id.clone(),
                BTreeMap::from([(Permission::PullRequests, Access::Read)]),
            ))
            .await
            .unwrap();
        let head = if task == "container" {
            "update-9.1.0"
        } else {
            "update-website-9.1.0"
        };
        let record = client.find_latest(&repo_id, head).await.unwrap().unwrap();
        assert_eq!(record.status, PullRequestStatus::Merged(merged));
        assert_eq!(record.pull.number, number);
        let author = if task == "container" {
            "github-actions[bot]"
        } else {
            "valkeyrie-ops[bot]"
        };
        assert_eq!(record.author, author);
    }
    let (report, status) = shadow_run(&stage, &all("9.1.0")).await;
    for task in ["checksums", "container", "website"] {
        let (verdict, detail, _) = shadow(&report, task);
        assert_eq!(verdict, Verdict::Same, "{task}: {detail}");
    }
    assert_eq!(status, Status::Success);
}

#[tokio::test]
async fn a_differing_old_pull_request_is_reported_exactly_and_fails_the_run() {
    let (stage, _) = released_by_old_automation("9.1.0").await;
    let page = "content/download/releases/v9-1-0.md";
    let branch = "update-website-9.1.0";
    let theirs = format!(
        "{}\nAn extra line only the old automation writes.\n",
        file(&stage.root, WEBSITE, branch, page)
    );
    commit_as(
        &stage,
        WEBSITE,
        branch,
        "valkeyrie-ops[bot]",
        page,
        &theirs,
        "Updates downloads section for version 9.1.0",
    )
    .unwrap();
    let (report, status) = shadow_run(&stage, &all("9.1.0")).await;
    let (verdict, detail, diff) = shadow(&report, "website");
    assert_eq!(verdict, Verdict::Differs, "{detail}");
    assert!(
        detail.starts_with("differs from the existing change, pull request #"),
        "{detail}"
    );
    assert!(
        diff.contains(&format!("--- a/{page}\n+++ b/{page}\n"))
            && diff.contains("\n-An extra line only the old automation writes.\n"),
        "{diff}"
    );
    assert_eq!(shadow(&report, "container").0, Verdict::Same);
    assert_eq!(status, Status::TaskFailed);
    assert!(report.shadow_disagrees() && !report.failed());

    // The tracking issue says so, with the difference.
    let issues = stage.sandbox.state().await;
    let comments: Vec<&str> = issues
        .repo(TRACKING)
        .unwrap()
        .comments
        .iter()
        .map(|c| c.body.as_str())
        .collect();
    let comment = comments
        .iter()
        .find(|c| c.contains("`website` (shadow: differs): does not agree with the old automation"))
        .unwrap_or_else(|| panic!("{comments:?}"));
    assert!(
        comment.contains("-An extra line only the old automation writes."),
        "{comment}"
    );
}

#[tokio::test]
async fn without_the_old_automations_change_the_plan_is_shown_and_the_run_fails() {
    let stage = stage(&["9.1.0"]).await;
    let (report, status) = shadow_run(&stage, &all("9.1.0")).await;
    for task in ["container", "website"] {
        let (verdict, detail, diff) = shadow(&report, task);
        assert_eq!(verdict, Verdict::NoExistingChange, "{task}: {detail}");
        assert!(
            detail.starts_with(
                "no existing change found: no open or merged pull request from `update-"
            ),
            "{detail}"
        );
        assert!(diff.contains("+++ b/"), "{task}: {diff}");
    }
    // The hashes commit is not there either: the branch lacks the planned line.
    let (verdict, detail, diff) = shadow(&report, "checksums");
    assert_eq!(verdict, Verdict::Differs, "{detail}");
    assert!(
        diff.contains("\n+hash valkey-9.1.0.tar.gz sha256 "),
        "{diff}"
    );
    assert_eq!(status, Status::TaskFailed);
    // Nothing was written: no pull request anywhere.
    assert!(pulls(&stage, CONTAINER).await.is_empty());
    assert!(pulls(&stage, WEBSITE).await.is_empty());
}

#[tokio::test]
async fn a_branch_that_is_not_the_old_automations_is_not_compared() {
    // The bot's own pull requests are not the old automation's.
    let stage = stage(&["9.1.0"]).await;
    let written = run(&stage, &all("9.1.0")).await;
    assert!(!written.failed());
    let (report, status) = shadow_run(&stage, &all("9.1.0")).await;
    let (verdict, detail, diff) = shadow(&report, "container");
    assert_eq!(verdict, Verdict::NotOldAutomation, "{detail}");
    assert!(
        detail.contains("was opened by `valkey-automation-bot[bot]`, not by the old automation (`github-actions[bot]`): not compared"),
        "{detail}"
    );
    assert!(diff.is_empty());
    assert_eq!(status, Status::TaskFailed);

    // Handed over, but someone else pushed to the container branch.
    hand_to_old_automation(&stage, &stage.config().unwrap(), &written)
        .await
        .unwrap();
    commit_file(
        &stage.root,
        CONTAINER,
        "update-9.1.0",
        "NOTES.md",
        "by hand\n",
        "A note",
    );
    // And the website branch has no pull request (it was deleted from the record).
    stage
        .sandbox
        .edit_state(|state| {
            state.repos.get_mut(WEBSITE).unwrap().issues.clear();
        })
        .await
        .unwrap();
    let (report, status) = shadow_run(&stage, &all("9.1.0")).await;
    let (verdict, detail, _) = shadow(&report, "container");
    assert_eq!(verdict, Verdict::NotOldAutomation, "{detail}");
    assert!(
        detail.contains("has commits not by the old automation (`github-actions[bot]`): ")
            && detail.contains("(someone@example.com)"),
        "{detail}"
    );
    let (verdict, detail, _) = shadow(&report, "website");
    assert_eq!(verdict, Verdict::NotOldAutomation, "{detail}");
    assert!(
        detail.contains("branch `update-website-9.1.0` exists in valkey-io/valkey-io.github.io but is not the old automation's change (no open or merged pull request was opened from it)"),
        "{detail}"
    );
    assert_eq!(status, Status::TaskFailed);
}

#[tokio::test]
async fn an_old_pull_request_that_differs_only_in_a_mode_is_a_difference() {
    let (stage, _) = released_by_old_automation("9.1.0").await;
    let branch = "update-9.1.0";
    // An executable file the container change writes, as `git diff --raw` shows it.
    let raw = common::git(
        &stage.root,
        CONTAINER,
        &["diff", "--raw", "mainline", branch],
    );
    let path = raw
        .lines()
        .find_map(|line| {
            let (meta, path) = line.split_once('\t')?;
            meta.split(' ').nth(1).filter(|mode| *mode == "100755")?;
            Some(path.to_owned())
        })
        .unwrap_or_else(|| panic!("no executable file in the change:\n{raw}"));
    let same_bytes = file(&stage.root, CONTAINER, branch, &path);
    // The old automation commits the same bytes without the executable bit.
    commit_as(
        &stage,
        CONTAINER,
        branch,
        "github-actions[bot]",
        &path,
        &same_bytes,
        "Drops a mode",
    )
    .unwrap();
    let (report, status) = shadow_run(&stage, &all("9.1.0")).await;
    let (verdict, detail, diff) = shadow(&report, "container");
    assert_eq!(verdict, Verdict::Differs, "{detail}");
    assert!(
        diff.contains(&format!(
            "mode of {path}: 100644 existing, 100755 planned\n"
        )),
        "{diff}"
    );
    assert!(!diff.contains("--- a/"), "only the mode differs: {diff}");
    assert_eq!(status, Status::TaskFailed);
}
