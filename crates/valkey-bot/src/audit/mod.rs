//! `valkey-bot audit`: for every released version, does every repository the tasks touch still
//! hold what the tasks would write? Each task audits its own repository ([`Task::audit`]); this
//! module only runs the audits in `needs` order (handing each the outputs of the audits it
//! needs), reads through one remembering, counting reader, and reports: a table of version ×
//! check, every drift with its fix, a JSON report and, with `--issue`, one "Release
//! consistency" issue in the automation repository.
//!
//! The released versions are the tags of the source repository that follow the version grammar
//! (see docs/architecture.md, "Auditing", for why tags and not GitHub releases).
//!
//! [`Task::audit`]: valkey_bot_core::Task::audit

mod issue;
mod reads;
mod render;

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use anyhow::Context as _;
use valkey_bot_core::audit::{AuditContext, Finding, Releases, Subject, Verdict};
use valkey_bot_core::config::{Access as Level, Config, Permission};
use valkey_bot_core::download::Downloads;
use valkey_bot_core::github::RepoRead;
use valkey_bot_core::outputs::Outputs;
use valkey_bot_core::{Environment, RepoId};
use valkey_bot_github::{Credentials, GitHub, GitHubConfig, ReadOnly, TokenScope};

pub use issue::{ISSUE_LABEL, ISSUE_TITLE, IssueAction, keep_issue};
pub use reads::{CountedDownloads, Counts, MemoRead};
pub use render::{fix_text, markdown, table};

use crate::commands::{Status, fetcher, load_config};

/// The repository whose tags are the releases, when not told otherwise.
pub const DEFAULT_SOURCE: &str = "valkey-io/valkey";

/// What `valkey-bot audit` was asked.
#[derive(Debug, Clone, clap::Args)]
pub struct AuditArgs {
    /// The configuration.
    #[arg(long, default_value = "tasks.toml")]
    pub config: PathBuf,
    /// Write the audit as JSON (with the request count per repository) to this file.
    #[arg(long)]
    pub report: Option<PathBuf>,
    /// Open, update or close the "Release consistency" issue in the automation repository.
    #[arg(long)]
    pub issue: bool,
    /// Download every linked binary instead of a sample.
    #[arg(long)]
    pub deep: bool,
    /// Keep download digests and GitHub's answers here between audits (always revalidated
    /// with the server, so a second audit costs almost nothing).
    #[arg(long)]
    pub cache_dir: Option<PathBuf>,
    /// The repository whose version tags are the releases.
    #[arg(long, default_value = DEFAULT_SOURCE)]
    pub source: RepoId,
}

/// One task's audit in the report.
#[derive(Debug, Clone, serde::Serialize)]
pub struct TaskAudit {
    /// The task.
    pub task: String,
    /// Its findings.
    pub findings: Vec<Finding>,
}

/// What an audit found.
#[derive(Debug, Clone, serde::Serialize)]
pub struct AuditReport {
    /// Whether every check passed (no drift, nothing unknown).
    pub consistent: bool,
    /// The releases audited, oldest first.
    pub releases: Vec<String>,
    /// Per task, in `needs` order.
    pub tasks: Vec<TaskAudit>,
    /// Requests that reached GitHub (per repository) and the download hosts (`download:<host>`).
    pub requests: BTreeMap<String, u64>,
    /// How long it took, in milliseconds.
    pub duration_ms: u128,
}

impl AuditReport {
    /// Every finding with its task, in report order.
    pub fn findings(&self) -> impl Iterator<Item = (&str, &Finding)> {
        self.tasks
            .iter()
            .flat_map(|t| t.findings.iter().map(move |f| (t.task.as_str(), f)))
    }

    /// The findings of `task` about `subject` and `check`.
    pub fn verdict(&self, task: &str, subject: &str, check: &str) -> Option<&Verdict> {
        self.findings()
            .find(|(t, f)| *t == task && f.subject.to_string() == subject && f.check == check)
            .map(|(_, f)| &f.verdict)
    }
}

/// The audit's name for the check that a whole task's audit could not run.
pub const AUDIT_CHECK: &str = "audit";

/// Runs every task's audit of `config` in `needs` order.
pub struct Auditor {
    /// The loaded `tasks.toml`.
    pub config: Arc<Config>,
    /// Reads (read-only; wrapped by the audit in a [`MemoRead`]).
    pub repos: Arc<dyn RepoRead>,
    /// Downloads.
    pub downloads: Arc<dyn Downloads>,
    /// The GitHub server's web address.
    pub server_url: String,
    /// Whether to download everything.
    pub deep: bool,
    /// The repository whose tags are the releases.
    pub source: RepoId,
}

impl Auditor {
    /// Audits every task enabled in `prod`.
    pub async fn audit(&self) -> AuditReport {
        let started = Instant::now();
        let counts = Counts::default();
        let repos = MemoRead::new(Arc::clone(&self.repos), counts.clone());
        let downloads = CountedDownloads::new(Arc::clone(&self.downloads), counts.clone());
        let mut tasks = Vec::new();
        let releases = match repos.list_tags(&self.source).await {
            Ok(tags) => Releases::from_tags(&tags),
            Err(e) => {
                tasks.push(TaskAudit {
                    task: "releases".to_owned(),
                    findings: vec![Finding::unknown(
                        Subject::All,
                        "tags",
                        format!("cannot list the tags of {}: {e}", self.source),
                    )],
                });
                Releases::default()
            }
        };
        let mut published: BTreeMap<&str, Outputs> = BTreeMap::new();
        for task in self
            .config
            .tasks
            .iter()
            .filter(|t| t.is_enabled(Environment::Prod))
        {
            let mut inputs = Outputs::default();
            for need in &task.needs {
                if let Some(outputs) = published.get(need.as_str()) {
                    inputs.extend(outputs);
                }
            }
            let ctx = AuditContext {
                target: task.target(Environment::Prod),
                repos: &repos,
                downloads: &downloads,
                releases: &releases,
                deep: self.deep,
                inputs: &inputs,
                server_url: &self.server_url,
            };
            let findings = match tokio::time::timeout(task.timeout, task.task.audit(&ctx)).await {
                Ok(Ok(audit)) => {
                    published.insert(&task.name, audit.outputs);
                    audit.findings
                }
                Ok(Err(e)) => vec![Finding::unknown(Subject::All, AUDIT_CHECK, e.to_string())],
                Err(_) => vec![Finding::unknown(
                    Subject::All,
                    AUDIT_CHECK,
                    format!(
                        "timed out after {}",
                        humantime::format_duration(task.timeout)
                    ),
                )],
            };
            if !findings.is_empty() {
                tasks.push(TaskAudit {
                    task: task.name.clone(),
                    findings,
                });
            }
        }
        let consistent = tasks
            .iter()
            .flat_map(|t| &t.findings)
            .all(|f| f.verdict.severity() == 0);
        AuditReport {
            consistent,
            releases: releases.all().iter().map(ToString::to_string).collect(),
            tasks,
            requests: counts.snapshot(),
            duration_ms: started.elapsed().as_millis(),
        }
    }
}

/// The repositories the tasks of `config` name, and the source repository: the audit's token
/// reads them.
pub fn repositories(config: &Config, source: &RepoId) -> Vec<RepoId> {
    let mut repos: BTreeSet<RepoId> = config
        .tasks
        .iter()
        .filter_map(|t| t.target(Environment::Prod).map(|t| t.repo.clone()))
        .collect();
    repos.insert(source.clone());
    repos.into_iter().collect()
}

/// A read-only client reading `repos` (`contents: read`), behind [`ReadOnly`].
pub async fn reader(github: &GitHub, repos: Vec<RepoId>) -> anyhow::Result<Arc<dyn RepoRead>> {
    let scope = TokenScope {
        repositories: repos,
        permissions: BTreeMap::from([(Permission::Contents, Level::Read)]),
    };
    Ok(Arc::new(ReadOnly(github.client_for(scope).await?)))
}

/// Prints the report, writes the JSON file, and says whether everything is consistent.
pub fn finish(report: &AuditReport, json: Option<&std::path::Path>) -> anyhow::Result<Status> {
    print!("{}", table(report));
    if let Some(path) = json {
        std::fs::write(path, serde_json::to_vec_pretty(report)?)
            .with_context(|| format!("cannot write the audit report to {}", path.display()))?;
    }
    Ok(if report.consistent {
        Status::Success
    } else {
        Status::TaskFailed
    })
}

/// `valkey-bot audit`.
pub async fn run(args: AuditArgs) -> anyhow::Result<Status> {
    let config = load_config(&args.config)?;
    let mut github_config = GitHubConfig::from_env();
    github_config.cache_dir = args.cache_dir.clone();
    let server_url = github_config.server_url.clone();
    let credentials = Credentials::from_env()?;
    let downloads = fetcher(&config, &server_url, args.cache_dir.as_deref())?;
    let github = GitHub::new(github_config, &credentials)?;
    let repos = reader(&github, repositories(&config, &args.source)).await?;
    let auditor = Auditor {
        config: Arc::new(config),
        repos,
        downloads: Arc::new(downloads),
        server_url,
        deep: args.deep,
        source: args.source.clone(),
    };
    let report = auditor.audit().await;
    let status = finish(&report, args.report.as_deref())?;
    if args.issue {
        let tracking = auditor.config.tracking.as_ref().context(
            "--issue needs `[tracking] repository` in tasks.toml: the automation repository",
        )?;
        let permissions = BTreeMap::from([(Permission::Issues, Level::Write)]);
        let issues = github
            .client_for(TokenScope::new(tracking.repository.clone(), permissions))
            .await?;
        let action = keep_issue(&issues, &tracking.repository, &report).await?;
        println!("{action}");
    }
    let revoked = github.revoke_tokens().await;
    tracing::debug!(revoked, "revoked the audit's installation tokens");
    Ok(status)
}
