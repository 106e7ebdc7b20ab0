//! The bot against a sandbox that behaves as real GitHub does where a naive fake would not:
//! branch rulesets, label permissions, large files, read-after-write lag.
#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use valkey_bot::outcome::Outcome;

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

/// github.com answers a source archive with a redirect to codeload (the sandbox's `/_codeload`
/// path): the fetcher follows it under the download policy, and the checksums task hashes what
/// codeload serves.
#[tokio::test]
async fn the_source_archive_is_fetched_through_the_codeload_redirect() {
    let stage = stage(&["9.1.0"]).await;
    let report = run(&stage, &request("9.1.0", &["checksums"])).await;
    assert_eq!(outcome(&report, "checksums"), &Outcome::Done);
    let log = stage.sandbox.request_log();
    let archive = "/valkey-io/valkey/archive/refs/tags/9.1.0.tar.gz";
    let codeload = "/_codeload/valkey-io/valkey/tar.gz/refs/tags/9.1.0";
    let statuses = |path: &str| -> Vec<Option<u16>> {
        log.iter()
            .filter(|r| r.path == path)
            .map(|r| r.status)
            .collect()
    };
    assert_eq!(statuses(archive), [Some(302)]);
    assert_eq!(statuses(codeload), [Some(200)]);
    let hashes = file(&stage.root, "valkey-io/valkey-hashes", "main", "README");
    assert!(hashes.contains(&hash_line_prefix("9.1.0")), "{hashes}");
    stage.shutdown().await;
}

/// `valkey-bot sandbox --app-id --app-public-key`: the standalone sandbox plays a GitHub App, so
/// a plain token no longer has full access; without the options it does.
#[tokio::test]
async fn the_standalone_sandbox_can_play_an_app() {
    use std::io::BufRead;
    let key = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../sandbox/tests/fixtures/app-public-key.pem"
    );
    let serve = |extra: &[&str]| {
        let root = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(root.path().join("acme/widgets")).unwrap();
        git(root.path(), "acme/widgets", &["init", "-q", "-b", "main"]);
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_valkey-bot"))
            .args(["sandbox", "--root", root.path().to_str().unwrap()])
            .args(extra)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let mut first = String::new();
        std::io::BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut first)
            .unwrap();
        (root, child, first.trim().to_owned())
    };
    let status = |base: String| async move {
        reqwest::Client::new()
            .get(format!("{base}/api/v3/repos/acme/widgets"))
            .bearer_auth("plain-token")
            .send()
            .await
            .unwrap()
            .status()
            .as_u16()
    };
    let (_root, mut plain, base) = serve(&[]);
    assert_eq!(
        status(base).await,
        200,
        "a plain token acts as a classic token"
    );
    plain.kill().unwrap();
    plain.wait().unwrap();
    let (_root, mut app, base) = serve(&["--app-id", "4242", "--app-public-key", key]);
    assert_eq!(
        status(base).await,
        401,
        "only the App's tokens are accepted"
    );
    app.kill().unwrap();
    app.wait().unwrap();
    // A key file that cannot be read is named.
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_valkey-bot"))
        .args([
            "sandbox",
            "--root",
            "/tmp",
            "--app-id",
            "1",
            "--app-public-key",
            "/nonexistent.pem",
        ])
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("/nonexistent.pem"), "{stderr}");
}
