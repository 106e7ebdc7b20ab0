//! One API call as the rest of the crate sees it: send with the retry policy, map failures to
//! [`GitHubError`] with secrets removed, decode the JSON answer.

use std::sync::Arc;

use http::Method;
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;
use serde::de::DeserializeOwned;
use valkey_bot_core::github::GitHubError;

use crate::cache::{Kept, ResponseCache, is_immutable};
use crate::config::GitHubConfig;
use crate::error::{into_response, redact};
use crate::observe::{Exchange, ExchangeObserver};
use crate::quota::{Quota, QuotaMeter};
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
    /// GET answers kept for conditional requests.
    cache: Arc<ResponseCache>,
    /// What has been spent of the rate limit.
    quota: Arc<QuotaMeter>,
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
            cache: Arc::new(ResponseCache::new(config.cache_dir.as_deref())),
            quota: Arc::default(),
            observer,
        })
    }

    /// The rate limit as GitHub last announced it, and this connection's requests.
    pub(crate) fn quota(&self) -> Quota {
        self.quota.snapshot()
    }

    /// Like [`Api::call`], decoding the JSON answer into `T`.
    pub(crate) async fn call_json<B: Serialize + ?Sized, T: DeserializeOwned>(
        &self,
        method: Method,
        path_and_query: &str,
        bearer: Option<&SecretString>,
        body: Option<&B>,
        idempotency: Idempotency,
    ) -> Result<T, GitHubError> {
        let response = self
            .call(method.clone(), path_and_query, bearer, body, idempotency)
            .await?;
        decode(&method, path_and_query, &response)
    }

    /// Sends `method path_and_query` with `body`, retried as `idempotency` allows, and returns
    /// the successful (2xx) answer. A GET is conditional when an answer to it is kept
    /// (`cache.rs`): a 304 is answered with the kept body, and an immutable object is not asked
    /// for at all.
    pub(crate) async fn call<B: Serialize + ?Sized>(
        &self,
        method: Method,
        path_and_query: &str,
        bearer: Option<&SecretString>,
        body: Option<&B>,
        idempotency: Idempotency,
    ) -> Result<Response, GitHubError> {
        let path = path_and_query.split('?').next().unwrap_or_default();
        let what = format!("{method} {path}");
        let body = body
            .map(serde_json::to_value)
            .transpose()
            .map_err(|error| GitHubError::Other(format!("{what}: cannot encode body: {error}")))?;
        let secrets: Vec<&str> = bearer.iter().map(|token| token.expose_secret()).collect();
        let mut target = path_and_query.to_owned();
        for _ in 0..=MAX_REDIRECTS {
            let url = format!("{}{target}", self.api_url);
            let kept = match method {
                Method::GET => self.cache.load(&url).await,
                _ => None,
            };
            if let Some(kept) = kept.as_ref().filter(|_| is_immutable(&target)) {
                self.quota.served_from_cache();
                return Ok(kept_response(kept, http::HeaderMap::new()));
            }
            let etag = kept.as_ref().map(|kept| kept.etag.as_str());
            let retried = retry::run(&self.policy, self.sleeper.as_ref(), idempotency, || {
                self.transport
                    .send(method.clone(), &target, bearer, body.as_ref(), etag)
            })
            .await;
            if let Ok(response) = &retried.outcome {
                self.quota.answered(response);
            }
            match (&retried.outcome, &kept) {
                // A renamed or moved repository: 301 (307 for writes) to its new address.
                (Ok(response), _) if is_followed(response.status) => {
                    target = self.redirect_target(&what, &response.headers)?;
                    tracing::info!(request = %what, to = %target.split('?').next().unwrap_or_default(), "following GitHub's redirect");
                }
                (Ok(response), Some(kept)) if response.status == http::StatusCode::NOT_MODIFIED => {
                    return Ok(kept_response(kept, response.headers.clone()));
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
                    let response =
                        into_response(&what, retried).map_err(|error| redact(error, &secrets))?;
                    if method == Method::GET {
                        self.keep(url, &response).await;
                    }
                    return Ok(response);
                }
            }
        }
        Err(GitHubError::Other(format!(
            "{what}: more than {MAX_REDIRECTS} redirects"
        )))
    }

    /// Keeps a 200 answer that carries an `ETag` (and a UTF-8 body) for the next GET of `url`.
    async fn keep(&self, url: String, response: &Response) {
        let header = |name: http::header::HeaderName| {
            response
                .headers
                .get(name)
                .and_then(|value| value.to_str().ok())
                .map(str::to_owned)
        };
        if response.status != http::StatusCode::OK {
            return;
        }
        let (Some(etag), Ok(body)) = (
            header(http::header::ETAG),
            std::str::from_utf8(&response.body),
        ) else {
            return;
        };
        self.cache
            .store(Kept {
                url,
                etag,
                link: header(http::header::LINK),
                body: body.to_owned(),
            })
            .await;
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

/// A kept answer as a 200, with `headers` (those of the 304, or none) and its `Link`.
fn kept_response(kept: &Kept, mut headers: http::HeaderMap) -> Response {
    if let Some(link) = kept
        .link
        .as_deref()
        .and_then(|link| http::HeaderValue::from_str(link).ok())
    {
        headers.insert(http::header::LINK, link);
    }
    Response {
        status: http::StatusCode::OK,
        headers,
        body: bytes::Bytes::from(kept.body.clone()),
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
