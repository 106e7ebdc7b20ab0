//! `tasks.toml`: which events start a run, which tasks run, and each task's settings.
//!
//! Parsing is strict (`deny_unknown_fields` everywhere) and every error names the file, the line
//! and column, and the key. A task's own `settings` table is handed, still carrying its source
//! positions, to that task's [`TaskFactory`], so its errors are located just as precisely.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::ops::Range;
use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;
use toml::Spanned;
use toml::de::{DeTable, DeValue, ValueDeserializer};

use crate::repo::RepoId;
use crate::request::{Environment, Triggers, is_task_name};
use crate::task::{CommitTarget, DeliverySpec, Settings, Target, Task, TaskFactory};
use crate::template::Template;

/// A loaded and checked configuration.
#[derive(Clone)]
pub struct Config {
    /// Which events start a run.
    pub triggers: Triggers,
    /// Run-wide settings.
    pub run: RunSettings,
    /// Where downloads may come from, and their limits.
    pub downloads: DownloadSettings,
    /// Per-environment switches.
    pub environments: BTreeMap<Environment, EnvironmentSettings>,
    /// The release tracking issue, if one is kept.
    pub tracking: Option<TrackingSettings>,
    /// The tasks, in dependency order (every task after the tasks it needs).
    pub tasks: Vec<TaskConfig>,
}

/// Where the release tracking issue lives (`[tracking]`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrackingSettings {
    /// The repository that holds the issues (the automation repository).
    pub repository: RepoId,
    /// The label that marks tracking issues.
    #[serde(default = "default_tracking_label")]
    pub label: String,
    /// The workflow file maintainers start for a rerun (for the rerun instructions).
    #[serde(default = "default_workflow")]
    pub workflow: String,
}

fn default_tracking_label() -> String {
    "release-tracking".into()
}

fn default_workflow() -> String {
    "release.yml".into()
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("triggers", &self.triggers)
            .field("run", &self.run)
            .field(
                "tasks",
                &self.tasks.iter().map(|t| &t.name).collect::<Vec<_>>(),
            )
            .finish_non_exhaustive()
    }
}

/// Run-wide settings (`[run]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunSettings {
    /// Timeout of a task that sets none.
    pub timeout: Duration,
    /// Plan-and-write attempts when a branch moved under a task, for a task that sets none.
    pub attempts: u32,
    /// `Name <email>` for `Signed-off-by:` trailers, for tasks with `signoff = true`; `None`:
    /// the identity GitHub attributes the bot's commits to (the App's bot user).
    pub signoff: Option<String>,
    /// The mode of a task that sets none (`[run] mode`).
    pub mode: Mode,
}

/// Whether a task writes, or only compares its plan with what the old automation did (`mode`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// Plans and delivers (the default).
    #[default]
    Write,
    /// Plans, writes nothing, and compares the plan with the existing change: the target branch
    /// (commit delivery) or the old automation's pull request (pull-request delivery).
    Shadow,
}

/// Where a shadow task looks for the old automation's change (`shadow` in a task).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShadowSettings {
    /// The old automation's pull request branch (`shadow.branch`, e.g. `update-{version}`);
    /// `None`: the task's own pull request branch. Only for pull-request delivery.
    pub branch: Option<Template>,
    /// The GitHub login of the old automation (`shadow.author`): who opened its pull requests
    /// and authored their commits.
    pub author: String,
}

/// The old automation's login when `shadow.author` is not set: its workflows' own token.
pub const DEFAULT_SHADOW_AUTHOR: &str = "github-actions[bot]";

/// Download limits (`[downloads]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DownloadSettings {
    /// Hosts downloads may come from, besides the GitHub server itself.
    pub allowed_hosts: Vec<String>,
    /// Largest file accepted, in bytes.
    pub max_bytes: u64,
}

/// Per-environment settings (`[environments.dev]`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct EnvironmentSettings {
    /// Every run in this environment is a dry run.
    pub dry_run: bool,
}

/// GitHub App permissions a task's token may be given.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize, serde::Serialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Permission {
    /// Repository contents, commits, branches.
    Contents,
    /// Pull requests.
    PullRequests,
    /// Issues and their comments.
    Issues,
    /// Workflow files.
    Workflows,
    /// Actions runs.
    Actions,
}

/// Read or write access.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize, serde::Serialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Access {
    /// Read only.
    Read,
    /// Read and write.
    Write,
}

/// When a task starts relative to the tasks it `needs` (`start` in tasks.toml).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Start {
    /// As soon as every needed task has published its outputs (planned and passed its checks),
    /// before their delivery; a needed task that fails later does not stop this one.
    #[default]
    Outputs,
    /// Only once every needed task has finished and succeeded, delivery included.
    Delivered,
}

/// One task's configuration.
#[derive(Clone)]
pub struct TaskConfig {
    /// Its name (the `[tasks.NAME]` key).
    pub name: String,
    /// The tasks whose outputs it needs.
    pub needs: Vec<String>,
    /// When it starts relative to the tasks it needs.
    pub start: Start,
    /// How long it may take, plan and writes together.
    pub timeout: Duration,
    /// Plan-and-write attempts when a branch moved under it.
    pub attempts: u32,
    /// Whether its commits carry a `Signed-off-by:` trailer (repositories that require DCO).
    pub signoff: bool,
    /// The token permissions it needs on its repository.
    pub permissions: BTreeMap<Permission, Access>,
    /// Where it writes, per environment (`None`: the task writes nothing).
    pub targets: BTreeMap<Environment, Target>,
    /// Whether it runs, per environment.
    pub enabled: BTreeMap<Environment, bool>,
    /// Whether it writes or only compares (`mode`, else `[run] mode`).
    pub mode: Mode,
    /// Where its shadow comparison looks (`shadow`).
    pub shadow: ShadowSettings,
    /// The task itself, built from its settings.
    pub task: Arc<dyn Task>,
}

impl TaskConfig {
    /// Where it writes in `environment`.
    pub fn target(&self, environment: Environment) -> Option<&Target> {
        self.targets.get(&environment)
    }

    /// Whether it runs in `environment`.
    pub fn is_enabled(&self, environment: Environment) -> bool {
        self.enabled.get(&environment).copied().unwrap_or(true)
    }
}

/// A configuration error, located in its file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}:{line}:{column}: {key}{message}")]
pub struct ConfigError {
    /// The file as named by the caller.
    pub file: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based column, in characters.
    pub column: usize,
    /// The key, when known, formatted as "`key`: ".
    pub key: String,
    /// What is wrong.
    pub message: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    trigger: RawTrigger,
    #[serde(default)]
    run: RawRun,
    downloads: RawDownloads,
    #[serde(default)]
    environments: BTreeMap<Environment, RawEnvironment>,
    tracking: Option<TrackingSettings>,
    tasks: BTreeMap<Spanned<String>, RawTask>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTrigger {
    repository_dispatch: Vec<Spanned<String>>,
    workflow_dispatch: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRun {
    #[serde(with = "humantime_serde", default = "default_timeout")]
    timeout: Duration,
    #[serde(default = "default_attempts")]
    attempts: Spanned<u32>,
    signoff: Option<Spanned<String>>,
    #[serde(default)]
    mode: Mode,
}

impl Default for RawRun {
    fn default() -> Self {
        Self {
            timeout: default_timeout(),
            attempts: default_attempts(),
            signoff: None,
            mode: Mode::default(),
        }
    }
}

fn default_timeout() -> Duration {
    Duration::from_secs(600)
}

fn default_attempts() -> Spanned<u32> {
    Spanned::new(0..0, 3)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDownloads {
    allowed_hosts: Vec<Spanned<String>>,
    max_bytes: u64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEnvironment {
    #[serde(default)]
    dry_run: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTask {
    /// The task's kind (its factory's name) when the table's name is not: several tasks of
    /// one kind (`kind = "workflow"`) are told apart by their table names.
    kind: Option<Spanned<String>>,
    #[serde(default)]
    needs: Vec<Spanned<String>>,
    #[serde(default)]
    start: Start,
    #[serde(default, with = "humantime_serde")]
    timeout: Option<Duration>,
    attempts: Option<Spanned<u32>>,
    #[serde(default)]
    signoff: bool,
    #[serde(default)]
    permissions: BTreeMap<Permission, Access>,
    repository: Option<RepoId>,
    branch: Option<String>,
    delivery: Option<RawDelivery>,
    #[serde(default)]
    env: BTreeMap<Environment, RawOverride>,
    mode: Option<Mode>,
    shadow: Option<Spanned<RawShadow>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawShadow {
    branch: Option<Template>,
    author: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
enum RawDelivery {
    Commit,
    PullRequest { branch: Template, title: Template },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawOverride {
    repository: Option<RepoId>,
    branch: Option<String>,
    enabled: Option<bool>,
}

/// Loads a configuration from `source`; `file` names it in errors. Every task named must be one
/// of `factories`.
pub fn load(
    file: &str,
    source: &str,
    factories: &[&dyn TaskFactory],
) -> Result<Config, ConfigError> {
    let locate = Locator { file, source };
    let mut document = DeTable::parse(source).map_err(|e| locate.toml(&e))?;
    let settings = take_settings(document.get_mut());
    let root_span = document.span();
    let raw = RawConfig::deserialize(ValueDeserializer::from(Spanned::new(
        root_span,
        DeValue::Table(document.into_inner()),
    )))
    .map_err(|e| locate.toml(&e))?;

    let run = RunSettings {
        timeout: raw.run.timeout,
        attempts: positive(&locate, "run.attempts", &raw.run.attempts)?,
        signoff: raw
            .run
            .signoff
            .map(|value| signoff(&locate, &value))
            .transpose()?,
        mode: raw.run.mode,
    };
    let triggers = Triggers {
        repository_dispatch: raw
            .trigger
            .repository_dispatch
            .into_iter()
            .map(|t| {
                if t.get_ref().is_empty() || t.get_ref().len() > 100 {
                    Err(locate.at(
                        t.span(),
                        "trigger.repository_dispatch",
                        "event types are 1 to 100 characters",
                    ))
                } else {
                    Ok(t.into_inner())
                }
            })
            .collect::<Result<_, _>>()?,
        workflow_dispatch: raw.trigger.workflow_dispatch,
    };
    let downloads = DownloadSettings {
        allowed_hosts: raw
            .downloads
            .allowed_hosts
            .into_iter()
            .map(|h| {
                let host = h.get_ref();
                if host.is_empty()
                    || !host
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-')
                {
                    Err(locate.at(
                        h.span(),
                        "downloads.allowed_hosts",
                        "a host name, without scheme, port or path",
                    ))
                } else {
                    Ok(host.to_ascii_lowercase())
                }
            })
            .collect::<Result<_, _>>()?,
        max_bytes: raw.downloads.max_bytes,
    };
    let environments = raw
        .environments
        .into_iter()
        .map(|(env, settings)| {
            (
                env,
                EnvironmentSettings {
                    dry_run: settings.dry_run,
                },
            )
        })
        .collect();

    let known: BTreeSet<&str> = raw.tasks.keys().map(|k| k.get_ref().as_str()).collect();
    let mut tasks = Vec::new();
    for (name, raw_task) in &raw.tasks {
        let key = format!("tasks.{}", name.get_ref());
        if !is_task_name(name.get_ref()) {
            return Err(locate.at(
                name.span(),
                &key,
                "task names are lowercase letters, digits and `-`",
            ));
        }
        let factory = factory_for(factories, name, raw_task.kind.as_ref())
            .map_err(|(span, message)| locate.at(span, &key, &message))?;
        for need in &raw_task.needs {
            if !known.contains(need.get_ref().as_str()) {
                return Err(locate.at(
                    need.span(),
                    &format!("{key}.needs"),
                    &format!("`{}` is not a task in this file", need.get_ref()),
                ));
            }
        }
        let task = factory
            .build(Settings::new(
                settings
                    .get(name.get_ref())
                    .cloned()
                    .map(ValueDeserializer::from),
            ))
            .map_err(|e| locate.toml(&e))?;
        tasks.push(TaskConfig {
            name: name.get_ref().clone(),
            needs: raw_task.needs.iter().map(|n| n.get_ref().clone()).collect(),
            start: raw_task.start,
            timeout: raw_task.timeout.unwrap_or(run.timeout),
            attempts: match &raw_task.attempts {
                Some(a) => positive(&locate, &format!("{key}.attempts"), a)?,
                None => run.attempts,
            },
            signoff: raw_task.signoff,
            permissions: raw_task.permissions.clone(),
            targets: targets(raw_task, factory.changes_files())
                .map_err(|message| locate.at(name.span(), &key, &message))?,
            enabled: raw_task
                .env
                .iter()
                .filter_map(|(env, o)| o.enabled.map(|enabled| (*env, enabled)))
                .collect(),
            mode: raw_task.mode.unwrap_or(run.mode),
            shadow: shadow_settings(&locate, &key, raw_task)?,
            task,
        });
    }
    let tasks = dependency_order(tasks, &raw.tasks, &locate)?;
    Ok(Config {
        triggers,
        run,
        downloads,
        environments,
        tracking: raw.tracking,
        tasks,
    })
}

/// The factory of task `name`: the one its `kind` names, or else the one named like the task.
fn factory_for<'f>(
    factories: &[&'f dyn TaskFactory],
    name: &Spanned<String>,
    kind: Option<&Spanned<String>>,
) -> Result<&'f dyn TaskFactory, (Range<usize>, String)> {
    let (wanted, span, what) = match kind {
        Some(kind) => (kind.get_ref(), kind.span(), "kind"),
        None => (name.get_ref(), name.span(), "task"),
    };
    factories
        .iter()
        .copied()
        .find(|f| f.name() == wanted)
        .ok_or_else(|| {
            let names: Vec<&str> = factories.iter().map(|f| f.name()).collect();
            (
                span,
                format!(
                    "unknown {what} `{wanted}` (known {what}s: {})",
                    names.join(", ")
                ),
            )
        })
}

/// Removes every `tasks.NAME.settings` table from the document, keeping its source positions.
fn take_settings<'i>(document: &mut DeTable<'i>) -> BTreeMap<String, Spanned<DeValue<'i>>> {
    let mut taken = BTreeMap::new();
    let Some(tasks) = document
        .iter_mut()
        .find(|(k, _)| k.get_ref() == "tasks")
        .map(|(_, v)| v)
    else {
        return taken;
    };
    let DeValue::Table(tasks) = tasks.get_mut() else {
        return taken;
    };
    for (name, task) in tasks.iter_mut() {
        if let DeValue::Table(task) = task.get_mut() {
            let key = task.keys().find(|k| k.get_ref() == "settings").cloned();
            if let Some(value) = key.and_then(|k| task.remove(&k)) {
                taken.insert(name.get_ref().to_string(), value);
            }
        }
    }
    taken
}

/// A task's `shadow` table: `branch` only with pull-request delivery, `author` a GitHub login.
fn shadow_settings(
    locate: &Locator<'_>,
    key: &str,
    raw: &RawTask,
) -> Result<ShadowSettings, ConfigError> {
    let Some(shadow) = &raw.shadow else {
        return Ok(ShadowSettings {
            branch: None,
            author: DEFAULT_SHADOW_AUTHOR.to_owned(),
        });
    };
    let pull_request = matches!(raw.delivery, Some(RawDelivery::PullRequest { .. }));
    if shadow.get_ref().branch.is_some() && !pull_request {
        return Err(locate.at(
            shadow.span(),
            &format!("{key}.shadow.branch"),
            "only a task with `delivery.pull-request` has an old pull request branch to compare with; \
             a `delivery = \"commit\"` task compares with its own `branch`",
        ));
    }
    let author = match &shadow.get_ref().author {
        Some(author) if is_login(author.get_ref()) => author.get_ref().clone(),
        Some(author) => {
            return Err(locate.at(
                author.span(),
                &format!("{key}.shadow.author"),
                "a GitHub login: letters, digits and `-`, optionally ending in `[bot]`",
            ));
        }
        None => DEFAULT_SHADOW_AUTHOR.to_owned(),
    };
    Ok(ShadowSettings {
        branch: shadow.get_ref().branch.clone(),
        author,
    })
}

/// A GitHub login (`octocat`) or an App's bot user (`github-actions[bot]`).
fn is_login(text: &str) -> bool {
    let name = text.strip_suffix("[bot]").unwrap_or(text);
    (1..=39).contains(&name.len())
        && !name.starts_with('-')
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

fn positive(locate: &Locator<'_>, key: &str, value: &Spanned<u32>) -> Result<u32, ConfigError> {
    match *value.get_ref() {
        0 => Err(locate.at(value.span(), key, "must be at least 1")),
        n => Ok(n),
    }
}

/// A `[run].signoff` value: one line of the form `Name <email>`.
fn signoff(locate: &Locator<'_>, value: &Spanned<String>) -> Result<String, ConfigError> {
    let text = value.get_ref();
    let well_formed = text
        .strip_suffix('>')
        .and_then(|rest| rest.rsplit_once(" <"))
        .is_some_and(|(name, email)| {
            !name.trim().is_empty()
                && !name.contains(['<', '>'])
                && email.contains('@')
                && !email.contains(['<', '>'])
                && !email.contains(char::is_whitespace)
                && !text.contains(['\n', '\r'])
        });
    if well_formed {
        Ok(text.clone())
    } else {
        Err(locate.at(
            value.span(),
            "run.signoff",
            "must be one line of the form `Name <email>`",
        ))
    }
}

/// The task's target in each environment: the base settings, with the environment's overrides.
/// `repository` alone is a target without commits (a task that only sends events); `branch` and
/// `delivery` come together, only with a `repository`, and exactly when the task `changes_files`.
fn targets(raw: &RawTask, changes_files: bool) -> Result<BTreeMap<Environment, Target>, String> {
    let delivery = raw.delivery.as_ref().map(|delivery| match delivery {
        RawDelivery::Commit => DeliverySpec::Commit,
        RawDelivery::PullRequest { branch, title } => DeliverySpec::PullRequest {
            branch: branch.clone(),
            title: title.clone(),
        },
    });
    let mut targets = BTreeMap::new();
    for environment in [Environment::Prod, Environment::Dev] {
        let overrides = raw.env.get(&environment);
        let repo = overrides
            .and_then(|o| o.repository.clone())
            .or_else(|| raw.repository.clone());
        let branch = overrides
            .and_then(|o| o.branch.clone())
            .or_else(|| raw.branch.clone());
        let commits = match (branch, &delivery) {
            (Some(branch), Some(delivery)) if is_branch_name(&branch) => Some(CommitTarget {
                branch,
                delivery: delivery.clone(),
            }),
            (Some(branch), Some(_)) => {
                return Err(format!(
                    "`{}` is not a valid branch name",
                    branch.escape_default()
                ));
            }
            (None, None) => None,
            (Some(_), None) => {
                return Err(format!(
                    "a task with a `branch` needs a `delivery`: how its changes reach the branch (environment {environment})"
                ));
            }
            (None, Some(_)) => {
                return Err(format!(
                    "a task with a `delivery` needs a `branch` (environment {environment})"
                ));
            }
        };
        match (repo, commits) {
            (Some(_), None) if changes_files => {
                return Err(format!(
                    "this task changes files in its `repository`: it needs a `branch` and a `delivery` (environment {environment})"
                ));
            }
            (Some(_), Some(_)) if !changes_files => {
                return Err(format!(
                    "this task changes no files, so it takes no `branch` or `delivery`: name only its `repository` (environment {environment})"
                ));
            }
            (Some(repo), commits) => {
                targets.insert(environment, Target { repo, commits });
            }
            (None, None) => {}
            (None, Some(_)) => {
                return Err(format!(
                    "a task with a `branch` and a `delivery` needs a `repository` (environment {environment})"
                ));
            }
        }
    }
    Ok(targets)
}

fn is_branch_name(branch: &str) -> bool {
    (1..=200).contains(&branch.len())
        && !branch.starts_with(['-', '/', '.'])
        && !branch.ends_with(['/', '.'])
        && !branch.contains("..")
        && !branch.contains("//")
        && branch
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'/'))
}

/// Orders tasks so that each comes after what it needs; a cycle is an error at one of its `needs`.
fn dependency_order(
    mut tasks: Vec<TaskConfig>,
    raw: &BTreeMap<Spanned<String>, RawTask>,
    locate: &Locator<'_>,
) -> Result<Vec<TaskConfig>, ConfigError> {
    let mut ordered: Vec<TaskConfig> = Vec::with_capacity(tasks.len());
    while !tasks.is_empty() {
        let ready = tasks
            .iter()
            .position(|t| t.needs.iter().all(|n| ordered.iter().any(|o| &o.name == n)));
        match ready {
            Some(index) => ordered.push(tasks.remove(index)),
            None => {
                // Every remaining task waits on another remaining one: report the first such `needs`.
                let stuck = &tasks[0].name;
                let (_, raw_task) = raw
                    .iter()
                    .find(|(k, _)| k.get_ref() == stuck)
                    .ok_or_else(|| locate.at(0..0, "tasks", "internal error: task vanished"))?;
                let need = raw_task
                    .needs
                    .iter()
                    .find(|n| tasks.iter().any(|t| t.name == *n.get_ref()))
                    .ok_or_else(|| locate.at(0..0, "tasks", "internal error: no blocking need"))?;
                let cycle: Vec<&str> = tasks.iter().map(|t| t.name.as_str()).collect();
                return Err(locate.at(
                    need.span(),
                    &format!("tasks.{stuck}.needs"),
                    &format!("dependency cycle among tasks: {}", cycle.join(", ")),
                ));
            }
        }
    }
    Ok(ordered)
}

/// Turns byte offsets into `file:line:column` errors.
struct Locator<'a> {
    file: &'a str,
    source: &'a str,
}

impl Locator<'_> {
    fn at(&self, span: Range<usize>, key: &str, message: &str) -> ConfigError {
        let offset = span.start.min(self.source.len());
        let before = self.source.get(..offset).unwrap_or(self.source);
        let line = before.matches('\n').count() + 1;
        let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        ConfigError {
            file: self.file.to_owned(),
            line,
            column,
            key: if key.is_empty() {
                String::new()
            } else {
                format!("`{key}`: ")
            },
            message: message.to_owned(),
        }
    }

    fn toml(&self, error: &toml::de::Error) -> ConfigError {
        self.at(error.span().unwrap_or(0..0), "", error.message().trim())
    }
}
