//! GitHub Actions: `POST actions/workflows/{w}/dispatches` (with `return_run_details`), `GET
//! actions/runs/{id}`, `GET actions/runs/{id}/jobs` and `GET actions/workflows/{w}/runs`. The
//! workflows are the default branch's `.github/workflows/*.yml`; runs are simulated
//! (`crate::workflows`): their status follows from the time since they were created.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::Extension;
use axum::Json;
use axum::extract::Query;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::SharedState;
use super::extract::{GhJson, GhPath};
use super::issues::repo_state;
use super::paging::Pager;
use crate::auth::{ACTIONS_READ, ACTIONS_WRITE, Caller, stable_id};
use crate::error::ApiError;
use crate::git::Depth;
use crate::repo::Repo;
use crate::shared::Shared;
use crate::state::{WorkflowRunRecord, now_rfc3339};
use crate::workflows::{Outcome, QUEUED, RUNNING, WorkflowFile};

/// Where workflows live in a repository.
const WORKFLOWS_DIR: &str = ".github/workflows";
/// GitHub's limit on a dispatch's inputs.
const MAX_INPUTS: usize = 25;

/// A workflow found by its id or file name.
struct Found {
    path: String,
    file: WorkflowFile,
}

/// The workflow `id` names (its file name, or its numeric id), read from the default branch; 404
/// if there is none.
async fn find_workflow(repo: &Repo, id: &str) -> Result<Found, ApiError> {
    let branch = repo.default_branch().await?;
    let head = repo
        .resolve_commit(&branch)
        .await?
        .ok_or_else(ApiError::not_found)?;
    let Some(dir) = repo
        .git
        .object_info(&format!("{head}:{WORKFLOWS_DIR}"))
        .await?
    else {
        return Err(ApiError::not_found());
    };
    let entries = repo.git.tree_entries(&dir.sha, Depth::Top).await?;
    let entry = entries
        .into_iter()
        .filter(|entry| entry.kind == "blob")
        .filter(|entry| entry.path.ends_with(".yml") || entry.path.ends_with(".yaml"))
        .find(|entry| {
            entry.path == id
                || stable_id(&format!("{WORKFLOWS_DIR}/{}", entry.path)).to_string() == id
        })
        .ok_or_else(ApiError::not_found)?;
    let path = format!("{WORKFLOWS_DIR}/{}", entry.path);
    let bytes = repo
        .git
        .read(&entry.sha, "blob")
        .await?
        .ok_or_else(ApiError::not_found)?;
    let text = String::from_utf8_lossy(&bytes);
    let file = WorkflowFile::parse(&path, &text)
        .ok_or_else(|| ApiError::unprocessable(format!("Invalid workflow file: {path}")))?;
    Ok(Found { path, file })
}

/// Body of `POST dispatches`.
#[derive(Deserialize)]
pub(crate) struct CreateWorkflowDispatch {
    #[serde(rename = "ref")]
    reference: String,
    #[serde(default)]
    inputs: Map<String, Value>,
    #[serde(default)]
    return_run_details: bool,
}

/// Starts a workflow run; 200 with its id and URLs when asked, else 204.
pub(crate) async fn create_workflow_dispatch(
    axum::extract::State(shared): SharedState,
    Extension(caller): Extension<Caller>,
    GhPath((owner, name, workflow_id)): GhPath<(String, String, String)>,
    GhJson(body): GhJson<CreateWorkflowDispatch>,
) -> Result<Response, ApiError> {
    let repo = shared.open(&owner, &name, &caller, ACTIONS_WRITE)?;
    let found = find_workflow(&repo, &workflow_id).await?;
    let Some(declared) = &found.file.dispatch_inputs else {
        return Err(ApiError::unprocessable(
            "Workflow does not have 'workflow_dispatch' trigger",
        ));
    };
    let head_sha = repo
        .resolve_commit(&body.reference)
        .await?
        .ok_or_else(|| ApiError::unprocessable(format!("No ref found for: {}", body.reference)))?;
    if body.inputs.len() > MAX_INPUTS {
        return Err(ApiError::unprocessable(format!(
            "you may only define up to {MAX_INPUTS} `inputs` for a `workflow_dispatch` event"
        )));
    }
    let unexpected: Vec<&String> = body
        .inputs
        .keys()
        .filter(|input| !declared.iter().any(|(known, _)| known == *input))
        .collect();
    if !unexpected.is_empty() {
        return Err(ApiError::unprocessable(format!(
            "Unexpected inputs provided: {}",
            serde_json::to_string(&unexpected).unwrap_or_default()
        )));
    }
    if let Some((missing, _)) = declared
        .iter()
        .find(|(input, required)| *required && !body.inputs.contains_key(input))
    {
        return Err(ApiError::unprocessable(format!(
            "Required input '{missing}' not provided"
        )));
    }
    let outcome = shared.workflow_outcomes.outcome(
        &repo.full_name(),
        found.path.trim_start_matches(&format!("{WORKFLOWS_DIR}/")),
    );
    let actor = shared.auth.actor(&caller).login;
    let display_title = found.file.title(&body.inputs);
    let head_branch = body
        .reference
        .trim_start_matches("refs/heads/")
        .trim_start_matches("refs/tags/")
        .to_owned();
    let path = found.path.clone();
    let record_repo = repo.clone();
    let id = shared
        .store
        .update(move |state| {
            state.workflow_runs_started += 1;
            let id = 1_000 + state.workflow_runs_started;
            let runs = &mut repo_state(state, &record_repo).workflow_runs;
            let run_number = runs.iter().filter(|run| run.path == path).count() as u64 + 1;
            runs.push(WorkflowRunRecord {
                id,
                run_number,
                path,
                workflow_name: found.file.name,
                head_branch,
                head_sha,
                display_title,
                inputs: body.inputs,
                jobs: found.file.jobs,
                actor,
                created_at: now_rfc3339(),
                created_unix_ms: now_ms(),
                outcome,
            });
            Ok(id)
        })
        .await?;
    if !body.return_run_details {
        return Ok(StatusCode::NO_CONTENT.into_response());
    }
    let api = format!("{}/actions/runs/{id}", shared.repo_api_url(&repo));
    Ok(Json(json!({
        "workflow_run_id": id,
        "run_url": api,
        "html_url": format!("{}/actions/runs/{id}", shared.html_url(&repo)),
    }))
    .into_response())
}

/// `GET actions/runs/{id}`.
pub(crate) async fn get_workflow_run(
    axum::extract::State(shared): SharedState,
    Extension(caller): Extension<Caller>,
    GhPath((owner, name, run_id)): GhPath<(String, String, String)>,
) -> Result<Json<Value>, ApiError> {
    let repo = shared.open(&owner, &name, &caller, ACTIONS_READ)?;
    let record = visible_run(&shared, &repo, &run_id).await?;
    Ok(Json(run_json(&shared, &repo, &record, now_ms())))
}

/// `GET actions/runs/{id}/jobs`.
pub(crate) async fn list_workflow_run_jobs(
    axum::extract::State(shared): SharedState,
    Extension(caller): Extension<Caller>,
    GhPath((owner, name, run_id)): GhPath<(String, String, String)>,
    pager: Pager,
) -> Result<Response, ApiError> {
    let repo = shared.open(&owner, &name, &caller, ACTIONS_READ)?;
    let record = visible_run(&shared, &repo, &run_id).await?;
    let jobs = jobs_json(&shared, &repo, &record, now_ms());
    Ok(pager
        .respond_counted(&shared.api_url(), "jobs", jobs)
        .into_response())
}

/// The filters of `GET actions/workflows/{w}/runs` the sandbox applies.
#[derive(Deserialize)]
pub(crate) struct RunsQuery {
    event: Option<String>,
    status: Option<String>,
    branch: Option<String>,
}

/// `GET actions/workflows/{w}/runs`, newest first.
pub(crate) async fn list_workflow_runs(
    axum::extract::State(shared): SharedState,
    Extension(caller): Extension<Caller>,
    GhPath((owner, name, workflow_id)): GhPath<(String, String, String)>,
    Query(query): Query<RunsQuery>,
    pager: Pager,
) -> Result<Response, ApiError> {
    let repo = shared.open(&owner, &name, &caller, ACTIONS_READ)?;
    let found = find_workflow(&repo, &workflow_id).await?;
    let now = now_ms();
    let state = shared.store.snapshot().await;
    let runs: Vec<Value> = state
        .repo(&repo.full_name())
        .map(|repo_state| repo_state.workflow_runs.clone())
        .unwrap_or_default()
        .iter()
        .rev()
        .filter(|run| run.path == found.path)
        .filter(|_| {
            query
                .event
                .as_deref()
                .is_none_or(|e| e == "workflow_dispatch")
        })
        .filter(|run| query.branch.as_deref().is_none_or(|b| b == run.head_branch))
        .filter_map(|run| {
            let (status, conclusion) = progress(run, now)?.status();
            let wanted = query
                .status
                .as_deref()
                .is_none_or(|s| s == status || Some(s) == conclusion);
            wanted.then(|| run_json(&shared, &repo, run, now))
        })
        .collect();
    Ok(pager
        .respond_counted(&shared.api_url(), "workflow_runs", runs)
        .into_response())
}

/// The run `run_id` of `repo` if it has appeared; 404 otherwise.
async fn visible_run(
    shared: &Shared,
    repo: &Repo,
    run_id: &str,
) -> Result<WorkflowRunRecord, ApiError> {
    let id: u64 = run_id.parse().map_err(|_| ApiError::not_found())?;
    let state = shared.store.snapshot().await;
    state
        .repo(&repo.full_name())
        .and_then(|repo_state| repo_state.workflow_runs.iter().find(|run| run.id == id))
        .filter(|run| run.outcome != Outcome::NeverStart)
        .cloned()
        .ok_or_else(ApiError::not_found)
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| {
            u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX)
        })
}

fn rfc3339(unix_ms: u64) -> String {
    humantime::format_rfc3339_seconds(UNIX_EPOCH + Duration::from_millis(unix_ms)).to_string()
}

/// Where a run is at a moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Queued,
    InProgress {
        started: u64,
    },
    Completed {
        started: u64,
        finished: u64,
        conclusion: &'static str,
    },
}

impl Phase {
    fn status(self) -> (&'static str, Option<&'static str>) {
        match self {
            Self::Queued => ("queued", None),
            Self::InProgress { .. } => ("in_progress", None),
            Self::Completed { conclusion, .. } => ("completed", Some(conclusion)),
        }
    }
}

/// Where `run` is at `now` (ms); `None` for a run that never appears.
fn progress(run: &WorkflowRunRecord, now: u64) -> Option<Phase> {
    let millis = |d: Duration| u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
    let started = run.created_unix_ms.saturating_add(millis(QUEUED));
    let (running, conclusion) = match &run.outcome {
        Outcome::NeverStart => return None,
        Outcome::Succeed => (RUNNING, "success"),
        Outcome::Fail { .. } => (RUNNING, "failure"),
        Outcome::Cancelled => (RUNNING, "cancelled"),
        Outcome::Slow { seconds } => (Duration::from_secs(*seconds), "success"),
    };
    let finished = started.saturating_add(millis(running));
    Some(if now < started {
        Phase::Queued
    } else if now < finished {
        Phase::InProgress { started }
    } else {
        Phase::Completed {
            started,
            finished,
            conclusion,
        }
    })
}

/// GitHub's `workflow-run` for `run` at `now`.
fn run_json(shared: &Shared, repo: &Repo, run: &WorkflowRunRecord, now: u64) -> Value {
    let api = shared.repo_api_url(repo);
    let run_api = format!("{api}/actions/runs/{}", run.id);
    let at = progress(run, now).unwrap_or(Phase::Queued);
    let (status, conclusion) = at.status();
    let (started, updated) = match at {
        Phase::Queued => (run.created_unix_ms, run.created_unix_ms),
        Phase::InProgress { started } => (started, started),
        Phase::Completed {
            started, finished, ..
        } => (started, finished),
    };
    let repository = super::shapes::repository(shared, &repo.owner, &repo.name);
    let workflow_id = stable_id(&run.path);
    json!({
        "id": run.id,
        "name": run.workflow_name,
        "node_id": format!("WFR_{}", run.id),
        "check_suite_id": stable_id(&format!("suite:{}", run.id)),
        "check_suite_node_id": format!("CS_{}", run.id),
        "head_branch": run.head_branch,
        "head_sha": run.head_sha,
        "path": format!("{}@{}", run.path, run.head_branch),
        "run_number": run.run_number,
        "run_attempt": 1,
        "referenced_workflows": [],
        "event": "workflow_dispatch",
        "status": status,
        "conclusion": conclusion,
        "workflow_id": workflow_id,
        "url": run_api,
        "html_url": format!("{}/actions/runs/{}", shared.html_url(repo), run.id),
        "pull_requests": [],
        "created_at": run.created_at,
        "updated_at": rfc3339(updated),
        "actor": super::shapes::user(shared, &run.actor),
        "triggering_actor": super::shapes::user(shared, &run.actor),
        "run_started_at": rfc3339(started),
        "jobs_url": format!("{run_api}/jobs"),
        "logs_url": format!("{run_api}/logs"),
        "check_suite_url": format!("{api}/check-suites/{}", stable_id(&format!("suite:{}", run.id))),
        "artifacts_url": format!("{run_api}/artifacts"),
        "cancel_url": format!("{run_api}/cancel"),
        "rerun_url": format!("{run_api}/rerun"),
        "previous_attempt_url": null,
        "workflow_url": format!("{api}/actions/workflows/{workflow_id}"),
        "head_commit": null,
        "repository": repository,
        "head_repository": repository,
        "display_title": run.display_title,
    })
}

/// GitHub's `job`s of `run` at `now`.
fn jobs_json(shared: &Shared, repo: &Repo, run: &WorkflowRunRecord, now: u64) -> Vec<Value> {
    let api = shared.repo_api_url(repo);
    let at = progress(run, now).unwrap_or(Phase::Queued);
    let failing: Vec<&str> = match &run.outcome {
        Outcome::Fail { failing_jobs } if failing_jobs.is_empty() => {
            run.jobs.first().map(String::as_str).into_iter().collect()
        }
        Outcome::Fail { failing_jobs } => failing_jobs.iter().map(String::as_str).collect(),
        _ => Vec::new(),
    };
    run.jobs
        .iter()
        .map(|job| {
            let id = stable_id(&format!("job:{}:{job}", run.id));
            let (status, conclusion, started, completed) = match at {
                Phase::Queued => ("queued", None, run.created_unix_ms, None),
                Phase::InProgress { started } => ("in_progress", None, started, None),
                Phase::Completed {
                    started,
                    finished,
                    conclusion,
                } => {
                    let own = if failing.contains(&job.as_str()) {
                        "failure"
                    } else if conclusion == "failure" {
                        "success"
                    } else {
                        conclusion
                    };
                    ("completed", Some(own), started, Some(rfc3339(finished)))
                }
            };
            json!({
                "id": id,
                "run_id": run.id,
                "run_url": format!("{api}/actions/runs/{}", run.id),
                "run_attempt": 1,
                "node_id": format!("J_{id}"),
                "head_sha": run.head_sha,
                "url": format!("{api}/actions/jobs/{id}"),
                "html_url": format!("{}/actions/runs/{}/job/{id}", shared.html_url(repo), run.id),
                "status": status,
                "conclusion": conclusion,
                "created_at": run.created_at,
                "started_at": rfc3339(started),
                "completed_at": completed,
                "name": job,
                "steps": [],
                "check_run_url": format!("{api}/check-runs/{id}"),
                "labels": ["ubuntu-latest"],
                "runner_id": null,
                "runner_name": null,
                "runner_group_id": null,
                "runner_group_name": null,
                "workflow_name": run.workflow_name,
                "head_branch": run.head_branch,
            })
        })
        .collect()
}
