//! `valkey-bot plan` end to end, the binary against the rehearsal stage (a sandbox playing
//! github.com with an App installed): with no credentials at all it reads the public
//! repositories anonymously, prints the plan and the quota, writes nothing, and keeps GitHub's
//! answers so that a second plan costs a fraction of the first; when the anonymous quota runs
//! out it stops with what to do instead of retrying.
#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::process::Command;

use valkey_bot::rehearse::{Stage, rehearsal_source};
use valkey_bot_core::Version;
use valkey_bot_sandbox::LoggedRequest;

const BIN: &str = env!("CARGO_BIN_EXE_valkey-bot");
const VERSION: &str = "9.0.3";

async fn stage(public_rate_limit: u64) -> Stage {
    let versions = [Version::parse(VERSION).unwrap()];
    Stage::start_with(&versions, None, |config| {
        config.public_rate_limit = public_rate_limit;
    })
    .await
    .unwrap()
}

/// Runs `valkey-bot plan` with no credentials in the environment; (exit code, stdout, stderr).
fn plan(stage: &Stage, dir: &Path) -> (i32, String, String) {
    let config = dir.join("tasks.toml");
    std::fs::write(&config, rehearsal_source(stage.sandbox.base_url())).unwrap();
    let output = Command::new(BIN)
        .args(["plan", "--version", VERSION, "--config"])
        .arg(&config)
        .arg("--cache-dir")
        .arg(dir.join("cache"))
        .args(["--app-slug", valkey_bot::rehearse::APP_SLUG])
        .env("GITHUB_API_URL", stage.sandbox.api_url())
        .env("GITHUB_SERVER_URL", stage.sandbox.base_url())
        .env_remove("GITHUB_TOKEN")
        .env_remove("VALKEY_BOT_APP_ID")
        .env_remove("VALKEY_BOT_APP_PRIVATE_KEY")
        .env_remove("VALKEY_BOT_APP_PRIVATE_KEY_PATH")
        .env_remove("GITHUB_ACTIONS")
        .env_remove("GITHUB_STEP_SUMMARY")
        .output()
        .unwrap();
    (
        output.status.code().unwrap(),
        String::from_utf8(output.stdout).unwrap(),
        String::from_utf8(output.stderr).unwrap(),
    )
}

fn api_requests(stage: &Stage) -> Vec<LoggedRequest> {
    stage
        .sandbox
        .request_log()
        .into_iter()
        .filter(|entry| entry.path.starts_with("/api/v3"))
        .collect()
}

/// The plan's diffs: stdout up to the run table (whose durations and quota line differ between
/// runs).
fn diffs(stdout: &str) -> String {
    stdout
        .lines()
        .take_while(|line| !line.starts_with("task "))
        .collect::<Vec<_>>()
        .join("\n")
}

#[tokio::test(flavor = "multi_thread")]
async fn an_anonymous_plan_reads_writes_nothing_and_a_second_plan_costs_a_fraction() {
    let stage = stage(10_000).await;
    let dir = tempfile::tempdir().unwrap();
    let (code, first, stderr) = plan(&stage, dir.path());
    assert_eq!(code, 0, "{first}\n{stderr}");
    assert!(first.contains("=== valkey-io/valkey-hashes"), "{first}");
    assert!(first.contains("+++ b/versions.json"), "{first}");
    let quota = first
        .lines()
        .find(|line| line.starts_with("GitHub: "))
        .unwrap();
    assert!(quota.contains("left this hour (anonymous)"), "{quota}");
    let after_first = api_requests(&stage);
    assert!(!after_first.is_empty());
    for entry in &after_first {
        assert_eq!(entry.scope, "public", "{entry:?}");
        assert_eq!(entry.method, "GET", "a plan only reads: {entry:?}");
    }

    let (code, second, stderr) = plan(&stage, dir.path());
    assert_eq!(code, 0, "{second}\n{stderr}");
    assert_eq!(diffs(&second), diffs(&first), "the same plan both times");
    let all = api_requests(&stage);
    let second_run = &all[after_first.len()..];
    println!(
        "API requests: first plan {}, second plan {}",
        after_first.len(),
        second_run.len()
    );
    assert!(
        second_run.len() * 3 <= after_first.len(),
        "the second plan sent {} requests, the first {}",
        second_run.len(),
        after_first.len()
    );
    assert!(second_run.iter().any(|entry| entry.status == Some(304)));
}

#[tokio::test(flavor = "multi_thread")]
async fn an_anonymous_plan_out_of_quota_stops_with_what_to_do_and_no_retries() {
    let stage = stage(5).await;
    let dir = tempfile::tempdir().unwrap();
    let (code, stdout, stderr) = plan(&stage, dir.path());
    assert_eq!(code, 1, "{stdout}\n{stderr}");
    assert!(stderr.contains("rate limit ran out"), "{stderr}");
    assert!(stderr.contains("GITHUB_TOKEN"), "{stderr}");
    assert!(
        stdout.contains("0 of 5 left this hour (anonymous)"),
        "{stdout}"
    );
    let refused: Vec<String> = api_requests(&stage)
        .into_iter()
        .filter(|entry| entry.status == Some(403))
        .map(|entry| format!("{}?{}", entry.path, entry.query.unwrap_or_default()))
        .collect();
    assert!(!refused.is_empty());
    let unique: std::collections::BTreeSet<&String> = refused.iter().collect();
    assert_eq!(
        unique.len(),
        refused.len(),
        "a refused request is not retried: {refused:?}"
    );
}
