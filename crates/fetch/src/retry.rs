//! Bounded retries with exponential backoff and jitter.

use std::collections::hash_map::RandomState;
use std::future::Future;
use std::hash::BuildHasher;
use std::time::Duration;

use crate::error::FetchError;

/// Runs `attempt` until it succeeds, fails with a non-transient error, or `retries` extra
/// attempts have failed. Each attempt starts from scratch (the closure builds a fresh future).
pub(crate) async fn with_retries<T, F, Fut>(
    retries: u32,
    backoff: Duration,
    mut attempt: F,
) -> Result<T, FetchError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, FetchError>>,
{
    let mut failures = 0u32;
    loop {
        match attempt().await {
            Ok(value) => return Ok(value),
            Err(err) if err.is_transient() && failures < retries => {
                let delay = delay(backoff, failures);
                failures += 1;
                tracing::warn!(error = %err, retry = failures, of = retries, delay_ms = delay.as_millis() as u64, "transient failure, retrying from byte 0");
                tokio::time::sleep(delay).await;
            }
            Err(err) => return Err(err),
        }
    }
}

/// `base × 2^n`, scaled by a random factor in [0.5, 1.5).
fn delay(base: Duration, n: u32) -> Duration {
    let exp = base.saturating_mul(1u32 << n.min(16));
    let random = RandomState::new().hash_one(n);
    let factor = 0.5 + (random % 1000) as f64 / 1000.0;
    exp.mul_f64(factor)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delay_grows_and_stays_within_jitter() {
        let base = Duration::from_millis(100);
        for n in 0..5 {
            let d = delay(base, n);
            let exp = base * (1 << n);
            assert!(d >= exp / 2 && d < exp * 3 / 2, "{d:?} vs {exp:?}");
        }
    }

    #[tokio::test]
    async fn stops_on_non_transient_and_after_budget() {
        let mut calls = 0;
        let r: Result<(), _> = with_retries(3, Duration::ZERO, || {
            calls += 1;
            async {
                Err(FetchError::Status {
                    url: "u".into(),
                    code: 404,
                })
            }
        })
        .await;
        assert!(r.is_err());
        assert_eq!(calls, 1);

        let mut calls = 0;
        let r: Result<(), _> = with_retries(2, Duration::ZERO, || {
            calls += 1;
            async {
                Err(FetchError::Status {
                    url: "u".into(),
                    code: 502,
                })
            }
        })
        .await;
        assert_eq!(
            r,
            Err(FetchError::Status {
                url: "u".into(),
                code: 502
            })
        );
        assert_eq!(calls, 3);
    }
}
