//! What tasks may ask of the shared downloader: a file's digest, or a small file's bytes. Each URL
//! is fetched at most once per run, whichever tasks ask; the implementation lives in `valkey-bot-fetch`.

use async_trait::async_trait;
use bytes::Bytes;

use crate::digest::Sha256Digest;

/// A downloaded file's digest and size.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Digested {
    /// The URL as asked for.
    pub url: String,
    /// SHA-256 of the body.
    pub sha256: Sha256Digest,
    /// Length of the body in bytes.
    pub bytes: u64,
}

/// Why a download failed. The message names the URL (without credentials) and the cause.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("download of {url} failed: {reason}")]
pub struct DownloadError {
    /// The URL, credentials removed.
    pub url: String,
    /// What went wrong.
    pub reason: String,
    /// Whether the server answered that the file does not exist (404 / 410).
    pub not_found: bool,
}

/// The downloads a task may ask for.
#[async_trait]
pub trait Downloads: Send + Sync {
    /// Streams `url` and returns its SHA-256 and size.
    async fn digest(&self, url: &str) -> Result<Digested, DownloadError>;
    /// Returns the body of a small file, refused above `max_bytes`.
    async fn small_file(&self, url: &str, max_bytes: u64) -> Result<Bytes, DownloadError>;
}
