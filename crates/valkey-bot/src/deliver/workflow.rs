//! Running a workflow ([`Effect::RunWorkflow`](valkey_bot_core::plan::Effect)): a run of the same
//! release (the same marker as its title) that already succeeded is enough; one still going is
//! waited for; otherwise the workflow is dispatched with `return_run_details`. Then the run is
//! polled every `poll_interval` until it completes (the task's timeout bounds the whole wait):
//! success, or an error naming the failing jobs; a run that does not appear or stays queued
//! past `start_timeout` is an error too.

use std::time::Instant;

use tracing::info;
use valkey_bot_core::github::{GitHubError, WorkflowRun};
use valkey_bot_core::plan::WorkflowDispatch;

use super::{DeliverError, Delivered, WorkflowState};
use crate::forge::Forge;

/// Statuses of a run that has not started (GitHub's `queued`, `waiting`, `pending`, `requested`).
const NOT_STARTED: [&str; 4] = ["queued", "waiting", "pending", "requested"];

/// Runs `dispatch`: pushes the run onto `delivered` as soon as it is known (so a timeout still
/// reports it), then waits for it and updates that entry.
pub(super) async fn run(
    dispatch: &WorkflowDispatch,
    forge: &Forge,
    delivered: &mut Vec<Delivered>,
) -> Result<(), DeliverError> {
    let WorkflowDispatch { repo, workflow, .. } = dispatch;
    let github = |source: GitHubError| workflow_error(dispatch, source);
    let earlier = forge
        .workflows
        .list_runs(repo, workflow)
        .await
        .map_err(github)?
        .into_iter()
        .filter(|run| run.display_title == dispatch.marker)
        .collect::<Vec<WorkflowRun>>();
    let entry = |id: u64, url: String, state| Delivered::Workflow {
        repo: repo.to_string(),
        workflow: workflow.clone(),
        run_id: id,
        url,
        state,
    };
    if let Some(done) = earlier.iter().find(|run| run.succeeded()) {
        info!(%repo, %workflow, url = %done.html_url, "a run for this release already succeeded; not starting another");
        delivered.push(entry(
            done.id,
            done.html_url.clone(),
            WorkflowState::AlreadySucceeded,
        ));
        return Ok(());
    }
    let (id, url, dispatched) = match earlier.iter().find(|run| !run.is_completed()) {
        Some(going) => {
            info!(%repo, %workflow, url = %going.html_url, "a run for this release is still going; waiting for it");
            (going.id, going.html_url.clone(), false)
        }
        None => {
            let started = forge
                .workflows
                .dispatch_workflow(repo, workflow, &dispatch.reference, &dispatch.inputs)
                .await
                .map_err(github)?;
            info!(%repo, %workflow, url = %started.html_url, "workflow run started");
            (started.id, started.html_url, true)
        }
    };
    delivered.push(entry(
        id,
        url.clone(),
        WorkflowState::Running { dispatched },
    ));
    let index = delivered.len() - 1;
    wait(dispatch, forge, id, &url).await?;
    delivered[index] = entry(id, url, WorkflowState::Succeeded { dispatched });
    Ok(())
}

/// Polls run `id` until it completes.
async fn wait(
    dispatch: &WorkflowDispatch,
    forge: &Forge,
    id: u64,
    url: &str,
) -> Result<(), DeliverError> {
    let repo = &dispatch.repo;
    let since = Instant::now();
    loop {
        let run = forge
            .workflows
            .get_run(repo, id)
            .await
            .map_err(|source| workflow_error(dispatch, source))?;
        let started = run
            .as_ref()
            .is_some_and(|run| !NOT_STARTED.contains(&run.status.as_str()));
        match run {
            Some(run) if run.is_completed() => return finished(dispatch, forge, &run).await,
            _ if !started && since.elapsed() >= dispatch.start_timeout => {
                return Err(DeliverError::WorkflowNeverStarted {
                    repo: repo.to_string(),
                    workflow: dispatch.workflow.clone(),
                    url: url.to_owned(),
                    waited: crate::outcome::humanize(dispatch.start_timeout),
                });
            }
            _ => tokio::time::sleep(dispatch.poll_interval).await,
        }
    }
}

/// A completed run: `Ok` if it succeeded, else the error naming its failing jobs.
async fn finished(
    dispatch: &WorkflowDispatch,
    forge: &Forge,
    run: &WorkflowRun,
) -> Result<(), DeliverError> {
    if run.succeeded() {
        return Ok(());
    }
    let conclusion = run.conclusion.clone().unwrap_or_else(|| "unknown".into());
    let jobs = forge
        .workflows
        .list_jobs(&dispatch.repo, run.id)
        .await
        .map_err(|source| workflow_error(dispatch, source))?;
    let failing: Vec<String> = jobs
        .into_iter()
        .filter(|job| {
            matches!(
                job.conclusion.as_deref(),
                Some("failure" | "timed_out" | "startup_failure")
            )
        })
        .map(|job| job.name)
        .collect();
    Err(DeliverError::WorkflowFailed {
        repo: dispatch.repo.to_string(),
        workflow: dispatch.workflow.clone(),
        url: run.html_url.clone(),
        conclusion,
        failing_jobs: failing,
    })
}

/// A GitHub error about the workflow, said in its terms: an unknown workflow file, an input it
/// refuses.
fn workflow_error(dispatch: &WorkflowDispatch, source: GitHubError) -> DeliverError {
    DeliverError::Workflow {
        repo: dispatch.repo.to_string(),
        workflow: dispatch.workflow.clone(),
        problem: match &source {
            GitHubError::NotFound(_) => format!(
                "there is no workflow `{}` in .github/workflows/ of its default branch; check `workflow` in the task's settings",
                dispatch.workflow
            ),
            GitHubError::Rejected(text) => format!(
                "GitHub refused the inputs or ref ({text}); the task's `inputs` (and `marker_input`) must be the workflow's `workflow_dispatch` inputs, and `ref` must exist"
            ),
            other => other.to_string(),
        },
        source,
    }
}
