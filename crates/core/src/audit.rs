//! Auditing what a task made: after the fact, for every released version, does the task's
//! repository still hold what the task would write?
//!
//! The audit is a method of the task ([`crate::Task::audit`]), so each task checks its own
//! repository's format and the command that runs the audits (`valkey-bot audit`) knows none of
//! them. A task that declares no checks keeps the default, which finds nothing. Audits run in
//! `needs` order, and an audit hands its dependents typed [`Outputs`] as a run does (the
//! checksums audit publishes the recorded digests, the container audit the image tags it
//! publishes), so no audit re-derives another task's format.

use std::fmt;

use crate::download::Downloads;
use crate::github::{GitHubError, RepoRead};
use crate::outputs::Outputs;
use crate::task::{Target, TaskError};
use crate::version::Version;

/// What a finding is about: one released version, or the repository as a whole.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Subject {
    /// The whole file or repository (a missing final newline, the placeholder line).
    All,
    /// One released version.
    Version(Version),
}

impl fmt::Display for Subject {
    /// `all`, or the version.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::All => f.write_str("all"),
            Self::Version(version) => write!(f, "{version}"),
        }
    }
}

impl serde::Serialize for Subject {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// A place in a file of the audited repository.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FileLine {
    /// The repository path, e.g. `README`.
    pub path: String,
    /// The 1-based line, when one line is at fault.
    pub line: Option<usize>,
}

impl fmt::Display for FileLine {
    /// `path` or `path:line`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{line}", self.path),
            None => f.write_str(&self.path),
        }
    }
}

/// How a drift is repaired.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Fix {
    /// Rerunning the audited task for this version repairs it (its plan writes what is missing).
    Rerun {
        /// The version to rerun.
        version: Version,
    },
    /// A person must edit the repository: the bot must not, or cannot, decide (a conflicting
    /// digest, a damaged placeholder line).
    ByHand {
        /// What to do, in one sentence.
        how: String,
    },
}

/// The outcome of one check.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Verdict {
    /// The repository holds what the task would write.
    Ok,
    /// It does not.
    Drift {
        /// What is wrong.
        what: String,
        /// Where, when a file (and line) is at fault.
        at: Option<FileLine>,
        /// How to repair it.
        fix: Fix,
    },
    /// The check could not be made (an unreachable repository or download host, an input
    /// another audit could not provide): never counted as consistent.
    Unknown {
        /// Why.
        why: String,
    },
    /// The check does not apply to this version (a release candidate for a finals-only rule).
    NotApplicable {
        /// Why.
        why: String,
    },
}

impl Verdict {
    /// The table's word for it: `ok`, `drift`, `unknown` or `n/a`.
    pub fn label(&self) -> &'static str {
        match self {
            Self::Ok => "ok",
            Self::Drift { .. } => "drift",
            Self::Unknown { .. } => "unknown",
            Self::NotApplicable { .. } => "n/a",
        }
    }

    /// How bad it is, for keeping the worst of several: ok and n/a < unknown < drift.
    pub fn severity(&self) -> u8 {
        match self {
            Self::Ok | Self::NotApplicable { .. } => 0,
            Self::Unknown { .. } => 1,
            Self::Drift { .. } => 2,
        }
    }
}

/// One check of one subject.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Finding {
    /// The version (or `all`).
    pub subject: Subject,
    /// The check's short name, e.g. `one-digest`.
    pub check: &'static str,
    /// What it found.
    pub verdict: Verdict,
}

impl Finding {
    /// A passed check.
    pub fn ok(subject: Subject, check: &'static str) -> Self {
        Self {
            subject,
            check,
            verdict: Verdict::Ok,
        }
    }

    /// A drift found at `at`, repaired by `fix`.
    pub fn drift(
        subject: Subject,
        check: &'static str,
        what: impl Into<String>,
        at: Option<FileLine>,
        fix: Fix,
    ) -> Self {
        Self {
            subject,
            check,
            verdict: Verdict::Drift {
                what: what.into(),
                at,
                fix,
            },
        }
    }

    /// A check that could not be made.
    pub fn unknown(subject: Subject, check: &'static str, why: impl Into<String>) -> Self {
        Self {
            subject,
            check,
            verdict: Verdict::Unknown { why: why.into() },
        }
    }

    /// A check that does not apply.
    pub fn not_applicable(subject: Subject, check: &'static str, why: impl Into<String>) -> Self {
        Self {
            subject,
            check,
            verdict: Verdict::NotApplicable { why: why.into() },
        }
    }
}

/// What one task's audit found, and what it hands the audits of the tasks that need it.
#[derive(Debug, Default)]
pub struct Audit {
    /// Every check made.
    pub findings: Vec<Finding>,
    /// Facts for dependents' audits (as a plan's outputs are for dependents' plans).
    pub outputs: Outputs,
}

/// The released versions of the source repository, in release order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Releases {
    versions: Vec<Version>,
}

impl Releases {
    /// The releases among `tags`: every tag that is a version by the release grammar (finals and
    /// release candidates), `unstable` and other tags ignored, sorted in release order.
    pub fn from_tags<S: AsRef<str>>(tags: &[S]) -> Self {
        let mut versions: Vec<Version> = tags
            .iter()
            .filter_map(|tag| Version::parse(tag.as_ref()).ok())
            .filter(|version| !version.is_unstable())
            .collect();
        versions.sort();
        versions.dedup();
        Self { versions }
    }

    /// Every release, oldest first.
    pub fn all(&self) -> &[Version] {
        &self.versions
    }

    /// The final releases, oldest first.
    pub fn finals(&self) -> impl Iterator<Item = &Version> {
        self.versions.iter().filter(|v| !v.is_release_candidate())
    }
}

/// Everything a task's audit is given: read-only access, never a write.
pub struct AuditContext<'a> {
    /// The task's repository (in `prod`), as `tasks.toml` names it.
    pub target: Option<&'a Target>,
    /// Reads of any repository (public ones, and the task's own).
    pub repos: &'a dyn RepoRead,
    /// The shared downloader (each URL at most once per audit).
    pub downloads: &'a dyn Downloads,
    /// The released versions.
    pub releases: &'a Releases,
    /// Whether to download everything instead of a sample (`--deep`).
    pub deep: bool,
    /// What the audits of the tasks this one needs published.
    pub inputs: &'a Outputs,
    /// The web address of the GitHub server (`https://github.com`), without a trailing slash.
    pub server_url: &'a str,
}

impl<'a> AuditContext<'a> {
    /// The output of type `T` from a needed task's audit, or an error naming what is missing.
    pub fn input<T: crate::outputs::Output>(&self) -> Result<&'a T, TaskError> {
        self.inputs.get::<T>().ok_or_else(|| {
            TaskError::Invalid(format!(
                "missing audit input `{}`: the audit of the task that produces it did not complete",
                T::NAME
            ))
        })
    }

    /// This task's repository and the branch its changes go to, or an error naming the key
    /// `tasks.toml` lacks.
    pub fn branch(&self) -> Result<(&'a Target, &'a str), TaskError> {
        let target = self.target.ok_or_else(|| {
            TaskError::Invalid("this task needs a `repository` in tasks.toml".into())
        })?;
        let commits = target.commits.as_ref().ok_or_else(|| {
            TaskError::Invalid(format!("{}: no `branch` in tasks.toml", target.repo))
        })?;
        Ok((target, commits.branch.as_str()))
    }

    /// The head commit of the task's branch, failing if the branch does not exist.
    pub async fn head(&self) -> Result<String, TaskError> {
        let (target, branch) = self.branch()?;
        self.repos
            .branch_head(&target.repo, branch)
            .await?
            .ok_or_else(|| {
                TaskError::GitHub(GitHubError::NotFound(format!(
                    "branch `{branch}` of {}",
                    target.repo
                )))
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn releases_come_from_version_tags_in_release_order() {
        let releases = Releases::from_tags(&[
            "9.1.0",
            "v9.0.0",
            "9.1.0-rc1",
            "unstable",
            "8.0.4",
            "9.1.0",
            "latest",
            "09.1.1",
        ]);
        let all: Vec<&str> = releases.all().iter().map(Version::as_str).collect();
        assert_eq!(all, ["8.0.4", "9.1.0-rc1", "9.1.0"]);
        let finals: Vec<&str> = releases.finals().map(Version::as_str).collect();
        assert_eq!(finals, ["8.0.4", "9.1.0"]);
    }

    #[test]
    fn the_worst_verdict_is_drift_then_unknown() {
        let drift = Verdict::Drift {
            what: String::new(),
            at: None,
            fix: Fix::ByHand { how: String::new() },
        };
        let unknown = Verdict::Unknown { why: String::new() };
        assert!(drift.severity() > unknown.severity());
        assert!(unknown.severity() > Verdict::Ok.severity());
        assert_eq!(Verdict::NotApplicable { why: String::new() }.label(), "n/a");
    }
}
