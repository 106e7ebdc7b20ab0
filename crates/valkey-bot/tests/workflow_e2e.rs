//! Workflow tasks end to end: the real client, App tokens narrowed to `actions: write`, the
//! sandbox simulating the runs. Every outcome the task kind promises: success, no second run
//! after a success, failure naming the failing jobs, cancelled, never started, slow past the
//! task's timeout, an unknown workflow file, an unknown input; and the shipped tasks.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{assert_github_contract, failure, outcome, request, run, stage};
use valkey_bot::deliver::{Delivered, WorkflowState};
use valkey_bot::outcome::{Outcome, RunReport};
use valkey_bot::rehearse::Stage;
use valkey_bot::rehearse::seed::RELEASE_AUTOMATION;
use valkey_bot_sandbox::WorkflowRunOutcome;

const VERSION: &str = "9.1.0";

/// A configuration with one workflow task, `build`, running `workflow` with `inputs` (TOML) and
/// a task `timeout`.
fn config(workflow: &str, inputs: &str, timeout: &str) -> String {
    format!(
        r#"
[trigger]
repository_dispatch = ["valkey-release"]
workflow_dispatch = true

[downloads]
allowed_hosts = []
max_bytes = 1000

[tasks.build]
kind = "workflow"
repository = "{RELEASE_AUTOMATION}"
timeout = "{timeout}"
permissions = {{ actions = "write" }}

[tasks.build.settings]
workflow = "{workflow}"
ref = "main"
inputs = {inputs}
poll_interval = "1s"
start_timeout = "2s"
"#
    )
}

/// Runs task `build` of `source` for [`VERSION`] (a dry run if `dry_run`).
async fn run_build(stage: &Stage, source: &str, dry_run: bool) -> RunReport {
    let config =
        valkey_bot_core::config::load("workflow.toml", source, &valkey_bot::registry::factories())
            .unwrap();
    let runner = stage.runner(config).unwrap();
    let report = runner
        .run(&runner.order(&request(VERSION, &["build"]), dry_run))
        .await
        .unwrap();
    assert_github_contract(stage);
    report
}

fn packages(timeout: &str) -> String {
    config("packages.yml", "{ version = \"{version}\" }", timeout)
}

/// The runs the sandbox started, as (workflow path, inputs).
async fn runs(stage: &Stage) -> Vec<(String, serde_json::Map<String, serde_json::Value>)> {
    stage
        .sandbox
        .state()
        .await
        .repos
        .get(RELEASE_AUTOMATION)
        .map(|repo| {
            repo.workflow_runs
                .iter()
                .map(|run| (run.path.clone(), run.inputs.clone()))
                .collect()
        })
        .unwrap_or_default()
}

fn delivered<'a>(report: &'a RunReport, task: &str) -> &'a [Delivered] {
    &report
        .tasks
        .iter()
        .find(|t| t.name == task)
        .unwrap()
        .delivered
}

fn set(stage: &Stage, workflow: &str, outcome: WorkflowRunOutcome) {
    stage
        .sandbox
        .workflow_outcomes()
        .set(RELEASE_AUTOMATION, workflow, outcome);
}

#[tokio::test]
async fn a_workflow_that_succeeds_is_done_and_a_rerun_does_not_start_it_again() {
    let stage = stage(&[VERSION]).await;
    let report = run_build(&stage, &packages("30s"), false).await;
    assert_eq!(outcome(&report, "build"), &Outcome::Done, "{report:?}");
    let [
        Delivered::Workflow {
            url,
            state,
            workflow,
            ..
        },
    ] = delivered(&report, "build")
    else {
        panic!("one workflow run: {report:?}");
    };
    assert_eq!(workflow, "packages.yml");
    assert_eq!(*state, WorkflowState::Succeeded { dispatched: true });
    assert!(
        url.contains("/valkey-io/valkey-release-automation/actions/runs/"),
        "{url}"
    );
    let started = runs(&stage).await;
    assert_eq!(started.len(), 1, "{started:?}");
    assert_eq!(started[0].0, ".github/workflows/packages.yml");
    assert_eq!(started[0].1["version"], VERSION);
    assert_eq!(started[0].1["valkey_bot_marker"], "valkey-bot 9.1.0 (prod)");

    let rerun = run_build(&stage, &packages("30s"), false).await;
    assert_eq!(outcome(&rerun, "build"), &Outcome::UpToDate, "{rerun:?}");
    let [
        Delivered::Workflow {
            url: again, state, ..
        },
    ] = delivered(&rerun, "build")
    else {
        panic!("the earlier run: {rerun:?}");
    };
    assert_eq!(*state, WorkflowState::AlreadySucceeded);
    assert_eq!(again, url, "the rerun names the run that succeeded");
    assert_eq!(runs(&stage).await.len(), 1, "no second run was started");
}

#[tokio::test]
async fn a_failed_run_fails_the_task_naming_its_failing_jobs() {
    let stage = stage(&[VERSION]).await;
    set(
        &stage,
        "packages.yml",
        WorkflowRunOutcome::Fail {
            failing_jobs: vec!["build-deb".into()],
        },
    );
    let report = run_build(&stage, &packages("30s"), false).await;
    let (error, security) = failure(&report, "build");
    assert!(!security);
    assert!(report.failed(), "exit code 1");
    assert!(
        error.contains("workflow `packages.yml` run ")
            && error.contains("/actions/runs/")
            && error.contains("ended `failure`; failing jobs: build-deb"),
        "{error}"
    );
    assert!(
        !error.contains("build-rpm"),
        "only the failing jobs: {error}"
    );
}

#[tokio::test]
async fn a_cancelled_run_fails_the_task() {
    let stage = stage(&[VERSION]).await;
    set(&stage, "packages.yml", WorkflowRunOutcome::Cancelled);
    let report = run_build(&stage, &packages("30s"), false).await;
    let (error, _) = failure(&report, "build");
    assert!(report.failed());
    assert!(error.contains("ended `cancelled`"), "{error}");
    assert!(!error.contains("failing jobs"), "no job failed: {error}");
}

#[tokio::test]
async fn a_run_that_never_starts_fails_within_the_start_timeout() {
    let stage = stage(&[VERSION]).await;
    set(&stage, "packages.yml", WorkflowRunOutcome::NeverStart);
    let report = run_build(&stage, &packages("30s"), false).await;
    let (error, _) = failure(&report, "build");
    assert!(report.failed());
    assert!(
        error.contains("was dispatched but its run") && error.contains("did not start within 2s"),
        "{error}"
    );
}

#[tokio::test]
async fn a_run_slower_than_the_timeout_fails_saying_it_is_still_going_and_where() {
    let stage = stage(&[VERSION]).await;
    set(
        &stage,
        "packages.yml",
        WorkflowRunOutcome::Slow { seconds: 600 },
    );
    let report = run_build(&stage, &packages("3s"), false).await;
    let (error, _) = failure(&report, "build");
    assert!(report.failed());
    assert!(
        error.starts_with("timed out after 3s; workflow run http")
            && error.contains("/actions/runs/")
            && error.contains("is still going on GitHub"),
        "{error}"
    );
    let [Delivered::Workflow { state, .. }] = delivered(&report, "build") else {
        panic!("the run is reported: {report:?}");
    };
    assert_eq!(*state, WorkflowState::Running { dispatched: true });
    // A rerun waits for that run instead of starting a second one.
    set(&stage, "packages.yml", WorkflowRunOutcome::Succeed);
    let rerun = run_build(&stage, &packages("3s"), false).await;
    assert!(matches!(outcome(&rerun, "build"), Outcome::Failed { .. }));
    assert_eq!(
        runs(&stage).await.len(),
        1,
        "no second run while the first is going"
    );
}

#[tokio::test]
async fn an_unknown_workflow_file_is_a_clear_failure() {
    let stage = stage(&[VERSION]).await;
    let report = run_build(
        &stage,
        &config("nope.yml", "{ version = \"{version}\" }", "30s"),
        false,
    )
    .await;
    let (error, _) = failure(&report, "build");
    assert!(report.failed());
    assert!(
        error
            .contains("workflow `nope.yml`: there is no workflow `nope.yml` in .github/workflows/"),
        "{error}"
    );
    assert!(runs(&stage).await.is_empty());
}

#[tokio::test]
async fn an_unknown_input_is_a_clear_failure() {
    let stage = stage(&[VERSION]).await;
    let report = run_build(
        &stage,
        &config(
            "packages.yml",
            "{ version = \"{version}\", colour = \"red\" }",
            "30s",
        ),
        false,
    )
    .await;
    let (error, _) = failure(&report, "build");
    assert!(report.failed());
    assert!(
        error.contains("Unexpected inputs provided") && error.contains("colour"),
        "{error}"
    );
    assert!(runs(&stage).await.is_empty());
}

#[tokio::test]
async fn a_dry_run_says_what_it_would_dispatch_and_dispatches_nothing() {
    let stage = stage(&[VERSION]).await;
    let report = run_build(&stage, &packages("30s"), true).await;
    assert_eq!(outcome(&report, "build"), &Outcome::Planned);
    let diff = report.tasks[0].diff.clone().unwrap_or_default();
    assert!(
        diff.contains(
            "valkey-io/valkey-release-automation: workflow_dispatch `packages.yml` on `main` with valkey_bot_marker=\"valkey-bot 9.1.0 (prod)\" version=\"9.1.0\""
        ),
        "{diff}"
    );
    assert!(runs(&stage).await.is_empty());
}

#[tokio::test]
async fn the_shipped_workflow_tasks_run_after_checksums() {
    let stage = stage(&[VERSION]).await;
    let report = run(&stage, &request(VERSION, &["try-valkey", "packages"])).await;
    for task in ["checksums", "try-valkey", "packages"] {
        assert_eq!(outcome(&report, task), &Outcome::Done, "{task}: {report:?}");
    }
    let mut started: Vec<String> = runs(&stage)
        .await
        .into_iter()
        .map(|(path, _)| path)
        .collect();
    started.sort();
    assert_eq!(
        started,
        [
            ".github/workflows/packages.yml",
            ".github/workflows/update-try-valkey.yml"
        ]
    );
}

#[tokio::test]
async fn try_valkey_is_not_run_for_a_release_older_than_the_newest() {
    let stage = stage(&["9.0.3", VERSION]).await;
    let report = run(&stage, &request("9.0.3", &["try-valkey"])).await;
    assert_eq!(
        outcome(&report, "try-valkey"),
        &Outcome::UpToDate,
        "{report:?}"
    );
    let notes = &report
        .tasks
        .iter()
        .find(|t| t.name == "try-valkey")
        .unwrap()
        .notes;
    assert!(
        notes[0].contains("9.0.3 is not the newest release (9.1.0 is"),
        "{notes:?}"
    );
    assert!(runs(&stage).await.is_empty());
}
