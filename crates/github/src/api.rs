//! One API call as the rest of the crate sees it: send with the retry policy, map failures to
//! [`GitHubError`] with secrets removed, decode the JSON answer.

use std::sync::Arc;

use http::Method;
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;
use serde::de::DeserializeOwned;
use valkey_bot_core::github::GitHubError;

use crate::config::GitHubConfig;
use crate::error::{into_response, redact};
use crate::retry::{self, Idempotency, RetryPolicy, Sleeper};
use crate::transport::{Response, Transport, TransportError};

/// Sends requests with the retry policy; shared by the token minting and the clients.
#[derive(Debug, Clone)]
pub(crate) struct Api {
    transport: Transport,
    policy: RetryPolicy,
    sleeper: Arc<dyn Sleeper>,
}

impl Api {
    /// An API over a new HTTP client for `config`.
    pub(crate) fn new(
        config: &GitHubConfig,
        sleeper: Arc<dyn Sleeper>,
    ) -> Result<Self, TransportError> {
        Ok(Self {
            transport: Transport::new(
                &config.api_url,
                config.connect_timeout,
                config.read_timeout,
            )?,
            policy: config.retry.clone(),
            sleeper,
        })
    }

    /// Like [`Api::call`], decoding the JSON answer into `T`.
    pub(crate) async fn call_json<B: Serialize + ?Sized, T: DeserializeOwned>(
        &self,
        method: Method,
        path_and_query: &str,
        bearer: &SecretString,
        body: Option<&B>,
        idempotency: Idempotency,
    ) -> Result<T, GitHubError> {
        let response = self
            .call(method.clone(), path_and_query, bearer, body, idempotency)
            .await?;
        decode(&method, path_and_query, &response)
    }

    /// Sends `method path_and_query` with `body`, retried as `idempotency` allows, and returns
    /// the successful (2xx) answer.
    pub(crate) async fn call<B: Serialize + ?Sized>(
        &self,
        method: Method,
        path_and_query: &str,
        bearer: &SecretString,
        body: Option<&B>,
        idempotency: Idempotency,
    ) -> Result<Response, GitHubError> {
        let path = path_and_query.split('?').next().unwrap_or_default();
        let what = format!("{method} {path}");
        let body = body
            .map(serde_json::to_value)
            .transpose()
            .map_err(|error| GitHubError::Other(format!("{what}: cannot encode body: {error}")))?;
        let retried = retry::run(&self.policy, self.sleeper.as_ref(), idempotency, || {
            self.transport
                .send(method.clone(), path_and_query, Some(bearer), body.as_ref())
        })
        .await;
        into_response(&what, retried).map_err(|error| redact(error, &[bearer.expose_secret()]))
    }
}

/// Decodes the JSON answer to `method path_and_query` into `T`.
pub(crate) fn decode<T: DeserializeOwned>(
    method: &Method,
    path_and_query: &str,
    response: &Response,
) -> Result<T, GitHubError> {
    serde_json::from_slice(&response.body).map_err(|error| {
        let path = path_and_query.split('?').next().unwrap_or_default();
        // Only the position and kind of the mismatch: serde may quote a value, and a value may
        // be a secret.
        GitHubError::Other(format!(
            "{method} {path}: unexpected answer (line {}, column {}, {:?})",
            error.line(),
            error.column(),
            error.classify()
        ))
    })
}
