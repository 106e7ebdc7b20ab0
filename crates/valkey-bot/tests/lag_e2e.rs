//! Read-after-write lag (the sandbox's `lag` fault): right after a write, GitHub's reads can see
//! the state before it. Verification, the "pull request already exists" path and re-plans read
//! again (bounded) instead of rolling back, failing or repeating a good write.
#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use valkey_bot::outcome::Outcome;
use valkey_bot_core::RepoId;
use valkey_bot_core::config::{Access, Permission};
use valkey_bot_core::github::{FileWrite, RepoRead, RepoWrite};
use valkey_bot_github::TokenScope;
use valkey_bot_sandbox::{FaultAction, FaultRule};

/// Reads lag this long behind a faulted write: longer than every re-plan of a task together
/// (five attempts, at most 1.4 s of waits), shorter than the bounded re-reads (6.2 s).
const LAG_MS: u64 = 3000;

fn lag(method: &str, path: &str) -> FaultRule {
    FaultRule::new(method, path, FaultAction::Lag { ms: LAG_MS })
}

#[tokio::test]
async fn a_commit_not_yet_readable_is_verified_once_it_is_not_rolled_back() {
    let stage = stage(&["9.1.0"]).await;
    stage
        .sandbox
        .faults()
        .add(lag("POST", "/repos/*/*/git/commits"))
        .unwrap();
    let report = run(&stage, &request("9.1.0", &["checksums"])).await;
    assert_eq!(outcome(&report, "checksums"), &Outcome::Done);
    let hashes = file(&stage.root, "valkey-io/valkey-hashes", "main", "README");
    assert_eq!(hashes.matches(&hash_line_prefix("9.1.0")).count(), 1);
    let branches = git(
        &stage.root,
        "valkey-io/valkey-hashes",
        &["branch", "--list"],
    );
    assert!(!branches.contains("revert-"), "{branches}");
}

#[tokio::test]
async fn a_rerun_while_the_branch_still_reads_old_replans_on_the_new_head() {
    let stage = stage(&["9.1.0"]).await;
    // Another writer moves main; for a while reads still answer the old head.
    let faults = stage.sandbox.faults();
    faults
        .add(lag("PATCH", "/repos/*/*/git/refs/heads/main").times(1))
        .unwrap();
    let app = stage.app().unwrap();
    let repo: RepoId = "valkey-io/valkey-hashes".parse().unwrap();
    let scope = TokenScope::new(repo.clone(), [(Permission::Contents, Access::Write)].into());
    let writer = app.client_for(scope).await.unwrap();
    let head = writer.branch_head(&repo, "main").await.unwrap().unwrap();
    let note = FileWrite {
        path: "NOTE".to_owned(),
        content: Some("someone else\n".into()),
        executable: false,
    };
    let moved = writer
        .create_commit(&repo, &head, &[note], "Someone else's commit")
        .await
        .unwrap();
    writer
        .move_branch(&repo, "main", &moved, false)
        .await
        .unwrap();

    let report = run(&stage, &request("9.1.0", &["checksums"])).await;
    assert_eq!(outcome(&report, "checksums"), &Outcome::Done, "{report:?}");
    let hashes = file(&stage.root, "valkey-io/valkey-hashes", "main", "README");
    assert_eq!(hashes.matches(&hash_line_prefix("9.1.0")).count(), 1);
    assert_eq!(
        file(&stage.root, "valkey-io/valkey-hashes", "main", "NOTE"),
        "someone else\n",
        "the other writer's commit is kept"
    );
}

#[tokio::test]
async fn a_rerun_while_the_pull_request_is_not_listed_yet_takes_it_up_after_one_refusal() {
    let stage = stage(&["9.1.0"]).await;
    stage
        .sandbox
        .faults()
        .add(lag("POST", "/repos/*/*/pulls"))
        .unwrap();
    let first = run(&stage, &request("9.1.0", &["website"])).await;
    assert_eq!(outcome(&first, "website"), &Outcome::Done);
    let before = stage.sandbox.request_log().len();
    let rerun = run(&stage, &request("9.1.0", &["website"])).await;
    assert_eq!(outcome(&rerun, "website"), &Outcome::UpToDate, "{rerun:?}");
    for repo in [
        "valkey-io/valkey-io.github.io",
        "valkey-io/valkey-container",
    ] {
        assert_eq!(pulls(&stage, repo).await.len(), 1, "{repo}");
        let opens = stage.sandbox.request_log()[before..]
            .iter()
            .filter(|r| r.method == "POST" && r.path.ends_with(&format!("{repo}/pulls")))
            .count();
        // Refused once as existing; then the bot waits until it is listed and takes it up.
        assert_eq!(
            opens, 1,
            "{repo}: the rerun tried to open its pull request {opens} times"
        );
    }
}
