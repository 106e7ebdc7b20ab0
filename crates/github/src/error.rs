//! Turning a GitHub answer or a transport failure into a [`GitHubError`], and keeping secrets out
//! of the message.

use http::StatusCode;
use serde::Deserialize;
use valkey_bot_core::github::GitHubError;

use crate::retry::{Retried, is_rate_limited};
use crate::transport::{Response, SendError};

/// GitHub's error body: `{"message": "...", "errors": [...]}`.
#[derive(Debug, Default, Deserialize)]
struct ErrorBody {
    #[serde(default)]
    message: String,
    #[serde(default)]
    errors: Vec<serde_json::Value>,
}

/// The human-readable reason in an error body: its message and those of its `errors` entries.
pub(crate) fn github_message(body: &[u8]) -> String {
    let parsed: ErrorBody = serde_json::from_slice(body).unwrap_or_default();
    let mut parts = Vec::new();
    if !parsed.message.is_empty() {
        parts.push(parsed.message);
    }
    for entry in parsed.errors {
        match entry {
            serde_json::Value::String(text) => parts.push(text),
            serde_json::Value::Object(map) => {
                if let Some(serde_json::Value::String(text)) = map.get("message") {
                    parts.push(text.clone());
                } else if let Some(serde_json::Value::String(code)) = map.get("code") {
                    parts.push(code.clone());
                }
            }
            _ => {}
        }
    }
    parts.join("; ")
}

/// The error for a non-success answer to `what` (e.g. `POST /repos/o/r/pulls`).
pub(crate) fn from_response(what: &str, response: &Response, note: Option<&str>) -> GitHubError {
    let message = github_message(&response.body);
    let text = match note {
        Some(note) => format!("{what}: {} {message} ({note})", response.status.as_u16()),
        None => format!("{what}: {} {message}", response.status.as_u16()),
    };
    let lower = message.to_ascii_lowercase();
    match response.status {
        StatusCode::NOT_FOUND => GitHubError::NotFound(text),
        // Git data on a repository without a commit: no race lost, nothing a re-plan can mend.
        StatusCode::CONFLICT if lower.contains("repository is empty") => {
            GitHubError::Rejected(text)
        }
        StatusCode::CONFLICT => GitHubError::Conflict(text),
        StatusCode::UNPROCESSABLE_ENTITY
            if lower.contains("not a fast forward") || lower.contains("already exists") =>
        {
            GitHubError::Conflict(text)
        }
        StatusCode::UNPROCESSABLE_ENTITY | StatusCode::BAD_REQUEST => GitHubError::Rejected(text),
        _ if is_rate_limited(response) => GitHubError::Unavailable(text),
        StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => GitHubError::Forbidden(text),
        status if status.is_server_error() => GitHubError::Unavailable(text),
        _ => GitHubError::Other(text),
    }
}

/// Whether `error` is GitHub's 401: the token is unknown, expired or revoked. Nothing was done,
/// so the request may be sent again with a new token.
pub(crate) fn is_bad_credentials(error: &GitHubError) -> bool {
    // `from_response` writes `<what>: <status> <message>`; `<what>` has no spaces in its path.
    matches!(error, GitHubError::Forbidden(text)
        if text.split(' ').nth(2) == Some("401"))
}

/// The error for a request that got no answer.
pub(crate) fn from_send_error(what: &str, error: &SendError, note: Option<&str>) -> GitHubError {
    match note {
        Some(note) => GitHubError::Unavailable(format!("{what}: {error} ({note})")),
        None => GitHubError::Unavailable(format!("{what}: {error}")),
    }
}

/// The error for a retried request that did not end in success, or the response if it did.
pub(crate) fn into_response(what: &str, retried: Retried) -> Result<Response, GitHubError> {
    let attempts_note = (retried.attempts > 1).then(|| format!("{} attempts", retried.attempts));
    let note = match (retried.stopped, attempts_note) {
        (Some(stopped), Some(attempts)) => Some(format!("{stopped} after {attempts}")),
        (Some(stopped), None) => Some(stopped.to_owned()),
        (None, attempts) => attempts,
    };
    match retried.outcome {
        Ok(response) if response.status.is_success() => Ok(response),
        Ok(response) => Err(from_response(what, &response, note.as_deref())),
        Err(error) => Err(from_send_error(what, &error, note.as_deref())),
    }
}

/// Replaces every occurrence of each secret in the error's message with `[REDACTED]`.
pub(crate) fn redact(error: GitHubError, secrets: &[&str]) -> GitHubError {
    let clean = |text: String| {
        secrets
            .iter()
            .filter(|secret| !secret.is_empty())
            .fold(text, |text, secret| text.replace(secret, "[REDACTED]"))
    };
    match error {
        GitHubError::NotFound(text) => GitHubError::NotFound(clean(text)),
        GitHubError::Conflict(text) => GitHubError::Conflict(clean(text)),
        GitHubError::Rejected(text) => GitHubError::Rejected(clean(text)),
        GitHubError::Forbidden(text) => GitHubError::Forbidden(clean(text)),
        GitHubError::Unavailable(text) => GitHubError::Unavailable(clean(text)),
        GitHubError::ReadOnly(text) => GitHubError::ReadOnly(clean(text)),
        GitHubError::Other(text) => GitHubError::Other(clean(text)),
    }
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;
    use http::HeaderMap;

    use super::*;

    fn answer(status: u16, body: &str) -> Response {
        Response {
            status: StatusCode::from_u16(status).unwrap(),
            headers: HeaderMap::new(),
            body: Bytes::from(body.to_owned()),
        }
    }

    fn kind(status: u16, body: &str) -> GitHubError {
        from_response("PATCH /x", &answer(status, body), None)
    }

    #[test]
    fn statuses_map_to_what_the_caller_can_do() {
        assert!(matches!(
            kind(404, r#"{"message":"Not Found"}"#),
            GitHubError::NotFound(_)
        ));
        assert!(matches!(kind(409, "{}"), GitHubError::Conflict(_)));
        assert!(matches!(
            kind(409, r#"{"message":"Git Repository is empty."}"#),
            GitHubError::Rejected(_)
        ));
        assert!(matches!(
            kind(422, r#"{"message":"Update is not a fast forward"}"#),
            GitHubError::Conflict(_)
        ));
        assert!(matches!(
            kind(422, r#"{"message":"Reference already exists"}"#),
            GitHubError::Conflict(_)
        ));
        assert!(matches!(
            kind(
                422,
                r#"{"message":"Validation Failed","errors":[{"message":"A pull request already exists for o:b."}]}"#
            ),
            GitHubError::Conflict(_)
        ));
        assert!(matches!(
            kind(422, r#"{"message":"No commits between main and x"}"#),
            GitHubError::Rejected(_)
        ));
        assert!(matches!(
            kind(401, r#"{"message":"Bad credentials"}"#),
            GitHubError::Forbidden(_)
        ));
        assert!(matches!(
            kind(
                403,
                r#"{"message":"Resource not accessible by integration"}"#
            ),
            GitHubError::Forbidden(_)
        ));
        assert!(matches!(
            kind(
                403,
                r#"{"message":"You have exceeded a secondary rate limit"}"#
            ),
            GitHubError::Unavailable(_)
        ));
        assert!(matches!(kind(429, ""), GitHubError::Unavailable(_)));
        assert!(matches!(kind(502, ""), GitHubError::Unavailable(_)));
        assert!(matches!(kind(418, ""), GitHubError::Other(_)));
    }

    #[test]
    fn messages_name_the_request_and_githubs_reason() {
        let error = kind(404, r#"{"message":"Not Found","documentation_url":"x"}"#);
        assert_eq!(
            error,
            GitHubError::NotFound("PATCH /x: 404 Not Found".into())
        );
    }

    #[test]
    fn recognises_bad_credentials() {
        assert!(is_bad_credentials(&kind(
            401,
            r#"{"message":"Bad credentials"}"#
        )));
        assert!(!is_bad_credentials(&kind(403, r#"{"message":"401"}"#)));
    }

    #[test]
    fn redaction_removes_every_secret() {
        let error = GitHubError::Other("token ghs_abc and ghs_abc again".into());
        assert_eq!(
            redact(error, &["ghs_abc"]),
            GitHubError::Other("token [REDACTED] and [REDACTED] again".into())
        );
    }
}
