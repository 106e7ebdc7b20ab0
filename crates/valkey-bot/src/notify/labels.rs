//! When a run fails, every pull request its tasks delivered (opened, updated or found unchanged)
//! is labelled, so it does not look healthy to a maintainer who finds it before the alert; a later
//! successful run that delivers it takes the label off again.

use std::sync::Arc;

use async_trait::async_trait;
use tracing::error;
use valkey_bot_core::ReleaseRequest;
use valkey_bot_core::config::{Config, TaskConfig};
use valkey_bot_core::github::GitHubError;
use valkey_bot_core::task::Target;

use crate::deliver::Delivered;
use crate::forge::Connector;
use crate::outcome::{RunReport, TaskReport};
use crate::runner::RunObserver;

/// The label put on pull requests of a failed run.
pub const FAILED_RUN_LABEL: &str = "valkey-bot: run failed";

/// Labels the pull requests of a failed run, and unlabels them after a run that succeeds.
pub struct FailedRunLabels {
    /// GitHub access per task.
    pub connector: Arc<dyn Connector>,
    /// The configuration (to find each task's target).
    pub config: Arc<Config>,
}

#[async_trait]
impl RunObserver for FailedRunLabels {
    async fn started(&self, _: &ReleaseRequest, _: bool, _: &[String]) {}

    async fn task_finished(&self, _: &ReleaseRequest, _: bool, _: &TaskReport) {}

    async fn finished(&self, report: &RunReport) {
        if report.dry_run {
            return;
        }
        let failed = report.failed();
        for task in &report.tasks {
            let Some(config) = self.config.tasks.iter().find(|t| t.name == task.name) else {
                continue;
            };
            let Some(target) = config.target(report.request.environment) else {
                continue;
            };
            for delivered in &task.delivered {
                let Delivered::PullRequest {
                    repo,
                    number,
                    branch,
                    ..
                } = delivered
                else {
                    continue;
                };
                if let Err(e) = self.set_label(config, target, branch, failed).await {
                    error!(%repo, number, failed, "cannot set the failed-run label of the pull request: {e}");
                }
            }
        }
    }
}

impl FailedRunLabels {
    /// Puts the label on the open pull request from `branch` if `failed`, takes it off if not;
    /// writes nothing when the pull request already is as it should be.
    async fn set_label(
        &self,
        config: &TaskConfig,
        target: &Target,
        branch: &str,
        failed: bool,
    ) -> Result<(), GitHubError> {
        let pulls = self.connector.pulls(config, target).await?;
        let Some(pull) = pulls.find_open(&target.repo, branch).await? else {
            return Ok(());
        };
        let labelled = pull.labels.iter().any(|label| label == FAILED_RUN_LABEL);
        match (failed, labelled) {
            (true, false) => {
                pulls
                    .add_labels(&target.repo, pull.number, &[FAILED_RUN_LABEL.to_owned()])
                    .await
            }
            (false, true) => {
                pulls
                    .remove_label(&target.repo, pull.number, FAILED_RUN_LABEL)
                    .await
            }
            _ => Ok(()),
        }
    }
}
