//! Alerts: a Slack-compatible webhook (`{"text": ...}`) for failures, security detections and
//! operator-approved replacements. The webhook address is a secret: it is never logged, and a
//! failed delivery is reported without it, after (never instead of) the original failure.

use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};

use crate::runner::{Outcome, RunReport};

/// The environment variable that holds the webhook address.
pub const WEBHOOK_VARIABLE: &str = "VALKEY_BOT_ALERT_WEBHOOK";

/// The alert for a run, or `None` when there is nothing to alert about.
pub fn payload(report: &RunReport) -> Option<serde_json::Value> {
    let mut lines = Vec::new();
    for task in &report.tasks {
        match &task.outcome {
            Outcome::Failed {
                error,
                security,
                next_step,
            } => {
                let kind = if *security {
                    "SECURITY CHECK FAILED"
                } else {
                    "failed"
                };
                lines.push(format!(
                    "• `{}` {kind}: {error}\n  Next: {next_step}",
                    task.name
                ));
            }
            Outcome::Skipped { reason } => {
                lines.push(format!("• `{}` skipped: {reason}", task.name))
            }
            _ => {}
        }
        lines.extend(
            task.alerts
                .iter()
                .map(|alert| format!("• `{}`: {alert}", task.name)),
        );
    }
    if lines.is_empty() {
        return None;
    }
    let security = report
        .tasks
        .iter()
        .any(|t| matches!(t.outcome, Outcome::Failed { security: true, .. }));
    let headline = if security {
        ":rotating_light: valkey-bot: a security check failed"
    } else if report.failed() {
        ":x: valkey-bot: the release run failed"
    } else {
        ":warning: valkey-bot: the release run needs attention"
    };
    let request = &report.request;
    Some(serde_json::json!({
        "text": format!("{headline} for Valkey {} ({})\n{}", request.version, request.environment, lines.join("\n"))
    }))
}

/// Where alerts go.
pub struct Webhook {
    url: SecretString,
}

/// Why an alert could not be delivered (never contains the webhook address).
#[derive(Debug, thiserror::Error)]
#[error("the alert could not be delivered: {0}")]
pub struct AlertError(String);

impl Webhook {
    /// The webhook from [`WEBHOOK_VARIABLE`], if it is set.
    pub fn from_env() -> Option<Self> {
        std::env::var(WEBHOOK_VARIABLE)
            .ok()
            .filter(|url| !url.trim().is_empty())
            .map(|url| Self::new(url.into()))
    }

    /// A webhook posting to `url`.
    pub fn new(url: SecretString) -> Self {
        Self { url }
    }

    /// Posts `payload`.
    pub async fn send(&self, payload: &serde_json::Value) -> Result<(), AlertError> {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .map_err(|e| AlertError(e.without_url().to_string()))?;
        let response = client
            .post(self.url.expose_secret())
            .json(payload)
            .send()
            .await
            .map_err(|e| AlertError(e.without_url().to_string()))?;
        if response.status().is_success() {
            Ok(())
        } else {
            Err(AlertError(format!(
                "the webhook answered {}",
                response.status()
            )))
        }
    }
}
