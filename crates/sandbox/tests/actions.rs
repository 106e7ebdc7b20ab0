//! GitHub Actions, simulated: workflows read from the default branch, dispatches with and without
//! run details, runs progressing queued → in_progress → completed, jobs, and the runs list with
//! its filters and pagination.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use common::{Fixture, commit_all, git, write};
use serde_json::{Value, json};
use valkey_bot_sandbox::WorkflowRunOutcome;

const BUILD: &str = "name: Build\nrun-name: ${{ inputs.title || github.workflow }}\non:\n  workflow_dispatch:\n    inputs:\n      version:\n        required: true\n      title:\n        required: false\njobs:\n  compile:\n    runs-on: ubuntu-latest\n  upload:\n    name: Upload\n    runs-on: ubuntu-latest\n";
const PUSH_ONLY: &str = "on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n";

/// Commits the two workflows to `main` of acme/widgets.
fn add_workflows(fx: &Fixture) {
    let work = fx.root().join("work-actions");
    let bare = fx.widgets_dir();
    git(
        fx.root(),
        &[
            "clone",
            "-q",
            bare.to_str().unwrap(),
            work.to_str().unwrap(),
        ],
    );
    write(&work, ".github/workflows/build.yml", BUILD);
    write(&work, ".github/workflows/push.yml", PUSH_ONLY);
    commit_all(&work, "Add workflows");
    git(&work, &["push", "-q", "origin", "main"]);
}

const DISPATCH: &str = "/repos/acme/widgets/actions/workflows/build.yml/dispatches";

async fn dispatch(fx: &Fixture, title: &str) -> Value {
    let (status, started) = fx
        .post(
            DISPATCH,
            json!({ "ref": "main", "inputs": { "version": "9.1.0", "title": title }, "return_run_details": true }),
        )
        .await;
    assert_eq!(status, 200, "{started}");
    started
}

#[tokio::test]
async fn a_run_progresses_from_queued_to_completed_with_its_jobs() {
    let fx = Fixture::new().await;
    add_workflows(&fx);
    let started = dispatch(&fx, "release 9.1.0").await;
    let id = started["workflow_run_id"].as_u64().unwrap();
    assert_eq!(
        started["html_url"],
        fx.web(&format!("/acme/widgets/actions/runs/{id}"))
    );
    assert_eq!(
        started["run_url"],
        fx.api(&format!("/repos/acme/widgets/actions/runs/{id}"))
    );
    let path = format!("/repos/acme/widgets/actions/runs/{id}");
    let (status, run) = fx.get(&path).await;
    assert_eq!(status, 200);
    assert_eq!(
        (run["status"].clone(), run["conclusion"].clone()),
        (json!("queued"), Value::Null)
    );
    assert_eq!(run["display_title"], "release 9.1.0");
    assert_eq!(run["name"], "Build");
    assert_eq!(run["event"], "workflow_dispatch");
    assert_eq!(run["head_branch"], "main");
    assert_eq!(run["path"], ".github/workflows/build.yml@main");
    // Queued for 500 ms, in progress for 1 s after that.
    tokio::time::sleep(Duration::from_millis(900)).await;
    let (_, run) = fx.get(&path).await;
    assert_eq!(run["status"], "in_progress");
    let (_, jobs) = fx.get(&format!("{path}/jobs")).await;
    assert_eq!(jobs["total_count"], 2);
    assert_eq!(jobs["jobs"][0]["status"], "in_progress");
    tokio::time::sleep(Duration::from_millis(800)).await;
    let (_, run) = fx.get(&path).await;
    assert_eq!(
        (run["status"].clone(), run["conclusion"].clone()),
        (json!("completed"), json!("success"))
    );
    let (_, jobs) = fx.get(&format!("{path}/jobs")).await;
    let names: Vec<(&str, &str)> = jobs["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|job| {
            (
                job["name"].as_str().unwrap(),
                job["conclusion"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(names, [("compile", "success"), ("Upload", "success")]);
}

#[tokio::test]
async fn outcomes_fail_named_jobs_cancel_or_never_start() {
    let fx = Fixture::new().await;
    add_workflows(&fx);
    let outcomes = fx.sandbox.workflow_outcomes();
    outcomes.set(
        "acme/widgets",
        "build.yml",
        WorkflowRunOutcome::Fail {
            failing_jobs: vec!["Upload".into()],
        },
    );
    let failing = dispatch(&fx, "a").await["workflow_run_id"]
        .as_u64()
        .unwrap();
    outcomes.set("acme/widgets", "build.yml", WorkflowRunOutcome::Cancelled);
    let cancelled = dispatch(&fx, "b").await["workflow_run_id"]
        .as_u64()
        .unwrap();
    outcomes.set("acme/widgets", "build.yml", WorkflowRunOutcome::NeverStart);
    let never = dispatch(&fx, "c").await["workflow_run_id"]
        .as_u64()
        .unwrap();
    tokio::time::sleep(Duration::from_millis(1600)).await;
    let (_, run) = fx
        .get(&format!("/repos/acme/widgets/actions/runs/{failing}"))
        .await;
    assert_eq!(run["conclusion"], "failure");
    let (_, jobs) = fx
        .get(&format!("/repos/acme/widgets/actions/runs/{failing}/jobs"))
        .await;
    assert_eq!(jobs["jobs"][0]["conclusion"], "success");
    assert_eq!(jobs["jobs"][1]["conclusion"], "failure");
    let (_, run) = fx
        .get(&format!("/repos/acme/widgets/actions/runs/{cancelled}"))
        .await;
    assert_eq!(run["conclusion"], "cancelled");
    let (status, _) = fx
        .get(&format!("/repos/acme/widgets/actions/runs/{never}"))
        .await;
    assert_eq!(status, 404, "a run that never starts never appears");
    let (_, runs) = fx
        .get("/repos/acme/widgets/actions/workflows/build.yml/runs")
        .await;
    assert_eq!(runs["total_count"], 2, "{runs}");
    let (_, failed) = fx
        .get("/repos/acme/widgets/actions/workflows/build.yml/runs?status=failure")
        .await;
    assert_eq!(failed["workflow_runs"][0]["id"], failing);
    assert_eq!(failed["total_count"], 1);
}

#[tokio::test]
async fn bad_dispatches_answer_as_github_does() {
    let fx = Fixture::new().await;
    add_workflows(&fx);
    let (status, _) = fx
        .post(
            "/repos/acme/widgets/actions/workflows/nope.yml/dispatches",
            json!({ "ref": "main" }),
        )
        .await;
    assert_eq!(status, 404);
    let (status, error) = fx
        .post(
            "/repos/acme/widgets/actions/workflows/push.yml/dispatches",
            json!({ "ref": "main" }),
        )
        .await;
    assert_eq!(
        (status, error["message"].clone()),
        (
            422,
            json!("Workflow does not have 'workflow_dispatch' trigger")
        )
    );
    let (status, error) = fx
        .post(
            DISPATCH,
            json!({ "ref": "main", "inputs": { "version": "1", "colour": "red" } }),
        )
        .await;
    assert_eq!(
        (status, error["message"].clone()),
        (422, json!("Unexpected inputs provided: [\"colour\"]"))
    );
    let (status, error) = fx.post(DISPATCH, json!({ "ref": "main" })).await;
    assert_eq!(
        (status, error["message"].clone()),
        (422, json!("Required input 'version' not provided"))
    );
    let (status, error) = fx
        .post(
            DISPATCH,
            json!({ "ref": "nowhere", "inputs": { "version": "1" } }),
        )
        .await;
    assert_eq!(
        (status, error["message"].clone()),
        (422, json!("No ref found for: nowhere"))
    );
    let (status, body) = fx
        .post(
            DISPATCH,
            json!({ "ref": "main", "inputs": { "version": "1" } }),
        )
        .await;
    assert_eq!(status, 204, "without return_run_details: {body}");
    let (_, runs) = fx
        .get("/repos/acme/widgets/actions/workflows/build.yml/runs")
        .await;
    assert_eq!(
        runs["total_count"], 1,
        "only the accepted dispatch started a run"
    );
    assert_eq!(
        runs["workflow_runs"][0]["display_title"], "Build",
        "no title input: the workflow's name"
    );
}

#[tokio::test]
async fn the_runs_list_pages_like_every_list() {
    let fx = Fixture::new().await;
    add_workflows(&fx);
    for n in 0..3 {
        dispatch(&fx, &format!("run {n}")).await;
    }
    let response = fx
        .fetch(&fx.api("/repos/acme/widgets/actions/workflows/build.yml/runs?per_page=2"))
        .await;
    let link = response.headers()["link"].to_str().unwrap().to_owned();
    assert!(link.contains("per_page=2&page=2>; rel=\"next\""), "{link}");
    let (_, first) = common::decode(response).await;
    assert_eq!(first["total_count"], 3);
    let titles: Vec<&str> = first["workflow_runs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|run| run["display_title"].as_str().unwrap())
        .collect();
    assert_eq!(titles, ["run 2", "run 1"], "newest first");
    let (_, second) = fx
        .get("/repos/acme/widgets/actions/workflows/build.yml/runs?per_page=2&page=2")
        .await;
    assert_eq!(second["workflow_runs"][0]["display_title"], "run 0");
}
