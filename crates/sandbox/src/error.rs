//! Errors: [`SandboxError`] for starting the sandbox, [`ApiError`] for GitHub-shaped HTTP answers.

use std::path::PathBuf;

use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::git::GitError;

/// Where GitHub's error bodies point; the sandbox uses the generic REST documentation page.
pub(crate) const DOCUMENTATION_URL: &str = "https://docs.github.com/rest";

/// Why the sandbox could not start, or why a fault rule was refused.
#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    /// A test's setup of the sandbox is not one it can play (an unknown permission, say).
    #[error("sandbox setup: {0}")]
    Setup(String),
    /// `config.root` does not exist or is not a directory.
    #[error("sandbox root {0} is not a directory")]
    Root(PathBuf),
    /// A file the sandbox keeps under `ROOT/_sandbox` could not be read or written.
    #[error("sandbox file {path}: {source}")]
    Io {
        /// The file or directory concerned.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// `ROOT/_sandbox/rulesets.json` is not a JSON array of branch rules.
    #[error("sandbox rulesets {path}:{line}:{column}: {message}")]
    Rulesets {
        /// The rulesets file.
        path: PathBuf,
        /// Line of the error (1-based).
        line: usize,
        /// Column of the error (1-based).
        column: usize,
        /// What is wrong.
        message: String,
    },
    /// `ROOT/_sandbox/workflows.json` is not a JSON array of workflow outcomes.
    #[error("sandbox workflow outcomes {path}:{line}:{column}: {message}")]
    WorkflowOutcomes {
        /// The outcomes file.
        path: PathBuf,
        /// Line of the error (1-based).
        line: usize,
        /// Column of the error (1-based).
        column: usize,
        /// What is wrong.
        message: String,
    },
    /// `ROOT/_sandbox/state.json` exists but is not a state file this sandbox wrote.
    #[error("sandbox state {path} is not valid: {source}")]
    StateFormat {
        /// The state file.
        path: PathBuf,
        /// The parse error.
        source: serde_json::Error,
    },
    /// The listen address could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address asked for.
        addr: std::net::SocketAddr,
        /// The underlying error.
        source: std::io::Error,
    },
    /// `AppConfig::public_key_pem` is not an RSA public key in PEM form.
    #[error("the App public key is not a valid RSA PEM key: {0}")]
    AppKey(#[source] jsonwebtoken::errors::Error),
    /// A workflow token was declared for something that is not `OWNER/NAME`.
    #[error("workflow token repository `{0}` is not OWNER/NAME")]
    WorkflowRepository(String),
    /// A workflow token was declared empty.
    #[error("the workflow token declared for `{0}` is empty")]
    WorkflowToken(String),
    /// A fault rule is malformed (bad status for its kind, empty pattern, ...).
    #[error("invalid fault rule: {0}")]
    InvalidFault(String),
    /// Waiting for Ctrl-C in [`crate::serve_forever`] failed.
    #[error("cannot wait for the interrupt signal: {0}")]
    Signal(#[source] std::io::Error),
}

/// An HTTP error answer with GitHub's body `{"message", "documentation_url"}`.
#[derive(Debug, Clone)]
pub(crate) struct ApiError {
    pub(crate) status: StatusCode,
    pub(crate) message: String,
    pub(crate) errors: Option<Value>,
    pub(crate) retry_after: Option<u64>,
}

impl ApiError {
    /// An error with `status` and `message` and nothing else.
    pub(crate) fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
            errors: None,
            retry_after: None,
        }
    }

    /// 404 `Not Found`.
    pub(crate) fn not_found() -> Self {
        Self::new(StatusCode::NOT_FOUND, "Not Found")
    }

    /// 422 with `message`.
    pub(crate) fn unprocessable(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, message)
    }

    /// 422 `message` with GitHub's `errors` array holding one custom error for `resource`.
    pub(crate) fn validation(resource: &str, message: impl Into<String>) -> Self {
        let message = message.into();
        let mut error = Self::unprocessable(message.clone());
        error.errors =
            Some(json!([{ "resource": resource, "code": "custom", "message": message }]));
        error
    }

    /// 400 `Problems parsing JSON`.
    pub(crate) fn bad_json() -> Self {
        Self::new(StatusCode::BAD_REQUEST, "Problems parsing JSON")
    }

    /// 401 `Bad credentials`.
    pub(crate) fn bad_credentials() -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "Bad credentials")
    }

    /// 401 `Requires authentication`: what GitHub answers an anonymous write.
    pub(crate) fn requires_authentication() -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "Requires authentication")
    }

    /// 403 `Resource not accessible by integration`.
    pub(crate) fn not_accessible() -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "Resource not accessible by integration",
        )
    }

    /// 500 for a failure inside the sandbox (a git command that should not have failed).
    pub(crate) fn internal(message: impl std::fmt::Display) -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("sandbox internal error: {message}"),
        )
    }
}

impl From<GitError> for ApiError {
    fn from(error: GitError) -> Self {
        Self::internal(error)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut body = json!({ "message": self.message, "documentation_url": DOCUMENTATION_URL });
        if let (Some(errors), Some(map)) = (self.errors, body.as_object_mut()) {
            map.insert("errors".to_owned(), errors);
        }
        let mut response = (self.status, axum::Json(body)).into_response();
        if let Some(secs) = self.retry_after {
            response
                .headers_mut()
                .insert("retry-after", HeaderValue::from(secs));
        }
        response
    }
}
