//! `valkey-bot doctor` against the sandbox's App: everything in place (exit 0), and each setup
//! problem a release would fail on, named in the table (exit 1).
#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use valkey_bot::doctor::{Diagnosis, Level, examine};
use valkey_bot::rehearse::{Stage, rehearsal_source};
use valkey_bot_core::config;
use valkey_bot_sandbox::Label;

const DOC: &str = "valkey-io/valkey-doc";

/// Defines label `name` in `repo`, as a maintainer would once.
async fn define_label(stage: &Stage, repo: &str, name: &str) {
    let (repo, name) = (repo.to_owned(), name.to_owned());
    stage
        .sandbox
        .edit_state(move |state| {
            state.repos.entry(repo).or_default().labels.push(Label {
                name,
                color: "ededed".to_owned(),
                description: None,
            });
        })
        .await
        .unwrap();
}

/// Runs doctor over `config` with the stage's App and checks that it only read.
async fn doctor(stage: &Stage, config: &config::Config, webhook: bool) -> Diagnosis {
    let before = stage.sandbox.request_log().len();
    let github = stage.app().unwrap();
    let diagnosis = examine(config, &github, webhook).await;
    assert_github_contract(stage);
    let writes: Vec<String> = stage.sandbox.request_log()[before..]
        .iter()
        .filter(|r| r.method != "GET" && !r.path.ends_with("/access_tokens"))
        .map(|r| format!("{} {}", r.method, r.path))
        .collect();
    assert!(writes.is_empty(), "doctor wrote: {writes:?}");
    diagnosis
}

/// The finding `check` of `subject`.
fn finding<'a>(diagnosis: &'a Diagnosis, subject: &str, check: &str) -> (Level, &'a str) {
    let found = diagnosis
        .findings
        .iter()
        .find(|f| f.subject == subject && f.check == check)
        .unwrap_or_else(|| panic!("no `{check}` for {subject}:\n{}", diagnosis.table()));
    (found.level, found.detail.as_str())
}

/// A stage where the one label the shipped configuration cannot create (docs' failed-run
/// label: its token has no `issues: write`) exists.
async fn ready_stage() -> Stage {
    let stage = stage(&["9.1.0"]).await;
    define_label(&stage, DOC, valkey_bot::notify::labels::FAILED_RUN_LABEL).await;
    stage
}

#[tokio::test]
async fn a_ready_setup_passes_every_check() {
    let stage = ready_stage().await;
    let diagnosis = doctor(&stage, &stage.config().unwrap(), true).await;
    assert!(!diagnosis.has_problems(), "{}", diagnosis.table());
    for task in ["checksums", "container", "website", "bundle", "docs"] {
        assert_eq!(finding(&diagnosis, task, "installed").0, Level::Ok);
        assert_eq!(finding(&diagnosis, task, "permissions").0, Level::Ok);
    }
    assert_eq!(
        finding(&diagnosis, "container", "permissions").1,
        "needs contents: write, pull_requests: write, issues: write: granted"
    );
    assert_eq!(
        finding(&diagnosis, "checksums", "branch rules"),
        (Level::Ok, "no rule on `main`")
    );
    assert_eq!(
        finding(&diagnosis, "container", "labels").1,
        "label `valkey-bot: run failed` is missing; the bot creates it (issues: write)"
    );
    assert_eq!(
        finding(&diagnosis, "docs", "labels").1,
        "label `valkey-bot: run failed` exists"
    );
    let (level, identity) = finding(&diagnosis, "run", "sign-off identity");
    assert_eq!(level, Level::Ok);
    assert!(
        identity.starts_with("`valkey-automation-bot[bot] <")
            && identity.ends_with(
                "+valkey-automation-bot[bot]@users.noreply.github.com>` (the App's bot user)"
            ),
        "{identity}"
    );
    assert_eq!(
        finding(&diagnosis, "app", "unused permissions").0,
        Level::Ok
    );
    assert_eq!(
        finding(&diagnosis, "run", "alert webhook"),
        (
            Level::Ok,
            "VALKEY_BOT_ALERT_WEBHOOK is set (its value is not shown)"
        )
    );
    let table = diagnosis.table();
    assert!(
        table.ends_with("No setup problem found: a release would not fail for setup reasons.\n"),
        "{table}"
    );

    // Without the webhook: a warning, not a problem.
    let diagnosis = doctor(&stage, &stage.config().unwrap(), false).await;
    assert_eq!(
        finding(&diagnosis, "run", "alert webhook").0,
        Level::Warning
    );
    assert!(!diagnosis.has_problems());
}

#[tokio::test]
async fn a_missing_permission_is_named() {
    let stage = ready_stage().await;
    stage
        .sandbox
        .set_app_permissions(&[("contents", "write"), ("pull_requests", "write")])
        .unwrap();
    let diagnosis = doctor(&stage, &stage.config().unwrap(), true).await;
    assert!(diagnosis.has_problems());
    assert_eq!(
        finding(&diagnosis, "container", "permissions"),
        (
            Level::Problem,
            "missing issues: write (granted: none): grant it in the App's settings (Permissions), then accept the new permissions on the installation"
        )
    );
    assert_eq!(finding(&diagnosis, "checksums", "permissions").0, Level::Ok);
    assert_eq!(
        finding(&diagnosis, "tracking", "permissions").0,
        Level::Problem
    );
    assert!(
        diagnosis
            .table()
            .contains("problem(s): a release would fail until they are fixed."),
        "{}",
        diagnosis.table()
    );
}

#[tokio::test]
async fn a_permission_no_task_needs_is_named() {
    let stage = ready_stage().await;
    // A configuration whose tasks never use issues (no tracking issue, no label creation).
    let source = rehearsal_source(stage.sandbox.base_url())
        .replace(", issues = \"write\" }", " }")
        .replace(
            "[tracking]\nrepository = \"valkey-io/valkey-automation-bot\"\nlabel = \"release-tracking\"\nworkflow = \"release.yml\"\n",
            "",
        );
    let config = config::load("tasks.toml", &source, &valkey_bot::registry::factories()).unwrap();
    assert!(config.tracking.is_none());
    define_label(
        &stage,
        "valkey-io/valkey-container",
        valkey_bot::notify::labels::FAILED_RUN_LABEL,
    )
    .await;
    define_label(
        &stage,
        "valkey-io/valkey-io.github.io",
        valkey_bot::notify::labels::FAILED_RUN_LABEL,
    )
    .await;
    let diagnosis = doctor(&stage, &config, true).await;
    assert_eq!(
        finding(&diagnosis, "app", "unused permissions"),
        (
            Level::Warning,
            "granted but needed by no task on valkey-io: issues: write (remove it from the App's permissions)"
        )
    );
    assert!(!diagnosis.has_problems(), "{}", diagnosis.table());
}

#[tokio::test]
async fn a_repository_without_the_app_is_named() {
    let stage = ready_stage().await;
    stage.sandbox.uninstall_app(DOC);
    let diagnosis = doctor(&stage, &stage.config().unwrap(), true).await;
    assert_eq!(
        finding(&diagnosis, "docs", "installed"),
        (
            Level::Problem,
            "the App is not installed on valkey-io/valkey-doc: install it on valkey-io and include this repository"
        )
    );
    assert_eq!(finding(&diagnosis, "container", "installed").0, Level::Ok);
    assert!(diagnosis.has_problems());
}

#[tokio::test]
async fn a_pull_request_ruleset_on_a_commit_branch_is_named_unless_the_app_may_bypass_it() {
    let stage = ready_stage().await;
    stage
        .sandbox
        .rulesets()
        .require_pull_requests("valkey-io/valkey-hashes", "main", false);
    let diagnosis = doctor(&stage, &stage.config().unwrap(), true).await;
    let (level, detail) = finding(&diagnosis, "checksums", "branch rules");
    assert_eq!(level, Level::Problem);
    assert!(
        detail.starts_with("ruleset `Require pull requests on main` (valkey-io/valkey-hashes) requires pull requests on `main`: `delivery = \"commit\"` would be refused"),
        "{detail}"
    );

    // On the bypass list: the commit goes through.
    stage.sandbox.rulesets().clear();
    stage
        .sandbox
        .rulesets()
        .require_pull_requests("valkey-io/valkey-hashes", "main", true);
    let diagnosis = doctor(&stage, &stage.config().unwrap(), true).await;
    assert_eq!(
        finding(&diagnosis, "checksums", "branch rules"),
        (
            Level::Ok,
            "1 rule(s) on `main` (pull_request); none refuses this delivery"
        )
    );
    assert!(!diagnosis.has_problems(), "{}", diagnosis.table());
}

#[tokio::test]
async fn a_missing_label_the_task_may_not_create_is_named() {
    let stage = stage(&["9.1.0"]).await;
    let diagnosis = doctor(&stage, &stage.config().unwrap(), true).await;
    assert_eq!(
        finding(&diagnosis, "docs", "labels"),
        (
            Level::Problem,
            "label `valkey-bot: run failed` is missing and the token may not create it: create it in valkey-io/valkey-doc once, or give the task `issues = \"write\"` (and the App issues: write)"
        )
    );
    assert_eq!(finding(&diagnosis, "container", "labels").0, Level::Ok);
    assert!(diagnosis.has_problems());
}

#[test]
fn doctor_needs_the_apps_credentials_not_a_plain_token() {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_valkey-bot"))
        .args(["doctor", "--config"])
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/../../tasks.toml"))
        .env_remove("VALKEY_BOT_APP_ID")
        .env_remove("VALKEY_BOT_APP_PRIVATE_KEY")
        .env_remove("VALKEY_BOT_APP_PRIVATE_KEY_PATH")
        .env("GITHUB_TOKEN", "ghs_not_an_app")
        .env("GITHUB_API_URL", "http://127.0.0.1:9")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(
            "doctor checks the GitHub App's installation and permissions: set VALKEY_BOT_APP_ID"
        ),
        "{stderr}"
    );
    assert!(!stderr.contains("ghs_not_an_app"), "{stderr}");
}
