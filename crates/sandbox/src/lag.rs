//! Read-after-write lag (the `lag` fault): for a while after a write, reads of what it changed
//! answer the state before it, as GitHub's replicas briefly do. A lagged ref answers its
//! previous target (404 if the write created it), a new commit, tree or blob answers 404, and a
//! repository's pull-request list answers the list from before a new pull request. Writes always
//! see the true state.

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::extract::FromRequestParts;
use axum::http::request::Parts;

use crate::state::RepoState;

/// How long the reads of what a request writes lag behind it; set by the pipeline from a
/// matching `lag` fault, `None` for an ordinary request.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct LagAfter(pub(crate) Option<Duration>);

impl<S: Send + Sync> FromRequestParts<S> for LagAfter {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Infallible> {
        Ok(parts.extensions.get::<Self>().copied().unwrap_or_default())
    }
}

/// The stale views in force, each until its instant.
#[derive(Debug, Default)]
pub(crate) struct Lag {
    views: Mutex<Views>,
}

#[derive(Debug, Default)]
struct Views {
    /// Object ids reads do not see yet.
    hidden: HashMap<String, Instant>,
    /// (`owner/name`, full ref) → the target reads still answer (`None`: absent).
    refs: HashMap<(String, String), (Option<String>, Instant)>,
    /// `owner/name` → the issues and pull requests the pull-request list still answers.
    pulls: HashMap<String, (RepoState, Instant)>,
}

impl Views {
    fn prune(&mut self, now: Instant) {
        self.hidden.retain(|_, until| *until > now);
        self.refs.retain(|_, (_, until)| *until > now);
        self.pulls.retain(|_, (_, until)| *until > now);
    }
}

impl Lag {
    fn views(&self) -> std::sync::MutexGuard<'_, Views> {
        let mut views = self
            .views
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        views.prune(Instant::now());
        views
    }

    /// After a write of object `sha` under `lag`: reads do not find it for that long.
    pub(crate) fn hide_object(&self, lag: LagAfter, sha: &str) {
        if let Some(lag) = lag.0 {
            self.views()
                .hidden
                .insert(sha.to_owned(), Instant::now() + lag);
        }
    }

    /// Whether reads must not find object `sha` yet.
    pub(crate) fn is_hidden(&self, sha: &str) -> bool {
        self.views().hidden.contains_key(sha)
    }

    /// After a write moved ref `full` of `repo` away from `previous` under `lag`: reads answer
    /// `previous` for that long (the oldest target, if writes follow each other in the window).
    pub(crate) fn stale_ref(&self, lag: LagAfter, repo: &str, full: &str, previous: Option<&str>) {
        if let Some(lag) = lag.0 {
            let until = Instant::now() + lag;
            self.views()
                .refs
                .entry((repo.to_owned(), full.to_owned()))
                .and_modify(|(_, old_until)| *old_until = until)
                .or_insert_with(|| (previous.map(str::to_owned), until));
        }
    }

    /// What reads of ref `full` of `repo` answer while it lags: `Some(target)` (`None` inside:
    /// absent), or `None` when it does not lag.
    pub(crate) fn ref_view(&self, repo: &str, full: &str) -> Option<Option<String>> {
        self.views()
            .refs
            .get(&(repo.to_owned(), full.to_owned()))
            .map(|(target, _)| target.clone())
    }

    /// After a write of a pull request under `lag`: the pull-request list of `repo` answers
    /// `before` for that long.
    pub(crate) fn stale_pulls(&self, lag: LagAfter, repo: &str, before: RepoState) {
        if let Some(lag) = lag.0 {
            let until = Instant::now() + lag;
            self.views()
                .pulls
                .entry(repo.to_owned())
                .and_modify(|(_, old_until)| *old_until = until)
                .or_insert((before, until));
        }
    }

    /// The state the pull-request list of `repo` still answers, if it lags.
    pub(crate) fn pulls_view(&self, repo: &str) -> Option<RepoState> {
        self.views().pulls.get(repo).map(|(state, _)| state.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn views_last_as_long_as_the_lag_and_keep_the_oldest_state() {
        let lag = Lag::default();
        let short = LagAfter(Some(Duration::from_millis(50)));
        lag.hide_object(short, "abc");
        lag.stale_ref(short, "o/r", "refs/heads/main", Some("old"));
        lag.stale_ref(short, "o/r", "refs/heads/main", Some("newer"));
        lag.hide_object(LagAfter(None), "def");
        assert!(lag.is_hidden("abc"));
        assert!(!lag.is_hidden("def"));
        assert_eq!(
            lag.ref_view("o/r", "refs/heads/main"),
            Some(Some("old".to_owned()))
        );
        assert_eq!(lag.ref_view("o/r", "refs/heads/other"), None);
        std::thread::sleep(Duration::from_millis(80));
        assert!(!lag.is_hidden("abc"));
        assert_eq!(lag.ref_view("o/r", "refs/heads/main"), None);
    }
}
