//! Bounded re-reads for GitHub's read-after-write lag. Right after a write, a read can briefly
//! see the state before it: a new commit or ref answers 404, a moved branch its old head, a new
//! pull request is not listed yet. Where delivery reads what it (or an earlier run) just wrote,
//! it reads again a few times, waiting longer each time, before it believes the old state; so a
//! good write is never rolled back, repeated or declared failed because a read lagged.

use std::sync::Arc;
use std::time::Duration;

use valkey_bot_core::github::{CommitId, GitHubError};
use valkey_bot_core::{Plan, RepoId};
use valkey_bot_github::{Sleeper, TokioSleeper};

use crate::forge::Forge;

/// How long to keep re-reading: a first wait, doubled after each re-read, for a bounded number of
/// re-reads (by default 200 ms and 5 re-reads: at most 6.2 s in all).
#[derive(Debug, Clone)]
pub struct Settle {
    sleeper: Arc<dyn Sleeper>,
    first_wait: Duration,
    rereads: u32,
}

impl Default for Settle {
    fn default() -> Self {
        Self::new(Arc::new(TokioSleeper), Duration::from_millis(200), 5)
    }
}

impl Settle {
    /// Re-reads at most `rereads` times, waiting `first_wait` (then twice as long each time)
    /// through `sleeper` before each.
    pub fn new(sleeper: Arc<dyn Sleeper>, first_wait: Duration, rereads: u32) -> Self {
        Self {
            sleeper,
            first_wait,
            rereads,
        }
    }

    /// Calls `read` until `settled` accepts its answer or the re-reads run out; returns the last
    /// answer.
    pub async fn read_until<T, E, Fut>(
        &self,
        mut read: impl FnMut() -> Fut,
        settled: impl Fn(&Result<T, E>) -> bool,
    ) -> Result<T, E>
    where
        Fut: Future<Output = Result<T, E>>,
    {
        let mut answer = read().await;
        let mut wait = self.first_wait;
        for _ in 0..self.rereads {
            if settled(&answer) {
                break;
            }
            self.sleeper.sleep(wait).await;
            wait = wait.saturating_mul(2);
            answer = read().await;
        }
        answer
    }

    /// The head of `branch` once it reads `written` (the commit the bot just moved it to), or
    /// the last head read: what a rollback must decide on, so that a lagging read of the old head
    /// is not mistaken for someone else's move.
    pub async fn branch_after_write(
        &self,
        forge: &Forge,
        repo: &RepoId,
        branch: &str,
        written: &str,
    ) -> Result<Option<CommitId>, GitHubError> {
        self.read_until(
            || forge.read.branch_head(repo, branch),
            |head| matches!(head, Ok(Some(head)) if head == written),
        )
        .await
    }

    /// Waits (bounded) until the open pull request of `branch` is listed, after GitHub refused
    /// to open one because it exists: the re-plan then finds and updates it instead of opening a
    /// second one or giving up.
    pub async fn pull_request_listed(&self, forge: &Forge, repo: &RepoId, branch: &str) {
        let _ = self
            .read_until(
                || forge.pulls.find_open(repo, branch),
                |open| matches!(open, Ok(Some(_))),
            )
            .await;
    }

    /// Before planning again because `branch` of `repo` moved: waits (bounded) until a read of it
    /// shows the move, so the new plan is not made from the same stale read. For the plan's base
    /// branch that is any head but the one planned from; for a pull request branch the bot could
    /// not create because it exists, that it exists. Returns whether a read showed the move.
    pub async fn before_replan(
        &self,
        forge: &Forge,
        plan: &Plan,
        repo: &str,
        branch: &str,
    ) -> bool {
        let Some(change) = plan
            .changes
            .iter()
            .find(|change| change.repo.to_string() == repo)
        else {
            return false;
        };
        let planned_from = (change.base_branch == branch).then_some(change.base_commit.as_str());
        let shows_move = |head: &Result<Option<CommitId>, GitHubError>| match (head, planned_from) {
            (Ok(Some(head)), Some(planned)) => head != planned,
            (Ok(head), None) => head.is_some(),
            (Ok(None), Some(_)) => true,
            (Err(_), _) => false,
        };
        let last = self
            .read_until(|| forge.read.branch_head(&change.repo, branch), shows_move)
            .await;
        shows_move(&last)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU32, Ordering};

    use valkey_bot_github::RecordingSleeper;

    use super::*;

    /// Reads 0, 1, 2, ... through a settle that waits 100 ms first and re-reads 3 times.
    async fn count_until(settled: impl Fn(&Result<u32, ()>) -> bool) -> (u32, Vec<Duration>) {
        let recorder = Arc::new(RecordingSleeper::default());
        let settle = Settle::new(recorder.clone(), Duration::from_millis(100), 3);
        let reads = AtomicU32::new(0);
        let answer = settle
            .read_until(
                || async { Ok(reads.fetch_add(1, Ordering::SeqCst)) },
                settled,
            )
            .await;
        (answer.unwrap_or(u32::MAX), recorder.waits())
    }

    #[tokio::test]
    async fn rereads_with_doubling_waits_until_the_answer_settles() {
        let (answer, waits) = count_until(|n| *n == Ok(2)).await;
        assert_eq!(answer, 2);
        assert_eq!(
            waits,
            [Duration::from_millis(100), Duration::from_millis(200)]
        );
    }

    #[tokio::test]
    async fn gives_up_after_the_bound_with_the_last_answer() {
        let (answer, waits) = count_until(|_| false).await;
        assert_eq!(answer, 3, "one read and three re-reads");
        assert_eq!(waits.len(), 3);
    }

    #[tokio::test]
    async fn a_settled_first_answer_waits_for_nothing() {
        let (answer, waits) = count_until(|_| true).await;
        assert_eq!(answer, 0);
        assert!(waits.is_empty());
    }
}
