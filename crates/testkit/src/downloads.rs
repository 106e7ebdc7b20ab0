//! Fixed files served from memory, with a count of downloads per URL.

use std::collections::BTreeMap;
use std::sync::Mutex;

use async_trait::async_trait;
use bytes::Bytes;
use sha2::{Digest, Sha256};
use valkey_bot_core::Sha256Digest;
use valkey_bot_core::download::{Digested, DownloadError, Downloads};

/// Serves files added with [`MemoryDownloads::insert`]; any other URL answers "not found".
#[derive(Default)]
pub struct MemoryDownloads {
    files: Mutex<BTreeMap<String, Bytes>>,
    fetched: Mutex<BTreeMap<String, usize>>,
}

impl MemoryDownloads {
    /// Serves `body` at `url`.
    pub fn insert(&self, url: &str, body: impl Into<Bytes>) {
        lock(&self.files).insert(url.to_owned(), body.into());
    }

    /// How many times `url` was downloaded.
    pub fn count(&self, url: &str) -> usize {
        lock(&self.fetched).get(url).copied().unwrap_or(0)
    }

    fn body(&self, url: &str) -> Result<Bytes, DownloadError> {
        *lock(&self.fetched).entry(url.to_owned()).or_default() += 1;
        lock(&self.files)
            .get(url)
            .cloned()
            .ok_or_else(|| DownloadError {
                url: url.to_owned(),
                reason: "HTTP 404 Not Found".into(),
                not_found: true,
            })
    }
}

/// SHA-256 of `bytes`, as the downloader reports it.
pub fn sha256(bytes: &[u8]) -> Sha256Digest {
    Sha256Digest::from_bytes(Sha256::digest(bytes).into())
}

#[async_trait]
impl Downloads for MemoryDownloads {
    async fn digest(&self, url: &str) -> Result<Digested, DownloadError> {
        let body = self.body(url)?;
        Ok(Digested {
            url: url.to_owned(),
            sha256: sha256(&body),
            bytes: body.len() as u64,
        })
    }

    async fn small_file(&self, url: &str, max_bytes: u64) -> Result<Bytes, DownloadError> {
        let body = self.body(url)?;
        if body.len() as u64 > max_bytes {
            return Err(DownloadError {
                url: url.to_owned(),
                reason: format!("larger than {max_bytes} bytes"),
                not_found: false,
            });
        }
        Ok(body)
    }
}

pub(crate) fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}
