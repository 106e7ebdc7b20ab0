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
use crate::observe::{Exchange, ExchangeObserver};
use crate::retry::{self, Idempotency, RetryPolicy, Sleeper};
use crate::transport::{Response, Transport, TransportError};

/// Sends requests with the retry policy; shared by the token minting and the clients.
#[derive(Debug, Clone)]
pub(crate) struct Api {
    transport: Transport,
    policy: RetryPolicy,
    sleeper: Arc<dyn Sleeper>,
    /// The API base (`https://api.github.com`): the only place redirects are followed to.
    api_url: String,
    /// Sees every answered exchange (the smoke check).
    observer: Option<Arc<dyn ExchangeObserver>>,
}

/// Most redirects followed for one call (a renamed repository answers one).
const MAX_REDIRECTS: usize = 3;

impl Api {
    /// An API over a new HTTP client for `config`.
    pub(crate) fn new(
        config: &GitHubConfig,
        sleeper: Arc<dyn Sleeper>,
        observer: Option<Arc<dyn ExchangeObserver>>,
    ) -> Result<Self, TransportError> {
        Ok(Self {
            transport: Transport::new(
                &config.api_url,
                config.connect_timeout,
                config.read_timeout,
            )?,
            policy: config.retry.clone(),
            sleeper,
            api_url: config.api_url.trim_end_matches('/').to_owned(),
            observer,
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
        let mut target = path_and_query.to_owned();
        for _ in 0..=MAX_REDIRECTS {
            let retried = retry::run(&self.policy, self.sleeper.as_ref(), idempotency, || {
                self.transport
                    .send(method.clone(), &target, Some(bearer), body.as_ref())
            })
            .await;
            match &retried.outcome {
                // A renamed or moved repository: 301 (307 for writes) to its new address.
                Ok(response) if is_followed(response.status) => {
                    target = self.redirect_target(&what, &response.headers)?;
                    tracing::info!(request = %what, to = %target.split('?').next().unwrap_or_default(), "following GitHub's redirect");
                }
                _ => {
                    if let (Some(observer), Ok(response)) = (&self.observer, &retried.outcome) {
                        observer.observe(&Exchange {
                            method: method.as_str(),
                            path: target.split('?').next().unwrap_or_default(),
                            request_body: body.as_ref(),
                            status: response.status.as_u16(),
                            content_type: response
                                .headers
                                .get(http::header::CONTENT_TYPE)
                                .and_then(|value| value.to_str().ok()),
                            body: &response.body,
                        });
                    }
                    return into_response(&what, retried)
                        .map_err(|error| redact(error, &[bearer.expose_secret()]));
                }
            }
        }
        Err(GitHubError::Other(format!(
            "{what}: more than {MAX_REDIRECTS} redirects"
        )))
    }

    /// The path (under the API base) a redirect's `Location` names. A location anywhere else is
    /// refused: the request carries the token, which goes to the API's own host only.
    fn redirect_target(
        &self,
        what: &str,
        headers: &http::HeaderMap,
    ) -> Result<String, GitHubError> {
        let location = headers
            .get(http::header::LOCATION)
            .and_then(|value| value.to_str().ok())
            .ok_or_else(|| GitHubError::Other(format!("{what}: a redirect without a Location")))?;
        let relative = location.starts_with('/') && !location.starts_with("//");
        let path = if relative {
            let base_path = self
                .api_url
                .splitn(4, '/')
                .nth(3)
                .map(|path| format!("/{path}"))
                .unwrap_or_default();
            location.strip_prefix(&base_path).map(str::to_owned)
        } else {
            location.strip_prefix(&self.api_url).map(str::to_owned)
        };
        path.filter(|path| path.starts_with('/')).ok_or_else(|| {
            let shown = location.split('?').next().unwrap_or_default();
            GitHubError::Other(format!(
                "{what}: redirected outside {} (to {shown}); not followed, so the token is not sent there",
                self.api_url
            ))
        })
    }
}

/// The redirects GitHub's API answers for a moved resource (the method and body are kept).
fn is_followed(status: http::StatusCode) -> bool {
    matches!(status.as_u16(), 301 | 302 | 307 | 308)
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
