//! The fetcher as core's [`Downloads`]: what tasks see of it.

use async_trait::async_trait;
use bytes::Bytes;
use url::Url;
use valkey_bot_core::download::{self, DownloadError, Downloads};

use crate::error::{FetchError, redact};
use crate::fetcher::Fetcher;

fn parse(url: &str) -> Result<Url, DownloadError> {
    Url::parse(url).map_err(|e| DownloadError {
        url: url.split(['?', '#']).next().unwrap_or_default().to_owned(),
        reason: format!("not a URL: {e}"),
        not_found: false,
    })
}

fn convert(url: &Url, error: FetchError) -> DownloadError {
    DownloadError {
        url: redact(url),
        not_found: matches!(
            error,
            FetchError::Status {
                code: 404 | 410,
                ..
            }
        ),
        reason: error.to_string(),
    }
}

#[async_trait]
impl Downloads for Fetcher {
    async fn digest(&self, url: &str) -> Result<download::Digested, DownloadError> {
        let parsed = parse(url)?;
        let digested = Fetcher::digest(self, &parsed)
            .await
            .map_err(|e| convert(&parsed, e))?;
        Ok(download::Digested {
            url: url.to_owned(),
            sha256: digested.sha256,
            bytes: digested.bytes,
        })
    }

    async fn small_file(&self, url: &str, max_bytes: u64) -> Result<Bytes, DownloadError> {
        let parsed = parse(url)?;
        self.bytes(&parsed, max_bytes)
            .await
            .map_err(|e| convert(&parsed, e))
    }
}
