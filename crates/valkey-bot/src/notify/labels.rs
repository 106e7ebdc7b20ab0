//! Pull requests opened or updated by a run that failed are labelled, so they do not look
//! healthy to a maintainer who finds them before the alert.

use std::sync::Arc;

use async_trait::async_trait;
use tracing::error;
use valkey_bot_core::ReleaseRequest;
use valkey_bot_core::config::Config;

use crate::deliver::Delivered;
use crate::forge::{Access, Connector};
use crate::runner::{RunObserver, RunReport, TaskReport};

/// The label put on pull requests of a failed run.
pub const FAILED_RUN_LABEL: &str = "valkey-bot: run failed";

/// Labels the pull requests of a failed run.
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
        if report.dry_run || !report.failed() {
            return;
        }
        for task in &report.tasks {
            let Some(config) = self.config.tasks.iter().find(|t| t.name == task.name) else {
                continue;
            };
            for delivered in &task.delivered {
                let Delivered::PullRequest { repo, number, .. } = delivered else {
                    continue;
                };
                let target = config.target(report.request.environment);
                let result = match self
                    .connector
                    .connect(config, target, Access::ReadWrite)
                    .await
                {
                    Ok(forge) => match target {
                        Some(target) => {
                            forge
                                .pulls
                                .add_labels(&target.repo, *number, &[FAILED_RUN_LABEL.to_owned()])
                                .await
                        }
                        None => Ok(()),
                    },
                    Err(e) => Err(e),
                };
                if let Err(e) = result {
                    error!(%repo, number, "cannot label the pull request of a failed run: {e}");
                }
            }
        }
    }
}
