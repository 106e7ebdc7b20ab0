//! Pull requests opened or updated by a run that failed are labelled, so they do not look
//! healthy to a maintainer who finds them before the alert; a later run that succeeds takes the
//! label off again.

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
                    Ok(forge) => match (target, failed) {
                        (Some(target), true) => {
                            forge
                                .pulls
                                .add_labels(&target.repo, *number, &[FAILED_RUN_LABEL.to_owned()])
                                .await
                        }
                        (Some(target), false) => {
                            forge
                                .pulls
                                .remove_label(&target.repo, *number, FAILED_RUN_LABEL)
                                .await
                        }
                        (None, _) => Ok(()),
                    },
                    Err(e) => Err(e),
                };
                if let Err(e) = result {
                    error!(%repo, number, failed, "cannot set the failed-run label of the pull request: {e}");
                }
            }
        }
    }
}
