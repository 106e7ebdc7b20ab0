//! GitHub Actions, simulated: which workflows a repository has (its default branch's
//! `.github/workflows/*.yml`, with their `workflow_dispatch` inputs, `run-name` and jobs) and how
//! their runs end. Outcomes are set per repository and workflow file in tests with
//! [`crate::RunningSandbox::workflow_outcomes`], or by a script through the file
//! `ROOT/_sandbox/workflows.json` read at start:
//!
//! ```json
//! [
//!   { "repository": "owner/name", "workflow": "build.yml", "outcome": "succeed" },
//!   { "repository": "owner/name", "workflow": "packages.yml", "outcome": "fail", "failing_jobs": ["build-deb"] },
//!   { "repository": "owner/name", "workflow": "slow.yml", "outcome": "slow", "seconds": 600 },
//!   { "repository": "owner/name", "workflow": "manual.yml", "outcome": "cancelled" },
//!   { "repository": "owner/name", "workflow": "stuck.yml", "outcome": "never-start" }
//! ]
//! ```
//!
//! A workflow without an entry succeeds. A run is `queued` for [`QUEUED`], then `in_progress`
//! for [`RUNNING`] (`slow`: for its `seconds`), then `completed` with its conclusion; a
//! `never-start` dispatch is accepted (with a run id) but its run never appears.

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use yaml_rust2::{Yaml, YamlLoader};

use crate::error::SandboxError;

/// How long a run stays `queued`.
pub const QUEUED: Duration = Duration::from_millis(500);
/// How long a run that is not `slow` stays `in_progress`.
pub const RUNNING: Duration = Duration::from_millis(1000);

/// How a workflow's runs end.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "kebab-case", deny_unknown_fields)]
pub enum Outcome {
    /// Every job succeeds.
    Succeed,
    /// The named jobs fail (the first job when none is named), the others succeed.
    Fail {
        /// The jobs that fail (their names as the run lists them).
        #[serde(default)]
        failing_jobs: Vec<String>,
    },
    /// The run stays `in_progress` this long, then succeeds.
    Slow {
        /// Seconds in progress.
        seconds: u64,
    },
    /// The run is cancelled (someone pressed "Cancel workflow").
    Cancelled,
    /// The dispatch is accepted, but no run ever appears.
    NeverStart,
}

/// One workflow's outcome (unknown keys are refused by [`Outcome`], which receives them).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkflowOutcome {
    /// `owner/name`.
    pub repository: String,
    /// The workflow's file name (`build.yml`).
    pub workflow: String,
    /// How its runs end.
    #[serde(flatten)]
    pub outcome: Outcome,
}

/// The outcomes in force; cheap to clone (shared).
#[derive(Debug, Clone, Default)]
pub struct WorkflowOutcomes {
    outcomes: Arc<Mutex<Vec<WorkflowOutcome>>>,
}

impl WorkflowOutcomes {
    /// The outcomes in `path` (a JSON array of [`WorkflowOutcome`]), or none if it does not exist.
    pub(crate) fn load(path: &Path) -> Result<Self, SandboxError> {
        let outcomes = crate::rules::read_list(path, |line, column, message| {
            SandboxError::WorkflowOutcomes {
                path: path.to_owned(),
                line,
                column,
                message,
            }
        })?;
        Ok(Self {
            outcomes: Arc::new(Mutex::new(outcomes)),
        })
    }

    /// From now on, runs of `workflow` of `repository` (`owner/name`) end as `outcome`.
    pub fn set(&self, repository: &str, workflow: &str, outcome: Outcome) {
        let mut outcomes = self.lock();
        outcomes.retain(|o| !(o.repository == repository && o.workflow == workflow));
        outcomes.push(WorkflowOutcome {
            repository: repository.to_owned(),
            workflow: workflow.to_owned(),
            outcome,
        });
    }

    /// How the next run of `workflow` of `repository` ends.
    pub(crate) fn outcome(&self, repository: &str, workflow: &str) -> Outcome {
        self.lock()
            .iter()
            .find(|o| o.repository == repository && o.workflow == workflow)
            .map_or(Outcome::Succeed, |o| o.outcome.clone())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<WorkflowOutcome>> {
        // A panic while holding the lock cannot leave the list half-changed.
        self.outcomes
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// What the sandbox reads from a workflow file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct WorkflowFile {
    /// Its `name:`, or its path when it has none (as GitHub shows it).
    pub(crate) name: String,
    /// `None` when it has no `workflow_dispatch` trigger; else its inputs with whether each is
    /// required (and has no default).
    pub(crate) dispatch_inputs: Option<Vec<(String, bool)>>,
    /// Its `run-name:` expression text, if any.
    pub(crate) run_name: Option<String>,
    /// Its jobs' names (`name:` when it is plain text, else the job's key), in file order.
    pub(crate) jobs: Vec<String>,
}

impl WorkflowFile {
    /// Parses a workflow's YAML; `path` is its path in the repository. `None` for text that is
    /// not a YAML mapping (GitHub lists such a file but cannot run it).
    pub(crate) fn parse(path: &str, text: &str) -> Option<Self> {
        let documents = YamlLoader::load_from_str(text).ok()?;
        let root = documents.into_iter().next()?;
        root.as_hash()?;
        let name = root["name"]
            .as_str()
            .map_or_else(|| path.to_owned(), str::to_owned);
        // `on` may be a string, a list of events, or a mapping; YAML 1.1 readers see `on` as `true`.
        let on = match &root["on"] {
            Yaml::BadValue => root
                .as_hash()
                .and_then(|map| map.get(&Yaml::Boolean(true)))
                .unwrap_or(&Yaml::BadValue),
            on => on,
        };
        let dispatch_inputs = match on {
            Yaml::String(event) => (event == "workflow_dispatch").then(Vec::new),
            Yaml::Array(events) => events
                .iter()
                .any(|e| e.as_str() == Some("workflow_dispatch"))
                .then(Vec::new),
            Yaml::Hash(events) => {
                events
                    .get(&Yaml::String("workflow_dispatch".into()))
                    .map(|dispatch| {
                        dispatch["inputs"]
                            .as_hash()
                            .map(|inputs| {
                                inputs
                                    .iter()
                                    .filter_map(|(key, input)| {
                                        let required = input["required"].as_bool().unwrap_or(false)
                                            && matches!(input["default"], Yaml::BadValue);
                                        key.as_str().map(|k| (k.to_owned(), required))
                                    })
                                    .collect()
                            })
                            .unwrap_or_default()
                    })
            }
            _ => None,
        };
        let jobs = root["jobs"]
            .as_hash()
            .map(|jobs| {
                jobs.iter()
                    .filter_map(|(key, job)| {
                        let key = key.as_str()?;
                        Some(match job["name"].as_str() {
                            Some(name) if !name.contains("${{") => name.to_owned(),
                            _ => key.to_owned(),
                        })
                    })
                    .collect()
            })
            .unwrap_or_default();
        Some(Self {
            name,
            dispatch_inputs,
            run_name: root["run-name"].as_str().map(str::to_owned),
            jobs,
        })
    }

    /// A run's title: `run-name` with each `${{ … }}` evaluated (`inputs.NAME`,
    /// `github.workflow`, a quoted literal, alternatives joined by `||`), or the workflow's name.
    pub(crate) fn title(&self, inputs: &serde_json::Map<String, serde_json::Value>) -> String {
        let Some(template) = &self.run_name else {
            return self.name.clone();
        };
        let mut title = String::new();
        let mut rest = template.as_str();
        while let Some(start) = rest.find("${{") {
            title.push_str(&rest[..start]);
            let after = &rest[start + 3..];
            let Some(end) = after.find("}}") else {
                rest = after;
                break;
            };
            title.push_str(&self.evaluate(&after[..end], inputs));
            rest = &after[end + 2..];
        }
        title.push_str(rest);
        title
    }

    fn evaluate(
        &self,
        expression: &str,
        inputs: &serde_json::Map<String, serde_json::Value>,
    ) -> String {
        expression
            .split("||")
            .map(str::trim)
            .map(|term| {
                if let Some(name) = term.strip_prefix("inputs.") {
                    inputs
                        .get(name)
                        .map(|value| match value {
                            serde_json::Value::String(text) => text.clone(),
                            other => other.to_string(),
                        })
                        .unwrap_or_default()
                } else if term == "github.workflow" {
                    self.name.clone()
                } else {
                    term.trim_matches('\'').to_owned()
                }
            })
            .find(|value| !value.is_empty())
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BUILD: &str = "name: Build\nrun-name: ${{ inputs.valkey_bot_marker || github.workflow }}\non:\n  push:\n  workflow_dispatch:\n    inputs:\n      version:\n        required: true\n      region:\n        required: true\n        default: us-west-2\n      valkey_bot_marker:\n        required: false\njobs:\n  build:\n    runs-on: ubuntu-latest\n  upload:\n    name: Upload to S3\n";

    #[test]
    fn reads_inputs_jobs_and_titles() {
        let file = WorkflowFile::parse(".github/workflows/build.yml", BUILD).unwrap();
        assert_eq!(file.name, "Build");
        assert_eq!(
            file.dispatch_inputs,
            Some(vec![
                ("version".into(), true),
                ("region".into(), false),
                ("valkey_bot_marker".into(), false)
            ])
        );
        assert_eq!(file.jobs, vec!["build", "Upload to S3"]);
        let mut inputs = serde_json::Map::new();
        assert_eq!(file.title(&inputs), "Build");
        inputs.insert("valkey_bot_marker".into(), "bot 9.0.3".into());
        assert_eq!(file.title(&inputs), "bot 9.0.3");
    }

    #[test]
    fn a_workflow_without_dispatch_has_no_inputs() {
        let file = WorkflowFile::parse("x.yml", "on: push\njobs:\n  a: {}\n").unwrap();
        assert_eq!(file.dispatch_inputs, None);
        assert_eq!(file.name, "x.yml");
    }

    #[test]
    fn outcomes_parse_from_the_documented_file() {
        let text = r#"[{ "repository": "o/r", "workflow": "a.yml", "outcome": "fail", "failing_jobs": ["x"] },
                       { "repository": "o/r", "workflow": "b.yml", "outcome": "slow", "seconds": 5 },
                       { "repository": "o/r", "workflow": "c.yml", "outcome": "never-start" }]"#;
        let parsed: Vec<WorkflowOutcome> = serde_json::from_str(text).unwrap();
        assert_eq!(
            parsed[0].outcome,
            Outcome::Fail {
                failing_jobs: vec!["x".into()]
            }
        );
        assert_eq!(parsed[1].outcome, Outcome::Slow { seconds: 5 });
        assert_eq!(parsed[2].outcome, Outcome::NeverStart);
        assert!(
            serde_json::from_str::<Vec<WorkflowOutcome>>(
                r#"[{"repository":"o/r","workflow":"a","outcome":"explode"}]"#
            )
            .is_err()
        );
        assert!(
            serde_json::from_str::<Vec<WorkflowOutcome>>(
                r#"[{"repository":"o/r","workflow":"a","outcome":"slow","seconds":1,"colour":1}]"#
            )
            .is_err()
        );
    }
}
