//! The bot against a sandbox that behaves as real GitHub does where a naive fake would not:
//! branch rulesets, label permissions, large files, read-after-write lag.
#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use valkey_bot::runner::Outcome;

#[tokio::test]
async fn a_branch_that_requires_pull_requests_fails_the_task_at_once_saying_what_to_change() {
    let stage = stage(&["9.1.0"]).await;
    stage
        .sandbox
        .rulesets()
        .require_pull_requests("valkey-io/valkey-hashes", "main", false);
    let before = file(&stage.root, "valkey-io/valkey-hashes", "main", "README");
    let report = run(&stage, &request("9.1.0", &["checksums"])).await;
    let (error, security) = failure(&report, "checksums");
    assert!(!security);
    assert!(
        error.contains("Changes must be made through a pull request."),
        "{error}"
    );
    assert!(error.contains("bypass list"), "{error}");
    assert!(error.contains("pull-request"), "{error}");
    let patches = stage
        .sandbox
        .request_log()
        .iter()
        .filter(|r| r.method == "PATCH" && r.path.contains("/git/refs/heads/main"))
        .count();
    assert_eq!(patches, 1, "refused once, not re-planned or retried");
    assert_eq!(
        file(&stage.root, "valkey-io/valkey-hashes", "main", "README"),
        before
    );

    // With the App on the ruleset's bypass list, the same run goes through.
    stage.sandbox.rulesets().clear();
    stage
        .sandbox
        .rulesets()
        .require_pull_requests("valkey-io/valkey-hashes", "main", true);
    let report = run(&stage, &request("9.1.0", &["checksums"])).await;
    assert_eq!(outcome(&report, "checksums"), &Outcome::Done);
    stage.shutdown().await;
}
