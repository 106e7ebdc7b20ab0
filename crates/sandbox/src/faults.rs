//! The programmable fault plan: rules matching `METHOD /path/glob` that break requests on purpose.
//!
//! Over HTTP, `POST /_sandbox/faults` takes one rule or an array of rules, for example
//! `{"method": "PATCH", "path": "/repos/*/*/git/refs/heads/**", "times": 1,
//!   "action": {"kind": "status", "status": 500, "after_effect": true}}`;
//! other actions: `{"kind": "latency", "ms": 200}`, `{"kind": "drop"}`, `{"kind": "stall"}`,
//! `{"kind": "truncate", "bytes": 100}`, `{"kind": "bandwidth", "bytes_per_sec": 1024}`,
//! `{"kind": "redirect", "location": "https://elsewhere.example/file"}`,
//! `{"kind": "drop_field", "field": "sha"}` (a successful JSON answer without that top-level
//! field: an answer whose shape is not GitHub's),
//! `{"kind": "status", "status": 403, "retry_after_secs": 30}` (secondary rate limit),
//! `{"kind": "lag", "ms": 500}` on a write: for that long after it succeeds, reads of what it
//! changed see the state before it (see `lag.rs`).
//! `DELETE /_sandbox/faults` clears the plan; `GET /_sandbox/faults` lists what is left.

use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};

use crate::error::SandboxError;

/// One fault: which requests it matches, what it does, and how many times.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FaultRule {
    /// HTTP method to match (`GET`, `PATCH`, ...), or `*` for any.
    pub method: String,
    /// Path glob: `*` matches one segment (or part of one), `**` any number of segments.
    /// API paths match with or without their `/api/v3` prefix.
    pub path: String,
    /// What the rule does.
    pub action: FaultAction,
    /// How many matching requests it affects; `None` = every one.
    #[serde(default)]
    pub times: Option<u32>,
}

/// What a fault rule does to a matching request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum FaultAction {
    /// Answer `status` (500, 502, 503, 403, 409, 422 or 429) with a GitHub error body.
    /// 403 and 429 are secondary rate limits and carry `retry-after`.
    Status {
        /// The status code.
        status: u16,
        /// `retry-after` seconds for 403/429 (default 1).
        #[serde(default)]
        retry_after_secs: Option<u64>,
        /// For 5xx only: apply the request, then answer `status` anyway.
        #[serde(default)]
        after_effect: bool,
    },
    /// Wait `ms` milliseconds before handling the request.
    Latency {
        /// The delay in milliseconds.
        ms: u64,
    },
    /// Close the connection without answering.
    Drop,
    /// Never answer (until the client gives up or the sandbox shuts down).
    Stall,
    /// Announce the full `Content-Length` but send only the first `bytes` bytes of the body, then close.
    Truncate {
        /// How many body bytes are sent.
        bytes: u64,
    },
    /// Send the body at most `bytes_per_sec` bytes per second.
    Bandwidth {
        /// The rate limit.
        bytes_per_sec: u64,
    },
    /// On a write (any method but `GET`/`HEAD`): handle it, then for `ms` milliseconds let reads
    /// of what it changed see the state before it (read-after-write lag).
    Lag {
        /// How long reads lag, in milliseconds (1 to 60000).
        ms: u64,
    },
    /// Answer `302 Found` with `Location: location` instead of handling the request.
    Redirect {
        /// Where the client is sent (any URL, on or off the sandbox).
        location: String,
    },
    /// Handle the request, then leave top-level `field` out of a successful JSON object answer:
    /// an answer whose shape differs from GitHub's (for the contract and smoke checks).
    DropField {
        /// The top-level field removed.
        field: String,
    },
}

impl FaultAction {
    /// Answer `status` before handling the request, with the default `retry-after` for a rate
    /// limit: the plain status fault.
    pub fn status(status: u16) -> Self {
        Self::Status {
            status,
            retry_after_secs: None,
            after_effect: false,
        }
    }
}

impl FaultRule {
    /// A rule matching `method` and `path` that applies `action` every time.
    pub fn new(method: impl Into<String>, path: impl Into<String>, action: FaultAction) -> Self {
        Self {
            method: method.into(),
            path: path.into(),
            action,
            times: None,
        }
    }

    /// The same rule, limited to the next `times` matching requests.
    pub fn times(mut self, times: u32) -> Self {
        self.times = Some(times);
        self
    }

    fn validate(&self) -> Result<(), SandboxError> {
        if !self.path.starts_with('/') {
            return Err(SandboxError::InvalidFault(format!(
                "path pattern {:?} must start with /",
                self.path
            )));
        }
        if let FaultAction::Redirect { location } = &self.action {
            if axum::http::HeaderValue::from_str(location).is_err() || location.is_empty() {
                return Err(SandboxError::InvalidFault(format!(
                    "redirect location {location:?} is not a header value"
                )));
            }
        }
        if let FaultAction::DropField { field } = &self.action {
            if field.is_empty() {
                return Err(SandboxError::InvalidFault(
                    "drop_field needs the name of a field".to_owned(),
                ));
            }
        }
        if let FaultAction::Lag { ms } = self.action {
            if ["GET", "HEAD"]
                .iter()
                .any(|read| self.method.eq_ignore_ascii_case(read))
            {
                return Err(SandboxError::InvalidFault(format!(
                    "lag follows a write: method {} is a read",
                    self.method
                )));
            }
            if !(1..=60_000).contains(&ms) {
                return Err(SandboxError::InvalidFault(format!(
                    "lag of {ms} ms is not between 1 and 60000"
                )));
            }
        }
        if let FaultAction::Status {
            status,
            after_effect,
            ..
        } = self.action
        {
            if ![500, 502, 503, 403, 409, 422, 429].contains(&status) {
                return Err(SandboxError::InvalidFault(format!(
                    "status {status} is not one of 500, 502, 503, 403, 409, 422, 429"
                )));
            }
            if after_effect && status < 500 {
                return Err(SandboxError::InvalidFault(
                    "after_effect is only for 5xx statuses".to_owned(),
                ));
            }
        }
        Ok(())
    }

    /// Whether a request `method path` is one this rule breaks (`/api/v3` prefix optional).
    pub fn matches(&self, method: &str, path: &str) -> bool {
        let method_matches = self.method == "*" || self.method.eq_ignore_ascii_case(method);
        let stripped = path
            .strip_prefix("/api/v3")
            .filter(|rest| rest.starts_with('/'));
        method_matches
            && (glob_matches(&self.path, path)
                || stripped.is_some_and(|rest| glob_matches(&self.path, rest)))
    }
}

/// The fault plan shared by the server and the test holding [`Faults`].
#[derive(Debug, Clone, Default)]
pub struct Faults {
    rules: Arc<Mutex<Vec<FaultRule>>>,
}

/// The faults that apply to one request, taken from the plan (counts already spent).
#[derive(Debug, Default)]
pub(crate) struct FaultPlan {
    pub(crate) latency_ms: u64,
    /// How long reads lag behind this request's writes (`0`: they do not).
    pub(crate) lag_ms: u64,
    /// The first of Status/Drop/Stall that matched.
    pub(crate) terminal: Option<FaultAction>,
    pub(crate) truncate: Option<u64>,
    pub(crate) bandwidth: Option<u64>,
    /// A top-level field to leave out of a successful JSON answer.
    pub(crate) drop_field: Option<String>,
}

impl Faults {
    /// Adds `rule` at the end of the plan; refuses malformed rules.
    pub fn add(&self, rule: FaultRule) -> Result<(), SandboxError> {
        rule.validate()?;
        self.lock().push(rule);
        Ok(())
    }

    /// Removes every rule.
    pub fn clear(&self) {
        self.lock().clear();
    }

    /// The rules still in force, with their remaining counts.
    pub fn rules(&self) -> Vec<FaultRule> {
        self.lock().clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<FaultRule>> {
        self.rules
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The faults for a `method path` request; spends one use of each rule that applies.
    pub(crate) fn take(&self, method: &str, path: &str) -> FaultPlan {
        let mut plan = FaultPlan::default();
        let mut rules = self.lock();
        for rule in rules.iter_mut() {
            if !rule.matches(method, path) {
                continue;
            }
            let applies = match &rule.action {
                FaultAction::Latency { ms } => {
                    plan.latency_ms += ms;
                    true
                }
                FaultAction::Status { .. }
                | FaultAction::Drop
                | FaultAction::Stall
                | FaultAction::Redirect { .. } => {
                    if plan.terminal.is_none() {
                        plan.terminal = Some(rule.action.clone());
                        true
                    } else {
                        false
                    }
                }
                FaultAction::Lag { ms } if !["GET", "HEAD"].contains(&method) => {
                    plan.lag_ms = plan.lag_ms.max(*ms);
                    true
                }
                FaultAction::Lag { .. } => false,
                FaultAction::Truncate { bytes } => {
                    plan.truncate.get_or_insert(*bytes);
                    true
                }
                FaultAction::Bandwidth { bytes_per_sec } => {
                    plan.bandwidth.get_or_insert(*bytes_per_sec);
                    true
                }
                FaultAction::DropField { field } => {
                    plan.drop_field.get_or_insert_with(|| field.clone());
                    true
                }
            };
            if applies {
                if let Some(times) = rule.times.as_mut() {
                    *times = times.saturating_sub(1);
                }
            }
        }
        rules.retain(|rule| rule.times != Some(0));
        plan
    }
}

/// Whether `path` matches the glob `pattern` (segments split on `/`).
pub(crate) fn glob_matches(pattern: &str, path: &str) -> bool {
    let pattern: Vec<&str> = pattern.trim_start_matches('/').split('/').collect();
    let path: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    segments_match(&pattern, &path)
}

fn segments_match(pattern: &[&str], path: &[&str]) -> bool {
    match pattern.split_first() {
        None => path.is_empty(),
        Some((&"**", rest)) => (0..=path.len()).any(|skip| segments_match(rest, &path[skip..])),
        Some((first, rest)) => match path.split_first() {
            Some((segment, path_rest)) => {
                segment_matches(first, segment) && segments_match(rest, path_rest)
            }
            None => false,
        },
    }
}

/// One segment against a pattern where `*` matches any run of characters (a lone `*` needs one).
fn segment_matches(pattern: &str, segment: &str) -> bool {
    if pattern == "*" {
        return !segment.is_empty();
    }
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == segment;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !segment.starts_with(first) || !segment[first.len()..].ends_with(last) {
        return false;
    }
    let mut rest = &segment[first.len()..segment.len() - last.len()];
    for middle in &parts[1..parts.len() - 1] {
        match rest.find(middle) {
            Some(at) => rest = &rest[at + middle.len()..],
            None => return false,
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn single_star_matches_one_segment_and_double_star_any() {
        let pattern = "/repos/*/*/git/refs/heads/*";
        assert!(glob_matches(pattern, "/repos/o/r/git/refs/heads/main"));
        assert!(!glob_matches(pattern, "/repos/o/r/git/refs/heads/a/b"));
        assert!(glob_matches(
            "/repos/**/heads/**",
            "/repos/o/r/git/refs/heads/a/b"
        ));
        assert!(glob_matches("/_downloads/**", "/_downloads/x/y.tar.gz"));
        assert!(glob_matches(
            "/*/*/archive/refs/tags/*.tar.gz",
            "/o/r/archive/refs/tags/9.1.1.tar.gz"
        ));
        assert!(!glob_matches("/repos/*", "/repos/o/r"));
    }

    #[test]
    fn rule_matches_api_path_without_prefix() {
        let rule = FaultRule::new("patch", "/repos/*/*/git/refs/heads/*", FaultAction::Drop);
        assert!(rule.matches("PATCH", "/api/v3/repos/o/r/git/refs/heads/main"));
        assert!(!rule.matches("GET", "/api/v3/repos/o/r/git/refs/heads/main"));
    }

    #[test]
    fn lag_is_for_writes_only() {
        let faults = Faults::default();
        let lag = FaultAction::Lag { ms: 300 };
        assert!(
            faults
                .add(FaultRule::new("GET", "/x", lag.clone()))
                .is_err()
        );
        assert!(
            faults
                .add(FaultRule::new("POST", "/x", FaultAction::Lag { ms: 0 }))
                .is_err()
        );
        faults
            .add(FaultRule::new("*", "/x", lag).times(1))
            .expect("valid rule");
        assert_eq!(faults.take("GET", "/x").lag_ms, 0);
        assert_eq!(faults.take("POST", "/x").lag_ms, 300);
        assert!(faults.rules().is_empty());
    }

    #[test]
    fn counted_rules_expire() {
        let faults = Faults::default();
        let rule = FaultRule::new(
            "GET",
            "/x",
            FaultAction::Status {
                status: 503,
                retry_after_secs: None,
                after_effect: false,
            },
        )
        .times(2);
        faults.add(rule).expect("valid rule");
        assert!(faults.take("GET", "/x").terminal.is_some());
        assert!(faults.take("GET", "/x").terminal.is_some());
        assert!(faults.take("GET", "/x").terminal.is_none());
    }
}
