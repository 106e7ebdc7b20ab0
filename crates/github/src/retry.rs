//! Our own retry policy (octocrab's is not compiled in: it resends every method, creating POSTs
//! included, which can duplicate pull requests and issues).
//!
//! A failure is sorted by what it proves about the request:
//! - *refused*: GitHub certainly did not act — the connection never opened, or it answered 429 /
//!   403 for a primary or secondary rate limit (it checks limits before doing anything);
//! - *ambiguous*: it may have acted — a 5xx, a read timeout, a dropped connection;
//! - *final*: any other answer (success, 404, 409, 422, …): never retried.
//!
//! Refused requests are always retried. Ambiguous ones only when the call is
//! [`Idempotency::Idempotent`], i.e. repeating it after it took effect changes nothing. Each call
//! site in `client.rs` states which it is and why. Waits are exponential backoff with full
//! jitter, or what GitHub asks for (`retry-after`, or `x-ratelimit-reset` when
//! `x-ratelimit-remaining` is 0), within a bound on attempts and on total time.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use http::StatusCode;

use crate::transport::{Response, SendError};

/// When and how often to repeat a failed request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in all, the first included (default 4).
    pub max_attempts: u32,
    /// Time allowed for all attempts and waits together (default 5 min: room for the minute
    /// GitHub asks for after a secondary rate limit that names no wait, and one doubling).
    pub max_total: Duration,
    /// The backoff before the first retry; doubled for each further one (default 500 ms).
    pub base_delay: Duration,
    /// The longest backoff (default 10 s); waits GitHub asks for may be longer, within `max_total`.
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 4,
            max_total: Duration::from_secs(300),
            base_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(10),
        }
    }
}

/// Whether a request may be repeated when it may already have taken effect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Idempotency {
    /// Repeating it after it took effect changes nothing (reads, content-addressed objects,
    /// setting a title, adding labels).
    Idempotent,
    /// Repeating it could act twice (a new pull request, issue, comment or dispatch): repeated
    /// only when the failure proves it did not take effect.
    NotIdempotent,
}

/// Waits between attempts; injectable so tests need not sleep.
pub trait Sleeper: Send + Sync + fmt::Debug {
    /// Waits for `duration`.
    fn sleep(&self, duration: Duration) -> Pin<Box<dyn Future<Output = ()> + Send + '_>>;
}

/// Sleeps with `tokio::time::sleep`.
#[derive(Debug, Clone, Copy, Default)]
pub struct TokioSleeper;

impl Sleeper for TokioSleeper {
    fn sleep(&self, duration: Duration) -> Pin<Box<dyn Future<Output = ()> + Send + '_>> {
        Box::pin(tokio::time::sleep(duration))
    }
}

/// Records every wait instead of sleeping through it (for tests of code that waits).
#[derive(Debug, Default)]
pub struct RecordingSleeper(std::sync::Mutex<Vec<Duration>>);

impl RecordingSleeper {
    /// The waits asked for so far, in order.
    pub fn waits(&self) -> Vec<Duration> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }
}

impl Sleeper for RecordingSleeper {
    fn sleep(&self, duration: Duration) -> Pin<Box<dyn Future<Output = ()> + Send + '_>> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(duration);
        Box::pin(async {})
    }
}

/// What one attempt's outcome proves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Proof {
    /// Done: a success or an answer no retry can change.
    Final,
    /// GitHub did not act; it may ask to wait this long.
    Refused(Option<Duration>),
    /// GitHub may have acted; it may ask to wait this long.
    Ambiguous(Option<Duration>),
}

/// The result of a retried request.
#[derive(Debug)]
pub(crate) struct Retried {
    /// The last attempt's outcome.
    pub outcome: Result<Response, SendError>,
    /// How many attempts were made.
    pub attempts: u32,
    /// Why the last failure was not retried, when it is a failure the policy could retry.
    pub stopped: Option<&'static str>,
}

/// Whether a response is a primary or secondary rate-limit refusal.
pub(crate) fn is_rate_limited(response: &Response) -> bool {
    match response.status {
        StatusCode::TOO_MANY_REQUESTS => true,
        StatusCode::FORBIDDEN => {
            header_u64(response, "x-ratelimit-remaining") == Some(0)
                || response.headers.contains_key(http::header::RETRY_AFTER)
                || String::from_utf8_lossy(&response.body)
                    .to_ascii_lowercase()
                    .contains("rate limit")
        }
        _ => false,
    }
}

/// The header `name` of `response` as a number, if it is one.
pub(crate) fn header_u64(response: &Response, name: &str) -> Option<u64> {
    response
        .headers
        .get(name)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()
}

/// The wait GitHub asks for: `retry-after` seconds, or until `x-ratelimit-reset` when no
/// requests remain.
fn requested_wait(response: &Response, now: SystemTime) -> Option<Duration> {
    if let Some(seconds) = header_u64(response, "retry-after") {
        return Some(Duration::from_secs(seconds));
    }
    if header_u64(response, "x-ratelimit-remaining") == Some(0) {
        let reset = header_u64(response, "x-ratelimit-reset")?;
        let now = now.duration_since(UNIX_EPOCH).ok()?.as_secs();
        return Some(Duration::from_secs(reset.saturating_sub(now) + 1));
    }
    None
}

/// The shortest wait after a secondary rate limit that names no wait: GitHub asks for at least
/// a minute, then exponentially longer.
pub(crate) const SECONDARY_LIMIT_WAIT: Duration = Duration::from_secs(60);

/// The wait after the `nth` (from 1) secondary rate limit without `retry-after`: 1, 2, 4… minutes.
fn secondary_wait(nth: u32) -> Duration {
    let factor = 1u32.checked_shl(nth.saturating_sub(1)).unwrap_or(u32::MAX);
    SECONDARY_LIMIT_WAIT.saturating_mul(factor)
}

/// GitHub's transient 422 on a ref update: the update did not happen and a repeat succeeds.
fn is_transient_ref_failure(response: &Response) -> bool {
    response.status == StatusCode::UNPROCESSABLE_ENTITY
        && String::from_utf8_lossy(&response.body).contains("Reference update failed")
}

fn prove(outcome: &Result<Response, SendError>, now: SystemTime) -> Proof {
    match outcome {
        Err(SendError::NotSent(_)) => Proof::Refused(None),
        Err(SendError::Lost(_)) => Proof::Ambiguous(None),
        Ok(response) if is_rate_limited(response) => Proof::Refused(requested_wait(response, now)),
        Ok(response) if is_transient_ref_failure(response) => Proof::Refused(None),
        Ok(response) if response.status.is_server_error() => {
            Proof::Ambiguous(requested_wait(response, now))
        }
        Ok(_) => Proof::Final,
    }
}

/// The backoff before retry number `retry` (1 for the first): a uniformly random wait between 0
/// and `min(max_delay, base_delay * 2^(retry-1))` ("full jitter").
pub(crate) fn backoff(policy: &RetryPolicy, retry: u32) -> Duration {
    let factor = 1u32
        .checked_shl(retry.saturating_sub(1))
        .unwrap_or(u32::MAX);
    let cap = policy
        .base_delay
        .saturating_mul(factor)
        .min(policy.max_delay);
    let cap_ms = u64::try_from(cap.as_millis()).unwrap_or(u64::MAX);
    Duration::from_millis(rand::random_range(0..=cap_ms))
}

/// Runs `attempt` until it gives a final answer or the policy says stop.
pub(crate) async fn run<F, Fut>(
    policy: &RetryPolicy,
    sleeper: &dyn Sleeper,
    idempotency: Idempotency,
    mut attempt: F,
) -> Retried
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Response, SendError>>,
{
    let started = Instant::now();
    let mut waited = Duration::ZERO;
    let mut attempts = 0;
    let mut unnamed_limits = 0;
    loop {
        attempts += 1;
        let outcome = attempt().await;
        let requested = match prove(&outcome, SystemTime::now()) {
            Proof::Final => {
                return Retried {
                    outcome,
                    attempts,
                    stopped: None,
                };
            }
            Proof::Ambiguous(_) if idempotency == Idempotency::NotIdempotent => {
                return Retried {
                    outcome,
                    attempts,
                    stopped: Some("not retried: the request may have taken effect"),
                };
            }
            Proof::Refused(requested) | Proof::Ambiguous(requested) => requested,
        };
        if attempts >= policy.max_attempts.max(1) {
            return Retried {
                outcome,
                attempts,
                stopped: Some("attempts exhausted"),
            };
        }
        let limited = matches!(&outcome, Ok(response) if is_rate_limited(response));
        let wait = match requested {
            Some(wait) => wait,
            None if limited => {
                unnamed_limits += 1;
                secondary_wait(unnamed_limits)
            }
            None => backoff(policy, attempts),
        };
        // Real time and injected waits both count; with a real sleeper elapsed >= waited.
        let used = started.elapsed().max(waited);
        if used.saturating_add(wait) > policy.max_total {
            return Retried {
                outcome,
                attempts,
                stopped: Some("the retry time budget is spent"),
            };
        }
        tracing::debug!(attempt = attempts, wait_ms = %wait.as_millis(), "retrying GitHub request");
        sleeper.sleep(wait).await;
        waited += wait;
    }
}

#[cfg(test)]
mod tests {
    use std::collections::VecDeque;
    use std::sync::Mutex;

    use bytes::Bytes;
    use http::HeaderMap;

    use super::*;

    #[derive(Debug, Default)]
    struct Recorder(Mutex<Vec<Duration>>);

    impl Sleeper for Recorder {
        fn sleep(&self, duration: Duration) -> Pin<Box<dyn Future<Output = ()> + Send + '_>> {
            self.0.lock().unwrap().push(duration);
            Box::pin(async {})
        }
    }

    fn response(status: u16, headers: &[(&'static str, String)], body: &str) -> Response {
        let mut map = HeaderMap::new();
        for (name, value) in headers {
            map.insert(*name, value.parse().unwrap());
        }
        Response {
            status: StatusCode::from_u16(status).unwrap(),
            headers: map,
            body: Bytes::from(body.to_owned()),
        }
    }

    async fn script(
        idempotency: Idempotency,
        policy: RetryPolicy,
        outcomes: Vec<Result<Response, SendError>>,
    ) -> (Retried, Vec<Duration>) {
        let queue = Mutex::new(VecDeque::from(outcomes));
        let sleeper = Recorder::default();
        let retried = run(&policy, &sleeper, idempotency, || {
            let next = queue.lock().unwrap().pop_front().unwrap();
            async move { next }
        })
        .await;
        let waits = sleeper.0.lock().unwrap().clone();
        (retried, waits)
    }

    fn ok() -> Result<Response, SendError> {
        Ok(response(200, &[], "{}"))
    }

    #[tokio::test]
    async fn idempotent_requests_are_retried_through_server_errors() {
        let (retried, waits) = script(
            Idempotency::Idempotent,
            RetryPolicy::default(),
            vec![
                Ok(response(500, &[], "")),
                Ok(response(502, &[], "")),
                Err(SendError::Lost("reset".into())),
                ok(),
            ],
        )
        .await;
        assert_eq!(retried.attempts, 4);
        assert_eq!(retried.outcome.unwrap().status, StatusCode::OK);
        assert_eq!(waits.len(), 3);
        assert!(waits[0] <= Duration::from_millis(500));
        assert!(waits[1] <= Duration::from_millis(1000));
        assert!(waits[2] <= Duration::from_millis(2000));
    }

    #[tokio::test]
    async fn creating_requests_are_not_retried_after_an_ambiguous_failure() {
        let (retried, waits) = script(
            Idempotency::NotIdempotent,
            RetryPolicy::default(),
            vec![Ok(response(500, &[], "")), ok()],
        )
        .await;
        assert_eq!(retried.attempts, 1);
        assert_eq!(retried.outcome.unwrap().status.as_u16(), 500);
        assert!(retried.stopped.unwrap().contains("may have taken effect"));
        assert!(waits.is_empty());
    }

    #[tokio::test]
    async fn creating_requests_are_retried_when_github_refused_them() {
        let secondary = response(
            403,
            &[("retry-after", "7".into())],
            r#"{"message":"You have exceeded a secondary rate limit"}"#,
        );
        let (retried, waits) = script(
            Idempotency::NotIdempotent,
            RetryPolicy::default(),
            vec![
                Ok(secondary),
                Ok(response(429, &[("retry-after", "3".into())], "")),
                Err(SendError::NotSent("refused".into())),
                ok(),
            ],
        )
        .await;
        assert_eq!(retried.attempts, 4);
        assert_eq!(waits[0], Duration::from_secs(7));
        assert_eq!(waits[1], Duration::from_secs(3));
        assert!(retried.outcome.is_ok());
    }

    #[tokio::test]
    async fn waits_for_the_primary_rate_limit_reset() {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs();
        let limited = response(
            403,
            &[
                ("x-ratelimit-remaining", "0".into()),
                ("x-ratelimit-reset", (now + 20).to_string()),
            ],
            r#"{"message":"API rate limit exceeded"}"#,
        );
        let (retried, waits) = script(
            Idempotency::Idempotent,
            RetryPolicy::default(),
            vec![Ok(limited), ok()],
        )
        .await;
        assert_eq!(retried.attempts, 2);
        // 20 s to the reset plus one, less at most a second that passed.
        assert!(waits[0] >= Duration::from_secs(20) && waits[0] <= Duration::from_secs(21));
    }

    #[tokio::test]
    async fn gives_up_at_once_when_the_wait_exceeds_the_budget() {
        let (retried, waits) = script(
            Idempotency::Idempotent,
            RetryPolicy::default(),
            vec![Ok(response(503, &[("retry-after", "3600".into())], ""))],
        )
        .await;
        assert_eq!(retried.attempts, 1);
        assert_eq!(retried.stopped, Some("the retry time budget is spent"));
        assert!(waits.is_empty());
    }

    #[tokio::test]
    async fn a_secondary_limit_without_retry_after_waits_a_minute_then_longer() {
        let secondary = || {
            Ok(response(
                403,
                &[],
                r#"{"message":"You have exceeded a secondary rate limit"}"#,
            ))
        };
        let (retried, waits) = script(
            Idempotency::NotIdempotent,
            RetryPolicy::default(),
            vec![secondary(), secondary(), ok()],
        )
        .await;
        assert!(retried.outcome.is_ok());
        assert_eq!(
            waits,
            [Duration::from_secs(60), Duration::from_secs(120)],
            "at least a minute, then backing off"
        );
    }

    #[tokio::test]
    async fn a_transient_reference_update_failure_is_retried() {
        let failed = || {
            Ok(response(
                422,
                &[],
                r#"{"message":"Reference update failed"}"#,
            ))
        };
        let (retried, waits) = script(
            Idempotency::NotIdempotent,
            RetryPolicy::default(),
            vec![failed(), ok()],
        )
        .await;
        assert_eq!(retried.attempts, 2);
        assert!(retried.outcome.is_ok());
        assert_eq!(waits.len(), 1);
        // Any other 422 stays final.
        let (retried, _) = script(
            Idempotency::Idempotent,
            RetryPolicy::default(),
            vec![Ok(response(
                422,
                &[],
                r#"{"message":"Update is not a fast forward"}"#,
            ))],
        )
        .await;
        assert_eq!(retried.attempts, 1);
    }

    #[tokio::test]
    async fn attempts_are_bounded() {
        let policy = RetryPolicy {
            max_attempts: 2,
            ..RetryPolicy::default()
        };
        let (retried, waits) = script(
            Idempotency::Idempotent,
            policy,
            vec![Ok(response(500, &[], "")), Ok(response(500, &[], ""))],
        )
        .await;
        assert_eq!(retried.attempts, 2);
        assert_eq!(retried.stopped, Some("attempts exhausted"));
        assert_eq!(waits.len(), 1);
    }

    #[tokio::test]
    async fn validation_errors_and_conflicts_are_final() {
        for status in [404, 409, 422, 401] {
            let (retried, _) = script(
                Idempotency::Idempotent,
                RetryPolicy::default(),
                vec![Ok(response(status, &[], r#"{"message":"no"}"#))],
            )
            .await;
            assert_eq!(retried.attempts, 1, "status {status}");
            assert_eq!(retried.stopped, None);
        }
    }

    #[test]
    fn plain_forbidden_is_not_a_rate_limit() {
        let forbidden = response(
            403,
            &[("x-ratelimit-remaining", "4999".into())],
            r#"{"message":"Resource not accessible by integration"}"#,
        );
        assert!(!is_rate_limited(&forbidden));
    }

    #[test]
    fn backoff_is_capped() {
        let policy = RetryPolicy::default();
        for retry in 1..40 {
            assert!(backoff(&policy, retry) <= policy.max_delay);
        }
    }
}
