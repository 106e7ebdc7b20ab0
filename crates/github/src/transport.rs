//! One HTTP exchange with the GitHub API through octocrab's raw calls (octocrab's own retry is not
//! compiled in). Knows nothing of retries or of what a status means; it only tells a request that
//! never left this machine ([`SendError::NotSent`]) from one whose fate is unknown
//! ([`SendError::Lost`]).

use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use http_body_util::BodyExt;
use octocrab::Octocrab;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use secrecy::{ExposeSecret, SecretString};

/// A complete answer from GitHub (any status).
#[derive(Debug, Clone)]
pub(crate) struct Response {
    /// The HTTP status.
    pub status: StatusCode,
    /// The response headers (rate limits, `retry-after`).
    pub headers: HeaderMap,
    /// The whole body.
    pub body: Bytes,
}

/// Why no answer came back.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum SendError {
    /// The connection could not be made: the request was certainly not sent.
    #[error("could not connect: {0}")]
    NotSent(String),
    /// The request may have been sent (read timeout, connection dropped, broken body).
    #[error("no complete answer: {0}")]
    Lost(String),
}

/// Why the HTTP client could not be built.
#[derive(Debug, thiserror::Error)]
#[error("cannot set up the GitHub HTTP client for {api_url}: {reason}")]
pub struct TransportError {
    api_url: String,
    reason: String,
}

/// The shared HTTP client: octocrab without authentication; every request carries its own
/// `Authorization` header so one connection pool serves every token.
#[derive(Clone)]
pub(crate) struct Transport {
    octocrab: Octocrab,
}

impl std::fmt::Debug for Transport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Transport")
    }
}

impl Transport {
    /// Builds the client for `api_url` with its timeouts (reads and writes share `read_timeout`).
    /// Takes the values, not the configuration, so that the transport depends on nothing above it.
    pub(crate) fn new(
        api_url: &str,
        connect_timeout: Duration,
        read_timeout: Duration,
    ) -> Result<Self, TransportError> {
        let failed = |reason: String| TransportError {
            api_url: api_url.to_owned(),
            reason,
        };
        let octocrab = Octocrab::builder()
            .base_uri(api_url)
            .map_err(|error| failed(error_chain(&error)))?
            .add_header(header::ACCEPT, "application/vnd.github+json".to_owned())
            .set_connect_timeout(Some(connect_timeout))
            .set_read_timeout(Some(read_timeout))
            .set_write_timeout(Some(read_timeout))
            .build()
            .map_err(|error| failed(error_chain(&error)))?;
        Ok(Self { octocrab })
    }

    /// Sends one request. `path_and_query` starts with `/` and is relative to the API base;
    /// `if_none_match` makes it conditional (an ETag GitHub sent before).
    pub(crate) async fn send(
        &self,
        method: Method,
        path_and_query: &str,
        bearer: Option<&SecretString>,
        body: Option<&serde_json::Value>,
        if_none_match: Option<&str>,
    ) -> Result<Response, SendError> {
        let mut builder = http::Request::builder().method(method).uri(path_and_query);
        if let Some(etag) = if_none_match.and_then(|etag| HeaderValue::from_str(etag).ok()) {
            builder = builder.header(header::IF_NONE_MATCH, etag);
        }
        if let Some(token) = bearer {
            let mut value = HeaderValue::try_from(format!("Bearer {}", token.expose_secret()))
                .map_err(|_| SendError::NotSent("the token is not a valid header value".into()))?;
            value.set_sensitive(true);
            builder = builder.header(header::AUTHORIZATION, value);
        }
        let request = self
            .octocrab
            .build_request(builder, body)
            .map_err(|error| SendError::NotSent(error_chain(&error)))?;
        let response = self
            .octocrab
            .execute(request)
            .await
            .map_err(|error| classify(&error))?;
        let (parts, body) = response.into_parts();
        let body = body
            .collect()
            .await
            .map_err(|error| SendError::Lost(error_chain(&error)))?
            .to_bytes();
        Ok(Response {
            status: parts.status,
            headers: parts.headers,
            body,
        })
    }
}

/// Sorts a failed exchange: a connect error means nothing was sent.
fn classify(error: &(dyn std::error::Error + 'static)) -> SendError {
    let mut current: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(cause) = current {
        if let Some(client) = cause.downcast_ref::<hyper_util::client::legacy::Error>() {
            if client.is_connect() {
                return SendError::NotSent(error_chain(error));
            }
        }
        current = cause.source();
    }
    SendError::Lost(error_chain(error))
}

/// `error: cause: cause`, every level of an error's chain (never contains headers).
fn error_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut current = error.source();
    while let Some(cause) = current {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        current = cause.source();
    }
    text
}

/// Characters kept as they are in a URL path: unreserved ones and `/`.
const PATH: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~')
    .remove(b'/');

/// Characters kept as they are in a query value: unreserved ones only.
const QUERY: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Percent-encodes a path (a file path or branch name) keeping its `/` separators.
pub(crate) fn encode_path(path: &str) -> String {
    utf8_percent_encode(path, PATH).to_string()
}

/// Percent-encodes a query parameter value.
pub(crate) fn encode_query(value: &str) -> String {
    utf8_percent_encode(value, QUERY).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_keep_slashes_and_escape_the_rest() {
        assert_eq!(
            encode_path("9.1/debian/Docker file#1"),
            "9.1/debian/Docker%20file%231"
        );
        assert_eq!(encode_query("valkey-io:bot/x y"), "valkey-io%3Abot%2Fx%20y");
    }
}
