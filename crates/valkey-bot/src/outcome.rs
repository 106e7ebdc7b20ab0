//! What a run reports: how each task ended ([`Outcome`]), what it did ([`TaskReport`]), the
//! run's result ([`RunReport`]), and the advice each failure carries (what to do next). The
//! runner fills them in; the table, the summary, the tracking issue and the alert read them.

use std::time::Duration;

use valkey_bot_core::ReleaseRequest;

use crate::deliver::{DeliverError, Delivered};
use crate::shadow::Verdict;

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
    /// Shadow mode: it planned, wrote nothing, and compared its plan with the existing change
    /// (the difference, if any, is the report's `diff`).
    Shadow {
        /// How the plan compares.
        verdict: Verdict,
        /// What was compared with what.
        detail: String,
    },
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
            Self::Shadow { verdict, .. } => verdict.label(),
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
    /// Dry run: the planned changes as unified diffs; shadow mode: the differences from the
    /// existing change.
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

    /// Whether a shadow task's plan does not agree with the existing change (the run then exits
    /// with 1, though nothing failed).
    pub fn shadow_disagrees(&self) -> bool {
        self.tasks
            .iter()
            .any(|t| matches!(t.outcome, Outcome::Shadow { verdict, .. } if !verdict.agrees()))
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

pub(crate) fn empty_report(name: &str, outcome: Outcome, duration: Duration) -> TaskReport {
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

pub(crate) fn skipped(name: &str, reason: String) -> TaskReport {
    empty_report(name, Outcome::Skipped { reason }, Duration::ZERO)
}

pub(crate) fn failed(name: &str, error: String, duration: Duration) -> TaskReport {
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

/// Why an attempt failed, and what to do about it.
pub(crate) struct AttemptError {
    pub(crate) error: String,
    pub(crate) security: bool,
    pub(crate) next_step: &'static str,
}

pub(crate) const NEXT_RERUN: &str = "Rerun the task: what is already done is not done twice.";
pub(crate) const NEXT_FIX: &str = "Fix the cause named in the error, then rerun the task.";
pub(crate) const NEXT_SECURITY: &str = "Do not rerun blindly: find out why the digest differs (moved tag, tampering, bad build). If the new file is legitimate, rerun with `replace` set to true.";
pub(crate) const NEXT_FOREIGN: &str = "Someone pushed to the bot's pull request branch: merge or close that pull request, or delete the branch, then rerun.";
pub(crate) const NEXT_VERIFY: &str =
    "Read what the rollback did (in the error), check the repository, then rerun.";
pub(crate) const NEXT_BUG: &str =
    "This is a bug in the bot: report it with this run's log; rerun once fixed.";

impl From<DeliverError> for AttemptError {
    fn from(error: DeliverError) -> Self {
        let next_step = match &error {
            DeliverError::Moved { .. } | DeliverError::PullRequestPending { .. } => NEXT_RERUN,
            DeliverError::ForeignCommits { .. } => NEXT_FOREIGN,
            DeliverError::Verification { .. } => NEXT_VERIFY,
            DeliverError::GitHub { .. }
            | DeliverError::NotPermitted { .. }
            | DeliverError::RuleViolation { .. }
            | DeliverError::Workflow { .. } => NEXT_FIX,
            DeliverError::WorkflowNeverStarted { .. } | DeliverError::WorkflowFailed { .. } => {
                NEXT_RERUN
            }
        };
        Self {
            error: error.to_string(),
            security: false,
            next_step,
        }
    }
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
