//! The runner: picks the tasks a request asks for, runs them as a dependency graph (independent
//! tasks concurrently, each under its timeout), hands outputs to dependents, and carries out the
//! plans. A failure or panic in one task never stops the others; its dependents are skipped.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::task::JoinSet;
use tracing::{Instrument, info, info_span, warn};
use valkey_bot_core::config::{Config, Mode, Start, TaskConfig};
use valkey_bot_core::download::Downloads;
use valkey_bot_core::outputs::Outputs;
use valkey_bot_core::task::TaskContext;
use valkey_bot_core::{Environment, Plan, ReleaseRequest};

use crate::deliver::{DeliverError, Delivered, Signoff, deliver_change, deliver_effect};
use crate::dry_run;
use crate::forge::{Access, Connector};
use crate::outcome::{
    AttemptError, NEXT_BUG, NEXT_FIX, NEXT_RERUN, NEXT_SECURITY, Outcome, RunReport, TaskReport,
    empty_report, failed, humanize, skipped,
};
use crate::shadow;

/// Everything the runner needs besides the request.
#[derive(Clone)]
pub struct Runner {
    /// The loaded `tasks.toml`.
    pub config: Arc<Config>,
    /// GitHub access per task.
    pub connector: Arc<dyn Connector>,
    /// The shared downloader.
    pub downloads: Arc<dyn Downloads>,
    /// The GitHub server's web address, e.g. `https://github.com`.
    pub server_url: String,
    /// The run's UTC date, `YYYY-MM-DD`.
    pub run_date: String,
    /// Told when the run starts, as each task finishes, and when the run ends (tracking issue).
    pub observers: Vec<Arc<dyn RunObserver>>,
}

/// Follows a run as it happens. Observers report their own problems (a notification that cannot
/// be delivered never changes a task's outcome).
#[async_trait::async_trait]
pub trait RunObserver: Send + Sync {
    /// The run is about to start these tasks.
    async fn started(&self, request: &ReleaseRequest, dry_run: bool, tasks: &[String]);
    /// One task finished (or was skipped).
    async fn task_finished(&self, request: &ReleaseRequest, dry_run: bool, task: &TaskReport);
    /// The run ended.
    async fn finished(&self, report: &RunReport);
}

/// A request the runner refuses before running anything.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RunError {
    /// The request names a task `tasks.toml` does not have.
    #[error("unknown task `{0}` requested (see tasks.toml)")]
    UnknownTask(String),
    /// The request names a task disabled in this environment.
    #[error("task `{task}` is disabled in the `{environment}` environment")]
    Disabled {
        /// The task.
        task: String,
        /// The environment.
        environment: Environment,
    },
    /// A `dev` run that is not a dry run would write to a production repository.
    #[error(
        "task `{task}` would write to its production repository {repo} in the `dev` environment; give it `env.dev.repository` in tasks.toml or use a dry run"
    )]
    DevWritesProd {
        /// The task.
        task: String,
        /// The repository.
        repo: String,
    },
}

/// One run's request with what is decided about it before anything runs: whether it writes,
/// and which tasks only shadow the old automation. Decided only in [`Order::new`], so the
/// command line, the notifications and the tasks cannot disagree about it.
#[derive(Debug, Clone)]
pub struct Order {
    request: ReleaseRequest,
    dry_run: bool,
    /// The tasks in `mode = "shadow"`: they write nothing and compare their plans.
    shadow: BTreeSet<String>,
    /// Whether some task writes (not every task shadows).
    some_task_writes: bool,
}

impl Order {
    /// Decides, once for the whole run, whether `request` writes under `config`: it does not if
    /// the command line says `--dry-run`, the request asks for a dry run, or its environment is
    /// a dry run in `tasks.toml`.
    pub fn new(config: &Config, request: &ReleaseRequest, cli_dry_run: bool) -> Self {
        let dry_run = cli_dry_run
            || request.dry_run
            || config
                .environments
                .get(&request.environment)
                .is_some_and(|e| e.dry_run);
        let shadow = config
            .tasks
            .iter()
            .filter(|t| t.mode == Mode::Shadow)
            .map(|t| t.name.clone())
            .collect();
        let some_task_writes = config.tasks.iter().any(|t| t.mode == Mode::Write);
        Self {
            request: request.clone(),
            dry_run,
            shadow,
            some_task_writes,
        }
    }

    /// Whether `task` only shadows: plans, writes nothing, and compares its plan with the
    /// existing change ([`crate::shadow`]), in a dry run as well.
    pub fn shadows(&self, task: &str) -> bool {
        self.shadow.contains(task)
    }

    /// Whether a task of the run may write: not a dry run, and not every task shadows.
    pub fn tasks_write(&self) -> bool {
        !self.dry_run && self.some_task_writes
    }

    /// The request.
    pub fn request(&self) -> &ReleaseRequest {
        &self.request
    }

    /// Whether the run writes nothing.
    pub fn dry_run(&self) -> bool {
        self.dry_run
    }
}

impl Runner {
    /// The tasks the request selects, with everything they need, in dependency order.
    pub fn select(&self, request: &ReleaseRequest) -> Result<Vec<TaskConfig>, RunError> {
        let by_name: BTreeMap<&str, &TaskConfig> = self
            .config
            .tasks
            .iter()
            .map(|t| (t.name.as_str(), t))
            .collect();
        let mut wanted: BTreeSet<String> = BTreeSet::new();
        let mut queue: Vec<String> = match &request.tasks {
            Some(names) => names.clone(),
            None => self
                .config
                .tasks
                .iter()
                .filter(|t| t.is_enabled(request.environment))
                .map(|t| t.name.clone())
                .collect(),
        };
        while let Some(name) = queue.pop() {
            let task = by_name
                .get(name.as_str())
                .ok_or_else(|| RunError::UnknownTask(name.clone()))?;
            if !task.is_enabled(request.environment) {
                return Err(RunError::Disabled {
                    task: name,
                    environment: request.environment,
                });
            }
            if wanted.insert(name) {
                queue.extend(task.needs.iter().cloned());
            }
        }
        Ok(self
            .config
            .tasks
            .iter()
            .filter(|t| wanted.contains(&t.name))
            .cloned()
            .collect())
    }

    /// The order of a run of `request` with this configuration ([`Order::new`]).
    pub fn order(&self, request: &ReleaseRequest, cli_dry_run: bool) -> Order {
        Order::new(&self.config, request, cli_dry_run)
    }

    /// Runs an order. Refusals happen before any task starts.
    pub async fn run(&self, order: &Order) -> Result<RunReport, RunError> {
        let (request, dry_run) = (&order.request, order.dry_run);
        let tasks = self.select(request)?;
        if request.environment == Environment::Dev && !dry_run {
            // A shadow task writes nothing, wherever it reads.
            for task in tasks.iter().filter(|t| !order.shadows(&t.name)) {
                if let (Some(dev), Some(prod)) = (
                    task.target(Environment::Dev),
                    task.target(Environment::Prod),
                ) && dev.repo == prod.repo
                {
                    return Err(RunError::DevWritesProd {
                        task: task.name.clone(),
                        repo: dev.repo.to_string(),
                    });
                }
            }
        }
        let names_selected: Vec<String> = tasks.iter().map(|t| t.name.clone()).collect();
        for observer in &self.observers {
            observer.started(request, dry_run, &names_selected).await;
        }
        let request = Arc::new(request.clone());
        let mut reports: BTreeMap<String, TaskReport> = BTreeMap::new();
        // The outputs each task published: when final (before its delivery), or at its end.
        let mut outputs: BTreeMap<String, Outputs> = BTreeMap::new();
        let (publish, mut published) = tokio::sync::mpsc::unbounded_channel();
        let mut pending: Vec<TaskConfig> = tasks.clone();
        let mut running = JoinSet::new();
        let mut names = BTreeMap::new();
        let mut started = BTreeMap::new();

        loop {
            // Start every task whose needs are all ready; skip those whose needs failed first.
            let mut index = 0;
            while index < pending.len() {
                let task = &pending[index];
                let readiness: Vec<Readiness> = task
                    .needs
                    .iter()
                    .map(|need| readiness(task.start, need, &reports, &outputs))
                    .collect();
                if readiness.contains(&Readiness::Waiting) {
                    index += 1;
                    continue;
                }
                let task = pending.remove(index);
                if let Some(failed) = task
                    .needs
                    .iter()
                    .zip(&readiness)
                    .find_map(|(need, r)| (*r == Readiness::Failed).then_some(need))
                {
                    let report = skipped(
                        &task.name,
                        format!("needs `{failed}`, which did not succeed"),
                    );
                    for observer in &self.observers {
                        observer.task_finished(&request, dry_run, &report).await;
                    }
                    reports.insert(task.name.clone(), report);
                    index = 0;
                    continue;
                }
                let mut inputs = Outputs::default();
                for need in &task.needs {
                    if let Some(o) = outputs.get(need) {
                        inputs.extend(o);
                    }
                }
                let job = TaskJob {
                    runner: self.clone(),
                    request: Arc::clone(&request),
                    task: task.clone(),
                    inputs,
                    dry_run,
                    shadow: order.shadows(&task.name),
                    publish: publish.clone(),
                };
                let repository = task
                    .target(request.environment)
                    .map_or_else(|| "-".to_owned(), |t| t.repo.to_string());
                let span = info_span!("task", task = %task.name, version = %request.version, repository = %repository);
                let handle = running.spawn(job.run().instrument(span));
                names.insert(handle.id(), task.name.clone());
                started.insert(task.name.clone(), Instant::now());
                // A task may have finished dependents waiting: rescan from the start.
                index = 0;
            }
            let joined = tokio::select! {
                biased;
                Some((name, task_outputs)) = published.recv() => {
                    outputs.entry(name).or_insert(task_outputs);
                    continue;
                }
                joined = running.join_next_with_id() => joined,
            };
            let Some(joined) = joined else {
                break;
            };
            let (name, report, task_outputs) = match joined {
                Ok((id, (report, task_outputs))) => {
                    (names.remove(&id).unwrap_or_default(), report, task_outputs)
                }
                Err(error) => {
                    let name = names.remove(&error.id()).unwrap_or_default();
                    let duration = started.get(&name).map(Instant::elapsed).unwrap_or_default();
                    let message = if error.is_panic() {
                        format!("the task panicked: {}", panic_message(error.into_panic()))
                    } else {
                        "the task was cancelled".to_owned()
                    };
                    warn!(task = %name, "{message}");
                    (
                        name.clone(),
                        failed(&name, message, duration),
                        Outputs::default(),
                    )
                }
            };
            for observer in &self.observers {
                observer.task_finished(&request, dry_run, &report).await;
            }
            if !report.outcome.is_failure() {
                outputs.entry(name.clone()).or_insert(task_outputs);
            }
            reports.insert(name, report);
        }
        let report = RunReport {
            request: (*request).clone(),
            dry_run,
            tasks: tasks
                .iter()
                .filter_map(|t| reports.remove(&t.name))
                .collect(),
        };
        for observer in &self.observers {
            observer.finished(&report).await;
        }
        Ok(report)
    }
}

/// Whether a dependent that starts as `start` may start as far as `need` goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Readiness {
    /// Not yet.
    Waiting,
    /// Yes, with its outputs.
    Ready,
    /// Never: it failed (or was skipped) before it published, or, for [`Start::Delivered`], at all.
    Failed,
}

fn readiness(
    start: Start,
    need: &str,
    reports: &BTreeMap<String, TaskReport>,
    outputs: &BTreeMap<String, Outputs>,
) -> Readiness {
    let finished = reports.get(need).map(|r| r.outcome.is_failure());
    match (start, finished, outputs.contains_key(need)) {
        (Start::Outputs, _, true) | (_, Some(false), _) => Readiness::Ready,
        (_, Some(true), _) => Readiness::Failed,
        (_, None, _) => Readiness::Waiting,
    }
}

fn panic_message(payload: Box<dyn std::any::Any + Send>) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "(no message)".to_owned())
}

/// One task's run: plan, deliver, re-plan if a branch moved, all under the task's timeout.
struct TaskJob {
    runner: Runner,
    request: Arc<ReleaseRequest>,
    task: TaskConfig,
    inputs: Outputs,
    dry_run: bool,
    /// Whether it only shadows ([`Order::shadows`]).
    shadow: bool,
    /// Where the task's outputs go once final, before its delivery (dependents start on them).
    publish: tokio::sync::mpsc::UnboundedSender<(String, Outputs)>,
}

impl TaskJob {
    async fn run(self) -> (TaskReport, Outputs) {
        let start = Instant::now();
        let name = self.task.name.clone();
        let timeout = self.task.timeout;
        let mut report = empty_report(&name, Outcome::UpToDate, Duration::ZERO);
        let result = tokio::time::timeout(timeout, self.attempts(&mut report)).await;
        report.duration = start.elapsed();
        let outputs = match result {
            Ok(Ok(outputs)) => outputs,
            Ok(Err(AttemptError {
                error,
                security,
                next_step,
            })) => {
                report.outcome = Outcome::Failed {
                    error,
                    security,
                    next_step: next_step.to_owned(),
                };
                Outputs::default()
            }
            Err(_) => {
                let running: Vec<&str> = report
                    .delivered
                    .iter()
                    .filter_map(Delivered::running_workflow)
                    .collect();
                let written = if !running.is_empty() {
                    format!(
                        "workflow run {} is still going on GitHub (the bot stopped waiting, it did not cancel the run; a rerun waits for that run instead of starting another)",
                        running.join(", ")
                    )
                } else if report.delivered.is_empty() {
                    "nothing was written".to_owned()
                } else {
                    format!("already written: {:?}", report.delivered)
                };
                report.outcome = Outcome::Failed {
                    error: format!("timed out after {}; {written}", humanize(timeout)),
                    security: false,
                    next_step: NEXT_RERUN.to_owned(),
                };
                Outputs::default()
            }
        };
        match &report.outcome {
            Outcome::Failed {
                error,
                security: true,
                ..
            } => tracing::error!("{error}"),
            Outcome::Failed { error, .. } => tracing::error!("{error}"),
            outcome => info!(
                outcome = outcome.label(),
                seconds = report.duration.as_secs_f64(),
                "task finished"
            ),
        }
        (report, outputs)
    }

    async fn attempts(&self, report: &mut TaskReport) -> Result<Outputs, AttemptError> {
        let environment = self.request.environment;
        let target = self.task.target(environment);
        let access = if self.dry_run || self.shadow {
            Access::ReadOnly
        } else {
            Access::ReadWrite
        };
        // A task without a repository gets no GitHub access at all.
        let forge = match target {
            Some(target) => Some(
                self.runner
                    .connector
                    .connect(&self.task, target, access)
                    .await
                    .map_err(|e| AttemptError {
                        error: format!("could not get GitHub access: {e}"),
                        security: false,
                        next_step: NEXT_FIX,
                    })?,
            ),
            None => None,
        };
        for attempt in 1..=self.task.attempts {
            report.attempts = attempt;
            let ctx = TaskContext {
                request: &self.request,
                target,
                inputs: &self.inputs,
                repos: forge.as_ref().map(|f| f.read.as_ref()),
                downloads: self.runner.downloads.as_ref(),
                server_url: &self.runner.server_url,
                run_date: &self.runner.run_date,
            };
            let plan: Plan = self.task.task.plan(&ctx).await.map_err(|e| AttemptError {
                security: e.is_security(),
                next_step: if e.is_security() {
                    NEXT_SECURITY
                } else {
                    NEXT_FIX
                },
                error: e.to_string(),
            })?;
            report.notes = plan.notes.clone();
            report.alerts = plan.alerts.clone();
            report.outputs = plan.outputs.to_json();
            if attempt == 1 {
                // Final: the plan and its checks passed. A re-plan after a moved branch reads
                // the same inputs, so the outputs published first stand. The run outlives its
                // tasks, so the channel is open; a closed one would mean no one is waiting.
                let _ = self
                    .publish
                    .send((self.task.name.clone(), plan.outputs.clone()));
            }
            if self.shadow {
                let compared = shadow::compare(
                    &plan,
                    &self.task,
                    target,
                    &self.request.version,
                    forge.as_ref(),
                )
                .await
                .map_err(|e| AttemptError {
                    error: format!(
                        "shadow mode: could not read the existing change to compare with: {e}"
                    ),
                    security: false,
                    next_step: NEXT_RERUN,
                })?;
                report.outcome = Outcome::Shadow {
                    verdict: compared.verdict,
                    detail: compared.detail,
                };
                report.diff = Some(compared.diff);
                return Ok(plan.outputs);
            }
            if self.dry_run {
                report.outcome = Outcome::Planned;
                report.diff = Some(dry_run::render(&plan));
                return Ok(plan.outputs);
            }
            let Some(forge) = &forge else {
                if plan.changes.is_empty() && plan.effects.is_empty() {
                    report.outcome = Outcome::UpToDate;
                    return Ok(plan.outputs);
                }
                return Err(AttemptError {
                    error:
                        "the plan writes to GitHub, but the task has no `repository` in tasks.toml"
                            .into(),
                    security: false,
                    next_step: NEXT_BUG,
                });
            };
            match self.deliver(&plan, forge, report).await {
                Ok(()) => {
                    report.outcome = if report.delivered.iter().any(Delivered::changed) {
                        Outcome::Done
                    } else {
                        Outcome::UpToDate
                    };
                    return Ok(plan.outputs);
                }
                Err(DeliverError::Moved { repo, branch }) => {
                    info!(%repo, %branch, attempt, "branch moved while planning; planning again");
                    if attempt < self.task.attempts {
                        let move_seen = forge
                            .settle
                            .before_replan(forge, &plan, &repo, &branch)
                            .await;
                        tokio::time::sleep(replan_delay(attempt, move_seen)).await;
                    }
                }
                Err(error) => return Err(error.into()),
            }
        }
        Err(AttemptError {
            error: format!(
                "branch kept moving; gave up after {} attempts",
                self.task.attempts
            ),
            security: false,
            next_step: NEXT_RERUN,
        })
    }

    async fn deliver(
        &self,
        plan: &Plan,
        forge: &crate::forge::Forge,
        report: &mut TaskReport,
    ) -> Result<(), DeliverError> {
        let signoff = self
            .task
            .signoff
            .then(|| match self.runner.config.run.signoff.as_deref() {
                Some(identity) => Signoff::As(identity),
                None => Signoff::Author,
            });
        for change in &plan.changes {
            let delivered = deliver_change(change, forge, signoff).await?;
            info!(repo = %change.repo, ?delivered, "delivered");
            report.delivered.push(delivered);
        }
        for effect in &plan.effects {
            deliver_effect(effect, forge, &mut report.delivered).await?;
        }
        Ok(())
    }
}

/// How long to wait before planning again after losing a race for a branch (the `attempt`-th
/// loss). When a read showed the branch at a new head (`move_seen`), not at all: another write
/// just landed, so every round of the race has a winner and a run loses at most once per other
/// writer; waiting would only delay it. When no read showed the move (they failed, or kept
/// answering the old head), a random share of a window that doubles with every attempt
/// (100 ms, 200 ms, 400 ms, ...), so runs that collide without seeing why spread out.
fn replan_delay(attempt: u32, move_seen: bool) -> Duration {
    if move_seen {
        return Duration::ZERO;
    }
    let window = 100u64.saturating_mul(1 << attempt.saturating_sub(1).min(6));
    Duration::from_millis(rand::random_range(window / 4..=window))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_replan_after_a_seen_move_is_at_once_and_one_without_spreads_out() {
        for attempt in 1..8 {
            assert_eq!(replan_delay(attempt, true), Duration::ZERO);
        }
        for _ in 0..200 {
            let first = replan_delay(1, false);
            assert!(
                (Duration::from_millis(25)..=Duration::from_millis(100)).contains(&first),
                "{first:?}"
            );
            let third = replan_delay(3, false);
            assert!(
                (Duration::from_millis(100)..=Duration::from_millis(400)).contains(&third),
                "{third:?}"
            );
        }
    }
}
