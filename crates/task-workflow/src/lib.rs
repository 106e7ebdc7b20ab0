//! The `workflow` task kind: runs a GitHub Actions workflow for a release and waits for it.
//!
//! Any number of tasks in `tasks.toml` can be of this kind (`kind = "workflow"`; the task is
//! named by its table). Each names, in its `settings`, a workflow file of its `repository`, the
//! ref it runs on, its inputs rendered from the release (`{version}`, `{minor}`,
//! `{environment}`), and when it applies (`when`). The task decides; the runner acts: the plan
//! holds one [`Effect::RunWorkflow`], which the runner carries out (find a run of the same
//! release that already succeeded, else `workflow_dispatch` and wait), so dry runs, the
//! rerun-after-success rule and the waiting live once, in the engine.
//!
//! **The marker.** GitHub's runs API does not return a run's inputs, only its title. So the bot
//! adds one input of its own, `marker_input` (default `valkey_bot_marker`), whose value names the
//! release (`valkey-bot 9.0.3 (prod)`), and the workflow shows it as its run's title:
//! `run-name: ${{ inputs.valkey_bot_marker || github.workflow }}`. A run with that title that
//! succeeded means the work is done; a rerun of the bot does not start the workflow again.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use serde::Deserialize;
use valkey_bot_core::plan::{Effect, WorkflowDispatch};
use valkey_bot_core::task::FactoryOf;
use valkey_bot_core::template::Template;
use valkey_bot_core::{Environment, Plan, RepoId, Task, TaskContext, TaskError, Version};

/// The task's `settings` in `tasks.toml`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkflowSettings {
    /// The workflow's file name under `.github/workflows/` of the task's repository.
    pub workflow: String,
    /// The branch or tag it runs on.
    #[serde(rename = "ref")]
    pub reference: String,
    /// Its inputs: name → template (`{version}`, `{minor}`, `{environment}`).
    #[serde(default)]
    pub inputs: BTreeMap<String, InputTemplate>,
    /// Which releases it runs for.
    #[serde(default)]
    pub when: When,
    /// For `when = "newest-final"`: the repository whose tags are the releases.
    pub source_repository: Option<RepoId>,
    /// The input carrying the bot's marker, which the workflow shows as its run's title.
    #[serde(default = "default_marker_input")]
    pub marker_input: String,
    /// How often the run is polled (at least 1s).
    #[serde(default = "default_poll_interval", with = "humantime_serde")]
    pub poll_interval: Duration,
    /// How long the run may take to appear and leave `queued`.
    #[serde(default = "default_start_timeout", with = "humantime_serde")]
    pub start_timeout: Duration,
}

fn default_marker_input() -> String {
    "valkey_bot_marker".into()
}

fn default_poll_interval() -> Duration {
    Duration::from_secs(15)
}

fn default_start_timeout() -> Duration {
    Duration::from_secs(300)
}

/// Which releases a workflow runs for.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum When {
    /// Every release (finals and release candidates; not `unstable`).
    #[default]
    Always,
    /// Final releases only (no release candidates).
    Final,
    /// Final releases that are the newest release of `source_repository` (no older line's patch).
    NewestFinal,
}

/// An input's value template: `{version}`, `{minor}` and `{environment}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputTemplate {
    /// The text between the `{environment}` placeholders, each a [`Template`].
    parts: Vec<Template>,
}

impl InputTemplate {
    /// Parses `text`, refusing unknown placeholders.
    pub fn parse(text: &str) -> Result<Self, String> {
        let parts = text
            .split("{environment}")
            .map(|part| {
                Template::parse(part).map_err(|e| format!("{e}; inputs also know {{environment}}"))
            })
            .collect::<Result<_, _>>()?;
        Ok(Self { parts })
    }

    /// The value for `version` in `environment`.
    pub fn render(&self, version: &Version, environment: Environment) -> String {
        self.parts
            .iter()
            .map(|part| part.render(version))
            .collect::<Vec<_>>()
            .join(environment.as_str())
    }
}

impl<'de> Deserialize<'de> for InputTemplate {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Self::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// Whether `name` is a workflow file name GitHub accepts: `NAME.yml` or `NAME.yaml`, no folder.
fn is_workflow_file(name: &str) -> bool {
    let stem = name
        .strip_suffix(".yml")
        .or_else(|| name.strip_suffix(".yaml"));
    stem.is_some_and(|stem| {
        !stem.is_empty()
            && stem
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
    })
}

/// Whether `name` can be a `workflow_dispatch` input's name.
fn is_input_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 100
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_'))
}

impl WorkflowSettings {
    /// Checks what serde cannot; the error names the key.
    fn check(&self) -> Result<(), String> {
        if !is_workflow_file(&self.workflow) {
            return Err(format!(
                "`workflow`: `{}` is not a workflow file name (`NAME.yml` under .github/workflows/, without the folder)",
                self.workflow.escape_default()
            ));
        }
        if self.reference.trim().is_empty() {
            return Err("`ref`: the branch or tag the workflow runs on".into());
        }
        if let Some(name) = self.inputs.keys().find(|name| !is_input_name(name)) {
            return Err(format!(
                "`inputs`: `{}` is not an input name",
                name.escape_default()
            ));
        }
        if !is_input_name(&self.marker_input) {
            return Err("`marker_input`: not an input name".into());
        }
        if self.inputs.contains_key(&self.marker_input) {
            return Err(format!(
                "`inputs`: `{}` is the bot's marker input (`marker_input`); choose another name for one of them",
                self.marker_input
            ));
        }
        if self.poll_interval < Duration::from_secs(1) {
            return Err("`poll_interval`: at least 1s (GitHub rate-limits the API)".into());
        }
        if self.when == When::NewestFinal && self.source_repository.is_none() {
            return Err(
                "`when = \"newest-final\"` needs `source_repository`: the repository whose tags are the releases"
                    .into(),
            );
        }
        Ok(())
    }
}

/// Registers the kind.
/// Registers the task.
/// Its only effect is an event (the run it starts): `tasks.toml` names that `repository` alone.
pub static FACTORY: FactoryOf<WorkflowSettings> = FactoryOf::new(
    "workflow",
    "runs a GitHub Actions workflow for the release and waits for it (kind = \"workflow\")",
    |settings: WorkflowSettings| {
        settings.check().map_err(|problem| problem.to_string())?;
        Ok(Arc::new(Workflow { settings }))
    },
)
.sends_events_only();

/// The task itself.
pub struct Workflow {
    settings: WorkflowSettings,
}

/// The marker value for a release: what the workflow's run title shows.
pub fn marker(version: &Version, environment: Environment) -> String {
    format!("valkey-bot {version} ({environment})")
}

#[async_trait]
impl Task for Workflow {
    async fn plan(&self, ctx: &TaskContext<'_>) -> Result<Plan, TaskError> {
        let version = &ctx.request.version;
        let target = ctx.target()?;
        let settings = &self.settings;
        if version.is_unstable() {
            return Ok(note(format!(
                "`{version}` is not a release: {} is not run",
                settings.workflow
            )));
        }
        if settings.when != When::Always && version.is_release_candidate() {
            return Ok(note(format!(
                "{version} is a release candidate: {} runs for final releases only",
                settings.workflow
            )));
        }
        if settings.when == When::NewestFinal
            && let Some(source) = &settings.source_repository
        {
            let newer: Option<Version> = ctx
                .repos()?
                .list_tags(source)
                .await?
                .iter()
                .filter_map(|tag| Version::parse(tag).ok())
                .filter(|tag| !tag.is_release_candidate() && !tag.is_unstable() && tag > version)
                .max();
            if let Some(newer) = newer {
                return Ok(note(format!(
                    "{version} is not the newest release ({newer} is, in {source}): {} runs for the newest final release only",
                    settings.workflow
                )));
            }
        }
        let environment = ctx.request.environment;
        let marker = marker(version, environment);
        let mut inputs: BTreeMap<String, String> = settings
            .inputs
            .iter()
            .map(|(name, template)| (name.clone(), template.render(version, environment)))
            .collect();
        inputs.insert(settings.marker_input.clone(), marker.clone());
        Ok(Plan {
            effects: vec![Effect::RunWorkflow(WorkflowDispatch {
                repo: target.repo.clone(),
                workflow: settings.workflow.clone(),
                reference: settings.reference.clone(),
                inputs,
                marker,
                start_timeout: settings.start_timeout,
                poll_interval: settings.poll_interval,
            })],
            ..Plan::default()
        })
    }
}

/// An empty plan that says why.
fn note(text: String) -> Plan {
    Plan {
        notes: vec![text],
        ..Plan::default()
    }
}
