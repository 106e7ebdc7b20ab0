//! `Fetcher`: policy-checked requests, manual redirects, streamed bodies, run-wide dedupe.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use bytes::{Bytes, BytesMut};
use futures::StreamExt;
use reqwest::header::{
    ACCEPT_ENCODING, CONTENT_LENGTH, ETAG, HeaderMap, HeaderValue, IF_MODIFIED_SINCE,
    IF_NONE_MATCH, LAST_MODIFIED, LOCATION,
};
use reqwest::{StatusCode, redirect};
use url::Url;

use crate::cache::{Cached, DiskCache};
use crate::error::{FetchError, redact};
use crate::hash::StreamHasher;
use crate::memo::Memo;
use crate::policy::FetchPolicy;
use crate::progress::{ProgressMode, Transfer};
use crate::retry::with_retries;
use valkey_bot_core::Sha256Digest;

/// Where a [`Digested`] came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// The body was downloaded and hashed in this run.
    Downloaded,
    /// The server answered 304 to the cached validators, so the cached digest stands.
    Revalidated,
}

/// The SHA-256 of a URL's body, and what the server said about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Digested {
    /// The URL asked for.
    pub url: Url,
    /// The URL that finally answered, after redirects (as requested in this run).
    pub final_url: Url,
    /// SHA-256 of the body.
    pub sha256: Sha256Digest,
    /// Body length in bytes.
    pub bytes: u64,
    /// The `ETag` header, if any.
    pub etag: Option<String>,
    /// The `Last-Modified` header, if any.
    pub last_modified: Option<String>,
    /// Whether the body was hashed now or a cached digest was revalidated.
    pub origin: Origin,
}

/// Counters over one `Fetcher`'s life (all its clones).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FetchStats {
    /// HTTP requests sent, redirect hops and retries included.
    pub requests: u64,
    /// Bodies whose download began (a retry that restarts a body counts again).
    pub downloads_started: u64,
    /// Body bytes received, over all attempts.
    pub bytes_downloaded: u64,
    /// Calls answered by a download or result another call of this run already owned.
    pub shared_hits: u64,
    /// Digests taken from the disk cache after a 304.
    pub cache_hits: u64,
}

#[derive(Default)]
struct Counters {
    requests: AtomicU64,
    downloads_started: AtomicU64,
    bytes_downloaded: AtomicU64,
    shared_hits: AtomicU64,
    cache_hits: AtomicU64,
}

impl Counters {
    fn bump(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }
}

/// Builds a [`Fetcher`] with optional cache directory and progress mode.
#[derive(Debug, Clone)]
pub struct FetcherBuilder {
    policy: FetchPolicy,
    cache_dir: Option<PathBuf>,
    progress: ProgressMode,
}

impl FetcherBuilder {
    /// Keeps digests in `dir` (created on first write) for revalidation in later runs.
    pub fn cache_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.cache_dir = Some(dir.into());
        self
    }

    /// Sets how downloads report progress (default [`ProgressMode::Auto`]).
    pub fn progress(mut self, mode: ProgressMode) -> Self {
        self.progress = mode;
        self
    }

    /// Builds the HTTP client and the fetcher.
    pub fn build(self) -> Result<Fetcher, FetchError> {
        // Bodies are hashed exactly as stored: ask servers not to compress them on the fly.
        let mut headers = HeaderMap::new();
        headers.insert(ACCEPT_ENCODING, HeaderValue::from_static("identity"));
        let client = reqwest::Client::builder()
            .default_headers(headers)
            .redirect(redirect::Policy::none())
            .connect_timeout(self.policy.connect_timeout)
            .read_timeout(self.policy.read_timeout)
            .user_agent(concat!("valkey-bot-fetch/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| FetchError::Client {
                message: e.to_string(),
            })?;
        Ok(Fetcher {
            inner: Arc::new(Inner {
                client,
                policy: self.policy,
                cache: self.cache_dir.map(DiskCache::new),
                progress: self.progress.resolve(),
                bars: indicatif::MultiProgress::new(),
                digests: Memo::new(),
                bodies: Memo::new(),
                counters: Counters::default(),
            }),
        })
    }
}

/// Downloads release files under a [`FetchPolicy`], each URL at most once per `Fetcher`.
/// Cloning is cheap and clones share everything (client, results, counters).
#[derive(Clone)]
pub struct Fetcher {
    inner: Arc<Inner>,
}

struct Inner {
    client: reqwest::Client,
    policy: FetchPolicy,
    cache: Option<DiskCache>,
    progress: ProgressMode,
    bars: indicatif::MultiProgress,
    digests: Memo<Url, Result<Digested, FetchError>>,
    bodies: Memo<(Url, u64), Result<Bytes, FetchError>>,
    counters: Counters,
}

/// A response to a GET that passed the policy at every hop.
struct Landed {
    url: Url,
    response: reqwest::Response,
}

impl std::fmt::Debug for Fetcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Fetcher")
            .field("policy", &self.inner.policy)
            .field("stats", &self.stats())
            .finish_non_exhaustive()
    }
}

impl Fetcher {
    /// A builder for a fetcher under `policy`, with no cache and [`ProgressMode::Auto`].
    pub fn builder(policy: FetchPolicy) -> FetcherBuilder {
        FetcherBuilder {
            policy,
            cache_dir: None,
            progress: ProgressMode::Auto,
        }
    }

    /// A fetcher under `policy` with no cache and automatic progress.
    pub fn new(policy: FetchPolicy) -> Result<Self, FetchError> {
        Self::builder(policy).build()
    }

    /// The policy in force.
    pub fn policy(&self) -> &FetchPolicy {
        &self.inner.policy
    }

    /// The counters so far.
    pub fn stats(&self) -> FetchStats {
        let c = &self.inner.counters;
        FetchStats {
            requests: c.requests.load(Ordering::Relaxed),
            downloads_started: c.downloads_started.load(Ordering::Relaxed),
            bytes_downloaded: c.bytes_downloaded.load(Ordering::Relaxed),
            shared_hits: c.shared_hits.load(Ordering::Relaxed),
            cache_hits: c.cache_hits.load(Ordering::Relaxed),
        }
    }

    /// The SHA-256 of `url`'s body, hashed while it streams (memory stays flat, nothing is
    /// written to disk). Concurrent and later calls for the same URL share one result, errors
    /// included. With a cache directory, a cached digest is used only after the server answers
    /// 304 to its `ETag`/`Last-Modified`.
    pub async fn digest(&self, url: &Url) -> Result<Digested, FetchError> {
        let (result, computed) = self
            .inner
            .digests
            .get_or_compute(url.clone(), || self.digest_uncached(url))
            .await;
        if !computed {
            Counters::bump(&self.inner.counters.shared_hits, 1);
        }
        result
    }

    /// The body of a small file (e.g. a `.sha256`), at most `max_bytes`. Shared per run like
    /// [`digest`](Self::digest); never cached on disk.
    pub async fn bytes(&self, url: &Url, max_bytes: u64) -> Result<Bytes, FetchError> {
        let (result, computed) = self
            .inner
            .bodies
            .get_or_compute((url.clone(), max_bytes), || {
                with_retries(self.inner.policy.retries, self.inner.policy.backoff, || {
                    self.body_once(url, max_bytes)
                })
            })
            .await;
        if !computed {
            Counters::bump(&self.inner.counters.shared_hits, 1);
        }
        result
    }

    /// [`bytes`](Self::bytes) as UTF-8 text.
    pub async fn text(&self, url: &Url, max_bytes: u64) -> Result<String, FetchError> {
        let body = self.bytes(url, max_bytes).await?;
        String::from_utf8(body.to_vec()).map_err(|_| FetchError::NotUtf8 { url: redact(url) })
    }

    async fn digest_uncached(&self, url: &Url) -> Result<Digested, FetchError> {
        let cached = match &self.inner.cache {
            Some(cache) => cache.load(url).await,
            None => None,
        };
        let policy = &self.inner.policy;
        let digested = with_retries(policy.retries, policy.backoff, || {
            self.digest_once(url, cached.as_ref())
        })
        .await?;
        if let (Some(cache), Origin::Downloaded) = (&self.inner.cache, digested.origin) {
            let entry = Cached {
                sha256: digested.sha256,
                bytes: digested.bytes,
                etag: digested.etag.clone(),
                last_modified: digested.last_modified.clone(),
            };
            cache.store(url, &entry).await;
        }
        Ok(digested)
    }

    /// One attempt: request (conditionally if `cached`), then hash the body from byte 0.
    async fn digest_once(
        &self,
        url: &Url,
        cached: Option<&Cached>,
    ) -> Result<Digested, FetchError> {
        let mut conditions = HeaderMap::new();
        if let Some(c) = cached {
            if let Some(v) = c.etag.as_deref().and_then(|v| v.parse().ok()) {
                conditions.insert(IF_NONE_MATCH, v);
            }
            if let Some(v) = c.last_modified.as_deref().and_then(|v| v.parse().ok()) {
                conditions.insert(IF_MODIFIED_SINCE, v);
            }
        }
        let landed = self.get(url, conditions).await?;
        let status = landed.response.status();
        let final_url = landed.url.clone();
        let headers = landed.response.headers();
        let etag = header_text(headers, ETAG);
        let last_modified = header_text(headers, LAST_MODIFIED);
        if let (StatusCode::NOT_MODIFIED, Some(c)) = (status, cached) {
            Counters::bump(&self.inner.counters.cache_hits, 1);
            tracing::info!(url = %redact(url), sha256 = %c.sha256, "not modified; cached digest revalidated");
            return Ok(Digested {
                url: url.clone(),
                final_url,
                sha256: c.sha256,
                bytes: c.bytes,
                etag: etag.or_else(|| c.etag.clone()),
                last_modified: last_modified.or_else(|| c.last_modified.clone()),
                origin: Origin::Revalidated,
            });
        }
        let mut hasher = StreamHasher::new();
        self.stream(landed, self.inner.policy.max_bytes, |chunk| {
            hasher.update(chunk)
        })
        .await?;
        let (sha256, bytes) = hasher.finish();
        Ok(Digested {
            url: url.clone(),
            final_url,
            sha256,
            bytes,
            etag,
            last_modified,
            origin: Origin::Downloaded,
        })
    }

    async fn body_once(&self, url: &Url, max_bytes: u64) -> Result<Bytes, FetchError> {
        let landed = self.get(url, HeaderMap::new()).await?;
        let mut body = BytesMut::new();
        self.stream(landed, max_bytes, |chunk| body.extend_from_slice(chunk))
            .await?;
        Ok(body.freeze())
    }

    /// GETs `url`, following up to `max_redirects` redirects by hand, each hop checked against
    /// the policy before it is contacted. `conditions` are sent on every hop.
    async fn get(&self, url: &Url, conditions: HeaderMap) -> Result<Landed, FetchError> {
        let policy = &self.inner.policy;
        let mut current = url.clone();
        for _ in 0..=policy.max_redirects {
            policy.check(&current)?;
            Counters::bump(&self.inner.counters.requests, 1);
            let response = self
                .inner
                .client
                .get(current.clone())
                .headers(conditions.clone())
                .send()
                .await
                .map_err(|e| FetchError::from_reqwest(&current, e))?;
            let status = response.status();
            if status.is_redirection() && status != StatusCode::NOT_MODIFIED {
                let next = redirect_target(&current, response.headers())?;
                tracing::debug!(from = %redact(&current), to = %redact(&next), status = status.as_u16(), "redirect");
                current = next;
                continue;
            }
            if !(status.is_success() || status == StatusCode::NOT_MODIFIED) {
                return Err(FetchError::Status {
                    url: redact(&current),
                    code: status.as_u16(),
                });
            }
            return Ok(Landed {
                url: current,
                response,
            });
        }
        Err(FetchError::TooManyRedirects {
            url: redact(url),
            limit: policy.max_redirects,
        })
    }

    /// Feeds the body to `sink` chunk by chunk, enforcing `limit` and the declared length.
    async fn stream(
        &self,
        landed: Landed,
        limit: u64,
        mut sink: impl FnMut(&[u8]),
    ) -> Result<u64, FetchError> {
        let Landed { url, response } = landed;
        if response.status() == StatusCode::NOT_MODIFIED {
            // A 304 without a cache entry we asked about: not a body.
            return Err(FetchError::Status {
                url: redact(&url),
                code: StatusCode::NOT_MODIFIED.as_u16(),
            });
        }
        let declared = header_text(response.headers(), CONTENT_LENGTH)
            .and_then(|v| v.trim().parse::<u64>().ok());
        let too_large = || FetchError::TooLarge {
            url: redact(&url),
            limit,
        };
        if declared.is_some_and(|n| n > limit) {
            return Err(too_large());
        }
        let counters = &self.inner.counters;
        Counters::bump(&counters.downloads_started, 1);
        let transfer = Transfer::start(
            self.inner.progress,
            &self.inner.bars,
            redact(&url),
            declared,
        );
        let mut got = 0u64;
        let truncated = |got| {
            declared
                .filter(|&expected| got < expected)
                .map(|expected| FetchError::Truncated {
                    url: redact(&url),
                    expected,
                    got,
                })
        };
        let mut chunks = response.bytes_stream();
        while let Some(chunk) = chunks.next().await {
            let chunk = match chunk {
                Ok(chunk) => chunk,
                Err(e) if e.is_timeout() => return Err(FetchError::from_reqwest(&url, e)),
                Err(e) => {
                    return Err(truncated(got).unwrap_or_else(|| FetchError::from_reqwest(&url, e)));
                }
            };
            let n = chunk.len() as u64;
            got += n;
            Counters::bump(&counters.bytes_downloaded, n);
            if got > limit {
                return Err(too_large());
            }
            sink(&chunk);
            transfer.advance(n);
        }
        if let Some(err) = truncated(got) {
            return Err(err);
        }
        transfer.finish(got);
        Ok(got)
    }
}

fn header_text(headers: &HeaderMap, name: reqwest::header::HeaderName) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

fn redirect_target(from: &Url, headers: &HeaderMap) -> Result<Url, FetchError> {
    let bad = |reason: String| FetchError::InvalidUrl {
        url: redact(from),
        reason,
    };
    let location = headers
        .get(LOCATION)
        .ok_or_else(|| bad("redirect without Location".into()))?
        .to_str()
        .map_err(|_| bad("Location is not text".into()))?;
    from.join(location)
        .map_err(|e| bad(format!("bad Location: {e}")))
}
