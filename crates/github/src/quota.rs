//! What this connection has spent of GitHub's primary rate limit: the last `x-ratelimit-*`
//! headers seen, and how many requests were answered in full, by a 304 or from the cache alone.

use std::sync::{Mutex, PoisonError};

use crate::retry::header_u64;
use crate::transport::Response;

/// A snapshot of the quota and of this connection's requests.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Quota {
    /// The hourly limit GitHub last announced (`x-ratelimit-limit`: 60 anonymously, 5000 or
    /// more with a token), if any answer carried it.
    pub limit: Option<u64>,
    /// Requests left in the current window (`x-ratelimit-remaining`).
    pub remaining: Option<u64>,
    /// When the window resets, in seconds since the Unix epoch (`x-ratelimit-reset`).
    pub reset: Option<u64>,
    /// Requests sent that GitHub answered (any status).
    pub sent: u64,
    /// Of those, conditional ones answered `304 Not Modified` from the kept body.
    pub not_modified: u64,
    /// Reads answered from the cache without a request (immutable objects).
    pub from_cache: u64,
}

/// Collects the [`Quota`] as answers arrive.
#[derive(Debug, Default)]
pub(crate) struct QuotaMeter(Mutex<Quota>);

impl QuotaMeter {
    /// Records an answer from GitHub.
    pub(crate) fn answered(&self, response: &Response) {
        let header = |name: &str| header_u64(response, name);
        let mut quota = self.lock();
        quota.sent += 1;
        if response.status == http::StatusCode::NOT_MODIFIED {
            quota.not_modified += 1;
        }
        if let Some(remaining) = header("x-ratelimit-remaining") {
            quota.remaining = Some(remaining);
            quota.limit = header("x-ratelimit-limit").or(quota.limit);
            quota.reset = header("x-ratelimit-reset").or(quota.reset);
        }
    }

    /// Records a read answered from the cache alone.
    pub(crate) fn served_from_cache(&self) {
        self.lock().from_cache += 1;
    }

    /// The quota now.
    pub(crate) fn snapshot(&self) -> Quota {
        *self.lock()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Quota> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}
