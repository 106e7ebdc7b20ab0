//! Faults injected into the sandbox while a release runs: transient failures of the endpoints the
//! bot uses are retried and the release ends right; the rerun afterwards changes nothing.
//! (The first rows of the fault matrix; see the closing note of issue 10 for what remains.)
#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use valkey_bot::outcome::Outcome;
use valkey_bot_sandbox::{FaultAction, FaultRule};

fn status(code: u16) -> FaultAction {
    FaultAction::Status {
        status: code,
        retry_after_secs: Some(1),
        after_effect: false,
    }
}

#[tokio::test]
async fn transient_failures_of_every_write_step_are_retried_and_the_release_completes() {
    let scenarios = [
        ("GET", "/repos/*/*/contents/**", status(502)),
        ("POST", "/repos/*/*/git/blobs", status(500)),
        ("POST", "/repos/*/*/git/trees", status(503)),
        ("POST", "/repos/*/*/git/commits", status(403)),
        ("PATCH", "/repos/*/*/git/refs/heads/**", status(503)),
        ("POST", "/app/installations/*/access_tokens", status(502)),
    ];
    for (method, path, action) in scenarios {
        let stage = stage(&["9.1.0"]).await;
        stage
            .sandbox
            .faults()
            .add(FaultRule::new(method, path, action.clone()).times(1))
            .unwrap();
        let report = run(&stage, &request("9.1.0", &["checksums"])).await;
        assert_eq!(
            outcome(&report, "checksums"),
            &Outcome::Done,
            "{method} {path} {action:?}: {:?}",
            report.tasks
        );
        let readme = file(&stage.root, "valkey-io/valkey-hashes", "main", "README");
        assert_eq!(
            readme.matches("hash valkey-9.1.0.tar.gz ").count(),
            1,
            "{method} {path}"
        );
        let faulted = stage
            .sandbox
            .request_log()
            .iter()
            .filter(|r| r.method == method && r.status.is_some_and(|s| s >= 403))
            .count();
        assert!(faulted >= 1, "{method} {path}: the fault fired");
        let rerun = run(&stage, &request("9.1.0", &["checksums"])).await;
        assert_eq!(outcome(&rerun, "checksums"), &Outcome::UpToDate);
        stage.shutdown().await;
    }
}
