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

/// `valkey-bot sandbox ARGS` with `env`, over a root holding acme/widgets and acme/gadgets (one
/// empty commit each): the root, the process and its base URL (its first line).
fn standalone_sandbox(
    args: &[&str],
    env: &[(&str, &str)],
) -> (tempfile::TempDir, std::process::Child, String) {
    use std::io::BufRead;
    let root = tempfile::tempdir().unwrap();
    for name in ["acme/widgets", "acme/gadgets"] {
        std::fs::create_dir_all(root.path().join(name)).unwrap();
        git(root.path(), name, &["init", "-q", "-b", "main"]);
        git(
            root.path(),
            name,
            &["commit", "-q", "--allow-empty", "-m", "init"],
        );
    }
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_valkey-bot"))
        .args(["sandbox", "--root", root.path().to_str().unwrap()])
        .args(args)
        .envs(env.iter().copied())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    (root, child, first.trim().to_owned())
}

/// `valkey-bot sandbox --workflow-token-repository OWNER/NAME`: the token in
/// `VALKEY_BOT_SANDBOX_WORKFLOW_TOKEN` is confined to that repository; other plain tokens keep
/// full access; the flag without the variable is refused, naming it.
#[tokio::test]
async fn the_standalone_sandbox_can_confine_a_workflow_token() {
    let (_root, mut sandbox, base) = standalone_sandbox(
        &["--workflow-token-repository", "acme/gadgets"],
        &[("VALKEY_BOT_SANDBOX_WORKFLOW_TOKEN", "wf-secret")],
    );
    let blob = |repo: &'static str, token: &'static str| {
        let url = format!("{base}/api/v3/repos/{repo}/git/blobs");
        async move {
            reqwest::Client::new()
                .post(url)
                .bearer_auth(token)
                .json(&serde_json::json!({"content": "x", "encoding": "utf-8"}))
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    assert_eq!(blob("acme/gadgets", "wf-secret").await, 201);
    assert_eq!(blob("acme/widgets", "wf-secret").await, 403);
    assert_eq!(blob("acme/widgets", "plain-token").await, 201);
    sandbox.kill().unwrap();
    sandbox.wait().unwrap();
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_valkey-bot"))
        .args(["sandbox", "--root", "/tmp"])
        .args(["--workflow-token-repository", "acme/gadgets"])
        .env_remove("VALKEY_BOT_SANDBOX_WORKFLOW_TOKEN")
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("VALKEY_BOT_SANDBOX_WORKFLOW_TOKEN"),
        "{stderr}"
    );
}

/// `valkey-bot sandbox --app-id --app-public-key`: the standalone sandbox plays a GitHub App, so
/// a plain token no longer has full access; without the options it does.
#[tokio::test]
async fn the_standalone_sandbox_can_play_an_app() {
    let key = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../sandbox/tests/fixtures/app-public-key.pem"
    );
    let serve = |extra: &[&str]| standalone_sandbox(extra, &[]);
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

/// A workflow's own `GITHUB_TOKEN` (declared for the automation repository, where the release
/// workflow runs) reads valkey-io/valkey but cannot write valkey-hashes: the task fails naming
/// the permission and the App, and nothing is written. A plain token, a classic personal token
/// to the sandbox, writes the same change.
#[tokio::test]
async fn a_workflow_token_cannot_write_valkey_hashes_but_a_plain_token_can() {
    let versions = [valkey_bot_core::Version::parse("9.1.0").unwrap()];
    let stage = valkey_bot::rehearse::Stage::start_with(&versions, None, |mut config| {
        config.app = None;
        config.with_workflow_token("workflow-token", "valkey-io/valkey-automation-bot")
    })
    .await
    .unwrap();
    stage.sandbox.check_contract();
    let staged = &stage;
    let run_as = |token: &str| {
        let options = valkey_bot::rehearse::RunnerOptions {
            token: Some(token.to_owned().into()),
            ..Default::default()
        };
        let runner = staged
            .runner_with(staged.config().unwrap(), options)
            .unwrap();
        async move {
            let report = runner
                .run(&runner.order(&request("9.1.0", &["checksums"]), false))
                .await
                .unwrap();
            assert_github_contract(staged);
            report
        }
    };
    let before = file(&stage.root, "valkey-io/valkey-hashes", "main", "README");
    let report = run_as("workflow-token").await;
    let (error, security) = failure(&report, "checksums");
    assert!(!security);
    for named in [
        "valkey-io/valkey-hashes",
        "Resource not accessible by integration",
        "`contents: write`",
        "GITHUB_TOKEN",
        "VALKEY_BOT_APP_ID",
    ] {
        assert!(error.contains(named), "{named} not in: {error}");
    }
    assert!(!error.contains("workflow-token"), "{error}");
    assert_eq!(
        file(&stage.root, "valkey-io/valkey-hashes", "main", "README"),
        before
    );
    let log = stage.sandbox.request_log();
    assert!(
        log.iter()
            .any(|r| r.scope == "workflow:valkey-io/valkey-automation-bot"
                && r.status == Some(403)),
        "{log:?}"
    );

    let report = run_as("plain-token").await;
    assert_eq!(outcome(&report, "checksums"), &Outcome::Done);
    let hashes = file(&stage.root, "valkey-io/valkey-hashes", "main", "README");
    assert!(hashes.contains(&hash_line_prefix("9.1.0")), "{hashes}");
    stage.shutdown().await;
}
