//! The on-disk digest cache: one JSON file per URL, only ever used after revalidation.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use url::Url;

use crate::error::redact;
use crate::hash::StreamHasher;
use valkey_bot_core::Sha256Digest;

/// What a cache file holds. `url` is redacted, for people reading the file; the file name is
/// the SHA-256 of the full URL.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CacheEntry {
    pub(crate) url: String,
    pub(crate) sha256: String,
    pub(crate) bytes: u64,
    pub(crate) etag: Option<String>,
    pub(crate) last_modified: Option<String>,
}

/// A usable cache entry: parsed digest and at least one validator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Cached {
    pub(crate) sha256: Sha256Digest,
    pub(crate) bytes: u64,
    pub(crate) etag: Option<String>,
    pub(crate) last_modified: Option<String>,
}

/// A directory of cache files.
#[derive(Debug, Clone)]
pub(crate) struct DiskCache {
    dir: PathBuf,
}

impl DiskCache {
    pub(crate) fn new(dir: PathBuf) -> Self {
        Self { dir }
    }

    /// The file that holds `url`'s entry.
    pub(crate) fn path_for(dir: &Path, url: &Url) -> PathBuf {
        let mut hasher = StreamHasher::new();
        hasher.update(url.as_str().as_bytes());
        dir.join(format!("{}.json", hasher.finish().0))
    }

    /// The entry for `url`, if there is one with a validator. A missing file is silent; an
    /// unreadable or corrupt one is warned about and ignored.
    pub(crate) async fn load(&self, url: &Url) -> Option<Cached> {
        let path = Self::path_for(&self.dir, url);
        let text = match tokio::fs::read(&path).await {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return None,
            Err(e) => {
                tracing::warn!(path = %path.display(), error = %e, "cannot read cache entry, ignoring it");
                return None;
            }
        };
        let entry: CacheEntry = match serde_json::from_slice(&text) {
            Ok(entry) => entry,
            Err(e) => {
                tracing::warn!(path = %path.display(), error = %e, "corrupt cache entry, ignoring it");
                return None;
            }
        };
        let sha256 = match entry.sha256.parse() {
            Ok(d) => d,
            Err(e) => {
                tracing::warn!(path = %path.display(), error = %e, "corrupt cache entry, ignoring it");
                return None;
            }
        };
        if entry.etag.is_none() && entry.last_modified.is_none() {
            return None;
        }
        Some(Cached {
            sha256,
            bytes: entry.bytes,
            etag: entry.etag,
            last_modified: entry.last_modified,
        })
    }

    /// Writes (or replaces) `url`'s entry atomically. An answer without a validator removes
    /// any older entry instead, as it could never be revalidated. Failures are warned about:
    /// the cache only saves work, it is never needed.
    pub(crate) async fn store(&self, url: &Url, cached: &Cached) {
        let path = Self::path_for(&self.dir, url);
        if cached.etag.is_none() && cached.last_modified.is_none() {
            match tokio::fs::remove_file(&path).await {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                    tracing::warn!(path = %path.display(), error = %e, "cannot remove stale cache entry");
                }
                _ => {}
            }
            return;
        }
        let entry = CacheEntry {
            url: redact(url),
            sha256: cached.sha256.to_string(),
            bytes: cached.bytes,
            etag: cached.etag.clone(),
            last_modified: cached.last_modified.clone(),
        };
        if let Err(e) = self.write_atomically(&path, &entry).await {
            tracing::warn!(path = %path.display(), error = %e, "cannot write cache entry");
        }
    }

    async fn write_atomically(&self, path: &Path, entry: &CacheEntry) -> std::io::Result<()> {
        let mut json = serde_json::to_vec_pretty(entry)?;
        json.push(b'\n');
        tokio::fs::create_dir_all(&self.dir).await?;
        let tmp = path.with_extension(format!("json.tmp.{}", std::process::id()));
        tokio::fs::write(&tmp, &json).await?;
        tokio::fs::rename(&tmp, path).await
    }
}
