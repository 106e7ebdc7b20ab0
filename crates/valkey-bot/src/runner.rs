//! The runner: picks the tasks a request asks for, runs them as a dependency graph (independent
//! tasks concurrently, each under its timeout), hands outputs to dependents, and carries out the
//! plans. A failure or panic in one task never stops the others; its dependents are skipped.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::task::JoinSet;
use tracing::{Instrument, info, info_span, warn};
use valkey_bot_core::config::{Config, TaskConfig};
use valkey_bot_core::download::Downloads;
use valkey_bot_core::outputs::Outputs;
use valkey_bot_core::task::TaskContext;
use valkey_bot_core::{Environment, Plan, ReleaseRequest};

use crate::deliver::{DeliverError, Delivered, Signoff, deliver_change, deliver_effect};
use crate::dry_run;
use crate::forge::{Access, Connector};

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

/// How one task ended.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Outcome {
    /// It changed something.
    Done,
    /// Nothing needed to change.
    UpToDate,
    /// Dry run: it planned, nothing was written.
    Planned,
    /// It did not run.
    Skipped {
        /// Why.
        reason: String,
    },
    /// It failed.
    Failed {
        /// The error.
        error: String,
        /// Whether a safety check failed (tampering, digest mismatch): always alerts.
        security: bool,
        /// What a person should do next.
        next_step: String,
    },
}

impl Outcome {
    /// The word shown in tables.
    pub fn label(&self) -> &'static str {
        match self {
            Self::Done => "done",
            Self::UpToDate => "up to date",
            Self::Planned => "planned",
            Self::Skipped { .. } => "skipped",
            Self::Failed { .. } => "failed",
        }
    }

    /// Whether the run should be considered failed because of this outcome.
    pub fn is_failure(&self) -> bool {
        matches!(self, Self::Failed { .. } | Self::Skipped { .. })
    }
}

/// What one task did.
#[derive(Debug, Clone, serde::Serialize)]
pub struct TaskReport {
    /// The task.
    pub name: String,
    /// How it ended.
    #[serde(flatten)]
    pub outcome: Outcome,
    /// Wall time, plan and writes.
    #[serde(with = "duration_secs")]
    pub duration: Duration,
    /// What it wrote, or found already written.
    pub delivered: Vec<Delivered>,
    /// What it noticed.
    pub notes: Vec<String>,
    /// What people must hear about even though it succeeded.
    pub alerts: Vec<String>,
    /// Dry run: the planned changes as unified diffs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub diff: Option<String>,
    /// Its outputs, as JSON.
    pub outputs: serde_json::Value,
    /// How many times it planned (more than one after a branch moved).
    pub attempts: u32,
}

/// The result of a run.
#[derive(Debug, Clone, serde::Serialize)]
pub struct RunReport {
    /// The request.
    pub request: ReleaseRequest,
    /// Whether nothing was written.
    pub dry_run: bool,
    /// One report per selected task, in dependency order.
    pub tasks: Vec<TaskReport>,
}

impl RunReport {
    /// Whether any task failed or was skipped.
    pub fn failed(&self) -> bool {
        self.tasks.iter().any(|t| t.outcome.is_failure())
    }
}

mod duration_secs {
    pub fn serialize<S: serde::Serializer>(
        d: &std::time::Duration,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        s.serialize_f64((d.as_secs_f64() * 1000.0).round() / 1000.0)
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

    /// Whether this request, with the command line's `--dry-run`, writes nothing.
    pub fn is_dry_run(&self, request: &ReleaseRequest, cli_dry_run: bool) -> bool {
        cli_dry_run
            || request.dry_run
            || self
                .config
                .environments
                .get(&request.environment)
                .is_some_and(|e| e.dry_run)
    }

    /// Runs the request. Refusals happen before any task starts.
    pub async fn run(
        &self,
        request: &ReleaseRequest,
        cli_dry_run: bool,
    ) -> Result<RunReport, RunError> {
        let tasks = self.select(request)?;
        let dry_run = self.is_dry_run(request, cli_dry_run);
        if request.environment == Environment::Dev && !dry_run {
            for task in &tasks {
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
        let mut outputs: BTreeMap<String, Outputs> = BTreeMap::new();
        let mut pending: Vec<TaskConfig> = tasks.clone();
        let mut running = JoinSet::new();
        let mut names = BTreeMap::new();
        let mut started = BTreeMap::new();

        loop {
            // Start every task whose needs have all finished; skip those whose needs failed.
            let mut index = 0;
            while index < pending.len() {
                let task = &pending[index];
                if !task.needs.iter().all(|n| reports.contains_key(n)) {
                    index += 1;
                    continue;
                }
                let task = pending.remove(index);
                if let Some(failed) = task
                    .needs
                    .iter()
                    .find(|n| reports[n.as_str()].outcome.is_failure())
                {
                    let report = skipped(
                        &task.name,
                        format!("needs `{failed}`, which did not succeed"),
                    );
                    for observer in &self.observers {
                        observer.task_finished(&request, dry_run, &report).await;
                    }
                    reports.insert(task.name.clone(), report);
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
            let Some(joined) = running.join_next_with_id().await else {
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
            outputs.insert(name.clone(), task_outputs);
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

fn panic_message(payload: Box<dyn std::any::Any + Send>) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "(no message)".to_owned())
}

fn empty_report(name: &str, outcome: Outcome, duration: Duration) -> TaskReport {
    TaskReport {
        name: name.to_owned(),
        outcome,
        duration,
        delivered: Vec::new(),
        notes: Vec::new(),
        alerts: Vec::new(),
        diff: None,
        outputs: serde_json::Value::Object(Default::default()),
        attempts: 0,
    }
}

fn skipped(name: &str, reason: String) -> TaskReport {
    empty_report(name, Outcome::Skipped { reason }, Duration::ZERO)
}

fn failed(name: &str, error: String, duration: Duration) -> TaskReport {
    empty_report(
        name,
        Outcome::Failed {
            error,
            security: false,
            next_step: NEXT_BUG.to_owned(),
        },
        duration,
    )
}

/// One task's run: plan, deliver, re-plan if a branch moved, all under the task's timeout.
struct TaskJob {
    runner: Runner,
    request: Arc<ReleaseRequest>,
    task: TaskConfig,
    inputs: Outputs,
    dry_run: bool,
}

/// Why an attempt failed, and what to do about it.
struct AttemptError {
    error: String,
    security: bool,
    next_step: &'static str,
}

const NEXT_RERUN: &str = "Rerun the task: what is already done is not done twice.";
const NEXT_FIX: &str = "Fix the cause named in the error, then rerun the task.";
const NEXT_SECURITY: &str = "Do not rerun blindly: find out why the digest differs (moved tag, tampering, bad build). If the new file is legitimate, rerun with `replace` set to true.";
const NEXT_FOREIGN: &str = "Someone pushed to the bot's pull request branch: merge or close that pull request, or delete the branch, then rerun.";
const NEXT_VERIFY: &str =
    "Read what the rollback did (in the error), check the repository, then rerun.";
const NEXT_BUG: &str = "This is a bug in the bot: report it with this run's log; rerun once fixed.";

impl From<DeliverError> for AttemptError {
    fn from(error: DeliverError) -> Self {
        let next_step = match &error {
            DeliverError::Moved { .. } | DeliverError::PullRequestPending { .. } => NEXT_RERUN,
            DeliverError::ForeignCommits { .. } => NEXT_FOREIGN,
            DeliverError::Verification { .. } => NEXT_VERIFY,
            DeliverError::GitHub { .. } | DeliverError::RuleViolation { .. } => NEXT_FIX,
        };
        Self {
            error: error.to_string(),
            security: false,
            next_step,
        }
    }
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
                let written = if report.delivered.is_empty() {
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
        let access = if self.dry_run {
            Access::ReadOnly
        } else {
            Access::ReadWrite
        };
        let forge = self
            .runner
            .connector
            .connect(&self.task, target, access)
            .await
            .map_err(|e| AttemptError {
                error: format!("could not get GitHub access: {e}"),
                security: false,
                next_step: NEXT_FIX,
            })?;
        for attempt in 1..=self.task.attempts {
            report.attempts = attempt;
            let ctx = TaskContext {
                request: &self.request,
                target,
                inputs: &self.inputs,
                repos: forge.read.as_ref(),
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
            if self.dry_run {
                report.outcome = Outcome::Planned;
                report.diff = Some(dry_run::render(&plan));
                return Ok(plan.outputs);
            }
            match self.deliver(&plan, &forge, report).await {
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
                        tokio::time::sleep(replan_delay(attempt)).await;
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
            report.delivered.push(deliver_effect(effect, forge).await?);
        }
        Ok(())
    }
}

/// How long to wait before planning again after losing a race for a branch. After the first loss,
/// not at all: a lost compare-and-swap means another write just landed, so the branch is free
/// and every round of a race has a winner. After that, a random share of a window that doubles
/// with every attempt (200 ms, 400 ms, 800 ms, ...), so runs that keep colliding spread out.
fn replan_delay(attempt: u32) -> Duration {
    if attempt <= 1 {
        return Duration::ZERO;
    }
    let window = 100u64.saturating_mul(1 << (attempt - 1).min(6));
    Duration::from_millis(rand::random_range(window / 4..=window))
}

/// `90s` → `1m 30s`.
pub fn humanize(duration: Duration) -> String {
    let secs = duration.as_secs();
    match (secs / 60, secs % 60) {
        (0, s) if duration.subsec_millis() > 0 && s == 0 => format!("{}ms", duration.as_millis()),
        (0, s) => format!("{s}s"),
        (m, 0) => format!("{m}m"),
        (m, s) => format!("{m}m {s}s"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_lost_race_replans_at_once_and_later_ones_spread_out() {
        assert_eq!(replan_delay(1), Duration::ZERO);
        for _ in 0..200 {
            let second = replan_delay(2);
            assert!(
                (Duration::from_millis(50)..=Duration::from_millis(200)).contains(&second),
                "{second:?}"
            );
            let third = replan_delay(3);
            assert!(
                (Duration::from_millis(100)..=Duration::from_millis(400)).contains(&third),
                "{third:?}"
            );
        }
    }
}
