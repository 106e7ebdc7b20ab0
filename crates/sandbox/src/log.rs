//! The request log: one entry per request answered (or dropped), without token values.

use std::sync::{Arc, Mutex};
use std::time::Instant;

use serde::{Deserialize, Serialize};

/// One request as the sandbox saw it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoggedRequest {
    /// HTTP method.
    pub method: String,
    /// Path, without the query string.
    pub path: String,
    /// The query string, if any.
    pub query: Option<String>,
    /// The status answered; `None` when the connection was dropped or stalled.
    pub status: Option<u16>,
    /// `app-jwt`, `installation:<id>`, `public` (no token, an App configured), `anonymous` or
    /// `bearer` (no App configured).
    pub scope: String,
    /// When it arrived, in milliseconds since the sandbox started.
    pub started_ms: u64,
    /// Time from arrival to the response head, in milliseconds.
    pub duration_ms: u64,
    /// Body bytes of the response (its declared length).
    pub response_bytes: u64,
}

/// The shared, append-only log.
#[derive(Debug, Clone)]
pub(crate) struct RequestLog {
    entries: Arc<Mutex<Vec<LoggedRequest>>>,
    /// When the sandbox started: offsets in the log count from here.
    epoch: Instant,
}

impl Default for RequestLog {
    fn default() -> Self {
        Self {
            entries: Arc::default(),
            epoch: Instant::now(),
        }
    }
}

impl RequestLog {
    /// Milliseconds from the sandbox's start to `at`.
    pub(crate) fn offset_ms(&self, at: Instant) -> u64 {
        u64::try_from(at.saturating_duration_since(self.epoch).as_millis()).unwrap_or(u64::MAX)
    }

    /// Appends `entry`.
    pub(crate) fn push(&self, entry: LoggedRequest) {
        self.lock().push(entry);
    }

    /// A copy of every entry so far.
    pub(crate) fn entries(&self) -> Vec<LoggedRequest> {
        self.lock().clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<LoggedRequest>> {
        self.entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}
