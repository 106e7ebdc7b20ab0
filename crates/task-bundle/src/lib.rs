//! The `bundle` task: sends a `repository_dispatch` event (`valkey-release`, payload
//! `{"version": "<version>", "component": "valkey"}`) to the valkey-bundle repository, so it
//! rebuilds its images with the new Valkey. The receiver is the task's target repository in
//! `tasks.toml` (the one its token is narrowed to, per environment).
//!
//! Which versions are announced: every release, final or release candidate, that is at least
//! `minimum_version` in release order (`8.1.0-rc1 < 8.1.0 < 8.1.1`, so release candidates of the
//! minimum itself are not announced). `unstable` is never announced.

use std::sync::Arc;

use async_trait::async_trait;
use serde::Deserialize;
use serde_json::json;
use valkey_bot_core::plan::Effect;
use valkey_bot_core::task::FactoryOf;
use valkey_bot_core::{Plan, Task, TaskContext, TaskError, Version};

/// The task's `settings` in `tasks.toml`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BundleSettings {
    /// The event type it listens to.
    #[serde(default = "default_event_type")]
    pub event_type: String,
    /// The oldest version it packages.
    #[serde(default = "default_minimum")]
    pub minimum_version: Version,
}

fn default_event_type() -> String {
    "valkey-release".into()
}

fn default_minimum() -> Version {
    Version::parse("8.1.0").unwrap_or_else(|_| unreachable!("a valid literal"))
}

/// Registers the task.
/// Its only effect is an event: `tasks.toml` names that `repository` alone.
pub static FACTORY: FactoryOf<BundleSettings> = FactoryOf::new(
    "bundle",
    "sends a repository_dispatch event to the valkey-bundle repository",
    |settings| Ok(Arc::new(Bundle { settings })),
)
.sends_events_only();

/// The task itself.
pub struct Bundle {
    settings: BundleSettings,
}

#[async_trait]
impl Task for Bundle {
    async fn plan(&self, ctx: &TaskContext<'_>) -> Result<Plan, TaskError> {
        let version = &ctx.request.version;
        let minimum = &self.settings.minimum_version;
        let Some(target) = ctx.target else {
            return Err(TaskError::Invalid(
                "bundle needs a `repository` in tasks.toml: the one that receives the event".into(),
            ));
        };
        if version.is_unstable() {
            return Ok(note(format!(
                "`{version}` is not a release: nothing to send"
            )));
        }
        if version < minimum {
            return Ok(note(format!(
                "{version} is older than {minimum}: {} does not package it",
                target.repo
            )));
        }
        Ok(Plan {
            effects: vec![Effect::Dispatch {
                repo: target.repo.clone(),
                event_type: self.settings.event_type.clone(),
                payload: json!({ "version": version.as_str(), "component": "valkey" }),
            }],
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
