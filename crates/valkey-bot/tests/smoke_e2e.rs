//! `valkey-bot smoke` against the sandbox: the same GitHub as its reference answers nothing
//! different and leaves nothing behind; an answer whose shape differs is named and exits 1.
#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use valkey_bot::rehearse::{APP_ID, Stage};
use valkey_bot_core::{RepoId, Version};
use valkey_bot_github::GitHubConfig;
use valkey_bot_sandbox::{FaultAction, FaultRule};

/// The repository the smoke scenario runs on.
const THROWAWAY: &str = "valkey-io/valkey-automation-bot";

async fn stage() -> Stage {
    Stage::start(&[Version::parse("9.1.0").unwrap()], None)
        .await
        .unwrap()
}

#[tokio::test]
async fn smoke_against_the_sandbox_reports_no_difference() {
    let stage = stage().await;
    stage.sandbox.check_contract();
    let repo = RepoId::parse(THROWAWAY).unwrap();
    let report = valkey_bot::smoke::smoke(
        &repo,
        "main",
        GitHubConfig::for_api(stage.sandbox.api_url()),
        &stage.app_credentials(),
    )
    .await
    .unwrap();
    assert!(report.differences.is_empty(), "{report}");
    assert!(report.checked >= 25, "{report}");
    assert_github_contract(&stage);
    // Every endpoint of the client, once at least: the large file through the blobs API.
    let log = stage.sandbox.request_log();
    for (method, part) in [
        ("POST", "/access_tokens"),
        ("POST", "/git/blobs"),
        ("POST", "/git/trees"),
        ("POST", "/git/commits"),
        ("POST", "/git/refs"),
        ("PATCH", "/git/refs/heads/valkey-bot-smoke/"),
        ("GET", "/git/blobs/"),
        ("GET", "/compare/"),
        ("POST", "/pulls"),
        ("POST", "/issues"),
        ("POST", "/comments"),
        ("POST", "/labels"),
        ("POST", "/dispatches"),
        ("DELETE", "/git/refs/heads/valkey-bot-smoke/"),
        ("DELETE", "/installation/token"),
    ] {
        assert!(
            log.iter()
                .any(|r| r.method == method && r.path.contains(part)),
            "no {method} …{part}"
        );
    }
    // Nothing left behind: the branch is gone, the pull request and the issue are closed.
    let branches = git(
        &stage.root,
        THROWAWAY,
        &["branch", "--list", "valkey-bot-smoke/*"],
    );
    assert_eq!(branches.trim(), "", "the branch is deleted");
    let state = stage.sandbox.state().await;
    let repo_state = &state.repos[THROWAWAY];
    assert!(!repo_state.issues.is_empty());
    assert!(
        repo_state
            .issues
            .iter()
            .all(|issue| issue.state == "closed"),
        "{:?}",
        repo_state.issues
    );
    let dispatched = &repo_state.dispatches;
    assert!(
        dispatched
            .iter()
            .any(|d| d.event_type == "valkey-bot-smoke"),
        "{dispatched:?}"
    );
    stage.shutdown().await;
}

// Multi-threaded: the sandbox answers the smoke process while this test waits for it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn smoke_reports_an_answer_whose_shape_differs() {
    let stage = stage().await;
    stage
        .sandbox
        .faults()
        .add(FaultRule::new(
            "POST",
            "/repos/*/*/git/commits",
            FaultAction::DropField {
                field: "node_id".to_owned(),
            },
        ))
        .unwrap();
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_valkey-bot"))
        .args(["smoke", "--repository", THROWAWAY])
        .env("GITHUB_API_URL", stage.sandbox.api_url())
        .env("VALKEY_BOT_APP_ID", APP_ID.to_string())
        .env("VALKEY_BOT_APP_PRIVATE_KEY", stage.private_key_pem())
        .env_remove("VALKEY_BOT_APP_PRIVATE_KEY_PATH")
        .env_remove("GITHUB_TOKEN")
        .env_remove("GITHUB_ACTIONS")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stdout}\n{stderr}");
    let operation = "POST /repos/{owner}/{repo}/git/commits";
    let rows: Vec<&str> = stdout
        .lines()
        .filter(|line| line.contains(operation))
        .collect();
    assert!(
        rows.iter()
            .any(|row| row.contains("| description |") && row.contains("node_id")),
        "{stdout}"
    );
    assert!(
        rows.iter().any(|row| row.contains("| sandbox |")
            && row.contains("/node_id: in the sandbox's answer, not GitHub's")),
        "{stdout}"
    );
    assert!(
        stdout.lines().all(|line| !line.contains("| failed |")),
        "the client does not need node_id: {stdout}"
    );
    assert!(!stdout.contains(stage.private_key_pem()), "{stdout}");
    stage.shutdown().await;
}
