//! `valkey-bot doctor`: checks, with the App's credentials and before any release, everything a
//! release needs from GitHub's side and prints one table. For every task of `tasks.toml` (its
//! `prod` target): whether the App is installed on its repository, the permissions it needs
//! against those the installation grants, the rules on its branch that would refuse its
//! delivery, and the failed-run label; for the run: the tracking repository and its label, the
//! identity sign-offs carry, permissions granted that no task needs, and the alert webhook.
//!
//! Only reads: the App's JWT for installations, and read-only tokens (`contents: read`,
//! `metadata`) for rules and labels. Exit 0 only when no check found a problem that would make
//! a release fail.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::PathBuf;

use valkey_bot_core::config::{Access, Config, Permission, TaskConfig};
use valkey_bot_core::github::RepoWrite as _;
use valkey_bot_core::task::DeliverySpec;
use valkey_bot_core::{Environment, RepoId};
use valkey_bot_github::{Credentials, GitHub, GitHubConfig, Installation, TokenScope};

use crate::commands::{Status, load_config};
use crate::notify::alert::WEBHOOK_VARIABLE;
use crate::notify::labels::FAILED_RUN_LABEL;

/// `valkey-bot doctor`'s arguments.
#[derive(Debug, Clone, clap::Args)]
pub struct DoctorArgs {
    /// The configuration to check.
    #[arg(long, default_value = "tasks.toml")]
    pub config: PathBuf,
}

/// How one check came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    /// As a release needs it.
    Ok,
    /// Worth knowing, does not make a release fail (a permission no task needs, no alerts).
    Warning,
    /// A release would fail (or part of it) for this reason.
    Problem,
}

impl Level {
    fn label(self) -> &'static str {
        match self {
            Self::Ok => "ok",
            Self::Warning => "warning",
            Self::Problem => "PROBLEM",
        }
    }
}

/// One row of the table.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Finding {
    /// The task, or `tracking`, `app`, `run`.
    pub subject: String,
    /// The repository concerned, or `-`.
    pub repository: String,
    /// What was checked.
    pub check: &'static str,
    /// How it came out.
    pub level: Level,
    /// What was found, and for a problem what to do.
    pub detail: String,
}

/// Everything doctor found.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Diagnosis {
    /// The rows, in the order checked.
    pub findings: Vec<Finding>,
}

impl Diagnosis {
    fn add(
        &mut self,
        subject: &str,
        repository: &str,
        check: &'static str,
        level: Level,
        detail: String,
    ) {
        self.findings.push(Finding {
            subject: subject.to_owned(),
            repository: repository.to_owned(),
            check,
            level,
            detail,
        });
    }

    /// Whether a release would fail for a setup reason.
    pub fn has_problems(&self) -> bool {
        self.findings.iter().any(|f| f.level == Level::Problem)
    }

    /// The problems, one line each (`subject check: detail`).
    pub fn problems(&self) -> Vec<String> {
        self.findings
            .iter()
            .filter(|f| f.level == Level::Problem)
            .map(|f| format!("{} {}: {}", f.subject, f.check, f.detail))
            .collect()
    }

    /// The findings as an aligned plain-text table, with a last line saying the result.
    pub fn table(&self) -> String {
        let header = ["subject", "repository", "check", "status", "detail"];
        let rows: Vec<[&str; 5]> = self
            .findings
            .iter()
            .map(|f| {
                [
                    f.subject.as_str(),
                    f.repository.as_str(),
                    f.check,
                    f.level.label(),
                    f.detail.as_str(),
                ]
            })
            .collect();
        let mut widths = header.map(str::len);
        for row in &rows {
            for (width, cell) in widths.iter_mut().zip(row) {
                *width = (*width).max(cell.chars().count());
            }
        }
        let mut out = String::new();
        for row in std::iter::once(&header).chain(&rows) {
            let mut line = String::new();
            for (index, cell) in row.iter().enumerate() {
                if index + 1 == row.len() {
                    line.push_str(cell);
                } else {
                    let _ = write!(line, "{cell:<width$}  ", width = widths[index]);
                }
            }
            out.push_str(line.trim_end());
            out.push('\n');
        }
        let problems = self.problems().len();
        let _ = writeln!(
            out,
            "\n{}",
            if problems == 0 {
                "No setup problem found: a release would not fail for setup reasons.".to_owned()
            } else {
                format!("{problems} problem(s): a release would fail until they are fixed.")
            }
        );
        out
    }
}

/// GitHub's name of a permission.
fn name(permission: Permission) -> &'static str {
    match permission {
        Permission::Contents => "contents",
        Permission::PullRequests => "pull_requests",
        Permission::Issues => "issues",
        Permission::Workflows => "workflows",
        Permission::Actions => "actions",
    }
}

fn level_name(access: Access) -> &'static str {
    match access {
        Access::Read => "read",
        Access::Write => "write",
    }
}

/// What an installation grants of `permission`.
fn granted(installation: &Installation, permission: Permission) -> Option<Access> {
    match installation
        .permissions
        .get(name(permission))
        .map(String::as_str)
    {
        Some("write" | "admin") => Some(Access::Write),
        Some("read") => Some(Access::Read),
        _ => None,
    }
}

/// What `task` needs on its repository: what its run's token is minted with
/// ([`crate::connect::scope_for`]).
fn needed(task: &TaskConfig, repo: &RepoId) -> BTreeMap<Permission, Access> {
    crate::connect::scope_for(task, repo.clone(), crate::forge::Access::ReadWrite).permissions
}

fn list(permissions: &BTreeMap<Permission, Access>) -> String {
    permissions
        .iter()
        .map(|(p, a)| format!("{}: {}", name(*p), level_name(*a)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Examines `config`'s `prod` targets through `github` (App credentials); `webhook_set` says
/// whether the alert webhook variable is set.
pub async fn examine(config: &Config, github: &GitHub, webhook_set: bool) -> Diagnosis {
    let mut diagnosis = Diagnosis::default();
    let mut installations: BTreeMap<RepoId, Option<Installation>> = BTreeMap::new();
    // What every task (and the tracking issue) needs, per owner (installations are per owner).
    let mut needed_by_owner: BTreeMap<String, BTreeSet<Permission>> = BTreeMap::new();

    for task in &config.tasks {
        let Some(target) = task.target(Environment::Prod) else {
            diagnosis.add(
                &task.name,
                "-",
                "repository",
                Level::Ok,
                "none: the task reads no repository with the App".to_owned(),
            );
            continue;
        };
        let repo = &target.repo;
        let needs = needed(task, repo);
        needed_by_owner
            .entry(repo.owner().to_owned())
            .or_default()
            .extend(needs.keys().copied());
        let Some(installation) =
            installation(&mut diagnosis, &mut installations, github, &task.name, repo).await
        else {
            continue;
        };
        let missing: Vec<String> = needs
            .iter()
            .filter(|(p, a)| granted(&installation, **p).is_none_or(|g| g < **a))
            .map(|(p, a)| {
                let has = granted(&installation, *p).map_or("none", level_name);
                format!("{}: {} (granted: {has})", name(*p), level_name(*a))
            })
            .collect();
        if missing.is_empty() {
            diagnosis.add(
                &task.name,
                &repo.to_string(),
                "permissions",
                Level::Ok,
                format!("needs {}: granted", list(&needs)),
            );
        } else {
            diagnosis.add(
                &task.name,
                &repo.to_string(),
                "permissions",
                Level::Problem,
                format!(
                    "missing {}: grant it in the App's settings (Permissions), then accept the new permissions on the installation",
                    missing.join(", ")
                ),
            );
        }
        let client = match github
            .client_for(TokenScope::new(
                repo.clone(),
                BTreeMap::from([(Permission::Contents, Access::Read)]),
            ))
            .await
        {
            Ok(client) => client,
            Err(e) => {
                diagnosis.add(
                    &task.name,
                    &repo.to_string(),
                    "access",
                    Level::Problem,
                    format!("cannot get a read-only token for {repo}: {e}"),
                );
                continue;
            }
        };
        if let Some(commits) = &target.commits {
            let (level, detail) = match client.branch_rules(repo, &commits.branch).await {
                Err(e) => (
                    Level::Problem,
                    format!("cannot read the rules of `{}`: {e}", commits.branch),
                ),
                Ok(rules) => {
                    let refusing: Vec<String> = rules
                        .iter()
                        .filter(|r| r.kind == "pull_request")
                        .filter(|r| r.may_bypass != Some(true))
                        .map(|r| r.ruleset.clone())
                        .collect();
                    match (&commits.delivery, refusing.is_empty()) {
                        (DeliverySpec::Commit, false) => (
                            Level::Problem,
                            format!(
                                "ruleset {} requires pull requests on `{}`: `delivery = \"commit\"` would be refused; \
                                 put the App on the ruleset's bypass list or deliver by pull request",
                                refusing.join(", "),
                                commits.branch
                            ),
                        ),
                        _ if rules.is_empty() => {
                            (Level::Ok, format!("no rule on `{}`", commits.branch))
                        }
                        _ => (
                            Level::Ok,
                            format!(
                                "{} rule(s) on `{}` ({}); none refuses this delivery",
                                rules.len(),
                                commits.branch,
                                rules
                                    .iter()
                                    .map(|r| r.kind.as_str())
                                    .collect::<Vec<_>>()
                                    .join(", ")
                            ),
                        ),
                    }
                }
            };
            diagnosis.add(&task.name, &repo.to_string(), "branch rules", level, detail);
            if matches!(commits.delivery, DeliverySpec::PullRequest { .. }) {
                let may_create = needs.get(&Permission::Issues) == Some(&Access::Write)
                    && granted(&installation, Permission::Issues) == Some(Access::Write);
                let grant = "give the task `issues = \"write\"` (and the App issues: write)";
                label(
                    &mut diagnosis,
                    &client,
                    (&task.name, repo),
                    FAILED_RUN_LABEL,
                    may_create,
                    grant,
                )
                .await;
            }
        }
    }

    if let Some(tracking) = &config.tracking {
        let repo = &tracking.repository;
        needed_by_owner
            .entry(repo.owner().to_owned())
            .or_default()
            .insert(Permission::Issues);
        if let Some(installation) =
            installation(&mut diagnosis, &mut installations, github, "tracking", repo).await
        {
            let may_write = granted(&installation, Permission::Issues) == Some(Access::Write);
            diagnosis.add(
                "tracking",
                &repo.to_string(),
                "permissions",
                if may_write { Level::Ok } else { Level::Problem },
                if may_write {
                    "needs issues: write: granted".to_owned()
                } else {
                    "missing issues: write: the release tracking issue cannot be kept; grant it in the App's settings".to_owned()
                },
            );
            match github
                .client_for(TokenScope::new(
                    repo.clone(),
                    BTreeMap::from([(Permission::Contents, Access::Read)]),
                ))
                .await
            {
                Ok(client) => {
                    let grant = "grant the App issues: write";
                    label(
                        &mut diagnosis,
                        &client,
                        ("tracking", repo),
                        &tracking.label,
                        may_write,
                        grant,
                    )
                    .await;
                }
                Err(e) => diagnosis.add(
                    "tracking",
                    &repo.to_string(),
                    "access",
                    Level::Problem,
                    format!("cannot get a read-only token for {repo}: {e}"),
                ),
            }
        }
    }

    // Granted, but needed by no task: least privilege says take it away.
    let mut seen_owners = BTreeSet::new();
    for (repo, installation) in &installations {
        let Some(installation) = installation else {
            continue;
        };
        if !seen_owners.insert(repo.owner().to_owned()) {
            continue;
        }
        let needed = needed_by_owner
            .get(repo.owner())
            .cloned()
            .unwrap_or_default();
        let unused: Vec<String> = installation
            .permissions
            .iter()
            .filter(|(permission, _)| permission.as_str() != "metadata")
            .filter(|(permission, _)| {
                !needed
                    .iter()
                    .any(|needed| name(*needed) == permission.as_str())
            })
            .map(|(permission, level)| format!("{permission}: {level}"))
            .collect();
        let (level, detail) = if unused.is_empty() {
            (
                Level::Ok,
                format!("every permission granted on {} is needed", repo.owner()),
            )
        } else {
            (
                Level::Warning,
                format!(
                    "granted but needed by no task on {}: {} (remove it from the App's permissions)",
                    repo.owner(),
                    unused.join(", ")
                ),
            )
        };
        diagnosis.add("app", repo.owner(), "unused permissions", level, detail);
    }

    signoff(&mut diagnosis, config, github, &installations).await;
    diagnosis.add(
        "run",
        "-",
        "alert webhook",
        if webhook_set {
            Level::Ok
        } else {
            Level::Warning
        },
        if webhook_set {
            format!("{WEBHOOK_VARIABLE} is set (its value is not shown)")
        } else {
            format!("{WEBHOOK_VARIABLE} is not set: a prod run sends no alert, whatever fails")
        },
    );
    diagnosis
}

/// Looks up (once per repository) the App's installation on `repo`; records the finding and
/// returns it when there is one.
async fn installation(
    diagnosis: &mut Diagnosis,
    installations: &mut BTreeMap<RepoId, Option<Installation>>,
    github: &GitHub,
    subject: &str,
    repo: &RepoId,
) -> Option<Installation> {
    let found = match installations.get(repo) {
        Some(found) => found.clone(),
        None => match github.installation_on(repo).await {
            Ok(found) => {
                installations.insert(repo.clone(), found.clone());
                found
            }
            Err(e) => {
                diagnosis.add(
                    subject,
                    &repo.to_string(),
                    "installed",
                    Level::Problem,
                    format!("cannot look up the App's installation: {e}"),
                );
                return None;
            }
        },
    };
    match &found {
        Some(installation) => diagnosis.add(
            subject,
            &repo.to_string(),
            "installed",
            Level::Ok,
            format!("installation {}", installation.id),
        ),
        None => diagnosis.add(
            subject,
            &repo.to_string(),
            "installed",
            Level::Problem,
            format!(
                "the App is not installed on {repo}: install it on {} and include this repository",
                repo.owner()
            ),
        ),
    }
    found
}

/// Whether label `name` exists in `repo`, or may be created there (`may_create`); `grant` says
/// what would let the bot create it.
async fn label(
    diagnosis: &mut Diagnosis,
    client: &valkey_bot_github::GitHubClient,
    (subject, repo): (&str, &RepoId),
    name: &str,
    may_create: bool,
    grant: &str,
) {
    let (level, detail) = match client.label_exists(repo, name).await {
        Err(e) => (Level::Problem, format!("cannot read label `{name}`: {e}")),
        Ok(true) => (Level::Ok, format!("label `{name}` exists")),
        Ok(false) if may_create => (
            Level::Ok,
            format!("label `{name}` is missing; the bot creates it (issues: write)"),
        ),
        Ok(false) => (
            Level::Problem,
            format!(
                "label `{name}` is missing and the token may not create it: create it in {repo} once, or {grant}"
            ),
        ),
    };
    diagnosis.add(subject, &repo.to_string(), "labels", level, detail);
}

/// The identity `Signed-off-by:` trailers will carry, when a task signs off.
async fn signoff(
    diagnosis: &mut Diagnosis,
    config: &Config,
    github: &GitHub,
    installations: &BTreeMap<RepoId, Option<Installation>>,
) {
    if !config.tasks.iter().any(|t| t.signoff) {
        return;
    }
    if let Some(identity) = &config.run.signoff {
        diagnosis.add(
            "run",
            "-",
            "sign-off identity",
            Level::Ok,
            format!("`{identity}` ([run] signoff)"),
        );
        return;
    }
    let Some(repo) = installations
        .iter()
        .find_map(|(repo, found)| found.as_ref().map(|_| repo.clone()))
    else {
        diagnosis.add(
            "run",
            "-",
            "sign-off identity",
            Level::Problem,
            "unknown: the App is installed on no repository of the configuration".to_owned(),
        );
        return;
    };
    let identity = match github
        .client_for(TokenScope::new(
            repo,
            BTreeMap::from([(Permission::Contents, Access::Read)]),
        ))
        .await
    {
        Ok(client) => client.own_identity().await,
        Err(e) => Err(e),
    };
    match identity {
        Ok(identity) => diagnosis.add(
            "run",
            "-",
            "sign-off identity",
            Level::Ok,
            format!("`{}` (the App's bot user)", identity.signoff()),
        ),
        Err(e) => diagnosis.add(
            "run",
            "-",
            "sign-off identity",
            Level::Problem,
            format!("cannot read the App's bot user: {e}"),
        ),
    }
}

/// Whether the alert webhook variable is set (to anything: its value is never read here).
pub fn webhook_set() -> bool {
    std::env::var_os(WEBHOOK_VARIABLE).is_some_and(|v| !v.is_empty())
}

/// `valkey-bot doctor`: 0 when no problem was found, 1 when one was; bad usage (no App
/// credentials: a plain token or none, a bad configuration) is an error (exit 2).
pub async fn run(args: DoctorArgs) -> anyhow::Result<Status> {
    let config = load_config(&args.config)?;
    let credentials = Credentials::from_env()?;
    if !matches!(credentials, Credentials::App { .. }) {
        anyhow::bail!(
            "doctor checks the GitHub App's installation and permissions: set VALKEY_BOT_APP_ID and \
             VALKEY_BOT_APP_PRIVATE_KEY (or VALKEY_BOT_APP_PRIVATE_KEY_PATH); GITHUB_TOKEN or no \
             credentials cannot see them"
        );
    }
    let github = GitHub::new(GitHubConfig::from_env(), &credentials)?;
    let diagnosis = examine(&config, &github, webhook_set()).await;
    github.revoke_tokens().await;
    print!("{}", diagnosis.table());
    Ok(if diagnosis.has_problems() {
        Status::TaskFailed
    } else {
        Status::Success
    })
}
