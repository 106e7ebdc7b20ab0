//! Alerts: a Slack-compatible webhook (`{"text": ...}`) for failures, security detections and
//! operator-approved replacements. The webhook address is a secret: it is never logged, and a
//! failed delivery is reported without it, after (never instead of) the original failure.

use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};

use crate::outcome::{Outcome, RunReport};

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
        "text": format!("{headline} for Valkey {} ({})\n{}", request.version, request.environment, slack_escape(&lines.join("\n")))
    }))
}

/// Escapes text for Slack's message format: `&`, `<` and `>` become entities, so outside text
/// (an error quoting a file, a note) cannot mention `<!channel>` or draw a `<url|link>`.
pub fn slack_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
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

    /// Posts `payload` to an `https://` address (plain `http://` only to a loopback address, for
    /// local tests), following no redirect: a `3xx` answer is a failed delivery, so the alert
    /// can never be sent somewhere the configured address did not name.
    pub async fn send(&self, payload: &serde_json::Value) -> Result<(), AlertError> {
        let url = reqwest::Url::parse(self.url.expose_secret())
            .map_err(|_| AlertError("the webhook address is not a URL".into()))?;
        let loopback = match url.host_str() {
            Some("localhost") => true,
            Some(host) => host
                .trim_matches(['[', ']'])
                .parse::<std::net::IpAddr>()
                .is_ok_and(|ip| ip.is_loopback()),
            None => false,
        };
        if url.scheme() != "https" && !(url.scheme() == "http" && loopback) {
            return Err(AlertError(format!(
                "the webhook address must be https:// (it is {}://); nothing was sent",
                url.scheme()
            )));
        }
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .redirect(reqwest::redirect::Policy::none())
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    #[test]
    fn slack_markup_in_outside_text_is_escaped() {
        assert_eq!(
            slack_escape("<!channel> <https://evil.example|click> & more"),
            "&lt;!channel&gt; &lt;https://evil.example|click&gt; &amp; more"
        );
    }

    #[tokio::test]
    async fn only_https_is_posted_to_and_nothing_is_sent_otherwise() {
        let webhook = Webhook::new("http://hooks.example.com/services/secret".to_owned().into());
        let error = webhook
            .send(&serde_json::json!({"text": "x"}))
            .await
            .unwrap_err()
            .to_string();
        assert!(error.contains("must be https://"), "{error}");
        assert!(!error.contains("secret"), "{error}");
    }

    #[tokio::test]
    async fn a_redirect_is_a_failed_delivery_and_is_not_followed() {
        let followed = Arc::new(Mutex::new(0));
        let seen = Arc::clone(&followed);
        let app = axum::Router::new()
            .route(
                "/hook",
                axum::routing::post(|| async {
                    (
                        axum::http::StatusCode::TEMPORARY_REDIRECT,
                        [(axum::http::header::LOCATION, "/elsewhere")],
                    )
                }),
            )
            .route(
                "/elsewhere",
                axum::routing::post(move || {
                    *seen.lock().unwrap() += 1;
                    async { axum::http::StatusCode::OK }
                }),
            );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        let error = Webhook::new(url.into())
            .send(&serde_json::json!({"text": "x"}))
            .await
            .unwrap_err()
            .to_string();
        assert!(error.contains("307"), "{error}");
        assert_eq!(
            *followed.lock().unwrap(),
            0,
            "the redirect was not followed"
        );
    }
}
